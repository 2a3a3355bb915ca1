//! The EndpointSlice controller (one slice per address family of each Service with a selector,
//! `twinstack_kube::endpointslices::{desired_slices, reconcile}`) and the legacy Endpoints
//! controller (primary family only, `legacy_endpoints`).

use super::{meta, Ctl, World};
use k8s_openapi::api::core::v1::{Endpoints, Node, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use serde_json::Value;
use std::collections::BTreeMap;
use twinstack_kube::endpointslices::{self as eps, LABEL_SERVICE_NAME};

fn typed<T: serde::de::DeserializeOwned>(v: &[Value]) -> Vec<T> {
    v.iter()
        .filter_map(|x| serde_json::from_value(x.clone()).ok())
        .collect()
}

pub async fn sync(ctl: &Ctl, w: &World) {
    let nodes: Vec<Node> = typed(&w.nodes);
    let mut pods_by_ns: BTreeMap<&str, Vec<Pod>> = BTreeMap::new();
    for p in &w.pods {
        if let Ok(pod) = serde_json::from_value::<Pod>(p.clone()) {
            pods_by_ns
                .entry(meta(p, "namespace"))
                .or_default()
                .push(pod);
        }
    }
    let mut slices_by_svc: BTreeMap<(String, String), Vec<&Value>> = BTreeMap::new();
    for s in &w.slices {
        let svc = super::labels(s)
            .get(LABEL_SERVICE_NAME)
            .cloned()
            .unwrap_or_default();
        slices_by_svc
            .entry((meta(s, "namespace").to_string(), svc))
            .or_default()
            .push(s);
    }
    let no_pods: Vec<Pod> = Vec::new();
    for sv in &w.services {
        let Ok(svc) = serde_json::from_value::<Service>(sv.clone()) else {
            continue;
        };
        let ns = meta(sv, "namespace");
        let pods = pods_by_ns.get(ns).unwrap_or(&no_pods);
        // EndpointSlices.
        let desired = eps::desired_slices(&svc, pods, &nodes);
        let existing_v: Vec<&Value> = slices_by_svc
            .get(&(ns.to_string(), meta(sv, "name").to_string()))
            .cloned()
            .unwrap_or_default();
        let existing: Vec<EndpointSlice> = existing_v
            .iter()
            .filter_map(|v| serde_json::from_value((*v).clone()).ok())
            .collect();
        let mut gen = || crate::kinds::pod::rand_suffix(5);
        let ch = eps::reconcile(&desired, &existing, &mut gen);
        for s in ch.delete {
            if let Ok(v) = serde_json::to_value(&s) {
                let _ = ctl.delete("discovery.k8s.io", "endpointslices", &v).await;
            }
        }
        for s in ch.update {
            let Ok(mut v) = serde_json::to_value(&s) else {
                continue;
            };
            // Keep the stored identity (uid, resourceVersion) for the conditional write.
            if let Some(cur) = existing_v
                .iter()
                .find(|e| meta(e, "name") == s.metadata.name.as_deref().unwrap_or(""))
            {
                for f in ["uid", "resourceVersion", "creationTimestamp"] {
                    if let Some(x) = cur.pointer(&format!("/metadata/{f}")) {
                        v["metadata"][f] = x.clone();
                    }
                }
                if let Some(mf) = cur.pointer("/metadata/managedFields") {
                    v["metadata"]["managedFields"] = mf.clone();
                }
                v["apiVersion"] = Value::String("discovery.k8s.io/v1".into());
                v["kind"] = Value::String("EndpointSlice".into());
            }
            ctl.write("discovery.k8s.io", "endpointslices", v).await;
        }
        for s in ch.create {
            if let Ok(v) = serde_json::to_value(&s) {
                let _ = ctl
                    .create("discovery.k8s.io", "endpointslices", Some(ns), v)
                    .await;
            }
        }
        // Legacy Endpoints.
        let want: Option<Endpoints> = eps::legacy_endpoints(&svc, pods);
        let have = w
            .endpoints
            .iter()
            .find(|e| meta(e, "namespace") == ns && meta(e, "name") == meta(sv, "name"));
        if let Some(want) = want {
            let Ok(mut wv) = serde_json::to_value(&want) else {
                continue;
            };
            match have {
                None => {
                    let _ = ctl.create("", "endpoints", Some(ns), wv).await;
                }
                Some(cur) => {
                    let same = cur.get("subsets") == wv.get("subsets")
                        && cur.pointer("/metadata/labels") == wv.pointer("/metadata/labels");
                    if !same {
                        let mut next = cur.clone();
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
