// read_input_file (src/core/input_file.h) and DirLock (src/core/dir_lock.h): the
// special-file and size-limit refusals at their boundaries, and the lock's exclusion,
// stale takeover and release, within one process (tests/e2e/special_files.sh and
// tests/e2e/data_loss.sh cover them across processes).
#include "core/input_file.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "core/dir_lock.h"
#include "core/error.h"
#include "support/temp_dir.h"

namespace fs = std::filesystem;
using namespace spinesim;
using spinesim::testing::TempDir;

namespace {

constexpr InputFileKind kTiny{"test file", 10, "make it smaller"};

std::string refusal(const fs::path& p, const InputFileKind& kind = kTiny) {
  try {
    read_input_file(p, kind);
  } catch (const InputError& e) {
    REQUIRE(e.diagnostics().size() == 1);
    CHECK(e.diagnostics()[0].file == p.string());
    return e.diagnostics()[0].message;
  }
  FAIL("expected InputError for " << p);
  return {};
}

void write(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_SUITE("input_file") {
  TEST_CASE("regular files up to the limit are read whole, symbolic links followed") {
    TempDir dir("spinesim_input_file");
    write(dir.path / "ten", "0123456789");
    CHECK(read_input_file(dir.path / "ten", kTiny) == "0123456789");
    write(dir.path / "empty", "");
    CHECK(read_input_file(dir.path / "empty", kTiny).empty());
    fs::create_symlink("ten", dir.path / "link");
    CHECK(read_input_file(dir.path / "link", kTiny) == "0123456789");
  }

  TEST_CASE("one byte over the limit is refused with the size, the limit and the advice") {
    TempDir dir("spinesim_input_file");
    write(dir.path / "eleven", "0123456789A");
    const std::string m = refusal(dir.path / "eleven");
    CHECK(has(m, "the test file is 11 bytes"));
    CHECK(has(m, "over the limit of 10 bytes for test files"));
    CHECK(has(m, "make it smaller"));
  }

  TEST_CASE("directories, FIFOs, devices and link loops are refused without reading") {
    TempDir dir("spinesim_input_file");
    fs::create_directory(dir.path / "d");
    CHECK(has(refusal(dir.path / "d"), "is a directory, not a file; give the path of the test file itself"));
    REQUIRE(::mkfifo((dir.path / "fifo").c_str(), 0600) == 0);
    CHECK(has(refusal(dir.path / "fifo"), "is a FIFO (named pipe), not a regular file"));
    CHECK(has(refusal("/dev/zero"), "is a character device"));
    CHECK(has(refusal("/dev/urandom", kSceneFileKind), "scene files are read only from regular files"));
    fs::create_symlink("loop", dir.path / "loop");
    CHECK(has(refusal(dir.path / "loop"), "too many levels of symbolic links"));
    CHECK(has(refusal(dir.path / "missing"), "test file not found; check the path"));
    CHECK(has(refusal(dir.path / std::string(300, 'n')), "the path is too long"));
    write(dir.path / "file", "x");
    CHECK(has(refusal(dir.path / "file" / "below"), "is not a directory"));
  }

  TEST_CASE("format_bytes") {
    CHECK(format_bytes(512) == "512 bytes");
    CHECK(format_bytes(std::uintmax_t{16} << 20) == "16.0 MiB");
    CHECK(format_bytes(std::uintmax_t{1} << 30) == "1.0 GiB");
  }
}

TEST_SUITE("dir_lock") {
  TEST_CASE("a second lock on the directory is refused, naming the holder; release lets it in") {
    TempDir dir("spinesim_dir_lock");
    DirLock first(dir.path, "first writer");
    REQUIRE(first.held());
    CHECK(fs::exists(dir.path / kLockFileName));
    try {
      DirLock second(dir.path, "second writer");
      FAIL("the second lock was granted");
    } catch (const DirLockedError& e) {
      const std::string m = e.what();
      CHECK(has(m, dir.path.string() + " is being written by another spinesim (PID " + std::to_string(::getpid()) +
                       ": first writer)"));
    }
    first.release();
    CHECK_FALSE(fs::exists(dir.path / kLockFileName));
    DirLock third(dir.path, "third writer");
    CHECK(third.held());
    CHECK_FALSE(third.stale_pid());
  }

  TEST_CASE("a lock file left by a writer that died is taken over, and its PID reported") {
    TempDir dir("spinesim_dir_lock");
    write(dir.path / kLockFileName, "pid 4000000\ncommand spinesim run killed\n");
    DirLock lock(dir.path, "next writer");
    REQUIRE(lock.stale_pid());
    CHECK(*lock.stale_pid() == 4000000);
    std::ifstream in(dir.path / kLockFileName);
    std::string line;
    std::getline(in, line);
    CHECK(line == "pid " + std::to_string(::getpid()));
  }

  TEST_CASE("emptying a held directory keeps the lock file") {
    TempDir dir("spinesim_dir_lock");
    DirLock lock(dir.path, "writer");
    fs::create_directories(dir.path / "sub" / "deeper");
    write(dir.path / "a.csv", "x");
    CHECK_FALSE(empty_but_lock(dir.path));
    remove_all_but_lock(dir.path);
    CHECK(empty_but_lock(dir.path));
    CHECK(fs::exists(dir.path / kLockFileName));
  }

  TEST_CASE("a lock whose directory was removed releases without error") {
    TempDir dir("spinesim_dir_lock");
    fs::create_directory(dir.path / "partial");
    DirLock lock(dir.path / "partial", "writer");
    fs::remove_all(dir.path / "partial");
    lock.release();
    CHECK_FALSE(lock.held());
  }
}
