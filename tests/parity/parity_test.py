#!/usr/bin/python3
"""pmacct parity suite: nfacctd 1.7.7 and flowacctd on the same config.

Each config in tests/parity/configs/*.conf is a pmacct configuration with
placeholders and two `!` comment lines the harness reads (pmacct and
flowacctd both skip `!` lines):

  ! parity: pcaps = netflow5/a.pcap ipfix/b.pcap   captures, corpus-relative
  ! parity: outputs = x.csv tm-*.json              output globs under @OUT@

Placeholders: @PCAP@ (capture), @OUT@ (output directory, one per daemon and
capture), @CONFDIR@ (tests/parity/configs, for maps).

For every capture both daemons run `<daemon> -f <config>` (TZ=UTC) in their
own temporary directory; then the sets of output file names must be equal and
every file must match: the same header line (CSV / formatted), and the same
multiset of records, compared as exact text lines (record order is free,
everything else byte for byte). The documented exceptions below mask a few
values before the comparison. The file format comes from the extension:
.csv, .json, anything else is pmacct "formatted".

  parity_test.py --flowacctd BIN [--config NAME ...] [--pcap REL ...]
  parity_test.py --flowacctd /usr/sbin/nfacctd ...    self-check (0 mismatch)
  parity_test.py --flowacctd BIN --expect-mismatch    exit 0 only on mismatch

Exit status: 0 parity, 1 mismatch (or a daemon failed), 2 usage error,
77 skipped (nfacctd or the corpus is missing). Only Debian's /usr/bin/python3
and its standard library are used. See docs/pmacct-parity.md.
"""

import argparse
import collections
import datetime
import fnmatch
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
CONFDIR = os.path.join(HERE, "configs")
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
DEFAULT_CORPUS = os.path.normpath(os.path.join(REPO, "..", "shared", "corpus"))
SKIP = 77

# Documented exceptions (docs/pmacct-parity.md, section 9). Each masks a value
# that pmacct 1.7.7 derives from the wall clock, so no two runs agree. The
# value must still be present and well-formed: a malformed value is not
# masked and shows up as a mismatch.
TS_SECS = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"
TS_USECS = TS_SECS + r"\.\d{6}"
EXCEPTIONS = [
    # (id, CSV/formatted header, JSON key, value regex, reason)
    ("E1", "STAMP_UPDATED", "stamp_updated", TS_SECS,
     "wall-clock time of the purge, differs on every run"),
    ("E2", "TIMESTAMP_ARRIVAL", "timestamp_arrival", TS_USECS,
     "wall-clock time of processing in pcap replay, differs on every run"),
]
MASK = "<masked>"

# Cases that differ for a documented reason and do not fail the suite
# (docs/pmacct-parity.md §9): (id, config, capture, kind, reason). kind
# "exception": pmacct 1.7.7 is wrong there; kind "gap": flowacctd does not
# match pmacct yet (an open item, listed in the docs, not a pass). The
# mismatch is still printed in full; a listed case that passes is reported so
# the list can shrink.
KNOWN_CASES = [
    ("E9", "tm-external", "ipfix/pmacct-100-ipfix-cisco-asr9k.pcap",
     "exception", "pmacct drops the milliseconds of absolute IPFIX times "
     "before binning: a flow starting at 09:46:00.088 lands in the 09:45 "
     "bin; flowacctd bins by the exact time"),
    ("E10", "tm-internal",
     "ipfix/pmacct-112-ipfix-cisco-options-reassignment.pcap", "exception",
     "pmacct ignores systemInitTimeMilliseconds (160) sent in options data "
     "and uses the export time as start; flowacctd applies it to 21/22"),
    ("E8b", "micro", "netflow5/graylog-nf5-freebsd-netgraph.pcap",
     "exception", "two flows starting at 08:32:09.628688 and .711690 (v5 "
     "header nanoseconds): pmacct truncates both to 08:32:09 and merges them "
     "into one row, OR-ing their TCP flags (16 | 27); flowacctd keeps them "
     "apart (E8), so the OR-ed flags differ per row"),
    ("E11", "sum-net", "netflow5/akvorado-nf5.pcap", "exception",
     "sum_net: pmacct counts every record twice under its source network "
     "and never under its destination network; flowacctd counts it once "
     "under each (src_net and dst_net)"),
    ("E11", "sum-net", "ipfix/pmacct-100-ipfix-cisco-asr9k.pcap", "exception",
     "sum_net: pmacct counts every record twice under its source network "
     "and never under its destination network; flowacctd counts it once "
     "under each (src_net and dst_net)"),
]

# E8: sysUptime-relative start/end times (NetFlow v5 and v9 FIRST_SWITCHED /
# LAST_SWITCHED). pmacct prints unix_secs - trunc((sysUptime - switched) /
# 1000) with ".000000": it drops the milliseconds the exporter sent (and the
# v5 header's nanoseconds). flowacctd keeps them, so its value can be up to
# one second earlier. Records left unmatched by the exact comparison are
# paired when they differ only in these fields, by less than a second, and
# pmacct's value has no sub-second part.
E8_FIELDS = {"TIMESTAMP_START", "TIMESTAMP_END", "timestamp_start",
             "timestamp_end"}


def _ts(value):
    try:
        whole, _, frac = value.strip().strip('"').partition(".")
        t = datetime.datetime.strptime(whole, "%Y-%m-%d %H:%M:%S")
        return t.replace(tzinfo=datetime.timezone.utc).timestamp() + (
            float("0." + frac) if frac else 0.0), frac
    except ValueError:
        return None, None


def e8_equal(ref_fields, cand_fields):
    if [k for k, _ in ref_fields] != [k for k, _ in cand_fields]:
        return False
    used = False
    for (k, rv), (_, cv) in zip(ref_fields, cand_fields):
        if rv == cv:
            continue
        if k not in E8_FIELDS:
            return False
        rt, rfrac = _ts(rv)
        ct, _ = _ts(cv)
        if rt is None or ct is None or rfrac.strip("0") != "":
            return False
        if not (-1.0 < rt - ct <= 1.0):
            return False
        used = True
    return used

# Capture-specific exceptions: columns where pmacct 1.7.7 is known wrong on
# that capture (docs/pmacct-parity.md, section 9). The column is masked on
# both sides and, because a wrong key value also changes how pmacct groups
# records, records that become equal are merged (counters summed) first.
CAPTURE_EXCEPTIONS = [
    # (id, capture, CSV/formatted columns, JSON keys, reason)
    ("E4", "ipfix/pmacct-111-ipfix-cisco-ipv6.pcap", ["TCP_FLAGS"],
     ["tcp_flags"], "IPFIX tcpControlBits of length 2: pmacct reads the "
     "high byte (0 instead of 16 = ACK)"),
    ("E6", "ipfix/pmacct-100-ipfix-cisco-asr9k.pcap", ["PEER_DST_IP"],
     ["peer_ip_dst"], "IPv6 records with bgpNextHopIPv6Address (63): pmacct "
     "prints ::ffff:0.0.0.0 instead of the next hop"),
    ("E7", "netflow9/logstash-nf9-cisco-asa-nsel-2.pcap", ["BYTES"],
     ["bytes"], "NSEL initiatorOctets/responderOctets (231/232) are not "
     "read by pmacct: bytes 0"),
]
COUNTERS = {"PACKETS", "FLOWS", "BYTES", "packets", "flows", "bytes"}

# nfacctd 1.7.7 in pcap replay races with its own print plugins: under CPU
# load (several replays at once, other builds on the machine) the core can
# read the whole capture and stop the plugins before a plugin has taken the
# records, which then purges nothing ("QN: 0/0", no output file). A short
# pcap_savefile_delay did not help. So a reference run in which some plugin
# purged 0 records is repeated (REFERENCE_ATTEMPTS in all) and the run with the
# most purged records is used; a plugin that is empty in every attempt is
# taken as really empty (e.g. a pre_tag_filter that matches nothing). Only one
# nfacctd runs at a time (REFERENCE_LOCK) to keep the race rare.
REFERENCE_ATTEMPTS = 3
REFERENCE_LOCK = threading.Lock()
QN_RE = re.compile(r"\( (\S+)/print \): \*\*\* Purging cache - END \(PID: \d+, QN: (\d+)/(\d+)")


def purged_counts(log_path):
    """Plugin name -> records purged, from an nfacctd log."""
    counts = {}
    try:
        with open(log_path, encoding="utf-8", errors="replace") as f:
            for line in f:
                m = QN_RE.search(line)
                if m:
                    counts[m.group(1)] = counts.get(m.group(1), 0) + int(m.group(2))
    except OSError:
        pass
    return counts


def plugin_names(conf_text):
    m = re.search(r"^plugins\s*:\s*(.*)$", conf_text, re.M)
    if not m:
        return []
    return re.findall(r"\[([^\]]+)\]", m.group(1))


def read_meta(path):
    meta = {"pcaps": [], "outputs": []}
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^!\s*parity:\s*(\w+)\s*=\s*(.*)$", line)
            if m and m.group(1) in meta:
                meta[m.group(1)] += m.group(2).split()
    return meta


def substitute(text, pcap, out):
    return (text.replace("@PCAP@", pcap).replace("@OUT@", out)
            .replace("@CONFDIR@", CONFDIR))


def run_daemon(binary, conf_text, workdir, timeout):
    """Runs `binary -f conf` in workdir; returns (ok, message)."""
    out = os.path.join(workdir, "out")
    os.makedirs(out, exist_ok=True)
    conf = os.path.join(workdir, "parity.conf")
    with open(conf, "w", encoding="utf-8") as f:
        f.write(conf_text)
    env = dict(os.environ, TZ="UTC")
    log = os.path.join(workdir, "daemon.log")
    with open(log, "wb") as lf:
        try:
            rc = subprocess.run([binary, "-f", conf], cwd=workdir, env=env,
                                stdin=subprocess.DEVNULL, stdout=lf,
                                stderr=subprocess.STDOUT,
                                timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            return False, "timed out after %d s (log %s)" % (timeout, log)
        except OSError as e:
            return False, "cannot run: %s" % e
    if rc != 0:
        with open(log, "rb") as lf:
            tail = lf.read().decode("utf-8", "replace").splitlines()[-8:]
        return False, "exit status %d; log tail:\n      %s" % (
            rc, "\n      ".join(tail))
    return True, ""


def run_reference(run, args, report):
    """Runs nfacctd, repeated while a plugin purged nothing (see above)."""
    binary, text, work = run
    plugins = plugin_names(text)
    best = None
    for attempt in range(REFERENCE_ATTEMPTS):
        adir = os.path.join(work, "attempt%d" % attempt)
        os.makedirs(adir)
        with REFERENCE_LOCK:
            ok, msg = run_daemon(binary, text.replace(os.path.join(work, "out"),
                                                      os.path.join(adir, "out")),
                                 adir, args.timeout)
        if not ok:
            return ok, msg
        counts = purged_counts(os.path.join(adir, "daemon.log"))
        total = sum(counts.values())
        if best is None or total > best[0]:
            best = (total, adir, counts)
        if all(counts.get(p, 0) > 0 for p in plugins):
            break
    if attempt:
        report.append("    note: nfacctd run %d time(s) (plugin purged 0 "
                      "records); used the run with %d purged: %s"
                      % (attempt + 1, best[0], best[2]))
    os.rename(os.path.join(best[1], "out"), os.path.join(work, "out"))
    return True, ""


def collect(outdir, patterns):
    files = set()
    for pat in patterns:
        for p in glob.glob(os.path.join(outdir, pat)):
            files.add(os.path.relpath(p, outdir))
    return files


# --- parsing and masking ---------------------------------------------------

class Parsed:
    def __init__(self):
        self.header = None       # header line (csv, formatted) or None
        self.columns = []        # column names (csv/formatted)
        self.records = []        # masked record lines (exact text)
        self.fields = {}         # masked line -> list of (name, value)
        self.trailer = ""        # how the file ends ("\n" or not), extras
        self.problems = []


def mask_json(line):
    for _, _, key, rx, _ in EXCEPTIONS:
        line = re.sub(r'("%s": )"%s"' % (key, rx), r'\1"%s"' % MASK, line)
    return line


def json_pairs(line):
    """Splits one pmacct JSON line into (key, raw value text) pairs.

    pmacct writes flat objects; values are numbers or strings without
    embedded quotes in the configs here, so a small scanner keeps the raw
    text (a string "1" and a number 1 stay different)."""
    pairs = []
    for m in re.finditer(r'"([^"]*)": ("(?:[^"\\]|\\.)*"|[^,}]*)', line):
        pairs.append((m.group(1), m.group(2)))
    return pairs


def parse_file(path, masked=()):
    p = parse_file_exact(path)
    if masked:
        merge_masked(p, set(masked))
    return p


def merge_masked(p, masked):
    """Masks the named fields and merges records that become equal."""
    merged = collections.OrderedDict()
    for rec in p.records:
        fields = p.fields[rec]
        key = tuple((k, MASK if k in masked else v) for k, v in fields
                    if k not in COUNTERS or k in masked)
        sums = merged.setdefault(key, collections.OrderedDict())
        for k, v in fields:
            if k in COUNTERS and k not in masked:
                try:
                    sums[k] = sums.get(k, 0) + int(v)
                except ValueError:
                    sums[k] = "%s+%s" % (sums.get(k, ""), v)
    p.records, p.fields = [], {}
    for key, sums in merged.items():
        fields = list(key) + [(k, str(v)) for k, v in sums.items()]
        text = "{merged} " + ", ".join("%s=%s" % kv for kv in fields)
        p.records.append(text)
        p.fields[text] = fields


def parse_file_exact(path):
    p = Parsed()
    with open(path, "rb") as f:
        data = f.read()
    text = data.decode("utf-8", "replace")
    p.trailer = "ends with newline" if text.endswith("\n") else "no final newline"
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    ext = os.path.splitext(path)[1]
    if ext == ".json":
        for line in lines:
            masked = mask_json(line)
            p.records.append(masked)
            p.fields[masked] = json_pairs(masked)
        return p
    if not lines:
        return p
    p.header = lines[0]
    if ext == ".csv":
        p.columns = p.header.split(",")
        masked_idx = [i for i, c in enumerate(p.columns)
                      for e in EXCEPTIONS if c == e[1]]
        for line in lines[1:]:
            vals = line.split(",")
            if len(vals) != len(p.columns):
                p.problems.append("CSV row with %d fields, header has %d: %s"
                                  % (len(vals), len(p.columns), line))
            for i in masked_idx:
                rx = [e[3] for e in EXCEPTIONS if e[1] == p.columns[i]][0]
                if i < len(vals) and re.fullmatch(rx, vals[i]):
                    vals[i] = MASK
            masked = ",".join(vals)
            p.records.append(masked)
            p.fields[masked] = list(zip(p.columns, vals))
        return p
    # formatted: fixed columns, start offsets from the header.
    spans = [(m.group(1), m.start()) for m in re.finditer(r"(\S+)\s*", p.header)]
    p.columns = [s[0] for s in spans]
    for line in lines[1:]:
        vals = []
        for i, (name, start) in enumerate(spans):
            end = spans[i + 1][1] if i + 1 < len(spans) else len(line)
            vals.append(line[start:end])
        for i, (name, _) in enumerate(spans):
            for e in EXCEPTIONS:
                if e[1] == name and re.fullmatch(e[3], vals[i].rstrip()):
                    vals[i] = MASK.ljust(len(vals[i]))
        masked = "".join(vals)
        p.records.append(masked)
        p.fields[masked] = [(n, v.rstrip()) for (n, _), v in zip(spans, vals)]
    return p


# --- comparison --------------------------------------------------------------

def closest(rec_fields, candidates):
    best, best_score = None, -1
    for cand, cfields in candidates:
        cd = dict(cfields)
        score = sum(1 for k, v in rec_fields if cd.get(k) == v)
        if score > best_score:
            best, best_score = (cand, cfields), score
    return best


def compare_file(name, ref_path, cand_path, report, field_stats, max_diffs,
                 masked=()):
    ref, cand = parse_file(ref_path, masked), parse_file(cand_path, masked)
    ok = True
    for prob in cand.problems:
        report.append("    %s: flowacctd: %s" % (name, prob))
        ok = False
    if ref.header != cand.header:
        ok = False
        report.append("    %s: header differs\n      nfacctd:   %s\n      flowacctd: %s"
                      % (name, ref.header, cand.header))
    if ref.trailer != cand.trailer:
        ok = False
        report.append("    %s: nfacctd file %s, flowacctd file %s"
                      % (name, ref.trailer, cand.trailer))
    rc, cc = collections.Counter(ref.records), collections.Counter(cand.records)
    only_ref = list((rc - cc).elements())
    only_cand = list((cc - rc).elements())
    matched = sum((rc & cc).values())
    # E8 second pass: pair records that differ only by pmacct's truncated
    # sysUptime-relative times.
    e8 = 0
    for r in list(only_ref):
        for c in only_cand:
            if e8_equal(ref.fields[r], cand.fields[c]):
                only_ref.remove(r)
                only_cand.remove(c)
                e8 += 1
                break
    report.append("    %s: %d records nfacctd, %d flowacctd, %d equal, "
                  "%d equal but for E8 times, %d only in nfacctd, "
                  "%d only in flowacctd"
                  % (name, len(ref.records), len(cand.records), matched, e8,
                     len(only_ref), len(only_cand)))
    if not only_ref and not only_cand:
        return ok
    pool = [(c, cand.fields[c]) for c in only_cand]
    shown = 0
    for r in only_ref:
        rfields = ref.fields[r]
        best = closest(rfields, pool) if pool else None
        if best is None:
            if shown < max_diffs:
                report.append("      missing in flowacctd: %s" % r)
            shown += 1
            field_stats["<missing record>"] += 1
            continue
        pool.remove(best)
        bd = dict(best[1])
        rkeys = [k for k, _ in rfields]
        ckeys = [k for k, _ in best[1]]
        diffs = ["%s: nfacctd=%s flowacctd=%s" % (k, v, bd.get(k, "<absent>"))
                 for k, v in rfields if bd.get(k) != v]
        diffs += ["%s: nfacctd=<absent> flowacctd=%s" % (k, v)
                  for k, v in best[1] if k not in dict(rfields)]
        if rkeys != ckeys and set(rkeys) == set(ckeys):
            diffs.append("key order differs")
        if not diffs:
            diffs.append("same fields, different text (spacing/quoting)")
        for d in diffs:
            field_stats[d.split(":")[0]] += 1
        if shown < max_diffs:
            report.append("      nfacctd:   %s\n      flowacctd: %s\n        -> %s"
                          % (r, best[0], "; ".join(diffs)))
        shown += 1
    for c, _ in pool:
        if shown < max_diffs:
            report.append("      extra in flowacctd: %s" % c)
        shown += 1
        field_stats["<extra record>"] += 1
    if shown > max_diffs:
        report.append("      ... %d more mismatching records" % (shown - max_diffs))
    return False


def run_case(conf_path, pcap_rel, args, field_stats):
    """Returns (True / False / None for a daemon failure, report lines)."""
    report = []
    meta = read_meta(conf_path)
    with open(conf_path, encoding="utf-8") as f:
        template = f.read()
    pcap = os.path.join(args.corpus, pcap_rel)
    tmp = tempfile.mkdtemp(prefix="parity-")
    try:
        results, runs = {}, {}
        for side, binary in (("nfacctd", args.nfacctd),
                             ("flowacctd", args.flowacctd)):
            work = os.path.join(tmp, side)
            os.makedirs(work)
            text = substitute(template, pcap, os.path.join(work, "out"))
            runs[side] = (binary, text, work)
            results[side] = os.path.join(work, "out")
        # Both daemons at once: a pmacct replay mostly waits, not computes.
        # The self-test puts nfacctd on both sides: the candidate then has
        # the reference's race too and gets the same repeats.
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = {"nfacctd": pool.submit(run_reference, runs["nfacctd"],
                                              args, report)}
            if os.path.samefile(args.flowacctd, args.nfacctd):
                futures["flowacctd"] = pool.submit(
                    run_reference, runs["flowacctd"], args, report)
            else:
                futures["flowacctd"] = pool.submit(
                    run_daemon, *runs["flowacctd"], args.timeout)
        failed = False
        for side in ("nfacctd", "flowacctd"):
            ok, msg = futures[side].result()
            if not ok:
                report.append("    %s failed: %s" % (side, msg))
                failed = True
        if failed:
            return None, report
        ref_files = collect(results["nfacctd"], meta["outputs"])
        cand_files = collect(results["flowacctd"], meta["outputs"])
        ok = True
        nrec = 0
        for f in ref_files:
            nrec += len(parse_file(os.path.join(results["nfacctd"], f)).records)
        report.insert(0, "    nfacctd: %d file(s), %d record(s)" % (len(ref_files), nrec))
        if not ref_files:
            report.append("    note: nfacctd wrote no output file")
        for f in sorted(ref_files - cand_files):
            report.append("    file missing in flowacctd: %s" % f)
            field_stats["<missing file>"] += 1
            ok = False
        for f in sorted(cand_files - ref_files):
            report.append("    extra file from flowacctd: %s" % f)
            field_stats["<extra file>"] += 1
            ok = False
        masked = []
        if pcap_rel.startswith(("netflow5/", "netflow9/")):
            # E8: pmacct truncates sysUptime-relative times to the second,
            # which also merges flows flowacctd keeps apart when the times
            # are key primitives: mask them and merge, as for E4-E7.
            masked += sorted(E8_FIELDS)
            report.append("    exception E8 applied (sysUptime-relative "
                          "timestamp_start/end masked, records merged)")
        for eid, cap, cols, keys, reason in CAPTURE_EXCEPTIONS:
            if cap == pcap_rel:
                masked += cols + keys
                report.append("    exception %s applied (%s masked): %s"
                              % (eid, "/".join(cols + keys), reason))
        for f in sorted(ref_files & cand_files):
            if not compare_file(f, os.path.join(results["nfacctd"], f),
                                os.path.join(results["flowacctd"], f),
                                report, field_stats, args.max_diffs, masked):
                ok = False
        return ok, report
    finally:
        if args.keep:
            report.append("    kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--flowacctd", required=True, help="daemon under test")
    ap.add_argument("--nfacctd", default=None,
                    help="reference (default: nfacctd in PATH or /usr/sbin)")
    ap.add_argument("--corpus", default=DEFAULT_CORPUS)
    ap.add_argument("--config", action="append", default=[],
                    help="config name (configs/NAME.conf) or path; default all")
    ap.add_argument("--pcap", action="append", default=[],
                    help="only these corpus-relative captures of the config")
    ap.add_argument("--max-pcaps", type=int, default=0,
                    help="only the first N captures of each config")
    ap.add_argument("--timeout", type=int, default=60)
    ap.add_argument("--max-diffs", type=int, default=10,
                    help="mismatching records shown per file")
    ap.add_argument("--keep", action="store_true", help="keep temp dirs")
    ap.add_argument("--jobs", type=int, default=4,
                    help="captures replayed at the same time (default 4)")
    ap.add_argument("--expect-mismatch", action="store_true",
                    help="harness self-test: succeed only if a mismatch is found")
    args = ap.parse_args()

    if args.nfacctd is None:
        args.nfacctd = shutil.which("nfacctd") or "/usr/sbin/nfacctd"
    if not os.access(args.nfacctd, os.X_OK):
        print("SKIP: nfacctd (pmacct) not installed (%s); "
              "scripts/install_deps.sh installs it" % args.nfacctd)
        return SKIP
    if not os.path.isdir(args.corpus):
        print("SKIP: corpus not found at %s" % args.corpus)
        return SKIP
    args.flowacctd = os.path.abspath(args.flowacctd)
    if not os.access(args.flowacctd, os.X_OK):
        print("error: flowacctd binary %s is not executable" % args.flowacctd)
        return 2

    confs = []
    for c in args.config or sorted(
            os.path.splitext(n)[0] for n in os.listdir(CONFDIR)
            if n.endswith(".conf")):
        path = c if os.path.sep in c else os.path.join(CONFDIR, c + ".conf")
        if not os.path.isfile(path):
            print("error: no config %s" % path)
            return 2
        confs.append(path)

    failures, errors, cases = 0, 0, 0
    field_stats = collections.Counter()
    jobs = []
    for conf in confs:
        name = os.path.splitext(os.path.basename(conf))[0]
        pcaps = read_meta(conf)["pcaps"]
        if args.pcap:
            pcaps = [p for p in pcaps if p in args.pcap or
                     any(fnmatch.fnmatch(p, g) for g in args.pcap)]
        if args.max_pcaps:
            pcaps = pcaps[:args.max_pcaps]
        if not pcaps and not args.pcap:
            print("error: config %s lists no capture" % name)
            return 2
        for pcap in pcaps:
            if not os.path.isfile(os.path.join(args.corpus, pcap)):
                print("SKIP %s %s: capture missing" % (name, pcap))
                continue
            jobs.append((name, conf, pcap))

    if not jobs:
        print("error: no capture selected")
        return 2

    # Cases run in parallel (--jobs); results print in config/capture order.
    lock = threading.Lock()

    def one(job):
        stats = collections.Counter()
        ok, report = run_case(job[1], job[2], args, stats)
        with lock:
            field_stats.update(stats)
        return ok, report

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for (name, _, pcap), (ok, report) in zip(jobs, pool.map(one, jobs)):
            cases += 1
            summary = report[0].strip() if report else ""
            if ok is None:
                print("ERROR %s %s" % (name, pcap))
                print("\n".join(report))
                errors += 1
                continue
            known = [k for k in KNOWN_CASES if k[1] == name and k[2] == pcap]
            label = "PASS" if ok else "MISMATCH"
            if known and not ok:
                label = "KNOWN %s (%s: %s)" % (known[0][0], known[0][3],
                                               known[0][4])
            elif known:
                label = "PASS (listed as %s: remove it from KNOWN_CASES)" % (
                    known[0][0])
            print("%s %s %s (%s)" % (label, name, pcap, summary))
            if not ok or args.keep:
                print("\n".join(report[1:]))
            failures += 0 if ok or known else 1
            sys.stdout.flush()

    print("\n%d case(s), %d with mismatches, %d with a daemon failure"
          % (cases, failures, errors))
    if field_stats:
        print("mismatch counts by field:")
        for k, v in field_stats.most_common():
            print("  %-28s %d" % (k, v))
    if args.expect_mismatch:
        if failures and not errors:
            print("expected mismatch found: harness detects differences")
            return 0
        print("FAIL: a mismatch (and no daemon failure) was expected")
        return 1
    return 1 if failures or errors else 0


if __name__ == "__main__":
    sys.exit(main())
