// libFuzzer target: what a sink reads back from its on-disk spool after a
// crash or a restart (hostile-inputs.md OUT-4: state files rewritten during
// a crash) — the spool file itself (libflowacct/sink/delivery_queue.cc:
// header, CRC, sizes), the SQL batch it carries (sql/sql_batch.cc) and the
// broker message batch (broker_common.cc).
//
// The input is written as spool file 00000000000000000001.env into an
// empty directory; a DeliveryQueue opens the directory and delivers it to a
// backend that decodes the payload both ways. A file that does not parse
// must be set aside (.bad) and counted; nothing may crash, and every row the
// queue reports must be accounted for.

#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "flowacct/sink/delivery.h"
#include "libflowacct/sink/broker_common.h"
#include "libflowacct/sink/delivery_queue.h"
#include "libflowacct/sink/sql/sql_batch.h"

namespace {

using flowacct::internal::Envelope;
using flowacct::internal::SqlBatch;

class DecodingBackend : public flowacct::internal::DeliveryBackend {
 public:
  flowacct::Status Deliver(const Envelope& envelope) override {
    Decode(envelope.payload);
    return flowacct::Status::Ok();
  }
  static void Decode(std::string_view payload) {
    flowacct::Result<SqlBatch> batch = SqlBatch::Decode(payload);
    if (batch.ok()) {
      for (const auto& row : batch->rows) {
        if (row.size() != batch->columns.size()) std::abort();
      }
      std::string again;
      batch->Encode(&again);  // decodes to the same thing
      flowacct::Result<SqlBatch> twice = SqlBatch::Decode(again);
      if (!twice.ok() || twice->rows != batch->rows) std::abort();
    }
    std::vector<std::string_view> messages;
    if (flowacct::internal::SplitFramedMessages(payload, &messages)) {
      size_t total = 0;
      for (std::string_view m : messages) total += m.size();
      if (total > payload.size()) std::abort();
    }
  }
};

const std::string& Dir() {
  static const std::string dir = [] {
    char tmpl[] = "/tmp/flowacct-spool-fuzz-XXXXXX";
    const char* d = mkdtemp(tmpl);
    if (d == nullptr) std::abort();
    return std::string(d);
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  DecodingBackend::Decode(input);

  const std::string spool = Dir() + "/spool";
  std::filesystem::remove_all(spool);
  std::filesystem::create_directories(spool);
  {
    std::ofstream f(spool + "/00000000000000000001.env", std::ios::binary);
    f.write(input.data(), static_cast<std::streamsize>(input.size()));
  }
  flowacct::DeliveryOptions options;
  options.spool_dir = spool;
  options.close_timeout_ms = 1000;
  auto queue = flowacct::internal::DeliveryQueue::Create(
      "fuzz", options, std::make_unique<DecodingBackend>());
  if (!queue.ok()) return 0;  // e.g. a file name the queue refuses
  if (!(*queue)->WaitIdle(5000)) std::abort();
  flowacct::SinkStats stats;
  (*queue)->FillStats(&stats);
  if (stats.pending_rows != 0) std::abort();
  (void)(*queue)->Close();
  return 0;
}
