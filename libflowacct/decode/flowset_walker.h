// Set walking shared by the NetFlow v9 (RFC 3954) and IPFIX (RFC 7011)
// decoders: the loop over (flow)sets, template and options template records,
// data sets with their records, the data-before-template buffer and the
// sampling table. netflow_v9.cc and ipfix.cc parse their message headers,
// fill a FlowSetMessage and call WalkSets.
//
// Thread-safety: free functions over a DecodeContext (one Decoder's thread).

#ifndef FLOWACCT_LIBFLOWACCT_DECODE_FLOWSET_WALKER_H_
#define FLOWACCT_LIBFLOWACCT_DECODE_FLOWSET_WALKER_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "flowacct/templates/template_cache.h"

#include "libflowacct/common/byte_reader.h"
#include "libflowacct/decode/decoder_state.h"
#include "libflowacct/decode/flowset_state.h"

namespace flowacct::internal {

// One v9 export packet / IPFIX message being decoded.
struct FlowSetMessage {
  DecodeContext& ctx;
  // protocol, exporter (port cleared when templates ignore ports) and
  // domain; template_id is filled per template / data set.
  TemplateKey key;
  // Header times, sequence number, source port and arrival of this message
  // (`body` unused); also what a buffered data set keeps.
  PendingSet meta;

  // IPFIX sequence accounting (RFC 7011 §3.1 counts data records): records
  // decoded from this message's data sets, and whether some data records
  // could not be counted (no template yet, overrun, truncated set).
  uint64_t data_records = 0;
  bool uncounted = false;
};

// The message state shared by NetFlow v9 and IPFIX: key (exporter port
// cleared when templates ignore ports), export time, sequence number,
// source port, arrival time and the exporter-address option. v9 adds its
// sysUptime to meta.time.
FlowSetMessage StartMessage(DecodeContext& ctx, ExportProtocol protocol,
                            uint32_t domain, uint32_t export_secs,
                            uint32_t sequence);

// True when every byte is zero (zero fill / padding), also for empty input.
bool AllZero(std::span<const uint8_t> bytes);

// Walks the sets in `sets` (the message after its header) until the end,
// a set header that cannot be trusted (kSetTooShort, kSetOverrun) or zero
// fill (peers.md Q30: stop silently).
void WalkSets(FlowSetMessage& m, ByteReader sets);

// Validates and stores one template or options template record: counts the
// rejection reason (kTemplateZeroLength, kTemplateTooLong, kTemplateBadScope)
// or puts it into the cache, updates exporter stats and the observer, then
// decodes data sets that were waiting for it. A refresh (same fields as the
// cached template) reuses the compiled template. `fields` is only read.
void AddTemplate(FlowSetMessage& m, uint16_t template_id, Template::Kind kind,
                 uint16_t scope_field_count,
                 std::span<const TemplateField> fields);

// Decodes (or buffers) the data set `set_id` whose content after the set
// header is `body`.
void DecodeDataSet(FlowSetMessage& m, uint16_t set_id, ByteReader body);

}  // namespace flowacct::internal

#endif  // FLOWACCT_LIBFLOWACCT_DECODE_FLOWSET_WALKER_H_
