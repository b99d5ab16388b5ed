// Private helpers for the BGP codec: a bounds-checked big-endian reader and
// writer helpers. Not part of the public API.
//
// Thread-safety: value types.

#ifndef FLOWACCT_LIBFLOWACCT_BGP_WIRE_H_
#define FLOWACCT_LIBFLOWACCT_BGP_WIRE_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "flowacct/bgp/path_attributes.h"

namespace flowacct::bgp::wire {

// Reads big-endian integers from a span; every read is bounds-checked and a
// failed read leaves the reader unchanged.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> data) : data_(data) {}

  size_t remaining() const { return data_.size() - pos_; }
  size_t position() const { return pos_; }
  bool empty() const { return remaining() == 0; }
  const uint8_t* current() const { return data_.data() + pos_; }

  bool U8(uint8_t* v) {
    if (remaining() < 1) return false;
    *v = data_[pos_++];
    return true;
  }
  bool U16(uint16_t* v) {
    if (remaining() < 2) return false;
    *v = static_cast<uint16_t>((data_[pos_] << 8) | data_[pos_ + 1]);
    pos_ += 2;
    return true;
  }
  bool U24(uint32_t* v) {
    if (remaining() < 3) return false;
    *v = (uint32_t{data_[pos_]} << 16) | (uint32_t{data_[pos_ + 1]} << 8) |
         data_[pos_ + 2];
    pos_ += 3;
    return true;
  }
  bool U32(uint32_t* v) {
    if (remaining() < 4) return false;
    *v = (uint32_t{data_[pos_]} << 24) | (uint32_t{data_[pos_ + 1]} << 16) |
         (uint32_t{data_[pos_ + 2]} << 8) | data_[pos_ + 3];
    pos_ += 4;
    return true;
  }
  bool U64(uint64_t* v) {
    uint32_t hi = 0, lo = 0;
    if (remaining() < 8) return false;
    (void)U32(&hi);
    (void)U32(&lo);
    *v = (uint64_t{hi} << 32) | lo;
    return true;
  }
  bool Take(size_t n, std::span<const uint8_t>* out) {
    if (remaining() < n) return false;
    *out = data_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  bool Skip(size_t n) {
    if (remaining() < n) return false;
    pos_ += n;
    return true;
  }
  std::span<const uint8_t> Rest() const { return data_.subspan(pos_); }

 private:
  std::span<const uint8_t> data_;
  size_t pos_ = 0;
};

inline uint16_t LoadU16(const uint8_t* p) {
  return static_cast<uint16_t>((p[0] << 8) | p[1]);
}
inline uint32_t LoadU32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
         (uint32_t{p[2]} << 8) | p[3];
}

inline void PutU8(std::vector<uint8_t>* out, uint32_t v) {
  out->push_back(static_cast<uint8_t>(v));
}
inline void PutU16(std::vector<uint8_t>* out, uint32_t v) {
  out->push_back(static_cast<uint8_t>(v >> 8));
  out->push_back(static_cast<uint8_t>(v));
}
inline void PutU24(std::vector<uint8_t>* out, uint32_t v) {
  out->push_back(static_cast<uint8_t>(v >> 16));
  PutU16(out, v);
}
inline void PutU32(std::vector<uint8_t>* out, uint32_t v) {
  PutU16(out, v >> 16);
  PutU16(out, v);
}
inline void PutU64(std::vector<uint8_t>* out, uint64_t v) {
  PutU32(out, static_cast<uint32_t>(v >> 32));
  PutU32(out, static_cast<uint32_t>(v));
}
inline void PatchU16(std::vector<uint8_t>* out, size_t at, uint32_t v) {
  (*out)[at] = static_cast<uint8_t>(v >> 8);
  (*out)[at + 1] = static_cast<uint8_t>(v);
}

// Appends a BGP header (marker, length placeholder, type) and returns the
// offset of the message start; FinishMessage() patches the length.
inline size_t BeginMessage(std::vector<uint8_t>* out, uint8_t type) {
  size_t start = out->size();
  out->insert(out->end(), 16, 0xff);
  PutU16(out, 0);
  PutU8(out, type);
  return start;
}
inline void FinishMessage(std::vector<uint8_t>* out, size_t start) {
  PatchU16(out, start + 16, static_cast<uint32_t>(out->size() - start));
}

// Address family helpers shared by the parsers and encoders.
// Returns true and sets *f when (afi, safi) is a family this codec decodes.
inline bool ToFamily(uint16_t afi, uint8_t safi, Family* f) {
  if (afi != 1 && afi != 2) return false;
  if (safi != 1 && safi != 2 && safi != 4 && safi != 128) return false;
  f->afi = static_cast<Afi>(afi);
  f->safi = static_cast<Safi>(safi);
  return true;
}

}  // namespace flowacct::bgp::wire

#endif  // FLOWACCT_LIBFLOWACCT_BGP_WIRE_H_
