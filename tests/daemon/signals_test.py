#!/usr/bin/python3
"""flowacctd process behaviour: config errors, signals, reload without loss.

  signals_test.py --flowacctd PATH

- a config with an unknown key fails with exit code 2 naming file:line;
- live on 127.0.0.1, NetFlow v5 datagrams tagged by a pre_tag_map;
- SIGUSR2 with a broken map keeps the old map (error logged), the socket
  stays open; SIGUSR2 with a fixed map applies the new tags to later
  datagrams, and no datagram is lost across the reloads;
- SIGUSR1 logs per-exporter statistics; SIGHUP reopens the log;
- SIGTERM flushes every view and exits 0.
"""

import argparse
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_harness as h  # noqa: E402


def v5_datagram(seq, src_last, count=10):
    now = int(time.time())
    header = struct.pack("!HHIIIIBBH", 5, count, 3_600_000, now, 0, seq, 0, 0,
                         0)
    recs = b""
    for i in range(count):
        recs += struct.pack(
            "!IIIHHIIIIHHBBBBHHBBH", 0x0A000000 | src_last, 0x0A640001 + i, 0,
            3, 4, 2, 100, 3_500_000, 3_590_000, 1000 + i, 80, 0, 0x18, 6, 0,
            0, 0, 24, 24, 0)
    return header + recs


def config_error(flowacctd, tmp):
    path = os.path.join(tmp, "bad.conf")
    with open(path, "w") as f:
        f.write("plugins: print[p]\n! comment\nno_such_key: 1\n")
    r = subprocess.run([flowacctd, "-f", path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=20)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert f"{path}:3" in r.stderr, r.stderr
    print("OK: config error names", f"{path}:3")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--flowacctd", required=True)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="flowacct-signals-") as tmp:
        config_error(args.flowacctd, tmp)
        port = h.free_udp_port()
        metrics = f"127.0.0.1:{h.free_tcp_port()}"
        tag_map = os.path.join(tmp, "pretag.map")
        with open(tag_map, "w") as f:
            f.write("set_tag=1 ip=127.0.0.1\n")
        out = os.path.join(tmp, "out.csv")
        d = h.Daemon(args.flowacctd, tmp, f"""
plugins: print[p]
aggregate[p]: tag, src_host
print_output[p]: csv
print_output_file[p]: {out}
print_refresh_time[p]: 3600
pre_tag_map: {tag_map}
nfacctd_ip: 127.0.0.1
nfacctd_port: {port}
flowacct_metrics_listen: {metrics}
""")
        d.wait_log("msg=listening")
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        seq = 0

        def send(n, src_last):
            nonlocal seq
            for _ in range(n):
                sock.sendto(v5_datagram(seq, src_last), ("127.0.0.1", port))
                seq += 10

        def received():
            return h.metric_sum(d.metrics(metrics),
                                "flowacct_exporter_datagrams_total")

        send(20, 1)
        h.wait_for(lambda: received() >= 20, 10, "20 datagrams decoded")

        # A broken map: reload refused, the old map stays.
        with open(tag_map, "w") as f:
            f.write("set_tag=2 ip=127.0.0.1 no_such_key=1\n")
        d.signal(signal.SIGUSR2)
        d.wait_log("map reload failed")
        assert "pretag.map:1" in d.log(), d.log()
        send(20, 2)
        h.wait_for(lambda: received() >= 40, 10, "40 datagrams decoded")

        # A good map: later datagrams get tag 2.
        with open(tag_map, "w") as f:
            f.write("set_tag=2 ip=127.0.0.1\n")
        d.signal(signal.SIGUSR2)
        d.wait_log("maps reloaded")
        send(20, 3)
        h.wait_for(lambda: received() >= 60, 10, "60 datagrams decoded")

        d.signal(signal.SIGUSR1)
        d.wait_log("exporter statistics")
        assert "exporter=127.0.0.1" in d.log()
        os.rename(d.log_path, d.log_path + ".1")
        d.signal(signal.SIGHUP)
        h.wait_for(lambda: os.path.exists(d.log_path), 10, "log reopened")

        assert d.stop() == 0, d.log()
        rows = h.counted(h.read_csv_rows(out))
        by = {dict(k)["SRC_IP"]: (dict(k)["TAG"], v) for k, v in rows.items()}
        print(by)
        # 20 datagrams x 10 records x 2 packets each.
        assert by["10.0.0.1"] == ("1", [400, 20000, 0]), by
        assert by["10.0.0.2"] == ("1", [400, 20000, 0]), by
        assert by["10.0.0.3"] == ("2", [400, 20000, 0]), by
    print("OK: reload, statistics, reopen and flush on SIGTERM")
    return 0


if __name__ == "__main__":
    sys.exit(main())
