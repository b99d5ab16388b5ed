#!/usr/bin/python3
"""Real BGP peers (FRR, BIRD, GoBGP, ExaBGP) for the BGP speaker's tests.

Each peer is one real routing daemon run from its Debian package, in a temp
dir of its own (config, control socket, pid file, logs), bound to its own
loopback source address 127.0.0.N (N >= 2, so the speaker under test sees
distinct peers; Linux routes all of 127.0.0.0/8 to lo, nothing to set up).
It connects actively to the speaker at (peer_address, peer_port) - the
speaker listens on an ephemeral port, never 179 - and announces the routes
it was given. FRR, GoBGP and ExaBGP do not listen for BGP; BIRD always
does, here on a free port of its own 127.0.0.N (never 179).

    with FrrPeer("127.0.0.2", 65002, "127.0.0.1", port, peer_as=65000,
                 routes=[Route("10.2.0.0/24", "192.0.2.2", as_path=(65020,),
                               communities=("65002:1",), med=5)]) as p:
        p.wait_established(30)
        ...compare the speaker's RIB for 127.0.0.2 with p.advertised()...
        p.withdraw([...]); p.announce([...])

Python API (all timeouts in seconds, every wait is bounded):
    Route(prefix, next_hop, as_path=(), communities=(), large_communities=(),
          med=None, local_pref=None, origin="igp", path_id=None,
          attributes=())
        A route as it sits in the announcing daemon's own RIB. as_path is
        the path BEFORE the daemon exports it: on eBGP the daemon prepends
        its local AS on the wire. next_hop is kept on the wire (IPv4 routes
        in the classic NLRI field, IPv6 routes in MP_REACH over the IPv4
        session). path_id is honoured by GoBGP and ExaBGP only (FRR and
        BIRD pick their own ADD-PATH ids). attributes: ExaBGP only, raw
        (code, flags, value_bytes) path attributes - see ExabgpPeer.
    Path: one advertised path as it goes on the wire: prefix, next_hop,
        as_path (tuple of ints, AS_SEQUENCE only), communities and
        large_communities (sorted tuples of "a:b" / "a:b:c"), med,
        local_pref (iBGP only, else None), origin ("igp"|"egp"|
        "incomplete"), path_id (None when the peer cannot tell).
        Path.key() drops path_id for comparisons across implementations.
    Peer classes FrrPeer, BirdPeer, GobgpPeer, ExabgpPeer share:
        __init__(local_address, local_as, peer_address, peer_port,
                 peer_as=None, router_id=None,
                 families=("ipv4", "ipv6"), add_path_send=False,
                 md5_password=None, graceful_restart=False, routes=(),
                 hold_time=90, workdir=None, keep_dir=False)
            peer_as None = iBGP (peer_as = local_as). router_id defaults
            to local_address. families: "ipv4" and/or "ipv6" unicast.
        start(timeout=30)           start the daemon, wait until it answers
        wait_established(timeout=30) -> True, or raises PeerError
        established() -> bool
        announce(routes, timeout=15) / withdraw(routes, timeout=15)
            runtime changes. FRR: "network" statements through vtysh;
            BIRD: rewrites the static protocol and reconfigures;
            GoBGP: "gobgp global rib add/del"; ExaBGP: its API.
        advertised(family=None, timeout=15) -> sorted list of Path, what
            the daemon itself says it sends to this neighbour (FRR: show
            bgp ... neighbors X advertised-routes json plus the path's
            attributes; BIRD: show route export <proto> all; GoBGP:
            gobgp neighbor X adj-out -j; ExaBGP: its announced routes).
            The caller should wait for the session first.
        wait_advertised(expected_keys, timeout=15)
        stop(graceful=True)  NOTIFICATION/Cease then exit (graceful=False:
            SIGKILL, the TCP session just drops: what a graceful restart
            looks like to the speaker)
        restart(timeout=30)  SIGKILL (no NOTIFICATION, forwarding state
            kept) then start again with the daemon's restart flag where it
            has one (BIRD -R, GoBGP -r; FRR and ExaBGP have none on the
            command line: they simply start again). Restarting, GoBGP sends
            nothing until the speaker's End-of-RIB or its deferral timer
            (10 s here).
        log_tail(n=40) -> str
        context manager: __exit__ stops the daemon (kills its process
            group) and removes the temp dir unless keep_dir.
    ExabgpPeer.announce_raw_attributes(prefix, next_hop, attributes,
            as_path=None, ...) - hand-crafted path attributes for RFC 7606
            tests; see its docstring for what ExaBGP 4.2 can and cannot
            produce.
    GobgpReceiver: a passive gobgpd (the self-test's stand-in for the
        speaker): GobgpReceiver(local_address, local_as, neighbors=
        {address: as}, add_path_receive=True); .port; adj_in(neighbor,
        family) -> list of Path; neighbor_state(neighbor).
    available() -> {"frr": bool, "bird": bool, "gobgp": bool,
                    "exabgp": bool}
"""

import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field, replace
from typing import Optional, Tuple

FRR_BGPD = "/usr/lib/frr/bgpd"
VTYSH = "/usr/bin/vtysh"
BIRD = "/usr/sbin/bird"
BIRDC = "/usr/sbin/birdc"
GOBGPD = "/usr/bin/gobgpd"
GOBGP = "/usr/bin/gobgp"
EXABGP = "/usr/sbin/exabgp"
PYTHON = "/usr/bin/python3"

ORIGINS = ("igp", "egp", "incomplete")


class PeerError(Exception):
    pass


def available():
    def exe(p):
        return os.access(p, os.X_OK)
    return {
        "frr": exe(FRR_BGPD) and exe(VTYSH),
        "bird": exe(BIRD) and exe(BIRDC),
        "gobgp": exe(GOBGPD) and exe(GOBGP),
        "exabgp": exe(EXABGP),
    }


def free_port(address="127.0.0.1"):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((address, 0))
        return s.getsockname()[1]


def family_of(prefix):
    return "ipv6" if ":" in prefix else "ipv4"


@dataclass(frozen=True)
class Route:
    prefix: str
    next_hop: str
    as_path: Tuple[int, ...] = ()
    communities: Tuple[str, ...] = ()
    large_communities: Tuple[str, ...] = ()
    med: Optional[int] = None
    local_pref: Optional[int] = None
    origin: str = "igp"
    path_id: Optional[int] = None
    # ExaBGP only: raw (code, flags, value bytes) attributes.
    attributes: Tuple[Tuple[int, int, bytes], ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "prefix",
                           str(ipaddress.ip_network(self.prefix)))
        object.__setattr__(self, "as_path",
                           tuple(int(a) for a in self.as_path))
        object.__setattr__(self, "communities", tuple(self.communities))
        object.__setattr__(self, "large_communities",
                           tuple(self.large_communities))
        if self.origin not in ORIGINS:
            raise ValueError("origin must be one of %s" % (ORIGINS,))

    @property
    def family(self):
        return family_of(self.prefix)


@dataclass(frozen=True, order=True)
class Path:
    prefix: str
    next_hop: str
    as_path: Tuple[int, ...] = ()
    communities: Tuple[str, ...] = ()
    large_communities: Tuple[str, ...] = ()
    med: Optional[int] = field(default=None, compare=True)
    local_pref: Optional[int] = None
    origin: str = "igp"
    path_id: Optional[int] = None

    def key(self):
        """Everything but path_id (ADD-PATH ids are chosen per daemon)."""
        return replace(self, path_id=None)

    @property
    def family(self):
        return family_of(self.prefix)


def _sort_key(p):
    return (p.prefix, p.next_hop, p.as_path, p.communities,
            p.large_communities, -1 if p.med is None else p.med,
            -1 if p.local_pref is None else p.local_pref, p.origin,
            -1 if p.path_id is None else p.path_id)


def sorted_paths(paths):
    return sorted(paths, key=_sort_key)


def path_keys(paths):
    """Sorted list of Path.key() (a multiset: ADD-PATH may repeat one)."""
    return sorted_paths(p.key() for p in paths)


def _norm_comm(values):
    return tuple(sorted(str(v) for v in values))


# ---------------------------------------------------------------- processes

def _alive(pid):
    if not pid or pid <= 0:
        return False
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return fields[0] != "Z"
    except (FileNotFoundError, IndexError, ProcessLookupError):
        return False


def _group_alive(pgid):
    """Any process of group pgid still running (not a zombie)?"""
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            return True
    return False


def _wait(pred, timeout, step=0.1):
    deadline = time.monotonic() + timeout
    while True:
        if pred():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(step)


class _Peer:
    """Process, temp dir and bookkeeping shared by every implementation."""

    name = "peer"

    def __init__(self, local_address, local_as, peer_address, peer_port,
                 peer_as=None, router_id=None, families=("ipv4", "ipv6"),
                 add_path_send=False, md5_password=None,
                 graceful_restart=False, routes=(), hold_time=90,
                 workdir=None, keep_dir=False):
        if ipaddress.ip_address(local_address) not in \
                ipaddress.ip_network("127.0.0.0/8"):
            raise ValueError("peers run on loopback addresses only")
        if int(peer_port) == 179:
            raise ValueError("tests never use port 179")
        self.local_address = local_address
        self.local_as = int(local_as)
        self.peer_address = peer_address
        self.peer_port = int(peer_port)
        self.peer_as = int(peer_as) if peer_as is not None else self.local_as
        self.ibgp = self.peer_as == self.local_as
        self.router_id = router_id or local_address
        for f in families:
            if f not in ("ipv4", "ipv6"):
                raise ValueError("families: ipv4 and/or ipv6")
        self.families = tuple(families)
        self.add_path_send = add_path_send
        self.md5_password = md5_password
        self.graceful_restart = graceful_restart
        self.hold_time = int(hold_time)
        self.routes = []
        for r in routes:
            self._check_route(r)
            self.routes.append(r)
        self._own_dir = workdir is None
        self.dir = workdir or tempfile.mkdtemp(prefix="bgp-%s-" % self.name)
        os.makedirs(self.dir, exist_ok=True)
        self.keep_dir = keep_dir
        self.proc = None
        self._logs = []

    # -- helpers -------------------------------------------------------
    def path(self, name):
        return os.path.join(self.dir, name)

    def _check_route(self, r):
        if not isinstance(r, Route):
            raise TypeError("routes are Route objects")
        if r.family not in self.families:
            raise ValueError("%s: family %s not configured" %
                             (r.prefix, r.family))

    def _spawn(self, argv, env=None, log="daemon.log"):
        out = open(self.path(log), "ab")
        try:
            self.proc = subprocess.Popen(
                argv, cwd=self.dir, env=env, stdin=subprocess.DEVNULL,
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            out.close()
        if log not in self._logs:
            self._logs.append(log)

    def _run(self, argv, timeout=10, check=True):
        try:
            r = subprocess.run(argv, capture_output=True, text=True,
                               timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise PeerError("%s: %s timed out" % (self.name, " ".join(argv)))
        if check and r.returncode != 0:
            raise PeerError("%s: %s -> %d: %s%s" % (
                self.name, " ".join(argv), r.returncode, r.stdout[-2000:],
                r.stderr[-2000:]))
        return r.stdout

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def _kill_group(self, sig, timeout):
        if self.proc is None:
            return True
        pgid = self.proc.pid
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        # helpers of the daemon (ExaBGP's API process) share the group
        return _wait(lambda: not _group_alive(pgid), timeout)

    def _terminate(self, graceful):
        """Stop the daemon: SIGTERM (the daemons send a Cease NOTIFICATION)
        or SIGKILL; always ends with SIGKILL of the group if needed."""
        if self.proc is None:
            return
        if graceful and self.proc.poll() is None:
            self._graceful_stop()
            if not self._kill_group(signal.SIGTERM, 15):
                self._kill_group(signal.SIGKILL, 10)
        self._kill_group(signal.SIGKILL, 10)
        self.proc = None

    def _graceful_stop(self):
        pass

    def log_tail(self, n=40):
        out = []
        for log in self._logs:
            try:
                with open(self.path(log), errors="replace") as f:
                    out += ["%s: %s" % (log, l.rstrip())
                            for l in f.readlines()[-n:]]
            except OSError:
                pass
        return "\n".join(out)

    def _fail(self, what):
        raise PeerError("%s %s at %s: %s\n%s" % (
            self.name, self.local_address, self.dir, what, self.log_tail()))

    def _started(self, ready, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                self._fail("exited with %s" % self.proc.returncode)
            try:
                if ready():
                    return
            except PeerError:
                pass
            time.sleep(0.2)
        self._terminate(False)
        self._fail("not ready after %s s" % timeout)

    # -- common interface -----------------------------------------------
    def start(self, timeout=30):
        raise NotImplementedError

    def established(self):
        raise NotImplementedError

    def wait_established(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                self._fail("exited with %s" % self.proc.returncode)
            try:
                if self.established():
                    return True
            except PeerError:
                pass
            time.sleep(0.3)
        self._fail("session to %s:%d not established after %s s" % (
            self.peer_address, self.peer_port, timeout))

    def advertised(self, family=None, timeout=15):
        raise NotImplementedError

    def wait_advertised(self, expected, timeout=15):
        """Wait until path_keys(advertised()) == path_keys(expected)."""
        want = path_keys(expected)
        got = None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = path_keys(self.advertised())
            if got == want:
                return got
            time.sleep(0.3)
        self._fail("advertised %r, expected %r" % (got, want))

    def announce(self, routes, timeout=15):
        raise NotImplementedError

    def withdraw(self, routes, timeout=15):
        raise NotImplementedError

    def stop(self, graceful=True):
        self._terminate(graceful)

    def restart(self, timeout=30):
        self._terminate(False)
        self.start(timeout=timeout, restarting=True)

    def close(self):
        try:
            self._terminate(True)
        finally:
            if self._own_dir and not self.keep_dir:
                shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        if not self.running():
            self.start()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    # -- what goes on the wire -------------------------------------------
    def _wire(self, r, path_id=None):
        """The Path a route becomes on this session (eBGP: local AS
        prepended, no LOCAL_PREF; iBGP: LOCAL_PREF 100 unless set)."""
        if self.ibgp:
            as_path = r.as_path
            lp = 100 if r.local_pref is None else r.local_pref
        else:
            as_path = (self.local_as,) + r.as_path
            lp = None
        return Path(prefix=r.prefix, next_hop=r.next_hop, as_path=as_path,
                    communities=_norm_comm(r.communities),
                    large_communities=_norm_comm(r.large_communities),
                    med=r.med, local_pref=lp, origin=r.origin,
                    path_id=path_id)


# ---------------------------------------------------------------- FRR

class FrrPeer(_Peer):
    """FRR 8.4 bgpd alone (no zebra, no kernel routes, no BGP listener).

    bgpd -f DIR/bgpd.conf -i DIR/bgpd.pid --vty_socket DIR -Z -n -S -p 0
         -P 0 --log file:DIR/bgpd.log
    queried with vtysh --vty_socket DIR -d bgpd -c '...'.
    Routes are "network" statements (no bgp network import-check) each
    with a route-map that sets next hop, AS path prepend, communities,
    MED, local preference, origin; "attribute-unchanged next-hop" keeps
    the next hop on eBGP. ADD-PATH send ("addpath-tx-all-paths") is
    configured but FRR only has one path per prefix here (network
    statements): Route.path_id is ignored. A route without MED goes out
    with MED 0 (FRR sets it on "network" routes). FRR honours well-known
    communities (NO_EXPORT is not sent on eBGP) and resets a session on
    a martian next hop received (e.g. 127.0.0.1) - irrelevant for a
    passive speaker that sends no UPDATE.

    BMP (FRR's bmp module, bgpd -M bmp): set, before start(),
        listen_port = P   bgpd listens for BGP on local_address:P and the
                          neighbour is "passive" (another peer connects to
                          FRR and announces routes to it);
        bmp_targets = [(address, port), ...]  BMP stations FRR connects to
                          ("bmp connect ADDRESS port P min-retry 100
                          max-retry 1000"), streaming route monitoring of
                          bmp_monitor (default: pre-policy and post-policy
                          Adj-RIB-In of each family; FRR 8.4 has no
                          Loc-RIB monitoring) plus statistics every
                          bmp_stats_ms."""

    name = "frr"
    listen_port = None
    bmp_targets = ()
    bmp_monitor = ("pre-policy", "post-policy")
    bmp_stats_ms = 1000

    def _wire(self, r, path_id=None):
        # A "network" route without "set metric" goes out with MED 0.
        p = super()._wire(r, path_id)
        return replace(p, med=0) if p.med is None else p

    def _rmap(self, r):
        return "FA-" + re.sub(r"[^0-9a-zA-Z]", "-", r.prefix)

    def _route_cmds(self, r):
        """Config lines (global level) for one route: its route-map; and
        the af lines."""
        rm = self._rmap(r)
        lines = ["route-map %s permit 10" % rm]
        if r.family == "ipv4":
            lines.append(" set ip next-hop %s" % r.next_hop)
        else:
            lines.append(" set ipv6 next-hop global %s" % r.next_hop)
        if r.as_path:
            lines.append(" set as-path prepend %s" %
                         " ".join(str(a) for a in r.as_path))
        if r.communities:
            lines.append(" set community %s" % " ".join(r.communities))
        if r.large_communities:
            lines.append(" set large-community %s" %
                         " ".join(r.large_communities))
        if r.med is not None:
            lines.append(" set metric %d" % r.med)
        if r.local_pref is not None:
            lines.append(" set local-preference %d" % r.local_pref)
        lines.append(" set origin %s" % r.origin)
        lines.append("exit")
        return lines

    def _config(self):
        n = self.peer_address
        c = ["frr defaults traditional",
             "hostname flowacct-frr-%s" % self.local_address,
             "log file %s debugging" % self.path("bgpd.log"),
             "!"]
        for r in self.routes:
            c += self._route_cmds(r)
        c += ["router bgp %d" % self.local_as,
              " bgp router-id %s" % self.router_id,
              " no bgp ebgp-requires-policy",
              " no bgp network import-check",
              " no bgp default ipv4-unicast"]
        if self.graceful_restart:
            c += [" bgp graceful-restart",
                  " bgp graceful-restart preserve-fw-state"]
        c += [" neighbor %s remote-as %d" % (n, self.peer_as),
              " neighbor %s port %d" % (n, self.peer_port),
              " neighbor %s update-source %s" % (n, self.local_address),
              " neighbor %s disable-connected-check" % n,
              " neighbor %s timers connect 2" % n,
              " neighbor %s timers %d %d" % (n, max(self.hold_time // 3, 1),
                                             self.hold_time)]
        if self.md5_password:
            c.append(" neighbor %s password %s" % (n, self.md5_password))
        if self.listen_port:
            c.append(" neighbor %s passive" % n)
        if self.bmp_targets:
            c.append(" bmp targets fa_bmp")
            for fam in self.families:
                for m in self.bmp_monitor:
                    c.append("  bmp monitor %s unicast %s" % (fam, m))
            c.append("  bmp stats interval %d" % self.bmp_stats_ms)
            for address, port in self.bmp_targets:
                c.append("  bmp connect %s port %d min-retry 100 "
                         "max-retry 1000" % (address, port))
            c.append(" exit")
        for fam in self.families:
            c.append(" address-family %s unicast" % fam)
            c.append("  neighbor %s activate" % n)
            if not self.ibgp:
                c.append("  neighbor %s attribute-unchanged next-hop" % n)
            if self.add_path_send:
                c.append("  neighbor %s addpath-tx-all-paths" % n)
            if self.bmp_targets:
                # keeps the pre-policy Adj-RIB-In, which BMP's initial
                # table sync sends
                c.append("  neighbor %s soft-reconfiguration inbound" % n)
            for r in self.routes:
                if r.family == fam:
                    c.append("  network %s route-map %s" %
                             (r.prefix, self._rmap(r)))
            c.append(" exit-address-family")
        c += ["exit", "!", "line vty", "!"]
        return "\n".join(c) + "\n"

    def start(self, timeout=30, restarting=False):
        if self.running():
            return
        conf = self.path("bgpd.conf")
        with open(conf, "w") as f:
            f.write(self._config())
        listen = (["-p", str(self.listen_port), "-l", self.local_address]
                  if self.listen_port else ["-p", "0"])
        modules = ["-M", "bmp"] if self.bmp_targets else []
        self._spawn([FRR_BGPD, "-f", conf, "-i", self.path("bgpd.pid"),
                     "--vty_socket", self.dir, "-Z", "-n", "-S"] + listen +
                    modules + ["-P", "0",
                               "--log", "file:%s" % self.path("bgpd.log")],
                    log="stdout.log")
        if "bgpd.log" not in self._logs:
            self._logs.append("bgpd.log")
        self._started(lambda: os.path.exists(self.path("bgpd.vty")) and
                      "BGP router identifier" in
                      self.vtysh("show bgp summary"), timeout)

    def vtysh(self, *commands, timeout=10):
        argv = [VTYSH, "--vty_socket", self.dir, "-d", "bgpd"]
        for c in commands:
            argv += ["-c", c]
        return self._run(argv, timeout=timeout)

    def _json(self, command):
        out = self.vtysh(command)
        try:
            return json.loads(out) if out.strip() else {}
        except ValueError:
            raise PeerError("frr: %s: not JSON: %s" % (command, out[:500]))

    def established(self):
        j = self._json("show bgp neighbors %s json" % self.peer_address)
        return j.get(self.peer_address, {}).get("bgpState") == "Established"

    def _route_config(self, routes, remove):
        cmds = ["configure terminal"]
        if not remove:
            for r in routes:
                cmds += self._route_cmds(r)
        cmds.append("router bgp %d" % self.local_as)
        for r in routes:
            cmds.append("address-family %s unicast" % r.family)
            cmds.append("%snetwork %s route-map %s" % (
                "no " if remove else "", r.prefix, self._rmap(r)))
            cmds.append("exit-address-family")
        cmds.append("exit")
        if remove:
            for r in routes:
                cmds.append("no route-map %s" % self._rmap(r))
        cmds.append("end")
        self.vtysh(*cmds)

    def announce(self, routes, timeout=15):
        for r in routes:
            self._check_route(r)
        self._route_config(routes, remove=False)
        for r in routes:
            self.routes = [x for x in self.routes if x.prefix != r.prefix]
            self.routes.append(r)

    def withdraw(self, routes, timeout=15):
        self._route_config(routes, remove=True)
        gone = {r.prefix for r in routes}
        self.routes = [x for x in self.routes if x.prefix not in gone]

    def advertised(self, family=None, timeout=15):
        paths = []
        for fam in self.families:
            if family and fam != family:
                continue
            adv = self._json("show bgp %s unicast neighbors %s "
                             "advertised-routes json" %
                             (fam, self.peer_address))
            for prefix in sorted(adv.get("advertisedRoutes", {})):
                detail = self._json("show bgp %s unicast %s json" %
                                    (fam, prefix))
                paths += self._paths(prefix, detail)
        return sorted_paths(paths)

    def _paths(self, prefix, detail):
        out = []
        for p in detail.get("paths", []):
            if not p.get("bestpath", {}).get("overall") and \
                    not self.add_path_send:
                continue
            as_path = tuple(int(a) for a in
                            p.get("aspath", {}).get("string", "").split()
                            if a.isdigit())
            if not self.ibgp:
                as_path = (self.local_as,) + as_path
            nhs = p.get("nexthops", [])
            nh = nhs[0]["ip"] if nhs else ""
            comms = p.get("community", {}).get("string", "")
            large = p.get("largeCommunity", {}).get("string", "")
            lp = p.get("locPrf", p.get("localpref"))
            out.append(Path(
                prefix=str(ipaddress.ip_network(prefix)), next_hop=nh,
                as_path=as_path, communities=_norm_comm(comms.split()),
                large_communities=_norm_comm(large.split()),
                med=p.get("metric", p.get("med")),
                local_pref=(lp if lp is not None else 100) if self.ibgp
                else None,
                origin=p.get("origin", "IGP").lower(),
                path_id=p.get("addpathTxId")))
        return out

    def _graceful_stop(self):
        pass  # SIGTERM: bgpd sends Cease/administrative shutdown


# ---------------------------------------------------------------- BIRD

class BirdPeer(_Peer):
    """BIRD 2.0.12: bird -c DIR/bird.conf -s DIR/bird.ctl -P DIR/bird.pid -f
    queried with birdc -s DIR/bird.ctl. Routes are static protocols (one
    per route, so two Routes for one prefix are two paths and ADD-PATH
    "add paths tx" sends both), attributes set in the BGP export filter
    by a per-route "if net = ... && proto = ..." clause; "next hop keep"
    keeps the route's bgp_next_hop on eBGP. Runtime announce/withdraw
    rewrite the config and run "birdc configure". Route.path_id is
    ignored (BIRD chooses the ids; advertised() reports None). "multihop"
    avoids BIRD's directly-connected check on loopback; BIRD listens on
    "local 127.0.0.N port FREE" with "strict bind", never on 179."""

    name = "bird"

    def _static_name(self, i):
        return "fa_static_%d" % i

    def _config(self):
        n = self.peer_address
        c = ['log "%s" all;' % self.path("bird.log"),
             "router id %s;" % self.router_id,
             "protocol device { scan time 10; }"]
        filt = {"ipv4": [], "ipv6": []}
        for i, r in enumerate(self.routes):
            name = self._static_name(i)
            c.append("protocol static %s { %s; route %s blackhole; }" % (
                name, r.family, r.prefix))
            sets = []
            sets.append("bgp_next_hop = %s;" % r.next_hop)
            for a in reversed(r.as_path):
                sets.append("bgp_path.prepend(%d);" % a)
            for cm in r.communities:
                a, b = cm.split(":")
                sets.append("bgp_community.add((%s,%s));" % (a, b))
            for cm in r.large_communities:
                a, b, d = cm.split(":")
                sets.append("bgp_large_community.add((%s,%s,%s));" % (a, b, d))
            if r.med is not None:
                sets.append("bgp_med = %d;" % r.med)
            if r.local_pref is not None:
                sets.append("bgp_local_pref = %d;" % r.local_pref)
            sets.append("bgp_origin = ORIGIN_%s;" % r.origin.upper())
            filt[r.family].append(
                '  if proto = "%s" then { %s accept; }' %
                (name, " ".join(sets)))
        for fam in ("ipv4", "ipv6"):
            c.append("filter fa_export_%s {" % fam)
            c += filt[fam]
            c.append("  reject;")
            c.append("}")
        c.append("protocol bgp fa_peer {")
        # BIRD always listens too: on its own free port and address, never
        # on 179 (a second BIRD would fail to bind it)
        if not getattr(self, "listen_port", None):
            self.listen_port = free_port(self.local_address)
        c.append("  local %s port %d as %d;" % (
            self.local_address, self.listen_port, self.local_as))
        c.append("  strict bind on;")
        c.append("  neighbor %s port %d as %d;" % (n, self.peer_port,
                                                 self.peer_as))
        c.append("  router id %s;" % self.router_id)
        c.append("  multihop;")  # no connected-subnet check on loopback
        c.append("  connect retry time 2;")
        c.append("  connect delay time 1;")
        c.append("  error wait time 1, 10;")
        c.append("  hold time %d;" % self.hold_time)
        if self.md5_password:
            c.append('  password "%s";' % self.md5_password)
        if self.graceful_restart:
            c.append("  graceful restart on;")
        for fam in self.families:
            c.append("  %s {" % fam)
            c.append("    import none;")
            c.append("    export filter fa_export_%s;" % fam)
            c.append("    next hop keep;")
            if self.add_path_send:
                c.append("    add paths tx;")
            if fam == "ipv6":
                c.append("    extended next hop off;")
            c.append("  };")
        c.append("}")
        return "\n".join(c) + "\n"

    def _write_config(self):
        conf = self.path("bird.conf")
        with open(conf + ".tmp", "w") as f:
            f.write(self._config())
        os.replace(conf + ".tmp", conf)
        return conf

    def start(self, timeout=30, restarting=False):
        if self.running():
            return
        conf = self._write_config()
        argv = [BIRD, "-c", conf, "-s", self.path("bird.ctl"),
                "-P", self.path("bird.pid"), "-f"]
        if restarting and self.graceful_restart:
            argv.append("-R")
        self._spawn(argv, log="stdout.log")
        if "bird.log" not in self._logs:
            self._logs.append("bird.log")
        self._started(lambda: "fa_peer" in self.birdc("show protocols"),
                      timeout)

    def birdc(self, *words, timeout=10):
        return self._run([BIRDC, "-s", self.path("bird.ctl")] + list(words),
                         timeout=timeout)

    def established(self):
        out = self.birdc("show", "protocols", "all", "fa_peer")
        return re.search(r"BGP state:\s+Established", out) is not None

    def _reconfigure(self):
        self._write_config()
        out = self.birdc("configure")
        if "Reconfigur" not in out:  # "Reconfigured", "...in progress"
            self._fail("birdc configure: %s" % out)

    def announce(self, routes, timeout=15):
        for r in routes:
            self._check_route(r)
        self.routes += list(routes)
        self._reconfigure()

    def withdraw(self, routes, timeout=15):
        gone = {(r.prefix, r.next_hop) for r in routes}
        self.routes = [x for x in self.routes
                       if (x.prefix, x.next_hop) not in gone]
        self._reconfigure()

    def advertised(self, family=None, timeout=15):
        paths = []
        for fam in self.families:
            if family and fam != family:
                continue
            out = self.birdc("show", "route", "export", "fa_peer.%s" % fam,
                             "all")
            paths += self._parse(out)
        return sorted_paths(paths)

    def _parse(self, out):
        paths = []
        cur = None
        prefix = None
        for line in out.splitlines():
            m = re.match(r"^(\S+/\d+)\s+\S+", line)
            m2 = re.match(r"^\s+(unicast|blackhole|unreachable|prohibit)"
                          r"\s+\[", line)
            if m and not line.startswith(" "):
                prefix = m.group(1)
            if (m and not line.startswith(" ")) or m2:
                if cur:
                    paths.append(cur)
                cur = {"prefix": prefix}
                continue
            if cur is None:
                continue
            a = re.match(r"^\s+BGP\.(\w+):\s*(.*)$", line)
            if a:
                cur[a.group(1)] = a.group(2).strip()
        if cur:
            paths.append(cur)
        return [self._path(p) for p in paths]

    def _path(self, p):
        as_path = tuple(int(x) for x in p.get("as_path", "").split()
                        if x.isdigit())
        if not self.ibgp:
            as_path = (self.local_as,) + as_path
        comms = re.findall(r"\((\d+),\s*(\d+)\)", p.get("community", ""))
        large = re.findall(r"\((\d+),\s*(\d+),\s*(\d+)\)",
                           p.get("large_community", ""))
        med = p.get("med")
        lp = p.get("local_pref")
        return Path(
            prefix=str(ipaddress.ip_network(p["prefix"])),
            next_hop=p.get("next_hop", "").split()[0],
            as_path=as_path,
            communities=_norm_comm("%s:%s" % c for c in comms),
            large_communities=_norm_comm("%s:%s:%s" % c for c in large),
            med=int(med) if med is not None else None,
            local_pref=(int(lp) if lp is not None else 100)
            if self.ibgp else None,
            origin=p.get("origin", "IGP").lower(),
            path_id=None)


# ---------------------------------------------------------------- GoBGP

def _gobgp_neighbor_toml(address, peer_as, local_address, families,
                         remote_port=None, passive=False, add_path_send=0,
                         add_path_receive=False, md5_password=None,
                         graceful_restart=False, hold_time=90):
    c = ["[[neighbors]]",
         "  [neighbors.config]",
         '    neighbor-address = "%s"' % address,
         "    peer-as = %d" % peer_as]
    if md5_password:
        c.append('    auth-password = "%s"' % md5_password)
    c += ["  [neighbors.timers.config]",
          "    connect-retry = 2",
          "    hold-time = %d" % hold_time,
          "    keepalive-interval = %d" % max(hold_time // 3, 1),
          "  [neighbors.transport.config]",
          '    local-address = "%s"' % local_address]
    if remote_port:
        c.append("    remote-port = %d" % remote_port)
    if passive:
        c.append("    passive-mode = true")
    if graceful_restart:
        c += ["  [neighbors.graceful-restart.config]",
              "    enabled = true",
              "    restart-time = 120",
              # restarting (gobgpd -r), GoBGP sends nothing until the peer's
              # End-of-RIB or this timer: keep the wait short in tests
              "    deferral-time = 10"]
    for fam in families:
        c += ["  [[neighbors.afi-safis]]",
              "    [neighbors.afi-safis.config]",
              '      afi-safi-name = "%s-unicast"' % fam]
        if graceful_restart:
            c += ["    [neighbors.afi-safis.mp-graceful-restart.config]",
                  "      enabled = true"]
        if add_path_send or add_path_receive:
            c += ["    [neighbors.afi-safis.add-paths.config]"]
            if add_path_receive:
                c.append("      receive = true")
            if add_path_send:
                c.append("      send-max = %d" % add_path_send)
    return c


def _gobgp_paths(doc, ibgp_local_pref=True):
    """Paths from `gobgp ... adj-in/adj-out/rib -j` output."""
    out = []
    if isinstance(doc, dict):
        items = doc.items()
    else:
        items = [(None, d) for d in (doc or [])]
    for _, dests in items:
        for p in dests if isinstance(dests, list) else [dests]:
            out.append(_gobgp_path(p, ibgp_local_pref))
    return out


def _gobgp_path(p, want_local_pref):
    prefix = p["nlri"]["prefix"]
    nh = ""
    as_path = ()
    comms = ()
    large = ()
    med = None
    lp = None
    origin = "igp"
    for a in p.get("attrs", []):
        t = a.get("type")
        if t == 1:
            origin = ORIGINS[a.get("value", 0)]
        elif t == 2:
            segs = a.get("as_paths") or []
            asns = []
            for s in segs:
                asns += s.get("asns", [])
            as_path = tuple(asns)
        elif t == 3:
            nh = a.get("nexthop", "")
        elif t == 4:
            med = a.get("metric")
        elif t == 5:
            lp = a.get("value")
        elif t == 8:
            comms = tuple("%d:%d" % (c >> 16, c & 0xFFFF)
                          for c in a.get("communities", []))
        elif t == 32:
            large = tuple("%d:%d:%d" % (c["ASN"], c["LocalData1"],
                                        c["LocalData2"])
                          for c in a.get("value", []))
        elif t == 14:
            nhs = a.get("nexthop") or ""
            if isinstance(nhs, list):
                nhs = nhs[0] if nhs else ""
            nh = nhs
    return Path(prefix=str(ipaddress.ip_network(prefix)), next_hop=nh,
                as_path=as_path, communities=_norm_comm(comms),
                large_communities=_norm_comm(large), med=med,
                local_pref=lp if want_local_pref else None, origin=origin,
                path_id=None)


def _gobgp_global_toml(local_as, router_id, port, local_address):
    return ["[global.config]",
            "  as = %d" % local_as,
            '  router-id = "%s"' % router_id,
            "  port = %d" % port,
            '  local-address-list = ["%s"]' % local_address]


class _Gobgp(_Peer):
    def _spawn_gobgpd(self, conf, restarting=False):
        self.api_port = getattr(self, "api_port", None) or free_port()
        argv = [GOBGPD, "-f", conf, "-t", "toml", "-p",
                "--api-hosts", "127.0.0.1:%d" % self.api_port,
                "--pprof-disable", "-l", "info"]
        if restarting and self.graceful_restart:
            argv.append("-r")
        self._spawn(argv, log="gobgpd.log")
        self._started(lambda: self.gobgp("global", check=True) and True,
                      30)

    def gobgp(self, *args, timeout=10, check=True):
        return self._run([GOBGP, "-u", "127.0.0.1", "-p", str(self.api_port)]
                         + list(args), timeout=timeout, check=check)

    def gobgp_json(self, *args):
        out = self.gobgp(*(list(args) + ["-j"]))
        try:
            return json.loads(out) if out.strip() else None
        except ValueError:
            raise PeerError("gobgp %s: not JSON: %s" % (args, out[:500]))

    def rib_paths(self, *args, ibgp=False):
        """Paths of a `gobgp ... -a FAMILY` table (adj-in, adj-out), with
        the ADD-PATH ids, which only the text output shows (ID column)."""
        doc = self.gobgp_json(*args)
        paths = _gobgp_paths(doc, ibgp)
        ids = {}
        text = self.gobgp(*args).splitlines()
        if text and text[0].split()[:1] == ["ID"]:
            for line in text[1:]:
                w = line.split()
                if len(w) >= 3 and w[0].isdigit():
                    key = (str(ipaddress.ip_network(w[1])), w[2])
                    ids.setdefault(key, []).append(int(w[0]))
        out = []
        for p in paths:
            got = ids.get((p.prefix, p.next_hop))
            out.append(replace(p, path_id=got.pop(0) if got else None))
        return out

    def neighbor_state(self, neighbor):
        j = self.gobgp_json("neighbor", neighbor)
        st = (j or {}).get("state", {}).get("session_state")
        # the JSON has the gRPC enum number: 1 idle .. 6 established
        names = {1: "idle", 2: "connect", 3: "active", 4: "opensent",
                 5: "openconfirm", 6: "established"}
        return names.get(st, st if isinstance(st, str) else "unknown")


class GobgpPeer(_Gobgp):
    """GoBGP 3.10: gobgpd -f DIR/gobgpd.toml -p --api-hosts 127.0.0.1:API
    --pprof-disable; global port = -1 (no BGP listener); the neighbour has
    transport local-address and remote-port. Routes are "gobgp global rib
    add" (with "identifier N" for Route.path_id, so ADD-PATH send-max
    sends several paths of one prefix); advertised() is
    "gobgp neighbor X adj-out -a ipv4|ipv6 -j"."""

    name = "gobgp"

    def _config(self):
        c = _gobgp_global_toml(self.local_as, self.router_id, -1,
                               self.local_address)
        c += _gobgp_neighbor_toml(
            self.peer_address, self.peer_as, self.local_address,
            self.families, remote_port=self.peer_port,
            add_path_send=8 if self.add_path_send else 0,
            md5_password=self.md5_password,
            graceful_restart=self.graceful_restart, hold_time=self.hold_time)
        return "\n".join(c) + "\n"

    def start(self, timeout=30, restarting=False):
        if self.running():
            return
        conf = self.path("gobgpd.toml")
        with open(conf, "w") as f:
            f.write(self._config())
        self._spawn_gobgpd(conf, restarting)
        for r in self.routes:
            self._rib("add", r)

    def _rib(self, verb, r):
        args = ["global", "rib", "-a", r.family, verb, r.prefix]
        if r.path_id is not None:
            args += ["identifier", str(r.path_id)]
        if verb == "add":
            args += ["nexthop", r.next_hop, "origin", r.origin]
            if r.as_path:
                args += ["aspath", " ".join(str(a) for a in r.as_path)]
            if r.communities:
                args += ["community", ",".join(r.communities)]
            if r.large_communities:
                args += ["large-community", ",".join(r.large_communities)]
            if r.med is not None:
                args += ["med", str(r.med)]
            if r.local_pref is not None:
                args += ["local-pref", str(r.local_pref)]
        self.gobgp(*args)

    def established(self):
        return self.neighbor_state(self.peer_address) == "established"

    def announce(self, routes, timeout=15):
        for r in routes:
            self._check_route(r)
            self._rib("add", r)
            self.routes.append(r)

    def withdraw(self, routes, timeout=15):
        for r in routes:
            self._rib("del", r)
        gone = {(r.prefix, r.path_id) for r in routes}
        self.routes = [x for x in self.routes
                       if (x.prefix, x.path_id) not in gone]

    def advertised(self, family=None, timeout=15):
        paths = []
        for fam in self.families:
            if family and fam != family:
                continue
            paths += self.rib_paths("neighbor", self.peer_address,
                                    "adj-out", "-a", fam, ibgp=self.ibgp)
        if not self.add_path_send:
            paths = [replace(p, path_id=None) for p in paths]
        return sorted_paths(paths)


class GobgpReceiver(_Gobgp):
    """A passive gobgpd: listens on local_address:port (an ephemeral port)
    for the given neighbours (address -> AS), never connects; keeps
    adj-in (ADD-PATH receive on when add_path_receive). Used by the
    self-test as a stand-in for the speaker under test."""

    name = "gobgp-receiver"

    def __init__(self, local_address, local_as, neighbors, port=None,
                 families=("ipv4", "ipv6"), add_path_receive=True,
                 md5_passwords=None, workdir=None, keep_dir=False):
        self.port = port or free_port(local_address)
        super().__init__(local_address, local_as, local_address, self.port,
                         peer_as=local_as, families=families,
                         workdir=workdir, keep_dir=keep_dir)
        self.neighbors = dict(neighbors)
        self.add_path_receive = add_path_receive
        self.md5_passwords = md5_passwords or {}

    def _config(self):
        c = _gobgp_global_toml(self.local_as, self.router_id, self.port,
                               self.local_address)
        # Like the passive speaker, send no UPDATEs: by default gobgpd
        # would re-advertise one peer's routes to the others (next hop
        # 127.0.0.1, which FRR rejects as martian, resetting the session).
        c += ["[global.apply-policy.config]",
              '  default-export-policy = "reject-route"']
        for addr, asn in sorted(self.neighbors.items()):
            c += _gobgp_neighbor_toml(
                addr, asn, self.local_address, self.families, passive=True,
                add_path_receive=self.add_path_receive,
                md5_password=self.md5_passwords.get(addr))
        return "\n".join(c) + "\n"

    def start(self, timeout=30, restarting=False):
        if self.running():
            return
        conf = self.path("gobgpd.toml")
        with open(conf, "w") as f:
            f.write(self._config())
        self._spawn_gobgpd(conf)
        self._started(lambda: _accepts(self.local_address, self.port),
                      timeout)

    def established(self):
        return all(self.neighbor_state(a) == "established"
                   for a in self.neighbors)

    def adj_in(self, neighbor, family=None):
        paths = []
        for fam in self.families:
            if family and fam != family:
                continue
            ibgp = self.neighbors[neighbor] == self.local_as
            paths += self.rib_paths("neighbor", neighbor, "adj-in", "-a",
                                    fam, ibgp=ibgp)
        return sorted_paths(paths)


def _accepts(host, port):
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


# ---------------------------------------------------------------- ExaBGP

_EXABGP_API_HELPER = r'''
import os, sys, threading
fifo, events = sys.argv[1], sys.argv[2]
def reader():
    with open(events, "a") as out:
        for line in sys.stdin:
            out.write(line)
            out.flush()
    os._exit(0)
threading.Thread(target=reader, daemon=True).start()
while True:
    with open(fifo) as f:
        for line in f:
            sys.stdout.write(line)
            sys.stdout.flush()
'''


class ExabgpPeer(_Peer):
    """ExaBGP 4.2: exabgp DIR/exabgp.conf with the environment
    exabgp.daemon.user=root, exabgp.daemon.drop=false,
    exabgp.log.destination=DIR/exabgp.log, exabgp.api.cli=false,
    exabgp.tcp.bind='' (no listener); the neighbour has local-address and
    "connect PORT". Routes of the constructor are in the config's static
    section; runtime announce/withdraw go through its API: a helper
    process (DIR/api_helper.py, started by ExaBGP) copies lines written
    to the FIFO DIR/api.fifo to ExaBGP and ExaBGP's answers ("done",
    "error", state changes as JSON) to DIR/api.events.

    ExaBGP sends the AS path verbatim: the local AS is prepended here on
    eBGP so Route.as_path means the same as for the other daemons.
    ExaBGP has no RIB: advertised() is the set of routes it was told to
    announce, as they go on the wire."""

    name = "exabgp"
    # False: no 4-octet AS capability ("asn4 disable"), so the session
    # carries 2-octet AS_PATHs and AS4_PATH / AS4_AGGREGATOR are parsed
    # by the speaker (RFC 6793 §4.2.3). Set before start().
    asn4 = True

    def _route_line(self, r, withdraw=False):
        fam_as_path = r.as_path if self.ibgp else (self.local_as,) + r.as_path
        w = ["route", r.prefix, "next-hop", r.next_hop]
        if r.path_id is not None:
            w += ["path-information", str(r.path_id)]
        if withdraw:
            return " ".join(w)
        w += ["origin", r.origin, "as-path",
              "[ %s ]" % " ".join(str(a) for a in fam_as_path)]
        if r.communities:
            w += ["community", "[ %s ]" % " ".join(r.communities)]
        if r.large_communities:
            w += ["large-community", "[ %s ]" % " ".join(r.large_communities)]
        if r.med is not None:
            w += ["med", str(r.med)]
        if self.ibgp:
            w += ["local-preference",
                  str(100 if r.local_pref is None else r.local_pref)]
        for code, flags, value in r.attributes:
            w += ["attribute", "[ 0x%02x 0x%02x 0x%s ]" % (
                code, flags, bytes(value).hex())]
        return " ".join(w)

    def _config(self):
        c = ["process fa_api {",
             "  run %s %s %s %s;" % (PYTHON, self.path("api_helper.py"),
                                     self.path("api.fifo"),
                                     self.path("api.events")),
             "  encoder json;",
             "}",
             "neighbor %s {" % self.peer_address,
             "  router-id %s;" % self.router_id,
             "  local-address %s;" % self.local_address,
             "  local-as %d;" % self.local_as,
             "  peer-as %d;" % self.peer_as,
             "  connect %d;" % self.peer_port,
             "  hold-time %d;" % self.hold_time,
             "  group-updates false;",
             # keep what was announced and send it again on every new
             # session: without it ExaBGP sends its routes once, on the
             # first TCP connection, even if that one fails before OPEN.
             "  adj-rib-out true;"]
        if self.md5_password:
            c.append("  md5-password '%s';" % self.md5_password)
        c.append("  family {")
        for fam in self.families:
            c.append("    %s unicast;" % fam)
        c.append("  }")
        caps = []
        if self.add_path_send:
            caps.append("    add-path send;")
        if self.graceful_restart:
            caps.append("    graceful-restart 120;")
        if not self.asn4:
            caps.append("    asn4 disable;")
        if caps:
            c += ["  capability {"] + caps + ["  }"]
        c += ["  api {", "    processes [ fa_api ];", "    neighbor-changes;",
              "  }"]
        if self.routes:
            c.append("  static {")
            for r in self.routes:
                c.append("    %s;" % self._route_line(r))
            c.append("  }")
        c.append("}")
        return "\n".join(c) + "\n"

    def _env(self):
        env = dict(os.environ)
        env.update({
            "exabgp.daemon.user": "root",
            "exabgp.daemon.drop": "false",
            "exabgp.daemon.daemonize": "false",
            "exabgp.daemon.pid": self.path("exabgp.pid"),
            "exabgp.log.destination": self.path("exabgp.log"),
            "exabgp.log.level": "INFO",
            "exabgp.log.packets": "true",
            "exabgp.log.routes": "true",
            "exabgp.api.cli": "false",
            "exabgp.api.ack": "true",
            "exabgp.tcp.bind": "",
            "exabgp.tcp.port": str(self.peer_port),
            "exabgp.cache.attributes": "false",
        })
        return env

    def start(self, timeout=30, restarting=False):
        if self.running():
            return
        with open(self.path("api_helper.py"), "w") as f:
            f.write(_EXABGP_API_HELPER)
        fifo = self.path("api.fifo")
        if not os.path.exists(fifo):
            os.mkfifo(fifo, 0o600)
        open(self.path("api.events"), "w").close()
        conf = self.path("exabgp.conf")
        with open(conf, "w") as f:
            f.write(self._config())
        self._spawn([EXABGP, conf], env=self._env(), log="stdout.log")
        if "exabgp.log" not in self._logs:
            self._logs.append("exabgp.log")
        self._started(self._api_ready, timeout)

    def _api_ready(self):
        try:
            fd = os.open(self.path("api.fifo"), os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            return False
        os.close(fd)
        return True

    def _events(self):
        try:
            with open(self.path("api.events"), errors="replace") as f:
                return f.read().splitlines()
        except OSError:
            return []

    def established(self):
        state = None
        for line in self._events():
            if not line.startswith("{"):
                continue
            try:
                j = json.loads(line)
            except ValueError:
                continue
            if j.get("type") == "state":
                state = j.get("neighbor", {}).get("state")
        return state == "up"

    def down_reasons(self):
        """The reason of each session-down ExaBGP reported, oldest first:
        e.g. "peer reset, message (notification received (3,2)) ..." when
        the speaker sent a NOTIFICATION 3/2."""
        out = []
        for line in self._events():
            if not line.startswith("{"):
                continue
            try:
                j = json.loads(line)
            except ValueError:
                continue
            if j.get("type") == "state" and \
                    j.get("neighbor", {}).get("state") == "down":
                out.append(j["neighbor"].get("reason", ""))
        return out

    def api(self, command, timeout=15):
        """Send one API command; wait for ExaBGP's "done" (returns) or
        "error" (raises)."""
        before = sum(1 for l in self._events() if l in ("done", "error"))
        deadline = time.monotonic() + timeout
        while True:
            try:
                fd = os.open(self.path("api.fifo"),
                             os.O_WRONLY | os.O_NONBLOCK)
                break
            except OSError:
                if time.monotonic() > deadline or not self.running():
                    self._fail("API pipe not open")
                time.sleep(0.1)
        try:
            os.write(fd, (command.strip() + "\n").encode())
        finally:
            os.close(fd)
        while time.monotonic() < deadline:
            acks = [l for l in self._events() if l in ("done", "error")]
            if len(acks) > before:
                if acks[before] == "error":
                    self._fail("API error for: %s" % command)
                return
            time.sleep(0.1)
        self._fail("no API answer for: %s" % command)

    def announce(self, routes, timeout=15):
        for r in routes:
            self._check_route(r)
        for r in routes:
            self.api("announce " + self._route_line(r), timeout)
            self.routes = [x for x in self.routes
                           if (x.prefix, x.path_id) != (r.prefix, r.path_id)]
            self.routes.append(r)

    def withdraw(self, routes, timeout=15):
        for r in routes:
            self.api("withdraw " + self._route_line(r, withdraw=True), timeout)
        gone = {(r.prefix, r.path_id) for r in routes}
        self.routes = [x for x in self.routes
                       if (x.prefix, x.path_id) not in gone]

    def advertised(self, family=None, timeout=15):
        return sorted_paths(
            self._wire(r, (r.path_id or 0) if self.add_path_send else None)
            for r in self.routes if not family or r.family == family)

    def announce_raw_attributes(self, prefix, next_hop, attributes,
                                as_path=None, timeout=15, **kw):
        """Announce prefix with hand-crafted path attributes, for RFC 7606
        tests: attributes is a list of (type_code, flags, value_bytes).

        ExaBGP 4.2 packs each one as flags | type | length | value, with the
        length computed from value (one byte, or two when flags has
        0x10 Extended Length or value exceeds 255 bytes), and keeps them
        sorted by type code among its own attributes. What it CAN produce:
          - any flags on any attribute: wrong Optional/Transitive bits on a
            well-known attribute (e.g. ORIGIN with 0x80), Partial on a
            well-known one, Extended Length on a short attribute;
          - a well-known attribute replaced by a generic one of the same
            code with a bad value or a bad length for its type: ORIGIN of
            0 or 2 bytes or value 3..255, MED /
            LOCAL_PREF not 4 bytes, ATOMIC_AGGREGATE not empty,
            AGGREGATOR of 5 bytes, COMMUNITIES not a multiple of 4 (or
            empty), LARGE_COMMUNITY (32) not a multiple of 12,
            EXTENDED_COMMUNITIES (16) not a multiple of 8, an AS_PATH
            whose segment type is not 1..4 or whose segment count does
            not match the bytes that follow (the attribute length stays
            right, only the contents lie), AS4_PATH / AS4_AGGREGATOR
            garbage;
          - unknown attribute codes, well-known (0x40, must be
            recognised: "unrecognized well-known") or optional (0x80,
            0xC0 transitive, 0xE0 transitive+partial), empty values,
            values up to ~4000 bytes;
          - the generic attribute must be given BEFORE the next-hop etc.
            keywords to replace a known one: this method puts it first.
          - NOT a generic NEXT_HOP (3), of any length: ExaBGP then closes
            each connection right after OPEN without sending the UPDATE
            (and, the route being in its adj-rib-out, on every reconnect).
            A martian next hop is fine through next_hop itself.
        What it CANNOT produce: an attribute length field that disagrees
        with the value (framing errors: attribute length overrunning the
        path attributes, total path attribute length wrong, UPDATE length
        wrong - all lengths are computed); two attributes with the same
        code (ExaBGP keeps one per code, the first given) except that a
        generic MP_REACH_NLRI (14) for an IPv4 route comes in addition
        to nothing while for an IPv6 route ExaBGP adds its own MP_REACH
        too, giving a duplicate MP_REACH_NLRI; a missing ORIGIN or
        AS_PATH (ExaBGP adds defaults when absent: ORIGIN IGP, AS_PATH
        [] on iBGP / [local AS] on eBGP; only a malformed one of the
        same code can replace them) - a missing NEXT_HOP can not be
        produced for an IPv4 route either (next-hop is mandatory in the
        route syntax); attributes out of type-code order (always sorted,
        MP_(UN)REACH last); malformed NLRI (prefix length > 32/128) or
        malformed withdrawn routes, bad marker, bad message type, bad
        OPEN. For those a raw socket client is needed.
        """
        r = Route(prefix, next_hop,
                  as_path=as_path if as_path is not None else (),
                  attributes=tuple((int(c), int(f), bytes(v))
                                   for c, f, v in attributes), **kw)
        self._check_route(r)
        line = ["announce route", r.prefix]
        for code, flags, value in r.attributes:
            line += ["attribute", "[ 0x%02x 0x%02x 0x%s ]" % (
                code, flags, value.hex())]
        rest = self._route_line(r).split(" ", 2)[2]  # after "route PREFIX"
        rest = re.sub(r" attribute \[[^\]]*\]", "", rest)
        line.append(rest)
        self.api(" ".join(line), timeout)
        self.routes.append(r)
        return r

    def _graceful_stop(self):
        pass  # SIGTERM: ExaBGP sends Cease and exits
