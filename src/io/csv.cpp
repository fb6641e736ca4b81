#include "io/csv.h"

#include <stdexcept>

namespace spinesim {

std::string csv_cell(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::vector<std::string> split_csv_record(const std::string& line) {
  std::vector<std::string> out;
  std::size_t i = 0;
  for (;;) {
    std::string cell;
    if (i < line.size() && line[i] == '"') {
      ++i;
      for (;;) {
        if (i >= line.size()) throw std::runtime_error("a quoted cell is not closed");
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            cell += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        cell += line[i++];
      }
      if (i < line.size() && line[i] != ',') throw std::runtime_error("text after a closing quote");
    } else {
      const auto c = line.find(',', i);
      cell = line.substr(i, c == std::string::npos ? std::string::npos : c - i);
      i = c == std::string::npos ? line.size() : c;
    }
    out.push_back(std::move(cell));
    if (i >= line.size()) break;
    ++i;  // the comma
  }
  return out;
}

}  // namespace spinesim
