//! The controllers' informer: an in-memory copy of the runtime's objects that the controllers
//! read, kept current from one store watch (as client-go's shared informers are), so that a
//! pass does not re-read and re-parse whole collections, and the list of what changed since
//! the last pass (the controllers' work queue).
//!
//! Like kube-runtime's reflector store, it keeps each object once, typed, behind an `Arc`
//! ([`Cache`]); a pass takes `Arc` clones ([`Lists`]). Objects with many or large instances are
//! kept as projections: a pod without its managedFields, container details and container
//! statuses; a Service without managedFields and status; an EndpointSlice, Endpoints or
//! ServiceAccount object as its metadata only; of the ConfigMaps only the `kube-root-ca.crt` of
//! each namespace. A controller that needs the whole object reads it from the store
//! ([`super::Ctl::full`]). A running pod's typed projection takes about two thirds of the
//! memory of the same projection as a `serde_json::Value` (5.5 KB instead of 8.2 KB), and a
//! fifth of the whole pod as a `Value`.

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{
    ConfigMap, Endpoints, Namespace, Node, PersistentVolumeClaim, Pod, ReplicationController,
    Service, ServiceAccount,
};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use twinstack_registry::kinds::Kind;
use twinstack_registry::registry::collection_prefix;
use twinstack_registry::runtimes::Runtime;
use twinstack_store::{Event, EventKind, Store, StoreError, Watcher};

/// One change seen since the last pass: the metadata of the object before and after.
pub struct Change {
    pub plural: &'static str,
    pub old: Option<ObjectMeta>,
    pub new: Option<ObjectMeta>,
}

/// A kind the informer keeps, and how it reads one from its stored bytes.
pub trait Cached:
    k8s_openapi::Metadata<Ty = ObjectMeta> + serde::de::DeserializeOwned + Send + Sync + 'static
{
    /// The object (or its projection) from its stored bytes; `None` for bytes that do not
    /// decode or an object the informer does not keep.
    fn project(rt: &Runtime, kind: &dyn Kind, bytes: &[u8]) -> Option<Self> {
        let _ = (rt, kind);
        serde_json::from_slice(bytes).ok()
    }
}

impl Cached for Node {}
impl Cached for ReplicaSet {}
impl Cached for Deployment {}
impl Cached for StatefulSet {}
impl Cached for DaemonSet {}
impl Cached for Job {}
impl Cached for CronJob {}
impl Cached for PersistentVolumeClaim {}
impl Cached for StorageClass {}
impl Cached for PodDisruptionBudget {}
impl Cached for HorizontalPodAutoscaler {}
impl Cached for ReplicationController {}
impl Cached for Namespace {}

impl Cached for Pod {
    fn project(rt: &Runtime, kind: &dyn Kind, bytes: &[u8]) -> Option<Pod> {
        let mut v: Value = serde_json::from_slice(bytes).ok()?;
        kind.on_read(rt, &mut v);
        serde_json::from_value(pod_projection(v)).ok()
    }
}

impl Cached for Service {
    fn project(rt: &Runtime, kind: &dyn Kind, bytes: &[u8]) -> Option<Service> {
        let mut v: Value = serde_json::from_slice(bytes).ok()?;
        kind.on_read(rt, &mut v);
        serde_json::from_value(service_projection(v)).ok()
    }
}

impl Cached for EndpointSlice {
    fn project(_: &Runtime, _: &dyn Kind, bytes: &[u8]) -> Option<EndpointSlice> {
        serde_json::from_value(metadata_only(bytes)?).ok()
    }
}

impl Cached for Endpoints {
    fn project(_: &Runtime, _: &dyn Kind, bytes: &[u8]) -> Option<Endpoints> {
        serde_json::from_value(metadata_only(bytes)?).ok()
    }
}

impl Cached for ServiceAccount {
    fn project(_: &Runtime, _: &dyn Kind, bytes: &[u8]) -> Option<ServiceAccount> {
        serde_json::from_value(metadata_only(bytes)?).ok()
    }
}

impl Cached for ConfigMap {
    fn project(_: &Runtime, _: &dyn Kind, bytes: &[u8]) -> Option<ConfigMap> {
        serde_json::from_value(root_ca_configmap(bytes)?).ok()
    }
}

/// One collection's objects by store key (kube-runtime's reflector `Store<K>`).
pub struct Cache<K> {
    plural: &'static str,
    kind: Arc<dyn Kind>,
    prefix: String,
    /// Events at or before this revision are already in `objects` (the initial list's).
    listed: u64,
    objects: BTreeMap<String, Arc<K>>,
}

impl<K: Cached> Cache<K> {
    fn list(store: &Store, rt: &Runtime, kind: Arc<dyn Kind>) -> Result<Cache<K>, StoreError> {
        let plural = kind.info().plural;
        let prefix = collection_prefix(rt.name(), kind.as_ref(), None);
        let (kvs, listed) = store.list(&prefix)?;
        let objects = kvs
            .into_iter()
            .filter_map(|kv| Some((kv.key, Arc::new(K::project(rt, kind.as_ref(), &kv.value)?))))
            .collect();
        Ok(Cache {
            plural,
            kind,
            prefix,
            listed,
            objects,
        })
    }

    /// The objects, in key order.
    pub fn list_now(&self) -> Vec<Arc<K>> {
        self.objects.values().cloned().collect()
    }
}

/// A [`Cache`] of any kind, as the watch's events reach it.
trait Collection: Send {
    fn prefix(&self) -> &str;
    /// Applies one event of this collection; the change, if the collection keeps the object.
    fn apply(&mut self, rt: &Runtime, e: &Event) -> Option<Change>;
}

impl<K: Cached> Collection for Cache<K> {
    fn prefix(&self) -> &str {
        &self.prefix
    }

    fn apply(&mut self, rt: &Runtime, e: &Event) -> Option<Change> {
        if e.revision <= self.listed {
            return None;
        }
        let new = match e.kind {
            EventKind::Put => K::project(rt, self.kind.as_ref(), &e.kv.value).map(Arc::new),
            EventKind::Delete => None,
        };
        let new_meta = new.as_ref().map(|n| n.metadata().clone());
        let old = match new {
            Some(n) => self.objects.insert(e.kv.key.clone(), n),
            None => self.objects.remove(&e.kv.key),
        };
        // An object the collection does not keep (a ConfigMap other than kube-root-ca.crt).
        if old.is_none() && new_meta.is_none() {
            return None;
        }
        Some(Change {
            plural: self.plural,
            old: old.map(|o| o.metadata().clone()),
            new: new_meta,
        })
    }
}

/// Declares the collections the controllers read: the informer's caches and a pass's lists.
macro_rules! collections {
    ($($field:ident: $ty:ty = ($group:literal, $plural:literal)),* $(,)?) => {
        /// The informer's caches, one per collection the controllers read.
        struct Caches {
            $($field: Cache<$ty>,)*
        }

        /// The collections at one pass: `Arc` clones of the informer's objects.
        pub struct Lists {
            $(pub $field: Vec<Arc<$ty>>,)*
        }

        impl Caches {
            fn list(store: &Store, rt: &Runtime, kinds: &KindFn) -> Result<Caches, StoreError> {
                Ok(Caches {
                    $($field: Cache::list(store, rt, kinds($group, $plural))?,)*
                })
            }

            fn all_mut(&mut self) -> Vec<&mut dyn Collection> {
                vec![$(&mut self.$field as &mut dyn Collection,)*]
            }

            fn lists(&self) -> Lists {
                Lists {
                    $($field: self.$field.list_now(),)*
                }
            }
        }
    };
}

collections! {
    nodes: Node = ("", "nodes"),
    pods: Pod = ("", "pods"),
    services: Service = ("", "services"),
    slices: EndpointSlice = ("discovery.k8s.io", "endpointslices"),
    endpoints: Endpoints = ("", "endpoints"),
    replicasets: ReplicaSet = ("apps", "replicasets"),
    deployments: Deployment = ("apps", "deployments"),
    statefulsets: StatefulSet = ("apps", "statefulsets"),
    daemonsets: DaemonSet = ("apps", "daemonsets"),
    jobs: Job = ("batch", "jobs"),
    cronjobs: CronJob = ("batch", "cronjobs"),
    persistentvolumeclaims: PersistentVolumeClaim = ("", "persistentvolumeclaims"),
    storageclasses: StorageClass = ("storage.k8s.io", "storageclasses"),
    poddisruptionbudgets: PodDisruptionBudget = ("policy", "poddisruptionbudgets"),
    horizontalpodautoscalers: HorizontalPodAutoscaler = ("autoscaling", "horizontalpodautoscalers"),
    replicationcontrollers: ReplicationController = ("", "replicationcontrollers"),
    namespaces: Namespace = ("", "namespaces"),
    serviceaccounts: ServiceAccount = ("", "serviceaccounts"),
    root_ca_configmaps: ConfigMap = ("", "configmaps"),
}

/// The informer's state, shared between the task that applies the watch's events and the
/// controllers' passes.
struct State {
    caches: Caches,
    changes: Vec<Change>,
    /// Set when the collections were listed again (the watch lagged): every object may have
    /// changed, so the next pass reconciles everything.
    relisted: bool,
    /// The store is shut down.
    ended: bool,
}

/// A runtime's informer. Its own task applies the watch's events as they come, so the watch
/// never falls behind while a pass runs; dropping the informer stops that task.
pub struct Informer {
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

struct Shared {
    state: std::sync::Mutex<State>,
    changed: tokio::sync::Notify,
    /// The store revision through which every event under the runtime's prefix is applied
    /// (a caller waiting for the controllers to see a write compares it with the write's).
    applied: tokio::sync::watch::Sender<u64>,
}

/// What a pass reads of the informer.
pub struct Snapshot {
    pub lists: Lists,
    pub changes: Vec<Change>,
    /// Everything may have changed (first pass after a re-list).
    pub relisted: bool,
}

impl Drop for Informer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The registry's kind for a (group, plural).
pub type KindFn = dyn Fn(&str, &str) -> Arc<dyn Kind> + Send + Sync;
pub type KindOf = Arc<KindFn>;

impl Informer {
    /// Watches the runtime's keys from the current revision, lists each collection, and starts
    /// the task that applies the watch's events.
    pub fn start(store: Store, rt: Arc<Runtime>, kinds: KindOf) -> Result<Informer, StoreError> {
        let (watcher, caches) = list_and_watch(&store, &rt, kinds.as_ref())?;
        let (applied, _) = tokio::sync::watch::channel(watcher.seen_revision());
        let shared = Arc::new(Shared {
            state: std::sync::Mutex::new(State {
                caches,
                changes: Vec::new(),
                relisted: true,
                ended: false,
            }),
            changed: tokio::sync::Notify::new(),
            applied,
        });
        let task = tokio::spawn(pump(store, rt, kinds, watcher, shared.clone()));
        Ok(Informer { shared, task })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The collections now (in key order) and the changes since the last snapshot.
    pub fn snapshot(&self) -> Snapshot {
        let mut st = self.state();
        Snapshot {
            lists: st.caches.lists(),
            changes: std::mem::take(&mut st.changes),
            relisted: std::mem::take(&mut st.relisted),
        }
    }

    /// The store revision through which every event under the runtime's prefix is applied.
    pub fn applied(&self) -> u64 {
        *self.shared.applied.borrow()
    }

    /// Waits until every event under the runtime's prefix up to `revision` is applied (the
    /// next snapshot shows the store as of `revision` or later). Waits forever for a revision
    /// the store never reaches (callers bound the wait).
    pub async fn caught_up(&self, revision: u64) {
        let mut rx = self.shared.applied.subscribe();
        let _ = rx.wait_for(|a| *a >= revision).await;
    }

    /// Waits until a collection changes. Returns false once the store is shut down.
    pub async fn changed(&self) -> bool {
        if self.state().ended {
            return false;
        }
        self.shared.changed.notified().await;
        !self.state().ended
    }
}

fn list_and_watch(
    store: &Store,
    rt: &Arc<Runtime>,
    kinds: &KindFn,
) -> Result<(Watcher, Caches), StoreError> {
    let watcher = store.watch(
        &format!("/registry/{}/", rt.name()),
        store.current_revision(),
    )?;
    let caches = Caches::list(store, rt, kinds)?;
    Ok((watcher, caches))
}

/// Applies the watch's events to the shared state; lists again when the watch lags.
async fn pump(
    store: Store,
    rt: Arc<Runtime>,
    kinds: KindOf,
    mut watcher: Watcher,
    shared: Arc<Shared>,
) {
    let lock = || {
        shared
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    };
    loop {
        match watcher.next().await {
            Some(Ok(e)) => {
                let relevant = {
                    let mut st = lock();
                    apply(&mut st, &rt, &e)
                };
                if relevant {
                    shared.changed.notify_one();
                }
                // Events of one revision arrive together: with none queued, every revision
                // the watcher has taken in is applied; otherwise those before this event's.
                let through = if watcher.queued() == 0 {
                    watcher.seen_revision()
                } else {
                    e.revision.saturating_sub(1)
                };
                advance(&shared.applied, through);
            }
            Some(Err(err)) => {
                tracing::debug!(runtime = %rt.name(), "informer lists again: {err}");
                match list_and_watch(&store, &rt, kinds.as_ref()) {
                    Ok((w, caches)) => {
                        let through = w.seen_revision();
                        watcher = w;
                        advance(&shared.applied, through);
                        let mut st = lock();
                        st.caches = caches;
                        st.changes.clear();
                        st.relisted = true;
                    }
                    Err(err) => {
                        tracing::warn!(runtime = %rt.name(), "informer cannot list: {err}");
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                        continue;
                    }
                }
                shared.changed.notify_one();
            }
            None => {
                lock().ended = true;
                shared.changed.notify_one();
                return;
            }
        }
    }
}

/// Moves the applied revision forward to `through` (never back).
fn advance(applied: &tokio::sync::watch::Sender<u64>, through: u64) {
    applied.send_if_modified(|a| {
        let newer = through > *a;
        if newer {
            *a = through;
        }
        newer
    });
}

/// Applies one event; returns whether it touched a collection.
fn apply(st: &mut State, rt: &Runtime, e: &Event) -> bool {
    let change = st
        .caches
        .all_mut()
        .into_iter()
        .find(|c| e.kv.key.starts_with(c.prefix()))
        .and_then(|c| c.apply(rt, e));
    match change {
        Some(c) => {
            st.changes.push(c);
            true
        }
        None => false,
    }
}

/// What an EndpointSlice or Endpoints projection keeps; serde skips the rest of the stored
/// bytes without building it (a slice of 100 endpoints is ~25 KB of JSON).
#[derive(serde::Deserialize)]
struct MetadataOnly {
    #[serde(rename = "apiVersion")]
    api_version: Option<Value>,
    kind: Option<Value>,
    metadata: Option<Value>,
    #[serde(rename = "addressType")]
    address_type: Option<Value>,
}

/// The metadata projection read straight from stored bytes.
fn metadata_only(bytes: &[u8]) -> Option<Value> {
    let m: MetadataOnly = serde_json::from_slice(bytes).ok()?;
    let mut out = Map::new();
    let fields = [
        ("apiVersion", m.api_version),
        ("kind", m.kind),
        ("metadata", m.metadata),
        ("addressType", m.address_type),
    ];
    for (k, v) in fields {
        if let Some(v) = v {
            out.insert(k.into(), v);
        }
    }
    Some(metadata_projection(Value::Object(out)))
}

/// Of the ConfigMaps, the controllers keep only each namespace's `kube-root-ca.crt` (its
/// metadata and data); the others are skipped without being parsed into a `Value`.
fn root_ca_configmap(bytes: &[u8]) -> Option<Value> {
    #[derive(serde::Deserialize)]
    struct Named {
        metadata: Option<NameOnly>,
    }
    #[derive(serde::Deserialize)]
    struct NameOnly {
        name: Option<String>,
    }
    let named: Named = serde_json::from_slice(bytes).ok()?;
    let name = named.metadata.and_then(|m| m.name);
    if name.as_deref() != Some(twinstack_kube::serviceaccount::ROOT_CA_CERT_CONFIGMAP_NAME) {
        return None;
    }
    let v: Value = serde_json::from_slice(bytes).ok()?;
    let mut out = match metadata_projection(v.clone()) {
        Value::Object(o) => o,
        _ => Map::new(),
    };
    if let Some(d) = v.get("data") {
        out.insert("data".into(), d.clone());
    }
    Some(Value::Object(out))
}

fn take(from: &mut Map<String, Value>, to: &mut Map<String, Value>, fields: &[&str]) {
    for f in fields {
        if let Some(x) = from.remove(*f) {
            to.insert((*f).to_string(), x);
        }
    }
}

/// apiVersion, kind and metadata without managedFields.
fn metadata_projection(mut v: Value) -> Value {
    let mut out = Map::new();
    if let Some(o) = v.as_object_mut() {
        take(
            o,
            &mut out,
            &["apiVersion", "kind", "metadata", "addressType"],
        );
    }
    if let Some(m) = out.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("managedFields");
    }
    Value::Object(out)
}

/// What the controllers read of a Service: its metadata without managedFields or kubectl's
/// last-applied annotation, and its spec (the status is the load balancers' business).
fn service_projection(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("status");
    }
    if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("managedFields");
        if let Some(a) = m.get_mut("annotations").and_then(Value::as_object_mut) {
            a.remove(LAST_APPLIED);
        }
    }
    v
}

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// What a terminating pod's containers keep: what decides how they stop
/// (`twinstack_kube::pod::termination`).
const TERMINATION_FIELDS: [&str; 5] = ["image", "command", "args", "lifecycle", "restartPolicy"];

/// What the controllers read of a pod: metadata without managedFields; of the spec the node,
/// node affinity (a daemon pod's node), hostname, subdomain, host network, restart policy and
/// each container's name, ports, image, command and args (what the data plane serves); the status without container statuses, host addresses and
/// conditions other than Ready. A terminating pod also keeps what kubelet needs to stop it:
/// each container's image, command, args and lifecycle, its sidecars and
/// `shareProcessNamespace`.
fn pod_projection(mut v: Value) -> Value {
    let mut out = match metadata_projection(v.clone()) {
        Value::Object(o) => o,
        _ => Map::new(),
    };
    let terminating = v.pointer("/metadata/deletionTimestamp").is_some();
    let slim = |cs: &mut Vec<Value>, keep: &dyn Fn(&Map<String, Value>) -> bool| -> Vec<Value> {
        cs.iter_mut()
            .filter_map(Value::as_object_mut)
            .filter(|c| keep(c))
            .map(|c| {
                let mut o = Map::new();
                // Image, command and args: what the data plane serves on the pod's ports.
                take(c, &mut o, &["name", "ports", "image", "command", "args"]);
                if terminating {
                    take(c, &mut o, &TERMINATION_FIELDS);
                }
                Value::Object(o)
            })
            .collect()
    };
    if let Some(spec) = v.get_mut("spec").and_then(Value::as_object_mut) {
        let mut s = Map::new();
        take(
            spec,
            &mut s,
            &[
                "nodeName",
                "affinity",
                "hostname",
                "subdomain",
                "hostNetwork",
                "restartPolicy",
            ],
        );
        if let Some(cs) = spec.get_mut("containers").and_then(Value::as_array_mut) {
            s.insert("containers".into(), Value::Array(slim(cs, &|_| true)));
        }
        // The claim volumes: the volume controllers provision for scheduled consumers.
        if let Some(vols) = spec.get("volumes").and_then(Value::as_array) {
            let claims: Vec<Value> = vols
                .iter()
                .filter(|v| v.get("persistentVolumeClaim").is_some())
                .cloned()
                .collect();
            if !claims.is_empty() {
                s.insert("volumes".into(), Value::Array(claims));
            }
        }
        if terminating {
            take(spec, &mut s, &["shareProcessNamespace"]);
            if let Some(cs) = spec.get_mut("initContainers").and_then(Value::as_array_mut) {
                let sidecar = |c: &Map<String, Value>| {
                    c.get("restartPolicy").and_then(Value::as_str) == Some("Always")
                };
                let sidecars = slim(cs, &sidecar);
                if !sidecars.is_empty() {
                    s.insert("initContainers".into(), Value::Array(sidecars));
                }
            }
        }
        out.insert("spec".into(), Value::Object(s));
    }
    if let Some(mut status) = v.get_mut("status").map(Value::take) {
        if let Some(st) = status.as_object_mut() {
            for f in [
                "containerStatuses",
                "initContainerStatuses",
                "ephemeralContainerStatuses",
                "hostIP",
                "hostIPs",
                "qosClass",
            ] {
                st.remove(f);
            }
            // The controllers read the Ready condition only (the scheduler reads the whole pod).
            if let Some(cs) = st.get_mut("conditions").and_then(Value::as_array_mut) {
                cs.retain(|c| c.get("type").and_then(Value::as_str) == Some("Ready"));
            }
        }
        out.insert("status".into(), status);
    }
    out.remove("apiVersion");
    out.remove("kind");
    if let Some(m) = out.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("generateName");
        if m.get("annotations")
            .and_then(Value::as_object)
            .is_some_and(Map::is_empty)
        {
            m.remove("annotations");
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pod_projection_keeps_what_controllers_read() {
        let pod = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "a", "namespace": "default", "uid": "u", "resourceVersion": "7",
                "labels": {"app": "x"}, "ownerReferences": [{"uid": "o", "controller": true}],
                "managedFields": [{"manager": "m"}]},
            "spec": {"nodeName": "n1", "hostname": "h", "dnsPolicy": "ClusterFirst",
                "containers": [{"name": "c", "image": "nginx", "ports": [{"name": "http", "containerPort": 80}],
                    "resources": {}}]},
            "status": {"phase": "Running", "podIPs": [{"ip": "10.0.0.1"}],
                "conditions": [{"type": "PodScheduled", "status": "True"},
                    {"type": "Ready", "status": "True"}],
                "hostIPs": [{"ip": "10.250.0.1"}],
                "containerStatuses": [{"name": "c"}]}
        });
        let p = pod_projection(pod);
        assert_eq!(
            p,
            json!({
                "metadata": {"name": "a", "namespace": "default", "uid": "u", "resourceVersion": "7",
                    "labels": {"app": "x"}, "ownerReferences": [{"uid": "o", "controller": true}]},
                "spec": {"nodeName": "n1", "hostname": "h",
                    "containers": [{"name": "c", "ports": [{"name": "http", "containerPort": 80}],
                        "image": "nginx"}]},
                "status": {"phase": "Running", "podIPs": [{"ip": "10.0.0.1"}],
                    "conditions": [{"type": "Ready", "status": "True"}]}
            })
        );
        // The projection still reads as a typed Pod for the pure rules.
        let typed: k8s_openapi::api::core::v1::Pod = serde_json::from_value(p).unwrap();
        assert_eq!(typed.spec.unwrap().containers[0].name, "c");
    }

    #[test]
    fn a_terminating_pod_keeps_how_its_containers_stop() {
        let pod = json!({
            "metadata": {"name": "a", "deletionTimestamp": "2026-01-01T00:00:30Z",
                "deletionGracePeriodSeconds": 30},
            "spec": {"nodeName": "n1", "shareProcessNamespace": false,
                "initContainers": [{"name": "init", "image": "busybox", "command": ["true"]},
                    {"name": "proxy", "image": "envoy", "restartPolicy": "Always", "env": []}],
                "containers": [{"name": "c", "image": "busybox", "command": ["sleep", "3600"],
                    "lifecycle": {"preStop": {"exec": {"command": ["sleep", "5"]}}},
                    "resources": {}, "env": [{"name": "A", "value": "1"}]}]},
            "status": {"phase": "Running"}
        });
        assert_eq!(
            pod_projection(pod)["spec"],
            json!({"nodeName": "n1", "shareProcessNamespace": false,
                "containers": [{"name": "c", "image": "busybox", "command": ["sleep", "3600"],
                    "lifecycle": {"preStop": {"exec": {"command": ["sleep", "5"]}}}}],
                "initContainers": [{"name": "proxy", "image": "envoy", "restartPolicy": "Always"}]})
        );
    }

    #[test]
    fn of_the_configmaps_only_the_root_ca_is_kept() {
        let ca = br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"kube-root-ca.crt","namespace":"a","managedFields":[{}],"annotations":{"kubernetes.io/description":"d"}},"data":{"ca.crt":"PEM"}}"#;
        assert_eq!(
            root_ca_configmap(ca),
            Some(json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "kube-root-ca.crt", "namespace": "a",
                    "annotations": {"kubernetes.io/description": "d"}},
                "data": {"ca.crt": "PEM"}}))
        );
        let other = br#"{"metadata":{"name":"settings","namespace":"a"},"data":{"big":"x"}}"#;
        assert_eq!(root_ca_configmap(other), None);
        assert_eq!(root_ca_configmap(b"{not json"), None);
    }

    #[test]
    fn service_projection_keeps_metadata_and_spec() {
        let svc = json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "s", "labels": {"a": "b"}, "managedFields": [{}],
                "annotations": {"x": "y", LAST_APPLIED: "{}"}},
            "spec": {"selector": {"app": "web"}, "ipFamilies": ["IPv6", "IPv4"]},
            "status": {"loadBalancer": {}}});
        assert_eq!(
            service_projection(svc),
            json!({"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "s", "labels": {"a": "b"}, "annotations": {"x": "y"}},
                "spec": {"selector": {"app": "web"}, "ipFamilies": ["IPv6", "IPv4"]}})
        );
    }

    #[test]
    fn slices_decode_to_their_metadata() {
        let bytes = br#"{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"s","managedFields":[{"manager":"m"}]},"addressType":"IPv6","endpoints":[{"addresses":["fd00::1"]}],"ports":[]}"#;
        assert_eq!(
            metadata_only(bytes),
            Some(
                json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                "metadata": {"name": "s"}, "addressType": "IPv6"})
            )
        );
    }

    #[test]
    fn metadata_projections_read_as_typed_objects() {
        // A slice's endpoints and ports are required in the API but absent from its
        // projection: the typed object reads them as empty.
        let bytes = br#"{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"s","namespace":"a","labels":{"kubernetes.io/service-name":"web"}},"addressType":"IPv6","endpoints":[{"addresses":["fd00::1"]}]}"#;
        let slice: EndpointSlice = serde_json::from_value(metadata_only(bytes).unwrap()).unwrap();
        assert_eq!(slice.address_type, "IPv6");
        assert!(slice.endpoints.is_empty());
        assert_eq!(
            slice.metadata.labels.unwrap()["kubernetes.io/service-name"],
            "web"
        );
        let sa = br#"{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"default","namespace":"a"},"secrets":[{"name":"x"}]}"#;
        let sa: ServiceAccount = serde_json::from_value(metadata_only(sa).unwrap()).unwrap();
        assert_eq!(sa.metadata.name.as_deref(), Some("default"));
        assert_eq!(sa.secrets, None);
        let ca =
            br#"{"metadata":{"name":"kube-root-ca.crt","namespace":"a"},"data":{"ca.crt":"PEM"}}"#;
        let cm: ConfigMap = serde_json::from_value(root_ca_configmap(ca).unwrap()).unwrap();
        assert_eq!(cm.data.unwrap()["ca.crt"], "PEM");
    }

    #[test]
    fn malformed_stored_bytes_are_skipped_not_a_panic() {
        for bad in [&b"{not json"[..], b"", b"[]", &[0xff, 0xfe][..]] {
            assert_eq!(metadata_only(bad), None, "{bad:?}");
        }
        // Well-formed but odd: kept as it is, without a panic.
        assert_eq!(
            metadata_only(br#"{"metadata": 3}"#),
            Some(json!({"metadata": 3}))
        );
    }

    #[test]
    fn metadata_projection_drops_managed_fields_and_body() {
        let s = json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": "s", "managedFields": []}, "addressType": "IPv4",
            "endpoints": [{"addresses": ["10.0.0.1"]}]});
        assert_eq!(
            metadata_projection(s),
            json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                "metadata": {"name": "s"}, "addressType": "IPv4"})
        );
    }
}
