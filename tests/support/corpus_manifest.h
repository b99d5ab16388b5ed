// The record counts of ../shared/corpus/manifest.tsv (path, protocol,
// packets, records, features), for tests that check a decoder against the
// corpus's independent count (tshark's, for BGP and BMP: messages).

#ifndef FLOWACCT_TESTS_SUPPORT_CORPUS_MANIFEST_H_
#define FLOWACCT_TESTS_SUPPORT_CORPUS_MANIFEST_H_

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace flowacct::testing {

// path (relative to the corpus) -> records, for rows of `protocol`.
inline std::map<std::string, size_t> ReadManifestCounts(
    const std::filesystem::path& corpus, const std::string& protocol) {
  std::map<std::string, size_t> counts;
  std::ifstream in(corpus / "manifest.tsv");
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> cols;
    std::stringstream ss(line);
    std::string col;
    while (std::getline(ss, col, '\t')) cols.push_back(col);
    if (cols.size() >= 4 && cols[1] == protocol && !cols[3].empty() &&
        cols[3].find_first_not_of("0123456789") == std::string::npos) {
      counts[cols[0]] = std::stoul(cols[3]);
    }
  }
  return counts;
}

}  // namespace flowacct::testing

#endif  // FLOWACCT_TESTS_SUPPORT_CORPUS_MANIFEST_H_
