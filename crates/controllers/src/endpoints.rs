//! The EndpointSlice controller (one slice per address family of each Service with a selector,
//! `twinstack_kube::endpointslices::{desired_slices, reconcile}`) and the legacy Endpoints
//! controller (primary family only, `legacy_endpoints`).
//!
//! Only the Services in [`World::dirty_services`] are reconciled (all of them on a resync);
//! their existing slices and Endpoints are read whole from the store, the pods are the
//! informer's typed projections (which keep every field the endpoint rules read).

use super::{name_of, Ctl, World};
use k8s_openapi::api::core::v1::{Endpoints, Node, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use twinstack_kube::endpointslices::{self as eps, LABEL_SERVICE_NAME};

/// Services reconciled concurrently (one chunk) in one pass.
const CONCURRENCY: usize = 32;

pub async fn sync(ctl: &Ctl, w: &World) {
    let l = &w.lists;
    let services: Vec<&Arc<Service>> = l
        .services
        .iter()
        .filter(|s| w.touched(&s.metadata))
        .collect();
    if !services.is_empty() {
        let nodes: Vec<Node> = l.nodes.iter().map(|n| Node::clone(n)).collect();
        // Pods by (namespace, label, value): a selector reads the shortest of its lists.
        let mut by_label: HashMap<(&str, &str, &str), Vec<&Pod>> = HashMap::new();
        for p in &l.pods {
            let ns = name_of(&p.metadata.namespace);
            for (k, v) in p.metadata.labels.iter().flatten() {
                by_label.entry((ns, k, v)).or_default().push(p);
            }
        }
        let mut slices_by_svc: BTreeMap<(&str, &str), Vec<&ObjectMeta>> = BTreeMap::new();
        for s in &l.slices {
            let m = &s.metadata;
            let svc = m
                .labels
                .as_ref()
                .and_then(|l| l.get(LABEL_SERVICE_NAME))
                .map_or("", String::as_str);
            slices_by_svc
                .entry((name_of(&m.namespace), svc))
                .or_default()
                .push(m);
        }
        let endpoints_by_svc: HashMap<(&str, &str), &ObjectMeta> = l
            .endpoints
            .iter()
            .map(|e| {
                (
                    (name_of(&e.metadata.namespace), name_of(&e.metadata.name)),
                    &e.metadata,
                )
            })
            .collect();
        let no_pods: Vec<&Pod> = Vec::new();
        // Each Service with the pods it selects and its slices, grouped so that Services
        // selecting the same pods are neighbours.
        let mut work = Vec::new();
        for svc in services {
            let ns = name_of(&svc.metadata.namespace);
            let selector = svc.spec.as_ref().and_then(|s| s.selector.as_ref());
            let selected: Vec<&Pod> = match selector {
                Some(sel) if !sel.is_empty() => {
                    let shortest = sel
                        .iter()
                        .map(|(k, v)| {
                            by_label
                                .get(&(ns, k.as_str(), v.as_str()))
                                .unwrap_or(&no_pods)
                        })
                        .min_by_key(|l| l.len());
                    shortest
                        .into_iter()
                        .flatten()
                        .filter(|p| {
                            let l = p.metadata.labels.as_ref();
                            sel.iter().all(|(k, v)| l.and_then(|l| l.get(k)) == Some(v))
                        })
                        .copied()
                        .collect()
                }
                _ => Vec::new(),
            };
            let existing = slices_by_svc
                .get(&(ns, name_of(&svc.metadata.name)))
                .cloned()
                .unwrap_or_default();
            let endpoints = endpoints_by_svc
                .get(&(ns, name_of(&svc.metadata.name)))
                .copied();
            work.push((selector, svc, ns, selected, existing, endpoints));
        }
        work.sort_by(|a, b| (a.2, &a.0).cmp(&(b.2, &b.0)));
        // Within a chunk, Services are reconciled concurrently so that the store's group
        // commit batches their writes (one at a time, each write would wait for its own
        // fsync).
        let nodes = &nodes;
        for chunk in work.chunks(CONCURRENCY) {
            futures::future::join_all(chunk.iter().map(
                |(_, svc, ns, selected, existing, endpoints)| async move {
                    reconcile_service(ctl, svc, ns, selected, nodes, existing, *endpoints).await;
                },
            ))
            .await;
        }
    }
    // Endpoints of Services that are gone (the Endpoints controller deletes them); a Service
    // goes only with a change.
    if w.quiet {
        return;
    }
    let services: HashSet<(&str, &str)> = l
        .services
        .iter()
        .map(|s| (name_of(&s.metadata.namespace), name_of(&s.metadata.name)))
        .collect();
    for e in &l.endpoints {
        let m = &e.metadata;
        if !services.contains(&(name_of(&m.namespace), name_of(&m.name))) {
            let _ = ctl.delete("", "endpoints", m).await;
        }
    }
}

/// Brings one Service's EndpointSlices and Endpoints to what its pods make them.
async fn reconcile_service(
    ctl: &Ctl,
    svc: &Service,
    ns: &str,
    pods: &[&Pod],
    nodes: &[Node],
    existing: &[&ObjectMeta],
    endpoints: Option<&ObjectMeta>,
) {
    // EndpointSlices.
    let desired = eps::desired_slices(svc, pods, nodes);
    let existing: Vec<EndpointSlice> = existing
        .iter()
        .filter_map(|s| ctl.full_typed("discovery.k8s.io", "endpointslices", s))
        .collect();
    let mut gen = || twinstack_registry::kinds::pod::rand_suffix(5);
    let ch = eps::reconcile(&desired, &existing, &mut gen);
    for s in ch.delete {
        let _ = ctl
            .delete("discovery.k8s.io", "endpointslices", &s.metadata)
            .await;
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
    let have = endpoints.and_then(|m| ctl.full("", "endpoints", m));
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
