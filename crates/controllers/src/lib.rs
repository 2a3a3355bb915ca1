//! The controllers every runtime runs, as kube-controller-manager, kube-scheduler and kubelet
//! would: level-triggered passes over an [`informer`] kept current from `store.watch` on the
//! runtime's keys (so a restart or a crash loses nothing: the informer starts from a list),
//! idempotent (writes are conditional on the resourceVersion read, events have deterministic
//! names). The EndpointSlice controller only reconciles the Services that the changes since the
//! last pass touch, with a full resync every [`RESYNC`].
//!
//! - [`kubelet`]: scheduler and emulated kubelet (binding, pod addresses allocated in the
//!   transaction that writes the Running status, events), graceful deletion.
//! - [`workloads`]: ReplicaSet (and ReplicationController) and Deployment controllers;
//!   [`sets`]: DaemonSet and
//!   StatefulSet controllers; [`jobs`]: the Job controller; [`autoscaling`]: the
//!   HorizontalPodAutoscaler controller; [`cronjobs`]: the CronJob controller.
//! - [`volumes`]: dynamic provisioning and binding of PersistentVolumeClaims.
//! - [`disruption`]: PodDisruptionBudget status.
//! - [`endpoints`]: EndpointSlice and legacy Endpoints controllers.
//! - [`apiserver`]: kube-apiserver's `default/kubernetes` Service ports, Endpoints and slice.
//! - [`serviceaccounts`]: every namespace's `default` ServiceAccount and `kube-root-ca.crt`.
//! - [`namespaces`]: the namespace controller (a `Terminating` namespace emptied, then gone).
//! - [`gc`]: garbage collection of dependents whose owners are gone.
//! - [`cloudlb`]: the cloud load balancer controllers (AWS, Google Cloud) and the runtime's DNS
//!   records.
//! - [`kyma`]: the api-gateway's APIRule controller and the Kyma gateway's DNSEntry.

pub mod apiserver;
pub mod autoscaling;
pub mod cloudlb;
pub mod cronjobs;
pub mod disruption;
pub mod endpoints;
pub mod frontends;
pub mod gc;
pub mod informer;
pub mod jobs;
pub mod kubelet;
pub mod kyma;
pub mod namespaces;
pub mod serviceaccounts;
pub mod sets;
pub mod volumes;
pub mod workloads;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use twinstack_core::status::Status;
use twinstack_kube::workloads::PodSummary;
use twinstack_registry::kinds::Kind;
use twinstack_registry::registry::{Preconditions, Registry};
use twinstack_registry::runtimes::Runtime;
use twinstack_registry::store_ext::TxnExt;

/// How often a pass runs without any change (deadlines such as graceful deletion).
const TICK: Duration = Duration::from_millis(1000);
/// How long a pass waits after a change for more changes to arrive (batching).
const SETTLE: Duration = Duration::from_millis(5);
/// How often every Service is reconciled even without a change (client-go's resync period).
pub const RESYNC: Duration = Duration::from_secs(30);

/// A runtime's controllers' view of the server.
pub struct Ctl {
    pub reg: Arc<Registry>,
    pub rt: Arc<Runtime>,
    /// When the emulated kubelet first saw each terminating pod.
    pub terminations: kubelet::Terminations,
    /// The cloud load balancer controllers' memory between passes.
    pub cloud: tokio::sync::Mutex<cloudlb::State>,
    /// Where the runtime's DNS records go.
    pub dns: Option<cloudlb::Publish>,
    /// The data plane that serves the runtime's frontends.
    pub dataplane: Option<twinstack_dataplane::frontends::DataPlane>,
    /// What runs in pods (client pods' commands, their logs); `None`: containers only run.
    pub pods: Option<twinstack_dataplane::pods::Pods>,
    /// The client pods whose command the kubelet has started (by uid).
    pub commands: kubelet::Commands,
}

/// Where the controllers' results leave the store: DNS records and the data plane's
/// frontends (none for `twinstack check`).
#[derive(Clone, Default)]
pub struct Outputs {
    /// Receives each runtime's DNS records.
    pub dns: Option<cloudlb::Publish>,
    /// Serves each runtime's frontends.
    pub dataplane: Option<twinstack_dataplane::frontends::DataPlane>,
    /// What runs in pods: client pods run their commands against `pods.network` and their
    /// output goes to `pods.logs`.
    pub pods: Option<twinstack_dataplane::pods::Pods>,
}

/// The runtime's objects at one pass, from the informer: typed, pods, Services,
/// EndpointSlices and Endpoints as projections (see [`informer`]); [`Ctl::full`] reads the
/// whole object.
pub struct World {
    pub lists: informer::Lists,
    /// The Services (namespace, name) the EndpointSlice controller reconciles in this pass;
    /// `None` for all of them.
    pub dirty_services: Option<std::collections::BTreeSet<(String, String)>>,
    /// Nothing in the watched collections changed since the last pass, and this pass is not a
    /// resync: controllers that only react to changes (the garbage collector) skip it.
    pub quiet: bool,
    /// What the workload controllers read of each pod, and which pods each controller owns
    /// (indexes into `pod_summaries` by the owner's uid).
    pub pod_summaries: Vec<PodSummary>,
    owners: BTreeMap<String, Vec<usize>>,
}

impl World {
    fn new(lists: informer::Lists) -> World {
        let pod_summaries: Vec<PodSummary> =
            lists.pods.iter().map(|p| PodSummary::from_pod(p)).collect();
        let mut owners: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, p) in pod_summaries.iter().enumerate() {
            if let Some(uid) = &p.controller_uid {
                owners.entry(uid.clone()).or_default().push(i);
            }
        }
        World {
            lists,
            dirty_services: None,
            quiet: false,
            pod_summaries,
            owners,
        }
    }

    /// Whether the Service `m` names is among those this pass looks at again (all on a resync).
    pub fn touched(&self, m: &ObjectMeta) -> bool {
        self.dirty_services.as_ref().is_none_or(|d| {
            !d.is_empty()
                && d.contains(&(
                    name_of(&m.namespace).to_string(),
                    name_of(&m.name).to_string(),
                ))
        })
    }

    /// The pods whose controller owner has `uid`.
    pub fn owned_pods(&self, uid: &str) -> Vec<&PodSummary> {
        self.owners
            .get(uid)
            .into_iter()
            .flatten()
            .map(|i| &self.pod_summaries[*i])
            .collect()
    }

    /// The Services whose EndpointSlices or Endpoints the changes may alter: a changed Service,
    /// slice or Endpoints object names its Service; a changed pod touches every Service of its
    /// namespace whose selector matches its labels before or after; a changed namespace touches
    /// its Services; a changed node touches all.
    fn services_touched_by(
        &self,
        changes: &[informer::Change],
    ) -> Option<std::collections::BTreeSet<(String, String)>> {
        let mut out = std::collections::BTreeSet::new();
        // Pods of one workload share their labels: match each distinct set once.
        let mut pod_labels: std::collections::BTreeSet<(&str, &BTreeMap<String, String>)> =
            Default::default();
        let no_labels = BTreeMap::new();
        for c in changes {
            for m in c.old.iter().chain(c.new.iter()) {
                let ns = name_of(&m.namespace);
                let labels = m.labels.as_ref().unwrap_or(&no_labels);
                match c.plural {
                    "nodes" => return None,
                    // A namespace's labels (Istio injection) concern its Services.
                    "namespaces" => {
                        let ns = name_of(&m.name);
                        for s in &self.lists.services {
                            if name_of(&s.metadata.namespace) == ns {
                                out.insert((ns.to_string(), name_of(&s.metadata.name).to_string()));
                            }
                        }
                    }
                    "pods" => {
                        pod_labels.insert((ns, labels));
                    }
                    "services" | "endpoints" => {
                        out.insert((ns.to_string(), name_of(&m.name).to_string()));
                    }
                    "endpointslices" => {
                        let svc = labels
                            .get(twinstack_kube::endpointslices::LABEL_SERVICE_NAME)
                            .cloned()
                            .unwrap_or_default();
                        out.insert((ns.to_string(), svc));
                    }
                    _ => {}
                }
            }
        }
        if !pod_labels.is_empty() {
            for s in &self.lists.services {
                let Some(sel) = s.spec.as_ref().and_then(|s| s.selector.as_ref()) else {
                    continue;
                };
                if sel.is_empty() {
                    continue;
                }
                let ns = name_of(&s.metadata.namespace);
                let hit = pod_labels
                    .iter()
                    .any(|(pns, l)| *pns == ns && sel.iter().all(|(k, v)| l.get(k) == Some(v)));
                if hit {
                    out.insert((ns.to_string(), name_of(&s.metadata.name).to_string()));
                }
            }
        }
        Some(out)
    }
}

/// A name or namespace field ("" when absent).
pub fn name_of(f: &Option<String>) -> &str {
    f.as_deref().unwrap_or("")
}

pub fn meta<'a>(v: &'a Value, field: &str) -> &'a str {
    v.get("metadata")
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// The uid of the controller owner (`metav1.GetControllerOf`).
pub fn controller_uid(m: &ObjectMeta) -> Option<&str> {
    m.owner_references
        .iter()
        .flatten()
        .find(|r| r.controller == Some(true))
        .map(|r| r.uid.as_str())
}

/// The reference an event about the object with metadata `m` carries (`involvedObject`).
pub fn reference(
    m: &ObjectMeta,
    api_version: &str,
    kind: &str,
) -> k8s_openapi::api::core::v1::ObjectReference {
    k8s_openapi::api::core::v1::ObjectReference {
        api_version: Some(api_version.into()),
        kind: Some(kind.into()),
        name: Some(name_of(&m.name).into()),
        namespace: Some(name_of(&m.namespace).into()),
        uid: Some(name_of(&m.uid).into()),
        resource_version: Some(name_of(&m.resource_version).into()),
        field_path: None,
    }
}

impl Ctl {
    pub fn kind(&self, group: &str, plural: &str) -> Arc<dyn Kind> {
        self.reg
            .kind(group, plural)
            .unwrap_or_else(|| panic!("kind {plural} is registered"))
    }

    fn key(&self, kind: &dyn Kind, m: &ObjectMeta) -> String {
        let ns = m.namespace.as_deref().filter(|n| !n.is_empty());
        twinstack_registry::registry::object_key(self.rt.name(), kind, ns, name_of(&m.name))
    }

    /// The whole stored object of which the object with metadata `m` (from the [`World`]) is a
    /// projection, read straight into a typed object (no intermediate `Value`), if it still
    /// exists. Only for kinds without read-path defaulting.
    pub fn full_typed<T: serde::de::DeserializeOwned>(
        &self,
        group: &str,
        plural: &str,
        m: &ObjectMeta,
    ) -> Option<T> {
        let kind = self.kind(group, plural);
        let kv = self.reg.store.get(&self.key(kind.as_ref(), m)).ok()??;
        serde_json::from_slice(&kv.value).ok()
    }

    /// The whole stored object of which the object with metadata `m` (from the [`World`]) is a
    /// projection, if it still exists.
    pub fn full(&self, group: &str, plural: &str, m: &ObjectMeta) -> Option<Value> {
        let kind = self.kind(group, plural);
        let ns = m.namespace.as_deref().filter(|n| !n.is_empty());
        self.reg
            .get(&self.rt, kind.as_ref(), ns, name_of(&m.name))
            .ok()
    }

    /// Creates an object through the registry (defaults, validation, generated names).
    pub async fn create(
        &self,
        group: &str,
        plural: &str,
        ns: Option<&str>,
        obj: Value,
    ) -> Result<Value, Status> {
        let kind = self.kind(group, plural);
        self.reg
            .create_system(self.rt.clone(), kind, ns.map(String::from), obj)
            .await
    }

    /// Deletes an object through the registry (graceful for pods), only if it still has its
    /// uid.
    pub async fn delete(&self, group: &str, plural: &str, m: &ObjectMeta) -> Result<(), Status> {
        let (ns, name, uid) = (name_of(&m.namespace), name_of(&m.name), name_of(&m.uid));
        self.delete_named(group, plural, ns, name, uid).await
    }

    /// [`Ctl::delete`] of a pod the workload controllers chose.
    pub async fn delete_pod(&self, p: &PodSummary) -> Result<(), Status> {
        self.delete_named("", "pods", &p.namespace, &p.name, &p.uid)
            .await
    }

    /// Deletes `ns/name` through the registry if it still has `uid`; gone or replaced already
    /// counts as done.
    async fn delete_named(
        &self,
        group: &str,
        plural: &str,
        ns: &str,
        name: &str,
        uid: &str,
    ) -> Result<(), Status> {
        let kind = self.kind(group, plural);
        let ns = Some(ns).filter(|n| !n.is_empty()).map(String::from);
        let pre = Preconditions {
            uid: Some(uid.to_string()),
            resource_version: None,
            grace_period_seconds: None,
            propagation_policy: Some("Background".into()),
        };
        match self
            .reg
            .delete(self.rt.clone(), kind, ns, name.to_string(), pre, false)
            .await
        {
            Ok(_) => Ok(()),
            Err(s) if s.code == 404 || s.code == 409 => Ok(()),
            Err(s) => Err(s),
        }
    }

    /// Writes `obj` in place of the stored object if that still has `obj`'s resourceVersion
    /// (a controller's status or spec write). Returns false on a conflict (the next pass
    /// recomputes from the newer object).
    pub async fn write(&self, group: &str, plural: &str, obj: Value) -> bool {
        let kind = self.kind(group, plural);
        self.reg
            .write_if_unchanged(
                &self.rt,
                kind.as_ref(),
                obj,
                twinstack_registry::conditional::Scope::Object,
            )
            .await
            .is_ok()
    }

    /// [`Ctl::write`] for a typed object, without building a `Value` of it or of the stored
    /// object (an EndpointSlice of 100 endpoints is ~350 KB as a `Value`): written if the stored
    /// object still has `obj`'s uid and resourceVersion.
    pub async fn write_typed<T>(&self, group: &str, plural: &str, obj: T) -> bool
    where
        T: k8s_openapi::Metadata<Ty = k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta>
            + serde::Serialize
            + Send
            + 'static,
    {
        let kind = self.kind(group, plural);
        self.reg
            .write_typed_if_unchanged(&self.rt, kind.as_ref(), obj)
            .await
            .is_ok()
    }

    /// Records a `Normal` event a controller (`component`) reports about `obj`. Its name comes
    /// from the object's uid, the reason and the message, so reporting it again keeps one.
    pub async fn controller_event(
        &self,
        obj: &ObjectMeta,
        api_version: &str,
        kind: &str,
        component: &str,
        reason: &str,
        msg: &str,
    ) {
        self.controller_event_of_type(obj, api_version, kind, component, "Normal", reason, msg)
            .await;
    }

    /// [`Ctl::controller_event`] of a given type (`Normal` or `Warning`).
    #[allow(clippy::too_many_arguments)]
    pub async fn controller_event_of_type(
        &self,
        obj: &ObjectMeta,
        api_version: &str,
        kind: &str,
        component: &str,
        type_: &str,
        reason: &str,
        msg: &str,
    ) {
        self.event(twinstack_kube::events::event_for(
            &reference(obj, api_version, kind),
            reason,
            msg,
            type_,
            &twinstack_kube::events::Reporter::controller(component),
            jiff::Timestamp::now(),
            twinstack_core::hash::fnv1a64(&format!("{}/{reason}/{msg}", name_of(&obj.uid))),
        ))
        .await;
    }

    /// Records an event; its name is deterministic, so recording it twice keeps one.
    pub async fn event(&self, ev: k8s_openapi::api::core::v1::Event) {
        let ns = ev.metadata.namespace.clone();
        let Ok(body) = serde_json::to_value(&ev) else {
            return;
        };
        let _ = self.create("", "events", ns.as_deref(), body).await;
    }
}

/// The stored object changed (or went) since it was read.
pub use twinstack_registry::conditional::Conflict;

/// The conditional write of [`Ctl::write`] inside a transaction.
pub fn write_in_txn(txn: &mut dyn TxnExt, key: &str, obj: Value) -> Result<(), Conflict> {
    twinstack_registry::conditional::write_if_unchanged_in_txn(
        txn,
        key,
        obj,
        twinstack_registry::conditional::Scope::Object,
    )
}

/// One pass of every controller.
async fn pass(ctl: &Ctl, w: &World) -> Option<jiff::Timestamp> {
    let next = kubelet::sync(ctl, w).await;
    workloads::sync(ctl, w).await;
    sets::sync(ctl, w).await;
    jobs::sync(ctl, w).await;
    autoscaling::sync(ctl, w).await;
    cronjobs::sync(ctl, w).await;
    volumes::sync(ctl, w).await;
    disruption::sync(ctl, w).await;
    endpoints::sync(ctl, w).await;
    apiserver::sync(ctl, w).await;
    serviceaccounts::sync(ctl, w).await;
    namespaces::sync(ctl, w).await;
    gc::sync(ctl, w).await;
    cloudlb::sync(ctl, w).await;
    kyma::sync(ctl, w).await;
    if !w.quiet {
        frontends::publish(ctl, w).await;
    }
    next
}

/// What a caller that must know when the controllers have nothing left to do (`twinstack
/// check`) sees of them: it asks for a pass that reads the store as of a revision and learns
/// when that pass has finished. The controllers are level-triggered and idempotent, so a pass
/// that read revision R and left the store at R found nothing to do: that is the fixpoint
/// (see [`Progress::pass_at`]). Meant for a registry with one runtime.
#[derive(Clone, Default)]
pub struct Progress {
    inner: Arc<ProgressInner>,
}

#[derive(Default)]
struct ProgressInner {
    /// The revision the next pass must read at least.
    wanted: tokio::sync::watch::Sender<u64>,
    /// The last pass that finished.
    done: tokio::sync::watch::Sender<PassDone>,
}

/// A finished pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassDone {
    /// Passes finished so far.
    pub count: u64,
    /// The store revision the pass's snapshot showed every change through.
    pub read_through: u64,
    /// The earliest deadline the pass left (a graceful deletion), when there is one.
    pub deadline: Option<jiff::Timestamp>,
}

impl Progress {
    /// Asks for a pass over the store as of `revision` (at least) and waits until one has
    /// finished; returns it. The caller bounds the wait.
    pub async fn pass_at(&self, revision: u64) -> PassDone {
        let mut done = self.inner.done.subscribe();
        self.inner.wanted.send_modify(|w| *w = (*w).max(revision));
        let pass = match done.wait_for(|d| d.read_through >= revision).await {
            Ok(d) => *d,
            Err(_) => PassDone::default(),
        };
        pass
    }

    fn finished(&self, read_through: u64, deadline: Option<jiff::Timestamp>) {
        self.inner.done.send_modify(|d| {
            d.count += 1;
            d.read_through = read_through;
            d.deadline = deadline;
        });
    }
}

/// Waits until a pass is asked for (forever without a [`Progress`]).
async fn pass_requested(wanted: &mut Option<tokio::sync::watch::Receiver<u64>>) {
    if let Some(w) = wanted {
        if w.changed().await.is_ok() {
            return;
        }
    }
    std::future::pending().await
}

/// Runs a runtime's controllers until the runtime is deleted.
pub async fn run(reg: Arc<Registry>, rt: Arc<Runtime>, out: Outputs) {
    run_with(reg, rt, out, None).await
}

/// [`run`], reporting each pass to `progress`.
pub async fn run_with(
    reg: Arc<Registry>,
    rt: Arc<Runtime>,
    out: Outputs,
    progress: Option<Progress>,
) {
    let name = rt.name().to_string();
    let ctl = Ctl {
        reg: reg.clone(),
        rt: rt.clone(),
        terminations: Default::default(),
        cloud: Default::default(),
        dns: out.dns,
        dataplane: out.dataplane,
        pods: out.pods,
        commands: Default::default(),
    };
    let alive = || reg.runtime(&name).is_some_and(|cur| Arc::ptr_eq(&cur, &rt));
    let kinds: informer::KindOf = {
        let reg = reg.clone();
        Arc::new(move |g: &str, p: &str| {
            reg.kind(g, p)
                .unwrap_or_else(|| panic!("kind {p} is registered"))
        })
    };
    let inf = loop {
        match informer::Informer::start(reg.store.clone(), rt.clone(), kinds.clone()) {
            Ok(i) => break i,
            Err(e) => {
                tracing::warn!(runtime = %name, "controllers cannot watch: {e}");
                tokio::time::sleep(TICK).await;
                if !alive() {
                    return;
                }
            }
        }
    };
    let mut resynced = std::time::Instant::now();
    let mut wanted = progress.as_ref().map(|p| p.inner.wanted.subscribe());
    while alive() {
        // A pass asked for reads the store as of the revision asked (bounded: the store may
        // never reach a revision under this runtime's prefix).
        if let Some(w) = &wanted {
            let want = *w.borrow();
            let _ = tokio::time::timeout(TICK, inf.caught_up(want)).await;
        }
        let read_through = inf.applied();
        let snap = inf.snapshot();
        let mut world = World::new(snap.lists);
        if resynced.elapsed() >= RESYNC || snap.relisted {
            resynced = std::time::Instant::now();
        } else {
            world.dirty_services = world.services_touched_by(&snap.changes);
            world.quiet = snap.changes.is_empty();
        }
        drop(snap.changes);
        let deadline = pass(&ctl, &world).await;
        drop(world);
        if let Some(p) = &progress {
            p.finished(read_through, deadline);
        }
        let wait = deadline
            .and_then(|d| {
                let ms = d.as_millisecond() - jiff::Timestamp::now().as_millisecond();
                u64::try_from(ms.max(10)).ok()
            })
            .map(Duration::from_millis)
            .map_or(TICK, |d| d.min(TICK));
        // Wait for a change to a collection (events and the like do not wake the loop), or
        // for the next deadline or tick; then let more changes arrive (batching).
        let woke = tokio::select! {
            r = tokio::time::timeout(wait, inf.changed()) => r.ok(),
            // Asked for a pass: run it now, no batching.
            _ = pass_requested(&mut wanted) => None,
        };
        match woke {
            Some(false) => break,
            Some(true) => tokio::time::sleep(SETTLE).await,
            None => {}
        }
    }
    tracing::debug!(runtime = %name, "controllers stopped");
}

/// Starts the controllers of every runtime, now and whenever one is provisioned later; `out`
/// receives each runtime's DNS records and frontends.
pub fn start(reg: Arc<Registry>, out: Outputs) -> tokio::task::JoinHandle<()> {
    start_with(reg, out, None)
}

/// [`start`], reporting every pass to `progress` (see [`Progress`]).
pub fn start_with(
    reg: Arc<Registry>,
    out: Outputs,
    progress: Option<Progress>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        // Dropping the set (when this task is aborted) aborts every runtime's controllers.
        let mut tasks = tokio::task::JoinSet::new();
        let mut running: BTreeMap<String, Arc<Runtime>> = BTreeMap::new();
        loop {
            for rt in reg.runtimes() {
                let fresh = running.get(rt.name()).is_none_or(|r| !Arc::ptr_eq(r, &rt));
                if fresh {
                    running.insert(rt.name().to_string(), rt.clone());
                    tasks.spawn(run_with(reg.clone(), rt, out.clone(), progress.clone()));
                }
            }
            running.retain(|n, _| {
                let keep = reg.runtime(n).is_some();
                if !keep {
                    if let Some(dp) = &out.dataplane {
                        dp.remove(n);
                    }
                }
                keep
            });
            while tasks.try_join_next().is_some() {}
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
}
