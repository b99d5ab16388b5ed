"""Shared helpers for the flowacctd process tests (stdlib only).

Starts flowacctd on loopback with a config written into a temp dir, waits
for its log lines, reads its print-plugin outputs. Every wait is bounded.
"""

import csv
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request

SKIP = 77  # ctest SKIP_RETURN_CODE


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_tcp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def read_text(path):
    """The text of `path` ("" when it does not exist yet), undecodable
    bytes replaced: for files a daemon is still writing."""
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def stop_group(proc, sig, timeout=20):
    """Stops a process started with start_new_session=True: `sig`, up to
    `timeout` s for it to exit, then SIGKILL to its whole process group
    (children it left behind too). Its exit status, None when it did not
    exit on `sig`."""
    rc = None
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            rc = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
    else:
        rc = proc.returncode
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        pass
    return rc


def finish(ok, workdir, keep, seconds):
    """Prints PASS / FAIL with the run time, keeps `workdir` when asked or
    on failure (and says where), else removes it. The exit status."""
    print("%s in %.0f s" % ("PASS" if ok else "FAIL", seconds))
    if keep or not ok:
        print("work dir: %s" % workdir)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


class Daemon:
    """A flowacctd process with a config file and a log file in `workdir`."""

    def __init__(self, flowacctd, workdir, config_text, args=()):
        self.workdir = workdir
        self.log_path = os.path.join(workdir, "flowacctd.log")
        self.config_path = os.path.join(workdir, "flowacctd.conf")
        with open(self.config_path, "w") as f:
            f.write(config_text)
            f.write(f"\nlogfile: {self.log_path}\n")
        self.proc = subprocess.Popen(
            [flowacctd, "-f", self.config_path, *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def log(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_log(self, text, timeout=10):
        def seen():
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"flowacctd exited early ({self.proc.returncode}):\n"
                    + self.log() + self.proc.stderr.read().decode())
            return text in self.log()
        wait_for(seen, timeout, f"log line containing {text!r}")

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=20):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("flowacctd did not exit on SIGTERM")
        return self.proc.returncode

    def metrics(self, address):
        with urllib.request.urlopen(f"http://{address}/metrics",
                                    timeout=5) as r:
            return r.read().decode()


def metric_sum(text, name):
    total = 0
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        if key == name or key.startswith(name + "{"):
            total += float(value)
    return total


def read_csv_rows(pattern):
    rows = []
    for path in sorted(glob.glob(pattern)):
        with open(path, newline="") as f:
            rows.extend(csv.DictReader(f))
    return rows


def read_json_rows(pattern):
    rows = []
    for path in sorted(glob.glob(pattern)):
        with open(path) as f:
            rows.extend(json.loads(line) for line in f if line.strip())
    return rows


def counted(rows, counters=("PACKETS", "BYTES", "FLOWS")):
    """Sums counters per key (all non-counter columns)."""
    out = {}
    for r in rows:
        key = tuple(sorted((k, v) for k, v in r.items() if k not in counters))
        acc = out.setdefault(key, [0] * len(counters))
        for i, c in enumerate(counters):
            acc[i] += int(r.get(c) or 0)
    return out
