-- Post-processing queries for the external traffic matrix
-- (aggregate: src_as, in_iface, peer_src_ip, peer_dst_ip, peer_dst_as,
-- as_path, dst_as; 5-minute bins), as pmacct users run them over the SQL
-- tables nfacctd writes. They run unchanged over flowacctd's tables: same
-- column names, same values (tests/parity/sql_parity_test.py runs them on
-- both and compares the answers).
--
-- `tm` stands for the traffic-matrix rows. With one table per bin
-- (sql_table: ext_%Y%m%d_%H%M) make it a view over the bins you want:
--   CREATE TEMP VIEW tm AS SELECT * FROM "ext_20170808_1105"
--                UNION ALL SELECT * FROM "ext_20170808_1110" ...;
-- With a single table (sql_table: ext), use that table's name instead.
-- SQLite syntax (the embedded default); for MySQL use SUBSTRING_INDEX for
-- the second hop, for PostgreSQL split_part.

-- 1. Traffic per BGP peer and location: the router the traffic entered
--    (peer_ip_src: the exporter, i.e. the location), the interface, and the
--    BGP peer AS it leaves through.
SELECT peer_ip_src AS location, iface_in, peer_as_dst,
       SUM(bytes) AS bytes, SUM(packets) AS packets
FROM tm
GROUP BY peer_ip_src, iface_in, peer_as_dst
ORDER BY bytes DESC, location, iface_in, peer_as_dst;

-- 2. AS paths aggregated to the second hop: the first two ASNs of as_path
--    ("65001_65002_65003" -> "65001_65002"), traffic per two-hop prefix.
SELECT CASE
         WHEN instr(as_path, '_') = 0 THEN as_path
         WHEN instr(substr(as_path, instr(as_path, '_') + 1), '_') = 0
           THEN as_path
         ELSE substr(as_path, 1, instr(as_path, '_') +
                     instr(substr(as_path, instr(as_path, '_') + 1), '_') - 1)
       END AS second_hop,
       SUM(bytes) AS bytes
FROM tm
GROUP BY second_hop
ORDER BY bytes DESC, second_hop;

-- 3. Peak-hour selection: the hour with the most traffic, and its 5-minute
--    bins, for 95th-percentile and capacity work.
SELECT strftime('%Y-%m-%d %H:00', stamp_inserted) AS hour,
       SUM(bytes) AS bytes, COUNT(DISTINCT stamp_inserted) AS bins
FROM tm
GROUP BY hour
ORDER BY bytes DESC, hour
LIMIT 1;
