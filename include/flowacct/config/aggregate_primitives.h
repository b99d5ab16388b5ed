// File: flowacct/config/aggregate_primitives.h
//
// pmacct's `aggregate_primitives` map: one custom primitive per line,
//
//   ! comment
//   name=app_name   field_type=PEN:9:12235  len=vlen  semantics=str
//   name=mpls_vpn   field_type=234          len=4     semantics=u_int
//
// (see PrimitiveRegistry::ParseCustomLine for the keys). This parses the
// text of such a file and adds every primitive to a registry, so decoders
// built on that registry decode the elements into custom values.
//
// Errors name the file and line ("prims.map:3: unknown semantics \"x\"");
// the first error stops the load and the primitives of the lines before it
// stay added.
//
// Thread-safety: as PrimitiveRegistry::AddCustom (before decoding starts).

#ifndef FLOWACCT_CONFIG_AGGREGATE_PRIMITIVES_H_
#define FLOWACCT_CONFIG_AGGREGATE_PRIMITIVES_H_

#include <string_view>

#include "flowacct/model/primitive_registry.h"
#include "flowacct/status.h"

namespace flowacct {

// Adds the primitives defined in `text` (the content of file `filename`,
// used in error messages) to *registry. Returns kInvalidArgument (or
// kResourceExhausted past 64 custom primitives) with "filename:line: why".
Status AddCustomPrimitives(std::string_view text, std::string_view filename,
                           PrimitiveRegistry* registry);

}  // namespace flowacct

#endif  // FLOWACCT_CONFIG_AGGREGATE_PRIMITIVES_H_
