#!/usr/bin/python3
"""Starts and stops real database servers for flowacct's SQL sink tests.

PostgreSQL 15 (Debian's postgresql package) and MariaDB (mariadb-server) are
run from their installed binaries, bound to 127.0.0.1 on a free port, with
every data file, socket, pid file and log inside a directory the caller gives
(a `pgsql/` or `mysql/` subdirectory of it, so both kinds can share one
directory). Meant for root-run CI: PostgreSQL refuses to run as root, so it
runs as the `postgres` OS user (through runuser); MariaDB runs with
--user=root.

Both servers get a login role `pmacct` with password `arealsmartpwd` (the
defaults of pmacct's sql_user/sql_passwd) and a database `pmacct` it owns
(PostgreSQL: password (scram) auth over TCP, trust over the unix socket;
MariaDB: users pmacct@127.0.0.1 and pmacct@localhost, ALL privileges).

Python API:
    info = start("pgsql", "/tmp/d")   # -> {"kind", "host", "port", "user",
                                       #     "password", "db", "socket",
                                       #     "admin_user", "dir", "log"}
    kill("pgsql", "/tmp/d")            # SIGKILL the server (outage tests)
    info = restart("pgsql", "/tmp/d")  # start again on the same port
    stop("pgsql", "/tmp/d")            # clean shutdown, waits for exit

Command line (prints the info as one JSON object; exit status 0 on success,
1 with a message on stderr otherwise; --dir is created if missing):
    python3 sql_servers.py start|stop|kill|restart|status pgsql|mysql --dir D

start() waits (at most 60 s) until the server accepts connections; stop()
and kill() wait until the server processes have exited. A failed start
kills whatever it started. "socket" is the unix socket directory for
PostgreSQL (libpq's host= when it is a path) and the socket file for MariaDB.
"""

import argparse
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time

KINDS = ("pgsql", "mysql")
USER = "pmacct"
PASSWORD = "arealsmartpwd"
DB = "pmacct"
HOST = "127.0.0.1"
TIMEOUT_S = 60.0

PG_BIN = "/usr/lib/postgresql/15/bin"
PG_OS_USER = "postgres"
STATE_FILE = "flowacct-server.json"
# sun_path is 108 bytes on Linux, including the terminating NUL.
MAX_SOCKET_PATH = 107


class ServerError(Exception):
    """A server could not be started, stopped or found."""


# --------------------------------------------------------------------------
# helpers


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _run(cmd, timeout=TIMEOUT_S, cwd=None, env=None, input_text=None):
    """Runs cmd; returns stdout; raises ServerError with its output on failure."""
    try:
        p = subprocess.run(cmd, cwd=cwd, env=env, input=input_text,
                           stdin=None if input_text is not None
                           else subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ServerError("timed out after %.0f s: %s" % (timeout, " ".join(cmd)))
    except OSError as e:
        raise ServerError("cannot run %s: %s" % (cmd[0], e))
    if p.returncode != 0:
        raise ServerError("%s failed (exit %d):\n%s%s" % (
            " ".join(cmd), p.returncode, p.stdout, p.stderr))
    return p.stdout


def _pid_alive(pid):
    if pid <= 0:
        return False
    try:
        with open("/proc/%d/stat" % pid) as f:
            # A zombie (state Z) has exited; it only waits to be reaped.
            stat = f.read()
        state = stat[stat.rindex(")") + 2]
        return state not in ("Z", "X")
    except (OSError, ValueError, IndexError):
        return False


def _children(pid):
    """Direct children of pid, from /proc."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
            fields = stat[stat.rindex(")") + 2:].split()
            if int(fields[1]) == pid:
                out.append(int(entry))
        except (OSError, ValueError, IndexError):
            continue
    return out


def _wait_exit(pids, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(_pid_alive(p) for p in pids):
            return True
        time.sleep(0.05)
    return not any(_pid_alive(p) for p in pids)


def _sigkill_tree(pid):
    """SIGKILLs pid and its children and waits (bounded) for them to exit."""
    if pid <= 0:
        return
    pids = [pid] + _children(pid)
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass
    _wait_exit(pids, TIMEOUT_S)


def _read_pid(path):
    try:
        with open(path) as f:
            return int(f.readline().strip())
    except (OSError, ValueError):
        return 0


def _state_path(kind_dir):
    return os.path.join(kind_dir, STATE_FILE)


def _load_state(kind_dir):
    try:
        with open(_state_path(kind_dir)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _save_state(kind_dir, info):
    tmp = _state_path(kind_dir) + ".tmp"
    with open(tmp, "w") as f:
        json.dump(info, f)
    os.replace(tmp, _state_path(kind_dir))


def _kind_dir(kind, base):
    if kind not in KINDS:
        raise ServerError("unknown kind %r (want one of %s)" % (kind, KINDS))
    return os.path.join(os.path.abspath(base), kind)


def _check_socket_path(path):
    if len(path.encode()) > MAX_SOCKET_PATH:
        raise ServerError("socket path too long for AF_UNIX (%d bytes): %s; "
                          "use a shorter --dir" % (len(path.encode()), path))


def _wait_until(check, what, log):
    deadline = time.monotonic() + TIMEOUT_S
    last = None
    while time.monotonic() < deadline:
        ok, last = check()
        if ok:
            return
        time.sleep(0.2)
    raise ServerError("%s did not accept connections within %.0f s (%s); "
                      "log: %s\n%s" % (what, TIMEOUT_S, last, log, _tail(log)))


def _tail(path, lines=30):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


# --------------------------------------------------------------------------
# PostgreSQL


def _pg_paths(kind_dir):
    return {
        "data": os.path.join(kind_dir, "data"),
        "log": os.path.join(kind_dir, "postgres.log"),
        "sockdir": kind_dir,
        "pidfile": os.path.join(kind_dir, "data", "postmaster.pid"),
    }


def _as_postgres(cmd):
    if os.geteuid() == 0:
        return ["runuser", "-u", PG_OS_USER, "--"] + cmd
    return cmd


def _pg_env():
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("PG"):
            del env[k]
    env["LC_ALL"] = "C.UTF-8"
    return env


def _ensure_traversable(path, uid):
    """Makes every ancestor of path searchable by uid (adds o+x if needed)."""
    path = os.path.abspath(path)
    parts = []
    while True:
        parts.append(path)
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    for p in reversed(parts):
        st = os.stat(p)
        if st.st_uid == uid:
            continue
        if not st.st_mode & 0o001:
            os.chmod(p, st.st_mode | 0o001)


def _pg_remove_stale_locks(paths):
    """Removes the lock files of a postmaster that is dead.

    Where nothing reaps orphans (a container whose init does not), a killed
    postmaster stays a zombie and kill(pid, 0) still succeeds, so PostgreSQL
    would take its lock files for a live server's.
    """
    pid = _read_pid(paths["pidfile"])
    if pid == 0 or _pid_alive(pid):
        return
    stale = [paths["pidfile"]]
    for name in os.listdir(paths["sockdir"]):
        if name.startswith(".s.PGSQL."):
            stale.append(os.path.join(paths["sockdir"], name))
    for path in stale:
        try:
            os.unlink(path)
        except OSError:
            pass


def _pg_start(kind_dir, fresh, port):
    if not os.path.exists(os.path.join(PG_BIN, "postgres")):
        raise ServerError("PostgreSQL 15 not installed (%s/postgres missing)" % PG_BIN)
    paths = _pg_paths(kind_dir)
    _check_socket_path(os.path.join(paths["sockdir"], ".s.PGSQL.%d" % port))
    env = _pg_env()
    if os.geteuid() == 0:
        pw = pwd.getpwnam(PG_OS_USER)
        _ensure_traversable(os.path.dirname(kind_dir), pw.pw_uid)
        os.chown(kind_dir, pw.pw_uid, pw.pw_gid)
    if fresh:
        _run(_as_postgres([os.path.join(PG_BIN, "initdb"), "-D", paths["data"],
                           "-U", PG_OS_USER, "--auth-local=trust",
                           "--auth-host=scram-sha-256", "-E", "UTF8",
                           "--locale=C.UTF-8", "--no-sync"]),
             cwd=kind_dir, env=env, timeout=120)
        with open(os.path.join(paths["data"], "postgresql.auto.conf"), "a") as f:
            f.write("listen_addresses = '%s'\n" % HOST)
            f.write("unix_socket_directories = '%s'\n" % paths["sockdir"])
            # fsync off is safe against a killed server (the OS keeps the
            # pages); synchronous_commit stays on, or a SIGKILL loses
            # transactions the client was told are committed, and the
            # outage tests would blame the sink.
            f.write("fsync = off\nsynchronous_commit = on\n"
                    "full_page_writes = off\nmax_connections = 50\n"
                    "shared_buffers = 16MB\n")
        with open(os.path.join(paths["data"], "pg_hba.conf"), "w") as f:
            f.write("local all all trust\n"
                    "host all all 127.0.0.1/32 scram-sha-256\n")
    _pg_remove_stale_locks(paths)
    # Port on the command line so a restart can move it if ever needed.
    _run(_as_postgres([os.path.join(PG_BIN, "pg_ctl"), "-D", paths["data"],
                       "-l", paths["log"], "-o", "-p %d" % port, "-w",
                       "-t", "%d" % TIMEOUT_S, "start"]),
         cwd=kind_dir, env=env, timeout=TIMEOUT_S + 10)

    psql = [os.path.join(PG_BIN, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
            "-h", paths["sockdir"], "-p", str(port), "-U", PG_OS_USER, "-d",
            "postgres"]

    def ready():
        try:
            _run(_as_postgres(psql + ["-c", "SELECT 1"]), cwd=kind_dir,
                 env=env, timeout=10)
            return True, None
        except ServerError as e:
            return False, str(e).strip().splitlines()[-1:]

    _wait_until(ready, "PostgreSQL", paths["log"])
    if fresh:
        _run(_as_postgres(psql), cwd=kind_dir, env=env, input_text=(
            "CREATE ROLE %s LOGIN CREATEDB PASSWORD '%s';\n"
            "CREATE DATABASE %s OWNER %s;\n" % (USER, PASSWORD, DB, USER)))

    # The pmacct role can log in over TCP with its password.
    tcp_env = dict(env, PGPASSWORD=PASSWORD)
    tcp = [os.path.join(PG_BIN, "psql"), "-X", "-q", "-h", HOST, "-p",
           str(port), "-U", USER, "-d", DB, "-c", "SELECT 1"]

    def tcp_ready():
        try:
            _run(tcp, cwd=kind_dir, env=tcp_env, timeout=10)
            return True, None
        except ServerError as e:
            return False, str(e).strip().splitlines()[-1:]

    _wait_until(tcp_ready, "PostgreSQL (TCP)", paths["log"])
    return {"socket": paths["sockdir"], "admin_user": PG_OS_USER,
            "log": paths["log"]}


def _pg_pid(kind_dir):
    return _read_pid(_pg_paths(kind_dir)["pidfile"])


def _pg_stop(kind_dir):
    paths = _pg_paths(kind_dir)
    pid = _pg_pid(kind_dir)
    if not _pid_alive(pid):
        return
    procs = [pid] + _children(pid)
    try:
        _run(_as_postgres([os.path.join(PG_BIN, "pg_ctl"), "-D", paths["data"],
                           "-m", "fast", "-w", "-t", "%d" % TIMEOUT_S,
                           "stop"]),
             cwd=kind_dir, env=_pg_env(), timeout=TIMEOUT_S + 10)
    except ServerError:
        _sigkill_tree(pid)
    if not _wait_exit(procs, TIMEOUT_S):
        for p in procs:
            _sigkill_tree(p)


# --------------------------------------------------------------------------
# MariaDB


def _my_paths(kind_dir):
    return {
        "data": os.path.join(kind_dir, "data"),
        "tmp": os.path.join(kind_dir, "tmp"),
        "log": os.path.join(kind_dir, "mariadbd.log"),
        "socket": os.path.join(kind_dir, "mysqld.sock"),
        "pidfile": os.path.join(kind_dir, "mariadbd.pid"),
    }


def _my_binary(names):
    for n in names:
        p = shutil.which(n) or shutil.which(n, path="/usr/sbin:/usr/bin")
        if p:
            return p
    return None


def _my_client(paths, sql, user="root", password=None, tcp_port=None):
    client = _my_binary(["mariadb", "mysql"])
    if client is None:
        raise ServerError("mariadb client not installed")
    cmd = [client, "--no-defaults", "--batch", "--skip-column-names",
           "--connect-timeout=5", "-u", user]
    if tcp_port is None:
        cmd += ["--protocol=socket", "-S", paths["socket"]]
    else:
        cmd += ["--protocol=tcp", "-h", HOST, "-P", str(tcp_port)]
    env = dict(os.environ)
    env.pop("MYSQL_PWD", None)
    if password is not None:
        env["MYSQL_PWD"] = password
    return _run(cmd + ["-e", sql], env=env, timeout=20)


def _my_start(kind_dir, fresh, port):
    server = _my_binary(["mariadbd", "mysqld"])
    if server is None:
        raise ServerError("MariaDB server not installed (mariadbd missing)")
    paths = _my_paths(kind_dir)
    _check_socket_path(paths["socket"])
    os.makedirs(paths["tmp"], exist_ok=True)
    if fresh:
        install = _my_binary(["mariadb-install-db", "mysql_install_db"])
        if install is None:
            raise ServerError("mariadb-install-db not installed")
        _run([install, "--no-defaults", "--datadir=" + paths["data"],
              "--user=root", "--auth-root-authentication-method=socket",
              "--skip-test-db", "--skip-name-resolve"],
             cwd=kind_dir, timeout=180)
    cmd = [server, "--no-defaults", "--datadir=" + paths["data"],
           "--socket=" + paths["socket"], "--port=%d" % port,
           "--bind-address=" + HOST, "--user=root",
           "--pid-file=" + paths["pidfile"], "--log-error=" + paths["log"],
           "--tmpdir=" + paths["tmp"], "--skip-name-resolve",
           "--skip-log-bin", "--innodb-buffer-pool-size=32M",
           "--innodb-log-file-size=16M", "--innodb-flush-log-at-trx-commit=2",
           "--character-set-server=utf8mb4",
           "--collation-server=utf8mb4_general_ci", "--max-connections=50"]
    with open(os.path.join(kind_dir, "mariadbd.stdout"), "ab") as out:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, cwd=kind_dir,
                                start_new_session=True)
    # Remember the pid now, so a failed start can still be cleaned up.
    with open(paths["pidfile"] + ".launcher", "w") as f:
        f.write("%d\n" % proc.pid)

    def ready():
        if proc.poll() is not None:
            raise ServerError("mariadbd exited with status %d; log: %s\n%s" % (
                proc.returncode, paths["log"], _tail(paths["log"])))
        try:
            _my_client(paths, "SELECT 1")
            return True, None
        except ServerError as e:
            return False, str(e).strip().splitlines()[-1:]

    try:
        _wait_until(ready, "MariaDB", paths["log"])
        if fresh:
            stmts = ["CREATE DATABASE IF NOT EXISTS `%s` CHARACTER SET utf8mb4"
                     % DB]
            for host in ("127.0.0.1", "localhost"):
                stmts.append("CREATE USER IF NOT EXISTS '%s'@'%s' IDENTIFIED "
                             "BY '%s'" % (USER, host, PASSWORD))
                stmts.append("GRANT ALL PRIVILEGES ON *.* TO '%s'@'%s'"
                             % (USER, host))
            stmts.append("FLUSH PRIVILEGES")
            _my_client(paths, "; ".join(stmts))

        def tcp_ready():
            try:
                _my_client(paths, "SELECT 1", user=USER, password=PASSWORD,
                           tcp_port=port)
                return True, None
            except ServerError as e:
                return False, str(e).strip().splitlines()[-1:]

        _wait_until(tcp_ready, "MariaDB (TCP)", paths["log"])
    except BaseException:
        _sigkill_tree(proc.pid)
        proc.wait()
        raise
    # The server outlives this process (it runs in its own session).
    return {"socket": paths["socket"], "admin_user": "root",
            "log": paths["log"]}


def _my_pid(kind_dir):
    paths = _my_paths(kind_dir)
    pid = _read_pid(paths["pidfile"])
    if not _pid_alive(pid):
        pid = _read_pid(paths["pidfile"] + ".launcher")
    return pid if _pid_alive(pid) else 0


def _my_stop(kind_dir):
    pid = _my_pid(kind_dir)
    if not pid:
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError:
        return
    if not _wait_exit([pid], TIMEOUT_S):
        _sigkill_tree(pid)


# --------------------------------------------------------------------------
# API


def _pid(kind, kind_dir):
    return _pg_pid(kind_dir) if kind == "pgsql" else _my_pid(kind_dir)


def running(kind, base):
    """True when the server for kind in base is running."""
    kind_dir = _kind_dir(kind, base)
    return _pid_alive(_pid(kind, kind_dir))


def start(kind, base):
    """Starts (or re-starts, reusing its data and port) the server.

    Returns the connection info dict. Raises ServerError on failure, after
    killing whatever it started.
    """
    kind_dir = _kind_dir(kind, base)
    state = _load_state(kind_dir)
    if state is not None and running(kind, base):
        return state
    fresh = state is None
    if fresh:
        if os.path.exists(kind_dir):
            shutil.rmtree(kind_dir)  # a half-made directory from a failed start
        os.makedirs(kind_dir)
    attempts = 3 if fresh else 1
    last_error = None
    for _ in range(attempts):
        port = _free_port() if fresh else int(state["port"])
        try:
            if kind == "pgsql":
                extra = _pg_start(kind_dir, fresh, port)
            else:
                extra = _my_start(kind_dir, fresh, port)
        except BaseException as e:
            last_error = e
            _cleanup(kind, kind_dir)
            if not isinstance(e, ServerError):
                raise
            if fresh:
                shutil.rmtree(kind_dir, ignore_errors=True)
                os.makedirs(kind_dir)
            continue
        info = {"kind": kind, "host": HOST, "port": port, "user": USER,
                "password": PASSWORD, "db": DB, "dir": kind_dir}
        info.update(extra)
        _save_state(kind_dir, info)
        return info
    raise last_error


def _cleanup(kind, kind_dir):
    try:
        pid = _pid(kind, kind_dir)
        if pid:
            _sigkill_tree(pid)
    except Exception:  # best effort
        pass


def stop(kind, base):
    """Shuts the server down cleanly and waits for it to exit."""
    kind_dir = _kind_dir(kind, base)
    if kind == "pgsql":
        _pg_stop(kind_dir)
    else:
        _my_stop(kind_dir)
    return _load_state(kind_dir) or {"kind": kind, "dir": kind_dir}


def kill(kind, base):
    """SIGKILLs the server (and its backends) and waits for them to exit."""
    kind_dir = _kind_dir(kind, base)
    _sigkill_tree(_pid(kind, kind_dir))
    return _load_state(kind_dir) or {"kind": kind, "dir": kind_dir}


def restart(kind, base):
    """Stops the server if it runs, then starts it again on the same port."""
    if running(kind, base):
        stop(kind, base)
    return start(kind, base)


def status(kind, base):
    kind_dir = _kind_dir(kind, base)
    info = dict(_load_state(kind_dir) or {"kind": kind, "dir": kind_dir})
    info["running"] = running(kind, base)
    return info


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("action",
                        choices=["start", "stop", "kill", "restart", "status"])
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("--dir", required=True,
                        help="directory for data, sockets and logs")
    args = parser.parse_args(argv)
    os.makedirs(args.dir, exist_ok=True)
    actions = {"start": start, "stop": stop, "kill": kill,
               "restart": restart, "status": status}
    try:
        info = actions[args.action](args.kind, args.dir)
    except ServerError as e:
        print("sql_servers.py %s %s: %s" % (args.action, args.kind, e),
              file=sys.stderr)
        return 1
    print(json.dumps(info, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
