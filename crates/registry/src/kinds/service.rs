//! Services (core/v1): dual-stack defaulting, validation and cluster IP / node port allocation
//! exactly as kube-apiserver's registry, by calling the pure rules in `twinstack_core::service`
//! with an allocator that writes one key per held address into the same store transaction.

use super::{Kind, ResourceInfo, WriteCtx, ALL_VERBS};
use crate::alloc::StoreAllocator;
use crate::decode;
use crate::runtimes::Runtime;
use k8s_openapi::api::core::v1::Service;
use serde_json::Value;
use twinstack_core::field::ErrorList;
use twinstack_core::service::{self, ServiceError};
use twinstack_core::status::Status;
use twinstack_core::table::{self, Column};

pub static INFO: ResourceInfo = ResourceInfo {
    group: "",
    version: "v1",
    plural: "services",
    singular: "service",
    kind: "Service",
    namespaced: true,
    short_names: &["svc"],
    categories: &["all"],
    verbs: ALL_VERBS,
    storage: "services/specs",
    scale: false,
};

pub struct ServiceKind;

fn typed(v: &Value) -> Result<Service, Status> {
    serde_json::from_value(v.clone())
        .map_err(|e| Status::internal(format!("stored Service does not decode: {e}")))
}

fn to_value(s: &Service) -> Value {
    serde_json::to_value(s).expect("Service serializes")
}

fn name_of(v: &Value) -> &str {
    v.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn service_error(name: &str, e: ServiceError) -> Status {
    match e {
        ServiceError::Invalid(errs) => Status::invalid(name, INFO.subject(), &errs),
        ServiceError::Internal(msg) => Status::internal(msg),
    }
}

fn owner(v: &Value) -> String {
    format!(
        "{}/{}",
        v.pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or(""),
        name_of(v)
    )
}

impl Kind for ServiceKind {
    fn info(&self) -> &'static ResourceInfo {
        &INFO
    }

    fn decode(&self, v: &Value) -> Result<(Value, Vec<String>), String> {
        let (mut svc, unknown): (Service, _) = decode::typed(v)?;
        service::set_defaults(&mut svc);
        Ok((to_value(&svc), unknown))
    }

    fn create(
        &self,
        cx: &mut WriteCtx<'_>,
        obj: &mut Value,
        meta_errs: ErrorList,
    ) -> Result<Vec<String>, Status> {
        let name = name_of(obj).to_string();
        let mut svc = typed(obj)?;
        let cfg = &cx.rt.services;
        {
            let mut alloc = StoreAllocator::new(&mut *cx.txn, cx.rt, owner(obj));
            service::begin_create(&mut svc, cfg, &mut alloc)
                .map_err(|e| service_error(&name, e))?;
        }
        service::prepare_for_create(&mut svc);
        let mut errs = meta_errs;
        errs.extend(service::validate(&svc, cfg));
        if !errs.is_empty() {
            return Err(Status::invalid(&name, INFO.subject(), &errs));
        }
        let warnings = service::warnings(&svc, None);
        *obj = to_value(&svc);
        Ok(warnings)
    }

    fn update(
        &self,
        cx: &mut WriteCtx<'_>,
        new: &mut Value,
        old: &Value,
        meta_errs: ErrorList,
    ) -> Result<Vec<String>, Status> {
        let name = name_of(new).to_string();
        let mut svc = typed(new)?;
        let old_svc = typed(old)?;
        let cfg = &cx.rt.services;
        {
            let mut alloc = StoreAllocator::new(&mut *cx.txn, cx.rt, owner(new));
            service::begin_update(&mut svc, &old_svc, cfg, &mut alloc)
                .map_err(|e| service_error(&name, e))?;
        }
        service::prepare_for_update(&mut svc, &old_svc);
        let mut errs = meta_errs;
        errs.extend(service::validate_update(&svc, &old_svc, cfg));
        if !errs.is_empty() {
            return Err(Status::invalid(&name, INFO.subject(), &errs));
        }
        let warnings = service::warnings(&svc, Some(&old_svc));
        *new = to_value(&svc);
        Ok(warnings)
    }

    fn delete(&self, cx: &mut WriteCtx<'_>, old: &Value) -> Result<(), Status> {
        let svc = typed(old)?;
        let mut alloc = StoreAllocator::new(&mut *cx.txn, cx.rt, owner(old));
        service::release(&svc, &cx.rt.services, &mut alloc);
        Ok(())
    }

    fn on_read(&self, rt: &Runtime, obj: &mut Value) {
        // defaultOnRead only changes objects written before the dual-stack fields existed (or
        // an ExternalName Service still carrying internalTrafficPolicy); skip the typed round
        // trip for everything else.
        let spec = obj.get("spec");
        let external =
            spec.and_then(|s| s.get("type")).and_then(Value::as_str) == Some("ExternalName");
        let has = |f: &str| {
            spec.and_then(|s| s.get(f))
                .is_some_and(|v| !v.is_null() && v != &Value::Array(vec![]))
        };
        let needed = if external {
            has("internalTrafficPolicy")
        } else {
            !has("ipFamilies") || (has("clusterIP") && !has("clusterIPs"))
        };
        if !needed {
            return;
        }
        if let Ok(mut svc) = serde_json::from_value::<Service>(obj.clone()) {
            let before = svc.clone();
            service::default_on_read(&mut svc, &rt.services);
            if svc != before {
                *obj = to_value(&svc);
            }
        }
    }

    /// Service storage sets `ReturnDeletedObject: true`.
    fn delete_returns_object(&self) -> bool {
        true
    }

    fn columns(&self) -> Vec<Column> {
        table::service_columns()
    }

    fn row(&self, obj: &Value, wide: bool, now: jiff::Timestamp) -> Vec<Value> {
        table::service_row(obj, wide, now)
    }
}
