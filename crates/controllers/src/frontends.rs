//! What the data plane serves for a runtime, gathered from the cloud inventory (load balancer
//! listeners, target groups and their targets, forwarding rules), the Services (cluster IPs,
//! NodePorts, `externalTrafficPolicy`), the nodes and the ready pods kube-proxy would choose
//! (`twinstack_kube::endpointslices` rules), and handed to
//! [`twinstack_dataplane::frontends::DataPlane::publish`].
//!
//! Who sees which address is not decided here: that is `twinstack_cloud::path`, called by the
//! data plane per connection. This module only says which frontends exist and where each may
//! send a flow.

use super::{name_of, Ctl, World};
use k8s_openapi::api::core::v1::{Node, Pod, Service, ServicePort};
use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use twinstack_cloud::inventory::{ForwardingRule, LoadBalancer, TargetGroup};
use twinstack_cloud::path::{self, Delivery, Family, FrontendKind, NodeHop, TargetType};
use twinstack_dataplane::frontends::{
    Backend, FrontendSpec, HealthCheck, PodSpec, Protocol, Target,
};
use twinstack_dataplane::workloads::workload_of;
use twinstack_kube::endpointslices::{find_port, should_pod_be_in_endpoints};

pub use twinstack_dataplane::pods::BACKEND_ANNOTATION;

/// Publishes the runtime's frontends and pods to the data plane.
pub async fn publish(ctl: &Ctl, w: &World) {
    let Some(dp) = &ctl.dataplane else { return };
    let st = ctl.cloud.lock().await;
    let (aws, gcp) = st.records();
    let built = build(&w.lists.services, &w.lists.pods, &w.lists.nodes, aws, gcp);
    drop(st);
    dp.publish(
        ctl.rt.name(),
        built.frontends,
        built.pods,
        built.cluster_dns,
    );
}

/// A runtime's frontends and pods.
pub struct Built {
    pub frontends: Vec<FrontendSpec>,
    pub pods: Vec<PodSpec>,
    pub cluster_dns: Option<IpAddr>,
}

fn ready(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

fn pod_ips(p: &Pod) -> Vec<IpAddr> {
    let st = p.status.as_ref();
    let mut ips: Vec<IpAddr> = st
        .and_then(|s| s.pod_ips.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|i| i.ip.parse().ok())
        .collect();
    if ips.is_empty() {
        ips.extend(
            st.and_then(|s| s.pod_ip.as_deref())
                .and_then(|i| i.parse::<IpAddr>().ok()),
        );
    }
    ips
}

fn pod_spec(p: &Pod) -> PodSpec {
    let m = &p.metadata;
    let ann = m.annotations.as_ref();
    let mut ports = BTreeMap::new();
    let mut containers = BTreeMap::new();
    for c in p.spec.iter().flat_map(|s| s.containers.iter()) {
        let cmd = c.command.clone().unwrap_or_default();
        let args = c.args.clone().unwrap_or_default();
        if let Some((wl, port)) =
            workload_of(c.image.as_deref().unwrap_or(""), &cmd, &args, &|_| None)
        {
            ports.insert(port, wl);
            containers.insert(port, c.name.clone());
        }
    }
    PodSpec {
        pod: format!("{}/{}", name_of(&m.namespace), name_of(&m.name)),
        hostname: name_of(&m.name).to_string(),
        ips: pod_ips(p),
        node: p
            .spec
            .as_ref()
            .and_then(|s| s.node_name.clone())
            .unwrap_or_default(),
        injected: ann.is_some_and(|a| a.contains_key(twinstack_cloud::istio::STATUS_ANNOTATION)),
        ports,
        containers,
        local: ann
            .and_then(|a| a.get(BACKEND_ANNOTATION))
            .and_then(|v| v.parse().ok()),
    }
}

fn node_address(n: &Node, family: Family) -> Option<IpAddr> {
    n.status
        .as_ref()?
        .addresses
        .as_ref()?
        .iter()
        .filter(|a| a.type_ == "InternalIP")
        .filter_map(|a| a.address.parse::<IpAddr>().ok())
        .find(|ip| Family::of(*ip) == family)
}

fn instance_id(n: &Node) -> &str {
    n.spec
        .as_ref()
        .and_then(|s| s.provider_id.as_deref())
        .and_then(|p| p.rsplit('/').next())
        .unwrap_or("")
}

/// One Service's serving state.
struct Svc<'a> {
    svc: &'a Service,
    key: String,
    local: bool,
    /// Ready pods it selects.
    pods: Vec<(&'a Pod, Arc<PodSpec>)>,
}

impl<'a> Svc<'a> {
    /// The endpoints of `sp` in `family`, on `node` only when given.
    fn backends(&self, sp: &ServicePort, family: Family, node: Option<&str>) -> Vec<Backend> {
        self.pods
            .iter()
            .filter(|(p, spec)| node.is_none_or(|n| spec.node == n) && ready(p))
            .filter_map(|(p, spec)| {
                let ip = spec
                    .ips
                    .iter()
                    .copied()
                    .find(|ip| Family::of(*ip) == family)?;
                let port = u16::try_from(find_port(p, sp)?).ok()?;
                Some(Backend {
                    endpoint: path::Endpoint {
                        pod: spec.pod.clone(),
                        address: SocketAddr::new(ip, port),
                        node: spec.node.clone(),
                        injected: spec.injected,
                    },
                    pod: PodSpec::clone(spec),
                })
            })
            .collect()
    }
}

fn protocol(p: &str) -> Option<Protocol> {
    match p {
        "TCP" | "TLS" | "TCP_UDP" | "HTTP" | "SSL" | "L3_DEFAULT" => Some(Protocol::Tcp),
        "UDP" => Some(Protocol::Udp),
        _ => None,
    }
}

fn health_of(tg: &TargetGroup) -> HealthCheck {
    let hc = &tg.health_check;
    HealthCheck {
        protocol: hc.protocol.clone(),
        path: hc.path.clone(),
        interval: Duration::from_secs(hc.interval_seconds.max(1) as u64),
        timeout: Duration::from_secs(hc.timeout_seconds.max(1) as u64),
        healthy_threshold: hc.healthy_threshold_count.max(1) as u32,
        unhealthy_threshold: hc.unhealthy_threshold_count.max(1) as u32,
    }
}

/// Builds a runtime's frontends and pods.
pub fn build(
    services: &[Arc<Service>],
    pods: &[Arc<Pod>],
    nodes: &[Arc<Node>],
    aws: &BTreeMap<String, LoadBalancer>,
    gcp: &BTreeMap<String, ForwardingRule>,
) -> Built {
    let specs: Vec<(&Pod, Arc<PodSpec>)> = pods
        .iter()
        .filter(|p| should_pod_be_in_endpoints(p, false))
        .map(|p| (&**p, Arc::new(pod_spec(p))))
        .collect();
    let mut by_ns: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, (p, _)) in specs.iter().enumerate() {
        by_ns
            .entry(name_of(&p.metadata.namespace))
            .or_default()
            .push(i);
    }
    let no: Vec<usize> = Vec::new();
    let mut svcs: HashMap<String, Svc> = HashMap::new();
    let mut cluster_dns = None;
    for s in services {
        let ns = name_of(&s.metadata.namespace);
        let key = format!("{ns}/{}", name_of(&s.metadata.name));
        let spec = s.spec.as_ref();
        if key == "kube-system/kube-dns" {
            cluster_dns = spec
                .and_then(|s| s.cluster_ip.as_deref())
                .and_then(|i| i.parse().ok());
        }
        let selector = spec
            .and_then(|s| s.selector.as_ref())
            .filter(|s| !s.is_empty());
        let selected = selector
            .map(|sel| {
                by_ns
                    .get(ns)
                    .unwrap_or(&no)
                    .iter()
                    .map(|&i| &specs[i])
                    .filter(|(p, _)| {
                        let l = p.metadata.labels.as_ref();
                        sel.iter().all(|(k, v)| l.and_then(|l| l.get(k)) == Some(v))
                    })
                    .map(|(p, s)| (*p, s.clone()))
                    .collect()
            })
            .unwrap_or_default();
        svcs.insert(
            key.clone(),
            Svc {
                svc: s,
                key,
                local: spec.and_then(|s| s.external_traffic_policy.as_deref()) == Some("Local"),
                pods: selected,
            },
        );
    }
    let nodes: Vec<&Node> = nodes.iter().map(|n| &**n).collect();
    let mut frontends = Vec::new();
    for s in svcs.values() {
        cluster_frontends(s, &nodes, &mut frontends);
    }
    for lb in aws.values().filter(|lb| !lb.leaked) {
        let key = format!("{}/{}", lb.owner.namespace, lb.owner.name);
        if let Some(s) = svcs.get(&key) {
            aws_frontends(lb, s, &nodes, &mut frontends);
        }
    }
    for fr in gcp.values().filter(|fr| !fr.leaked) {
        let key = format!("{}/{}", fr.owner.namespace, fr.owner.name);
        if let Some(s) = svcs.get(&key) {
            gcp_frontends(fr, s, &nodes, &mut frontends);
        }
    }
    Built {
        frontends,
        pods: specs.into_iter().map(|(_, s)| PodSpec::clone(&s)).collect(),
        cluster_dns,
    }
}

/// Cluster IPs and NodePorts.
fn cluster_frontends(s: &Svc, nodes: &[&Node], out: &mut Vec<FrontendSpec>) {
    let Some(spec) = s.svc.spec.as_ref() else {
        return;
    };
    let ips: Vec<IpAddr> = spec
        .cluster_ips
        .iter()
        .flatten()
        .filter_map(|i| i.parse().ok())
        .collect();
    for sp in spec.ports.iter().flatten() {
        let Some(proto) = protocol(sp.protocol.as_deref().unwrap_or("TCP")) else {
            continue;
        };
        let Ok(port) = u16::try_from(sp.port) else {
            continue;
        };
        for ip in &ips {
            let family = Family::of(*ip);
            out.push(FrontendSpec {
                service: s.key.clone(),
                model: path::Frontend {
                    kind: FrontendKind::ClusterIp,
                    address: SocketAddr::new(*ip, port),
                    delivery: Delivery::KubeProxy,
                    local_traffic_policy: false,
                    node_port: None,
                },
                protocol: proto,
                hostname: None,
                targets: vec![Target {
                    id: "kube-proxy".into(),
                    node: None,
                    backends: s.backends(sp, family, None),
                    health_check_node_port: None,
                }],
                health: None,
                target_group: None,
            });
        }
        let Some(np) = sp.node_port.and_then(|p| u16::try_from(p).ok()) else {
            continue;
        };
        let families: Vec<Family> = ips.iter().map(|i| Family::of(*i)).collect();
        for n in nodes {
            for &family in &families {
                let Some(addr) = node_address(n, family) else {
                    continue;
                };
                let name = name_of(&n.metadata.name).to_string();
                out.push(FrontendSpec {
                    service: s.key.clone(),
                    model: path::Frontend {
                        kind: FrontendKind::NodePort,
                        address: SocketAddr::new(addr, np),
                        delivery: Delivery::KubeProxy,
                        local_traffic_policy: s.local,
                        node_port: Some(np),
                    },
                    protocol: proto,
                    hostname: None,
                    targets: vec![Target {
                        id: name.clone(),
                        node: Some(NodeHop {
                            name: name.clone(),
                            address: addr,
                        }),
                        backends: s.backends(sp, family, s.local.then_some(name.as_str())),
                        health_check_node_port: None,
                    }],
                    health: None,
                    target_group: None,
                });
            }
        }
    }
}

/// The Service port a listener or target group serves: by NodePort for instance targets, by
/// port otherwise.
fn service_port<'a>(s: &'a Svc, listener_port: i32) -> Option<&'a ServicePort> {
    s.svc
        .spec
        .as_ref()?
        .ports
        .iter()
        .flatten()
        .find(|p| p.port == listener_port)
}

fn aws_frontends(lb: &LoadBalancer, s: &Svc, nodes: &[&Node], out: &mut Vec<FrontendSpec>) {
    let by_instance: HashMap<&str, &Node> = nodes.iter().map(|n| (instance_id(n), *n)).collect();
    for l in &lb.listeners {
        let Some(tg) = lb
            .target_groups
            .iter()
            .find(|t| t.target_group_arn == l.target_group_arn)
        else {
            continue;
        };
        let Some(proto) = protocol(&l.protocol) else {
            continue;
        };
        let Some(sp) = service_port(s, l.port) else {
            continue;
        };
        let Ok(port) = u16::try_from(l.port) else {
            continue;
        };
        let tg_family = if tg.ip_address_type == "ipv6" {
            Family::IPv6
        } else {
            Family::IPv4
        };
        let target_type = if tg.target_type == "ip" {
            TargetType::Ip
        } else {
            TargetType::Instance
        };
        let attr = |k: &str| tg.attributes.get(k).map(String::as_str);
        // `buildPreserveClientIPFlag`: on for instance targets, off for ip targets unless set;
        // always on for UDP.
        let preserve = proto == Protocol::Udp
            || match attr("preserve_client_ip.enabled") {
                Some(v) => v == "true",
                None => target_type == TargetType::Instance,
            };
        let proxy_protocol = attr("proxy_protocol_v2.enabled") == Some("true");
        let targets: Vec<Target> = tg
            .targets
            .iter()
            .filter_map(|t| match target_type {
                TargetType::Instance => {
                    let n = by_instance.get(t.id.as_str())?;
                    let name = name_of(&n.metadata.name).to_string();
                    let address = t.ip.or_else(|| node_address(n, tg_family))?;
                    Some(Target {
                        id: t.id.clone(),
                        node: Some(NodeHop {
                            name: name.clone(),
                            address,
                        }),
                        backends: s.backends(sp, tg_family, s.local.then_some(name.as_str())),
                        health_check_node_port: s
                            .local
                            .then(|| s.svc.spec.as_ref()?.health_check_node_port)
                            .flatten()
                            .and_then(|p| u16::try_from(p).ok()),
                    })
                }
                TargetType::Ip => {
                    let ip = t.ip.or_else(|| t.id.parse().ok())?;
                    let backends = s
                        .backends(sp, tg_family, None)
                        .into_iter()
                        .filter(|b| b.endpoint.address.ip() == ip)
                        .collect();
                    Some(Target {
                        id: t.id.clone(),
                        node: None,
                        backends,
                        health_check_node_port: None,
                    })
                }
            })
            .collect();
        for z in &lb.availability_zones {
            let v4 = if lb.scheme == "internal" {
                Some(z.private_ipv4_address)
            } else {
                z.ipv4_address
            };
            let mut addrs: Vec<IpAddr> = v4.into_iter().map(IpAddr::V4).collect();
            if lb.ip_address_type != "ipv4" {
                addrs.extend(z.ipv6_address.map(IpAddr::V6));
            }
            for a in addrs {
                let delivery = if lb.kind == "classic" {
                    Delivery::Proxy {
                        private_ipv4: z.private_ipv4_address,
                    }
                } else {
                    Delivery::TargetGroup {
                        target_type,
                        family: tg_family,
                        preserve_client_ip: preserve,
                        proxy_protocol,
                        private_ipv4: Some(z.private_ipv4_address),
                        private_ipv6: z.ipv6_address,
                    }
                };
                out.push(FrontendSpec {
                    service: s.key.clone(),
                    model: path::Frontend {
                        kind: if lb.kind == "classic" {
                            FrontendKind::ClassicElb
                        } else {
                            FrontendKind::Nlb
                        },
                        address: SocketAddr::new(a, port),
                        delivery,
                        local_traffic_policy: s.local,
                        node_port: (target_type == TargetType::Instance)
                            .then(|| u16::try_from(tg.port).ok())
                            .flatten(),
                    },
                    protocol: proto,
                    hostname: Some(lb.dns_name.clone()),
                    targets: targets.clone(),
                    health: Some(health_of(tg)),
                    target_group: Some(tg.target_group_arn.clone()),
                });
            }
        }
    }
}

fn gcp_frontends(fr: &ForwardingRule, s: &Svc, nodes: &[&Node], out: &mut Vec<FrontendSpec>) {
    // An IPv6 rule holds a /96; clients reach its first address.
    let Some(address) = fr
        .ip_address
        .split('/')
        .next()
        .and_then(|a| a.parse::<IpAddr>().ok())
    else {
        return;
    };
    let family = Family::of(address);
    let Some(proto) = protocol(&fr.ip_protocol) else {
        return;
    };
    let Some(spec) = s.svc.spec.as_ref() else {
        return;
    };
    for sp in spec.ports.iter().flatten() {
        if protocol(sp.protocol.as_deref().unwrap_or("TCP")) != Some(proto) {
            continue;
        }
        let Ok(port) = u16::try_from(sp.port) else {
            continue;
        };
        let targets: Vec<Target> = nodes
            .iter()
            .filter_map(|n| {
                let name = name_of(&n.metadata.name).to_string();
                let addr = node_address(n, family)?;
                let backends = s.backends(sp, family, s.local.then_some(name.as_str()));
                // The Local health check (kube-proxy's health check node port) takes nodes
                // without an endpoint out of the backend service.
                if s.local && backends.is_empty() {
                    return None;
                }
                Some(Target {
                    id: name.clone(),
                    node: Some(NodeHop {
                        name,
                        address: addr,
                    }),
                    backends,
                    health_check_node_port: None,
                })
            })
            .collect();
        out.push(FrontendSpec {
            service: s.key.clone(),
            model: path::Frontend {
                kind: FrontendKind::ForwardingRule,
                address: SocketAddr::new(address, port),
                delivery: Delivery::Passthrough,
                local_traffic_policy: s.local,
                node_port: sp.node_port.and_then(|p| u16::try_from(p).ok()),
            },
            protocol: proto,
            hostname: None,
            targets,
            health: None,
            target_group: None,
        });
    }
}
