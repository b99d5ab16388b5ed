// File: flowacct/io/template_file.h
//
// Template persistence on disk (pmacct: nfacctd_templates_file). A collector
// that restarts forgets every NetFlow v9 / IPFIX template and, over UDP,
// cannot decode anything until each exporter re-sends them -- up to 30
// minutes for some vendors. Saving the TemplateCache on shutdown (and
// periodically) and loading it at start closes that gap.
//
//   LoadTemplateFile("/var/lib/flowacct/templates.pb", &decoder->templates(),
//                    now_ns);               // NotFound on first start: fine
//   ...
//   SaveTemplateFile(decoder->templates(), "/var/lib/flowacct/templates.pb");
//
// The file holds TemplateCache::Serialize() bytes (a protobuf message). It
// is written whole: to a temporary file in the same directory, fsync'd, then
// renamed over the old one, so a crash never leaves a half-written file.
//
// Thread-safety: the cache is not locked; call these from the thread that
// owns the cache.

#ifndef FLOWACCT_IO_TEMPLATE_FILE_H_
#define FLOWACCT_IO_TEMPLATE_FILE_H_

#include <cstdint>
#include <string>

#include "flowacct/status.h"
#include "flowacct/templates/template_cache.h"

namespace flowacct {

// Writes `cache` to `path` atomically. kIoError (with errno text) on failure.
Status SaveTemplateFile(const TemplateCache& cache, const std::string& path);

// Adds the templates stored in `path` to *cache, as last used at `now_ns`.
// kNotFound if the file does not exist; kIoError if it cannot be read;
// kInvalidArgument if it is not a template file (the cache is unchanged).
Status LoadTemplateFile(const std::string& path, TemplateCache* cache,
                        int64_t now_ns);

}  // namespace flowacct

#endif  // FLOWACCT_IO_TEMPLATE_FILE_H_
