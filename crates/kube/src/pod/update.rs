//! Pod update validation (`ValidatePodUpdate` in `pkg/apis/core/validation/validation.go`):
//! only container images, `activeDeadlineSeconds`, added tolerations and a negative
//! `terminationGracePeriodSeconds` turned into 1 may change. Upstream appends a `cmp.Diff` of
//! the internal `core.PodSpec` to the Forbidden message; Go's diff output cannot be reproduced
//! byte for byte, so [`spec_diff`] renders the changed top-level fields in the same shape.

use k8s_openapi::api::core::v1::{Pod, PodSpec};
use serde_json::Value;
use twinstack_core::field::{BadValue, ErrorList, FieldError, Path};
use twinstack_core::meta::validate_object_meta_update;

use super::validation::validate_spec;

/// The text of the Forbidden error before the diff.
pub const UPDATE_FORBIDDEN: &str = "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

/// `ValidatePodUpdate`: metadata update rules, the new spec, then the mutability rules.
pub fn validate_update(new: &Pod, old: &Pod) -> ErrorList {
    let spec_path = Path::new("spec");
    let mut errs =
        validate_object_meta_update(&new.metadata, &old.metadata, &Path::new("metadata"));
    let empty = PodSpec::default();
    let new_spec = new.spec.as_ref().unwrap_or(&empty);
    let old_spec = old.spec.as_ref().unwrap_or(&empty);
    errs.extend(validate_spec(new_spec, &spec_path));

    let ads = spec_path.child("activeDeadlineSeconds");
    match (
        new_spec.active_deadline_seconds,
        old_spec.active_deadline_seconds,
    ) {
        (Some(n), _) if !(0..=i32::MAX as i64).contains(&n) => {
            errs.push(FieldError::invalid(
                &ads,
                BadValue::int(n),
                format!("must be between 0 and {}, inclusive", i32::MAX),
            ));
            return errs;
        }
        (Some(n), Some(o)) if o < n => {
            errs.push(FieldError::invalid(
                &ads,
                BadValue::int(n),
                "must be less than or equal to previous value",
            ));
            return errs;
        }
        (None, Some(_)) => errs.push(FieldError::invalid(
            &ads,
            BadValue::Null,
            "must not update from a positive integer to nil value",
        )),
        _ => {}
    }

    // Munge the allowed changes of the new spec into a copy of the old one; whatever
    // still differs was not allowed.
    let mut munged = new_spec.clone();
    for (m, o) in munged.containers.iter_mut().zip(old_spec.containers.iter()) {
        m.image = o.image.clone();
    }
    if let (Some(mi), Some(oi)) = (
        munged.init_containers.as_mut(),
        old_spec.init_containers.as_ref(),
    ) {
        for (m, o) in mi.iter_mut().zip(oi.iter()) {
            m.image = o.image.clone();
        }
    }
    munged.active_deadline_seconds = old_spec.active_deadline_seconds;
    let old_tol = old_spec.tolerations.as_deref().unwrap_or(&[]);
    let new_tol = new_spec.tolerations.as_deref().unwrap_or(&[]);
    let strip = |t: &k8s_openapi::api::core::v1::Toleration| {
        let mut t = t.clone();
        t.toleration_seconds = None;
        t
    };
    for (i, o) in old_tol.iter().enumerate() {
        if !new_tol.iter().any(|n| strip(n) == strip(o)) {
            errs.push(FieldError::forbidden(
                &spec_path.child("tolerations").index(i),
                "existing toleration can not be modified except its tolerationSeconds",
            ));
        }
    }
    munged.tolerations = old_spec.tolerations.clone();
    if old_spec
        .termination_grace_period_seconds
        .is_some_and(|g| g < 0)
        && new_spec.termination_grace_period_seconds == Some(1)
    {
        munged.termination_grace_period_seconds = old_spec.termination_grace_period_seconds;
    }
    if &munged != old_spec {
        errs.push(FieldError::forbidden(
            &spec_path,
            format!("{UPDATE_FORBIDDEN}\n{}", spec_diff(old_spec, &munged)),
        ));
    }
    errs
}

/// A `cmp.Diff`-shaped rendering of the changed top-level PodSpec fields (Go field names,
/// JSON values): unchanged runs collapse to `... // N identical fields`.
pub fn spec_diff(old: &PodSpec, new: &PodSpec) -> String {
    let o = serde_json::to_value(old).unwrap_or(Value::Null);
    let n = serde_json::to_value(new).unwrap_or(Value::Null);
    // Go's field order of core.PodSpec; anything else follows alphabetically.
    const ORDER: [&str; 33] = [
        "volumes",
        "initContainers",
        "containers",
        "ephemeralContainers",
        "restartPolicy",
        "terminationGracePeriodSeconds",
        "activeDeadlineSeconds",
        "dnsPolicy",
        "nodeSelector",
        "serviceAccountName",
        "serviceAccount",
        "automountServiceAccountToken",
        "nodeName",
        "securityContext",
        "imagePullSecrets",
        "hostname",
        "subdomain",
        "setHostnameAsFQDN",
        "affinity",
        "schedulerName",
        "tolerations",
        "hostAliases",
        "priorityClassName",
        "priority",
        "preemptionPolicy",
        "dnsConfig",
        "readinessGates",
        "runtimeClassName",
        "overhead",
        "enableServiceLinks",
        "topologySpreadConstraints",
        "os",
        "schedulingGates",
    ];
    let mut keys: Vec<String> = o
        .as_object()
        .into_iter()
        .chain(n.as_object())
        .flat_map(|m| m.keys().cloned())
        .collect();
    let rank = |k: &str| ORDER.iter().position(|x| *x == k).unwrap_or(ORDER.len());
    keys.sort_by(|a, b| rank(a).cmp(&rank(b)).then(a.cmp(b)));
    keys.dedup();
    let mut out = String::from("  core.PodSpec{\n");
    let mut same = 0;
    let flush = |out: &mut String, same: &mut usize| {
        if *same > 0 {
            out.push_str(&format!("  \t... // {} identical fields\n", same));
            *same = 0;
        }
    };
    for k in keys {
        let (ov, nv) = (o.get(&k), n.get(&k));
        if ov == nv {
            same += 1;
            continue;
        }
        flush(&mut out, &mut same);
        let go = go_field_name(&k);
        // An absent field prints as Go's zero value of the other side's type.
        let render = |v: Option<&Value>, other: Option<&Value>| match (v, other) {
            (Some(v), _) => v.to_string(),
            (None, Some(Value::String(_))) => "\"\"".into(),
            (None, Some(Value::Bool(_))) => "false".into(),
            _ => "nil".into(),
        };
        out.push_str(&format!("- \t{go}: {},\n", render(ov, nv)));
        out.push_str(&format!("+ \t{go}: {},\n", render(nv, ov)));
    }
    flush(&mut out, &mut same);
    out.push_str("  }\n");
    out
}

fn go_field_name(json: &str) -> String {
    match json {
        "serviceAccount" => "DeprecatedServiceAccount".into(),
        "dnsPolicy" => "DNSPolicy".into(),
        "dnsConfig" => "DNSConfig".into(),
        "os" => "OS".into(),
        _ => {
            let mut c = json.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        }
    }
}
