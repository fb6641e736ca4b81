// A small, strict command-line parser: every verb declares its options, unknown or
// malformed options are errors that name the option and show the verb's usage.
#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace spinesim::cli {

/// Thrown for bad command lines; the message already says what to do.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct OptionSpec {
  OptionSpec(std::string n, bool value = true) : name(std::move(n)), takes_value(value) {}
  std::string name;  ///< without dashes, e.g. "threads"
  bool takes_value;  ///< false for flags such as --quiet
};

/// True when any argument after the verb is --help or -h.
bool wants_help(int argc, char** argv);

class Args {
 public:
  /// Parses argv[first..]; positional arguments are collected in order.
  Args(int argc, char** argv, int first, const std::vector<OptionSpec>& specs);
  bool has(const std::string& name) const { return values_.count(name) != 0; }
  std::optional<std::string> get(const std::string& name) const;
  /// Parsed numbers with range checks; the message names the option.
  long long get_int(const std::string& name, long long fallback, long long min_value, long long max_value) const;
  double get_double(const std::string& name, double fallback, double min_value) const;
  unsigned long long get_u64(const std::string& name, unsigned long long fallback) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

/// Args for a verb's options (argv[2..]) where `-o FILE` stands for `--output FILE`.
Args parse_with_output(int argc, char** argv, const std::vector<OptionSpec>& specs);

}  // namespace spinesim::cli
