//! The EndpointSlice controller (one slice per address family of each Service with a selector,
//! `twinstack_kube::endpointslices::{desired_slices, reconcile}`) and the legacy Endpoints
//! controller (primary family only, `legacy_endpoints`).
//!
//! Only the Services in [`World::dirty_services`] are reconciled (all of them on a resync);
//! their existing slices and Endpoints are read whole from the store, the pods come from the
//! informer's projections (which keep every field the endpoint rules read).

use super::{meta, Ctl, World};
use k8s_openapi::api::core::v1::{Endpoints, Node, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use twinstack_kube::endpointslices::{self as eps, LABEL_SERVICE_NAME};

/// Services reconciled concurrently (one chunk) in one pass.
const CONCURRENCY: usize = 32;

pub async fn sync(ctl: &Ctl, w: &World) {
    let wanted = |ns: &str, name: &str| {
        w.dirty_services
            .as_ref()
            .is_none_or(|d| d.contains(&(ns.to_string(), name.to_string())))
    };
    let services: Vec<&Arc<Value>> = w
        .services
        .iter()
        .filter(|s| wanted(meta(s, "namespace"), meta(s, "name")))
        .collect();
    if !services.is_empty() {
        let nodes: Vec<Node> = w
            .nodes
            .iter()
            .filter_map(|n| serde_json::from_value(Value::clone(n)).ok())
            .collect();
        // Pods by (namespace, label, value): a selector reads the shortest of its lists.
        let mut by_label: HashMap<(&str, &str, &str), Vec<&Arc<Value>>> = HashMap::new();
        for p in &w.pods {
            let ns = meta(p, "namespace");
            for (k, v) in p
                .pointer("/metadata/labels")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                if let Some(v) = v.as_str() {
                    by_label.entry((ns, k, v)).or_default().push(p);
                }
            }
        }
        let mut slices_by_svc: BTreeMap<(&str, String), Vec<&Arc<Value>>> = BTreeMap::new();
        for s in &w.slices {
            let svc = super::labels(s)
                .remove(LABEL_SERVICE_NAME)
                .unwrap_or_default();
            slices_by_svc
                .entry((meta(s, "namespace"), svc))
                .or_default()
                .push(s);
        }
        let no_pods: Vec<&Arc<Value>> = Vec::new();
        // Each Service with the pods it selects (projections) and its slices, grouped so that
        // Services selecting the same pods are neighbours.
        let mut work = Vec::new();
        for sv in services {
            let Ok(svc) = serde_json::from_value::<Service>(Value::clone(sv)) else {
                continue;
            };
            let ns = meta(sv, "namespace");
            let selected: Vec<&Arc<Value>> =
                match svc.spec.as_ref().and_then(|s| s.selector.as_ref()) {
                    Some(sel) if !sel.is_empty() => {
                        let lists: Vec<&Vec<&Arc<Value>>> = sel
                            .iter()
                            .map(|(k, v)| {
                                by_label
                                    .get(&(ns, k.as_str(), v.as_str()))
                                    .unwrap_or(&no_pods)
                            })
                            .collect();
                        let shortest = lists.iter().min_by_key(|l| l.len()).copied();
                        shortest
                            .into_iter()
                            .flatten()
                            .filter(|p| {
                                let l = p.pointer("/metadata/labels");
                                sel.iter().all(|(k, v)| {
                                    l.and_then(|l| l.get(k)).and_then(Value::as_str)
                                        == Some(v.as_str())
                                })
                            })
                            .copied()
                            .collect()
                    }
                    _ => Vec::new(),
                };
            let existing = slices_by_svc
                .get(&(ns, meta(sv, "name").to_string()))
                .cloned()
                .unwrap_or_default();
            let group = sv.pointer("/spec/selector").map(Value::to_string);
            work.push((group, svc, ns, selected, existing));
        }
        work.sort_by(|a, b| (a.2, &a.0).cmp(&(b.2, &b.0)));
        // A chunk at a time: its pods are parsed once however many of its Services select
        // them, and only one chunk's typed pods are alive at once. Within a chunk, Services
        // are reconciled concurrently so that the store's group commit batches their writes
        // (one at a time, each write would wait for its own fsync).
        for chunk in work.chunks(CONCURRENCY) {
            let mut typed: HashMap<&str, Pod> = HashMap::new();
            for p in chunk.iter().flat_map(|c| c.3.iter()) {
                if let std::collections::hash_map::Entry::Vacant(e) = typed.entry(meta(p, "uid")) {
                    if let Ok(pod) = serde_json::from_value::<Pod>(Value::clone(p)) {
                        e.insert(pod);
                    }
                }
            }
            let (typed, nodes) = (&typed, &nodes);
            futures::future::join_all(chunk.iter().map(
                |(_, svc, ns, selected, existing)| async move {
                    let pods: Vec<Pod> = selected
                        .iter()
                        .filter_map(|p| typed.get(meta(p, "uid")).cloned())
                        .collect();
                    reconcile_service(ctl, w, svc, ns, &pods, nodes, existing).await;
                },
            ))
            .await;
        }
    }
    // Endpoints of Services that are gone (the Endpoints controller deletes them).
    for e in &w.endpoints {
        let ns = meta(e, "namespace");
        let gone = !w
            .services
            .iter()
            .any(|s| meta(s, "namespace") == ns && meta(s, "name") == meta(e, "name"));
        if gone {
            let _ = ctl.delete("", "endpoints", e).await;
        }
    }
}

/// Brings one Service's EndpointSlices and Endpoints to what its pods make them.
async fn reconcile_service(
    ctl: &Ctl,
    w: &World,
    svc: &Service,
    ns: &str,
    pods: &[Pod],
    nodes: &[Node],
    existing: &[&Arc<Value>],
) {
    let name = svc.metadata.name.as_deref().unwrap_or("");
    // EndpointSlices.
    let desired = eps::desired_slices(svc, pods, nodes);
    let existing: Vec<EndpointSlice> = existing
        .iter()
        .filter_map(|s| ctl.full_typed("discovery.k8s.io", "endpointslices", s))
        .collect();
    let mut gen = || twinstack_registry::kinds::pod::rand_suffix(5);
    let ch = eps::reconcile(&desired, &existing, &mut gen);
    for s in ch.delete {
        if let Ok(v) = serde_json::to_value(&s) {
            let _ = ctl.delete("discovery.k8s.io", "endpointslices", &v).await;
        }
    }
    for mut s in ch.update {
        // Keep the stored identity (uid, resourceVersion) for the conditional write.
        if let Some(cur) = existing.iter().find(|e| e.metadata.name == s.metadata.name) {
            let (m, c) = (&mut s.metadata, &cur.metadata);
            m.uid = c.uid.clone();
            m.resource_version = c.resource_version.clone();
            m.creation_timestamp = c.creation_timestamp.clone();
            m.managed_fields = c.managed_fields.clone();
        }
        ctl.write_typed("discovery.k8s.io", "endpointslices", s)
            .await;
    }
    for s in ch.create {
        if let Ok(v) = serde_json::to_value(&s) {
            let _ = ctl
                .create("discovery.k8s.io", "endpointslices", Some(ns), v)
                .await;
        }
    }
    // Legacy Endpoints.
    let Some(want) = eps::legacy_endpoints(svc, pods) else {
        return;
    };
    let Ok(mut wv) = serde_json::to_value::<Endpoints>(want) else {
        return;
    };
    let have = w
        .endpoints
        .iter()
        .find(|e| meta(e, "namespace") == ns && meta(e, "name") == name)
        .and_then(|e| ctl.full("", "endpoints", e));
    match have {
        None => {
            let _ = ctl.create("", "endpoints", Some(ns), wv).await;
        }
        Some(cur) => {
            let same = cur.get("subsets") == wv.get("subsets")
                && cur.pointer("/metadata/labels") == wv.pointer("/metadata/labels");
            if !same {
                let mut next = cur;
                next["subsets"] = wv
                    .get_mut("subsets")
                    .map(Value::take)
                    .unwrap_or(Value::Null);
                if next["subsets"].is_null() {
                    if let Some(o) = next.as_object_mut() {
                        o.remove("subsets");
                    }
                }
                match wv.pointer("/metadata/labels") {
                    Some(l) => next["metadata"]["labels"] = l.clone(),
                    None => {
                        if let Some(m) = next["metadata"].as_object_mut() {
                            m.remove("labels");
                        }
                    }
                }
                ctl.write("", "endpoints", next).await;
            }
        }
    }
}
