// Checkpoint files (DIR/checkpoint.N.pb, schema src/io/schema/checkpoint.proto):
// a run's complete state plus how far its observers wrote, the resolved scene
// and the command line, so `spinesim resume DIR` continues it bit-exactly. Files are
// written to a temporary name, fsynced and renamed; the last two are kept.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/crc32.h"
#include "core/error.h"
#include "engine/run_state.h"

namespace spinesim {

/// Version of the checkpoint format this build writes and reads.
/// 2: well-mixed pools; 3: counts.csv is appended, so a checkpoint holds the length and
/// CRC-32 of the file it saw instead of the whole text (which made long runs quadratic).
inline constexpr std::uint32_t kCheckpointFormatVersion = 3;
/// The oldest format this build still resumes.
inline constexpr std::uint32_t kOldestCheckpointFormatVersion = 2;

struct Checkpoint {
  std::string program_version;
  std::uint64_t number = 0;
  std::string scene_text, scene_file, command_line, final_dir;
  int threads = 1;
  double checkpoint_every_s = 0;
  bool quiet = false;
  std::optional<std::uint64_t> seed_override;
  std::optional<double> t_end_override_s;
  RunState state;
  std::string counts_csv;  ///< format 2: counts.csv so far; the run API: its rows
  /// Format 3: counts.csv's length and CRC-32 when the checkpoint was taken (0: none).
  std::uint64_t counts_bytes = 0;
  std::uint32_t counts_crc32 = 0;
  std::uint64_t frame_count = 0;
  std::vector<std::pair<double, std::string>> pvd;
};

/// A checkpoint file that is truncated, corrupt (checksum mismatch) or unreadable.
class CorruptCheckpoint : public IoError {
 public:
  using IoError::IoError;
};
/// A valid checkpoint of another format version.
class CheckpointVersionError : public IoError {
 public:
  using IoError::IoError;
};

/// The bytes of a checkpoint file; `format_version` is for tests of old versions.
std::string encode_checkpoint(const Checkpoint& cp, std::uint32_t format_version = kCheckpointFormatVersion);
/// Parses a checkpoint file's bytes. Throws CorruptCheckpoint or CheckpointVersionError
/// whose messages name `file`.
Checkpoint decode_checkpoint(const std::string& bytes, const std::filesystem::path& file);

/// DIR/checkpoint.N.pb.
std::filesystem::path checkpoint_path(const std::filesystem::path& dir, std::uint64_t number);
/// Writes cp atomically as checkpoint_path(dir, cp.number) and removes checkpoints
/// numbered below cp.number − 1. Throws IoError naming the path on failure (the
/// earlier checkpoints stay). Returns the path written.
std::filesystem::path write_checkpoint(const std::filesystem::path& dir, const Checkpoint& cp);

/// The checkpoint files in `dir`, newest (highest N) first.
std::vector<std::filesystem::path> list_checkpoints(const std::filesystem::path& dir);

/// The newest valid checkpoint in `dir`; each corrupt one skipped adds a line to
/// `skipped`. Throws CheckpointVersionError for a checkpoint of another version and
/// IoError when none is valid.
Checkpoint load_newest_checkpoint(const std::filesystem::path& dir, std::filesystem::path& file,
                                  std::vector<std::string>& skipped);

}  // namespace spinesim
