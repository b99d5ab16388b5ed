"""TCP payload streams of a capture file, pure Python (stdlib only).

The Python twin of tests/support/tcp_streams.h, for tests that replay the
stream protocols of real captures (BGP, BMP) over loopback TCP:

    from pcap_tcp import tcp_streams
    for src, dst, payload in tcp_streams("bmp/x.pcap"):
        ...  # src, dst: Endpoint(address: str, port: int)

Formats: pcap (either byte order, micro- or nanosecond stamps) and pcapng
(every interface's link type), optionally gzip-compressed (".gz"). Link
types: Ethernet (802.1Q / QinQ tags), raw IPv4/IPv6, BSD loopback, Linux
SLL and SLL2; any other by finding a plausible IPv4/IPv6 header in the
first 64 bytes (PPP, Cisco HDLC, Juniper encapsulations). IPv6 extension
headers (hop-by-hop, routing, destination options) are skipped. IPv4
fragments are not reassembled (counted as skipped).

Each direction of each connection (address, port -> address, port) is one
stream, returned in order of first appearance in the capture. A stream's
segments are put in sequence-number order (relative to the SYN when the
capture has it, else to the first segment), retransmitted bytes are dropped
and holes are counted; bytes after a hole are still appended. Streams
without payload are left out.

Thread-safety: plain functions, no shared state.
"""

import collections
import gzip
import ipaddress
import struct

Endpoint = collections.namedtuple("Endpoint", "address port")
TcpStream = collections.namedtuple("TcpStream", "src dst payload")

_PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">",  # microseconds
    b"\x4d\x3c\xb2\xa1": "<", b"\xa1\xb2\x3c\x4d": ">",  # nanoseconds
}
_PCAPNG_SHB = 0x0A0D0D0A

# Link types (https://www.tcpdump.org/linktypes.html).
_LINKTYPE_NULL = 0
_LINKTYPE_ETHERNET = 1
_LINKTYPE_RAW = (12, 14, 101)
_LINKTYPE_LINUX_SLL = 113
_LINKTYPE_IPV4 = 228
_LINKTYPE_IPV6 = 229
_LINKTYPE_LINUX_SLL2 = 276


class CaptureError(Exception):
    """The file is not a pcap / pcapng capture, or is cut short."""


def _open(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data


def _pcap_frames(data):
    """(link type, frame bytes) of a classic pcap file."""
    e = _PCAP_MAGICS[data[:4]]
    if len(data) < 24:
        raise CaptureError("pcap header cut short")
    linktype = struct.unpack(e + "I", data[20:24])[0] & 0x0FFFFFFF
    pos = 24
    while pos + 16 <= len(data):
        caplen = struct.unpack(e + "I", data[pos + 8:pos + 12])[0]
        pos += 16
        if pos + caplen > len(data):
            break  # last frame cut short: ignored, as libpcap does
        yield linktype, data[pos:pos + caplen]
        pos += caplen


def _pcapng_frames(data):
    """(link type, frame bytes) of a pcapng file (every section)."""
    pos = 0
    e = "<"
    linktypes = []
    while pos + 12 <= len(data):
        btype = struct.unpack(e + "I", data[pos:pos + 4])[0]
        if btype == _PCAPNG_SHB:
            e = "<" if data[pos + 8:pos + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            linktypes = []
        blen = struct.unpack(e + "I", data[pos + 4:pos + 8])[0]
        if blen < 12 or pos + blen > len(data):
            break
        body = data[pos + 8:pos + blen - 4]
        if btype == 1 and len(body) >= 2:  # Interface Description
            linktypes.append(struct.unpack(e + "H", body[:2])[0])
        elif btype == 6 and len(body) >= 20:  # Enhanced Packet
            iface, _, _, caplen = struct.unpack(e + "IIII", body[:16])
            if iface < len(linktypes):
                yield linktypes[iface], body[20:20 + caplen]
        elif btype == 3 and len(body) >= 4 and linktypes:  # Simple Packet
            yield linktypes[0], body[4:]
        pos += blen


def _frames(data):
    if data[:4] in _PCAP_MAGICS:
        return _pcap_frames(data)
    if len(data) >= 4 and struct.unpack("<I", data[:4])[0] == _PCAPNG_SHB:
        return _pcapng_frames(data)
    raise CaptureError("neither pcap nor pcapng")


def _looks_like_ip(p, off):
    n = len(p) - off
    if n < 20:
        return False
    version = p[off] >> 4
    if version == 4:
        ihl = (p[off] & 0xF) * 4
        total = struct.unpack("!H", p[off + 2:off + 4])[0]
        if ihl < 20 or total < ihl or total > n:
            return False
        s = sum(struct.unpack("!%dH" % (ihl // 2), p[off:off + ihl]))
        while s >> 16:
            s = (s & 0xFFFF) + (s >> 16)
        return s == 0xFFFF
    if version == 6 and n >= 40:
        return struct.unpack("!H", p[off + 4:off + 6])[0] + 40 <= n
    return False


def _ip_offset(linktype, p):
    """Offset of the IP header in a frame, or None."""
    if linktype == _LINKTYPE_ETHERNET:
        off = 12
        while off + 2 <= len(p):
            et = struct.unpack("!H", p[off:off + 2])[0]
            if et in (0x8100, 0x88A8, 0x9100):
                off += 4
                continue
            return off + 2 if et in (0x0800, 0x86DD) else None
        return None
    if linktype in _LINKTYPE_RAW or linktype in (_LINKTYPE_IPV4,
                                                  _LINKTYPE_IPV6):
        return 0
    if linktype == _LINKTYPE_NULL:
        return 4
    if linktype == _LINKTYPE_LINUX_SLL:
        return 16
    if linktype == _LINKTYPE_LINUX_SLL2:
        return 20
    for off in range(min(64, len(p))):
        if _looks_like_ip(p, off):
            return off
    return None


def _tcp_segment(p, off):
    """(src Endpoint, dst Endpoint, seq, flags, payload) or None."""
    if len(p) - off < 20:
        return None
    version = p[off] >> 4
    if version == 4:
        ihl = (p[off] & 0xF) * 4
        total = struct.unpack("!H", p[off + 2:off + 4])[0]
        frag = struct.unpack("!H", p[off + 6:off + 8])[0]
        if (ihl < 20 or total < ihl or off + total > len(p) or
                p[off + 9] != 6 or frag & 0x3FFF):
            return None
        src = ipaddress.IPv4Address(p[off + 12:off + 16])
        dst = ipaddress.IPv4Address(p[off + 16:off + 20])
        tcp, end = off + ihl, off + total
    elif version == 6 and len(p) - off >= 40:
        end = off + 40 + struct.unpack("!H", p[off + 4:off + 6])[0]
        if end > len(p):
            return None
        nxt, pos = p[off + 6], off + 40
        while nxt in (0, 43, 60) and pos + 8 <= end:
            nxt, pos = p[pos], pos + (p[pos + 1] + 1) * 8
        if nxt != 6 or pos > end:
            return None
        src = ipaddress.IPv6Address(p[off + 8:off + 24])
        dst = ipaddress.IPv6Address(p[off + 24:off + 40])
        tcp = pos
    else:
        return None
    if end - tcp < 20:
        return None
    sport, dport, seq = struct.unpack("!HHI", p[tcp:tcp + 8])
    doff = (p[tcp + 12] >> 4) * 4
    if doff < 20 or tcp + doff > end:
        return None
    return (Endpoint(str(src), sport), Endpoint(str(dst), dport), seq,
            p[tcp + 13], p[tcp + doff:end])


def tcp_streams(path, port=None, stats=None):
    """The TCP payload streams of the capture at `path`, as TcpStream(src,
    dst, payload) in order of first appearance. `port`: keep only segments
    from or to this port. `stats`, when a dict, receives "frames",
    "tcp_segments", "skipped" (frames that are not TCP, fragments, cut
    short) and "holes" (missing byte ranges over all streams).
    CaptureError when the file is not a capture."""
    counts = {"frames": 0, "tcp_segments": 0, "skipped": 0, "holes": 0}
    flows = collections.OrderedDict()  # (src, dst) -> [isn, [(seq, data)]]
    for linktype, frame in _frames(_open(path)):
        counts["frames"] += 1
        off = _ip_offset(linktype, frame)
        seg = None if off is None else _tcp_segment(frame, off)
        if seg is None:
            counts["skipped"] += 1
            continue
        src, dst, seq, flags, payload = seg
        if port is not None and port not in (src.port, dst.port):
            continue
        counts["tcp_segments"] += 1
        flow = flows.setdefault((src, dst), [None, []])
        if flags & 0x02:  # SYN: data starts at ISN + 1
            flow[0] = (seq + 1) & 0xFFFFFFFF
        if payload:
            flow[1].append((seq, payload))
    out = []
    for (src, dst), (isn, segments) in flows.items():
        if not segments:
            continue
        base = isn if isn is not None else segments[0][0]

        def rel(seq, base=base):  # signed distance, wraps at 2^32
            d = (seq - base) & 0xFFFFFFFF
            return d - (1 << 32) if d >= 1 << 31 else d
        ordered = sorted(segments, key=lambda s: rel(s[0]))  # stable
        chunks, nxt = [], rel(ordered[0][0])
        for seq, data in ordered:
            start = rel(seq)
            end = start + len(data)
            if end <= nxt:
                continue  # retransmission
            if start > nxt:
                counts["holes"] += 1
            chunks.append(data[max(0, nxt - start):])
            nxt = end
        out.append(TcpStream(src, dst, b"".join(chunks)))
    if stats is not None:
        stats.update(counts)
    return out
