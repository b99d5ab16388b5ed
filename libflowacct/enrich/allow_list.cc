#include "flowacct/enrich/allow_list.h"

#include "libflowacct/enrich/map_text.h"

namespace flowacct {

using enrich_internal::LineError;

struct AllowList::Impl {
  enrich_internal::PrefixTable<char> table;
};

AllowList::AllowList(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AllowList::~AllowList() = default;

Result<std::shared_ptr<const AllowList>> AllowList::Load(
    std::string_view text, std::string_view filename) {
  auto impl = std::make_unique<Impl>();
  Status s = enrich_internal::ForEachLine(
      text, filename, enrich_internal::kDefaultMaxRowLength,
      [&](size_t line, std::string_view row) -> Status {
        std::optional<Prefix> prefix = enrich_internal::ParsePrefix(row);
        if (!prefix) {
          return LineError(StatusCode::kInvalidArgument, filename, line,
                           enrich_internal::Cat(
                               "'", row, "' is not an IP address or prefix"));
        }
        impl->table.Insert(*prefix, 1);
        return Status::Ok();
      });
  if (!s.ok()) return s;
  impl->table.Build();
  return std::shared_ptr<const AllowList>(new AllowList(std::move(impl)));
}

Result<std::shared_ptr<const AllowList>> AllowList::LoadFile(
    const std::string& path) {
  return enrich_internal::LoadMapFile<AllowList>(path);
}

bool AllowList::Allows(const IpAddress& address) const {
  return impl_->table.Lookup(enrich_internal::UnmapV4(address)) != nullptr;
}

size_t AllowList::size() const { return impl_->table.size(); }

}  // namespace flowacct
