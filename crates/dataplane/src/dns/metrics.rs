//! Counters of the DNS server: queries handled and responses by rcode.
//!
//! The hot path increments plain atomics (prometheus-client counters are an `Arc<AtomicU64>`;
//! each rcode's counter is taken out of its family once, so no lock is touched per query).

use hickory_proto::op::ResponseCode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

/// Label of `dns_responses_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RcodeLabel {
    /// `NOERROR`, `NXDOMAIN`, `FORMERR`, `NOTIMP`, `REFUSED`, `SERVFAIL` or `BADVERS`.
    pub rcode: &'static str,
}

/// The DNS server's counters. Register them with [`DnsMetrics::register`].
#[derive(Debug, Clone)]
pub struct DnsMetrics {
    queries: Counter,
    nodata: Counter,
    responses: Family<RcodeLabel, Counter>,
    noerror: Counter,
    nxdomain: Counter,
    formerr: Counter,
    notimp: Counter,
    refused: Counter,
    servfail: Counter,
    badvers: Counter,
}

/// A point-in-time copy of [`DnsMetrics`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DnsCounts {
    /// Requests that reached the table (parsed as DNS messages).
    pub queries: u64,
    /// NOERROR responses (with or without answers).
    pub noerror: u64,
    /// NOERROR responses without answers (NODATA): the name exists, the type does not.
    pub nodata: u64,
    /// NXDOMAIN responses.
    pub nxdomain: u64,
    /// Every other rcode: FORMERR, NOTIMP, REFUSED, SERVFAIL, BADVERS.
    pub other: u64,
}

impl Default for DnsMetrics {
    fn default() -> Self {
        let responses = Family::<RcodeLabel, Counter>::default();
        let get = |rcode| responses.get_or_create_owned(&RcodeLabel { rcode });
        Self {
            queries: Counter::default(),
            nodata: Counter::default(),
            noerror: get("NOERROR"),
            nxdomain: get("NXDOMAIN"),
            formerr: get("FORMERR"),
            notimp: get("NOTIMP"),
            refused: get("REFUSED"),
            servfail: get("SERVFAIL"),
            badvers: get("BADVERS"),
            responses,
        }
    }
}

impl DnsMetrics {
    /// Register `dns_queries_total`, `dns_responses_total{rcode}` and `dns_nodata_total` in
    /// `registry` (give it a prefix with `sub_registry_with_prefix("twinstack")`).
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "dns_queries",
            "DNS queries handled by the data plane's DNS server",
            self.queries.clone(),
        );
        registry.register(
            "dns_responses",
            "DNS responses sent, by rcode",
            self.responses.clone(),
        );
        registry.register(
            "dns_nodata",
            "NOERROR DNS responses without an answer (name exists, type does not)",
            self.nodata.clone(),
        );
    }

    /// The current counts.
    pub fn counts(&self) -> DnsCounts {
        DnsCounts {
            queries: self.queries.get(),
            noerror: self.noerror.get(),
            nodata: self.nodata.get(),
            nxdomain: self.nxdomain.get(),
            other: self.formerr.get()
                + self.notimp.get()
                + self.refused.get()
                + self.servfail.get()
                + self.badvers.get(),
        }
    }

    pub(crate) fn query(&self) {
        self.queries.inc();
    }

    pub(crate) fn response(&self, rcode: ResponseCode, answers: usize) {
        let counter = match rcode {
            ResponseCode::NoError => {
                if answers == 0 {
                    self.nodata.inc();
                }
                &self.noerror
            }
            ResponseCode::NXDomain => &self.nxdomain,
            ResponseCode::FormErr => &self.formerr,
            ResponseCode::NotImp => &self.notimp,
            ResponseCode::Refused => &self.refused,
            ResponseCode::BADVERS => &self.badvers,
            _ => &self.servfail,
        };
        counter.inc();
    }
}
