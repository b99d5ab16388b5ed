#include "libflowacct/decode/sequence_tracker.h"

#include <catch2/catch.hpp>

namespace flowacct::internal {
namespace {

using Outcome = SequenceTracker::Outcome;

TEST_CASE("SequenceTracker counts gaps, reordering and resets") {
  SequenceTracker t;
  SequenceStats s;
  SequenceKey k{IpAddress::V4(0xc0000201), ExportProtocol::kNetflowV9, 7, 0};
  SequenceTracker::Limits lim;
  CHECK(t.Observe(k, 100, 1, lim, &s) == Outcome::kFirst);
  CHECK(t.Observe(k, 101, 1, lim, &s) == Outcome::kInOrder);
  CHECK(t.Observe(k, 105, 1, lim, &s) == Outcome::kGap);
  CHECK(s.lost == 3);
  // 103 arrives late: it was counted lost, now it is not.
  CHECK(t.Observe(k, 103, 1, lim, &s) == Outcome::kReordered);
  CHECK(s.lost == 2);
  CHECK(s.reordered == 1);
  // Exporter restart: far backwards, no loss counted.
  CHECK(t.Observe(k, 3, 1, lim, &s) == Outcome::kReset);
  CHECK(s.resets == 1);
  CHECK(s.lost == 2);
  CHECK(t.Observe(k, 4, 1, lim, &s) == Outcome::kInOrder);
  // Jump by 2^31: a reset, not 2^31 lost (N5-6).
  CHECK(t.Observe(k, 4u + (1u << 31), 1, lim, &s) == Outcome::kReset);
  CHECK(s.lost == 2);
}

TEST_CASE("SequenceTracker wraps modulo 2^32") {
  SequenceTracker t;
  SequenceStats s;
  SequenceKey k{IpAddress::V4(1), ExportProtocol::kIpfix, 0, 0};
  SequenceTracker::Limits lim;
  CHECK(t.Observe(k, 0xFFFFFFF0u, 0x10, lim, &s) == Outcome::kFirst);
  CHECK(t.Observe(k, 0, 5, lim, &s) == Outcome::kInOrder);
  CHECK(t.Observe(k, 7, 1, lim, &s) == Outcome::kGap);
  CHECK(s.lost == 2);
}

TEST_CASE("SequenceTracker resynchronises after Desync") {
  SequenceTracker t;
  SequenceStats s;
  SequenceKey k{IpAddress::V4(1), ExportProtocol::kIpfix, 0, 0};
  SequenceTracker::Limits lim;
  (void)t.Observe(k, 10, 5, lim, &s);
  t.Desync(k);
  CHECK(t.Observe(k, 40, 5, lim, &s) == Outcome::kFirst);
  CHECK(s.lost == 0);
}

}  // namespace
}  // namespace flowacct::internal
