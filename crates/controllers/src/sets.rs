//! The DaemonSet controller (one pod per eligible node, pinned by upstream's `matchFields`
//! node affinity, rolling replacement one node at a time) and the StatefulSet controller (pods
//! `<sts>-<ordinal>` with stable hostnames, OrderedReady or Parallel creation, scale down from
//! the highest ordinal, rolling update from the highest ordinal above the partition).

use super::workloads::template_hash;
use super::{controller_uid, int, is_active, is_ready, meta, Ctl, World};
use k8s_openapi::api::core::v1::{Node, Pod};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use twinstack_kube::pod as kpod;

pub const REVISION_HASH: &str = "controller-revision-hash";

async fn event(ctl: &Ctl, obj: &Value, kind: &str, component: &str, reason: &str, msg: &str) {
    ctl.controller_event(obj, "apps/v1", kind, component, reason, msg)
        .await;
}

fn owner_ref(obj: &Value, kind: &str) -> Value {
    json!([{"apiVersion": "apps/v1", "kind": kind, "name": meta(obj, "name"),
        "uid": meta(obj, "uid"), "controller": true, "blockOwnerDeletion": true}])
}

pub async fn sync(ctl: &Ctl, w: &World) {
    let mut owned: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
    for p in &w.pods {
        if let Some(uid) = controller_uid(p) {
            owned.entry(uid).or_default().push(p);
        }
    }
    for ds in &w.daemonsets {
        if ds.pointer("/metadata/deletionTimestamp").is_none() {
            let pods = owned.get(meta(ds, "uid")).cloned().unwrap_or_default();
            daemonset(ctl, w, ds, &pods).await;
        }
    }
    for sts in &w.statefulsets {
        if sts.pointer("/metadata/deletionTimestamp").is_none() {
            let pods = owned.get(meta(sts, "uid")).cloned().unwrap_or_default();
            statefulset(ctl, sts, &pods).await;
        }
    }
}

// ---------------------------------------------------------------- DaemonSets

/// The node a daemon pod is pinned to (its `matchFields` affinity, or `spec.nodeName`).
pub fn pinned_node(p: &Value) -> Option<String> {
    let terms = p.pointer(
        "/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms",
    )?;
    for t in terms.as_array()? {
        for f in t["matchFields"].as_array().into_iter().flatten() {
            if f["key"] == "metadata.name" && f["operator"] == "In" {
                if let Some(v) = f["values"][0].as_str() {
                    return Some(v.to_string());
                }
            }
        }
    }
    p.pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

/// The tolerations the DaemonSet controller adds to every daemon pod.
fn daemon_tolerations(spec: &mut Value) {
    let add = [
        ("node.kubernetes.io/not-ready", "NoExecute"),
        ("node.kubernetes.io/unreachable", "NoExecute"),
        ("node.kubernetes.io/disk-pressure", "NoSchedule"),
        ("node.kubernetes.io/memory-pressure", "NoSchedule"),
        ("node.kubernetes.io/pid-pressure", "NoSchedule"),
        ("node.kubernetes.io/unschedulable", "NoSchedule"),
    ];
    if !spec["tolerations"].is_array() {
        spec["tolerations"] = json!([]);
    }
    let list = spec["tolerations"].as_array_mut().unwrap();
    for (key, effect) in add {
        if !list
            .iter()
            .any(|t| t["key"] == key && t["effect"] == effect)
        {
            list.push(json!({"key": key, "operator": "Exists", "effect": effect}));
        }
    }
}

fn daemon_pod(ds: &Value, node: &str, hash: &str) -> Value {
    let template = ds.pointer("/spec/template").cloned().unwrap_or(json!({}));
    let mut labels = template
        .pointer("/metadata/labels")
        .cloned()
        .unwrap_or(json!({}));
    labels[REVISION_HASH] = json!(hash);
    labels["pod-template-generation"] = json!(int(ds, "/metadata/generation").to_string());
    let mut spec = template.get("spec").cloned().unwrap_or(json!({}));
    daemon_tolerations(&mut spec);
    spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] = json!({
        "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}]
    });
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "generateName": format!("{}-", meta(ds, "name")),
            "namespace": meta(ds, "namespace"),
            "labels": labels,
            "annotations": template.pointer("/metadata/annotations").cloned().unwrap_or(json!({})),
            "ownerReferences": owner_ref(ds, "DaemonSet"),
        },
        "spec": spec,
    })
}

async fn daemonset(ctl: &Ctl, w: &World, ds: &Value, pods: &[&Value]) {
    let ns = meta(ds, "namespace");
    let template = ds.pointer("/spec/template").cloned().unwrap_or(json!({}));
    let hash = template_hash(&template, None);
    let nodes: Vec<Node> = w
        .nodes
        .iter()
        .filter_map(|n| serde_json::from_value(Value::clone(n)).ok())
        .collect();
    // Nodes whose labels, taints and capacity admit the daemon pod.
    let probe_v = {
        let mut p = daemon_pod(ds, "", &hash);
        if let Some(a) = p
            .pointer_mut("/spec/affinity")
            .and_then(Value::as_object_mut)
        {
            a.remove("nodeAffinity");
        }
        p
    };
    let probe: Option<Pod> = serde_json::from_value(probe_v).ok();
    let eligible: Vec<String> = nodes
        .iter()
        .filter(|n| {
            probe.as_ref().is_some_and(|p| {
                kpod::schedule(p, std::slice::from_ref(*n), &BTreeMap::new()).is_ok()
            })
        })
        .filter_map(|n| n.metadata.name.clone())
        .collect();
    let active: Vec<&Value> = pods.iter().copied().filter(|p| is_active(p)).collect();
    let mut by_node: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for p in &active {
        by_node
            .entry(pinned_node(p).unwrap_or_default())
            .or_default()
            .push(p);
    }
    for n in &eligible {
        if !by_node.contains_key(n) {
            if let Ok(p) = ctl
                .create("", "pods", Some(ns), daemon_pod(ds, n, &hash))
                .await
            {
                event(
                    ctl,
                    ds,
                    "DaemonSet",
                    "daemonset-controller",
                    "SuccessfulCreate",
                    &format!("Created pod: {}", meta(&p, "name")),
                )
                .await;
            }
        }
    }
    for (n, ps) in &by_node {
        let keep = if eligible.contains(n) { 1 } else { 0 };
        for p in ps.iter().skip(keep) {
            if ctl.delete("", "pods", p).await.is_ok() {
                event(
                    ctl,
                    ds,
                    "DaemonSet",
                    "daemonset-controller",
                    "SuccessfulDelete",
                    &format!("Deleted pod: {}", meta(p, "name")),
                )
                .await;
            }
        }
    }
    // Rolling update: replace one outdated pod at a time once every daemon pod is ready.
    let outdated: Vec<&&Value> = active
        .iter()
        .filter(|p| super::labels(p).get(REVISION_HASH) != Some(&hash))
        .collect();
    let on_delete = ds.pointer("/spec/updateStrategy/type") == Some(&json!("OnDelete"));
    let unavailable = active.iter().filter(|p| !is_ready(p)).count()
        + eligible.len().saturating_sub(by_node.len());
    if !on_delete && unavailable == 0 {
        if let Some(p) = outdated.first() {
            let _ = ctl.delete("", "pods", p).await;
        }
    }
    let on_eligible: Vec<&&Value> = active
        .iter()
        .filter(|p| pinned_node(p).is_some_and(|n| eligible.contains(&n)))
        .collect();
    let ready = on_eligible.iter().filter(|p| is_ready(p)).count();
    let updated = on_eligible
        .iter()
        .filter(|p| super::labels(p).get(REVISION_HASH) == Some(&hash))
        .count();
    let mut status = json!({
        "currentNumberScheduled": on_eligible.len(),
        "desiredNumberScheduled": eligible.len(),
        "numberMisscheduled": 0,
        "numberReady": ready,
        "observedGeneration": int(ds, "/metadata/generation"),
    });
    if ready > 0 {
        status["numberAvailable"] = json!(ready);
    }
    if updated > 0 {
        status["updatedNumberScheduled"] = json!(updated);
    }
    if eligible.len() > ready {
        status["numberUnavailable"] = json!(eligible.len() - ready);
    }
    if ds.get("status") != Some(&status) {
        let mut next = ds.clone();
        next["status"] = status;
        ctl.write("apps", "daemonsets", next).await;
    }
}

// ---------------------------------------------------------------- StatefulSets

fn ordinal(sts: &str, pod: &str) -> Option<i64> {
    pod.strip_prefix(sts)?.strip_prefix('-')?.parse().ok()
}

async fn statefulset(ctl: &Ctl, sts: &Value, pods: &[&Value]) {
    let name = meta(sts, "name");
    let ns = meta(sts, "namespace");
    let replicas = int(sts, "/spec/replicas").max(0);
    let template = sts.pointer("/spec/template").cloned().unwrap_or(json!({}));
    let update_revision = format!("{name}-{}", template_hash(&template, None));
    let parallel = sts.pointer("/spec/podManagementPolicy") == Some(&json!("Parallel"));
    let partition = int(sts, "/spec/updateStrategy/rollingUpdate/partition");
    let on_delete = sts.pointer("/spec/updateStrategy/type") == Some(&json!("OnDelete"));
    let mut by_ord: BTreeMap<i64, &Value> = BTreeMap::new();
    for p in pods {
        if let Some(o) = ordinal(name, meta(p, "name")) {
            by_ord.insert(o, p);
        }
    }
    let healthy = |p: &Value| is_active(p) && is_ready(p);
    // Create missing ordinals (in order, waiting for readiness unless Parallel).
    for i in 0..replicas {
        match by_ord.get(&i) {
            Some(p) if healthy(p) => continue,
            Some(p) if !is_active(p) => {
                // Terminating (or terminal): wait for it to go, then recreate.
                if !parallel {
                    break;
                }
            }
            Some(_) => {
                if parallel {
                    continue;
                }
                break;
            }
            None => {
                let pod_name = format!("{name}-{i}");
                let mut labels = template
                    .pointer("/metadata/labels")
                    .cloned()
                    .unwrap_or(json!({}));
                labels[REVISION_HASH] = json!(update_revision);
                labels["statefulset.kubernetes.io/pod-name"] = json!(pod_name);
                labels["apps.kubernetes.io/pod-index"] = json!(i.to_string());
                let mut spec = template.get("spec").cloned().unwrap_or(json!({}));
                spec["hostname"] = json!(pod_name);
                if let Some(svc) = sts
                    .pointer("/spec/serviceName")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                {
                    spec["subdomain"] = json!(svc);
                }
                let pod = json!({
                    "apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": pod_name, "namespace": ns, "labels": labels,
                        "annotations": template.pointer("/metadata/annotations").cloned().unwrap_or(json!({})),
                        "ownerReferences": owner_ref(sts, "StatefulSet")},
                    "spec": spec,
                });
                if ctl.create("", "pods", Some(ns), pod).await.is_ok() {
                    event(
                        ctl,
                        sts,
                        "StatefulSet",
                        "statefulset-controller",
                        "SuccessfulCreate",
                        &format!("create Pod {pod_name} in StatefulSet {name} successful"),
                    )
                    .await;
                }
                if !parallel {
                    break;
                }
            }
        }
    }
    let all_healthy = (0..replicas).all(|i| by_ord.get(&i).is_some_and(|p| healthy(p)));
    // Scale down from the highest ordinal.
    let extra: Vec<&&Value> = by_ord
        .iter()
        .rev()
        .filter(|(o, p)| **o >= replicas && is_active(p))
        .map(|(_, p)| p)
        .collect();
    for p in extra.iter().take(if parallel { extra.len() } else { 1 }) {
        if (parallel || all_healthy) && ctl.delete("", "pods", p).await.is_ok() {
            event(
                ctl,
                sts,
                "StatefulSet",
                "statefulset-controller",
                "SuccessfulDelete",
                &format!(
                    "delete Pod {} in StatefulSet {name} successful",
                    meta(p, "name")
                ),
            )
            .await;
        }
    }
    // Rolling update: the highest outdated ordinal at or above the partition, one at a time.
    if !on_delete && all_healthy && extra.is_empty() {
        if let Some((_, p)) = by_ord.iter().rev().find(|(o, p)| {
            **o < replicas
                && **o >= partition
                && super::labels(p).get(REVISION_HASH) != Some(&update_revision)
        }) {
            let _ = ctl.delete("", "pods", p).await;
        }
    }
    let active: Vec<&&Value> = by_ord.values().filter(|p| is_active(p)).collect();
    let ready = active.iter().filter(|p| is_ready(p)).count() as i64;
    let updated = active
        .iter()
        .filter(|p| super::labels(p).get(REVISION_HASH) == Some(&update_revision))
        .count() as i64;
    let mut current_revision = sts
        .pointer("/status/currentRevision")
        .and_then(Value::as_str)
        .unwrap_or(&update_revision)
        .to_string();
    if updated == replicas && ready == replicas && active.len() as i64 == replicas {
        current_revision = update_revision.clone();
    }
    let current = active
        .iter()
        .filter(|p| super::labels(p).get(REVISION_HASH) == Some(&current_revision))
        .count() as i64;
    let mut status = json!({
        "replicas": active.len(),
        "observedGeneration": int(sts, "/metadata/generation"),
        "currentRevision": current_revision,
        "updateRevision": update_revision,
        "collisionCount": 0,
    });
    if ready > 0 {
        status["readyReplicas"] = json!(ready);
        status["availableReplicas"] = json!(ready);
    } else {
        status["availableReplicas"] = json!(0);
    }
    if current > 0 {
        status["currentReplicas"] = json!(current);
    }
    if updated > 0 {
        status["updatedReplicas"] = json!(updated);
    }
    if sts.get("status") != Some(&status) {
        let mut next = sts.clone();
        next["status"] = status;
        ctl.write("apps", "statefulsets", next).await;
    }
}
