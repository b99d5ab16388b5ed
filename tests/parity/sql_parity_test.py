#!/usr/bin/python3
"""SQL parity: nfacctd 1.7.7 and flowacctd write the same SQLite rows.

Each config in tests/parity/sql-configs/*.conf is a pmacct configuration
with sqlite3 plugins, read by both daemons unchanged (placeholders and the
`! parity:` lines as in parity_test.py):

  ! parity: pcaps = netflow9/a.pcap ...     corpus-relative captures
  ! parity: queries = examples/sql/traffic-matrix.sql
        SQL files (repository-relative) whose queries run on both
        databases over a temporary view `tm` (every table of the database,
        UNION ALL); their answers must be equal and not empty.
  ! parity: setup = pmacct-create-table_v9.sqlite3
        pmacct's own schema script (from the pmacct package's
        /usr/share/doc/pmacct/sql), run on both databases before the
        daemons start: pmacct does not create tables itself. For such
        configs the harness also checks that the table flowacctd creates by
        itself (on an empty database) has the same columns, in the same
        order, as pmacct's script makes.

For every capture both daemons run; then every table (flowacct's own
delivery table excepted) must exist on both sides with the same multiset of
rows, stamp_updated masked (it is the wall-clock time of the write, E1 in
docs/pmacct-parity.md). nfacctd's SQL writer is a child process that can
still be writing when nfacctd exits: the harness waits (bounded) for its
"Purging cache - END" line; a run whose plugin purged nothing (pmacct's
replay race, see parity_test.py) is repeated.

  sql_parity_test.py --flowacctd BIN [--config NAME ...] [--max-pcaps N]

Exit status: 0 parity, 1 mismatch, 2 usage, 77 skipped (no nfacctd, no
corpus, no pmacct schema scripts). Debian's /usr/bin/python3, stdlib only.
"""

import argparse
import collections
import os
import re
import shutil
import sqlite3
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import parity_test as pt  # noqa: E402  (shared placeholders and runner)

CONFDIR = os.path.join(HERE, "sql-configs")
PMACCT_SQL = "/usr/share/doc/pmacct/sql"
SKIP = 77
MASKED = {"stamp_updated"}
OWN_TABLES = {"flowacct_delivery"}
END_RE = re.compile(r"\( (\S+)/sqlite3 \): \*\*\* Purging cache - END "
                    r"\(PID: \d+, QN: (\d+)/(\d+)")


def meta_of(path):
    meta = {"pcaps": [], "setup": [], "queries": []}
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^!\s*parity:\s*(\w+)\s*=\s*(.*)$", line)
            if m and m.group(1) in meta:
                meta[m.group(1)] += m.group(2).split()
    return meta


def db_paths(conf_text):
    return re.findall(r"^sql_db(?:\[[^\]]*\])?\s*:\s*(\S+)\s*$", conf_text,
                      re.M)


def setup_db(path, scripts):
    con = sqlite3.connect(path)
    try:
        for s in scripts:
            with open(os.path.join(PMACCT_SQL, s), encoding="utf-8") as f:
                con.executescript(f.read())
        con.commit()
    finally:
        con.close()


def dump(path):
    """table -> (columns, Counter of rows with MASKED columns masked)."""
    out = {}
    if not os.path.exists(path):
        return out
    con = sqlite3.connect(path)
    try:
        names = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")]
        for t in names:
            if t in OWN_TABLES:
                continue
            cur = con.execute('SELECT * FROM "%s"' % t.replace('"', '""'))
            cols = [d[0] for d in cur.description]
            rows = collections.Counter()
            for r in cur:
                rows[tuple("<masked>" if c in MASKED and v is not None else v
                           for c, v in zip(cols, r))] += 1
            out[t] = (cols, rows)
    finally:
        con.close()
    return out


def run_queries(path, files):
    """The answers of every query in `files` over the view tm."""
    con = sqlite3.connect(path)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "ORDER BY name") if r[0] not in OWN_TABLES]
        con.execute("CREATE TEMP VIEW tm AS " + " UNION ALL ".join(
            'SELECT * FROM "%s"' % t for t in tables))
        answers = []
        for name in files:
            with open(os.path.join(pt.REPO, name), encoding="utf-8") as f:
                text = "\n".join(l for l in f.read().splitlines()
                                 if not l.lstrip().startswith("--"))
            for q in (q.strip() for q in text.split(";")):
                if q:
                    answers.append((q.split()[0:6], con.execute(q).fetchall()))
        return answers
    finally:
        con.close()


def columns_of(path, table):
    con = sqlite3.connect(path)
    try:
        return [r[1] for r in con.execute(
            'PRAGMA table_info("%s")' % table.replace('"', '""'))]
    finally:
        con.close()


def wait_for_writers(log, plugins, timeout=30):
    """nfacctd's writers finish after the core exits: wait for their END."""
    deadline = time.time() + timeout
    counts = {}
    while time.time() < deadline:
        counts = {}
        try:
            with open(log, encoding="utf-8", errors="replace") as f:
                for m in END_RE.finditer(f.read()):
                    counts[m.group(1)] = counts.get(m.group(1), 0) + int(
                        m.group(2))
        except OSError:
            pass
        if all(p in counts for p in plugins):
            time.sleep(0.2)  # the COMMIT follows the log line
            return counts
        time.sleep(0.1)
    return counts


def run_side(binary, template, pcap, work, setup, timeout, reference):
    attempts = pt.REFERENCE_ATTEMPTS if reference else 1
    plugins = pt.plugin_names(template)
    best = None
    for attempt in range(attempts):
        adir = os.path.join(work, "attempt%d" % attempt)
        out = os.path.join(adir, "out")
        os.makedirs(out)
        text = pt.substitute(template, pcap, out).replace(
            "@CONFDIR@", os.path.join(HERE, "configs"))
        if not reference:
            text += "\nflowacct_spool_dir: %s/spool\n" % adir
            text += "flowacct_metrics_listen: false\n"
        for db in db_paths(text):
            if setup:
                setup_db(db, setup)
        ok, msg = pt.run_daemon(binary, text, adir, timeout)
        if not ok:
            return None, msg
        total = 1
        if reference:
            counts = wait_for_writers(os.path.join(adir, "daemon.log"),
                                      plugins)
            total = sum(counts.values())
            if best is None or total > best[0]:
                best = (total, adir, text)
            if all(counts.get(p, 0) > 0 for p in plugins):
                break
        else:
            best = (total, adir, text)
    return best, ""


def compare(ref, cand, report, max_diffs):
    ok = True
    for t in sorted(set(ref) | set(cand)):
        if t not in cand:
            report.append("    table missing in flowacctd: %s" % t)
            ok = False
            continue
        if t not in ref:
            report.append("    extra table from flowacctd: %s" % t)
            ok = False
            continue
        rcols, rrows = ref[t]
        ccols, crows = cand[t]
        if rcols != ccols:
            report.append("    %s: columns differ: nfacctd %s, flowacctd %s"
                          % (t, rcols, ccols))
            ok = False
            continue
        if rrows == crows:
            report.append("    %s: %d row(s) equal" % (t, sum(rrows.values())))
            continue
        ok = False
        only_ref = rrows - crows
        only_cand = crows - rrows
        report.append("    %s: %d row(s) only in nfacctd, %d only in "
                      "flowacctd (columns %s)" % (
                          t, sum(only_ref.values()), sum(only_cand.values()),
                          ", ".join(rcols)))
        for r in list(only_ref)[:max_diffs]:
            report.append("      nfacctd:   %s" % (r,))
        for r in list(only_cand)[:max_diffs]:
            report.append("      flowacctd: %s" % (r,))
    return ok


def run_case(conf, pcap_rel, args, check_schema):
    report = []
    meta = meta_of(conf)
    with open(conf, encoding="utf-8") as f:
        template = f.read()
    pcap = os.path.join(args.corpus, pcap_rel)
    tmp = tempfile.mkdtemp(prefix="sql-parity-")
    try:
        ref, msg = run_side(args.nfacctd, template, pcap,
                            os.path.join(tmp, "nfacctd"), meta["setup"],
                            args.timeout, True)
        if ref is None:
            report.append("    nfacctd failed: %s" % msg)
            return None, report
        cand, msg = run_side(args.flowacctd, template, pcap,
                             os.path.join(tmp, "flowacctd"), meta["setup"],
                             args.timeout, False)
        if cand is None:
            report.append("    flowacctd failed: %s" % msg)
            return None, report
        ok = True
        for rdb, cdb in zip(db_paths(ref[2]), db_paths(cand[2])):
            ok &= compare(dump(rdb), dump(cdb), report, args.max_diffs)
            if meta["queries"]:
                ra = run_queries(rdb, meta["queries"])
                ca = run_queries(cdb, meta["queries"])
                for i, ((_, rrows), (_, crows)) in enumerate(zip(ra, ca)):
                    if rrows != crows or not rrows:
                        report.append("    query %d: nfacctd %s, flowacctd %s"
                                      % (i + 1, rrows[:5], crows[:5]))
                        ok = False
                    else:
                        report.append("    query %d: same %d answer row(s), "
                                      "first %s" % (i + 1, len(rrows),
                                                    rrows[0]))
        if check_schema and meta["setup"]:
            # flowacctd on an empty database creates pmacct's table itself.
            auto, msg = run_side(args.flowacctd, template, pcap,
                                 os.path.join(tmp, "auto"), [], args.timeout,
                                 False)
            if auto is None:
                report.append("    flowacctd (auto-create) failed: %s" % msg)
                return None, report
            for rdb, adb in zip(db_paths(ref[2]), db_paths(auto[2])):
                for t in dump(rdb):
                    want, got = columns_of(rdb, t), columns_of(adb, t)
                    if want != got:
                        report.append("    auto-created %s: columns %s, "
                                      "pmacct's script: %s" % (t, got, want))
                        ok = False
                    else:
                        report.append("    auto-created %s: same %d columns "
                                      "as pmacct's script" % (t, len(got)))
        return ok, report
    finally:
        if args.keep:
            report.append("    kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--flowacctd", required=True)
    ap.add_argument("--nfacctd", default=None)
    ap.add_argument("--corpus", default=pt.DEFAULT_CORPUS)
    ap.add_argument("--config", action="append", default=[])
    ap.add_argument("--max-pcaps", type=int, default=0)
    ap.add_argument("--timeout", type=int, default=60)
    ap.add_argument("--max-diffs", type=int, default=8)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()

    if args.nfacctd is None:
        args.nfacctd = shutil.which("nfacctd") or "/usr/sbin/nfacctd"
    if not os.access(args.nfacctd, os.X_OK):
        print("SKIP: nfacctd (pmacct) not installed")
        return SKIP
    if not os.path.isdir(args.corpus):
        print("SKIP: corpus not found at %s" % args.corpus)
        return SKIP
    if not os.path.isdir(PMACCT_SQL):
        print("SKIP: pmacct's schema scripts not found in %s" % PMACCT_SQL)
        return SKIP
    args.flowacctd = os.path.abspath(args.flowacctd)

    names = args.config or sorted(os.path.splitext(n)[0]
                                  for n in os.listdir(CONFDIR)
                                  if n.endswith(".conf"))
    failures = errors = cases = 0
    for name in names:
        conf = os.path.join(CONFDIR, name + ".conf")
        if not os.path.isfile(conf):
            print("error: no config %s" % conf)
            return 2
        pcaps = meta_of(conf)["pcaps"]
        if args.max_pcaps:
            pcaps = pcaps[:args.max_pcaps]
        for i, pcap_rel in enumerate(pcaps):
            cases += 1
            ok, report = run_case(conf, pcap_rel, args, i == 0)
            verdict = {True: "PASS", False: "FAIL", None: "ERROR"}[ok]
            print("%s %s %s" % (verdict, name, pcap_rel))
            print("\n".join(report))
            sys.stdout.flush()
            if ok is False:
                failures += 1
            elif ok is None:
                errors += 1
    print("%d passed, %d failed" % (cases - failures - errors,
                                     failures + errors))
    return 0 if failures == 0 and errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
