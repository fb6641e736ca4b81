// A fresh directory under the system temp folder, removed with its contents when
// the object goes out of scope. Names include the process id, so parallel test
// processes never share one.
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>

namespace spinesim::testing {

struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& prefix = "spinesim_test") {
    static std::atomic<int> counter{0};
    path = std::filesystem::temp_directory_path() /
           (prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

}  // namespace spinesim::testing
