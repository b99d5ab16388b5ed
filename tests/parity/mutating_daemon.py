#!/usr/bin/python3
"""Harness self-test stand-in for flowacctd: runs nfacctd, then damages output.

Called like the daemon (`mutating_daemon.py -f CONFIG`). Runs the real
nfacctd (NFACCTD env var, else nfacctd in PATH or /usr/sbin/nfacctd) on the
same config, then changes what parity_test.py must catch:
  *.csv   the BYTES value of the first data row is increased by one
  *.json  the first record's key order is changed (first two keys swapped)
  other   (formatted) the last data line is dropped
Files are found next to the config, in out/ (the harness layout).

nfacctd's pcap replay can stop its print plugins before they took any
record when the machine is loaded (see REFERENCE_ATTEMPTS in
parity_test.py); a run in which a plugin purged nothing is repeated, as the
harness does for its reference run, so that the damage is always made to
the same complete output.
"""

import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from parity_test import (REFERENCE_ATTEMPTS, plugin_names,  # noqa: E402
                         purged_counts)


def main():
    if len(sys.argv) != 3 or sys.argv[1] != "-f":
        print("usage: mutating_daemon.py -f CONFIG", file=sys.stderr)
        return 2
    conf = sys.argv[2]
    nfacctd = (os.environ.get("NFACCTD") or shutil.which("nfacctd")
               or "/usr/sbin/nfacctd")
    out = os.path.join(os.path.dirname(os.path.abspath(conf)), "out")
    with open(conf, encoding="utf-8") as f:
        plugins = plugin_names(f.read())
    for attempt in range(REFERENCE_ATTEMPTS + 2):
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        log = os.path.join(os.path.dirname(out), "nfacctd-attempt%d.log"
                           % attempt)
        with open(log, "w", encoding="utf-8") as lf:
            rc = subprocess.run([nfacctd, "-f", conf], stdout=lf,
                                stderr=subprocess.STDOUT).returncode
        with open(log, encoding="utf-8", errors="replace") as lf:
            sys.stdout.write(lf.read())
        if rc != 0:
            return rc
        purged = purged_counts(log)
        if all(purged.get(p, 0) > 0 for p in plugins):
            break
        print("mutating_daemon: attempt %d: a plugin purged nothing (%s); "
              "running nfacctd again" % (attempt + 1, purged))
    for name in sorted(os.listdir(out)):
        path = os.path.join(out, name)
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        if name.endswith(".csv") and len(lines) > 2:
            vals = lines[1].split(",")
            vals[-1] = str(int(vals[-1]) + 1)
            lines[1] = ",".join(vals)
        elif name.endswith(".json") and lines and lines[0]:
            m = re.match(r'^\{("[^"]*": [^,]*), ("[^"]*": [^,]*), (.*)$', lines[0])
            if m:
                lines[0] = "{%s, %s, %s" % (m.group(2), m.group(1), m.group(3))
        elif not name.endswith(".json") and len(lines) > 2:
            del lines[-2]  # last data line (the file ends with "\n")
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
