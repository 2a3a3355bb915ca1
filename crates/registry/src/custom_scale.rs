//! The `scale` subresource of custom resources (`ScaleREST` of apiextensions-apiserver's
//! `pkg/registry/customresource/etcd.go`): reads and writes the replicas at the paths the CRD
//! names, through the registry's own get and patch. Kept out of `kinds::crd` so that the kinds
//! never call back into the registry that holds them.

use crate::kinds::Kind;
use crate::registry::{PatchType, Registry, WriteOptions};
use crate::runtimes::Runtime;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceSubresourceScale;
use serde_json::{json, Value};
use std::sync::Arc;
use twinstack_core::status::Status;

fn at_path<'a>(obj: &'a Value, path: &str) -> Option<&'a Value> {
    let p: String = path
        .trim_start_matches('.')
        .split('.')
        .map(|s| format!("/{s}"))
        .collect();
    obj.pointer(&p)
}

/// A merge patch that sets `path` (`.spec.replicas`) to `v`.
fn patch_at(path: &str, v: Value) -> Value {
    path.trim_start_matches('.')
        .rsplit('.')
        .fold(v, |acc, seg| json!({ seg: acc }))
}

/// The Scale of a custom resource (`scaleFromCustomResource`): replicas from the spec and
/// status paths, the selector from `labelSelectorPath` (a string there).
fn to_scale(obj: &Value, s: &CustomResourceSubresourceScale) -> Value {
    let spec = at_path(obj, &s.spec_replicas_path)
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let status = at_path(obj, &s.status_replicas_path)
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let mut st = json!({"replicas": status});
    if let Some(sel) = s
        .label_selector_path
        .as_deref()
        .and_then(|p| at_path(obj, p))
        .and_then(Value::as_str)
    {
        st["selector"] = json!(sel);
    }
    let m = obj.get("metadata").cloned().unwrap_or(json!({}));
    let keep = |k: &str| m.get(k).cloned().unwrap_or(Value::Null);
    let mut meta = json!({"name": keep("name"), "uid": keep("uid"),
        "resourceVersion": keep("resourceVersion"), "creationTimestamp": keep("creationTimestamp")});
    if let Some(ns) = m.get("namespace") {
        meta["namespace"] = ns.clone();
    }
    json!({"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": meta,
        "spec": {"replicas": spec}, "status": st})
}

/// `GET`/`PUT`/`PATCH` of `<resource>/scale` of a custom resource (`ScaleREST`).
#[allow(clippy::too_many_arguments)]
pub async fn serve_scale(
    reg: &Registry,
    rt: Arc<Runtime>,
    kind: Arc<dyn Kind>,
    ns: Option<String>,
    name: String,
    verb: &str,
    patch: Option<(PatchType, Value)>,
    opts: WriteOptions,
) -> Result<Value, Status> {
    let Some(paths) = kind.custom().and_then(|c| c.scale_paths().cloned()) else {
        return Err(Status::path_not_found());
    };
    let current = reg.get(&rt, kind.as_ref(), ns.as_deref(), &name)?;
    let scale = to_scale(&current, &paths);
    let Some((replicas, rv)) = crate::scale::requested(
        &name,
        &scale,
        verb,
        patch.map(|(t, v)| (t == PatchType::Json, v)),
    )?
    else {
        return Ok(scale);
    };
    let mut merge = patch_at(&paths.spec_replicas_path, json!(replicas));
    if let Some(rv) = rv {
        merge["metadata"] = json!({"resourceVersion": rv});
    }
    let r = reg
        .patch(rt, kind, ns, name, PatchType::Merge, merge, opts)
        .await?;
    Ok(to_scale(&r.object, &paths))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_patch_paths() {
        assert_eq!(
            patch_at(".spec.replicas", json!(3)),
            json!({"spec": {"replicas": 3}})
        );
        let obj =
            json!({"spec": {"r": 2}, "status": {"n": 1, "sel": "a=b"}, "metadata": {"name": "x"}});
        let s = CustomResourceSubresourceScale {
            spec_replicas_path: ".spec.r".into(),
            status_replicas_path: ".status.n".into(),
            label_selector_path: Some(".status.sel".into()),
        };
        let sc = to_scale(&obj, &s);
        assert_eq!(sc["spec"]["replicas"], json!(2));
        assert_eq!(sc["status"], json!({"replicas": 1, "selector": "a=b"}));
    }
}
