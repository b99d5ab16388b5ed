// libFuzzer target: the capture reader (libflowacct/io/pcap_reader.cc).
//
// The input is written to an anonymous in-memory file (memfd) and opened by
// path (/proc/self/fd/N) like any capture, then read to the end. Every
// datagram returned must lie inside the reader's buffer and be no longer
// than the input; the loop is bounded by the input size.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "flowacct/io/pcap_reader.h"

#include <sys/mman.h>
#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int fd = memfd_create("flowacct-pcap-fuzz", 0);
  if (fd < 0) return 0;
  size_t written = 0;
  while (written < size) {
    ssize_t n = write(fd, data + written, size - written);
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  auto reader = flowacct::PcapReader::Open(path, {});
  if (reader.ok()) {
    flowacct::PcapReader::Packet packet;
    // Every datagram needs at least a few bytes of the file, so this bounds
    // the loop without constraining a correct reader.
    size_t budget = size + 1;
    while (budget-- > 0 && (*reader)->Next(&packet)) {
      if (packet.datagram.payload.size() > size) std::abort();
    }
    if (budget == static_cast<size_t>(-1)) std::abort();  // no progress
    (void)(*reader)->status();
  }
  close(fd);
  return 0;
}
