// ByteReader: the one way decoders read wire bytes.
//
// A cursor over a borrowed byte range that reads big-endian integers and
// sub-ranges and can never read past its end: every read checks the bytes
// left first and, when there are too few, returns false / an empty optional
// and leaves the cursor where it was. Decoders never index raw pointers with
// lengths taken from the wire; they carve sub-readers (Sub) sized by a length
// field only after checking that the length fits.
//
// Thread-safety: value type.

#ifndef FLOWACCT_LIBFLOWACCT_COMMON_BYTE_READER_H_
#define FLOWACCT_LIBFLOWACCT_COMMON_BYTE_READER_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>

namespace flowacct::internal {

// Big-endian loads from a pointer the caller has bounds-checked.
inline uint16_t LoadBe16(const uint8_t* p) {
  return static_cast<uint16_t>((uint16_t{p[0]} << 8) | p[1]);
}
inline uint32_t LoadBe24(const uint8_t* p) {
  return (uint32_t{p[0]} << 16) | (uint32_t{p[1]} << 8) | p[2];
}
inline uint32_t LoadBe32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
         (uint32_t{p[2]} << 8) | p[3];
}
inline uint64_t LoadBe64(const uint8_t* p) {
  return (uint64_t{LoadBe32(p)} << 32) | LoadBe32(p + 4);
}
// An unsigned big-endian integer of 1..8 bytes (RFC 7011 §6.2 reduced-size
// encoding). REQUIRES: 1 <= n <= 8.
inline uint64_t LoadBeN(const uint8_t* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

class ByteReader {
 public:
  ByteReader() = default;
  explicit ByteReader(std::span<const uint8_t> bytes)
      : p_(bytes.data()), end_(bytes.data() + bytes.size()) {}
  ByteReader(const uint8_t* p, size_t n) : p_(p), end_(p + n) {}

  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  bool empty() const { return p_ == end_; }
  const uint8_t* data() const { return p_; }
  std::span<const uint8_t> rest() const { return {p_, remaining()}; }

  bool Skip(size_t n) {
    if (n > remaining()) return false;
    p_ += n;
    return true;
  }
  bool ReadU8(uint8_t* v) {
    if (remaining() < 1) return false;
    *v = *p_++;
    return true;
  }
  bool ReadU16(uint16_t* v) {
    if (remaining() < 2) return false;
    *v = LoadBe16(p_);
    p_ += 2;
    return true;
  }
  bool ReadU32(uint32_t* v) {
    if (remaining() < 4) return false;
    *v = LoadBe32(p_);
    p_ += 4;
    return true;
  }
  bool ReadU64(uint64_t* v) {
    if (remaining() < 8) return false;
    *v = LoadBe64(p_);
    p_ += 8;
    return true;
  }
  // Points *out at the next n bytes and skips them.
  bool ReadBytes(size_t n, std::span<const uint8_t>* out) {
    if (n > remaining()) return false;
    *out = {p_, n};
    p_ += n;
    return true;
  }
  // A reader over the next n bytes; this reader skips them.
  bool Sub(size_t n, ByteReader* out) {
    if (n > remaining()) return false;
    *out = ByteReader(p_, n);
    p_ += n;
    return true;
  }
  // Peeks without consuming.
  bool PeekU16(uint16_t* v) const {
    if (remaining() < 2) return false;
    *v = LoadBe16(p_);
    return true;
  }

 private:
  const uint8_t* p_ = nullptr;
  const uint8_t* end_ = nullptr;
};

}  // namespace flowacct::internal

#endif  // FLOWACCT_LIBFLOWACCT_COMMON_BYTE_READER_H_
