// File: flowacct/enrich/allow_list.h
//
// AllowList: pmacct's *_allow_file (nfacctd_allow_file, sfacctd_allow_file,
// bgp_daemon_allow_file ...). One IPv4/IPv6 address or prefix per line;
// datagrams from other sources are dropped. A file without any entry denies
// everything (pmacct's rule); not configuring a list at all is the caller's
// "allow all".
//
//   192.0.2.1
//   198.51.100.0/24
//   2001:db8::/32
//
// IPv4-mapped IPv6 sources (::ffff:192.0.2.1, as a dual-stack socket reports
// them) are checked as the IPv4 address.
//
// Thread-safety: immutable after Load; const methods are safe concurrently.

#ifndef FLOWACCT_ENRICH_ALLOW_LIST_H_
#define FLOWACCT_ENRICH_ALLOW_LIST_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "flowacct/model/ip_address.h"
#include "flowacct/status.h"

namespace flowacct {

class AllowList {
 public:
  // Errors ("<filename>:<line>: ..."): kInvalidArgument (not an address or
  // prefix, control bytes, line over 256 bytes).
  static Result<std::shared_ptr<const AllowList>> Load(
      std::string_view text, std::string_view filename);
  // Errors: kIoError if `path` cannot be read, else as Load.
  static Result<std::shared_ptr<const AllowList>> LoadFile(
      const std::string& path);

  // True when `address` is inside one of the entries.
  bool Allows(const IpAddress& address) const;
  size_t size() const;

  ~AllowList();
  AllowList(const AllowList&) = delete;
  AllowList& operator=(const AllowList&) = delete;

 private:
  struct Impl;
  explicit AllowList(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowacct

#endif  // FLOWACCT_ENRICH_ALLOW_LIST_H_
