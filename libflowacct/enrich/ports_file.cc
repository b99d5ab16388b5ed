#include "flowacct/enrich/ports_file.h"

#include "libflowacct/enrich/map_text.h"

namespace flowacct {

using enrich_internal::LineError;

Result<std::shared_ptr<const PortsFile>> PortsFile::Load(
    std::string_view text, std::string_view filename) {
  std::shared_ptr<PortsFile> file(new PortsFile());
  Status s = enrich_internal::ForEachLine(
      text, filename, enrich_internal::kDefaultMaxRowLength,
      [&](size_t line, std::string_view row) -> Status {
        uint16_t port = 0;
        if (!enrich_internal::ParseUnsigned(row, &port)) {
          return LineError(
              StatusCode::kInvalidArgument, filename, line,
              enrich_internal::Cat("'", row, "' is not a port (0..65535)"));
        }
        file->ports_.set(port);
        return Status::Ok();
      });
  if (!s.ok()) return s;
  return std::shared_ptr<const PortsFile>(std::move(file));
}

Result<std::shared_ptr<const PortsFile>> PortsFile::LoadFile(
    const std::string& path) {
  return enrich_internal::LoadMapFile<PortsFile>(path);
}

void PortsFile::Apply(FlowRecord* record) const {
  if (record->has(FlowField::kSrcPort) && !ports_.test(record->src_port)) {
    record->src_port = 0;
  }
  if (record->has(FlowField::kDstPort) && !ports_.test(record->dst_port)) {
    record->dst_port = 0;
  }
}

}  // namespace flowacct
