"""What the BMP parity tests share (tests/parity/bmp_dump_test.py,
bmp_msglog_test.py): the corpus's BMP router streams, pmbmpd 1.7.7 run as
the reference, and facts read from a router's BMP stream itself.

    import bmp_replay
    for stream in bmp_replay.collector_streams(path):   # router -> collector
        facts = bmp_replay.StreamFacts(stream.payload)
    pm = bmp_replay.Pmbmpd(binary, workdir, lambda port: "bmp_daemon: ...")
    ...; pm.stop()

Debian's /usr/bin/python3, stdlib only; every wait is bounded.
"""

import collections
import ipaddress
import os
import signal
import struct
import subprocess
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
if os.path.join(_HERE, "..", "daemon") not in sys.path:
    sys.path.insert(0, os.path.join(_HERE, "..", "daemon"))
import daemon_harness  # noqa: E402
from pcap_tcp import tcp_streams  # noqa: E402

REPO = os.path.normpath(os.path.join(_HERE, "..", ".."))
DEFAULT_CORPUS = os.path.normpath(os.path.join(REPO, "..", "shared",
                                               "corpus"))
SKIP = daemon_harness.SKIP

# Collector port of the captures (corpus/MANIFEST.md).
BMP_PORTS = (("akvorado-", 10179), ("pmacct-", 1790))


def collector_port(path):
    """The BMP collector port of a corpus capture, by its name."""
    base = os.path.basename(path)
    return [p for prefix, p in BMP_PORTS if base.startswith(prefix)][0]


def collector_streams(path):
    """The router -> collector streams (pcap_tcp.TcpStream) of a capture,
    in order of first appearance."""
    port = collector_port(path)
    return [s for s in tcp_streams(path, port) if s.dst.port == port]


class Pmbmpd:
    """pmbmpd 1.7.7 on 127.0.0.1:<free port> (`port`), its config
    `config(port)` plus a logfile, both in `workdir`. Its core ignores
    SIGTERM: stop() sends SIGINT, then kills its process group."""

    def __init__(self, binary, workdir, config, env=None):
        self.dir = workdir
        os.makedirs(workdir, exist_ok=True)
        self.port = daemon_harness.free_tcp_port()
        self.log_path = os.path.join(workdir, "pmbmpd.log")
        conf = os.path.join(workdir, "pmbmpd.conf")
        with open(conf, "w") as f:
            f.write(config(self.port))
            f.write("logfile: %s\n" % self.log_path)
        self.proc = subprocess.Popen(
            [binary, "-f", conf], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True, env=env)
        daemon_harness.wait_for(
            lambda: "waiting for BMP data" in self.log(), 10,
            "pmbmpd listening")

    def log(self):
        return daemon_harness.read_text(self.log_path)

    def stop(self):
        daemon_harness.stop_group(self.proc, signal.SIGINT, 10)


# --- BMP framing (RFC 7854 §4.1 common header, §4.2 per-peer header) -------

BMP_ROUTE_MONITORING, BMP_PEER_UP, BMP_TERMINATION = 0, 3, 5
PER_PEER_TYPES = (0, 1, 2, 3)  # route monitoring, stats, peer down, peer up


def bmp_messages(payload):
    """(type, message bytes) of each whole BMP message of a stream."""
    pos = 0
    while pos + 6 <= len(payload):
        length = struct.unpack("!I", payload[pos + 1:pos + 5])[0]
        if length < 6 or pos + length > len(payload):
            return
        yield payload[pos + 5], payload[pos:pos + length]
        pos += length


def peer_address(msg):
    """The per-peer header's peer address as both daemons print it (V flag:
    IPv6; a Loc-RIB peer, whose flag 0x80 is F, is 0.0.0.0)."""
    ptype, flags, raw = msg[6], msg[7], msg[16:32]
    if ptype == 3:
        return "0.0.0.0"
    if flags & 0x80:
        return str(ipaddress.IPv6Address(raw))
    return str(ipaddress.IPv4Address(raw[12:]))


def peer_rd_text(msg):
    """The per-peer header's peer distinguisher as the dumps write it
    (RFC 4364 §4.2 types 0, 1, 2), "" when zero."""
    raw = msg[8:16]
    if raw == bytes(8):
        return ""
    rtype = struct.unpack("!H", raw[:2])[0]
    if rtype == 1:
        return "1:%s:%d" % (ipaddress.IPv4Address(raw[2:6]),
                            struct.unpack("!H", raw[6:])[0])
    if rtype == 2:
        return "2:%d:%d" % struct.unpack("!IH", raw[2:])
    return "%d:%d:%d" % struct.unpack("!HHI", raw)


def open_add_path(msg):
    """Families (afi, safi) of the ADD-PATH capability (RFC 7911 §4) of the
    sent OPEN of a Peer Up (RFC 7854 §4.10; for a Loc-RIB peer both OPENs
    are the same, RFC 9069 §5.2)."""
    o = msg[48 + 20:]
    if len(o) < 29:
        return set()
    params, out, i = o[29:29 + o[28]], set(), 0
    while i + 2 <= len(params):
        ptype, plen = params[i], params[i + 1]
        value, i = params[i + 2:i + 2 + plen], i + 2 + plen
        j = 0
        while ptype == 2 and j + 2 <= len(value):
            code, clen = value[j], value[j + 1]
            cap, j = value[j + 2:j + 2 + clen], j + 2 + clen
            for k in range(0, len(cap) - 3 if code == 69 else 0, 4):
                out.add((struct.unpack("!H", cap[k:k + 2])[0], cap[k + 2]))
    return out


def update_parts(msg):
    """(attributes {type: value}, [(afi, safi, NLRI bytes)]) of the BGP
    UPDATE in a Route Monitoring message; the classic NLRI as (1, 1)."""
    bgp = msg[48:]
    wlen = struct.unpack("!H", bgp[19:21])[0]
    alen = struct.unpack("!H", bgp[21 + wlen:23 + wlen])[0]
    attrs, raw, i = {}, bgp[23 + wlen:23 + wlen + alen], 0
    while i + 3 <= len(raw):
        flags, atype = raw[i], raw[i + 1]
        if flags & 0x10:
            alen2 = struct.unpack("!H", raw[i + 2:i + 4])[0]
            attrs[atype], i = raw[i + 4:i + 4 + alen2], i + 4 + alen2
        else:
            attrs[atype], i = raw[i + 3:i + 3 + raw[i + 2]], i + 3 + raw[i + 2]
    nlri = [(1, 1, bgp[23 + wlen + alen:])]
    reach = attrs.get(14)
    if reach and len(reach) >= 5:
        nh = reach[3]
        nlri.append((struct.unpack("!H", reach[:2])[0], reach[2],
                     reach[5 + nh:]))
    return attrs, nlri


def nlri_walks(data, afi, safi, path_ids):
    """Whether NLRI bytes read as whole prefixes of the family (RFC 4271
    §4.3, RFC 8277 labels, RFC 4364 RDs), with or without RFC 7911 path
    ids."""
    bits_max = 32 if afi == 1 else 128
    fixed = {4: 24, 128: 88}.get(safi, 0)  # label (+ RD) bits
    i = 0
    while i < len(data):
        i += 4 if path_ids else 0
        if i >= len(data):
            return False
        bits = data[i]
        if bits < fixed or bits - fixed > bits_max:
            return False
        i += 1 + (bits + 7) // 8
    return i == len(data)


def as_path_ok(value):
    """An AS_PATH of 4-octet ASNs (RFC 6793) whose segments fill it."""
    i = 0
    while i + 2 <= len(value):
        if value[i] not in (1, 2, 3, 4):
            return False
        i += 2 + 4 * value[i + 1]
    return i == len(value)


class StreamFacts:
    """What the documented differences depend on, read from a router's BMP
    stream itself (never taken from either daemon's word):
      no_peer_up     peer addresses with Route Monitoring before any Peer
                     Up for that address (D1);
      first_loc_add_path  ADD-PATH families of the first Loc-RIB Peer Up
                     (what pmbmpd 1.7.7 applies to every Loc-RIB instance);
      loc_add_path   per peer distinguisher, the ADD-PATH families of all
                     its Loc-RIB Peer Ups (RFC 9069 §5.2; flowacctd);
      undeclared     (peer distinguisher, afi, safi) of Loc-RIB NLRI that
                     only read with path ids their Peer Ups do not declare;
      bad_as_path    (peer address, peer distinguisher) of Route Monitoring
                     whose AS_PATH is not 4-octet (RFC 9069 §5.4.1 wants 4).
    """

    def __init__(self, payload):
        self.no_peer_up, up = set(), set()
        self.first_loc_add_path = None
        self.loc_add_path = collections.defaultdict(set)
        self.undeclared, self.bad_as_path = set(), set()
        for mtype, msg in bmp_messages(payload):
            if mtype not in PER_PEER_TYPES or len(msg) < 48:
                continue
            addr, rd, loc = peer_address(msg), peer_rd_text(msg), msg[6] == 3
            if mtype == BMP_PEER_UP:
                up.add(addr)
                if loc:
                    families = open_add_path(msg)
                    if self.first_loc_add_path is None:
                        self.first_loc_add_path = families
                    self.loc_add_path[rd] |= families
                continue
            if mtype != BMP_ROUTE_MONITORING:
                continue
            if addr not in up:
                self.no_peer_up.add(addr)
            attrs, nlri = update_parts(msg)
            legacy = not loc and msg[7] & 0x20  # A flag: 2-octet paths
            if 2 in attrs and not legacy and not as_path_ok(attrs[2]):
                self.bad_as_path.add((addr, rd))
            for afi, safi, data in nlri:
                if (loc and data and (afi, safi) not in self.loc_add_path[rd]
                        and not nlri_walks(data, afi, safi, False) and
                        nlri_walks(data, afi, safi, True)):
                    self.undeclared.add((rd, afi, safi))

    def pmbmpd_add_path_differs(self, rd, afi, safi):
        """D3: pmbmpd decodes this Loc-RIB family with the first Loc-RIB
        Peer Up's ADD-PATH, flowacctd with its own instance's."""
        first = self.first_loc_add_path or set()
        return ((afi, safi) in first) != ((afi, safi) in self.loc_add_path[rd])

    def loc_rib_difference(self, rd, afi, safi):
        """"D3" or "D4" (docs/pmacct-parity.md §14.2) when the daemons
        cannot agree on the routes of this Loc-RIB view (peer distinguisher
        text, "" when zero), else None."""
        if self.pmbmpd_add_path_differs(rd, afi, safi):
            return "D3"
        if (rd, afi, safi) in self.undeclared:
            return "D4"
        return None
