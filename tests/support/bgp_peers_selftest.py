#!/usr/bin/python3
"""Self-test of tests/support/bgp_peers.py, without flowacct.

  bgp_peers_selftest.py [--keep]

A passive gobgpd (GobgpReceiver on 127.0.0.1, ephemeral port, ADD-PATH
receive on) stands in for the BGP speaker. FRR (127.0.0.2), BIRD
(127.0.0.3), a second GoBGP (127.0.0.4) and ExaBGP (127.0.0.5) connect to
it over eBGP and announce IPv4 and IPv6 (MP-BGP over the IPv4 session)
routes with AS paths, communities, large communities, MED and next hops.
Checks, for every peer:
  - the session establishes;
  - the receiver's adj-in for that neighbour equals what the peer says it
    advertises (advertised()), and both equal the routes given;
  - a runtime withdraw disappears from adj-in, a runtime announce appears;
and ADD-PATH: BIRD, GoBGP and ExaBGP send two paths for one prefix and the
receiver keeps both. ExaBGP also sends, through announce_raw_attributes(),
an unknown optional transitive attribute (the receiver keeps it) and an
ORIGIN of value 5 (the receiver treats it as withdraw, session stays up).

Exit status: 0 all passed, 1 a check failed, 77 (skip) when one of the
Debian packages frr, bird2, gobgpd, exabgp is missing. --keep leaves the
temp dirs (config, logs) for inspection.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bgp_peers as bp  # noqa: E402
from bgp_peers import Route  # noqa: E402

RX_AS = 65000
TIMEOUT = 45


def routes_for(n):
    """Two IPv4 and one IPv6 route of peer 127.0.0.n."""
    return [
        Route("10.%d.1.0/24" % n, "192.0.2.%d" % n, as_path=(65100 + n, 65200),
              communities=("%d:1" % (65000 + n), "64512:100"),
              large_communities=("%d:1:2" % (65000 + n), "4200000000:7:8"),
              med=10 + n),
        Route("10.%d.2.0/24" % n, "192.0.2.%d" % (100 + n), origin="egp",
              communities=("%d:2" % (65000 + n),)),
        Route("2001:db8:%x::/48" % n, "2001:db8::%x" % n,
              as_path=(65100 + n,),
              large_communities=("%d:3:4" % (65000 + n),),
              med=20 + n, origin="incomplete"),
    ]


def extra_for(n):
    return Route("10.%d.3.0/24" % n, "192.0.2.%d" % n, as_path=(65300,),
                 communities=("%d:3" % (65000 + n),), med=3)


def wire(peer, routes):
    return bp.path_keys(peer._wire(r) for r in routes)


def wait_adj_in(rx, peer, want, what, timeout=TIMEOUT):
    got = None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = bp.path_keys(rx.adj_in(peer.local_address))
        if got == want:
            return got
        time.sleep(0.5)
    raise AssertionError("%s %s: %s\n  receiver adj-in: %s\n  expected: %s" % (
        peer.name, peer.local_address, what, fmt(got), fmt(want)))


def fmt(paths):
    return "\n    " + "\n    ".join(repr(p) for p in paths or [])


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()

    have = bp.available()
    missing = [k for k, v in have.items() if not v]
    if missing:
        print("SKIP: missing BGP implementations: %s (Debian packages frr, "
              "bird2, gobgpd, exabgp; scripts/install_deps.sh installs them)"
              % ", ".join(missing))
        return 77

    kinds = [("frr", bp.FrrPeer, 2), ("bird", bp.BirdPeer, 3),
             ("gobgp", bp.GobgpPeer, 4), ("exabgp", bp.ExabgpPeer, 5)]
    neighbors = {"127.0.0.%d" % n: RX_AS + n for _, _, n in kinds}
    failures = []
    t0 = time.monotonic()
    with bp.GobgpReceiver("127.0.0.1", RX_AS, neighbors,
                          add_path_receive=True, keep_dir=args.keep) as rx:
        print("receiver: gobgpd on 127.0.0.1:%d (%s)" % (rx.port, rx.dir))
        peers = []
        try:
            for name, cls, n in kinds:
                p = cls("127.0.0.%d" % n, RX_AS + n, "127.0.0.1", rx.port,
                        peer_as=RX_AS, routes=routes_for(n),
                        add_path_send=(name != "frr"), keep_dir=args.keep)
                peers.append(p)
                p.start()
                print("%-6s started on %s (%s)" % (name, p.local_address,
                                                   p.dir))
            for p in peers:
                p.wait_established(TIMEOUT)
                print("%-6s established" % p.name)
            check(rx.established(), "receiver: not all neighbours up")

            for p in peers:
                try:
                    run_peer_checks(rx, p)
                    print("%-6s OK: adj-in == advertised(), withdraw, "
                          "announce%s" % (p.name, ", add-path"
                                          if p.add_path_send else ""))
                except (AssertionError, bp.PeerError) as e:
                    failures.append("%s: %s" % (p.name, e))
                    print("%-6s FAILED: %s" % (p.name, e))

            exa = peers[-1]
            try:
                check_raw_attribute(rx, exa)
                print("exabgp OK: raw attribute 0x99 (optional transitive) "
                      "seen by the receiver; ORIGIN 5 treated as withdraw")
            except (AssertionError, bp.PeerError) as e:
                failures.append("exabgp raw attribute: %s" % e)
                print("exabgp raw attribute FAILED: %s" % e)
        finally:
            for p in peers:
                p.close()

    print("bgp_peers self-test: %d s" % (time.monotonic() - t0))
    checks = len(kinds) + 1
    print("%d passed, %d failed" % (checks - len(failures), len(failures)))
    return 1 if failures else 0


def run_peer_checks(rx, p):
    n = int(p.local_address.rsplit(".", 1)[1])
    given = routes_for(n)
    want = wire(p, given)
    adv = p.wait_advertised(want, TIMEOUT)
    wait_adj_in(rx, p, adv, "initial routes")
    families = {x.family for x in rx.adj_in(p.local_address)}
    check(families == {"ipv4", "ipv6"}, "families in adj-in: %s" % families)

    # runtime withdraw of one IPv4 and the IPv6 route
    p.withdraw([given[1], given[2]])
    want = wire(p, [given[0]])
    p.wait_advertised(want, TIMEOUT)
    wait_adj_in(rx, p, want, "after withdraw")

    # runtime announce
    back = [given[1], given[2], extra_for(n)]
    p.announce(back)
    want = wire(p, [given[0]] + back)
    p.wait_advertised(want, TIMEOUT)
    wait_adj_in(rx, p, want, "after announce")

    if not p.add_path_send:
        return
    # ADD-PATH: a second path for 10.n.1.0/24 with another next hop
    first = given[0]
    if p.name == "bird":
        a = [Route(first.prefix, "192.0.2.%d" % (200 + n),
                   as_path=(65400,), med=1)]
    else:  # GoBGP and ExaBGP: explicit path identifiers
        p.withdraw([first])
        a = [Route(first.prefix, first.next_hop, as_path=first.as_path,
                   communities=first.communities,
                   large_communities=first.large_communities, med=first.med,
                   path_id=1),
             Route(first.prefix, "192.0.2.%d" % (200 + n), as_path=(65400,),
                   med=1, path_id=2)]
    p.announce(a)
    current = p.routes
    want = wire(p, current)
    check(sum(1 for w in want if w.prefix == first.prefix) == 2,
          "expected two paths for %s in %s" % (first.prefix, fmt(want)))
    p.wait_advertised(want, TIMEOUT)
    got = wait_adj_in(rx, p, want, "ADD-PATH: two paths of one prefix")
    ids = {x.path_id for x in rx.adj_in(p.local_address)
           if x.prefix == first.prefix}
    check(len(ids) == 2, "ADD-PATH ids at the receiver: %s" % ids)
    if p.name in ("gobgp", "exabgp"):
        adv_ids = {x.path_id for x in p.advertised()
                   if x.prefix == first.prefix}
        check(adv_ids == ids, "path ids: advertised %s, received %s" %
              (adv_ids, ids))
    return got


def check_raw_attribute(rx, exa):
    """An unknown optional transitive attribute (code 0x99, flags 0xC0)
    reaches the receiver unchanged."""
    exa.announce_raw_attributes("10.5.99.0/24", "192.0.2.5",
                                [(0x99, 0xC0, b"\x01\x02\x03\x04")])
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        doc = rx.gobgp_json("neighbor", exa.local_address, "adj-in",
                            "-a", "ipv4")
        for path in (doc or {}).get("10.5.99.0/24", []):
            for a in path.get("attrs", []):
                if a.get("type") == 0x99:
                    check(a.get("flags") in (0xC0, 0xE0, None),
                          "flags %s" % a.get("flags"))
                    return
        time.sleep(0.5)
    else:
        raise AssertionError("attribute 0x99 not in adj-in: %s" % doc)

    # A malformed one: ORIGIN with value 5. GoBGP treats the UPDATE as a
    # withdraw (RFC 7606) and keeps the session.
    exa.announce_raw_attributes("10.5.98.0/24", "192.0.2.5",
                                [(0x01, 0x40, b"\x05")])
    log = os.path.join(rx.dir, "gobgpd.log")

    def seen():
        with open(log, errors="replace") as f:
            return "invalid origin attribute" in f.read()
    deadline = time.monotonic() + TIMEOUT
    while not seen() and time.monotonic() < deadline:
        time.sleep(0.5)
    check(seen(), "receiver did not report the malformed ORIGIN")
    check(not [x for x in rx.adj_in(exa.local_address)
               if x.prefix == "10.5.98.0/24"], "malformed route accepted")
    check(rx.neighbor_state(exa.local_address) == "established",
          "session dropped after the malformed ORIGIN")


if __name__ == "__main__":
    sys.exit(main())
