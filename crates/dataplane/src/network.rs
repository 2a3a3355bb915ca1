//! The emulated network as a pod sees it: the one interface through which client tools run in
//! a pod (`kubectl exec POD -- curl ...`, a `curlimages/curl` Job's command) and
//! `kubectl port-forward` reach anything in a runtime.
//!
//! A connection opened here carries real bytes: to a built-in workload served by the data
//! plane, to a user's own process, or through a load balancer frontend with its translation and
//! PROXY header. Which hops it takes and which addresses each side sees is the path model's
//! (`twinstack_cloud::path`); this trait only hides how the data plane carries it out.

use std::io;
use std::net::{IpAddr, SocketAddr};
use tokio::io::{AsyncRead, AsyncWrite};

/// A connected byte stream (one TCP connection as the client in the pod sees it).
pub trait Conn: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Conn for T {}

/// The runtime's network, seen from inside a pod.
#[async_trait::async_trait]
pub trait Network: Send + Sync {
    /// Opens a TCP connection from `src` (the address the pod's socket binds: one of its pod
    /// IPs, chosen by the caller in `dst`'s family) to `dst`, any emulated address of the
    /// runtime: a pod IP, a Service cluster IP, a node address with a NodePort, or a load
    /// balancer frontend address. `src == dst.ip()` (or a loopback `src`) means the pod's own
    /// `localhost`, as `kubectl port-forward` reaches it.
    ///
    /// Errors are the kernel's as the client would see them: `ConnectionRefused` (nothing
    /// listens there, or a Service without ready endpoints as kube-proxy rejects it),
    /// `NetworkUnreachable` (the pod has no address of `dst`'s family), `TimedOut`.
    async fn connect(
        &self,
        runtime: &str,
        src: IpAddr,
        dst: SocketAddr,
    ) -> io::Result<Box<dyn Conn>>;

    /// Resolves `name` as the pod's resolver does (kubelet's `resolv.conf`: search
    /// `<namespace>.svc.cluster.local svc.cluster.local cluster.local`, `ndots:5`) against the
    /// runtime's cluster DNS and the emulated load balancer names. Empty when the name does not
    /// exist (NXDOMAIN).
    async fn resolve(&self, runtime: &str, namespace: &str, name: &str) -> io::Result<Vec<IpAddr>>;

    /// The cluster DNS Service's address (`kube-dns` in `kube-system`), as `nslookup` prints it
    /// in its `Server:` line; `None` when the runtime has none.
    fn cluster_dns(&self, runtime: &str) -> Option<IpAddr>;
}

/// The address of `dst`'s family among a pod's addresses (`status.podIPs`), as the kernel picks
/// the source of a connection: `None` when the pod has none (the connection fails with
/// `NetworkUnreachable`).
pub fn source_for(pod_ips: &[IpAddr], dst: IpAddr) -> Option<IpAddr> {
    pod_ips
        .iter()
        .copied()
        .find(|ip| ip.is_ipv4() == dst.is_ipv4())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_source_is_the_pod_address_of_the_destination_family() {
        let ips: Vec<IpAddr> = vec!["10.96.0.5".parse().unwrap(), "2600::5".parse().unwrap()];
        assert_eq!(
            source_for(&ips, "fd00::1".parse().unwrap()),
            Some("2600::5".parse().unwrap())
        );
        assert_eq!(
            source_for(&ips, "10.0.0.1".parse().unwrap()),
            Some("10.96.0.5".parse().unwrap())
        );
        assert_eq!(source_for(&ips[..1], "fd00::1".parse().unwrap()), None);
    }
}
