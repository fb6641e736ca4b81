// Reading an input file (scene, agent, pathway, mesh) whole, refusing anything that
// is not a regular file of a sane size before a byte is read: a FIFO would block for
// ever, /dev/zero or /dev/urandom would be read until memory runs out, a directory
// gives an unhelpful stream error. Every refusal is an InputError that names the
// file and says what to change.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace spinesim {

/// What an input file is, for messages, and how large it may be.
struct InputFileKind {
  const char* what;          ///< "scene file", "mesh file", ...
  std::uintmax_t max_bytes;  ///< larger files are refused
  const char* if_too_big;    ///< what to do about a file over the limit
};

// Text-format files are written by hand or by scripts: the largest shipped one
// (agents/nmdar.pbtxt) is 32 KiB, so 16 MiB is 500 times that and still parses in
// well under a second. Meshes may be large scans; 1 GiB was already their limit.
inline constexpr InputFileKind kSceneFileKind{"scene file", std::uintmax_t{16} << 20,
                                              "split it, or put long lists into agent or pathway files"};
inline constexpr InputFileKind kAgentFileKind{"agent file", std::uintmax_t{16} << 20,
                                              "split its agent types over several agent_file entries"};
inline constexpr InputFileKind kPathwayFileKind{"pathway file", std::uintmax_t{16} << 20,
                                                "split it over several well_mixed_file entries"};
inline constexpr InputFileKind kMeshFileKind{"mesh file", std::uintmax_t{1} << 30,
                                             "decimate the mesh or split it into several surfaces"};

/// The contents of `path`, which must be a regular file (a symbolic link to one is
/// fine) of at most kind.max_bytes. Throws InputError with one Diagnostic whose file
/// is `path`: not found, unreadable, a directory, a FIFO, socket or device, too large,
/// a symbolic-link loop, a path too long, not enough memory.
std::string read_input_file(const std::filesystem::path& path, const InputFileKind& kind);

/// "4.0 MiB", "1.0 GiB", "512 bytes": for limits in messages.
std::string format_bytes(std::uintmax_t bytes);

}  // namespace spinesim
