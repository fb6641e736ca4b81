# `spinesim export-sbml`: a pathway and a scene export to SBML, a scene whose pathway
# is that SBML validates, bad arguments are usage errors.
include(${CMAKE_CURRENT_LIST_DIR}/expect_run.cmake)

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
expect_run(0 "Example:" export-sbml --help)
expect_run(2 "export-sbml needs -o OUT.xml" export-sbml "${SOURCE_DIR}/scenes/pathways/spine_pathway.pbtxt")
expect_run(2 "export-sbml needs exactly one" export-sbml -o "${WORK_DIR}/x.xml")
expect_run(0 "SBML written" export-sbml "${SOURCE_DIR}/scenes/pathways/spine_pathway.pbtxt" -o "${WORK_DIR}/pathway.xml")
expect_run(0 "SBML written" export-sbml "${SOURCE_DIR}/scenes/ketamine_spine.pbtxt" -o "${WORK_DIR}/scene.xml")
file(READ "${WORK_DIR}/pathway.xml" xml)
string(REGEX MATCHALL "<reaction " reactions "${xml}")
list(LENGTH reactions n)
if(NOT n EQUAL 40)
  message(FATAL_ERROR "expected 40 reactions in the exported pathway, found ${n}")
endif()
# The shipped ketamine scene with the SBML in place of its pathway file.
file(READ "${SOURCE_DIR}/scenes/ketamine_spine.pbtxt" scene)
string(REPLACE "\"pathways/spine_pathway.pbtxt\"" "\"${WORK_DIR}/pathway.xml\"" scene "${scene}")
string(REPLACE "agent_file: \"../agents/" "agent_file: \"${SOURCE_DIR}/agents/" scene "${scene}")
file(WRITE "${WORK_DIR}/ketamine_sbml.pbtxt" "${scene}")
expect_run(0 "OK" validate "${WORK_DIR}/ketamine_sbml.pbtxt")
# A pathway file that is neither protobuf text nor SBML.
file(WRITE "${WORK_DIR}/junk.pbtxt" "this is not a pathway\n")
expect_run(2 "neither a pathway" export-sbml "${WORK_DIR}/junk.pbtxt" -o "${WORK_DIR}/junk.xml")
message(STATUS "export-sbml checks passed")
