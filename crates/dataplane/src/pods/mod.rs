//! What runs inside pods, as the kubelet and container runtime would run it: each container's
//! log ([`logs::PodLogs`], read by `kubectl logs`), the commands client images run
//! ([`exec`], for `kubectl exec` and client pods' own commands), and the network a pod sees
//! ([`crate::network::Network`]) that both reach the runtime through.
//!
//! [`Pods`] bundles what the API's streaming handlers and the kubelet share; the shell builds it
//! once (`twinstack::start`) with one `Arc<dyn Network>`.

pub mod exec;
pub mod logs;

use crate::network::{Conn, Network};
use std::io;
use std::net::{IpAddr, SocketAddr};
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

/// Finds, for a runtime and a pod IP, the local address the pod's `twinstack.io/backend`
/// annotation names (the user's own process, serving every port of the pod).
pub type BackendOf = Arc<dyn Fn(&str, IpAddr) -> Option<SocketAddr> + Send + Sync>;

/// The annotation naming a local process that serves all of a pod's ports.
pub const BACKEND_ANNOTATION: &str = "twinstack.io/backend";

/// A placeholder network until the data plane's own lands: a pod annotated with
/// [`BACKEND_ANNOTATION`] is served by the process it names; every other address refuses
/// connections, no name resolves and there is no cluster DNS.
pub struct NoNetwork {
    backend_of: BackendOf,
}

impl NoNetwork {
    /// A network whose only reachable pods are those `backend_of` finds.
    pub fn new(backend_of: BackendOf) -> NoNetwork {
        NoNetwork { backend_of }
    }
}

#[async_trait::async_trait]
impl Network for NoNetwork {
    async fn connect(
        &self,
        runtime: &str,
        src: IpAddr,
        dst: SocketAddr,
    ) -> io::Result<Box<dyn Conn>> {
        // A pod's own localhost is the pod itself.
        let pod_ip = if dst.ip().is_loopback() {
            src
        } else {
            dst.ip()
        };
        match (self.backend_of)(runtime, pod_ip) {
            Some(addr) => Ok(Box::new(tokio::net::TcpStream::connect(addr).await?)),
            None => Err(io::ErrorKind::ConnectionRefused.into()),
        }
    }

    async fn resolve(&self, _: &str, _: &str, name: &str) -> io::Result<Vec<IpAddr>> {
        Ok(name.parse::<IpAddr>().into_iter().collect())
    }

    fn cluster_dns(&self, _: &str) -> Option<IpAddr> {
        None
    }
}
