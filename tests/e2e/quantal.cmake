# The single-quantum scene end to end: runs tools/quantal_trials on
# scenes/single_quantum.pbtxt for a few seeds and checks what one quantum must do,
# whatever the receptor numbers turn out to be:
#   * every trial runs (spinesim exits 0 and writes counts.csv);
#   * the release lands in the cleft (glutamate@cleft > 0 in the first row after it,
#     none in the bouton) and the glutamate leaves the cleft (cumulative net rim
#     crossings crossed_out - crossed_in > 0; glutamate@cleft = 0 by the end);
#   * AMPARs open (peak AMPAR.open >= 1) and close again (AMPAR.open = 0 at the end:
#     the response is reversible once the glutamate is gone);
#   * NMDARs pass Ca2+ (NMDAR.ca_ions > 0 at the end) and the Mg2+ block holds the
#     conducting NMDARs below those in any open state at their peaks.
# The peak numbers are printed next to Franks et al. 2002 (~20 of 80 AMPARs, ~3 of 20
# NMDARs) for the record; agreement is NOT asserted (docs/validation/single_quantum.md
# reports the comparison over 20 trials).
#
# Inputs: -DQUANTAL_TRIALS=tools/quantal_trials -DSPINESIM=... -DSOURCE_DIR=...
#         -DWORK_DIR=... [-DTRIALS=5]
if(NOT TRIALS)
  set(TRIALS 5)
endif()
set(scene "${SOURCE_DIR}/scenes/single_quantum.pbtxt")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

execute_process(
  COMMAND "${CMAKE_COMMAND}" -E env "SPINESIM=${SPINESIM}" THREADS=2
          bash "${QUANTAL_TRIALS}" "${scene}" ${TRIALS} "${WORK_DIR}"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message(STATUS "quantal_trials ${TRIALS} trials of single_quantum:\n${out}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "tools/quantal_trials failed (exit ${rc}):\n${out}${err}")
endif()

# Column index of NAME in the header list HEADER (a CMake list), or a fatal error.
function(column_of header name out_var)
  list(FIND header "${name}" idx)
  if(idx EQUAL -1)
    message(FATAL_ERROR "counts.csv has no column ${name}")
  endif()
  set(${out_var} ${idx} PARENT_SCOPE)
endfunction()

set(failures "")
foreach(seed RANGE 1 ${TRIALS})
  set(csv "${WORK_DIR}/trial_${seed}/counts.csv")
  if(NOT EXISTS "${csv}")
    message(FATAL_ERROR "trial ${seed}: no counts.csv")
  endif()
  file(STRINGS "${csv}" lines)
  list(LENGTH lines n_lines)
  if(n_lines LESS 3)
    message(FATAL_ERROR "trial ${seed}: counts.csv has ${n_lines} lines")
  endif()
  list(GET lines 0 header)
  string(REPLACE "," ";" header "${header}")
  column_of("${header}" "glutamate@cleft" c_cleft)
  column_of("${header}" "glutamate@bouton" c_bouton)
  column_of("${header}" "crossed_in:glutamate@cleft_rim" c_in)
  column_of("${header}" "crossed_out:glutamate@cleft_rim" c_out)
  column_of("${header}" "AMPAR.open" c_aopen)
  column_of("${header}" "NMDAR.ca_ions" c_ca)

  # The row after t = 0 (10 µs): the release (at t = 0) is in the cleft, not the bouton.
  list(GET lines 2 row)
  string(REPLACE "," ";" row "${row}")
  list(GET row ${c_cleft} cleft_early)
  list(GET row ${c_bouton} bouton_early)
  if(NOT cleft_early GREATER 0 OR NOT bouton_early EQUAL 0)
    string(APPEND failures "trial ${seed}: after release glutamate@cleft = ${cleft_early}, @bouton = ${bouton_early}\n")
  endif()

  # Last row: glutamate gone from the cleft, net outward rim flux, AMPARs closed, Ca2+ in.
  math(EXPR last "${n_lines} - 1")
  list(GET lines ${last} row)
  string(REPLACE "," ";" row "${row}")
  list(GET row ${c_cleft} cleft_end)
  list(GET row ${c_in} crossed_in)
  list(GET row ${c_out} crossed_out)
  list(GET row ${c_aopen} aopen_end)
  list(GET row ${c_ca} ca_end)
  math(EXPR net_out "${crossed_out} - ${crossed_in}")
  if(NOT cleft_end EQUAL 0)
    string(APPEND failures "trial ${seed}: ${cleft_end} glutamate still in the cleft at the end\n")
  endif()
  if(NOT net_out GREATER 0)
    string(APPEND failures "trial ${seed}: no net glutamate flux out of the cleft rim (${crossed_out} out, ${crossed_in} in)\n")
  endif()
  if(NOT aopen_end EQUAL 0)
    string(APPEND failures "trial ${seed}: ${aopen_end} AMPARs still open at the end\n")
  endif()
  if(NOT ca_end GREATER 0)
    string(APPEND failures "trial ${seed}: no Ca2+ through NMDARs (NMDAR.ca_ions = ${ca_end})\n")
  endif()
endforeach()

# Per-trial peaks from the tool's table: seed, AMPA_peak, t, NMDA_cond, t, NMDA_any, ...
string(REPLACE "\n" ";" out_lines "${out}")
set(n_rows 0)
foreach(line IN LISTS out_lines)
  if(line MATCHES "^ +([0-9]+) +([0-9]+) +[0-9.]+ +([0-9]+) +[0-9.]+ +([0-9]+) +")
    math(EXPR n_rows "${n_rows} + 1")
    set(seed ${CMAKE_MATCH_1})
    set(ampa ${CMAKE_MATCH_2})
    set(cond ${CMAKE_MATCH_3})
    set(any ${CMAKE_MATCH_4})
    if(ampa LESS 1)
      string(APPEND failures "trial ${seed}: no AMPAR opened (peak AMPAR.open = 0)\n")
    endif()
    if(any LESS 1)
      string(APPEND failures "trial ${seed}: no NMDAR reached an open state\n")
    endif()
    if(cond GREATER any)
      string(APPEND failures "trial ${seed}: more conducting NMDARs (${cond}) than NMDARs in open states (${any})\n")
    endif()
  endif()
endforeach()
if(NOT n_rows EQUAL TRIALS)
  string(APPEND failures "expected ${TRIALS} per-trial rows from quantal_trials, found ${n_rows}\n")
endif()

if(failures)
  message(FATAL_ERROR "single-quantum checks failed:\n${failures}")
endif()
message(STATUS "single-quantum checks passed (${TRIALS} trials); Franks comparison printed above, not asserted")
