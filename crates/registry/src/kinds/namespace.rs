//! Namespaces (core/v1): the `kubernetes.io/metadata.name` label, the `kubernetes` finalizer,
//! phase Active, the protected system namespaces, deletion through `Terminating`, and the
//! `default` ServiceAccount and `kube-root-ca.crt` ConfigMap every namespace has from its
//! creation on.

use super::{DeleteAction, Kind, ResourceInfo, Strategy, WriteCtx};
use crate::decode;
use crate::runtimes::Runtime;
use k8s_openapi::api::core::v1::Namespace;
use serde_json::{json, Value};
use twinstack_core::field::ErrorList;
use twinstack_core::status::Status;
use twinstack_kube::namespace as kns;
use twinstack_kube::table::{self, Column};

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
pub use twinstack_kube::namespace::{NAME_LABEL, SYSTEM};

pub struct NamespaceKind;

/// The object the server creates for a system namespace.
pub fn system_namespace(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
}

/// Runs a typed namespace rule on the stored form.
fn with_typed(obj: &mut Value, rule: impl FnOnce(&mut Namespace)) -> Result<(), Status> {
    let mut ns: Namespace = super::typed(obj, "Namespace")?;
    rule(&mut ns);
    *obj = serde_json::to_value(ns).map_err(|e| Status::internal(e.to_string()))?;
    Ok(())
}

impl Strategy for NamespaceKind {
    /// The kubernetes finalizer and phase Active.
    fn prepare_for_create(&self, obj: &mut Value) -> Result<(), Status> {
        with_typed(obj, kns::prepare_for_create)
    }

    fn validate(&self, _rt: &Runtime, obj: &Value) -> Result<ErrorList, Status> {
        Ok(kns::validate_finalizers(&super::typed(obj, "Namespace")?))
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
        let old: Namespace = super::typed(old, "Namespace")?;
        with_typed(new, |n| kns::prepare_for_update(n, &old))
    }
}

impl Kind for NamespaceKind {
    fn info(&self) -> &'static ResourceInfo {
        &INFO
    }

    fn decode(&self, v: &Value) -> Result<(Value, Vec<String>), String> {
        let (mut ns, unknown): (Namespace, _) = decode::typed(v)?;
        kns::set_name_label(&mut ns);
        let out = serde_json::to_value(ns).map_err(|e| e.to_string())?;
        Ok((out, unknown))
    }

    fn delete(&self, _cx: &mut WriteCtx<'_>, old: &Value) -> Result<(), Status> {
        let name = old
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        kns::may_delete(name).map_err(|msg| Status::forbidden(name, INFO.subject(), msg))
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

    /// A namespace with the `kubernetes` finalizer goes through `Terminating`: the namespace
    /// controller (`twinstack_controllers::namespaces`) deletes its content, then finalizes it
    /// and deletes it again. The system namespaces are refused first.
    fn before_delete(&self, old: &Value, _grace: Option<i64>) -> Result<DeleteAction, Status> {
        let ns: Namespace = super::typed(old, "Namespace")?;
        let name = ns.metadata.name.as_deref().unwrap_or("");
        kns::may_delete(name).map_err(|msg| Status::forbidden(name, INFO.subject(), msg))?;
        Ok(match kns::on_delete(&ns, jiff::Timestamp::now()) {
            kns::Deletion::Remove => DeleteAction::Remove,
            kns::Deletion::Unchanged => DeleteAction::Unchanged,
            kns::Deletion::Keep(n) => DeleteAction::Keep(
                serde_json::to_value(*n).map_err(|e| Status::internal(e.to_string()))?,
            ),
        })
    }
}
