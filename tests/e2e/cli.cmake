# The command line end to end: every verb's --help (with an example), one bad
# argument per verb (exit 2 and a message naming the problem), and a run that
# refuses to overwrite an earlier run unless asked.
include(${CMAKE_CURRENT_LIST_DIR}/expect_run.cmake)

expect_run(0 "spinesim 0." --version)
expect_run(0 "verbs:" --help)
expect_run(2 "unknown verb 'frobnicate'" frobnicate)
foreach(verb run validate render movie plot bench ensemble export-csv)
  expect_run(0 "Example:" ${verb} --help)
endforeach()

set(scene "${SOURCE_DIR}/scenes/minis_quiet.pbtxt")
expect_run(2 "run needs --out DIR" run "${scene}")
expect_run(2 "--threads expects an integer, got 'many'" run "${scene}" --out "${WORK_DIR}/x" --threads many)
expect_run(2 "scene file not found" run "${WORK_DIR}/no_such_scene.pbtxt" --out "${WORK_DIR}/x")
expect_run(2 "validate needs exactly one SCENE file" validate)
expect_run(2 "render needs -o OUT.png" render "${WORK_DIR}")
expect_run(2 "--size expects WxH" render "${WORK_DIR}" -o x.png --size big)
expect_run(2 "bench needs a workload name: diffusion, reactions, scene, soak or ssa" bench)
expect_run(2 "has no well-mixed pools" bench ssa "${scene}")
expect_run(2 "--molecules must be between 1 and" bench diffusion --molecules 0)
expect_run(2 "does not exist; ENSEMBLE is the --out DIR" export-csv "${WORK_DIR}/no_such_ensemble")

file(REMOVE_RECURSE "${WORK_DIR}/run")
expect_run(0 "Outputs in" run "${scene}" --out "${WORK_DIR}/run" --t-end 0.004 --quiet)
file(READ "${WORK_DIR}/run/counts.csv" first)
expect_run(2 "already holds a run" run "${scene}" --out "${WORK_DIR}/run" --t-end 0.002 --quiet)
file(READ "${WORK_DIR}/run/counts.csv" after)
if(NOT first STREQUAL after)
  message(FATAL_ERROR "a refused run changed counts.csv")
endif()
expect_run(0 "Outputs in" run "${scene}" --out "${WORK_DIR}/run" --t-end 0.002 --quiet --overwrite)
# The resolved scene of a shortened run runs as it is.
expect_run(0 "OK" validate "${WORK_DIR}/run/scene.resolved.pbtxt")
message(STATUS "CLI checks passed")
