#include "libflowacct/aggregate/key_layout.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "libflowacct/model/builtin_primitives.h"

namespace flowacct::internal {
namespace {

// Where a FlowRecord field lives and how wide it is.
struct FieldSlot {
  uint16_t offset = 0;
  uint8_t size = 0;  // bytes; 0 = not a plain member
  bool byte_ref = false;
};

#define FLOWACCT_SLOT(member)                                   \
  FieldSlot {                                                   \
    static_cast<uint16_t>(offsetof(FlowRecord, member)),        \
        static_cast<uint8_t>(sizeof(FlowRecord::member)), false \
  }
#define FLOWACCT_REF(member)                             \
  FieldSlot {                                            \
    static_cast<uint16_t>(offsetof(FlowRecord, member)), \
        static_cast<uint8_t>(sizeof(ByteRef)), true      \
  }

FieldSlot SlotOf(FlowField f) {
  switch (f) {
    case FlowField::kExporterPort:
      return FLOWACCT_SLOT(exporter_port);
    case FlowField::kObservationDomain:
      return FLOWACCT_SLOT(observation_domain);
    case FlowField::kExportSeqno:
      return FLOWACCT_SLOT(export_seqno);
    case FlowField::kTemplateId:
      return FLOWACCT_SLOT(template_id);
    case FlowField::kEngineType:
      return FLOWACCT_SLOT(engine_type);
    case FlowField::kEngineId:
      return FLOWACCT_SLOT(engine_id);
    case FlowField::kSamplerId:
      return FLOWACCT_SLOT(sampler_id);
    case FlowField::kSamplingRate:
      return FLOWACCT_SLOT(sampling_rate);
    case FlowField::kDirection:
      return FLOWACCT_SLOT(direction);
    case FlowField::kSrcMac:
      return FLOWACCT_SLOT(src_mac);
    case FlowField::kDstMac:
      return FLOWACCT_SLOT(dst_mac);
    case FlowField::kInVlan:
      return FLOWACCT_SLOT(in_vlan);
    case FlowField::kOutVlan:
      return FLOWACCT_SLOT(out_vlan);
    case FlowField::kInCvlan:
      return FLOWACCT_SLOT(in_cvlan);
    case FlowField::kOutCvlan:
      return FLOWACCT_SLOT(out_cvlan);
    case FlowField::kCos:
      return FLOWACCT_SLOT(cos);
    case FlowField::kEtype:
      return FLOWACCT_SLOT(etype);
    case FlowField::kIpVersion:
      return FLOWACCT_SLOT(ip_version);
    case FlowField::kSrcHost:
      return FLOWACCT_SLOT(src_host);
    case FlowField::kDstHost:
      return FLOWACCT_SLOT(dst_host);
    case FlowField::kSrcMask:
      return FLOWACCT_SLOT(src_mask);
    case FlowField::kDstMask:
      return FLOWACCT_SLOT(dst_mask);
    case FlowField::kSrcNet:
      return FLOWACCT_SLOT(src_net);
    case FlowField::kDstNet:
      return FLOWACCT_SLOT(dst_net);
    case FlowField::kProto:
      return FLOWACCT_SLOT(proto);
    case FlowField::kTos:
      return FLOWACCT_SLOT(tos);
    case FlowField::kFlowLabel:
      return FLOWACCT_SLOT(flow_label);
    case FlowField::kIpNextHop:
      return FLOWACCT_SLOT(ip_next_hop);
    case FlowField::kBgpNextHop:
      return FLOWACCT_SLOT(bgp_next_hop);
    case FlowField::kSrcPort:
      return FLOWACCT_SLOT(src_port);
    case FlowField::kDstPort:
      return FLOWACCT_SLOT(dst_port);
    case FlowField::kTcpFlags:
      return FLOWACCT_SLOT(tcp_flags);
    case FlowField::kIcmpType:
      return FLOWACCT_SLOT(icmp_type);
    case FlowField::kIcmpCode:
      return FLOWACCT_SLOT(icmp_code);
    case FlowField::kSrcAs:
      return FLOWACCT_SLOT(src_as);
    case FlowField::kDstAs:
      return FLOWACCT_SLOT(dst_as);
    case FlowField::kPeerSrcAs:
      return FLOWACCT_SLOT(peer_src_as);
    case FlowField::kPeerDstAs:
      return FLOWACCT_SLOT(peer_dst_as);
    case FlowField::kInIface:
      return FLOWACCT_SLOT(in_iface);
    case FlowField::kOutIface:
      return FLOWACCT_SLOT(out_iface);
    case FlowField::kFwdStatus:
      return FLOWACCT_SLOT(fwd_status);
    case FlowField::kLocalPref:
      return FLOWACCT_SLOT(local_pref);
    case FlowField::kAsPath:
      return FLOWACCT_REF(as_path);
    case FlowField::kStdComm:
      return FLOWACCT_REF(std_comm);
    case FlowField::kMed:
      return FLOWACCT_SLOT(med);
    case FlowField::kExtComm:
      return FLOWACCT_REF(ext_comm);
    case FlowField::kLrgComm:
      return FLOWACCT_REF(lrg_comm);
    case FlowField::kSrcAsPath:
      return FLOWACCT_REF(src_as_path);
    case FlowField::kSrcStdComm:
      return FLOWACCT_REF(src_std_comm);
    case FlowField::kSrcExtComm:
      return FLOWACCT_REF(src_ext_comm);
    case FlowField::kSrcLrgComm:
      return FLOWACCT_REF(src_lrg_comm);
    case FlowField::kSrcLocalPref:
      return FLOWACCT_SLOT(src_local_pref);
    case FlowField::kSrcMed:
      return FLOWACCT_SLOT(src_med);
    case FlowField::kNatEvent:
      return FLOWACCT_SLOT(nat_event);
    case FlowField::kFwEvent:
      return FLOWACCT_SLOT(fw_event);
    case FlowField::kPostNatSrcHost:
      return FLOWACCT_SLOT(post_nat_src_host);
    case FlowField::kPostNatDstHost:
      return FLOWACCT_SLOT(post_nat_dst_host);
    case FlowField::kPostNatSrcPort:
      return FLOWACCT_SLOT(post_nat_src_port);
    case FlowField::kPostNatDstPort:
      return FLOWACCT_SLOT(post_nat_dst_port);
    case FlowField::kMplsVpnRd:
      return FLOWACCT_SLOT(mpls_vpn_rd);
    case FlowField::kMplsPwId:
      return FLOWACCT_SLOT(mpls_pw_id);
    case FlowField::kIngressVrfId:
      return FLOWACCT_SLOT(ingress_vrf_id);
    case FlowField::kEgressVrfId:
      return FLOWACCT_SLOT(egress_vrf_id);
    case FlowField::kVxlanVni:
      return FLOWACCT_SLOT(vxlan_vni);
    case FlowField::kTimestampStart:
      return FLOWACCT_SLOT(timestamp_start);
    case FlowField::kTimestampEnd:
      return FLOWACCT_SLOT(timestamp_end);
    case FlowField::kTimestampExport:
      return FLOWACCT_SLOT(timestamp_export);
    case FlowField::kApplicationId:
      return FLOWACCT_REF(application_id);
    case FlowField::kInIfaceName:
      return FLOWACCT_REF(in_iface_name);
    case FlowField::kOutIfaceName:
      return FLOWACCT_REF(out_iface_name);
    case FlowField::kVrfName:
      return FLOWACCT_REF(vrf_name);
    case FlowField::kSampleSeqno:
      return FLOWACCT_SLOT(sample_seqno);
    case FlowField::kSourceId:
      return FLOWACCT_SLOT(source_id);
    case FlowField::kSamplePool:
      return FLOWACCT_SLOT(sample_pool);
    case FlowField::kDrops:
      return FLOWACCT_SLOT(drops);
    case FlowField::kTag:
      return FLOWACCT_SLOT(tag);
    case FlowField::kTag2:
      return FLOWACCT_SLOT(tag2);
    case FlowField::kLabel:
      return FLOWACCT_REF(label);
    default:
      return FieldSlot{};
  }
}

#undef FLOWACCT_SLOT
#undef FLOWACCT_REF

static_assert(sizeof(IpAddress) == 17);
static_assert(sizeof(MacAddress) == 6);

size_t KeyWidth(KeyOpKind k) {
  switch (k) {
    case KeyOpKind::kCopy1:
    case KeyOpKind::kExportVersion:
      return 1;
    case KeyOpKind::kCopy2:
    case KeyOpKind::kVlan:
      return 2;
    case KeyOpKind::kCopy4:
    case KeyOpKind::kBytes:
    case KeyOpKind::kMplsStack:
    case KeyOpKind::kCustom:
    case KeyOpKind::kMplsTop:
    case KeyOpKind::kMplsBottom:
      return 4;
    case KeyOpKind::kCopy8:
    case KeyOpKind::kRd:
    case KeyOpKind::kArrival:
    case KeyOpKind::kSeconds:
      return 8;
    case KeyOpKind::kCopy6:
      return 6;
    case KeyOpKind::kCopy17:
    case KeyOpKind::kExporter:
      return 17;
  }
  return 0;
}

// Derived ops are unpacked after the plain ones (they look at what the
// plain ones restored).
bool IsDerived(KeyOpKind k) {
  return k == KeyOpKind::kVlan || k == KeyOpKind::kMplsTop ||
         k == KeyOpKind::kMplsBottom;
}

inline const uint8_t* Member(const FlowRecord& r, uint16_t offset) {
  return reinterpret_cast<const uint8_t*>(&r) + offset;
}
inline uint8_t* Member(FlowRecord* r, uint16_t offset) {
  return reinterpret_cast<uint8_t*>(r) + offset;
}

template <typename T>
inline void Put(uint8_t* key, uint16_t offset, T v) {
  std::memcpy(key + offset, &v, sizeof(T));
}
template <typename T>
inline T Take(const uint8_t* key, uint16_t offset) {
  T v;
  std::memcpy(&v, key + offset, sizeof(T));
  return v;
}

// The start of the second holding `ns` (ns since the epoch; floor, so
// times before 1970 go down as well).
inline int64_t FloorToSecond(int64_t ns) {
  constexpr int64_t kNsPerSecond = 1'000'000'000;
  int64_t rem = ns % kNsPerSecond;
  if (rem < 0) rem += kNsPerSecond;
  return ns - rem;
}

// The sum_* modes: each counts a record under its source value and under
// its destination value.
struct SumMode {
  const char* name;
  const char* src;
  const char* dst;
};
constexpr SumMode kSumModes[] = {
    {"sum_host", "src_host", "dst_host"}, {"sum_net", "src_net", "dst_net"},
    {"sum_as", "src_as", "dst_as"},       {"sum_port", "src_port", "dst_port"},
    {"sum_mac", "src_mac", "dst_mac"},
};

const SumMode* FindSumMode(std::string_view name) {
  for (const SumMode& m : kSumModes) {
    if (name == m.name) return &m;
  }
  return nullptr;
}

bool IsCounter(FlowField f) {
  return f == FlowField::kBytes || f == FlowField::kPackets ||
         f == FlowField::kFlows;
}

// The plain copies of Pack and PackSumDst (see CopyOp). Always inlined:
// Pack is the hot path and its code stays what it was before sum modes.
[[gnu::always_inline]] inline void RunCopies(std::span<const CopyOp> copies17, std::span<const CopyOp> copies,
               const uint8_t* rec, const uint64_t* bits, uint8_t* key) {
  for (const CopyOp& c : copies17) {
    const uint64_t keep =
        uint64_t{0} -
        static_cast<uint64_t>((bits[c.presence_word] & c.presence_mask) != 0);
    uint64_t a, b;
    std::memcpy(&a, rec + c.record_offset, 8);
    std::memcpy(&b, rec + c.record_offset + 8, 8);
    const uint8_t f = rec[c.record_offset + 16] & static_cast<uint8_t>(keep);
    a &= keep;
    b &= keep;
    std::memcpy(key + c.key_offset, &a, 8);
    std::memcpy(key + c.key_offset + 8, &b, 8);
    key[c.key_offset + 16] = f;
  }
  for (const CopyOp& c : copies) {
    const uint64_t keep =
        uint64_t{0} -
        static_cast<uint64_t>((bits[c.presence_word] & c.presence_mask) != 0);
    uint64_t v;
    std::memcpy(&v, rec + c.record_offset, 8);
    v &= c.value_mask & keep;
    std::memcpy(key + c.key_offset, &v, 8);
  }
}

}  // namespace

uint64_t HashBytes(std::span<const uint8_t> bytes) {
  uint64_t words[4];
  uint64_t h = bytes.size();
  size_t i = 0;
  for (; i + 32 <= bytes.size(); i += 32) {
    std::memcpy(words, bytes.data() + i, 32);
    h = HashKey(words, 4) ^ (h * 0x9E3779B97F4A7C15ull);
  }
  words[0] = words[1] = words[2] = words[3] = 0;
  if (bytes.size() > i) std::memcpy(words, bytes.data() + i, bytes.size() - i);
  words[3] ^= h;
  return HashKey(words, 4);
}

// --- InternPool -------------------------------------------------------------

InternPool::InternPool() : index_(64, 0), mask_(63) {}

uint32_t InternPool::Intern(std::span<const uint8_t> bytes) {
  const uint64_t h = HashBytes(bytes);
  const uint64_t tag = h >> 32;
  size_t pos = h & mask_;
  while (true) {
    uint64_t slot = index_[pos];
    if (slot == 0) break;
    if ((slot >> 32) == tag) {
      uint32_t id = static_cast<uint32_t>(slot);
      std::span<const uint8_t> v = Get(id);
      if (v.size() == bytes.size() &&
          (bytes.empty() ||
           std::memcmp(v.data(), bytes.data(), bytes.size()) == 0)) {
        return id;
      }
    }
    pos = (pos + 1) & mask_;
  }
  refs_.push_back(ByteRef{static_cast<uint32_t>(bytes_.size()),
                          static_cast<uint32_t>(bytes.size())});
  bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
  const uint32_t id = static_cast<uint32_t>(refs_.size());
  index_[pos] = tag << 32 | id;
  if (refs_.size() * 10 > index_.size() * 7) Grow();
  return id;
}

void InternPool::Grow() {
  std::vector<uint64_t> old;
  old.swap(index_);
  index_.assign(old.size() * 2, 0);
  mask_ = index_.size() - 1;
  for (uint64_t slot : old) {
    if (slot == 0) continue;
    uint32_t id = static_cast<uint32_t>(slot);
    uint64_t h = HashBytes(Get(id));
    size_t pos = h & mask_;
    while (index_[pos] != 0) pos = (pos + 1) & mask_;
    index_[pos] = slot;
  }
}

void InternPool::Clear() {
  if (refs_.empty()) return;
  bytes_.clear();
  refs_.clear();
  std::fill(index_.begin(), index_.end(), 0);
}

// --- KeyLayout --------------------------------------------------------------

Result<KeyLayout> KeyLayout::Build(const PrimitiveRegistry& registry,
                                   const AggregatorOptions& options) {
  KeyLayout layout;
  layout.has_bins_ = options.history.enabled();
  layout.history_ = options.history;
  layout.history_origin_ = options.history_origin;
  layout.bin_by_arrival_ = options.bin_by_arrival;
  layout.timestamps_secs_ = options.timestamps_secs;

  std::vector<PrimitiveId> ids = options.primitives;
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  const size_t registry_size = registry.all().size();
  std::span<const BuiltinPrimitive> builtins = BuiltinPrimitives();

  // A sum_* mode must be the view's only key primitive (the counters may
  // come along: `flows` asks for the FLOWS column).
  const SumMode* sum = nullptr;
  PrimitiveId sum_src = 0;
  FlowField sum_dst_field = FlowField::kCount;
  for (PrimitiveId id : ids) {
    if (id >= registry_size) {
      return InvalidArgumentError("aggregate: unknown primitive id " +
                                  std::to_string(id));
    }
    const SumMode* m = FindSumMode(registry.Get(id).name);
    if (m == nullptr) continue;
    if (sum != nullptr) {
      return InvalidArgumentError(
          std::string("aggregate: \"") + sum->name + "\" and \"" + m->name +
          "\" cannot be combined (a sum_* mode must be alone)");
    }
    sum = m;
  }
  if (sum != nullptr) {
    for (PrimitiveId id : ids) {
      const PrimitiveInfo& info = registry.Get(id);
      if (info.name == sum->name) continue;
      if (!info.is_custom && id < builtins.size() &&
          IsCounter(builtins[id].field)) {
        continue;
      }
      return InvalidArgumentError(
          std::string("aggregate: \"") + sum->name +
          "\" cannot be combined with other primitives (\"" + info.name +
          "\"): a sum_* mode must be alone");
    }
    const PrimitiveInfo* src = registry.Find(sum->src);
    const PrimitiveInfo* dst = registry.Find(sum->dst);
    if (src == nullptr || dst == nullptr || src->id >= builtins.size() ||
        dst->id >= builtins.size()) {
      return InternalError(std::string("aggregate: no primitives for ") +
                           sum->name);
    }
    layout.sum_ = true;
    sum_src = src->id;
    sum_dst_field = builtins[dst->id].field;
  }

  std::vector<KeyOp> ops;
  bool has_none = false;
  for (PrimitiveId id : ids) {
    const PrimitiveInfo& info = registry.Get(id);
    KeyOp op;
    op.primitive = id;
    if (info.is_custom) {
      op.kind = KeyOpKind::kCustom;
      ops.push_back(op);
      continue;
    }
    if (id >= builtins.size()) {
      return InvalidArgumentError("aggregate: primitive \"" + info.name +
                                  "\" has no built-in description");
    }
    // A sum_* mode keys on its source primitive (Pack); PackSumDst puts the
    // destination value in the same slot.
    const bool is_sum = sum != nullptr && info.name == sum->name;
    const BuiltinPrimitive& b = builtins[is_sum ? sum_src : id];
    const std::string& name = info.name;
    if (name == "none") {
      has_none = true;
      continue;
    }
    if (IsCounter(b.field)) {
      // pmacct accepts `flows` (and the always-printed counters) in
      // `aggregate`: not a key, it asks the outputs for the FLOWS column.
      // It stays in primitives() so sinks see it.
      continue;
    }
    if (b.field == FlowField::kTcpFlags) {
      // Not a key: pmacct (nfacctd included) ORs the TCP flags of the
      // records of an aggregate, kept in the row's flags word.
      layout.or_tcp_flags_ = true;
      continue;
    }
    if (b.field == FlowField::kReverseBytes ||
        b.field == FlowField::kReversePackets) {
      return UnimplementedError("aggregate: \"" + name +
                                "\" (biflow counter) cannot be aggregated yet");
    }
    switch (b.accessor) {
      case Accessor::kNotDecoded:
        continue;  // nobody fills it: no key component
      case Accessor::kVlan:
        op.kind = KeyOpKind::kVlan;
        break;
      case Accessor::kMplsTop:
        op.kind = KeyOpKind::kMplsTop;
        op.field = FlowField::kMplsLabels;
        layout.view_has_mpls_top_ = true;
        break;
      case Accessor::kMplsBottom:
        op.kind = KeyOpKind::kMplsBottom;
        op.field = FlowField::kMplsLabels;
        break;
      case Accessor::kExporter:
        op.kind = KeyOpKind::kExporter;
        break;
      case Accessor::kExportVersion:
        op.kind = KeyOpKind::kExportVersion;
        break;
      case Accessor::kTimestampArrival:
        op.kind = KeyOpKind::kArrival;
        if (options.timestamps_secs) {
          op.kind = KeyOpKind::kSeconds;
          op.record_offset =
              static_cast<uint16_t>(offsetof(FlowRecord, timestamp_arrival));
        }
        break;
      case Accessor::kField: {
        op.field = b.field;
        if (b.field == FlowField::kMplsLabels) {
          op.kind = KeyOpKind::kMplsStack;
          layout.view_has_mpls_stack_ = true;
          break;
        }
        if (b.field == FlowField::kMplsVpnRd) {
          op.kind = KeyOpKind::kRd;
          op.record_offset =
              static_cast<uint16_t>(offsetof(FlowRecord, mpls_vpn_rd));
          break;
        }
        FieldSlot slot = SlotOf(b.field);
        op.record_offset = slot.offset;
        if (slot.byte_ref) {
          op.kind = KeyOpKind::kBytes;
        } else if (slot.size == 1) {
          op.kind = KeyOpKind::kCopy1;
        } else if (slot.size == 2) {
          op.kind = KeyOpKind::kCopy2;
        } else if (slot.size == 4) {
          op.kind = KeyOpKind::kCopy4;
        } else if (slot.size == 8) {
          op.kind =
              options.timestamps_secs && b.type == PrimitiveType::kTimestamp
                  ? KeyOpKind::kSeconds
                  : KeyOpKind::kCopy8;
        } else if (slot.size == 6) {
          op.kind = KeyOpKind::kCopy6;
        } else if (slot.size == 17) {
          op.kind = KeyOpKind::kCopy17;
        } else {
          return InternalError("aggregate: no key slot for \"" + name + "\"");
        }
        if (b.field == FlowField::kInVlan) layout.view_has_in_vlan_ = true;
        if (b.field == FlowField::kOutVlan) layout.view_has_out_vlan_ = true;
        break;
      }
    }
    ops.push_back(op);
  }
  if (has_none && ids.size() > 1) {
    return InvalidArgumentError(
        "aggregate: \"none\" (grand total) cannot be combined with other "
        "primitives");
  }

  // Plain ops first, then derived ones; within each, widest first.
  std::stable_sort(ops.begin(), ops.end(), [](const KeyOp& a, const KeyOp& b) {
    if (IsDerived(a.kind) != IsDerived(b.kind)) return !IsDerived(a.kind);
    return KeyWidth(a.kind) > KeyWidth(b.kind);
  });
  size_t offset = layout.has_bins_ ? 8 : 0;
  for (KeyOp& op : ops) {
    if (op.field != FlowField::kCount) {
      const int bit = static_cast<int>(op.field);
      op.presence_word = static_cast<uint8_t>(bit >> 6);
      op.presence_mask = uint64_t{1} << (bit & 63);
    }
    op.key_offset = static_cast<uint16_t>(offset);
    offset += KeyWidth(op.kind);
    if (op.kind == KeyOpKind::kBytes || op.kind == KeyOpKind::kMplsStack ||
        op.kind == KeyOpKind::kCustom) {
      layout.intern_offsets_.push_back(op.key_offset);
    }
    if (op.kind == KeyOpKind::kCustom) {
      layout.custom_ops_.push_back(op);
      layout.has_customs_ = true;
    }
  }
  if (offset > 0xffff) return InvalidArgumentError("aggregate: key too wide");
  // Split into plain copies and the rest for Pack.
  for (const KeyOp& op : ops) {
    size_t width = 0;
    uint16_t record_offset = op.record_offset;
    switch (op.kind) {
      case KeyOpKind::kCopy1:
      case KeyOpKind::kCopy2:
      case KeyOpKind::kCopy4:
      case KeyOpKind::kCopy8:
      case KeyOpKind::kCopy6:
      case KeyOpKind::kCopy17:
      case KeyOpKind::kRd:
        width = KeyWidth(op.kind);
        break;
      case KeyOpKind::kExporter:
        width = 17;
        record_offset = static_cast<uint16_t>(offsetof(FlowRecord, exporter));
        break;
      case KeyOpKind::kArrival:
        width = 8;
        record_offset =
            static_cast<uint16_t>(offsetof(FlowRecord, timestamp_arrival));
        break;
      default:
        layout.special_ops_.push_back(op);
        continue;
    }
    CopyOp c;
    c.record_offset = record_offset;
    c.key_offset = op.key_offset;
    if (op.presence_mask != 0) {
      c.presence_word = op.presence_word;
      c.presence_mask = op.presence_mask;
    }
    if (record_offset + 24u > sizeof(FlowRecord)) {
      return InternalError("aggregate: key member too close to the end");
    }
    if (width == 17) {
      layout.copies17_.push_back(c);
      continue;
    }
    uint8_t mask_bytes[8] = {};
    std::memset(mask_bytes, 0xff, width);
    std::memcpy(&c.value_mask, mask_bytes, 8);
    layout.copies_.push_back(c);
  }
  std::sort(layout.copies_.begin(), layout.copies_.end(),
            [](const CopyOp& a, const CopyOp& b) {
              return a.key_offset < b.key_offset;
            });
  for (const CopyOp& a : layout.copies17_) {
    if (!layout.copies_.empty() &&
        a.key_offset > layout.copies_.front().key_offset) {
      return InternalError("aggregate: address slot after a narrow slot");
    }
  }
  if (layout.sum_) {
    // The key is the one source copy; its destination twin reads the dst_*
    // member into the same slot.
    const FieldSlot dst = SlotOf(sum_dst_field);
    if (layout.copies17_.size() + layout.copies_.size() != 1 ||
        !layout.special_ops_.empty() || dst.size == 0 || dst.byte_ref) {
      return InternalError("aggregate: bad sum_* key layout");
    }
    CopyOp c =
        layout.copies17_.empty() ? layout.copies_[0] : layout.copies17_[0];
    const int bit = static_cast<int>(sum_dst_field);
    c.record_offset = dst.offset;
    c.presence_word = static_cast<uint8_t>(bit >> 6);
    c.presence_mask = uint64_t{1} << (bit & 63);
    if (c.record_offset + 24u > sizeof(FlowRecord)) {
      return InternalError("aggregate: key member too close to the end");
    }
    (layout.copies17_.empty() ? layout.sum_dst_ : layout.sum_dst17_)
        .push_back(c);
  }
  layout.words_ = std::max<size_t>(1, (offset + 7) / 8);
  // primitives() keeps the configured order (duplicates dropped): pmacct
  // prints custom primitives in `aggregate` order.
  layout.primitives_.clear();
  for (PrimitiveId id : options.primitives) {
    if (sum != nullptr && registry.Get(id).name == sum->name) id = sum_src;
    if (std::find(layout.primitives_.begin(), layout.primitives_.end(), id) ==
        layout.primitives_.end()) {
      layout.primitives_.push_back(id);
    }
  }
  layout.ops_ = std::move(ops);
  return layout;
}

void KeyLayout::Pack(const FlowRecord& r, const RecordBatch& batch,
                     InternPool* pool, uint64_t* key_words) const {
  static_assert(sizeof(FieldSet) == 2 * sizeof(uint64_t));
  uint64_t bits[3];
  std::memcpy(bits, &r.fields, 2 * sizeof(uint64_t));
  bits[2] = ~uint64_t{0};
  uint8_t* key = reinterpret_cast<uint8_t*>(key_words);
  const uint8_t* rec = reinterpret_cast<const uint8_t*>(&r);
  RunCopies(copies17_, copies_, rec, bits, key);
  if (!special_ops_.empty()) PackSpecial(r, batch, pool, bits, key_words);
}

void KeyLayout::PackSumDst(const FlowRecord& r, uint64_t* key_words) const {
  uint64_t bits[3];
  std::memcpy(bits, &r.fields, 2 * sizeof(uint64_t));
  bits[2] = ~uint64_t{0};
  RunCopies(sum_dst17_, sum_dst_, reinterpret_cast<const uint8_t*>(&r), bits,
            reinterpret_cast<uint8_t*>(key_words));
}

void KeyLayout::PackSpecial(const FlowRecord& r, const RecordBatch& batch,
                            InternPool* pool, const uint64_t* bits,
                            uint64_t* key_words) const {
  uint8_t* key = reinterpret_cast<uint8_t*>(key_words);
  for (const KeyOp& op : special_ops_) {
    const bool present =
        op.presence_mask == 0 || (bits[op.presence_word] & op.presence_mask);
    const uint8_t* m = Member(r, op.record_offset);
    uint8_t* k = key + op.key_offset;
    switch (op.kind) {
      case KeyOpKind::kCopy1:
        *k = present ? *m : 0;
        break;
      case KeyOpKind::kCopy2: {
        uint16_t v;
        std::memcpy(&v, m, 2);
        v = present ? v : 0;
        std::memcpy(k, &v, 2);
        break;
      }
      case KeyOpKind::kCopy4: {
        uint32_t v;
        std::memcpy(&v, m, 4);
        v = present ? v : 0;
        std::memcpy(k, &v, 4);
        break;
      }
      case KeyOpKind::kCopy8:
      case KeyOpKind::kRd: {
        uint64_t v;
        std::memcpy(&v, m, 8);
        v = present ? v : 0;
        std::memcpy(k, &v, 8);
        break;
      }
      case KeyOpKind::kCopy6:
        if (present) {
          std::memcpy(k, m, 6);
        } else {
          std::memset(k, 0, 6);
        }
        break;
      case KeyOpKind::kCopy17:
        if (present) {
          std::memcpy(k, m, 17);
        } else {
          std::memset(k, 0, 17);
        }
        break;
      case KeyOpKind::kBytes: {
        ByteRef ref;
        std::memcpy(&ref, m, sizeof(ref));
        uint32_t id = 0;
        if (present && ref.length != 0) {
          std::string_view v = batch.bytes(ref);
          id = pool->Intern(std::span<const uint8_t>(
              reinterpret_cast<const uint8_t*>(v.data()), v.size()));
        }
        Put<uint32_t>(key, op.key_offset, id);
        break;
      }
      case KeyOpKind::kMplsStack: {
        size_t n = std::min<size_t>(r.mpls_label_count, r.mpls_labels.size());
        uint32_t id = 0;
        if (present && n != 0) {
          id = pool->Intern(std::span<const uint8_t>(
              reinterpret_cast<const uint8_t*>(r.mpls_labels.data()),
              n * sizeof(uint32_t)));
        }
        Put<uint32_t>(key, op.key_offset, id);
        break;
      }
      case KeyOpKind::kCustom: {
        uint32_t id = 0;
        for (const CustomValue& cv : batch.customs(r)) {
          if (cv.primitive != op.primitive) continue;
          std::string_view v = batch.bytes(cv.value);
          id = pool->Intern(std::span<const uint8_t>(
              reinterpret_cast<const uint8_t*>(v.data()), v.size()));
          break;
        }
        Put<uint32_t>(key, op.key_offset, id);
        break;
      }
      case KeyOpKind::kVlan: {
        uint16_t v = 0;
        if (r.has(FlowField::kInVlan) && r.in_vlan != 0) {
          v = r.in_vlan;
        } else if (r.has(FlowField::kOutVlan)) {
          v = r.out_vlan;
        }
        Put<uint16_t>(key, op.key_offset, v);
        break;
      }
      case KeyOpKind::kMplsTop:
      case KeyOpKind::kMplsBottom: {
        size_t n = std::min<size_t>(r.mpls_label_count, r.mpls_labels.size());
        uint32_t label = 0;
        if (present && n != 0) {
          uint32_t e = op.kind == KeyOpKind::kMplsTop ? r.mpls_labels[0]
                                                      : r.mpls_labels[n - 1];
          label = (e >> 4) & 0xfffff;
        }
        Put<uint32_t>(key, op.key_offset, label);
        break;
      }
      case KeyOpKind::kExporter:
        std::memcpy(k, &r.exporter, 17);
        break;
      case KeyOpKind::kExportVersion: {
        uint8_t v = 0;
        switch (r.protocol) {
          case ExportProtocol::kNetflowV5:
          case ExportProtocol::kSflowV5:
            v = 5;
            break;
          case ExportProtocol::kNetflowV9:
            v = 9;
            break;
          case ExportProtocol::kIpfix:
            v = 10;
            break;
          default:
            break;
        }
        *k = v;
        break;
      }
      case KeyOpKind::kArrival:
        Put<int64_t>(key, op.key_offset, r.timestamp_arrival);
        break;
      case KeyOpKind::kSeconds: {
        int64_t v;
        std::memcpy(&v, m, 8);
        Put<int64_t>(key, op.key_offset, present ? FloorToSecond(v) : 0);
        break;
      }
    }
  }
}

void KeyLayout::Unpack(const uint64_t* key_words, std::span<const ByteRef> refs,
                       const RecordBatch& arena, FlowRecord* r) const {
  const uint8_t* key = reinterpret_cast<const uint8_t*>(key_words);
  for (const KeyOp& op : ops_) {
    uint8_t* m = Member(r, op.record_offset);
    switch (op.kind) {
      case KeyOpKind::kCopy1:
        *m = key[op.key_offset];
        break;
      case KeyOpKind::kCopy2:
        std::memcpy(m, key + op.key_offset, 2);
        break;
      case KeyOpKind::kCopy4:
        std::memcpy(m, key + op.key_offset, 4);
        break;
      case KeyOpKind::kCopy8:
      case KeyOpKind::kRd:
      case KeyOpKind::kSeconds:
        std::memcpy(m, key + op.key_offset, 8);
        break;
      case KeyOpKind::kCopy6:
        std::memcpy(m, key + op.key_offset, 6);
        break;
      case KeyOpKind::kCopy17:
        std::memcpy(m, key + op.key_offset, 17);
        break;
      case KeyOpKind::kBytes: {
        uint32_t id = Take<uint32_t>(key, op.key_offset);
        ByteRef ref = id == 0 ? ByteRef{} : refs[id - 1];
        std::memcpy(m, &ref, sizeof(ref));
        break;
      }
      case KeyOpKind::kMplsStack: {
        uint32_t id = Take<uint32_t>(key, op.key_offset);
        if (id == 0) break;
        // The entries were interned as raw uint32s.
        std::string_view v = arena.bytes(refs[id - 1]);
        size_t n = std::min(v.size() / sizeof(uint32_t), r->mpls_labels.size());
        std::memcpy(r->mpls_labels.data(), v.data(), n * sizeof(uint32_t));
        r->mpls_label_count = static_cast<uint8_t>(n);
        break;
      }
      case KeyOpKind::kCustom:
        break;  // per-row custom values live in the snapshot
      case KeyOpKind::kVlan: {
        uint16_t v = Take<uint16_t>(key, op.key_offset);
        if (!view_has_in_vlan_) {
          r->in_vlan = v;
          r->fields.set(FlowField::kInVlan);
        } else if (r->in_vlan == 0 && !view_has_out_vlan_) {
          r->out_vlan = v;
          r->fields.set(FlowField::kOutVlan);
        }
        continue;
      }
      case KeyOpKind::kMplsTop:
      case KeyOpKind::kMplsBottom: {
        if (view_has_mpls_stack_) continue;
        uint32_t v = Take<uint32_t>(key, op.key_offset) << 4;
        if (op.kind == KeyOpKind::kMplsTop) {
          r->mpls_labels[0] = v;
          r->mpls_label_count = std::max<uint8_t>(r->mpls_label_count, 1);
        } else if (view_has_mpls_top_) {
          r->mpls_labels[1] = v;
          r->mpls_label_count = 2;
        } else {
          r->mpls_labels[0] = v;
          r->mpls_label_count = 1;
        }
        break;
      }
      case KeyOpKind::kExporter:
        std::memcpy(&r->exporter, key + op.key_offset, 17);
        break;
      case KeyOpKind::kExportVersion: {
        uint8_t v = key[op.key_offset];
        r->protocol = v == 5    ? ExportProtocol::kNetflowV5
                      : v == 9  ? ExportProtocol::kNetflowV9
                      : v == 10 ? ExportProtocol::kIpfix
                                : ExportProtocol::kUnknown;
        break;
      }
      case KeyOpKind::kArrival:
        r->timestamp_arrival = Take<int64_t>(key, op.key_offset);
        break;
    }
    if (op.field != FlowField::kCount) r->fields.set(op.field);
  }
}

bool KeyLayout::SameAs(const KeyLayout& o) const {
  return primitives_ == o.primitives_ && has_bins_ == o.has_bins_ &&
         or_tcp_flags_ == o.or_tcp_flags_ && sum_ == o.sum_ &&
         timestamps_secs_ == o.timestamps_secs_ &&
         history_.unit == o.history_.unit &&
         history_.count == o.history_.count &&
         history_origin_ == o.history_origin_ &&
         bin_by_arrival_ == o.bin_by_arrival_;
}

}  // namespace flowacct::internal
