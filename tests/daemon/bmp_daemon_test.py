#!/usr/bin/python3
"""flowacctd's bmp_daemon with a live BMP source: FRR 8.4 bgpd -M bmp.

    bmp_daemon_test.py --flowacctd PATH [--keep]

  ExaBGP (127.0.0.21, AS 65021) --BGP--> FRR bgpd (127.0.0.20, AS 65020,
  listening on a free port, bmp module) --BMP--> flowacctd (bmp_daemon on
  127.0.0.1:<free port>, /metrics)

ExaBGP announces IPv4 and IPv6 routes to FRR; FRR monitors its peer's
Adj-RIB-In (pre- and post-policy; FRR 8.4 has no Loc-RIB monitoring) and
streams BMP to flowacctd, with statistics reports every second. Checks:
  - /metrics: flowacct_bmp_routers 1 and flowacct_bmp_messages_total by
    type (init, peer_up, route_monitor, stats; peer_down later);
  - the monitored routes reach flowacctd's RIB: flowacct_bgp_rib_bytes
    grows, and, when flowacctd writes bmp_dump_file, the dump holds every
    route ExaBGP announced for the peer 127.0.0.21 (pre- and post-policy);
  - a withdrawal at ExaBGP is seen through BMP (the dump loses it);
  - ExaBGP going away: FRR sends Peer Down (counted), the peer's views
    are dropped.

Exit 0 pass, 1 fail, 77 skip (FRR or ExaBGP missing).
"""

import argparse
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "support"))
import bgp_peers  # noqa: E402
from bgp_daemon_test import Fail, Flowacctd, check, wait_for  # noqa: E402
from bgp_peers import ExabgpPeer, FrrPeer, Route, free_port  # noqa: E402

BMP_MODULE = "/usr/lib/x86_64-linux-gnu/frr/modules/bgpd_bmp.so"

ROUTES = [
    Route("10.21.0.0/24", "192.0.2.21", as_path=(64621, 64700),
          communities=("65021:1",), med=21),
    Route("10.21.1.0/24", "192.0.2.21", as_path=(64621,)),
    Route("10.21.2.0/23", "192.0.2.21", as_path=(64621, 64800),
          large_communities=("65021:1:2",)),
    Route("2001:db8:21::/48", "2001:db8::21", as_path=(64621,)),
    Route("2001:db8:21:1::/64", "2001:db8::21", as_path=(64621, 64900)),
]


def metric(fa, name):
    return {k: v for k, v in fa.metrics().items() if k.startswith(name)}


def message_counts(fa):
    out = {}
    for k, v in metric(fa, "flowacct_bmp_messages_total").items():
        m = re.search(r'type="([a-z_]+)"', k)
        if m:
            out[m.group(1)] = int(v)
    return out


class BmpDump:
    """bmp_dump_file, written by SIGUSR1 (None when flowacctd says it does
    not write it yet)."""

    def __init__(self, fa, path):
        self.fa, self.path = fa, path
        self.last_seq = 0

    def supported(self):
        return "bmp_dump_file are not written yet" not in self.fa.log()

    def read(self, timeout=15):
        before = self.fa.log().count("msg=\"bmp dump written\"")
        self.fa.proc.send_signal(signal.SIGUSR1)
        wait_for(lambda: self.fa.log().count("msg=\"bmp dump written\"") >
                 before, timeout, "a BMP dump")
        with open(self.path) as f:
            lines = [json.loads(x) for x in f if x.strip()]
        # No view left: no file is written, the old one stays.
        if not lines or lines[0]["seq"] <= self.last_seq:
            return []
        self.last_seq = lines[0]["seq"]
        return lines


def frr_path(as_path):
    """FRR 8.4 encodes route monitoring attributes as it would send them
    on the eBGP session, its own AS (65020) first: dropped here."""
    return as_path[len("65020 "):] if as_path.startswith("65020 ") \
        else as_path


def routes_in(lines, peer_ip, is_post):
    return sorted((x["ip_prefix"], x["bgp_nexthop"], frr_path(x["as_path"]))
                  for x in lines if x.get("event_type") == "dump" and
                  x.get("peer_ip") == peer_ip and
                  x.get("is_post") == is_post and not x.get("is_loc"))


def want_routes(routes):
    return sorted((r.prefix, r.next_hop,
                   " ".join(str(a) for a in (65021,) + r.as_path))
                  for r in routes)


def scenario(args, workdir):
    bmp_port = free_port()
    dump_path = os.path.join(workdir, "bmp-dump.txt")
    fa = Flowacctd(args.flowacctd, workdir,
                   "bmp_daemon: true\nbmp_daemon_ip: 127.0.0.1\n"
                   "bmp_daemon_port: %d\nbmp_dump_file: %s\n"
                   "bmp_dump_refresh_time: 3600\n" % (bmp_port, dump_path),
                   metrics=True)
    peers = []
    try:
        frr_port = free_port("127.0.0.20")
        # passive towards ExaBGP: the port is never connected to.
        frr = FrrPeer("127.0.0.20", 65020, "127.0.0.21", free_port("127.0.0.21"),
                      peer_as=65021)
        frr.listen_port = frr_port
        frr.bmp_targets = [("127.0.0.1", bmp_port)]
        exa = ExabgpPeer("127.0.0.21", 65021, "127.0.0.20", frr_port,
                         peer_as=65020, routes=ROUTES)
        peers = [frr, exa]
        rib_before = fa.metrics().get("flowacct_bgp_rib_bytes", 0)
        frr.start()
        exa.start()
        exa.wait_established(30)
        wait_for(lambda: "msg=\"router up\"" in fa.log(), 20,
                 "FRR connects to flowacctd's BMP port")
        print("ExaBGP -> FRR established; FRR streams BMP to flowacctd")

        def counted():
            c = message_counts(fa)
            # Pre- and post-policy: each route twice.
            return (c.get("init", 0) >= 1 and c.get("peer_up", 0) >= 1 and
                    c.get("route_monitor", 0) >= 2 * len(ROUTES) and
                    c.get("stats", 0) >= 1) and c
        try:
            counts = wait_for(counted, 30, "BMP message counts")
        except Fail:
            raise Fail("BMP message counts: %s" % message_counts(fa))
        check(fa.metrics().get("flowacct_bmp_routers") == 1,
              "flowacct_bmp_routers 1")
        errors = {k: v for k, v in metric(
            fa, "flowacct_bmp_errors_total").items() if v}
        check(not errors, "no BMP errors: %s" % errors)
        # BM-8: the metric is there; FRR's few routes never fill the queue.
        full = metric(fa, "flowacct_routing_receive_queue_full_total")
        check(full.get('flowacct_routing_receive_queue_full_total'
                       '{daemon="bmp"}') == 0,
              "receive queue full count 0: %s" % full)
        print("metrics: 1 router, messages %s" % counts)
        wait_for(lambda: fa.metrics().get("flowacct_bgp_rib_bytes", 0) >
                 rib_before, 10, "the RIB grows with FRR's routes")

        dump = BmpDump(fa, dump_path)
        if not dump.supported():
            print("bmp_dump_file not written by this flowacctd: RIB checked "
                  "by size only")
        else:
            want = want_routes(ROUTES)

            def dumped():
                lines = dump.read()
                return (routes_in(lines, "127.0.0.21", False) == want and
                        routes_in(lines, "127.0.0.21", True) == want and
                        lines)
            lines = wait_for(dumped, 30, "the BMP dump has ExaBGP's routes "
                             "pre- and post-policy")
            check(lines[0]["event_type"] == "dump_init" and
                  lines[-1]["event_type"] == "dump_close",
                  "dump_init ... dump_close")
            r = [x for x in lines if x.get("ip_prefix") == "10.21.0.0/24"][0]
            check(r.get("comms") == "65021:1" and r.get("med") == 21 and
                  r.get("bmp_router") == "127.0.0.1" and
                  r.get("peer_ip") == "127.0.0.21" and
                  r.get("bmp_msg_type") == "route_monitor",
                  "dump line attributes: %s" % r)
            print("BMP dump: ExaBGP's %d routes, pre- and post-policy"
                  % len(ROUTES))

            exa.withdraw([ROUTES[1], ROUTES[4]])
            rest = want_routes([x for x in ROUTES
                                if x not in (ROUTES[1], ROUTES[4])])
            wait_for(lambda: routes_in(dump.read(), "127.0.0.21", False) ==
                     rest, 30, "withdrawals reach the BMP dump")
            print("withdrawals seen through BMP")

        # ExaBGP goes: FRR reports Peer Down.
        before = message_counts(fa).get("peer_down", 0)
        exa.stop(graceful=True)
        wait_for(lambda: message_counts(fa).get("peer_down", 0) > before, 30,
                 "BMP Peer Down counted")
        if dump.supported():
            wait_for(lambda: not routes_in(dump.read(), "127.0.0.21", False),
                     15, "the peer's views dropped after Peer Down")
        print("ExaBGP stopped: Peer Down counted%s" %
              (", its views dropped" if dump.supported() else ""))
    finally:
        for p in peers:
            try:
                p.close()
            except Exception as e:  # noqa: BLE001
                print("closing %s: %s" % (p.name, e))
        rc = fa.stop()
    check(rc == 0, "flowacctd exit code %s" % rc)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--flowacctd", required=True)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    have = bgp_peers.available()
    if not (have["frr"] and have["exabgp"] and os.path.exists(BMP_MODULE)):
        print("SKIP: FRR (with its bmp module) or ExaBGP missing")
        return 77
    workdir = tempfile.mkdtemp(prefix="flowacct-bmpd-")
    try:
        scenario(args, workdir)
    except (Fail, bgp_peers.PeerError) as e:
        print("FAIL: %s" % e)
        print("work dir: %s" % workdir)
        return 1
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print("work dir: %s" % workdir)
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
