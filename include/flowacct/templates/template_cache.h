// File: flowacct/templates/template_cache.h
//
// NetFlow v9 (RFC 3954) and IPFIX (RFC 7011) template state.
//
// A Template is the parsed, immutable form of one template or options
// template record: its field list plus a precomputed field program (offsets,
// lengths, target FlowRecord members and converters) that the decoders run
// per data record. Templates are shared as std::shared_ptr<const Template>:
// a redefinition publishes a new object, so a record being decoded with the
// old one is never affected (hostile-inputs NF-17).
//
// TemplateCache maps TemplateKey (exporter address and port, observation
// domain / source id, template id) to Templates, with the rules of RFC 7011
// §8 / RFC 3954 §7: a new definition for a known id replaces the old one;
// template withdrawals are honoured (IPFIX over UDP ignores them, §8.4); per-
// exporter and global caps evict least-recently-used templates; templates that
// neither were refreshed nor decoded anything for `idle_timeout` expire.
//
// The cache does no I/O and reads no clock: times are passed in (the arrival
// time of the datagram being decoded). Persistence is to and from bytes
// (a protobuf message, see template_cache.proto); io/ and the daemon write
// those bytes to `nfacctd_templates_file`.
//
// Thread-safety: thread-compatible. The pipeline gives each decode worker its
// own cache (workers are sharded by exporter).

#ifndef FLOWACCT_TEMPLATES_TEMPLATE_CACHE_H_
#define FLOWACCT_TEMPLATES_TEMPLATE_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "flowacct/model/flow_record.h"
#include "flowacct/model/ip_address.h"
#include "flowacct/model/primitive_registry.h"
#include "flowacct/status.h"

namespace flowacct {

namespace internal {
struct FieldProgram;  // compiled per-record decode steps (libflowacct only)
}  // namespace internal

struct TemplateKey {
  ExportProtocol protocol = ExportProtocol::kUnknown;  // kNetflowV9 or kIpfix
  Endpoint exporter;    // port is 0 when the cache ignores exporter ports
  uint32_t domain = 0;  // v9 source id / IPFIX observation domain id
  uint16_t template_id = 0;

  friend bool operator==(const TemplateKey&, const TemplateKey&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const TemplateKey& k) {
    return H::combine(std::move(h), k.protocol, k.exporter, k.domain,
                      k.template_id);
  }
};

// One field of a template as announced on the wire.
struct TemplateField {
  ElementId element;     // pen 0 for IANA / NetFlow v9 types
  uint16_t length = 0;   // bytes, or kVariableLength (65535)
  bool reverse = false;  // RFC 5103 reverse element (PEN 29305)
};

class Template {
 public:
  enum class Kind : uint8_t { kData, kOptions };

  // Parses nothing: builds and compiles a template from its field list.
  // `registry` (borrowed, may be null) supplies custom primitives to decode.
  // Returns kInvalidArgument for templates RFC 7011 forbids or that cannot be
  // decoded safely: no fields, all-zero record length (NF-9), fixed length
  // over 65535 (NF-10), scope count 0 or > field count for options (NF-16).
  static Result<std::shared_ptr<const Template>> Create(
      ExportProtocol protocol, uint16_t id, Kind kind,
      uint16_t scope_field_count, std::vector<TemplateField> fields,
      const PrimitiveRegistry* registry);

  ~Template();

  ExportProtocol protocol() const { return protocol_; }
  uint16_t id() const { return id_; }
  Kind kind() const { return kind_; }
  uint16_t scope_field_count() const { return scope_field_count_; }
  std::span<const TemplateField> fields() const { return fields_; }
  // Smallest possible data record (variable-length fields count as 1 byte).
  uint32_t min_record_length() const { return min_record_length_; }
  bool has_variable_length() const { return has_variable_length_; }
  // True when both layouts are the same (a refresh, not a redefinition).
  bool SameLayout(const Template& other) const;

  const internal::FieldProgram& program() const { return *program_; }

 private:
  Template() = default;

  ExportProtocol protocol_ = ExportProtocol::kUnknown;
  uint16_t id_ = 0;
  Kind kind_ = Kind::kData;
  uint16_t scope_field_count_ = 0;
  std::vector<TemplateField> fields_;
  uint32_t min_record_length_ = 0;
  bool has_variable_length_ = false;
  std::unique_ptr<internal::FieldProgram> program_;
};

struct TemplateCacheOptions {
  // Most templates kept for one exporter (all its domains). When a new one
  // arrives beyond this, the least recently used template of that exporter
  // is evicted (counted). Bounds template spraying (NF-27).
  size_t max_templates_per_exporter = 4096;
  // Most templates kept in total.
  size_t max_templates = 262144;
  // A template that was neither refreshed nor used for this long is dropped
  // (checked by Expire()). 0 disables expiry. Default: one hour, well above
  // the 30-minute refresh of the slowest exporters seen (MikroTik, FortiGate).
  int64_t idle_timeout_ns = int64_t{3600} * 1'000'000'000;
  // Key templates by exporter address only (pmacct behaviour), not by
  // address and UDP source port (RFC 7011 §8 transport session).
  bool ignore_exporter_port = false;
};

struct TemplateCacheStats {
  uint64_t added = 0;
  uint64_t refreshed = 0;  // same id, same layout
  uint64_t redefined = 0;  // same id, new layout (NF-18)
  uint64_t withdrawn = 0;
  uint64_t withdrawals_ignored = 0;  // IPFIX over UDP (RFC 7011 §8.4)
  uint64_t evicted = 0;              // caps (NF-27)
  uint64_t expired = 0;
  uint64_t rejected = 0;  // Template::Create failed
  size_t size = 0;        // templates held now
};

class TemplateCache {
 public:
  // `registry` is borrowed (may be null) and must outlive the cache; it is
  // used to compile restored templates.
  explicit TemplateCache(const TemplateCacheOptions& options,
                         const PrimitiveRegistry* registry = nullptr);
  ~TemplateCache();

  TemplateCache(const TemplateCache&) = delete;
  TemplateCache& operator=(const TemplateCache&) = delete;

  enum class PutResult : uint8_t { kAdded, kRefreshed, kRedefined };

  // Stores `tmpl` under `key` (key.exporter.port is cleared first when
  // ignore_exporter_port). Evicts to respect the caps.
  PutResult Put(const TemplateKey& key, std::shared_ptr<const Template> tmpl,
                int64_t now_ns);

  // The template for `key`, or null. Marks it used at `now_ns`.
  std::shared_ptr<const Template> Find(const TemplateKey& key, int64_t now_ns);

  // Withdraws one template (template_id != 0) or all templates of the
  // exporter and domain (IPFIX "all templates" withdrawal, id 2 or 3 sets
  // with template id = set id). Returns how many were removed.
  size_t Withdraw(const TemplateKey& key);

  // Drops every template of an exporter (all domains), e.g. after an
  // exporter restart. Returns how many were removed.
  size_t ForgetExporter(const Endpoint& exporter);

  // Drops templates idle for longer than idle_timeout at `now_ns`.
  size_t Expire(int64_t now_ns);

  // Calls fn for every template held (unspecified order).
  void ForEach(
      const std::function<void(const TemplateKey&, const Template&)>& fn) const;

  // Serialises every template (protobuf `flowacct.internal.TemplateCacheState`)
  // for nfacctd_templates_file-style persistence.
  std::string Serialize() const;
  // Adds the templates in `bytes` (from Serialize()) with last-use time
  // `now_ns`. kInvalidArgument if the bytes do not parse; templates that fail
  // to compile are skipped and counted as rejected.
  Status Restore(std::string_view bytes, int64_t now_ns);

  // Counting hooks for the decoders, which own those decisions: a template
  // record that Template::Create rejected, and an IPFIX withdrawal ignored
  // because the transport is UDP (RFC 7011 §8.4).
  void NoteRejected();
  void NoteWithdrawalIgnored();

  const TemplateCacheStats& stats() const;
  const TemplateCacheOptions& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowacct

#endif  // FLOWACCT_TEMPLATES_TEMPLATE_CACHE_H_
