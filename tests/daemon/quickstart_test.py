#!/usr/bin/python3
"""The README's main job: examples/flowacctd/quickstart.conf on the bundled
capture. flowacctd writes the internal traffic matrix into SQLite (one table
per 5-minute bin, tm-%Y%m%d_%H%M) and as CSV files, plus a JSON micro-flow
log. Checks: the SQLite tables and the CSV files hold the same rows, the
micro-flow log holds every flow, and the top-N query of
scripts/quickstart.sh runs over the tables and agrees with the flows.

  quickstart_test.py --flowacctd BIN
"""

import argparse
import collections
import csv
import glob
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

REPO = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--flowacctd", required=True)
    args = ap.parse_args()
    args.flowacctd = os.path.abspath(args.flowacctd)
    work = tempfile.mkdtemp(prefix="quickstart-")
    try:
        conf = os.path.join(REPO, "examples", "flowacctd", "quickstart.conf")
        pcap = os.path.join(REPO, "examples", "captures",
                            "graylog-nf9-nprobe-3.pcap")
        # The README's config, plus no /metrics listener (tests run in
        # parallel; port 9469 is not theirs to take).
        with open(conf) as f:
            text = f.read() + "\nflowacct_metrics_listen: false\n"
        conf = os.path.join(work, "quickstart.conf")
        with open(conf, "w") as f:
            f.write(text)
        subprocess.run([args.flowacctd, "-f", conf, "-I", pcap],
                       cwd=work, check=True, timeout=60,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        out = os.path.join(work, "quickstart-out")
        db = sqlite3.connect(os.path.join(out, "flowacct.db"))
        tables = [r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name "
            "LIKE 'tm-%' ORDER BY name")]
        csvs = sorted(os.path.basename(p)[:-4] for p in
                      glob.glob(os.path.join(out, "tm-2*.csv")))
        assert tables == csvs, (tables, csvs)
        assert len(tables) == 4, tables
        for t in tables:
            sql_rows = collections.Counter(
                (str(r[0]), r[1], r[2] if r[2] != "0.0.0.0" else "", str(r[3]),
                 str(r[4]), str(r[5]))
                for r in db.execute(
                    'SELECT iface_in, peer_ip_src, peer_ip_dst, peer_as_dst, '
                    'packets, bytes FROM "%s"' % t))
            with open(os.path.join(out, t + ".csv")) as f:
                csv_rows = collections.Counter(
                    (r["IN_IFACE"], r["PEER_SRC_IP"], r["PEER_DST_IP"],
                     r["PEER_DST_AS"], r["PACKETS"], r["BYTES"])
                    for r in csv.DictReader(f))
            assert sql_rows == csv_rows, (t, sql_rows, csv_rows)
            print("%s: %d row(s), SQLite == CSV" % (t, sum(sql_rows.values())))
        flows = []
        for p in glob.glob(os.path.join(out, "flows-*.json")):
            with open(p) as f:
                flows += [json.loads(line) for line in f]
        union = " UNION ALL ".join('SELECT * FROM "%s"' % t for t in tables)
        top = db.execute(
            "SELECT peer_ip_src, SUM(packets), SUM(bytes) FROM (%s) "
            "GROUP BY peer_ip_src ORDER BY 3 DESC LIMIT 5" % union).fetchall()
        assert top == [("127.0.0.1", sum(f["packets"] for f in flows),
                        sum(f["bytes"] for f in flows))], top
        print("%d flows; top-N over %d tables: %s" % (len(flows), len(tables),
                                                       top))
        print("1 passed, 0 failed")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
