//! What every request handler shares.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use twinstack_registry::registry::Registry;

use crate::metrics::Metrics;

/// The registry, the broker, the metrics, and whether the server is ready (`/readyz`).
pub struct AppState {
    pub registry: Arc<Registry>,
    pub broker: Arc<twinstack_platform::broker::Broker>,
    pub metrics: Arc<Metrics>,
    pub ready: AtomicBool,
    /// The data plane (`None` when `up` runs without one).
    pub dataplane: Option<twinstack_dataplane::frontends::DataPlane>,
    /// What runs in pods (logs, commands, the network they see), for the streaming
    /// subresources; `None` answers them 404.
    pub pods: Option<twinstack_dataplane::pods::Pods>,
}
