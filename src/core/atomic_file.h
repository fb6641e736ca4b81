// Crash-safe file replacement: write beside the target, flush to disk, rename.
// A reader (or a later run) never sees a half-written file, and a failed write
// leaves the previous version intact.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

namespace spinesim {

/// Temporary sibling name used while `target` is being written.
std::filesystem::path temp_path_for(const std::filesystem::path& target);

/// Replaces `target` with `contents` atomically. Throws IoError naming the path.
void atomic_write(const std::filesystem::path& target, const std::string& contents);

/// Calls `write(temp_path)`, which must create the file at temp_path (e.g. a VTK
/// writer), then fsyncs and renames it over `target`. On any exception the temp
/// file is removed and `target` is untouched.
void atomic_write_with(const std::filesystem::path& target,
                       const std::function<void(const std::filesystem::path&)>& write);

}  // namespace spinesim
