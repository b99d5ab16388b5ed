// STUB: replaced by the primitive registry implementation.
#include "flowacct/model/primitive_registry.h"

namespace flowacct {
PrimitiveRegistry::PrimitiveRegistry() = default;
PrimitiveRegistry::~PrimitiveRegistry() = default;
std::unique_ptr<PrimitiveRegistry> PrimitiveRegistry::CreateWithBuiltins() {
  return std::unique_ptr<PrimitiveRegistry>(new PrimitiveRegistry());
}
}  // namespace flowacct
