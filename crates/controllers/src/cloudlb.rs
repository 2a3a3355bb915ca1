//! The cloud load balancer controllers of a runtime: on AWS the cloud-controller-manager's
//! service controller with the AWS provider and the AWS Load Balancer Controller, on Google
//! Cloud the GCE provider and ingress-gce's L4 controllers. Their rules are
//! `twinstack_cloud::{aws, gcp}::reconcile`; this loop gathers a Service and the runtime's
//! facts, calls it, and carries out what it returns: events, the Service's finalizers and
//! annotations (an update through the registry, as the controllers' patches are), its
//! `status.loadBalancer` (a status write), and the inventory records
//! (`twinstack_registry::cloud_inventory`).
//!
//! A Service is reconciled again only when something it depends on changed (its spec and
//! metadata, the nodes, its EndpointSlices, the records it owns): a fingerprint of those per
//! Service is kept. Between resyncs only the Services the informer's changes touched
//! (`World::dirty_services`) are fingerprinted, so an idle pass costs a lookup per Service.

use super::{name_of, reference, Ctl, World};
use k8s_openapi::api::core::v1::{LoadBalancerIngress, LoadBalancerStatus, Node, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::sync::Arc;
use twinstack_cloud::inventory::{ForwardingRule, LoadBalancer, Network, Vpc};
use twinstack_cloud::{aws, gcp, Reconciled};
use twinstack_core::ipam::Family;
use twinstack_core::runtime::Provider;
use twinstack_registry::cloud_inventory as keys;
use twinstack_registry::registry::{FieldValidation, WriteOptions};
use twinstack_registry::store_ext::TxnExt;

/// Where the controllers publish a runtime's DNS records: `(runtime, [(fqdn, address)])`,
/// replacing the runtime's previous set. Names are NLB hostnames and
/// `<service>.<namespace>.svc.cluster.local`.
pub type Publish = Arc<dyn Fn(&str, Vec<(String, IpAddr)>) + Send + Sync>;

/// Finalizers the cloud controllers put on Services (a Service carrying one is theirs to
/// clean up even after it stopped being a LoadBalancer).
const FINALIZERS: [&str; 4] = [
    "service.kubernetes.io/load-balancer-cleanup",
    "service.k8s.aws/resources",
    "gke.networking.io/l4-netlb-v2",
    "gke.networking.io/l4-netlb-v3",
];

/// The controllers' memory between passes.
#[derive(Default)]
pub struct State {
    loaded: bool,
    vpc: Option<Vpc>,
    network: Option<Network>,
    aws: BTreeMap<String, LoadBalancer>,
    gcp: BTreeMap<String, ForwardingRule>,
    /// Per Service uid, the fingerprint of the inputs of its last completed reconcile.
    seen: HashMap<String, u64>,
    /// Events already recorded: (uid, reason, message). The legacy recorder aggregates an
    /// identical event into one; recording it once keeps one.
    recorded: HashSet<(String, String, String)>,
    /// The last event name suffix (unix nanoseconds, as client-go names events), so that
    /// events of one pass sort in the order they were recorded.
    last_event: i128,
    /// Fingerprint of the last published DNS records.
    dns: u64,
}

impl State {
    /// The inventory the cloud controllers hold (for the data plane's frontends).
    pub fn records(
        &self,
    ) -> (
        &BTreeMap<String, LoadBalancer>,
        &BTreeMap<String, ForwardingRule>,
    ) {
        (&self.aws, &self.gcp)
    }
}

/// An inventory record: named, owned by a Service, possibly leaked.
trait Record: Clone + PartialEq + serde::Serialize {
    fn name(&self) -> &str;
    fn leaked(&self) -> bool;
    fn set_leaked(&mut self);
}

impl Record for LoadBalancer {
    fn name(&self) -> &str {
        &self.load_balancer_name
    }
    fn leaked(&self) -> bool {
        self.leaked
    }
    fn set_leaked(&mut self) {
        self.leaked = true;
    }
}

impl Record for ForwardingRule {
    fn name(&self) -> &str {
        &self.name
    }
    fn leaked(&self) -> bool {
        self.leaked
    }
    fn set_leaked(&mut self) {
        self.leaked = true;
    }
}

fn fingerprint(parts: &impl Hash) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    parts.hash(&mut h);
    h.finish()
}

fn is_ours(svc: &Service) -> bool {
    let lb = svc.spec.as_ref().and_then(|s| s.type_.as_deref()) == Some("LoadBalancer");
    lb || svc
        .metadata
        .finalizers
        .iter()
        .flatten()
        .any(|f| FINALIZERS.contains(&f.as_str()))
}

fn zone_of(n: &Node) -> String {
    n.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get("topology.kubernetes.io/zone"))
        .cloned()
        .unwrap_or_default()
}

fn node_ready(n: &Node) -> bool {
    n.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// The instance ID from `spec.providerID` (`aws:///eu-central-1a/i-0abc...`).
fn instance_id(n: &Node) -> String {
    n.spec
        .as_ref()
        .and_then(|s| s.provider_id.as_deref())
        .and_then(|p| p.rsplit('/').next())
        .unwrap_or("")
        .to_string()
}

fn aws_instances(nodes: &[Arc<Node>]) -> Vec<aws::Instance> {
    nodes
        .iter()
        .map(|n| {
            let addrs = twinstack_kube::pod::node_internal_ips(n);
            aws::Instance {
                node_name: name_of(&n.metadata.name).to_string(),
                instance_id: instance_id(n),
                zone: zone_of(n),
                private_ipv4: addrs.iter().find_map(|a| match a {
                    IpAddr::V4(a) => Some(*a),
                    _ => None,
                }),
                primary_ipv6: addrs.iter().find_map(|a| match a {
                    IpAddr::V6(a) => Some(*a),
                    _ => None,
                }),
                ready: node_ready(n),
                labels: n.metadata.labels.clone().unwrap_or_default(),
            }
        })
        .collect()
}

/// The zones the runtime's nodes are in, in order.
fn zones(nodes: &[Arc<Node>]) -> Vec<String> {
    let mut z: Vec<String> = nodes.iter().map(|n| zone_of(n)).collect();
    z.sort();
    z.dedup();
    z.retain(|z| !z.is_empty());
    z
}

fn range_of(ctl: &Ctl, family: Family) -> Option<ipnet::IpNet> {
    let net = &ctl.rt.record.network;
    net.families
        .iter()
        .position(|f| *f == family)
        .and_then(|i| net.nodes.get(i).copied())
}

/// The runtime's VPC: Gardener's layout of the IPv4 node range, with IPv6 on dual-stack
/// runtimes (the VPC /56 is the IPv6 node range) and on IPv4 runtimes, which twinstack
/// provisions with `dualStack.enabled` on the InfrastructureConfig (the seed's AWS exception:
/// public IPv6 through a dual-stack NLB).
fn emulated_vpc(ctl: &Ctl, zones: &[String]) -> Vpc {
    let rec = &ctl.rt.record;
    let v4 = match range_of(ctl, Family::IPv4) {
        Some(ipnet::IpNet::V4(n)) => n,
        _ => "10.250.0.0/16".parse().expect("static range"),
    };
    let v6 = match range_of(ctl, Family::IPv6) {
        Some(ipnet::IpNet::V6(n)) => n,
        _ => {
            twinstack_core::runtime::ipv6_layout(Provider::Aws, &rec.region, &rec.name, zones.len())
                .0
        }
    };
    aws::vpc::emulated(&rec.name, &rec.region, v4, zones, Some(v6))
}

fn emulated_network(ctl: &Ctl) -> Network {
    let rec = &ctl.rt.record;
    let v4 = |nets: &[ipnet::IpNet]| {
        nets.iter().find_map(|n| match n {
            ipnet::IpNet::V4(n) => Some(*n),
            _ => None,
        })
    };
    let v6 = |nets: &[ipnet::IpNet]| {
        nets.iter().find_map(|n| match n {
            ipnet::IpNet::V6(n) => Some(*n),
            _ => None,
        })
    };
    let net = &rec.network;
    gcp::network::emulated(
        &rec.name,
        &rec.region,
        v4(&net.nodes).unwrap_or_else(|| "10.250.0.0/16".parse().expect("static range")),
        v4(&net.pods),
        v6(&net.nodes),
        v6(&net.services),
    )
}

/// Services carried out concurrently (one chunk) in one pass.
const CONCURRENCY: usize = 32;

/// The fingerprint of a Service that is not the cloud controllers' concern.
const NOT_OURS: u64 = 0;

/// EndpointSlices by (namespace, Service name).
type SlicesByService<'a> = HashMap<(&'a str, &'a str), Vec<&'a Arc<EndpointSlice>>>;

/// The names of the records (AWS load balancers, GCP forwarding rules) of each Service uid.
type RecordsByOwner = HashMap<String, (Vec<String>, Vec<String>)>;

/// The EndpointSlices of each Service.
fn slices_by_service(slices: &[Arc<EndpointSlice>]) -> SlicesByService<'_> {
    let mut out = SlicesByService::new();
    for s in slices {
        let svc = s
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(twinstack_kube::endpointslices::LABEL_SERVICE_NAME))
            .map_or("", String::as_str);
        out.entry((name_of(&s.metadata.namespace), svc))
            .or_default()
            .push(s);
    }
    out
}

/// The names of the records each Service owns (AWS load balancers, GCP forwarding rules), by
/// the Service's uid.
fn records_by_owner(st: &State) -> RecordsByOwner {
    let mut out = RecordsByOwner::new();
    for r in st.aws.values() {
        out.entry(r.owner.uid.clone())
            .or_default()
            .0
            .push(r.load_balancer_name.clone());
    }
    for r in st.gcp.values() {
        out.entry(r.owner.uid.clone())
            .or_default()
            .1
            .push(r.name.clone());
    }
    out
}

/// One pass: every LoadBalancer Service (and every Service still carrying a cloud finalizer)
/// whose inputs changed is reconciled; records of Services that are gone are deleted.
pub async fn sync(ctl: &Ctl, w: &World) {
    let provider = ctl.rt.record.provider;
    if !matches!(provider, Provider::Aws | Provider::Gcp) {
        return;
    }
    let mut st = ctl.cloud.lock().await;
    if !st.loaded {
        load(ctl, &mut st, provider, w).await;
    }
    let l = &w.lists;
    let nodes_fp = fingerprint(
        &l.nodes
            .iter()
            .map(|n| {
                (
                    name_of(&n.metadata.name).to_string(),
                    node_ready(n),
                    format!("{:?}", n.metadata.labels),
                    format!("{:?}", twinstack_kube::pod::node_internal_ips(n)),
                )
            })
            .collect::<Vec<_>>(),
    );
    istio_events(ctl, &mut st, w).await;
    // Indexes of the slices and records by Service, built when a Service needs them (an idle
    // pass needs none).
    let mut slices: Option<SlicesByService> = None;
    let mut owned: Option<RecordsByOwner> = None;
    let mut live: HashSet<String> = HashSet::new();
    let mut changed = false;
    let mut work: Vec<Prepared> = Vec::new();
    for svc in &l.services {
        let uid = name_of(&svc.metadata.uid).to_string();
        let ns = name_of(&svc.metadata.namespace);
        let name = name_of(&svc.metadata.name);
        // Between resyncs only the Services the changes touched are looked at again (and
        // those whose last reconcile did not complete): an idle pass costs a lookup each.
        let settled = st.seen.contains_key(&uid);
        // Services go only with a change: a quiet pass has nothing to clean up.
        if !w.quiet {
            live.insert(uid.clone());
        }
        if settled && !w.touched(&svc.metadata) {
            continue;
        }
        let (aws_names, gcp_names) = owned
            .get_or_insert_with(|| records_by_owner(&st))
            .get(&uid)
            .cloned()
            .unwrap_or_default();
        let owns = aws_names
            .iter()
            .any(|n| st.aws.get(n).is_some_and(|r| !r.leaked))
            || gcp_names
                .iter()
                .any(|n| st.gcp.get(n).is_some_and(|r| !r.leaked));
        if !is_ours(svc) && !owns {
            // Nothing to do until it changes (records get owners only by reconciles of ours).
            st.seen.insert(uid, NOT_OURS);
            continue;
        }
        let own_slices = slices
            .get_or_insert_with(|| slices_by_service(&l.slices))
            .get(&(ns, name))
            .cloned()
            .unwrap_or_default();
        let mut m = svc.metadata.clone();
        m.resource_version = None;
        let records_fp = fingerprint(&(
            aws_names
                .iter()
                .filter_map(|n| st.aws.get(n))
                .map(|r| serde_json::to_string(r).unwrap_or_default())
                .collect::<Vec<_>>(),
            gcp_names
                .iter()
                .filter_map(|n| st.gcp.get(n))
                .map(|r| serde_json::to_string(r).unwrap_or_default())
                .collect::<Vec<_>>(),
        ));
        let fp = fingerprint(&(
            serde_json::to_string(&m).unwrap_or_default(),
            serde_json::to_string(&svc.spec).unwrap_or_default(),
            nodes_fp,
            own_slices
                .iter()
                .map(|s| name_of(&s.metadata.resource_version).to_string())
                .collect::<Vec<_>>(),
            records_fp,
        ));
        if st.seen.get(&uid) == Some(&fp) {
            continue;
        }
        let Some(full) = ctl.full("", "services", &svc.metadata) else {
            continue;
        };
        let Ok(full) = serde_json::from_value::<Service>(full) else {
            continue;
        };
        let rt = ctl.rt.name().to_string();
        let id = (uid, fp);
        let prepared = match provider {
            Provider::Aws => {
                let slices: Vec<EndpointSlice> = own_slices
                    .iter()
                    .filter_map(|s| {
                        ctl.full_typed("discovery.k8s.io", "endpointslices", &s.metadata)
                    })
                    .collect();
                let existing = aws_names
                    .iter()
                    .filter_map(|n| st.aws.get(n))
                    .cloned()
                    .collect();
                reconcile_aws(ctl, &st, w, &full, &slices, existing).map(|r| {
                    prepare(
                        &mut st,
                        full,
                        id,
                        r,
                        |st| &mut st.aws,
                        |n| keys::aws_load_balancer_key(&rt, n),
                    )
                })
            }
            _ => {
                let existing = gcp_names
                    .iter()
                    .filter_map(|n| st.gcp.get(n))
                    .cloned()
                    .collect();
                reconcile_gcp(ctl, &st, w, &full, existing).map(|r| {
                    prepare(
                        &mut st,
                        full,
                        id,
                        r,
                        |st| &mut st.gcp,
                        |n| keys::gcp_forwarding_rule_key(&rt, n),
                    )
                })
            }
        };
        work.extend(prepared);
    }
    // Carried out concurrently in chunks, so that the store's group commit batches their
    // writes (one after another, each write would wait for its own fsync). Reconciles of
    // different Services are independent: each reads only its own records.
    changed |= !work.is_empty();
    for chunk in work.chunks_mut(CONCURRENCY) {
        let outcomes = futures::future::join_all(chunk.iter_mut().map(|p| execute(ctl, p))).await;
        for (p, o) in chunk.iter_mut().zip(outcomes) {
            if o.records {
                let remember = std::mem::replace(&mut p.remember, Box::new(|_| {}));
                remember(&mut st);
            }
            if o.done {
                st.seen.insert(p.uid.clone(), p.fp);
            } else {
                st.seen.remove(&p.uid);
            }
        }
    }
    if w.quiet {
        if changed {
            publish_dns(ctl, &mut st, w, changed);
        }
        return;
    }
    // Records whose Service is gone without its controllers' cleanup (a namespace deleted at
    // once): the controllers would have deleted them; leaked ones stay.
    let gone_aws: Vec<String> = st
        .aws
        .values()
        .filter(|r| !r.leaked && !live.contains(&r.owner.uid))
        .map(|r| r.load_balancer_name.clone())
        .collect();
    let gone_gcp: Vec<String> = st
        .gcp
        .values()
        .filter(|r| !r.leaked && !live.contains(&r.owner.uid))
        .map(|r| r.name.clone())
        .collect();
    if !gone_aws.is_empty() || !gone_gcp.is_empty() {
        let rt = ctl.rt.name().to_string();
        let (a, g) = (gone_aws.clone(), gone_gcp.clone());
        let ok = ctl
            .reg
            .store
            .txn(move |txn| -> Result<(), std::convert::Infallible> {
                let txn: &mut dyn TxnExt = txn;
                for n in &a {
                    txn.delete_raw(&keys::aws_load_balancer_key(&rt, n));
                }
                for n in &g {
                    txn.delete_raw(&keys::gcp_forwarding_rule_key(&rt, n));
                }
                Ok(())
            })
            .await
            .is_ok();
        if ok {
            for n in gone_aws {
                st.aws.remove(&n);
            }
            for n in gone_gcp {
                st.gcp.remove(&n);
            }
            changed = true;
        }
    }
    st.seen.retain(|uid, _| live.contains(uid));
    // Cluster IPs change only with Services, load balancer addresses only with a reconcile.
    if changed || w.dirty_services.as_ref().is_none_or(|d| !d.is_empty()) {
        publish_dns(ctl, &mut st, w, changed);
    }
}

/// A Warning event on each Service that serves IPv6 to pods with an Istio sidecar (the pods of
/// a namespace labelled `istio-injection=enabled` get one from the injector).
async fn istio_events(ctl: &Ctl, st: &mut State, w: &World) {
    let injecting: HashSet<&str> = w
        .lists
        .namespaces
        .iter()
        .filter(|n| {
            n.metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("istio-injection"))
                .is_some_and(|v| v == "enabled")
        })
        .map(|n| name_of(&n.metadata.name))
        .collect();
    if injecting.is_empty() {
        return;
    }
    for svc in &w.lists.services {
        if !injecting.contains(name_of(&svc.metadata.namespace)) || !w.touched(&svc.metadata) {
            continue;
        }
        let has_selector = svc
            .spec
            .as_ref()
            .and_then(|s| s.selector.as_ref())
            .is_some_and(|s| !s.is_empty());
        if let Some(msg) = twinstack_cloud::istio::ipv6_outside_mesh_warning(svc, has_selector) {
            let e = twinstack_cloud::Event::warning(
                "twinstack",
                twinstack_cloud::istio::IPV6_OUTSIDE_MESH_REASON,
                msg,
            );
            record(ctl, st, svc, &e).await;
        }
    }
}

/// Records `e` about `svc` once (the legacy recorder aggregates identical events into one),
/// named as client-go names events (`<object>.<unix nanoseconds in hex>`), so that events sort
/// in the order they were recorded.
async fn record(ctl: &Ctl, st: &mut State, svc: &Service, e: &twinstack_cloud::Event) {
    if let Some(ev) = event_once(st, svc, e) {
        ctl.event(ev).await;
    }
}

/// The event to record for `e` about `svc`, unless it was recorded already (it is then taken
/// as recorded).
fn event_once(
    st: &mut State,
    svc: &Service,
    e: &twinstack_cloud::Event,
) -> Option<k8s_openapi::api::core::v1::Event> {
    let id = (
        name_of(&svc.metadata.uid).to_string(),
        e.reason.clone(),
        e.message.clone(),
    );
    if !st.recorded.insert(id) {
        return None;
    }
    let now = jiff::Timestamp::now();
    let suffix = now.as_nanosecond().max(st.last_event + 1);
    st.last_event = suffix;
    Some(twinstack_kube::events::event_for(
        &reference(&svc.metadata, "v1", "Service"),
        &e.reason,
        &e.message,
        e.type_.as_str(),
        &twinstack_kube::events::Reporter::controller(e.component),
        now,
        suffix as u64,
    ))
}

/// Reads the records and writes the runtime's VPC or network (once per start).
async fn load(ctl: &Ctl, st: &mut State, provider: Provider, w: &World) {
    // The VPC's subnets follow the nodes' zones. The controllers start with the runtime and
    // its nodes are created a moment later: a VPC made before them would have no subnet (and
    // every load balancer would fail with "Evaluated 0 subnets"). Nothing is loaded until
    // they exist; Services wait for the next pass.
    if w.lists.nodes.is_empty() {
        return;
    }
    let rt = ctl.rt.name().to_string();
    let inv = keys::load(&ctl.reg.store, &rt);
    st.aws = inv
        .load_balancers
        .into_iter()
        .map(|r| (r.load_balancer_name.clone(), r))
        .collect();
    st.gcp = inv
        .forwarding_rules
        .into_iter()
        .map(|r| (r.name.clone(), r))
        .collect();
    // Events recorded before a restart stay recorded (the recorder would aggregate them).
    let events = ctl.kind("", "events");
    let prefix = twinstack_registry::registry::collection_prefix(&rt, events.as_ref(), None);
    #[derive(serde::Deserialize)]
    struct Recorded {
        #[serde(rename = "involvedObject")]
        involved: Involved,
        #[serde(default)]
        reason: String,
        #[serde(default)]
        message: String,
    }
    #[derive(serde::Deserialize)]
    struct Involved {
        #[serde(default)]
        uid: String,
    }
    if let Ok((kvs, _)) = ctl.reg.store.list(&prefix) {
        for kv in kvs {
            if let Ok(e) = serde_json::from_slice::<Recorded>(&kv.value) {
                st.recorded.insert((e.involved.uid, e.reason, e.message));
            }
        }
    }
    let zones = zones(&w.lists.nodes);
    let (key, value) = match provider {
        Provider::Aws => {
            let vpc = emulated_vpc(ctl, &zones);
            let v = serde_json::to_vec(&vpc).expect("VPC serializes");
            st.vpc = Some(vpc);
            (keys::aws_vpc_key(&rt), v)
        }
        _ => {
            let net = emulated_network(ctl);
            let v = serde_json::to_vec(&net).expect("network serializes");
            st.network = Some(net);
            (keys::gcp_network_key(&rt), v)
        }
    };
    if ctl.reg.store.put(&key, value).await.is_ok() {
        st.loaded = true;
    }
}

fn endpoints_of(slices: &[EndpointSlice]) -> Vec<aws::Endpoint> {
    let mut out = Vec::new();
    for s in slices {
        let ports: Vec<(String, i32)> = s
            .ports
            .iter()
            .flatten()
            .map(|p| (p.name.clone().unwrap_or_default(), p.port.unwrap_or(0)))
            .collect();
        for e in &s.endpoints {
            let ready = e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true);
            for a in &e.addresses {
                if let Ok(ip) = a.parse() {
                    out.push(aws::Endpoint {
                        ip,
                        ready,
                        zone: e.zone.clone(),
                        node_name: e.node_name.clone(),
                        ports: ports.clone(),
                    });
                }
            }
        }
    }
    out
}

fn now() -> String {
    jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .unwrap_or_else(|_| jiff::Timestamp::now())
        .to_string()
}

/// A reconcile's result, prepared with the controllers' state: what to write, and what to
/// remember once it is written.
struct Prepared {
    uid: String,
    fp: u64,
    svc: Service,
    events: Vec<k8s_openapi::api::core::v1::Event>,
    /// Inventory records to put and keys to delete (one transaction).
    puts: Vec<(String, Vec<u8>)>,
    dels: Vec<String>,
    /// Updates the controllers' copy of the records once the transaction committed.
    remember: Box<dyn FnOnce(&mut State) + Send>,
    /// The Service's metadata after the controllers' patches (finalizers, annotations).
    meta: ObjectMeta,
    ingress: Option<Vec<LoadBalancerIngress>>,
}

/// Reconciles `svc` as the AWS controllers would; `existing` are the load balancers it owns.
fn reconcile_aws(
    ctl: &Ctl,
    st: &State,
    w: &World,
    svc: &Service,
    slices: &[EndpointSlice],
    existing: Vec<LoadBalancer>,
) -> Option<(Reconciled<LoadBalancer>, Vec<LoadBalancer>)> {
    let rec = &ctl.rt.record;
    let instances = aws_instances(&w.lists.nodes);
    let account = aws::account_id(&rec.name);
    let now = now();
    let vpc = st.vpc.as_ref()?;
    let cluster = aws::Cluster {
        name: &rec.name,
        region: &rec.region,
        account_id: &account,
        vpc,
        instances: &instances,
        load_balancer_controller: true,
        now: &now,
    };
    Some((
        aws::reconcile(svc, &cluster, &existing, &endpoints_of(slices)),
        existing,
    ))
}

/// Reconciles `svc` as the Google Cloud controllers would; `existing` are the forwarding rules
/// it owns.
fn reconcile_gcp(
    ctl: &Ctl,
    st: &State,
    w: &World,
    svc: &Service,
    existing: Vec<ForwardingRule>,
) -> Option<(Reconciled<ForwardingRule>, Vec<ForwardingRule>)> {
    let rec = &ctl.rt.record;
    let kube_system_uid = w
        .lists
        .namespaces
        .iter()
        .find(|n| n.metadata.name.as_deref() == Some("kube-system"))
        .and_then(|n| n.metadata.uid.clone())
        .unwrap_or_default();
    let instances: Vec<String> = w
        .lists
        .nodes
        .iter()
        .map(|n| name_of(&n.metadata.name).to_string())
        .collect();
    let now = now();
    let network = st.network.as_ref()?;
    let cluster = gcp::Cluster {
        name: &rec.name,
        project: &rec.name,
        region: &rec.region,
        network,
        kube_system_uid: &kube_system_uid,
        ingress_gce: rec.network.families.contains(&Family::IPv6),
        instances: &instances,
        now: &now,
    };
    Some((gcp::reconcile(svc, &cluster, &existing), existing))
}

/// Turns a reconcile into writes: its events (named now, so they sort in the order recorded),
/// the record puts and deletes, the Service's new metadata and status.
fn prepare<R: Record + Send + Sync + 'static>(
    st: &mut State,
    svc: Service,
    (uid, fp): (String, u64),
    (out, existing): (Reconciled<R>, Vec<R>),
    records: fn(&mut State) -> &mut BTreeMap<String, R>,
    key: impl Fn(&str) -> String,
) -> Prepared {
    let events = out
        .events
        .iter()
        .filter_map(|e| event_once(st, &svc, e))
        .collect();
    let desired: BTreeMap<String, R> = out
        .resources
        .iter()
        .map(|r| (r.name().to_string(), r.clone()))
        .collect();
    let mut puts: Vec<(String, Vec<u8>)> = Vec::new();
    let mut dels: Vec<String> = Vec::new();
    let mut leaked: Vec<String> = Vec::new();
    let mut gone: Vec<String> = Vec::new();
    for r in &existing {
        let n = r.name();
        if desired.contains_key(n) {
            continue;
        }
        if out.leaked.iter().any(|l| l == n) || r.leaked() {
            if !r.leaked() {
                let mut r = r.clone();
                r.set_leaked();
                puts.push((key(n), serde_json::to_vec(&r).expect("record serializes")));
            }
            leaked.push(n.to_string());
        } else {
            dels.push(key(n));
            gone.push(n.to_string());
        }
    }
    for (n, r) in &desired {
        if existing.iter().any(|e| e.name() == n && e == r) {
            continue;
        }
        puts.push((key(n), serde_json::to_vec(r).expect("record serializes")));
    }
    let remember = Box::new(move |st: &mut State| {
        let map = records(st);
        for n in leaked {
            if let Some(cur) = map.get_mut(&n) {
                cur.set_leaked();
            }
        }
        for n in gone {
            map.remove(&n);
        }
        map.extend(desired);
    });

    // Metadata: finalizers and annotations, as the controllers' patches of the Service.
    let mut meta = svc.metadata.clone();
    let mut fins: Vec<String> = meta.finalizers.clone().unwrap_or_default();
    for f in &out.add_finalizers {
        if !fins.contains(f) {
            fins.push(f.clone());
        }
    }
    fins.retain(|f| !out.remove_finalizers.contains(f));
    meta.finalizers = Some(fins).filter(|f| !f.is_empty());
    if !out.annotations.is_empty() {
        let mut a = meta.annotations.clone().unwrap_or_default();
        for (k, v) in &out.annotations {
            match v {
                Some(v) => a.insert(k.clone(), v.clone()),
                None => a.remove(k),
            };
        }
        meta.annotations = Some(a).filter(|a| !a.is_empty());
    }
    Prepared {
        uid,
        fp,
        svc,
        events,
        puts,
        dels,
        remember,
        meta,
        ingress: out.ingress,
    }
}

/// What carrying out a [`Prepared`] achieved.
struct Outcome {
    /// The records were written (the controllers' copy may follow).
    records: bool,
    /// Everything was written (otherwise the next pass reconciles again).
    done: bool,
}

/// Carries out a reconcile: events, then the records, then the Service's metadata, then its
/// status. Stops at a failed or conflicting write.
async fn execute(ctl: &Ctl, p: &mut Prepared) -> Outcome {
    for ev in std::mem::take(&mut p.events) {
        ctl.event(ev).await;
    }
    // The records first: a Service whose last finalizer goes is deleted with the update.
    if !p.puts.is_empty() || !p.dels.is_empty() {
        let (puts, dels) = (std::mem::take(&mut p.puts), std::mem::take(&mut p.dels));
        let ok = ctl
            .reg
            .store
            .txn(move |txn| -> Result<(), std::convert::Infallible> {
                let txn: &mut dyn TxnExt = txn;
                for (k, v) in puts {
                    txn.put_raw(&k, v);
                }
                for k in dels {
                    txn.delete_raw(&k);
                }
                Ok(())
            })
            .await
            .is_ok();
        if !ok {
            return Outcome {
                records: false,
                done: false,
            };
        }
    }
    let done = |done| Outcome {
        records: true,
        done,
    };
    let svc = &p.svc;
    let mut current = svc.clone();
    if p.meta != svc.metadata {
        let mut next = svc.clone();
        next.metadata = p.meta.clone();
        let Ok(body) = serde_json::to_value(&next) else {
            return done(false);
        };
        let opts = WriteOptions {
            dry_run: false,
            validation: FieldValidation::Ignore,
            manager: "cloud-controller-manager".into(),
            force: false,
        };
        let kind = ctl.kind("", "services");
        match ctl
            .reg
            .update(
                ctl.rt.clone(),
                kind,
                svc.metadata.namespace.clone(),
                name_of(&svc.metadata.name).to_string(),
                body,
                opts,
            )
            .await
        {
            Ok(r) => match serde_json::from_value::<Service>(r.object) {
                Ok(s) => current = s,
                Err(_) => return done(false),
            },
            Err(s) if s.code == 404 => return done(true),
            Err(_) => return done(false),
        }
        if current.metadata.deletion_timestamp.is_some()
            && current
                .metadata
                .finalizers
                .as_ref()
                .is_none_or(|f| f.is_empty())
        {
            // Deleted by this update (the last finalizer went).
            return done(true);
        }
    }

    // Status.
    if let Some(ingress) = p.ingress.take() {
        let want = LoadBalancerStatus {
            ingress: Some(ingress).filter(|i: &Vec<LoadBalancerIngress>| !i.is_empty()),
        };
        let have = current
            .status
            .as_ref()
            .and_then(|s| s.load_balancer.clone())
            .unwrap_or_default();
        if have != want {
            let mut next = current;
            next.status
                .get_or_insert_with(Default::default)
                .load_balancer = Some(want);
            let Ok(body) = serde_json::to_value(&next) else {
                return done(false);
            };
            return done(ctl.write("", "services", body).await);
        }
    }
    done(true)
}

/// The runtime's DNS records: every load balancer's hostname (A for its IPv4 addresses, AAAA
/// for its IPv6 ones) and the Services' names as kube-dns answers them
/// (`twinstack_kube::dns`: cluster IPs, or a headless Service's ready endpoints).
fn publish_dns(ctl: &Ctl, st: &mut State, w: &World, changed: bool) {
    let Some(publish) = &ctl.dns else {
        return;
    };
    let mut records: Vec<(String, IpAddr)> = Vec::new();
    for lb in st.aws.values() {
        for z in &lb.availability_zones {
            let v4 = if lb.scheme == "internal" {
                Some(z.private_ipv4_address)
            } else {
                z.ipv4_address
            };
            if let Some(a) = v4 {
                records.push((lb.dns_name.clone(), IpAddr::V4(a)));
            }
            if lb.ip_address_type != "ipv4" {
                if let Some(a) = z.ipv6_address {
                    records.push((lb.dns_name.clone(), IpAddr::V6(a)));
                }
            }
        }
    }
    // The informer keeps slices' metadata only: a headless Service's are read in full.
    let headless: HashSet<(&str, &str)> = w
        .lists
        .services
        .iter()
        .filter(|s| s.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()) == Some("None"))
        .map(|s| (name_of(&s.metadata.namespace), name_of(&s.metadata.name)))
        .collect();
    let slices: Vec<EndpointSlice> = if headless.is_empty() {
        Vec::new()
    } else {
        slices_by_service(&w.lists.slices)
            .into_iter()
            .filter(|(k, _)| headless.contains(k))
            .flat_map(|(_, v)| v)
            .filter_map(|s| ctl.full_typed("discovery.k8s.io", "endpointslices", &s.metadata))
            .collect()
    };
    records.extend(twinstack_kube::dns::service_records(
        w.lists.services.iter().map(|s| &**s),
        &slices.iter().collect::<Vec<_>>(),
    ));
    records.sort();
    records.dedup();
    let fp = fingerprint(&records);
    if fp == st.dns && !changed && st.dns != 0 {
        return;
    }
    st.dns = fp;
    publish(ctl.rt.name(), records);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_load_balancers_and_services_with_cloud_finalizers_are_ours() {
        let mut s = Service::default();
        assert!(!is_ours(&s));
        s.spec = Some(k8s_openapi::api::core::v1::ServiceSpec {
            type_: Some("LoadBalancer".into()),
            ..Default::default()
        });
        assert!(is_ours(&s));
        s.spec.as_mut().unwrap().type_ = Some("ClusterIP".into());
        s.metadata.finalizers = Some(vec!["service.k8s.aws/resources".into()]);
        assert!(is_ours(&s));
    }

    #[test]
    fn instance_ids_come_from_the_provider_id() {
        let n = Node {
            spec: Some(k8s_openapi::api::core::v1::NodeSpec {
                provider_id: Some("aws:///eu-central-1a/i-0123456789abcdef0".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(instance_id(&n), "i-0123456789abcdef0");
    }
}
