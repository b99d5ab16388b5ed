#include "libflowacct/bgp/rib/attr_store.h"

#include <cstring>
#include <new>
#include <string_view>

#include "absl/hash/hash.h"

namespace flowacct::bgp::rib_internal {
namespace {

// The comparable region of a payload blob: everything after the header.
template <typename Blob>
std::string_view Region(const Blob* b) {
  return std::string_view(reinterpret_cast<const char*>(b) + sizeof(BlobHeader),
                          sizeof(Blob) - sizeof(BlobHeader) + b->h.bytes);
}

// Folded 128-bit product: one multiply mixes every input bit into the
// middle bits of the result.
__extension__ typedef unsigned __int128 Uint128;
uint64_t Mix(uint64_t a, uint64_t b) {
  const Uint128 p = static_cast<Uint128>(a) * b;
  return static_cast<uint64_t>(p) ^ static_cast<uint64_t>(p >> 64);
}

// Hash of a region, 8 bytes a step (blob regions are whole words; a tail
// is still read, zero-padded). Seeded per process from an address (ASLR),
// as absl::Hash is. It replaces absl::HashOf(string_view), which this
// Abseil routes through std::hash and its byte loop: about 250
// instructions per AS path blob, a fifth of announcing a route.
constexpr uint64_t kMul = 0x9e3779b97f4a7c15u;
uint64_t Seed() {
  static const char kSeedAnchor = 0;
  return reinterpret_cast<uintptr_t>(&kSeedAnchor);
}
uint64_t HashRegion(std::string_view r) {
  uint64_t h = Mix(Seed() ^ r.size(), kMul);
  size_t i = 0;
  for (; i + 8 <= r.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, r.data() + i, 8);
    h = Mix(h ^ w, kMul);
  }
  if (i < r.size()) {
    uint64_t w = 0;
    std::memcpy(&w, r.data() + i, r.size() - i);
    h = Mix(h ^ w, kMul);
  }
  return h;
}

// Builds in `scratch` when it fits (the common case: an UPDATE whose AS
// path / communities are already interned allocates nothing), else on the
// heap.
template <typename Blob>
Blob* NewPayloadBlob(size_t payload, void* scratch, size_t scratch_size) {
  void* raw = sizeof(Blob) + payload <= scratch_size
                  ? scratch
                  : ::operator new(sizeof(Blob) + payload);
  std::memset(raw, 0, sizeof(Blob) + payload);
  Blob* b = new (raw) Blob{};
  b->h.bytes = static_cast<uint32_t>(payload);
  return b;
}

template <typename Blob>
void DeleteBlob(const Blob* b) {
  if constexpr (std::is_same_v<Blob, ExtraBlob>) {
    delete b;
  } else {
    ::operator delete(const_cast<Blob*>(b));
  }
}

template <typename Blob>
size_t BlobBytes(const Blob* b) {
  if constexpr (std::is_same_v<Blob, ExtraBlob>) {
    return sizeof(ExtraBlob) + b->rest.cluster_list.size() * 4 +
           b->rest.unknown.size() * sizeof(UnknownAttribute);
  } else {
    return sizeof(Blob) + b->h.bytes;
  }
}

AsPathBlob* MakeAsPath(const std::vector<AsPathSegment>& path, void* scratch,
                       size_t scratch_size) {
  size_t n_asns = 0;
  for (const AsPathSegment& seg : path) n_asns += seg.asns.size();
  if (n_asns > 0xffff || path.size() > 0xffff) return nullptr;
  size_t payload = n_asns * 4 + path.size() * 3;
  payload = (payload + 7) & ~size_t{7};
  AsPathBlob* b = NewPayloadBlob<AsPathBlob>(payload, scratch, scratch_size);
  b->n_segments = static_cast<uint16_t>(path.size());
  b->n_asns = static_cast<uint16_t>(n_asns);
  uint32_t* asns = const_cast<uint32_t*>(b->asns());
  uint16_t* seg_len = const_cast<uint16_t*>(b->seg_len());
  uint8_t* seg_type = const_cast<uint8_t*>(b->seg_type());
  size_t k = 0;
  for (size_t i = 0; i < path.size(); ++i) {
    const AsPathSegment& seg = path[i];
    seg_len[i] = static_cast<uint16_t>(seg.asns.size());
    seg_type[i] = static_cast<uint8_t>(seg.type);
    for (uint32_t as : seg.asns) asns[k++] = as;
  }
  // pmacct semantics (see PathAttributes::FirstAs/OriginAs), computed from
  // the compact form: first AS of the first AS_SEQUENCE, last AS of the last
  // AS_SEQUENCE unless an AS_SET ends the path.
  size_t offset = 0;
  for (size_t i = 0; i < path.size(); ++i) {
    if (seg_type[i] == static_cast<uint8_t>(AsSegmentType::kSequence) &&
        seg_len[i] > 0) {
      b->first_as = asns[offset];
      break;
    }
    offset += seg_len[i];
  }
  for (size_t i = path.size(), end = n_asns; i-- > 0;) {
    size_t begin = end - seg_len[i];
    uint8_t type = seg_type[i];
    if (type == static_cast<uint8_t>(AsSegmentType::kSequence)) {
      if (seg_len[i] > 0) {
        b->origin_as = asns[end - 1];
        break;
      }
    } else if (type == static_cast<uint8_t>(AsSegmentType::kSet)) {
      break;  // an AS_SET at the end: no origin AS
    }
    end = begin;
  }
  b->h.hash = static_cast<uint32_t>(HashRegion(Region(b)));
  return b;
}

CommBlob* MakeComms(const PathAttributes& a, void* scratch,
                    size_t scratch_size) {
  size_t payload = a.ext_communities.size() * 8 +
                   a.large_communities.size() * sizeof(LargeCommunity) +
                   a.communities.size() * 4;
  payload = (payload + 7) & ~size_t{7};
  CommBlob* b = NewPayloadBlob<CommBlob>(payload, scratch, scratch_size);
  b->n_std = static_cast<uint32_t>(a.communities.size());
  b->n_ext = static_cast<uint32_t>(a.ext_communities.size());
  b->n_large = static_cast<uint32_t>(a.large_communities.size());
  if (b->n_ext) {
    std::memcpy(const_cast<uint64_t*>(b->ext()), a.ext_communities.data(),
                b->n_ext * 8);
  }
  if (b->n_large) {
    std::memcpy(const_cast<LargeCommunity*>(b->large()),
                a.large_communities.data(),
                b->n_large * sizeof(LargeCommunity));
  }
  if (b->n_std) {
    std::memcpy(const_cast<uint32_t*>(b->std_comms()), a.communities.data(),
                b->n_std * 4);
  }
  b->h.hash = static_cast<uint32_t>(HashRegion(Region(b)));
  return b;
}

bool HasExtra(const PathAttributes& a) {
  return a.next_hop_link_local.is_set() || a.aggregator_as.has_value() ||
         a.aggregator_address.is_set() || a.originator_id.has_value() ||
         !a.cluster_list.empty() || a.otc.has_value() || a.aigp.has_value() ||
         !a.unknown.empty();
}

ExtraBlob* MakeExtra(const PathAttributes& a) {
  ExtraBlob* b = new ExtraBlob{};
  PathAttributes& r = b->rest;
  r.next_hop_link_local = a.next_hop_link_local;
  r.aggregator_as = a.aggregator_as;
  r.aggregator_address = a.aggregator_address;
  r.originator_id = a.originator_id;
  r.cluster_list = a.cluster_list;
  r.otc = a.otc;
  r.aigp = a.aigp;
  r.unknown = a.unknown;
  size_t h = absl::HashOf(r.next_hop_link_local, r.aggregator_as.value_or(0),
                          r.aggregator_address, r.originator_id.value_or(0),
                          r.otc.value_or(0), r.aigp.value_or(0),
                          r.cluster_list.size(), r.unknown.size());
  for (uint32_t c : r.cluster_list) h = absl::HashOf(h, c);
  for (const UnknownAttribute& u : r.unknown) {
    h = absl::HashOf(h, u.flags, u.type, u.value);
  }
  b->h.hash = static_cast<uint32_t>(h);
  return b;
}

}  // namespace

template <typename Blob>
bool AttrStore::BlobSet<Blob>::Eq::operator()(const Blob* a,
                                              const Blob* b) const {
  if (a->h.hash != b->h.hash) return false;
  if constexpr (std::is_same_v<Blob, ExtraBlob>) {
    return a->rest == b->rest;
  } else {
    return a->h.bytes == b->h.bytes && Region(a) == Region(b);
  }
}

uint32_t RecordHash(const AttrRecord& r) {
  // Seven multiply-folds (absl::HashOf of the same fields: ~95
  // instructions), once per set: resizes read the stored hash.
  uint64_t nh[2];
  std::memcpy(nh, r.next_hop, 16);
  uint64_t h = Mix(Seed() ^ reinterpret_cast<uintptr_t>(r.as_path), kMul);
  h = Mix(h ^ reinterpret_cast<uintptr_t>(r.comms), kMul);
  h = Mix(h ^ reinterpret_cast<uintptr_t>(r.extra), kMul);
  h = Mix(h ^ ((uint64_t{r.med} << 32) | r.local_pref), kMul);
  h = Mix(h ^ ((uint64_t{r.flags} << 8) | r.origin), kMul);
  h = Mix(h ^ nh[0], kMul);
  h = Mix(h ^ nh[1], kMul);
  return static_cast<uint32_t>(h ^ (h >> 32));
}

bool AttrStore::IdEq::Same(const AttrRecord& a, const AttrRecord& b) {
  return a.hash == b.hash && a.as_path == b.as_path && a.comms == b.comms &&
         a.extra == b.extra && a.med == b.med && a.local_pref == b.local_pref &&
         a.flags == b.flags && a.origin == b.origin &&
         std::memcmp(a.next_hop, b.next_hop, 16) == 0;
}

AttrStore::AttrStore(EpochDomain* domain, Arena* arena)
    : domain_(domain),
      slab_(arena),
      refs_(arena),
      sets_(0, IdHash{this}, IdEq{this}) {}

AttrStore::~AttrStore() {
  for (AsPathBlob* b : as_paths_.set) DeleteBlob(b);
  for (CommBlob* b : comms_.set) DeleteBlob(b);
  for (ExtraBlob* b : extras_.set) DeleteBlob(b);
}

template <typename Blob>
Blob* AttrStore::InternBlob(BlobSet<Blob>* set, Blob* candidate,
                            bool in_scratch) {
  auto it = set->set.find(candidate);
  if (it != set->set.end()) {
    if (!in_scratch) DeleteBlob(candidate);
    ++(*it)->h.refs;
    return *it;
  }
  if (in_scratch) {
    size_t size = BlobBytes(candidate);
    void* raw = ::operator new(size);
    std::memcpy(raw, candidate, size);
    candidate = static_cast<Blob*>(raw);
  }
  candidate->h.refs = 1;
  set->set.insert(candidate);
  set->bytes += BlobBytes(candidate);
  return candidate;
}

template <typename Blob>
void AttrStore::ReleaseBlob(BlobSet<Blob>* set, const Blob* blob) {
  Blob* b = const_cast<Blob*>(blob);
  if (--b->h.refs != 0) return;
  set->set.erase(b);
  set->bytes -= BlobBytes(b);
  domain_->Retire(
      [](void*, void* p, uint64_t) { DeleteBlob(static_cast<Blob*>(p)); },
      nullptr, b);
}

uint32_t AttrStore::AllocId() {
  if (!free_ids_.empty()) {
    uint32_t id = free_ids_.back();
    free_ids_.pop_back();
    return id;
  }
  if (next_id_ > kMaxId) return 0;
  return next_id_++;
}

void AttrStore::FreeId(void* ctx, void*, uint64_t id) {
  AttrStore* self = static_cast<AttrStore*>(ctx);
  std::lock_guard<std::mutex> lock(self->mu_);
  self->free_ids_.push_back(static_cast<uint32_t>(id));
}

uint32_t AttrStore::Intern(const PathAttributes& attrs) {
  // Build what can be built outside the lock.
  alignas(16) unsigned char path_scratch[512];
  alignas(16) unsigned char comm_scratch[512];
  AsPathBlob* path = nullptr;
  if (!attrs.as_path.empty()) {
    path = MakeAsPath(attrs.as_path, path_scratch, sizeof(path_scratch));
    if (path == nullptr) return 0;
  }
  CommBlob* comms = nullptr;
  if (!attrs.communities.empty() || !attrs.ext_communities.empty() ||
      !attrs.large_communities.empty()) {
    comms = MakeComms(attrs, comm_scratch, sizeof(comm_scratch));
  }
  ExtraBlob* extra = HasExtra(attrs) ? MakeExtra(attrs) : nullptr;

  AttrRecord probe;
  probe.med = attrs.med.value_or(0);
  probe.local_pref = attrs.local_pref.value_or(0);
  probe.flags = (attrs.med ? kHasMed : 0) |
                (attrs.local_pref ? kHasLocalPref : 0) |
                (attrs.atomic_aggregate ? kAtomicAggregate : 0) |
                (attrs.origin ? kHasOrigin : 0) |
                (attrs.next_hop.is_v4() ? kNextHopV4 : 0) |
                (attrs.next_hop.is_v6() ? kNextHopV6 : 0);
  probe.origin = static_cast<uint8_t>(attrs.origin.value_or(Origin::kIgp));
  std::memcpy(probe.next_hop, attrs.next_hop.data(), 16);

  std::lock_guard<std::mutex> lock(mu_);
  probe.as_path = path ? InternBlob(&as_paths_, path,
                                    static_cast<void*>(path) == path_scratch)
                       : nullptr;
  probe.comms = comms ? InternBlob(&comms_, comms,
                                   static_cast<void*>(comms) == comm_scratch)
                      : nullptr;
  probe.extra = extra ? InternBlob(&extras_, extra, false) : nullptr;
  probe.hash = RecordHash(probe);
  const auto found = [&](uint32_t id) {
    // Drop the blob references taken for the probe (they are also held
    // by the found record, so none reaches zero).
    if (probe.as_path) --const_cast<AsPathBlob*>(probe.as_path)->h.refs;
    if (probe.comms) --const_cast<CommBlob*>(probe.comms)->h.refs;
    if (probe.extra) --const_cast<ExtraBlob*>(probe.extra)->h.refs;
    refs_.Get(id)->fetch_add(1, std::memory_order_relaxed);
    return id;
  };
  if (free_ids_.empty() && next_id_ > kMaxId) {  // no id for a new set
    auto it = sets_.find(&probe);
    if (it != sets_.end()) return found(*it);
    if (probe.as_path) ReleaseBlob(&as_paths_, probe.as_path);
    if (probe.comms) ReleaseBlob(&comms_, probe.comms);
    if (probe.extra) ReleaseBlob(&extras_, probe.extra);
    return 0;
  }
  // One hash and one probe sequence for find-or-insert: most sets a
  // peer announces are new.
  uint32_t fresh = 0;
  auto it =
      sets_.lazy_emplace<const AttrRecord*>(&probe, [&](const auto& ctor) {
        fresh = AllocId();  // an id is left (checked above)
        AttrRecord* rec = slab_.GetOrCreate(fresh);
        *rec = probe;
        rec->first_as = probe.as_path ? probe.as_path->first_as : 0;
        rec->origin_as = probe.as_path ? probe.as_path->origin_as : 0;
        refs_.GetOrCreate(fresh)->store(1, std::memory_order_relaxed);
        ctor(fresh);
      });
  return fresh != 0 ? fresh : found(*it);
}

void AttrStore::Release(uint32_t id) {
  AttrRecord* rec = slab_.Get(id);
  std::atomic<uint32_t>* refs = refs_.Get(id);
  uint32_t r = refs->load(std::memory_order_relaxed);
  while (r > 1) {
    if (refs->compare_exchange_weak(r, r - 1, std::memory_order_acq_rel)) {
      return;
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (refs->fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  sets_.erase(id);
  if (rec->as_path) ReleaseBlob(&as_paths_, rec->as_path);
  if (rec->comms) ReleaseBlob(&comms_, rec->comms);
  if (rec->extra) ReleaseBlob(&extras_, rec->extra);
  // The record stays readable until the grace period ends; then its id
  // returns to the free list.
  domain_->Retire(&AttrStore::FreeId, this, nullptr, id);
}

AttrStore::Counts AttrStore::GetCounts() const {
  std::lock_guard<std::mutex> lock(mu_);
  Counts c;
  c.sets = sets_.size();
  c.as_paths = as_paths_.set.size();
  c.comm_sets = comms_.set.size();
  c.extras = extras_.set.size();
  c.set_bytes = slab_.bytes() + refs_.bytes();
  c.as_path_bytes = as_paths_.bytes;
  c.comm_bytes = comms_.bytes;
  c.extra_bytes = extras_.bytes;
  c.table_bytes = (sets_.capacity() * (sizeof(uint32_t) + 1)) +
                  (as_paths_.set.capacity() + comms_.set.capacity() +
                   extras_.set.capacity()) *
                      (sizeof(void*) + 1) +
                  free_ids_.capacity() * sizeof(uint32_t);
  return c;
}

}  // namespace flowacct::bgp::rib_internal
