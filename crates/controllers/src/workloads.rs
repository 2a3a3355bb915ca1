//! The ReplicaSet controller (pods named `<rs>-<5 chars>` with the ReplicaSet as controller
//! owner, kept at `spec.replicas`; the same code runs the ReplicationControllers) and the Deployment controller (a ReplicaSet per template
//! named `<deployment>-<pod-template-hash>`, rolling replacement within maxSurge and
//! maxUnavailable or Recreate, scaling, status and conditions as `kubectl rollout status`
//! reads them, revision history limited by `revisionHistoryLimit`).

use super::{controller_uid, int, is_active, is_ready, labels, meta, Ctl, World};
use futures::StreamExt;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub const HASH_LABEL: &str = "pod-template-hash";
pub const REVISION: &str = "deployment.kubernetes.io/revision";
/// Pods a ReplicaSet creates or deletes in one pass (upstream's burstReplicas).
const BURST: usize = 500;

/// Ready for at least `min_ready` seconds (`podutil.IsPodAvailable`).
fn is_available(p: &Value, min_ready: i64, now: jiff::Timestamp) -> bool {
    if !is_ready(p) {
        return false;
    }
    if min_ready <= 0 {
        return true;
    }
    p.pointer("/status/conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|c| c["type"] == "Ready")
        .and_then(|c| c.get("lastTransitionTime"))
        .and_then(Value::as_str)
        .and_then(|t| t.parse::<jiff::Timestamp>().ok())
        .is_some_and(|t| t.as_second() + min_ready <= now.as_second())
}

pub async fn sync(ctl: &Ctl, w: &World) {
    deployments(ctl, w).await;
    replica_controller(ctl, w, &REPLICA_SET, &w.replicasets).await;
    replica_controller(ctl, w, &REPLICATION_CONTROLLER, &w.replicationcontrollers).await;
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

// ---------------------------------------------------------------- ReplicaSets

/// Deletion preference (`ActivePods` ordering): unscheduled, pending, not ready, then the
/// newest first.
fn delete_rank(p: &Value) -> (u8, u8, u8, std::cmp::Reverse<String>) {
    let unscheduled = p
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty);
    let pending = p.pointer("/status/phase").and_then(Value::as_str) == Some("Pending");
    (
        u8::from(!unscheduled),
        u8::from(!pending),
        u8::from(is_ready(p)),
        std::cmp::Reverse(meta(p, "creationTimestamp").to_string()),
    )
}

/// The ReplicaSet controller's delete of one of its pods, with its event.
async fn delete_pod(ctl: &Ctl, k: &ReplicaKind, rs: &Value, p: &Value) {
    if ctl.delete("", "pods", p).await.is_ok() {
        ctl.controller_event(
            rs,
            k.api_version,
            k.kind,
            k.component,
            "SuccessfulDelete",
            &format!("Deleted pod: {}", meta(p, "name")),
        )
        .await;
    }
}

/// The ReplicaSet controller over the ReplicaSets or the ReplicationControllers (`k`).
async fn replica_controller(ctl: &Ctl, w: &World, k: &ReplicaKind, sets: &[std::sync::Arc<Value>]) {
    let now = jiff::Timestamp::now();
    let mut owned: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
    for p in &w.pods {
        if let Some(uid) = controller_uid(p) {
            owned.entry(uid).or_default().push(p);
        }
    }
    for rs in sets {
        if rs.pointer("/metadata/deletionTimestamp").is_some() {
            continue;
        }
        let uid = meta(rs, "uid");
        let ns = meta(rs, "namespace");
        let pods: Vec<&Value> = owned.get(uid).cloned().unwrap_or_default();
        let active: Vec<&Value> = pods.iter().copied().filter(|p| is_active(p)).collect();
        let desired = int(rs, "/spec/replicas").max(0) as usize;
        if active.len() < desired {
            let template = rs.pointer("/spec/template").cloned().unwrap_or(json!({}));
            let n = (desired - active.len()).min(BURST);
            let creates = (0..n).map(|_| {
                let pod = json!({
                    "apiVersion": "v1", "kind": "Pod",
                    "metadata": {
                        "generateName": format!("{}-", meta(rs, "name")),
                        "namespace": ns,
                        "labels": template.pointer("/metadata/labels").cloned().unwrap_or(json!({})),
                        "annotations": template.pointer("/metadata/annotations").cloned().unwrap_or(json!({})),
                        "ownerReferences": [{"apiVersion": k.api_version, "kind": k.kind,
                            "name": meta(rs, "name"), "uid": uid, "controller": true, "blockOwnerDeletion": true}],
                    },
                    "spec": template.get("spec").cloned().unwrap_or(json!({})),
                });
                async move {
                    let (reason, msg) = match ctl.create("", "pods", Some(ns), pod).await {
                        Ok(p) => ("SuccessfulCreate", format!("Created pod: {}", meta(&p, "name"))),
                        Err(s) => ("FailedCreate", format!("Error creating: {}", s.message)),
                    };
                    ctl.controller_event(rs, k.api_version, k.kind, k.component, reason, &msg).await;
                }
            });
            // Concurrent creates share the store's group commits.
            futures::stream::iter(creates)
                .buffer_unordered(64)
                .collect::<Vec<()>>()
                .await;
        } else if active.len() > desired {
            let mut victims = active.clone();
            victims.sort_by_key(|p| delete_rank(p));
            let deletes: Vec<_> = victims
                .into_iter()
                .take((active.len() - desired).min(BURST))
                .map(|p| delete_pod(ctl, k, rs, p))
                .collect();
            futures::stream::iter(deletes)
                .buffer_unordered(64)
                .collect::<Vec<()>>()
                .await;
        }
        // Status from the pods as they are now (the next pass sees the writes above).
        let min_ready = int(rs, "/spec/minReadySeconds");
        let tlabels: BTreeMap<String, String> = rs
            .pointer("/spec/template/metadata/labels")
            .and_then(|l| serde_json::from_value(l.clone()).ok())
            .unwrap_or_default();
        let fully = active
            .iter()
            .filter(|p| {
                let l = labels(p);
                tlabels.iter().all(|(k, v)| l.get(k) == Some(v))
            })
            .count();
        let ready = active.iter().filter(|p| is_ready(p)).count();
        let available = active
            .iter()
            .filter(|p| is_available(p, min_ready, now))
            .count();
        let mut status = json!({
            "replicas": active.len(),
            "observedGeneration": int(rs, "/metadata/generation"),
        });
        if fully > 0 {
            status["fullyLabeledReplicas"] = json!(fully);
        }
        if ready > 0 {
            status["readyReplicas"] = json!(ready);
        }
        if available > 0 {
            status["availableReplicas"] = json!(available);
        }
        if rs.get("status") != Some(&status) {
            let mut next = Value::clone(rs);
            next["status"] = status;
            ctl.write(k.group, k.plural, next).await;
        }
    }
}

// ---------------------------------------------------------------- Deployments

/// `rand.SafeEncodeString`.
fn safe_encode(s: &str) -> String {
    const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    s.bytes()
        .map(|b| ALPHANUMS[b as usize % ALPHANUMS.len()] as char)
        .collect()
}

/// `controller.ComputeHash`: FNV-32a over the template (canonical JSON here, spew upstream)
/// and the collision count, safe-encoded.
pub fn template_hash(template: &Value, collision: Option<i64>) -> String {
    let mut h: u32 = 0x811c9dc5;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            h ^= *b as u32;
            h = h.wrapping_mul(0x01000193);
        }
    };
    feed(
        serde_json::to_string(template)
            .unwrap_or_default()
            .as_bytes(),
    );
    if let Some(c) = collision {
        feed(&(c as u32).to_le_bytes());
    }
    safe_encode(&h.to_string())
}

fn without_hash(template: &Value) -> Value {
    let mut t = template.clone();
    if let Some(l) = t
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        l.remove(HASH_LABEL);
    }
    t
}

/// `intstr.GetScaledValueFromIntOrPercent`.
fn scaled(v: Option<&Value>, total: i64, round_up: bool) -> i64 {
    let v: Option<IntOrString> = v.and_then(|v| serde_json::from_value(v.clone()).ok());
    match v {
        None => 0,
        Some(IntOrString::Int(i)) => i as i64,
        Some(IntOrString::String(s)) => {
            let Some(p) = s.strip_suffix('%').and_then(|p| p.parse::<i64>().ok()) else {
                return 0;
            };
            if round_up {
                (p * total + 99) / 100
            } else {
                p * total / 100
            }
        }
    }
}

/// (maxSurge, maxUnavailable) of a RollingUpdate deployment (`ResolveFenceposts`).
fn fenceposts(d: &Value, desired: i64) -> (i64, i64) {
    let ru = d.pointer("/spec/strategy/rollingUpdate");
    let surge = scaled(ru.and_then(|r| r.get("maxSurge")), desired, true);
    let mut unavailable = scaled(ru.and_then(|r| r.get("maxUnavailable")), desired, false);
    if surge == 0 && unavailable == 0 {
        unavailable = 1;
    }
    (surge, unavailable)
}

fn revision_of(rs: &Value) -> i64 {
    rs.pointer("/metadata/annotations")
        .and_then(|a| a.get(REVISION))
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

async fn scale(ctl: &Ctl, d: &Value, rs: &Value, to: i64) {
    let from = int(rs, "/spec/replicas");
    if from == to {
        return;
    }
    let mut next = rs.clone();
    next["spec"]["replicas"] = json!(to);
    let gen = int(rs, "/metadata/generation").max(1);
    next["metadata"]["generation"] = json!(gen + 1);
    if let Some(a) = next
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        a.insert(
            "deployment.kubernetes.io/desired-replicas".into(),
            json!(int(d, "/spec/replicas").to_string()),
        );
    }
    if ctl.write("apps", "replicasets", next).await {
        let verb = if to > from { "up" } else { "down" };
        ctl.controller_event(
            d,
            "apps/v1",
            "Deployment",
            "deployment-controller",
            "ScalingReplicaSet",
            &format!(
                "Scaled {verb} replica set {} from {from} to {to}",
                meta(rs, "name")
            ),
        )
        .await;
    }
}

fn condition(
    old: Option<&Value>,
    ty: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: &str,
) -> Value {
    let prev = old
        .and_then(|s| s.get("conditions"))
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| c["type"] == ty));
    let same_status = prev.is_some_and(|c| c["status"] == status);
    let same_all =
        same_status && prev.is_some_and(|c| c["reason"] == reason && c["message"] == message);
    let transition = if same_status {
        prev.and_then(|c| c.get("lastTransitionTime"))
            .cloned()
            .unwrap_or(json!(now))
    } else {
        json!(now)
    };
    let update = if same_all {
        prev.and_then(|c| c.get("lastUpdateTime"))
            .cloned()
            .unwrap_or(json!(now))
    } else {
        json!(now)
    };
    json!({"type": ty, "status": status, "lastUpdateTime": update, "lastTransitionTime": transition,
           "reason": reason, "message": message})
}

async fn deployments(ctl: &Ctl, w: &World) {
    let now_s = twinstack_registry::registry::now_rfc3339();
    for d in &w.deployments {
        if d.pointer("/metadata/deletionTimestamp").is_some() {
            continue;
        }
        let uid = meta(d, "uid");
        let ns = meta(d, "namespace");
        let name = meta(d, "name");
        let desired = int(d, "/spec/replicas").max(0);
        let template = d.pointer("/spec/template").cloned().unwrap_or(json!({}));
        let owned: Vec<&Value> = w
            .replicasets
            .iter()
            .filter(|r| meta(r, "namespace") == ns && controller_uid(r) == Some(uid))
            .filter(|r| r.pointer("/metadata/deletionTimestamp").is_none())
            .map(|r| &**r)
            .collect();
        let new_rs = owned
            .iter()
            .copied()
            .find(|r| r.pointer("/spec/template").map(without_hash).as_ref() == Some(&template));
        let mut old: Vec<&Value> = owned
            .iter()
            .copied()
            .filter(|r| Some(meta(r, "uid")) != new_rs.map(|n| meta(n, "uid")))
            .collect();
        old.sort_by_key(|r| {
            (
                meta(r, "creationTimestamp").to_string(),
                meta(r, "name").to_string(),
            )
        });
        let recreate = d.pointer("/spec/strategy/type").and_then(Value::as_str) == Some("Recreate");
        let (surge, unavailable) = if recreate {
            (0, desired)
        } else {
            fenceposts(d, desired)
        };
        let paused = d.pointer("/spec/paused").and_then(Value::as_bool) == Some(true);
        let Some(new_rs) = new_rs else {
            if paused {
                continue;
            }
            // A new ReplicaSet for the current template.
            let old_spec: i64 = old.iter().map(|r| int(r, "/spec/replicas")).sum();
            let old_active: i64 = old.iter().map(|r| int(r, "/status/replicas")).sum();
            let replicas = if recreate {
                if old_spec + old_active > 0 {
                    0
                } else {
                    desired
                }
            } else if old_spec == 0 {
                desired
            } else {
                (desired + surge - old_spec).clamp(0, desired)
            };
            let collision = d.pointer("/status/collisionCount").and_then(Value::as_i64);
            let hash = template_hash(&template, collision);
            let mut t = template.clone();
            t["metadata"]["labels"][HASH_LABEL] = json!(hash);
            let mut sel = d.pointer("/spec/selector").cloned().unwrap_or(json!({}));
            sel["matchLabels"][HASH_LABEL] = json!(hash);
            let revision = owned.iter().map(|r| revision_of(r)).max().unwrap_or(0) + 1;
            let mut rs_labels = t.pointer("/metadata/labels").cloned().unwrap_or(json!({}));
            rs_labels[HASH_LABEL] = json!(hash);
            let rs_name = format!("{name}-{hash}");
            let rs = json!({
                "apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": {
                    "name": rs_name, "namespace": ns, "labels": rs_labels,
                    "annotations": {
                        "deployment.kubernetes.io/desired-replicas": desired.to_string(),
                        "deployment.kubernetes.io/max-replicas": (desired + surge).to_string(),
                        REVISION: revision.to_string(),
                    },
                    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name,
                        "uid": uid, "controller": true, "blockOwnerDeletion": true}],
                },
                "spec": {"replicas": replicas, "minReadySeconds": int(d, "/spec/minReadySeconds"),
                         "selector": sel, "template": t},
            });
            match ctl.create("apps", "replicasets", Some(ns), rs).await {
                Ok(_) => {
                    if replicas > 0 {
                        ctl.controller_event(
                            d,
                            "apps/v1",
                            "Deployment",
                            "deployment-controller",
                            "ScalingReplicaSet",
                            &format!("Scaled up replica set {rs_name} from 0 to {replicas}"),
                        )
                        .await;
                    }
                }
                Err(s) if s.reason == "AlreadyExists" => {
                    // A ReplicaSet of that name with another template: bump collisionCount.
                    let mut next = Value::clone(d);
                    next["status"]["collisionCount"] = json!(collision.unwrap_or(0) + 1);
                    ctl.write("apps", "deployments", next).await;
                    continue;
                }
                Err(_) => continue,
            }
            write_status(
                ctl,
                d,
                &owned,
                None,
                desired,
                unavailable,
                Some(&rs_name),
                &now_s,
            )
            .await;
            continue;
        };
        if !paused {
            let new_spec = int(new_rs, "/spec/replicas");
            if recreate {
                for r in &old {
                    if int(r, "/spec/replicas") > 0 {
                        scale(ctl, d, r, 0).await;
                    }
                }
                let old_pods: i64 = old.iter().map(|r| int(r, "/status/replicas")).sum();
                let old_spec: i64 = old.iter().map(|r| int(r, "/spec/replicas")).sum();
                if old_pods == 0 && old_spec == 0 && new_spec != desired {
                    scale(ctl, d, new_rs, desired).await;
                }
            } else {
                let old_spec: i64 = old.iter().map(|r| int(r, "/spec/replicas")).sum();
                // Scale the new ReplicaSet up within maxSurge (or down when replicas shrank).
                let mut new_target = new_spec;
                if old_spec == 0 {
                    new_target = desired;
                } else if new_spec < desired {
                    let allowed = desired + surge - (old_spec + new_spec);
                    if allowed > 0 {
                        new_target = (new_spec + allowed).min(desired);
                    }
                } else if new_spec > desired {
                    new_target = desired;
                }
                if new_target != new_spec {
                    scale(ctl, d, new_rs, new_target).await;
                }
                // Scale old ReplicaSets down while keeping minAvailable.
                if old_spec > 0 {
                    let min_available = desired - unavailable;
                    let new_unavailable =
                        (new_target - int(new_rs, "/status/availableReplicas")).max(0);
                    let all_pods = old_spec + new_target;
                    let mut budget = all_pods - min_available - new_unavailable;
                    let mut targets: Vec<i64> =
                        old.iter().map(|r| int(r, "/spec/replicas")).collect();
                    if budget > 0 {
                        // Unhealthy replicas of old ReplicaSets go first.
                        for (i, r) in old.iter().enumerate() {
                            let unhealthy =
                                (targets[i] - int(r, "/status/availableReplicas")).max(0);
                            let n = unhealthy.min(budget);
                            targets[i] -= n;
                            budget -= n;
                        }
                        let available: i64 = old
                            .iter()
                            .map(|r| int(r, "/status/availableReplicas"))
                            .sum::<i64>()
                            + int(new_rs, "/status/availableReplicas");
                        let mut more = (available - min_available).max(0).min(budget);
                        for t in targets.iter_mut() {
                            let n = (*t).min(more);
                            *t -= n;
                            more -= n;
                        }
                    }
                    for (i, r) in old.iter().enumerate() {
                        if targets[i] != int(r, "/spec/replicas") {
                            scale(ctl, d, r, targets[i]).await;
                        }
                    }
                }
            }
            // Revision history: old ReplicaSets at zero beyond revisionHistoryLimit go.
            let limit = d
                .pointer("/spec/revisionHistoryLimit")
                .and_then(Value::as_i64)
                .unwrap_or(10);
            let idle: Vec<&&Value> = old
                .iter()
                .filter(|r| int(r, "/spec/replicas") == 0 && int(r, "/status/replicas") == 0)
                .collect();
            if idle.len() as i64 > limit {
                for r in idle.iter().take(idle.len() - limit.max(0) as usize) {
                    let _ = ctl.delete("apps", "replicasets", r).await;
                }
            }
        }
        write_status(
            ctl,
            d,
            &owned,
            Some(new_rs),
            desired,
            unavailable,
            None,
            &now_s,
        )
        .await;
    }
}

#[allow(clippy::too_many_arguments)]
async fn write_status(
    ctl: &Ctl,
    d: &Value,
    owned: &[&Value],
    new_rs: Option<&Value>,
    desired: i64,
    max_unavailable: i64,
    created: Option<&str>,
    now: &str,
) {
    let replicas: i64 = owned.iter().map(|r| int(r, "/status/replicas")).sum();
    let ready: i64 = owned.iter().map(|r| int(r, "/status/readyReplicas")).sum();
    let available: i64 = owned
        .iter()
        .map(|r| int(r, "/status/availableReplicas"))
        .sum();
    let updated = new_rs.map_or(0, |r| int(r, "/status/replicas"));
    let old_status = d.get("status");
    let mut st = json!({"observedGeneration": int(d, "/metadata/generation"), "replicas": replicas,
        "updatedReplicas": updated});
    if ready > 0 {
        st["readyReplicas"] = json!(ready);
    }
    if available > 0 {
        st["availableReplicas"] = json!(available);
    }
    if desired - available > 0 {
        st["unavailableReplicas"] = json!(desired - available);
    }
    if let Some(c) = old_status.and_then(|s| s.get("collisionCount")) {
        st["collisionCount"] = c.clone();
    }
    let avail = if available >= desired - max_unavailable {
        condition(
            old_status,
            "Available",
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.",
            now,
        )
    } else {
        condition(
            old_status,
            "Available",
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
            now,
        )
    };
    let rs_name = new_rs
        .map(|r| meta(r, "name").to_string())
        .or(created.map(String::from));
    let complete = new_rs.is_some()
        && updated == desired
        && replicas == desired
        && available >= desired
        && new_rs.is_some_and(|r| int(r, "/spec/replicas") == desired);
    let progress = match (&rs_name, created) {
        (Some(n), Some(_)) => condition(
            old_status,
            "Progressing",
            "True",
            "NewReplicaSetCreated",
            &format!("Created new replica set \"{n}\""),
            now,
        ),
        (Some(n), None) if complete => condition(
            old_status,
            "Progressing",
            "True",
            "NewReplicaSetAvailable",
            &format!("ReplicaSet \"{n}\" has successfully progressed."),
            now,
        ),
        (Some(n), None) => condition(
            old_status,
            "Progressing",
            "True",
            "ReplicaSetUpdated",
            &format!("ReplicaSet \"{n}\" is progressing."),
            now,
        ),
        (None, _) => condition(
            old_status,
            "Progressing",
            "True",
            "ReplicaSetUpdated",
            "",
            now,
        ),
    };
    // Upstream lists Available first, then Progressing.
    st["conditions"] = json!([avail, progress]);
    let mut next = d.clone();
    next["status"] = st;
    if let Some(r) = new_rs {
        let rev = revision_of(r);
        if rev > 0 {
            if !next["metadata"]["annotations"].is_object() {
                next["metadata"]["annotations"] = json!({});
            }
            next["metadata"]["annotations"][REVISION] = json!(rev.to_string());
        }
    }
    if &next != d {
        ctl.write("apps", "deployments", next).await;
    }
}
