//! What the controllers publish for a runtime: its frontends (each load balancer listener,
//! forwarding rule, cluster IP and NodePort, per family) with their targets, and its pods with
//! what serves their ports.

use crate::workloads::Workload;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use twinstack_cloud::path;

/// `TCP` or `UDP`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Protocol {
    /// TCP.
    #[serde(rename = "TCP")]
    Tcp,
    /// UDP.
    #[serde(rename = "UDP")]
    Udp,
}

impl Protocol {
    /// `TCP`/`UDP`.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
        }
    }
}

/// What answers on a pod's port.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Serve {
    /// A built-in server.
    Builtin(Workload),
    /// The user's own process (`twinstack.io/backend`): every port of the pod goes there.
    Local(SocketAddr),
    /// Nothing listens: connections are refused.
    Refuse,
}

/// A pod as the data plane serves it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PodSpec {
    /// `namespace/name`.
    pub pod: String,
    /// The pod's name (its hostname).
    pub hostname: String,
    /// `status.podIPs`.
    pub ips: Vec<IpAddr>,
    /// The node it runs on.
    pub node: String,
    /// Istio's sidecar is injected.
    pub injected: bool,
    /// Per container port, what serves it; `local` serves every port.
    pub ports: BTreeMap<u16, Workload>,
    /// Per served port, the container's name (whose log gets the access lines).
    pub containers: BTreeMap<u16, String>,
    /// The user's own process for all ports.
    pub local: Option<SocketAddr>,
}

impl PodSpec {
    /// What answers a connection to `port`.
    pub fn serve(&self, port: u16) -> Serve {
        if let Some(a) = self.local {
            return Serve::Local(a);
        }
        match self.ports.get(&port) {
            Some(w) => Serve::Builtin(w.clone()),
            None => Serve::Refuse,
        }
    }
}

/// One endpoint a target hands flows to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Backend {
    /// The pod in the path model.
    pub endpoint: path::Endpoint,
    /// The pod's spec (hostname, addresses, what serves), shared by every frontend that
    /// reaches it.
    pub pod: std::sync::Arc<PodSpec>,
}

/// A load balancer target: a node (instance targets, passthrough, NodePort) with the endpoints
/// its kube-proxy may choose, or one pod (`ip` targets, cluster IPs list every endpoint under
/// one target without a node).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    /// The target's id as the cloud names it (`i-...`, an IP), for health reports.
    pub id: String,
    /// The node a flow passes.
    pub node: Option<path::NodeHop>,
    /// Where kube-proxy (or the load balancer for ip targets) may send the flow.
    pub backends: Vec<Backend>,
    /// The port a health check probes on this target when it is not the traffic port
    /// (kube-proxy's `healthCheckNodePort` for `externalTrafficPolicy: Local`).
    pub health_check_node_port: Option<u16>,
}

/// A target group's health check.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HealthCheck {
    /// `TCP` or `HTTP`.
    pub protocol: String,
    /// HTTP path.
    pub path: Option<String>,
    /// Between probes.
    pub interval: Duration,
    /// Per probe.
    pub timeout: Duration,
    /// Successes to become healthy.
    pub healthy_threshold: u32,
    /// Failures to become unhealthy.
    pub unhealthy_threshold: u32,
}

/// One frontend of a runtime.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FrontendSpec {
    /// `namespace/name` of the Service.
    pub service: String,
    /// The frontend in the path model (kind, emulated address, delivery).
    pub model: path::Frontend,
    /// TCP or UDP.
    pub protocol: Protocol,
    /// The load balancer's DNS name, when it has one.
    pub hostname: Option<String>,
    /// Its targets.
    pub targets: Vec<Target>,
    /// Its health check (load balancers only).
    pub health: Option<HealthCheck>,
    /// The ELBv2 target group it sends to (its health shows in `DescribeTargetHealth`).
    pub target_group: Option<String>,
}

impl FrontendSpec {
    /// What identifies a frontend across publications.
    pub fn key(&self) -> FrontendKey {
        FrontendKey {
            service: self.service.clone(),
            kind: self.model.kind,
            address: self.model.address,
            protocol: self.protocol,
        }
    }
}

/// A frontend's identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FrontendKey {
    /// `namespace/name`.
    pub service: String,
    /// What it is.
    pub kind: path::FrontendKind,
    /// Emulated address and port.
    pub address: SocketAddr,
    /// TCP or UDP.
    pub protocol: Protocol,
}

/// A frontend as `twinstack runtime show -o json` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FrontendView {
    /// `NS/NAME`.
    pub service: String,
    /// `nlb`, `classic-elb`, `forwarding-rule`, `clusterip`, `nodeport`.
    pub kind: &'static str,
    /// `IPv4` or `IPv6`.
    pub family: &'static str,
    /// The family the pods are reached in (a target group's): another than `family` when the
    /// load balancer translates.
    #[serde(rename = "backendFamily")]
    pub backend_family: &'static str,
    /// The emulated address.
    pub address: IpAddr,
    /// The emulated port.
    pub port: u16,
    /// `TCP`/`UDP`.
    pub protocol: &'static str,
    /// The local socket a client on this machine connects to.
    pub listen: String,
    /// The load balancer's DNS name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Per target: id and health (`healthy`, `unhealthy`, `initial`).
    pub targets: Vec<TargetHealthView>,
}

/// A target's health as the data plane measured it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetHealthView {
    /// `i-...` or an IP.
    pub id: String,
    /// `healthy`, `unhealthy`, `initial`; `unused` without health checks.
    pub state: &'static str,
    /// The pods (endpoints) it may hand a flow to.
    pub endpoints: usize,
}
