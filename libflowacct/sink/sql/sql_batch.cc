#include "libflowacct/sink/sql/sql_batch.h"

namespace flowacct::internal {
namespace {

constexpr std::string_view kMagic = "FSB1";

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void PutText(std::string_view s, std::string* out) {
  PutVarint(s.size(), out);
  out->append(s);
}

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool Varint(uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (in_.empty()) return false;
      const auto b = static_cast<uint8_t>(in_.front());
      in_.remove_prefix(1);
      *v |= uint64_t{b & 0x7Fu} << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }
  bool Text(std::string* s) {
    uint64_t n = 0;
    if (!Varint(&n) || n > in_.size()) return false;
    s->assign(in_.substr(0, n));
    in_.remove_prefix(n);
    return true;
  }
  bool Byte(uint8_t* b) {
    if (in_.empty()) return false;
    *b = static_cast<uint8_t>(in_.front());
    in_.remove_prefix(1);
    return true;
  }
  bool Prefix(std::string_view p) {
    if (!in_.starts_with(p)) return false;
    in_.remove_prefix(p.size());
    return true;
  }
  bool done() const { return in_.empty(); }
  size_t left() const { return in_.size(); }

 private:
  std::string_view in_;
};

}  // namespace

void SqlBatch::Encode(std::string* out) const {
  out->append(kMagic);
  PutVarint(columns.size(), out);
  for (const SqlColumn& c : columns) {
    out->push_back(static_cast<char>(c.role));
    PutText(c.name, out);
  }
  PutVarint(rows.size(), out);
  for (const std::vector<SqlValue>& row : rows) {
    for (const SqlValue& v : row) {
      switch (v.type) {
        case SqlValue::Type::kNull:
          out->push_back(0);
          break;
        case SqlValue::Type::kInt:
          out->push_back(1);
          PutVarint((static_cast<uint64_t>(v.i) << 1) ^
                        static_cast<uint64_t>(v.i >> 63),
                    out);
          break;
        case SqlValue::Type::kText:
          out->push_back(2);
          PutText(v.text, out);
          break;
      }
    }
  }
}

Result<SqlBatch> SqlBatch::Decode(std::string_view bytes) {
  Reader r(bytes);
  auto bad = [] { return InvalidArgumentError("malformed SQL batch"); };
  if (!r.Prefix(kMagic)) return bad();
  SqlBatch batch;
  uint64_t ncols = 0;
  if (!r.Varint(&ncols) || ncols == 0 || ncols > 1024) return bad();
  for (uint64_t i = 0; i < ncols; ++i) {
    SqlColumn c;
    uint8_t role = 0;
    if (!r.Byte(&role) || role > 3 || !r.Text(&c.name)) return bad();
    c.role = static_cast<SqlColumnRole>(role);
    batch.columns.push_back(std::move(c));
  }
  uint64_t nrows = 0;
  // Every cell takes at least one byte.
  if (!r.Varint(&nrows) || nrows * ncols > r.left()) return bad();
  batch.rows.resize(nrows);
  for (std::vector<SqlValue>& row : batch.rows) {
    row.resize(ncols);
    for (SqlValue& v : row) {
      uint8_t type = 0;
      if (!r.Byte(&type)) return bad();
      if (type == 0) {
        v = SqlValue::Null();
      } else if (type == 1) {
        uint64_t z = 0;
        if (!r.Varint(&z)) return bad();
        v = SqlValue::Int(static_cast<int64_t>((z >> 1) ^ (~(z & 1) + 1)));
      } else if (type == 2) {
        v.type = SqlValue::Type::kText;
        if (!r.Text(&v.text)) return bad();
      } else {
        return bad();
      }
    }
  }
  if (!r.done()) return bad();
  return batch;
}

}  // namespace flowacct::internal
