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
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_harness as h  # noqa: E402

AGGREGATE = "src_host, dst_host, src_port, dst_port, proto"


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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--flowacctd", required=True)
    ap.add_argument("--capture", required=True)
    args = ap.parse_args()
    for tool in ("softflowd", "dumpcap"):
        if shutil.which(tool) is None and not os.path.exists(f"/usr/sbin/{tool}"):
            print(f"SKIP: {tool} not installed")
            return h.SKIP
    if not os.path.exists(args.capture):
        print(f"SKIP: {args.capture} not found")
        return h.SKIP
    softflowd = shutil.which("softflowd") or "/usr/sbin/softflowd"

    with tempfile.TemporaryDirectory(prefix="flowacct-live-") as tmp:
        port = h.free_udp_port()
        metrics = f"127.0.0.1:{h.free_tcp_port()}"
        live = h.Daemon(args.flowacctd, tmp, config(
            os.path.join(tmp, "live.csv"),
            f"nfacctd_ip: 127.0.0.1\nnfacctd_port: {port}\n"
            f"flowacct_metrics_listen: {metrics}\nflowacct_workers: 2\n"))
        live.wait_log("msg=listening")

        export = os.path.join(tmp, "export.pcap")
        dumpcap = subprocess.Popen(
            ["dumpcap", "-q", "-i", "lo", "-f", f"udp dst port {port}",
             "-w", export], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        h.wait_for(lambda: os.path.exists(export), 10, "dumpcap to start")
        time.sleep(0.5)

        sf = subprocess.run(
            [softflowd, "-r", args.capture, "-n", f"127.0.0.1:{port}",
             "-v", "9", "-d", "-p", os.path.join(tmp, "softflowd.pid"),
             "-c", os.path.join(tmp, "softflowd.ctl")],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        if sf.returncode != 0:
            print(sf.stdout.decode())
            raise AssertionError(f"softflowd failed ({sf.returncode})")

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
            os.path.join(tmp, "offline.csv"), "flowacct_metrics_listen: \n"),
            args=("-I", export))
        assert offline.proc.wait(60) == 0, offline.log()

        live_rows = h.counted(h.read_csv_rows(os.path.join(tmp, "live.csv")))
        offline_rows = h.counted(
            h.read_csv_rows(os.path.join(tmp, "offline.csv")))
        packets = sum(v[0] for v in live_rows.values())
        print(f"softflowd sent {sent} datagrams; live: {len(live_rows)} "
              f"aggregates, {packets} packets; offline: {len(offline_rows)} "
              f"aggregates")
        assert sent > 0 and live_rows, "no traffic made it through"
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
