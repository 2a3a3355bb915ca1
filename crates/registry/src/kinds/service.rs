//! Services (core/v1): dual-stack defaulting, validation and cluster IP / node port allocation
//! exactly as kube-apiserver's registry, by calling the pure rules in `twinstack_kube::service`
//! with an allocator that writes one key per held address into the same store transaction.

use super::{Kind, ResourceInfo, Strategy, WriteCtx, ALL_VERBS};
use crate::alloc::StoreAllocator;
use crate::decode;
use crate::runtimes::Runtime;
use k8s_openapi::api::core::v1::Service;
use serde_json::Value;
use twinstack_core::field::ErrorList;
use twinstack_core::status::Status;
use twinstack_kube::service::{self, ServiceError};
use twinstack_kube::table::{self, Column};

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
    super::typed(v, "Service")
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

/// Allocation in `begin_*` (one store key per held address or port, written in the write
/// transaction), then upstream's strategy (`pkg/registry/core/service/strategy.go`).
impl Strategy for ServiceKind {
    fn begin_create(&self, cx: &mut WriteCtx<'_>, obj: &mut Value) -> Result<(), Status> {
        let mut svc = typed(obj)?;
        admit(cx, &mut svc, None);
        let mut alloc = StoreAllocator::new(&mut *cx.txn, cx.rt, owner(obj));
        service::begin_create(&mut svc, &cx.rt.services, &mut alloc)
            .map_err(|e| service_error(name_of(obj), e))?;
        istio_warning(cx, &svc);
        internal_ipv6_warning(cx, &svc, None);
        *obj = to_value(&svc);
        Ok(())
    }

    fn prepare_for_create(&self, obj: &mut Value) -> Result<(), Status> {
        let mut svc = typed(obj)?;
        service::prepare_for_create(&mut svc);
        *obj = to_value(&svc);
        Ok(())
    }

    fn validate(&self, rt: &Runtime, obj: &Value) -> Result<ErrorList, Status> {
        Ok(service::validate(&typed(obj)?, &rt.services))
    }

    fn warnings_on_create(&self, obj: &Value) -> Result<Vec<String>, Status> {
        Ok(service::warnings(&typed(obj)?, None))
    }

    fn begin_update(
        &self,
        cx: &mut WriteCtx<'_>,
        new: &mut Value,
        old: &Value,
    ) -> Result<(), Status> {
        let mut svc = typed(new)?;
        let old_svc = typed(old)?;
        admit(cx, &mut svc, Some(&old_svc));
        let mut alloc = StoreAllocator::new(&mut *cx.txn, cx.rt, owner(new));
        service::begin_update(&mut svc, &old_svc, &cx.rt.services, &mut alloc)
            .map_err(|e| service_error(name_of(new), e))?;
        let families_changed = svc.spec.as_ref().and_then(|s| s.ip_families.as_ref())
            != old_svc.spec.as_ref().and_then(|s| s.ip_families.as_ref());
        if families_changed {
            istio_warning(cx, &svc);
        }
        internal_ipv6_warning(cx, &svc, Some(&old_svc));
        *new = to_value(&svc);
        Ok(())
    }

    fn prepare_for_update(&self, new: &mut Value, old: &Value) -> Result<(), Status> {
        let mut svc = typed(new)?;
        service::prepare_for_update(&mut svc, &typed(old)?);
        *new = to_value(&svc);
        Ok(())
    }

    fn validate_update(&self, rt: &Runtime, new: &Value, old: &Value) -> Result<ErrorList, Status> {
        Ok(service::validate_update(
            &typed(new)?,
            &typed(old)?,
            &rt.services,
        ))
    }

    fn warnings_on_update(&self, new: &Value, old: &Value) -> Result<Vec<String>, Status> {
        Ok(service::warnings(&typed(new)?, Some(&typed(old)?)))
    }
}

/// Mutating admission of a Service, before its strategy: Gardener's shoot Service webhook of
/// the runtime's provider (`twinstack_cloud::gardener`), whose trigger is the runtime's
/// `kube-system/kube-dns` having IPv6 in `spec.ipFamilies`.
fn admit(cx: &mut WriteCtx<'_>, svc: &mut Service, old: Option<&Service>) {
    use twinstack_cloud::gardener;
    use twinstack_core::runtime::Provider;
    let provider = cx.rt.record.provider;
    if !matches!(provider, Provider::Aws | Provider::Gcp) {
        return;
    }
    let key = crate::keys::object_key(cx.rt.name(), &ServiceKind, Some("kube-system"), "kube-dns");
    // A runtime of `up` has no kube-dns Service of KIM's: its families stand for it.
    let dns_has_ipv6 = match cx.txn.get_json(&key) {
        Some(v) => v
            .pointer("/spec/ipFamilies")
            .and_then(Value::as_array)
            .is_some_and(|f| f.iter().any(|f| f == "IPv6")),
        None => cx
            .rt
            .record
            .network
            .families
            .contains(&twinstack_core::ipam::Family::IPv6),
    };
    match provider {
        Provider::Aws => gardener::mutate_service_aws(svc, old, dns_has_ipv6),
        _ => gardener::mutate_service_gcp(svc, old, dns_has_ipv6),
    };
}

/// Whether `svc` selects pods with an Istio sidecar: its namespace injects
/// (`istio-injection=enabled`), or a pod it selects carries one.
pub fn selects_injected_pods(
    txn: &mut dyn crate::store_ext::TxnExt,
    rt: &str,
    svc: &Service,
) -> bool {
    let ns = svc.metadata.namespace.as_deref().unwrap_or("default");
    let Some(sel) = svc
        .spec
        .as_ref()
        .and_then(|s| s.selector.as_ref())
        .filter(|s| !s.is_empty())
    else {
        return false;
    };
    let ns_key = crate::keys::object_key(rt, &super::namespace::NamespaceKind, None, ns);
    let injects = txn
        .get_json(&ns_key)
        .and_then(|v| v.pointer("/metadata/labels/istio-injection").cloned())
        .is_some_and(|v| v == "enabled");
    if injects {
        return true;
    }
    let prefix = crate::keys::collection_prefix(rt, &super::pod::PodKind, Some(ns));
    txn.scan(&prefix).into_iter().any(|(_, raw)| {
        serde_json::from_slice::<k8s_openapi::api::core::v1::Pod>(&raw).is_ok_and(|p| {
            let labels = p.metadata.labels.clone().unwrap_or_default();
            sel.iter().all(|(k, v)| labels.get(k) == Some(v))
                && twinstack_cloud::istio::is_injected(&p)
        })
    })
}

/// The warning that IPv6 traffic to sidecar-injected pods is not part of the mesh.
fn istio_warning(cx: &mut WriteCtx<'_>, svc: &Service) {
    let ipv6 = svc
        .spec
        .as_ref()
        .and_then(|s| s.ip_families.as_ref())
        .is_some_and(|f| f.iter().any(|f| f == "IPv6"));
    if !ipv6 {
        return;
    }
    let injected = selects_injected_pods(&mut *cx.txn, cx.rt.name(), svc);
    if let Some(w) = twinstack_cloud::istio::ipv6_outside_mesh_warning(svc, injected) {
        cx.warnings.push(w);
    }
}

/// The warning that an internal IPv6 load balancer is not supported on Google Cloud, when a
/// write makes a Service one (`twinstack_cloud::gcp::internal_ipv6_warning`).
fn internal_ipv6_warning(cx: &mut WriteCtx<'_>, svc: &Service, old: Option<&Service>) {
    use twinstack_cloud::gcp::internal_ipv6_warning as warning;
    if cx.rt.record.provider != twinstack_core::runtime::Provider::Gcp {
        return;
    }
    if let Some(w) = warning(svc) {
        if old.and_then(warning).is_none() {
            cx.warnings.push(w);
        }
    }
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
