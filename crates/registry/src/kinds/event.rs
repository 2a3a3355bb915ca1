//! Events (core/v1): what the emulated kubelet, scheduler and controllers record, stored as
//! given, with the `involvedObject.*` field selectors `kubectl describe` uses.

use super::{Kind, ResourceInfo, Strategy, ALL_VERBS};
use crate::decode;
use crate::runtimes::Runtime;
use k8s_openapi::api::core::v1::Event;
use serde_json::Value;
use twinstack_core::field::{ErrorList, FieldError, Path};
use twinstack_core::status::Status;
use twinstack_kube::printers;
use twinstack_kube::table::Column;

pub static INFO: ResourceInfo = ResourceInfo {
    group: "",
    version: "v1",
    plural: "events",
    singular: "event",
    kind: "Event",
    namespaced: true,
    short_names: &["ev"],
    categories: &[],
    verbs: ALL_VERBS,
    storage: "events",
    scale: false,
};

pub struct EventKind;

/// `ValidateEventCreate`'s rule users meet first: the involved object's namespace must match.
fn validate(obj: &Value) -> ErrorList {
    let mut errs = ErrorList::new();
    let ns = obj
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("");
    let ins = obj
        .pointer("/involvedObject/namespace")
        .and_then(Value::as_str)
        .unwrap_or("");
    if !ins.is_empty() && ins != ns {
        errs.push(FieldError::invalid(
            &Path::new("involvedObject").child("namespace"),
            twinstack_core::field::BadValue::str(ins),
            "does not match event.namespace",
        ));
    }
    errs
}

/// Pass-through: only validation.
impl Strategy for EventKind {
    fn validate(&self, _rt: &Runtime, obj: &Value) -> Result<ErrorList, Status> {
        Ok(validate(obj))
    }
    fn validate_update(
        &self,
        _rt: &Runtime,
        new: &Value,
        _old: &Value,
    ) -> Result<ErrorList, Status> {
        Ok(validate(new))
    }
}

impl Kind for EventKind {
    fn info(&self) -> &'static ResourceInfo {
        &INFO
    }
    fn decode(&self, v: &Value) -> Result<(Value, Vec<String>), String> {
        let (e, unknown): (Event, _) = decode::typed(v)?;
        Ok((serde_json::to_value(e).map_err(|e| e.to_string())?, unknown))
    }
    fn columns(&self) -> Vec<Column> {
        printers::event_columns()
    }
    fn row(&self, obj: &Value, wide: bool, now: jiff::Timestamp) -> Vec<Value> {
        printers::event_row(obj, wide, now)
    }
    fn field(&self, obj: &Value, name: &str) -> Option<String> {
        printers::selectable_field("events", obj, name)
    }
}
