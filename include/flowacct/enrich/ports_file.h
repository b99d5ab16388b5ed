// File: flowacct/enrich/ports_file.h
//
// PortsFile: pmacct's ports_file. One port number (0..65535) per line;
// records whose src_port / dst_port is not listed get port 0, so that
// aggregating on ports keeps only the listed services apart.
//
//   ! well-known services we care about
//   22
//   443
//
// Thread-safety: immutable after Load; const methods are safe concurrently.

#ifndef FLOWACCT_ENRICH_PORTS_FILE_H_
#define FLOWACCT_ENRICH_PORTS_FILE_H_

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "flowacct/model/flow_record.h"
#include "flowacct/status.h"

namespace flowacct {

class PortsFile {
 public:
  // Errors ("<filename>:<line>: ..."): kInvalidArgument (not a port number,
  // control bytes, line over 256 bytes).
  static Result<std::shared_ptr<const PortsFile>> Load(
      std::string_view text, std::string_view filename);
  // Errors: kIoError if `path` cannot be read, else as Load.
  static Result<std::shared_ptr<const PortsFile>> LoadFile(
      const std::string& path);

  bool Contains(uint16_t port) const { return ports_.test(port); }
  // Zeroes src_port / dst_port when present and not listed.
  void Apply(FlowRecord* record) const;
  // Number of distinct ports listed.
  size_t size() const { return ports_.count(); }

 private:
  PortsFile() = default;
  std::bitset<65536> ports_;
};

}  // namespace flowacct

#endif  // FLOWACCT_ENRICH_PORTS_FILE_H_
