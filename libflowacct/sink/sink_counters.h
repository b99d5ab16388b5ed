// The counters behind Sink::stats(), shared by the built-in sinks.
//
// Thread-safety: Written/Failed from the sink thread, Get from any thread.

#ifndef FLOWACCT_LIBFLOWACCT_SINK_SINK_COUNTERS_H_
#define FLOWACCT_LIBFLOWACCT_SINK_SINK_COUNTERS_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "flowacct/sink/sink.h"

namespace flowacct::internal {

class SinkCounters {
 public:
  // One snapshot of `rows` rows written.
  void Written(size_t rows) {
    snapshots_.fetch_add(1, std::memory_order_relaxed);
    rows_.fetch_add(rows, std::memory_order_relaxed);
  }
  // One snapshot of `rows` rows not (wholly) written.
  void Failed(size_t rows) {
    failed_snapshots_.fetch_add(1, std::memory_order_relaxed);
    failed_rows_.fetch_add(rows, std::memory_order_relaxed);
  }
  SinkStats Get() const {
    SinkStats s;
    s.snapshots = snapshots_.load(std::memory_order_relaxed);
    s.rows = rows_.load(std::memory_order_relaxed);
    s.failed_snapshots = failed_snapshots_.load(std::memory_order_relaxed);
    s.failed_rows = failed_rows_.load(std::memory_order_relaxed);
    return s;
  }

 private:
  std::atomic<uint64_t> snapshots_{0};
  std::atomic<uint64_t> rows_{0};
  std::atomic<uint64_t> failed_snapshots_{0};
  std::atomic<uint64_t> failed_rows_{0};
};

}  // namespace flowacct::internal

#endif  // FLOWACCT_LIBFLOWACCT_SINK_SINK_COUNTERS_H_
