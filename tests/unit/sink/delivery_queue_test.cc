#include "libflowacct/sink/delivery_queue.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "flowacct/config/daemon_config.h"
#include "flowacct/sink/delivery.h"

#include <stdlib.h>

namespace flowacct::internal {
namespace {

namespace fs = std::filesystem;

// A temporary directory removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/flowacct-delivery-test-XXXXXX";
    char* dir = mkdtemp(tmpl);
    REQUIRE(dir != nullptr);
    path_ = dir;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string spool() const { return path_ + "/spool"; }

 private:
  std::string path_;
};

// What the scripted backend saw and does; shared with the test.
struct Script {
  std::mutex mu;
  std::condition_variable cv;
  bool up = true;
  // Attempts numbered from 1; those listed fail with kUnavailable.
  std::set<int> fail_attempts;
  std::set<std::string> reject_payloads;  // refused with kInvalidArgument
  bool gate_closed = false;               // Deliver waits while true
  bool in_deliver = false;
  int attempts = 0;
  int shutdowns = 0;
  std::vector<uint64_t> seqs;  // delivered, in order
  std::vector<std::string> payloads;

  void SetUp(bool value) {
    std::lock_guard<std::mutex> lock(mu);
    up = value;
  }
  void OpenGate() {
    std::lock_guard<std::mutex> lock(mu);
    gate_closed = false;
    cv.notify_all();
  }
  int Attempts() {
    std::lock_guard<std::mutex> lock(mu);
    return attempts;
  }
  std::vector<std::string> Payloads() {
    std::lock_guard<std::mutex> lock(mu);
    return payloads;
  }
  std::vector<uint64_t> Seqs() {
    std::lock_guard<std::mutex> lock(mu);
    return seqs;
  }
};

class ScriptedBackend : public DeliveryBackend {
 public:
  explicit ScriptedBackend(std::shared_ptr<Script> script)
      : script_(std::move(script)) {}

  Status Deliver(const Envelope& envelope) override {
    std::unique_lock<std::mutex> lock(script_->mu);
    const int attempt = ++script_->attempts;
    script_->in_deliver = true;
    script_->cv.notify_all();
    // Bounded: a test that forgets to open the gate fails instead of hanging.
    script_->cv.wait_for(lock, std::chrono::seconds(5),
                         [this] { return !script_->gate_closed; });
    script_->in_deliver = false;
    if (!script_->up || script_->fail_attempts.count(attempt) != 0) {
      return UnavailableError("server down");
    }
    if (script_->reject_payloads.count(envelope.payload) != 0) {
      return InvalidArgumentError("bad statement");
    }
    script_->seqs.push_back(envelope.seq);
    script_->payloads.push_back(envelope.payload);
    return Status::Ok();
  }

  void Shutdown() override {
    std::lock_guard<std::mutex> lock(script_->mu);
    ++script_->shutdowns;
  }

 private:
  std::shared_ptr<Script> script_;
};

DeliveryOptions FastOptions(const std::string& spool_dir) {
  DeliveryOptions options;
  options.spool_dir = spool_dir;
  options.retry_min_ms = 1;
  options.retry_max_ms = 4;
  options.close_timeout_ms = 1000;
  return options;
}

std::unique_ptr<DeliveryQueue> MakeQueue(const DeliveryOptions& options,
                                         std::shared_ptr<Script> script) {
  auto queue = DeliveryQueue::Create("test[q]", options,
                                     std::make_unique<ScriptedBackend>(script));
  REQUIRE(queue.ok());
  return std::move(queue).value();
}

Envelope Env(const std::string& payload, uint64_t rows = 1) {
  Envelope env;
  env.destination = "acct";
  env.key = "k";
  env.payload = payload;
  env.rows = rows;
  return env;
}

// The spool file size of Env(payload): 44-byte header + body.
uint64_t SpoolFileSize(const std::string& payload) {
  return 44 + 4 + 1 + payload.size();
}

SinkStats Stats(const DeliveryQueue& queue) {
  SinkStats stats;
  queue.FillStats(&stats);
  return stats;
}

// Polls `pred` every millisecond for at most 3 s.
template <typename Pred>
bool Eventually(Pred pred) {
  for (int i = 0; i < 3000; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return pred();
}

std::set<std::string> Files(const std::string& dir, const std::string& suffix) {
  std::set<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (name.size() >= suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      names.insert(name);
    }
  }
  return names;
}

std::vector<std::string> Numbered(const std::string& prefix, int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i <= to; ++i) out.push_back(prefix + std::to_string(i));
  return out;
}

void CheckInvariant(const DeliveryQueue& queue, uint64_t pushed_rows) {
  SinkStats s = Stats(queue);
  CHECK(pushed_rows ==
        s.delivered_rows + s.dropped_rows + s.rejected_rows + s.pending_rows);
}

TEST_CASE("delivery queue: delivers in push order", "[delivery]") {
  auto script = std::make_shared<Script>();
  DeliveryOptions options = FastOptions("");
  options.memory_envelopes = 100;
  auto queue = MakeQueue(options, script);
  uint64_t rows = 0;
  for (int i = 1; i <= 100; ++i) {
    REQUIRE(queue->Push(Env("p" + std::to_string(i), i)));
    rows += i;
  }
  REQUIRE(queue->WaitIdle(5000));
  CHECK(script->Payloads() == Numbered("p", 1, 100));
  std::vector<uint64_t> seqs = script->Seqs();
  for (size_t i = 0; i < seqs.size(); ++i) CHECK(seqs[i] == i + 1);
  SinkStats s = Stats(*queue);
  CHECK(s.delivered_rows == rows);
  CHECK(s.pending_rows == 0);
  CHECK(s.retries == 0);
  CHECK(s.spooled_rows == 0);
  CHECK(s.backend_up);
  CHECK(queue->Close().ok());
  CHECK(script->shutdowns == 1);
  CHECK(queue->Close().ok());  // idempotent
  CHECK(script->shutdowns == 1);
  CHECK_FALSE(queue->Push(Env("late")));
  CheckInvariant(*queue, rows);
}

TEST_CASE("delivery queue: Create validates its arguments", "[delivery]") {
  auto no_backend = DeliveryQueue::Create("x", FastOptions(""), nullptr);
  CHECK(no_backend.status().code() == StatusCode::kInvalidArgument);
  DeliveryOptions options = FastOptions("");
  options.memory_envelopes = 0;
  auto zero = DeliveryQueue::Create(
      "x", options,
      std::make_unique<ScriptedBackend>(std::make_shared<Script>()));
  CHECK(zero.status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("delivery queue: outage spools, recovery delivers in order",
          "[delivery]") {
  TempDir tmp;
  auto script = std::make_shared<Script>();
  script->up = false;
  auto queue = MakeQueue(FastOptions(tmp.spool()), script);

  // The first envelopes go to memory; the failed attempt moves them to the
  // spool, after which new ones go straight to the spool.
  for (int i = 1; i <= 3; ++i)
    REQUIRE(queue->Push(Env("p" + std::to_string(i), 2)));
  REQUIRE(Eventually([&] { return Stats(*queue).spooled_rows == 6; }));
  for (int i = 4; i <= 10; ++i)
    REQUIRE(queue->Push(Env("p" + std::to_string(i), 2)));
  SinkStats down = Stats(*queue);
  CHECK_FALSE(down.backend_up);
  CHECK(down.retries >= 1);
  CHECK(down.spooled_rows == 20);
  CHECK(down.pending_rows == 20);
  CHECK(down.spool_bytes == 9 * SpoolFileSize("p1") + SpoolFileSize("p10"));
  CHECK(Files(tmp.spool(), ".env").size() == 10);
  CHECK(Files(tmp.spool(), ".env").count("00000000000000000001.env") == 1);
  CHECK_FALSE(queue->WaitIdle(5));

  script->SetUp(true);
  REQUIRE(queue->WaitIdle(5000));
  // Back to memory once the spool is empty.
  for (int i = 11; i <= 15; ++i)
    REQUIRE(queue->Push(Env("p" + std::to_string(i), 2)));
  REQUIRE(queue->WaitIdle(5000));
  CHECK(script->Payloads() == Numbered("p", 1, 15));
  SinkStats up = Stats(*queue);
  CHECK(up.backend_up);
  CHECK(up.delivered_rows == 30);
  CHECK(up.spooled_rows == 20);
  CHECK(up.pending_rows == 0);
  CHECK(up.spool_bytes == 0);
  CHECK(Files(tmp.spool(), ".env").empty());
  CHECK(queue->Close().ok());
}

TEST_CASE("delivery queue: memory overflow goes to the spool, order kept",
          "[delivery]") {
  TempDir tmp;
  auto script = std::make_shared<Script>();
  script->gate_closed = true;  // the first Deliver() waits
  DeliveryOptions options = FastOptions(tmp.spool());
  options.memory_envelopes = 2;
  auto queue = MakeQueue(options, script);
  REQUIRE(queue->Push(Env("p1")));
  REQUIRE(Eventually([&] {
    std::lock_guard<std::mutex> lock(script->mu);
    return script->in_deliver;
  }));
  // p1 in flight; p2, p3 fill memory; p4 moves them to the spool.
  for (int i = 2; i <= 8; ++i)
    REQUIRE(queue->Push(Env("p" + std::to_string(i))));
  CHECK(Stats(*queue).spooled_rows == 7);
  CHECK(Files(tmp.spool(), ".env").size() == 7);
  // A failure of the envelope in hand spools it too, ahead of the others.
  {
    std::lock_guard<std::mutex> lock(script->mu);
    script->fail_attempts.insert(1);
  }
  script->OpenGate();
  REQUIRE(queue->WaitIdle(5000));
  CHECK(script->Payloads() == Numbered("p", 1, 8));
  SinkStats s = Stats(*queue);
  CHECK(s.spooled_rows == 8);
  CHECK(s.retries == 1);
  CHECK(s.delivered_rows == 8);
  CHECK(Files(tmp.spool(), ".env").empty());
  CHECK(queue->Close().ok());
}

TEST_CASE("delivery queue: restart delivers the spool first, seq continues",
          "[delivery]") {
  TempDir tmp;
  {
    auto script = std::make_shared<Script>();
    script->up = false;
    DeliveryOptions options = FastOptions(tmp.spool());
    options.close_timeout_ms = 20;
    auto queue = MakeQueue(options, script);
    for (int i = 1; i <= 5; ++i)
      REQUIRE(queue->Push(Env("p" + std::to_string(i), 3)));
    Status closed = queue->Close();
    CHECK(closed.code() == StatusCode::kUnavailable);
    CHECK_THAT(closed.message(), Catch::Contains("15 rows"));
    CHECK_THAT(closed.message(), Catch::Contains(tmp.spool()));
    CHECK(script->shutdowns == 1);
    SinkStats s = Stats(*queue);
    CHECK(s.pending_rows == 15);
    CHECK(s.delivered_rows == 0);
    CHECK(s.dropped_rows == 0);
    CHECK(Files(tmp.spool(), ".env").size() == 5);
    CHECK(queue->Close().code() == StatusCode::kUnavailable);  // idempotent
  }
  auto script = std::make_shared<Script>();
  script->gate_closed = true;  // hold the first delivery to see the load
  auto queue = MakeQueue(FastOptions(tmp.spool()), script);
  SinkStats loaded = Stats(*queue);
  CHECK(loaded.pending_rows == 15);
  CHECK(loaded.spool_bytes == 5 * SpoolFileSize("p1"));
  script->OpenGate();
  REQUIRE(queue->Push(Env("p6", 3)));
  REQUIRE(queue->Push(Env("p7", 3)));
  REQUIRE(queue->WaitIdle(5000));
  CHECK(script->Payloads() == Numbered("p", 1, 7));
  // New numbers come after the block the first queue reserved on disk
  // (never reused, also after a restart on an empty spool).
  const std::vector<uint64_t> seqs = script->Seqs();
  REQUIRE(seqs.size() == 7);
  CHECK(std::vector<uint64_t>(seqs.begin(), seqs.begin() + 5) ==
        std::vector<uint64_t>{1, 2, 3, 4, 5});
  CHECK(seqs[5] > 5);
  CHECK(seqs[6] == seqs[5] + 1);
  SinkStats s = Stats(*queue);
  CHECK(s.delivered_rows == 21);
  CHECK(s.pending_rows == 0);
  CHECK(s.spool_bytes == 0);
  CHECK(Files(tmp.spool(), ".env").empty());
  CHECK(queue->Close().ok());
}

TEST_CASE("delivery queue: a full spool drops exactly what does not fit",
          "[delivery]") {
  TempDir tmp;
  auto script = std::make_shared<Script>();
  script->up = false;
  DeliveryOptions options = FastOptions(tmp.spool());
  options.spool_max_bytes = 3 * SpoolFileSize("p1");
  options.close_timeout_ms = 0;
  auto queue = MakeQueue(options, script);
  REQUIRE(queue->Push(Env("p1", 5)));
  REQUIRE(Eventually([&] { return Stats(*queue).spooled_rows == 5; }));
  CHECK(queue->Push(Env("p2", 5)));
  CHECK(queue->Push(Env("p3", 5)));
  CHECK_FALSE(queue->Push(Env("p4", 5)));
  CHECK_FALSE(queue->Push(Env("p5", 7)));
  SinkStats s = Stats(*queue);
  CHECK(s.dropped_rows == 12);
  CHECK(s.spooled_rows == 15);
  CHECK(s.pending_rows == 15);
  CHECK(s.spool_bytes == options.spool_max_bytes);
  CHECK(Files(tmp.spool(), ".env").size() == 3);
  CheckInvariant(*queue, 27);
  Status closed = queue->Close();
  CHECK(closed.code() == StatusCode::kResourceExhausted);
  CHECK_THAT(closed.message(), Catch::Contains("12 rows dropped"));
  CHECK_THAT(closed.message(), Catch::Contains("15 rows"));
  CheckInvariant(*queue, 27);
}

TEST_CASE("delivery queue: without a spool a full memory queue drops",
          "[delivery]") {
  auto script = std::make_shared<Script>();
  script->gate_closed = true;
  DeliveryOptions options = FastOptions("");
  options.memory_envelopes = 3;
  auto queue = MakeQueue(options, script);
  REQUIRE(queue->Push(Env("p1", 1)));
  REQUIRE(Eventually([&] {
    std::lock_guard<std::mutex> lock(script->mu);
    return script->in_deliver;
  }));
  CHECK(queue->Push(Env("p2", 2)));
  CHECK(queue->Push(Env("p3", 3)));
  CHECK(queue->Push(Env("p4", 4)));
  CHECK_FALSE(queue->Push(Env("p5", 5)));
  CHECK_FALSE(queue->Push(Env("p6", 6)));
  CHECK(Stats(*queue).dropped_rows == 11);
  CheckInvariant(*queue, 21);
  script->OpenGate();
  REQUIRE(queue->WaitIdle(5000));
  CHECK(script->Payloads() == Numbered("p", 1, 4));
  SinkStats s = Stats(*queue);
  CHECK(s.delivered_rows == 10);
  CHECK(s.dropped_rows == 11);
  CHECK(s.spooled_rows == 0);
  CheckInvariant(*queue, 21);
  CHECK(queue->Close().code() == StatusCode::kResourceExhausted);
}

TEST_CASE("delivery queue: rejected envelopes are counted and skipped",
          "[delivery]") {
  auto script = std::make_shared<Script>();
  script->reject_payloads = {"bad1", "bad2"};
  auto queue = MakeQueue(FastOptions(""), script);
  REQUIRE(queue->Push(Env("p1", 1)));
  REQUIRE(queue->Push(Env("bad1", 10)));
  REQUIRE(queue->Push(Env("p2", 2)));
  REQUIRE(queue->Push(Env("bad2", 20)));
  REQUIRE(queue->Push(Env("p3", 3)));
  REQUIRE(queue->WaitIdle(5000));
  CHECK(script->Payloads() == Numbered("p", 1, 3));
  SinkStats s = Stats(*queue);
  CHECK(s.rejected_rows == 30);
  CHECK(s.delivered_rows == 6);
  CHECK(s.retries == 0);
  CheckInvariant(*queue, 36);
  CHECK(queue->Close().ok());  // rejections are not drops
}

TEST_CASE("delivery queue: corrupt spool files are set aside as .bad",
          "[delivery]") {
  TempDir tmp;
  {
    auto script = std::make_shared<Script>();
    script->up = false;
    DeliveryOptions options = FastOptions(tmp.spool());
    options.close_timeout_ms = 0;
    auto queue = MakeQueue(options, script);
    const uint64_t rows[] = {1, 2, 4, 8, 16};
    for (int i = 0; i < 5; ++i) {
      REQUIRE(queue->Push(Env("payload" + std::to_string(i + 1), rows[i])));
    }
    CHECK(queue->Close().code() == StatusCode::kUnavailable);
  }
  const std::string f2 = tmp.spool() + "/00000000000000000002.env";
  const std::string f3 = tmp.spool() + "/00000000000000000003.env";
  const std::string f4 = tmp.spool() + "/00000000000000000004.env";
  {  // seq 2: one payload byte flipped (found by the CRC at delivery)
    std::fstream f(f2, std::ios::in | std::ios::out | std::ios::binary);
    REQUIRE(f);
    f.seekp(static_cast<std::streamoff>(SpoolFileSize("payload2") - 1));
    f.put('X');
  }
  // seq 3: the header is whole but the body is short (found at Create);
  // seq 4: not even a header (0 rows known).
  fs::resize_file(f3, 44 + 3);
  fs::resize_file(f4, 10);

  auto script = std::make_shared<Script>();
  auto queue = MakeQueue(FastOptions(tmp.spool()), script);
  REQUIRE(queue->WaitIdle(5000));
  CHECK(script->Payloads() == std::vector<std::string>{"payload1", "payload5"});
  SinkStats s = Stats(*queue);
  CHECK(s.delivered_rows == 17);
  CHECK(s.dropped_rows == 6);  // 2 (CRC) + 4 (short body) + 0 (no header)
  CHECK(s.pending_rows == 0);
  CHECK(s.spool_bytes == 0);
  CHECK(Files(tmp.spool(), ".env").empty());
  CHECK(Files(tmp.spool(), ".bad") ==
        std::set<std::string>{"00000000000000000002.env.bad",
                              "00000000000000000003.env.bad",
                              "00000000000000000004.env.bad"});
  // New envelopes continue after every seq used before.
  REQUIRE(queue->Push(Env("next")));
  REQUIRE(queue->WaitIdle(5000));
  CHECK(script->Seqs().back() > 5);
  CHECK(queue->Close().code() == StatusCode::kResourceExhausted);
}

TEST_CASE("delivery queue: temporary files left by a crash are removed",
          "[delivery]") {
  TempDir tmp;
  fs::create_directories(tmp.spool());
  const std::string leftover = tmp.spool() + "/00000000000000000007.env.tmp";
  {
    std::ofstream f(leftover, std::ios::binary);
    f << "half an envelope";
  }
  const std::string stranger = tmp.spool() + "/README";
  { std::ofstream f(stranger); }
  auto script = std::make_shared<Script>();
  auto queue = MakeQueue(FastOptions(tmp.spool()), script);
  CHECK_FALSE(fs::exists(leftover));
  CHECK(fs::exists(stranger));  // not ours: left alone
  SinkStats s = Stats(*queue);
  CHECK(s.pending_rows == 0);
  CHECK(s.dropped_rows == 0);
  REQUIRE(queue->Push(Env("p1")));
  REQUIRE(queue->WaitIdle(5000));
  CHECK(script->Seqs() == std::vector<uint64_t>{1});
  CHECK(queue->Close().ok());
}

TEST_CASE("delivery queue: a spool directory is used by one queue at a time",
          "[delivery]") {
  TempDir tmp;
  auto first = MakeQueue(FastOptions(tmp.spool()), std::make_shared<Script>());
  auto second = DeliveryQueue::Create(
      "test[other]", FastOptions(tmp.spool()),
      std::make_unique<ScriptedBackend>(std::make_shared<Script>()));
  REQUIRE_FALSE(second.ok());
  CHECK(second.status().code() == StatusCode::kIoError);
  CHECK_THAT(second.status().message(), Catch::Contains("in use"));
  CHECK_THAT(second.status().message(), Catch::Contains("test[other]"));
  CHECK(first->Close().ok());
  auto third = DeliveryQueue::Create(
      "test[third]", FastOptions(tmp.spool()),
      std::make_unique<ScriptedBackend>(std::make_shared<Script>()));
  CHECK(third.ok());
}

TEST_CASE("delivery queue: spool directory that cannot be created",
          "[delivery]") {
  TempDir tmp;
  const std::string file = tmp.path() + "/file";
  { std::ofstream f(file); }
  auto queue = DeliveryQueue::Create(
      "test[q]", FastOptions(file + "/spool"),
      std::make_unique<ScriptedBackend>(std::make_shared<Script>()));
  CHECK(queue.status().code() == StatusCode::kIoError);
}

TEST_CASE("delivery queue: every pushed row is accounted for", "[delivery]") {
  TempDir tmp;
  auto script = std::make_shared<Script>();
  for (int a = 1; a <= 400; a += 3) script->fail_attempts.insert(a);
  for (int i = 0; i < 200; i += 11) {
    script->reject_payloads.insert("p" + std::to_string(i));
  }
  DeliveryOptions options = FastOptions(tmp.spool());
  options.memory_envelopes = 4;
  options.spool_max_bytes = 20 * SpoolFileSize("p100");
  auto queue = MakeQueue(options, script);
  uint64_t pushed = 0;
  for (int i = 0; i < 200; ++i) {
    const uint64_t rows = i % 5 + 1;
    queue->Push(Env("p" + std::to_string(i), rows));  // may drop: counted
    pushed += rows;
    CheckInvariant(*queue, pushed);
  }
  REQUIRE(queue->WaitIdle(5000));
  SinkStats s = Stats(*queue);
  CHECK(s.pending_rows == 0);
  CHECK(s.rejected_rows > 0);
  CHECK(s.delivered_rows > 0);
  CHECK(s.retries > 0);
  CheckInvariant(*queue, pushed);
  // Whatever was delivered came in push order.
  std::vector<uint64_t> seqs = script->Seqs();
  for (size_t i = 1; i < seqs.size(); ++i) CHECK(seqs[i - 1] < seqs[i]);
  Status closed = queue->Close();
  CHECK((closed.ok() || closed.code() == StatusCode::kResourceExhausted));
  CheckInvariant(*queue, pushed);
}

TEST_CASE("delivery queue: Close keeps delivering until the timeout",
          "[delivery]") {
  SECTION("the backend comes back within the timeout: all delivered") {
    auto script = std::make_shared<Script>();
    script->fail_attempts = {1, 2, 3, 4};
    DeliveryOptions options = FastOptions("");
    options.close_timeout_ms = 5000;
    auto queue = MakeQueue(options, script);
    for (int i = 1; i <= 20; ++i)
      REQUIRE(queue->Push(Env("p" + std::to_string(i))));
    CHECK(queue->Close().ok());
    CHECK(script->Payloads() == Numbered("p", 1, 20));
    SinkStats s = Stats(*queue);
    CHECK(s.delivered_rows == 20);
    CHECK(s.retries == 4);
    CHECK(script->shutdowns == 1);
  }
  SECTION("without a spool, what is left at the timeout is dropped") {
    auto script = std::make_shared<Script>();
    script->up = false;
    DeliveryOptions options = FastOptions("");
    options.close_timeout_ms = 20;
    auto queue = MakeQueue(options, script);
    for (int i = 1; i <= 5; ++i)
      REQUIRE(queue->Push(Env("p" + std::to_string(i), 2)));
    Status closed = queue->Close();
    CHECK(closed.code() == StatusCode::kResourceExhausted);
    CHECK_THAT(closed.message(), Catch::Contains("10 rows dropped"));
    SinkStats s = Stats(*queue);
    CHECK(s.dropped_rows == 10);
    CHECK(s.pending_rows == 0);
    CHECK(s.delivered_rows == 0);
    CHECK(script->shutdowns == 1);
    CHECK(queue->Close().code() == StatusCode::kResourceExhausted);
  }
  SECTION("the destructor closes") {
    auto script = std::make_shared<Script>();
    auto queue = MakeQueue(FastOptions(""), script);
    REQUIRE(queue->Push(Env("p1")));
    queue.reset();
    CHECK(script->Payloads() == Numbered("p", 1, 1));
    CHECK(script->shutdowns == 1);
  }
}

PluginConfig::RawKey Raw(std::string key, std::string value, int line) {
  PluginConfig::RawKey raw;
  raw.key = std::move(key);
  raw.value = std::move(value);
  raw.source.file = "t.conf";
  raw.source.line = line;
  return raw;
}

TEST_CASE("delivery options: FromConfig", "[delivery]") {
  PluginConfig plugin;
  plugin.type = "sqlite3";
  plugin.name = "tm";

  SECTION("defaults") {
    auto options = DeliveryOptions::FromConfig(plugin);
    REQUIRE(options.ok());
    CHECK(options->spool_dir == "/var/spool/flowacct/sqlite3-tm");
    CHECK(options->spool_max_bytes == uint64_t{1024} << 20);
    CHECK(options->memory_envelopes == 64);
    CHECK(options->close_timeout_ms == 10000);
  }
  SECTION("every key; later entries win") {
    plugin.raw = {Raw("flowacct_spool_dir", "/a", 1),
                  Raw("flowacct_spool_dir", "/srv/spool/", 2),
                  Raw("flowacct_spool_max_mb", "5", 3),
                  Raw("flowacct_queue_entries", "7", 4),
                  Raw("flowacct_close_timeout", "0", 5),
                  Raw("sql_table", "acct", 6)};
    auto options = DeliveryOptions::FromConfig(plugin);
    REQUIRE(options.ok());
    // A root: the plugin spools in <root>/<type>-<name>.
    CHECK(options->spool_dir == "/srv/spool/sqlite3-tm");
    CHECK(options->spool_max_bytes == 5 * 1048576);
    CHECK(options->memory_envelopes == 7);
    CHECK(options->close_timeout_ms == 0);
  }
  SECTION("none disables the spool") {
    plugin.raw = {Raw("flowacct_spool_dir", "none", 1),
                  Raw("flowacct_close_timeout", "3", 2)};
    auto options = DeliveryOptions::FromConfig(plugin);
    REQUIRE(options.ok());
    CHECK(options->spool_dir.empty());
    CHECK(options->close_timeout_ms == 3000);
  }
  SECTION("bad values name file:line and the key") {
    plugin.raw = {Raw("flowacct_spool_max_mb", "abc", 7)};
    auto options = DeliveryOptions::FromConfig(plugin);
    REQUIRE_FALSE(options.ok());
    CHECK(options.status().code() == StatusCode::kInvalidArgument);
    CHECK(options.status().message() ==
          "t.conf:7: flowacct_spool_max_mb: expected a positive integer "
          "(MiB), got 'abc'");
    plugin.raw = {Raw("flowacct_queue_entries", "0", 9)};
    CHECK_THAT(DeliveryOptions::FromConfig(plugin).status().message(),
               Catch::StartsWith("t.conf:9: flowacct_queue_entries:"));
    plugin.raw = {Raw("flowacct_close_timeout", "-1", 4)};
    CHECK_THAT(DeliveryOptions::FromConfig(plugin).status().message(),
               Catch::StartsWith("t.conf:4: flowacct_close_timeout:") &&
                   Catch::EndsWith("got '-1'"));
    plugin.raw = {Raw("flowacct_spool_max_mb", "99999999999999999999", 2)};
    CHECK(DeliveryOptions::FromConfig(plugin).status().code() ==
          StatusCode::kInvalidArgument);
  }
}

TEST_CASE("delivery queue: sequence numbers never repeat for a spool",
          "[delivery]") {
  TempDir tmp;
  uint64_t last = 0;
  for (int run = 0; run < 3; ++run) {
    auto script = std::make_shared<Script>();
    auto queue = MakeQueue(FastOptions(tmp.spool()), script);
    REQUIRE(queue->Push(Env("a")));
    REQUIRE(queue->Push(Env("b")));
    REQUIRE(queue->WaitIdle(5000));
    REQUIRE(queue->Close().ok());  // the spool is empty again
    const std::vector<uint64_t> seqs = script->Seqs();
    REQUIRE(seqs.size() == 2);
    CHECK(seqs[0] > last);
    CHECK(seqs[1] == seqs[0] + 1);
    last = seqs[1];
  }
}

}  // namespace
}  // namespace flowacct::internal
