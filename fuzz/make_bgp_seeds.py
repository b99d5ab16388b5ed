#!/usr/bin/python3
"""Builds the seed corpus fuzz/corpus/bgp_message_fuzz/ from real captures.

Usage: fuzz/make_bgp_seeds.py [CORPUS_DIR]   (default: ../shared/corpus
beside the repository)

The TCP payloads of every capture under bgp/ and malformed/ (tshark
`-T fields`, ordered by raw sequence number per connection direction) are
split into BGP messages by their header length. Seeds, each prefixed with a
selector octet (see bgp_message_fuzz.cc), deduplicated by content as
<sha1>.bin:
  - every distinct OPEN, NOTIFICATION and ROUTE-REFRESH, and up to 3
    UPDATEs per capture (each under a different selector: 4-octet AS,
    ADD-PATH, 2-octet AS);
  - the first 2 KiB of each direction's stream, for the session FSM
    (selector with the 0x80 bit clear, so the OPEN comes from the stream).
Existing files are kept. Needs tshark.
"""

import collections
import hashlib
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent
OUT = ROOT / "corpus" / "bgp_message_fuzz"


def streams(path):
    cmd = ["tshark", "-r", str(path), "-Y", "tcp.len > 0", "-T", "fields",
           "-e", "tcp.stream", "-e", "tcp.srcport", "-e", "tcp.seq_raw",
           "-e", "tcp.payload"]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    segs = collections.defaultdict(list)
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) < 4 or not parts[3]:
            continue
        segs[(parts[0], parts[1])].append(
            (int(parts[2]), bytes.fromhex(parts[3].replace(":", ""))))
    for key, lst in segs.items():
        lst.sort()
        data, nxt = b"", None
        for seq, payload in lst:
            if nxt is not None and seq + len(payload) <= nxt:
                continue
            skip = 0 if nxt is None or seq >= nxt else nxt - seq
            data += payload[skip:]
            nxt = seq + len(payload)
        yield data


def messages(data):
    pos = 0
    while pos + 19 <= len(data) and data[pos:pos + 16] == b"\xff" * 16:
        length = int.from_bytes(data[pos + 16:pos + 18], "big")
        if length < 19 or pos + length > len(data):
            break
        yield data[pos:pos + length]
        pos += length


def msg(kind, body):
    return b"\xff" * 16 + (19 + len(body)).to_bytes(2, "big") + bytes([kind]) + body


def attr(flags, kind, value):
    if len(value) > 255:
        return bytes([flags | 0x10, kind]) + len(value).to_bytes(2, "big") + value
    return bytes([flags, kind, len(value)]) + value


def update(attrs, nlri=b"", withdrawn=b""):
    return msg(2, len(withdrawn).to_bytes(2, "big") + withdrawn +
               len(attrs).to_bytes(2, "big") + attrs + nlri)


BASE = (attr(0x40, 1, b"\x00") + attr(0x40, 2, b"\x02\x01\x00\x00\xfd\xe9") +
        attr(0x40, 3, bytes([192, 0, 2, 1])))


def malformed_vectors():
    """The hand-written hostile inputs of tests/unit/bgp/message_test.cc."""
    unreach = attr(0x80, 15, b"\x00\x02\x01")
    nested = b"\x00\x00\xfd\xe9" + attr(0x40, 1, b"\x00")
    for _ in range(40):
        nested = b"\x00\x00\xfd\xe9" + attr(0xc0, 128, nested)
    caps = b"\x41\x04\x00\x00\xfd\xe9\x02\x00"
    ext_params = b"\x02" + len(caps).to_bytes(2, "big") + caps
    return [
        (0x29, update(unreach + unreach)),                        # BG-15
        (0x29, update(attr(0x40, 1, b"\x00") + attr(0x40, 2, b"\x02\x00") +
                      attr(0x40, 3, b"\x0a\x00\x00\x01"), b"\x08\x0a")),  # BG-19
        (0x29, update(attr(0x40, 1, b"\x00\x00") + BASE[4:], b"\x08\x0a")),  # BG-22
        (0x29, update(BASE + attr(0x80, 14, b"\x00\x02\x01\x05" + b"\x20" * 5 +
                                  b"\x00\x20\x20\x01\x0d\xb8"))),      # BG-26
        (0x29, update(BASE, b"\x21\x0a\x00\x00\x00\x00")),                 # BG-28
        (0x29, update(BASE + attr(0x80, 14, b"\x00\x01\x04\x04\xc0\x00\x02\x01"
                                  b"\x00\x20\x00\x06\x40\x0a"))),          # BG-29
        (0x29, update(BASE + attr(0xc0, 128, nested), b"\x08\x0a")),       # BG-35
        (0x2D, update(BASE, b"\x18\x0a\x01\x02")),                          # BG-37
        (0x29, update(BASE + attr(0xc0, 255, b"\x07" * 5000), b"\x08\x0a")),  # BG-34
        (0x01, msg(1, b"\x04\xfd\xe9\x00\x5a\x00\x00\x00\x01\xff\xff" +
                   len(ext_params).to_bytes(2, "big") + ext_params)),   # BG-6
        (0x01, msg(1, b"\x04\xfd\xe9\x00\x5a\x00\x00\x00\x01\x06\x02\x04"
                   b"\x01\x04\x00\x01")),                                 # BG-7
        (0x41, msg(3, b"\x06\x02\x14hello")),                             # BG-39
        (0x81, msg(5, b"\x00\x01\x00\x01\x01\x40\x00\x1e\x01")),          # BG-9
        (0x01, msg(4, b"") + msg(4, b"")[:7]),                           # BG-3
    ]


def main():
    corpus = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else (
        ROOT.parent.parent / "shared" / "corpus")
    OUT.mkdir(parents=True, exist_ok=True)
    seeds = set()
    files = sorted(corpus.glob("bgp/*.pcap*")) + sorted(
        corpus.glob("malformed/*bgp*.pcap*"))
    for path in files:
        if path.suffix == ".gz":
            continue
        updates = 0
        for data in streams(path):
            seeds.add(bytes([0x01]) + data[:2048])
            for m in messages(data):
                kind = m[18]
                if kind == 2:
                    if updates >= 3:
                        continue
                    updates += 1
                    sel = (0x29, 0x2D, 0x28)[updates - 1]
                    seeds.add(bytes([sel]) + m)
                elif kind in (1, 3, 5):
                    seeds.add(bytes([0x01 | ((kind - 1) << 5)]) + m)
    for sel, m in malformed_vectors():
        seeds.add(bytes([sel]) + m)
    added = 0
    for s in seeds:
        name = OUT / (hashlib.sha1(s).hexdigest() + ".bin")
        if not name.exists():
            name.write_bytes(s)
            added += 1
    print(f"{len(seeds)} seeds, {added} new, in {OUT}")


if __name__ == "__main__":
    main()
