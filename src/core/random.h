// Counter-based random numbers: a stream is a pure function of
// (seed, entity id, step, purpose), so no value depends on which thread drew it
// or in what order. Philox4x32-10 (Salmon et al., SC'11, "Parallel random numbers:
// as easy as 1, 2, 3") is the bijection; it passes BigCrush and needs no state.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace spinesim {

/// What a stream is used for; distinct purposes never share a counter.
enum class Purpose : std::uint32_t {
  kDiffusion = 1,
  kPlacement = 2,
  kRelease = 3,
  kReaction = 4,
  kSurfaceCrossing = 5,
  kEvent = 6,
  kLifetime = 7,
  kProduction = 8,
  kWellMixed = 9,
  kTest = 255,
};

/// One Philox4x32-10 round, then the key schedule's bump.
inline void philox_round(std::array<std::uint32_t, 4>& ctr, const std::array<std::uint32_t, 2>& key) {
  constexpr std::uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
  const std::uint64_t p0 = std::uint64_t{kM0} * ctr[0];
  const std::uint64_t p1 = std::uint64_t{kM1} * ctr[2];
  ctr = {static_cast<std::uint32_t>(p1 >> 32) ^ ctr[1] ^ key[0], static_cast<std::uint32_t>(p1),
         static_cast<std::uint32_t>(p0 >> 32) ^ ctr[3] ^ key[1], static_cast<std::uint32_t>(p0)};
}
inline void philox_bump(std::array<std::uint32_t, 2>& key) {
  constexpr std::uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
  key[0] += kW0;
  key[1] += kW1;
}

/// One Philox4x32-10 block: 4 uniformly distributed 32-bit words.
inline std::array<std::uint32_t, 4> philox4x32(std::array<std::uint32_t, 4> ctr, std::array<std::uint32_t, 2> key) {
  for (int round = 0; round < 10; ++round) {
    philox_round(ctr, key);
    philox_bump(key);
  }
  return ctr;
}

/// N blocks under one key, each equal to philox4x32(ctrs[i], key); the rounds of
/// the N independent counters interleave, so a serial caller gets them in about
/// the latency of one.
template <std::size_t N>
inline void philox4x32_lanes(std::array<std::array<std::uint32_t, 4>, N>& ctrs, std::array<std::uint32_t, 2> key) {
  for (int round = 0; round < 10; ++round) {
    for (auto& ctr : ctrs) philox_round(ctr, key);
    philox_bump(key);
  }
}

/// The 128-bit counter layout: word0 = draw index within the stream, word1 = entity
/// id, word2/word3 = step (48 bits) and purpose (16 bits). The seed is the key.
struct StreamKey {
  std::uint64_t seed = 0;
  std::uint32_t entity = 0;
  std::uint64_t step = 0;
  Purpose purpose = Purpose::kDiffusion;
};

/// A UniformRandomBitGenerator over one (seed, entity, step, purpose) stream, so any
/// Boost.Random or std distribution can draw from it. Cheap to construct: make one
/// per entity per step on the stack.
class CounterRng {
 public:
  using result_type = std::uint32_t;
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<std::uint32_t>::max(); }

  explicit CounterRng(const StreamKey& k)
      : key_{static_cast<std::uint32_t>(k.seed), static_cast<std::uint32_t>(k.seed >> 32)},
        entity_(k.entity),
        step_lo_(static_cast<std::uint32_t>(k.step)),
        step_hi_purpose_(static_cast<std::uint32_t>((k.step >> 32) & 0xFFFFu) |
                         (static_cast<std::uint32_t>(k.purpose) << 16)) {}

  result_type operator()() {
    if (used_ == 4) refill();
    return block_[used_++];
  }

  /// Four fresh words at once (the diffusion kernel's fast path).
  std::array<std::uint32_t, 4> next_block() {
    const auto b = philox4x32(counter(), key_);
    ++block_index_;
    return b;
  }
  /// The Philox counter and key of the next block, for callers that compute several
  /// streams' blocks together (philox4x32_lanes).
  std::array<std::uint32_t, 4> counter() const { return {block_index_, entity_, step_lo_, step_hi_purpose_}; }
  const std::array<std::uint32_t, 2>& key() const { return key_; }

 private:
  void refill() {
    block_ = next_block();
    used_ = 0;
  }
  std::array<std::uint32_t, 2> key_;
  std::uint32_t entity_, step_lo_, step_hi_purpose_;
  std::uint32_t block_index_ = 0;
  std::array<std::uint32_t, 4> block_{};
  int used_ = 4;
};

/// Uniform double in (0, 1], never 0, so log() is finite.
inline double uniform_open0(std::uint32_t word) {
  return (static_cast<double>(word) + 1.0) * (1.0 / 4294967296.0);
}

/// Box–Muller: two independent standard normals from two 32-bit words. Written out
/// here (rather than boost::random::normal_distribution's ziggurat, whose
/// rejection loop has a data-dependent draw count) so the diffusion kernel draws a
/// fixed 4 words per molecule-step and the loop can vectorise.
inline void box_muller(std::uint32_t w0, std::uint32_t w1, double& n0, double& n1) {
  const double r = std::sqrt(-2.0 * std::log(uniform_open0(w0)));
  const double phi = 2.0 * 3.14159265358979323846 * (static_cast<double>(w1) * (1.0 / 4294967296.0));
  n0 = r * std::cos(phi);
  n1 = r * std::sin(phi);
}

}  // namespace spinesim
