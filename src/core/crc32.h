// CRC-32 (IEEE 802.3, as zlib's crc32): checkpoint files and the counts.csv prefix a
// checkpoint saw. Hand-written (a table of 256 words) rather than linking zlib for one
// function.
#pragma once

#include <cstdint>
#include <string_view>

namespace spinesim {

/// CRC-32 of `data`.
std::uint32_t crc32(std::string_view data);
/// CRC-32 of A + `more`, given `crc` = CRC-32 of A (crc32_extend(0, x) == crc32(x)).
std::uint32_t crc32_extend(std::uint32_t crc, std::string_view more);

}  // namespace spinesim
