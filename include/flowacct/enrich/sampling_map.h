// File: flowacct/enrich/sampling_map.h
//
// SamplingMap: pmacct's sampling_map. Rows of `key=value` pairs giving the
// sampling rate (`id`) for the exporters (`ip`, an address or prefix,
// required) and optionally interfaces (`in`, `out`, negatable as `in=-3`)
// they match. First matching row wins. The rate overrides what the exporter
// announced; with renormalisation (see enricher.h) counters are multiplied
// by it.
//
//   id=1024 ip=192.0.2.1
//   id=2048 ip=192.0.2.0/24 in=5
//
// Thread-safety: immutable after Load; const methods are safe concurrently.

#ifndef FLOWACCT_ENRICH_SAMPLING_MAP_H_
#define FLOWACCT_ENRICH_SAMPLING_MAP_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "flowacct/model/flow_record.h"
#include "flowacct/status.h"

namespace flowacct {

struct SamplingMapOptions {
  uint32_t max_entries = 384;  // maps_entries; more rows: kResourceExhausted
  uint32_t max_row_length =
      256;  // maps_row_len; longer lines: kInvalidArgument
};

class SamplingMap {
 public:
  // Errors ("<filename>:<line>: ..."): kInvalidArgument (syntax, unknown
  // key, missing id or ip, id 0, control bytes, overlong line),
  // kResourceExhausted (too many rows).
  static Result<std::shared_ptr<const SamplingMap>> Load(
      std::string_view text, std::string_view filename,
      const SamplingMapOptions& options = {});
  // Errors: kIoError if `path` cannot be read, else as Load.
  static Result<std::shared_ptr<const SamplingMap>> LoadFile(
      const std::string& path, const SamplingMapOptions& options = {});

  // The rate of the first row matching the record's exporter and
  // interfaces, or 0 when no row matches.
  uint32_t Lookup(const FlowRecord& record) const;

  size_t size() const;

  ~SamplingMap();
  SamplingMap(const SamplingMap&) = delete;
  SamplingMap& operator=(const SamplingMap&) = delete;

 private:
  struct Impl;
  explicit SamplingMap(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowacct

#endif  // FLOWACCT_ENRICH_SAMPLING_MAP_H_
