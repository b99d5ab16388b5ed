#!/usr/bin/python3
"""RFC 7606 (and RFC 4271 §6) against flowacctd's bgp_daemon, live.

    bgp_rfc7606_test.py --flowacctd PATH [--keep] [--scenario S]

The BG-* rows are those of the hostile-inputs table (docs/testing.md lists
which row is covered where). One flowacctd (bgp_daemon_as 65000, table
dumps on SIGUSR1, /metrics) is fed by:

Scenario "exabgp" - ExaBGP 4.2 hand-crafted path attributes
(ExabgpPeer.announce_raw_attributes): for every row ExaBGP can produce, a
valid version of prefix P is announced first, then P carrying the hostile
attribute, then a normal route N from the same session. Once N is in the
dump (so the hostile UPDATE was processed before it), the outcome of P is
checked:
  withdraw  - P is absent: the earlier valid version is withdrawn;
  discard   - P is present, the malformed attribute dropped, the rest kept;
  keep      - P is present (the attribute is fine or stored opaque);
and flowacct_bgp_update_errors_total{reason=...} grew, and the session
stayed up (no "peer down" for the peer, peer count unchanged).
  127.0.0.2 iBGP, 4-octet AS: ORIGIN, martian NEXT_HOP, MED, LOCAL_PREF, the
      community types, AS_PATH, ATOMIC_AGGREGATE, AGGREGATOR, OTC,
      ORIGINATOR_ID / CLUSTER_LIST from iBGP, flag conflicts, extended
      length, unknown optional attributes (code 255, a ~4 KiB value).
  127.0.0.3 eBGP, no 4-octet AS capability (so AS4_PATH / AS4_AGGREGATOR
      are parsed): AS4_PATH / AS4_AGGREGATOR garbage, ORIGINATOR_ID /
      CLUSTER_LIST from eBGP (attribute discard).
  127.0.0.4 iBGP, the rows that reset the session: an unrecognized
      well-known attribute (NOTIFICATION 3/2) and a duplicate MP_REACH_NLRI
      (3/1). ExaBGP logs the NOTIFICATION; the bad route is withdrawn from
      its API while the session is down, it reconnects, and a normal route
      announced afterwards reaches the dump.

Scenario "raw" - a raw BGP client (this file, RawPeer) for what ExaBGP
cannot produce: it opens TCP from 127.0.0.N, sends an OPEN built by hand,
answers the speaker's OPEN with a KEEPALIVE, then sends hand-built bytes.
  127.0.0.6 one session, stays up: attribute length overrunning the
      attribute section (BG-12, treat-as-withdraw), NEXT_HOP of 3 and 5
      bytes (BG-22: a generic NEXT_HOP makes ExaBGP drop the connection
      without sending it), duplicate MED (BG-15,
      first kept), NLRI without mandatory attributes (BG-16), MP_UNREACH
      plus classic NLRI without mandatory attributes (BG-17), attributes
      without NLRI (BG-18), MP_REACH with a bad next-hop length (BG-26,
      IPv6 disabled), NLRI prefix length 33 (BG-28, IPv4 disabled: the
      peer's IPv4 routes are dropped, later IPv4 NLRI ignored).
  127.0.0.7 one connection per row, each ends with the expected
      NOTIFICATION: bad marker 1/1 (BG-1), bad lengths 1/2 (BG-2), OPEN
      version / hold time / BGP ID / AS 2/1, 2/6, 2/3, 2/2 (BG-4), OPEN
      optional parameters overrunning (BG-5), withdrawn-routes length past
      the message 3/1 (BG-12).
  127.0.0.8 NOTIFICATION with a lying RFC 9003 length and non-UTF-8 bytes
      (BG-39): the peer down is logged on one line, flowacctd keeps running.

Exit 0 pass, 1 fail, 77 skip (exabgp missing).
"""

import argparse
import ipaddress
import os
import re
import shutil
import socket
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "support"))
import bgp_peers  # noqa: E402
from bgp_daemon_test import Fail, Flowacctd, check, wait_for  # noqa: E402
from bgp_peers import ExabgpPeer, Route  # noqa: E402

LOCAL_AS = 65000

# Path attribute type codes and flags.
ORIGIN, AS_PATH, NEXT_HOP, MED, LOCAL_PREF = 1, 2, 3, 4, 5
ATOMIC_AGGREGATE, AGGREGATOR, COMMUNITIES = 6, 7, 8
ORIGINATOR_ID, CLUSTER_LIST, MP_REACH, MP_UNREACH = 9, 10, 14, 15
EXT_COMMUNITIES, AS4_PATH, AS4_AGGREGATOR = 16, 17, 18
IPV6_EXT_COMMUNITIES, LARGE_COMMUNITIES, OTC = 25, 32, 35
OPT, TRANS, PARTIAL, EXTLEN = 0x80, 0x40, 0x20, 0x10


def u16(v):
    return struct.pack("!H", v)


def u32(v):
    return struct.pack("!I", v)


# ---------------------------------------------------------------------------
# What flowacctd shows.

def error_counts(fa):
    """flowacct_bgp_update_errors_total by reason."""
    out = {}
    for k, v in fa.metrics().items():
        m = re.match(r'flowacct_bgp_update_errors_total\{reason="([a-z_0-9]+)"',
                     k)
        if m:
            out[m.group(1)] = int(v)
    return out


def established_count(fa):
    return int(fa.metrics().get('flowacct_bgp_peers{state="established"}', 0))


def peer_events(fa, address, what):
    """How many "peer up" / "peer down" lines flowacctd logged for address."""
    return fa.log().count("msg=\"peer %s\" peer=%s:" % (what, address))


def routes_of(fa, address):
    """{prefix: [Path]} of one peer in a fresh dump."""
    out = {}
    for p in fa.dump().get(address, []):
        out.setdefault(p.prefix, []).append(p)
    return out


def wait_route(fa, address, prefix, timeout=20):
    """Dumps until prefix is in address's table; returns that table."""
    last = {}

    def present():
        nonlocal last
        last = routes_of(fa, address)
        return prefix in last
    wait_for(present, timeout, "%s from %s in the dump" % (prefix, address),
             step=0.5)
    return last


# ---------------------------------------------------------------------------
# ExaBGP rows.

class Case:
    """One hostile route: attrs are (code, flags, value) for
    announce_raw_attributes; outcome is "withdraw", "discard" or "keep";
    reason the update_errors label that must grow (None: nothing counted);
    expect(path) checks the route when it is kept."""

    def __init__(self, row, what, attrs, outcome, reason, expect=None,
                 next_hop=None, **route):
        self.row, self.what, self.attrs = row, what, attrs
        self.next_hop = next_hop
        self.outcome, self.reason, self.expect = outcome, reason, expect
        self.route = route


def as_path4(*segments):
    """AS_PATH value with 4-octet ASNs: segments of (type, [asn...])."""
    return b"".join(bytes([t, len(a)]) + b"".join(u32(x) for x in a)
                    for t, a in segments)


def as_path2(*segments):
    return b"".join(bytes([t, len(a)]) + b"".join(u16(x) for x in a)
                    for t, a in segments)


COMMS = ("65000:7",)


def comms_kept(p):
    return p.communities == COMMS


IBGP_CASES = [
    Case("BG-22", "ORIGIN value 5", [(ORIGIN, TRANS, b"\x05")],
         "withdraw", "invalid_origin"),
    Case("BG-22", "ORIGIN of 2 bytes", [(ORIGIN, TRANS, b"\x00\x00")],
         "withdraw", "attribute_length"),
    # (A generic NEXT_HOP makes ExaBGP 4.2 drop the connection without
    # sending anything: NEXT_HOP lengths are the raw client's.)
    Case("BG-22", "NEXT_HOP martian 224.0.0.1", [], "withdraw",
         "invalid_next_hop", next_hop="224.0.0.1"),
    Case("BG-22", "MED of 3 bytes", [(MED, OPT, b"\x00\x00\x07")],
         "withdraw", "attribute_length"),
    Case("BG-22", "LOCAL_PREF of 5 bytes",
         [(LOCAL_PREF, TRANS, b"\x00\x00\x00\x64\x00")],
         "withdraw", "attribute_length"),
    Case("BG-24", "COMMUNITIES of 6 bytes",
         [(COMMUNITIES, OPT | TRANS, b"\xfd\xe8\x00\x01\x00\x02")],
         "withdraw", "malformed_communities"),
    Case("BG-24", "COMMUNITIES empty", [(COMMUNITIES, OPT | TRANS, b"")],
         "withdraw", "malformed_communities"),
    Case("BG-24", "EXTENDED_COMMUNITIES of 12 bytes",
         [(EXT_COMMUNITIES, OPT | TRANS, bytes(range(12)))],
         "withdraw", "malformed_communities"),
    Case("BG-24", "IPv6 extended communities of 24 bytes",
         [(IPV6_EXT_COMMUNITIES, OPT | TRANS, bytes(24))],
         "withdraw", "malformed_communities"),
    Case("BG-24", "LARGE_COMMUNITY of 16 bytes",
         [(LARGE_COMMUNITIES, OPT | TRANS, bytes(range(16)))],
         "withdraw", "malformed_communities"),
    Case("BG-19", "AS_PATH segment type 5",
         [(AS_PATH, TRANS, as_path4((5, [64512])))],
         "withdraw", "malformed_as_path"),
    Case("BG-19", "AS_PATH segment type 0",
         [(AS_PATH, TRANS, as_path4((0, [64512])))],
         "withdraw", "malformed_as_path"),
    Case("BG-19", "AS_PATH segment count 3, one ASN follows",
         [(AS_PATH, TRANS, b"\x02\x03" + u32(64512))],
         "withdraw", "malformed_as_path"),
    Case("BG-19", "AS_PATH segment of length 0",
         [(AS_PATH, TRANS, b"\x02\x00")], "withdraw", "malformed_as_path"),
    Case("BG-19", "AS_PATH with AS 0 (RFC 7607)",
         [(AS_PATH, TRANS, as_path4((2, [64512, 0])))],
         "withdraw", "malformed_as_path"),
    Case("BG-23", "ATOMIC_AGGREGATE of 1 byte",
         [(ATOMIC_AGGREGATE, TRANS, b"\x00")], "discard",
         "malformed_atomic_aggregate", comms_kept, communities=COMMS),
    Case("BG-23", "AGGREGATOR of 5 bytes",
         [(AGGREGATOR, OPT | TRANS, b"\x00\x00\xfd\xe8\xc0")], "discard",
         "malformed_aggregator", comms_kept, communities=COMMS),
    Case("BG-23", "AGGREGATOR with AS 0",
         [(AGGREGATOR, OPT | TRANS, u32(0) + bytes([192, 0, 2, 1]))],
         "discard", "malformed_aggregator", comms_kept, communities=COMMS),
    Case("BG-33", "OTC of 3 bytes", [(OTC, OPT | TRANS, b"\x00\xfd\xe8")],
         "withdraw", "invalid_otc"),
    Case("BG-33", "OTC value 0", [(OTC, OPT | TRANS, u32(0))],
         "withdraw", "invalid_otc"),
    Case("BG-25", "ORIGINATOR_ID of 3 bytes from iBGP",
         [(ORIGINATOR_ID, OPT, b"\xc0\x00\x02")],
         "withdraw", "malformed_route_reflection"),
    Case("BG-25", "CLUSTER_LIST of 6 bytes from iBGP",
         [(CLUSTER_LIST, OPT, bytes(6))],
         "withdraw", "malformed_route_reflection"),
    Case("BG-14", "ORIGIN flagged optional",
         [(ORIGIN, OPT | TRANS, b"\x00")], "withdraw", "attribute_flags"),
    Case("BG-14", "MED flagged transitive",
         [(MED, OPT | TRANS, u32(7))], "withdraw", "attribute_flags"),
    Case("BG-14", "LOCAL_PREF with the Partial bit",
         [(LOCAL_PREF, TRANS | PARTIAL, u32(100))],
         "withdraw", "attribute_flags"),
    Case("BG-14", "AGGREGATOR flagged well-known (attribute discard)",
         [(AGGREGATOR, TRANS, u32(65000) + bytes([192, 0, 2, 1]))],
         "discard", "attribute_flags", comms_kept, communities=COMMS),
    Case("BG-13", "COMMUNITIES with Extended Length, 2-byte length",
         [(COMMUNITIES, OPT | TRANS | EXTLEN,
           u16(65000) + u16(7) + u16(65000) + u16(8))], "keep", None,
         lambda p: p.communities == ("65000:7", "65000:8")),
    Case("BG-34", "unknown optional transitive code 255",
         [(255, OPT | TRANS, b"hostile")], "keep", None, comms_kept,
         communities=COMMS),
    Case("BG-34", "unknown optional transitive, 4000-byte value",
         [(254, OPT | TRANS | PARTIAL, bytes(range(256)) * 15 + bytes(160))],
         "keep", None, comms_kept, communities=COMMS),
    Case("BG-34", "unknown optional non-transitive (ignored)",
         [(253, OPT, b"\x01\x02")], "keep", None, comms_kept,
         communities=COMMS),
]

# 127.0.0.3: eBGP (AS 65010), no 4-octet AS capability.
EBGP_CASES = [
    Case("BG-21", "AS4_PATH segment count lying",
         [(AS4_PATH, OPT | TRANS, b"\x02\x05" + u32(4200000001))],
         "discard", "malformed_as4_path",
         lambda p: p.as_path == (65010,) and comms_kept(p),
         communities=COMMS),
    Case("BG-21", "AS4_PATH with a confederation segment",
         [(AS4_PATH, OPT | TRANS, as_path4((3, [4200000001])))],
         "discard", "malformed_as4_path",
         lambda p: p.as_path == (65010,) and comms_kept(p),
         communities=COMMS),
    Case("BG-23", "AS4_AGGREGATOR of 7 bytes",
         [(AS4_AGGREGATOR, OPT | TRANS, bytes(7))], "discard",
         "malformed_aggregator", comms_kept, communities=COMMS),
    Case("BG-25", "ORIGINATOR_ID of 3 bytes from eBGP",
         [(ORIGINATOR_ID, OPT, b"\xc0\x00\x02")], "discard",
         "malformed_route_reflection", comms_kept, communities=COMMS),
    Case("BG-25", "CLUSTER_LIST of 6 bytes from eBGP",
         [(CLUSTER_LIST, OPT, bytes(6))], "discard",
         "malformed_route_reflection", comms_kept, communities=COMMS),
]


def run_cases(fa, peer, cases, base, log):
    """Valid versions first, then each hostile route and a normal one."""
    addr = peer.local_address
    n = peer.local_address.split(".")[-1]

    def prefix(i, normal=False):
        return "10.%d.%d.0/24" % (100 + int(n) * 2 + (1 if normal else 0), i)

    nh = "192.0.2.%s" % n
    peer.announce([Route(prefix(i), nh, as_path=base, communities=COMMS,
                         med=1) for i in range(len(cases))])
    wait_route(fa, addr, prefix(len(cases) - 1))
    ups, downs = peer_events(fa, addr, "up"), peer_events(fa, addr, "down")
    peers_up = established_count(fa)
    for i, c in enumerate(cases):
        before = error_counts(fa)
        peer.announce_raw_attributes(prefix(i), c.next_hop or nh, c.attrs,
                                     as_path=base, **c.route)
        peer.announce([Route(prefix(i, True), nh, as_path=base)])
        table = wait_route(fa, addr, prefix(i, True))
        after = error_counts(fa)
        got = table.get(prefix(i), [])
        if c.outcome == "withdraw":
            check(not got, "%s %s: %s treated as withdraw, but the dump has "
                  "%s" % (c.row, c.what, prefix(i), got))
        else:
            check(len(got) == 1, "%s %s: %s kept (%s), dump has %s" %
                  (c.row, c.what, prefix(i), c.outcome, got))
            check(got[0].med is None,
                  "%s %s: the valid version (MED 1) was replaced: %s" %
                  (c.row, c.what, got[0]))
            if c.expect:
                check(c.expect(got[0]), "%s %s: route attributes: %s" %
                      (c.row, c.what, got[0]))
        if c.reason:
            check(after.get(c.reason, 0) > before.get(c.reason, 0),
                  "%s %s: update_errors{reason=%s} %s -> %s" %
                  (c.row, c.what, c.reason, before.get(c.reason),
                   after.get(c.reason)))
        else:
            check(after == before, "%s %s: no update error counted: %s -> %s"
                  % (c.row, c.what, before, after))
        grew = {k: after[k] - before.get(k, 0) for k in after
                if after[k] != before.get(k, 0)}
        log.append((c.row, c.what, addr, c.outcome, grew))
        print("  %s %-52s %s %-8s %s" % (c.row, c.what, addr, c.outcome,
                                         grew or "-"))
    check(peer_events(fa, addr, "down") == downs and
          peer_events(fa, addr, "up") == ups,
          "%s: the session stayed up (no peer down / up logged)" % addr)
    check(peer.established(), "%s: ExaBGP still established" % addr)
    check(established_count(fa) == peers_up,
          "flowacct_bgp_peers{state=established} still %d" % peers_up)


def run_reset_case(fa, peer, row, what, route, attrs, reason, code, log):
    """A hostile route that must reset the session with NOTIFICATION code."""
    addr = peer.local_address
    ups, downs = peer_events(fa, addr, "up"), peer_events(fa, addr, "down")
    before = error_counts(fa)
    reasons = len(peer.down_reasons())
    bad = peer.announce_raw_attributes(route.prefix, route.next_hop, attrs,
                                       as_path=route.as_path)
    wait_for(lambda: peer_events(fa, addr, "down") > downs, 20,
             "%s %s: flowacctd resets %s" % (row, what, addr))
    # Forget the bad route at once (the session is down or reconnecting):
    # ExaBGP sends its whole adj-rib-out again on every new session.
    peer.withdraw([bad])
    line = [x for x in fa.log().splitlines()
            if "msg=\"peer down\" peer=%s:" % addr in x][downs]
    check("UPDATE error" in line, "%s: peer down reason: %s" % (row, line))
    # ExaBGP: "peer reset, message (notification received (3,1)) ...".
    wait_for(lambda: len(peer.down_reasons()) > reasons, 15,
             "%s: ExaBGP reports the session down" % row)
    got = peer.down_reasons()[reasons]
    check("notification received (%d,%d)" % code in got,
          "%s: ExaBGP received NOTIFICATION %d/%d: %s" %
          ((row,) + code + (got,)))
    wait_for(lambda: peer_events(fa, addr, "up") > ups, 40,
             "%s: %s reconnects after the reset" % (row, addr))
    wait_for(peer.established, 20, "%s: ExaBGP established again" % row)
    normal = Route("10.120.%d.0/24" % (len(log) % 256), route.next_hop
                   if ":" not in route.next_hop else "192.0.2.4")
    peer.announce([normal])
    # The reconnected session may replay the hostile route once more before
    # the withdraw lands: only the final state is checked.
    table = wait_route(fa, addr, normal.prefix, timeout=40)
    check(route.prefix not in table, "%s: %s not in the dump" %
          (row, route.prefix))
    after = error_counts(fa)
    check(after.get(reason, 0) > before.get(reason, 0),
          "%s: update_errors{reason=%s} grew" % (row, reason))
    grew = {k: after[k] - before.get(k, 0) for k in after
            if after[k] != before.get(k, 0)}
    log.append((row, what, addr, "reset %d/%d" % code, grew))
    print("  %s %-52s %s reset %d/%d, reconnected %s" % (
        (row, what, addr) + code + (grew,)))


def scenario_exabgp(fa, log):
    common = dict(peer_address="127.0.0.1", peer_port=fa.port)
    peers = []
    try:
        ibgp = ExabgpPeer("127.0.0.2", LOCAL_AS, **common)
        ebgp = ExabgpPeer("127.0.0.3", 65010, peer_as=LOCAL_AS,
                          families=("ipv4",), **common)
        ebgp.asn4 = False
        resets = ExabgpPeer("127.0.0.4", LOCAL_AS, hold_time=30, **common)
        peers = [ibgp, ebgp, resets]
        for p in peers:
            p.start()
        for p in peers:
            p.wait_established(30)
        print("ExaBGP sessions established (iBGP 127.0.0.2, eBGP without "
              "AS4 127.0.0.3, iBGP 127.0.0.4)")
        run_cases(fa, ibgp, IBGP_CASES, (64512,), log)
        run_cases(fa, ebgp, EBGP_CASES, (), log)
        # Session resets.
        run_reset_case(
            fa, resets, "BG-15", "duplicate MP_REACH_NLRI",
            Route("2001:db8:77::/48", "2001:db8::4"),
            [(MP_REACH, OPT, u16(2) + b"\x01\x10" +
              ipaddress.ip_address("2001:db8::4").packed + b"\x00" +
              b"\x30" + ipaddress.ip_address("2001:db8:78::").packed[:6])],
            "duplicate_attribute", (3, 1), log)
        run_reset_case(
            fa, resets, "BG-34", "unrecognized well-known attribute 240",
            Route("10.119.0.0/24", "192.0.2.4"),
            [(240, TRANS, b"\x01\x02\x03")], "unrecognized_well_known",
            (3, 2), log)
        for p in (ibgp, ebgp):
            check(p.established(), "%s still established after the resets"
                  % p.local_address)
    finally:
        for p in peers:
            try:
                p.close()
            except Exception as e:  # noqa: BLE001
                print("closing %s: %s" % (p.name, e))


# ---------------------------------------------------------------------------
# Raw BGP client.

def message(mtype, body, marker=b"\xff" * 16, length=None):
    return marker + u16(19 + len(body) if length is None else length) + \
        bytes([mtype]) + body


def open_message(asn=LOCAL_AS, hold=90, bgp_id="127.0.0.6", version=4,
                 families=((1, 1), (2, 1)), params=None):
    caps = b"".join(bytes([1, 4]) + u16(a) + bytes([0, s])
                    for a, s in families)
    caps += bytes([65, 4]) + u32(asn)
    if params is None:
        params = bytes([2, len(caps)]) + caps
    return message(1, bytes([version]) + u16(asn if asn < 65536 else 23456) +
                   u16(hold) + socket.inet_aton(bgp_id) +
                   bytes([len(params)]) + params)


def attr(flags, code, value):
    if flags & EXTLEN or len(value) > 255:
        return bytes([flags | EXTLEN, code]) + u16(len(value)) + value
    return bytes([flags, code, len(value)]) + value


def nlri(prefix):
    n = ipaddress.ip_network(prefix)
    return bytes([n.prefixlen]) + n.network_address.packed[
        :(n.prefixlen + 7) // 8]


def update(withdrawn=b"", attrs=b"", reach=b""):
    return message(2, u16(len(withdrawn)) + withdrawn + u16(len(attrs)) +
                   attrs + reach)


def base_attrs(next_hop="192.0.2.6", med=None, next_hop_value=None):
    a = attr(TRANS, ORIGIN, b"\x00") + attr(TRANS, AS_PATH, b"") + \
        attr(TRANS, NEXT_HOP, socket.inet_aton(next_hop)
             if next_hop_value is None else next_hop_value)
    if med is not None:
        a += attr(OPT, MED, u32(med))
    return a + attr(TRANS, LOCAL_PREF, u32(100))


def mp_reach_v6(prefixes, next_hop=b"", nh_len=None):
    nh = next_hop or ipaddress.ip_address("2001:db8::6").packed
    return attr(OPT, MP_REACH, u16(2) + b"\x01" +
                bytes([len(nh) if nh_len is None else nh_len]) + nh +
                b"\x00" + b"".join(nlri(p) for p in prefixes))


def mp_unreach_v6(prefixes):
    return attr(OPT, MP_UNREACH, u16(2) + b"\x01" +
                b"".join(nlri(p) for p in prefixes))


class RawPeer:
    """A hand-driven BGP connection from `local` to flowacctd."""

    def __init__(self, local, port):
        self.local = local
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10,
                                             source_address=(local, 0))
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def read(self, timeout=10):
        """(type, body) of the next message; None when the peer closed."""
        deadline = time.monotonic() + timeout
        while True:
            if len(self.buf) >= 19:
                n = struct.unpack("!H", self.buf[16:18])[0]
                if len(self.buf) >= n:
                    m, self.buf = self.buf[:n], self.buf[n:]
                    return m[18], m[19:]
            left = deadline - time.monotonic()
            if left <= 0:
                raise Fail("%s: no message from flowacctd in %ss" %
                           (self.local, timeout))
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                return None
            self.buf += chunk

    def establish(self, open_msg=None):
        self.send(open_msg or open_message(bgp_id=self.local))
        t = self.read()
        check(t is not None and t[0] == 1, "%s: flowacctd's OPEN: %s" %
              (self.local, t))
        self.send(message(4, b""))
        while True:
            t = self.read()
            check(t is not None and t[0] in (4,),
                  "%s: KEEPALIVE from flowacctd: %s" % (self.local, t))
            return

    def expect_notification(self, timeout=10):
        """Skips KEEPALIVEs and the speaker's OPEN; returns (code, subcode)
        of its NOTIFICATION and checks the connection is then closed."""
        while True:
            t = self.read(timeout)
            check(t is not None, "%s: closed without a NOTIFICATION" %
                  self.local)
            if t[0] == 3:
                break
        check(self.read(timeout) is None,
              "%s: connection closed after the NOTIFICATION" % self.local)
        return t[1][0], t[1][1]

    def close(self):
        self.sock.close()


def scenario_raw(fa, log):
    addr = "127.0.0.6"
    peers_up = established_count(fa)
    peer = RawPeer(addr, fa.port)
    try:
        peer.establish()
        wait_for(lambda: peer_events(fa, addr, "up") == 1, 10,
                 "flowacctd logs peer up for the raw client")
        check(established_count(fa) == peers_up + 1, "raw peer established")

        def step(row, what, data, reason, expect_state, outcome):
            before = error_counts(fa)
            peer.send(data)
            # A marker route after the hostile message: once it is in the
            # dump, the hostile UPDATE was processed.
            step.n += 1
            marker = "10.130.%d.0/24" % step.n
            peer.send(update(attrs=base_attrs(), reach=nlri(marker))
                      if step.v4 else
                      update(attrs=base_attrs() + mp_reach_v6(
                          ["2001:db8:130:%x::/64" % step.n])))
            table = wait_route(fa, addr, marker if step.v4 else
                               "2001:db8:130:%x::/64" % step.n)
            after = error_counts(fa)
            check(after.get(reason, 0) > before.get(reason, 0),
                  "%s %s: update_errors{reason=%s} grew: %s -> %s" %
                  (row, what, reason, before, after))
            expect_state(table)
            grew = {k: after[k] - before.get(k, 0) for k in after
                    if after[k] != before.get(k, 0)}
            log.append((row, what, addr, outcome, grew))
            print("  %s %-52s %s %-8s %s" % (row, what, addr, outcome, grew))
            return table
        step.n = 0
        step.v4 = True

        # Valid routes to be withdrawn by the hostile ones.
        valid = ["10.131.%d.0/24" % i for i in range(7)]
        peer.send(update(attrs=base_attrs(med=1),
                         reach=b"".join(nlri(p) for p in valid)))
        peer.send(update(attrs=base_attrs() + mp_reach_v6(
            ["2001:db8:131::/48", "2001:db8:132::/48"])))
        wait_route(fa, addr, "2001:db8:132::/48")

        def absent(*prefixes):
            def f(table):
                for p in prefixes:
                    check(p not in table, "%s still in the dump" % p)
            return f

        # BG-12: an attribute whose length overruns the attribute section
        # (the total length is right: the NLRI can be located).
        attrs = base_attrs() + bytes([OPT | TRANS, 0xF0, 20]) + b"\x01\x02"
        step("BG-12", "attribute length past the attribute section",
             update(attrs=attrs, reach=nlri(valid[0])), "attribute_overrun",
             absent(valid[0]), "withdraw")

        # BG-22: NEXT_HOP lengths (ExaBGP cannot send a generic NEXT_HOP).
        step("BG-22", "NEXT_HOP of 3 bytes",
             update(attrs=base_attrs(next_hop_value=b"\xc0\x00\x02"),
                    reach=nlri(valid[5])), "attribute_length",
             absent(valid[5]), "withdraw")
        step("BG-22", "NEXT_HOP of 5 bytes",
             update(attrs=base_attrs(next_hop_value=bytes([192, 0, 2, 6, 0])),
                    reach=nlri(valid[6])), "attribute_length",
             absent(valid[6]), "withdraw")

        # BG-15: MED twice: the first is kept.
        def med_first(table):
            check([p.med for p in table.get(valid[1], [])] == [10],
                  "BG-15: first MED kept: %s" % table.get(valid[1]))
        step("BG-15", "MED twice (10, then 20)",
             update(attrs=base_attrs(med=10) + attr(OPT, MED, u32(20)),
                    reach=nlri(valid[1])),
             "duplicate_attribute", med_first, "keep")

        # BG-16: NLRI with only an unknown optional transitive attribute.
        step("BG-16", "NLRI without ORIGIN/AS_PATH/NEXT_HOP",
             update(attrs=attr(OPT | TRANS, 0xF1, b"x"), reach=nlri(valid[2])),
             "missing_well_known", absent(valid[2]), "withdraw")

        # BG-17: MP_UNREACH plus classic NLRI, no mandatory attributes.
        step("BG-17", "MP_UNREACH + classic NLRI, no mandatory attributes",
             update(attrs=mp_unreach_v6(["2001:db8:131::/48"]),
                    reach=nlri(valid[3])),
             "missing_well_known", absent(valid[3], "2001:db8:131::/48"),
             "withdraw")

        # BG-18: attributes and no NLRI at all: ignored.
        step("BG-18", "path attributes without NLRI",
             update(attrs=base_attrs(med=3)), "attributes_without_nlri",
             lambda t: check(valid[4] in t, "BG-18: routes untouched"),
             "ignore")

        # BG-26: MP_REACH next-hop length 5 for IPv6: IPv6 disabled.
        def v6_gone(table):
            check(not any(":" in p for p in table),
                  "BG-26: the peer's IPv6 routes dropped: %s" % sorted(table))
            check(valid[4] in table, "BG-26: IPv4 routes kept")
        step("BG-26", "MP_REACH IPv6 next-hop length 5",
             update(attrs=base_attrs() + mp_reach_v6(
                 ["2001:db8:133::/48"], next_hop=bytes(5))),
             "malformed_mp_reach", v6_gone, "afi/safi disable")

        # BG-28: NLRI prefix length 33: IPv4 unicast disabled (RFC 7606
        # §5.3 allows this instead of a reset); the marker route after it
        # is then ignored too, so this one checks with a dump of its own.
        before = error_counts(fa)
        peer.send(update(attrs=base_attrs(),
                         reach=b"\x21" + bytes([10, 132, 0, 0, 0])))
        peer.send(update(attrs=base_attrs(), reach=nlri("10.133.0.0/24")))

        def counted():
            a = error_counts(fa)
            return (a.get("invalid_prefix_length", 0) >
                    before.get("invalid_prefix_length", 0) and
                    a.get("family_not_negotiated", 0) >
                    before.get("family_not_negotiated", 0))
        wait_for(counted, 10, "BG-28 counted (invalid_prefix_length, then "
                 "family_not_negotiated for the next IPv4 UPDATE)")
        check(fa.dump().get(addr, []) == [],
              "BG-28: the peer's IPv4 routes dropped, later ones ignored")
        after = error_counts(fa)
        log.append(("BG-28", "NLRI prefix length 33", addr,
                    "afi/safi disable", {k: after[k] - before.get(k, 0)
                                         for k in after
                                         if after[k] != before.get(k, 0)}))
        print("  BG-28 %-52s %s afi/safi disable" % (
            "NLRI prefix length 33", addr))
        peer.send(message(4, b""))
        time.sleep(0.5)
        check(peer_events(fa, addr, "down") == 0 and
              established_count(fa) == peers_up + 1,
              "the raw session stayed up through BG-12..BG-28")
    finally:
        peer.close()
    wait_for(lambda: peer_events(fa, addr, "down") == 1, 10,
             "raw peer down once closed")

    # Rows that end the connection.
    def expect(row, what, code, before_open=None, after_open=None):
        p = RawPeer("127.0.0.7", fa.port)
        try:
            if before_open is not None:
                p.send(before_open)
            else:
                p.establish(open_message(bgp_id="127.0.0.7"))
                p.send(after_open)
            got = p.expect_notification()
        finally:
            p.close()
        check(got == code, "%s %s: NOTIFICATION %s, want %s" %
              (row, what, got, code))
        check(fa.proc.poll() is None, "flowacctd still running")
        log.append((row, what, "127.0.0.7", "NOTIFICATION %d/%d" % code, {}))
        print("  %s %-52s 127.0.0.7 NOTIFICATION %d/%d" % ((row, what) + got))

    ka = message(4, b"")
    expect("BG-1", "marker not all ones", (1, 1),
           after_open=message(4, b"", marker=b"\xff" * 15 + b"\x00"))
    expect("BG-2", "length 18", (1, 2), after_open=ka[:16] + u16(18) + b"\x04")
    expect("BG-2", "UPDATE of 4097 bytes (no Extended Message)", (1, 2),
           after_open=message(2, bytes(4097 - 19)))
    expect("BG-2", "KEEPALIVE of 20 bytes", (1, 2),
           after_open=message(4, b"\x00"))
    expect("BG-2", "UPDATE of 22 bytes", (1, 2),
           after_open=message(2, b"\x00\x00\x00"))
    expect("BG-2", "OPEN of 28 bytes", (1, 2),
           before_open=message(1, bytes([4]) + u16(65000) + u16(90) +
                               socket.inet_aton("127.0.0.7")[:3]))
    expect("BG-4", "OPEN version 3", (2, 1),
           before_open=open_message(version=3, bgp_id="127.0.0.7"))
    expect("BG-4", "OPEN hold time 1", (2, 6),
           before_open=open_message(hold=1, bgp_id="127.0.0.7"))
    expect("BG-4", "OPEN BGP identifier 0", (2, 3),
           before_open=open_message(bgp_id="0.0.0.0"))
    expect("BG-4", "OPEN AS 0", (2, 2),
           before_open=open_message(asn=0, bgp_id="127.0.0.7"))
    # BG-5: optional parameter length past the parameters.
    expect("BG-5", "OPEN optional parameter overrunning", (2, 0),
           before_open=open_message(bgp_id="127.0.0.7",
                                    params=bytes([2, 40, 1, 4, 0, 1, 0, 1])))
    expect("BG-12", "withdrawn-routes length past the message", (3, 1),
           after_open=update(withdrawn=nlri("10.134.0.0/24"))[:19] +
           u16(200) + nlri("10.134.0.0/24") + u16(0))

    # BG-39: NOTIFICATION Cease / Administrative Shutdown whose RFC 9003
    # length (200) exceeds its data, with non-UTF-8 bytes and a newline.
    addr = "127.0.0.8"
    p = RawPeer(addr, fa.port)
    try:
        p.establish(open_message(bgp_id=addr))
        wait_for(lambda: peer_events(fa, addr, "up") == 1, 10, "BG-39 up")
        p.send(message(3, bytes([6, 2, 200]) + b"\xff\xfe\nmsg=x\x00"))
        check(p.read() is None, "BG-39: flowacctd closes the connection")
    finally:
        p.close()
    wait_for(lambda: peer_events(fa, addr, "down") == 1, 10,
             "BG-39: peer down logged")
    line = [x for x in fa.log().splitlines()
            if "msg=\"peer down\" peer=%s:" % addr in x][0]
    check("\nmsg=x" not in fa.log(), "BG-39: the newline is escaped")
    check(fa.proc.poll() is None, "flowacctd still running")
    log.append(("BG-39", "NOTIFICATION with a lying shutdown length", addr,
                "peer down logged", {}))
    print("  BG-39 %-52s %s peer down: %s" % (
        "NOTIFICATION with a lying shutdown length", addr, line[-120:]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--flowacctd", required=True)
    ap.add_argument("--scenario", choices=("all", "exabgp", "raw"),
                    default="all")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    if not bgp_peers.available()["exabgp"]:
        print("SKIP: exabgp missing")
        return 77
    workdir = tempfile.mkdtemp(prefix="flowacct-rfc7606-")
    log = []
    fa = None
    try:
        fa = Flowacctd(args.flowacctd, workdir,
                       "bgp_daemon_as: %d\nbgp_daemon_max_peers: 20\n" %
                       LOCAL_AS, metrics=True)
        if args.scenario in ("all", "exabgp"):
            scenario_exabgp(fa, log)
        if args.scenario in ("all", "raw"):
            scenario_raw(fa, log)
        check(fa.proc.poll() is None, "flowacctd still running")
        rc = fa.stop()
        check(rc == 0, "flowacctd exit code %s" % rc)
    except (Fail, bgp_peers.PeerError, OSError) as e:
        print("FAIL: %s" % e)
        if fa is not None:
            print("flowacctd log tail:\n%s" %
                  "\n".join(fa.log().splitlines()[-15:]))
            fa.stop()
        print("work dir: %s" % workdir)
        return 1
    print("%d hostile inputs checked" % len(log))
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print("work dir: %s" % workdir)
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
