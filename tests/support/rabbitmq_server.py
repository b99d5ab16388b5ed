#!/usr/bin/python3
"""Starts and stops a private RabbitMQ server for the broker sink tests.

Usage:
  rabbitmq_server.py start --dir D   start (or restart) the node kept in D
  rabbitmq_server.py stop  --dir D   stop it cleanly, wait for exit, stop epmd
  rabbitmq_server.py kill  --dir D   SIGKILL it (a crash), wait for exit

`start` prints one JSON object on stdout:
  {"host": "127.0.0.1", "port": N, "node": "...", "pid": N,
   "dist_port": N, "epmd_port": N, "dir": "D"}
and exits 0 once the node accepts AMQP connections (bounded: 90 s), or
prints the end of the server log on stderr and exits 1.

Everything lives under D: the Mnesia database, logs, the Erlang cookie
($HOME), the config files. The node listens on 127.0.0.1 only, with free
ports picked for AMQP, Erlang distribution, epmd (a private epmd, never the
system's 4369) and the CLI tools. The ports are kept in D/state.json, so a
`start` after `kill` or `stop` brings the node back on the same port with
the same data (durable queues and persistent messages survive).

Needs Debian's rabbitmq-server (/usr/lib/rabbitmq/bin). Runs as any user;
as root the node simply runs as root (the Debian wrapper's `su rabbitmq` is
bypassed so that the node can use D).
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time

RABBIT_BIN = "/usr/lib/rabbitmq/bin"
START_TIMEOUT_S = 90
STOP_TIMEOUT_S = 60


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def state_path(d):
    return os.path.join(d, "state.json")


def load_state(d):
    try:
        with open(state_path(d)) as f:
            return json.load(f)
    except FileNotFoundError:
        return None


def save_state(d, state):
    tmp = state_path(d) + ".tmp"
    with open(tmp, "w") as f:
        json.dump(state, f)
    os.replace(tmp, state_path(d))


def new_state(d):
    port = free_port()
    return {
        "host": "127.0.0.1",
        "port": port,
        "dist_port": free_port(),
        "epmd_port": free_port(),
        "ctl_port": free_port(),
        "node": "flowacct%d@localhost" % port,
        "dir": d,
        "pid": 0,
    }


def environment(state):
    d = state["dir"]
    env = dict(os.environ)
    env.update({
        "HOME": d,  # the Erlang cookie goes here
        "RABBITMQ_NODENAME": state["node"],
        "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
        "RABBITMQ_NODE_PORT": str(state["port"]),
        "RABBITMQ_DIST_PORT": str(state["dist_port"]),
        "ERL_EPMD_PORT": str(state["epmd_port"]),
        "ERL_EPMD_ADDRESS": "127.0.0.1",
        "RABBITMQ_CTL_DIST_PORT_MIN": str(state["ctl_port"]),
        "RABBITMQ_CTL_DIST_PORT_MAX": str(state["ctl_port"]),
        "RABBITMQ_MNESIA_BASE": os.path.join(d, "mnesia"),
        "RABBITMQ_LOG_BASE": os.path.join(d, "log"),
        "RABBITMQ_CONFIG_FILE": os.path.join(d, "rabbitmq.conf"),
        "RABBITMQ_ADVANCED_CONFIG_FILE": os.path.join(d, "advanced.config"),
        "RABBITMQ_CONF_ENV_FILE": os.path.join(d, "rabbitmq-env.conf"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": os.path.join(d, "enabled_plugins"),
        "RABBITMQ_PID_FILE": os.path.join(d, "rabbitmq.pid"),
    })
    return env


def write_config(state):
    d = state["dir"]
    for sub in ("mnesia", "log"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    with open(os.path.join(d, "rabbitmq.conf"), "w") as f:
        f.write("listeners.tcp.default = 127.0.0.1:%d\n" % state["port"])
        f.write("loopback_users.guest = true\n")
        # Test machines have little free disk; never block publishers.
        f.write("disk_free_limit.absolute = 1MB\n")
        f.write("log.console = false\n")
        f.write("log.file.level = info\n")
    with open(os.path.join(d, "advanced.config"), "w") as f:
        f.write("[].\n")
    with open(os.path.join(d, "rabbitmq-env.conf"), "w") as f:
        f.write("")
    with open(os.path.join(d, "enabled_plugins"), "w") as f:
        f.write("[].\n")


def alive(pid):
    if pid <= 0:
        return False
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return fields[0] != "Z"  # a zombie has exited
    except (FileNotFoundError, IndexError):
        return False


def wait_exit(pid, timeout_s):
    deadline = time.monotonic() + timeout_s
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not alive(pid)


def accepts(host, port):
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def log_tail(d, n=40):
    lines = []
    for sub in ("stdout.log", os.path.join("log")):
        p = os.path.join(d, sub)
        files = [p] if os.path.isfile(p) else (
            [os.path.join(p, x) for x in sorted(os.listdir(p))]
            if os.path.isdir(p) else [])
        for fp in files:
            try:
                with open(fp, errors="replace") as f:
                    lines += ["%s: %s" % (os.path.basename(fp), l.rstrip())
                              for l in f.readlines()[-n:]]
            except OSError:
                pass
    return "\n".join(lines[-2 * n:])


def cmd_start(d):
    os.makedirs(d, exist_ok=True)
    d = os.path.abspath(d)
    state = load_state(d) or new_state(d)
    if alive(state["pid"]):
        print(json.dumps(state))
        return 0
    if accepts(state["host"], state["port"]):
        print("port %d is taken by another process" % state["port"],
              file=sys.stderr)
        return 1
    write_config(state)
    out = open(os.path.join(d, "stdout.log"), "ab")
    proc = subprocess.Popen(
        [os.path.join(RABBIT_BIN, "rabbitmq-server")],
        env=environment(state), cwd=d, stdin=subprocess.DEVNULL,
        stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    state["pid"] = proc.pid
    save_state(d, state)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            print("rabbitmq-server exited with %d\n%s" %
                  (proc.returncode, log_tail(d)), file=sys.stderr)
            return 1
        if accepts(state["host"], state["port"]):
            print(json.dumps(state))
            sys.stdout.flush()
            return 0
        time.sleep(0.2)
    print("rabbitmq-server not ready after %d s\n%s" %
          (START_TIMEOUT_S, log_tail(d)), file=sys.stderr)
    kill_group(state["pid"])
    return 1


def kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    wait_exit(pid, STOP_TIMEOUT_S)


def stop_epmd(state):
    env = environment(state)
    subprocess.run(["epmd", "-port", str(state["epmd_port"]), "-kill"],
                   env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=30, check=False)


def cmd_stop(d):
    state = load_state(os.path.abspath(d))
    if state is None:
        return 0
    pid = state["pid"]
    if alive(pid):
        try:
            subprocess.run(
                [os.path.join(RABBIT_BIN, "rabbitmqctl"), "-n", state["node"],
                 "stop"], env=environment(state), stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, timeout=STOP_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            pass
        if not wait_exit(pid, STOP_TIMEOUT_S):
            kill_group(pid)
        else:
            # Helpers of the VM (erl_child_setup, inet_gethost) share its
            # process group.
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    stop_epmd(state)
    return 0


def cmd_kill(d):
    state = load_state(os.path.abspath(d))
    if state is None:
        return 0
    kill_group(state["pid"])
    return 0 if not alive(state["pid"]) else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["start", "stop", "kill"])
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()
    if not os.path.exists(os.path.join(RABBIT_BIN, "rabbitmq-server")):
        print("rabbitmq-server is not installed", file=sys.stderr)
        return 2
    return {"start": cmd_start, "stop": cmd_stop, "kill": cmd_kill}[
        args.command](args.dir)


if __name__ == "__main__":
    sys.exit(main())
