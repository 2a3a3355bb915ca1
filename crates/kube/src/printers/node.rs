//! `printNode`.

use crate::table::{Column, AGE_DESCRIPTION};
use serde_json::{json, Value};

use super::*;

const ADDRESSES_DESC: &str = "List of addresses reachable to the node. Queried from cloud provider, if available. More info: https://kubernetes.io/docs/reference/node/node-status/#addresses Note: This field is declared as mergeable, but the merge key is not sufficiently unique, which can cause data corruption when it is merged. Callers should instead use a full-replacement patch. See https://pr.k8s.io/79391 for an example. Consumers should assume that addresses can change during the lifetime of a Node. However, there are some exceptions where this may not be possible, such as Pods that inherit a Node's address in its own status or consumers of the downward API (status.hostIP).";

/// Node columns: NAME STATUS ROLES AGE VERSION (+ INTERNAL-IP EXTERNAL-IP OS-IMAGE
/// KERNEL-VERSION CONTAINER-RUNTIME).
pub fn node_columns() -> Vec<Column> {
    vec![
        Column::name_column(),
        Column::new("Status", "The status of the node"),
        Column::new("Roles", "The roles of the node"),
        Column::new("Age", AGE_DESCRIPTION),
        Column::new("Version", "Kubelet Version reported by the node."),
        Column::new("Internal-IP", ADDRESSES_DESC).wide(),
        Column::new("External-IP", ADDRESSES_DESC).wide(),
        Column::new("OS-Image", "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).").wide(),
        Column::new("Kernel-Version", "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).").wide(),
        Column::new("Container-Runtime", "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).").wide(),
    ]
}

/// `printNode`.
pub fn node_row(node: &Value, wide: bool, now: jiff::Timestamp) -> Vec<Value> {
    // The last Ready condition wins, as upstream's map does.
    let mut status: Vec<String> = Vec::new();
    if let Some(c) = arr(node, "/status/conditions")
        .iter()
        .rfind(|c| s(c, "/type") == "Ready")
    {
        status.push(if s(c, "/status") == "True" {
            "Ready".into()
        } else {
            "NotReady".into()
        });
    }
    if status.is_empty() {
        status.push("Unknown".into());
    }
    if node.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true) {
        status.push("SchedulingDisabled".into());
    }
    let mut roles: Vec<String> = node
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| {
                    if let Some(r) = k.strip_prefix("node-role.kubernetes.io/") {
                        (!r.is_empty()).then(|| r.to_string())
                    } else if k == "kubernetes.io/role" {
                        v.as_str().filter(|v| !v.is_empty()).map(String::from)
                    } else {
                        None
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    roles.sort();
    roles.dedup();
    let mut cells = vec![
        json!(s(node, "/metadata/name")),
        json!(status.join(",")),
        json!(if roles.is_empty() {
            "<none>".to_string()
        } else {
            roles.join(",")
        }),
        json!(creation_age(node, now)),
        json!(s(node, "/status/nodeInfo/kubeletVersion")),
    ];
    if wide {
        let addr = |ty: &str| {
            arr(node, "/status/addresses")
                .iter()
                .find(|a| s(a, "/type") == ty)
                .map(|a| s(a, "/address").to_string())
                .unwrap_or_else(|| "<none>".into())
        };
        let unknown = |x: &str| {
            if x.is_empty() {
                "<unknown>".to_string()
            } else {
                x.to_string()
            }
        };
        cells.push(json!(addr("InternalIP")));
        cells.push(json!(addr("ExternalIP")));
        cells.push(json!(unknown(s(node, "/status/nodeInfo/osImage"))));
        cells.push(json!(unknown(s(node, "/status/nodeInfo/kernelVersion"))));
        cells.push(json!(unknown(s(
            node,
            "/status/nodeInfo/containerRuntimeVersion"
        ))));
    }
    cells
}
