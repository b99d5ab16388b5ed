// DecoderState: everything a Decoder keeps between datagrams, and
// DecodeContext: what one Decode call works with. Shared by the
// per-protocol decoders (netflow_v5.cc, netflow_v9.cc / ipfix.cc, sflow.cc),
// which are free functions over these two structs.
//
// Thread-safety: thread-compatible (owned by one Decoder).

#ifndef FLOWACCT_LIBFLOWACCT_DECODE_DECODER_STATE_H_
#define FLOWACCT_LIBFLOWACCT_DECODE_DECODER_STATE_H_

#include <memory>

#include "flowacct/decode/decoder.h"
#include "flowacct/templates/template_cache.h"

#include "libflowacct/decode/sequence_tracker.h"

namespace flowacct::internal {

class FlowSetState;  // v9/IPFIX: pending buffer + sampling tables
                     // (libflowacct/decode/flowset_state.h)

struct DecoderState {
  DecoderState(const DecoderOptions& opts, const PrimitiveRegistry* reg);
  ~DecoderState();

  DecoderOptions options;
  const PrimitiveRegistry* registry;  // borrowed, may be null
  TemplateCache templates;
  DecodeStats stats;
  SequenceTracker sequences;
  DecodeObserver* observer = nullptr;
  std::unique_ptr<FlowSetState> flowsets;
};

// Per-call context handed to the protocol decoders.
struct DecodeContext {
  DecoderState& state;
  const Datagram& datagram;
  RecordBatch& out;
  ExporterStats& exporter_stats;
  DecodeSummary& summary;

  // Counts one problem for this datagram's exporter.
  void Count(DecodeError e) {
    ++exporter_stats.errors[static_cast<int>(e)];
    ++summary.errors;
    if (summary.first_error == DecodeError::kCount) summary.first_error = e;
  }
  // Sets in *r the per-datagram fields every protocol sets (protocol,
  // exporter, exporter_port, timestamp_arrival).
  void SetDatagramFields(ExportProtocol protocol, FlowRecord* r) const {
    r->protocol = protocol;
    r->exporter = datagram.exporter.address;
    r->exporter_port = datagram.exporter.port;
    r->fields.set(FlowField::kExporterPort);
    r->timestamp_arrival = datagram.arrival_ns;
  }
  // Appends a record with the per-datagram fields set. Decoders that append
  // many records sharing more than these build a prototype with
  // SetDatagramFields and use RecordBatch::AppendRecord(prototype) instead.
  FlowRecord* NewRecord(ExportProtocol protocol) {
    FlowRecord* r = out.AppendRecord();
    SetDatagramFields(protocol, r);
    return r;
  }
};

// Protocol entry points. Each decodes the whole datagram in ctx, appending
// records to ctx.out, counting problems with ctx.Count().
void DecodeNetflowV5(DecodeContext& ctx);
void DecodeNetflowV9(DecodeContext& ctx);
void DecodeIpfix(DecodeContext& ctx);
void DecodeSflowV5(DecodeContext& ctx);

}  // namespace flowacct::internal

#endif  // FLOWACCT_LIBFLOWACCT_DECODE_DECODER_STATE_H_
