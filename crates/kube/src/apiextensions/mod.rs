//! CustomResourceDefinitions and their custom resources, as kube-apiserver's
//! apiextensions-apiserver serves them: CRD defaulting and validation ([`validation`]), the
//! names and conditions its controllers set ([`names`]), and for each custom resource the
//! structural schema at work ([`schema`]: pruning, defaulting, validation), CEL rules
//! ([`cel`]) and printer columns ([`printers`]).
//!
//! Start with [`prepare`] and [`validate_instance`]: what a write of a custom resource goes
//! through, in upstream's order (decode, prune unknown fields, default, validate the schema,
//! then the CEL rules).

pub mod cel;
pub mod names;
pub mod printers;
pub mod schema;
pub mod validation;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaProps;
use serde_json::Value;
use twinstack_core::field::{ErrorList, Path};

/// The API group of CustomResourceDefinitions.
pub const GROUP_NAME: &str = "apiextensions.k8s.io";
/// The finalizer that holds a CRD until its instances are gone.
pub const CLEANUP_FINALIZER: &str = "customresourcecleanup.apiextensions.k8s.io";

/// Prunes the fields `schema` does not specify and sets its defaults on a custom resource (the
/// decoder's `PruneWithOptions` then `Default`). Returns the pruned paths.
pub fn prepare(obj: &mut Value, schema: &JSONSchemaProps) -> Vec<String> {
    let unknown = schema::prune(obj, schema, true);
    schema::default(obj, schema);
    unknown
}

/// `ValidateCustomResource` plus the CEL rules (`celValidator.Validate`): the schema errors of
/// `obj` (from the root, with `metadata` skipped), then the failed rules, comparing with `old`
/// on an update.
pub fn validate_instance(obj: &Value, old: Option<&Value>, schema: &JSONSchemaProps) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut body = obj.clone();
    if let Some(m) = body.as_object_mut() {
        m.remove("metadata");
        m.remove("apiVersion");
        m.remove("kind");
    }
    // The root's own checks, then its properties with paths from the root (`spec.x`).
    let mut root = schema.clone();
    root.x_kubernetes_validations = None;
    if let (Some(m), Some(props)) = (body.as_object(), root.properties.as_ref()) {
        for r in root.required.iter().flatten() {
            if !m.contains_key(r) && !matches!(r.as_str(), "apiVersion" | "kind" | "metadata") {
                errs.push(twinstack_core::field::FieldError::required(
                    &Path::new(r),
                    "",
                ));
            }
        }
        for (k, v) in m {
            if let Some(p) = props.get(k) {
                schema::validate(v, p, &Path::new(k), &mut errs);
            }
        }
    }
    if errs.is_empty() {
        // Upstream skips the CEL rules when the schema validation failed.
        cel_root(obj, old, schema, &mut errs);
    }
    errs
}

/// The CEL rules from the root: the root's own rules see the whole object (`<root>` path is
/// empty upstream, printed as `<nil>`), the rest with paths from the root.
fn cel_root(obj: &Value, old: Option<&Value>, s: &JSONSchemaProps, errs: &mut ErrorList) {
    let mut root_only = s.clone();
    root_only.properties = None;
    root_only.items = None;
    root_only.additional_properties = None;
    cel::validate(obj, old, &root_only, &Path::new("<nil>"), errs);
    if let (Some(m), Some(props)) = (obj.as_object(), s.properties.as_ref()) {
        for (k, v) in m {
            if k == "metadata" {
                continue;
            }
            if let Some(p) = props.get(k) {
                cel::validate(v, old.and_then(|o| o.get(k)), p, &Path::new(k), errs);
            }
        }
    }
}

#[cfg(test)]
mod tests;
