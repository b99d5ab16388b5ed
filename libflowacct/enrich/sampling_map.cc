#include "flowacct/enrich/sampling_map.h"

#include <vector>

#include "libflowacct/enrich/map_text.h"

namespace flowacct {

using enrich_internal::LineError;

namespace {

struct Row {
  uint32_t rate = 0;
  enrich_internal::ExporterMatch exporter;
};

}  // namespace

struct SamplingMap::Impl {
  std::vector<Row> rows;
};

SamplingMap::SamplingMap(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SamplingMap::~SamplingMap() = default;

Result<std::shared_ptr<const SamplingMap>> SamplingMap::Load(
    std::string_view text, std::string_view filename,
    const SamplingMapOptions& options) {
  auto impl = std::make_unique<Impl>();
  Status s = enrich_internal::ForEachKeyValueRow(
      text, filename, options.max_row_length, options.max_entries,
      [&](size_t line,
          const std::vector<enrich_internal::KeyValue>& kvs) -> Status {
        auto error = [&](std::string_view msg) {
          return LineError(StatusCode::kInvalidArgument, filename, line, msg);
        };
        Row row;
        bool has_id = false;
        for (const auto& kv : kvs) {
          if (kv.key == "id") {
            if (!enrich_internal::ParseUnsigned(kv.value, &row.rate) ||
                row.rate == 0) {
              return error(enrich_internal::Cat(
                  "id='", kv.value, "' is not a sampling rate (1..2^32-1)"));
            }
            has_id = true;
          } else if (std::string bad; row.exporter.Parse(kv, &bad)) {
            if (!bad.empty()) return error(bad);
          } else {
            return error(
                enrich_internal::Cat("unknown key '", kv.key,
                                     "' (sampling_map keys: id, ip, in, out)"));
          }
        }
        if (!has_id) return error("row without id (the sampling rate)");
        if (!row.exporter.has_ip) {
          return error("row without ip (the exporter)");
        }
        impl->rows.push_back(row);
        return Status::Ok();
      });
  if (!s.ok()) return s;
  return std::shared_ptr<const SamplingMap>(new SamplingMap(std::move(impl)));
}

Result<std::shared_ptr<const SamplingMap>> SamplingMap::LoadFile(
    const std::string& path, const SamplingMapOptions& options) {
  return enrich_internal::LoadMapFile<SamplingMap>(path, options);
}

uint32_t SamplingMap::Lookup(const FlowRecord& record) const {
  for (const Row& row : impl_->rows) {
    if (row.exporter.Matches(record)) return row.rate;
  }
  return 0;
}

size_t SamplingMap::size() const { return impl_->rows.size(); }

}  // namespace flowacct
