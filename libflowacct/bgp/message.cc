// BGP framing (RFC 4271 §4.1, §6.1), NOTIFICATION (RFC 4271 §4.5, RFC 9003,
// RFC 8538), KEEPALIVE and ROUTE-REFRESH (RFC 2918, RFC 7313, RFC 5291).

#include "flowacct/bgp/message.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include "libflowacct/bgp/wire.h"

namespace flowacct::bgp {
namespace {

using wire::Reader;

Notification MakeError(uint8_t code, uint8_t subcode,
                       std::vector<uint8_t> data = {}) {
  Notification n;
  n.code = code;
  n.subcode = subcode;
  n.data = std::move(data);
  return n;
}

std::string_view CodeName(uint8_t code) {
  switch (code) {
    case error_code::kMessageHeader:
      return "Message Header Error";
    case error_code::kOpenMessage:
      return "OPEN Message Error";
    case error_code::kUpdateMessage:
      return "UPDATE Message Error";
    case error_code::kHoldTimerExpired:
      return "Hold Timer Expired";
    case error_code::kFsm:
      return "Finite State Machine Error";
    case error_code::kCease:
      return "Cease";
    case error_code::kRouteRefresh:
      return "ROUTE-REFRESH Message Error";
  }
  return "Unknown Error";
}

std::string_view SubcodeName(uint8_t code, uint8_t sub) {
  switch (code) {
    case error_code::kMessageHeader:
      switch (sub) {
        case 1:
          return "Connection Not Synchronized";
        case 2:
          return "Bad Message Length";
        case 3:
          return "Bad Message Type";
      }
      break;
    case error_code::kOpenMessage:
      switch (sub) {
        case 0:
          return "Unspecific";
        case 1:
          return "Unsupported Version Number";
        case 2:
          return "Bad Peer AS";
        case 3:
          return "Bad BGP Identifier";
        case 4:
          return "Unsupported Optional Parameter";
        case 6:
          return "Unacceptable Hold Time";
        case 7:
          return "Unsupported Capability";
        case 11:
          return "Role Mismatch";
      }
      break;
    case error_code::kUpdateMessage:
      switch (sub) {
        case 1:
          return "Malformed Attribute List";
        case 2:
          return "Unrecognized Well-known Attribute";
        case 3:
          return "Missing Well-known Attribute";
        case 4:
          return "Attribute Flags Error";
        case 5:
          return "Attribute Length Error";
        case 6:
          return "Invalid ORIGIN Attribute";
        case 8:
          return "Invalid NEXT_HOP Attribute";
        case 9:
          return "Optional Attribute Error";
        case 10:
          return "Invalid Network Field";
        case 11:
          return "Malformed AS_PATH";
      }
      break;
    case error_code::kCease:
      switch (sub) {
        case 1:
          return "Maximum Number of Prefixes Reached";
        case 2:
          return "Administrative Shutdown";
        case 3:
          return "Peer De-configured";
        case 4:
          return "Administrative Reset";
        case 5:
          return "Connection Rejected";
        case 6:
          return "Other Configuration Change";
        case 7:
          return "Connection Collision Resolution";
        case 8:
          return "Out of Resources";
        case 9:
          return "Hard Reset";
        case 10:
          return "BFD Down";
      }
      break;
    case error_code::kRouteRefresh:
      if (sub == 1) return "Invalid Message Length";
      break;
  }
  return "";
}

// RFC 4271 §4.1 minimum lengths per type.
size_t MinLength(uint8_t type) {
  switch (type) {
    case 1:
      return 29;
    case 2:
      return 23;
    case 3:
      return 21;
    case 4:
      return 19;
    case 5:
      return 23;
  }
  return kHeaderSize;
}

}  // namespace

std::string Notification::ToString() const {
  std::string s(CodeName(code));
  std::string_view sub = SubcodeName(code, subcode);
  if (!sub.empty()) {
    s += '/';
    s += sub;
  }
  s += " (" + std::to_string(code) + "/" + std::to_string(subcode) + ")";
  if (!shutdown_communication.empty()) {
    s += ": \"" + shutdown_communication + "\"";
  }
  return s;
}

std::string EscapeForLog(std::span<const uint8_t> bytes, size_t max_bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  const size_t n = std::min(bytes.size(), max_bytes);
  std::string out;
  out.reserve(n);
  auto escape = [&out](uint8_t b) {
    out += "\\x";
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  };
  size_t i = 0;
  while (i < n) {
    const uint8_t b = bytes[i];
    if (b == '\\') {
      out += "\\\\";
      ++i;
      continue;
    }
    if (b >= 0x20 && b < 0x7f) {
      out += static_cast<char>(b);
      ++i;
      continue;
    }
    // Well-formed UTF-8 multi-octet sequence (RFC 3629), no overlongs or
    // surrogates; anything else is escaped octet by octet.
    size_t len = 0;
    uint32_t cp = 0;
    if (b >= 0xc2 && b <= 0xdf) {
      len = 2, cp = b & 0x1f;
    } else if (b >= 0xe0 && b <= 0xef) {
      len = 3, cp = b & 0x0f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      len = 4, cp = b & 0x07;
    }
    bool ok = len > 0 && i + len <= n;
    for (size_t k = 1; ok && k < len; ++k) {
      const uint8_t c = bytes[i + k];
      if ((c & 0xc0) != 0x80) {
        ok = false;
      } else {
        cp = (cp << 6) | (c & 0x3f);
      }
    }
    if (ok) {
      ok = !(len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) &&
           !(len == 4 && (cp < 0x10000 || cp > 0x10ffff)) &&
           !(cp >= 0x80 && cp < 0xa0);  // C1 controls
    }
    if (ok) {
      out.append(reinterpret_cast<const char*>(bytes.data() + i), len);
      i += len;
    } else {
      escape(b);
      ++i;
    }
  }
  return out;
}

Frame FindMessage(std::span<const uint8_t> buffer, size_t max_message_size) {
  Frame frame;
  if (buffer.size() < kHeaderSize) {
    // Fail early on a bad marker even before the header is complete.
    for (size_t i = 0; i < buffer.size() && i < 16; ++i) {
      if (buffer[i] != 0xff) {
        frame.kind = Frame::Kind::kError;
        frame.error = MakeError(error_code::kMessageHeader,
                                subcode::kConnectionNotSynchronized);
        return frame;
      }
    }
    return frame;
  }
  for (size_t i = 0; i < 16; ++i) {
    if (buffer[i] != 0xff) {
      frame.kind = Frame::Kind::kError;
      frame.error = MakeError(error_code::kMessageHeader,
                              subcode::kConnectionNotSynchronized);
      return frame;
    }
  }
  const uint16_t length = wire::LoadU16(buffer.data() + 16);
  const uint8_t type = buffer[18];
  const size_t max = std::min(max_message_size, kMaxExtendedMessageSize);
  if (type < 1 || type > 5) {
    frame.kind = Frame::Kind::kError;
    frame.error =
        MakeError(error_code::kMessageHeader, subcode::kBadMessageType, {type});
    return frame;
  }
  // RFC 8654 §3: OPEN and KEEPALIVE never exceed 4096 octets.
  const size_t type_max =
      (type == 1 || type == 4) ? std::min(max, kMaxMessageSize) : max;
  if (length < MinLength(type) || length > type_max ||
      (type == 4 && length != kHeaderSize)) {
    frame.kind = Frame::Kind::kError;
    frame.error = MakeError(
        error_code::kMessageHeader, subcode::kBadMessageLength,
        {static_cast<uint8_t>(length >> 8), static_cast<uint8_t>(length)});
    return frame;
  }
  if (buffer.size() < length) return frame;  // kNeedMore
  frame.kind = Frame::Kind::kMessage;
  frame.type = static_cast<MessageType>(type);
  frame.message = buffer.first(length);
  return frame;
}

Status ParseNotification(std::span<const uint8_t> message, Notification* out,
                         const MessageLimits& limits) {
  *out = Notification();
  if (message.size() < 21) {
    return InvalidArgumentError("NOTIFICATION shorter than 21 octets");
  }
  Reader r(message.subspan(kHeaderSize));
  (void)r.U8(&out->code);
  (void)r.U8(&out->subcode);
  std::span<const uint8_t> data = r.Rest();
  const size_t keep = std::min(data.size(), limits.max_notification_data);
  out->data.assign(data.begin(), data.begin() + keep);

  if (out->code == error_code::kCease &&
      (out->subcode == subcode::kAdministrativeShutdown ||
       out->subcode == subcode::kAdministrativeReset) &&
      !data.empty()) {
    // RFC 9003 §2: length octet + UTF-8 text (0..255 octets).
    const size_t len = data[0];
    if (len + 1 > data.size()) {
      out->shutdown_communication_malformed = true;
    } else {
      out->shutdown_communication = EscapeForLog(data.subspan(1, len), 255);
    }
  } else if (out->code == error_code::kCease &&
             out->subcode == subcode::kHardReset && data.size() >= 2) {
    // RFC 8538 §3: the data carries the code, subcode and data of the
    // NOTIFICATION that caused the hard reset.
    out->hard_reset_code = data[0];
    out->hard_reset_subcode = data[1];
    if (data[0] == error_code::kCease &&
        (data[1] == subcode::kAdministrativeShutdown ||
         data[1] == subcode::kAdministrativeReset) &&
        data.size() >= 3) {
      const size_t len = data[2];
      if (len + 3 > data.size()) {
        out->shutdown_communication_malformed = true;
      } else {
        out->shutdown_communication = EscapeForLog(data.subspan(3, len), 255);
      }
    }
  }
  return Status::Ok();
}

Status ParseRouteRefresh(std::span<const uint8_t> message, RouteRefresh* out,
                         Notification* error) {
  *out = RouteRefresh();
  auto fail = [&](std::string why) {
    const size_t len = message.size();
    *error = MakeError(
        error_code::kRouteRefresh, subcode::kInvalidRouteRefreshLength,
        {static_cast<uint8_t>(len >> 8), static_cast<uint8_t>(len)});
    return InvalidArgumentError(std::move(why));
  };
  if (message.size() < 23) return fail("ROUTE-REFRESH shorter than 23 octets");
  Reader r(message.subspan(kHeaderSize));
  (void)r.U16(&out->afi);
  (void)r.U8(&out->subtype);  // RFC 7313 §3: the former reserved octet
  (void)r.U8(&out->safi);
  if (out->subtype == 1 || out->subtype == 2) {
    if (!r.empty()) return fail("BoRR/EoRR longer than 23 octets");
    return Status::Ok();
  }
  if (r.empty()) return Status::Ok();
  // RFC 5291 §4: when-to-refresh (1) then ORF entries: type (1), length (2),
  // entries.
  uint8_t when = 0;
  (void)r.U8(&when);
  out->orf_when_to_refresh = when;
  while (!r.empty()) {
    uint8_t orf_type = 0;
    uint16_t orf_len = 0;
    if (!r.U8(&orf_type) || !r.U16(&orf_len)) {
      return fail("truncated ORF header");
    }
    if (!r.Skip(orf_len)) return fail("ORF entries overrun the message");
    ++out->orf_entry_count;
  }
  return Status::Ok();
}

void AppendKeepalive(std::vector<uint8_t>* out) {
  size_t start = wire::BeginMessage(out, 4);
  wire::FinishMessage(out, start);
}

void AppendNotification(const Notification& notification,
                        std::vector<uint8_t>* out) {
  size_t start = wire::BeginMessage(out, 3);
  wire::PutU8(out, notification.code);
  wire::PutU8(out, notification.subcode);
  const size_t room = kMaxMessageSize - 21;
  const size_t n = std::min(notification.data.size(), room);
  out->insert(out->end(), notification.data.begin(),
              notification.data.begin() + n);
  wire::FinishMessage(out, start);
}

Notification AdministrativeShutdown(std::string_view communication,
                                    bool reset) {
  Notification n;
  n.code = error_code::kCease;
  n.subcode =
      reset ? subcode::kAdministrativeReset : subcode::kAdministrativeShutdown;
  size_t len = std::min<size_t>(communication.size(), 255);
  // Do not cut a UTF-8 sequence: back up over continuation octets.
  if (len < communication.size()) {
    while (len > 0 &&
           (static_cast<uint8_t>(communication[len]) & 0xc0) == 0x80) {
      --len;
    }
  }
  if (len > 0) {
    n.data.resize(len + 1);
    n.data[0] = static_cast<uint8_t>(len);
    std::memcpy(n.data.data() + 1, communication.data(), len);
    n.shutdown_communication = EscapeForLog(
        std::span(reinterpret_cast<const uint8_t*>(communication.data()), len),
        255);
  }
  return n;
}

void AppendRouteRefresh(const RouteRefresh& request,
                        std::vector<uint8_t>* out) {
  size_t start = wire::BeginMessage(out, 5);
  wire::PutU16(out, request.afi);
  wire::PutU8(out, request.subtype);
  wire::PutU8(out, request.safi);
  wire::FinishMessage(out, start);
}

std::string_view UpdateActionName(UpdateAction action) {
  switch (action) {
    case UpdateAction::kOk:
      return "ok";
    case UpdateAction::kTreatAsWithdraw:
      return "treat-as-withdraw";
    case UpdateAction::kAfiSafiDisable:
      return "afi-safi-disable";
    case UpdateAction::kSessionReset:
      return "session-reset";
  }
  return "unknown";
}

std::string_view UpdateProblemName(UpdateProblem problem) {
  switch (problem) {
    case UpdateProblem::kAttributeFlags:
      return "attribute_flags";
    case UpdateProblem::kAttributeLength:
      return "attribute_length";
    case UpdateProblem::kAttributeOverrun:
      return "attribute_overrun";
    case UpdateProblem::kDuplicateAttribute:
      return "duplicate_attribute";
    case UpdateProblem::kMissingWellKnown:
      return "missing_well_known";
    case UpdateProblem::kUnrecognizedWellKnown:
      return "unrecognized_well_known";
    case UpdateProblem::kInvalidOrigin:
      return "invalid_origin";
    case UpdateProblem::kInvalidNextHop:
      return "invalid_next_hop";
    case UpdateProblem::kMalformedAsPath:
      return "malformed_as_path";
    case UpdateProblem::kAsPathTooLong:
      return "as_path_too_long";
    case UpdateProblem::kMalformedAs4Path:
      return "malformed_as4_path";
    case UpdateProblem::kMalformedAggregator:
      return "malformed_aggregator";
    case UpdateProblem::kMalformedAtomicAggregate:
      return "malformed_atomic_aggregate";
    case UpdateProblem::kMalformedCommunities:
      return "malformed_communities";
    case UpdateProblem::kMalformedRouteReflection:
      return "malformed_route_reflection";
    case UpdateProblem::kMalformedTlvAttribute:
      return "malformed_tlv_attribute";
    case UpdateProblem::kInvalidOtc:
      return "invalid_otc";
    case UpdateProblem::kAttributeTooLarge:
      return "attribute_too_large";
    case UpdateProblem::kMalformedMpReach:
      return "malformed_mp_reach";
    case UpdateProblem::kInvalidPrefixLength:
      return "invalid_prefix_length";
    case UpdateProblem::kInvalidLabelStack:
      return "invalid_label_stack";
    case UpdateProblem::kUnsupportedFamily:
      return "unsupported_family";
    case UpdateProblem::kFamilyNotNegotiated:
      return "family_not_negotiated";
    case UpdateProblem::kAttributesWithoutNlri:
      return "attributes_without_nlri";
    case UpdateProblem::kMalformedLength:
      return "malformed_length";
  }
  return "unknown";
}

}  // namespace flowacct::bgp
