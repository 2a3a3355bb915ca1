//! Namespace rules (`pkg/registry/core/namespace/strategy.go`, `pkg/apis/core/validation`
//! `ValidateNamespace`, the `NamespaceLifecycle` admission plugin): the
//! `kubernetes.io/metadata.name` label, the `kubernetes` finalizer and phase `Active` on create,
//! spec and status kept on update, the finalizer names allowed, and the system namespaces that
//! cannot be deleted.

use k8s_openapi::api::core::v1::{Namespace, NamespaceSpec, NamespaceStatus};
use twinstack_core::field::{BadValue, ErrorList, FieldError, Path};

/// Namespaces every runtime has from the start; they cannot be deleted.
pub const SYSTEM: [&str; 4] = ["default", "kube-system", "kube-public", "kube-node-lease"];

/// The label every namespace carries with its own name (`namespaceStrategy.PrepareForCreate`,
/// immutable since 1.22).
pub const NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// The finalizer the namespace controller removes once the namespace is empty.
pub const FINALIZER: &str = "kubernetes";

/// Sets the `kubernetes.io/metadata.name` label to the namespace's name.
pub fn set_name_label(ns: &mut Namespace) {
    let name = ns.metadata.name.clone().unwrap_or_default();
    ns.metadata
        .labels
        .get_or_insert_with(Default::default)
        .insert(NAME_LABEL.into(), name);
}

/// `PrepareForCreate`: the `kubernetes` finalizer and phase `Active`, whatever was sent.
pub fn prepare_for_create(ns: &mut Namespace) {
    ns.spec = Some(NamespaceSpec {
        finalizers: Some(vec![FINALIZER.into()]),
    });
    ns.status = Some(NamespaceStatus {
        phase: Some("Active".into()),
        conditions: None,
    });
}

/// `PrepareForUpdate`: spec (finalizers) and status are the controller's; an update keeps
/// the stored ones, and the name label.
pub fn prepare_for_update(new: &mut Namespace, old: &Namespace) {
    new.spec = Some(old.spec.clone().unwrap_or_default());
    new.status = Some(old.status.clone().unwrap_or_default());
    set_name_label(new);
}

/// `validateFinalizerName` over `spec.finalizers`: a qualified name, and either the standard
/// `kubernetes` or fully qualified (with a `/`).
pub fn validate_finalizers(ns: &Namespace) -> ErrorList {
    let mut errs = ErrorList::new();
    let finalizers = ns.spec.as_ref().and_then(|s| s.finalizers.as_ref());
    for (i, s) in finalizers.into_iter().flatten().enumerate() {
        let p = Path::new("spec").child("finalizers").index(i);
        for msg in twinstack_core::selector::is_qualified_name(s) {
            errs.push(FieldError::invalid(&p, BadValue::str(s), msg));
        }
        if !s.contains('/') && s != FINALIZER {
            errs.push(FieldError::invalid(
                &p,
                BadValue::str(s),
                "name is neither a standard finalizer name nor is it fully qualified",
            ));
        }
    }
    errs
}

/// Whether the namespace `name` may be deleted (`NamespaceLifecycle` refuses the system
/// namespaces with this message).
pub fn may_delete(name: &str) -> Result<(), &'static str> {
    if SYSTEM.contains(&name) {
        Err("this namespace may not be deleted")
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ns(v: serde_json::Value) -> Namespace {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn create_sets_finalizer_phase_and_label() {
        let mut n = ns(json!({"metadata": {"name": "dev", "labels": {"a": "b"}},
            "spec": {"finalizers": ["example.com/x"]}, "status": {"phase": "Terminating"}}));
        prepare_for_create(&mut n);
        set_name_label(&mut n);
        assert_eq!(
            serde_json::to_value(&n).unwrap(),
            json!({"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": "dev", "labels": {"a": "b", NAME_LABEL: "dev"}},
                "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})
        );
    }

    #[test]
    fn update_keeps_spec_status_and_the_name_label() {
        let old = ns(
            json!({"metadata": {"name": "dev"}, "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"}}),
        );
        let mut new = ns(
            json!({"metadata": {"name": "dev", "labels": {NAME_LABEL: "other"}},
            "spec": {"finalizers": []}, "status": {"phase": "Terminating"}}),
        );
        prepare_for_update(&mut new, &old);
        assert_eq!(new.spec, old.spec);
        assert_eq!(new.status, old.status);
        assert_eq!(new.metadata.labels.unwrap()[NAME_LABEL], "dev");
    }

    #[test]
    fn finalizer_names_table() {
        // (finalizer, errors)
        let rows: [(&str, usize); 5] = [
            ("kubernetes", 0),
            ("example.com/cleanup", 0),
            ("cleanup", 1),
            ("bad name/x", 1),
            // Empty: the qualified-name rule's two messages and the finalizer rule's.
            ("", 3),
        ];
        for (f, want) in rows {
            let n = ns(json!({"metadata": {"name": "x"}, "spec": {"finalizers": [f]}}));
            let errs = validate_finalizers(&n);
            assert_eq!(errs.len(), want, "{f:?}: {errs:?}");
        }
    }

    #[test]
    fn system_namespaces_may_not_be_deleted() {
        for n in SYSTEM {
            assert_eq!(may_delete(n), Err("this namespace may not be deleted"));
        }
        assert_eq!(may_delete("dev"), Ok(()));
    }
}
