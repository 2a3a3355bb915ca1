//! The ReplicaSet controller (the same code runs the ReplicationControllers) and the
//! Deployment controller. What they decide is [`twinstack_kube::workloads::replicaset`] and
//! [`twinstack_kube::workloads::deployment`]; here the snapshot is gathered and the plan
//! carried out (creates and deletes with their events, scales, one status write).

use super::{meta, Ctl, World};
use futures::StreamExt;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::ReplicationController;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use twinstack_kube::workloads::deployment::{self, DESIRED_REPLICAS};
use twinstack_kube::workloads::{replicaset, PodSummary};

/// Creates and deletes in flight at once (they share the store's group commits).
const CONCURRENCY: usize = 64;

pub async fn sync(ctl: &Ctl, w: &World) {
    let now = jiff::Timestamp::now();
    deployments(ctl, w, now).await;
    for rs in &w.replicasets {
        if let Some(typed) = typed::<ReplicaSet>(rs) {
            replica_set(ctl, w, &REPLICA_SET, rs, &typed, now).await;
        }
    }
    for rc in &w.replicationcontrollers {
        if let Some(typed) = typed::<ReplicationController>(rc) {
            let rs = replicaset::from_replication_controller(&typed);
            replica_set(ctl, w, &REPLICATION_CONTROLLER, rc, &rs, now).await;
        }
    }
}

/// The typed object of a snapshot's JSON (`None` for one that does not decode, which the
/// registry never stores).
pub fn typed<T: serde::de::DeserializeOwned>(v: &Arc<Value>) -> Option<T> {
    serde_json::from_value(Value::clone(v)).ok()
}

/// What tells the ReplicaSet controller's two uses apart: upstream runs the same code for
/// ReplicationControllers (pkg/controller/replication wraps the ReplicaSet controller).
pub struct ReplicaKind {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub group: &'static str,
    pub plural: &'static str,
    /// The event source component.
    pub component: &'static str,
}

pub const REPLICA_SET: ReplicaKind = ReplicaKind {
    api_version: "apps/v1",
    kind: "ReplicaSet",
    group: "apps",
    plural: "replicasets",
    component: "replicaset-controller",
};

pub const REPLICATION_CONTROLLER: ReplicaKind = ReplicaKind {
    api_version: "v1",
    kind: "ReplicationController",
    group: "",
    plural: "replicationcontrollers",
    component: "replication-controller",
};

/// Creates pods and reports each as its controller does (`SuccessfulCreate` with the pod's
/// name, or `FailedCreate` with the error); stops at nothing, as the next pass recounts.
pub async fn create_pods(
    ctl: &Ctl,
    owner: &Value,
    api_version: &str,
    kind: &str,
    component: &str,
    pods: Vec<k8s_openapi::api::core::v1::Pod>,
) {
    let ns = meta(owner, "namespace");
    let creates = pods.into_iter().map(|pod| async move {
        let Ok(body) = serde_json::to_value(pod) else {
            return;
        };
        let (reason, msg) = match ctl.create("", "pods", Some(ns), body).await {
            Ok(p) => (
                "SuccessfulCreate",
                format!("Created pod: {}", meta(&p, "name")),
            ),
            Err(s) => ("FailedCreate", format!("Error creating: {}", s.message)),
        };
        ctl.controller_event(owner, api_version, kind, component, reason, &msg)
            .await;
    });
    futures::stream::iter(creates)
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<()>>()
        .await;
}

/// Deletes pods (if they still have their uid) and reports each (`SuccessfulDelete`).
pub async fn delete_pods(
    ctl: &Ctl,
    owner: &Value,
    api_version: &str,
    kind: &str,
    component: &str,
    pods: &[&PodSummary],
) {
    async fn delete_one(
        ctl: &Ctl,
        owner: &Value,
        (api_version, kind, component): (&str, &str, &str),
        p: &PodSummary,
    ) {
        if ctl.delete_pod(p).await.is_ok() {
            let msg = format!("Deleted pod: {}", p.name);
            ctl.controller_event(
                owner,
                api_version,
                kind,
                component,
                "SuccessfulDelete",
                &msg,
            )
            .await;
        }
    }
    let who = (api_version, kind, component);
    let deletes: Vec<_> = pods
        .iter()
        .map(|p| delete_one(ctl, owner, who, p))
        .collect();
    futures::stream::iter(deletes)
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<()>>()
        .await;
}

/// One ReplicaSet (or ReplicationController `v`, run as the ReplicaSet `rs`).
async fn replica_set(
    ctl: &Ctl,
    w: &World,
    k: &ReplicaKind,
    v: &Value,
    rs: &ReplicaSet,
    now: jiff::Timestamp,
) {
    if rs.metadata.deletion_timestamp.is_some() {
        return;
    }
    let uid = rs.metadata.uid.as_deref().unwrap_or("");
    let pods = w.owned_pods(uid);
    let plan = replicaset::plan(rs, &pods, now);
    let new_pods = (0..plan.create)
        .map(|_| replicaset::new_pod(rs, k.api_version, k.kind))
        .collect();
    create_pods(ctl, v, k.api_version, k.kind, k.component, new_pods).await;
    delete_pods(ctl, v, k.api_version, k.kind, k.component, &plan.delete).await;
    let status = if k.plural == REPLICATION_CONTROLLER.plural {
        serde_json::to_value(replicaset::to_replication_controller_status(plan.status))
    } else {
        serde_json::to_value(plan.status)
    };
    if let Ok(status) = status {
        write_status(ctl, k.group, k.plural, v, status).await;
    }
}

/// Writes `status` into the object unless it already has it.
pub async fn write_status(ctl: &Ctl, group: &str, plural: &str, v: &Value, status: Value) -> bool {
    if v.get("status") == Some(&status) {
        return false;
    }
    let mut next = v.clone();
    next["status"] = status;
    ctl.write(group, plural, next).await
}

/// Scales a ReplicaSet of `d` as the plan says, recording the Deployment's replicas on it,
/// and reports `ScalingReplicaSet`.
async fn scale(ctl: &Ctl, d: &Value, desired: i32, rs: &Value, s: &deployment::Scale) {
    let mut next = rs.clone();
    next["spec"]["replicas"] = json!(s.to);
    let gen = super::int(rs, "/metadata/generation").max(1);
    next["metadata"]["generation"] = json!(gen + 1);
    if let Some(a) = next
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        a.insert(DESIRED_REPLICAS.into(), json!(desired.to_string()));
    }
    if ctl.write("apps", "replicasets", next).await {
        ctl.controller_event(
            d,
            "apps/v1",
            "Deployment",
            "deployment-controller",
            "ScalingReplicaSet",
            &s.message(),
        )
        .await;
    }
}

async fn deployments(ctl: &Ctl, w: &World, now: jiff::Timestamp) {
    // The ReplicaSets (as stored and typed) by their controller's uid.
    let mut by_owner: BTreeMap<&str, Vec<(&Value, ReplicaSet)>> = BTreeMap::new();
    for r in &w.replicasets {
        if let (Some(uid), Some(t)) = (super::controller_uid(r), typed::<ReplicaSet>(r)) {
            if t.metadata.deletion_timestamp.is_none() {
                by_owner.entry(uid).or_default().push((r, t));
            }
        }
    }
    for dv in &w.deployments {
        let Some(d) = typed::<Deployment>(dv) else {
            continue;
        };
        if d.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let ns = d.metadata.namespace.as_deref().unwrap_or("");
        let uid = d.metadata.uid.as_deref().unwrap_or("");
        let owned: Vec<&(&Value, ReplicaSet)> = by_owner
            .get(uid)
            .into_iter()
            .flatten()
            .filter(|(_, r)| r.metadata.namespace.as_deref() == Some(ns))
            .collect();
        let typed_owned: Vec<&ReplicaSet> = owned.iter().map(|(_, r)| r).collect();
        let Some(plan) = deployment::plan(&d, &typed_owned, now) else {
            continue;
        };
        if let Some(rs) = plan.create {
            let replicas = rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0);
            let name = rs.metadata.name.clone().unwrap_or_default();
            let Ok(body) = serde_json::to_value(&rs) else {
                continue;
            };
            match ctl.create("apps", "replicasets", Some(ns), body).await {
                Ok(_) if replicas > 0 => {
                    let msg = format!("Scaled up replica set {name} from 0 to {replicas}");
                    ctl.controller_event(
                        dv,
                        "apps/v1",
                        "Deployment",
                        "deployment-controller",
                        "ScalingReplicaSet",
                        &msg,
                    )
                    .await;
                }
                Ok(_) => {}
                Err(s) if s.reason == "AlreadyExists" => {
                    // A ReplicaSet of that name with another template: bump collisionCount
                    // (the next pass hashes again).
                    let collision = d.status.as_ref().and_then(|s| s.collision_count);
                    let mut next = Value::clone(dv);
                    next["status"]["collisionCount"] = json!(collision.unwrap_or(0) + 1);
                    ctl.write("apps", "deployments", next).await;
                    continue;
                }
                Err(_) => continue,
            }
        }
        let desired = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0);
        for s in &plan.scale {
            if let Some((v, _)) = owned
                .iter()
                .find(|(_, r)| r.metadata.name.as_ref() == Some(&s.name))
            {
                scale(ctl, dv, desired, v, s).await;
            }
        }
        for name in &plan.delete {
            if let Some((v, _)) = owned
                .iter()
                .find(|(_, r)| r.metadata.name.as_ref() == Some(name))
            {
                let _ = ctl.delete("apps", "replicasets", v).await;
            }
        }
        let Ok(status) = serde_json::to_value(&plan.status) else {
            continue;
        };
        let mut next = Value::clone(dv);
        next["status"] = status;
        if let Some(rev) = plan.revision {
            if !next["metadata"]["annotations"].is_object() {
                next["metadata"]["annotations"] = json!({});
            }
            next["metadata"]["annotations"][deployment::REVISION] = json!(rev.to_string());
        }
        if next != **dv {
            ctl.write("apps", "deployments", next).await;
        }
    }
}
