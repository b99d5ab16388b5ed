// Corpus replay driver for the fuzz targets, linked instead of libFuzzer when
// FLOWACCT_FUZZ is OFF. It feeds every regular file of the target's seed
// directory (fuzz/corpus/<target>/, compiled in) and of every directory or
// file named on the command line to LLVMFuzzerTestOneInput, once each, in
// sorted order. A crash or sanitizer report fails the CTest test; a missing
// or empty seed directory fails it too (a replay that ran nothing must not
// pass silently).
//
//   fuzz/ipfix_fuzz                 # replay fuzz/corpus/ipfix_fuzz/
//   fuzz/ipfix_fuzz crash-1234 dir/ # also replay these

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

namespace fs = std::filesystem;

// Appends the regular files under `path` (or `path` itself) to *files.
bool CollectInputs(const fs::path& path, std::vector<fs::path>* files) {
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) {
    files->push_back(path);
    return true;
  }
  if (!fs::is_directory(path, ec)) {
    std::fprintf(stderr, "replay: %s: not a file or directory\n", path.c_str());
    return false;
  }
  std::vector<fs::path> found;
  for (const auto& entry : fs::recursive_directory_iterator(path, ec)) {
    if (entry.is_regular_file()) found.push_back(entry.path());
  }
  if (ec) {
    std::fprintf(stderr, "replay: %s: %s\n", path.c_str(),
                 ec.message().c_str());
    return false;
  }
  std::sort(found.begin(), found.end());
  files->insert(files->end(), found.begin(), found.end());
  return true;
}

bool ReadFile(const fs::path& path, std::vector<uint8_t>* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out->assign(std::istreambuf_iterator<char>(in),
              std::istreambuf_iterator<char>());
  return !in.bad();
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<fs::path> files;
  bool ok = CollectInputs(FLOWACCT_FUZZ_SEED_DIR, &files);
  for (int i = 1; i < argc; ++i) {
    ok = CollectInputs(argv[i], &files) && ok;
  }
  if (!ok) return 2;
  if (files.empty()) {
    std::fprintf(stderr, "replay: no inputs found in %s\n",
                 FLOWACCT_FUZZ_SEED_DIR);
    return 2;
  }
  std::vector<uint8_t> data;
  size_t bytes = 0;
  for (const fs::path& file : files) {
    if (!ReadFile(file, &data)) {
      std::fprintf(stderr, "replay: cannot read %s\n", file.c_str());
      return 2;
    }
    // Copy into an exactly-sized heap buffer so ASan catches reads past the
    // end of the input, as it does under libFuzzer.
    std::vector<uint8_t> exact(data.begin(), data.end());
    LLVMFuzzerTestOneInput(exact.empty() ? nullptr : exact.data(),
                           exact.size());
    bytes += data.size();
  }
  std::printf("replay: %zu inputs, %zu bytes, no crash\n", files.size(), bytes);
  return 0;
}
