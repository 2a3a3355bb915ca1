//! DNS server of the data plane: A and AAAA for the emulated load balancer hostnames and the
//! cluster's Service names, as Route 53 and kube-dns (CoreDNS) would answer them.
//!
//! Start here: the controllers fill a [`DnsTable`] (one owner = one runtime, replaced
//! atomically), [`serve`] answers from it on UDP and TCP. Wire handling is hickory-server's;
//! this module only decides the answer. It must not resolve anything itself (no upstream, no
//! recursion): a name not in the table is NXDOMAIN. See `docs/dns.md`.

mod metrics;
mod server;
mod table;

pub use metrics::{DnsCounts, DnsMetrics, RcodeLabel};
pub use server::{serve, serve_with_metrics, DnsError, DnsServer, TCP_IDLE_TIMEOUT};
pub use table::{DnsTable, Entry, InvalidName, CLUSTER_DOMAIN, CLUSTER_TTL, LOAD_BALANCER_TTL};
