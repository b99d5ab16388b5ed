#include "flowacct/templates/template_cache.h"

#include <utility>

#include "libflowacct/decode/field_program.h"
#include "libflowacct/templates/template_cache.pb.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

namespace flowacct {

// ---------------------------------------------------------------------------
// Template

Template::~Template() = default;

Result<std::shared_ptr<const Template>> Template::Create(
    ExportProtocol protocol, uint16_t id, Kind kind, uint16_t scope_field_count,
    std::vector<TemplateField> fields, const PrimitiveRegistry* registry) {
  if (fields.empty()) {
    return InvalidArgumentError(absl::StrCat("template ", id, ": no fields"));
  }
  if (kind == Kind::kOptions) {
    // RFC 7011 §3.4.2.2: scope field count MUST NOT be zero; it cannot
    // exceed the field count (NF-16).
    if (scope_field_count == 0 || scope_field_count > fields.size()) {
      return InvalidArgumentError(
          absl::StrCat("options template ", id, ": scope field count ",
                       scope_field_count, " of ", fields.size(), " fields"));
    }
  } else {
    scope_field_count = 0;
  }
  // Sums in a wide type (NF-10); variable-length fields count 1 byte.
  uint64_t fixed = 0;
  uint64_t min_length = 0;
  bool variable = false;
  for (const TemplateField& f : fields) {
    if (f.length == kVariableLength) {
      variable = true;
      min_length += 1;
    } else {
      fixed += f.length;
      min_length += f.length;
    }
  }
  if (fixed > 0xFFFF) {
    return InvalidArgumentError(absl::StrCat(
        "template ", id, ": fixed field lengths sum to ", fixed, " > 65535"));
  }
  if (min_length == 0) {
    // A zero-length record can never advance through a set (NF-9).
    return InvalidArgumentError(
        absl::StrCat("template ", id, ": record length 0"));
  }
  std::shared_ptr<Template> t(new Template());
  t->protocol_ = protocol;
  t->id_ = id;
  t->kind_ = kind;
  t->scope_field_count_ = scope_field_count;
  t->fields_ = std::move(fields);
  t->min_record_length_ = static_cast<uint32_t>(min_length);
  t->has_variable_length_ = variable;
  t->program_ = std::make_unique<internal::FieldProgram>();
  const size_t v9_scope_fields =
      protocol == ExportProtocol::kNetflowV9 ? scope_field_count : 0;
  internal::CompileFieldProgram(id, kind == Kind::kOptions, t->fields_,
                                registry, t->program_.get(), v9_scope_fields);
  return std::shared_ptr<const Template>(std::move(t));
}

bool Template::SameLayout(const Template& other) const {
  if (kind_ != other.kind_ || scope_field_count_ != other.scope_field_count_ ||
      fields_.size() != other.fields_.size()) {
    return false;
  }
  for (size_t i = 0; i < fields_.size(); ++i) {
    const TemplateField& a = fields_[i];
    const TemplateField& b = other.fields_[i];
    if (!(a.element == b.element) || a.length != b.length ||
        a.reverse != b.reverse) {
      return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------
// TemplateCache
//
// Every template is a Node owned by `map`, linked into two intrusive LRU
// lists (most recent at the head): the global one and its exporter's. All
// operations but Expire/Withdraw/ForgetExporter (which touch only what they
// remove, plus the per-exporter list walk) are O(1).

namespace {

struct Node {
  TemplateKey key;
  std::shared_ptr<const Template> tmpl;
  int64_t last_used = 0;
  Node* gprev = nullptr;
  Node* gnext = nullptr;
  Node* eprev = nullptr;
  Node* enext = nullptr;
};

struct List {
  Node* head = nullptr;
  Node* tail = nullptr;
  size_t size = 0;
};

template <Node* Node::*kPrev, Node* Node::*kNext>
void PushFront(List* l, Node* n) {
  n->*kPrev = nullptr;
  n->*kNext = l->head;
  if (l->head != nullptr) l->head->*kPrev = n;
  l->head = n;
  if (l->tail == nullptr) l->tail = n;
  ++l->size;
}

template <Node* Node::*kPrev, Node* Node::*kNext>
void Unlink(List* l, Node* n) {
  if (n->*kPrev != nullptr) {
    (n->*kPrev)->*kNext = n->*kNext;
  } else {
    l->head = n->*kNext;
  }
  if (n->*kNext != nullptr) {
    (n->*kNext)->*kPrev = n->*kPrev;
  } else {
    l->tail = n->*kPrev;
  }
  n->*kPrev = n->*kNext = nullptr;
  --l->size;
}

constexpr auto GPush = PushFront<&Node::gprev, &Node::gnext>;
constexpr auto GUnlink = Unlink<&Node::gprev, &Node::gnext>;
constexpr auto EPush = PushFront<&Node::eprev, &Node::enext>;
constexpr auto EUnlink = Unlink<&Node::eprev, &Node::enext>;

}  // namespace

struct TemplateCache::Impl {
  TemplateCacheOptions options;
  const PrimitiveRegistry* registry = nullptr;
  TemplateCacheStats stats;
  absl::flat_hash_map<TemplateKey, std::unique_ptr<Node>> map;
  List global;
  // Per exporter address (not port: caps must hold against an exporter
  // spraying from many source ports).
  absl::flat_hash_map<IpAddress, List> exporters;

  TemplateKey Normalize(const TemplateKey& key) const {
    TemplateKey k = key;
    if (options.ignore_exporter_port) k.exporter.port = 0;
    return k;
  }

  void Touch(Node* n, int64_t now_ns) {
    n->last_used = now_ns;
    if (global.head != n) {
      GUnlink(&global, n);
      GPush(&global, n);
    }
    List& el = exporters[n->key.exporter.address];
    if (el.head != n) {
      EUnlink(&el, n);
      EPush(&el, n);
    }
  }

  // Removes n (and its map entry). Invalidates n.
  void Remove(Node* n) {
    GUnlink(&global, n);
    auto it = exporters.find(n->key.exporter.address);
    if (it != exporters.end()) {
      EUnlink(&it->second, n);
      if (it->second.size == 0) exporters.erase(it);
    }
    const TemplateKey key = n->key;
    map.erase(key);
    stats.size = map.size();
  }

  // Removes the templates of `address` for which pred(node) holds.
  template <typename Pred>
  size_t RemoveIf(const IpAddress& address, Pred pred) {
    auto it = exporters.find(address);
    if (it == exporters.end()) return 0;
    size_t removed = 0;
    Node* n = it->second.head;
    while (n != nullptr) {
      Node* next = n->enext;
      if (pred(*n)) {
        const bool last = it->second.size == 1;
        Remove(n);
        ++removed;
        if (last) break;  // the exporter entry is gone
      }
      n = next;
    }
    return removed;
  }
};

TemplateCache::TemplateCache(const TemplateCacheOptions& options,
                             const PrimitiveRegistry* registry)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
  impl_->registry = registry;
}

TemplateCache::~TemplateCache() = default;

TemplateCache::PutResult TemplateCache::Put(
    const TemplateKey& key, std::shared_ptr<const Template> tmpl,
    int64_t now_ns) {
  Impl& m = *impl_;
  const TemplateKey k = m.Normalize(key);
  auto it = m.map.find(k);
  if (it != m.map.end()) {
    Node* n = it->second.get();
    const bool same =
        n->tmpl != nullptr && tmpl != nullptr && n->tmpl->SameLayout(*tmpl);
    // Holders of the old shared_ptr keep it alive (NF-17).
    n->tmpl = std::move(tmpl);
    m.Touch(n, now_ns);
    if (same) {
      ++m.stats.refreshed;
      return PutResult::kRefreshed;
    }
    ++m.stats.redefined;
    return PutResult::kRedefined;
  }
  // Make room (NF-27): first within the exporter, then globally.
  const size_t per_exporter = m.options.max_templates_per_exporter;
  if (per_exporter > 0) {
    auto eit = m.exporters.find(k.exporter.address);
    while (eit != m.exporters.end() && eit->second.size >= per_exporter) {
      const bool last = eit->second.size == 1;
      m.Remove(eit->second.tail);
      ++m.stats.evicted;
      if (last) break;
    }
  }
  if (m.options.max_templates > 0) {
    while (m.global.tail != nullptr &&
           m.map.size() >= m.options.max_templates) {
      m.Remove(m.global.tail);
      ++m.stats.evicted;
    }
  }
  auto node = std::make_unique<Node>();
  Node* n = node.get();
  n->key = k;
  n->tmpl = std::move(tmpl);
  n->last_used = now_ns;
  m.map.emplace(k, std::move(node));
  GPush(&m.global, n);
  EPush(&m.exporters[k.exporter.address], n);
  ++m.stats.added;
  m.stats.size = m.map.size();
  return PutResult::kAdded;
}

std::shared_ptr<const Template> TemplateCache::Find(const TemplateKey& key,
                                                    int64_t now_ns) {
  Impl& m = *impl_;
  auto it = m.map.find(m.Normalize(key));
  if (it == m.map.end()) return nullptr;
  Node* n = it->second.get();
  m.Touch(n, now_ns);
  return n->tmpl;
}

size_t TemplateCache::Withdraw(const TemplateKey& key) {
  Impl& m = *impl_;
  const TemplateKey k = m.Normalize(key);
  size_t removed = 0;
  if (k.template_id >= 256) {
    auto it = m.map.find(k);
    if (it != m.map.end()) {
      m.Remove(it->second.get());
      removed = 1;
    }
  } else {
    // RFC 7011 §8.1: template id 2 withdraws all templates, 3 all options
    // templates of the domain; 0 is taken as "all of both".
    const uint16_t which = k.template_id;
    removed = m.RemoveIf(k.exporter.address, [&](const Node& n) {
      if (n.key.protocol != k.protocol || n.key.domain != k.domain ||
          n.key.exporter.port != k.exporter.port) {
        return false;
      }
      const bool options =
          n.tmpl != nullptr && n.tmpl->kind() == Template::Kind::kOptions;
      if (which == 2) return !options;
      if (which == 3) return options;
      return true;
    });
  }
  m.stats.withdrawn += removed;
  return removed;
}

size_t TemplateCache::ForgetExporter(const Endpoint& exporter) {
  Impl& m = *impl_;
  const bool any_port = m.options.ignore_exporter_port || exporter.port == 0;
  return m.RemoveIf(exporter.address, [&](const Node& n) {
    return any_port || n.key.exporter.port == exporter.port;
  });
}

size_t TemplateCache::Expire(int64_t now_ns) {
  Impl& m = *impl_;
  const int64_t timeout = m.options.idle_timeout_ns;
  if (timeout <= 0) return 0;
  size_t removed = 0;
  // The global list is in last-use order: expired ones are at the tail.
  while (m.global.tail != nullptr &&
         now_ns - m.global.tail->last_used > timeout) {
    m.Remove(m.global.tail);
    ++removed;
  }
  m.stats.expired += removed;
  return removed;
}

void TemplateCache::ForEach(
    const std::function<void(const TemplateKey&, const Template&)>& fn) const {
  for (const Node* n = impl_->global.head; n != nullptr; n = n->gnext) {
    if (n->tmpl != nullptr) fn(n->key, *n->tmpl);
  }
}

std::string TemplateCache::Serialize() const {
  internal::TemplateCacheState state;
  state.set_format_version(1);
  // Least recently used first, so that Restore rebuilds the same LRU order.
  for (const Node* n = impl_->global.tail; n != nullptr; n = n->gprev) {
    if (n->tmpl == nullptr) continue;
    internal::TemplateState* t = state.add_templates();
    t->set_protocol(static_cast<uint32_t>(n->key.protocol));
    const IpAddress& a = n->key.exporter.address;
    t->set_exporter_address(reinterpret_cast<const char*>(a.data()),
                            static_cast<size_t>(a.size()));
    t->set_exporter_port(n->key.exporter.port);
    t->set_domain(n->key.domain);
    t->set_template_id(n->key.template_id);
    t->set_options(n->tmpl->kind() == Template::Kind::kOptions);
    t->set_scope_field_count(n->tmpl->scope_field_count());
    for (const TemplateField& f : n->tmpl->fields()) {
      internal::TemplateFieldState* fs = t->add_fields();
      fs->set_pen(f.element.pen);
      fs->set_id(f.element.id);
      fs->set_length(f.length);
      fs->set_reverse(f.reverse);
    }
  }
  return state.SerializeAsString();
}

Status TemplateCache::Restore(std::string_view bytes, int64_t now_ns) {
  internal::TemplateCacheState state;
  if (!state.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return InvalidArgumentError("template cache state does not parse");
  }
  if (state.format_version() != 1) {
    return InvalidArgumentError(
        absl::StrCat("template cache state: unknown format version ",
                     state.format_version()));
  }
  Impl& m = *impl_;
  for (const internal::TemplateState& t : state.templates()) {
    const std::string& addr = t.exporter_address();
    const bool shape_ok =
        (t.protocol() == static_cast<uint32_t>(ExportProtocol::kNetflowV9) ||
         t.protocol() == static_cast<uint32_t>(ExportProtocol::kIpfix)) &&
        (addr.empty() || addr.size() == 4 || addr.size() == 16) &&
        t.exporter_port() <= 0xFFFF && t.template_id() <= 0xFFFF &&
        t.scope_field_count() <= 0xFFFF && t.fields_size() <= 0xFFFF;
    if (!shape_ok) {
      ++m.stats.rejected;
      continue;
    }
    std::vector<TemplateField> fields;
    fields.reserve(t.fields_size());
    bool fields_ok = true;
    for (const internal::TemplateFieldState& fs : t.fields()) {
      if (fs.id() > 0xFFFF || fs.length() > 0xFFFF) {
        fields_ok = false;
        break;
      }
      TemplateField f;
      f.element.pen = fs.pen();
      f.element.id = static_cast<uint16_t>(fs.id());
      f.length = static_cast<uint16_t>(fs.length());
      f.reverse = fs.reverse();
      fields.push_back(f);
    }
    if (!fields_ok) {
      ++m.stats.rejected;
      continue;
    }
    TemplateKey key;
    key.protocol = static_cast<ExportProtocol>(t.protocol());
    const auto* p = reinterpret_cast<const uint8_t*>(addr.data());
    if (addr.size() == 4) key.exporter.address = IpAddress::V4Bytes(p);
    if (addr.size() == 16) key.exporter.address = IpAddress::V6Bytes(p);
    key.exporter.port = static_cast<uint16_t>(t.exporter_port());
    key.domain = t.domain();
    key.template_id = static_cast<uint16_t>(t.template_id());
    auto tmpl = Template::Create(
        key.protocol, key.template_id,
        t.options() ? Template::Kind::kOptions : Template::Kind::kData,
        static_cast<uint16_t>(t.scope_field_count()), std::move(fields),
        m.registry);
    if (!tmpl.ok()) {
      ++m.stats.rejected;
      continue;
    }
    Put(key, std::move(tmpl).value(), now_ns);
  }
  return Status::Ok();
}

void TemplateCache::NoteRejected() { ++impl_->stats.rejected; }
void TemplateCache::NoteWithdrawalIgnored() {
  ++impl_->stats.withdrawals_ignored;
}

const TemplateCacheStats& TemplateCache::stats() const { return impl_->stats; }
const TemplateCacheOptions& TemplateCache::options() const {
  return impl_->options;
}

}  // namespace flowacct
