// File: flowacct/enrich/enricher.h
//
// Enricher: the per-batch enrichment step the pipeline runs on every decoded
// RecordBatch before aggregation. For each flow record, in this order:
//
//   1. networks: src_net / dst_net (and masks, AS numbers, peer_dst_as,
//      peer_dst_ip) from the exported masks and/or the networks_file, per
//      net_source / as_source (networks_file.h); then, with a BGP or BMP
//      feed, the routing view of the record (bgp_correlator.h: AS numbers,
//      AS paths, communities, local_pref, med, nets from the RIB);
//   2. pre_tag_map: tag, tag2, label, tos (pre_tag_map.h), including the
//      extra copies of return=true rows, which then go through steps 3-4;
//   3. sampling: the rate is the sampling_map's when a row matches (it then
//      also replaces the record's sampling_rate), else the exported one.
//      With `renormalize`, a rate > 1 multiplies packets and bytes (and the
//      reverse counters; flows unchanged; saturating at 2^64-1) and
//      sampling_rate becomes 1, as pmacct prints it;
//   4. ports_file: unlisted ports become 0.
//
// The networks step runs first so that pre_tag_map keys such as src_as can
// see AS numbers resolved from the networks_file. Options records are left
// alone (only the pre_tag_map sees them, for sample_type=option rows).
// Sampling and renormalisation apply to flow and event records.
//
// Cost: no allocation per record (labels go to the batch arena); the
// networks lookup is a longest-prefix match over per-length sorted tables.
//
// Thread-safety: an Enricher is immutable; Process may run concurrently on
// distinct batches. The maps it holds are shared, immutable objects.

#ifndef FLOWACCT_ENRICH_ENRICHER_H_
#define FLOWACCT_ENRICH_ENRICHER_H_

#include <memory>

#include "flowacct/enrich/bgp_correlator.h"
#include "flowacct/enrich/networks_file.h"
#include "flowacct/enrich/ports_file.h"
#include "flowacct/enrich/pre_tag_map.h"
#include "flowacct/enrich/sampling_map.h"
#include "flowacct/model/record_batch.h"

namespace flowacct {

struct EnrichOptions {
  std::shared_ptr<const PreTagMap> pre_tag_map;     // null: no tagging
  std::shared_ptr<const SamplingMap> sampling_map;  // null: exported rates
  std::shared_ptr<const NetworksFile> networks;     // null: masks only
  std::shared_ptr<const PortsFile> ports;           // null: ports untouched
  std::shared_ptr<const BgpCorrelator> bgp;         // null: no BGP/BMP
  bool renormalize = false;  // nfacctd_renormalize / sfacctd_renormalize
  NetSource net_source = NetSource::kNetflow;  // nfacctd_net
  AsSource as_source = AsSource::kNetflow;     // nfacctd_as
  // Without a networks file: fill src_net/dst_net from the exported masks.
  // Costs about 10% of the pipeline's CPU; the daemon turns it off when no
  // view aggregates on src_net or dst_net.
  bool fill_nets = true;
};

class Enricher {
 public:
  explicit Enricher(EnrichOptions options);

  // Enriches every record of `batch` in place (see the file comment). May
  // append records (pre_tag_map return=true copies), so pointers into the
  // batch taken before the call are invalid after it.
  void Process(RecordBatch* batch) const;

  const EnrichOptions& options() const { return options_; }

 private:
  void Networks(FlowRecord* record) const;
  void PostTag(FlowRecord* record) const;
  EnrichOptions options_;
};

}  // namespace flowacct

#endif  // FLOWACCT_ENRICH_ENRICHER_H_
