//! The garbage collector: a dependent (pod, ReplicaSet, EndpointSlice) whose every owner is gone
//! (no object of the owner's kind with the owner's name and uid) is deleted in the background,
//! as kube-controller-manager's garbage collector does after a `Background` delete.

use super::{meta, Ctl, World};
use futures::StreamExt;
use serde_json::Value;
use std::collections::BTreeSet;

pub async fn sync(ctl: &Ctl, w: &World) {
    let mut uids: BTreeSet<&str> = BTreeSet::new();
    for v in [
        &w.pods,
        &w.services,
        &w.replicasets,
        &w.deployments,
        &w.nodes,
        &w.slices,
        &w.statefulsets,
        &w.daemonsets,
        &w.jobs,
        &w.replicationcontrollers,
    ] {
        uids.extend(v.iter().map(|o| meta(o, "uid")));
    }
    let sets: [(&str, &str, &Vec<std::sync::Arc<Value>>); 3] = [
        ("apps", "replicasets", &w.replicasets),
        ("", "pods", &w.pods),
        ("discovery.k8s.io", "endpointslices", &w.slices),
    ];
    let mut orphans: Vec<(&str, &str, &Value)> = Vec::new();
    for (group, plural, objs) in sets {
        for o in objs.iter() {
            let Some(refs) = o
                .pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .filter(|r| !r.is_empty())
            else {
                continue;
            };
            if o.pointer("/metadata/deletionTimestamp").is_some() {
                continue;
            }
            let all_gone = refs.iter().all(|r| !owner_exists(ctl, &uids, o, r));
            if all_gone {
                orphans.push((group, plural, o));
            }
        }
    }
    // Concurrent deletes share the store's group commits.
    futures::stream::iter(orphans)
        .for_each_concurrent(64, |(group, plural, o)| async move {
            let _ = ctl.delete(group, plural, o).await;
        })
        .await;
}

/// Whether the owner a reference names exists. Owners of kinds twinstack does not serve are
/// assumed to exist (the collector cannot tell).
fn owner_exists(ctl: &Ctl, known: &BTreeSet<&str>, dependent: &Value, r: &Value) -> bool {
    let uid = r.get("uid").and_then(Value::as_str).unwrap_or("");
    if known.contains(uid) {
        return true;
    }
    let api_version = r.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind_name = r.get("kind").and_then(Value::as_str).unwrap_or("");
    let name = r.get("name").and_then(Value::as_str).unwrap_or("");
    let (group, version) = match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    };
    let Some(kind) = ctl.reg.kinds().iter().find(|k| {
        k.info().group == group && k.info().version == version && k.info().kind == kind_name
    }) else {
        return true;
    };
    let ns = kind.info().namespaced.then(|| meta(dependent, "namespace"));
    match ctl.reg.get(&ctl.rt, kind.as_ref(), ns, name) {
        Ok(o) => meta(&o, "uid") == uid,
        Err(_) => false,
    }
}
