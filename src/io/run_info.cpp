#include "io/run_info.h"

#include <cstdio>
#include <cstdlib>

namespace spinesim {

std::string json_escape(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

JsonObject& JsonObject::add(const std::string& key, const std::string& v) {
  return add_raw(key, json_escape(v));
}
JsonObject& JsonObject::add(const std::string& key, double v) {
  // Shortest of 15–17 significant digits that reads back as the same double.
  char buf[64];
  for (int digits = 15; digits <= 17; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return add_raw(key, buf);
}
JsonObject& JsonObject::add(const std::string& key, long long v) {
  return add_raw(key, std::to_string(v));
}
JsonObject& JsonObject::add(const std::string& key, unsigned long long v) {
  return add_raw(key, std::to_string(v));
}
JsonObject& JsonObject::add(const std::string& key, bool v) {
  return add_raw(key, v ? "true" : "false");
}
JsonObject& JsonObject::add_raw(const std::string& key, const std::string& json) {
  fields_.emplace_back(key, json);
  return *this;
}

std::string JsonObject::str() const {
  std::string out = "{\n";
  for (std::size_t i = 0; i < fields_.size(); ++i)
    out += "  " + json_escape(fields_[i].first) + ": " + fields_[i].second + (i + 1 < fields_.size() ? ",\n" : "\n");
  return out + "}\n";
}

}  // namespace spinesim
