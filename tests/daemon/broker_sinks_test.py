#!/usr/bin/python3
"""flowacctd's broker sinks (amqp, kafka) against a broker: same rows as print.

  broker_sinks_test.py amqp --flowacctd BIN [--corpus DIR]
  broker_sinks_test.py amqp-outage --flowacctd BIN --flowacct CLI
  broker_sinks_test.py kafka --flowacctd BIN --kafka-mock BIN [--corpus DIR]
  broker_sinks_test.py kafka-outage --flowacctd BIN --flowacct CLI
                       --kafka-mock BIN
  (any mode) --tamper: add 1 to the bytes of one row read from the broker
  before comparing, which must make the test fail (checks the checks);
  --keep: keep the temp dir.

amqp: a real RabbitMQ (tests/support/rabbitmq_server.py: 127.0.0.1, temp
  dir). `flowacctd -f conf -I capture` with two views of one aggregate,
  amqp[mq] and print[ref] (print_output json to a file). Before the run the
  test declares the exchange as the sink does (durable, not auto-deleted,
  same type), a queue, and binds it. After the run the queue is drained
  with a small AMQP 0-9-1 reader written here (stdlib sockets: basic.get
  gives the routing key, the content header the message_id, which the
  amqp-tools CLIs do not print). The rows (JSON objects minus writer_id,
  which print does not write) must be print's rows as a multiset; message
  ids unique and `mq/<seq>/<i>`; writer_id `mq/<pid>`. Cases: unbinned
  view on a direct exchange (routing key `acct`); amqp_multi_values 50; a
  5-minute binned view on a topic exchange with amqp_routing_key
  `acct.%Y%m%d_%H%M.$peer_src_ip`: every message's key must name the bin
  and the exporter of each of its rows.
amqp-outage: a live daemon (loopback UDP, amqp_refresh_time 1) fed by
  `flowacct replay --synthetic ipfix` in three bounded phases; RabbitMQ is
  SIGKILLed before phase 2 (the sink must spool) and restarted before phase
  3 (amqp_persistent_msg and a durable queue, so what the server confirmed
  survives the crash). After the spool drained and SIGTERM: at least once
  (every key of print[ref] is in the queue with at least its packets and
  bytes); duplicate messages (same message_id: a lost confirm makes the
  sink publish again) no more than the view's retries; after dropping
  them, per-key sums equal print[ref]'s (exactly once); the delivery
  counters add up. Sums, not rows: both views flush on one tick, but a
  batch of records can fall between their flushes.
kafka: Debian packages no Kafka broker, so the stand-in is librdkafka's
  mock cluster (rdkafka_mock.h: three in-process brokers on loopback), run
  by tests/support/kafka_mock.c (`serve`: prints the bootstrap servers and
  keeps the cluster up until stdin closes; `consume`: reads every message
  back as `partition<TAB>key<TAB>flowacct-id<TAB>row[<TAB>row...]`). The
  mock implements the protocol, not every broker behaviour. Same capture
  runs as amqp with kafka[k] (kafka_topic flows, 4 partitions,
  kafka_partition_key $peer_src_ip): rows equal print's as a multiset, each
  message's key is the peer_src_ip of its rows, and each exporter's
  messages all landed on one partition.
kafka-outage: as amqp-outage, with all three mock brokers set down
  (rd_kafka_mock_broker_set_down) during phase 2 and up again for phase 3
  (kafka_partition_key $src_host: every partition used); duplicates are
  told by the flowacct-id header.

Exit status 0 pass, 1 fail, 77 skip (rabbitmq-server, the kafka_mock
helper or the corpus missing). Debian's /usr/bin/python3, stdlib only.
"""

import argparse
import collections
import glob
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "support"))
import daemon_harness as h  # noqa: E402
from sink_test_support import (  # noqa: E402
    Fail, Skip, check_delivery, compare_sums, replay, run_capture, spool_files,
    view_stats)

SKIP = h.SKIP
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
DEFAULT_CORPUS = os.path.normpath(os.path.join(REPO, "..", "shared",
                                               "corpus"))
RABBIT = os.path.join(HERE, "..", "support", "rabbitmq_server.py")
RABBIT_BIN = "/usr/lib/rabbitmq/bin/rabbitmq-server"


# ---------------------------------------------------------------------------
# A minimal AMQP 0-9-1 client (basic.get only), enough to read back what the
# sink published with its routing key and message_id.

FRAME_METHOD, FRAME_HEADER, FRAME_BODY, FRAME_HEARTBEAT = 1, 2, 3, 8
FRAME_END = 0xCE


def _shortstr(s):
    b = s.encode()
    return struct.pack("!B", len(b)) + b


def _longstr(b):
    if isinstance(b, str):
        b = b.encode()
    return struct.pack("!I", len(b)) + b


class _Reader:
    def __init__(self, data):
        self.d, self.i = data, 0

    def take(self, n):
        v = self.d[self.i:self.i + n]
        self.i += n
        return v

    def u8(self):
        return self.take(1)[0]

    def u16(self):
        return struct.unpack("!H", self.take(2))[0]

    def u32(self):
        return struct.unpack("!I", self.take(4))[0]

    def u64(self):
        return struct.unpack("!Q", self.take(8))[0]

    def shortstr(self):
        return self.take(self.u8()).decode()

    def longstr(self):
        return self.take(self.u32())

    def table(self):
        return self.longstr()  # kept raw; nothing here needs its fields


class AmqpError(Exception):
    pass


class Amqp:
    """One connection, channel 1. Every socket operation has a timeout."""

    def __init__(self, host, port, user="guest", password="guest",
                 timeout=15):
        self.s = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""
        self.s.sendall(b"AMQP\x00\x00\x09\x01")
        self._expect(0, 10, 10)  # connection.start
        self._method(0, 10, 11, struct.pack("!I", 0) + _shortstr("PLAIN") +
                     _longstr("\0%s\0%s" % (user, password)) +
                     _shortstr("en_US"))
        tune = self._expect(0, 10, 30)
        channel_max, frame_max = tune.u16(), tune.u32()
        self.frame_max = frame_max or 131072
        self._method(0, 10, 31, struct.pack("!HIH", channel_max,
                                            self.frame_max, 0))
        self._method(0, 10, 40, _shortstr("/") + _shortstr("") + b"\0")
        self._expect(0, 10, 41)
        self._method(1, 20, 10, _shortstr(""))
        self._expect(1, 20, 11)

    def close(self):
        try:
            self._method(0, 10, 50, struct.pack("!H", 200) + _shortstr("bye") +
                         struct.pack("!HH", 0, 0))
            self._expect(0, 10, 51)
        except (OSError, AmqpError):
            pass
        self.s.close()

    def _send(self, ftype, channel, payload):
        self.s.sendall(struct.pack("!BHI", ftype, channel, len(payload)) +
                       payload + bytes([FRAME_END]))

    def _method(self, channel, cls, meth, args):
        self._send(FRAME_METHOD, channel, struct.pack("!HH", cls, meth) + args)

    def _recv_exact(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(65536)
            if not chunk:
                raise AmqpError("connection closed by the server")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _frame(self):
        while True:
            ftype, channel, size = struct.unpack("!BHI", self._recv_exact(7))
            payload = self._recv_exact(size)
            if self._recv_exact(1)[0] != FRAME_END:
                raise AmqpError("bad frame end")
            if ftype == FRAME_HEARTBEAT:
                continue
            return ftype, channel, payload

    def _expect(self, channel, cls, *meths):
        ftype, ch, payload = self._frame()
        r = _Reader(payload)
        if ftype != FRAME_METHOD:
            raise AmqpError("expected a method frame, got type %d" % ftype)
        c, m = r.u16(), r.u16()
        if (c, m) in ((10, 50), (20, 40)):  # connection / channel close
            code = r.u16()
            raise AmqpError("closed by the server: %d %s" % (code,
                                                             r.shortstr()))
        if c != cls or m not in meths:
            raise AmqpError("expected method %d.%s, got %d.%d" % (
                cls, meths, c, m))
        self.last_method = m
        return r

    def exchange_declare(self, name, kind, durable=True):
        self._method(1, 40, 10, struct.pack("!H", 0) + _shortstr(name) +
                     _shortstr(kind) + bytes([2 if durable else 0]) +
                     struct.pack("!I", 0))
        self._expect(1, 40, 11)

    def queue_declare(self, name, durable=False):
        self._method(1, 50, 10, struct.pack("!H", 0) + _shortstr(name) +
                     bytes([2 if durable else 0]) + struct.pack("!I", 0))
        r = self._expect(1, 50, 11)
        r.shortstr()
        return r.u32()  # messages ready

    def queue_bind(self, queue, exchange, key):
        self._method(1, 50, 20, struct.pack("!H", 0) + _shortstr(queue) +
                     _shortstr(exchange) + _shortstr(key) + b"\0" +
                     struct.pack("!I", 0))
        self._expect(1, 50, 21)

    def get(self, queue):
        """-> None (empty) or dict(routing_key, exchange, props, body)."""
        self._method(1, 60, 70, struct.pack("!H", 0) + _shortstr(queue) +
                     b"\x01")  # no-ack
        r = self._expect(1, 60, 71, 72)
        if self.last_method == 72:
            return None
        r.u64()  # delivery tag
        r.u8()  # redelivered
        exchange, key = r.shortstr(), r.shortstr()
        ftype, _, payload = self._frame()
        if ftype != FRAME_HEADER:
            raise AmqpError("expected a content header")
        hr = _Reader(payload)
        hr.u16()
        hr.u16()
        size = hr.u64()
        flags = hr.u16()
        props = {}
        # AMQP 0-9-1 basic properties, in order, bit 15 downwards.
        spec = [("content_type", "s"), ("content_encoding", "s"),
                ("headers", "t"), ("delivery_mode", "b"), ("priority", "b"),
                ("correlation_id", "s"), ("reply_to", "s"),
                ("expiration", "s"), ("message_id", "s"), ("timestamp", "q"),
                ("type", "s"), ("user_id", "s"), ("app_id", "s")]
        for i, (name, kind) in enumerate(spec):
            if not flags & (1 << (15 - i)):
                continue
            props[name] = {"s": hr.shortstr, "t": hr.table, "b": hr.u8,
                           "q": hr.u64}[kind]()
        body = b""
        while len(body) < size:
            ftype, _, payload = self._frame()
            if ftype != FRAME_BODY:
                raise AmqpError("expected a content body")
            body += payload
        return {"exchange": exchange, "routing_key": key, "props": props,
                "body": body}

    def drain(self, queue, limit=10_000_000):
        out = []
        while len(out) < limit:
            m = self.get(queue)
            if m is None:
                break
            out.append(m)
        return out


class Rabbit:
    """The private RabbitMQ of tests/support/rabbitmq_server.py."""

    def __init__(self, base):
        self.dir = base
        self.info = None

    def _run(self, cmd, timeout=120):
        p = subprocess.run([sys.executable, RABBIT, cmd, "--dir", self.dir],
                           capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            raise Fail("rabbitmq_server.py %s: exit %d: %s" % (
                cmd, p.returncode, p.stderr[-3000:]))
        return p.stdout

    def start(self):
        self.info = json.loads(self._run("start").strip().splitlines()[-1])
        # The port accepts before the broker finishes booting: retry a login.
        deadline = time.monotonic() + 60
        while True:
            try:
                self.connect().close()
                return self.info
            except (OSError, AmqpError) as e:
                if time.monotonic() > deadline:
                    raise Fail("RabbitMQ refuses logins: %s" % e)
                time.sleep(0.3)

    def kill(self):
        self._run("kill")

    def stop(self):
        self._run("stop")

    def connect(self):
        return Amqp(self.info["host"], self.info["port"])


# ---------------------------------------------------------------------------
# flowacctd runs and the rows they write




# stamp_updated is the time of the flush that wrote the row: each view
# flushes on its own, so it may differ by a second between amqp and print.
MASKED = ("writer_id", "stamp_updated")


def row_key(obj):
    return tuple(sorted((k, json.dumps(v)) for k, v in obj.items()
                        if k not in MASKED))


def print_json_rows(pattern):
    rows = []
    for path in sorted(glob.glob(pattern)):
        with open(path) as f:
            for line in f:
                if line.strip():
                    rows.append(json.loads(line))
    return rows


def body_rows(body):
    """JSON objects of one message (*_multi_values: '\\n'-separated)."""
    return [json.loads(x) for x in body.decode().split("\n") if x.strip()]


def diff_report(want, got, what, limit=4):
    if want == got:
        return None
    a, b = want - got, got - want
    lines = ["%s: %d row(s) only in print[ref], %d only in the broker"
             % (what, sum(a.values()), sum(b.values()))]
    lines += ["  ref:    %s" % dict(r) for r in list(a)[:limit]]
    lines += ["  broker: %s" % dict(r) for r in list(b)[:limit]]
    return "\n".join(lines)


def tamper_rows(rows):
    """--tamper: add 1 to one row's bytes (the comparison must then fail)."""
    if rows:
        rows[0]["bytes"] = int(rows[0].get("bytes", 0)) + 1
        print("tampered with one row read from the broker")


# Several exporters in one capture (the corpus files have one each): the
# captures below concatenated by mergecap (Wireshark's, installed with
# tshark), 7 exporter addresses. "@MERGED@" in a case's list stands for it.
MERGED = ["netflow9/graylog-nf9-nprobe-3.pcap",
          "netflow9/logstash-nf9-cisco-asr9k.pcap",
          "ipfix/logstash-ipfix-openbsd-pflow.pcap",
          "netflow5/graylog-nf5-freebsd-netgraph.pcap",
          "netflow9/graylog-nf9-nprobe-mixed-v5-v9.pcap",
          "netflow5/akvorado-nf5.pcap"]


def capture_path(args, tmp, rel):
    """The capture of a case; None when "@MERGED@" cannot be made."""
    if rel != "@MERGED@":
        return os.path.join(args.corpus, rel)
    out = os.path.join(tmp, "merged.pcap")
    if not os.path.exists(out):
        if shutil.which("mergecap") is None:
            print("note: mergecap not installed, multi-exporter case skipped")
            return None
        # classic pcap: libpcap refuses pcapng whose interfaces differ in
        # snapshot length; every input here is Ethernet
        subprocess.run(["mergecap", "-a", "-F", "pcap", "-w", out] +
                       [os.path.join(args.corpus, x) for x in MERGED],
                       check=True, timeout=60, capture_output=True)
    return out


def sanitize(v):
    return re.sub(r"[^A-Za-z0-9_-]", "_", v)


# ---------------------------------------------------------------------------
# amqp: same rows as print

AGG_FLOW = "src_host, dst_host, src_port, dst_port, proto, tos, peer_src_ip"
AGG_TM = "in_iface, out_iface, peer_src_ip, src_as, dst_as, proto"

AMQP_CASES = [
    # (name, aggregate, exchange type, binding, amqp keys, print keys,
    #  routing key check, pcaps)
    ("flows", AGG_FLOW, "direct", "acct", "", "", "plain",
     ["netflow9/graylog-nf9-nprobe-3.pcap",
      "ipfix/logstash-ipfix-openbsd-pflow.pcap",
      "netflow9/logstash-nf9-cisco-asr9k.pcap"]),
    ("multi", AGG_FLOW, "direct", "acct", "amqp_multi_values[mq]: 50\n", "",
     "plain",
     ["netflow9/graylog-nf9-nprobe-3.pcap",
      "netflow9/logstash-nf9-cisco-asr9k.pcap"]),
    ("bins", AGG_TM, "topic", "acct.#",
     "amqp_history[mq]: 5m\namqp_history_roundoff[mq]: m\n"
     "amqp_routing_key[mq]: acct.%Y%m%d_%H%M.$peer_src_ip\n"
     "amqp_multi_values[mq]: 20\n",
     "print_history[ref]: 5m\nprint_history_roundoff[ref]: m\n", "bins",
     ["netflow9/logstash-nf9-cisco-asr9k.pcap",
      "netflow9/graylog-nf9-nprobe-3.pcap",
      "netflow5/graylog-nf5-freebsd-netgraph.pcap", "@MERGED@"]),
]


def check_routing(case, check, msgs):
    """Every message's routing key agrees with its rows."""
    for m in msgs:
        rows = body_rows(m["body"])
        if check == "plain":
            if m["routing_key"] != "acct":
                raise Fail("%s: routing key %r, want 'acct'" % (
                    case, m["routing_key"]))
            continue
        keys = set()
        for r in rows:
            stamp = r.get("stamp_inserted", "")
            mm = re.match(r"(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d)", stamp)
            if not mm:
                raise Fail("%s: row without a usable stamp_inserted: %s" % (
                    case, r))
            keys.add("acct.%s%s%s_%s%s.%s" % (mm.groups() + (
                sanitize(r.get("peer_ip_src", "")),)))
        if keys != {m["routing_key"]}:
            raise Fail("%s: message routed with %r holds rows for %s" % (
                case, m["routing_key"], sorted(keys)))


def amqp_same_rows(args, tmp):
    if not os.path.exists(RABBIT_BIN):
        raise Skip("rabbitmq-server is not installed")
    rabbit = Rabbit(os.path.join(tmp, "rmq"))
    rabbit.start()
    failures = []
    total = n = 0
    try:
        for name, agg, xtype, binding, mq_keys, ref_keys, check, pcaps in \
                AMQP_CASES:
            for rel in pcaps:
                pcap = capture_path(args, tmp, rel)
                if pcap is None:
                    continue
                n += 1
                label = "amqp %s %s" % (name, rel)
                work = os.path.join(tmp, "case%d" % n)
                os.makedirs(work)
                exchange, queue = "fa%d" % n, "q%d" % n
                c = rabbit.connect()
                c.exchange_declare(exchange, xtype)
                c.queue_declare(queue)
                c.queue_bind(queue, exchange, binding)
                c.close()
                binned = "history" in ref_keys
                conf = ("daemonize: false\nplugins: amqp[mq], print[ref]\n"
                        "aggregate[mq]: %s\naggregate[ref]: %s\n"
                        "amqp_host[mq]: %s\namqp_port[mq]: %d\n"
                        "amqp_exchange[mq]: %s\namqp_exchange_type[mq]: %s\n"
                        "amqp_output[mq]: json\n"
                        "flowacct_spool_dir[mq]: %s/spool\n"
                        "print_output[ref]: json\n"
                        "print_output_file[ref]: %s/ref-%s.json\n"
                        "flowacct_metrics_listen: false\n" % (
                            agg, agg, rabbit.info["host"],
                            rabbit.info["port"], exchange, xtype, work, work,
                            "%Y%m%d_%H%M" if binned else "all"))
                conf += mq_keys + ref_keys
                try:
                    log = run_capture(args.flowacctd, work, conf, pcap)
                    st = view_stats(log, "mq")
                    check_delivery(st, label)
                    c = rabbit.connect()
                    msgs = c.drain(queue)
                    c.close()
                    rows = [r for m in msgs for r in body_rows(m["body"])]
                    if args.tamper:
                        tamper_rows(rows)
                    ref = print_json_rows(os.path.join(work, "ref-*.json"))
                    if not ref:
                        raise Fail("%s: print[ref] wrote no rows" % label)
                    d = diff_report(collections.Counter(map(row_key, ref)),
                                    collections.Counter(map(row_key, rows)),
                                    label)
                    if d:
                        raise Fail(d)
                    if len(rows) != st["rows"]:
                        raise Fail("%s: %d rows in the queue, view counted "
                                   "%d" % (label, len(rows), st["rows"]))
                    ids = [m["props"].get("message_id") for m in msgs]
                    if len(set(ids)) != len(ids) or not all(
                            re.fullmatch(r"mq/\d+/\d+", i or "") for i in ids):
                        raise Fail("%s: message ids not unique "
                                   "mq/<seq>/<i>: %s"
                                   % (label, ids[:5]))
                    writers = {r.get("writer_id") for r in rows}
                    if len(writers) != 1 or not re.fullmatch(
                            r"mq/\d+", str(next(iter(writers)))):
                        raise Fail("%s: writer_id %s" % (label, writers))
                    if any(m["props"].get("content_type") !=
                           "application/json" for m in msgs):
                        raise Fail("%s: content type not application/json"
                                   % label)
                    per = max(len(body_rows(m["body"])) for m in msgs)
                    if name == "multi" and len(rows) > 50 and per < 2:
                        raise Fail("%s: multi_values sent one row per "
                                   "message" % label)
                    if name == "flows" and per != 1:
                        raise Fail("%s: %d rows in one message" % (label, per))
                    check_routing(label, check, msgs)
                    total += len(rows)
                    print("OK %s: %d rows equal in %d messages, %d routing "
                          "key(s)" % (label, len(rows), len(msgs),
                                      len({m["routing_key"] for m in msgs})))
                except (Fail, AmqpError) as e:
                    failures.append(str(e))
                    print("FAIL", e)
                sys.stdout.flush()
    finally:
        rabbit.stop()
    print("amqp: %d rows compared in %d runs, %d failure(s)" % (
        total, n, len(failures)))
    return 1 if failures else 0


# ---------------------------------------------------------------------------
# amqp-outage


OUTAGE_AGG = "src_host, dst_host, src_port, dst_port, proto"
COUNTERS = ("packets", "bytes")


def sums(rows):
    out = collections.Counter()
    for r in rows:
        k = tuple(sorted((a, str(v)) for a, v in r.items()
                         if a not in COUNTERS + ("flows",) + MASKED +
                         ("stamp_inserted", "event_type")))
        for c in COUNTERS:
            out[k + (c,)] += int(r.get(c, 0))
    return out


def amqp_outage(args, tmp):
    if not os.path.exists(RABBIT_BIN):
        raise Skip("rabbitmq-server is not installed")
    if not args.flowacct:
        raise Fail("amqp-outage needs --flowacct")
    rabbit = Rabbit(os.path.join(tmp, "rmq"))
    rabbit.start()
    exchange, queue = "pmacct", "outage"
    c = rabbit.connect()
    c.exchange_declare(exchange, "direct")
    c.queue_declare(queue, durable=True)
    c.queue_bind(queue, exchange, "acct")
    c.close()
    work = os.path.join(tmp, "run")
    os.makedirs(work)
    spool = os.path.join(work, "spool")
    ref = os.path.join(work, "ref.json")
    port = h.free_udp_port()
    conf = ("plugins: amqp[mq], print[ref]\naggregate[mq]: %s\n"
            "aggregate[ref]: %s\namqp_host[mq]: %s\namqp_port[mq]: %d\n"
            "amqp_refresh_time[mq]: 1\namqp_persistent_msg[mq]: true\n"
            "amqp_multi_values[mq]: 10\n"
            "flowacct_spool_dir[mq]: %s\nflowacct_close_timeout[mq]: 5\n"
            "print_output[ref]: json\nprint_refresh_time[ref]: 1\n"
            "print_output_file[ref]: %s\nprint_output_file_append[ref]: true\n"
            "nfacctd_ip: 127.0.0.1\nnfacctd_port: %d\n"
            "flowacct_metrics_listen: false\n" % (
                OUTAGE_AGG, OUTAGE_AGG, rabbit.info["host"],
                rabbit.info["port"], spool, ref, port))
    d = h.Daemon(args.flowacctd, work, conf)
    sent = 0

    def queue_depth():
        try:
            cc = rabbit.connect()
            n = cc.queue_declare(queue, durable=True)
            cc.close()
            return n
        except (OSError, AmqpError):
            return 0

    try:
        d.wait_log("msg=listening", 20)
        sent += replay(args.flowacct, port, 6000, 50, 1)
        h.wait_for(lambda: queue_depth() > 0, 20, "first messages queued")
        rabbit.kill()
        print("RabbitMQ killed after %d records" % sent)
        sent += replay(args.flowacct, port, 8000, 50, 2)
        h.wait_for(lambda: spool_files(spool), 20, "spool files")
        print("spool holds %d envelope file(s)" % len(spool_files(spool)))
        rabbit.start()
        print("RabbitMQ restarted")
        sent += replay(args.flowacct, port, 5000, 50, 3)
        h.wait_for(lambda: not spool_files(spool), 60, "spool drained")
        rc = d.stop(60)
        if rc != 0:
            raise Fail("flowacctd exit %d" % rc)
        st = view_stats(d.log(), "mq")
        print("stats %s" % st)
        check_delivery(st, "amqp-outage")
        if not st.get("spooled_rows"):
            raise Fail("the outage spooled nothing: %s" % st)
        c = rabbit.connect()
        msgs = c.drain(queue)
        c.close()
        all_rows, seen, dedup_rows, dups = [], set(), [], 0
        for m in msgs:
            rows = body_rows(m["body"])
            all_rows += rows
            mid = m["props"].get("message_id")
            if not mid:
                raise Fail("a message without message_id")
            if mid in seen:
                dups += 1
                continue
            seen.add(mid)
            dedup_rows += rows
        if args.tamper:
            tamper_rows(dedup_rows)
        want_rows = print_json_rows(ref)
        if not want_rows:
            raise Fail("print[ref] wrote nothing")
        # Per-key sums, not rows: both views flush on the same tick, but
        # their flush work items are queued one view after the other, so a
        # batch of records can fall between them and split rows differently.
        want, every = sums(want_rows), sums(all_rows)
        # At least once: every key of print[ref], with at least its sums.
        short = {k: (v, every.get(k, 0)) for k, v in want.items()
                 if every.get(k, 0) < v}
        if short:
            raise Fail("at least once: %d key/counter(s) of print[ref] short "
                       "in the queue (all messages), e.g. %s" % (
                           len(short), list(short.items())[:2]))
        if dups > st.get("retries", 0):
            raise Fail("%d duplicate message(s) but only %d retries" % (
                dups, st.get("retries", 0)))
        # Exactly once after dropping repeated message ids.
        compare_sums(want, sums(dedup_rows), "amqp-outage (deduplicated)",
                     where="queue")
        same = collections.Counter(map(row_key, want_rows)) == \
            collections.Counter(map(row_key, dedup_rows))
        print("OK amqp-outage: %d records sent, %d rows (%d spooled, %d "
              "retries), %d messages, %d duplicate(s) dropped by message_id; "
              "%d key/counter sums equal print[ref] (rows %s)" % (
                  sent, len(want_rows), st["spooled_rows"],
                  st.get("retries", 0), len(msgs), dups, len(want),
                  "equal too" if same else "split differently"))
        return 0
    finally:
        if d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait()
        try:
            rabbit.stop()
        except Fail:
            pass


# ---------------------------------------------------------------------------
# kafka (librdkafka's mock cluster)

KAFKA_PARTITIONS = 4
KAFKA_CASES = [
    ("flows", AGG_FLOW, "", "",
     ["netflow9/graylog-nf9-nprobe-3.pcap",
      "ipfix/logstash-ipfix-openbsd-pflow.pcap",
      "netflow9/logstash-nf9-cisco-asr9k.pcap"]),
    ("flows", AGG_FLOW, "", "", ["@MERGED@"]),
    ("bins", AGG_TM,
     "kafka_history[k]: 5m\nkafka_history_roundoff[k]: m\n"
     "kafka_multi_values[k]: 20\n",
     "print_history[ref]: 5m\nprint_history_roundoff[ref]: m\n",
     ["netflow9/logstash-nf9-cisco-asr9k.pcap", "@MERGED@"]),
]


class KafkaMock:
    def __init__(self, helper, partitions):
        self.helper = helper
        self.proc = subprocess.Popen(
            [helper, "serve", "flows", str(partitions)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        line = self._readline(20)
        if not line:
            raise Fail("kafka_mock serve printed nothing: %s" %
                       self.proc.stderr.read())
        self.bootstraps = line.strip()

    def _readline(self, timeout):
        import selectors
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            return ""
        return self.proc.stdout.readline()

    def consume(self, topic, idle_ms=3000):
        p = subprocess.run([self.helper, "consume", self.bootstraps, topic,
                            str(idle_ms)], capture_output=True, text=True,
                           timeout=120)
        if p.returncode != 0:
            raise Fail("kafka_mock consume: exit %d %s" % (p.returncode,
                                                           p.stderr))
        msgs = []
        for line in p.stdout.splitlines():
            parts = line.split("\t")
            if len(parts) < 4:
                raise Fail("kafka_mock consume: bad line %r" % line)
            msgs.append({"partition": int(parts[0]), "key": parts[1],
                         "id": parts[2],
                         "rows": [json.loads(x) for x in parts[3:] if x]})
        return msgs

    def command(self, text):
        """"down N" / "up N" (broker N of 1..3)."""
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()
        answer = self._readline(20).strip()
        if answer != "ok":
            raise Fail("kafka_mock %r: %r" % (text, answer))

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def kafka_same_rows(args, tmp):
    if not args.kafka_mock or not os.access(args.kafka_mock, os.X_OK):
        raise Skip("kafka_mock helper not built (librdkafka missing)")
    failures = []
    total = n = 0
    for name, agg, k_keys, ref_keys, pcaps in KAFKA_CASES:
        for rel in pcaps:
            pcap = capture_path(args, tmp, rel)
            if pcap is None:
                continue
            n += 1
            label = "kafka %s %s" % (name, rel)
            work = os.path.join(tmp, "case%d" % n)
            os.makedirs(work)
            mock = KafkaMock(args.kafka_mock, KAFKA_PARTITIONS)
            try:
                binned = "history" in ref_keys
                host, _, port = mock.bootstraps.split(",")[0].rpartition(":")
                conf = ("daemonize: false\nplugins: kafka[k], print[ref]\n"
                        "aggregate[k]: %s\naggregate[ref]: %s\n"
                        "kafka_broker_host[k]: %s\nkafka_broker_port[k]: %s\n"
                        "kafka_topic[k]: flows\n"
                        "kafka_partition_key[k]: $peer_src_ip\n"
                        "flowacct_spool_dir[k]: %s/spool\n"
                        "print_output[ref]: json\n"
                        "print_output_file[ref]: %s/ref-%s.json\n"
                        "flowacct_metrics_listen: false\n" % (
                            agg, agg, host, port, work, work,
                            "%Y%m%d_%H%M" if binned else "all"))
                conf += k_keys + ref_keys
                log = run_capture(args.flowacctd, work, conf, pcap)
                st = view_stats(log, "k")
                check_delivery(st, label)
                msgs = mock.consume("flows")
                rows = [r for m in msgs for r in m["rows"]]
                if args.tamper:
                    tamper_rows(rows)
                ref = print_json_rows(os.path.join(work, "ref-*.json"))
                if not ref:
                    raise Fail("%s: print[ref] wrote no rows" % label)
                d = diff_report(collections.Counter(map(row_key, ref)),
                                collections.Counter(map(row_key, rows)),
                                label)
                if d:
                    raise Fail(d)
                if len(rows) != st["rows"]:
                    raise Fail("%s: %d rows consumed, view counted %d" % (
                        label, len(rows), st["rows"]))
                ids = [m["id"] for m in msgs]
                if len(set(ids)) != len(ids) or not all(
                        re.fullmatch(r"k/\d+/\d+", i) for i in ids):
                    raise Fail("%s: flowacct-id headers not unique "
                               "k/<seq>/<i>: %s"
                               % (label, ids[:5]))
                parts = collections.defaultdict(set)
                for m in msgs:
                    for r in m["rows"]:
                        if r.get("peer_ip_src", "") != m["key"]:
                            raise Fail("%s: message key %r holds a row of %r"
                                       % (label, m["key"],
                                          r.get("peer_ip_src")))
                    parts[m["key"]].add(m["partition"])
                spread = {k: v for k, v in parts.items() if len(v) != 1}
                if spread:
                    raise Fail("%s: exporters on several partitions: %s" % (
                        label, spread))
                total += len(rows)
                print("OK %s: %d rows equal in %d messages; %d exporter(s) "
                      "each on one partition (%s)" % (
                          label, len(rows), len(msgs), len(parts),
                          ", ".join("%s->%d" % (k, min(v))
                                    for k, v in sorted(parts.items()))))
            except Fail as e:
                failures.append(str(e))
                print("FAIL", e)
            finally:
                mock.close()
            sys.stdout.flush()
    print("kafka: %d rows compared in %d runs, %d failure(s)" % (
        total, n, len(failures)))
    return 1 if failures else 0


def kafka_outage(args, tmp):
    if not args.kafka_mock or not os.access(args.kafka_mock, os.X_OK):
        raise Skip("kafka_mock helper not built (librdkafka missing)")
    if not args.flowacct:
        raise Fail("kafka-outage needs --flowacct")
    mock = KafkaMock(args.kafka_mock, KAFKA_PARTITIONS)
    work = os.path.join(tmp, "run")
    os.makedirs(work)
    ref = os.path.join(work, "ref.json")
    port = h.free_udp_port()
    conf = ("plugins: kafka[k], print[ref]\naggregate[k]: %s\n"
            "aggregate[ref]: %s\nkafka_broker_host[k]: %s\n"
            "kafka_topic[k]: flows\nkafka_partition_key[k]: $src_host\n"
            "kafka_refresh_time[k]: 1\nkafka_multi_values[k]: 10\n"
            "flowacct_spool_dir[k]: %s/spool\nflowacct_close_timeout[k]: 5\n"
            "print_output[ref]: json\nprint_refresh_time[ref]: 1\n"
            "print_output_file[ref]: %s\nprint_output_file_append[ref]: true\n"
            "nfacctd_ip: 127.0.0.1\nnfacctd_port: %d\n"
            "flowacct_metrics_listen: false\n" % (
                OUTAGE_AGG, OUTAGE_AGG, mock.bootstraps, work, ref, port))
    d = h.Daemon(args.flowacctd, work, conf)
    sent = 0
    try:
        d.wait_log("msg=listening", 20)
        sent += replay(args.flowacct, port, 4000, 50, 1)
        for b in (1, 2, 3):
            mock.command("down %d" % b)
        print("all 3 mock brokers down after %d records" % sent)
        sent += replay(args.flowacct, port, 4000, 50, 2)
        for b in (1, 2, 3):
            mock.command("up %d" % b)
        print("brokers up")
        sent += replay(args.flowacct, port, 3000, 50, 3)
        h.wait_for(lambda: not spool_files(os.path.join(work, "spool")), 80,
                   "spool drained")
        rc = d.stop(60)
        if rc != 0:
            raise Fail("flowacctd exit %d" % rc)
        st = view_stats(d.log(), "k")
        print("stats %s" % st)
        check_delivery(st, "kafka-outage")
        msgs = mock.consume("flows")
        seen, dedup_rows, all_rows, dups = set(), [], [], 0
        for m in msgs:
            all_rows += m["rows"]
            if not m["id"]:
                raise Fail("a message without a flowacct-id header")
            if m["id"] in seen:
                dups += 1
                continue
            seen.add(m["id"])
            dedup_rows += m["rows"]
        if args.tamper:
            tamper_rows(dedup_rows)
        want_rows = print_json_rows(ref)
        if not want_rows:
            raise Fail("print[ref] wrote nothing")
        want, every = sums(want_rows), sums(all_rows)
        short = {k: (v, every.get(k, 0)) for k, v in want.items()
                 if every.get(k, 0) < v}
        if short:
            raise Fail("at least once: %d key/counter(s) short, e.g. %s" % (
                len(short), list(short.items())[:2]))
        compare_sums(want, sums(dedup_rows), "kafka-outage (deduplicated)",
                     where="queue")
        print("OK kafka-outage: %d records sent, %d rows, %d messages, %d "
              "duplicate(s) by flowacct-id (retries %d); %d key/counter sums "
              "equal print[ref]" % (sent, len(want_rows), len(msgs), dups,
                                    st.get("retries", 0), len(want)))
        return 0
    finally:
        if d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait()
        mock.close()


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["amqp", "amqp-outage", "kafka",
                                     "kafka-outage"])
    ap.add_argument("--flowacctd", required=True)
    ap.add_argument("--flowacct")
    ap.add_argument("--kafka-mock")
    ap.add_argument("--corpus", default=DEFAULT_CORPUS)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--tamper", action="store_true",
                    help="self-check: alter one row read from the broker; "
                    "the test must then fail")
    args = ap.parse_args()
    args.flowacctd = os.path.abspath(args.flowacctd)
    if not args.mode.endswith("-outage") and not os.path.isdir(args.corpus):
        print("SKIP: corpus not found at %s" % args.corpus)
        return SKIP
    tmp = tempfile.mkdtemp(prefix="fa-brk-", dir="/tmp")
    try:
        fn = {"amqp": amqp_same_rows, "amqp-outage": amqp_outage,
              "kafka": kafka_same_rows, "kafka-outage": kafka_outage}
        return fn[args.mode](args, tmp)
    except Skip as e:
        print("SKIP:", e)
        return SKIP
    except (Fail, AssertionError, AmqpError, OSError) as e:
        print("FAIL:", e)
        return 1
    finally:
        if os.path.isdir(os.path.join(tmp, "rmq")):
            try:
                subprocess.run([sys.executable, RABBIT, "stop", "--dir",
                                os.path.join(tmp, "rmq")], timeout=90,
                               capture_output=True)
            except Exception:  # best effort
                pass
        if args.keep:
            print("kept", tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
