#!/usr/bin/python3
"""print_output: protobuf, read back by a third-party reader.

Compiles libflowacct/sink/proto/flowacct.proto with `protoc --python_out`,
runs flowacctd on examples/captures/graylog-nf9-nprobe-3.pcap with two print
views over the same stream (one csv, one protobuf, same aggregate, per-minute
files), twice with print_output_file_append, then reads the protobuf files
with Debian's python3-protobuf and checks that every aggregate equals a CSV
row of the file for the same minute: same keys, same counters, row for row.

Exits 77 (ctest skip) when protoc or python3-protobuf is missing.
"""

import argparse
import collections
import csv
import datetime
import glob
import importlib.util
import ipaddress
import os
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
CAPTURE = "examples/captures/graylog-nf9-nprobe-3.pcap"
PROTO = "libflowacct/sink/proto/flowacct.proto"

# Custom primitives over standard elements, so custom values go end to end.
CUSTOM_PRIMITIVES = """\
name=c_src field_type=8 len=4 semantics=ip
name=c_dport field_type=11 len=2 semantics=u_int
name=c_proto field_type=4 len=1 semantics=raw
"""

# Aggregate name -> CSV header, for the primitives of the test views.
HEADERS = {
    "src_host": "SRC_IP", "dst_host": "DST_IP", "src_port": "SRC_PORT",
    "dst_port": "DST_PORT", "proto": "PROTOCOL", "tos": "TOS",
    "tcpflags": "TCP_FLAGS", "in_iface": "IN_IFACE", "out_iface": "OUT_IFACE",
    "src_as": "SRC_AS", "dst_as": "DST_AS", "src_mask": "SRC_MASK",
    "dst_mask": "DST_MASK", "peer_src_ip": "PEER_SRC_IP",
    "timestamp_start": "TIMESTAMP_START", "timestamp_end": "TIMESTAMP_END",
    "src_mac": "SRC_MAC", "dst_mac": "DST_MAC", "etype": "ETYPE",
    "in_vlan": "IN_VLAN", "c_src": "c_src", "c_dport": "c_dport",
    "c_proto": "c_proto",
}
AGGREGATE = ", ".join(list(HEADERS) + ["flows"])

CONFIG = """\
plugins: print[csv], print[pb]
timestamps_utc: true
flowacct_metrics_listen: false
aggregate_primitives: {workdir}/primitives.lst
aggregate: {aggregate}
print_history: 1m
print_refresh_time: 60
print_num_protos: true
print_output_file_append: true
print_output[csv]: csv
print_output_file[csv]: {workdir}/out/csv-%H%M.csv
print_output[pb]: protobuf
print_output_file[pb]: {workdir}/out/pb-%H%M.pb
"""


def load_module(protoc, source_dir, workdir):
    """protoc --python_out into workdir; returns the flowacct_pb2 module."""
    subprocess.run([protoc, f"--proto_path={source_dir}",
                    f"--python_out={workdir}", os.path.join(source_dir, PROTO)],
                   check=True)
    path = os.path.join(workdir, PROTO.replace(".proto", "_pb2.py"))
    spec = importlib.util.spec_from_file_location("flowacct_pb2", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_snapshots(path, pb2):
    """Every length-delimited flowacct.v1.Snapshot in `path`."""
    from google.protobuf.internal.decoder import _DecodeVarint32
    with open(path, "rb") as f:
        data = f.read()
    out, pos = [], 0
    while pos < len(data):
        size, pos = _DecodeVarint32(data, pos)
        assert pos + size <= len(data), f"{path}: truncated message"
        snapshot = pb2.Snapshot()
        snapshot.ParseFromString(data[pos:pos + size])
        out.append(snapshot)
        pos += size
    return out


def as_csv_text(name, value):
    """A flowacct.v1.Value as the csv output prints that primitive."""
    kind = value.WhichOneof("kind")
    if kind is None:  # the aggregate does not carry the key
        return {"c_src": "0.0.0.0", "c_dport": "0", "c_proto": "",
                "src_mac": "00:00:00:00:00:00", "dst_mac": "00:00:00:00:00:00",
                "timestamp_start": "0000-00-00 00:00:00.000000",
                "timestamp_end": "0000-00-00 00:00:00.000000",
                "src_host": "", "dst_host": "", "peer_src_ip": ""}.get(
                    name, "0")
    if kind == "uint":
        return format(value.uint, "x") if name == "etype" else str(value.uint)
    if kind == "ip":
        assert len(value.ip) in (4, 16), (name, value)
        return str(ipaddress.ip_address(value.ip))
    if kind == "mac":
        assert len(value.mac) == 6, (name, value)
        return ":".join(f"{b:02x}" for b in value.mac)
    if kind == "time_ns":
        seconds, ns = divmod(value.time_ns, 1_000_000_000)
        t = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
        return t.strftime("%Y-%m-%d %H:%M:%S") + f".{ns // 1000:06d}"
    if kind == "raw":
        return value.raw.hex().upper()  # custom raw: upper-case hex
    return value.text


def proto_rows(path, pb2):
    rows, messages = [], read_snapshots(path, pb2)
    for snapshot in messages:
        assert snapshot.view == "pb", snapshot.view
        assert snapshot.has_time_bins and snapshot.has_flows
        assert snapshot.reason == pb2.FLUSH_REASON_SHUTDOWN, snapshot.reason
        assert list(snapshot.key_names) == list(HEADERS), snapshot.key_names
        assert snapshot.json_keys[0] == "ip_src", snapshot.json_keys
        minute = os.path.basename(path)[3:7]
        for agg in snapshot.aggregates:
            assert len(agg.keys) == len(snapshot.key_names)
            bin_start = datetime.datetime.fromtimestamp(
                agg.stamp_inserted_ns / 1e9, datetime.timezone.utc)
            assert bin_start.strftime("%H%M") == minute, (path, bin_start)
            assert agg.stamp_updated_ns == snapshot.flush_time_ns
            row = {HEADERS[n]: as_csv_text(n, v)
                   for n, v in zip(snapshot.key_names, agg.keys)}
            row.update(PACKETS=str(agg.packets), FLOWS=str(agg.flows),
                       BYTES=str(agg.bytes))
            rows.append(row)
    return rows, len(messages)


def csv_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def canonical(rows):
    return collections.Counter(tuple(sorted(r.items())) for r in rows)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--flowacctd", required=True)
    ap.add_argument("--protoc", default=shutil.which("protoc"))
    ap.add_argument("--source-dir", required=True)
    args = ap.parse_args()
    if not args.protoc or not os.path.exists(args.protoc):
        print("SKIP: protoc not found")
        return SKIP
    try:
        import google.protobuf  # noqa: F401
    except ImportError:
        print("SKIP: python3-protobuf not installed")
        return SKIP

    workdir = tempfile.mkdtemp(prefix="flowacct-proto-reader-")
    try:
        pb2 = load_module(args.protoc, args.source_dir, workdir)
        with open(os.path.join(workdir, "primitives.lst"), "w") as f:
            f.write(CUSTOM_PRIMITIVES)
        config = os.path.join(workdir, "flowacctd.conf")
        with open(config, "w") as f:
            f.write(CONFIG.format(workdir=workdir, aggregate=AGGREGATE))
        capture = os.path.join(args.source_dir, CAPTURE)
        runs = 2  # append: each file then holds one message per run
        for _ in range(runs):
            proc = subprocess.run([args.flowacctd, "-f", config, "-I", capture],
                                  capture_output=True, text=True, timeout=60)
            assert proc.returncode == 0, proc.stderr

        pb_files = sorted(glob.glob(os.path.join(workdir, "out", "pb-*.pb")))
        assert len(pb_files) >= 10, pb_files
        total = 0
        for pb_path in pb_files:
            minute = os.path.basename(pb_path)[3:7]
            csv_path = os.path.join(workdir, "out", f"csv-{minute}.csv")
            want = csv_rows(csv_path)
            got, messages = proto_rows(pb_path, pb2)
            assert messages == runs, (pb_path, messages)
            assert want and len(got) == len(want), (pb_path, len(got),
                                                     len(want))
            if canonical(got) != canonical(want):
                missing = canonical(want) - canonical(got)
                extra = canonical(got) - canonical(want)
                raise AssertionError(
                    f"{pb_path}: rows differ from {csv_path}\n"
                    f"only in csv: {list(missing)[:3]}\n"
                    f"only in protobuf: {list(extra)[:3]}")
            total += len(got)
        # graylog-nf9-nprobe-3: 892 flow records, one aggregate each, per run.
        assert total == 892 * runs, total
        print(f"ok: {len(pb_files)} files, {total} aggregates equal to csv")
        return 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
