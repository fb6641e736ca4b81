#include "engine/event_queue.h"

#include <cassert>
#include <stdexcept>

namespace spinesim {

EventHandle EventQueue::push(double time_s, EventPayload payload) {
  EventHandle h;
  if (!free_.empty()) {
    h = free_.back();
    free_.pop_back();
  } else {
    h = static_cast<EventHandle>(slots_.size());
    slots_.emplace_back();
  }
  slots_[h] = Slot{time_s, next_sequence_++, payload, kNotInHeap};
  heap_.push_back(h);
  slots_[h].heap_pos = static_cast<std::uint32_t>(heap_.size() - 1);
  sift_up(slots_[h].heap_pos);
  return h;
}

void EventQueue::reschedule(EventHandle h, double time_s) {
  assert(pending(h));
  const double old = slots_[h].time;
  slots_[h].time = time_s;
  if (time_s < old)
    sift_up(slots_[h].heap_pos);
  else
    sift_down(slots_[h].heap_pos);
}

void EventQueue::cancel(EventHandle h) {
  assert(pending(h));
  remove_at(slots_[h].heap_pos);
  free_.push_back(h);
}

EventHandle EventQueue::pop() {
  assert(!heap_.empty());
  const EventHandle h = heap_[0];
  remove_at(0);
  free_.push_back(h);
  return h;
}

void EventQueue::import_state(State state) {
  const std::size_t n = state.slots.size();
  std::vector<std::uint8_t> seen(n, 0);
  for (std::size_t pos = 0; pos < state.heap.size(); ++pos) {
    const EventHandle h = state.heap[pos];
    if (h >= n || seen[h] || state.slots[h].heap_pos != pos)
      throw std::invalid_argument("event queue state: inconsistent heap entry");
    seen[h] = 1;
  }
  for (const EventHandle h : state.free) {
    if (h >= n || seen[h]) throw std::invalid_argument("event queue state: inconsistent free list");
    seen[h] = 1;
  }
  for (std::size_t h = 0; h < n; ++h) {
    if (!seen[h]) throw std::invalid_argument("event queue state: a slot is neither pending nor free");
    if (state.slots[h].heap_pos != kNotInHeap && state.slots[h].heap_pos >= state.heap.size())
      throw std::invalid_argument("event queue state: slot points outside the heap");
  }
  for (std::size_t pos = 1; pos < state.heap.size(); ++pos) {
    const Slot &c = state.slots[state.heap[pos]], &p = state.slots[state.heap[(pos - 1) / 2]];
    if (c.time < p.time || (c.time == p.time && c.sequence < p.sequence))
      throw std::invalid_argument("event queue state: heap order violated");
  }
  slots_ = std::move(state.slots);
  heap_ = std::move(state.heap);
  free_ = std::move(state.free);
  next_sequence_ = state.next_sequence;
}

void EventQueue::remove_at(std::uint32_t pos) {
  const EventHandle removed = heap_[pos];
  const EventHandle last = heap_.back();
  heap_.pop_back();
  slots_[removed].heap_pos = kNotInHeap;
  if (pos < heap_.size()) {
    place(pos, last);
    sift_up(pos);
    sift_down(slots_[last].heap_pos);
  }
}

void EventQueue::sift_up(std::uint32_t pos) {
  const EventHandle h = heap_[pos];
  while (pos > 0) {
    const std::uint32_t parent = (pos - 1) / 2;
    if (!before(h, heap_[parent])) break;
    place(pos, heap_[parent]);
    pos = parent;
  }
  place(pos, h);
}

void EventQueue::sift_down(std::uint32_t pos) {
  const EventHandle h = heap_[pos];
  const auto n = static_cast<std::uint32_t>(heap_.size());
  while (true) {
    std::uint32_t child = 2 * pos + 1;
    if (child >= n) break;
    if (child + 1 < n && before(heap_[child + 1], heap_[child])) ++child;
    if (!before(heap_[child], h)) break;
    place(pos, heap_[child]);
    pos = child;
  }
  place(pos, h);
}

}  // namespace spinesim
