// Escaping text for XML attribute values and character data (&, <, >, "): the SBML
// writer and the frames.pvd writer.
#pragma once

#include <string>

namespace spinesim {

std::string xml_escape(const std::string& s);

}  // namespace spinesim
