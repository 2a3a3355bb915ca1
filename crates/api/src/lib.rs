//! The HTTP surface of every runtime's Kubernetes API, as kube-apiserver's handler chain serves
//! it: the HTTPS accept loop and its limits ([`serve`]), authentication per runtime and routing
//! ([`handlers`], [`request_info`]), content negotiation of JSON, YAML, protobuf and Tables
//! ([`negotiate`], [`tables`]), discovery and OpenAPI documents, watch streams ([`watch`]),
//! `Warning` headers, Prometheus metrics of a closed label set ([`metrics`]), and the web view
//! of each runtime's topology ([`ui`]).
//!
//! Every write goes through `twinstack-registry`; the broker's `/v2/` endpoints are
//! `twinstack-platform`'s, routed here. No rule lives here: what an object may be is the
//! registry's strategies and the pure crates'.

// `Status` is the API's error value; it is large, but it is built once on the error path and
// turned into a response, so boxing it would only add noise.
#![allow(clippy::result_large_err)]

pub mod cloud;
pub mod dataplane;
pub mod discovery;
pub mod handlers;
pub mod metrics;
pub mod negotiate;
pub mod openapi;
pub mod request_info;
pub mod serve;
pub mod state;
pub mod streams;
pub mod tables;
pub mod ui;
pub mod watch;
