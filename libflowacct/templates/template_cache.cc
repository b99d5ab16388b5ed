// STUB: replaced by the template cache implementation.
#include "flowacct/templates/template_cache.h"

namespace flowacct {
namespace internal {
struct FieldProgram {};
}  // namespace internal

Template::~Template() = default;

struct TemplateCache::Impl {
  TemplateCacheOptions options;
  TemplateCacheStats stats;
};

TemplateCache::TemplateCache(const TemplateCacheOptions& options,
                             const PrimitiveRegistry* registry)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
}
TemplateCache::~TemplateCache() = default;
size_t TemplateCache::Expire(int64_t now_ns) { return 0; }
const TemplateCacheStats& TemplateCache::stats() const { return impl_->stats; }
const TemplateCacheOptions& TemplateCache::options() const {
  return impl_->options;
}
}  // namespace flowacct
