#!/usr/bin/python3
"""End-to-end tests of `flowacct replay` (loopback UDP only).

A Python UDP receiver on 127.0.0.1 collects what `flowacct replay` sends,
writes it to a pcap (raw IPv4 link type, the receiver's view of each source
address and port) and `flowacct decode --summary-only` decodes it, so the
generator is checked by the project's decoder and the replayer against the
capture bytes.

  replay_test.py --flowacct BIN [CHECK ...]

Checks:
  synthetic_ipfix / synthetic_v9  1005 records, 10 per datagram, template
      every 30 datagrams: the printed counts are exact (101 datagrams, 1005
      records), every datagram arrives, the decoder finds 1005 records, no
      errors and no sequence loss.
  capture   the bundled NetFlow v9 and IPFIX captures replayed twice
      (--loop 2): payloads arrive byte-identical, in order, twice; printed
      records equal twice the decoder's count of the capture.
  exporters a capture with two exporters gets two sockets with distinct
      127.1.0.x sources; --single-socket uses one source.
  sequence_rewrite  --loop 3 of two NetFlow v5 exporters: without the
      option the sequence numbers restart each pass (the decoder sees loss,
      resets or reordering); with it they continue (0, 2, 3, 5, 6, 8 for 2+1
      flows per pass) and the decoder reports no loss, reset or reordering.
  rate      --rate 200 with 20 datagrams takes at least ~0.09 s (pacing is
      applied; no upper bound is asserted).
  usage     bad arguments exit 1.

Exit status 0 when every selected check passed, 1 otherwise.
"""

import argparse
import os
import re
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
CAPTURES = os.path.join(REPO, "examples", "captures")
NF9 = os.path.join(CAPTURES, "logstash-nf9-cisco-asr9k.pcap")
IPFIX = os.path.join(CAPTURES, "logstash-ipfix-two-messages.pcap")


class CheckFailed(Exception):
    pass


def expect(cond, msg):
    if not cond:
        raise CheckFailed(msg)


class Receiver:
    """Collects datagrams on 127.0.0.1:<ephemeral> in a thread."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:  # SO_RCVBUFFORCE (root), else SO_RCVBUF
            self.sock.setsockopt(socket.SOL_SOCKET, 33, 32 << 20)
        except OSError:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.got = []  # (src_ip, src_port, payload)
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop:
            try:
                data, (ip, port) = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            self.got.append((ip, port, data))

    def wait_for(self, n, timeout_s=20.0):
        deadline = time.monotonic() + timeout_s
        while len(self.got) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.1)  # anything beyond n would show up now
        self._stop = True
        self._thread.join()
        self.sock.close()
        return self.got

    def write_pcap(self, path):
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))
            for i, (ip, port, data) in enumerate(self.got):
                udp = struct.pack("!HHHH", port, self.port, 8 + len(data), 0)
                iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28 + len(data), i,
                                  0, 64, 17, 0, socket.inet_aton(ip),
                                  socket.inet_aton("127.0.0.1"))
                frame = iph + udp + data
                f.write(struct.pack("<IIII", 1700000000 + i, 0, len(frame),
                                    len(frame)))
                f.write(frame)


def run(cmd, timeout=120):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def parse_sent(stdout):
    m = re.search(r"sent (\d+) datagrams, (\d+) records, (\d+) counter "
                  r"records, (\d+) bytes", stdout)
    expect(m is not None, "no 'sent ...' line in %r" % stdout)
    return tuple(int(x) for x in m.groups())


def summary_rows(flowacct, pcap):
    """Exporter rows of `decode --summary-only`: name -> dict."""
    r = run([flowacct, "decode", pcap, "--summary-only"])
    expect(r.returncode == 0, "decode failed: %s" % r.stderr)
    rows = {}
    for line in r.stdout.splitlines():
        if line.startswith("#") or line.startswith("exporter"):
            continue
        f = line.split()
        if len(f) < 8:
            continue
        rows[f[0]] = {"datagrams": int(f[1]), "records": int(f[2]),
                      "options": int(f[3]), "errors": int(f[6]),
                      "lost": int(f[7].split("/")[2])}
    return rows


def check_synthetic(flowacct, proto):
    rx = Receiver()
    r = run([flowacct, "replay", "--synthetic", proto, "--records", "1005",
             "--flows-per-datagram", "10", "--template-refresh", "30",
             "--to", "127.0.0.1:%d" % rx.port])
    expect(r.returncode == 0, "replay failed: %s" % r.stderr)
    datagrams, records, counters, nbytes = parse_sent(r.stdout)
    expect((datagrams, records, counters) == (101, 1005, 0),
           "printed %r" % ((datagrams, records, counters),))
    got = rx.wait_for(101)
    expect(len(got) == 101, "received %d datagrams" % len(got))
    expect(sum(len(d) for _, _, d in got) == nbytes, "byte count differs")
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, "rx.pcap")
        rx.write_pcap(pcap)
        rows = summary_rows(flowacct, pcap)
    expect(len(rows) == 1, "exporters: %r" % rows)
    row = list(rows.values())[0]
    expect(row["datagrams"] == 101, "decoded datagrams %r" % row)
    expect(row["records"] == 1005, "decoded records %r" % row)
    expect(row["errors"] == 0, "decode errors %r" % row)
    expect(row["lost"] == 0, "sequence loss %r" % row)


def capture_payloads(path):
    """UDP payloads of an Ethernet/IPv4 pcap (enough for the bundled ones)."""
    out = []
    with open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack("<I", data[:4])
    expect(magic == 0xA1B2C3D4, "%s: not a little-endian pcap" % path)
    linktype, = struct.unpack("<I", data[20:24])
    expect(linktype == 1, "%s: link type %d" % (path, linktype))
    off = 24
    while off + 16 <= len(data):
        incl, = struct.unpack("<I", data[off + 8:off + 12])
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        eth_type, = struct.unpack("!H", frame[12:14])
        if eth_type != 0x0800:
            continue
        ip = frame[14:]
        ihl = (ip[0] & 15) * 4
        total, = struct.unpack("!H", ip[2:4])
        if ip[9] != 17:
            continue
        udp = ip[ihl:total]
        ulen, = struct.unpack("!H", udp[4:6])
        out.append(udp[8:ulen])
    return out


def check_capture(flowacct):
    for cap in (NF9, IPFIX):
        # What the capture holds, per the decoder.
        rows = summary_rows(flowacct, cap)
        # Flow records plus options records, as replay counts them.
        cap_records = sum(r["records"] + r["options"] for r in rows.values())
        cap_datagrams = sum(r["datagrams"] for r in rows.values())
        rx = Receiver()
        r = run([flowacct, "replay", cap, "--loop", "2", "--to",
                 "127.0.0.1:%d" % rx.port])
        expect(r.returncode == 0, "replay failed: %s" % r.stderr)
        datagrams, records, _, _ = parse_sent(r.stdout)
        expect(datagrams == 2 * cap_datagrams,
               "%s: sent %d datagrams" % (cap, datagrams))
        expect(records == 2 * cap_records,
               "%s: sent %d records, capture has %d" % (cap, records,
                                                        cap_records))
        got = rx.wait_for(datagrams)
        expect(len(got) == datagrams, "received %d" % len(got))
        # Payloads: the capture's, byte-identical, in order, twice.
        want = capture_payloads(cap)
        expect(len(want) == cap_datagrams, "capture parse: %d" % len(want))
        expect([d for _, _, d in got] == want + want,
               "received payloads differ from the capture's")
        with tempfile.TemporaryDirectory() as tmp:
            pcap = os.path.join(tmp, "rx.pcap")
            rx.write_pcap(pcap)
            rx_rows = summary_rows(flowacct, pcap)
        expect(sum(r["records"] + r["options"] for r in rx_rows.values()) ==
               2 * cap_records,
               "received capture decodes to fewer records: %r" % rx_rows)
        expect(all(r["errors"] == 0 for r in rx_rows.values()) or
               any(r["errors"] for r in rows.values()),
               "decode errors only after replay: %r" % rx_rows)


def two_exporter_pcap(path):
    """Two NetFlow v5 exporters (192.0.2.1 and 192.0.2.2), raw IPv4 pcap."""
    def v5(seq, n):
        hdr = struct.pack("!HHIIIIBBH", 5, n, 1000, 1700000000, 0, seq, 0, 0,
                          0)
        rec = struct.pack("!IIIHHIIIIHHBBBBHHBBH", 0x0A000001, 0x0A000002, 0,
                          1, 2, 3, 300, 500, 900, 1234, 80, 0, 0x10, 6, 0, 0,
                          0, 24, 24, 0)
        return hdr + rec * n
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))
        for i, (src, data) in enumerate([("192.0.2.1", v5(0, 2)),
                                         ("192.0.2.2", v5(0, 3)),
                                         ("192.0.2.1", v5(2, 1))]):
            udp = struct.pack("!HHHH", 5000, 2055, 8 + len(data), 0)
            iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28 + len(data), i, 0,
                              64, 17, 0, socket.inet_aton(src),
                              socket.inet_aton("198.51.100.1"))
            frame = iph + udp + data
            f.write(struct.pack("<IIII", 1700000000 + i, 0, len(frame),
                                len(frame)))
            f.write(frame)


def check_exporters(flowacct):
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, "two.pcap")
        two_exporter_pcap(pcap)
        for extra, want_sources in (([], 2), (["--single-socket"], 1)):
            rx = Receiver()
            r = run([flowacct, "replay", pcap, "--to",
                     "127.0.0.1:%d" % rx.port] + extra)
            expect(r.returncode == 0, "replay failed: %s" % r.stderr)
            expect(parse_sent(r.stdout)[:2] == (3, 6), r.stdout)
            got = rx.wait_for(3)
            expect(len(got) == 3, "received %d" % len(got))
            sources = {(ip, port) for ip, port, _ in got}
            expect(len(sources) == want_sources,
                   "%r: sources %r" % (extra, sources))
            if not extra:
                ips = {ip for ip, _ in sources}
                expect(ips == {"127.1.0.1", "127.1.0.2"}, "ips %r" % ips)
                # Datagrams of exporter 192.0.2.1 (records 2 and 1) share
                # one source.
                by_src = {}
                for ip, _, d in got:
                    by_src.setdefault(ip, []).append(struct.unpack("!H",
                                                                   d[2:4])[0])
                expect(sorted(by_src.values()) == [[2, 1], [3]],
                       "by source %r" % by_src)


def check_sequence_rewrite(flowacct):
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, "two.pcap")
        two_exporter_pcap(pcap)
        for extra in ([], ["--sequence-rewrite"]):
            rx = Receiver()
            r = run([flowacct, "replay", pcap, "--loop", "3", "--to",
                     "127.0.0.1:%d" % rx.port] + extra)
            expect(r.returncode == 0, "replay failed: %s" % r.stderr)
            expect(parse_sent(r.stdout)[:2] == (9, 18), r.stdout)
            got = rx.wait_for(9)
            expect(len(got) == 9, "received %d" % len(got))
            seqs = {}
            for ip, _, d in got:
                seqs.setdefault(ip, []).append(struct.unpack("!I",
                                                             d[16:20])[0])
            if extra:
                # v5 flow_sequence counts flows: 192.0.2.1 sends 2 + 1 flows
                # per pass, 192.0.2.2 sends 3.
                expect(seqs == {"127.1.0.1": [0, 2, 3, 5, 6, 8],
                                "127.1.0.2": [0, 3, 6]}, "seqs %r" % seqs)
            else:
                expect(seqs == {"127.1.0.1": [0, 2, 0, 2, 0, 2],
                                "127.1.0.2": [0, 0, 0]}, "seqs %r" % seqs)
            pcap_rx = os.path.join(tmp, "rx.pcap")
            rx.write_pcap(pcap_rx)
            r = run([flowacct, "decode", pcap_rx, "--summary-only"])
            seq_cols = [line.split()[-1] for line in r.stdout.splitlines()
                        if line.startswith("127.1.0.")]
            expect(len(seq_cols) == 2, r.stdout)
            clean = all(c.split("/")[2:] == ["0", "0", "0"] for c in seq_cols)
            expect(clean == bool(extra),
                   "%r: sequence columns %r" % (extra, seq_cols))


def check_rate(flowacct):
    rx = Receiver()
    start = time.monotonic()
    r = run([flowacct, "replay", "--synthetic", "ipfix", "--records", "20",
             "--flows-per-datagram", "1", "--rate", "200", "--to",
             "127.0.0.1:%d" % rx.port])
    elapsed = time.monotonic() - start
    expect(r.returncode == 0, r.stderr)
    expect(parse_sent(r.stdout)[:2] == (20, 20), r.stdout)
    expect(len(rx.wait_for(20)) == 20, "not all received")
    # 20 datagrams at 200/s: the 20th is not sent before 19/200 s.
    expect(elapsed >= 0.09, "took only %.3f s" % elapsed)


def check_usage(flowacct):
    for args in ([], ["--synthetic", "ipfix"], ["--synthetic", "v5",
                                                "--records", "1"],
                 ["x.pcap", "--to", "nohost"], ["x.pcap", "--loop", "0"],
                 ["--synthetic", "v9", "--records", "5",
                  "--flows-per-datagram", "0"], ["x.pcap", "--bogus"]):
        r = run([flowacct, "replay"] + args)
        expect(r.returncode == 1, "%r exited %d" % (args, r.returncode))
        expect("usage: flowacct replay" in r.stderr, "%r: no usage" % args)
    r = run([flowacct, "replay", "/nonexistent.pcap", "--to",
             "127.0.0.1:9"])
    expect(r.returncode == 2, "missing file exited %d" % r.returncode)


CHECKS = {
    "synthetic_ipfix": lambda b: check_synthetic(b, "ipfix"),
    "synthetic_v9": lambda b: check_synthetic(b, "v9"),
    "capture": check_capture,
    "exporters": check_exporters,
    "sequence_rewrite": check_sequence_rewrite,
    "rate": check_rate,
    "usage": check_usage,
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--flowacct", required=True)
    ap.add_argument("checks", nargs="*")
    args = ap.parse_args()
    names = args.checks or list(CHECKS)
    failed = 0
    for name in names:
        try:
            CHECKS[name](args.flowacct)
            print("PASS %s" % name)
        except CheckFailed as e:
            failed += 1
            print("FAIL %s: %s" % (name, e))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
