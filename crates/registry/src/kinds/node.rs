//! Nodes (core/v1, cluster-scoped): the runtime's worker nodes as Gardener and kubelet leave
//! them (`twinstack_kube::nodes::plan_nodes`), created at provisioning and idempotently at start.

use super::{Kind, ResourceInfo, Strategy, ALL_VERBS};
use crate::decode;
use crate::registry::Registry;
use crate::runtimes::Runtime;
use k8s_openapi::api::core::v1::Node;
use serde_json::Value;
use std::sync::Arc;
use twinstack_core::status::Status;
use twinstack_kube::table::Column;
use twinstack_kube::{nodes, printers};

pub static INFO: ResourceInfo = ResourceInfo {
    group: "",
    version: "v1",
    plural: "nodes",
    singular: "node",
    kind: "Node",
    namespaced: false,
    short_names: &["no"],
    categories: &[],
    verbs: ALL_VERBS,
    // kube-apiserver keeps nodes under `minions`.
    storage: "minions",
    scale: false,
};

pub struct NodeKind;

impl Strategy for NodeKind {
    /// The main resource does not change status (kubelet writes it); podCIDRs are immutable
    /// once set, as upstream's node strategy keeps them.
    fn prepare_for_update(&self, new: &mut Value, old: &Value) -> Result<(), Status> {
        if let Some(st) = old.get("status") {
            new["status"] = st.clone();
        }
        if let Some(c) = old.pointer("/spec/podCIDRs") {
            if new.get("spec").is_none_or(|s| !s.is_object()) {
                new["spec"] = serde_json::json!({});
            }
            new["spec"]["podCIDRs"] = c.clone();
            if let Some(c) = old.pointer("/spec/podCIDR") {
                new["spec"]["podCIDR"] = c.clone();
            }
        }
        Ok(())
    }
}

impl Kind for NodeKind {
    fn info(&self) -> &'static ResourceInfo {
        &INFO
    }

    fn decode(&self, v: &Value) -> Result<(Value, Vec<String>), String> {
        let (n, unknown): (Node, _) = decode::typed(v)?;
        Ok((serde_json::to_value(n).map_err(|e| e.to_string())?, unknown))
    }

    fn columns(&self) -> Vec<Column> {
        printers::node_columns()
    }

    fn row(&self, obj: &Value, wide: bool, now: jiff::Timestamp) -> Vec<Value> {
        printers::node_row(obj, wide, now)
    }

    fn field(&self, obj: &Value, name: &str) -> Option<String> {
        printers::selectable_field("nodes", obj, name)
    }
}

/// Creates the runtime's planned worker nodes that do not exist (provisioning, or a start after
/// a crash that interrupted it). Existing nodes are left as they are.
pub async fn ensure_nodes(registry: &Registry, rt: Arc<Runtime>) -> anyhow::Result<()> {
    let kind = registry.kind("", "nodes").expect("nodes kind");
    let (existing, _) = registry
        .list(&rt, kind.as_ref(), None)
        .map_err(|s| anyhow::anyhow!("listing nodes: {}", s.message))?;
    let have: std::collections::BTreeSet<String> = existing
        .iter()
        .filter_map(|n| n.pointer("/metadata/name").and_then(Value::as_str))
        .map(String::from)
        .collect();
    let count = rt.record.nodes.max(1) as usize;
    let planned = nodes::plan_nodes(
        rt.name(),
        rt.record.provider,
        &rt.record.region,
        &rt.record.network,
        count,
        jiff::Timestamp::now(),
    );
    for node in planned {
        let name = node.metadata.name.clone().unwrap_or_default();
        if have.contains(&name) {
            continue;
        }
        let body = serde_json::to_value(&node)?;
        match registry
            .create_system(rt.clone(), kind.clone(), None, body)
            .await
        {
            Ok(created) => {
                // kubelet's and the node controller's events of a joining node.
                let Ok(created) = serde_json::from_value::<Node>(created) else {
                    continue;
                };
                let ev_kind = registry.kind("", "events").expect("events kind");
                let suffix = twinstack_core::hash::fnv1a64(&name) & 0x0fff_ffff_ffff_ff00;
                for ev in twinstack_kube::events::node_join_events(
                    &created,
                    jiff::Timestamp::now(),
                    suffix,
                ) {
                    let ns = ev.metadata.namespace.clone();
                    if let Ok(body) = serde_json::to_value(&ev) {
                        let _ = registry
                            .create_system(rt.clone(), ev_kind.clone(), ns, body)
                            .await;
                    }
                }
            }
            Err(s) if s.reason == "AlreadyExists" => {}
            Err(s) => anyhow::bail!("creating node {name}: {}", s.message),
        }
    }
    Ok(())
}
