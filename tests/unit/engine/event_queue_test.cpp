// The indexed event queue: ordering, stable ties, rescheduling and cancellation.
#include "engine/event_queue.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <vector>

using namespace spinesim;

TEST_CASE("events pop in time order, ties in insertion order") {
  EventQueue q;
  q.push(3.0, {1, 0});
  q.push(1.0, {1, 1});
  q.push(2.0, {1, 2});
  q.push(1.0, {1, 3});
  std::vector<std::uint64_t> order;
  while (!q.empty()) order.push_back(q.payload(q.pop()).target);
  CHECK(order == std::vector<std::uint64_t>{1, 3, 2, 0});
}

TEST_CASE("reschedule and cancel keep the heap consistent") {
  EventQueue q;
  std::mt19937 gen(5);
  std::uniform_real_distribution<double> u(0, 100);
  std::vector<EventHandle> handles;
  std::vector<double> times;
  for (int i = 0; i < 1000; ++i) {
    times.push_back(u(gen));
    handles.push_back(q.push(times.back(), {0, static_cast<std::uint64_t>(i)}));
  }
  for (int i = 0; i < 1000; i += 3) {
    times[i] = u(gen);
    q.reschedule(handles[i], times[i]);
  }
  std::vector<bool> cancelled(1000, false);
  for (int i = 1; i < 1000; i += 7) {
    q.cancel(handles[i]);
    cancelled[i] = true;
    CHECK_FALSE(q.pending(handles[i]));
  }
  double last = -1;
  std::size_t popped = 0;
  while (!q.empty()) {
    const EventHandle h = q.pop();
    const auto i = q.payload(h).target;
    CHECK_FALSE(cancelled[i]);
    CHECK(q.time(h) == times[i]);
    CHECK(q.time(h) >= last);
    last = q.time(h);
    ++popped;
  }
  CHECK(popped == static_cast<std::size_t>(std::count(cancelled.begin(), cancelled.end(), false)));
  CHECK(q.next_time() == std::numeric_limits<double>::infinity());
}
