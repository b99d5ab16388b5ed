#!/usr/bin/python3
"""Builds the fuzz seed corpora in fuzz/corpus/<target>/ from real captures.

Usage: fuzz/make_seeds.py [CORPUS_DIR]   (default: ../shared/corpus beside
the repository, i.e. /work/shared/corpus in the team checkout)

Every UDP payload of every capture under netflow5/, netflow9/, ipfix/, sflow/
and malformed/ is extracted with tshark (`-T fields -e udp.payload`, which
also reassembles IPv4 fragments), classified by its version field (NetFlow v5
= 5, v9 = 9, IPFIX = 10 as 16-bit, sFlow = 5 as 32-bit) -- not by folder, as
some captures mix versions -- and written as <sha1>.bin, deduplicated, into
the matching per-decoder corpus. RFC 5655 .ipfix files are split on the IPFIX
message length instead.

flowset_stateful_fuzz gets one seed per v9/IPFIX capture: all of its
datagrams joined with the "FLOWSEP!" separator (capped at 64 KiB), so the
fuzzer starts from real template -> data sequences. pcap_reader_fuzz gets the
smaller capture files themselves.

Existing files in fuzz/corpus are kept (crash reproducers live there too);
rerunning adds only new content. Needs tshark (Debian package `tshark`).
"""

import hashlib
import os
import pathlib
import struct
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parent.parent
OUT = REPO / "fuzz" / "corpus"
SEPARATOR = b"FLOWSEP!"
MAX_SEED = 16 * 1024          # per-datagram seeds larger than this are skipped
MAX_STATEFUL = 64 * 1024      # joined stateful seed cap
MAX_PCAP_SEED = 24 * 1024     # capture files used as pcap_reader seeds
FOLDERS = ("netflow5", "netflow9", "ipfix", "sflow", "malformed")
CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap")


def classify(payload):
    if len(payload) < 4:
        return None
    if struct.unpack(">I", payload[:4])[0] == 5:
        return "sflow_fuzz"
    version = struct.unpack(">H", payload[:2])[0]
    return {5: "netflow_v5_fuzz", 9: "netflow_v9_fuzz",
            10: "ipfix_fuzz"}.get(version)


def tshark_payloads(path):
    """UDP payloads of a capture, in capture order."""
    result = subprocess.run(
        ["tshark", "-n", "-r", str(path), "-T", "fields", "-e", "udp.payload",
         "-Y", "udp"],
        capture_output=True, text=True, check=False)
    payloads = []
    for line in result.stdout.splitlines():
        # Tunnelled packets can show several comma-separated payloads; the
        # outermost UDP payload is the first one.
        field = line.strip().split(",")[0].replace(":", "")
        if field:
            try:
                payloads.append(bytes.fromhex(field))
            except ValueError:
                pass
    return payloads


def ipfix_file_messages(path):
    """Messages of an RFC 5655 IPFIX file (concatenated messages)."""
    data = path.read_bytes()
    messages, offset = [], 0
    while offset + 16 <= len(data):
        version, length = struct.unpack(">HH", data[offset:offset + 4])
        if version != 10 or length < 16 or offset + length > len(data):
            break
        messages.append(data[offset:offset + length])
        offset += length
    return messages


def write_seed(target, blob, counts):
    directory = OUT / target
    directory.mkdir(parents=True, exist_ok=True)
    name = directory / (hashlib.sha1(blob).hexdigest() + ".bin")
    if not name.exists():
        name.write_bytes(blob)
        counts[target] = counts.get(target, 0) + 1


def main():
    corpus = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else
                          REPO.parent / "shared" / "corpus")
    if not corpus.is_dir():
        sys.exit(f"make_seeds: no corpus at {corpus}")
    counts = {}
    for folder in FOLDERS:
        for path in sorted((corpus / folder).iterdir()):
            if path.suffix == ".ipfix":
                payloads = ipfix_file_messages(path)
            elif path.suffix in CAPTURE_SUFFIXES:
                payloads = tshark_payloads(path)
            else:
                continue
            flow_payloads = []
            for payload in payloads:
                target = classify(payload)
                if target is None:
                    continue
                flow_payloads.append((target, payload))
                if len(payload) <= MAX_SEED:
                    write_seed(target, payload, counts)
            stateful = [p for t, p in flow_payloads
                        if t in ("netflow_v9_fuzz", "ipfix_fuzz")]
            if stateful:
                joined = b""
                for payload in stateful:
                    piece = (SEPARATOR if joined else b"") + payload
                    if len(joined) + len(piece) > MAX_STATEFUL:
                        break
                    joined += piece
                if joined:
                    write_seed("flowset_stateful_fuzz", joined, counts)
            if (flow_payloads and path.suffix in CAPTURE_SUFFIXES and
                    path.stat().st_size <= MAX_PCAP_SEED):
                write_seed("pcap_reader_fuzz", path.read_bytes(), counts)
    for target in sorted(counts):
        print(f"{target}: {counts[target]} new seeds")
    total = sum(f.stat().st_size for f in OUT.rglob("*") if f.is_file())
    print(f"fuzz/corpus total: {total / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
