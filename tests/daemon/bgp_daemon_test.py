#!/usr/bin/python3
"""flowacctd's bgp_daemon against real BGP speakers (tests/support/bgp_peers.py).

    bgp_daemon_test.py --flowacctd PATH [--keep]

Scenario "rib" (one flowacctd, bgp_daemon on 127.0.0.1:<free port>, table
dumps written on SIGUSR1, message log on):
  - FRR (127.0.0.2), BIRD (127.0.0.3), GoBGP (127.0.0.4) and ExaBGP
    (127.0.0.5) connect (iBGP: flowacctd mirrors their AS, as nfacctd) and
    announce IPv4 and IPv6 routes with AS paths, communities, large
    communities, MED, LOCAL_PREF and origins; BIRD, GoBGP and ExaBGP send
    two ADD-PATH paths of one prefix.
  - Each session establishes; each peer's dump equals the peer's
    advertised() set (both ADD-PATH paths present).
  - Withdrawals show up in the next dump.
  - ExaBGP stops (no graceful restart): it is gone from the next dump and
    the message log has its "delete" lines and log_close.
  - A GoBGP peer with graceful restart (127.0.0.6) is killed: its routes
    stay in the dump (stale); it comes back announcing one route fewer:
    after its End-of-RIB the dump equals the new set (the stale one is
    swept).
Scenario "refuse" (bgp_daemon_max_peers: 1, an allow file): a second
  allowed peer is refused (max peers), a peer not in the allow file is
  refused; flowacctd logs both.

Exit 0 pass, 1 fail, 77 skip (a BGP implementation is missing).
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "support"))
import bgp_peers  # noqa: E402
from bgp_peers import (BirdPeer, ExabgpPeer, FrrPeer, GobgpPeer, Path,  # noqa
                       Route, free_port, path_keys, sorted_paths)

ORIGIN = {"i": "igp", "e": "egp", "u": "incomplete"}


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


def wait_for(pred, timeout, what, step=0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    raise Fail("timed out (%ss): %s" % (timeout, what))


class Flowacctd:
    """flowacctd with bgp_daemon on 127.0.0.1:<free port>; `extra` is
    appended to its config. With metrics=True, /metrics is served on
    127.0.0.1:<free port> (metrics() fetches it)."""

    def __init__(self, binary, workdir, extra="", metrics=False):
        self.dir = workdir
        self.port = free_port()
        self.metrics_port = free_port() if metrics else None
        self.dumps = os.path.join(workdir, "dumps")
        self.log_path = os.path.join(workdir, "flowacctd.log")
        self.conf = os.path.join(workdir, "flowacctd.conf")
        with open(self.conf, "w") as f:
            f.write(
                "nfacctd_ip: 127.0.0.1\n"
                "nfacctd_port: %d\n"
                "plugins: print[p]\n"
                "print_output_file[p]: %s/flows.txt\n"
                "flowacct_metrics_listen: %s\n"
                "bgp_daemon: true\n"
                "bgp_daemon_ip: 127.0.0.1\n"
                "bgp_daemon_port: %d\n"
                "bgp_table_dump_file: %s/bgp-$peer_src_ip.txt\n"
                "bgp_table_dump_refresh_time: 3600\n"
                "bgp_daemon_msglog_file: %s/msglog-$peer_src_ip.txt\n"
                "bgp_daemon_msglog_output: json\n"
                "logfile: %s\n%s" % (free_port(), workdir, (
                    "127.0.0.1:%d" % self.metrics_port if metrics
                    else "false"), self.port,
                                     self.dumps, workdir, self.log_path,
                                     extra))
        self.proc = subprocess.Popen([binary, "-f", self.conf],
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self.last_seq = 0
        wait_for(lambda: "component=bgp msg=listening" in self.log(), 10,
                 "flowacctd listening for BGP")

    def log(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def dump(self, timeout=15):
        """SIGUSR1, then {peer address: [Path]} of the peers in that dump."""
        before = self.log().count("msg=\"table dump written\"")
        self.proc.send_signal(signal.SIGUSR1)
        wait_for(lambda: self.log().count("msg=\"table dump written\"") >
                 before, timeout, "a table dump")
        out = {}
        newest = self.last_seq
        for name in os.listdir(self.dumps) if os.path.isdir(self.dumps) else []:
            if not name.startswith("bgp-") or ".tmp" in name:
                continue
            with open(os.path.join(self.dumps, name)) as f:
                lines = [json.loads(x) for x in f if x.strip()]
            check(lines and lines[0]["event_type"] == "dump_init" and
                  lines[-1]["event_type"] == "dump_close",
                  "%s: dump_init ... dump_close" % name)
            seq = lines[0]["seq"]
            if seq <= self.last_seq:
                continue  # written by an earlier dump: the peer is gone
            newest = max(newest, seq)
            peer = lines[0]["peer_ip_src"]
            routes = [to_path(x) for x in lines[1:-1]]
            check(lines[-1]["entries"] == len(routes),
                  "%s: dump_close entries" % name)
            for x in lines:
                check(x["seq"] == seq and x["peer_ip_src"] == peer,
                      "%s: one seq and peer per dump" % name)
            out[peer] = routes
        self.last_seq = newest
        return out

    def metrics(self):
        """/metrics as {"name{labels}": value}."""
        with urllib.request.urlopen(
                "http://127.0.0.1:%d/metrics" % self.metrics_port,
                timeout=5) as r:
            text = r.read().decode()
        out = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                k, _, v = line.rpartition(" ")
                out[k] = float(v)
        return out

    def msglog(self, peer):
        path = os.path.join(self.dir, "msglog-%s.txt" % peer.replace(".", "_"))
        with open(path) as f:
            return [json.loads(x) for x in f if x.strip()]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def to_path(x):
    """A dump line as a bgp_peers.Path (what the peer says it sent)."""
    check(x["event_type"] == "dump", "event_type dump")
    for k in ("timestamp", "peer_tcp_port", "afi", "safi", "ip_prefix",
              "bgp_nexthop", "as_path", "origin"):
        check(k in x, "dump line has %s: %s" % (k, x))
    def comms(key):
        return tuple(sorted(x[key].split())) if key in x else ()
    return Path(prefix=x["ip_prefix"], next_hop=x["bgp_nexthop"],
                as_path=tuple(int(a) for a in x["as_path"].split()),
                communities=comms("comms"),
                large_communities=comms("lcomms"),
                med=x.get("med"), local_pref=x.get("local_pref"),
                origin=ORIGIN[x["origin"]], path_id=x.get("as_path_id"))


def norm(paths):
    """MED and LOCAL_PREF 0 compared as absent: some daemons report a 0
    they do not send (the dumps write what was received)."""
    out = []
    for p in paths:
        k = p.key()
        if k.med == 0:
            k = Path(**{**k.__dict__, "med": None})
        if k.local_pref == 0:
            k = Path(**{**k.__dict__, "local_pref": None})
        out.append(k)
    return sorted_paths(out)


def wait_dump_equals(fa, peers, timeout=30):
    """Dumps until every peer's routes equal its advertised() set."""
    want = {p.local_address: norm(p.advertised()) for p in peers}
    last = {}
    deadline = time.time() + timeout
    while True:
        got = fa.dump()
        last = {a: norm(got.get(a, [])) for a in want}
        if last == want:
            return got
        if time.time() > deadline:
            for a in want:
                if last[a] != want[a]:
                    raise Fail("dump of %s:\n  got  %s\n  want %s" %
                               (a, last[a], want[a]))
        time.sleep(1)


def routes_for(n, add_path=False, ext=()):
    """IPv4 and IPv6 routes of peer 127.0.0.n with every attribute."""
    r = [
        Route("10.%d.0.0/24" % n, "192.0.2.%d" % n, as_path=(64600 + n, 64700),
              communities=("%d:1" % (65000 + n), "%d:2" % (65000 + n)),
              large_communities=("%d:1:2" % (65000 + n),), med=10 + n,
              local_pref=200),
        Route("10.%d.1.0/24" % n, "192.0.2.%d" % n, as_path=(64600 + n,),
              origin="incomplete", local_pref=100),
        Route("10.%d.2.0/23" % n, "192.0.2.%d" % n, as_path=(64600 + n, 64800),
              med=5, local_pref=150, origin="egp"),
        Route("2001:db8:%d::/48" % n, "2001:db8::%d" % n,
              as_path=(64600 + n,), communities=("%d:3" % (65000 + n),),
              large_communities=("%d:3:4" % (65000 + n),), med=7,
              local_pref=120),
        Route("2001:db8:%d:1::/64" % n, "2001:db8::%d" % n,
              as_path=(64600 + n, 64900), local_pref=100),
    ]
    if add_path:
        r += [Route("10.%d.9.0/24" % n, "192.0.2.%d" % n, as_path=(64601,),
                    local_pref=100, path_id=1),
              Route("10.%d.9.0/24" % n, "198.51.100.%d" % n,
                    as_path=(64602,), local_pref=100, path_id=2)]
    return r


def scenario_rib(args, workdir):
    fa = Flowacctd(args.flowacctd, workdir)
    peers = []
    try:
        common = dict(peer_address="127.0.0.1", peer_port=fa.port)
        frr = FrrPeer("127.0.0.2", 65002, routes=routes_for(2), **common)
        bird = BirdPeer("127.0.0.3", 65003, add_path_send=True,
                        routes=routes_for(3, add_path=True), **common)
        gobgp = GobgpPeer("127.0.0.4", 65004, add_path_send=True,
                          routes=routes_for(4, add_path=True), **common)
        exa = ExabgpPeer("127.0.0.5", 65005, add_path_send=True,
                         routes=routes_for(5, add_path=True), **common)
        peers = [frr, bird, gobgp, exa]
        for p in peers:
            p.start()
        for p in peers:
            p.wait_established(30)
            check(("msg=\"peer up\" peer=%s:" % p.local_address) in fa.log(),
                  "flowacctd logs peer up for %s" % p.local_address)
        print("sessions established")

        got = wait_dump_equals(fa, peers)
        for p, n in ((bird, 3), (gobgp, 4), (exa, 5)):
            two = [x for x in got[p.local_address]
                   if x.prefix == "10.%d.9.0/24" % n]
            check(len(two) == 2 and len({x.path_id for x in two}) == 2,
                  "%s: two ADD-PATH paths of 10.%d.9.0/24: %s" %
                  (p.name, n, two))
        print("dumps equal advertised() for FRR, BIRD, GoBGP, ExaBGP "
              "(ADD-PATH: two paths each from BIRD, GoBGP, ExaBGP)")

        # Withdrawals.
        for p, n in ((frr, 2), (bird, 3), (gobgp, 4), (exa, 5)):
            gone = [r for r in p.routes
                    if r.prefix in ("10.%d.1.0/24" % n, "2001:db8:%d:1::/64" % n)]
            p.withdraw(gone)
        got = wait_dump_equals(fa, peers)
        for n in (2, 3, 4, 5):
            check(not any(x.prefix == "10.%d.1.0/24" % n
                          for x in got["127.0.0.%d" % n]),
                  "withdrawn 10.%d.1.0/24 not in the dump" % n)
        print("withdrawals shown in the next dump")

        # ExaBGP (no graceful restart capability) stops: gone from the dump.
        # (Not FRR: bgpd advertises graceful restart by default and closes
        # without a NOTIFICATION on SIGTERM, so its routes are rightly kept
        # stale for its restart time.)
        exa.stop(graceful=True)
        peers.remove(exa)
        wait_for(lambda: "msg=\"peer down\" peer=127.0.0.5:" in fa.log(), 15,
                 "peer down logged for ExaBGP")
        check("routes=dropped" in fa.log(), "ExaBGP's routes dropped")
        got = wait_dump_equals(fa, peers)
        check("127.0.0.5" not in got, "ExaBGP gone from the dump")
        log = fa.msglog("127.0.0.5")
        types = [x.get("log_type", x["event_type"]) for x in log]
        check(types[0] == "log_init" and types[-1] == "log_close",
              "ExaBGP msglog: log_init ... log_close: %s" % types)
        check("update" in types and "withdraw" in types and
              "delete" in types, "ExaBGP msglog has update, withdraw, delete")
        seqs = [x["seq"] for x in log]
        check(seqs == sorted(seqs) and len(set(seqs)) == len(seqs),
              "msglog seq increases")
        print("ExaBGP stopped: gone from the dump; msglog update/withdraw/"
              "delete/log_close")

        # Graceful restart (GoBGP, its own peer).
        gr_routes = routes_for(6)
        gr = GobgpPeer("127.0.0.6", 65006, graceful_restart=True,
                       routes=gr_routes, **common)
        peers.append(gr)
        gr.start()
        gr.wait_established(30)
        wait_dump_equals(fa, peers)
        want_before = norm(gr.advertised())
        gr.stop(graceful=False)  # SIGKILL: no NOTIFICATION
        wait_for(lambda: "peer=127.0.0.6" in fa.log() and
                 "routes=\"kept stale" in fa.log(), 15,
                 "GoBGP down with routes kept stale")
        got = fa.dump()
        check(norm(got.get("127.0.0.6", [])) == want_before,
              "GoBGP's routes survive its restart as stale")
        # It comes back announcing one route fewer.
        gr.routes = [r for r in gr.routes if r.prefix != "10.6.2.0/23"]
        gr.start(restarting=True)
        gr.wait_established(30)
        wait_for(lambda: "msg=\"stale routes swept\" peer=127.0.0.6" in
                 fa.log(), 40, "stale routes swept after End-of-RIB")
        got = wait_dump_equals(fa, peers)
        check(not any(x.prefix == "10.6.2.0/23" for x in got["127.0.0.6"]),
              "the route not re-announced was swept")
        log = fa.msglog("127.0.0.6")
        eor = [x for x in log if x.get("log_type") == "end-of-rib"]
        check(eor, "msglog has end-of-rib lines for the restarted peer")
        # The swept route gets its "delete" line (none when the session
        # dropped: the routes were kept), after the End-of-RIB.
        deletes = [(i, x) for i, x in enumerate(log)
                   if x.get("log_type") == "delete"]
        check([x["ip_prefix"] for _, x in deletes] == ["10.6.2.0/23"],
              "msglog deletes the swept route only: %s" % deletes)
        back = max(i for i, x in enumerate(log)
                   if x["event_type"] == "log_init")
        check(any(x.get("log_type") == "end-of-rib"
                  for x in log[back:deletes[0][0]]) and
              deletes[0][1].get("as_path") == "64606 64800",
              "the delete line follows the restarted session's End-of-RIB, "
              "with the route's attributes: %s" % deletes[0][1])
        print("graceful restart: routes kept stale, swept after End-of-RIB "
              "(msglog: delete)")
    finally:
        for p in peers:
            try:
                p.close()
            except Exception as e:  # noqa: BLE001
                print("closing %s: %s" % (p.name, e))
        rc = fa.stop()
    check(rc == 0, "flowacctd exit code %s" % rc)


def scenario_refuse(args, workdir):
    allow = os.path.join(workdir, "allow.txt")
    with open(allow, "w") as f:
        f.write("127.0.0.10\n127.0.0.11\n")
    fa = Flowacctd(args.flowacctd, workdir,
                   "bgp_daemon_max_peers: 1\nbgp_daemon_allow_file: %s\n" %
                   allow, metrics=True)
    peers = []
    try:
        common = dict(peer_address="127.0.0.1", peer_port=fa.port)
        first = GobgpPeer("127.0.0.10", 65010, routes=routes_for(10)[:1],
                          **common)
        peers.append(first)
        first.start()
        first.wait_established(30)
        extra = GobgpPeer("127.0.0.11", 65011, **common)
        denied = GobgpPeer("127.0.0.12", 65012, **common)
        peers += [extra, denied]
        extra.start()
        denied.start()
        wait_for(lambda: "msg=\"peer rejected\" peer=127.0.0.11" in fa.log(),
                 30, "127.0.0.11 rejected (bgp_daemon_max_peers)")
        wait_for(lambda: "msg=\"peer refused by the allow file\" "
                 "peer=127.0.0.12" in fa.log(), 30,
                 "127.0.0.12 refused (bgp_daemon_allow_file)")
        time.sleep(2)
        check(not extra.established(), "127.0.0.11 not established")
        check(not denied.established(), "127.0.0.12 not established")
        check(first.established(), "127.0.0.10 still established")
        got = fa.dump()
        check(sorted(got) == ["127.0.0.10"], "only 127.0.0.10 in the dump")
        with urllib.request.urlopen(
                "http://127.0.0.1:%d/metrics" % fa.metrics_port,
                timeout=5) as r:
            text = r.read().decode()
        for line in ('flowacct_bgp_peers{state="established"} 1',
                     'flowacct_bgp_rib_prefixes{peer="127.0.0.10"} 1',
                     'flowacct_bgp_updates_total{peer="127.0.0.10"}',
                     "flowacct_bgp_rib_bytes "):
            check(line in text, "metrics have %s" % line)
        for name in ("allow_file", "max_peers"):
            v = [x for x in text.splitlines() if x.startswith(
                'flowacct_bgp_connections_refused_total{reason="%s"}' % name)]
            check(v and int(v[0].split()[-1]) >= 1,
                  "refused connections counted (%s): %s" % (name, v))
        print("max peers and allow file refuse the extra peers; metrics")
    finally:
        for p in peers:
            p.close()
        rc = fa.stop()
    check(rc == 0, "flowacctd exit code %s" % rc)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--flowacctd", required=True)
    ap.add_argument("--scenario", choices=("all", "rib", "refuse"),
                    default="all")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    have = bgp_peers.available()
    missing = [k for k, v in have.items() if not v]
    if missing:
        print("SKIP: missing %s" % ", ".join(missing))
        return 77
    workdir = tempfile.mkdtemp(prefix="flowacct-bgpd-")
    try:
        if args.scenario in ("all", "refuse"):
            d = os.path.join(workdir, "refuse")
            os.makedirs(d)
            scenario_refuse(args, d)
        if args.scenario in ("all", "rib"):
            d = os.path.join(workdir, "rib")
            os.makedirs(d)
            scenario_rib(args, d)
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
