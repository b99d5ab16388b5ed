// Tests for TemplateCache: refresh vs redefinition, caps and LRU eviction,
// expiry, withdrawal, ForgetExporter, persistence.

#include "flowacct/templates/template_cache.h"

#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include <catch2/catch.hpp>

namespace flowacct {
namespace {

constexpr int64_t kSec = 1'000'000'000;

TemplateField F(uint16_t id, uint16_t length, uint32_t pen = 0) {
  TemplateField f;
  f.element = ElementId{pen, id};
  f.length = length;
  return f;
}

std::shared_ptr<const Template> T(
    uint16_t id, std::vector<TemplateField> fields = {F(8, 4), F(12, 4)},
    Template::Kind kind = Template::Kind::kData, uint16_t scope = 0) {
  auto t = Template::Create(ExportProtocol::kIpfix, id, kind, scope,
                            std::move(fields), nullptr);
  REQUIRE(t.ok());
  return std::move(t).value();
}

Endpoint Ep(uint8_t last, uint16_t port = 4739) {
  return Endpoint{IpAddress::V4((192u << 24) | (2u << 8) | last), port};
}

TemplateKey Key(const Endpoint& ep, uint32_t domain, uint16_t id,
                ExportProtocol p = ExportProtocol::kIpfix) {
  TemplateKey k;
  k.protocol = p;
  k.exporter = ep;
  k.domain = domain;
  k.template_id = id;
  return k;
}

TEST_CASE("Put/Find, refresh vs redefinition (NF-18)", "[template_cache]") {
  TemplateCache cache(TemplateCacheOptions{});
  const TemplateKey k = Key(Ep(1), 0, 256);
  CHECK(cache.Find(k, 0) == nullptr);
  auto t1 = T(256);
  CHECK(cache.Put(k, t1, 1) == TemplateCache::PutResult::kAdded);
  CHECK(cache.Find(k, 2) == t1);
  CHECK(cache.Put(k, T(256), 3) == TemplateCache::PutResult::kRefreshed);
  auto t3 = T(256, {F(8, 4), F(12, 4), F(2, 4)});
  CHECK(cache.Put(k, t3, 4) == TemplateCache::PutResult::kRedefined);
  CHECK(cache.Find(k, 5) == t3);
  CHECK(cache.stats().added == 1);
  CHECK(cache.stats().refreshed == 1);
  CHECK(cache.stats().redefined == 1);
  CHECK(cache.stats().size == 1);
}

TEST_CASE("Old template stays valid for its holders (NF-17)",
          "[template_cache]") {
  TemplateCache cache(TemplateCacheOptions{});
  const TemplateKey k = Key(Ep(1), 0, 300);
  cache.Put(k, T(300, {F(48, 1), F(34, 4)}, Template::Kind::kOptions, 1), 0);
  std::shared_ptr<const Template> held = cache.Find(k, 1);
  REQUIRE(held != nullptr);
  cache.Put(k,
            T(300, {F(48, 2), F(34, 4), F(49, 1)}, Template::Kind::kOptions, 1),
            2);
  CHECK(cache.Withdraw(k) == 1);
  CHECK(cache.Find(k, 3) == nullptr);
  // The holder's object is intact.
  CHECK(held->fields().size() == 2);
  CHECK(held->fields()[0].length == 1);
  CHECK(held->kind() == Template::Kind::kOptions);
  CHECK(held.use_count() == 1);
}

TEST_CASE("Keys: domains, protocols and ports are distinct (NF-19)",
          "[template_cache]") {
  TemplateCache cache(TemplateCacheOptions{});
  auto a = T(256);
  auto b = T(256, {F(27, 16)});
  cache.Put(Key(Ep(1), 1, 256), a, 0);
  cache.Put(Key(Ep(1), 2, 256), b, 0);
  CHECK(cache.Find(Key(Ep(1), 1, 256), 0) == a);
  CHECK(cache.Find(Key(Ep(1), 2, 256), 0) == b);
  CHECK(cache.Find(Key(Ep(1), 3, 256), 0) == nullptr);
  CHECK(cache.Find(Key(Ep(1, 9999), 1, 256), 0) == nullptr);
  CHECK(cache.Find(Key(Ep(1), 1, 256, ExportProtocol::kNetflowV9), 0) ==
        nullptr);
  CHECK(cache.stats().size == 2);

  TemplateCacheOptions o;
  o.ignore_exporter_port = true;
  TemplateCache loose(o);
  loose.Put(Key(Ep(1, 1000), 1, 256), a, 0);
  CHECK(loose.Find(Key(Ep(1, 2000), 1, 256), 0) == a);
  int seen = 0;
  loose.ForEach([&](const TemplateKey& k, const Template&) {
    CHECK(k.exporter.port == 0);
    ++seen;
  });
  CHECK(seen == 1);
}

TEST_CASE("Per-exporter cap evicts that exporter's LRU template",
          "[template_cache]") {
  TemplateCacheOptions o;
  o.max_templates_per_exporter = 3;
  TemplateCache cache(o);
  for (uint16_t id = 256; id < 259; ++id) {
    cache.Put(Key(Ep(1), 0, id), T(id), id);
  }
  cache.Put(Key(Ep(2), 0, 256), T(256), 10);  // other exporter
  cache.Find(Key(Ep(1), 0, 256), 20);         // 256 is now the most recent
  cache.Put(Key(Ep(1), 0, 259), T(259), 21);  // evicts 257
  CHECK(cache.stats().evicted == 1);
  CHECK(cache.Find(Key(Ep(1), 0, 257), 22) == nullptr);
  CHECK(cache.Find(Key(Ep(1), 0, 256), 22) != nullptr);
  CHECK(cache.Find(Key(Ep(1), 0, 258), 22) != nullptr);
  CHECK(cache.Find(Key(Ep(1), 0, 259), 22) != nullptr);
  CHECK(cache.Find(Key(Ep(2), 0, 256), 22) != nullptr);
  // Refreshing an existing one does not evict.
  cache.Put(Key(Ep(1), 0, 258), T(258), 23);
  CHECK(cache.stats().evicted == 1);
  CHECK(cache.stats().size == 4);
  // Another exporter port counts against the same address.
  cache.Put(Key(Ep(1, 5555), 0, 300), T(300), 24);
  CHECK(cache.stats().evicted == 2);
  CHECK(cache.Find(Key(Ep(1), 0, 256), 25) == nullptr);  // LRU at 22
}

TEST_CASE("Global cap evicts the globally least recently used",
          "[template_cache]") {
  TemplateCacheOptions o;
  o.max_templates = 4;
  TemplateCache cache(o);
  for (uint8_t e = 1; e <= 4; ++e) cache.Put(Key(Ep(e), 0, 256), T(256), e);
  cache.Find(Key(Ep(1), 0, 256), 10);
  cache.Put(Key(Ep(5), 0, 256), T(256), 11);  // evicts Ep(2)
  cache.Put(Key(Ep(6), 0, 256), T(256), 12);  // evicts Ep(3)
  CHECK(cache.stats().evicted == 2);
  CHECK(cache.stats().size == 4);
  CHECK(cache.Find(Key(Ep(2), 0, 256), 13) == nullptr);
  CHECK(cache.Find(Key(Ep(3), 0, 256), 13) == nullptr);
  for (uint8_t e : {1, 4, 5, 6}) {
    CHECK(cache.Find(Key(Ep(e), 0, 256), 13) != nullptr);
  }
}

TEST_CASE("Template spraying stays within caps (NF-27)", "[template_cache]") {
  TemplateCacheOptions o;
  o.max_templates_per_exporter = 100;
  o.max_templates = 250;
  TemplateCache cache(o);
  auto t = T(256);
  // 10k ids from one exporter, many domains.
  for (uint32_t i = 0; i < 10'000; ++i) {
    cache.Put(Key(Ep(1), i % 50, static_cast<uint16_t>(256 + i)), t, i);
    REQUIRE(cache.stats().size <= 100);
  }
  CHECK(cache.stats().evicted == 10'000 - 100);
  // 10k ids spread over spoofed exporters.
  for (uint32_t i = 0; i < 10'000; ++i) {
    cache.Put(Key(Ep(static_cast<uint8_t>(i % 200)), 0,
                  static_cast<uint16_t>(256 + i)),
              t, 20'000 + i);
    REQUIRE(cache.stats().size <= 250);
  }
  size_t count = 0;
  std::map<IpAddress, size_t> per_exporter;
  cache.ForEach([&](const TemplateKey& k, const Template&) {
    ++count;
    ++per_exporter[k.exporter.address];
  });
  CHECK(count == cache.stats().size);
  CHECK(count == 250);
  for (const auto& [addr, n] : per_exporter) CHECK(n <= 100);
  // The most recent ones survive.
  CHECK(cache.Find(Key(Ep(static_cast<uint8_t>(9'999 % 200)), 0,
                       static_cast<uint16_t>(256 + 9'999)),
                   40'000) != nullptr);
}

TEST_CASE("Idle expiry", "[template_cache]") {
  TemplateCacheOptions o;
  o.idle_timeout_ns = 60 * kSec;
  TemplateCache cache(o);
  cache.Put(Key(Ep(1), 0, 256), T(256), 0);
  cache.Put(Key(Ep(1), 0, 257), T(257), 0);
  cache.Put(Key(Ep(2), 0, 256), T(256), 30 * kSec);
  cache.Find(Key(Ep(1), 0, 257), 50 * kSec);  // use keeps it alive
  CHECK(cache.Expire(60 * kSec) == 0);
  CHECK(cache.Expire(61 * kSec) == 1);
  CHECK(cache.Find(Key(Ep(1), 0, 256), 61 * kSec) == nullptr);
  CHECK(cache.Expire(91 * kSec) == 1);  // Ep(2) idle since 30 s
  CHECK(cache.Find(Key(Ep(1), 0, 257), 92 * kSec) != nullptr);
  CHECK(cache.stats().expired == 2);
  CHECK(cache.stats().size == 1);

  TemplateCacheOptions never;
  never.idle_timeout_ns = 0;
  TemplateCache forever(never);
  forever.Put(Key(Ep(1), 0, 256), T(256), 0);
  CHECK(forever.Expire(int64_t{1} << 62) == 0);
  CHECK(forever.stats().size == 1);
}

TEST_CASE("Withdraw one, all, all data, all options; ForgetExporter",
          "[template_cache]") {
  TemplateCache cache(TemplateCacheOptions{});
  auto opts = T(400, {F(48, 1), F(34, 4)}, Template::Kind::kOptions, 1);
  auto fill = [&] {
    cache.Put(Key(Ep(1), 7, 256), T(256), 0);
    cache.Put(Key(Ep(1), 7, 257), T(257), 0);
    cache.Put(Key(Ep(1), 7, 400), opts, 0);
    cache.Put(Key(Ep(1), 8, 256), T(256), 0);
    cache.Put(Key(Ep(1, 9), 7, 256), T(256), 0);
    cache.Put(Key(Ep(2), 7, 256), T(256), 0);
  };
  fill();
  CHECK(cache.Withdraw(Key(Ep(1), 7, 257)) == 1);
  CHECK(cache.Withdraw(Key(Ep(1), 7, 257)) == 0);
  CHECK(cache.Withdraw(Key(Ep(1), 7, 2)) == 1);  // data templates: 256
  CHECK(cache.Find(Key(Ep(1), 7, 400), 0) != nullptr);
  CHECK(cache.Withdraw(Key(Ep(1), 7, 3)) == 1);  // options: 400
  CHECK(cache.Find(Key(Ep(1), 8, 256), 0) != nullptr);
  CHECK(cache.Find(Key(Ep(1, 9), 7, 256), 0) != nullptr);
  CHECK(cache.stats().withdrawn == 3);
  fill();
  CHECK(cache.Withdraw(Key(Ep(1), 7, 0)) == 3);
  CHECK(cache.stats().size == 3);
  // ForgetExporter with a port: that transport session only.
  CHECK(cache.ForgetExporter(Ep(1, 9)) == 1);
  fill();
  // Port 0: every port of the address, every domain.
  CHECK(cache.ForgetExporter(Endpoint{Ep(1).address, 0}) == 5);
  CHECK(cache.stats().size == 1);
  CHECK(cache.Find(Key(Ep(2), 7, 256), 0) != nullptr);
  CHECK(cache.ForgetExporter(Ep(3)) == 0);
}

TEST_CASE("Serialize -> Restore round trip", "[template_cache]") {
  TemplateCache cache(TemplateCacheOptions{});
  cache.Put(Key(Ep(1), 7, 256),
            T(256, {F(8, 4), F(82, kVariableLength), F(12235, 8, 9)}), 0);
  TemplateField rev = F(1, 8);
  rev.reverse = true;
  cache.Put(Key(Ep(1, 9), 8, 257), T(257, {F(1, 8), rev}), 1);
  cache.Put(Key(Ep(2), 0, 400),
            T(400, {F(48, 1), F(34, 4)}, Template::Kind::kOptions, 1), 2);
  TemplateKey v6 = Key(Endpoint{*IpAddress::Parse("2001:db8::1"), 2055}, 3, 300,
                       ExportProtocol::kNetflowV9);
  auto v9 =
      Template::Create(ExportProtocol::kNetflowV9, 300, Template::Kind::kData,
                       0, {F(27, 16), F(2, 4)}, nullptr);
  REQUIRE(v9.ok());
  cache.Put(v6, *v9, 3);

  const std::string bytes = cache.Serialize();
  TemplateCache restored(TemplateCacheOptions{});
  REQUIRE(restored.Restore(bytes, 100).ok());
  CHECK(restored.stats().size == 4);
  CHECK(restored.stats().rejected == 0);
  size_t compared = 0;
  cache.ForEach([&](const TemplateKey& k, const Template& t) {
    auto r = restored.Find(k, 101);
    REQUIRE(r != nullptr);
    CHECK(r->SameLayout(t));
    CHECK(r->kind() == t.kind());
    CHECK(r->id() == t.id());
    CHECK(r->scope_field_count() == t.scope_field_count());
    CHECK(r->min_record_length() == t.min_record_length());
    CHECK(r->has_variable_length() == t.has_variable_length());
    ++compared;
  });
  CHECK(compared == 4);
  // Restoring the same state again refreshes, adds nothing.
  REQUIRE(restored.Restore(bytes, 102).ok());
  CHECK(restored.stats().size == 4);
  CHECK(restored.stats().refreshed == 4);
  // And the restored templates expire from their restore time.
  TemplateCacheOptions o;
  o.idle_timeout_ns = 10;
  TemplateCache expiring(o);
  REQUIRE(expiring.Restore(bytes, 1000).ok());
  CHECK(expiring.Expire(1005) == 0);
  CHECK(expiring.Expire(1011) == 4);
}

TEST_CASE("Restore rejects garbage bytes", "[template_cache]") {
  TemplateCache cache(TemplateCacheOptions{});
  const std::string garbage(64, '\xFF');
  CHECK(cache.Restore(garbage, 0).code() == StatusCode::kInvalidArgument);
  CHECK(cache.Restore(std::string("\x0a\x05\x01", 3), 0).code() ==
        StatusCode::kInvalidArgument);  // truncated length-delimited field
  // Empty input parses but has no format version.
  CHECK(cache.Restore("", 0).code() == StatusCode::kInvalidArgument);
  CHECK(cache.stats().size == 0);
  // Truncations of a valid state never crash; they restore or fail cleanly.
  TemplateCache src(TemplateCacheOptions{});
  for (uint16_t id = 256; id < 266; ++id) src.Put(Key(Ep(1), 0, id), T(id), 0);
  const std::string bytes = src.Serialize();
  for (size_t n = 0; n < bytes.size(); ++n) {
    TemplateCache dst(TemplateCacheOptions{});
    Status s = dst.Restore(std::string_view(bytes).substr(0, n), 0);
    CHECK((s.ok() || s.code() == StatusCode::kInvalidArgument));
    CHECK(dst.stats().size <= 10);
  }
}

}  // namespace
}  // namespace flowacct
