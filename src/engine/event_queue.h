// The one clock of a run: an indexed binary min-heap of discrete events.
// Every event has a stable handle so its time can be changed or the event
// cancelled in O(log n) — the next-reaction method (Gibson & Bruck 2000) needs
// exactly this when a rate changes. Ties are broken by insertion sequence, so the
// firing order never depends on heap layout or threads.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

namespace spinesim {

using EventHandle = std::uint32_t;
inline constexpr EventHandle kNoEvent = std::numeric_limits<EventHandle>::max();

/// What an event does is interpreted by the scheduler; the queue only orders them.
struct EventPayload {
  std::uint32_t kind = 0;    ///< scheduler-defined event kind
  std::uint64_t target = 0;  ///< e.g. index of a release or an output
};

class EventQueue {
 public:
  /// Adds an event at `time_s`; returns its handle (valid until popped or cancelled).
  EventHandle push(double time_s, EventPayload payload);
  /// Moves a pending event to a new time.
  void reschedule(EventHandle h, double time_s);
  /// Removes a pending event; its handle becomes free for reuse.
  void cancel(EventHandle h);
  bool empty() const { return heap_.empty(); }
  std::size_t size() const { return heap_.size(); }
  /// Time of the earliest event, +inf when empty.
  double next_time() const { return heap_.empty() ? std::numeric_limits<double>::infinity() : slots_[heap_[0]].time; }
  EventHandle top() const { return heap_[0]; }
  const EventPayload& payload(EventHandle h) const { return slots_[h].payload; }
  /// Re-points a pending event at another target (e.g. after molecules were renumbered).
  void set_target(EventHandle h, std::uint64_t target) { slots_[h].payload.target = target; }
  double time(EventHandle h) const { return slots_[h].time; }
  bool pending(EventHandle h) const { return h < slots_.size() && slots_[h].heap_pos != kNotInHeap; }
  /// Removes and returns the earliest event's handle; the payload stays readable
  /// until the next push.
  EventHandle pop();

  static constexpr std::uint32_t kNotInHeap = std::numeric_limits<std::uint32_t>::max();
  struct Slot {
    double time = 0;
    std::uint64_t sequence = 0;
    EventPayload payload;
    std::uint32_t heap_pos = kNotInHeap;
  };
  /// The complete queue: every slot (pending or free, with its sequence number), the
  /// heap layout, the free list and the next sequence number. Restoring it gives the
  /// same handles, the same tie order and the same handle reuse as the original.
  struct State {
    std::vector<Slot> slots;
    std::vector<EventHandle> heap;
    std::vector<EventHandle> free;
    std::uint64_t next_sequence = 0;
  };
  State export_state() const { return {slots_, heap_, free_, next_sequence_}; }
  /// Replaces the queue by `state`; throws std::invalid_argument if it is inconsistent
  /// (a heap entry out of range or not pointing back at its position).
  void import_state(State state);

 private:
  bool before(EventHandle a, EventHandle b) const {
    const Slot &sa = slots_[a], &sb = slots_[b];
    return sa.time < sb.time || (sa.time == sb.time && sa.sequence < sb.sequence);
  }
  void place(std::uint32_t pos, EventHandle h) {
    heap_[pos] = h;
    slots_[h].heap_pos = pos;
  }
  void sift_up(std::uint32_t pos);
  void sift_down(std::uint32_t pos);
  void remove_at(std::uint32_t pos);

  std::vector<Slot> slots_;
  std::vector<EventHandle> heap_;
  std::vector<EventHandle> free_;
  std::uint64_t next_sequence_ = 0;
};

}  // namespace spinesim
