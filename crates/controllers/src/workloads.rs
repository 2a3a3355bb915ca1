//! The ReplicaSet controller (the same code runs the ReplicationControllers) and the
//! Deployment controller. What they decide is [`twinstack_kube::workloads::replicaset`] and
//! [`twinstack_kube::workloads::deployment`]; here the snapshot is gathered and the plan
//! carried out (creates and deletes with their events, scales, one status write).

use super::{meta, name_of, Ctl, World};
use futures::StreamExt;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;
use std::collections::BTreeMap;
use twinstack_kube::workloads::deployment::{self, DESIRED_REPLICAS};
use twinstack_kube::workloads::{replicaset, PodSummary};

/// Creates and deletes in flight at once (they share the store's group commits).
const CONCURRENCY: usize = 64;

pub async fn sync(ctl: &Ctl, w: &World) {
    let now = jiff::Timestamp::now();
    deployments(ctl, w, now).await;
    for rs in &w.lists.replicasets {
        replica_set(ctl, w, &REPLICA_SET, rs, now).await;
    }
    for rc in &w.lists.replicationcontrollers {
        let rs = replicaset::from_replication_controller(rc);
        replica_set(ctl, w, &REPLICATION_CONTROLLER, &rs, now).await;
    }
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
    owner: &ObjectMeta,
    api_version: &str,
    kind: &str,
    component: &str,
    pods: Vec<k8s_openapi::api::core::v1::Pod>,
) {
    let ns = name_of(&owner.namespace);
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
    owner: &ObjectMeta,
    api_version: &str,
    kind: &str,
    component: &str,
    pods: &[&PodSummary],
) {
    async fn delete_one(
        ctl: &Ctl,
        owner: &ObjectMeta,
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

/// One ReplicaSet (or ReplicationController, run as the ReplicaSet `rs`).
async fn replica_set(ctl: &Ctl, w: &World, k: &ReplicaKind, rs: &ReplicaSet, now: jiff::Timestamp) {
    if rs.metadata.deletion_timestamp.is_some() {
        return;
    }
    let m = &rs.metadata;
    let pods = w.owned_pods(name_of(&m.uid));
    let plan = replicaset::plan(rs, &pods, now);
    let new_pods = (0..plan.create)
        .map(|_| replicaset::new_pod(rs, k.api_version, k.kind))
        .collect();
    create_pods(ctl, m, k.api_version, k.kind, k.component, new_pods).await;
    delete_pods(ctl, m, k.api_version, k.kind, k.component, &plan.delete).await;
    // The status goes into the object as stored (a ReplicationController is found again).
    let (stored, status) = if k.plural == REPLICATION_CONTROLLER.plural {
        let rc = w
            .lists
            .replicationcontrollers
            .iter()
            .find(|rc| rc.metadata.uid == m.uid)
            .and_then(|rc| serde_json::to_value(&**rc).ok());
        let st = replicaset::to_replication_controller_status(plan.status);
        (rc, serde_json::to_value(st))
    } else {
        (
            serde_json::to_value(rs).ok(),
            serde_json::to_value(plan.status),
        )
    };
    if let (Some(stored), Ok(status)) = (stored, status) {
        write_status(ctl, k.group, k.plural, &stored, status).await;
    }
}

/// Writes `status` into the stored object `v` unless it already has it.
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
async fn scale(ctl: &Ctl, d: &Deployment, rs: &ReplicaSet, s: &deployment::Scale) {
    let mut next = rs.clone();
    let desired = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0);
    next.spec.get_or_insert_with(Default::default).replicas = Some(s.to);
    next.metadata.generation = Some(rs.metadata.generation.unwrap_or(0).max(1) + 1);
    if let Some(a) = next.metadata.annotations.as_mut() {
        a.insert(DESIRED_REPLICAS.into(), desired.to_string());
    }
    let Ok(next) = serde_json::to_value(next) else {
        return;
    };
    if ctl.write("apps", "replicasets", next).await {
        ctl.controller_event(
            &d.metadata,
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
    // The ReplicaSets not being deleted, by their controller's uid.
    let mut by_owner: BTreeMap<&str, Vec<&ReplicaSet>> = BTreeMap::new();
    for r in &w.lists.replicasets {
        if let Some(uid) = super::controller_uid(&r.metadata) {
            if r.metadata.deletion_timestamp.is_none() {
                by_owner.entry(uid).or_default().push(r);
            }
        }
    }
    for d in &w.lists.deployments {
        let m = &d.metadata;
        if m.deletion_timestamp.is_some() {
            continue;
        }
        let ns = name_of(&m.namespace);
        let owned: Vec<&ReplicaSet> = by_owner
            .get(name_of(&m.uid))
            .into_iter()
            .flatten()
            .copied()
            .filter(|r| name_of(&r.metadata.namespace) == ns)
            .collect();
        let Some(plan) = deployment::plan(d, &owned, now) else {
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
                        m,
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
                    let mut next = Deployment::clone(d);
                    let st = next.status.get_or_insert_with(Default::default);
                    st.collision_count = Some(st.collision_count.unwrap_or(0) + 1);
                    if let Ok(next) = serde_json::to_value(next) {
                        ctl.write("apps", "deployments", next).await;
                    }
                    continue;
                }
                Err(_) => continue,
            }
        }
        for s in &plan.scale {
            if let Some(r) = owned
                .iter()
                .find(|r| r.metadata.name.as_ref() == Some(&s.name))
            {
                scale(ctl, d, r, s).await;
            }
        }
        for name in &plan.delete {
            if let Some(r) = owned
                .iter()
                .find(|r| r.metadata.name.as_ref() == Some(name))
            {
                let _ = ctl.delete("apps", "replicasets", &r.metadata).await;
            }
        }
        let mut next = Deployment::clone(d);
        next.status = Some(plan.status);
        if let Some(rev) = plan.revision {
            next.metadata
                .annotations
                .get_or_insert_with(Default::default)
                .insert(deployment::REVISION.into(), rev.to_string());
        }
        if next != **d {
            if let Ok(next) = serde_json::to_value(next) {
                ctl.write("apps", "deployments", next).await;
            }
        }
    }
}
