//! The controllers every runtime runs, as kube-controller-manager, kube-scheduler and kubelet
//! would: level-triggered passes driven by `store.watch` on the runtime's keys, each pass
//! recomputed from the store (so a restart or a crash loses nothing), idempotent (writes are
//! conditional on the resourceVersion read, events have deterministic names).
//!
//! - [`kubelet`]: scheduler and emulated kubelet (binding, pod addresses allocated in the
//!   transaction that writes the Running status, events), graceful deletion.
//! - [`workloads`]: ReplicaSet and Deployment controllers; [`sets`]: DaemonSet and
//!   StatefulSet controllers; [`jobs`]: the Job controller.
//! - [`endpoints`]: EndpointSlice and legacy Endpoints controllers.
//! - [`gc`]: garbage collection of dependents whose owners are gone.

pub mod endpoints;
pub mod gc;
pub mod jobs;
pub mod kubelet;
pub mod sets;
pub mod workloads;

use crate::kinds::Kind;
use crate::registry::{Preconditions, Registry};
use crate::runtimes::Runtime;
use crate::store_ext::TxnExt;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use twinstack_core::status::Status;

/// How often a pass runs without any change (deadlines such as graceful deletion).
const TICK: Duration = Duration::from_millis(1000);
/// How long a pass waits after a change for more changes to arrive (batching).
const SETTLE: Duration = Duration::from_millis(5);

/// A runtime's controllers' view of the server.
pub struct Ctl {
    pub reg: Arc<Registry>,
    pub rt: Arc<Runtime>,
}

/// The runtime's objects at one pass.
pub struct World {
    pub nodes: Vec<Value>,
    pub pods: Vec<Value>,
    pub services: Vec<Value>,
    pub slices: Vec<Value>,
    pub endpoints: Vec<Value>,
    pub replicasets: Vec<Value>,
    pub deployments: Vec<Value>,
    pub statefulsets: Vec<Value>,
    pub daemonsets: Vec<Value>,
    pub jobs: Vec<Value>,
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

/// The uid of the controller owner (`ownerReferences[controller=true]`).
pub fn controller_uid(v: &Value) -> Option<&str> {
    v.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)?
        .iter()
        .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
        .and_then(|r| r.get("uid"))
        .and_then(Value::as_str)
}

/// FNV-1a 64 of a text, for deterministic names.
pub fn fnv64(s: &str) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

impl Ctl {
    pub fn kind(&self, group: &str, plural: &str) -> Arc<dyn Kind> {
        self.reg
            .kind(group, plural)
            .unwrap_or_else(|| panic!("kind {plural} is registered"))
    }

    pub fn list(&self, group: &str, plural: &str) -> Vec<Value> {
        let kind = self.kind(group, plural);
        self.reg
            .list(&self.rt, kind.as_ref(), None)
            .map(|(v, _)| v)
            .unwrap_or_default()
    }

    pub fn world(&self) -> World {
        World {
            nodes: self.list("", "nodes"),
            pods: self.list("", "pods"),
            services: self.list("", "services"),
            slices: self.list("discovery.k8s.io", "endpointslices"),
            endpoints: self.list("", "endpoints"),
            replicasets: self.list("apps", "replicasets"),
            deployments: self.list("apps", "deployments"),
            statefulsets: self.list("apps", "statefulsets"),
            daemonsets: self.list("apps", "daemonsets"),
            jobs: self.list("batch", "jobs"),
        }
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
        let ns = Some(meta(&obj, "namespace")).filter(|n| !n.is_empty());
        let key =
            crate::registry::object_key(self.rt.name(), kind.as_ref(), ns, meta(&obj, "name"));
        let res = self
            .reg
            .store
            .txn(move |txn| -> Result<(), Conflict> {
                let txn: &mut dyn TxnExt = txn;
                write_in_txn(txn, &key, obj)
            })
            .await;
        res.is_ok()
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

/// The conditional write of [`Ctl::write`] inside a transaction.
/// The stored object changed (or went) since it was read.
#[derive(Debug)]
pub struct Conflict;

pub fn write_in_txn(txn: &mut dyn TxnExt, key: &str, mut obj: Value) -> Result<(), Conflict> {
    let Some(cur) = txn.get_json(key) else {
        return Err(Conflict);
    };
    if meta(&cur, "resourceVersion") != meta(&obj, "resourceVersion")
        || meta(&cur, "uid") != meta(&obj, "uid")
    {
        return Err(Conflict);
    }
    if cur == obj {
        return Ok(());
    }
    obj["metadata"]["resourceVersion"] = json!(txn.revision().to_string());
    txn.put_json(key, &obj);
    Ok(())
}

/// One pass of every controller.
async fn pass(ctl: &Ctl) -> Option<jiff::Timestamp> {
    let w = ctl.world();
    let next = kubelet::sync(ctl, &w).await;
    workloads::sync(ctl, &w).await;
    sets::sync(ctl, &w).await;
    jobs::sync(ctl, &w).await;
    endpoints::sync(ctl, &w).await;
    gc::sync(ctl, &w).await;
    next
}

/// Runs a runtime's controllers until the runtime is deleted.
pub async fn run(reg: Arc<Registry>, rt: Arc<Runtime>) {
    let name = rt.name().to_string();
    let prefix = format!("/registry/{name}/");
    let ctl = Ctl {
        reg: reg.clone(),
        rt: rt.clone(),
    };
    let alive = || reg.runtime(&name).is_some_and(|cur| Arc::ptr_eq(&cur, &rt));
    'outer: while alive() {
        let rev = reg.store.current_revision();
        let mut watcher = match reg.store.watch(&prefix, rev) {
            Ok(w) => w,
            Err(e) => {
                tracing::warn!(runtime = %name, "controllers cannot watch: {e}");
                tokio::time::sleep(TICK).await;
                continue;
            }
        };
        loop {
            if !alive() {
                break 'outer;
            }
            let deadline = pass(&ctl).await;
            let wait = deadline
                .and_then(|d| {
                    let ms = d.as_millisecond() - jiff::Timestamp::now().as_millisecond();
                    u64::try_from(ms.max(10)).ok()
                })
                .map(Duration::from_millis)
                .map_or(TICK, |d| d.min(TICK));
            match tokio::time::timeout(wait, watcher.next()).await {
                Ok(None) => break 'outer,
                Ok(Some(Err(_))) => continue 'outer,
                Ok(Some(Ok(_))) | Err(_) => {}
            }
            tokio::time::sleep(SETTLE).await;
            loop {
                match watcher.try_next() {
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(_) => continue 'outer,
                }
            }
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

#[cfg(test)]
mod tests;
