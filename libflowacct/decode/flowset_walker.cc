#include "libflowacct/decode/flowset_walker.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "libflowacct/decode/field_program.h"

namespace flowacct::internal {
namespace {

constexpr uint16_t kVariableLength = 65535;  // RFC 7011 §7

// v9 flowset ids (RFC 3954 §5.2, §5.3, §6.1) and IPFIX set ids (RFC 7011
// §3.3.2).
constexpr uint16_t kV9TemplateSet = 0;
constexpr uint16_t kV9OptionsTemplateSet = 1;
constexpr uint16_t kIpfixTemplateSet = 2;
constexpr uint16_t kIpfixOptionsTemplateSet = 3;
constexpr uint16_t kMinDataSetId = 256;

void Notify(FlowSetMessage& m, const TemplateKey& key,
            DecodeObserver::TemplateEvent event) {
  if (m.ctx.state.observer != nullptr) {
    m.ctx.state.observer->OnTemplate(key, event);
  }
}

void Reject(FlowSetMessage& m, uint16_t template_id, DecodeError reason) {
  m.ctx.Count(reason);
  TemplateKey key = m.key;
  key.template_id = template_id;
  Notify(m, key, DecodeObserver::TemplateEvent::kRejected);
}

// Decodes the records of one data set with `tmpl`. `late` marks a set
// released from the pending buffer (its records keep the source port and
// arrival time of the datagram that carried them). Returns the number of
// records decoded; *complete is false when records were lost (overrun).
//
// Everything the records of the set share (exporter, arrival, header
// fields, and for most flow templates the sampling rate) is filled once into
// a prototype; each record starts as a copy of it.
size_t DecodeRecords(DecodeContext& ctx, const Template& tmpl, uint32_t domain,
                     const PendingSet& meta, ByteReader body, bool late,
                     bool* complete) {
  *complete = true;
  // A template never has a zero minimum length (Template::Create refuses
  // it, NF-9), but a loop that might not advance is guarded anyway.
  const size_t min_len = std::max<size_t>(1, tmpl.min_record_length());
  const FieldProgram& prog = tmpl.program();
  SamplingTable& sampling = ctx.state.flowsets->sampling();
  const IpAddress& exporter = ctx.datagram.exporter.address;
  const bool options = tmpl.kind() == Template::Kind::kOptions ||
                       prog.kind == RecordKind::kOptions;
  // IPFIX IE 21/22 without an IE 160 of their own are relative to the init
  // time the domain's options data announced, when there was one.
  RecordTimeBase time = meta.time;
  if (!options && ctx.state.options.ipfix_options_system_init_time &&
      tmpl.protocol() == ExportProtocol::kIpfix &&
      (prog.flags & (FieldProgram::kResolveSysUpStart |
                     FieldProgram::kResolveSysUpEnd)) != 0 &&
      (prog.flags & FieldProgram::kHasSysInit) == 0) {
    if (std::optional<uint64_t> init =
            ctx.state.flowsets->SysInit(exporter, domain)) {
      time.sys_init_ms = *init;
      time.has_sys_init = true;
    }
  }

  FlowRecord proto;
  ctx.SetDatagramFields(tmpl.protocol(), &proto);
  if (late) {
    proto.exporter_port = meta.exporter_port;
    proto.timestamp_arrival = meta.arrival_ns;
  }
  proto.observation_domain = domain;
  proto.fields.set(FlowField::kObservationDomain);
  proto.export_seqno = meta.export_seqno;
  proto.fields.set(FlowField::kExportSeqno);
  proto.timestamp_export = meta.time.export_time_ns;
  proto.fields.set(FlowField::kTimestampExport);
  PrepareRecordPrototype(tmpl, time, &proto);
  // Flow records that carry neither a sampler id nor a rate of their own
  // all get the same rate from the table (which flow data does not change):
  // look it up once for the set.
  const bool per_record_sampling = prog.fields.has(FlowField::kSamplerId) ||
                                   prog.fields.has(FlowField::kSamplingRate);
  if (!options && !per_record_sampling) {
    sampling.Apply(exporter, domain, &proto);
  }

  size_t n = 0;
  while (body.remaining() >= min_len) {
    const size_t before = body.remaining();
    FlowRecord* r = ctx.out.AppendRecord(proto);
    RecordIssues issues;
    const bool ok =
        DecodeDataRecordFields(tmpl, time, &body, &ctx.out, r, &issues);
    if (!ok || body.remaining() >= before) {
      ctx.out.PopRecord();
      // Padding after variable-length records (peers.md Q9): zero bytes,
      // or fewer than 4 (alignment) of any value. Anything else is a
      // record running past its set (NF-13).
      if (body.remaining() >= 4 && !AllZero(body.rest())) {
        ctx.Count(DecodeError::kVarLenOverrun);
        *complete = false;
      }
      break;
    }
    if (issues.field_length) ctx.Count(DecodeError::kFieldLength);
    if (issues.time_anomaly) ctx.Count(DecodeError::kTimeAnomaly);
    if (options) {
      r->kind = RecordKind::kOptions;
      sampling.LearnFromOptions(exporter, domain, *r);
      if (issues.sys_init_ms != 0) {
        ctx.state.flowsets->LearnSysInit(exporter, domain, issues.sys_init_ms);
      }
    } else if (per_record_sampling) {
      sampling.Apply(exporter, domain, r);
    }
    ++n;
  }
  // Bytes shorter than the smallest record are padding (RFC 7011 §3.3.1;
  // NF-21), whatever their value: peers.md Q9/Q11 pad by up to 36 bytes, and
  // real exporters leave non-zero padding (ipfixcol2's example capture).
  if (options) {
    ctx.exporter_stats.options_records += n;
  } else {
    ctx.exporter_stats.records += n;
  }
  if (late) ctx.exporter_stats.pending_records += n;
  return n;
}

void DecodePendingFor(FlowSetMessage& m, const TemplateKey& key,
                      const Template& tmpl) {
  DecoderState& state = m.ctx.state;
  std::vector<PendingSet> sets;
  state.flowsets->TakePending(state, key, m.meta.arrival_ns, &sets);
  for (const PendingSet& p : sets) {
    bool complete = true;
    DecodeRecords(m.ctx, tmpl, key.domain, p,
                  ByteReader(p.body.data(), p.body.size()), /*late=*/true,
                  &complete);
  }
}

// Reads `count` IPFIX field specifiers (RFC 7011 §3.2) into *fields.
// False when the set ends inside one (NF-6, NF-14).
bool ReadIpfixFields(ByteReader& set, uint16_t count,
                     std::vector<TemplateField>* fields) {
  // Each specifier takes at least 4 bytes: never reserve more than the set
  // can hold, whatever the wire count says (NF-6).
  fields->clear();
  fields->reserve(std::min<size_t>(count, set.remaining() / 4));
  for (uint16_t i = 0; i < count; ++i) {
    uint16_t ie = 0;
    uint16_t len = 0;
    if (!set.ReadU16(&ie) || !set.ReadU16(&len)) return false;
    TemplateField f;
    f.length = len;
    if (ie & 0x8000) {  // enterprise bit: a 4-byte PEN follows
      uint32_t pen = 0;
      if (!set.ReadU32(&pen)) return false;
      f.element = ElementId{pen, static_cast<uint16_t>(ie & 0x7fff)};
      f.reverse = pen == 29305;  // RFC 5103 §6.1 reverse PEN
    } else {
      f.element = ElementId{0, ie};
    }
    fields->push_back(f);
  }
  return true;
}

// RFC 7011 §3.4.1 (template set), §3.4.2 (options template set), §8.1
// (withdrawals: field count 0).
void ParseIpfixTemplateSet(FlowSetMessage& m, ByteReader set, bool options) {
  std::vector<TemplateField>& fields = m.ctx.state.flowsets->template_fields();
  while (set.remaining() >= 4) {
    if (AllZero(set.rest())) return;  // padding
    uint16_t id = 0;
    uint16_t count = 0;
    set.ReadU16(&id);
    set.ReadU16(&count);
    if (count == 0) {
      // A withdrawal. Over UDP withdrawals MUST be ignored (RFC 7011 §8.4,
      // NF-7); a withdrawal is only 4 bytes long, so the next record starts
      // right here (NF-8: fewer than 4 bytes left ends the loop).
      m.ctx.Count(DecodeError::kWithdrawalIgnored);
      continue;
    }
    uint16_t scope = 0;
    if (options && !set.ReadU16(&scope)) {
      Reject(m, id, DecodeError::kTemplateTruncated);
      return;
    }
    if (!ReadIpfixFields(set, count, &fields)) {
      Reject(m, id, DecodeError::kTemplateTruncated);
      return;
    }
    if (id < kMinDataSetId) {
      Reject(m, id, DecodeError::kTemplateIdReserved);
      continue;
    }
    if (options && (scope == 0 || scope > count)) {
      Reject(m, id, DecodeError::kTemplateBadScope);
      continue;
    }
    AddTemplate(m, id,
                options ? Template::Kind::kOptions : Template::Kind::kData,
                scope, fields);
  }
}

// RFC 3954 §5.2: {template id, field count, {type, length} * count} *.
void ParseV9TemplateSet(FlowSetMessage& m, ByteReader set) {
  while (set.remaining() >= 4) {
    if (AllZero(set.rest())) return;  // padding
    uint16_t id = 0;
    uint16_t count = 0;
    set.ReadU16(&id);
    set.ReadU16(&count);
    if (size_t{count} * 4 > set.remaining()) {
      Reject(m, id, DecodeError::kTemplateTruncated);
      return;
    }
    if (id < kMinDataSetId) {
      set.Skip(size_t{count} * 4);
      Reject(m, id, DecodeError::kTemplateIdReserved);
      continue;
    }
    std::vector<TemplateField>& fields =
        m.ctx.state.flowsets->template_fields();
    fields.clear();
    fields.reserve(count);  // bounded by the set length, checked above
    for (uint16_t i = 0; i < count; ++i) {
      uint16_t type = 0;
      uint16_t len = 0;
      set.ReadU16(&type);
      set.ReadU16(&len);
      // v9 has no enterprise bit: types >= 32768 (Cisco NSEL) stay as-is.
      fields.push_back(TemplateField{ElementId{0, type}, len, false});
    }
    AddTemplate(m, id, Template::Kind::kData, 0, fields);
  }
}

// RFC 3954 §6.1: {template id, option scope length, option length (both in
// bytes), scope fields, option fields} * , padded to 4 bytes.
void ParseV9OptionsTemplateSet(FlowSetMessage& m, ByteReader set) {
  while (set.remaining() >= 6) {
    if (AllZero(set.rest())) return;  // padding
    uint16_t id = 0;
    uint16_t scope_len = 0;
    uint16_t option_len = 0;
    set.ReadU16(&id);
    set.ReadU16(&scope_len);
    set.ReadU16(&option_len);
    const size_t body = size_t{scope_len} + option_len;
    if (body > set.remaining()) {
      Reject(m, id, DecodeError::kTemplateTruncated);
      return;
    }
    if (id < kMinDataSetId) {
      set.Skip(body);
      Reject(m, id, DecodeError::kTemplateIdReserved);
      continue;
    }
    // Scope must be present and both lengths whole field specifiers (NF-16).
    if (scope_len == 0 || scope_len % 4 != 0 || option_len % 4 != 0) {
      set.Skip(body);
      Reject(m, id, DecodeError::kTemplateBadScope);
      continue;
    }
    std::vector<TemplateField>& fields =
        m.ctx.state.flowsets->template_fields();
    fields.clear();
    fields.reserve(body / 4);
    for (size_t i = 0; i < body / 4; ++i) {
      uint16_t type = 0;
      uint16_t len = 0;
      set.ReadU16(&type);
      set.ReadU16(&len);
      fields.push_back(TemplateField{ElementId{0, type}, len, false});
    }
    AddTemplate(m, id, Template::Kind::kOptions,
                static_cast<uint16_t>(scope_len / 4), fields);
  }
}

}  // namespace

bool AllZero(std::span<const uint8_t> bytes) {
  return std::all_of(bytes.begin(), bytes.end(),
                     [](uint8_t b) { return b == 0; });
}

// True when `tmpl` was built from exactly these field specifiers.
bool SameFields(const Template& tmpl, Template::Kind kind, uint16_t scope,
                std::span<const TemplateField> fields) {
  if (tmpl.kind() != kind || tmpl.scope_field_count() != scope ||
      tmpl.fields().size() != fields.size()) {
    return false;
  }
  for (size_t i = 0; i < fields.size(); ++i) {
    const TemplateField& a = tmpl.fields()[i];
    const TemplateField& b = fields[i];
    if (!(a.element == b.element) || a.length != b.length ||
        a.reverse != b.reverse) {
      return false;
    }
  }
  return true;
}

FlowSetMessage StartMessage(DecodeContext& ctx, ExportProtocol protocol,
                            uint32_t domain, uint32_t export_secs,
                            uint32_t sequence) {
  Endpoint key_exporter = ctx.datagram.exporter;
  if (ctx.state.options.templates.ignore_exporter_port) key_exporter.port = 0;
  FlowSetMessage m{ctx, TemplateKey{protocol, key_exporter, domain, 0},
                   PendingSet{}};
  m.meta.time.protocol = protocol;
  m.meta.time.export_time_ns = int64_t{export_secs} * 1'000'000'000;
  m.meta.time.use_exporter_address_element =
      ctx.state.options.use_exporter_address_element;
  m.meta.export_seqno = sequence;
  m.meta.exporter_port = ctx.datagram.exporter.port;
  m.meta.arrival_ns = ctx.datagram.arrival_ns;
  return m;
}

void AddTemplate(FlowSetMessage& m, uint16_t template_id, Template::Kind kind,
                 uint16_t scope_field_count,
                 std::span<const TemplateField> fields) {
  DecoderState& state = m.ctx.state;
  TemplateKey key = m.key;
  key.template_id = template_id;

  // Name the reason before Template::Create refuses the template, so the
  // counter says why (hostile-inputs NF-9, NF-10, NF-16).
  uint64_t fixed = 0;
  bool variable = false;
  for (const TemplateField& f : fields) {
    if (f.length == kVariableLength) {
      variable = true;
    } else {
      fixed += f.length;
    }
  }
  const bool options = kind == Template::Kind::kOptions;
  if (options &&
      (scope_field_count == 0 || scope_field_count > fields.size())) {
    Reject(m, template_id, DecodeError::kTemplateBadScope);
    return;
  }
  if (fields.empty() || (fixed == 0 && !variable)) {
    Reject(m, template_id, DecodeError::kTemplateZeroLength);
    return;
  }
  if (fixed > 65535) {
    Reject(m, template_id, DecodeError::kTemplateTooLong);
    return;
  }

  // Exporters re-send every template every few seconds: a refresh reuses the
  // compiled template instead of compiling (and allocating) a new one.
  std::shared_ptr<const Template> tmpl =
      state.templates.Find(key, m.meta.arrival_ns);
  const uint16_t scope = options ? scope_field_count : 0;
  if (tmpl == nullptr || !SameFields(*tmpl, kind, scope, fields)) {
    auto created = Template::Create(
        key.protocol, template_id, kind, scope_field_count,
        std::vector<TemplateField>(fields.begin(), fields.end()),
        state.registry);
    if (!created.ok()) {
      // A refusal the checks above did not foresee; count it under the
      // closest reason.
      Reject(m, template_id,
             options ? DecodeError::kTemplateBadScope
                     : DecodeError::kTemplateZeroLength);
      return;
    }
    tmpl = std::move(created).value();
  }
  if (options) {
    ++m.ctx.exporter_stats.options_templates;
  } else {
    ++m.ctx.exporter_stats.templates;
  }
  const uint64_t evicted_before = state.templates.stats().evicted;
  const TemplateCache::PutResult put =
      state.templates.Put(key, tmpl, m.meta.arrival_ns);
  // Spraying (NF-27): the cache evicted to stay within its caps.
  if (state.templates.stats().evicted != evicted_before) {
    m.ctx.Count(DecodeError::kTemplateCapReached);
  }
  switch (put) {
    case TemplateCache::PutResult::kAdded:
      Notify(m, key, DecodeObserver::TemplateEvent::kAdded);
      break;
    case TemplateCache::PutResult::kRefreshed:
      Notify(m, key, DecodeObserver::TemplateEvent::kRefreshed);
      break;
    case TemplateCache::PutResult::kRedefined:
      Notify(m, key, DecodeObserver::TemplateEvent::kRedefined);
      break;
  }
  if (state.flowsets->HasPending(key)) DecodePendingFor(m, key, *tmpl);
}

void DecodeDataSet(FlowSetMessage& m, uint16_t set_id, ByteReader body) {
  DecoderState& state = m.ctx.state;
  TemplateKey key = m.key;
  key.template_id = set_id;
  std::shared_ptr<const Template> tmpl =
      state.templates.Find(key, m.meta.arrival_ns);
  if (tmpl == nullptr) {
    // Its records cannot be counted for IPFIX sequence accounting.
    m.uncounted = true;
    if (body.empty()) return;
    if (!state.flowsets->AddPending(state, key, m.meta, body.rest(),
                                    m.meta.arrival_ns)) {
      m.ctx.Count(DecodeError::kNoTemplate);
    }
    return;
  }
  bool complete = true;
  m.data_records += DecodeRecords(m.ctx, *tmpl, key.domain, m.meta, body,
                                  /*late=*/false, &complete);
  if (!complete) m.uncounted = true;
}

void WalkSets(FlowSetMessage& m, ByteReader sets) {
  const bool ipfix = m.key.protocol == ExportProtocol::kIpfix;
  while (!sets.empty()) {
    // Zero fill after the last set (PAN-OS, peers.md Q30; Cisco ACI): not an
    // error, nothing follows.
    if (sets.remaining() < 4) {
      if (!AllZero(sets.rest())) m.ctx.Count(DecodeError::kSetTooShort);
      return;
    }
    const uint16_t set_id = LoadBe16(sets.data());
    const uint16_t set_len = LoadBe16(sets.data() + 2);
    if (set_len < 4) {
      // A length that cannot advance (NF-2): nothing after it can be found.
      if (!AllZero(sets.rest())) {
        m.ctx.Count(DecodeError::kSetTooShort);
        m.uncounted = true;
      }
      return;
    }
    if (set_len > sets.remaining()) {  // NF-3
      m.ctx.Count(DecodeError::kSetOverrun);
      m.uncounted = true;
      return;
    }
    ByteReader set;
    sets.Sub(set_len, &set);
    set.Skip(4);
    if (set_id >= kMinDataSetId) {
      DecodeDataSet(m, set_id, set);
    } else if (ipfix && set_id == kIpfixTemplateSet) {
      ParseIpfixTemplateSet(m, set, /*options=*/false);
    } else if (ipfix && set_id == kIpfixOptionsTemplateSet) {
      ParseIpfixTemplateSet(m, set, /*options=*/true);
    } else if (!ipfix && set_id == kV9TemplateSet) {
      ParseV9TemplateSet(m, set);
    } else if (!ipfix && set_id == kV9OptionsTemplateSet) {
      ParseV9OptionsTemplateSet(m, set);
    } else {
      // IPFIX 0, 1, 4..255; v9 2..255 (NF-4): skipped by its length.
      m.ctx.Count(DecodeError::kReservedSetId);
    }
  }
}

}  // namespace flowacct::internal
