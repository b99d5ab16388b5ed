#!/usr/bin/python3
"""End-to-end tests of the `flowacct decode` command line (tests/cli/README.md).

Runs the real binary on the captures bundled in examples/captures/ (so no
corpus is needed) and checks exit statuses, the JSON / CSV / column-selection
/ summary contracts and byte-exact golden output.

  cli_test.py --flowacct BIN [CHECK ...]         run all or the named checks
  cli_test.py --flowacct BIN --update-golden     rewrite tests/cli/golden/*

Exit status 0 when every selected check passed, 1 otherwise. Only Debian's
/usr/bin/python3 and its standard library are used.
"""

import argparse
import json
import os
import re
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
CAPTURES = os.path.join(REPO, "examples", "captures")
GOLDEN = os.path.join(HERE, "golden")
NF9 = "logstash-nf9-cisco-asr9k.pcap"
IPFIX = "logstash-ipfix-two-messages.pcap"

# The default CSV / formatted columns, with pmacct's upper-case header names
# (docs/decode-tool.md; pmacct print plugin).
DEFAULT_CSV_HEADER = ("PEER_SRC_IP,IN_IFACE,OUT_IFACE,SRC_IP,DST_IP,SRC_PORT,"
                      "DST_PORT,PROTOCOL,TOS,TCP_FLAGS,TIMESTAMP_START,"
                      "TIMESTAMP_END,PACKETS,BYTES")

# (golden file, capture, extra arguments).  Run from examples/captures with a
# relative file name, TZ=UTC, so the output does not depend on the checkout.
GOLDEN_CASES = [
    ("nf9-asr9k.json.txt", NF9, ["-O", "json", "--no-summary"]),
    ("nf9-asr9k.csv.txt", NF9, ["-O", "csv", "--no-summary"]),
    ("nf9-asr9k.formatted.txt", NF9, ["-O", "formatted", "--no-summary"]),
    ("nf9-asr9k.summary.txt", NF9, ["--summary-only"]),
    ("ipfix-two-messages.json.txt", IPFIX,
     ["-O", "json", "--no-summary", "--num-protos", "--epoch"]),
    ("ipfix-two-messages.summary.txt", IPFIX, ["--summary-only"]),
]


class CheckFailed(Exception):
    pass


def expect(cond, msg):
    if not cond:
        raise CheckFailed(msg)


class Cli:
    def __init__(self, binary):
        self.binary = binary

    def run(self, args, cwd=CAPTURES):
        env = dict(os.environ, TZ="UTC", LC_ALL="C")
        p = subprocess.run([self.binary] + list(args), cwd=cwd, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, timeout=120, check=False)
        return (p.returncode, p.stdout.decode("utf-8", "replace"),
                p.stderr.decode("utf-8", "replace"))

    def decode(self, *args, cwd=CAPTURES):
        return self.run(["decode", "--no-progress"] + list(args), cwd=cwd)


def json_lines(text):
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise CheckFailed("stdout line %d is not JSON (%s): %r" % (n, e, line[:120]))
        expect(isinstance(obj, dict), "line %d is not a JSON object" % n)
        out.append(obj)
    return out


def known_json_keys(cli):
    """JSON keys of every primitive, from `flowacct primitives` (Markdown)."""
    rc, out, err = cli.run(["primitives"])
    expect(rc == 0, "flowacct primitives exited %d: %s" % (rc, err))
    rows = [l for l in out.splitlines() if l.startswith("|")]
    expect(len(rows) > 2, "`flowacct primitives` printed no table")
    header = [c.strip().lower() for c in rows[0].strip("|").split("|")]
    col = next((i for i, c in enumerate(header) if "json" in c), None)
    expect(col is not None, "no JSON column in `flowacct primitives`: %r" % rows[0])
    keys = set()
    for row in rows[2:]:
        cells = [c.strip() for c in row.strip("|").split("|")]
        if len(cells) > col:
            keys.add(cells[col].strip("`"))
    expect("ip_src" in keys and "bytes" in keys,
           "primitive table has no ip_src/bytes JSON keys")
    return keys


# --------------------------------------------------------------------------
# Checks.  Each takes the Cli and raises CheckFailed with the reason.
# --------------------------------------------------------------------------

def check_exit_ok(cli):
    for cap in (NF9, IPFIX):
        rc, out, err = cli.decode(cap)
        expect(rc == 0, "%s: exit %d, want 0 (stderr %r)" % (cap, rc, err[-300:]))
        expect(out.strip(), "%s: no records printed" % cap)
        expect("exporter" in err, "%s: no summary on stderr" % cap)


def check_exit_missing_file(cli):
    with tempfile.TemporaryDirectory() as d:
        missing = os.path.join(d, "no-such-capture.pcap")
        rc, out, err = cli.decode(missing)
        expect(rc == 2, "missing file: exit %d, want 2" % rc)
        expect(out == "", "missing file: something on stdout: %r" % out[:200])
        expect("no-such-capture.pcap" in err, "missing file: stderr does not name "
               "the file: %r" % err[:300])
        # a file that is not a capture at all cannot be read either
        junk = os.path.join(d, "junk.pcap")
        with open(junk, "wb") as f:
            f.write(b"this is not a capture file\n" * 4)
        rc, out, err = cli.decode(junk)
        expect(rc == 2, "non-capture file: exit %d, want 2" % rc)


def check_exit_usage(cli):
    cases = [
        ([], "no command"),
        (["frobnicate"], "unknown command"),
        (["decode"], "no FILE"),
        (["decode", NF9, "--bogus-option"], "unknown option"),
        (["decode", NF9, "-O", "xml"], "unknown output format"),
        (["decode", NF9, "-O"], "-O without a value"),
        (["decode", NF9, "-c", "no_such_primitive"], "unknown primitive"),
        (["decode", NF9, "--udp-port", "notaport"], "bad port"),
        (["decode", NF9, "--udp-port", "70000"], "port out of range"),
    ]
    for args, what in cases:
        rc, out, err = cli.run(args)
        expect(rc == 1, "%s (%s): exit %d, want 1" % (what, " ".join(args), rc))
        expect("usage" in (err + out).lower(), "%s: no usage text" % what)
        expect(not any(l.startswith("{") for l in out.splitlines()),
               "%s: records printed despite the usage error" % what)
    rc, out, err = cli.run(["decode", "--help"])
    expect(rc == 0 and "usage: flowacct decode" in out,
           "decode --help: exit %d, usage on stdout: %r" % (rc, out[:80]))


def check_json(cli):
    keys = known_json_keys(cli) | {"sample_type"}
    for cap, want_records in ((NF9, 40), (IPFIX, 13)):
        rc, out, err = cli.decode(cap, "-O", "json", "--no-summary")
        expect(rc == 0, "%s: exit %d" % (cap, rc))
        expect(err == "", "%s: --no-summary still wrote stderr: %r" % (cap, err[:200]))
        objs = json_lines(out)
        expect(len(objs) == want_records, "%s: %d records, want %d" % (
            cap, len(objs), want_records))
        for n, o in enumerate(objs, 1):
            unknown = set(o) - keys
            expect(not unknown, "%s line %d: keys that are no pmacct/flowacct "
                   "primitive: %s" % (cap, n, sorted(unknown)))
            expect(o.get("sample_type") in ("flow", "event", "option"),
                   "%s line %d: sample_type %r" % (cap, n, o.get("sample_type")))
            expect(list(o)[0] == "sample_type", "%s line %d: sample_type is not "
                   "the first key" % (cap, n))
            for k in ("peer_ip_src", "export_proto_version", "timestamp_arrival"):
                expect(k in o, "%s line %d: no %s" % (cap, n, k))
        flows = [o for o in objs if o["sample_type"] == "flow"]
        expect(flows, "%s: no flow records" % cap)
        for o in flows:
            for k in ("ip_src", "ip_dst", "ip_proto", "packets", "bytes"):
                expect(k in o, "%s: flow record without %s: %r" % (cap, k, o))
            expect(isinstance(o["bytes"], int) and isinstance(o["packets"], int),
                   "%s: counters are not JSON integers" % cap)
            expect(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}",
                                o["timestamp_arrival"]),
                   "%s: timestamp_arrival %r is not pmacct's format" % (
                       cap, o["timestamp_arrival"]))
    # --num-protos and --epoch change the value formats, not the records
    rc, out, _ = cli.decode(NF9, "--no-summary", "--num-protos", "--epoch")
    objs = json_lines(out)
    flows = [o for o in objs if o["sample_type"] == "flow"]
    expect(all(isinstance(o["ip_proto"], int) for o in flows),
           "--num-protos: ip_proto is not a number")
    expect(all(re.fullmatch(r"\d+\.\d{6}", o["timestamp_arrival"]) for o in objs),
           "--epoch: timestamp_arrival is not seconds.micros")


def check_csv(cli):
    rc, out, err = cli.decode(NF9, "-O", "csv", "--no-summary")
    expect(rc == 0, "exit %d" % rc)
    lines = out.splitlines()
    expect(lines and lines[0] == DEFAULT_CSV_HEADER,
           "CSV header %r, want %r" % (lines[0] if lines else "", DEFAULT_CSV_HEADER))
    expect(len(lines) == 41, "%d CSV lines, want header + 40 records" % len(lines))
    ncol = DEFAULT_CSV_HEADER.count(",") + 1
    for n, line in enumerate(lines[1:], 2):
        expect(line.count(",") + 1 == ncol, "CSV line %d has %d columns, want %d: %r"
               % (n, line.count(",") + 1, ncol, line))
    # the JSON and the CSV describe the same records
    rc, jout, _ = cli.decode(NF9, "-O", "json", "--no-summary")
    objs = json_lines(jout)
    idx = DEFAULT_CSV_HEADER.split(",").index("BYTES")
    csv_bytes = [l.split(",")[idx] for l in lines[1:]]
    json_bytes = [str(o["bytes"]) if "bytes" in o else "" for o in objs]
    expect(csv_bytes == json_bytes, "CSV BYTES column differs from the JSON bytes")


def check_columns(cli):
    rc, out, err = cli.decode(NF9, "-c", "src_host,dst_host,proto,bytes",
                              "--no-summary")
    expect(rc == 0, "exit %d: %s" % (rc, err))
    objs = json_lines(out)
    expect(len(objs) == 40, "%d records, want 40" % len(objs))
    allowed = {"sample_type", "ip_src", "ip_dst", "ip_proto", "bytes"}
    for o in objs:
        expect(set(o) <= allowed, "keys %s outside the selected columns" % sorted(o))
    flows = [o for o in objs if o["sample_type"] == "flow"]
    expect(flows and all(set(o) == allowed for o in flows),
           "flow records without all selected columns: %r" % flows[:1])
    # JSON key names are accepted too, and CSV follows the selection order
    rc, out, err = cli.decode(NF9, "-O", "csv", "-c", "bytes,ip_src,port_dst",
                              "--no-summary")
    expect(rc == 0, "csv -c: exit %d: %s" % (rc, err))
    lines = out.splitlines()
    expect(lines[0] == "BYTES,SRC_IP,DST_PORT", "csv -c header %r" % lines[0])
    expect(all(l.count(",") == 2 for l in lines), "csv -c: rows are not 3 columns")


def check_summary_only(cli):
    rc, out, err = cli.decode(NF9, "--summary-only")
    expect(rc == 0, "exit %d" % rc)
    expect(not any(l.startswith("{") for l in out.splitlines()),
           "--summary-only printed records")
    expect(re.search(r"^# %s: 7 frames, 7 datagrams" % re.escape(NF9), out, re.M),
           "no '# FILE: 7 frames, 7 datagrams' line: %r" % out[:300])
    m = re.search(r"^exporter\s+datagrams\s+records\s+options\b.*$", out, re.M)
    expect(m, "no per-exporter table header")
    row = re.search(r"^192\.0\.2\.23\s+(\d+)\s+(\d+)\s+(\d+)\s", out, re.M)
    expect(row, "no row for exporter 192.0.2.23")
    datagrams, records, options = map(int, row.groups())
    expect((datagrams, records + options) == (7, 40),
           "exporter row: %d datagrams, %d records + %d options; want 7, 40"
           % (datagrams, records, options))
    # without --summary-only the same summary goes to stderr
    rc, out2, err2 = cli.decode(NF9, "-O", "json")
    expect("192.0.2.23" in err2 and not err2.lstrip().startswith("{"),
           "default run: summary not on stderr")


def check_truncated(cli):
    """A capture cut inside its last packet: the records of the complete
    packets are printed, then exit 2."""
    with open(os.path.join(CAPTURES, NF9), "rb") as f:
        data = f.read()
    magic = data[:4]
    expect(magic in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4",
                     b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d"),
           "bundled capture is not a classic pcap")
    endian = "<" if magic[0] in (0xd4, 0x4d) else ">"
    offsets = []
    pos = 24
    while pos + 16 <= len(data):
        incl = struct.unpack(endian + "I", data[pos + 8:pos + 12])[0]
        offsets.append(pos)
        pos += 16 + incl
    expect(len(offsets) == 7, "expected 7 packets, walked %d" % len(offsets))
    last = offsets[-1]
    with tempfile.TemporaryDirectory() as d:
        clean = os.path.join(d, "clean.pcap")
        cut = os.path.join(d, "cut.pcap")
        with open(clean, "wb") as f:
            f.write(data[:last])              # 6 whole packets
        with open(cut, "wb") as f:
            f.write(data[:last + 16 + 60])    # + header and 60 bytes of the 7th
        rc_c, out_c, _ = cli.decode(clean, "--no-summary")
        expect(rc_c == 0, "6-packet capture: exit %d" % rc_c)
        want = json_lines(out_c)
        expect(want, "6-packet capture printed no records")
        rc, out, err = cli.decode(cut, "--no-summary")
        expect(rc == 2, "truncated capture: exit %d, want 2" % rc)
        got = json_lines(out)
        expect(got == want, "truncated capture printed %d records, want the %d of "
               "the 6 complete packets" % (len(got), len(want)))
        expect(err.strip(), "truncated capture: no message on stderr")
        # cut inside the 16-byte record header of the 7th packet: same outcome
        with open(cut, "wb") as f:
            f.write(data[:last + 7])
        rc, out, err = cli.decode(cut, "--no-summary")
        expect(rc == 2 and json_lines(out) == want,
               "cut in a record header: exit %d, %d records" % (rc, len(json_lines(out))))


def golden_output(cli, capture, args):
    rc, out, err = cli.decode(capture, *args)
    expect(rc == 0, "%s %s: exit %d: %s" % (capture, " ".join(args), rc, err[-200:]))
    return out


def check_golden(cli, update=False):
    diffs = []
    for name, capture, args in GOLDEN_CASES:
        out = golden_output(cli, capture, args)
        path = os.path.join(GOLDEN, name)
        if update:
            os.makedirs(GOLDEN, exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(out)
            print("wrote %s (%d lines)" % (os.path.relpath(path, REPO),
                                           out.count("\n")))
            continue
        if not os.path.exists(path):
            diffs.append("%s: golden file missing (run with --update-golden)" % name)
            continue
        with open(path, encoding="utf-8") as f:
            want = f.read()
        if out != want:
            ol, wl = out.splitlines(), want.splitlines()
            first = next((i for i in range(max(len(ol), len(wl)))
                          if i >= len(ol) or i >= len(wl) or ol[i] != wl[i]), 0)
            diffs.append("%s: differs from line %d\n      got:  %s\n      want: %s"
                         % (name, first + 1,
                            ol[first] if first < len(ol) else "<end>",
                            wl[first] if first < len(wl) else "<end>"))
    expect(not diffs, "golden output differs (if intended, regenerate with "
           "tests/cli/cli_test.py --flowacct BIN --update-golden and review "
           "the diff):\n    " + "\n    ".join(diffs))


CHECKS = {
    "exit_ok": check_exit_ok,
    "exit_missing_file": check_exit_missing_file,
    "exit_usage": check_exit_usage,
    "json": check_json,
    "csv": check_csv,
    "columns": check_columns,
    "summary_only": check_summary_only,
    "truncated": check_truncated,
    "golden": check_golden,
}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--flowacct", required=True, help="the flowacct binary")
    ap.add_argument("--update-golden", action="store_true",
                    help="rewrite tests/cli/golden/* from the binary's output")
    ap.add_argument("checks", nargs="*", choices=[[]] + sorted(CHECKS),
                    help="checks to run (default: all)")
    a = ap.parse_args(argv)
    cli = Cli(os.path.abspath(a.flowacct))
    if a.update_golden:
        check_golden(cli, update=True)
        return 0
    failed = 0
    for name in a.checks or list(CHECKS):
        try:
            CHECKS[name](cli)
            print("PASS %s" % name)
        except CheckFailed as e:
            failed += 1
            print("FAIL %s: %s" % (name, e))
        except Exception as e:  # pylint: disable=broad-except
            failed += 1
            print("FAIL %s: %s: %s" % (name, type(e).__name__, e))
    print("%d passed, %d failed" % (len(a.checks or CHECKS) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
