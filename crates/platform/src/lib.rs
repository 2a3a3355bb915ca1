//! The platform around the runtimes: the runtime directory (provisioning a runtime with its own
//! credential and system objects, deprovisioning it in one transaction), the Kyma Environment
//! Broker's Open Service Broker endpoints that drive it, the CA and serving certificate, the
//! kubeconfigs, and the private data directory they live in.
//!
//! It writes through `twinstack-registry` and takes KEB's and Gardener's rules from
//! `twinstack-keb`; it serves no Kubernetes API (that is `twinstack-api`, which routes `/v2/`
//! here) and runs no controller.

// `Status` is the API's error value; it is large, but it is built once on the error path and
// turned into a response, so boxing it would only add noise.
#![allow(clippy::result_large_err)]

pub mod broker;
pub mod datadir;
pub mod directory;
pub mod kubeconfig;
pub mod tls;

pub use datadir::{kubeconfig_path, write_private};
pub use directory::{Platform, RuntimeSpec};
