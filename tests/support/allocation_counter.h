// Counting heap allocations in tests (the "allocates nothing in steady
// state" checks). Linking a test binary that calls AllocationCount() pulls in
// allocation_counter.cc, which replaces the global operator new / delete of
// that binary with counting versions over malloc/free.
//
// Sanitizers bring their own operator new: under AddressSanitizer nothing is
// replaced, kCountingAllocations is false and AllocationCount() stays 0, so
// the tests skip their checks (the release and clang builds run them).
//
//   if (!testing::kCountingAllocations) { WARN("skipped under ASan"); return; }
//   const uint64_t before = testing::AllocationCount();
//   ... steady-state work ...
//   CHECK(testing::AllocationCount() - before == 0);
//
// Thread-safety: the counter is atomic.

#ifndef FLOWACCT_TESTS_SUPPORT_ALLOCATION_COUNTER_H_
#define FLOWACCT_TESTS_SUPPORT_ALLOCATION_COUNTER_H_

#include <cstdint>

#if defined(__SANITIZE_ADDRESS__)
#define FLOWACCT_COUNT_ALLOCATIONS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FLOWACCT_COUNT_ALLOCATIONS 0
#endif
#endif
#ifndef FLOWACCT_COUNT_ALLOCATIONS
#define FLOWACCT_COUNT_ALLOCATIONS 1
#endif

namespace flowacct::testing {

inline constexpr bool kCountingAllocations = FLOWACCT_COUNT_ALLOCATIONS != 0;

// operator new / new[] calls so far in this process.
uint64_t AllocationCount();

}  // namespace flowacct::testing

#endif  // FLOWACCT_TESTS_SUPPORT_ALLOCATION_COUNTER_H_
