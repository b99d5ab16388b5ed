#!/usr/bin/python3
"""Live test: softflowd exports a capture's traffic to flowacctd over loopback.

  live_softflowd_test.py --flowacctd PATH --capture PCAP

1. flowacctd listens on 127.0.0.1:<port> with a print plugin (5-tuple,
   packets, bytes);
2. dumpcap records softflowd's export datagrams on lo while
3. `softflowd -r PCAP -n 127.0.0.1:<port> -v 9` turns the capture into
   NetFlow v9;
4. SIGTERM flushes flowacctd;
5. `flowacctd -I` on the recorded export must produce exactly the same rows
   (live and offline runs agree), and the live run must account for every
   datagram dumpcap saw (no kernel or queue drops at this rate).
Exits 77 (skip) when softflowd or dumpcap is missing.
"""

import argparse
import os
import random
import struct
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_harness as h  # noqa: E402

AGGREGATE = "src_host, dst_host, src_port, dst_port, proto"


def write_traffic_pcap(path, flows=400, packets=6000, seed=7):
    """Raw IPv4 traffic for softflowd: `packets` TCP/UDP packets spread over
    `flows` 5-tuples (seeded), 1 ms apart."""
    rng = random.Random(seed)
    tuples = [(0x0A000000 | rng.randrange(1 << 16),
               0xC6336400 | rng.randrange(256), rng.randrange(1024, 65536),
               rng.choice((53, 80, 443)), rng.choice((6, 17)))
              for _ in range(flows)]
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))
        for i in range(packets):
            src, dst, sport, dport, proto = tuples[rng.randrange(flows)]
            payload = b"x" * rng.randrange(0, 200)
            if proto == 6:
                l4 = struct.pack("!HHIIBBHHH", sport, dport, i, 0, 0x50, 0x18,
                                 8192, 0, 0) + payload
            else:
                l4 = struct.pack("!HHHH", sport, dport, 8 + len(payload),
                                 0) + payload
            ip = struct.pack("!BBHHHBBHII", 0x45, 0, 20 + len(l4), i & 0xFFFF,
                             0, 64, proto, 0, src, dst)
            t = 1_700_000_000 * 1000 + i
            f.write(struct.pack("<IIII", t // 1000, (t % 1000) * 1000,
                                len(ip) + len(l4), len(ip) + len(l4)))
            f.write(ip + l4)


def config(out, extra):
    return f"""
plugins: print[p]
aggregate[p]: {AGGREGATE}
print_output[p]: csv
print_output_file[p]: {out}
print_refresh_time[p]: 3600
timestamps_utc: true
{extra}
"""


PROCS = []  # killed on the way out, whatever happens


def main():
    try:
        return run()
    finally:
        for p in PROCS:
            if p.poll() is None:
                p.kill()
                p.wait()


def run():
    ap = argparse.ArgumentParser()
    ap.add_argument("--flowacctd", required=True)
    ap.add_argument("--capture",
                    help="raw traffic pcap (default: a generated one)")
    args = ap.parse_args()
    for tool in ("softflowd", "dumpcap"):
        if shutil.which(tool) is None and not os.path.exists(f"/usr/sbin/{tool}"):
            print(f"SKIP: {tool} not installed")
            return h.SKIP
    if args.capture and not os.path.exists(args.capture):
        print(f"SKIP: {args.capture} not found")
        return h.SKIP
    softflowd = shutil.which("softflowd") or "/usr/sbin/softflowd"

    with tempfile.TemporaryDirectory(prefix="flowacct-live-") as tmp:
        if not args.capture:
            args.capture = os.path.join(tmp, "traffic.pcap")
            write_traffic_pcap(args.capture)
        port = h.free_udp_port()
        metrics = f"127.0.0.1:{h.free_tcp_port()}"
        live = h.Daemon(args.flowacctd, tmp, config(
            os.path.join(tmp, "live.csv"),
            f"nfacctd_ip: 127.0.0.1\nnfacctd_port: {port}\n"
            f"flowacct_metrics_listen: {metrics}\nflowacct_workers: 2\n"))
        PROCS.append(live.proc)
        live.wait_log("msg=listening")

        export = os.path.join(tmp, "export.pcap")
        dumpcap = subprocess.Popen(
            ["dumpcap", "-q", "-i", "lo", "-f", f"udp dst port {port}",
             "-w", export], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        PROCS.append(dumpcap)
        h.wait_for(lambda: os.path.exists(export), 10, "dumpcap to start")
        time.sleep(0.5)

        # softflowd exits at the end of the capture after exporting every
        # flow; some runs block in accept() on its control socket instead,
        # which `softflowctl shutdown` answers (it then exports and exits).
        ctl = os.path.join(tmp, "sf.ctl")
        sf_log = open(os.path.join(tmp, "softflowd.out"), "w")
        # softflowd 1.1.0 misreads the capture when the -r, -p or -c paths
        # are long (it then reads nothing): short relative paths, cwd=tmp.
        shutil.copyfile(args.capture, os.path.join(tmp, "in.pcap"))
        sf = subprocess.Popen(
            [softflowd, "-r", "in.pcap", "-n", f"127.0.0.1:{port}",
             "-v", "9", "-d", "-p", "sf.pid", "-c", "sf.ctl"], cwd=tmp, stdin=subprocess.DEVNULL, stdout=sf_log,
            stderr=subprocess.STDOUT)
        PROCS.append(sf)
        try:
            sf.wait(10)
        except subprocess.TimeoutExpired:
            subprocess.run(["softflowctl", "-c", ctl, "shutdown"],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=10)
            sf.wait(20)
        sf_log.close()
        with open(os.path.join(tmp, "softflowd.out")) as f:
            sf_out = f.read()
        assert "Packets processed: " in sf_out, sf_out

        # Wait until flowacctd has received what dumpcap recorded.
        time.sleep(1.0)
        dumpcap.send_signal(signal.SIGINT)
        dumpcap.wait(10)
        sent = int(subprocess.run(
            ["capinfos", "-c", "-M", "-T", export], stdout=subprocess.PIPE,
            text=True).stdout.strip().splitlines()[-1].split("\t")[-1])
        h.wait_for(lambda: h.metric_sum(live.metrics(metrics),
                                        "flowacct_input_datagrams_total")
                   >= sent, 10, f"{sent} datagrams at flowacctd")
        m = live.metrics(metrics)
        assert live.stop() == 0, live.log()
        assert h.metric_sum(m, "flowacct_input_socket_drops_total") == 0
        assert h.metric_sum(m, "flowacct_queue_dropped_datagrams_total") == 0

        offline = h.Daemon(args.flowacctd, tmp, config(
            os.path.join(tmp, "offline.csv"), "flowacct_metrics_listen: false\n"),
            args=("-I", export))
        assert offline.proc.wait(60) == 0, offline.log()

        live_rows = h.counted(h.read_csv_rows(os.path.join(tmp, "live.csv")))
        offline_rows = h.counted(
            h.read_csv_rows(os.path.join(tmp, "offline.csv")))
        packets = sum(v[0] for v in live_rows.values())
        print(f"softflowd sent {sent} datagrams; live: {len(live_rows)} "
              f"aggregates, {packets} packets; offline: {len(offline_rows)} "
              f"aggregates")
        assert sent > 0 and live_rows, "no traffic made it through\n" + sf_out
        processed = int(sf_out.split("Packets processed: ")[1].split()[0])
        assert packets == processed, (packets, processed)
        if live_rows != offline_rows:
            only_live = set(live_rows) - set(offline_rows)
            only_offline = set(offline_rows) - set(live_rows)
            print("only live:", sorted(only_live)[:5])
            print("only offline:", sorted(only_offline)[:5])
            diff = [k for k in live_rows.keys() & offline_rows.keys()
                    if live_rows[k] != offline_rows[k]]
            print("different counters:", diff[:5])
            raise AssertionError("live and offline runs differ")
    print("OK: live run equals offline run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
