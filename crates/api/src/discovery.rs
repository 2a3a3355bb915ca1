//! `/version` and legacy discovery (`/api`, `/api/v1`, `/apis`) (see
//! shared/reference/rust-stack-and-kubectl.md §B.1–B.3). The OpenAPI documents are in
//! `crate::openapi`.

use serde_json::{json, Value};
use std::sync::Arc;
use twinstack_registry::kinds::Kind;

/// The Kubernetes version twinstack reports. kubectl's dispatcher picks its binary by it, so it
/// must be 1.32 for the installed kubectl to run its own 1.32 code.
pub const GIT_VERSION: &str = "v1.32.4";

pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "32",
        "gitVersion": GIT_VERSION,
        "gitCommit": "twinstack",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.23.6",
        "compiler": "gc",
        "platform": "linux/amd64"
    })
}

pub fn api_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]
    })
}

/// The groups of `kinds` with their versions, in discovery order; a group's versions are in
/// the order its kinds come (a CRD's preferred version first).
fn groups_of(kinds: &[Arc<dyn Kind>]) -> Vec<(&'static str, Vec<&'static str>)> {
    let mut out: Vec<(&str, Vec<&str>)> = Vec::new();
    for k in kinds {
        let i = k.info();
        if i.group.is_empty() {
            continue;
        }
        match out.iter_mut().find(|(g, _)| *g == i.group) {
            Some((_, vs)) if !vs.contains(&i.version) => vs.push(i.version),
            Some(_) => {}
            None => out.push((i.group, vec![i.version])),
        }
    }
    for (_, vs) in out.iter_mut() {
        // kube-aware priority: GA, then beta, then alpha (apiextensions' `sortVersions`).
        vs.sort_by(|a, b| twinstack_kube::apiextensions::names::compare_versions(a, b));
    }
    out
}

fn group_json(g: &str, versions: &[&str]) -> Value {
    let vs: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{g}/{v}"), "version": v}))
        .collect();
    json!({"name": g, "versions": vs.clone(), "preferredVersion": vs[0].clone()})
}

pub fn api_group_list(kinds: &[Arc<dyn Kind>]) -> Value {
    let groups: Vec<Value> = groups_of(kinds)
        .into_iter()
        .map(|(g, vs)| group_json(g, &vs))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

pub fn api_group(kinds: &[Arc<dyn Kind>], group: &str) -> Option<Value> {
    let (g, vs) = groups_of(kinds).into_iter().find(|(g, _)| *g == group)?;
    let mut v = group_json(g, &vs);
    v["kind"] = json!("APIGroup");
    v["apiVersion"] = json!("v1");
    Some(v)
}

pub fn api_resource_list(kinds: &[Arc<dyn Kind>], group: &str, version: &str) -> Option<Value> {
    let resources: Vec<Value> = kinds
        .iter()
        .map(|k| k.info())
        .filter(|i| i.group == group && i.version == version)
        .flat_map(|i| {
            let mut r = json!({
                "name": i.plural,
                "singularName": i.singular,
                "namespaced": i.namespaced,
                "kind": i.kind,
                "verbs": i.verbs,
            });
            if !i.short_names.is_empty() {
                r["shortNames"] = json!(i.short_names);
            }
            if !i.categories.is_empty() {
                r["categories"] = json!(i.categories);
            }
            // Workloads with a scale subresource list it, so `kubectl scale` finds Scale.
            let mut out = vec![r];
            if i.scale {
                out.push(
                    json!({"name": format!("{}/scale", i.plural), "singularName": "",
                    "namespaced": i.namespaced, "group": "autoscaling", "version": "v1",
                    "kind": "Scale", "verbs": ["get", "patch", "update"]}),
                );
            }
            // Custom resources list the status subresource their version declares.
            if let Some(c) = kinds
                .iter()
                .find(|k| std::ptr::eq(k.info(), i))
                .and_then(|k| k.custom())
                .filter(|c| c.has_status())
            {
                out.insert(1, json!({"name": format!("{}/status", i.plural), "singularName": "",
                    "namespaced": i.namespaced, "kind": i.kind, "verbs": ["get", "patch", "update"]}));
                let _ = c;
            }
            // Pods' streaming subresources, as kube-apiserver lists them.
            if i.plural == "pods" && i.group.is_empty() {
                for (sub, kind, verbs) in [
                    ("attach", "PodAttachOptions", vec!["create", "get"]),
                    ("exec", "PodExecOptions", vec!["create", "get"]),
                    ("log", "Pod", vec!["get"]),
                    (
                        "portforward",
                        "PodPortForwardOptions",
                        vec!["create", "get"],
                    ),
                ] {
                    out.push(json!({"name": format!("pods/{sub}"), "singularName": "",
                        "namespaced": true, "kind": kind, "verbs": verbs}));
                }
            }
            // ServiceAccounts have the TokenRequest subresource (`kubectl create token`).
            if i.plural == "serviceaccounts" && i.group.is_empty() {
                out.push(json!({"name": "serviceaccounts/token", "singularName": "",
                    "namespaced": true, "group": "authentication.k8s.io", "version": "v1",
                    "kind": "TokenRequest", "verbs": ["create"]}));
            }
            out
        })
        .collect();
    if resources.is_empty() {
        return None;
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}),
    )
}
