// BytesBuilder: builds wire messages for tests and benchmarks, big-endian,
// with back-patching of length fields. Protocol builders (ipfix_builder.h,
// sflow_builder.h, ...) are written on top of it.
//
//   BytesBuilder b;
//   b.U16(10);                    // IPFIX version
//   size_t len_at = b.Mark();
//   b.U16(0);                     // length, patched below
//   ...
//   b.PatchU16(len_at, b.size());

#ifndef FLOWACCT_TESTS_SUPPORT_BYTES_BUILDER_H_
#define FLOWACCT_TESTS_SUPPORT_BYTES_BUILDER_H_

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>
#include <vector>

namespace flowacct::testing {

class BytesBuilder {
 public:
  BytesBuilder& U8(uint64_t v) { return N(v, 1); }
  BytesBuilder& U16(uint64_t v) { return N(v, 2); }
  BytesBuilder& U24(uint64_t v) { return N(v, 3); }
  BytesBuilder& U32(uint64_t v) { return N(v, 4); }
  BytesBuilder& U64(uint64_t v) { return N(v, 8); }
  // An unsigned integer in n big-endian bytes (n <= 8).
  BytesBuilder& N(uint64_t v, size_t n) {
    for (size_t i = n; i-- > 0;) bytes_.push_back(uint8_t(v >> (8 * i)));
    return *this;
  }
  BytesBuilder& Bytes(std::span<const uint8_t> b) {
    bytes_.insert(bytes_.end(), b.begin(), b.end());
    return *this;
  }
  BytesBuilder& Bytes(std::initializer_list<uint8_t> b) {
    bytes_.insert(bytes_.end(), b.begin(), b.end());
    return *this;
  }
  BytesBuilder& Str(std::string_view s) {
    bytes_.insert(bytes_.end(), s.begin(), s.end());
    return *this;
  }
  BytesBuilder& Zeros(size_t n) {
    bytes_.insert(bytes_.end(), n, 0);
    return *this;
  }
  // IPv4 a.b.c.d.
  BytesBuilder& Ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return Bytes({a, b, c, d});
  }

  size_t Mark() const { return bytes_.size(); }
  size_t size() const { return bytes_.size(); }
  void PatchU16(size_t at, uint64_t v) {
    bytes_[at] = uint8_t(v >> 8);
    bytes_[at + 1] = uint8_t(v);
  }
  void PatchU32(size_t at, uint64_t v) {
    for (size_t i = 0; i < 4; ++i) bytes_[at + i] = uint8_t(v >> (24 - 8 * i));
  }

  const std::vector<uint8_t>& bytes() const { return bytes_; }
  std::vector<uint8_t> Take() { return std::move(bytes_); }

 private:
  std::vector<uint8_t> bytes_;
};

}  // namespace flowacct::testing

#endif  // FLOWACCT_TESTS_SUPPORT_BYTES_BUILDER_H_
