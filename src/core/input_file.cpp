#include "core/input_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <new>

#include "core/error.h"

namespace spinesim {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void refuse(const fs::path& path, const std::string& message) {
  Diagnostic d;
  d.file = path.string();
  d.message = message;
  throw InputError(std::move(d));
}

const char* type_name(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

[[noreturn]] void refuse_type(const fs::path& path, mode_t mode, const InputFileKind& kind) {
  if (S_ISDIR(mode))
    refuse(path, std::string("is a directory, not a file; give the path of the ") + kind.what + " itself");
  refuse(path, std::string("is ") + type_name(mode) + ", not a regular file; " + kind.what +
                   "s are read only from regular files (save the data to a file and give its path)");
}

/// The message for an open(2) or stat(2) failure, saying what to change.
[[noreturn]] void refuse_errno(const fs::path& path, int err, const InputFileKind& kind) {
  switch (err) {
    case ENOENT:
      refuse(path, std::string(kind.what) + " not found; check the path");
    case ENOTDIR:
      refuse(path, std::string(kind.what) +
                       " not found: a part of the path before the file name is not a "
                       "directory; check the path");
    case EACCES:
    case EPERM:
      refuse(path, std::string("permission denied reading the ") + kind.what +
                       "; make it (and the directories above it) readable, e.g. chmod a+r");
    case ELOOP:
      refuse(path,
             "too many levels of symbolic links (a symbolic link that points back at itself, directly or "
             "through others); point the path at the " +
                 std::string(kind.what) + " itself");
    case ENAMETOOLONG:
      refuse(path, "the path is too long for the file system (" + std::to_string(path.string().size()) +
                       " characters; at most " + std::to_string(PATH_MAX - 1) + " in all and " +
                       std::to_string(NAME_MAX) + " per name); move the " + kind.what +
                       " to a shorter path or give a relative one");
    case ENXIO:  // a socket
      refuse(path, std::string("is a socket or a device without a driver, not a regular file; give the path of a ") +
                       kind.what);
    case ENOMEM:
      refuse(path, std::string("not enough memory to open the ") + kind.what + "; free memory and try again");
    default:
      refuse(path, std::string("cannot open the ") + kind.what + ": " + std::strerror(err));
  }
}

}  // namespace

std::string format_bytes(std::uintmax_t bytes) {
  char buf[64];
  if (bytes >= (std::uintmax_t{1} << 30))
    std::snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(bytes) / (1u << 30));
  else if (bytes >= (std::uintmax_t{1} << 20))
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1u << 20));
  else if (bytes >= (std::uintmax_t{1} << 10))
    std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(bytes) / (1u << 10));
  else
    std::snprintf(buf, sizeof buf, "%ju bytes", bytes);
  return buf;
}

std::string read_input_file(const fs::path& path, const InputFileKind& kind) {
  // stat before open: opening some devices has effects of its own (a tape rewinds, a
  // terminal could become ours), so a non-regular file is refused without opening it.
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) refuse_errno(path, errno, kind);
  if (!S_ISREG(st.st_mode)) refuse_type(path, st.st_mode, kind);
  // O_NONBLOCK: should the path have become a FIFO since the stat, open returns at
  // once instead of waiting for a writer, and the fstat below refuses it.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) refuse_errno(path, errno, kind);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  if (::fstat(fd, &st) != 0) refuse_errno(path, errno, kind);
  if (!S_ISREG(st.st_mode)) refuse_type(path, st.st_mode, kind);
  const auto too_big = [&](const std::string& size) {
    refuse(path, std::string("the ") + kind.what + " is " + size + ", over the limit of " +
                     format_bytes(kind.max_bytes) + " for " + kind.what + "s; " + kind.if_too_big);
  };
  if (static_cast<std::uintmax_t>(st.st_size) > kind.max_bytes)
    too_big(std::to_string(st.st_size) + " bytes (" + format_bytes(static_cast<std::uintmax_t>(st.st_size)) + ")");
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  std::string data;
  try {
    data.reserve(static_cast<std::size_t>(st.st_size));
    // Read to the end rather than st_size bytes: files in /proc and files still being
    // written have a size that is not their length. The limit holds all the same.
    char chunk[1 << 16];
    while (true) {
      const ssize_t n = ::read(fd, chunk, sizeof chunk);
      if (n < 0) {
        if (errno == EINTR) continue;
        refuse(path, std::string("cannot read the ") + kind.what + ": " + std::strerror(errno));
      }
      if (n == 0) break;
      data.append(chunk, static_cast<std::size_t>(n));
      if (data.size() > kind.max_bytes)
        refuse(path, std::string("the ") + kind.what + " grew past the limit of " + format_bytes(kind.max_bytes) +
                         " for " + kind.what + "s while it was read; wait until it is written completely, or " +
                         kind.if_too_big);
    }
  } catch (const std::bad_alloc&) {
    refuse(path, "not enough memory to read the " + std::string(kind.what) + " (" +
                     format_bytes(static_cast<std::uintmax_t>(st.st_size)) +
                     "); free memory, raise the process's memory limit (ulimit -v) or use a smaller file");
  }
  return data;
}

}  // namespace spinesim
