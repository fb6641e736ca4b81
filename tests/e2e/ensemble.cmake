# spinesim ensemble end to end (issue 5):
#  1. stats.csv and summary.csv are byte-identical for --threads 1 and 2, written by
#     --csv and by `spinesim export-csv` from ensemble.nc (the only output otherwise);
#  2. ... and for `mpirun --oversubscribe -np 2` (skipped with a message when mpirun
#     or the MPI build is missing);
#  3. a run killed (SIGKILL) after some replicates resumes without redoing them and
#     ends with the same statistics as an uninterrupted run; a journal record cut
#     short mid-write and a temporary ensemble.nc are cleaned up; an ensemble
#     extended with more replicates equals one run of them all;
#  4. a sweep with an invalid field path or value fails before anything runs.
# Inputs: SPINESIM, SOURCE_DIR, WORK_DIR, MPIEXEC (may be empty), WITH_MPI.
set(scene "${SOURCE_DIR}/tests/e2e/scenes/immigration_death.pbtxt")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

function(ensemble out)
  execute_process(COMMAND "${SPINESIM}" ensemble "${scene}" --out "${WORK_DIR}/${out}" --no-plots --quiet ${ARGN}
                  RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_QUIET)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "ensemble ${out} (${ARGN}) failed (${rc}): ${err}")
  endif()
endfunction()

function(same a b what)  # [FILES...], default stats.csv and summary.csv
  set(files ${ARGN})
  if(NOT files)
    set(files stats.csv summary.csv)
  endif()
  foreach(f ${files})
    execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files "${WORK_DIR}/${a}/${f}" "${WORK_DIR}/${b}/${f}"
                    RESULT_VARIABLE diff)
    if(NOT diff EQUAL 0)
      message(FATAL_ERROR "${f} differs: ${what}")
    endif()
  endforeach()
endfunction()

# 1. Threads, with a two-point sweep.
set(sweep --sweep "production[0].rate_per_s=1000,3000")
ensemble(t1 --replicates 60 --threads 1 --seed 3 --csv ${sweep})
ensemble(t2 --replicates 60 --threads 2 --seed 3 ${sweep})
# Only ensemble.nc (and ensemble.id, ensemble.json) by default; the tables by export.
file(GLOB t2_files RELATIVE "${WORK_DIR}/t2" "${WORK_DIR}/t2/*")
list(SORT t2_files)
if(NOT t2_files STREQUAL "ensemble.id;ensemble.json;ensemble.nc")
  message(FATAL_ERROR "an ensemble without --csv should write ensemble.nc, .id and .json, wrote: ${t2_files}")
endif()
execute_process(COMMAND "${SPINESIM}" export-csv "${WORK_DIR}/t2" RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "export-csv failed (${rc}): ${err}")
endif()
same(t1 t2 "--threads 1 (--csv) vs 2 (export-csv)")
same(t1 t2 "--csv vs export-csv" points.csv replicates/p0001/r000059.csv replicates/p0000/scene.resolved.pbtxt)
file(STRINGS "${WORK_DIR}/t1/stats.csv" rows)
list(LENGTH rows nrows)
# header + 2 points x 11 times x 2 columns (A@box, A@extracellular)
if(NOT nrows EQUAL 45)
  message(FATAL_ERROR "stats.csv has ${nrows} lines, expected 45")
endif()
message(STATUS "stats.csv and summary.csv identical for 1 and 2 threads (2 sweep points x 60 replicates)")

# 2. MPI.
if(NOT WITH_MPI)
  message(STATUS "SKIPPED mpirun -np 2 comparison: spinesim was built without SPINESIM_WITH_MPI")
elseif(NOT MPIEXEC)
  message(STATUS "SKIPPED mpirun -np 2 comparison: mpirun not found")
else()
  execute_process(COMMAND ${CMAKE_COMMAND} -E env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
                    OMPI_MCA_rmaps_base_oversubscribe=1
                    "${MPIEXEC}" --oversubscribe -np 2 "${SPINESIM}" ensemble "${scene}" --out "${WORK_DIR}/mpi"
                    --no-plots --quiet --csv --replicates 60 --threads 1 --seed 3 ${sweep}
                  RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_QUIET TIMEOUT 60)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "mpirun -np 2 spinesim ensemble failed (${rc}): ${err}")
  endif()
  same(t1 mpi "mpirun -np 2 vs a single process")
  message(STATUS "stats.csv and summary.csv identical for mpirun -np 2 and a single process")
endif()

# 3. Kill and resume. A fine grid makes each replicate take ~0.1 s (grid set-up).
# Finished replicates are records of DIR/replicates.0.journal; for this scene (11
# output times, 2 columns) each is 16 + 8 * (8 + 11 + 11 * 2) = 344 bytes, so the
# journal's length says how many a kill left finished (a partial record is cut off).
set(slow --replicates 40 --seed 9 --sweep "simulation.grid_cell_um=0.03")
ensemble(whole --threads 2 --csv ${slow})
find_program(TIMEOUT timeout REQUIRED)
execute_process(COMMAND "${TIMEOUT}" -s KILL 1.2 "${SPINESIM}" ensemble "${scene}" --out "${WORK_DIR}/killed"
                  --no-plots --quiet --threads 1 ${slow}
                RESULT_VARIABLE rc ERROR_QUIET OUTPUT_QUIET)
set(journal "${WORK_DIR}/killed/replicates.0.journal")
file(SIZE "${journal}" bytes)
math(EXPR n_before "${bytes} / 344")
if(EXISTS "${WORK_DIR}/killed/ensemble.nc" OR n_before EQUAL 0 OR n_before EQUAL 40)
  message(FATAL_ERROR "the kill after 1.2 s should leave a journal with some but not all of the 40 replicates "
                      "and no ensemble.nc; the journal has ${bytes} bytes")
endif()
message(STATUS "killed (exit ${rc}) with ${n_before} of 40 replicates finished")
# Leftovers of a kill while writing: half a record (a valid header, then the payload
# cut short) and an atomic-write temporary of ensemble.nc.
execute_process(COMMAND sh -c "head -c 200 '${journal}' >> '${journal}'" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "could not append a torn record to ${journal}")
endif()
file(WRITE "${WORK_DIR}/killed/.ensemble.nc.tmp123" "junk")
execute_process(COMMAND "${SPINESIM}" ensemble "${scene}" --out "${WORK_DIR}/killed" --no-plots --threads 2 --csv ${slow}
                RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "resumed ensemble failed (${rc}): ${err}")
endif()
string(REGEX MATCH "([0-9]+) already done, ([0-9]+) to run" m "${err}")
if(NOT CMAKE_MATCH_1 EQUAL n_before)
  message(FATAL_ERROR "resume should keep the ${n_before} finished replicates, said: ${m}")
endif()
if(NOT err MATCHES "dropped [0-9]+ bytes of a replicate")
  message(FATAL_ERROR "resume did not report the torn journal record: ${err}")
endif()
file(GLOB left "${WORK_DIR}/killed/*.journal" "${WORK_DIR}/killed/.ensemble.nc.tmp*")
if(left)
  message(FATAL_ERROR "journals or temporaries left after the ensemble finished: ${left}")
endif()
same(whole killed "killed + resumed vs uninterrupted")
message(STATUS "resumed ${m}; statistics identical to the uninterrupted run")

# 3b. A finished ensemble extended with more replicates keeps the ones it has, ends
# with the statistics of one run of them all, and refuses fewer replicates.
ensemble(extended --threads 2 --replicates 15 --seed 9 --sweep "simulation.grid_cell_um=0.03")
execute_process(COMMAND "${SPINESIM}" ensemble "${scene}" --out "${WORK_DIR}/extended" --no-plots --threads 2 --csv
                  ${slow}
                RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_QUIET)
if(NOT rc EQUAL 0 OR NOT err MATCHES "15 already done, 25 to run")
  message(FATAL_ERROR "extending 15 to 40 replicates (${rc}): ${err}")
endif()
same(whole extended "extended from 15 to 40 replicates vs 40 at once")
execute_process(COMMAND "${SPINESIM}" ensemble "${scene}" --out "${WORK_DIR}/extended" --no-plots --quiet
                  --replicates 10 --seed 9 --sweep "simulation.grid_cell_um=0.03"
                RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_QUIET)
if(NOT rc EQUAL 2 OR NOT err MATCHES "holds 40 replicates per point")
  message(FATAL_ERROR "--replicates 10 into an ensemble of 40 should be refused (exit 2), got ${rc}: ${err}")
endif()
message(STATUS "extended 15 -> 40 replicates: statistics identical; fewer refused")

# 3c. A directory of an earlier spinesim (two files per replicate: rNNNNNN.csv and
# rNNNNNN.meta) resumes: a CSV with its .meta is a finished replicate. Made from t1's
# CSV export and its summary.csv (point, sweep value, replicate, seed, cost...),
# with the .meta of replicates 0-39 only, as if killed there.
file(COPY "${WORK_DIR}/t1/" DESTINATION "${WORK_DIR}/legacy")
file(REMOVE "${WORK_DIR}/legacy/ensemble.nc" "${WORK_DIR}/legacy/stats.csv" "${WORK_DIR}/legacy/summary.csv")
file(STRINGS "${WORK_DIR}/t1/summary.csv" lines)
list(REMOVE_AT lines 0)
foreach(line ${lines})
  string(REPLACE "," ";" cells "${line}")
  list(SUBLIST cells 0 7 head)
  list(POP_FRONT head p value r seed steps events reactions)
  if(r LESS 40)
    set(pp "000${p}")  # points 0 and 1
    set(rr "000000${r}")
    string(LENGTH "${rr}" len)
    math(EXPR start "${len} - 6")
    string(SUBSTRING "${rr}" ${start} 6 rr)
    file(WRITE "${WORK_DIR}/legacy/replicates/p${pp}/r${rr}.meta"
         "seed,brownian_steps,events,reactions\n${seed},${steps},${events},${reactions}\n")
  endif()
endforeach()
execute_process(COMMAND "${SPINESIM}" ensemble "${scene}" --out "${WORK_DIR}/legacy" --no-plots --csv --replicates 60
                  --threads 2 --seed 3 ${sweep}
                RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_QUIET)
if(NOT rc EQUAL 0 OR NOT err MATCHES "80 already done, 40 to run")
  message(FATAL_ERROR "resuming an ensemble of the two-files-per-replicate layout (${rc}): ${err}")
endif()
same(t1 legacy "resumed from the earlier layout vs one run")
message(STATUS "an ensemble directory of the earlier layout resumed (80 already done, 40 to run)")

# 4. Invalid sweeps fail with exit 2 before running (no output directory made).
foreach(bad "production[0].rate=1" "production[3].rate_per_s=1" "production[0].rate_per_s=fast"
            "production[0].species=2" "reaction[0].rate_per_s=1,-5")
  execute_process(COMMAND "${SPINESIM}" ensemble "${scene}" --out "${WORK_DIR}/bad" --replicates 2 --sweep "${bad}"
                  RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_QUIET)
  if(NOT rc EQUAL 2 OR NOT err MATCHES "production|reaction")
    message(FATAL_ERROR "--sweep ${bad}: expected exit 2 naming the field, got ${rc}: ${err}")
  endif()
  if(EXISTS "${WORK_DIR}/bad")
    message(FATAL_ERROR "--sweep ${bad}: ${WORK_DIR}/bad was created although the sweep is invalid")
  endif()
  string(STRIP "${err}" err)
  message(STATUS "--sweep ${bad}: ${err}")
endforeach()
