//! Namespaces (core/v1): the `kubernetes.io/metadata.name` label, the `kubernetes` finalizer,
//! phase Active, the protected system namespaces, and the `default` ServiceAccount and
//! `kube-root-ca.crt` ConfigMap every namespace has from its creation on.

use super::{Kind, ResourceInfo, Strategy, WriteCtx};
use crate::decode;
use crate::runtimes::Runtime;
use k8s_openapi::api::core::v1::Namespace;
use serde_json::{json, Value};
use twinstack_core::field::ErrorList;
use twinstack_core::status::Status;
use twinstack_core::table::{self, Column};

pub static INFO: ResourceInfo = ResourceInfo {
    group: "",
    version: "v1",
    plural: "namespaces",
    singular: "namespace",
    kind: "Namespace",
    namespaced: false,
    short_names: &["ns"],
    categories: &[],
    verbs: super::VERBS_WITHOUT_DELETECOLLECTION,
    storage: "namespaces",
    scale: false,
};

/// Namespaces every runtime has from the start; they cannot be deleted.
pub const SYSTEM: [&str; 4] = ["default", "kube-system", "kube-public", "kube-node-lease"];

pub const NAME_LABEL: &str = "kubernetes.io/metadata.name";

pub struct NamespaceKind;

/// The object the server creates for a system namespace.
pub fn system_namespace(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
}

fn set_name_label(obj: &mut Value) {
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let meta = obj
        .as_object_mut()
        .unwrap()
        .entry("metadata")
        .or_insert_with(|| json!({}));
    let labels = meta
        .as_object_mut()
        .unwrap()
        .entry("labels")
        .or_insert_with(|| json!({}));
    if let Some(l) = labels.as_object_mut() {
        l.insert(NAME_LABEL.into(), Value::String(name));
    }
}

fn validate_finalizers(obj: &Value) -> ErrorList {
    use twinstack_core::field::{BadValue, FieldError, Path};
    let mut errs = ErrorList::new();
    if let Some(f) = obj.pointer("/spec/finalizers").and_then(Value::as_array) {
        for (i, v) in f.iter().enumerate() {
            let s = v.as_str().unwrap_or("");
            let p = Path::new("spec").child("finalizers").index(i);
            for msg in twinstack_core::selector::is_qualified_name(s) {
                errs.push(FieldError::invalid(&p, BadValue::str(s), msg));
            }
            if !s.contains('/') && s != "kubernetes" {
                errs.push(FieldError::invalid(
                    &p,
                    BadValue::str(s),
                    "name is neither a standard finalizer name nor is it fully qualified",
                ));
            }
        }
    }
    errs
}

impl Strategy for NamespaceKind {
    /// The kubernetes finalizer and phase Active.
    fn prepare_for_create(&self, obj: &mut Value) -> Result<(), Status> {
        obj["spec"] = json!({"finalizers": ["kubernetes"]});
        obj["status"] = json!({"phase": "Active"});
        Ok(())
    }

    fn validate(&self, _rt: &Runtime, obj: &Value) -> Result<ErrorList, Status> {
        Ok(validate_finalizers(obj))
    }

    /// What the serviceaccounts controller and the root-CA publisher add, in the same
    /// transaction: a client can use them as soon as the namespace exists.
    fn after_create(&self, cx: &mut WriteCtx<'_>, obj: &Value) {
        let name = obj
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        super::serviceaccount::ensure_namespace_defaults(cx.txn, cx.rt, name);
    }

    /// spec.finalizers and status are kept from the stored object.
    fn prepare_for_update(&self, new: &mut Value, old: &Value) -> Result<(), Status> {
        new["spec"] = old.get("spec").cloned().unwrap_or(json!({}));
        new["status"] = old.get("status").cloned().unwrap_or(json!({}));
        set_name_label(new);
        Ok(())
    }
}

impl Kind for NamespaceKind {
    fn info(&self) -> &'static ResourceInfo {
        &INFO
    }

    fn decode(&self, v: &Value) -> Result<(Value, Vec<String>), String> {
        let (ns, unknown): (Namespace, _) = decode::typed(v)?;
        let mut out = serde_json::to_value(ns).map_err(|e| e.to_string())?;
        set_name_label(&mut out);
        Ok((out, unknown))
    }

    fn delete(&self, _cx: &mut WriteCtx<'_>, old: &Value) -> Result<(), Status> {
        let name = old
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        if SYSTEM.contains(&name) {
            return Err(Status::forbidden(
                name,
                INFO.subject(),
                "this namespace may not be deleted",
            ));
        }
        Ok(())
    }

    fn columns(&self) -> Vec<Column> {
        table::namespace_columns()
    }

    fn row(&self, obj: &Value, wide: bool, now: jiff::Timestamp) -> Vec<Value> {
        table::namespace_row(obj, wide, now)
    }

    fn field(&self, obj: &Value, name: &str) -> Option<String> {
        match name {
            "status.phase" => Some(
                obj.pointer("/status/phase")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            ),
            _ => super::generic_field(obj, name, false),
        }
    }

    fn delete_returns_object(&self) -> bool {
        true
    }
}
