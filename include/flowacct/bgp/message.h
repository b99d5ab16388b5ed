// File: flowacct/bgp/message.h
//
// The BGP-4 message codec (RFC 4271 §4) for a passive speaker: framing of a
// TCP byte stream into messages, parsers for OPEN (with capabilities),
// UPDATE (RFC 7606 error handling), NOTIFICATION, KEEPALIVE and
// ROUTE-REFRESH, the negotiation of session parameters from two OPENs, and
// encoders for what a passive speaker sends (OPEN, KEEPALIVE, NOTIFICATION)
// plus UpdateBuilder, an UPDATE encoder for tests, benchmarks and tools.
//
// Everything here is sans-I/O: functions take byte spans and fill value
// types. No function reads a clock, allocates per NLRI beyond vector growth,
// or reads past the span it is given. Protocol errors are values: framing and
// OPEN/NOTIFICATION/ROUTE-REFRESH parsers return a non-OK Status plus the
// NOTIFICATION the RFC prescribes; ParseUpdate() reports its RFC 7606
// outcome in ParsedUpdate::action.
//
//   bgp::Frame frame = bgp::FindMessage(buffer, params.max_message_size());
//   if (frame.kind == bgp::Frame::Kind::kMessage &&
//       frame.type == bgp::MessageType::kUpdate) {
//     bgp::ParseUpdate(frame.message, params, &update);  // reuses `update`
//     if (update.action == bgp::UpdateAction::kSessionReset) ...
//   }
//
// Ownership: parsed values own their data (copied out of the input span,
// which callers may free afterwards), except Frame::message, which points
// into the buffer given to FindMessage().
//
// Thread-safety: free functions are reentrant; value types may be used
// concurrently when distinct; UpdateBuilder is immutable after construction.

#ifndef FLOWACCT_BGP_MESSAGE_H_
#define FLOWACCT_BGP_MESSAGE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "flowacct/bgp/path_attributes.h"
#include "flowacct/status.h"

namespace flowacct::bgp {

// ---------------------------------------------------------------------------
// Constants (RFC 4271 §4, RFC 8654, RFC 6793).

enum class MessageType : uint8_t {
  kOpen = 1,
  kUpdate = 2,
  kNotification = 3,
  kKeepalive = 4,
  kRouteRefresh = 5,  // RFC 2918
};

inline constexpr size_t kHeaderSize = 19;
inline constexpr size_t kMaxMessageSize = 4096;           // RFC 4271 §4.1
inline constexpr size_t kMaxExtendedMessageSize = 65535;  // RFC 8654
inline constexpr uint16_t kAsTrans = 23456;               // RFC 6793 §9

// NOTIFICATION error codes (RFC 4271 §4.5, RFC 7313 §5).
namespace error_code {
inline constexpr uint8_t kMessageHeader = 1;
inline constexpr uint8_t kOpenMessage = 2;
inline constexpr uint8_t kUpdateMessage = 3;
inline constexpr uint8_t kHoldTimerExpired = 4;
inline constexpr uint8_t kFsm = 5;
inline constexpr uint8_t kCease = 6;
inline constexpr uint8_t kRouteRefresh = 7;
}  // namespace error_code

// Error subcodes, per error code (RFC 4271 §6, RFC 4486, RFC 8538,
// RFC 9234, RFC 7313).
namespace subcode {
// Message header error.
inline constexpr uint8_t kConnectionNotSynchronized = 1;
inline constexpr uint8_t kBadMessageLength = 2;
inline constexpr uint8_t kBadMessageType = 3;
// OPEN message error.
inline constexpr uint8_t kOpenUnspecific = 0;
inline constexpr uint8_t kUnsupportedVersionNumber = 1;
inline constexpr uint8_t kBadPeerAs = 2;
inline constexpr uint8_t kBadBgpIdentifier = 3;
inline constexpr uint8_t kUnsupportedOptionalParameter = 4;
inline constexpr uint8_t kUnacceptableHoldTime = 6;
inline constexpr uint8_t kUnsupportedCapability = 7;
inline constexpr uint8_t kRoleMismatch = 11;
// UPDATE message error.
inline constexpr uint8_t kMalformedAttributeList = 1;
inline constexpr uint8_t kUnrecognizedWellKnownAttribute = 2;
inline constexpr uint8_t kMissingWellKnownAttribute = 3;
inline constexpr uint8_t kAttributeFlagsError = 4;
inline constexpr uint8_t kAttributeLengthError = 5;
inline constexpr uint8_t kInvalidOriginAttribute = 6;
inline constexpr uint8_t kInvalidNextHopAttribute = 8;
inline constexpr uint8_t kOptionalAttributeError = 9;
inline constexpr uint8_t kInvalidNetworkField = 10;
inline constexpr uint8_t kMalformedAsPath = 11;
// Cease (RFC 4486, RFC 8538).
inline constexpr uint8_t kMaxPrefixes = 1;
inline constexpr uint8_t kAdministrativeShutdown = 2;
inline constexpr uint8_t kPeerDeconfigured = 3;
inline constexpr uint8_t kAdministrativeReset = 4;
inline constexpr uint8_t kConnectionRejected = 5;
inline constexpr uint8_t kOtherConfigurationChange = 6;
inline constexpr uint8_t kConnectionCollision = 7;
inline constexpr uint8_t kOutOfResources = 8;
inline constexpr uint8_t kHardReset = 9;
// ROUTE-REFRESH message error (RFC 7313 §5).
inline constexpr uint8_t kInvalidRouteRefreshLength = 1;
}  // namespace subcode

// A NOTIFICATION (RFC 4271 §4.5): received, or the one the RFC prescribes
// for an error we found.
struct Notification {
  uint8_t code = 0;
  uint8_t subcode = 0;
  std::vector<uint8_t> data;  // capped at MessageLimits::max_notification_data

  // RFC 9003 shutdown communication of a Cease / Administrative Shutdown or
  // Reset, already escaped for logging (EscapeForLog); empty when absent.
  std::string shutdown_communication;
  // True when the communication's length octet overran the data (RFC 9003
  // §2: the data is then ignored).
  bool shutdown_communication_malformed = false;
  // RFC 8538 Hard Reset: the encapsulated code / subcode.
  std::optional<uint8_t> hard_reset_code;
  std::optional<uint8_t> hard_reset_subcode;

  // "Cease/Administrative Shutdown (6/2)", "UPDATE Message Error/... (3/1)".
  std::string ToString() const;

  friend bool operator==(const Notification&, const Notification&) = default;
};

// Text safe to log: printable ASCII and well-formed UTF-8 kept, every other
// byte (controls, invalid UTF-8, DEL) and backslash written as "\xNN" / "\\".
// At most `max_bytes` input bytes are considered.
std::string EscapeForLog(std::span<const uint8_t> bytes,
                         size_t max_bytes = 1024);

// Hard limits on what a parser keeps. Inputs beyond them are counted as
// UpdateIssues (or capped), never allowed to grow memory unboundedly.
struct MessageLimits {
  // AS numbers across all AS_PATH segments (BG-20). A 65535-octet message
  // cannot hold more than ~16k; more than this is treat-as-withdraw.
  size_t max_as_path_asns = 8192;
  // Value bytes of one opaque attribute kept in PathAttributes::unknown
  // (BG-34); a longer one is dropped (attribute discard) and counted.
  size_t max_unknown_attribute_bytes = 4096;
  // Opaque attributes kept per UPDATE; further ones are dropped and counted.
  size_t max_unknown_attributes = 16;
  // NOTIFICATION data octets kept.
  size_t max_notification_data = 1024;
  // Unknown capabilities kept per OPEN.
  size_t max_unknown_capabilities = 64;
  // ParseOpen's identity checks (RFC 4271 §6.2 BGP identifier 0, RFC 7607
  // AS 0 in my_as or the 4-octet AS capability). They make a session fail;
  // a BMP station reading a router's Peer Up OPENs turns them off, as some
  // routers (6WIND/FRR) fabricate those OPENs with zeros there.
  bool check_identity = true;
  // UPDATE next-hop checks: a missing or martian IPv4 NEXT_HOP (RFC 4271
  // §6.3, RFC 7606 §3d) is treat-as-withdraw; a VPN MP_REACH_NLRI next hop
  // without its RD of zeros (RFC 4364 §4.3.2, RFC 4659 §3.2.1) disables the
  // family (RFC 7606 §7.11). Off, the issue is still recorded (action kOk)
  // and the route kept, without a next hop or with the one sent (a 16-octet
  // VPN next hop read as an IPv6 address): a BMP station records what the
  // router holds, and routers report so the locally originated routes of
  // their Loc-RIB (RFC 9069 §5; 6WIND/FRR) and VPN routes over IPv6 (Cisco
  // IOS-XR).
  bool check_next_hop = true;
};

// ---------------------------------------------------------------------------
// Framing (RFC 4271 §4.1, §6.1).

// The first message of a byte buffer.
struct Frame {
  enum class Kind : uint8_t {
    kNeedMore,  // the buffer holds no complete message yet
    kMessage,   // `message` is one complete message
    kError,     // header error: send `error` and close the connection
  };
  Kind kind = Kind::kNeedMore;
  MessageType type = MessageType::kKeepalive;
  // The whole message, header included; points into the input buffer.
  std::span<const uint8_t> message;
  Notification error;  // kError only
};

// Finds the first message at the start of `buffer`. Checks (RFC 4271 §6.1):
// marker all ones (else Connection Not Synchronized, BG-1), length in
// [19, max_message_size] and at least the type's minimum (OPEN 29, UPDATE 23,
// NOTIFICATION 21, KEEPALIVE exactly 19, ROUTE-REFRESH 23) else Bad Message
// Length with the length as data (BG-2), known type else Bad Message Type.
// `max_message_size` is 4096, or 65535 once RFC 8654 extended messages are
// negotiated (SessionParams::max_message_size()).
Frame FindMessage(std::span<const uint8_t> buffer,
                  size_t max_message_size = kMaxMessageSize);

// ---------------------------------------------------------------------------
// OPEN and capabilities (RFC 4271 §4.2, RFC 5492, RFC 9072).

// RFC 7911 ADD-PATH, one family: whether the advertiser can send and/or
// receive path identifiers.
struct AddPathFamily {
  Family family;
  bool send = false;
  bool receive = false;
  friend bool operator==(const AddPathFamily&, const AddPathFamily&) = default;
};

// RFC 4724 graceful restart capability (N bit: RFC 8538).
struct GracefulRestart {
  bool restart_state = false;   // R bit
  bool notification = false;    // N bit
  uint16_t restart_time_s = 0;  // 12 bits
  struct PerFamily {
    Family family;
    bool forwarding_preserved = false;  // F bit
    friend bool operator==(const PerFamily&, const PerFamily&) = default;
  };
  std::vector<PerFamily> families;
  friend bool operator==(const GracefulRestart&,
                         const GracefulRestart&) = default;
};

// RFC 9494 long-lived graceful restart capability.
struct LongLivedGracefulRestart {
  struct PerFamily {
    Family family;
    bool forwarding_preserved = false;
    uint32_t stale_time_s = 0;  // 24 bits
    friend bool operator==(const PerFamily&, const PerFamily&) = default;
  };
  std::vector<PerFamily> families;
  friend bool operator==(const LongLivedGracefulRestart&,
                         const LongLivedGracefulRestart&) = default;
};

// RFC 8950 extended next hop encoding: NLRI family + next-hop AFI.
struct ExtendedNextHop {
  Family family;
  Afi next_hop_afi = Afi::kIpv6;
  friend bool operator==(const ExtendedNextHop&,
                         const ExtendedNextHop&) = default;
};

// A capability the codec does not interpret, or one whose value was
// malformed (it is then treated as absent): code and length only.
struct UnknownCapability {
  uint8_t code = 0;
  uint16_t length = 0;
  friend bool operator==(const UnknownCapability&,
                         const UnknownCapability&) = default;
};

// The capabilities of one OPEN (RFC 5492), from all capability parameters.
struct Capabilities {
  std::vector<Family> multiprotocol;  // code 1, supported families only
  // Code 1 entries with an AFI/SAFI this codec does not support (BG-8):
  // kept as (afi << 8 | safi), otherwise ignored.
  std::vector<uint32_t> other_multiprotocol;
  bool route_refresh = false;                       // code 2 (or Cisco's 128)
  bool enhanced_route_refresh = false;              // code 70, RFC 7313
  bool extended_message = false;                    // code 6, RFC 8654
  std::optional<uint32_t> four_octet_as;            // code 65, RFC 6793
  std::vector<AddPathFamily> add_path;              // code 69, RFC 7911
  std::optional<GracefulRestart> graceful_restart;  // code 64
  std::optional<LongLivedGracefulRestart> long_lived_graceful_restart;  // 71
  std::vector<ExtendedNextHop> extended_next_hop;  // code 5, RFC 8950
  std::optional<uint8_t> role;                     // code 9, RFC 9234
  // Code 73 (draft-walton-bgp-hostname-capability), escaped for logging.
  std::optional<std::string> hostname;
  std::optional<std::string> domain_name;
  // Code 75 (draft-abraitis-bgp-version-capability), escaped for logging.
  std::optional<std::string> software_version;
  std::vector<UnknownCapability> unknown;

  friend bool operator==(const Capabilities&, const Capabilities&) = default;
};

struct OpenMessage {
  uint8_t version = 4;
  uint16_t my_as = 0;  // the 2-octet field (AS_TRANS for a 4-octet AS)
  uint16_t hold_time_s = 0;
  uint32_t bgp_id = 0;  // host order
  Capabilities capabilities;

  // The speaker's AS: the 4-octet AS capability when present, else my_as.
  uint32_t AsNumber() const {
    return capabilities.four_octet_as.value_or(my_as);
  }
  friend bool operator==(const OpenMessage&, const OpenMessage&) = default;
};

// Parses a whole OPEN message (header included). On a protocol error returns
// kInvalidArgument and fills *error with the NOTIFICATION to send: version
// != 4 (2/1, data = 4), AS 0 / AS_TRANS misuse (2/2, RFC 7607, RFC 6793),
// BGP identifier 0 (2/3), hold time 1 or 2 (2/6), optional parameters
// inconsistent with the message or overrun by a capability (2/0; BG-5,
// BG-6, BG-7), non-capability parameters (2/4). Both optional-parameter
// forms are parsed (RFC 9072: 0xFF 0xFF + 2-octet lengths). Malformed
// capability values (AS4 length != 4, BG-10; bad ADD-PATH/GR/FQDN/version
// lengths, BG-11) are treated as absent and listed in capabilities.unknown.
Status ParseOpen(std::span<const uint8_t> message, OpenMessage* out,
                 Notification* error, const MessageLimits& limits = {});

// What two OPENs agree on. Built by Negotiate(); the UPDATE parser needs it.
struct SessionParams {
  bool four_octet_as = true;      // RFC 6793: both advertised capability 65
  bool extended_message = false;  // RFC 8654: both advertised capability 6
  bool ibgp = false;              // local AS == peer AS
  uint32_t local_as = 0;
  uint32_t peer_as = 0;
  // Families both sides advertised (IPv4 unicast when a side advertised no
  // multiprotocol capability, RFC 4760 §8). Any order; Negotiate() sorts.
  std::vector<Family> families;
  // Families whose NLRI carry path identifiers towards us: the peer can
  // send and we can receive (RFC 7911 §4) (any order).
  std::vector<Family> add_path_receive;
  // The peer's graceful restart capability, if any (RFC 4724).
  std::optional<GracefulRestart> peer_graceful_restart;

  bool HasFamily(Family f) const;
  bool HasAddPath(Family f) const;
  size_t max_message_size() const {
    return extended_message ? kMaxExtendedMessageSize : kMaxMessageSize;
  }
  friend bool operator==(const SessionParams&, const SessionParams&) = default;
};

// Computes the session parameters from our OPEN and the peer's.
SessionParams Negotiate(const OpenMessage& ours, const OpenMessage& theirs);

// ---------------------------------------------------------------------------
// UPDATE (RFC 4271 §4.3, RFC 4760, RFC 7606, RFC 7911).

// RFC 7606 outcome of an UPDATE, most severe last.
enum class UpdateAction : uint8_t {
  kOk = 0,
  // Attribute discard happened or nothing was wrong: apply the UPDATE.
  kTreatAsWithdraw,  // RFC 7606 §2: every NLRI of the UPDATE is withdrawn
  kAfiSafiDisable,   // RFC 4760 §7: drop the peer's routes of a family
  kSessionReset,     // send ParsedUpdate::notification and close
};
std::string_view UpdateActionName(UpdateAction action);

// Why an UpdateIssue was recorded (for counters: reason × attribute type).
enum class UpdateProblem : uint8_t {
  kAttributeFlags,         // optional/transitive/partial bits conflict (BG-14)
  kAttributeLength,        // length invalid for the type (BG-22..25, BG-33)
  kAttributeOverrun,       // attribute header or value past the end (BG-12)
  kDuplicateAttribute,     // a repeat; first kept (BG-15)
  kMissingWellKnown,       // NLRI without ORIGIN/AS_PATH/NEXT_HOP (BG-16)
  kUnrecognizedWellKnown,  // a well-known type we do not know
  kInvalidOrigin,          // ORIGIN > 2 (BG-22)
  kInvalidNextHop,         // martian NEXT_HOP (BG-22)
  kMalformedAsPath,        // segment length 0/overrun, type, AS 0 (BG-19)
  kAsPathTooLong,          // more than MessageLimits::max_as_path_asns
  kMalformedAs4Path,       // AS4_PATH discarded (BG-21)
  kMalformedAggregator,    // AGGREGATOR / AS4_AGGREGATOR discarded (BG-23)
  kMalformedAtomicAggregate,  // (BG-23)
  kMalformedCommunities,      // standard / extended / large (BG-24)
  kMalformedRouteReflection,  // ORIGINATOR_ID / CLUSTER_LIST (BG-25)
  kMalformedTlvAttribute,     // tunnel encap, Prefix-SID, AIGP, BGP-LS, PMSI
                              // (BG-31, BG-32, BG-36)
  kInvalidOtc,                // OTC length or value 0 (BG-33)
  kAttributeTooLarge,         // opaque attribute over the cap (BG-34)
  kMalformedMpReach,          // MP_REACH/MP_UNREACH header, next hop (BG-26)
  kInvalidPrefixLength,       // NLRI prefix length too long / overrun (BG-28)
  kInvalidLabelStack,         // no bottom-of-stack bit, VPN NLRI too short
                              // (BG-29): that NLRI is dropped
  kUnsupportedFamily,         // NLRI of a family this codec does not decode
                              // (flowspec, BGP-LS, EVPN...): skipped (BG-27,
                              // BG-30, BG-36)
  kFamilyNotNegotiated,       // NLRI of a supported family not negotiated:
                              // skipped
  kAttributesWithoutNlri,     // attributes but no NLRI at all (BG-18): ignored
  kMalformedLength,           // withdrawn / attribute section overruns (BG-12)
};
std::string_view UpdateProblemName(UpdateProblem problem);

struct UpdateIssue {
  UpdateProblem problem = UpdateProblem::kAttributeLength;
  uint8_t attribute_type = 0;               // 0 when not about one attribute
  UpdateAction action = UpdateAction::kOk;  // the action this issue caused
  friend bool operator==(const UpdateIssue&, const UpdateIssue&) = default;
};

// One decoded UPDATE. Reusable: ParseUpdate() clears and refills it, keeping
// vector capacity, so a long-lived ParsedUpdate parses a full table without
// allocating per message in steady state.
struct ParsedUpdate {
  // Routes to remove: the withdrawn-routes field and MP_UNREACH_NLRI, and,
  // when action is kTreatAsWithdraw, every announced route too.
  std::vector<Nlri> withdrawn;
  // Routes to add or replace, all with `attributes` (empty when action is
  // kTreatAsWithdraw or kSessionReset).
  std::vector<Nlri> announced;
  PathAttributes attributes;
  // Set when the UPDATE is exactly an End-of-RIB marker (RFC 4724 §2): an
  // empty UPDATE (IPv4 unicast) or one holding only an empty MP_UNREACH.
  std::optional<Family> end_of_rib;

  UpdateAction action = UpdateAction::kOk;
  // kAfiSafiDisable: the families to disable (their NLRI are removed from
  // withdrawn / announced).
  std::vector<Family> disabled_families;
  // kSessionReset: what to send.
  Notification notification;
  // Every problem found, in order (bounded by the attribute count).
  std::vector<UpdateIssue> issues;

  // Not part of the result: the AS path segments of earlier messages,
  // emptied, whose storage parsing the next message reuses (a reused
  // ParsedUpdate then parses an AS path without allocating).
  std::vector<AsPathSegment> spare_segments;

  void Clear();
};

// Parses a whole UPDATE message (header included; as returned by
// FindMessage) under `params`. Never fails outright: the outcome, per
// RFC 7606, is out->action. Families not in params.families are skipped
// and counted (kFamilyNotNegotiated); path identifiers are read exactly
// for params.add_path_receive families (BG-37).
void ParseUpdate(std::span<const uint8_t> message, const SessionParams& params,
                 ParsedUpdate* out, const MessageLimits& limits = {});

// ---------------------------------------------------------------------------
// NOTIFICATION, ROUTE-REFRESH.

// Parses a whole NOTIFICATION message. Data is copied up to
// limits.max_notification_data; RFC 9003 / RFC 8538 contents decoded
// (BG-39). kInvalidArgument only when shorter than 21 octets.
Status ParseNotification(std::span<const uint8_t> message, Notification* out,
                         const MessageLimits& limits = {});

// RFC 2918 / RFC 7313 ROUTE-REFRESH with optional RFC 5291 ORF entries.
struct RouteRefresh {
  uint16_t afi = 0;  // raw: the family may be one we do not support
  uint8_t safi = 0;
  uint8_t subtype = 0;  // 0 request, 1 BoRR, 2 EoRR (RFC 7313)
  // RFC 5291: when-to-refresh and the ORF entries' total size (validated,
  // not interpreted).
  std::optional<uint8_t> orf_when_to_refresh;
  size_t orf_entry_count = 0;
  friend bool operator==(const RouteRefresh&, const RouteRefresh&) = default;
};

// Parses a whole ROUTE-REFRESH. kInvalidArgument + *error (7/1 Invalid
// Message Length, RFC 7313 §5) when a BoRR/EoRR is not exactly 23 octets or
// ORF entries overrun the message (BG-9).
Status ParseRouteRefresh(std::span<const uint8_t> message, RouteRefresh* out,
                         Notification* error);

// ---------------------------------------------------------------------------
// Encoders. Each appends one whole message to *out.

// Capabilities are written from open.capabilities (families, ADD-PATH, GR,
// LLGR, extended next hop, role, hostname, software version; unknown
// capabilities are not written). my_as is written as is; use
// SetAsNumber() to fill my_as and the AS4 capability from a 4-octet AS.
// Uses the RFC 9072 extended parameter form when the capabilities do not
// fit in 255 octets. kInvalidArgument if the OPEN would exceed 4096 octets.
Status AppendOpen(const OpenMessage& open, std::vector<uint8_t>* out);
// Sets my_as (AS_TRANS above 65535) and capabilities.four_octet_as.
void SetAsNumber(uint32_t as, OpenMessage* open);
void AppendKeepalive(std::vector<uint8_t>* out);
// Writes code, subcode and data (shutdown_communication and hard_reset_*
// are ignored: put them in data, see AdministrativeShutdown()).
void AppendNotification(const Notification& notification,
                        std::vector<uint8_t>* out);
// A Cease / Administrative Shutdown (or Reset) with an RFC 9003
// communication, truncated to 255 octets at a UTF-8 boundary.
Notification AdministrativeShutdown(std::string_view communication,
                                    bool reset = false);
void AppendRouteRefresh(const RouteRefresh& request, std::vector<uint8_t>* out);

// Encodes UPDATEs: the helper tests, benchmarks and tools use to produce
// what a peer would send. The SessionParams are those of the receiver, so
// ParseUpdate(Build(...), params) round-trips: 2- or 4-octet AS encoding
// (with AS4_PATH / AS4_AGGREGATOR when an AS does not fit in 2 octets),
// path identifiers for params.add_path_receive families, extended length.
//
// IPv4 unicast routes go in the classic withdrawn / NLRI fields with a
// NEXT_HOP attribute (unless the next hop is IPv6, RFC 8950); every other
// family in MP_REACH_NLRI / MP_UNREACH_NLRI (one family each per UPDATE).
// attributes.unknown entries are written verbatim after the known ones, so
// tests can add malformed attributes of any type.
//
// Thread-safety: immutable after construction; Build() is const.
class UpdateBuilder {
 public:
  explicit UpdateBuilder(SessionParams params) : params_(std::move(params)) {}

  // kInvalidArgument when announced (or withdrawn non-IPv4-unicast) NLRI
  // mix families or an attribute cannot be encoded; kResourceExhausted when
  // the message would exceed params.max_message_size() (BG-40: callers
  // split the NLRI list).
  Result<std::vector<uint8_t>> Build(const PathAttributes& attributes,
                                     std::span<const Nlri> announced,
                                     std::span<const Nlri> withdrawn) const;

  // The End-of-RIB marker for a family (RFC 4724 §2).
  static std::vector<uint8_t> EndOfRib(Family family);

 private:
  SessionParams params_;
};

}  // namespace flowacct::bgp

#endif  // FLOWACCT_BGP_MESSAGE_H_
