//! PodDisruptionBudget (`policy/v1`): the spec rules users meet
//! (`pkg/apis/policy/validation/validation.go` `ValidatePodDisruptionBudgetSpec`), the status
//! the disruption controller computes (`pkg/controller/disruption/disruption.go`
//! `getExpectedPodCount`, `countHealthyPods`, `updatePdbStatus`, `buildDisruptedPodMap`
//! without disrupted pods), and the printer's cells.

#[cfg(test)]
mod tests;

use crate::workloads::PodSummary;
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use twinstack_core::field::{BadValue, ErrorList, FieldError, Path};
use twinstack_core::selector::LabelSelector;

/// `ValidatePositiveIntOrPercent` and `IsNotMoreThan100Percent` of one field.
fn validate_int_or_percent(v: &IntOrString, p: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    match v {
        IntOrString::Int(i) if *i < 0 => errs.push(FieldError::invalid(
            p,
            BadValue::int((*i).into()),
            "must be greater than or equal to 0",
        )),
        IntOrString::String(s) => match s.strip_suffix('%').and_then(|n| n.parse::<i64>().ok()) {
            None => errs.push(FieldError::invalid(
                p,
                BadValue::str(s),
                "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
            )),
            Some(n) if n > 100 => errs.push(FieldError::invalid(
                p,
                BadValue::str(s),
                "must not be greater than 100%",
            )),
            Some(_) => {}
        },
        _ => {}
    }
    errs
}

/// `ValidatePodDisruptionBudgetSpec` (minAvailable and maxUnavailable exclusive, each a
/// non-negative integer or a percentage up to 100%).
pub fn validate(pdb: &PodDisruptionBudget) -> ErrorList {
    let mut errs = ErrorList::new();
    let default_spec = Default::default();
    let spec = pdb.spec.as_ref().unwrap_or(&default_spec);
    let p = Path::new("spec");
    if spec.min_available.is_some() && spec.max_unavailable.is_some() {
        // Upstream prints the whole spec struct with `%#v` (pointer addresses included); its
        // exact text cannot be reproduced, so the value is shown as the type's name.
        errs.push(FieldError::invalid(
            &p,
            BadValue::Raw("policy.PodDisruptionBudgetSpec{...}".into()),
            "minAvailable and maxUnavailable cannot be both set",
        ));
    }
    if let Some(v) = &spec.min_available {
        errs.extend(validate_int_or_percent(v, &p.child("minAvailable")));
    }
    if let Some(v) = &spec.max_unavailable {
        errs.extend(validate_int_or_percent(v, &p.child("maxUnavailable")));
    }
    errs
}

/// `intstr.GetScaledValueFromIntOrPercent(v, total, roundUp=true)`.
fn scaled(v: &IntOrString, total: i32) -> i32 {
    match v {
        IntOrString::Int(i) => *i,
        IntOrString::String(s) => {
            let pct: i64 = s.trim_end_matches('%').parse().unwrap_or(0);
            ((pct * i64::from(total) + 99) / 100) as i32
        }
    }
}

/// The disruption controller's status for `pdb` over the pods of its namespace (`pods`): the
/// matched pods that are not terminal are expected, the ready ones healthy.
pub fn status(
    pdb: &PodDisruptionBudget,
    pods: &[&PodSummary],
    now: jiff::Timestamp,
) -> PodDisruptionBudgetStatus {
    let ns = pdb.metadata.namespace.as_deref().unwrap_or("");
    let spec = pdb.spec.clone().unwrap_or_default();
    let selector = LabelSelector::from_metav1(spec.selector.as_ref()).ok();
    let matched: Vec<&&PodSummary> = pods
        .iter()
        .filter(|p| p.namespace == ns && !p.is_terminal() && !p.deleting)
        .filter(|p| selector.as_ref().is_some_and(|s| s.matches(&p.labels)))
        .collect();
    // A nil selector selects nothing in policy/v1; an empty one selects every pod.
    let matched = if spec.selector.is_none() {
        vec![]
    } else {
        matched
    };
    let expected = matched.len() as i32;
    let healthy = matched.iter().filter(|p| p.ready).count() as i32;
    let desired = match (&spec.min_available, &spec.max_unavailable) {
        (Some(min), _) => scaled(min, expected),
        (None, Some(max)) => (expected - scaled(max, expected)).max(0),
        (None, None) => expected,
    };
    let allowed = (healthy - desired).max(0);
    let mut st = pdb.status.clone().unwrap_or_default();
    let (cond_status, reason) = if allowed > 0 {
        ("True", "SufficientPods")
    } else {
        ("False", "InsufficientPods")
    };
    let prev = st
        .conditions
        .as_ref()
        .and_then(|c| c.iter().find(|c| c.type_ == "DisruptionAllowed"))
        .cloned();
    let transition = match &prev {
        Some(c) if c.status == cond_status => c.last_transition_time.clone(),
        _ => k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(now),
    };
    st.conditions = Some(vec![Condition {
        type_: "DisruptionAllowed".into(),
        status: cond_status.into(),
        reason: reason.into(),
        message: String::new(),
        last_transition_time: transition,
        observed_generation: pdb.metadata.generation,
    }]);
    st.current_healthy = healthy;
    st.desired_healthy = desired;
    st.expected_pods = expected;
    st.disruptions_allowed = allowed;
    st.observed_generation = pdb.metadata.generation;
    st
}

/// The MIN AVAILABLE / MAX UNAVAILABLE cell (`printPodDisruptionBudget`): the value, or `N/A`.
pub fn int_or_percent_cell(v: Option<&IntOrString>) -> String {
    match v {
        Some(IntOrString::Int(i)) => i.to_string(),
        Some(IntOrString::String(s)) => s.clone(),
        None => "N/A".into(),
    }
}
