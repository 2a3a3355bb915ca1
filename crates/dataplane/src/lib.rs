//! The data plane of twinstack: the only socket I/O besides the API server.
//!
//! Today it holds the DNS server ([`dns`]): the controllers publish load balancer and Service
//! names into a [`dns::DnsTable`], and [`dns::serve`] answers A and AAAA queries for them; and
//! what runs inside pods ([`pods`]): each container's log ([`pods::PodLogs`], `kubectl logs`)
//! and the commands of client images ([`pods::exec`], `kubectl exec` and client pods), which
//! reach the runtime through the one [`network::Network`] a pod sees.
//! The L4 listeners, family translation, PROXY protocol v2 and health checks will live here
//! too (DESIGN.md, "The house as it should grow").
//!
//! Must not: hold rules of Kubernetes or the clouds (those are pure functions in `kube` and
//! `cloud`; the data plane only carries out what the controllers decided).
#![warn(missing_docs)]

pub mod dns;
pub mod frontends;
pub mod network;
pub mod pods;
#[allow(missing_docs)] // fields and methods named after the programs and HTTP they serve
pub mod workloads;
