#include "flowacct/io/template_file.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <string>

namespace flowacct {
namespace {

std::string TempPath(const char* name) {
  return std::string("/tmp/flowacct_template_file_test_") +
         std::to_string(::getpid()) + "_" + name;
}

std::shared_ptr<const Template> FiveTuple(uint16_t id) {
  std::vector<TemplateField> fields = {
      {{0, 8}, 4}, {{0, 12}, 4}, {{0, 7}, 2}, {{0, 11}, 2}, {{0, 4}, 1},
      {{0, 1}, 8}, {{0, 2}, 8}};
  auto t = Template::Create(ExportProtocol::kIpfix, id, Template::Kind::kData,
                            0, fields, nullptr);
  REQUIRE(t.ok());
  return *t;
}

TEST_CASE("Template file round trip keeps every template") {
  TemplateCache cache(TemplateCacheOptions{});
  const Endpoint exporter{IpAddress::V4(0xC0000201), 4739};
  for (uint16_t id = 256; id < 260; ++id) {
    (void)cache.Put(TemplateKey{ExportProtocol::kIpfix, exporter, 7, id},
                    FiveTuple(id), 1);
  }
  const std::string path = TempPath("roundtrip");
  REQUIRE(SaveTemplateFile(cache, path).ok());

  TemplateCache restored(TemplateCacheOptions{});
  REQUIRE(LoadTemplateFile(path, &restored, 2).ok());
  CHECK(restored.stats().size == 4);
  auto t = restored.Find(TemplateKey{ExportProtocol::kIpfix, exporter, 7, 258},
                         3);
  REQUIRE(t != nullptr);
  CHECK(t->SameLayout(*FiveTuple(258)));
  CHECK(t->min_record_length() == 29);
  std::remove(path.c_str());
}

TEST_CASE("Loading a missing template file is NotFound") {
  TemplateCache cache(TemplateCacheOptions{});
  Status s = LoadTemplateFile(TempPath("does_not_exist"), &cache, 0);
  CHECK(s.code() == StatusCode::kNotFound);
}

TEST_CASE("Loading a file that is not a template file fails cleanly") {
  const std::string path = TempPath("garbage");
  {
    std::ofstream f(path, std::ios::binary);
    f << "\xff\xff\xff\xff this is not a protobuf message \x01\x02";
  }
  TemplateCache cache(TemplateCacheOptions{});
  Status s = LoadTemplateFile(path, &cache, 0);
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK(s.message().find(path) != std::string::npos);
  CHECK(cache.stats().size == 0);
  std::remove(path.c_str());
}

TEST_CASE("Saving into a missing directory is an IoError") {
  TemplateCache cache(TemplateCacheOptions{});
  Status s = SaveTemplateFile(cache, "/nonexistent-dir/flowacct/templates.pb");
  CHECK(s.code() == StatusCode::kIoError);
}

}  // namespace
}  // namespace flowacct
