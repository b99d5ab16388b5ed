// libFuzzer target: NetFlow v9 / IPFIX state across datagrams.
//
// The input is several datagrams from one exporter, separated by the 8-byte
// marker "FLOWSEP!" (fuzz/dict/flowset_stateful.dict teaches it to the
// fuzzer). A fresh Decoder per input sees them in order -- templates, then
// data, redefinitions, withdrawals, data before template -- one simulated
// second apart, with a Tick() after the last. Then the template cache goes
// through Serialize -> Restore into a new cache -> Serialize: the round trip
// must succeed and must keep every template. Finally the last datagram's
// bytes are also offered to TemplateCache::Restore as (hostile) persisted
// state, which must fail cleanly or succeed, never crash.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "flowacct/templates/template_cache.h"

#include "fuzz/fuzz_common.h"

namespace {

constexpr std::string_view kSeparator = "FLOWSEP!";
constexpr size_t kMaxDatagrams = 64;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto* registry =
      flowacct::PrimitiveRegistry::CreateWithBuiltins().release();
  const flowacct::DecoderOptions options = flowacct::fuzz::FuzzDecoderOptions();
  auto created = flowacct::Decoder::Create(options, registry);
  if (!created.ok()) std::abort();
  flowacct::Decoder& decoder = **created;
  flowacct::RecordBatch batch(256);
  const flowacct::Endpoint exporter = flowacct::fuzz::FuzzExporter(7);

  std::string_view input(reinterpret_cast<const char*>(data), size);
  int64_t now_ns = flowacct::fuzz::kStartNs;
  std::vector<uint8_t> last;
  for (size_t n = 0; n < kMaxDatagrams && !input.empty(); ++n) {
    size_t cut = input.find(kSeparator);
    std::string_view chunk = input.substr(0, cut);
    input = cut == std::string_view::npos
                ? std::string_view()
                : input.substr(cut + kSeparator.size());
    // Exactly-sized copy so reads past the end are caught by ASan.
    last.assign(chunk.begin(), chunk.end());
    batch.Clear();
    now_ns += flowacct::fuzz::kSecondNs;
    decoder.Decode(flowacct::Datagram{last, exporter, now_ns}, &batch);
  }
  decoder.Tick(now_ns + 30 * flowacct::fuzz::kSecondNs);

  // Persistence round trip.
  const flowacct::TemplateCache& cache = decoder.templates();
  const std::string saved = cache.Serialize();
  flowacct::TemplateCache restored(options.templates, registry);
  if (!restored.Restore(saved, now_ns).ok()) std::abort();
  if (restored.stats().size != cache.stats().size) std::abort();
  if (restored.Serialize().size() != saved.size()) std::abort();

  // Hostile persisted state.
  flowacct::TemplateCache hostile(options.templates, registry);
  (void)hostile.Restore(
      std::string_view(reinterpret_cast<const char*>(last.data()), last.size()),
      now_ns);
  return 0;
}
