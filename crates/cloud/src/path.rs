//! The path model: client → frontend → target (instance or ip) → kube-proxy → pod, with the
//! source and destination addresses each hop carries, as the real platform rewrites them.
//!
//! Sources (`../shared/reference/cloud-load-balancers.md` §1.5, §2; `docs/fidelity.md`,
//! "Data plane"):
//! - AWS "Edit target group attributes for your Network Load Balancer": with client IP
//!   preservation on, an IPv4 target sees the IPv4 client, and the NLB's private IPv4 for an
//!   IPv6 client (translated); with it off, every target sees the NLB's private address of the
//!   target group's family. Preservation has no effect on translated traffic (LBC
//!   `annotations.md`, Access control).
//! - AWS: with proxy protocol v2 on, the NLB prepends a header with the real client and the
//!   frontend address, and does not strip one already there.
//! - A Classic ELB is a proxy: the target always sees the ELB's private IPv4.
//! - Google Cloud passthrough load balancers never translate: each forwarding rule delivers its
//!   own family to the node with the destination unchanged, and the client preserved.
//! - kube-proxy: NodePort and load balancer traffic with `externalTrafficPolicy: Cluster` is
//!   masqueraded to the node's address (`KUBE-MARK-MASQ`); with `Local` the source is kept and
//!   only endpoints on the receiving node are used. A pod reaching a cluster IP keeps its own
//!   source.
//! - Istio: the sidecar's capture (`istio-iptables`) is IPv4 only, so IPv6 reaching an injected
//!   pod is outside the mesh: no mutual TLS, no authorization policies.

use serde::Serialize;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// An IP family, as Kubernetes spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Family {
    IPv4,
    IPv6,
}

impl Family {
    pub fn of(ip: IpAddr) -> Family {
        if ip.is_ipv4() {
            Family::IPv4
        } else {
            Family::IPv6
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Family::IPv4 => "IPv4",
            Family::IPv6 => "IPv6",
        }
    }

    /// `IPv4`/`ipv4`/`4` and the same for IPv6.
    pub fn parse(s: &str) -> Option<Family> {
        match s.to_ascii_lowercase().as_str() {
            "ipv4" | "4" => Some(Family::IPv4),
            "ipv6" | "6" => Some(Family::IPv6),
            _ => None,
        }
    }
}

/// What a frontend is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FrontendKind {
    /// An ELBv2 Network Load Balancer listener.
    Nlb,
    /// A Classic ELB listener (the legacy AWS provider without the NLB annotation).
    ClassicElb,
    /// A Compute Engine forwarding rule (passthrough).
    ForwardingRule,
    /// A Service's cluster IP and port.
    #[serde(rename = "clusterip")]
    ClusterIp,
    /// A node address and the Service's NodePort.
    #[serde(rename = "nodeport")]
    NodePort,
}

impl FrontendKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FrontendKind::Nlb => "nlb",
            FrontendKind::ClassicElb => "classic-elb",
            FrontendKind::ForwardingRule => "forwarding-rule",
            FrontendKind::ClusterIp => "clusterip",
            FrontendKind::NodePort => "nodeport",
        }
    }
}

/// `instance` or `ip` (ELBv2 `TargetType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetType {
    Instance,
    Ip,
}

/// How a frontend hands a flow on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Delivery {
    /// An NLB target group (ELBv2 attributes as the controller set them).
    TargetGroup {
        target_type: TargetType,
        /// The target group's `IpAddressType`.
        family: Family,
        /// `preserve_client_ip.enabled`.
        preserve_client_ip: bool,
        /// `proxy_protocol_v2.enabled`.
        proxy_protocol: bool,
        /// The load balancer's node-facing private addresses (the source targets see when the
        /// client is not preserved).
        private_ipv4: Option<Ipv4Addr>,
        private_ipv6: Option<Ipv6Addr>,
    },
    /// A Classic ELB: a proxy to the instances' NodePort, from its private IPv4.
    Proxy { private_ipv4: Ipv4Addr },
    /// A passthrough forwarding rule: the node receives the packet unchanged.
    Passthrough,
    /// kube-proxy alone (a cluster IP, a NodePort).
    KubeProxy,
}

/// A frontend and what the Service says about its traffic.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Frontend {
    pub kind: FrontendKind,
    /// The emulated address and port clients connect to.
    pub address: SocketAddr,
    pub delivery: Delivery,
    /// `externalTrafficPolicy: Local`.
    pub local_traffic_policy: bool,
    /// The Service's NodePort for this port (instance targets, Classic ELB, NodePort).
    pub node_port: Option<u16>,
}

impl Frontend {
    pub fn family(&self) -> Family {
        Family::of(self.address.ip())
    }

    /// The family the pod is reached in: a target group's, else the frontend's own.
    pub fn backend_family(&self) -> Family {
        match &self.delivery {
            Delivery::TargetGroup { family, .. } => *family,
            Delivery::Proxy { .. } => Family::IPv4,
            Delivery::Passthrough | Delivery::KubeProxy => self.family(),
        }
    }

    /// Whether the flow passes a node (and its kube-proxy) before the pod: instance targets,
    /// Classic ELB, passthrough, NodePort. `ip` targets and cluster IPs reach the pod directly
    /// (a cluster IP's kube-proxy is the client's own node).
    pub fn via_node(&self) -> bool {
        match &self.delivery {
            Delivery::TargetGroup { target_type, .. } => *target_type == TargetType::Instance,
            Delivery::Proxy { .. } | Delivery::Passthrough => true,
            Delivery::KubeProxy => self.kind == FrontendKind::NodePort,
        }
    }
}

/// The pod a flow ends at.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Endpoint {
    /// `namespace/name`.
    pub pod: String,
    /// The pod's address in the backend family, and the container port.
    pub address: SocketAddr,
    pub node: String,
    /// Whether the pod carries Istio's sidecar.
    pub injected: bool,
}

/// The node a flow passes (instance target, passthrough, NodePort).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct NodeHop {
    pub name: String,
    /// The node's address in the backend family.
    pub address: IpAddr,
}

/// One hop: the addresses on the wire between two parties.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hop {
    pub name: String,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Istio's view of the last hop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mesh {
    /// The pod has no sidecar.
    NotInjected,
    /// IPv4 into an injected pod: captured by the sidecar.
    Sidecar,
    /// IPv6 into an injected pod: not captured (no mTLS, no authorization policies).
    OutsideMesh,
}

/// A PROXY protocol v2 header's address pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ProxyHeader {
    pub src: SocketAddr,
    pub dst: SocketAddr,
}

/// A flow through the model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flow {
    pub hops: Vec<Hop>,
    /// The peer address the pod's socket sees (whoami's `RemoteAddr`).
    pub seen: SocketAddr,
    /// The header the load balancer prepends (proxy protocol v2 on).
    pub proxy_header: Option<ProxyHeader>,
    /// The load balancer changed the family (IPv6 client, IPv4 target or the reverse).
    pub translated: bool,
    pub mesh: Mesh,
}

/// Why a flow cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unreachable {
    #[error("the frontend {0} needs a node to pass")]
    NoNode(SocketAddr),
    #[error("the load balancer has no private {0} address to translate from")]
    NoPrivateAddress(&'static str),
}

/// The flow of one connection from `client` through `fe` to `ep`, passing `node` when the
/// frontend delivers to a node. `ephemeral` is the source port a party that opens a new
/// connection (the NLB without client preservation, the ELB, kube-proxy's masquerade) uses.
pub fn flow(
    fe: &Frontend,
    client: SocketAddr,
    node: Option<&NodeHop>,
    ep: &Endpoint,
    ephemeral: u16,
) -> Result<Flow, Unreachable> {
    let mut hops = vec![Hop {
        name: format!("client → {}", kind_name(fe.kind)),
        src: client,
        dst: fe.address,
        note: None,
    }];
    let mut translated = false;
    let mut proxy_header = None;
    // The source after the load balancer, and where it sends.
    let mut src = client;
    match &fe.delivery {
        Delivery::TargetGroup {
            target_type,
            family,
            preserve_client_ip,
            proxy_protocol,
            private_ipv4,
            private_ipv6,
        } => {
            translated = fe.family() != *family;
            let private = |f: Family| -> Result<SocketAddr, Unreachable> {
                let ip: Option<IpAddr> = match f {
                    Family::IPv4 => private_ipv4.map(IpAddr::V4),
                    Family::IPv6 => private_ipv6.map(IpAddr::V6),
                };
                ip.map(|ip| SocketAddr::new(ip, ephemeral))
                    .ok_or(Unreachable::NoPrivateAddress(f.as_str()))
            };
            // Preservation has no effect on translated traffic.
            if translated || !preserve_client_ip {
                src = private(*family)?;
            }
            if *proxy_protocol {
                proxy_header = Some(ProxyHeader {
                    src: client,
                    dst: fe.address,
                });
            }
            let (dst, name) = match target_type {
                TargetType::Instance => {
                    let n = node.ok_or(Unreachable::NoNode(fe.address))?;
                    let port = fe.node_port.unwrap_or(ep.address.port());
                    (
                        SocketAddr::new(n.address, port),
                        format!("load balancer → instance target {}", n.name),
                    )
                }
                TargetType::Ip => (ep.address, "load balancer → ip target".to_string()),
            };
            let mut notes = Vec::new();
            if translated {
                notes.push(format!(
                    "translated from {} to {}: the target sees the load balancer's private address",
                    fe.family().as_str(),
                    family.as_str()
                ));
            } else if !preserve_client_ip {
                notes.push("client IP preservation off".to_string());
            }
            if let Some(h) = &proxy_header {
                notes.push(format!("PROXY protocol v2 header: {} → {}", h.src, h.dst));
            }
            hops.push(Hop {
                name,
                src,
                dst,
                note: (!notes.is_empty()).then(|| notes.join("; ")),
            });
        }
        Delivery::Proxy { private_ipv4 } => {
            let n = node.ok_or(Unreachable::NoNode(fe.address))?;
            src = SocketAddr::new(IpAddr::V4(*private_ipv4), ephemeral);
            hops.push(Hop {
                name: format!("load balancer → instance {}", n.name),
                src,
                dst: SocketAddr::new(n.address, fe.node_port.unwrap_or(ep.address.port())),
                note: Some("a Classic ELB proxies: a new connection from its private IPv4".into()),
            });
        }
        Delivery::Passthrough => {
            let n = node.ok_or(Unreachable::NoNode(fe.address))?;
            hops.push(Hop {
                name: format!("forwarding rule → node {} (passthrough)", n.name),
                src,
                dst: fe.address,
                note: Some("passthrough: destination and client unchanged, no translation".into()),
            });
        }
        Delivery::KubeProxy => {}
    }
    // kube-proxy: a node's NodePort or load balancer traffic, or a cluster IP.
    let last_name = if fe.via_node() {
        let n = node.ok_or(Unreachable::NoNode(fe.address))?;
        if fe.local_traffic_policy {
            format!(
                "kube-proxy on {} → pod (externalTrafficPolicy: Local)",
                n.name
            )
        } else {
            src = SocketAddr::new(n.address, ephemeral);
            format!(
                "kube-proxy on {} → pod (externalTrafficPolicy: Cluster, source NAT to the node)",
                n.name
            )
        }
    } else if fe.kind == FrontendKind::ClusterIp {
        "kube-proxy → pod".to_string()
    } else {
        "→ pod".to_string()
    };
    let mesh = match (ep.injected, Family::of(ep.address.ip())) {
        (false, _) => Mesh::NotInjected,
        (true, Family::IPv4) => Mesh::Sidecar,
        (true, Family::IPv6) => Mesh::OutsideMesh,
    };
    let mesh_note = match mesh {
        Mesh::NotInjected => None,
        Mesh::Sidecar => Some("through the Istio sidecar".to_string()),
        Mesh::OutsideMesh => Some(
            "IPv6 is outside the Istio mesh: the sidecar captures IPv4 only (no mutual TLS, no authorization policies)"
                .to_string(),
        ),
    };
    // The hop into the pod only when it differs from the last one (an ip target is the pod).
    let last = hops.last().expect("the client hop");
    if last.dst != ep.address || last.src != src {
        hops.push(Hop {
            name: last_name,
            src,
            dst: ep.address,
            note: mesh_note,
        });
    } else if let Some(n) = mesh_note {
        let last = hops.last_mut().expect("the client hop");
        last.note = Some(match last.note.take() {
            Some(o) => format!("{o}; {n}"),
            None => n,
        });
    }
    Ok(Flow {
        hops,
        seen: src,
        proxy_header,
        translated,
        mesh,
    })
}

fn kind_name(k: FrontendKind) -> &'static str {
    match k {
        FrontendKind::Nlb => "NLB listener",
        FrontendKind::ClassicElb => "Classic ELB listener",
        FrontendKind::ForwardingRule => "forwarding rule",
        FrontendKind::ClusterIp => "cluster IP",
        FrontendKind::NodePort => "NodePort",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    fn nlb(
        fe_addr: &str,
        tt: TargetType,
        family: Family,
        preserve: bool,
        pp: bool,
        local: bool,
    ) -> Frontend {
        Frontend {
            kind: FrontendKind::Nlb,
            address: sa(fe_addr),
            delivery: Delivery::TargetGroup {
                target_type: tt,
                family,
                preserve_client_ip: preserve,
                proxy_protocol: pp,
                private_ipv4: Some("10.250.0.9".parse().unwrap()),
                private_ipv6: Some("2600:1f18::9".parse().unwrap()),
            },
            local_traffic_policy: local,
            node_port: Some(31000),
        }
    }

    fn pod(addr: &str) -> Endpoint {
        Endpoint {
            pod: "shop/web-1".into(),
            address: sa(addr),
            node: "node-a".into(),
            injected: false,
        }
    }

    fn node(ip: &str) -> NodeHop {
        NodeHop {
            name: "node-a".into(),
            address: ip.parse().unwrap(),
        }
    }

    const V4_CLIENT: &str = "198.51.100.7:50000";
    const V6_CLIENT: &str = "[2001:db8::7]:50000";

    /// The AWS table ("Edit target group attributes"), with kube-proxy behind instance
    /// targets: (frontend, target type, tg family, preserve, local, client) → what the pod sees.
    #[test]
    fn what_the_pod_sees_follows_the_aws_table_and_kube_proxy() {
        use Family::*;
        use TargetType::*;
        let n4 = node("10.250.0.20");
        let n6 = node("2600:1f18::20");
        // (frontend, target type, group family, preserve, Local, client, seen, translated)
        type Case<'a> = (
            &'a str,
            TargetType,
            Family,
            bool,
            bool,
            &'a str,
            &'a str,
            bool,
        );
        let cases: &[Case] = &[
            // Instance targets (preservation on by default), Local: the client, or the NLB's
            // private IPv4 for a translated IPv6 client.
            (
                "203.0.113.5:80",
                Instance,
                IPv4,
                true,
                true,
                V4_CLIENT,
                "198.51.100.7:50000",
                false,
            ),
            (
                "[2600:1f18::5]:80",
                Instance,
                IPv4,
                true,
                true,
                V6_CLIENT,
                "10.250.0.9:40000",
                true,
            ),
            // Cluster: kube-proxy masquerades to the node.
            (
                "203.0.113.5:80",
                Instance,
                IPv4,
                true,
                false,
                V4_CLIENT,
                "10.250.0.20:40000",
                false,
            ),
            (
                "[2600:1f18::5]:80",
                Instance,
                IPv4,
                true,
                false,
                V6_CLIENT,
                "10.250.0.20:40000",
                true,
            ),
            // ip targets (preservation off by default): the NLB's private address.
            (
                "203.0.113.5:80",
                Ip,
                IPv4,
                false,
                false,
                V4_CLIENT,
                "10.250.0.9:40000",
                false,
            ),
            (
                "[2600:1f18::5]:80",
                Ip,
                IPv4,
                false,
                false,
                V6_CLIENT,
                "10.250.0.9:40000",
                true,
            ),
            // ip targets with preservation on: the IPv4 client; translated IPv6 still the NLB.
            (
                "203.0.113.5:80",
                Ip,
                IPv4,
                true,
                false,
                V4_CLIENT,
                "198.51.100.7:50000",
                false,
            ),
            (
                "[2600:1f18::5]:80",
                Ip,
                IPv4,
                true,
                false,
                V6_CLIENT,
                "10.250.0.9:40000",
                true,
            ),
            // IPv6 target group: IPv6 client preserved, IPv4 client translated to the NLB's IPv6.
            (
                "[2600:1f18::5]:80",
                Ip,
                IPv6,
                true,
                false,
                V6_CLIENT,
                "[2001:db8::7]:50000",
                false,
            ),
            (
                "203.0.113.5:80",
                Ip,
                IPv6,
                true,
                false,
                V4_CLIENT,
                "[2600:1f18::9]:40000",
                true,
            ),
        ];
        for (i, (fe, tt, fam, preserve, local, client, seen, translated)) in
            cases.iter().enumerate()
        {
            let f = nlb(fe, *tt, *fam, *preserve, false, *local);
            let (ep, n) = match fam {
                IPv4 => (pod("10.96.1.5:8080"), &n4),
                IPv6 => (pod("[2600:1f18::1:5]:8080"), &n6),
            };
            let flow = flow(&f, sa(client), Some(n), &ep, 40000).unwrap();
            assert_eq!(flow.seen, sa(seen), "case {i}: {flow:#?}");
            assert_eq!(flow.translated, *translated, "case {i}");
            assert_eq!(flow.hops.first().unwrap().src, sa(client), "case {i}");
            assert_eq!(flow.hops.last().unwrap().dst, ep.address, "case {i}");
        }
    }

    #[test]
    fn instance_targets_go_through_the_node_port() {
        let f = nlb(
            "[2600:1f18::5]:80",
            TargetType::Instance,
            Family::IPv4,
            true,
            false,
            false,
        );
        let fl = flow(
            &f,
            sa(V6_CLIENT),
            Some(&node("10.250.0.20")),
            &pod("10.96.1.5:8080"),
            40000,
        )
        .unwrap();
        let names: Vec<&str> = fl.hops.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names.len(), 3, "{names:?}");
        assert_eq!(fl.hops[1].dst, sa("10.250.0.20:31000"));
        assert_eq!(fl.hops[1].src, sa("10.250.0.9:40000"));
        assert!(fl.hops[1]
            .note
            .as_deref()
            .unwrap()
            .contains("translated from IPv6 to IPv4"));
        assert_eq!(fl.hops[2].src, sa("10.250.0.20:40000"));
    }

    #[test]
    fn the_proxy_header_carries_the_real_client_even_when_translated() {
        let f = nlb(
            "[2600:1f18::5]:80",
            TargetType::Ip,
            Family::IPv4,
            false,
            true,
            false,
        );
        let fl = flow(&f, sa(V6_CLIENT), None, &pod("10.96.1.5:8080"), 40000).unwrap();
        assert_eq!(
            fl.proxy_header,
            Some(ProxyHeader {
                src: sa(V6_CLIENT),
                dst: sa("[2600:1f18::5]:80")
            })
        );
        assert_eq!(fl.seen, sa("10.250.0.9:40000"));
        // An ip target is the pod: two hops.
        assert_eq!(fl.hops.len(), 2);
    }

    #[test]
    fn forwarding_rules_pass_through_in_their_own_family() {
        for (fe, n, ep, client) in [
            ("34.1.2.3:80", "10.250.0.20", "10.96.1.5:8080", V4_CLIENT),
            (
                "[2600:1900::5]:80",
                "2600:1900::20",
                "[2600:1900:1::5]:8080",
                V6_CLIENT,
            ),
        ] {
            for local in [true, false] {
                let f = Frontend {
                    kind: FrontendKind::ForwardingRule,
                    address: sa(fe),
                    delivery: Delivery::Passthrough,
                    local_traffic_policy: local,
                    node_port: Some(31000),
                };
                let fl = flow(&f, sa(client), Some(&node(n)), &pod(ep), 40000).unwrap();
                assert!(!fl.translated);
                assert_eq!(fl.hops[1].dst, sa(fe), "the destination is unchanged");
                assert_eq!(fl.hops[1].src, sa(client));
                let want = if local {
                    sa(client)
                } else {
                    SocketAddr::new(n.parse().unwrap(), 40000)
                };
                assert_eq!(fl.seen, want);
                assert_eq!(f.backend_family(), Family::of(sa(ep).ip()));
            }
        }
    }

    #[test]
    fn a_pod_reaching_a_cluster_ip_keeps_its_source() {
        let f = Frontend {
            kind: FrontendKind::ClusterIp,
            address: sa("[fd00:10:96::a]:80"),
            delivery: Delivery::KubeProxy,
            local_traffic_policy: false,
            node_port: None,
        };
        let client = sa("[2600:1f18::1:9]:41000");
        let fl = flow(&f, client, None, &pod("[2600:1f18::1:5]:8080"), 40000).unwrap();
        assert_eq!(fl.seen, client);
        assert_eq!(fl.hops.len(), 2);
        assert_eq!(fl.hops[1].name, "kube-proxy → pod");
    }

    #[test]
    fn ipv6_into_an_injected_pod_is_outside_the_mesh() {
        let f = nlb(
            "[2600:1f18::5]:80",
            TargetType::Ip,
            Family::IPv6,
            true,
            false,
            false,
        );
        let mut ep = pod("[2600:1f18::1:5]:8080");
        ep.injected = true;
        let fl = flow(&f, sa(V6_CLIENT), None, &ep, 40000).unwrap();
        assert_eq!(fl.mesh, Mesh::OutsideMesh);
        assert!(fl
            .hops
            .last()
            .unwrap()
            .note
            .as_deref()
            .unwrap()
            .contains("outside the Istio mesh"));
        let f4 = nlb(
            "203.0.113.5:80",
            TargetType::Ip,
            Family::IPv4,
            true,
            false,
            false,
        );
        let mut ep4 = pod("10.96.1.5:8080");
        ep4.injected = true;
        assert_eq!(
            flow(&f4, sa(V4_CLIENT), None, &ep4, 1).unwrap().mesh,
            Mesh::Sidecar
        );
    }

    #[test]
    fn a_classic_elb_always_shows_its_private_ipv4() {
        let f = Frontend {
            kind: FrontendKind::ClassicElb,
            address: sa("203.0.113.8:80"),
            delivery: Delivery::Proxy {
                private_ipv4: "10.250.0.11".parse().unwrap(),
            },
            local_traffic_policy: true,
            node_port: Some(30080),
        };
        let fl = flow(
            &f,
            sa(V4_CLIENT),
            Some(&node("10.250.0.20")),
            &pod("10.96.1.5:8080"),
            40000,
        )
        .unwrap();
        assert_eq!(fl.seen, sa("10.250.0.11:40000"));
        assert_eq!(fl.hops[1].dst, sa("10.250.0.20:30080"));
    }

    #[test]
    fn instance_targets_without_a_node_are_unreachable() {
        let f = nlb(
            "203.0.113.5:80",
            TargetType::Instance,
            Family::IPv4,
            true,
            false,
            false,
        );
        assert!(matches!(
            flow(&f, sa(V4_CLIENT), None, &pod("10.96.1.5:8080"), 1),
            Err(Unreachable::NoNode(_))
        ));
    }
}
