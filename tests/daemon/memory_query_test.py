#!/usr/bin/python3
"""The memory plugin and `flowacct query`, end to end.

  memory_query_test.py --flowacctd PATH --flowacct PATH

flowacctd runs live on 127.0.0.1 with a memory plugin (imt_path in a temp
dir) refreshed every second and a print plugin for comparison; NetFlow v5
datagrams arrive over UDP; then `flowacct query` with pmacct client switches:
-s (csv), -T bytes,2 (top 2), -c/-M (match), -N (counter), -t (status), -e
(erase, then -s is empty). Exit codes: 0, and 2 for an unreachable socket.
"""

import argparse
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_harness as h  # noqa: E402
from signals_test import v5_datagram  # noqa: E402


def query(flowacct, sock, *args):
    r = subprocess.run([flowacct, "query", "-p", sock, *args],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=20)
    return r.returncode, r.stdout, r.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--flowacctd", required=True)
    ap.add_argument("--flowacct", required=True)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="flowacct-mem-") as tmp:
        sock = os.path.join(tmp, "mem.pipe")
        port = h.free_udp_port()
        metrics = f"127.0.0.1:{h.free_tcp_port()}"
        d = h.Daemon(args.flowacctd, tmp, f"""
plugins: memory[mem]
aggregate[mem]: src_host, proto
imt_path[mem]: {sock}
print_refresh_time[mem]: 1
nfacctd_ip: 127.0.0.1
nfacctd_port: {port}
flowacct_metrics_listen: {metrics}
""")
        try:
            d.wait_log("msg=listening")
            import socket
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            # Sources 10.0.0.1 x 5 datagrams, .2 x 3, .3 x 1; 10 records
            # of 2 packets / 100 bytes each per datagram.
            seq = 0
            for src, n in ((1, 5), (2, 3), (3, 1)):
                for _ in range(n):
                    s.sendto(v5_datagram(seq, src), ("127.0.0.1", port))
                    seq += 10

            def total():
                rc, out, _ = query(args.flowacct, sock, "-N", "10.0.0.3,tcp",
                                   "-c", "src_host,proto")
                return rc == 0 and out.strip() == "1000"
            h.wait_for(total, 15, "the memory table to hold the records")

            rc, out, err = query(args.flowacct, sock, "-s", "-O", "csv")
            assert rc == 0, err
            lines = out.strip().splitlines()
            assert lines[0] == "SRC_IP,PROTOCOL,PACKETS,BYTES", lines
            rows = sorted(lines[1:4])
            assert rows == ["10.0.0.1,tcp,100,5000", "10.0.0.2,tcp,60,3000",
                            "10.0.0.3,tcp,20,1000"], rows

            rc, out, err = query(args.flowacct, sock, "-s", "-O", "csv",
                                 "-T", "bytes,2")
            assert rc == 0, err
            top = [l for l in out.strip().splitlines()[1:] if l[:1].isdigit()]
            assert top == ["10.0.0.1,tcp,100,5000", "10.0.0.2,tcp,60,3000"], out

            rc, out, err = query(args.flowacct, sock, "-c", "src_host",
                                 "-M", "10.0.0.2", "-O", "json")
            assert rc == 0, err
            assert '"ip_src": "10.0.0.2"' in out and '"bytes": 3000' in out, out

            rc, out, err = query(args.flowacct, sock, "-t")
            assert rc == 0 and "3" in out, (out, err)

            rc, out, err = query(args.flowacct, sock, "-e")
            assert rc == 0, err
            rc, out, err = query(args.flowacct, sock, "-s", "-O", "csv")
            assert rc == 0 and len([l for l in out.splitlines()
                                    if l[:1].isdigit()]) == 0, out

            assert d.stop() == 0, d.log()
        finally:
            if d.proc.poll() is None:
                d.proc.kill()
        rc, _, err = query(args.flowacct, sock, "-s")
        assert rc == 2, (rc, err)
    print("OK: memory plugin answered -s, -T, -M, -N, -t, -e")
    return 0


if __name__ == "__main__":
    sys.exit(main())
