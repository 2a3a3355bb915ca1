//! The HorizontalPodAutoscaler controller (`pkg/controller/podautoscaler`). What it decides is
//! [`twinstack_kube::autoscaling::plan`]; here the target's scale is read from the informer,
//! the target rescaled (a merge patch of `spec.replicas`, as a write of the scale subresource
//! does), the status written and the events recorded (component `horizontal-pod-autoscaler`).

use super::{name_of, Ctl, World};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde_json::json;
use twinstack_kube::autoscaling::{self as hpa, TargetScale};
use twinstack_registry::registry::{FieldValidation, PatchType, WriteOptions};

/// The events' component (`horizontal-pod-autoscaler` in `NewHorizontalController`).
const COMPONENT: &str = "horizontal-pod-autoscaler";

/// `labels.Selector.String()` of a label selector: requirements sorted by key.
fn selector_string(sel: Option<&LabelSelector>) -> String {
    let Some(sel) = sel else {
        return String::new();
    };
    let mut parts: Vec<(String, String)> = sel
        .match_labels
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), format!("{k}={v}")))
        .collect();
    for e in sel.match_expressions.iter().flatten() {
        let values = e.values.clone().unwrap_or_default().join(",");
        let text = match e.operator.as_str() {
            "In" => format!("{} in ({values})", e.key),
            "NotIn" => format!("{} notin ({values})", e.key),
            "Exists" => e.key.clone(),
            _ => format!("!{}", e.key),
        };
        parts.push((e.key.clone(), text));
    }
    parts.sort();
    parts
        .into_iter()
        .map(|(_, t)| t)
        .collect::<Vec<_>>()
        .join(",")
}

/// The target's group, plural and scale as the scale subresource reports it, or the error the
/// HPA controller's scale client would give.
fn target_scale(
    w: &World,
    ns: &str,
    h: &HorizontalPodAutoscaler,
) -> Result<(&'static str, &'static str, ObjectMeta, TargetScale), String> {
    let spec = h.spec.clone().unwrap_or_default();
    let r = &spec.scale_target_ref;
    let group = r
        .api_version
        .as_deref()
        .and_then(|v| v.rsplit_once('/').map(|(g, _)| g))
        .unwrap_or("");
    let hit = |m: &ObjectMeta| name_of(&m.namespace) == ns && name_of(&m.name) == r.name;
    let found = |replicas: Option<i32>, status: i32, sel: Option<&LabelSelector>| TargetScale {
        spec_replicas: replicas.unwrap_or(1),
        status_replicas: status,
        selector: selector_string(sel),
    };
    let (g, plural, scale) = match (group, r.kind.as_str()) {
        ("apps", "Deployment") => (
            "apps",
            "deployments",
            w.lists
                .deployments
                .iter()
                .find(|d| hit(&d.metadata))
                .map(|d| {
                    let s = d.spec.clone().unwrap_or_default();
                    let st = d.status.clone().unwrap_or_default();
                    (
                        d.metadata.clone(),
                        found(s.replicas, st.replicas.unwrap_or(0), Some(&s.selector)),
                    )
                }),
        ),
        ("apps", "ReplicaSet") => (
            "apps",
            "replicasets",
            w.lists
                .replicasets
                .iter()
                .find(|d| hit(&d.metadata))
                .map(|d| {
                    let s = d.spec.clone().unwrap_or_default();
                    let st = d.status.clone().unwrap_or_default();
                    (
                        d.metadata.clone(),
                        found(s.replicas, st.replicas, Some(&s.selector)),
                    )
                }),
        ),
        ("apps", "StatefulSet") => (
            "apps",
            "statefulsets",
            w.lists
                .statefulsets
                .iter()
                .find(|d| hit(&d.metadata))
                .map(|d| {
                    let s = d.spec.clone().unwrap_or_default();
                    let st = d.status.clone().unwrap_or_default();
                    (
                        d.metadata.clone(),
                        found(s.replicas, st.replicas, Some(&s.selector)),
                    )
                }),
        ),
        ("", "ReplicationController") => (
            "",
            "replicationcontrollers",
            w.lists
                .replicationcontrollers
                .iter()
                .find(|d| hit(&d.metadata))
                .map(|d| {
                    let s = d.spec.clone().unwrap_or_default();
                    let st = d.status.clone().unwrap_or_default();
                    let sel = LabelSelector {
                        match_labels: s.selector.clone(),
                        match_expressions: None,
                    };
                    (
                        d.metadata.clone(),
                        found(s.replicas, st.replicas, Some(&sel)),
                    )
                }),
        ),
        // The REST mapper knows no such kind with a scale subresource.
        (g, k) => return Err(format!("no matches for kind \"{k}\" in group \"{g}\"")),
    };
    match scale {
        Some((m, s)) => Ok((g, plural, m, s)),
        None => {
            let resource = if g.is_empty() {
                plural.to_string()
            } else {
                format!("{plural}.{g}")
            };
            Err(format!("{resource} \"{}\" not found", r.name))
        }
    }
}

pub async fn sync(ctl: &Ctl, w: &World) {
    let now = jiff::Timestamp::now();
    for h in &w.lists.horizontalpodautoscalers {
        let m = &h.metadata;
        if m.deletion_timestamp.is_some() {
            continue;
        }
        let ns = name_of(&m.namespace);
        let target = target_scale(w, ns, h);
        let plan = hpa::plan(h, target.as_ref().map(|t| &t.3).map_err(Clone::clone), now);
        if let (Some(replicas), Ok((group, plural, tm, _))) = (plan.rescale, &target) {
            let kind = ctl.kind(group, plural);
            let opts = WriteOptions {
                dry_run: false,
                validation: FieldValidation::Ignore,
                manager: "kube-controller-manager".into(),
                force: false,
            };
            let patched = ctl
                .reg
                .patch(
                    ctl.rt.clone(),
                    kind,
                    Some(ns.to_string()),
                    name_of(&tm.name).to_string(),
                    PatchType::Merge,
                    json!({"spec": {"replicas": replicas}}),
                    opts,
                )
                .await;
            if patched.is_err() {
                // The next pass reads the target again.
                continue;
            }
        }
        let Ok(stored) = serde_json::to_value(&**h) else {
            continue;
        };
        let Ok(status) = serde_json::to_value(&plan.status) else {
            continue;
        };
        // Status first: an event without the status it explains would be read out of order.
        super::workloads::write_status(
            ctl,
            "autoscaling",
            "horizontalpodautoscalers",
            &stored,
            status,
        )
        .await;
        for e in &plan.events {
            ctl.controller_event_of_type(
                m,
                "autoscaling/v2",
                "HorizontalPodAutoscaler",
                COMPONENT,
                e.type_,
                e.reason,
                &e.message,
            )
            .await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selector_strings_sort_by_key() {
        let sel: LabelSelector = serde_json::from_value(json!({
            "matchLabels": {"tier": "front", "app": "web"},
            "matchExpressions": [{"key": "env", "operator": "In", "values": ["a", "b"]}]
        }))
        .unwrap();
        assert_eq!(
            selector_string(Some(&sel)),
            "app=web,env in (a,b),tier=front"
        );
        assert_eq!(selector_string(None), "");
    }
}
