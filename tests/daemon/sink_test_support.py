"""Helpers shared by the server-sink daemon tests (sql_sinks_test.py,
broker_sinks_test.py): run flowacctd on a capture, read its per-view
statistics from the log, check the delivery counters, drive the replay
tool, look into a spool. Debian's /usr/bin/python3, stdlib only.
"""

import os
import re
import subprocess


class Skip(Exception):
    pass


class Fail(Exception):
    pass


def run_capture(flowacctd, work, conf_text, pcap, timeout=90):
    conf = os.path.join(work, "run.conf")
    log = os.path.join(work, "run.log")
    with open(conf, "w") as f:
        f.write(conf_text)
    env = dict(os.environ, TZ="UTC")
    with open(log, "w") as lf:
        rc = subprocess.run([flowacctd, "-f", conf, "-I", pcap], env=env,
                            stdin=subprocess.DEVNULL, stdout=lf,
                            stderr=subprocess.STDOUT, timeout=timeout,
                            cwd=work).returncode
    with open(log) as f:
        text = f.read()
    if rc != 0:
        raise Fail("flowacctd exited %d:\n%s" % (rc, text[-3000:]))
    return text


STAT_RE = re.compile(r'msg="view statistics" view=(\S+) (.*)$', re.M)


def view_stats(log, view):
    """The last "view statistics" line of `view`, as a dict of ints."""
    found = None
    for m in STAT_RE.finditer(log):
        if m.group(1) == view:
            found = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)",
                                                      m.group(2))}
    if found is None:
        raise Fail("no view statistics for %s in the log" % view)
    return found


def check_delivery(stats, what):
    """Every row of the view delivered; none dropped, rejected or pending."""
    bad = {k: stats.get(k) for k in ("rows_dropped", "failed_snapshots",
                                      "delivery_dropped_rows",
                                      "rejected_rows", "pending_rows")
           if stats.get(k)}
    if bad or stats.get("delivered_rows") != stats.get("rows"):
        raise Fail("%s: delivery counters do not add up: %s" % (what, stats))


def replay(flowacct, port, records, rate, seed, timeout=60):
    cmd = [flowacct, "replay", "--synthetic", "ipfix", "--records",
           str(records), "--rate", str(rate), "--distinct-flows", "400",
           "--seed", str(seed), "--to", "127.0.0.1:%d" % port]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise Fail("replay failed: %s %s" % (p.stdout, p.stderr))
    m = re.search(r"sent (\d+) datagrams, (\d+) records", p.stdout)
    return int(m.group(2)) if m else 0


def spool_files(spool):
    """Envelope files of every plugin under a spool root (<root>/<type>-<name>)."""
    found = []
    for dirpath, _, names in os.walk(spool):
        found += [os.path.join(dirpath, n) for n in names if n.endswith(".env")]
    return found


def compare_sums(want, got, what, where="database"):
    """Per-key counter sums of the print view (`want`) and the server."""
    if want == got:
        return
    a, b = want - got, got - want
    raise Fail("%s: per-key sums differ: %d key/counter(s) short in the "
               "%s, %d in excess; totals ref %d/%d %s %d/%d; e.g. "
               "short %s excess %s" % (
                   what, len(a), where, len(b),
                   sum(v for k, v in want.items() if k[-1] == "packets"),
                   sum(v for k, v in want.items() if k[-1] == "bytes"),
                   where,
                   sum(v for k, v in got.items() if k[-1] == "packets"),
                   sum(v for k, v in got.items() if k[-1] == "bytes"),
                   list(a.items())[:3], list(b.items())[:3]))
