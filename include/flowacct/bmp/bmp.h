// File: flowacct/bmp/bmp.h
//
// The BGP Monitoring Protocol (RFC 7854) as a station receives it: a router
// connects and streams what it learnt from its BGP peers — per monitored
// peer its Peer Up (with both OPEN messages), the routes (Route Monitoring:
// whole BGP UPDATE PDUs), statistics and Peer Down — plus RFC 9069 Loc-RIB
// and RFC 8671 Adj-RIB-Out views. bmp::Stream turns one router's TCP byte
// stream into typed events; the BGP PDUs inside are decoded with the BGP
// codec (bgp/message.h) using session parameters inferred from the Peer Up
// OPENs (AS number size, ADD-PATH), never guessed (BM-5).
//
//   class ToRib : public bmp::StreamHandler { ... OnRouteMonitoring ... };
//   bmp::Stream stream;
//   ToRib handler;
//   Status s = stream.Feed(bytes_from_socket, &handler);
//   if (!s.ok()) close the connection (the framing is lost: BM-1)
//
// Hostile input (hostile-inputs.md §1.6): a message whose common header is
// bad (version != 3, length < 6 or over StreamOptions::max_message_bytes)
// makes Feed fail: the stream cannot be resynchronised, so the caller
// closes. A well-framed message with a bad body (inner BGP length
// disagreeing with the BMP length, overrunning TLVs, unknown peer type) is
// counted by reason and skipped; the stream goes on.
//
// Thread-safety: a Stream is used by one thread at a time; value types may
// be used concurrently when distinct.

#ifndef FLOWACCT_BMP_BMP_H_
#define FLOWACCT_BMP_BMP_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "flowacct/bgp/message.h"
#include "flowacct/bgp/path_attributes.h"
#include "flowacct/model/ip_address.h"
#include "flowacct/status.h"

namespace flowacct::bmp {

inline constexpr uint8_t kVersion = 3;
inline constexpr size_t kCommonHeaderSize = 6;
inline constexpr size_t kPeerHeaderSize = 42;

enum class MessageType : uint8_t {
  kRouteMonitoring = 0,
  kStatisticsReport = 1,
  kPeerDown = 2,
  kPeerUp = 3,
  kInitiation = 4,
  kTermination = 5,
  kRouteMirroring = 6,
};
// "route_monitor", "stats", "peer_down", "peer_up", "init", "term",
// "route_mirror" (pmacct's bmp_msg_type values).
std::string_view MessageTypeName(MessageType type);

// RFC 7854 §4.2, RFC 9069 §4.1.
enum class PeerType : uint8_t {
  kGlobal = 0,
  kRdInstance = 1,
  kLocalInstance = 2,
  kLocRib = 3,
};

// The per-peer header: which monitored peer, and which of its RIB views, a
// message is about.
struct PeerHeader {
  PeerType type = PeerType::kGlobal;
  uint8_t flags = 0;  // as on the wire
  // Flag bits decoded (RFC 7854 §4.2, RFC 8671 §4, RFC 9069 §4.2).
  bool ipv6 = false;              // V: the peer address is IPv6
  bool post_policy = false;       // L
  bool legacy_as_path = false;    // A: AS_PATH uses 2-octet ASNs
  bool adj_rib_out = false;       // O (RFC 8671)
  bool loc_rib_filtered = false;  // F (RFC 9069, Loc-RIB peers)
  bgp::RouteDistinguisher distinguisher;
  IpAddress address;  // 0.0.0.0 for Loc-RIB peers
  uint32_t as = 0;
  uint32_t bgp_id = 0;
  int64_t timestamp_ns = 0;  // 0: not given

  // The identity of a monitored peer within one router's stream:
  // type + distinguisher + address (Loc-RIB instances differ only by
  // distinguisher; pmacct PR #814).
  bool SamePeer(const PeerHeader& other) const;
};

// Initiation / Peer Up information TLV, or a Termination TLV.
struct InformationTlv {
  uint16_t type = 0;  // 0 string, 1 sysDescr, 2 sysName (7854 §4.4)
  std::string value;  // raw bytes; escape before logging
};

struct PeerUp {
  PeerHeader peer;
  IpAddress local_address;
  uint16_t local_port = 0;
  uint16_t remote_port = 0;
  bgp::OpenMessage sent_open;      // what the monitored router sent
  bgp::OpenMessage received_open;  // what its peer sent
  // What the router and its peer negotiated, as inferred from the two OPENs.
  // This peer's Route Monitoring PDUs are decoded with its AS number size
  // and ADD-PATH families, but with every family the codec knows: a router
  // reports families its OPENs do not list (the station records, it does
  // not police the session).
  bgp::SessionParams params;
  // The families whose Route Monitoring NLRI carry path ids (RFC 7911), as
  // this peer's PDUs are decoded: in its Adj-RIB-In and Loc-RIB views, and
  // in its Adj-RIB-Out views (the other direction). For a Loc-RIB peer,
  // those of all its Peer Ups so far (RFC 9069 §5.2).
  std::vector<bgp::Family> add_path_in;
  std::vector<bgp::Family> add_path_out;
  std::vector<InformationTlv> information;
};

struct PeerDown {
  PeerHeader peer;
  // 1 local NOTIFICATION, 2 local no notification (FSM event), 3 remote
  // NOTIFICATION, 4 remote closed, 5 de-configured, 6 Loc-RIB down (9069).
  uint8_t reason = 0;
  std::optional<bgp::Notification> notification;  // reasons 1 and 3
  std::optional<uint16_t> fsm_event;              // reason 2
};

struct Statistic {
  uint16_t type = 0;   // RFC 7854 §4.8 / IANA registry
  uint64_t value = 0;  // 32-bit counters and 64-bit gauges, widened
  // AFI/SAFI of the per-family gauges (types 9, 10, 16, 17).
  std::optional<bgp::Family> family;
  // The value's length on the wire: 4, 8, or 11 (AFI, SAFI and a 64-bit
  // gauge). Counters of any other length are skipped by the decoder.
  uint16_t length = 0;
};

struct StatisticsReport {
  PeerHeader peer;
  std::vector<Statistic> statistics;
};

struct Initiation {
  std::vector<InformationTlv> information;
};

struct Termination {
  std::vector<InformationTlv> information;
  std::optional<uint16_t> reason;  // TLV type 1
};

// Receives a stream's events, in order. Spans and references are valid
// during the call only.
class StreamHandler {
 public:
  virtual ~StreamHandler() = default;
  virtual void OnInitiation(const Initiation&) {}
  virtual void OnTermination(const Termination&) {}
  virtual void OnPeerUp(const PeerUp&) {}
  virtual void OnPeerDown(const PeerDown&) {}
  virtual void OnStatistics(const StatisticsReport&) {}
  // One Route Monitoring message: the peer and its decoded UPDATE (RFC 7606
  // outcome in update.action; an End-of-RIB marker has end_of_rib set).
  virtual void OnRouteMonitoring(const PeerHeader& peer,
                                 const bgp::ParsedUpdate& update) {}
};

// Why a well-framed message was skipped (counters: reason).
enum class BmpProblem : uint8_t {
  kTruncatedPeerHeader,
  kUnknownPeerType,     // BM-3: skipped
  kBadInnerBgpMessage,  // BM-2: inner BGP header/length disagrees
  kInnerNotUpdate,      // Route Monitoring without an UPDATE inside
  kBadPeerUp,           // BM-5: OPENs missing or malformed
  kBadPeerDown,
  kBadTlv,              // BM-6: overrunning TLVs or counts
  kUnknownMessageType,  // skipped
  kRouteMirroring,      // not supported: skipped
  kPeerWithoutPeerUp,   // BM-4: decoded with defaults (counted)
  kTooManyPeers,        // BM-7: over StreamOptions::max_peers: dropped
};
inline constexpr int kBmpProblemCount = 11;
std::string_view BmpProblemName(BmpProblem problem);

struct StreamOptions {
  // Largest BMP message accepted (BM-1); RFC 7854 lengths are 32-bit.
  size_t max_message_bytes = 1 << 20;
  // Monitored peers tracked per router (BM-7; pmacct's bmp_daemon_max_peers
  // is per station). Route Monitoring for further peers is dropped and
  // counted.
  size_t max_peers = 4096;
  bgp::MessageLimits bgp_limits;
};

struct StreamStats {
  std::array<uint64_t, 7> messages{};  // by MessageType
  std::array<uint64_t, kBmpProblemCount> problems{};
  uint64_t announced = 0;  // NLRI announced in Route Monitoring
  uint64_t withdrawn = 0;  // NLRI withdrawn (incl. treat-as-withdraw)
  uint64_t bytes = 0;
};

// One router's BMP byte stream.
class Stream {
 public:
  explicit Stream(StreamOptions options = {});
  ~Stream();
  Stream(Stream&&) noexcept;
  Stream& operator=(Stream&&) noexcept;

  // Consumes `bytes` (any split of the stream gives the same events) and
  // calls `handler` for each complete message. kInvalidArgument when the
  // framing is broken (BM-1: version, length); the stream is then dead and
  // every later call fails the same way.
  Status Feed(std::span<const uint8_t> bytes, StreamHandler* handler);

  // Bytes received but not yet forming a whole message.
  size_t buffered() const;
  const StreamStats& stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Decodes one whole BMP message (common header included) without stream
// state (Route Monitoring then uses the default session parameters: 4-octet
// ASNs unless the A flag is set, no ADD-PATH). For tools and fuzzing;
// streams should use Stream. kInvalidArgument for a bad common header;
// body problems are reported through `problem` (skipped message) with OK.
Status DecodeMessage(std::span<const uint8_t> message, StreamHandler* handler,
                     std::optional<BmpProblem>* problem,
                     const StreamOptions& options = {});

}  // namespace flowacct::bmp

#endif  // FLOWACCT_BMP_BMP_H_
