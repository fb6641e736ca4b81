// Counter-based generator: known-answer vectors and basic distribution checks.
#include "core/random.h"

#include <doctest/doctest.h>

#include <boost/random/exponential_distribution.hpp>
#include <boost/random/uniform_real_distribution.hpp>
#include <cmath>

using namespace spinesim;

TEST_CASE("Philox4x32-10 matches the Random123 known-answer vectors") {
  // Vectors from Random123's kat_vectors (philox4x32_10).
  CHECK(philox4x32({0, 0, 0, 0}, {0, 0}) ==
        std::array<std::uint32_t, 4>{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8});
  CHECK(philox4x32({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff}) ==
        std::array<std::uint32_t, 4>{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd});
  CHECK(philox4x32({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0}) ==
        std::array<std::uint32_t, 4>{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1});
}

TEST_CASE("philox4x32_lanes computes each lane's block as philox4x32 does") {
  std::array<std::array<std::uint32_t, 4>, 3> lanes = {{{0, 0, 0, 0},
                                                        {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
                                                        {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}}};
  const auto inputs = lanes;
  const std::array<std::uint32_t, 2> key = {0xa4093822, 0x299f31d0};
  philox4x32_lanes(lanes, key);
  for (std::size_t i = 0; i < lanes.size(); ++i) CHECK(lanes[i] == philox4x32(inputs[i], key));
  // The CounterRng counter and key reproduce its blocks.
  CounterRng rng({7, 3, 11, Purpose::kWellMixed});
  std::array<std::array<std::uint32_t, 4>, 1> one = {rng.counter()};
  philox4x32_lanes(one, rng.key());
  CHECK(one[0] == rng.next_block());
}

TEST_CASE("streams are pure functions of (seed, entity, step, purpose)") {
  CounterRng a({42, 7, 1000, Purpose::kDiffusion}), b({42, 7, 1000, Purpose::kDiffusion});
  for (int i = 0; i < 10; ++i) CHECK(a() == b());
  CounterRng c({42, 7, 1000, Purpose::kPlacement}), d({42, 8, 1000, Purpose::kDiffusion}),
      e({42, 7, 1001, Purpose::kDiffusion}), f({43, 7, 1000, Purpose::kDiffusion});
  CounterRng ref({42, 7, 1000, Purpose::kDiffusion});
  const auto r = ref();
  CHECK(c() != r);
  CHECK(d() != r);
  CHECK(e() != r);
  CHECK(f() != r);
}

TEST_CASE("Boost.Random distributions draw from a CounterRng" * doctest::test_suite("stat")) {
  // Stochastic test. Exponential(rate 2) has mean 0.5 and SD 0.5; with n = 200000
  // draws (seed 1) the SE of the mean is 0.5/sqrt(n) = 0.00112: tolerance 4 SE.
  CounterRng rng({1, 0, 0, Purpose::kTest});
  boost::random::exponential_distribution<double> expo(2.0);
  const int n = 200000;
  double sum = 0;
  for (int i = 0; i < n; ++i) sum += expo(rng);
  CHECK(std::fabs(sum / n - 0.5) < 4 * 0.5 / std::sqrt(double(n)));
}

TEST_CASE("Box-Muller normals have mean 0 and variance 1" * doctest::test_suite("stat")) {
  // Stochastic test. n = 10^6 normals (seed 3): SE(mean) = 1/sqrt(n) = 0.001,
  // SE(variance) = sqrt(2/n) = 0.0014, fourth moment 3 with SE sqrt(96/n) = 0.0098. Tolerance 4 SE each.
  const int pairs = 500000;
  double s1 = 0, s2 = 0, s4 = 0;
  for (int i = 0; i < pairs; ++i) {
    CounterRng rng({3, static_cast<std::uint32_t>(i), 0, Purpose::kTest});
    double a, b;
    box_muller(rng(), rng(), a, b);
    for (double x : {a, b}) {
      s1 += x;
      s2 += x * x;
      s4 += x * x * x * x;
    }
  }
  const double n = 2.0 * pairs;
  CHECK(std::fabs(s1 / n) < 4 / std::sqrt(n));
  CHECK(std::fabs(s2 / n - 1) < 4 * std::sqrt(2 / n));
  CHECK(std::fabs(s4 / n - 3) < 4 * std::sqrt(96 / n));
}
