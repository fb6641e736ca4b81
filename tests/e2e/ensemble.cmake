# spinesim ensemble end to end (issue 5):
#  1. stats.csv and summary.csv are byte-identical for --threads 1 and 2;
#  2. ... and for `mpirun --oversubscribe -np 2` (skipped with a message when mpirun
#     or the MPI build is missing);
#  3. a run killed (SIGKILL) after some replicates resumes without redoing them and
#     ends with the same statistics as an uninterrupted run; leftovers of a replicate
#     cut short mid-write are cleaned up;
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

function(same a b what)
  foreach(f stats.csv summary.csv)
    execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files "${WORK_DIR}/${a}/${f}" "${WORK_DIR}/${b}/${f}"
                    RESULT_VARIABLE diff)
    if(NOT diff EQUAL 0)
      message(FATAL_ERROR "${f} differs: ${what}")
    endif()
  endforeach()
endfunction()

# 1. Threads, with a two-point sweep.
set(sweep --sweep "production[0].rate_per_s=1000,3000")
ensemble(t1 --replicates 60 --threads 1 --seed 3 ${sweep})
ensemble(t2 --replicates 60 --threads 2 --seed 3 ${sweep})
same(t1 t2 "--threads 1 vs 2")
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
                    --no-plots --quiet --replicates 60 --threads 1 --seed 3 ${sweep}
                  RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_QUIET TIMEOUT 60)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "mpirun -np 2 spinesim ensemble failed (${rc}): ${err}")
  endif()
  same(t1 mpi "mpirun -np 2 vs a single process")
  message(STATUS "stats.csv and summary.csv identical for mpirun -np 2 and a single process")
endif()

# 3. Kill and resume. A fine grid makes each replicate take ~0.1 s (grid set-up).
set(slow --replicates 40 --seed 9 --sweep "simulation.grid_cell_um=0.03")
ensemble(whole --threads 2 ${slow})
find_program(TIMEOUT timeout)
if(TIMEOUT)
  execute_process(COMMAND "${TIMEOUT}" -s KILL 1.2 "${SPINESIM}" ensemble "${scene}" --out "${WORK_DIR}/killed"
                    --no-plots --quiet --threads 1 ${slow}
                  RESULT_VARIABLE rc ERROR_QUIET OUTPUT_QUIET)
  file(GLOB done_before "${WORK_DIR}/killed/replicates/p0000/r*.csv")
  list(LENGTH done_before n_before)
  message(STATUS "killed (exit ${rc}) with ${n_before} of 40 replicates finished")
else()
  # No coreutils timeout: interrupt by hand (remove finished replicates).
  ensemble(killed --threads 1 ${slow})
  file(GLOB late "${WORK_DIR}/killed/replicates/p0000/r00001*.csv" "${WORK_DIR}/killed/replicates/p0000/r00002*.csv")
  file(REMOVE ${late})
  set(n_before 10)
endif()
# Leftovers of a replicate cut short: a partial counts file and an atomic-write temp.
file(WRITE "${WORK_DIR}/killed/replicates/p0000/r000039.csv.part" "time_s,A@box\n0,0\n")
file(WRITE "${WORK_DIR}/killed/replicates/p0000/.r000039.meta.tmp1" "junk")
file(GLOB kept "${WORK_DIR}/killed/replicates/p0000/r*.csv")
set(stamps "")
foreach(f ${kept})
  file(TIMESTAMP "${f}" ts "%s")
  list(APPEND stamps "${ts}")
endforeach()
execute_process(COMMAND "${SPINESIM}" ensemble "${scene}" --out "${WORK_DIR}/killed" --no-plots --threads 2 ${slow}
                RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "resumed ensemble failed (${rc}): ${err}")
endif()
string(REGEX MATCH "([0-9]+) already done, ([0-9]+) to run" m "${err}")
if(NOT CMAKE_MATCH_1 EQUAL n_before)
  message(FATAL_ERROR "resume should keep the ${n_before} finished replicates, said: ${m}")
endif()
set(i 0)
foreach(f ${kept})
  file(TIMESTAMP "${f}" ts "%s")
  list(GET stamps ${i} before)
  if(NOT ts STREQUAL before)
    message(FATAL_ERROR "${f} was rewritten on resume")
  endif()
  math(EXPR i "${i} + 1")
endforeach()
if(EXISTS "${WORK_DIR}/killed/replicates/p0000/r000039.csv.part" OR
   EXISTS "${WORK_DIR}/killed/replicates/p0000/.r000039.meta.tmp1")
  message(FATAL_ERROR "leftovers of an interrupted replicate were not removed")
endif()
same(whole killed "killed + resumed vs uninterrupted")
message(STATUS "resumed ${m}; statistics identical to the uninterrupted run")

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
