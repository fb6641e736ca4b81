#include "tools/cli_args.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace spinesim::cli {

Args::Args(int argc, char** argv, int first, const std::vector<OptionSpec>& specs) {
  for (int i = first; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0 || a == "--") {
      positional_.push_back(a);
      continue;
    }
    std::string name = a.substr(2), value;
    bool inline_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      inline_value = true;
    }
    const OptionSpec* spec = nullptr;
    for (const auto& s : specs)
      if (s.name == name) spec = &s;
    if (!spec) throw UsageError("unknown option --" + name);
    if (spec->takes_value && !inline_value) {
      if (i + 1 >= argc) throw UsageError("option --" + name + " needs a value");
      value = argv[++i];
    }
    values_[name] = value;
  }
}

bool wants_help(int argc, char** argv) {
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") return true;
  }
  return false;
}

std::optional<std::string> Args::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

long long Args::get_int(const std::string& name, long long fallback, long long min_value, long long max_value) const {
  auto v = get(name);
  if (!v) return fallback;
  char* end = nullptr;
  errno = 0;
  const long long x = std::strtoll(v->c_str(), &end, 10);
  if (errno || end == v->c_str() || *end != '\0')
    throw UsageError("--" + name + " expects an integer, got '" + *v + "'");
  if (x < min_value || x > max_value)
    throw UsageError("--" + name + " must be between " + std::to_string(min_value) + " and " +
                     std::to_string(max_value) + ", got " + *v);
  return x;
}

unsigned long long Args::get_u64(const std::string& name, unsigned long long fallback) const {
  auto v = get(name);
  if (!v) return fallback;
  char* end = nullptr;
  errno = 0;
  if (!v->empty() && (*v)[0] == '-')
    throw UsageError("--" + name + " expects a non-negative integer, got '" + *v + "'");
  const unsigned long long x = std::strtoull(v->c_str(), &end, 10);
  if (errno || end == v->c_str() || *end != '\0')
    throw UsageError("--" + name + " expects a non-negative integer, got '" + *v + "'");
  return x;
}

double Args::get_double(const std::string& name, double fallback, double min_value) const {
  auto v = get(name);
  if (!v) return fallback;
  char* end = nullptr;
  errno = 0;
  const double x = std::strtod(v->c_str(), &end);
  if (errno || end == v->c_str() || *end != '\0' || !std::isfinite(x))
    throw UsageError("--" + name + " expects a number, got '" + *v + "'");
  if (x < min_value) throw UsageError("--" + name + " must be ≥ " + std::to_string(min_value) + ", got " + *v);
  return x;
}

Args parse_with_output(int argc, char** argv, const std::vector<OptionSpec>& specs) {
  static std::string output_flag = "--output";
  std::vector<char*> rewritten(argv, argv + argc);
  for (auto& a : rewritten)
    if (std::string(a) == "-o") a = output_flag.data();
  return Args(static_cast<int>(rewritten.size()), rewritten.data(), 2, specs);
}

}  // namespace spinesim::cli
