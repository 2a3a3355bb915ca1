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
//!   StatefulSet controllers; [`jobs`]: the Job controller.
//! - [`endpoints`]: EndpointSlice and legacy Endpoints controllers.
//! - [`apiserver`]: kube-apiserver's `default/kubernetes` Service ports, Endpoints and slice.
//! - [`serviceaccounts`]: every namespace's `default` ServiceAccount and `kube-root-ca.crt`.
//! - [`gc`]: garbage collection of dependents whose owners are gone.

pub mod apiserver;
pub mod endpoints;
pub mod gc;
pub mod informer;
pub mod jobs;
pub mod kubelet;
pub mod serviceaccounts;
pub mod sets;
pub mod workloads;

use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use twinstack_core::status::Status;
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
}

/// The runtime's objects at one pass, from the informer: pods, EndpointSlices and Endpoints
/// are projections (see [`informer`]); [`Ctl::full`] reads the whole object.
pub struct World {
    pub nodes: Vec<Arc<Value>>,
    pub pods: Vec<Arc<Value>>,
    pub services: Vec<Arc<Value>>,
    pub slices: Vec<Arc<Value>>,
    pub endpoints: Vec<Arc<Value>>,
    pub replicasets: Vec<Arc<Value>>,
    pub deployments: Vec<Arc<Value>>,
    pub statefulsets: Vec<Arc<Value>>,
    pub daemonsets: Vec<Arc<Value>>,
    pub jobs: Vec<Arc<Value>>,
    pub replicationcontrollers: Vec<Arc<Value>>,
    pub namespaces: Vec<Arc<Value>>,
    /// ServiceAccounts (metadata only).
    pub serviceaccounts: Vec<Arc<Value>>,
    /// Each namespace's `kube-root-ca.crt` (the informer keeps no other ConfigMap).
    pub root_ca_configmaps: Vec<Arc<Value>>,
    /// The Services (namespace, name) the EndpointSlice controller reconciles in this pass;
    /// `None` for all of them.
    pub dirty_services: Option<std::collections::BTreeSet<(String, String)>>,
}

impl World {
    fn from_snapshot(snap: &mut informer::Snapshot) -> World {
        let mut take = |plural: &str| snap.lists.remove(plural).unwrap_or_default();
        World {
            nodes: take("nodes"),
            pods: take("pods"),
            services: take("services"),
            slices: take("endpointslices"),
            endpoints: take("endpoints"),
            replicasets: take("replicasets"),
            deployments: take("deployments"),
            statefulsets: take("statefulsets"),
            daemonsets: take("daemonsets"),
            jobs: take("jobs"),
            replicationcontrollers: take("replicationcontrollers"),
            namespaces: take("namespaces"),
            serviceaccounts: take("serviceaccounts"),
            root_ca_configmaps: take("configmaps"),
            dirty_services: None,
        }
    }

    /// The Services whose EndpointSlices or Endpoints the changes may alter: a changed Service,
    /// slice or Endpoints object names its Service; a changed pod touches every Service of its
    /// namespace whose selector matches its labels before or after; a changed node touches all.
    fn services_touched_by(
        &self,
        changes: &[informer::Change],
    ) -> Option<std::collections::BTreeSet<(String, String)>> {
        let mut out = std::collections::BTreeSet::new();
        // Pods of one workload share their labels: match each distinct set once.
        let mut pod_labels: std::collections::BTreeSet<(String, BTreeMap<String, String>)> =
            Default::default();
        for c in changes {
            for v in c.old.iter().chain(c.new.iter()) {
                let ns = meta(v, "namespace").to_string();
                match c.plural {
                    "nodes" => return None,
                    "pods" => {
                        pod_labels.insert((ns, labels(v)));
                    }
                    "services" | "endpoints" => {
                        out.insert((ns, meta(v, "name").to_string()));
                    }
                    "endpointslices" => {
                        let svc = labels(v)
                            .remove(twinstack_kube::endpointslices::LABEL_SERVICE_NAME)
                            .unwrap_or_default();
                        out.insert((ns, svc));
                    }
                    _ => {}
                }
            }
        }
        if !pod_labels.is_empty() {
            for s in &self.services {
                let Some(sel) = s.pointer("/spec/selector").and_then(Value::as_object) else {
                    continue;
                };
                if sel.is_empty() {
                    continue;
                }
                let ns = meta(s, "namespace");
                let hit = pod_labels.iter().any(|(pns, l)| {
                    pns == ns
                        && sel
                            .iter()
                            .all(|(k, v)| l.get(k).map(String::as_str) == v.as_str())
                });
                if hit {
                    out.insert((ns.to_string(), meta(s, "name").to_string()));
                }
            }
        }
        Some(out)
    }
}

pub fn meta<'a>(v: &'a Value, field: &str) -> &'a str {
    v.get("metadata")
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
        .unwrap_or("")
}

pub fn labels(v: &Value) -> BTreeMap<String, String> {
    v.pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// An integer field (0 when absent).
pub fn int(v: &Value, p: &str) -> i64 {
    v.pointer(p).and_then(Value::as_i64).unwrap_or(0)
}

/// A pod neither being deleted nor terminal (`controller.IsPodActive`).
pub fn is_active(p: &Value) -> bool {
    p.pointer("/metadata/deletionTimestamp").is_none()
        && !matches!(
            p.pointer("/status/phase").and_then(Value::as_str),
            Some("Succeeded") | Some("Failed")
        )
}

/// A pod whose Ready condition is True (`podutil.IsPodReady`).
pub fn is_ready(p: &Value) -> bool {
    p.pointer("/status/conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Ready" && c["status"] == "True")
}

/// The uid of the controller owner (`ownerReferences[controller=true]`).
pub fn controller_uid(v: &Value) -> Option<&str> {
    v.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)?
        .iter()
        .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
        .and_then(|r| r.get("uid"))
        .and_then(Value::as_str)
}

/// The reference an event about `obj` carries (`involvedObject`).
pub fn reference(
    obj: &Value,
    api_version: &str,
    kind: &str,
) -> k8s_openapi::api::core::v1::ObjectReference {
    k8s_openapi::api::core::v1::ObjectReference {
        api_version: Some(api_version.into()),
        kind: Some(kind.into()),
        name: Some(meta(obj, "name").into()),
        namespace: Some(meta(obj, "namespace").into()),
        uid: Some(meta(obj, "uid").into()),
        resource_version: Some(meta(obj, "resourceVersion").into()),
        field_path: None,
    }
}

impl Ctl {
    pub fn kind(&self, group: &str, plural: &str) -> Arc<dyn Kind> {
        self.reg
            .kind(group, plural)
            .unwrap_or_else(|| panic!("kind {plural} is registered"))
    }

    /// The whole stored object of which `v` (from the [`World`]) is a projection, read
    /// straight into a typed object (no intermediate `Value`), if it still exists. Only for
    /// kinds without read-path defaulting.
    pub fn full_typed<T: serde::de::DeserializeOwned>(
        &self,
        group: &str,
        plural: &str,
        v: &Value,
    ) -> Option<T> {
        let kind = self.kind(group, plural);
        let ns = Some(meta(v, "namespace")).filter(|n| !n.is_empty());
        let key = twinstack_registry::registry::object_key(
            self.rt.name(),
            kind.as_ref(),
            ns,
            meta(v, "name"),
        );
        let kv = self.reg.store.get(&key).ok()??;
        serde_json::from_slice(&kv.value).ok()
    }

    /// The whole stored object of which `v` (from the [`World`]) is a projection, if it
    /// still exists.
    pub fn full(&self, group: &str, plural: &str, v: &Value) -> Option<Value> {
        let kind = self.kind(group, plural);
        let ns = Some(meta(v, "namespace")).filter(|n| !n.is_empty());
        self.reg
            .get(&self.rt, kind.as_ref(), ns, meta(v, "name"))
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

    /// Deletes an object through the registry (graceful for pods), only if it still has `uid`.
    pub async fn delete(&self, group: &str, plural: &str, obj: &Value) -> Result<(), Status> {
        let kind = self.kind(group, plural);
        let ns = Some(meta(obj, "namespace"))
            .filter(|n| !n.is_empty())
            .map(String::from);
        let pre = Preconditions {
            uid: Some(meta(obj, "uid").to_string()),
            resource_version: None,
            grace_period_seconds: None,
            propagation_policy: Some("Background".into()),
        };
        match self
            .reg
            .delete(
                self.rt.clone(),
                kind,
                ns,
                meta(obj, "name").to_string(),
                pre,
                false,
            )
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
        obj: &Value,
        api_version: &str,
        kind: &str,
        component: &str,
        reason: &str,
        msg: &str,
    ) {
        self.event(twinstack_kube::events::event_for(
            &reference(obj, api_version, kind),
            reason,
            msg,
            "Normal",
            &twinstack_kube::events::Reporter::controller(component),
            jiff::Timestamp::now(),
            twinstack_core::hash::fnv1a64(&format!("{}/{reason}/{msg}", meta(obj, "uid"))),
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
    endpoints::sync(ctl, w).await;
    apiserver::sync(ctl, w).await;
    serviceaccounts::sync(ctl, w).await;
    gc::sync(ctl, w).await;
    next
}

/// Runs a runtime's controllers until the runtime is deleted.
pub async fn run(reg: Arc<Registry>, rt: Arc<Runtime>) {
    let name = rt.name().to_string();
    let ctl = Ctl {
        reg: reg.clone(),
        rt: rt.clone(),
        terminations: Default::default(),
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
    while alive() {
        let mut snap = inf.snapshot();
        let mut world = World::from_snapshot(&mut snap);
        if resynced.elapsed() >= RESYNC || snap.relisted {
            resynced = std::time::Instant::now();
        } else {
            world.dirty_services = world.services_touched_by(&snap.changes);
        }
        drop(snap);
        let deadline = pass(&ctl, &world).await;
        drop(world);
        let wait = deadline
            .and_then(|d| {
                let ms = d.as_millisecond() - jiff::Timestamp::now().as_millisecond();
                u64::try_from(ms.max(10)).ok()
            })
            .map(Duration::from_millis)
            .map_or(TICK, |d| d.min(TICK));
        // Wait for a change to a collection (events and the like do not wake the loop), or
        // for the next deadline or tick; then let more changes arrive (batching).
        match tokio::time::timeout(wait, inf.changed()).await {
            Ok(false) => break,
            Ok(true) => tokio::time::sleep(SETTLE).await,
            Err(_) => {}
        }
    }
    tracing::debug!(runtime = %name, "controllers stopped");
}

/// Starts the controllers of every runtime, now and whenever one is provisioned later.
pub fn start(reg: Arc<Registry>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        // Dropping the set (when this task is aborted) aborts every runtime's controllers.
        let mut tasks = tokio::task::JoinSet::new();
        let mut running: BTreeMap<String, Arc<Runtime>> = BTreeMap::new();
        loop {
            for rt in reg.runtimes() {
                let fresh = running.get(rt.name()).is_none_or(|r| !Arc::ptr_eq(r, &rt));
                if fresh {
                    running.insert(rt.name().to_string(), rt.clone());
                    tasks.spawn(run(reg.clone(), rt));
                }
            }
            running.retain(|n, _| reg.runtime(n).is_some());
            while tasks.try_join_next().is_some() {}
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
}
