// libFuzzer target: the sFlow v5 decoder (libflowacct/decode/sflow.cc).
//
// The input is one datagram. Its leading version field is forced to this
// protocol's value so every input reaches this decoder; the rest is taken as
// is. One Decoder lives for the whole process, so templates and sequence
// state learnt from earlier inputs are used by later ones. Inputs come from
// four exporters (chosen by the input length) so per-exporter state and
// caps are exercised too.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static flowacct::fuzz::FuzzDecoder* decoder =
      new flowacct::fuzz::FuzzDecoder();
  constexpr std::array<uint8_t, 4> kVersion = {0x00, 0x00, 0x00, 0x05};
  // Exactly-sized copy so reads past the end are caught by ASan.
  std::vector<uint8_t> datagram(data, data + size);
  if (datagram.size() >= kVersion.size()) {
    std::memcpy(datagram.data(), kVersion.data(), kVersion.size());
  }
  decoder->DecodeOne(datagram, flowacct::fuzz::FuzzExporter(1 + size % 4));
  return 0;
}
