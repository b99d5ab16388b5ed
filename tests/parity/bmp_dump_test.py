#!/usr/bin/python3
"""BMP dump parity: pmbmpd 1.7.7 and flowacctd on every BMP capture.

Issue requirement: the BMP captures in ../shared/corpus/bmp/ replayed over
TCP give the route counts the reference gives. The MANIFEST lists message
counts only (checked by the unit test bmp/bmp corpus); the route counts
come from pmbmpd 1.7.7, the BMP daemon of pmacct, fed the same bytes.

How:
  1. Each case's BMP streams (router -> collector: TCP port 1790 for the
     pmacct captures, 10179 for akvorado's, tests/support/pcap_tcp.py) are
     replayed over loopback, each stream from its own source address
     127.10.<case>.<n> (one "router" per stream), into pmbmpd and flowacctd
     at the same time, both with bmp_daemon_ip 127.0.0.1, a free port,
     bmp_dump_file <dir>/$peer_src_ip.json, bmp_dump_refresh_time 60
     (pmbmpd's minimum). The connections stay open until the dumps are
     taken (a closed BMP session drops the router's routes).
  2. Once both daemons have read every byte (their sockets' receive and
     send queues empty in /proc/net/tcp*), flowacctd gets SIGUSR1 (dump
     now) and pmbmpd's next periodic dump (at the next full minute) is
     read.
  3. Per case: route counts per (router, peer_ip, peer distinguisher,
     RIB: is_in/is_out/is_loc and is_post, afi, safi) are compared and
     printed as a table; then every route line field by field (key order
     too), ignoring seq, timestamp and bmp_router_port.

Cases: the 20 captures one by one, plus "primed" cases replaying a Peer Up
capture before Route Monitoring ones of the same router session (as the
akvorado and pmacct test suites feed them): pmbmpd drops Route Monitoring
for a peer it saw no Peer Up for, flowacctd keeps it (BM-4), so the
primed cases are where those routes are compared.

Documented differences (docs/pmacct-parity.md §14, "BMP dumps vs pmbmpd",
D1-D6 in DIFFERENCES below) are decided from the replayed stream itself
(StreamFacts: Peer Up order, ADD-PATH capabilities, NLRI and AS_PATH
encodings) and the two lines, asserted and counted per case; anything
else is a mismatch.

  bmp_dump_test.py --flowacctd BIN [--pmbmpd BIN] [--corpus DIR]
                   [--case NAME ...] [--keep] [--max-diffs N]

Exit status: 0 parity, 1 mismatch or failure, 2 usage error, 77 skipped
(pmbmpd or the corpus missing). Debian's /usr/bin/python3, stdlib only.
"""

import argparse
import collections
import datetime
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "support"))
import bmp_replay  # noqa: E402
from bmp_replay import DEFAULT_CORPUS, SKIP, StreamFacts  # noqa: E402
import daemon_harness  # noqa: E402  (bmp_replay put it on the path)

Case = collections.namedtuple("Case", "name parts")


def _single(name):
    return Case(name[:-len(".pcap")], ("bmp/" + name,))


CAPTURES = [
    "akvorado-bmp-eor.pcap",
    "akvorado-bmp-init.pcap",
    "akvorado-bmp-l3vpn.pcap",
    "akvorado-bmp-peer-down.pcap",
    "akvorado-bmp-peer-up.pcap",
    "akvorado-bmp-peers-up.pcap",
    "akvorado-bmp-reach-addpath.pcap",
    "akvorado-bmp-reach-unknown-family.pcap",
    "akvorado-bmp-reach-vpls.pcap",
    "akvorado-bmp-reach.pcap",
    "akvorado-bmp-terminate.pcap",
    "akvorado-bmp-unreach.pcap",
    "pmacct-200-bmp-huawei-locrib-instance.pcap",
    "pmacct-201-bmp-cisco-rd-instance.pcap",
    "pmacct-202-bmp-cisco-huawei-multiple-sources-02.pcap",
    "pmacct-204-bmp-cisco-peer-down.pcap",
    "pmacct-205-bmp-6wind-frr-peer-down.pcap",
    "pmacct-208-bmp-mem-leak-test-peer-up.pcap",
    "pmacct-208-bmp-mem-leak-test-route-monitoring.pcap",
    "pmacct-208-bmp-mem-leak-test-stats.pcap",
]

# Streams of several captures joined per router session (same source
# address and port in the captures): the akvorado captures all come from
# one session of one router whose Peer Ups are in bmp-peers-up.pcap; the
# pmacct 208 captures are one run of 9 sources split by message type.
PRIMED = [
    Case("primed-akvorado-reach", ("bmp/akvorado-bmp-peers-up.pcap",
                                   "bmp/akvorado-bmp-reach.pcap")),
    Case("primed-akvorado-reach-unreach", (
        "bmp/akvorado-bmp-peers-up.pcap", "bmp/akvorado-bmp-reach.pcap",
        "bmp/akvorado-bmp-unreach.pcap")),
    Case("primed-akvorado-reach-addpath", (
        "bmp/akvorado-bmp-peers-up.pcap",
        "bmp/akvorado-bmp-reach-addpath.pcap")),
    Case("primed-akvorado-reach-vpls", (
        "bmp/akvorado-bmp-peers-up.pcap",
        "bmp/akvorado-bmp-reach-vpls.pcap")),
    Case("primed-akvorado-reach-unknown-family", (
        "bmp/akvorado-bmp-peers-up.pcap",
        "bmp/akvorado-bmp-reach-unknown-family.pcap")),
    Case("primed-akvorado-eor", ("bmp/akvorado-bmp-peers-up.pcap",
                                 "bmp/akvorado-bmp-eor.pcap")),
    Case("primed-208-route-monitoring", (
        "bmp/pmacct-208-bmp-mem-leak-test-peer-up.pcap",
        "bmp/pmacct-208-bmp-mem-leak-test-route-monitoring.pcap")),
]

CASES = [_single(c) for c in CAPTURES] + PRIMED

# Fields that differ on every run or every connection.
IGNORED = {"seq", "timestamp", "bmp_router_port"}

# --- Replay ---------------------------------------------------------------

class Router:
    """One replayed stream: its capture identity and loopback address."""

    def __init__(self, case, index, src, payload):
        self.case, self.src, self.payload = case, src, payload
        self.address = "127.10.%d.%d" % (CASES.index(case), index + 1)
        self.facts = StreamFacts(payload)
        self.no_peer_up = self.facts.no_peer_up
        self.sockets = []

    def connect(self, port):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((self.address, 0))
        s.settimeout(20)
        s.connect(("127.0.0.1", port))
        self.sockets.append(s)
        return s


def case_routers(case, corpus):
    """The routers of a case: the collector-bound streams of its captures,
    joined per source endpoint in capture order."""
    joined = collections.OrderedDict()
    for rel in case.parts:
        for src, _, payload in bmp_replay.collector_streams(
                os.path.join(corpus, rel)):
            joined[src] = joined.get(src, b"") + payload
    return [Router(case, i, src, payload)
            for i, (src, payload) in enumerate(joined.items())]


def tcp_queues(port):
    """(sockets, bytes queued) over the established TCP sockets from or to
    `port` on this host (/proc/net/tcp, tcp6): tx_queue + rx_queue."""
    n = queued = 0
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    cols = line.split()
                    lport = int(cols[1].rsplit(":", 1)[1], 16)
                    rport = int(cols[2].rsplit(":", 1)[1], 16)
                    if cols[3] != "01" or port not in (lport, rport):
                        continue
                    tx, rx = (int(x, 16) for x in cols[4].split(":"))
                    n += 1
                    queued += tx + rx
        except FileNotFoundError:
            pass
    return n, queued


def wait_drained(ports, timeout):
    """Until no established connection from or to `ports` has anything
    queued either way (all read by the daemon), three times in a row. (A
    daemon may have closed some: a Termination message, lost framing.)"""
    deadline = time.monotonic() + timeout
    calm = 0
    while time.monotonic() < deadline:
        states = [tcp_queues(p) for p in ports]
        done = all(q == 0 for n, q in states)
        calm = calm + 1 if done else 0
        if calm >= 3:
            return
        time.sleep(0.2)
    raise RuntimeError("daemons still reading after %ds: %s" %
                       (timeout, [tcp_queues(p) for p in ports]))


# --- Daemons --------------------------------------------------------------

def bmp_config(port, dump_dir):
    return ("bmp_daemon: true\n"
            "bmp_daemon_ip: 127.0.0.1\n"
            "bmp_daemon_port: %d\n"
            "bmp_daemon_max_peers: 250\n"
            "bmp_dump_file: %s/$peer_src_ip.json\n"
            "bmp_dump_refresh_time: 60\n" % (port, dump_dir))


def read_dump_dir(path):
    """{router address: [line as list of (key, value)]} of a dump dir."""
    out = {}
    for name in sorted(os.listdir(path)):
        if not name.endswith(".json") or ".tmp" in name:
            continue
        with open(os.path.join(path, name)) as f:
            lines = [json.loads(x, object_pairs_hook=list)
                     for x in f if x.strip()]
        if not lines:
            continue
        router = dict(lines[0]).get("bmp_router")
        out[router] = lines
    return out


class Pmbmpd(bmp_replay.Pmbmpd):
    """pmbmpd 1.7.7 with periodic dumps (no dump on demand: the next one
    at a full minute is taken)."""

    LOG_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)Z ")

    def __init__(self, binary, workdir):
        self.dumps = os.path.join(workdir, "pmbmpd", "dumps")
        os.makedirs(self.dumps)
        super().__init__(binary, os.path.join(workdir, "pmbmpd"),
                         lambda port: bmp_config(port, self.dumps),
                         env=dict(os.environ, TZ="UTC"))

    def dump_after(self, when, timeout=75):
        """The first complete dump started at or after `when` (epoch s)."""
        threshold = int(when) + 1

        def done():
            start = None
            for line in self.log().splitlines():
                m = self.LOG_TIME.match(line)
                if not m:
                    continue
                t = datetime.datetime.strptime(
                    m.group(1), "%Y-%m-%dT%H:%M:%S").replace(
                        tzinfo=datetime.timezone.utc).timestamp()
                if "Dumping BMP tables - START" in line and t >= threshold:
                    start = t
                elif "Dumping BMP tables - END" in line and start:
                    return True
            return False
        daemon_harness.wait_for(done, timeout, "a pmbmpd dump")
        return read_dump_dir(self.dumps)

    def discarded(self):
        """{(router, peer address)} pmbmpd logged as Route Monitoring
        without Peer Up."""
        return set(re.findall(
            r"\[([0-9.]+)\] \[route monitor\] packet discarded: missing "
            r"peer up BMP message for peer (\S+)", self.log()))


class Flowacctd:
    """flowacctd with bmp_daemon; SIGUSR1 writes the dumps at once."""

    def __init__(self, binary, workdir):
        self.dir = os.path.join(workdir, "flowacctd")
        self.dumps = os.path.join(self.dir, "dumps")
        os.makedirs(self.dumps)
        self.port = daemon_harness.free_tcp_port()
        # Its flow listener on a free port: not the default 2100, which
        # another daemon on this host may hold.
        self.daemon = daemon_harness.Daemon(
            binary, self.dir, bmp_config(self.port, self.dumps) +
            "timestamps_utc: true\nnfacctd_ip: 127.0.0.1\n"
            "nfacctd_port: %d\n" % daemon_harness.free_udp_port())
        self.daemon.wait_log("component=bmp msg=listening")

    def dump(self):
        before = self.daemon.log().count('msg="bmp dump written"')
        self.daemon.signal(signal.SIGUSR1)
        daemon_harness.wait_for(
            lambda: self.daemon.log().count('msg="bmp dump written"') >
            before, 30, "a flowacctd BMP dump")
        return read_dump_dir(self.dumps)

    def stop(self):
        return self.daemon.stop()


# --- Comparison -----------------------------------------------------------

def is_route(line):
    return dict(line).get("bmp_msg_type") == "route_monitor"


def rib_of(d):
    if d.get("is_loc"):
        return "loc"
    side = "out" if d.get("is_out") else "in"
    return "%s-%s" % (side, "post" if d.get("is_post") else "pre")


def peer_rd(line):
    """The peer distinguisher of a route line: "rd" with rd_origin "bmp"."""
    pairs = list(line)
    for i, (k, v) in enumerate(pairs):
        if k == "rd" and i + 1 < len(pairs) and pairs[i + 1] == (
                "rd_origin", "bmp"):
            return v
    return ""


def route_rd(line):
    pairs = list(line)
    for i, (k, v) in enumerate(pairs):
        if k == "rd" and not (i + 1 < len(pairs) and
                              pairs[i + 1] == ("rd_origin", "bmp")):
            return v
    return ""


def view_key(line):
    d = dict(line)
    return (d.get("peer_ip"), peer_rd(line), rib_of(d), d.get("afi"),
            d.get("safi"))


def route_key(line):
    d = dict(line)
    return view_key(line) + (d.get("ip_prefix"), route_rd(line),
                             d.get("as_path_id", 0))


def strip(line):
    return [(k, v) for k, v in line if k not in IGNORED and
            k != "bmp_router"]


# Documented differences (docs/pmacct-parity.md §14, "BMP dumps vs
# pmbmpd"). Each is decided from the replayed stream (StreamFacts) and the
# two lines, never from a daemon's word alone, and counted per case.
DIFFERENCES = {
    "D1": "Route Monitoring of a peer without Peer Up: pmbmpd discards it, "
          "flowacctd keeps it (BM-4)",
    "D2": "IPv4 route with an IPv6 next hop (RFC 8950): pmbmpd 1.7.7 writes "
          "bgp_nexthop \"\"",
    "D3": "Loc-RIB instances: pmbmpd 1.7.7 decodes every instance with the "
          "first Loc-RIB Peer Up's ADD-PATH (peers told apart by address "
          "only, all 0.0.0.0)",
    "D4": "Loc-RIB NLRI carrying path ids its Peer Ups do not declare: "
          "neither daemon can read them",
    "D5": "AS_PATH not 4-octet in a 4-octet message: flowacctd withdraws "
          "the route (RFC 7606 §7.2), pmbmpd keeps it with as_path \"\"",
    "D6": "pmbmpd's dump also lists the router's init / peer_up / "
          "peer_down / stats messages since its previous dump; flowacctd's "
          "has routes only",
}


class Result:
    def __init__(self, case):
        self.case = case
        self.counts = collections.Counter()  # view + (daemon,) -> routes
        self.pm_routes = self.fa_routes = 0
        self.excused = collections.Counter()  # (difference, daemon) -> n
        self.problems = []
        self.field_diffs = collections.Counter()
        self.examples = {}
        self.events = collections.Counter()  # (daemon, bmp_msg_type)

    def mismatch(self):
        return bool(self.problems or self.field_diffs or any(
            self.counts[k[:-1] + (0,)] != self.counts[k[:-1] + (1,)]
            for k in self.counts))


def excused_view(facts, line):
    """D3 or D4 when the route line's Loc-RIB view is one of them."""
    d = dict(line)
    if not d.get("is_loc"):
        return None
    return facts.loc_rib_difference(peer_rd(line), d.get("afi"),
                                    d.get("safi"))


def d2_next_hop(pm_value, fa_value, afi):
    try:
        return (pm_value == "" and afi == 1 and
                ipaddress.ip_address(fa_value).version == 6)
    except ValueError:
        return False


def compare_case(case, routers, pm_dump, fa_dump, discarded):
    r = Result(case)
    for router in routers:
        name = "%s:%d" % (router.src.address, router.src.port)
        facts = router.facts
        pm = pm_dump.get(router.address)
        fa = fa_dump.get(router.address)
        if pm is None or fa is None:
            # Gone from both: the router ended its session (Termination,
            # RFC 7854 §4.5), so its routes went with it.
            terminated = any(
                t == bmp_replay.BMP_TERMINATION
                for t, _ in bmp_replay.bmp_messages(router.payload))
            if pm is not None or fa is not None or not terminated:
                r.problems.append("%s: dump from %s only" % (
                    name, "pmbmpd" if pm is not None else "flowacctd"
                    if fa is not None else "neither daemon"))
            continue
        for who, lines in (("pmbmpd", pm), ("flowacctd", fa)):
            for x in lines:
                d = dict(x)
                if d.get("event_type") == "dump" and not is_route(x):
                    r.events[(who, d.get("bmp_msg_type"))] += 1
        pm_routes = [x for x in pm if is_route(x)]
        fa_routes = [x for x in fa if is_route(x)]
        r.pm_routes += len(pm_routes)
        r.fa_routes += len(fa_routes)
        # D1: pmbmpd discards the Route Monitoring of a peer it got no Peer
        # Up for (and logs it, once per router), flowacctd keeps it (BM-4).
        logged = {p for (rt, p) in discarded if rt == router.address}
        for peer in sorted(logged - router.no_peer_up):
            r.problems.append("%s: pmbmpd discarded peer %s as without Peer "
                              "Up, but the stream has its Peer Up first"
                              % (name, peer))
        if router.no_peer_up and not logged:
            r.problems.append("%s: Route Monitoring without Peer Up (%s) "
                              "but pmbmpd logged no discard" %
                              (name, " ".join(sorted(router.no_peer_up))))
        pm_peers = {dict(x).get("peer_ip") for x in pm_routes}
        dropped = router.no_peer_up - pm_peers

        def keep(lines, who):
            kept = []
            for x in lines:
                why = ("D1" if dict(x).get("peer_ip") in dropped
                       else excused_view(facts, x))
                if why:
                    r.excused[(why, who)] += 1
                else:
                    kept.append(x)
            return kept
        pm_routes, fa_routes = keep(pm_routes, 0), keep(fa_routes, 1)
        pm_by = collections.defaultdict(list)
        for x in pm_routes:
            pm_by[route_key(x)].append(x)
        fa_by = collections.defaultdict(list)
        for x in fa_routes:
            fa_by[route_key(x)].append(x)
        for key in sorted(set(pm_by) | set(fa_by), key=repr):
            a, b = pm_by.get(key, []), fa_by.get(key, [])
            if len(a) > len(b) and not b and all(
                    dict(x).get("as_path") == "" for x in a) and (
                    key[0], key[1]) in facts.bad_as_path:
                r.excused[("D5", 0)] += len(a)  # D5
                continue
            for x in a:
                r.counts[(name,) + view_key(x) + (0,)] += 1
            for x in b:
                r.counts[(name,) + view_key(x) + (1,)] += 1
            if len(a) != len(b):
                what = "<route %s>" % ("missing" if len(a) > len(b)
                                       else "extra")
                r.field_diffs[what] += 1
                r.examples.setdefault(what, "%s %s pmbmpd=%d flowacctd=%d"
                                      % (name, key, len(a), len(b)))
                continue
            for x, y in zip(a, b):
                sx, sy = strip(x), strip(y)
                dx, dy = dict(sx), dict(sy)
                if d2_next_hop(dx.get("bgp_nexthop"), dy.get("bgp_nexthop"),
                               dx.get("afi")):
                    r.excused[("D2", 0)] += 1
                    dy["bgp_nexthop"] = dx["bgp_nexthop"]
                for k in list(dx) + [k for k in dy if k not in dx]:
                    if dx.get(k, "<absent>") != dy.get(k, "<absent>"):
                        r.field_diffs[k] += 1
                        r.examples.setdefault(
                            k, "%s %s: pmbmpd=%r flowacctd=%r" % (
                                name, key[5], dx.get(k, "<absent>"),
                                dy.get(k, "<absent>")))
                if [k for k, _ in sx] != [k for k, _ in sy]:
                    r.field_diffs["<key order>"] += 1
                    r.examples.setdefault("<key order>", "%s\n  %s\n  %s" % (
                        name, [k for k, _ in sx], [k for k, _ in sy]))
        # D6: flowacctd writes no event lines; pmbmpd's are the router's
        # non-route messages only.
        if any(who == "flowacctd" for who, _ in r.events):
            r.problems.append("%s: flowacctd dump has non-route lines" % name)
        odd = {t for who, t in r.events if who == "pmbmpd"} - {
            "init", "term", "peer_up", "peer_down", "stats"}
        if odd:
            r.problems.append("%s: pmbmpd dump lines of type %s" %
                              (name, sorted(odd)))
    return r


def print_table(results):
    print("\nroutes per case: all route lines each daemon dumped; then "
          "those set aside\nby a documented difference (pm/fa: whose "
          "lines), and the pmbmpd event lines (D6)")
    w = max(len(r.case.name) for r in results)
    print("  %-*s %7s %9s  %-32s %6s  %s" % (
        w, "case", "pmbmpd", "flowacctd", "documented differences",
        "events", "verdict"))
    for r in results:
        diffs = " ".join(
            "%s %s=%d" % (d, "fa" if who else "pm", n)
            for (d, who), n in sorted(r.excused.items()))
        events = sum(n for (who, _), n in r.events.items()
                     if who == "pmbmpd")
        print("  %-*s %7d %9d  %-32s %6d  %s" % (
            w, r.case.name, r.pm_routes, r.fa_routes, diffs or "-", events,
            "MISMATCH" if r.mismatch() else "ok"))
    print("\n".join("  %s: %s" % kv for kv in DIFFERENCES.items()))


def print_details(r, max_diffs):
    views = sorted({k[:-1] for k in r.counts}, key=repr)
    shown = 0
    for v in views:
        a, b = r.counts[v + (0,)], r.counts[v + (1,)]
        if a != b and shown < max_diffs:
            shown += 1
            print("    view %s: pmbmpd %d flowacctd %d" % (v, a, b))
    for p in r.problems:
        print("    " + p)
    for k, n in r.field_diffs.most_common(max_diffs):
        print("    field %s: %d lines; e.g. %s" % (k, n, r.examples[k]))


def run(args, workdir):
    routers_by_case = collections.OrderedDict()
    for case in args.cases:
        routers_by_case[case] = case_routers(case, args.corpus)
    routers = [rt for rs in routers_by_case.values() for rt in rs]
    pm = Pmbmpd(args.pmbmpd, workdir)
    fa = None
    try:
        fa = Flowacctd(args.flowacctd, workdir)
        t0 = time.monotonic()
        for rt in routers:
            for port in (pm.port, fa.port):
                rt.connect(port).sendall(rt.payload)
        wait_drained((pm.port, fa.port), 60)
        drained = time.time()
        print("replayed %d streams of %d cases to both daemons in %.1fs"
              % (len(routers), len(routers_by_case), time.monotonic() - t0))
        # Read is not yet applied: a second for the last messages (pmbmpd's
        # dump must start at least that late too).
        time.sleep(1)
        fa_dump = fa.dump()
        pm_dump = pm.dump_after(drained + 1)
        print("dumps taken %.1fs after the replay" % (time.time() - drained))
        discarded = pm.discarded()
    finally:
        for rt in routers:
            for s in rt.sockets:
                s.close()
        pm.stop()
        rc = fa.stop() if fa else 0
    results = [compare_case(case, rs, pm_dump, fa_dump, discarded)
               for case, rs in routers_by_case.items()]
    print_table(results)
    failed = False
    for r in results:
        if r.mismatch():
            failed = True
            print("\n  %s:" % r.case.name)
            print_details(r, args.max_diffs)
    if rc != 0:
        print("flowacctd exit code %s" % rc)
        failed = True
    return not failed


def main():
    ap = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--flowacctd", required=True, help="daemon under test")
    ap.add_argument("--pmbmpd", default=None)
    ap.add_argument("--corpus", default=DEFAULT_CORPUS)
    ap.add_argument("--case", action="append", default=[])
    ap.add_argument("--max-diffs", type=int, default=10)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    if args.pmbmpd is None:
        args.pmbmpd = shutil.which("pmbmpd") or "/usr/sbin/pmbmpd"
    if not os.access(args.pmbmpd, os.X_OK):
        print("SKIP: pmbmpd (pmacct) not installed (%s)" % args.pmbmpd)
        return SKIP
    if not os.path.isdir(os.path.join(args.corpus, "bmp")):
        print("SKIP: corpus not found at %s" % args.corpus)
        return SKIP
    if not os.access(args.flowacctd, os.X_OK):
        print("error: %s is not executable" % args.flowacctd)
        return 2
    listed = sorted(n for n in os.listdir(os.path.join(args.corpus, "bmp"))
                    if n.endswith(".pcap"))
    if listed != sorted(CAPTURES):
        print("FAIL: the corpus's BMP captures are not the ones this test "
              "replays: %s" % sorted(set(listed) ^ set(CAPTURES)))
        return 1
    args.cases = [c for c in CASES if not args.case or c.name in args.case]
    if not args.cases:
        print("error: no such case; cases: %s"
              % " ".join(c.name for c in CASES))
        return 2
    workdir = tempfile.mkdtemp(prefix="flowacct-bmpdump-")
    start = time.monotonic()
    try:
        ok = run(args, workdir)
    except (RuntimeError, AssertionError, OSError) as e:
        print("FAIL: %s" % e)
        ok = False
    print()
    return daemon_harness.finish(ok, workdir, args.keep,
                                 time.monotonic() - start)


if __name__ == "__main__":
    sys.exit(main())
