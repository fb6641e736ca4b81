// run.json: how a run was made (command line, seed, version, threads) and what it
// cost (wall time, steps, events), so any output can be reproduced and compared.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace spinesim {

/// Minimal JSON object writer: keys in insertion order, values already rendered.
class JsonObject {
 public:
  JsonObject& add(const std::string& key, const std::string& string_value);
  JsonObject& add(const std::string& key, const char* string_value) { return add(key, std::string(string_value)); }
  JsonObject& add(const std::string& key, double number);
  JsonObject& add(const std::string& key, long long integer);
  JsonObject& add(const std::string& key, unsigned long long integer);
  JsonObject& add(const std::string& key, int integer) { return add(key, static_cast<long long>(integer)); }
  JsonObject& add(const std::string& key, bool flag);
  JsonObject& add_raw(const std::string& key, const std::string& json);
  std::string str() const;

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

std::string json_escape(const std::string& s);

}  // namespace spinesim
