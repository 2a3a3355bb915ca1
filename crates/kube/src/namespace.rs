//! Namespace rules (`pkg/registry/core/namespace/strategy.go`, `pkg/apis/core/validation`
//! `ValidateNamespace`, the `NamespaceLifecycle` admission plugin): the
//! `kubernetes.io/metadata.name` label, the `kubernetes` finalizer and phase `Active` on create,
//! spec and status kept on update, the finalizer names allowed, and the system namespaces that
//! cannot be deleted.

use k8s_openapi::api::core::v1::{Namespace, NamespaceCondition, NamespaceSpec, NamespaceStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
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

/// DELETE of a namespace (`pkg/registry/core/namespace/storage` `Delete`): one that still has
/// `spec.finalizers` is kept, marked with `deletionTimestamp` and phase `Terminating`, for the
/// namespace controller to empty and finalize; one already terminating is left as it is until
/// its finalizers are gone; then it goes.
pub fn on_delete(ns: &Namespace, now: jiff::Timestamp) -> Deletion {
    let finalizers = ns
        .spec
        .as_ref()
        .and_then(|s| s.finalizers.as_ref())
        .is_some_and(|f| !f.is_empty());
    match (ns.metadata.deletion_timestamp.is_some(), finalizers) {
        (_, false) => Deletion::Remove,
        (true, true) => Deletion::Unchanged,
        (false, true) => {
            let mut n = ns.clone();
            n.metadata.deletion_timestamp = Some(Time(now));
            n.metadata.deletion_grace_period_seconds = Some(0);
            n.status.get_or_insert_with(Default::default).phase = Some("Terminating".into());
            Deletion::Keep(Box::new(n))
        }
    }
}

/// What [`on_delete`] decides.
#[derive(Debug, Clone, PartialEq)]
pub enum Deletion {
    Remove,
    Keep(Box<Namespace>),
    Unchanged,
}

/// The namespace without the `kubernetes` finalizer (the `finalize` subresource's write once
/// the content is gone).
pub fn finalize(ns: &mut Namespace) {
    if let Some(f) = ns.spec.as_mut().and_then(|s| s.finalizers.as_mut()) {
        f.retain(|x| x != FINALIZER);
    }
}

/// The conditions the namespace controller reports while it deletes the content
/// (`pkg/controller/namespace/deletion/namespaced_resources_deleter.go`,
/// `updateResourceCondition`): `remaining` is (resource, group, count) of what is left.
pub fn deletion_conditions(
    remaining: &[(String, String, usize)],
    now: jiff::Timestamp,
) -> Vec<NamespaceCondition> {
    let c = |t: &str, status: &str, reason: &str, message: String| NamespaceCondition {
        type_: t.into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: Some(message),
        last_transition_time: Some(Time(now)),
    };
    let mut out = vec![
        c(
            "NamespaceDeletionDiscoveryFailure",
            "False",
            "ResourcesDiscovered",
            "All resources successfully discovered".into(),
        ),
        c(
            "NamespaceDeletionGroupVersionParsingFailure",
            "False",
            "ParsedGroupVersions",
            "All legacy kube types successfully parsed".into(),
        ),
        c(
            "NamespaceDeletionContentFailure",
            "False",
            "ContentDeleted",
            "All content successfully deleted, may be waiting on finalization".into(),
        ),
    ];
    if remaining.is_empty() {
        out.push(c(
            "NamespaceContentRemaining",
            "False",
            "ContentRemoved",
            "All content successfully removed".into(),
        ));
    } else {
        let parts: Vec<String> = remaining
            .iter()
            .map(|(r, g, n)| format!("{r}.{g} has {n} resource instances"))
            .collect();
        out.push(c(
            "NamespaceContentRemaining",
            "True",
            "SomeResourcesRemain",
            format!("Some resources are remaining: {}", parts.join(", ")),
        ));
    }
    out.push(c(
        "NamespaceFinalizersRemaining",
        "False",
        "ContentHasNoFinalizers",
        "All content-preserving finalizers finished".into(),
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn delete_marks_terminating_then_removes_once_finalized() {
        let mut n = ns(
            json!({"metadata": {"name": "dev"}, "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}),
        );
        let now = jiff::Timestamp::from_second(1_800_000_000).unwrap();
        let Deletion::Keep(kept) = on_delete(&n, now) else {
            panic!("kept")
        };
        assert_eq!(
            kept.status.as_ref().unwrap().phase.as_deref(),
            Some("Terminating")
        );
        assert!(kept.metadata.deletion_timestamp.is_some());
        assert_eq!(on_delete(&kept, now), Deletion::Unchanged);
        let mut k = *kept;
        finalize(&mut k);
        assert_eq!(on_delete(&k, now), Deletion::Remove);
        n.spec = None;
        assert_eq!(on_delete(&n, now), Deletion::Remove);
    }

    #[test]
    fn remaining_content_is_named_as_the_namespace_controller_does() {
        let now = jiff::Timestamp::from_second(1_800_000_000).unwrap();
        let c = deletion_conditions(
            &[
                ("pods".into(), "".into(), 2),
                ("deployments".into(), "apps".into(), 1),
            ],
            now,
        );
        let r = c
            .iter()
            .find(|c| c.type_ == "NamespaceContentRemaining")
            .unwrap();
        assert_eq!(r.status, "True");
        assert_eq!(r.message.as_deref(), Some("Some resources are remaining: pods. has 2 resource instances, deployments.apps has 1 resource instances"));
        let done = deletion_conditions(&[], now);
        assert!(done
            .iter()
            .any(|c| c.type_ == "NamespaceContentRemaining" && c.status == "False"));
    }

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
