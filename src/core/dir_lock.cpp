#include "core/dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

namespace spinesim {

namespace fs = std::filesystem;

namespace {

std::string read_all(int fd) {
  std::string text;
  char buf[4096];
  off_t at = 0;
  while (text.size() < 64 * 1024) {
    const ssize_t n = ::pread(fd, buf, sizeof buf, at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    at += n;
  }
  return text;
}

/// "pid N\ncommand C\n" as written by the holder; pid 0 when absent.
struct Holder {
  pid_t pid = 0;
  std::string command;
};

Holder parse_holder(const std::string& text) {
  Holder h;
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(at, end - at);
    if (line.rfind("pid ", 0) == 0) h.pid = static_cast<pid_t>(std::strtol(line.c_str() + 4, nullptr, 10));
    if (line.rfind("command ", 0) == 0) h.command = line.substr(8);
    at = end + 1;
  }
  return h;
}

bool same_file(int fd, const fs::path& path) {
  struct stat a {};
  struct stat b {};
  return ::fstat(fd, &a) == 0 && ::stat(path.c_str(), &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

}  // namespace

bool is_lock_file(const fs::path& name) {
  return name.filename() == kLockFileName;
}

void remove_all_but_lock(const fs::path& dir) {
  for (const auto& entry : fs::directory_iterator(dir))
    if (!is_lock_file(entry.path())) fs::remove_all(entry.path());
}

bool empty_but_lock(const fs::path& dir) {
  for (const auto& entry : fs::directory_iterator(dir))
    if (!is_lock_file(entry.path())) return false;
  return true;
}

DirLock::DirLock(const fs::path& dir, const std::string& command) : dir_(dir) {
  const fs::path file = dir / kLockFileName;
  // A few rounds: a holder that releases between our open and our flock has unlinked
  // the file we opened, and we must lock the one now at the path instead.
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
      const int err = errno;
      throw IoError("cannot create the lock file " + file.string() + ": " + std::strerror(err) +
                    " (the output directory must be writable)");
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      if (err == EWOULDBLOCK) {
        // The holder writes its PID just after locking; give it a moment to do so.
        Holder h = parse_holder(read_all(fd));
        for (int i = 0; i < 50 && h.pid <= 0; ++i) {
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
          h = parse_holder(read_all(fd));
        }
        ::close(fd);
        throw DirLockedError(dir.string() + " is being written by another spinesim (" +
                             (h.pid > 0 ? "PID " + std::to_string(h.pid) : std::string("PID unknown")) +
                             (h.command.empty() ? std::string() : ": " + h.command) +
                             "); wait for it to finish or stop it, or choose another output directory (" +
                             file.string() + " is held while a run, resume or ensemble writes there)");
      }
      ::close(fd);
      if (err == EINTR) continue;
      throw IoError("cannot lock " + file.string() + ": " + std::strerror(err) +
                    " (the file system does not support flock; write the run to a local directory)");
    }
    if (!same_file(fd, file)) {
      ::close(fd);
      continue;
    }
    // Whatever the file says now was written by a writer that no longer holds the
    // lock: it ended without removing the file (killed, or the machine went down).
    const Holder old = parse_holder(read_all(fd));
    if (old.pid > 0 && old.pid != ::getpid()) stale_pid_ = old.pid;
    const std::string text = "pid " + std::to_string(::getpid()) + "\ncommand " + command + "\n";
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
      // The lock is held all the same; only the message another writer gets is poorer.
    }
    fd_ = fd;
    return;
  }
  throw IoError("cannot lock " + dir.string() + ": its lock file " + file.string() +
                " keeps being replaced; is another program removing files in that directory?");
}

DirLock::DirLock(DirLock&& other) noexcept : dir_(std::move(other.dir_)), fd_(other.fd_), stale_pid_(other.stale_pid_) {
  other.fd_ = -1;
}

DirLock& DirLock::operator=(DirLock&& other) noexcept {
  if (this != &other) {
    release();
    dir_ = std::move(other.dir_);
    fd_ = other.fd_;
    stale_pid_ = other.stale_pid_;
    other.fd_ = -1;
  }
  return *this;
}

DirLock::~DirLock() {
  release();
}

void DirLock::release() {
  if (fd_ < 0) return;
  // Unlink while still holding the lock, and only our own file: the directory (a
  // finished .partial) may be gone already, and only the holder ever unlinks.
  const fs::path file = dir_ / kLockFileName;
  if (same_file(fd_, file)) ::unlink(file.c_str());
  ::close(fd_);
  fd_ = -1;
}

}  // namespace spinesim
