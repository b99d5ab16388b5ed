#!/usr/bin/python3
"""End-to-end benchmark: flowacctd next to nfacctd on the same input.

  e2e_bench.py --flowacctd PATH [--flowacct PATH] [--nfacctd /usr/sbin/nfacctd]
               [--records 2000000] [--flows 50000] [--workers N] [--live]

Offline (always): writes a synthetic NetFlow v9 capture
(make_synthetic_capture.py), then runs `flowacctd -I` and `nfacctd` with
`pcap_savefile` on it with the same config (5-tuple aggregation to a CSV
file; `--aggregate` changes it) and reports, for each: wall time, CPU
seconds (user + system, children included), records per CPU-second, CPU
nanoseconds per record and peak RSS, plus the ratio. Both outputs must have
the same number of rows, or the run is void.

Live (--live, needs `flowacct replay`): flowacctd listens on 127.0.0.1 and
`flowacct replay` sends the capture over loopback as fast as it can
(--loops times); reports records/s received and every loss counter
(kernel socket drops, queue drops, sequence gaps).

Figures go to docs/performance.md with the command line. Nothing here is a
pass/fail test: the machine is shared and noisy, compare ratios from one run.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


def run_measured(argv, env=None, cwd=None):
    """Runs argv; returns (wall s, cpu s, peak rss MiB, rc, stderr)."""
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=env, cwd=cwd)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace")
    # Linux reports the child's usage together with that of the children
    # it waited for (nfacctd's plugin processes), so both daemons are
    # measured whole.
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, usage.ru_maxrss / 1024.0, proc.returncode, err


def count_rows(path):
    with open(path) as f:
        return max(0, sum(1 for _ in f) - 1)


def offline(args, tmp, capture):
    base = f"""
plugins: print[p]
aggregate[p]: {args.aggregate}
print_output[p]: csv
print_cache_entries[p]: 65537
print_refresh_time[p]: 3600
"""
    fconf = os.path.join(tmp, "flowacctd.conf")
    with open(fconf, "w") as f:
        f.write(base + f"print_output_file[p]: {tmp}/flowacctd.csv\n"
                "flowacct_metrics_listen: false\n"
                + (f"flowacct_workers: {args.workers}\n" if args.workers else ""))
    nconf = os.path.join(tmp, "nfacctd.conf")
    with open(nconf, "w") as f:
        f.write(base + f"print_output_file[p]: {tmp}/nfacctd.csv\n"
                f"pcap_savefile: {capture}\n")
    results = {}
    w, c, rss, rc, err = run_measured(
        [args.flowacctd, "-f", fconf, "-I", capture])
    if rc != 0:
        sys.exit(f"flowacctd failed ({rc}): {err[-2000:]}")
    results["flowacctd"] = (w, c, rss, count_rows(f"{tmp}/flowacctd.csv"))
    if os.path.exists(args.nfacctd):
        w, c, rss, rc, err = run_measured([args.nfacctd, "-f", nconf])
        if rc != 0:
            sys.exit(f"nfacctd failed ({rc}): {err[-2000:]}")
        results["nfacctd 1.7.7"] = (w, c, rss, count_rows(f"{tmp}/nfacctd.csv"))
    return results


def live(args, tmp, capture):
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        mport = s.getsockname()[1]
    conf = os.path.join(tmp, "live.conf")
    with open(conf, "w") as f:
        f.write(f"""
plugins: print[p]
aggregate[p]: {args.aggregate}
print_output[p]: csv
print_output_file[p]: {tmp}/live.csv
print_cache_entries[p]: 65537
print_refresh_time[p]: 3600
nfacctd_ip: 127.0.0.1
nfacctd_port: {port}
nfacctd_pipe_size: 134217728
flowacct_metrics_listen: 127.0.0.1:{mport}
logfile: {tmp}/live.log
""" + (f"flowacct_workers: {args.workers}\n" if args.workers else ""))
    d = subprocess.Popen([args.flowacctd, "-f", conf])
    try:
        deadline = time.monotonic() + 10
        log = f"{tmp}/live.log"
        while not (os.path.exists(log) and
                   "msg=listening" in open(log).read()):
            if time.monotonic() > deadline:
                sys.exit("flowacctd did not start")
            time.sleep(0.05)

        def metric(name):
            with urllib.request.urlopen(
                    f"http://127.0.0.1:{mport}/metrics", timeout=5) as r:
                text = r.read().decode()
            return sum(float(l.rsplit(" ", 1)[1]) for l in text.splitlines()
                       if l.startswith(name + "{") or l.startswith(name + " "))

        cpu0 = open(f"/proc/{d.pid}/stat").read().split()
        t0 = time.monotonic()
        sender = subprocess.run(
            [args.flowacct, "replay", capture, "--to", f"127.0.0.1:{port}",
             "--loop", str(args.loops), "--sequence-rewrite",
             "--rate", str(args.rate)], stdout=subprocess.PIPE, text=True,
            timeout=600)
        send_wall = time.monotonic() - t0
        print(sender.stdout.strip())
        # Let the workers drain, bounded: every datagram received is either
        # decoded (per-exporter stats, published on the daemon's 1 s tick)
        # or counted as a queue drop.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            received = metric("flowacct_input_datagrams_total")
            settled = (metric("flowacct_exporter_datagrams_total") +
                       metric("flowacct_queue_dropped_datagrams_total"))
            if received > 0 and settled >= received:
                break
            time.sleep(0.5)
        cpu1 = open(f"/proc/{d.pid}/stat").read().split()
        tick = os.sysconf("SC_CLK_TCK")
        cpu = (int(cpu1[13]) + int(cpu1[14]) - int(cpu0[13]) -
               int(cpu0[14])) / tick
        rss = int(open(f"/proc/{d.pid}/status").read().split("VmHWM:")[1]
                  .split()[0]) / 1024.0
        records = metric("flowacct_records_total")
        drops = metric("flowacct_input_socket_drops_total")
        qdrops = metric("flowacct_queue_dropped_datagrams_total")
        gaps = metric("flowacct_sequence_gaps_total")
        datagrams = metric("flowacct_input_datagrams_total")
    finally:
        d.terminate()
        d.wait(30)
    sent = re.search(r"(\d+) records", sender.stdout)
    return {
        "sender wall s": send_wall, "records sent": int(sent.group(1)) if sent else None,
        "records decoded": records, "datagrams received": datagrams,
        "records/s (over send time)": records / send_wall if send_wall else 0,
        "daemon CPU s": cpu, "ns CPU/record": cpu * 1e9 / records if records else 0,
        "kernel drops (datagrams)": drops, "queue drops (datagrams)": qdrops,
        "sequence gaps (export packets)": gaps, "peak RSS MiB": rss,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--flowacctd", required=True)
    ap.add_argument("--flowacct", help="the flowacct tool (for --live)")
    ap.add_argument("--nfacctd", default="/usr/sbin/nfacctd")
    ap.add_argument("--records", type=int, default=2_000_000)
    ap.add_argument("--flows", type=int, default=50_000)
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--aggregate",
                    default="src_host, dst_host, src_port, dst_port, proto")
    ap.add_argument("--live", action="store_true")
    ap.add_argument("--loops", type=int, default=3)
    ap.add_argument("--rate", type=int, default=0,
                    help="datagrams/s for the live sender (0: flat out)")
    ap.add_argument("--capture", help="use this capture instead")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="flowacct-e2e-") as tmp:
        capture = args.capture or os.path.join(tmp, "synthetic.pcap")
        if not args.capture:
            subprocess.run([sys.executable,
                            os.path.join(HERE, "make_synthetic_capture.py"),
                            capture, "--records", str(args.records),
                            "--flows", str(args.flows)], check=True)
        res = offline(args, tmp, capture)
        print(f"\noffline (-I), {args.records} records, aggregate: "
              f"{args.aggregate}")
        print("| daemon | wall s | CPU s | records/CPU-s | ns CPU/record | "
              "peak RSS MiB | rows |")
        print("|---|---|---|---|---|---|---|")
        for name, (w, c, rss, rows) in res.items():
            print(f"| {name} | {w:.2f} | {c:.2f} | {args.records / c:,.0f} | "
                  f"{c * 1e9 / args.records:.0f} | {rss:.0f} | {rows} |")
        if len(res) == 2:
            (_, cf, _, rf), (_, cn, _, rn) = res.values()
            print(f"\nflowacctd / nfacctd records per CPU-second: "
                  f"{cn / cf:.1f}x; rows equal: {rf == rn}")
        if args.live:
            if not args.flowacct:
                sys.exit("--live needs --flowacct")
            print(f"\nlive over loopback ({args.loops} loops of the capture):")
            for k, v in live(args, tmp, capture).items():
                print(f"  {k}: {v:,.2f}" if isinstance(v, float)
                      else f"  {k}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
