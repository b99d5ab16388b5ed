#!/usr/bin/python3
"""BGP message log and table dump parity: nfacctd 1.7.7 and flowacctd.

    bgp_msglog_test.py --flowacctd BIN [--nfacctd BIN] [--keep]

Both daemons run at once, each with bgp_daemon on 127.0.0.1:<free port>,
bgp_daemon_msglog_file <dir>/msglog-$peer_src_ip.txt (json) and
bgp_table_dump_file <dir>/dump-$peer_src_ip-%H%M.txt (refresh 60 s), TZ
UTC. Each daemon gets its own two ExaBGP peers (tests/support/bgp_peers.py;
iBGP AS 65000, which both daemons mirror), the same for both daemons:

  127.0.0.2  IPv4 and IPv6 unicast, VPN (RFC 4364) and labeled unicast
             (RFC 8277) routes with what pmacct writes in a special way:
             MED 0 and LOCAL_PREF 0, the RFC 1997 well-known communities
             (and 65535:666, 65535:65284), extended communities of every
             route target and route origin type (two-octet AS, IPv4
             address, four-octet AS), a non-transitive route target and
             types pmacct has no text for, large communities, AIGP,
             Prefix-SID, the three origins, route distinguishers of types 0
             and 1;
  127.0.0.3  ADD-PATH send (RFC 7911): paths with ids 0 and 5 of one prefix
             and routes without a path-information (id 0).

Once every route is in both message logs, flowacctd dumps on SIGUSR1 and
nfacctd at the next full minute (its dumps are periodic only); then some
routes are withdrawn and the peers stop (Cease): nfacctd and flowacctd
write "withdraw", then a "delete" per remaining route, then "log_close".

Compared per peer, every key in order and every value but seq, timestamp
and peer_tcp_port: the message-log lines ("update" and "withdraw" in
order, "delete" as a multiset: nfacctd sorts them, flowacctd goes by its
RIB), the dump's route lines (a multiset) and its dump_init / dump_close.
seq must count up within each message log, and every line of one dump
run, all peers, carries one seq. The documented differences
(docs/pmacct-parity.md §14, KNOWN below) are asserted, each must occur:

  L2  flowacctd writes an "end-of-rib" line per End-of-RIB (pmacct 1.8
      does; 1.7.7 does not).

Exit status: 0 parity, 1 mismatch or failure, 2 usage error, 77 skipped
(nfacctd or ExaBGP missing). Debian's /usr/bin/python3, stdlib only;
every wait is bounded (about 20-75 s: nfacctd dumps at full minutes).
"""

import argparse
import collections
import glob
import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
sys.path.insert(0, os.path.join(HERE, "..", "daemon"))
import bgp_peers  # noqa: E402
import daemon_harness  # noqa: E402
from bgp_peers import ExabgpPeer, Route  # noqa: E402
from daemon_harness import read_text  # noqa: E402

SKIP = daemon_harness.SKIP
LOCAL_AS = 65000
PLAIN, ADD_PATH = "127.0.0.2", "127.0.0.3"
IGNORED = ("seq", "timestamp", "peer_tcp_port")

KNOWN = {
    "L2": "flowacctd writes end-of-rib lines (pmacct 1.8 does)",
}

# --- routes --------------------------------------------------------------


def ext(etype, subtype, value6):
    return bytes([etype, subtype]) + value6


# RFC 4360 §3-4, RFC 5668: in wire order, not sorted.
EXT_COMMUNITIES = b"".join([
    ext(0x02, 0x02, struct.pack("!IH", 4200000001, 9)),   # RT 4-octet AS
    ext(0x00, 0x02, struct.pack("!HI", 65000, 100)),      # RT 2-octet AS
    ext(0x01, 0x02, bytes([10, 0, 0, 1]) + struct.pack("!H", 7)),  # RT IPv4
    ext(0x00, 0x03, struct.pack("!HI", 65000, 200)),      # SoO 2-octet AS
    ext(0x01, 0x03, bytes([192, 0, 2, 1]) + struct.pack("!H", 8)),  # SoO IPv4
    ext(0x02, 0x03, struct.pack("!IH", 4200000002, 10)),  # SoO 4-octet AS
    ext(0x40, 0x02, struct.pack("!HI", 65000, 300)),  # RT, non-transitive
    ext(0x00, 0x05, struct.pack("!HI", 65000, 5)),    # OSPF domain id
    ext(0x03, 0x0C, bytes(6)),                        # encapsulation
    ext(0x80, 0x06, bytes(6)),                        # flowspec rate
    ext(0x43, 0x08, bytes(6)),                        # unknown
])
ECOMM_ATTR = (16, 0xC0, EXT_COMMUNITIES)
# RFC 7311 AIGP TLV (type 1, length 11, metric 77); RFC 8669 Prefix-SID
# Label-Index TLV (type 1, length 7, index 1234).
AIGP_ATTR = (26, 0x80, bytes([1, 0, 11]) + struct.pack("!Q", 77))
PSID_ATTR = (40, 0xC0, bytes([1, 0, 7, 0, 0, 0]) + struct.pack("!I", 1234))

PLAIN_ROUTES = [
    Route("10.1.0.0/24", "192.0.2.1", as_path=(65001, 65002), med=0,
          local_pref=0,
          communities=("65000:1", "65535:65281", "65535:65282",
                       "65535:65283", "0:0", "65535:666", "65535:65284",
                       "65000:1"),
          large_communities=("65000:2:1", "65000:1:2"),
          attributes=(ECOMM_ATTR,)),
    Route("10.1.1.0/24", "192.0.2.1", as_path=(65001,), med=5,
          local_pref=200, origin="egp"),
    Route("10.1.2.0/24", "192.0.2.1", origin="incomplete",
          attributes=(AIGP_ATTR, PSID_ATTR)),
    Route("10.1.3.0/24", "192.0.2.3", as_path=(65001, 4200000001), med=0),
    Route("2001:db8:1::/48", "2001:db8::1", as_path=(65003,), med=0,
          local_pref=0, communities=("65535:65281",)),
    Route("2001:db8:1:1::/64", "2001:db8::1", as_path=(65003, 65004),
          attributes=(ECOMM_ATTR,)),
]
# ExaBGP route lines (static section) of the VPN and labeled families.
PLAIN_EXTRA = [
    "route 10.2.0.0/24 rd 65000:1 label [ 100 ] next-hop 192.0.2.1 "
    "extended-community [ target:65000:1 ] med 0",
    "route 10.2.1.0/24 rd 192.0.2.9:5 label [ 101 ] next-hop 192.0.2.1 "
    "origin egp",
    "route 2001:db8:2::/48 rd 65000:2 label [ 102 ] next-hop 2001:db8::2",
    "route 10.3.0.0/24 label [ 200 ] next-hop 192.0.2.1 local-preference 0",
    "route 2001:db8:3::/48 label [ 201 ] next-hop 2001:db8::3",
]
PLAIN_EXTRA_WITHDRAW = [
    "withdraw route 10.2.0.0/24 rd 65000:1 label [ 100 ] next-hop 192.0.2.1",
    "withdraw route 10.3.0.0/24 label [ 200 ] next-hop 192.0.2.1",
]
ADD_PATH_ROUTES = [
    Route("10.4.0.0/24", "192.0.2.1", as_path=(65005,), med=1, path_id=0),
    Route("10.4.0.0/24", "192.0.2.9", as_path=(65006,), med=2, path_id=5),
    Route("10.4.1.0/24", "192.0.2.1", med=0),
    Route("2001:db8:4::/48", "2001:db8::4", path_id=0),
]
# How many "update" lines each peer's routes give.
UPDATES = {PLAIN: len(PLAIN_ROUTES) + len(PLAIN_EXTRA),
           ADD_PATH: len(ADD_PATH_ROUTES)}


class Peer(ExabgpPeer):
    """ExabgpPeer with the VPN and labeled-unicast families and static
    route lines of its own (`extra`)."""

    def __init__(self, *args, extra=(), **kw):
        super().__init__(*args, **kw)
        self.extra = list(extra)

    def _config(self):
        c = super()._config()
        if self.extra:
            c = c.replace("    ipv6 unicast;\n", "    ipv6 unicast;\n"
                          "    ipv4 mpls-vpn;\n    ipv6 mpls-vpn;\n"
                          "    ipv4 nlri-mpls;\n    ipv6 nlri-mpls;\n")
            c = c.replace("  static {\n", "  static {\n" + "".join(
                "    %s;\n" % r for r in self.extra))
        return c


# --- daemons -------------------------------------------------------------


class Daemon:
    """nfacctd or flowacctd with bgp_daemon, in its own directory."""

    def __init__(self, name, binary, workdir):
        self.name = name
        self.nfacctd = name == "nfacctd"
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir)
        self.port = bgp_peers.free_port()
        self.log_path = os.path.join(self.dir, "daemon.log")
        conf = os.path.join(self.dir, "daemon.conf")
        with open(conf, "w") as f:
            f.write("daemonize: false\n"
                    "plugins: print[p]\n"
                    "print_output_file[p]: %(d)s/flows.txt\n"
                    "nfacctd_ip: 127.0.0.1\n"
                    "nfacctd_port: %(udp)d\n"
                    "bgp_daemon: true\n"
                    "bgp_daemon_ip: 127.0.0.1\n"
                    "bgp_daemon_port: %(port)d\n"
                    "bgp_daemon_msglog_file: %(d)s/msglog-$peer_src_ip.txt\n"
                    "bgp_daemon_msglog_output: json\n"
                    "bgp_table_dump_file: %(d)s/dump-$peer_src_ip-%%H%%M.txt\n"
                    "bgp_table_dump_refresh_time: 60\n"
                    "logfile: %(d)s/daemon.log\n" % dict(
                        d=self.dir, port=self.port,
                        udp=daemon_harness.free_udp_port()))
        self.proc = subprocess.Popen(
            [binary, "-f", conf], cwd=self.dir,
            env=dict(os.environ, TZ="UTC"), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        self.peers = []
        ready = ("waiting for BGP data" if self.nfacctd else
                 "component=bgp msg=listening")
        try:
            daemon_harness.wait_for(
                lambda: ready in read_text(self.log_path), 15,
                "%s listening for BGP" % name)
        except AssertionError:
            self.stop()
            raise

    def msglog(self, peer):
        return read_text(os.path.join(self.dir, "msglog-%s.txt" %
                                      peer.replace(".", "_")))

    def dump(self, after):
        """{peer: [line]} of the first dump that started at or after
        `after` (epoch s): flowacctd's on SIGUSR1, nfacctd's next periodic
        one (at most a minute away)."""
        if not self.nfacctd:
            before = read_text(self.log_path).count('msg="table dump written"')
            self.proc.send_signal(signal.SIGUSR1)
            daemon_harness.wait_for(
                lambda: read_text(self.log_path).count(
                    'msg="table dump written"') > before, 15,
                "a flowacctd table dump")
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(after))
        found = {}

        def done():
            for path in glob.glob(os.path.join(self.dir, "dump-*.txt")):
                lines = load(read_text(path))
                if (lines and lines[-1].get("event_type") == "dump_close"
                        and lines[0]["timestamp"] >= stamp):
                    found[lines[0]["peer_ip_src"]] = lines
            return len(found) == len(self.peers)
        daemon_harness.wait_for(done, 75, "a %s table dump" % self.name)
        return found

    def stop(self):
        """nfacctd: SIGINT (its plugins may make it exit 1, fine);
        flowacctd: SIGTERM, which must give exit status 0."""
        return daemon_harness.stop_group(
            self.proc, signal.SIGINT if self.nfacctd else signal.SIGTERM)


def load(text):
    """JSON lines as dicts keeping key order (Python dicts do)."""
    return [json.loads(x) for x in text.splitlines() if x.strip()]


class Failure(Exception):
    pass


# --- comparison ------------------------------------------------------------


def comparable(line):
    return [(k, v) for k, v in line.items() if k not in IGNORED]


def check_seq(lines, what):
    seqs = [x["seq"] for x in lines]
    if seqs != sorted(set(seqs)):
        raise Failure("%s: seq does not count up: %s" % (what, seqs))


def compare_msglog(peer, nf, fa, counts):
    """Problems between the two message logs of one peer."""
    problems = []
    nf_lines, fa_lines = load(nf), load(fa)
    check_seq(nf_lines, "nfacctd msglog of %s" % peer)
    check_seq(fa_lines, "flowacctd msglog of %s" % peer)
    eor = [x for x in fa_lines if x.get("log_type") == "end-of-rib"]
    counts["L2"] += len(eor)
    fa_lines = [x for x in fa_lines if x.get("log_type") != "end-of-rib"]

    def kinds(lines):
        out = []
        for x in lines:
            k = x.get("log_type", x["event_type"])
            if not out or out[-1] != k:
                out.append(k)
        return out
    if kinds(nf_lines) != kinds(fa_lines):
        problems.append("%s: line kinds differ: nfacctd %s, flowacctd %s" %
                        (peer, kinds(nf_lines), kinds(fa_lines)))
        return problems
    # In order, but the deletes (a multiset).
    ordered = [(n, f) for n, f in zip(nf_lines, fa_lines)
               if n.get("log_type") != "delete"]
    for n, f in ordered:
        n, f = comparable(n), comparable(f)
        if n == f:
            continue
        problems.append("%s: msglog line differs:\n    nfacctd:   %s\n"
                        "    flowacctd: %s" % (peer, json.dumps(n),
                                               json.dumps(f)))
    deletes = [collections.Counter(json.dumps(comparable(x)) for x in lines
                                   if x.get("log_type") == "delete")
               for lines in (nf_lines, fa_lines)]
    for text in (deletes[0] - deletes[1]):
        problems.append("%s: delete only nfacctd writes: %s" % (peer, text))
    for text in (deletes[1] - deletes[0]):
        problems.append("%s: delete only flowacctd writes: %s" % (peer, text))
    return problems


def compare_dump(peer, nf, fa):
    problems = []
    if nf is None or fa is None:
        return ["%s: no dump from %s" % (peer, "nfacctd" if nf is None
                                         else "flowacctd")]
    for who, lines in (("nfacctd", nf), ("flowacctd", fa)):
        if len({x["seq"] for x in lines}) != 1:
            problems.append("%s %s dump: more than one seq" % (who, peer))
    for i in (0, -1):
        if comparable(nf[i]) != comparable(fa[i]):
            problems.append("%s: dump %s differs:\n    nfacctd:   %s\n"
                            "    flowacctd: %s" % (
                                peer, nf[i]["event_type"],
                                json.dumps(comparable(nf[i])),
                                json.dumps(comparable(fa[i]))))
    routes = [collections.Counter(json.dumps(comparable(x)) for x in lines
                                  if x["event_type"] == "dump")
              for lines in (nf, fa)]
    for text in routes[0] - routes[1]:
        problems.append("%s: dump line only nfacctd writes: %s" % (peer, text))
    for text in routes[1] - routes[0]:
        problems.append("%s: dump line only flowacctd writes: %s" %
                        (peer, text))
    return problems


# --- the run ----------------------------------------------------------------


def start_peers(daemon, keep):
    common = dict(peer_address="127.0.0.1", peer_port=daemon.port,
                  keep_dir=keep)
    daemon.peers = [
        Peer(PLAIN, LOCAL_AS, routes=PLAIN_ROUTES, extra=PLAIN_EXTRA,
             workdir=os.path.join(daemon.dir, "exabgp-plain"), **common),
        Peer(ADD_PATH, LOCAL_AS, routes=ADD_PATH_ROUTES, add_path_send=True,
             workdir=os.path.join(daemon.dir, "exabgp-add-path"), **common),
    ]
    for p in daemon.peers:
        p.start()


def run(args, workdir):
    daemons = []
    counts = collections.Counter()
    problems = []
    try:
        for name, binary in (("nfacctd", args.nfacctd),
                             ("flowacctd", args.flowacctd)):
            daemons.append(Daemon(name, binary, workdir))
        for d in daemons:
            start_peers(d, args.keep)
        for d in daemons:
            for p in d.peers:
                p.wait_established(30)
        for d in daemons:
            for peer, n in UPDATES.items():
                daemon_harness.wait_for(
                    lambda: d.msglog(peer).count('"log_type": "update"') >= n,
                    30, "%s: %d routes of %s in the message log" % (
                        d.name, n, peer))
        complete = time.time()
        print("routes in both message logs %.1f s after the start" %
              (time.monotonic() - args.started))
        dumps = {d.name: d.dump(complete) for d in reversed(daemons)}
        print("dumps taken %.1f s after the start" %
              (time.monotonic() - args.started))
        for d in daemons:
            plain, add_path = d.peers
            plain.withdraw(PLAIN_ROUTES[:2])
            for command in PLAIN_EXTRA_WITHDRAW:
                plain.api(command)
            add_path.withdraw(ADD_PATH_ROUTES[:1])
        for d in daemons:
            for p in d.peers:
                p.close()
        for d in daemons:
            for peer in UPDATES:
                daemon_harness.wait_for(
                    lambda: '"log_close"' in d.msglog(peer), 20,
                    "%s: log_close of %s" % (d.name, peer))
        nf, fa = daemons
        for name, dump in sorted(dumps.items()):
            seqs = {x["seq"] for lines in dump.values() for x in lines}
            if len(seqs) != 1:
                problems.append("%s: the peers' dumps of one run have "
                                "seqs %s, not one" % (name, sorted(seqs)))
        for peer in UPDATES:
            problems += compare_msglog(peer, nf.msglog(peer),
                                       fa.msglog(peer), counts)
            problems += compare_dump(peer, dumps["nfacctd"].get(peer),
                                     dumps["flowacctd"].get(peer))
            print("%s: %d message-log lines, %d dump lines compared" % (
                peer, len(load(nf.msglog(peer))),
                len(dumps["nfacctd"].get(peer) or [])))
    finally:
        for d in daemons:
            for p in d.peers:
                p.close()
        rcs = [d.stop() for d in daemons]
    if len(rcs) == 2 and rcs[1] != 0:
        problems.append("flowacctd exit status %s" % rcs[1])
    for name, what in sorted(KNOWN.items()):
        print("%s (%s): %d" % (name, what, counts[name]))
        if counts[name] == 0:
            problems.append("known difference %s not seen (update the test "
                            "and docs/pmacct-parity.md §14)" % name)
    for p in problems:
        print("  " + p)
    return not problems


def main():
    ap = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--flowacctd", required=True)
    ap.add_argument("--nfacctd", default="/usr/sbin/nfacctd")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    if not os.access(args.nfacctd, os.X_OK):
        print("SKIP: nfacctd not found at %s (Debian package pmacct)" %
              args.nfacctd)
        return SKIP
    if not bgp_peers.available()["exabgp"]:
        print("SKIP: ExaBGP not installed (%s)" % bgp_peers.EXABGP)
        return SKIP
    if not os.access(args.flowacctd, os.X_OK):
        print("error: %s is not executable" % args.flowacctd)
        return 2
    args.flowacctd = os.path.abspath(args.flowacctd)
    args.started = time.monotonic()
    workdir = tempfile.mkdtemp(prefix="flowacct-bgp-msglog-")
    try:
        ok = run(args, workdir)
    except (Failure, AssertionError, OSError, bgp_peers.PeerError) as e:
        print("FAIL: %s" % e)
        ok = False
    return daemon_harness.finish(ok, workdir, args.keep,
                                 time.monotonic() - args.started)


if __name__ == "__main__":
    sys.exit(main())
