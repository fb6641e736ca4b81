# Fails when docs/scene-format.md differs from what the scene schema's comments
# generate, i.e. when the schema changed and the docs were not regenerated.
#   -DTOOL=spinesim_scene_doc -DDESCRIPTOR=scene_descriptor.pb
#   -DEXPECTED=docs/scene-format.md (committed) -DACTUAL=fresh output in the build dir
foreach(var TOOL DESCRIPTOR EXPECTED ACTUAL)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "docs_up_to_date.cmake needs -D${var}=...")
  endif()
endforeach()
if(NOT EXISTS "${DESCRIPTOR}")
  message(FATAL_ERROR "${DESCRIPTOR} is missing: build the project (target scene_descriptor) first")
endif()
execute_process(COMMAND "${TOOL}" "${DESCRIPTOR}" "${ACTUAL}" RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "spinesim_scene_doc failed (exit ${rc}):\n${err}")
endif()
if(NOT EXISTS "${EXPECTED}")
  message(FATAL_ERROR "${EXPECTED} does not exist. Generate it with\n"
    "  cmake --build build/release --target scene_docs\nand commit it.")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files "${EXPECTED}" "${ACTUAL}" RESULT_VARIABLE differ)
if(differ)
  message(FATAL_ERROR "${EXPECTED} is out of date with src/io/schema/scene.proto "
    "(fresh output: ${ACTUAL}). Regenerate it with\n"
    "  cmake --build build/release --target scene_docs\nand commit the result.")
endif()
message(STATUS "${EXPECTED} matches the schema")
