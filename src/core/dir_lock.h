// One writer per output directory. `spinesim run`, `resume` and `ensemble` hold a
// DirLock on the directory they write for as long as they write it, so a second
// writer fails at once with a message naming the holder's PID instead of silently
// interleaving two runs' files.
//
// Design: the lock is flock(2) on DIR/.spinesim.lock, which also holds the holder's
// PID and command line for the message. flock, not the PID, decides: the kernel drops
// it when the holder's process ends in any way (exit, crash, kill -9), so a lock file
// left by a killed writer is stale by construction and the next writer simply takes
// it over; a PID check (kill(pid, 0)) alone would be fooled by a reused PID and races
// between two takers. flock rather than fcntl(F_SETLK): an fcntl lock belongs to the
// process and is dropped when *any* descriptor of the file is closed (a library
// reading the directory could release it by accident), while a flock belongs to the
// open file description. The file lives inside DIR so that every spelling of DIR
// (relative, absolute, through a symbolic link) finds the same lock. On release the
// holder unlinks it; a taker re-checks after locking that the path still names the
// file it locked, so the unlink cannot split the lock in two.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>

#include "core/error.h"

namespace spinesim {

/// Name of the lock file inside a locked directory.
inline constexpr const char* kLockFileName = ".spinesim.lock";

/// The directory is locked by another live process.
class DirLockedError : public IoError {
 public:
  using IoError::IoError;
};

class DirLock {
 public:
  DirLock() = default;
  /// Locks the existing directory `dir` for `command` (written into the lock file for
  /// the message another writer gets). Throws DirLockedError when another process
  /// holds it (the message names its PID, its command and `dir`) and IoError when the
  /// lock file cannot be created or locked.
  DirLock(const std::filesystem::path& dir, const std::string& command);
  DirLock(DirLock&& other) noexcept;
  DirLock& operator=(DirLock&& other) noexcept;
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;
  ~DirLock();

  /// Removes the lock file and releases the lock (also done by the destructor).
  void release();
  bool held() const { return fd_ >= 0; }
  /// The PID of a writer that had died holding this lock, when it was taken over.
  std::optional<pid_t> stale_pid() const { return stale_pid_; }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
  int fd_ = -1;
  std::optional<pid_t> stale_pid_;
};

/// True when `name` is the lock file's (for listings of a directory's contents).
bool is_lock_file(const std::filesystem::path& name);

/// Removes everything in `dir` except its lock file: emptying a directory one holds
/// (remove_all would take the lock file with it and let a second writer in).
void remove_all_but_lock(const std::filesystem::path& dir);

/// True when `dir` holds nothing but (perhaps) its lock file.
bool empty_but_lock(const std::filesystem::path& dir);

}  // namespace spinesim
