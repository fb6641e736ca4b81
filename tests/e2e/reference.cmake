# Reference outputs: a refactoring safety net, never a substitute for the statistical
# tests. Each case runs a shipped scene with a fixed seed and end time and compares
# counts.csv byte for byte and every frame and mesh.vtp by SHA-256 with what is stored
# in tests/data/reference/CASE/. A change that is meant to alter outputs regenerates
# them, and says why in its commit:
#   cmake -DSPINESIM=build/release/tools/spinesim -DSOURCE_DIR=$PWD -DWORK_DIR=/tmp/ref \
#         -DUPDATE=ON -P tests/e2e/reference.cmake
# Cases: scene  seed  t_end_s  threads
set(cases
  "spine_glutamate 7 0.002 1"
  "spine_glutamate 7 0.002 2"
  "minis_quiet 3 0.02 1"
  "single_quantum 11 0.003 2"
  "ketamine_spine 5 2 1"
  "oist_spine 1 0.001 1"
  "minis_at_rest 2 0.5 1")

file(REMOVE_RECURSE "${WORK_DIR}")
set(failures "")
foreach(c IN LISTS cases)
  string(REPLACE " " ";" c "${c}")
  list(GET c 0 scene)
  list(GET c 1 seed)
  list(GET c 2 t_end)
  list(GET c 3 threads)
  set(name "${scene}_seed${seed}")
  set(out "${WORK_DIR}/${name}_t${threads}")
  execute_process(COMMAND "${SPINESIM}" run "${SOURCE_DIR}/scenes/${scene}.pbtxt" --out "${out}" --seed ${seed}
                          --t-end ${t_end} --threads ${threads} --quiet
                  RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_QUIET)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${name}: run failed (${rc}): ${err}")
  endif()
  file(GLOB frames RELATIVE "${out}" "${out}/frames/*.vtp")
  list(SORT frames)
  set(hashes "")
  foreach(f mesh.vtp ${frames})
    file(SHA256 "${out}/${f}" h)
    string(APPEND hashes "${h}  ${f}\n")
  endforeach()
  set(ref "${SOURCE_DIR}/tests/data/reference/${name}")
  if(UPDATE)
    file(MAKE_DIRECTORY "${ref}")
    file(COPY "${out}/counts.csv" DESTINATION "${ref}")
    file(WRITE "${ref}/hashes.txt" "${hashes}")
    message(STATUS "${name}: reference written")
    continue()
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files "${ref}/counts.csv" "${out}/counts.csv" RESULT_VARIABLE diff)
  if(NOT diff EQUAL 0)
    list(APPEND failures "${name} (threads ${threads}): counts.csv differs from ${ref}/counts.csv")
  endif()
  file(READ "${ref}/hashes.txt" want)
  if(NOT want STREQUAL hashes)
    list(APPEND failures "${name} (threads ${threads}): frame or mesh hashes differ from ${ref}/hashes.txt")
  endif()
endforeach()
if(failures)
  string(REPLACE ";" "\n  " failures "${failures}")
  message(FATAL_ERROR "outputs changed:\n  ${failures}")
endif()
list(LENGTH cases n)
message(STATUS "${n} reference runs identical to tests/data/reference")
