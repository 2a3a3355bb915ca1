//! EndpointSlices (discovery.k8s.io/v1) and legacy Endpoints (core/v1), written by the
//! EndpointSlice and Endpoints controllers (`twinstack_controllers`) and stored as given when
//! users write them.

use super::{Kind, ResourceInfo, Strategy, ALL_VERBS};
use crate::decode;
use crate::runtimes::Runtime;
use k8s_openapi::api::core::v1::Endpoints;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use serde_json::Value;
use twinstack_core::field::{BadValue, ErrorList, FieldError, Path};
use twinstack_core::status::Status;
use twinstack_kube::printers;
use twinstack_kube::table::Column;

pub static SLICE: ResourceInfo = ResourceInfo {
    group: "discovery.k8s.io",
    version: "v1",
    plural: "endpointslices",
    singular: "endpointslice",
    kind: "EndpointSlice",
    namespaced: true,
    short_names: &[],
    categories: &[],
    verbs: ALL_VERBS,
    storage: "endpointslices",
    scale: false,
};

pub static ENDPOINTS: ResourceInfo = ResourceInfo {
    group: "",
    version: "v1",
    plural: "endpoints",
    singular: "endpoints",
    kind: "Endpoints",
    namespaced: true,
    short_names: &["ep"],
    categories: &[],
    verbs: ALL_VERBS,
    storage: "services/endpoints",
    scale: false,
};

pub struct EndpointSliceKind;

/// `ValidateEndpointSlice`'s addressType rule (the field is immutable on update).
fn validate_slice(obj: &Value, old: Option<&Value>) -> ErrorList {
    let mut errs = ErrorList::new();
    let at = obj.get("addressType").and_then(Value::as_str).unwrap_or("");
    let path = Path::new("addressType");
    if at.is_empty() {
        errs.push(FieldError::required(&path, ""));
    } else if !["IPv4", "IPv6", "FQDN"].contains(&at) {
        errs.push(FieldError::not_supported(
            &path,
            BadValue::str(at),
            &["FQDN", "IPv4", "IPv6"],
        ));
    }
    if let Some(old) = old {
        if old.get("addressType") != obj.get("addressType") {
            errs.push(FieldError::invalid(
                &path,
                BadValue::str(at),
                "field is immutable",
            ));
        }
    }
    errs
}

/// Pass-through: only validation.
impl Strategy for EndpointSliceKind {
    fn validate(&self, _rt: &Runtime, obj: &Value) -> Result<ErrorList, Status> {
        Ok(validate_slice(obj, None))
    }
    fn validate_update(
        &self,
        _rt: &Runtime,
        new: &Value,
        old: &Value,
    ) -> Result<ErrorList, Status> {
        Ok(validate_slice(new, Some(old)))
    }
}

impl Kind for EndpointSliceKind {
    fn info(&self) -> &'static ResourceInfo {
        &SLICE
    }
    fn decode(&self, v: &Value) -> Result<(Value, Vec<String>), String> {
        let (s, unknown): (EndpointSlice, _) = decode::typed(v)?;
        Ok((serde_json::to_value(s).map_err(|e| e.to_string())?, unknown))
    }
    fn columns(&self) -> Vec<Column> {
        printers::endpointslice_columns()
    }
    fn row(&self, obj: &Value, wide: bool, now: jiff::Timestamp) -> Vec<Value> {
        printers::endpointslice_row(obj, wide, now)
    }
}

pub struct EndpointsKind;

/// Pass-through: ObjectMeta is all there is to validate.
impl Strategy for EndpointsKind {}

impl Kind for EndpointsKind {
    fn info(&self) -> &'static ResourceInfo {
        &ENDPOINTS
    }
    fn decode(&self, v: &Value) -> Result<(Value, Vec<String>), String> {
        let (e, unknown): (Endpoints, _) = decode::typed(v)?;
        Ok((serde_json::to_value(e).map_err(|e| e.to_string())?, unknown))
    }
    fn columns(&self) -> Vec<Column> {
        printers::endpoints_columns()
    }
    fn row(&self, obj: &Value, wide: bool, now: jiff::Timestamp) -> Vec<Value> {
        printers::endpoints_row(obj, wide, now)
    }
}
