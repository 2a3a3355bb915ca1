//! One strategy per resource kind: how its objects are decoded, defaulted, allocated, validated,
//! printed and filtered. Each kind implements only the write hooks it needs
//! ([`crate::strategy::Strategy`]); [`crate::strategy`] runs them for the generic registry.

pub mod autoscaling;
pub mod batch;
pub mod config;
pub mod crd;
pub mod endpointslice;
pub mod event;
pub mod namespace;
pub mod node;
pub mod pod;
pub mod policy;
pub mod rbac;
pub mod service;
pub mod serviceaccount;
pub mod stored;
pub mod volume;
pub mod workload;

pub use crate::strategy::Strategy;

use crate::runtimes::Runtime;
use crate::store_ext::TxnExt;
use serde_json::Value;
use twinstack_core::status::{Status, Subject};
use twinstack_kube::table::Column;

/// Discovery facts of a resource.
#[derive(Debug)]
pub struct ResourceInfo {
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
    pub verbs: &'static [&'static str],
    /// Key segment under `/registry/<runtime>/`, as kube-apiserver's etcd layout
    /// (`services/specs`, `namespaces`).
    pub storage: &'static str,
    /// Serves the `scale` subresource (`autoscaling/v1` Scale), as the workload storages that
    /// upstream gives a `ScaleREST` do.
    pub scale: bool,
}

impl ResourceInfo {
    pub fn subject(&self) -> Subject<'static> {
        Subject {
            group: self.group,
            resource: self.plural,
            kind: self.kind,
        }
    }
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

pub const ALL_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// Verbs of resources without deletecollection (namespaces: their registry has no
/// `DeleteCollection`).
pub const VERBS_WITHOUT_DELETECOLLECTION: &[&str] = &[
    "create", "delete", "get", "list", "patch", "update", "watch",
];

/// What a write strategy can use: the store transaction and the runtime it belongs to.
pub struct WriteCtx<'a> {
    pub txn: &'a mut dyn TxnExt,
    pub rt: &'a Runtime,
    /// Warnings admission adds (kube-apiserver sends admission webhooks' warnings as
    /// `Warning:` headers, before the strategy's own).
    pub warnings: Vec<String>,
}

/// A served resource: its discovery facts, decoding, printing and field selectors, over its
/// write [`Strategy`] (whose hooks [`crate::strategy`] runs).
pub trait Kind: Strategy {
    fn info(&self) -> &'static ResourceInfo;

    /// Decodes a request body into the stored form (typed round trip plus v1 defaulting).
    /// Returns the unknown field paths that decoding dropped.
    fn decode(&self, v: &Value) -> Result<(Value, Vec<String>), String>;

    /// Releases what the object holds (addresses, ports) when it is deleted.
    fn delete(&self, _cx: &mut WriteCtx<'_>, _old: &Value) -> Result<(), Status> {
        Ok(())
    }

    /// Read-path defaulting applied to every object returned.
    fn on_read(&self, _rt: &Runtime, _obj: &mut Value) {}

    fn columns(&self) -> Vec<Column>;
    fn row(&self, obj: &Value, wide: bool, now: jiff::Timestamp) -> Vec<Value>;

    /// Value of a field for field selectors; `None` when the field is not supported.
    fn field(&self, obj: &Value, name: &str) -> Option<String> {
        generic_field(obj, name, self.info().namespaced)
    }

    /// Whether DELETE answers with the deleted object (true) or a Success `Status`: the
    /// resource storage's `ReturnDeletedObject` in kube-apiserver 1.32 (pods, services,
    /// serviceaccounts, persistentvolume(claim)s, podtemplates, resourcequotas; namespaces answer
    /// the namespace from their own `Delete`). One line per kind that returns the object.
    fn delete_returns_object(&self) -> bool {
        false
    }

    /// What a DELETE does before the object goes: remove it now (the default), or keep it
    /// with the returned metadata (graceful deletion: `deletionTimestamp` set, removal left to
    /// a controller), or leave it unchanged (already terminating).
    fn before_delete(&self, _old: &Value, _grace: Option<i64>) -> Result<DeleteAction, Status> {
        Ok(DeleteAction::Remove)
    }

    /// Whether lists and watches may send the stored bytes as they are (false for custom
    /// resources, whose `apiVersion` is the one asked for).
    fn serves_stored_bytes(&self) -> bool {
        true
    }

    /// The custom resource behind this kind (CRD-defined kinds only).
    fn custom(&self) -> Option<&crd::CustomResourceKind> {
        None
    }
}

/// Outcome of [`Kind::before_delete`].
pub enum DeleteAction {
    Remove,
    Keep(Value),
    Unchanged,
}

/// The typed form of a stored (or decoded) object of `kind`; it decoded once, so failing is an
/// internal error.
pub(crate) fn typed<T: serde::de::DeserializeOwned>(v: &Value, kind: &str) -> Result<T, Status> {
    serde_json::from_value(v.clone())
        .map_err(|e| Status::internal(format!("stored {kind} does not decode: {e}")))
}

/// `metadata.name` and `metadata.namespace`, supported by every resource.
pub fn generic_field(obj: &Value, name: &str, namespaced: bool) -> Option<String> {
    let s = |p: &str| {
        obj.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    match name {
        "metadata.name" => Some(s("/metadata/name")),
        "metadata.namespace" if namespaced => Some(s("/metadata/namespace")),
        _ => None,
    }
}
