//! The names a CRD is served under and its conditions, as the naming and establishing
//! controllers set them.
//!
//! Upstream: `staging/src/k8s.io/apiextensions-apiserver/pkg/controller/status/naming_controller.go`
//! (`calculateNamesAndConditions`, `getAcceptedNamesForGroup`) and
//! `pkg/controller/establish/establishing_controller.go` (`sync`). Both run here at once, in
//! the CRD's write: a CRD whose names are free is `NamesAccepted` and `Established` when its
//! create returns.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, CustomResourceDefinitionCondition, CustomResourceDefinitionNames,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use std::collections::BTreeSet;

/// A condition with its transition time, as `SetCRDCondition` keeps it (the time stays when the
/// status does not change).
pub fn set_condition(
    conds: &mut Vec<CustomResourceDefinitionCondition>,
    ty: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: Time,
) {
    if let Some(c) = conds.iter_mut().find(|c| c.type_ == ty) {
        if c.status != status {
            c.last_transition_time = Some(now);
        }
        c.status = status.into();
        c.reason = Some(reason.into());
        c.message = Some(message.into());
        return;
    }
    conds.push(CustomResourceDefinitionCondition {
        type_: ty.into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: Some(message.into()),
        last_transition_time: Some(now),
    });
}

/// The names and conditions of `crd` given the other CRDs of the runtime
/// (`calculateNamesAndConditions`): its requested names when none is taken in its group, else
/// the names it had (if any) and `NamesAccepted=False` with the first conflict.
pub fn calculate(
    crd: &CustomResourceDefinition,
    others: &[CustomResourceDefinition],
) -> (CustomResourceDefinitionNames, Option<(String, String)>) {
    let me = crd.metadata.name.as_deref().unwrap_or("");
    let mut resources = BTreeSet::new();
    let mut kinds = BTreeSet::new();
    for o in others {
        if o.metadata.name.as_deref() == Some(me) || o.spec.group != crd.spec.group {
            continue;
        }
        let Some(n) = o.status.as_ref().and_then(|s| s.accepted_names.as_ref()) else {
            continue;
        };
        resources.insert(n.plural.clone());
        if let Some(s) = &n.singular {
            resources.insert(s.clone());
        }
        for s in n.short_names.iter().flatten() {
            resources.insert(s.clone());
        }
        kinds.insert(n.kind.clone());
        if let Some(l) = &n.list_kind {
            kinds.insert(l.clone());
        }
    }
    let req = &crd.spec.names;
    let conflict = |reason: &str, msg: String| Some((reason.to_string(), msg));
    let mut err = None;
    if resources.contains(&req.plural) {
        err = conflict(
            "PluralConflict",
            format!("{:?} is already in use", req.plural),
        );
    } else if req.singular.as_ref().is_some_and(|s| resources.contains(s)) {
        err = conflict(
            "SingularConflict",
            format!(
                "{:?} is already in use",
                req.singular.clone().unwrap_or_default()
            ),
        );
    } else if let Some(s) = req
        .short_names
        .iter()
        .flatten()
        .find(|s| resources.contains(*s))
    {
        err = conflict("ShortNamesConflict", format!("{:?} is already in use", s));
    } else if kinds.contains(&req.kind) {
        err = conflict("KindConflict", format!("{:?} is already in use", req.kind));
    } else if req.list_kind.as_ref().is_some_and(|l| kinds.contains(l)) {
        err = conflict(
            "ListKindConflict",
            format!(
                "{:?} is already in use",
                req.list_kind.clone().unwrap_or_default()
            ),
        );
    }
    match err {
        None => (req.clone(), None),
        Some(e) => (
            crd.status
                .as_ref()
                .and_then(|s| s.accepted_names.clone())
                .unwrap_or_default(),
            Some(e),
        ),
    }
}

/// Sets `acceptedNames`, `NamesAccepted` and `Established` on `crd` against `others`.
pub fn update_status(
    crd: &mut CustomResourceDefinition,
    others: &[CustomResourceDefinition],
    now: Time,
) {
    let (names, conflict) = calculate(crd, others);
    let status = crd.status.get_or_insert_with(Default::default);
    let conds = status.conditions.get_or_insert_with(Vec::new);
    match &conflict {
        None => {
            set_condition(
                conds,
                "NamesAccepted",
                "True",
                "NoConflicts",
                "no conflicts found",
                now.clone(),
            );
            set_condition(
                conds,
                "Established",
                "True",
                "InitialNamesAccepted",
                "the initial names have been accepted",
                now,
            );
        }
        Some((reason, msg)) => {
            set_condition(conds, "NamesAccepted", "False", reason, msg, now.clone());
            let established = conds
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True");
            if !established {
                set_condition(
                    conds,
                    "Established",
                    "False",
                    "NotAccepted",
                    "not all names are accepted",
                    now,
                );
            }
        }
    }
    status.accepted_names = Some(names);
}

/// Whether the CRD serves its resources: `Established=True` with accepted names.
pub fn is_established(crd: &CustomResourceDefinition) -> bool {
    crd.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| {
            c.iter()
                .any(|c| c.type_ == "Established" && c.status == "True")
        })
}

/// `version.CompareKubeAwareVersionStrings`: GA before beta before alpha, higher numbers first,
/// other strings last in lexical order. Sorting with it puts the preferred version first.
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    fn parse(v: &str) -> Option<(u64, u8, u64)> {
        let rest = v.strip_prefix('v')?;
        let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        if digits.is_empty() {
            return None;
        }
        let major: u64 = digits.parse().ok()?;
        let tail = &rest[digits.len()..];
        if tail.is_empty() {
            return Some((major, 2, 0));
        }
        let (stage, n) = if let Some(n) = tail.strip_prefix("beta") {
            (1, n)
        } else if let Some(n) = tail.strip_prefix("alpha") {
            (0, n)
        } else {
            return None;
        };
        if n.is_empty() || !n.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        Some((major, stage, n.parse().ok()?))
    }
    match (parse(a), parse(b)) {
        (Some((ma, sa, na)), Some((mb, sb, nb))) => sb.cmp(&sa).then(mb.cmp(&ma)).then(nb.cmp(&na)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}
