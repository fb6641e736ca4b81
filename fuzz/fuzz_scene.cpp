// libFuzzer target: the scene parser and validator (spinesim::validate_scene_text)
// on arbitrary bytes. Any crash, sanitizer report, uncaught exception or timeout is a
// bug; diagnostics are the expected outcome for malformed input. The scene stands
// for a file in tests/e2e/bad_input/, so the relative mesh paths of the corpus
// ("../../data/meshes/...") reach the mesh importer and orientation checks too.
// Built with -fsanitize=fuzzer by the `fuzz` preset; the normal build links the same
// function with fuzz/replay_main.cpp to replay fuzz/corpus and fuzz/regressions.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "io/scene_loader.h"

#ifndef SPINESIM_SOURCE_DIR
#error "SPINESIM_SOURCE_DIR must be defined"
#endif

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // Keep the fuzzer away from files that never end or are not files at all
  // (/dev/zero, /proc/self/fd/...), which a scene can name as a mesh or agent file.
  if (text.find("file") != std::string::npos &&
      (text.find('\\') != std::string::npos || text.find("dev") != std::string::npos ||
       text.find("proc") != std::string::npos || text.find("sys") != std::string::npos))
    return 0;
  std::vector<spinesim::Diagnostic> errors, warnings;
  try {
    spinesim::validate_scene_text(text, SPINESIM_SOURCE_DIR "/tests/e2e/bad_input/fuzz_input.pbtxt", errors, warnings);
  } catch (const spinesim::InputError&) {
    // Allowed: the same errors, thrown by a helper instead of collected.
  }
  for (const auto& d : errors)
    if (d.message.empty()) __builtin_trap();  // every error must say something
  return 0;
}
