#include "core/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "core/error.h"

namespace spinesim {

namespace fs = std::filesystem;

fs::path temp_path_for(const fs::path& target) {
  return target.parent_path() / ("." + target.filename().string() + ".tmp" + std::to_string(::getpid()));
}

namespace {
void fsync_path(const fs::path& p) {
  int fd = ::open(p.c_str(), O_RDONLY);
  if (fd < 0) throw IoError("cannot reopen " + p.string() + " to flush it: " + std::strerror(errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) throw IoError("cannot flush " + p.string() + " to disk: " + std::strerror(err));
}
}  // namespace

void atomic_write_with(const fs::path& target, const std::function<void(const fs::path&)>& write) {
  const fs::path tmp = temp_path_for(target);
  try {
    write(tmp);
    if (!fs::exists(tmp))
      throw IoError("could not write " + target.string() + " (is the disk full or the directory read-only?)");
    fsync_path(tmp);
    std::error_code ec;
    fs::rename(tmp, target, ec);
    if (ec) throw IoError("cannot rename " + tmp.string() + " to " + target.string() + ": " + ec.message());
  } catch (...) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw;
  }
}

void atomic_write(const fs::path& target, const std::string& contents) {
  atomic_write_with(target, [&](const fs::path& tmp) {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out)
      throw IoError("cannot create " + tmp.string() + ": " + std::strerror(errno) +
                    " (check that the output directory exists and is writable)");
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    out.flush();
    if (!out) throw IoError("cannot write " + target.string() + ": " + std::strerror(errno) + " (is the disk full?)");
  });
}

}  // namespace spinesim
