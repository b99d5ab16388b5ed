#!/usr/bin/python3
"""BMP message log parity: pmbmpd 1.7.7 and flowacctd, line by line.

    bmp_msglog_test.py --flowacctd BIN [--pmbmpd BIN] [--corpus DIR]
                       [--case NAME ...] [--keep] [--max-diffs N]

Both daemons run once, side by side, with bmp_daemon_ip 127.0.0.1 on free
ports and bmp_daemon_msglog_file <dir>/$peer_src_ip-$peer_tcp_port.json
(bmp_daemon_msglog_output: json). Every case is a list of "routers", each
a BMP byte stream: the router->collector TCP payload of corpus captures
(tests/support/pcap_tcp.py), or messages built here (SYNTHETIC_CASES:
what the captures do not show: every statistics type, peer type, peer
down reason, termination reason, well-known community, ...). Each router
connects to both daemons from the same source address and port
(127.77.<case>.<router>, SO_REUSEPORT), sends its stream, closes; the
next starts once both daemons have written its log_close.

Per router, the two files are compared line by line: every key, in
order, and every value, except seq (checked to count up by one per
line), timestamp_arrival and the log_init / log_close timestamps (checked
for their format: they are "now").

pmbmpd's own faults are known exceptions (docs/pmacct-parity.md §14.1, "BMP
message log"), each a predicate over a (pmbmpd line, flowacctd line) pair
or, for N1, flowacctd lines pmbmpd has no counterpart for, or, for N7,
Loc-RIB views whose route lines are set aside in both files (decided from
the router's stream, tests/support/bmp_replay.py). A case
lists the exceptions it expects; each must occur there at least once, and
no other difference is accepted.

Exit status: 0 parity, 1 mismatch or failure, 77 skipped (pmbmpd or the
corpus missing). Debian's /usr/bin/python3, stdlib only; every wait is
bounded (the whole run takes about 15 s).
"""

import argparse
import collections
import ipaddress
import json
import os
import re
import shutil
import socket
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "support"))
import bmp_replay  # noqa: E402
from bmp_replay import DEFAULT_CORPUS, SKIP  # noqa: E402
import daemon_harness  # noqa: E402  (bmp_replay put it on the path)

WAIT_S = 30  # per router: both daemons write its log_close

# ---------------------------------------------------------------------------
# BMP messages built here (RFC 7854, RFC 9069, RFC 8671).


def bgp_msg(mtype, body):
    return b"\xff" * 16 + struct.pack("!HB", 19 + len(body), mtype) + body


def open_msg(asn, bgp_id, families, add_path=()):
    caps = b""
    for afi, safi in families:
        caps += struct.pack("!BBHBB", 1, 4, afi, 0, safi)
    caps += struct.pack("!BBI", 65, 4, asn)
    for afi, safi, mode in add_path:
        caps += struct.pack("!BBHBB", 69, 4, afi, safi, mode)
    params = struct.pack("!BB", 2, len(caps)) + caps
    return bgp_msg(1, struct.pack(
        "!BHHIB", 4, asn if asn < 65536 else 23456, 90,
        int(ipaddress.IPv4Address(bgp_id)), len(params)) + params)


def attr(flags, atype, value):
    if len(value) > 255:
        return struct.pack("!BBH", flags | 0x10, atype, len(value)) + value
    return struct.pack("!BBB", flags, atype, len(value)) + value


def u32(v):
    return struct.pack("!I", v)


def nlri(prefix, path_id=None, label=None, rd=None):
    net = ipaddress.ip_network(prefix)
    body = net.network_address.packed[:(net.prefixlen + 7) // 8]
    bits, extra = net.prefixlen, b""
    if label is not None:
        extra += struct.pack("!I", label << 4 | 1)[1:]
        bits += 24
    if rd is not None:
        extra += rd
        bits += 64
    out = struct.pack("!B", bits) + extra + body
    return (u32(path_id) + out) if path_id is not None else out


def update(withdrawn=b"", attrs=b"", reach=b""):
    return bgp_msg(2, struct.pack("!H", len(withdrawn)) + withdrawn +
                   struct.pack("!H", len(attrs)) + attrs + reach)


def bmp(mtype, body):
    return struct.pack("!BIB", 3, 6 + len(body), mtype) + body


def packed16(address):
    a = ipaddress.ip_address(address)
    return a.packed if a.version == 6 else b"\0" * 12 + a.packed


def peer(ptype=0, flags=0, rd=b"\0" * 8, addr="0.0.0.0", asn=0,
         bgp_id="0.0.0.0", ts=(0, 0)):
    if ipaddress.ip_address(addr).version == 6:
        flags |= 0x80
    return (struct.pack("!BB", ptype, flags) + rd + packed16(addr) +
            struct.pack("!IIII", asn, int(ipaddress.IPv4Address(bgp_id)),
                        ts[0], ts[1]))


def tlvs(items):
    out = b""
    for t, v in items:
        v = v.encode() if isinstance(v, str) else v
        out += struct.pack("!HH", t, len(v)) + v
    return out


def initiation(items):
    return bmp(4, tlvs(items))


def termination(items):
    return bmp(5, tlvs(items))


def peer_up(ph, local_ip, local_port, remote_port, sent, received, info=()):
    return bmp(3, ph + packed16(local_ip) +
               struct.pack("!HH", local_port, remote_port) + sent + received +
               tlvs(info))


def peer_down(ph, reason, data=b""):
    return bmp(2, ph + struct.pack("!B", reason) + data)


def stats(ph, counters):
    return bmp(1, ph + u32(len(counters)) + tlvs(counters))


def monitor(ph, upd):
    return bmp(0, ph + upd)


def rd0(admin, assigned):
    return struct.pack("!HHI", 0, admin, assigned)


def rd1(ip, assigned):
    return struct.pack("!H", 1) + ipaddress.IPv4Address(ip).packed + \
        struct.pack("!H", assigned)


FAMILIES = ((1, 1), (2, 1), (1, 128), (2, 128), (1, 4), (2, 4))
P1 = dict(addr="10.0.0.1", asn=65001, bgp_id="10.0.0.1",
          ts=(1700000000, 123456))
P2 = dict(addr="2001:db8::2", asn=4200000002, bgp_id="10.0.0.2",
          ts=(1700000001, 5))
P3 = dict(ptype=1, rd=rd0(65000, 7), addr="10.0.0.3", asn=65003,
          bgp_id="10.0.0.3", ts=(1700000002, 0))
P4 = dict(ptype=3, flags=0x80, addr="0.0.0.0", asn=65000, bgp_id="10.0.0.9",
          ts=(1700000003, 999999))
P5 = dict(ptype=2, rd=rd1("10.0.0.9", 5), addr="10.0.0.5", asn=65005,
          bgp_id="10.0.0.5", ts=(1700000004, 0))
P6 = dict(ptype=1, addr="10.0.0.6", asn=65006, bgp_id="10.0.0.6",
          ts=(1700000005, 0))  # RD-instance peer with a zero RD
P7 = dict(flags=0x50, addr="2001:db8::7", asn=65007, bgp_id="10.0.0.7",
          ts=(1700000006, 0))  # Adj-RIB-Out post-policy (RFC 8671)
P8 = dict(ptype=3, rd=rd1("10.0.0.8", 9), asn=65000, bgp_id="10.0.0.9",
          ts=(1700000007, 4))  # Loc-RIB with a distinguisher


def up_of(p, local="10.0.0.100", info=(), add_path=()):
    return peer_up(peer(**p), local, 179, 40000,
                   open_msg(65000, "10.0.0.9", FAMILIES, add_path),
                   open_msg(p["asn"], p["bgp_id"], FAMILIES, add_path), info)


def synthetic_messages():
    """Every message type and the variants of each the captures lack."""
    origin_i = attr(0x40, 1, b"\x00")
    no_path = attr(0x40, 2, b"")
    out = initiation([(0, "free text"), (1, "descr"), (2, "name"),
                      (3, "x\"y\\z\x01"), (0, "again")])
    out += up_of(P1, info=[(0, "peer one"), (1, "one"), (3, "vrf-a"),
                           (4, b"\x00\x01"), (0, "peer \"1\"")])
    out += up_of(P2, "2001:db8::100", add_path=((1, 1, 3), (2, 1, 3)))
    out += up_of(P3)
    out += peer_up(peer(**P4), "0.0.0.0", 0, 0,
                   open_msg(65000, "10.0.0.9", FAMILIES),
                   open_msg(65000, "10.0.0.9", FAMILIES), [(3, "global")])
    out += up_of(P5)
    out += up_of(P6)
    out += up_of(P7, "2001:db8::100")
    out += peer_up(peer(**P8), "0.0.0.0", 0, 0,
                   open_msg(65000, "10.0.0.9", FAMILIES),
                   open_msg(65000, "10.0.0.9", FAMILIES))
    # Statistics: every type pmbmpd knows (0-17), beyond, per family.
    counters = []
    for t in range(21):
        if t in (7, 8, 14, 15):
            counters.append((t, struct.pack("!Q", 1000 + t)))
        elif t in (9, 10, 16, 17):
            counters.append((t, struct.pack("!HBQ", 2, 1, 2000 + t)))
        else:
            counters.append((t, u32(t)))
    counters += [(65531, u32(7)), (9, struct.pack("!HBQ", 1, 128, 5)),
                 (40, struct.pack("!Q", 41))]
    out += stats(peer(**P1), counters)
    for p in (P3, P4, P5, P8, dict(P1, ts=(0, 0)), dict(P1, flags=0x40),
              dict(P1, flags=0x10), P7):
        out += stats(peer(**p), [(1, u32(1)), (8, struct.pack("!Q", 3))])
    # Route Monitoring: attributes and their texts.
    path = (bytes([2, 3]) + u32(65001) + u32(65010) + u32(65020) +
            bytes([1, 2]) + u32(65030) + u32(65031) + bytes([3, 2]) +
            u32(1) + u32(2) + bytes([4, 1]) + u32(3))
    comms = b"".join(u32(c) for c in (
        65001 << 16 | 20, 65001 << 16 | 3, 65001 << 16 | 3, 0xFFFFFF01, 0,
        0xFFFF029A, 0xFFFFFF02, 0xFFFFFF03, 0xFFFFFF04, 0x00010002))
    ecomms = b"".join(bytes([t, s]) + v for t, s, v in (
        (0x00, 0x02, struct.pack("!HI", 65001, 100)),
        (0x01, 0x02, bytes([10, 0, 0, 1]) + struct.pack("!H", 7)),
        (0x00, 0x03, struct.pack("!HI", 65001, 5)),
        (0x02, 0x02, struct.pack("!IH", 4200000000, 2)),
        (0x01, 0x03, bytes([10, 0, 0, 1]) + struct.pack("!H", 3)),
        (0x00, 0x02, struct.pack("!HI", 65001, 100)),
        (0x40, 0x02, struct.pack("!HI", 1, 2)),
        (0x80, 0x06, bytes(6)), (0x00, 0x09, bytes(6)),
        (0x06, 0x00, bytes(6))))
    lcomms = u32(65001) + u32(1) + u32(2) + u32(65001) + u32(0) + u32(0)
    prefix_sid = bytes([1]) + struct.pack("!HBHI", 7, 0, 0, 1234)
    aigp = bytes([1]) + struct.pack("!HQ", 11, 77)
    full = (origin_i + attr(0x40, 2, path) +
            attr(0x40, 3, bytes([10, 0, 0, 1])) + attr(0x80, 4, u32(0)) +
            attr(0x40, 5, u32(0)) + attr(0x40, 6, b"") +
            attr(0xc0, 7, u32(65001) + bytes([10, 0, 0, 1])) +
            attr(0xc0, 8, comms) + attr(0x80, 9, u32(0x0A0A0A0A)) +
            attr(0x80, 10, u32(1)) + attr(0xc0, 16, ecomms) +
            attr(0xc0, 32, lcomms) + attr(0xc0, 40, prefix_sid) +
            attr(0x80, 26, aigp) + attr(0xc0, 35, u32(65009)))
    out += monitor(peer(**P1), update(attrs=full, reach=(
        nlri("192.0.2.0/24") + nlri("198.51.100.0/25") + nlri("0.0.0.0/0"))))
    out += monitor(peer(**P1), update(withdrawn=nlri("203.0.113.0/24")))
    out += monitor(peer(**P1), update(
        attrs=attr(0x40, 1, b"\x01") + no_path +
        attr(0x40, 3, bytes([10, 0, 0, 1])) + attr(0x40, 5, u32(100)) +
        attr(0x80, 4, u32(50)), reach=nlri("10.1.0.0/16")))
    # A missing NEXT_HOP (kept, as pmbmpd keeps it: "0.0.0.0").
    out += monitor(peer(**P1), update(attrs=origin_i + no_path,
                                      reach=nlri("10.9.0.0/16")))
    # Withdrawn routes, IPv4 NLRI, MP_UNREACH before MP_REACH on the wire:
    # pmbmpd writes withdrawn, IPv4 NLRI, MP_REACH, MP_UNREACH.
    mp_reach6 = attr(0x80, 14, struct.pack("!HBB", 2, 1, 16) +
                     ipaddress.ip_address("2001:db8::1").packed + b"\x00" +
                     nlri("2001:db8:98::/48"))
    mp_unreach6 = attr(0x80, 15, struct.pack("!HB", 2, 1) +
                       nlri("2001:db8:99::/48"))
    out += monitor(peer(**P1), update(withdrawn=nlri("10.99.0.0/16"),
                                      attrs=mp_unreach6 + origin_i +
                                      no_path + mp_reach6))
    # IPv4 NLRI beside an IPv6 MP_REACH next hop: N2.
    out += monitor(peer(**P1), update(
        attrs=origin_i + no_path + attr(0x40, 3, bytes([10, 0, 0, 1])) +
        mp_reach6, reach=nlri("10.98.0.0/16")))
    mp4 = attr(0x80, 14, struct.pack("!HBB", 1, 1, 4) +
               bytes([10, 0, 0, 44]) + b"\x00" + nlri("10.44.0.0/16"))
    out += monitor(peer(**P1), update(attrs=origin_i + no_path + mp4))
    # ADD-PATH, IPv6 with a link-local next hop.
    nh = (ipaddress.ip_address("2001:db8::2").packed +
          ipaddress.ip_address("fe80::2").packed)
    out += monitor(peer(**P2), update(attrs=attr(0x40, 1, b"\x02") + attr(
        0x40, 2, bytes([2, 1]) + u32(4200000002)) + attr(
        0x80, 14, struct.pack("!HBB", 2, 1, 32) + nh + b"\x00" +
        nlri("2001:db8:10::/48", path_id=7) +
        nlri("2001:db8:11::/48", path_id=8))))
    out += monitor(peer(**P2), update(attrs=attr(0x80, 15, struct.pack(
        "!HB", 2, 1) + nlri("2001:db8:10::/48", path_id=7))))
    out += monitor(peer(**P2), update(
        attrs=origin_i + no_path + attr(0x40, 3, bytes([10, 0, 0, 2])),
        reach=nlri("10.2.0.0/16", path_id=3)))
    # Path identifier 0: "as_path_id": 0 (the family has ADD-PATH).
    out += monitor(peer(**P2), update(
        withdrawn=nlri("10.21.0.0/16", path_id=0),
        attrs=origin_i + no_path + attr(0x40, 3, bytes([10, 0, 0, 2])),
        reach=nlri("10.20.0.0/16", path_id=0)))
    # VPN and labeled routes; the route's RD in the peer RD's place.
    vpn4 = struct.pack("!HBB", 1, 128, 12) + bytes(8) + bytes([10, 0, 0, 3])
    out += monitor(peer(**P3), update(attrs=origin_i + no_path + attr(
        0x80, 14, vpn4 + b"\x00" +
        nlri("10.3.0.0/16", label=1000, rd=rd0(65003, 1)))))
    out += monitor(peer(**P3), update(
        attrs=origin_i + no_path + attr(0x40, 3, bytes([10, 0, 0, 3])),
        reach=nlri("10.33.0.0/16")))
    out += monitor(peer(**P3), update(attrs=attr(0x80, 15, struct.pack(
        "!HB", 1, 128) + nlri("10.3.0.0/16", label=0x80000,
                              rd=rd0(65003, 1)))))
    out += monitor(peer(**P4), update(attrs=origin_i + no_path + attr(
        0x80, 14, struct.pack("!HBB", 1, 4, 4) + bytes([10, 0, 0, 9]) +
        b"\x00" + nlri("10.4.0.0/16", label=16)) + attr(0x40, 5, u32(0))))
    out += monitor(peer(**P4), update(attrs=attr(0x80, 15, struct.pack(
        "!HB", 1, 4) + nlri("10.4.0.0/16", label=0x80000))))
    out += monitor(peer(**P4), update(attrs=origin_i + no_path + attr(
        0x80, 14, struct.pack("!HBB", 2, 128, 24) + bytes(8) +
        ipaddress.ip_address("::ffff:10.0.0.9").packed + b"\x00" +
        nlri("2001:db8:44::/48", label=20, rd=rd0(65000, 44)))))
    out += monitor(peer(**P5), update(attrs=origin_i + no_path + attr(
        0x80, 14, struct.pack("!HBB", 1, 128, 12) + bytes(8) +
        bytes([10, 0, 0, 5]) + b"\x00" +
        nlri("10.5.0.0/16", label=55, rd=rd0(65005, 5)))))
    for p, prefix in ((P6, "10.6.0.0/16"), (P7, "10.7.0.0/16"),
                      (P8, "10.8.0.0/16")):
        out += monitor(peer(**p), update(
            attrs=origin_i + no_path + attr(0x40, 3, bytes([10, 0, 0, 8])),
            reach=nlri(prefix)))
    # End-of-RIB markers (RFC 4724 §2): no line.
    out += monitor(peer(**P1), update())
    out += monitor(peer(**P1), update(
        attrs=attr(0x80, 15, struct.pack("!HB", 2, 1))))
    # Peer Down, every reason (RFC 7854 §4.9, RFC 9069 §4.4 for 6).
    notification = bgp_msg(3, bytes([6, 2]) + b"bye")
    out += peer_down(peer(**P1), 1, notification)
    out += peer_down(peer(**P2), 2, struct.pack("!H", 17))
    out += peer_down(peer(**P3), 3, notification)
    out += peer_down(peer(**P5), 4)
    out += peer_down(peer(**P4), 6)
    out += peer_down(peer(**P8), 6)
    out += peer_down(peer(**dict(P1, addr="10.0.0.70")), 5)
    out += peer_down(peer(**dict(P1, addr="10.0.0.80")), 7)
    return [out]


def synthetic_malformed():
    """Input pmbmpd reads wrongly: N3, N4, N5."""
    out = initiation([(0, b"ok"), (2, b"x\xffy"), (1, b"descr\x00pad")])
    out += up_of(P1)
    # Counters of a length their type does not have (N4).
    out += stats(peer(**P1), [(0, u32(1)), (7, u32(5)),
                              (0, struct.pack("!Q", 9))])
    # AS_PATH in 2-octet ASNs on a 4-octet session (N3; corpus pmacct-205).
    out += monitor(peer(**P1), update(
        attrs=attr(0x40, 1, b"\x00") + attr(0x40, 2, bytes([2, 1, 0xfd,
                                                              0xe8])) +
        attr(0x40, 3, bytes([10, 0, 0, 1])), reach=nlri("10.10.0.0/16")))
    return [out]


def synthetic_terminations():
    """One router per RFC 7854 §4.5 termination reason (and unknown ones)."""
    return [termination([(0, "going"), (2, b"\x01\x02"), (0, "gone"),
                         (1, struct.pack("!H", r))])
            for r in (0, 1, 2, 3, 4, 5, 65535)]


SYNTHETIC = {
    "synthetic-messages": synthetic_messages,
    "synthetic-malformed": synthetic_malformed,
    "synthetic-terminations": synthetic_terminations,
}

# ---------------------------------------------------------------------------
# Cases.

Case = collections.namedtuple("Case", "name parts per_source exceptions")


def case(name, parts=None, per_source=False, exceptions=()):
    """`parts`: corpus captures (bmp/<name>.pcap) or SYNTHETIC names, whose
    router->collector streams are concatenated into one router; with
    `per_source`, each source address of the captures is one router (its
    streams across the parts concatenated, in order)."""
    return Case(name, parts or (name,), per_source, frozenset(exceptions))


CASES = [
    case("akvorado-session", ("akvorado-bmp-init", "akvorado-bmp-peers-up",
                              "akvorado-bmp-reach", "akvorado-bmp-unreach",
                              "akvorado-bmp-peer-down",
                              "akvorado-bmp-terminate")),
    case("akvorado-bmp-peer-up"),
    case("akvorado-bmp-l3vpn"),
    case("akvorado-eor", ("akvorado-bmp-peers-up", "akvorado-bmp-eor")),
    case("akvorado-addpath", ("akvorado-bmp-peers-up",
                              "akvorado-bmp-reach-addpath")),
    case("akvorado-vpls", ("akvorado-bmp-peers-up",
                           "akvorado-bmp-reach-vpls")),
    case("akvorado-unknown-family", ("akvorado-bmp-peers-up",
                                     "akvorado-bmp-reach-unknown-family")),
    # Route Monitoring without a Peer Up first.
    case("akvorado-bmp-reach", exceptions=("N1",)),
    case("pmacct-200-bmp-huawei-locrib-instance"),
    case("pmacct-201-bmp-cisco-rd-instance"),
    case("pmacct-202-bmp-cisco-huawei-multiple-sources-02",
         exceptions=("N2",)),
    case("pmacct-204-bmp-cisco-peer-down", exceptions=("N2",)),
    case("pmacct-205-bmp-6wind-frr-peer-down", exceptions=("N3",)),
    case("pmacct-208-peer-up", ("pmacct-208-bmp-mem-leak-test-peer-up",),
         per_source=True),
    case("pmacct-208-stats", ("pmacct-208-bmp-mem-leak-test-stats",),
         per_source=True),
    # One run of 9 routers split by message type: the Peer Ups, then the
    # Route Monitoring, per router (as bmp_dump_test.py's primed case).
    case("pmacct-208-route-monitoring",
         ("pmacct-208-bmp-mem-leak-test-peer-up",
          "pmacct-208-bmp-mem-leak-test-route-monitoring"), per_source=True,
         exceptions=("N2", "N3", "N7")),
    case("synthetic-messages", exceptions=("N2",)),
    case("synthetic-malformed", exceptions=("N3", "N4", "N5")),
    case("synthetic-terminations", per_source=True),
]


def case_routers(c, corpus):
    """The byte streams of `c`, one per router."""
    by_source = collections.OrderedDict()
    for part in c.parts:
        if part in SYNTHETIC:
            payloads = [("synthetic-%d" % i, p)
                        for i, p in enumerate(SYNTHETIC[part]())]
        else:
            path = os.path.join(corpus, "bmp", part + ".pcap")
            payloads = [(s.src.address, s.payload)
                        for s in bmp_replay.collector_streams(path)]
        for source, payload in payloads:
            key = source if c.per_source else ""
            by_source[key] = by_source.get(key, b"") + payload
    return list(by_source.values())

# ---------------------------------------------------------------------------
# Daemons.


def daemon_config(port, out_dir):
    return ("bmp_daemon: true\n"
            "bmp_daemon_ip: 127.0.0.1\n"
            "bmp_daemon_port: %d\n"
            "bmp_daemon_max_peers: 100\n"
            "bmp_daemon_msglog_file: %s/$peer_src_ip-$peer_tcp_port.json\n"
            "bmp_daemon_msglog_output: json\n" % (port, out_dir))


class Flowacctd:
    def __init__(self, binary, workdir):
        self.dir = os.path.join(workdir, "flowacctd")
        os.makedirs(self.dir)
        self.port = daemon_harness.free_tcp_port()
        text = ("nfacctd_ip: 127.0.0.1\nnfacctd_port: %d\nplugins: print[p]\n"
                "print_output_file[p]: %s/flows.txt\n" %
                (daemon_harness.free_udp_port(), workdir) +
                daemon_config(self.port, self.dir))
        fa_dir = os.path.join(workdir, "flowacctd-run")
        os.makedirs(fa_dir)
        self.daemon = daemon_harness.Daemon(binary, fa_dir, text)
        self.daemon.wait_log("component=bmp msg=listening", 10)
        if "not written yet" in self.daemon.log():
            raise Failure("this flowacctd does not write "
                          "bmp_daemon_msglog_file")

    def stop(self):
        self.daemon.stop()
        return self.daemon.proc.returncode


class Failure(Exception):
    pass


def log_name(address, port):
    return "%s-%d.json" % (re.sub(r"[^A-Za-z0-9_-]", "_", address), port)


def replay(payload, source, ports):
    """Sends `payload` to each daemon from `source` and one shared source
    port (SO_REUSEPORT), then closes. Returns the source port."""
    socks = []
    sport = 0
    try:
        for port in ports:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            s.bind((source, sport))
            sport = s.getsockname()[1]
            s.settimeout(10)
            s.connect(("127.0.0.1", port))
            socks.append(s)
        for s in socks:
            try:
                s.sendall(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # a Termination: the daemon closed first
    finally:
        for s in socks:
            s.close()
    return sport


def run_case(index, c, routers, pm, fa):
    """Replays the routers of `c`; returns [(name, pm path, fa path,
    stream)]."""
    out = []
    for r, payload in enumerate(routers):
        source = "127.77.%d.%d" % (index, r + 1)
        sport = replay(payload, source, (pm.port, fa.port))
        name = log_name(source, sport)
        paths = (os.path.join(pm.dir, name), os.path.join(fa.dir, name))
        daemon_harness.wait_for(
            lambda: all('"event_type": "log_close"' in
                        daemon_harness.read_text(p) for p in paths), WAIT_S,
            "log_close of %s:%d in both message logs" % (source, sport))
        out.append(("%s router %d" % (c.name, r + 1),) + paths + (payload,))
    return out

# ---------------------------------------------------------------------------
# Comparison.

TIME_RE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$")
ATTRIBUTE_KEYS = ("bgp_nexthop", "as_path", "comms", "ecomms", "lcomms",
                  "origin", "local_pref", "med", "aigp", "psid_li")


def load(path):
    lines = []
    with open(path, encoding="utf-8") as f:
        for n, text in enumerate(f, 1):
            try:
                lines.append(json.loads(
                    text, object_pairs_hook=lambda kv: kv))
            except ValueError as e:
                raise Failure("%s:%d: not JSON (%s): %r" % (path, n, e,
                                                            text[:200]))
    return lines


def comparable(items):
    """The items compared as they are: without seq and the "now" times."""
    d = dict(items)
    now = d.get("event_type") in ("log_init", "log_close")
    return [(k, v) for k, v in items
            if k not in ("seq", "timestamp_arrival") and
            not (now and k == "timestamp")]


def check_own(lines, who, path):
    """What holds for each file alone: seq counts up by one; the "now"
    times are well formed; log_init first, log_close last."""
    problems = []
    seqs = [dict(x).get("seq") for x in lines]
    if seqs and seqs != list(range(seqs[0], seqs[0] + len(seqs))):
        problems.append("%s %s: seq does not count up by one: %s..." %
                        (who, path, seqs[:8]))
    for x in lines:
        d = dict(x)
        for k in ("timestamp_arrival",) + (
                ("timestamp",) if d.get("event_type") in
                ("log_init", "log_close") else ()):
            if k in d and not TIME_RE.match(d[k]):
                problems.append("%s: bad %s %r" % (who, k, d[k]))
    events = [dict(x).get("event_type") for x in lines]
    if not events or events[0] != "log_init" or events[-1] != "log_close":
        problems.append("%s %s: not log_init ... log_close: %s" %
                        (who, path, events[:1] + events[-1:]))
    return problems


def without(items, keys):
    return [(k, v) for k, v in items if k not in keys]


def n2_ipv6_next_hop(pm, fa):
    """N2: an IPv4 route with an IPv6 next hop (RFC 8950 VPNv4, or IPv4
    NLRI beside an IPv6 MP_REACH): pmbmpd writes bgp_nexthop ""."""
    p, f = dict(pm), dict(fa)
    if p.get("afi") != 1 or p.get("bgp_nexthop") != "":
        return False
    try:
        if ipaddress.ip_address(f.get("bgp_nexthop", "")).version != 6:
            return False
    except ValueError:
        return False
    return without(pm, ("bgp_nexthop",)) == without(fa, ("bgp_nexthop",))


def n3_treat_as_withdraw(pm, fa):
    """N3: an UPDATE RFC 7606 makes treat-as-withdraw (here an AS_PATH
    that does not parse): pmbmpd logs an update (as_path ""), flowacctd a
    withdrawal of the same route."""
    p, f = dict(pm), dict(fa)
    if (p.get("bmp_msg_type") != "route_monitor" or
            p.get("log_type") != "update" or f.get("log_type") != "withdraw"):
        return False
    return (without(pm, ATTRIBUTE_KEYS + ("log_type",)) ==
            without(fa, ("log_type",)))


def n4_counter_length(pm, fa):
    """N4: a counter whose length is not its type's: pmbmpd writes 0,
    flowacctd the value it holds."""
    p, f = dict(pm), dict(fa)
    return (p.get("bmp_msg_type") == "stats" and p.get("counter_value") == 0
            and f.get("counter_value") != 0 and
            without(pm, ("counter_value",)) == without(fa, ("counter_value",)))


def n5_invalid_utf8(pm, fa):
    """N5: a string TLV that is not UTF-8: pmbmpd leaves its key out,
    flowacctd writes it with the bytes as \\u00XX."""
    keys = set(dict(pm))
    extra = [(k, v) for k, v in fa if k not in keys]
    return (bool(extra) and [x for x in fa if x[0] in keys] == pm and
            all("_info_" in k and any(0x80 <= ord(ch) <= 0xFF for ch in v)
                for k, v in extra))


PAIR_EXCEPTIONS = {"N2": n2_ipv6_next_hop, "N3": n3_treat_as_withdraw,
                   "N4": n4_counter_length, "N5": n5_invalid_utf8}


def n1_filter(fa_lines):
    """N1: pmbmpd drops Route Monitoring for a peer it has seen no Peer Up
    for (or whose Peer Down it has seen); flowacctd logs it (BM-4). Splits
    flowacctd's lines into those pmbmpd also writes and those."""
    up = set()
    kept, dropped = [], []
    for items in fa_lines:
        d = dict(items)
        kind = d.get("bmp_msg_type")
        keys = [k for k, _ in items]
        if kind == "peer_up":
            up.add((d["peer_ip"], d.get("rd")))
        elif kind == "peer_down":
            up.discard((d["peer_ip"], d.get("rd")))
        elif kind == "route_monitor":
            early = "rd" in d and keys.index("rd") < keys.index("event_type")
            if early and d.get("rd_origin") == "bmp":
                known = (d["peer_ip"], d["rd"]) in up
            elif early:  # a VPN route's RD over the peer's: any RD
                known = any(ip == d["peer_ip"] and rd is not None
                            for ip, rd in up)
            else:
                known = (d["peer_ip"], None) in up
            if not known:
                dropped.append(items)
                continue
        kept.append(items)
    return kept, dropped


def n7_filter(lines, facts):
    """N7 (§14.2 D3, D4): route lines of the Loc-RIB views whose routes
    the two daemons cannot agree on, as the router's stream itself tells
    (bmp_replay.StreamFacts). Splits the lines into those kept and those
    set aside. A Loc-RIB line names its instance by "rd" ("rd_origin"
    "bmp") before "event_type", or not at all for a zero distinguisher; a
    VPN route's own RD in that place leaves any non-zero one."""
    non_zero = [rd for rd in facts.loc_add_path if rd]
    kept, aside = [], []
    for items in lines:
        d = dict(items)
        if d.get("bmp_msg_type") == "route_monitor" and d.get("is_loc"):
            keys = [k for k, _ in items]
            early = "rd" in d and keys.index("rd") < keys.index("event_type")
            if not early:
                instances = [""]
            elif d.get("rd_origin") == "bmp":
                instances = [d["rd"]]
            else:
                instances = non_zero
            if any(facts.loc_rib_difference(rd, d["afi"], d["safi"])
                   for rd in instances):
                aside.append(items)
                continue
        kept.append(items)
    return kept, aside


def compare(name, pm_path, fa_path, stream, allowed, counts, max_diffs):
    pm_lines, fa_lines = load(pm_path), load(fa_path)
    problems = check_own(pm_lines, "pmbmpd", pm_path) + check_own(
        fa_lines, "flowacctd", fa_path)
    if "N1" in allowed:
        fa_lines, dropped = n1_filter(fa_lines)
        counts["N1"] += len(dropped)
    if "N7" in allowed:
        facts = bmp_replay.StreamFacts(stream)
        pm_lines, pm_aside = n7_filter(pm_lines, facts)
        fa_lines, fa_aside = n7_filter(fa_lines, facts)
        counts["N7"] += len(pm_aside) + len(fa_aside)
    if len(pm_lines) != len(fa_lines):
        problems.append("%s: pmbmpd %d lines, flowacctd %d" %
                        (name, len(pm_lines), len(fa_lines)))
    shown = 0
    for n, (p, f) in enumerate(zip(pm_lines, fa_lines), 1):
        p, f = comparable(p), comparable(f)
        if p == f:
            continue
        hit = next((e for e in sorted(allowed)
                    if e in PAIR_EXCEPTIONS and PAIR_EXCEPTIONS[e](p, f)),
                   None)
        if hit:
            counts[hit] += 1
            continue
        problems.append("%s line %d differs" % (name, n))
        if shown < max_diffs:
            shown += 1
            print("  %s line %d:\n    pmbmpd:    %s\n    flowacctd: %s" % (
                name, n, json.dumps(p), json.dumps(f)))
    return len(pm_lines), problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--flowacctd", required=True)
    ap.add_argument("--pmbmpd", default="/usr/sbin/pmbmpd")
    ap.add_argument("--corpus", default=DEFAULT_CORPUS)
    ap.add_argument("--case", action="append", default=[])
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--max-diffs", type=int, default=5)
    args = ap.parse_args()
    if not os.access(args.pmbmpd, os.X_OK):
        print("SKIP: pmbmpd not found at %s (Debian package pmacct)" %
              args.pmbmpd)
        return SKIP
    if not os.path.isdir(os.path.join(args.corpus, "bmp")):
        print("SKIP: no corpus at %s" % args.corpus)
        return SKIP
    cases = [c for c in CASES if not args.case or c.name in args.case]
    if not cases:
        print("no such case: %s" % ", ".join(args.case))
        return 1
    # Both daemons write the per-peer header times in local time: a zone
    # away from UTC checks that they agree on it.
    if os.path.exists("/usr/share/zoneinfo/Europe/Zurich"):
        os.environ["TZ"] = "Europe/Zurich"
    workdir = tempfile.mkdtemp(prefix="flowacct-bmp-msglog-")
    pm = fa = None
    failed = []
    started = time.monotonic()
    try:
        pm = bmp_replay.Pmbmpd(
            args.pmbmpd, os.path.join(workdir, "pmbmpd"),
            lambda port: daemon_config(port, os.path.join(workdir, "pmbmpd")))
        fa = Flowacctd(args.flowacctd, workdir)
        print("%-48s %7s  %s" % ("case", "lines", "known exceptions"))
        for index, c in enumerate(cases, 1):
            counts = collections.Counter()
            total, problems = 0, []
            for name, pm_path, fa_path, stream in run_case(
                    index, c, case_routers(c, args.corpus), pm, fa):
                lines, p = compare(name, pm_path, fa_path, stream,
                                   c.exceptions, counts, args.max_diffs)
                total += lines
                problems += p
            for e in sorted(c.exceptions):
                if counts[e] == 0:
                    problems.append("%s: expected known exception %s not "
                                    "seen (update the case and §14.1)" %
                                    (c.name, e))
            print("%-48s %7d  %s%s" % (
                c.name, total,
                " ".join("%s=%d" % (e, counts[e]) for e in sorted(counts))
                or "-", "" if not problems else "  FAIL"))
            for p in problems[:args.max_diffs]:
                print("    " + p)
            if problems:
                failed.append(c.name)
    except (Failure, AssertionError, OSError) as e:
        print("FAIL: %s" % e)
        failed.append("setup")
    finally:
        if pm is not None:
            pm.stop()
        if fa is not None and fa.stop() not in (0, None):
            print("FAIL: flowacctd exit code %s" % fa.daemon.proc.returncode)
            failed.append("exit")
    print("%.1f s" % (time.monotonic() - started))
    if failed or args.keep:
        print("work dir: %s" % workdir)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    if failed:
        print("FAIL: %s" % ", ".join(failed))
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
