# expect_run(RC TEXT ARGS...): runs ${SPINESIM} ARGS and fails the test unless it
# exits with RC and prints TEXT (on stdout or stderr). Included by the CLI scripts.
function(expect_run want_rc want_text)
  execute_process(COMMAND "${SPINESIM}" ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  string(FIND "${out}${err}" "${want_text}" pos)
  if(NOT rc EQUAL want_rc OR pos EQUAL -1)
    message(FATAL_ERROR "spinesim ${ARGN}: wanted exit ${want_rc} and '${want_text}', got ${rc}:\n${out}${err}")
  endif()
endfunction()
