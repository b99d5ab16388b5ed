#!/usr/bin/python3
"""Harness self-test stand-in for flowacctd: runs nfacctd, then damages output.

Called like the daemon (`mutating_daemon.py -f CONFIG`). Runs the real
nfacctd (NFACCTD env var, else nfacctd in PATH or /usr/sbin/nfacctd) on the
same config, then changes what parity_test.py must catch:
  *.csv   the BYTES value of the first data row is increased by one
  *.json  the first record's key order is changed (first two keys swapped)
  other   (formatted) the last data line is dropped
Files are found next to the config, in out/ (the harness layout).
"""

import os
import re
import shutil
import subprocess
import sys


def main():
    if len(sys.argv) != 3 or sys.argv[1] != "-f":
        print("usage: mutating_daemon.py -f CONFIG", file=sys.stderr)
        return 2
    conf = sys.argv[2]
    nfacctd = (os.environ.get("NFACCTD") or shutil.which("nfacctd")
               or "/usr/sbin/nfacctd")
    rc = subprocess.run([nfacctd, "-f", conf]).returncode
    if rc != 0:
        return rc
    out = os.path.join(os.path.dirname(os.path.abspath(conf)), "out")
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
