#include "flowacct/config/aggregate_primitives.h"

#include <string>

namespace flowacct {

Status AddCustomPrimitives(std::string_view text, std::string_view filename,
                           PrimitiveRegistry* registry) {
  size_t line_number = 0;
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view()
                                         : text.substr(eol + 1);
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    auto where = [&] {
      return std::string(filename) + ":" + std::to_string(line_number) + ": ";
    };
    Result<CustomPrimitiveSpec> spec = PrimitiveRegistry::ParseCustomLine(line);
    if (!spec.ok()) {
      if (spec.status().code() == StatusCode::kNotFound) continue;  // blank
      return Status(spec.status().code(), where() + spec.status().message());
    }
    Result<PrimitiveId> id = registry->AddCustom(*spec);
    if (!id.ok()) {
      return Status(id.status().code(), where() + id.status().message());
    }
  }
  return Status::Ok();
}

}  // namespace flowacct
