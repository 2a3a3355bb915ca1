//! EndpointSlices (discovery.k8s.io/v1) and legacy Endpoints (core/v1), written by the
//! EndpointSlice and Endpoints controllers (`twinstack_controllers`) and stored as given when
//! users write them.

use super::{invalid, Kind, ResourceInfo, WriteCtx, ALL_VERBS};
use crate::decode;
use k8s_openapi::api::core::v1::Endpoints;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use serde_json::Value;
use twinstack_core::field::{BadValue, ErrorList, FieldError, Path};
use twinstack_core::status::Status;
use twinstack_core::table::Column;
use twinstack_kube::printers;

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

impl Kind for EndpointSliceKind {
    fn info(&self) -> &'static ResourceInfo {
        &SLICE
    }
    fn decode(&self, v: &Value) -> Result<(Value, Vec<String>), String> {
        let (s, unknown): (EndpointSlice, _) = decode::typed(v)?;
        Ok((serde_json::to_value(s).map_err(|e| e.to_string())?, unknown))
    }
    fn create(
        &self,
        _cx: &mut WriteCtx<'_>,
        obj: &mut Value,
        meta_errs: ErrorList,
    ) -> Result<Vec<String>, Status> {
        invalid(&SLICE, obj, meta_errs, validate_slice(obj, None))?;
        Ok(vec![])
    }
    fn update(
        &self,
        _cx: &mut WriteCtx<'_>,
        new: &mut Value,
        old: &Value,
        meta_errs: ErrorList,
    ) -> Result<Vec<String>, Status> {
        invalid(&SLICE, new, meta_errs, validate_slice(new, Some(old)))?;
        Ok(vec![])
    }
    fn delete(&self, _cx: &mut WriteCtx<'_>, _old: &Value) -> Result<(), Status> {
        Ok(())
    }
    fn columns(&self) -> Vec<Column> {
        printers::endpointslice_columns()
    }
    fn row(&self, obj: &Value, wide: bool, now: jiff::Timestamp) -> Vec<Value> {
        printers::endpointslice_row(obj, wide, now)
    }
}

pub struct EndpointsKind;

impl Kind for EndpointsKind {
    fn info(&self) -> &'static ResourceInfo {
        &ENDPOINTS
    }
    fn decode(&self, v: &Value) -> Result<(Value, Vec<String>), String> {
        let (e, unknown): (Endpoints, _) = decode::typed(v)?;
        Ok((serde_json::to_value(e).map_err(|e| e.to_string())?, unknown))
    }
    fn create(
        &self,
        _cx: &mut WriteCtx<'_>,
        obj: &mut Value,
        meta_errs: ErrorList,
    ) -> Result<Vec<String>, Status> {
        invalid(&ENDPOINTS, obj, meta_errs, ErrorList::new())?;
        Ok(vec![])
    }
    fn update(
        &self,
        _cx: &mut WriteCtx<'_>,
        new: &mut Value,
        _old: &Value,
        meta_errs: ErrorList,
    ) -> Result<Vec<String>, Status> {
        invalid(&ENDPOINTS, new, meta_errs, ErrorList::new())?;
        Ok(vec![])
    }
    fn delete(&self, _cx: &mut WriteCtx<'_>, _old: &Value) -> Result<(), Status> {
        Ok(())
    }
    fn columns(&self) -> Vec<Column> {
        printers::endpoints_columns()
    }
    fn row(&self, obj: &Value, wide: bool, now: jiff::Timestamp) -> Vec<Value> {
        printers::endpoints_row(obj, wide, now)
    }
}
