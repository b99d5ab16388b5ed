// UpdateBuilder: encodes UPDATE messages (RFC 4271 §4.3, RFC 4760,
// RFC 7911, RFC 8277, RFC 4364, RFC 6793) for tests, benchmarks and tools.

#include <algorithm>
#include <cstdint>

#include "flowacct/bgp/message.h"

#include "libflowacct/bgp/wire.h"

namespace flowacct::bgp {
namespace {

constexpr uint8_t kOptional = 0x80;
constexpr uint8_t kTransitive = 0x40;
constexpr uint8_t kExtendedLength = 0x10;

void PutAttribute(std::vector<uint8_t>* out, uint8_t flags, uint8_t type,
                  const std::vector<uint8_t>& value) {
  flags &= static_cast<uint8_t>(~kExtendedLength);
  if (value.size() > 255) flags |= kExtendedLength;
  wire::PutU8(out, flags);
  wire::PutU8(out, type);
  if (flags & kExtendedLength) {
    wire::PutU16(out, static_cast<uint32_t>(value.size()));
  } else {
    wire::PutU8(out, static_cast<uint32_t>(value.size()));
  }
  out->insert(out->end(), value.begin(), value.end());
}

bool IsConfed(AsSegmentType t) {
  return t == AsSegmentType::kConfedSequence || t == AsSegmentType::kConfedSet;
}

// Encodes segments with `as_size`-octet ASNs (ASNs above 65535 written as
// AS_TRANS when as_size is 2), splitting sequences longer than 255.
Status EncodeAsPath(const std::vector<AsPathSegment>& path, size_t as_size,
                    bool skip_confed, std::vector<uint8_t>* v) {
  for (const AsPathSegment& s : path) {
    if (skip_confed && IsConfed(s.type)) continue;
    if (s.asns.empty()) return InvalidArgumentError("empty AS_PATH segment");
    if (s.asns.size() > 255 && (s.type == AsSegmentType::kSet ||
                                s.type == AsSegmentType::kConfedSet)) {
      return InvalidArgumentError("AS_SET longer than 255");
    }
    for (size_t i = 0; i < s.asns.size(); i += 255) {
      const size_t n = std::min<size_t>(255, s.asns.size() - i);
      wire::PutU8(v, static_cast<uint8_t>(s.type));
      wire::PutU8(v, static_cast<uint32_t>(n));
      for (size_t k = i; k < i + n; ++k) {
        const uint32_t as = s.asns[k];
        if (as_size == 4) {
          wire::PutU32(v, as);
        } else {
          wire::PutU16(v, as > 0xffff ? kAsTrans : as);
        }
      }
    }
  }
  return Status::Ok();
}

void PutNlri(const Nlri& n, bool add_path, bool withdraw,
             std::vector<uint8_t>* out) {
  const Family f = n.key.family;
  if (add_path) wire::PutU32(out, n.key.path_id);
  const bool labeled =
      f.safi == Safi::kLabeledUnicast || f.safi == Safi::kMplsVpn;
  const bool vpn = f.safi == Safi::kMplsVpn;
  size_t bits = n.key.prefix.length;
  if (labeled) bits += 24;
  if (vpn) bits += 64;
  wire::PutU8(out, static_cast<uint32_t>(bits));
  if (labeled) {
    // RFC 8277 §2.4: withdrawals carry 0x800000 unless a label is given.
    uint32_t entry = 0x800000;
    if (n.mpls_label) entry = ((*n.mpls_label & 0xfffff) << 4) | 1;
    if (withdraw && !n.mpls_label) entry = 0x800000;
    wire::PutU24(out, entry);
  }
  if (vpn)
    out->insert(out->end(), n.key.rd.bytes.begin(), n.key.rd.bytes.end());
  const size_t nbytes = (size_t{n.key.prefix.length} + 7) / 8;
  out->insert(out->end(), n.key.prefix.address.data(),
              n.key.prefix.address.data() + nbytes);
}

bool SameFamily(std::span<const Nlri> list) {
  for (const Nlri& n : list) {
    if (n.key.family != list.front().key.family) return false;
  }
  return true;
}

}  // namespace

Result<std::vector<uint8_t>> UpdateBuilder::Build(
    const PathAttributes& a, std::span<const Nlri> announced,
    std::span<const Nlri> withdrawn) const {
  const bool four = params_.four_octet_as;
  const size_t as_size = four ? 4 : 2;

  // Which routes go in the classic fields.
  const bool classic_announce = !announced.empty() && SameFamily(announced) &&
                                announced.front().key.family == kIpv4Unicast &&
                                !a.next_hop.is_v6();
  if (!announced.empty() && !SameFamily(announced)) {
    return InvalidArgumentError("announced NLRI mix families");
  }
  std::vector<Nlri> classic_withdrawn, mp_withdrawn;
  for (const Nlri& n : withdrawn) {
    (n.key.family == kIpv4Unicast ? classic_withdrawn : mp_withdrawn)
        .push_back(n);
  }
  if (!mp_withdrawn.empty() && !SameFamily(mp_withdrawn)) {
    return InvalidArgumentError("withdrawn NLRI mix families");
  }

  std::vector<uint8_t> attrs;
  std::vector<uint8_t> v;
  if (a.origin) {
    PutAttribute(&attrs, kTransitive, 1, {static_cast<uint8_t>(*a.origin)});
  }
  bool needs_as4_path = false;
  if (!announced.empty() || !a.as_path.empty()) {
    v.clear();
    Status s = EncodeAsPath(a.as_path, as_size, false, &v);
    if (!s.ok()) return s;
    PutAttribute(&attrs, kTransitive, 2, v);
    if (!four) {
      for (const AsPathSegment& seg : a.as_path) {
        for (uint32_t as : seg.asns) {
          if (as > 0xffff && !IsConfed(seg.type)) needs_as4_path = true;
        }
      }
    }
  }
  if (classic_announce) {
    v.clear();
    if (a.next_hop.is_v4()) {
      v.assign(a.next_hop.data(), a.next_hop.data() + 4);
    } else {
      v.assign(4, 0);
    }
    PutAttribute(&attrs, kTransitive, 3, v);
  }
  if (a.med) {
    v.clear();
    wire::PutU32(&v, *a.med);
    PutAttribute(&attrs, kOptional, 4, v);
  }
  if (a.local_pref) {
    v.clear();
    wire::PutU32(&v, *a.local_pref);
    PutAttribute(&attrs, kTransitive, 5, v);
  }
  if (a.atomic_aggregate) PutAttribute(&attrs, kTransitive, 6, {});
  bool needs_as4_aggregator = false;
  if (a.aggregator_as) {
    v.clear();
    const uint32_t as = *a.aggregator_as;
    if (four) {
      wire::PutU32(&v, as);
    } else {
      wire::PutU16(&v, as > 0xffff ? kAsTrans : as);
      needs_as4_aggregator = as > 0xffff;
    }
    if (a.aggregator_address.is_v4()) {
      v.insert(v.end(), a.aggregator_address.data(),
               a.aggregator_address.data() + 4);
    } else {
      v.insert(v.end(), 4, 0);
    }
    PutAttribute(&attrs, kOptional | kTransitive, 7, v);
  }
  if (!a.communities.empty()) {
    v.clear();
    for (uint32_t c : a.communities) wire::PutU32(&v, c);
    PutAttribute(&attrs, kOptional | kTransitive, 8, v);
  }
  if (a.originator_id) {
    v.clear();
    wire::PutU32(&v, *a.originator_id);
    PutAttribute(&attrs, kOptional, 9, v);
  }
  if (!a.cluster_list.empty()) {
    v.clear();
    for (uint32_t c : a.cluster_list) wire::PutU32(&v, c);
    PutAttribute(&attrs, kOptional, 10, v);
  }
  if (!announced.empty() && !classic_announce) {
    const Family f = announced.front().key.family;
    v.clear();
    wire::PutU16(&v, static_cast<uint16_t>(f.afi));
    wire::PutU8(&v, static_cast<uint8_t>(f.safi));
    std::vector<uint8_t> nh;
    const size_t rd = f.safi == Safi::kMplsVpn ? 8 : 0;
    if (a.next_hop.is_v4()) {
      nh.insert(nh.end(), rd, 0);
      nh.insert(nh.end(), a.next_hop.data(), a.next_hop.data() + 4);
    } else {
      nh.insert(nh.end(), rd, 0);
      if (a.next_hop.is_v6()) {
        nh.insert(nh.end(), a.next_hop.data(), a.next_hop.data() + 16);
      } else {
        nh.insert(nh.end(), 16, 0);
      }
      if (a.next_hop_link_local.is_v6()) {
        nh.insert(nh.end(), rd, 0);
        nh.insert(nh.end(), a.next_hop_link_local.data(),
                  a.next_hop_link_local.data() + 16);
      }
    }
    wire::PutU8(&v, static_cast<uint32_t>(nh.size()));
    v.insert(v.end(), nh.begin(), nh.end());
    wire::PutU8(&v, 0);
    const bool ap = params_.HasAddPath(f);
    for (const Nlri& n : announced) PutNlri(n, ap, false, &v);
    PutAttribute(&attrs, kOptional, 14, v);
  }
  if (!mp_withdrawn.empty()) {
    const Family f = mp_withdrawn.front().key.family;
    v.clear();
    wire::PutU16(&v, static_cast<uint16_t>(f.afi));
    wire::PutU8(&v, static_cast<uint8_t>(f.safi));
    const bool ap = params_.HasAddPath(f);
    for (const Nlri& n : mp_withdrawn) PutNlri(n, ap, true, &v);
    PutAttribute(&attrs, kOptional, 15, v);
  }
  if (!a.ext_communities.empty()) {
    v.clear();
    for (uint64_t c : a.ext_communities) wire::PutU64(&v, c);
    PutAttribute(&attrs, kOptional | kTransitive, 16, v);
  }
  if (needs_as4_path) {
    v.clear();
    Status s = EncodeAsPath(a.as_path, 4, true, &v);
    if (!s.ok()) return s;
    PutAttribute(&attrs, kOptional | kTransitive, 17, v);
  }
  if (needs_as4_aggregator) {
    v.clear();
    wire::PutU32(&v, *a.aggregator_as);
    if (a.aggregator_address.is_v4()) {
      v.insert(v.end(), a.aggregator_address.data(),
               a.aggregator_address.data() + 4);
    } else {
      v.insert(v.end(), 4, 0);
    }
    PutAttribute(&attrs, kOptional | kTransitive, 18, v);
  }
  if (a.aigp) {
    v.clear();
    wire::PutU8(&v, 1);
    wire::PutU16(&v, 11);
    wire::PutU64(&v, *a.aigp);
    PutAttribute(&attrs, kOptional, 26, v);
  }
  if (!a.large_communities.empty()) {
    v.clear();
    for (const LargeCommunity& c : a.large_communities) {
      wire::PutU32(&v, c.global_admin);
      wire::PutU32(&v, c.local1);
      wire::PutU32(&v, c.local2);
    }
    PutAttribute(&attrs, kOptional | kTransitive, 32, v);
  }
  if (a.otc) {
    v.clear();
    wire::PutU32(&v, *a.otc);
    PutAttribute(&attrs, kOptional | kTransitive, 35, v);
  }
  for (const UnknownAttribute& u : a.unknown) {
    if (u.value.size() > 0xffff) {
      return InvalidArgumentError("attribute value over 65535 octets");
    }
    // Written verbatim, with the caller's flags (extended length as the
    // flags say when the value fits in one octet).
    wire::PutU8(&attrs, u.flags);
    wire::PutU8(&attrs, u.type);
    if ((u.flags & kExtendedLength) || u.value.size() > 255) {
      if (!(u.flags & kExtendedLength)) attrs[attrs.size() - 2] |= 0x10;
      wire::PutU16(&attrs, static_cast<uint32_t>(u.value.size()));
    } else {
      wire::PutU8(&attrs, static_cast<uint32_t>(u.value.size()));
    }
    attrs.insert(attrs.end(), u.value.begin(), u.value.end());
  }

  std::vector<uint8_t> w;
  const bool ap4 = params_.HasAddPath(kIpv4Unicast);
  for (const Nlri& n : classic_withdrawn) PutNlri(n, ap4, true, &w);
  std::vector<uint8_t> nlri;
  if (classic_announce) {
    for (const Nlri& n : announced) PutNlri(n, ap4, false, &nlri);
  }
  const size_t total = kHeaderSize + 4 + w.size() + attrs.size() + nlri.size();
  if (total > params_.max_message_size() || w.size() > 0xffff ||
      attrs.size() > 0xffff) {
    return ResourceExhaustedError("UPDATE of " + std::to_string(total) +
                                  " octets exceeds the maximum message size");
  }
  std::vector<uint8_t> out;
  out.reserve(total);
  const size_t start = wire::BeginMessage(&out, 2);
  wire::PutU16(&out, static_cast<uint32_t>(w.size()));
  out.insert(out.end(), w.begin(), w.end());
  wire::PutU16(&out, static_cast<uint32_t>(attrs.size()));
  out.insert(out.end(), attrs.begin(), attrs.end());
  out.insert(out.end(), nlri.begin(), nlri.end());
  wire::FinishMessage(&out, start);
  return out;
}

std::vector<uint8_t> UpdateBuilder::EndOfRib(Family family) {
  std::vector<uint8_t> out;
  const size_t start = wire::BeginMessage(&out, 2);
  wire::PutU16(&out, 0);
  if (family == kIpv4Unicast) {
    wire::PutU16(&out, 0);
  } else {
    wire::PutU16(&out, 6);
    wire::PutU8(&out, kOptional);
    wire::PutU8(&out, 15);
    wire::PutU8(&out, 3);
    wire::PutU16(&out, static_cast<uint16_t>(family.afi));
    wire::PutU8(&out, static_cast<uint8_t>(family.safi));
  }
  wire::FinishMessage(&out, start);
  return out;
}

}  // namespace flowacct::bgp
