//! What runs inside pods, as the kubelet and container runtime would run it: each container's
//! log ([`logs::PodLogs`], read by `kubectl logs`), the commands client images run
//! ([`exec`], for `kubectl exec` and client pods' own commands), and the network a pod sees
//! ([`crate::network::Network`]) that both reach the runtime through.
//!
//! [`Pods`] bundles what the API's streaming handlers and the kubelet share; the shell builds it
//! once (`twinstack::start`) with one `Arc<dyn Network>`.

pub mod exec;
pub mod logs;

use crate::network::Network;
use std::sync::Arc;

pub use logs::PodLogs;

/// What the streaming subresources and the kubelet share: the network pods see and their logs.
#[derive(Clone)]
pub struct Pods {
    /// The network as pods see it.
    pub network: Arc<dyn Network>,
    /// Every container's log.
    pub logs: Arc<PodLogs>,
}

/// The annotation naming a local process that serves all of a pod's ports.
pub const BACKEND_ANNOTATION: &str = "twinstack.io/backend";
