#!/usr/bin/python3
"""tshark oracle: compare flowacct's decode with tshark's, field by field.

For every NetFlow v5 / v9 / IPFIX / sFlow capture listed in the corpus
manifest (manifest.tsv), this script

  1. runs `tshark -T pdml` (tshark 4.0.x, with the decode-as options the
     corpus MANIFEST.md lists for the file) and extracts one record per
     NetFlow "pdu" / v9-IPFIX "Flow N" subtree / sFlow sample, in file order;
  2. runs `flowacct decode FILE -O json` and reads one JSON object per line;
  3. maps every tshark field it knows (FIELD_MAP below: ONE table, with the
     unit / format normalisation) onto flowacct's pmacct JSON keys, matches
     records per datagram (exporter, version, source id, header sequence) and
     in order inside a datagram, and compares every field both sides carry;
  4. checks the number of records flowacct decoded against the manifest's
     independent count (or the documented expected count in EXPECTED_COUNTS).

Mismatches listed in EXCEPTIONS (one entry per (file, field) with a written
reason) are reported as "expected" and do not fail the run; anything else does.
Output: one verdict line per capture and a final "N passed, N failed" line;
exit status 1 when any capture failed, 77 (skip) when the corpus is absent.

Only the Python standard library is used (Debian's /usr/bin/python3).
"""

import argparse
import collections
import datetime
import ipaddress
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

SKIP_EXIT = 77
FLOW_GROUPS = ("netflow5", "netflow9", "ipfix", "sflow", "malformed")
FLOW_PROTOCOLS = ("netflow5", "netflow9", "ipfix", "sflow")

# ---------------------------------------------------------------------------
# Value normalisation.  Every compared value ends up as a Python int, a
# canonical address / MAC string, or a float (seconds since the epoch).
# ---------------------------------------------------------------------------

# IANA protocol numbers for the names pmacct prints in `ip_proto`
# (pmacct's protocol table follows /etc/protocols naming).
PROTO_NAMES = {
    "ip": 0, "hopopt": 0, "icmp": 1, "igmp": 2, "ggp": 3, "ipencap": 4,
    "ipv4": 4, "st": 5, "tcp": 6, "egp": 8, "igp": 9, "pup": 12, "udp": 17,
    "hmp": 20, "xns-idp": 22, "rdp": 27, "iso-tp4": 29, "dccp": 33, "xtp": 36,
    "ddp": 37, "idpr-cmtp": 38, "ipv6": 41, "ipv6-route": 43,
    "ipv6-frag": 44, "idrp": 45, "rsvp": 46, "gre": 47, "esp": 50, "ah": 51,
    "skip": 57, "ipv6-icmp": 58, "icmpv6": 58, "ipv6-nonxt": 59,
    "ipv6-opts": 60, "rspf": 73, "vmtp": 81, "eigrp": 88, "ospf": 89,
    "ospfigp": 89, "ax.25": 93, "ipip": 94, "etherip": 97, "encap": 98,
    "pim": 103, "ipcomp": 108, "vrrp": 112, "l2tp": 115, "isis": 124,
    "sctp": 132, "fc": 133, "mobility-header": 135, "udplite": 136,
    "mpls-in-ip": 137, "manet": 138, "hip": 139, "shim6": 140, "wesp": 141,
    "rohc": 142, "ethernet": 143,
}


def norm_int(v):
    if v is None or v == "":
        return None
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return int(v)
    s = str(v).strip()
    try:
        if s.lower().startswith("0x"):
            return int(s, 16)
        return int(s, 10)
    except ValueError:
        try:
            return int(float(s))
        except ValueError:
            return s


def norm_proto(v):
    if isinstance(v, str) and not v.strip().isdigit():
        return PROTO_NAMES.get(v.strip().lower(), v.strip().lower())
    return norm_int(v)


def norm_addr(v):
    if v is None or v == "":
        return None
    try:
        a = ipaddress.ip_address(str(v).strip())
        if a.version == 6 and a.ipv4_mapped is not None:
            return str(a.ipv4_mapped)
        return str(a)
    except ValueError:
        return str(v)


def norm_mac(v):
    if v is None or v == "":
        return None
    s = re.sub(r"[^0-9a-fA-F]", "", str(v)).lower()
    if len(s) != 12:
        return str(v).lower()
    return ":".join(s[i:i + 2] for i in range(0, 12, 2))


def parse_time(v):
    """Seconds since the epoch (float) from a flowacct/pmacct timestamp."""
    if v is None or v == "":
        return None
    if isinstance(v, (int, float)):
        return float(v)
    s = str(v).strip()
    if re.fullmatch(r"\d+(\.\d+)?", s):
        return float(s)
    m = re.fullmatch(r"(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d+)?"
                     r"(Z|[+-]\d{2}:?\d{2})?", s)
    if not m:
        return s
    base = datetime.datetime.strptime(m.group(1) + " " + m.group(2),
                                      "%Y-%m-%d %H:%M:%S")
    tz = m.group(4)
    offset = 0
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        offset = sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    epoch = base.replace(tzinfo=datetime.timezone.utc).timestamp() - offset
    frac = float(m.group(3)) if m.group(3) else 0.0
    return epoch + frac


def tshark_abs_time(show):
    """Seconds since the epoch from tshark's 'Jul 21, 2016 13:29:59.000000000 UTC'."""
    m = re.match(r"([A-Z][a-z]{2})\s+(\d+), (\d{4}) (\d{2}):(\d{2}):(\d{2})(\.\d+)?",
                 show or "")
    if not m:
        return None
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
              "Oct", "Nov", "Dec"]
    d = datetime.datetime(int(m.group(3)), months.index(m.group(1)) + 1,
                          int(m.group(2)), int(m.group(4)), int(m.group(5)),
                          int(m.group(6)), tzinfo=datetime.timezone.utc)
    return d.timestamp() + (float(m.group(7)) if m.group(7) else 0.0)


def norm_mpls_stack(v):
    """MPLS stack as a tuple of (label, exp): flowacct prints pmacct's
    "label-exp,label-exp,..." string, the tshark side builds the tuple.
    Trailing all-zero entries (unused IE 70-79 slots of a fixed template)
    are dropped on both sides: whether a decoder prints them is style."""
    if v is None or v == "":
        return None
    if isinstance(v, tuple):
        out = list(v)
        while out and out[-1] == (0, 0):
            out.pop()
        return tuple(out)
    out = []
    for item in str(v).split(","):
        parts = item.strip().split("-")
        try:
            out.append((int(parts[0]), int(parts[1]) if len(parts) > 1 else 0))
        except ValueError:
            return str(v)
    while out and out[-1] == (0, 0):
        out.pop()
    return tuple(out)


NORMALIZERS = {
    "int": norm_int, "proto": norm_proto, "addr": norm_addr, "mac": norm_mac,
    "time": parse_time, "stack": norm_mpls_stack,
}

# ---------------------------------------------------------------------------
# THE field map: tshark field -> (flowacct JSON key, kind, how to read tshark).
#   kind: normaliser applied to both sides (see NORMALIZERS)
#   read: "show" (tshark's show= attribute), "hex" (raw value= as an unsigned
#         big-endian integer), "label" (MPLS label: value >> 4 of 3 bytes),
#         "reltime" (v5/v9 sysUpTime-relative ms, converted with the header's
#         export time and uptime), "abstime" (tshark absolute time string)
# When several tshark fields map to one key (IPv4 and IPv6 variants, IE 10
# and IE 252...), any of their values is accepted (tshark shows both when a
# template carries both).
# ---------------------------------------------------------------------------
CFLOW_MAP = [
    ("cflow.srcaddr", "ip_src", "addr", "show"),
    ("cflow.srcaddrv6", "ip_src", "addr", "show"),
    ("cflow.dstaddr", "ip_dst", "addr", "show"),
    ("cflow.dstaddrv6", "ip_dst", "addr", "show"),
    ("cflow.srcport", "port_src", "int", "show"),
    ("cflow.dstport", "port_dst", "int", "show"),
    ("cflow.protocol", "ip_proto", "proto", "show"),
    ("cflow.tos", "tos", "int", "hex"),
    ("cflow.tcpflags", "tcp_flags", "int", "hex"),
    ("cflow.inputint", "iface_in", "int", "show"),
    ("cflow.outputint", "iface_out", "int", "show"),
    ("cflow.srcas", "as_src", "int", "show"),
    ("cflow.dstas", "as_dst", "int", "show"),
    ("cflow.srcmask", "mask_src", "int", "show"),
    ("cflow.srcmaskv6", "mask_src", "int", "show"),
    ("cflow.dstmask", "mask_dst", "int", "show"),
    ("cflow.dstmaskv6", "mask_dst", "int", "show"),
    ("cflow.bgpnexthop", "peer_ip_dst", "addr", "show"),
    ("cflow.bgpnexthopv6", "peer_ip_dst", "addr", "show"),
    ("cflow.octets", "bytes", "int", "show"),
    ("cflow.packets", "packets", "int", "show"),
    ("cflow.flows", "flows", "int", "show"),
    # lower-priority counters flowacct uses when IE 1/2 are absent (IE 23/24
    # post*DeltaCount, IE 231/298 initiator*); any candidate is accepted
    ("cflow.post_octets", "bytes", "int", "show"),
    ("cflow.post_packets", "packets", "int", "show"),
    ("cflow.initiator_octets", "bytes", "int", "show"),
    ("cflow.initiator_packets", "packets", "int", "show"),
    ("cflow.permanent_octets", "bytes", "int", "show"),    # IE 85
    ("cflow.permanent_packets", "packets", "int", "show"),  # IE 86
    ("cflow.srcmac", "mac_src", "mac", "show"),
    ("cflow.dstmac", "mac_dst", "mac", "show"),
    ("cflow.vlanid", "vlan_in", "int", "show"),
    ("cflow.dot1q_vlan_id", "vlan_in", "int", "show"),
    ("cflow.post_vlanid", "vlan_out", "int", "show"),
    ("cflow.post_dot1q_vlan_id", "vlan_out", "int", "show"),
    ("cflow.post_natsource_ipv4_address", "post_nat_ip_src", "addr", "show"),
    ("cflow.post_nat_source_ipv6_address", "post_nat_ip_src", "addr", "show"),
    ("cflow.post_natdestination_ipv4_address", "post_nat_ip_dst", "addr", "show"),
    ("cflow.post_nat_destination_ipv6_address", "post_nat_ip_dst", "addr", "show"),
    ("cflow.post_naptsource_transport_port", "post_nat_port_src", "int", "show"),
    ("cflow.post_naptdestination_transport_port", "post_nat_port_dst", "int", "show"),
    ("cflow.nat_event", "nat_event", "int", "hex"),
    ("cflow.firewall_event", "fw_event", "int", "hex"),
    ("cflow.sampling_interval", "sampling_rate", "int", "show"),
    ("cflow.mpls_label", "mpls_label_top", "int", "label"),
    ("cflow.timestart", "timestamp_start", "time", "reltime"),
    ("cflow.timeend", "timestamp_end", "time", "reltime"),
    ("cflow.abstimestart", "timestamp_start", "time", "abstime"),
    ("cflow.abstimeend", "timestamp_end", "time", "abstime"),
]

# exporterIPv4Address / exporterIPv6Address (IE 130 / 131) inside a v9/IPFIX
# record: when non-zero they replace the datagram source as the record's
# peer_ip_src (pmacct's behaviour unless *_ignore_exporter_address); all-zero
# values are "not set" and the datagram source stays.
CFLOW_EXPORTER_FIELDS = ("cflow.exporter_addr", "cflow.exporter_addr_v6")

# Header fields (per datagram) copied onto each record.
CFLOW_HEADER_MAP = [
    ("cflow.version", "export_proto_version", "int", "show"),
    ("cflow.sequence", "export_proto_seqno", "int", "show"),
    ("cflow.source_id", "export_proto_sysid", "int", "show"),
    ("cflow.od_id", "export_proto_sysid", "int", "show"),
    ("cflow.samplerate", "sampling_rate", "int", "show"),  # v5 header
]

SFLOW_HEADER_MAP = [
    ("sflow_245.agent", "peer_ip_src", "addr", "show"),
    ("sflow_245.agentv6", "peer_ip_src", "addr", "show"),
    ("sflow_245.sequence_number", "export_proto_seqno", "int", "show"),
]

SFLOW_SAMPLE_MAP = [
    ("sflow.flow_sample.sampling_rate", "sampling_rate", "int", "show"),
    ("sflow.flow_sample.input_interface", "iface_in", "int", "show"),
    ("sflow.flow_sample.input_interface_value", "iface_in", "int", "show"),
    ("sflow.flow_sample.output_interface_value", "iface_out", "int", "show"),
    ("sflow_245.header.frame_length", "bytes", "int", "show"),
    ("sflow_245.vlan.in", "vlan_in", "int", "show"),
    ("sflow_245.vlan.out", "vlan_out", "int", "show"),
    ("sflow_245.src_as", "as_src", "int", "show"),
    ("sflow_245.dst_as", "as_dst", "int", "show"),
    ("sflow_245.ipv4_src_mask", "mask_src", "int", "show"),
    ("sflow_245.ipv4_dst_mask", "mask_dst", "int", "show"),
    ("sflow_245.ipv6_src_mask", "mask_src", "int", "show"),
    ("sflow_245.ipv6_dst_mask", "mask_dst", "int", "show"),
]

# Fields of the sampled header (dissected by tshark as inner eth/ip/tcp...);
# only the FIRST (outermost) occurrence in the raw header record is used.
SFLOW_INNER_MAP = [
    ("eth.src", "mac_src", "mac", "show"),
    ("eth.dst", "mac_dst", "mac", "show"),
    ("ip.src", "ip_src", "addr", "show"),
    ("ipv6.src", "ip_src", "addr", "show"),
    ("ip.dst", "ip_dst", "addr", "show"),
    ("ipv6.dst", "ip_dst", "addr", "show"),
    ("ip.proto", "ip_proto", "proto", "show"),
    ("ipv6.nxt", "ip_proto", "proto", "show"),
    ("ip.dsfield", "tos", "int", "hex"),
    ("ipv6.tclass", "tos", "int", "show"),
    ("tcp.srcport", "port_src", "int", "show"),
    ("tcp.dstport", "port_dst", "int", "show"),
    ("udp.srcport", "port_src", "int", "show"),
    ("udp.dstport", "port_dst", "int", "show"),
    ("tcp.flags", "tcp_flags", "int", "hex"),
]

# Keys flowacct MUST print when tshark decoded them (absence is a mismatch);
# any other mapped key is compared only when both sides carry it.
REQUIRED_KEYS = {"ip_src", "ip_dst", "port_src", "port_dst", "ip_proto",
                 "bytes", "packets"}

# Flow start/end: when tshark shows a non-zero time, flowacct must print one;
# when tshark shows 0.0 (the IE carries 0), flowacct must print none or 0.
TIME_KEYS = {"timestamp_start", "timestamp_end"}

TIME_TOLERANCE_S = 0.0011  # v5 carries nsecs, v9 ms: allow rounding to 1 ms

# ---------------------------------------------------------------------------
# Exceptions: (file, key) -> written reason.  key is a JSON key, or
# "#records" for the record-count check, or "#missing"/"#extra" for records
# only one side produced.  Never a blanket skip: one entry per file and field.
# ---------------------------------------------------------------------------
EXCEPTIONS = {
    ("sflow/telegraf-sflow-issue-15918.pcap", "ip_proto"): (
        "the sampled IPv6 packet starts with a hop-by-hop extension header: "
        "tshark's ipv6.nxt is that first next-header (0), flowacct walks the "
        "extension chain to the upper-layer protocol (58, ipv6-icmp)"),
    ("malformed/telegraf-ipfix-issue14370-length-mismatch.pcap", "#missing"): (
        "set 3 (template 257) ends 2 bytes past the IPFIX message length "
        "(290); flowacct drops it per RFC 7011 sec. 3.1, tshark 4.0 "
        "decodes it from the UDP payload (see EXPECTED_COUNTS)"),
}

# Record counts flowacct must produce when they legitimately differ from the
# manifest's independent count (which models a NON-buffering collector).
EXPECTED_COUNTS = {
    "sflow/tcpdump-sflow-multiple-counter-30pdus.pcap": (151, (
        "144 sFlow samples plus 7 NetFlow v5 records: 5 of the 30 datagrams "
        "are NetFlow v5 sent to UDP/6343 (tcpdump: 'sFlow version 327681'); "
        "flowacct recognises the export version on any port, tshark "
        "dissects them as broken sFlow")),
    # path: (count, reason)
    "sflow/telegraf-sflow-drop-1036.pcap": (0, (
        "the only sample is an sFlow v5 'discarded packet' sample (format 5, "
        "drop reason 1036; tshark 4.0 does not know the format): like "
        "pmacct, flowacct turns no drop notification into a traffic record, "
        "it skips the sample by its length and counts sflow_unknown_sample "
        "(checked in SUMMARY_CHECKS)")),
    "netflow9/graylog-nf9-nprobe-4.pcap": (16, (
        "frames 1 and 2 carry data sets for template 257 before it arrives in "
        "frame 3 (v9 header count 7 each); flowacct buffers them and decodes "
        "7+7 records when the template arrives, plus the 2 the walker counts")),
    "netflow9/akvorado-nf9-data-before-template.pcap": (22, (
        "the first data set (template 257, 11 records by the v9 header count "
        "24 = 3 template/options-template records + 1 options record + 10 + "
        "11) precedes its template in the same datagram; flowacct buffers "
        "it: 11 + 11")),
    "ipfix/logstash-ipfix-citrix-netscaler-data-before-template.pcap": (6, (
        "constructed order: data message, templates, same data message "
        "again; flowacct decodes the buffered first copy too: 3 + 3")),
    "malformed/telegraf-ipfix-issue14370-length-mismatch.pcap": (1, (
        "the IPFIX header length is 290 but the third set (template 257, "
        "length 84) ends 2 bytes past it; RFC 7011 sec. 3.1 makes the "
        "message length authoritative, so the set is dropped as bad-set-"
        "length; tshark 4.0 dissects up to the end of the UDP payload")),
}


# Per-exporter error counters `flowacct decode --summary-only` must print for
# a capture: path -> [(counter name, value)].  Checks that a record flowacct
# deliberately does not produce is at least counted.
SUMMARY_CHECKS = {
    "sflow/telegraf-sflow-drop-1036.pcap": [("sflow_unknown_sample", 1)],
}


# ---------------------------------------------------------------------------
# Corpus manifest
# ---------------------------------------------------------------------------

def read_manifest(corpus):
    rows = []
    with open(os.path.join(corpus, "manifest.tsv"), encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) < len(header):
                p += [""] * (len(header) - len(p))
            rows.append(dict(zip(header, p)))
    opts = {}
    md = os.path.join(corpus, "MANIFEST.md")
    if os.path.exists(md):
        with open(md, encoding="utf-8") as f:
            for line in f:
                if not line.startswith("| `"):
                    continue
                cells = [c.strip() for c in line.split("|")]
                # | file | proto | how | pkts | records | tshark opts | ...
                if len(cells) > 6 and cells[1].startswith("`"):
                    opts[cells[1].strip("`")] = re.findall(r"-d\s+([^\s`]+)", cells[6])
    for r in rows:
        r["decode_as"] = opts.get(r["path"], [])
        m = re.search(r"independent-count=(\w+)", r.get("features", ""))
        r["expected_count"] = None
        if m and m.group(1).isdigit():
            r["expected_count"] = int(m.group(1))
        elif r["records"].isdigit():
            r["expected_count"] = int(r["records"])
    return rows


def group_of(row):
    return row["path"].split("/", 1)[0]


# ---------------------------------------------------------------------------
# tshark side
# ---------------------------------------------------------------------------

def field_value(el, read):
    if read == "hex":
        v = el.get("value")
        if v and re.fullmatch(r"[0-9a-fA-F]+", v):
            return int(v, 16)
        return el.get("show")
    if read == "label":
        v = el.get("value")
        show = el.get("showname") or ""
        m = re.search(r"MPLS label: (\d+)", show)
        if m:
            return int(m.group(1))
        if v and re.fullmatch(r"[0-9a-fA-F]{6}", v):
            return int(v, 16) >> 4
        return el.get("show")
    if read == "abstime":
        return tshark_abs_time(el.get("show"))
    return el.get("show")


def collect(el, wanted, out, stop_at_proto=True):
    """Append (name, element) for every descendant field named in `wanted`."""
    for child in el:
        if child.tag == "proto" and stop_at_proto:
            continue
        name = child.get("name")
        if child.tag == "field" and name in wanted:
            out.setdefault(name, []).append(child)
        collect(child, wanted, out, stop_at_proto)


def apply_map(found, table, rec, context=None):
    for tname, key, kind, read in table:
        for el in found.get(tname, []):
            if "(Reverse Type" in (el.get("showname") or ""):
                # RFC 5103 reverse element (PEN 29305): tshark shows it under
                # the forward field's name.  Counters map to flowacct's
                # reverse_bytes / reverse_packets; anything else is skipped.
                if key not in ("bytes", "packets"):
                    continue
                key_here = "reverse_" + key
            else:
                key_here = key
            if read == "reltime":
                try:
                    ms = float(el.get("show")) * 1000.0
                except (TypeError, ValueError):
                    continue
                if context is None or context.get("export") is None:
                    continue
                # sysUpTime and First/Last are 32-bit ms counters (RFC 3954
                # sec. 8 / v5 header): the age is their difference as a
                # SIGNED 32-bit number, so First = 0xFFFFFFFF with uptime
                # 3381 is 3382 ms old (counter wrap), and a First a little
                # after the header's uptime (exporter skew) stays a little
                # after the export time instead of 49.7 days before it.
                age_ms = (round(context["uptime_ms"]) - round(ms)) % (1 << 32)
                if age_ms >= (1 << 31):
                    age_ms -= 1 << 32
                val = context["export"] - age_ms / 1000.0
            else:
                val = field_value(el, read)
            val = NORMALIZERS[kind](val)
            if val is None:
                continue
            cand = rec.setdefault(key_here, [])
            if val not in cand:
                cand.append(val)
            if read == "label":
                break  # top of stack only


def run_tshark(path, decode_as):
    cmd = ["tshark", "-n", "-r", path, "-T", "pdml"]
    for d in decode_as:
        cmd += ["-d", d]
    env = dict(os.environ, TZ="UTC")
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=env, check=False)
    return p.stdout


CFLOW_WANTED = ({t for t, *_ in CFLOW_MAP} | set(CFLOW_EXPORTER_FIELDS) |
                {"cflow.mpls_exp", "cflow.toplabeladdr"})
CFLOW_HDR_WANTED = {t for t, *_ in CFLOW_HEADER_MAP} | {
    "cflow.unix_secs", "cflow.unix_nsecs", "cflow.sysuptime",
    "cflow.exporttime", "cflow.timestamp"}


def exporter_of(packet):
    src = None
    for proto in packet.findall("proto"):
        if proto.get("name") in ("ip", "ipv6"):
            for f in proto.findall("field"):
                if f.get("name") in ("ip.src", "ipv6.src"):
                    src = norm_addr(f.get("show"))
            break
    return src


# hostile-inputs.md N5-5 / peers.md Q20: flowacct clamps impossible NetFlow v5
# First/Last times (and counts time_anomaly).  The oracle applies the same rule
# to tshark's raw values, so the clamped value is checked, not excused:
#   a time more than V5_MAX_FUTURE_S after the export time -> the export time;
#   then end < start -> start := end.
V5_MAX_FUTURE_S = 600.0


def clamp_v5_times(rec, ctx):
    export = ctx.get("export")
    if export is None:
        return
    clamped = []
    for key in ("timestamp_start", "timestamp_end"):
        vals = rec.get(key)
        if vals and isinstance(vals[0], float) and vals[0] > export + V5_MAX_FUTURE_S:
            rec[key] = [export]
            clamped.append(key + " (future)")
    start, end = rec.get("timestamp_start"), rec.get("timestamp_end")
    if (start and end and isinstance(start[0], float) and isinstance(end[0], float)
            and end[0] < start[0]):
        rec["timestamp_start"] = [end[0]]
        clamped.append("timestamp_start (end < start)")
    if clamped:
        rec["#clamped"] = clamped


def fix_switched_zero(el):
    """tshark 4.0 shows a sysUpTime-relative FIRST/LAST_SWITCHED (v9/IPFIX
    IE 22/21) whose value is 0 as an ABSOLUTE time (cflow.abstimestart/end =
    1970-01-01) inside the "Duration: ... (switched)" pair.  It is the
    relative time 0 ms (RFC 3954 sec. 8, RFC 7012 IE 21/22): rename it to
    cflow.timestart/timeend with show 0 so the normal sysUpTime conversion
    applies (v9: export time - sysUpTime; IPFIX has no header uptime and
    relative times are not compared)."""
    for td in el.iter("field"):
        if td.get("name") != "cflow.timedelta" or \
                not (td.get("showname") or "").endswith("(switched)"):
            continue
        for child in td:
            n = child.get("name")
            if n in ("cflow.abstimestart", "cflow.abstimeend") and \
                    re.fullmatch(r"0+", child.get("value") or "x"):
                child.set("name", n.replace("abstime", "time"))
                child.set("show", "0.000000000")


def tshark_cflow_records(xml_bytes):
    """One dict per data record: {key: [candidate values]} + '#frame', '#index'."""
    records = []
    root = ET.fromstring(xml_bytes) if xml_bytes.strip() else ET.Element("x")
    for packet in root.findall("packet"):
        frame = None
        for proto in packet.findall("proto"):
            if proto.get("name") == "geninfo":
                for f in proto.findall("field"):
                    if f.get("name") == "num":
                        frame = int(f.get("show"))
        exporter = exporter_of(packet)
        for cflow in [p for p in packet.iter("proto") if p.get("name") == "cflow"]:
            hdr_found = {}
            for f in cflow.findall("field"):
                n = f.get("name")
                if n in CFLOW_HDR_WANTED:
                    hdr_found.setdefault(n, []).append(f)
                for sub in f.findall("field"):
                    if sub.get("name") in CFLOW_HDR_WANTED:
                        hdr_found.setdefault(sub.get("name"), []).append(sub)
            hdr = {}
            apply_map(hdr_found, CFLOW_HEADER_MAP, hdr)
            if exporter:
                hdr["peer_ip_src"] = [exporter]
            ctx = {"export": None, "uptime_ms": 0.0}
            if "cflow.unix_secs" in hdr_found:
                secs = int(hdr_found["cflow.unix_secs"][0].get("show"))
                nsecs = 0
                if "cflow.unix_nsecs" in hdr_found:
                    nsecs = int(hdr_found["cflow.unix_nsecs"][0].get("show"))
                ctx["export"] = secs + nsecs / 1e9
            if "cflow.sysuptime" in hdr_found:
                ctx["uptime_ms"] = float(hdr_found["cflow.sysuptime"][0].get("show")) * 1000.0
            version = hdr.get("export_proto_version", [None])[0]
            index = 0
            for sub in cflow.iter("field"):
                show = sub.get("show") or ""
                if sub.get("name") != "":
                    continue
                if not (re.match(r"^pdu \d+/\d+$", show) or
                        re.match(r"^Flow \d+( \(.*\))?$", show)):
                    continue
                found = {}
                fix_switched_zero(sub)
                collect(sub, CFLOW_WANTED, found)
                rec = {k: list(v) for k, v in hdr.items()}
                if version == 5:
                    # the v5 header's sampling interval applies to every record
                    pass
                else:
                    rec.pop("sampling_rate", None)
                apply_map(found, CFLOW_MAP, rec, ctx)
                # mplsTopLabelIPv4Address (47) is the BGP next hop (pmacct's
                # peer_ip_dst) when bgpNextHop (18) is absent or 0.0.0.0
                # (docs/decoding.md, pmacct-102).
                tops = [norm_addr(el.get("show"))
                        for el in found.get("cflow.toplabeladdr", [])]
                tops = [a for a in tops if a and a != "0.0.0.0"]
                if tops and rec.get("peer_ip_dst", ["0.0.0.0"]) == ["0.0.0.0"]:
                    rec["peer_ip_dst"] = [tops[0]]
                exporters = []
                for name in CFLOW_EXPORTER_FIELDS:
                    for el in found.get(name, []):
                        a = norm_addr(el.get("show"))
                        if a and not ipaddress.ip_address(a).is_unspecified:
                            exporters.append(a)
                if exporters:
                    rec["peer_ip_src"] = exporters
                # The whole label stack (IE 70-79 in template order): label
                # and exp bits of every entry, zero entries included.
                labels = [field_value(el, "label") for el in found.get("cflow.mpls_label", [])]
                exps = [norm_int(el.get("show")) for el in found.get("cflow.mpls_exp", [])]
                if labels and len(labels) == len(exps) and all(
                        isinstance(x, int) for x in labels + exps):
                    rec["mpls_label_stack"] = [norm_mpls_stack(tuple(zip(labels, exps)))]
                if version == 5:
                    clamp_v5_times(rec, ctx)
                rec["#frame"] = frame
                rec["#index"] = index
                rec["#version"] = version
                index += 1
                records.append(rec)
    return records


SFLOW_HDR_WANTED = {t for t, *_ in SFLOW_HEADER_MAP}
SFLOW_OUT_FORMAT = ("sflow.flow_sample.output_interface_format",
                    "sflow.flow_sample.output_interface.format")
SFLOW_SAMPLE_WANTED = {t for t, *_ in SFLOW_SAMPLE_MAP} | set(SFLOW_OUT_FORMAT)
SFLOW_INNER_WANTED = {t for t, *_ in SFLOW_INNER_MAP}


def first_inner(el, wanted, out):
    """Inner (sampled header) fields: keep only the first occurrence."""
    for child in el.iter("field"):
        n = child.get("name")
        if n in wanted and n not in out:
            out[n] = [child]


def tshark_sflow_records(xml_bytes):
    records = []
    root = ET.fromstring(xml_bytes) if xml_bytes.strip() else ET.Element("x")
    for packet in root.findall("packet"):
        frame = None
        for proto in packet.findall("proto"):
            if proto.get("name") == "geninfo":
                for f in proto.findall("field"):
                    if f.get("name") == "num":
                        frame = int(f.get("show"))
        for sflow in [p for p in packet.findall("proto") if p.get("name") == "sflow"]:
            hdr_found = {}
            for f in sflow.findall("field"):
                if f.get("name") in SFLOW_HDR_WANTED:
                    hdr_found.setdefault(f.get("name"), []).append(f)
            hdr = {}
            apply_map(hdr_found, SFLOW_HEADER_MAP, hdr)
            index = 0
            for sample in sflow.findall("field"):
                if sample.get("name") != "":
                    continue
                show = sample.get("show") or ""
                kind = None
                low = show.lower()
                if "counters sample" in low:
                    kind = "counters"
                elif "flow sample" in low:
                    kind = "flow"
                else:
                    kind = "other"
                found = {}
                collect(sample, SFLOW_SAMPLE_WANTED, found)
                rec = {k: list(v) for k, v in hdr.items()}
                if kind == "flow":
                    # sFlow v5 sec. 5 flow_sample: output interface format 1
                    # (discard reason) / 2 (multiple interfaces) is not an
                    # ifIndex: only format 0 maps to iface_out.
                    for fmt in SFLOW_OUT_FORMAT:
                        for el in found.get(fmt, []):
                            if norm_int(el.get("show")) != 0:
                                found.pop("sflow.flow_sample.output_interface_value", None)
                    apply_map(found, SFLOW_SAMPLE_MAP, rec)
                    rec["packets"] = [1]  # one sampled packet per flow sample
                    inner = {}
                    for hdr_el in sample.iter("field"):
                        if hdr_el.get("name") == "sflow_245.header":
                            first_inner(hdr_el, SFLOW_INNER_WANTED, inner)
                            break
                    apply_map(inner, SFLOW_INNER_MAP, rec)
                rec["#frame"] = frame
                rec["#index"] = index
                rec["#kind"] = kind
                rec["#show"] = show
                index += 1
                records.append(rec)
    return records


# ---------------------------------------------------------------------------
# flowacct side
# ---------------------------------------------------------------------------

_HELP_CACHE = {}


def flowacct_help(binary):
    """`flowacct decode --help` text (cached), to use only options it has."""
    if binary not in _HELP_CACHE:
        try:
            p = subprocess.run([binary, "decode", "--help"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, check=False, timeout=60)
            _HELP_CACHE[binary] = p.stdout.decode("utf-8", "replace")
        except (OSError, subprocess.TimeoutExpired):
            _HELP_CACHE[binary] = ""
    return _HELP_CACHE[binary]


def run_flowacct(binary, path, udp_ports, extra_args=()):
    helptext = flowacct_help(binary)
    cmd = [binary, "decode", path, "-O", "json"]
    if "--no-summary" in helptext:
        cmd.append("--no-summary")
    # flowacct recognises NetFlow/IPFIX/sFlow on any UDP port; its
    # --udp-port is a filter, so the decode-as ports are not passed.
    del udp_ports
    cmd += list(extra_args)
    env = dict(os.environ, TZ="UTC")
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=env, check=False, timeout=600)
    return p.returncode, p.stdout.decode("utf-8", "replace"), \
        p.stderr.decode("utf-8", "replace")


def parse_ours(text):
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            out.append({"#unparsable": line})
    return out


def ours_norm(obj, key, kind):
    if key not in obj:
        return None
    return NORMALIZERS[kind](obj[key])


KEY_KIND = {}
for _table in (CFLOW_MAP, CFLOW_HEADER_MAP, SFLOW_HEADER_MAP, SFLOW_SAMPLE_MAP,
               SFLOW_INNER_MAP):
    for _t, _k, _kind, _r in _table:
        KEY_KIND[_k] = _kind
KEY_KIND["peer_ip_src"] = "addr"
KEY_KIND["mpls_label_stack"] = "stack"
KEY_KIND["reverse_bytes"] = KEY_KIND["reverse_packets"] = "int"


# ---------------------------------------------------------------------------
# Matching and comparison
# ---------------------------------------------------------------------------

DGRAM_KEYS = ("peer_ip_src", "export_proto_version", "export_proto_sysid",
              "export_proto_seqno")


def dgram_key_ours(o):
    return tuple(ours_norm(o, k, KEY_KIND.get(k, "int")) for k in DGRAM_KEYS)


def dgram_key_tshark(t):
    return tuple((t.get(k) or [None])[0] for k in DGRAM_KEYS)


FLOW_KEY = ("ip_src", "ip_dst", "port_src", "port_dst", "ip_proto")


def values_equal(key, ours_val, candidates):
    kind = KEY_KIND.get(key, "int")
    for c in candidates:
        if kind == "time" and isinstance(ours_val, float) and isinstance(c, float):
            if abs(ours_val - c) <= TIME_TOLERANCE_S:
                return True
        elif ours_val == c:
            return True
    return False


def is_unset_time(cands):
    """tshark's 1970-01-01 (0.0) absolute time: the IE carries 0."""
    return all(isinstance(c, float) and c == 0.0 for c in cands)


def compare_record(t, o):
    """List of (key, ours, tshark) mismatches; list of compared keys."""
    diffs = []
    compared = []
    for key, cands in t.items():
        if key.startswith("#") or not cands:
            continue
        kind = KEY_KIND.get(key, "int")
        if key not in o:
            if key in REQUIRED_KEYS and t.get("#kind", "flow") == "flow":
                diffs.append((key, "<absent>", cands))
            elif key in TIME_KEYS and kind == "time":
                if is_unset_time(cands):
                    # Absolute flow start/end IEs (150-157) = 0 mean "not
                    # exported": flowacct leaves the time absent (pmacct
                    # prints none), tshark shows 1970-01-01.  Agreement.
                    compared.append(key + "(unset)")
                else:
                    diffs.append((key, "<absent>", cands))
            continue
        ov = NORMALIZERS[kind](o[key])
        compared.append(key)
        if not values_equal(key, ov, cands):
            diffs.append((key, o[key], cands))
    # Counters flowacct prints that no tshark field backs (e.g. a NetFlow v9
    # options scope field decoded as IE 1/2): v9/IPFIX only, where every
    # counter comes from a record field.
    if t.get("#version") in (9, 10):
        for key in EXTRA_CHECK_KEYS:
            if key in o and not t.get(key):
                diffs.append((key, o[key], "<no field>"))
    return diffs, compared


EXTRA_CHECK_KEYS = ("bytes", "packets")


def score(t, o):
    s = 0
    for k in FLOW_KEY + ("bytes", "packets"):
        if k in t and k in o:
            if values_equal(k, NORMALIZERS[KEY_KIND.get(k, "int")](o[k]), t[k]):
                s += 1
            else:
                s -= 1
    return s


def match_records(trecs, orecs):
    """Pair tshark records with flowacct records.

    Records are grouped per datagram key (exporter, version, source id,
    sequence) on both sides; groups are consumed in file order; inside a
    group records pair in order when the flow keys agree, otherwise by the
    best flow-key score.  Returns (pairs, unmatched_tshark, unmatched_ours).
    """
    by_key = collections.defaultdict(list)
    for i, o in enumerate(orecs):
        by_key[dgram_key_ours(o)].append(i)
    used = set()
    pairs = []
    missing = []
    # exact datagram key first
    for t in trecs:
        key = dgram_key_tshark(t)
        cands = [i for i in by_key.get(key, []) if i not in used]
        if not cands:
            missing.append(t)
            continue
        best = cands[0]
        if score(t, orecs[best]) < sum(1 for k in FLOW_KEY if k in t and k in orecs[best]):
            scored = sorted(cands, key=lambda i: -score(t, orecs[i]))
            if score(t, orecs[scored[0]]) > score(t, orecs[best]):
                best = scored[0]
        used.add(best)
        pairs.append((t, orecs[best]))
    # fall back: ours may lack some datagram-key fields -> match in order
    still = []
    rest = [i for i in range(len(orecs)) if i not in used]
    for t in missing:
        if not rest:
            still.append(t)
            continue
        best = max(rest[:64], key=lambda i: score(t, orecs[i]))
        if score(t, orecs[best]) <= 0 and any(k in t for k in FLOW_KEY):
            still.append(t)
            continue
        rest.remove(best)
        used.add(best)
        pairs.append((t, orecs[best]))
    extra = [orecs[i] for i in range(len(orecs)) if i not in used]
    return pairs, still, extra


def is_counter_line(o):
    return o.get("event_type") == "counters"


def check_file(row, corpus, flowacct, ours_override=None, extra_args=()):
    path = os.path.join(corpus, row["path"])
    proto = row["protocol"]
    xml = run_tshark(path, row["decode_as"])
    if proto == "sflow":
        trecs = tshark_sflow_records(xml)
    else:
        trecs = tshark_cflow_records(xml)
    udp_ports = sorted({int(m) for d in row["decode_as"]
                        for m in re.findall(r"udp\.port==(\d+)", d)})
    if ours_override is not None:
        with open(ours_override, encoding="utf-8") as f:
            text = f.read()
        rc, err = 0, ""
    else:
        rc, text, err = run_flowacct(flowacct, path, udp_ports, extra_args)
    orecs_all = parse_ours(text)
    problems = []     # (key, message) not covered by exceptions
    expected = []     # (key, message, reason)

    def report(key, msg):
        reason = EXCEPTIONS.get((row["path"], key))
        if reason:
            expected.append((key, msg, reason))
        else:
            problems.append((key, msg))

    if rc != 0:
        report("#exit", "flowacct exited %d: %s" % (rc, err.strip()[:200]))

    if proto == "sflow":
        orecs = orecs_all
        tcmp = [t for t in trecs if t["#kind"] == "flow"]
        ocmp = [o for o in orecs if not is_counter_line(o)]
        n_ours = len(orecs)
    else:
        orecs = orecs_all
        tcmp = trecs
        ocmp = orecs
        n_ours = len(orecs)

    # record count vs the manifest
    want = row["expected_count"]
    if row["path"] in EXPECTED_COUNTS:
        want, why = EXPECTED_COUNTS[row["path"]]
        if want != row["expected_count"]:
            expected.append(("#records", "manifest %s, expected %d" % (
                row["expected_count"], want), why))
    if want is not None and n_ours != want:
        report("#records", "flowacct decoded %d records, expected %d"
               % (n_ours, want))

    for counter, value in SUMMARY_CHECKS.get(row["path"], []):
        if ours_override is not None:
            break
        summary = subprocess.run(
            [flowacct, "decode", path, "--summary-only", "--no-progress"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False,
            timeout=600).stdout.decode("utf-8", "replace")
        got = [int(m) for m in re.findall(
            r"^\s+%s(?:\s+\(\w+\))?\s+(\d+)\s*$" % re.escape(counter),
            summary, re.M)]
        if sum(got) != value:
            report("#summary", "--summary-only: %s = %s, expected %d" % (
                counter, sum(got) if got else "<not printed>", value))

    pairs, missing, extra = match_records(tcmp, ocmp)
    compared_keys = collections.Counter()
    nfields = 0
    clamped = 0
    for t, o in pairs:
        clamped += len(t.get("#clamped", []))
        diffs, compared = compare_record(t, o)
        compared_keys.update(compared)
        nfields += len(compared)
        for key, ov, tv in diffs:
            report(key, "frame %s record %s: %s ours=%r tshark=%r"
                   % (t["#frame"], t["#index"], key, ov,
                      tv[0] if len(tv) == 1 else tv))
    for t in missing:
        report("#missing", "frame %s record %s: tshark decoded it, flowacct has "
               "no matching record (%s)" % (
                   t["#frame"], t["#index"],
                   {k: v[0] for k, v in t.items() if k in FLOW_KEY}))
    if extra and want is None:
        pass
    stats = {
        "tshark_records": len(tcmp), "ours_records": n_ours,
        "pairs": len(pairs), "fields": nfields, "keys": compared_keys,
        "extra": len(extra), "clamped": clamped,
    }
    return problems, expected, stats


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--flowacct", help="path to the flowacct binary")
    ap.add_argument("--corpus", help="corpus dir (default: ../shared/corpus "
                    "next to the repository)")
    ap.add_argument("--group", action="append", choices=FLOW_GROUPS,
                    help="capture group(s) to check (default: all flow groups)")
    ap.add_argument("--file", action="append",
                    help="only this corpus path (e.g. netflow5/graylog-nf5.pcap)")
    ap.add_argument("--ours-jsonl", help="use this JSON-lines file as flowacct's "
                    "output (harness self-test; needs exactly one --file)")
    ap.add_argument("--flowacct-arg", action="append", default=[],
                    help="extra argument passed to `flowacct decode` (repeatable)")
    ap.add_argument("--dump-tshark", action="store_true",
                    help="print the tshark-side records (normalised) and exit")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args(argv)

    here = os.path.dirname(os.path.abspath(__file__))
    corpus = a.corpus or os.path.normpath(os.path.join(here, "..", "..", "..",
                                                       "shared", "corpus"))
    if not os.path.exists(os.path.join(corpus, "manifest.tsv")):
        print("SKIP: corpus not found at %s (expected ../shared/corpus next to "
              "the repository)" % corpus)
        return SKIP_EXIT
    if subprocess.run(["sh", "-c", "command -v tshark"], stdout=subprocess.DEVNULL,
                      check=False).returncode != 0:
        print("SKIP: tshark not installed")
        return SKIP_EXIT
    if a.ours_jsonl is None and not a.dump_tshark and (not a.flowacct or not os.access(a.flowacct, os.X_OK)):
        print("error: --flowacct BINARY is required (got %r)" % a.flowacct)
        return 2

    rows = [r for r in read_manifest(corpus) if r["protocol"] in FLOW_PROTOCOLS]
    groups = a.group or list(FLOW_GROUPS)
    rows = [r for r in rows if group_of(r) in groups]
    if a.file:
        rows = [r for r in rows if r["path"] in a.file]
    if not rows:
        print("error: no capture selected")
        return 2

    if a.dump_tshark:
        for row in rows:
            xml = run_tshark(os.path.join(corpus, row["path"]), row["decode_as"])
            recs = (tshark_sflow_records(xml) if row["protocol"] == "sflow"
                    else tshark_cflow_records(xml))
            for r in recs:
                print(json.dumps(dict(r, **{"#file": row["path"]}), sort_keys=True))
        return 0

    passed = failed = 0
    total_fields = 0
    for row in rows:
        problems, expected, st = check_file(row, corpus, a.flowacct,
                                            a.ours_jsonl, a.flowacct_arg)
        total_fields += st["fields"]
        verdict = "FAIL" if problems else "PASS"
        print("%s %s: tshark %d records, flowacct %d, matched %d, %d fields "
              "compared%s" % (verdict, row["path"], st["tshark_records"],
                              st["ours_records"], st["pairs"], st["fields"],
                              ", %d expected differences" % len(expected)
                              if expected else ""))
        if st["clamped"]:
            print("    note: %d NetFlow v5 First/Last values clamped by the "
                  "N5-5 rule on the tshark side, flowacct's value checked "
                  "against the clamped one" % st["clamped"])
        if a.verbose and st["keys"]:
            print("    compared keys: " + ", ".join(
                "%s=%d" % kv for kv in sorted(st["keys"].items())))
        shown = 0
        for key, msg in problems:
            if shown < 20 or a.verbose:
                print("    MISMATCH %s" % msg)
            shown += 1
        if shown > 20 and not a.verbose:
            print("    ... %d more (use -v)" % (shown - 20))
        by_reason = collections.Counter((k, r) for k, _, r in expected)
        for (key, reason), n in sorted(by_reason.items()):
            print("    expected (%s) x%d: %s" % (key, n, reason))
        if problems:
            failed += 1
        else:
            passed += 1
    print("%d passed, %d failed (%d field values compared)" % (passed, failed,
                                                              total_fields))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
