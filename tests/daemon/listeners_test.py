#!/usr/bin/python3
"""One flowacctd serving NetFlow and sFlow, IPv4 and IPv6, with allow files.

  listeners_test.py --flowacctd PATH --flowacct PATH --corpus DIR

- nfacctd_ip 127.0.0.1 / nfacctd_port P1 and sfacctd_ip ::1 / sfacctd_port
  P2 in one config: `flowacct replay` sends a NetFlow v9 capture to P1 and
  an sFlow capture to P2; both are decoded (records per exporter protocol);
- sfacctd_allow_file lists 127.1.0.0/16 only, so the sFlow replay over IPv6
  is refused and counted (flowacct_input_denied_total), until the file is
  changed to allow ::1 and SIGUSR2 reloads it: then it is accepted, on the
  same socket.
Exits 77 when the corpus is missing.
"""

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_harness as h  # noqa: E402

NF = "netflow9/graylog-nf9-nprobe-3.pcap"   # 898 records
SF = "sflow/tcpdump-sflow-ipv6-agent.pcap"


def replay(flowacct, capture, to):
    r = subprocess.run([flowacct, "replay", capture, "--to", to],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stdout
    m = re.search(r"sent (\d+) datagrams", r.stdout)
    return int(m.group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--flowacctd", required=True)
    ap.add_argument("--flowacct", required=True)
    ap.add_argument("--corpus", required=True)
    args = ap.parse_args()
    nf, sf = (os.path.join(args.corpus, p) for p in (NF, SF))
    if not (os.path.exists(nf) and os.path.exists(sf)):
        print("SKIP: corpus not found")
        return h.SKIP
    with tempfile.TemporaryDirectory(prefix="flowacct-listen-") as tmp:
        p1, p2 = h.free_udp_port(), h.free_udp_port()
        metrics = f"127.0.0.1:{h.free_tcp_port()}"
        allow = os.path.join(tmp, "sflow.allow")
        with open(allow, "w") as f:
            f.write("! only the IPv4 replay range\n127.1.0.0/16\n")
        out = os.path.join(tmp, "out.csv")
        d = h.Daemon(args.flowacctd, tmp, f"""
plugins: print[p]
aggregate[p]: peer_src_ip, export_proto_version
print_output[p]: csv
print_output_file[p]: {out}
print_refresh_time[p]: 3600
nfacctd_ip: 127.0.0.1
nfacctd_port: {p1}
sfacctd_ip: ::1
sfacctd_port: {p2}
sfacctd_allow_file: {allow}
flowacct_metrics_listen: {metrics}
""")
        try:
            d.wait_log("msg=listening")
            sent_nf = replay(args.flowacct, nf, f"127.0.0.1:{p1}")
            sent_sf = replay(args.flowacct, sf, f"[::1]:{p2}")

            def denied():
                return h.metric_sum(d.metrics(metrics),
                                    "flowacct_input_denied_total")
            h.wait_for(lambda: denied() == sent_sf, 10,
                       f"{sent_sf} sFlow datagrams denied")
            with open(allow, "w") as f:
                f.write("127.1.0.0/16\n::1\n")
            d.signal(signal.SIGUSR2)
            d.wait_log("maps reloaded")
            replay(args.flowacct, sf, f"[::1]:{p2}")

            def decoded():
                return h.metric_sum(d.metrics(metrics),
                                    "flowacct_exporter_datagrams_total")
            h.wait_for(lambda: decoded() == sent_nf + sent_sf, 10,
                       "every allowed datagram decoded")
            assert denied() == sent_sf
            assert d.stop() == 0, d.log()
        finally:
            if d.proc.poll() is None:
                d.proc.kill()
        rows = h.read_csv_rows(out)
        versions = {r["EXPORT_PROTO_VERSION"] for r in rows}
        print(f"NetFlow datagrams {sent_nf}, sFlow datagrams {sent_sf} "
              f"(denied once, accepted after reload); versions {versions}")
        assert versions == {"9", "5"}, versions  # sFlow prints version 5
    print("OK: NetFlow on IPv4 and sFlow on IPv6 in one daemon; allow file "
          "reloaded on SIGUSR2")
    return 0


if __name__ == "__main__":
    sys.exit(main())
