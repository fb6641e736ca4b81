# Turns a text file into a C++ header holding it as an array of raw string literals
# (each well under the 64 KiB a compiler must accept), so the binary carries the file.
#   cmake -DINPUT=file -DOUTPUT=header.h -DNAME=kIdentifier -P embed_text.cmake
# gives spinesim::embedded_text::kIdentifier, an array of std::string_view.
file(READ "${INPUT}" text)
set(delimiter "spinesim_embed")
string(FIND "${text}" ")${delimiter}\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw-string delimiter )${delimiter}\"; change it in embed_text.cmake")
endif()
string(LENGTH "${text}" length)
set(chunk 8000)
set(out "// Generated from ${INPUT} by viz/embed_text.cmake; do not edit.\n#pragma once\n#include <string_view>\n\n")
# ""sv literals carry their length, so no constexpr strlen runs over the whole text.
string(APPEND out "namespace spinesim::embedded_text {\nusing namespace std::string_view_literals;\n")
string(APPEND out "inline constexpr std::string_view ${NAME}[] = {\n")
set(offset 0)
while(offset LESS length)
  string(SUBSTRING "${text}" ${offset} ${chunk} piece)
  string(APPEND out "R\"${delimiter}(${piece})${delimiter}\"sv,\n")
  math(EXPR offset "${offset} + ${chunk}")
endwhile()
string(APPEND out "};\n}  // namespace spinesim::embedded_text\n")
file(WRITE "${OUTPUT}.tmp" "${out}")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
