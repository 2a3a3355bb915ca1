//! The write strategy of a kind and the one driver that runs it.
//!
//! kube-apiserver's generic store owns the order of a write's steps and each kind plugs in a
//! strategy (`k8s.io/apiserver/pkg/registry/rest/create.go` `BeforeCreate`, `update.go`
//! `BeforeUpdate`, and the store's `BeginCreate`/`BeginUpdate`/`AfterCreate` hooks). Here the
//! same: [`Strategy`] has upstream's hooks, each a no-op by default, so a kind implements only
//! what it needs; [`create`] and [`update`] run them in upstream's order inside the store
//! transaction and build the `Invalid` status once. A kind that implements no hook at all is
//! the pass-through strategy: its objects are stored as decoded once ObjectMeta validates.
//!
//! Order of a create: `begin_create` (allocation in the transaction), the status strategy's
//! reset (kinds with a status subresource), `prepare_for_create`, `validate` (ObjectMeta errors
//! first, as upstream's `ValidateObjectMeta` opens every kind's `Validate`), `warnings_on_create`,
//! `canonicalize`, `after_create`. An update runs `begin_update`, the status strategy's carry,
//! `prepare_for_update`, `validate_update`, `warnings_on_update`, `canonicalize`.

use crate::kinds::{Kind, WriteCtx};
use crate::runtimes::Runtime;
use serde_json::{json, Value};
use twinstack_core::field::ErrorList;
use twinstack_core::status::Status;

/// A kind's write hooks, named as upstream's `RESTCreateStrategy` / `RESTUpdateStrategy` and the
/// generic store's hooks. Hooks work on the stored form (`Value`); a kind whose rules are typed
/// decodes in the hook. A hook that fails with a `Status` ends the write with it.
pub trait Strategy: Send + Sync {
    /// `BeginCreate`: what must happen in the write transaction before preparation (Service
    /// address and port allocation, pod admission). Its errors come before validation's.
    fn begin_create(&self, _cx: &mut WriteCtx<'_>, _obj: &mut Value) -> Result<(), Status> {
        Ok(())
    }

    /// `PrepareForCreate`: clears or sets what users do not write.
    fn prepare_for_create(&self, _obj: &mut Value) -> Result<(), Status> {
        Ok(())
    }

    /// `Validate`: the kind's own errors; the driver puts the ObjectMeta errors before them.
    /// `rt` gives the runtime's configuration (a Service's ranges), as upstream's context does.
    fn validate(&self, _rt: &Runtime, _obj: &Value) -> Result<ErrorList, Status> {
        Ok(ErrorList::new())
    }

    /// `WarningsOnCreate`, on a valid object.
    fn warnings_on_create(&self, _obj: &Value) -> Result<Vec<String>, Status> {
        Ok(vec![])
    }

    /// `Canonicalize`: normalizes a valid object before it is stored.
    fn canonicalize(&self, _obj: &mut Value) {}

    /// `AfterCreate`: what a valid create adds in the same transaction (a namespace's default
    /// ServiceAccount and root CA ConfigMap).
    fn after_create(&self, _cx: &mut WriteCtx<'_>, _obj: &Value) {}

    /// `BeginUpdate`: allocation in the write transaction, before preparation.
    fn begin_update(
        &self,
        _cx: &mut WriteCtx<'_>,
        _new: &mut Value,
        _old: &Value,
    ) -> Result<(), Status> {
        Ok(())
    }

    /// `PrepareForUpdate`: keeps what the main resource may not change.
    fn prepare_for_update(&self, _new: &mut Value, _old: &Value) -> Result<(), Status> {
        Ok(())
    }

    /// `ValidateUpdate`: the kind's own errors of `new` against `old`.
    fn validate_update(
        &self,
        _rt: &Runtime,
        _new: &Value,
        _old: &Value,
    ) -> Result<ErrorList, Status> {
        Ok(ErrorList::new())
    }

    /// `WarningsOnUpdate`, on a valid object.
    fn warnings_on_update(&self, _new: &Value, _old: &Value) -> Result<Vec<String>, Status> {
        Ok(vec![])
    }

    /// Whether the kind keeps status apart from spec (upstream serves it a `/status`
    /// subresource): writes of the main resource run [`status`]'s spec half, status writes its
    /// status half.
    fn status_subresource(&self) -> bool {
        false
    }

    /// Whether `validate`/`validate_update` repeat the ObjectMeta checks (upstream's
    /// `ValidatePodCreate` calls `ValidateObjectMeta` itself): then ObjectMeta errors, when
    /// there are any, are reported alone, and the kind's rules are not run on a bad name.
    fn validate_repeats_object_meta(&self) -> bool {
        false
    }
}

fn name_of(v: &Value) -> &str {
    v.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// ObjectMeta errors, then the kind's (computed by `kind_errs` unless the kind repeats the
/// ObjectMeta checks and they failed); `Invalid` when any.
fn check(
    kind: &dyn Kind,
    obj: &Value,
    meta_errs: ErrorList,
    kind_errs: impl FnOnce() -> Result<ErrorList, Status>,
) -> Result<(), Status> {
    let mut errs = meta_errs;
    if errs.is_empty() || !kind.validate_repeats_object_meta() {
        errs.extend(kind_errs()?);
    }
    if errs.is_empty() {
        return Ok(());
    }
    Err(Status::invalid(name_of(obj), kind.info().subject(), &errs))
}

/// Runs the create strategy of `kind` on a decoded object inside the write transaction;
/// `meta_errs` are the ObjectMeta errors the registry found. Returns the warnings.
pub fn create(
    kind: &dyn Kind,
    cx: &mut WriteCtx<'_>,
    obj: &mut Value,
    meta_errs: ErrorList,
) -> Result<Vec<String>, Status> {
    kind.begin_create(cx, obj)?;
    if kind.status_subresource() {
        status::prepare_for_create(obj);
    }
    kind.prepare_for_create(obj)?;
    check(kind, obj, meta_errs, || kind.validate(cx.rt, obj))?;
    let mut warnings = std::mem::take(&mut cx.warnings);
    warnings.extend(kind.warnings_on_create(obj)?);
    kind.canonicalize(obj);
    kind.after_create(cx, obj);
    Ok(warnings)
}

/// Runs the update strategy of `kind`; `new` already carries the system metadata of `old`.
/// Returns the warnings.
pub fn update(
    kind: &dyn Kind,
    cx: &mut WriteCtx<'_>,
    new: &mut Value,
    old: &Value,
    meta_errs: ErrorList,
) -> Result<Vec<String>, Status> {
    kind.begin_update(cx, new, old)?;
    if kind.status_subresource() {
        status::prepare_for_update(new, old);
    }
    kind.prepare_for_update(new, old)?;
    check(kind, new, meta_errs, || {
        kind.validate_update(cx.rt, new, old)
    })?;
    let mut warnings = std::mem::take(&mut cx.warnings);
    warnings.extend(kind.warnings_on_update(new, old)?);
    kind.canonicalize(new);
    Ok(warnings)
}

/// The split of spec from status that upstream's workload strategies make (`deploymentStrategy`
/// vs `deploymentStatusStrategy`, and likewise for ReplicaSets, StatefulSets, DaemonSets,
/// ReplicationControllers and Jobs): users own the spec, controllers the status.
pub mod status {
    use super::*;

    /// The main resource on create: status is the controllers' (cleared) and generation starts
    /// at 1.
    pub fn prepare_for_create(obj: &mut Value) {
        if let Some(o) = obj.as_object_mut() {
            o.remove("status");
        }
        obj["metadata"]["generation"] = json!(1);
    }

    /// The main resource on update: status stays as stored and `metadata.generation` is bumped
    /// when the spec changes.
    pub fn prepare_for_update(new: &mut Value, old: &Value) {
        let old_gen = old
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        let gen = if new.get("spec") != old.get("spec") {
            old_gen + 1
        } else {
            old_gen
        };
        new["metadata"]["generation"] = json!(gen);
        keep(new, old, "status");
    }

    /// A status write (the `*StatusStrategy`'s `PrepareForUpdate`): the spec stays as stored
    /// and nothing is bumped (generation is the stored one). Upstream's Deployment and
    /// StatefulSet status strategies also keep `metadata.labels`; ReplicaSet's and Job's keep
    /// the spec alone, as this does.
    pub fn prepare_for_status_update(new: &mut Value, old: &Value) {
        keep(new, old, "spec");
        match old.pointer("/metadata/generation") {
            Some(g) if new.get("metadata").is_some_and(Value::is_object) => {
                new["metadata"]["generation"] = g.clone();
            }
            _ => {
                if let Some(m) = new.get_mut("metadata").and_then(Value::as_object_mut) {
                    m.remove("generation");
                }
            }
        }
    }

    /// `new.<field> = old.<field>`, absent when `old` has none.
    fn keep(new: &mut Value, old: &Value, field: &str) {
        match old.get(field) {
            Some(v) => new[field] = v.clone(),
            None => {
                if let Some(o) = new.as_object_mut() {
                    o.remove(field);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
