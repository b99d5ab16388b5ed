#include "flowacct/decode/decoder.h"

#include "libflowacct/common/byte_reader.h"
#include "libflowacct/decode/decoder_state.h"
#include "libflowacct/decode/flowset_state.h"

namespace flowacct {
namespace internal {

DecoderState::DecoderState(const DecoderOptions& opts,
                           const PrimitiveRegistry* reg)
    : options(opts),
      registry(reg),
      templates(opts.templates, reg),
      flowsets(std::make_unique<FlowSetState>(opts)) {}

DecoderState::~DecoderState() = default;

}  // namespace internal

Decoder::Decoder() = default;
Decoder::~Decoder() = default;

Result<std::unique_ptr<Decoder>> Decoder::Create(
    const DecoderOptions& options, const PrimitiveRegistry* registry) {
  if (options.sflow_max_header_depth < 1 ||
      options.sflow_max_header_depth > 64) {
    return InvalidArgumentError("sflow_max_header_depth must be in 1..64");
  }
  std::unique_ptr<Decoder> d(new Decoder());
  d->state_ = std::make_unique<internal::DecoderState>(options, registry);
  return d;
}

DecodeSummary Decoder::Decode(const Datagram& datagram, RecordBatch* out) {
  DecodeSummary summary;
  ExporterStats& es = state_->stats.exporters[datagram.exporter.address];
  ++es.datagrams;
  es.bytes += datagram.payload.size();
  internal::DecodeContext ctx{*state_, datagram, *out, es, summary};

  const size_t records_before = out->size();
  const size_t counters_before = out->counter_size();
  const auto& p = datagram.payload;
  // NetFlow/IPFIX start with a 16-bit version; sFlow with a 32-bit one.
  if (p.size() < 4) {
    ctx.Count(DecodeError::kShortDatagram);
    return summary;
  }
  const uint16_t version16 = internal::LoadBe16(p.data());
  const uint32_t version32 = internal::LoadBe32(p.data());
  if (version32 == 5) {
    summary.protocol = ExportProtocol::kSflowV5;
    internal::DecodeSflowV5(ctx);
  } else if (version16 == 5) {
    summary.protocol = ExportProtocol::kNetflowV5;
    internal::DecodeNetflowV5(ctx);
  } else if (version16 == 9) {
    summary.protocol = ExportProtocol::kNetflowV9;
    internal::DecodeNetflowV9(ctx);
  } else if (version16 == 10) {
    summary.protocol = ExportProtocol::kIpfix;
    internal::DecodeIpfix(ctx);
  } else {
    ctx.Count(DecodeError::kUnknownVersion);
  }
  summary.records = out->size() - records_before;
  summary.counter_records = out->counter_size() - counters_before;
  return summary;
}

void Decoder::Tick(int64_t now_ns) {
  state_->templates.Expire(now_ns);
  state_->flowsets->Expire(*state_, now_ns);
}

const DecodeStats& Decoder::stats() const { return state_->stats; }
TemplateCache& Decoder::templates() { return state_->templates; }
const TemplateCache& Decoder::templates() const { return state_->templates; }
void Decoder::set_observer(DecodeObserver* observer) {
  state_->observer = observer;
}

}  // namespace flowacct
