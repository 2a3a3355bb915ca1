//! Server-side Table columns and cells of kube-apiserver 1.32
//! (`pkg/printers/internalversion/printers.go`: `printPod`, `printNode`, `printEndpointSlice`,
//! `printEndpoints`, `printEvent`, `printConfigMap`, `printSecret`) in core's
//! [`crate::table`] style, plus the field-selector fields `kubectl describe` relies
//! on. Rows take the object as JSON and never panic: missing or mistyped fields read as Go's
//! zero values. Column descriptions are the 1.32 OpenAPI descriptions (EndpointSlice ones
//! from discovery/v1; upstream quotes the identical v1beta1 texts minus a trailing note).

mod config;
mod discovery;
mod event;
mod node;
mod pod;

#[cfg(test)]
mod tests;

pub use config::{configmap_columns, configmap_row, secret_columns, secret_row};
pub use discovery::{
    endpoints_columns, endpoints_row, endpointslice_columns, endpointslice_row, format_endpoints,
};
pub use event::{event_columns, event_row};
pub use node::{node_columns, node_row};
pub use pod::{pod_columns, pod_row};

use crate::table::{age, format_labels};
use serde_json::Value;

pub(super) fn s<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}
pub(super) fn arr<'a>(v: &'a Value, ptr: &str) -> &'a [Value] {
    v.pointer(ptr)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}
pub(super) fn int(v: &Value, ptr: &str) -> i64 {
    v.pointer(ptr).and_then(Value::as_i64).unwrap_or(0)
}
pub(super) fn obj_len(v: &Value, ptr: &str) -> i64 {
    v.pointer(ptr)
        .and_then(Value::as_object)
        .map(|m| m.len() as i64)
        .unwrap_or(0)
}
pub(super) fn none_if_empty(x: &str) -> String {
    if x.is_empty() {
        "<none>".into()
    } else {
        x.to_string()
    }
}
pub(super) fn creation_age(v: &Value, now: jiff::Timestamp) -> String {
    age(
        v.pointer("/metadata/creationTimestamp")
            .and_then(Value::as_str),
        now,
    )
}
pub(super) fn ts(x: &str) -> Option<jiff::Timestamp> {
    x.parse::<jiff::Timestamp>().ok()
}

/// Values of the field selectors kubectl uses (`kubectl describe node` lists pods with
/// `spec.nodeName=<n>,status.phase!=Succeeded,status.phase!=Failed`; describe fetches events
/// with `involvedObject.*`), per resource, as the registry's `GetAttrs` exposes them
/// (pkg/registry/core/pod/strategy.go `PodToSelectableFields`,
/// pkg/registry/core/event/strategy.go, pkg/registry/core/node/strategy.go,
/// pkg/registry/core/secret/strategy.go). `None` means the field is not selectable.
pub fn selectable_field(resource: &str, obj: &Value, field: &str) -> Option<String> {
    let get = |p: &str| s(obj, p).to_string();
    match (resource, field) {
        (_, "metadata.name") => Some(get("/metadata/name")),
        (_, "metadata.namespace") => Some(get("/metadata/namespace")),
        ("pods", "spec.nodeName") => Some(get("/spec/nodeName")),
        ("pods", "spec.restartPolicy") => Some(get("/spec/restartPolicy")),
        ("pods", "spec.schedulerName") => Some(get("/spec/schedulerName")),
        ("pods", "spec.serviceAccountName") => Some(get("/spec/serviceAccountName")),
        ("pods", "spec.hostNetwork") => Some(
            (obj.pointer("/spec/hostNetwork").and_then(Value::as_bool) == Some(true)).to_string(),
        ),
        ("pods", "status.phase") => Some(get("/status/phase")),
        ("pods", "status.nominatedNodeName") => Some(get("/status/nominatedNodeName")),
        // `status.podIP` selects on the primary pod IP.
        ("pods", "status.podIP") => Some(
            arr(obj, "/status/podIPs")
                .first()
                .map(|p| s(p, "/ip").to_string())
                .unwrap_or_else(|| get("/status/podIP")),
        ),
        ("nodes", "spec.unschedulable") => Some(
            (obj.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true)).to_string(),
        ),
        ("events", f) => {
            let ptr = match f {
                "involvedObject.kind" => "/involvedObject/kind",
                "involvedObject.namespace" => "/involvedObject/namespace",
                "involvedObject.name" => "/involvedObject/name",
                "involvedObject.uid" => "/involvedObject/uid",
                "involvedObject.apiVersion" => "/involvedObject/apiVersion",
                "involvedObject.resourceVersion" => "/involvedObject/resourceVersion",
                "involvedObject.fieldPath" => "/involvedObject/fieldPath",
                "reason" => "/reason",
                "reportingComponent" => "/reportingComponent",
                "source" => "/source/component",
                "type" => "/type",
                _ => return None,
            };
            Some(get(ptr))
        }
        ("secrets", "type") => Some(get("/type")),
        _ => None,
    }
}

/// Labels as `kubectl describe` prints them on one line (`k=v,...`, `<none>`), for callers
/// building describe-like summaries.
pub fn labels_text(obj: &Value) -> String {
    format_labels(obj.pointer("/metadata/labels").and_then(Value::as_object))
}
