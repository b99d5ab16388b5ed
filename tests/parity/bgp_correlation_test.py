#!/usr/bin/python3
"""BGP correlation parity: nfacctd 1.7.7 and flowacctd, bgp_daemon: true.

Issue requirement: flow captures replayed with BGP sessions up produce the
same enriched records as nfacctd with bgp_daemon: true on the same inputs.

For each case (CASES below):
  1. the capture's source and destination addresses are read with
     `flowacct decode FILE -O csv`; routes are generated over them
     (make_routes): one per /24 (IPv4) or /48 (IPv6), deterministic but
     varied AS paths (0-5 ASNs from a small pool, so paths share ASNs, one
     4-byte ASN), standard / large / extended (route target) communities,
     LOCAL_PREF, MED; every fifth prefix gets no route; a /25 (IPv4) and a
     /64 (IPv6) more-specific inside a covered prefix; optionally a
     default route 0.0.0.0/0;
  2. per daemon, an ExaBGP peer (127.0.0.2, iBGP AS 65000: the daemon
     mirrors the AS, pmacct's default) connects to the daemon's BGP port
     and announces them (the extended communities as a raw attribute 16);
  3. the daemon runs live (`<daemon> -f conf`, TZ=UTC) with bgp_daemon on
     127.0.0.1:<free>, nfacctd_ip 127.0.0.1:<free>, a bgp_agent_map mapping
     the exporter 127.0.0.1 (`flowacct replay --single-socket` sends from
     it; nfacctd reports peer_src_ip 127.0.0.1) to the peer 127.0.0.2, and
     print plugins (csv and json) with the case's primitives;
  4. once the session is up, every route is in the daemon's BGP message
     log (bgp_daemon_msglog_file, one "update" line per route) and
     nfacctd's plugins are up, the capture is replayed
     (`flowacct replay FILE --to 127.0.0.1:PORT --single-socket`); then
     nfacctd gets SIGINT and flowacctd SIGTERM: both purge their caches and
     exit;
  5. the output files are compared record by record, order-insensitive,
     with parity_test.compare_file (the same rules as the parity suite).

Known differences (docs/pmacct-parity.md, "BGP correlation") mask named
columns of a case; the mismatch without the mask is still printed with
--keep. A case may also write map files (bgp_peer_src_as_map and the
other source maps) and name an expectation (EXPECTATIONS): documented
differences checked record by record — nfacctd must print the documented
value, which is replaced by flowacctd's before the comparison.

  bgp_correlation_test.py --flowacctd BIN [--nfacctd BIN] [--flowacct BIN]
                          [--case NAME ...] [--keep]
  bgp_correlation_test.py --flowacctd /usr/sbin/nfacctd   self-check

Exit status: 0 parity, 1 mismatch or failure, 2 usage error, 77 skipped
(nfacctd, ExaBGP or the corpus missing). Debian's /usr/bin/python3, stdlib.
"""

import argparse
import collections
import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "support"))
import parity_test as pt  # noqa: E402
import bgp_peers  # noqa: E402
from bgp_peers import ExabgpPeer, Route, free_port  # noqa: E402

PEER = "127.0.0.2"
EXPORTER = "127.0.0.1"
LOCAL_AS = 65000

# Primitives of the plugins (each gets a csv and a json output).
COMMON = ["src_host", "dst_host"]
AS_NET = COMMON + ["src_as", "dst_as", "peer_dst_as", "peer_dst_ip",
                   "src_net", "dst_net", "src_mask", "dst_mask"]
ATTRS = COMMON + ["as_path", "std_comm", "ext_comm", "lrg_comm",
                  "local_pref", "med", "peer_src_as"]
SRC_ATTRS = COMMON + ["peer_src_as", "src_as_path", "src_std_comm",
                      "src_ext_comm", "src_lrg_comm", "src_local_pref",
                      "src_med"]

# maps: (file name, text) pairs written to the daemon's work directory; a
# key's value may name one as {work}/<file name>. expect: the documented
# differences of the case, a function (see RECORD_DIFFS).
Case = collections.namedtuple(
    "Case", "name pcap keys plugins default_route maps expect",
    defaults=((), None))

# The source maps (bgp_peer_src_as_map, bgp_src_local_pref_map,
# bgp_src_med_map) with bgp_*_type: map. Routes of the mikrotik capture
# (make_routes, no default): 10.10.6.0/25 via 192.0.2.101 path 64510 ...,
# 10.10.7.0/24 via 192.0.2.2 (64510 3356), 10.10.8.0/24 via 192.0.2.3
# (65030 ...), 172.20.4.0/24 (65010 174), 192.168.128.0/24 (65020 ...),
# 192.168.183.0/24 (3356 ...); link-local IPv6 and 192.168.35.0/24 have
# none. Input interfaces 0, 7, 9-17.
SRC_MAP_PRIMS = COMMON + ["in_iface", "peer_src_as", "src_local_pref",
                          "src_med"]
SRC_MAP_KEYS = {
    "bgp_peer_src_as_type": "map",
    "bgp_peer_src_as_map": "{work}/peers.map",
    "bgp_src_local_pref_type": "map",
    "bgp_src_local_pref_map": "{work}/lpref.map",
    "bgp_src_med_type": "map",
    "bgp_src_med_map": "{work}/med.map",
}
SRC_MAPS_MIKROTIK = (
    ("peers.map",
     "! first match wins; no match: 0\n"
     "id=100 ip=127.0.0.1 in=9\n"
     "id=bgp ip=127.0.0.1 in=12\n"
     "! RPF-like: the source route's next hop / neighbour AS\n"
     "id=200 ip=127.0.0.0/8 bgp_nexthop=192.0.2.3\n"
     "id=300 ip=127.0.0.1 peer_dst_as=3356\n"
     "! another exporter: never matches\n"
     "id=400 ip=10.0.0.1\n"
     "id=500 ip=127.0.0.1 out=13 in=-7\n"
     "! no VLAN exported: vlan=0 matches\n"
     "id=600 ip=127.0.0.1 in=11 vlan=0\n"),
    ("lpref.map",
     "id=1000 ip=127.0.0.1 in=9\n"
     "id=2000 ip=127.0.0.1 bgp_nexthop=192.0.2.3\n"
     "id=3000 ip=::/0\n"
     "id=4000 ip=127.0.0.1 in=-13 peer_dst_as=65020\n"),
    ("med.map",
     "id=7 ip=127.0.0.1 in=11\n"
     "id=9 ip=127.0.0.0/8 peer_dst_as=3356\n"
     "id=11 ip=127.0.0.1 out=0 in=-0\n"),
)
# pmacct-100 (IPv4 and IPv6 sources, interfaces 810 and 995):
# 10.237.16.0/24 via 192.0.2.8 (6939 65010), 2001:1700:f000::/48 via
# 2001:db8::b (3356 ...), 2001:1700:f001::/48 (64500 65020).
SRC_MAPS_ASR9K = (
    ("peers.map",
     "id=111 ip=127.0.0.1 bgp_nexthop=192.0.2.8\n"
     "id=444 ip=127.0.0.1 peer_dst_as=64500\n"
     "id=bgp ip=127.0.0.1 in=810\n"
     "id=995 ip=127.0.0.1 in=995\n"),
    ("lpref.map",
     "id=5 ip=127.0.0.1 peer_dst_as=65010\n"
     "id=6 ip=127.0.0.1 in=810\n"),
    ("med.map",
     "id=4294967295 ip=127.0.0.1 peer_dst_as=3356\n"
     "id=12 ip=127.0.0.1 in=995\n"
     "id=8 ip=127.0.0.1\n"),
)
# The `bgp` rows of the local_pref and MED maps (B2) and an IPv6
# bgp_nexthop (B3), on pmacct-100.
SRC_MAPS_BGP_ROWS = (
    ("peers.map",
     "id=333 ip=127.0.0.1 bgp_nexthop=2001:db8::b\n"
     "id=bgp ip=127.0.0.1\n"),
    ("lpref.map", "id=bgp ip=127.0.0.1\n"),
    ("med.map",
     "id=bgp ip=127.0.0.1 in=995\n"
     "id=5 ip=127.0.0.1\n"),
)
# logstash-nf9-cisco-1941k9: source MAC addresses on interface 17 (VLAN 0
# exported), interface 11 with VLAN 872.
SRC_MAPS_MAC = (
    ("peers.map",
     "id=10 ip=127.0.0.1 src_mac=ec:1f:72:11:9f:c1\n"
     "id=20 ip=127.0.0.1 src_mac=8C:29:37:7A:28:C0\n"
     "id=30 ip=127.0.0.1 vlan=872\n"),
    ("lpref.map",
     "id=6 ip=127.0.0.1 vlan=0 src_mac=1c:5c:f2:07:0f:2a\n"
     "id=9 ip=127.0.0.1 in=17 vlan=0\n"),
    ("med.map", "id=7 ip=127.0.0.0/8 vlan=-872\n"),
)

CASES = [
    # nfacctd_as / nfacctd_net bgp, IPFIX with IPv4 and IPv6 records that
    # carry exported AS numbers, masks and BGP next hops (all replaced).
    Case("bgp-ipfix", "ipfix/pmacct-100-ipfix-cisco-asr9k.pcap",
         {"nfacctd_as": "bgp", "nfacctd_net": "bgp"},
         {"asnet": AS_NET, "attrs": ATTRS}, True),
    # the same on NetFlow v9 (IPv4), no default route: unrouted addresses.
    Case("bgp-nf9", "netflow9/pmacct-101-nf9-cisco-asr9k.pcap",
         {"nfacctd_as": "bgp", "nfacctd_net": "bgp"},
         {"asnet": AS_NET, "attrs": ATTRS}, False),
    # IPv4 and link-local IPv6, no exported masks or AS; default route.
    Case("bgp-mikrotik", "ipfix/logstash-ipfix-mikrotik.pcap",
         {"nfacctd_as": "bgp", "nfacctd_net": "bgp"},
         {"asnet": AS_NET, "attrs": ATTRS}, True),
    # longest: the RIB's prefix against the exported masks (0, 20, 30 v4;
    # 41, 64 v6; 48 and 128 on the IPv6 capture).
    Case("longest-ipfix", "ipfix/pmacct-100-ipfix-cisco-asr9k.pcap",
         {"nfacctd_as": "longest", "nfacctd_net": "longest"},
         {"asnet": AS_NET, "attrs": ATTRS}, False),
    Case("longest-nf9-host", "netflow9/pmacct-102-nf9-cisco-two-source-ids.pcap",
         {"nfacctd_as": "longest", "nfacctd_net": "longest"},
         {"asnet": AS_NET}, False),
    Case("longest-ipv6", "ipfix/pmacct-111-ipfix-cisco-ipv6.pcap",
         {"nfacctd_as": "longest", "nfacctd_net": "longest"},
         {"asnet": AS_NET, "attrs": ATTRS}, False),
    # netflow: AS and nets as exported; the BGP-only fields still filled.
    Case("netflow-ipfix", "ipfix/pmacct-100-ipfix-cisco-asr9k.pcap",
         {"nfacctd_as": "netflow", "nfacctd_net": "netflow"},
         {"asnet": AS_NET, "attrs": ATTRS}, True),
    # one key bgp, the other netflow: which one brings the BGP attributes
    # and peer_dst_ip / peer_dst_as.
    Case("as-bgp-net-netflow", "ipfix/pmacct-100-ipfix-cisco-asr9k.pcap",
         {"nfacctd_as": "bgp", "nfacctd_net": "netflow"},
         {"asnet": AS_NET, "attrs": ATTRS}, True),
    Case("as-netflow-net-bgp", "ipfix/pmacct-100-ipfix-cisco-asr9k.pcap",
         {"nfacctd_as": "netflow", "nfacctd_net": "bgp"},
         {"asnet": AS_NET, "attrs": ATTRS}, True),
    Case("netflow-nf9", "netflow9/pmacct-101-nf9-cisco-asr9k.pcap",
         {"nfacctd_as": "netflow", "nfacctd_net": "netflow"},
         {"asnet": AS_NET, "attrs": ATTRS}, False),
    # bgp_aspath_radius and bgp_stdcomm_pattern.
    Case("radius-pattern", "ipfix/logstash-ipfix-mikrotik.pcap",
         {"nfacctd_as": "bgp", "nfacctd_net": "bgp",
          "bgp_aspath_radius": "2", "bgp_stdcomm_pattern": "65000:1"},
         {"attrs": ATTRS}, True),
    # the source side: bgp_peer_src_as_type and bgp_src_*_type: bgp.
    Case("src-types", "ipfix/pmacct-100-ipfix-cisco-asr9k.pcap",
         {"nfacctd_as": "bgp", "nfacctd_net": "bgp",
          "bgp_peer_src_as_type": "bgp", "bgp_src_as_path_type": "bgp",
          "bgp_src_std_comm_type": "bgp", "bgp_src_ext_comm_type": "bgp",
          "bgp_src_lrg_comm_type": "bgp", "bgp_src_local_pref_type": "bgp",
          "bgp_src_med_type": "bgp"},
         {"src": SRC_ATTRS}, True),
    Case("src-types-netflow", "ipfix/pmacct-100-ipfix-cisco-asr9k.pcap",
         {"nfacctd_as": "netflow", "nfacctd_net": "netflow",
          "bgp_peer_src_as_type": "bgp", "bgp_src_as_path_type": "bgp",
          "bgp_src_std_comm_type": "bgp", "bgp_src_ext_comm_type": "bgp",
          "bgp_src_lrg_comm_type": "bgp", "bgp_src_local_pref_type": "bgp",
          "bgp_src_med_type": "bgp"},
         {"src": SRC_ATTRS}, True),
    Case("src-types-v6", "ipfix/pmacct-111-ipfix-cisco-ipv6.pcap",
         {"nfacctd_as": "bgp", "nfacctd_net": "bgp",
          "bgp_peer_src_as_type": "bgp", "bgp_src_as_path_type": "bgp",
          "bgp_src_std_comm_type": "bgp", "bgp_src_local_pref_type": "bgp",
          "bgp_src_med_type": "bgp"},
         {"src": SRC_ATTRS}, False),
    # the source maps: rows on in/out (negated), exporter prefixes, the
    # source route's next hop and neighbour AS, a `bgp` row, an exporter
    # that never matches, first match wins, no match 0.
    Case("src-maps", "ipfix/logstash-ipfix-mikrotik.pcap",
         dict(SRC_MAP_KEYS, nfacctd_as="bgp", nfacctd_net="bgp"),
         {"src": SRC_MAP_PRIMS}, False, SRC_MAPS_MIKROTIK),
    # the same whatever nfacctd_as says; IPv6 sources.
    Case("src-maps-netflow", "ipfix/pmacct-100-ipfix-cisco-asr9k.pcap",
         dict(SRC_MAP_KEYS, nfacctd_as="netflow", nfacctd_net="netflow"),
         {"src": SRC_MAP_PRIMS}, False, SRC_MAPS_ASR9K),
    Case("src-maps-mac", "netflow9/logstash-nf9-cisco-1941k9.pcap",
         dict(SRC_MAP_KEYS, nfacctd_as="bgp", nfacctd_net="bgp"),
         {"src": SRC_MAP_PRIMS}, True, SRC_MAPS_MAC),
    # documented differences B2 and B3, asserted record by record.
    Case("src-maps-bgp-rows", "ipfix/pmacct-100-ipfix-cisco-asr9k.pcap",
         dict(SRC_MAP_KEYS, nfacctd_as="bgp", nfacctd_net="bgp"),
         {"src": SRC_MAP_PRIMS}, False, SRC_MAPS_BGP_ROWS,
         "expect_bgp_rows"),
]

# Documented differences (docs/pmacct-parity.md, "BGP correlation"):
# (id, case name or "*", masked csv columns / json keys, reason). The
# columns are masked on both sides (records that become equal are merged).
KNOWN_DIFFS = []

# Cases that differ where nfacctd 1.7.7 is wrong (docs/pmacct-parity.md,
# "BGP correlation"): (id, case, reason). The mismatch is printed in full
# and does not fail the test; a listed case that passes is reported.
KNOWN_CASES = [
    ("B1", "longest-ipv6", "nfacctd_as/_net longest with an exported IPv6 "
     "mask of 128: nfacctd takes the RIB's /48 (AS, net, mask, peer_dst_ip, "
     "peer_dst_as) although the exported /128 is longer; with exported /32 "
     "(IPv4, case longest-nf9-host) and /64 vs a /48 route it keeps the "
     "exported value, as documented. flowacctd keeps the longest prefix"),
]

# Documented differences asserted record by record (docs/pmacct-parity.md
# §15): a case's `expect` names a function of (record, source route) giving
# {primitive: (difference id, nfacctd's value, flowacctd's value)} for the
# record. nfacctd's output must hold the first value (else the difference
# has changed: a failure); it is replaced by the second, and the result
# compared with flowacctd's output as usual. A difference that no record
# shows is a failure too.


def first_asn(route):
    return route.as_path[0] if route is not None and route.as_path else 0


def expect_bgp_rows(rec, route):
    out = {}
    first = first_asn(route)
    # B2: a `bgp` row of bgp_src_local_pref_map / bgp_src_med_map gives, in
    # nfacctd, the route's neighbour AS; in flowacctd its LOCAL_PREF / MED.
    # ExaBGP sends LOCAL_PREF 100 on iBGP when a route has none.
    out["src_local_pref"] = ("B2", first, (route.local_pref or 100)
                             if route is not None else 0)
    if rec["in_iface"] == "995":
        out["src_med"] = ("B2", first, (route.med or 0)
                          if route is not None else 0)
    # B3: nfacctd never matches a bgp_nexthop row with an IPv6 address (the
    # next row, id=bgp, answers); flowacctd does.
    if route is not None and route.next_hop == "2001:db8::b":
        out["peer_src_as"] = ("B3", first, 333)
    return out


# name: (function, the difference ids every run must show)
EXPECTATIONS = {"expect_bgp_rows": (expect_bgp_rows, ("B2", "B3"))}

# primitive: (csv column, json key) of the primitives expectations read or
# change.
RECORD_COLUMNS = {
    "src_host": ("SRC_IP", "ip_src"),
    "in_iface": ("IN_IFACE", "iface_in"),
    "peer_src_as": ("PEER_SRC_AS", "peer_as_src"),
    "src_local_pref": ("SRC_PREF", "local_pref_src"),
    "src_med": ("SRC_MED", "med_src"),
}


def source_route(routes, address):
    """The longest of `routes` holding `address` (None: no route)."""
    a = ipaddress.ip_address(address)
    best = None
    for r in routes:
        n = ipaddress.ip_network(r.prefix)
        if n.version == a.version and a in n and (
                best is None or n.prefixlen > best[0]):
            best = (n.prefixlen, r)
    return best[1] if best else None


def apply_expectations(expect, routes, ref_path, out_path, report, seen):
    """Writes nfacctd's output file ref_path to out_path as flowacctd is
    expected to print it. False when nfacctd's values are not the
    documented ones. seen counts the records per difference id."""
    with open(ref_path) as f:
        lines = f.read().split("\n")
    is_json = ref_path.endswith(".json")
    ok = True
    out = []
    columns = None
    if not is_json and lines:
        columns = lines[0].split(",")
        out.append(lines.pop(0))
    for line in lines:
        if not line:
            out.append(line)
            continue
        if is_json:
            obj = json.loads(line)
            rec = {p: str(obj.get(k, "")) for p, (_, k) in
                   RECORD_COLUMNS.items()}
        else:
            vals = line.split(",")
            rec = {p: vals[columns.index(c)] for p, (c, _) in
                   RECORD_COLUMNS.items() if c in columns}
        route = source_route(routes, rec["src_host"])
        for prim, (did, ref_value, cand_value) in sorted(
                expect(rec, route).items()):
            if rec[prim] != str(ref_value):
                report.append("    %s: %s %s=%s, documented %s %s" % (
                    os.path.basename(ref_path), did, prim, rec[prim],
                    ref_value, line))
                ok = False
                continue
            seen[did] += 1
            if is_json:
                line = re.sub(r'("%s": )\d+' % RECORD_COLUMNS[prim][1],
                              r"\g<1>%d" % cand_value, line)
            else:
                vals = line.split(",")
                vals[columns.index(RECORD_COLUMNS[prim][0])] = str(cand_value)
                line = ",".join(vals)
        out.append(line)
    with open(out_path, "w") as f:
        f.write("\n".join(out))
    return ok


# --- routes -------------------------------------------------------------------

ASN_POOL = (64500, 64501, 64502, 64510, 65010, 65020, 65030, 4200000001,
            3356, 174, 6939)


def capture_addresses(flowacct, pcap):
    out = subprocess.run(
        [flowacct, "decode", pcap, "-O", "csv", "-c", "src_host,dst_host",
         "--no-summary", "--no-progress"], capture_output=True, text=True,
        timeout=60, check=True).stdout.splitlines()
    addrs = set()
    for line in out[1:]:
        for a in line.split(","):
            if a:
                addrs.add(ipaddress.ip_address(a))
    return sorted(addrs, key=lambda a: (a.version, a))


def ext_comm_bytes(i):
    """Route targets: 2-octet AS (type 0x0002), sometimes also an IPv4
    one (0x0102) and a 4-octet AS one (0x0202)."""
    out = bytes([0x00, 0x02]) + (65000).to_bytes(2, "big") + \
        (100 + i).to_bytes(4, "big")
    if i % 3 == 1:
        out += bytes([0x01, 0x02]) + bytes([192, 0, 2, i % 250]) + \
            (7).to_bytes(2, "big")
    if i % 4 == 2:  # first: the wire order is not sorted
        out = bytes([0x02, 0x02]) + (4200000001).to_bytes(4, "big") + \
            (i).to_bytes(2, "big") + out
    return out


def attrs_for(i, family):
    n = (0, 2, 3, 4, 5, 2)[i % 6]
    as_path = tuple(ASN_POOL[(i * 3 + k * 5) % len(ASN_POOL)]
                    for k in range(n))
    comms = ()
    if i % 4 != 3:
        comms = tuple("65000:%d" % (i * 10 + k) for k in range(1 + i % 3))
        if i % 2:
            comms += ("64999:%d" % i,)
    large = () if i % 3 == 2 else ("4200000001:1:%d" % i,
                                   "65000:%d:%d" % (i, i + 1))[:1 + i % 2]
    med = None if i % 5 == 4 else i * 5
    local_pref = None if i % 4 == 0 else 100 + i * 10
    ext = () if i % 5 == 3 else ((16, 0xC0, ext_comm_bytes(i)),)
    nh = ("192.0.2.%d" % (i % 250 + 1) if family == 4
          else "2001:db8::%x" % (i + 1))
    return dict(next_hop=nh, as_path=as_path, communities=comms,
                large_communities=large, med=med, local_pref=local_pref,
                attributes=ext)


def make_routes(addresses, default_route):
    """Routes over the addresses; see the module docstring."""
    nets = sorted({ipaddress.ip_network("%s/%d" % (a, 24 if a.version == 4
                                                   else 48), strict=False)
                   for a in addresses}, key=lambda n: (n.version, n))
    routes = []
    more_specific = set()
    for i, net in enumerate(nets):
        if i % 5 == 3:
            continue  # no route
        routes.append(Route(str(net), **attrs_for(i, net.version)))
        if net.version not in more_specific:
            inside = [a for a in addresses if a in net]
            sub = ipaddress.ip_network("%s/%d" % (
                inside[0], 25 if net.version == 4 else 64), strict=False)
            more_specific.add(net.version)
            routes.append(Route(str(sub), **attrs_for(i + 100, net.version)))
    if default_route:
        routes.append(Route("0.0.0.0/0", **attrs_for(7, 4)))
    return routes


# --- daemons ------------------------------------------------------------------

def config_text(case, work, bgp_port, flow_port):
    plugins = []
    lines = ["daemonize: false",
             "bgp_daemon: true",
             "bgp_daemon_ip: 127.0.0.1",
             "bgp_daemon_port: %d" % bgp_port,
             "bgp_daemon_msglog_file: %s/msglog.txt" % work,
             "bgp_daemon_msglog_output: json",
             "bgp_agent_map: %s/agent.map" % work,
             "nfacctd_ip: 127.0.0.1",
             "nfacctd_port: %d" % flow_port,
             "print_refresh_time: 3600"]
    lines += ["%s: %s" % (k, v.replace("{work}", work))
              for k, v in sorted(case.keys.items())]
    for name, prims in sorted(case.plugins.items()):
        for fmt in ("csv", "json"):
            p = "%s_%s" % (name, fmt)
            plugins.append("print[%s]" % p)
            lines += ["aggregate[%s]: %s" % (p, ", ".join(prims)),
                      "print_output[%s]: %s" % (p, fmt),
                      "print_output_file[%s]: %s/out/%s.%s" % (
                          p, work, name, fmt)]
    lines.insert(1, "plugins: " + ", ".join(plugins))
    return "\n".join(lines) + "\n"


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def wait_for(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.2)
    raise RuntimeError("timed out after %d s: %s" % (timeout, what))


def run_side(side, binary, case, routes, pcap, flowacct, work, keep):
    """One daemon with its own ExaBGP peer; returns the output dir."""
    os.makedirs(os.path.join(work, "out"))
    bgp_port, flow_port = free_port(), pt_free_udp_port()
    text = config_text(case, work, bgp_port, flow_port)
    conf = os.path.join(work, "daemon.conf")
    with open(conf, "w") as f:
        f.write(text)
    with open(os.path.join(work, "agent.map"), "w") as f:
        f.write("bgp_ip=%s ip=%s\n" % (PEER, EXPORTER))
    for name, map_text in case.maps:
        with open(os.path.join(work, name), "w") as f:
            f.write(map_text)
    log = os.path.join(work, "daemon.log")
    nplugins = len(pt.plugin_names(text))
    is_nfacctd = os.path.basename(binary).startswith("nfacctd")
    peer = ExabgpPeer(PEER, LOCAL_AS, "127.0.0.1", bgp_port, routes=routes,
                      workdir=os.path.join(work, "exabgp"), keep_dir=keep)
    proc = None
    try:
        with open(log, "wb") as lf:
            proc = subprocess.Popen([binary, "-f", conf], cwd=work,
                                    env=dict(os.environ, TZ="UTC"),
                                    stdin=subprocess.DEVNULL, stdout=lf,
                                    stderr=subprocess.STDOUT,
                                    start_new_session=True)
        peer.start()
        peer.wait_established(60)
        msglog = os.path.join(work, "msglog.txt")
        wait_for(lambda: read(msglog).count('"log_type": "update"') >=
                 len(routes), 60, "%s: %d routes in the message log"
                 % (side, len(routes)))
        if is_nfacctd:
            # nfacctd starts its plugins seconds after binding; records
            # sent before are lost.
            wait_for(lambda: read(log).count("cache entries=") >= nplugins
                     and "waiting for NetFlow/IPFIX data" in read(log), 60,
                     "nfacctd plugins up")
        time.sleep(1)
        r = subprocess.run([flowacct, "replay", pcap, "--to",
                            "127.0.0.1:%d" % flow_port, "--single-socket"],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("replay failed: %s" % r.stderr)
        time.sleep(2)
        # The records are enriched and in the plugins' caches: the session
        # can go. nfacctd 1.7.7 sometimes dies of "double free or
        # corruption" when signalled with the session up (after a
        # NOTIFICATION 1/0 it logs); with the session closed first it exits
        # cleanly. Same order for both daemons.
        peer.close()
        time.sleep(1)
        proc.send_signal(signal.SIGINT if is_nfacctd else signal.SIGTERM)
        proc.wait(60)
        # nfacctd 1.7.7 exits 1 when its plugins finish before the core
        # ("no more plugins active"): fine once every plugin purged.
        purged = read(log).count("Purging cache - END")
        if proc.returncode != 0 and not (
                is_nfacctd and proc.returncode == 1 and purged >= nplugins):
            raise RuntimeError("%s exited with %d; log tail:\n%s" % (
                side, proc.returncode, "\n".join(read(log).splitlines()[-8:])))
    finally:
        if proc is not None:
            # The daemon's own process group (start_new_session): also the
            # plugin processes a crashed nfacctd core leaves behind.
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        peer.close()
    return os.path.join(work, "out")


def pt_free_udp_port():
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_case(case, args, field_stats):
    report = []
    pcap = os.path.join(args.corpus, case.pcap)
    routes = make_routes(capture_addresses(args.flowacct, pcap),
                         case.default_route)
    tmp = tempfile.mkdtemp(prefix="bgp-parity-%s-" % case.name)
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            futs = {side: pool.submit(run_side, side, binary, case, routes,
                                      pcap, args.flowacct,
                                      os.path.join(tmp, side), args.keep)
                    for side, binary in (("nfacctd", args.nfacctd),
                                         ("flowacctd", args.flowacctd))}
        dirs = {}
        for side, fut in futs.items():
            try:
                dirs[side] = fut.result()
            except Exception as e:  # noqa: BLE001 - reported as failure
                report.append("    %s failed: %s" % (side, e))
        if len(dirs) != 2:
            return None, report
        outputs = ["*.csv", "*.json"]
        ref_files = pt.collect(dirs["nfacctd"], outputs)
        cand_files = pt.collect(dirs["flowacctd"], outputs)
        nrec = sum(len(pt.parse_file(os.path.join(dirs["nfacctd"], f)).records)
                   for f in ref_files)
        report.insert(0, "    %d routes; nfacctd: %d file(s), %d record(s)"
                      % (len(routes), len(ref_files), nrec))
        ok = bool(ref_files)
        if not ref_files:
            report.append("    nfacctd wrote no output file")
        for f in sorted(ref_files ^ cand_files):
            report.append("    file only in %s: %s" % (
                "nfacctd" if f in ref_files else "flowacctd", f))
            ok = False
        masked = []
        if "netflow" in (case.keys.get("nfacctd_as"),
                         case.keys.get("nfacctd_net")):
            # exported values: the parity suite's capture exceptions hold.
            for eid, cap, cols, keys, reason in pt.CAPTURE_EXCEPTIONS:
                if cap == case.pcap:
                    masked += cols + keys
                    report.append("    parity exception %s applied (%s "
                                  "masked): %s" % (eid, "/".join(cols + keys),
                                                   reason))
        for did, cname, cols, reason in KNOWN_DIFFS:
            if cname in (case.name, "*"):
                masked += cols
                report.append("    known difference %s applied (%s masked): "
                              "%s" % (did, "/".join(cols), reason))
        ref_dir = dirs["nfacctd"]
        if case.expect:
            # nfacctd's output with the documented differences applied.
            ref_dir = os.path.join(tmp, "expected")
            os.makedirs(ref_dir)
            seen = collections.Counter()
            expect, ids = EXPECTATIONS[case.expect]
            for f in sorted(ref_files):
                if not apply_expectations(
                        expect, routes,
                        os.path.join(dirs["nfacctd"], f),
                        os.path.join(ref_dir, f), report, seen):
                    ok = False
            report.append("    documented differences asserted: %s" % (
                ", ".join("%s (%d values)" % kv for kv in sorted(
                    seen.items())) or "none"))
            for did in ids:
                if not seen[did]:
                    report.append("    documented difference %s not seen"
                                  % did)
                    ok = False
        for f in sorted(ref_files & cand_files):
            if not pt.compare_file(f, os.path.join(ref_dir, f),
                                   os.path.join(dirs["flowacctd"], f),
                                   report, field_stats, args.max_diffs,
                                   masked):
                ok = False
        return ok, report
    finally:
        if args.keep:
            report.append("    kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--flowacctd", required=True, help="daemon under test")
    ap.add_argument("--nfacctd", default=None)
    ap.add_argument("--flowacct", default=None,
                    help="flowacct CLI (decode, replay); default: next to "
                    "--flowacctd")
    ap.add_argument("--corpus", default=pt.DEFAULT_CORPUS)
    ap.add_argument("--case", action="append", default=[])
    ap.add_argument("--max-diffs", type=int, default=10)
    ap.add_argument("--jobs", type=int, default=2,
                    help="cases at the same time (default 2)")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()

    if args.nfacctd is None:
        args.nfacctd = shutil.which("nfacctd") or "/usr/sbin/nfacctd"
    if not os.access(args.nfacctd, os.X_OK):
        print("SKIP: nfacctd (pmacct) not installed (%s)" % args.nfacctd)
        return pt.SKIP
    if not bgp_peers.available()["exabgp"]:
        print("SKIP: ExaBGP not installed (scripts/install_deps.sh)")
        return pt.SKIP
    if not os.path.isdir(args.corpus):
        print("SKIP: corpus not found at %s" % args.corpus)
        return pt.SKIP
    args.flowacctd = os.path.abspath(args.flowacctd)
    if args.flowacct is None:
        args.flowacct = os.path.join(os.path.dirname(args.flowacctd),
                                     "flowacct")
        if not os.access(args.flowacct, os.X_OK):
            # self-check with nfacctd as the candidate
            args.flowacct = shutil.which("flowacct") or args.flowacct
    for b in (args.flowacctd, args.flowacct):
        if not os.access(b, os.X_OK):
            print("error: %s is not executable" % b)
            return 2
    cases = [c for c in CASES if not args.case or c.name in args.case]
    if not cases:
        print("error: no such case; cases: %s"
              % " ".join(c.name for c in CASES))
        return 2

    field_stats = collections.Counter()
    lock = threading.Lock()

    def one(case):
        stats = collections.Counter()
        if not os.path.isfile(os.path.join(args.corpus, case.pcap)):
            return "skip", ["    capture missing: %s" % case.pcap]
        try:
            ok, report = run_case(case, args, stats)
        except Exception as e:  # noqa: BLE001
            ok, report = None, ["    %s" % e]
        with lock:
            field_stats.update(stats)
        return ok, report

    failures = 0
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for case, (ok, report) in zip(cases, pool.map(one, cases)):
            if ok == "skip":
                print("SKIP %s %s" % (case.name, report[0].strip()))
                continue
            label = {True: "PASS", False: "MISMATCH", None: "ERROR"}[ok]
            known = [k for k in KNOWN_CASES if k[1] == case.name]
            if known and ok is False:
                label = "KNOWN %s (exception: %s)" % (known[0][0], known[0][2])
                ok = True
            elif known and ok:
                label = "PASS (listed as %s: remove it from KNOWN_CASES)" % (
                    known[0][0])
            summary = report[0].strip() if report else ""
            print("%s %s %s (%s)" % (label, case.name, case.pcap, summary))
            if not ok or known or args.keep or case.expect:
                print("\n".join(report[1:]))
            failures += 0 if ok else 1
            sys.stdout.flush()
    print("\n%d case(s), %d failed" % (len(cases), failures))
    if field_stats:
        print("mismatch counts by field:")
        for k, v in field_stats.most_common():
            print("  %-28s %d" % (k, v))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
