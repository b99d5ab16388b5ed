// A bounded multi-producer multi-consumer queue for the pipeline's hand-overs
// (datagram batches to workers, snapshots to sink threads). Items are whole
// batches, so a mutex per hand-over costs little.
//
// Thread-safety: every method may be called from any thread.

#ifndef FLOWACCT_LIBFLOWACCT_PIPELINE_BOUNDED_QUEUE_H_
#define FLOWACCT_LIBFLOWACCT_PIPELINE_BOUNDED_QUEUE_H_

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <utility>

namespace flowacct::internal {

template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(size_t capacity) : capacity_(capacity) {}

  // Adds `item` unless the queue holds `capacity` items; false then (the
  // item is left untouched).
  bool TryPush(T& item) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (items_.size() >= capacity_) return false;
      items_.push_back(std::move(item));
    }
    not_empty_.notify_one();
    return true;
  }

  // Like TryPush, but first offers `item` to the last queued item:
  // `merge(back, item)` may fold item into back (under the queue's lock, so
  // back is not being consumed) and return true; then item is left for the
  // caller to recycle. Keeps queued items full when producers hand over
  // small pieces, so the bound counts real work.
  template <typename Merge>
  bool TryPushOrMerge(T& item, Merge&& merge) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!items_.empty() && merge(items_.back(), item)) return true;
      if (items_.size() >= capacity_) return false;
      items_.push_back(std::move(item));
    }
    not_empty_.notify_one();
    return true;
  }

  // Waits for room, then adds `item`.
  void Push(T item) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      not_full_.wait(lock, [&] { return items_.size() < capacity_; });
      items_.push_back(std::move(item));
    }
    not_empty_.notify_one();
  }

  // Adds `item` whatever the bound (control messages that must not be lost:
  // flush commands, end markers; they are few).
  void ForcePush(T item) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      items_.push_back(std::move(item));
    }
    not_empty_.notify_one();
  }

  // Waits for an item and removes it.
  T Pop() {
    T item;
    {
      std::unique_lock<std::mutex> lock(mu_);
      not_empty_.wait(lock, [&] { return !items_.empty(); });
      item = std::move(items_.front());
      items_.pop_front();
    }
    not_full_.notify_one();
    return item;
  }

  size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return items_.size();
  }

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::deque<T> items_;
};

}  // namespace flowacct::internal

#endif  // FLOWACCT_LIBFLOWACCT_PIPELINE_BOUNDED_QUEUE_H_
