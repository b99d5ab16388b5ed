#!/usr/bin/python3
"""Writes a synthetic NetFlow v9 capture (pcap) for the end-to-end benchmark.

  make_synthetic_capture.py OUT.pcap --records 2000000 [--per-datagram 30]
      [--exporters 4] [--flows 50000] [--seed 1]

Each exporter (192.0.2.1..N, UDP 2055 -> 198.51.100.1:2100) sends NetFlow v9
datagrams (RFC 3954) of `per-datagram` data records under template 256 (20
fields: addresses, ports, protocol, ToS, TCP flags, interfaces, next hops,
ASNs, masks, counters, first/last switched); the template is repeated every
20 datagrams. Flow keys are drawn from a pool of `flows` distinct 5-tuples
(seeded PRNG), so aggregation by 5-tuple gives at most that many aggregates.
Sequence numbers count export packets per source id, as RFC 3954 §5.1 says.
Stdlib only; nothing is copied from other projects.
"""

import argparse
import random
import struct

# (IE, length) of template 256, in record order.
FIELDS = [
    (8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (5, 1), (6, 1), (10, 4),
    (14, 4), (15, 4), (18, 4), (16, 4), (17, 4), (9, 1), (13, 1), (1, 8),
    (2, 8), (22, 4), (21, 4), (61, 1),
]
RECORD_LEN = sum(length for _, length in FIELDS)
TEMPLATE_ID = 256
BOOT_UNIX = 1_700_000_000  # exporter boot time (sysUptime 0)


def template_flowset():
    body = struct.pack("!HH", TEMPLATE_ID, len(FIELDS))
    for ie, length in FIELDS:
        body += struct.pack("!HH", ie, length)
    return struct.pack("!HH", 0, 4 + len(body)) + body


def flow_pool(rng, n):
    pool = []
    for _ in range(n):
        pool.append((
            0x0A000000 | rng.randrange(1 << 16),   # src 10.0.x.y
            0xC6336400 | rng.randrange(256),       # dst 198.51.100.z
            rng.randrange(1024, 65536),
            rng.choice((53, 80, 443, 8080, 22)),
            rng.choice((6, 6, 6, 17, 17, 1)),
            rng.randrange(1, 49),                  # in_iface
            rng.randrange(1, 49),                  # out_iface
            rng.choice((64496, 64497, 64498, 65550)),
        ))
    return pool


def data_record(flow, uptime_ms, rng):
    src, dst, sport, dport, proto, iin, iout, dst_as = flow
    packets = rng.randrange(1, 100)
    octets = packets * rng.randrange(40, 1500)
    return struct.pack(
        "!IIHHBBBIIIIIIBBQQIIB",
        src, dst, sport, dport, proto, 0, 0x18 if proto == 6 else 0,
        iin, iout, 0xC0000201, 0xC0000202, 64500, dst_as, 16, 24,
        octets, packets, max(0, uptime_ms - 1000), uptime_ms, 0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--records", type=int, default=2_000_000)
    ap.add_argument("--per-datagram", type=int, default=30)
    ap.add_argument("--exporters", type=int, default=4)
    ap.add_argument("--flows", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    pool = flow_pool(rng, args.flows)
    tmpl = template_flowset()
    seq = [0] * args.exporters
    written = 0
    datagrams = 0
    with open(args.out, "wb") as f:
        # pcap global header: LINKTYPE_RAW (101) = IPv4 without link layer.
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))
        while written < args.records:
            e = datagrams % args.exporters
            n = min(args.per_datagram, args.records - written)
            uptime_ms = 600_000 + datagrams  # 1 ms per datagram
            unix = BOOT_UNIX + uptime_ms // 1000
            sets = b""
            count = n
            if seq[e] % 20 == 0:
                sets += tmpl
                count += 1
            recs = b"".join(
                data_record(pool[rng.randrange(len(pool))], uptime_ms, rng)
                for _ in range(n))
            pad = (-(4 + len(recs))) % 4
            sets += struct.pack("!HH", TEMPLATE_ID, 4 + len(recs) + pad)
            sets += recs + b"\0" * pad
            payload = struct.pack("!HHIIII", 9, count, uptime_ms, unix,
                                  seq[e], e + 1) + sets
            seq[e] += 1
            udp = struct.pack("!HHHH", 2055, 2100, 8 + len(payload), 0)
            ip_len = 20 + len(udp) + len(payload)
            ip = struct.pack("!BBHHHBBHII", 0x45, 0, ip_len, 0, 0, 64, 17, 0,
                             0xC0000201 + e, 0xC6336401)
            frame = ip + udp + payload
            f.write(struct.pack("<IIII", unix, (datagrams % 1000) * 1000,
                                len(frame), len(frame)))
            f.write(frame)
            written += n
            datagrams += 1
    print(f"{args.out}: {datagrams} datagrams, {written} records, "
          f"{args.exporters} exporters, {args.flows} distinct flows")


if __name__ == "__main__":
    main()
