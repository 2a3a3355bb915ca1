use super::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;

fn pdb(spec: Value) -> PodDisruptionBudget {
    serde_json::from_value(
        json!({"metadata": {"name": "web", "namespace": "default", "generation": 1}, "spec": spec}),
    )
    .unwrap()
}

fn pod(name: &str, ready: bool) -> PodSummary {
    PodSummary {
        name: name.into(),
        namespace: "default".into(),
        labels: BTreeMap::from([("app".to_string(), "web".to_string())]),
        phase: "Running".into(),
        ready,
        ..Default::default()
    }
}

#[test]
fn validation_table() {
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (json!({"minAvailable": 1}), vec![]),
        (json!({"maxUnavailable": "50%"}), vec![]),
        (
            json!({"minAvailable": 1, "maxUnavailable": 1}),
            vec!["spec: Invalid value: policy.PodDisruptionBudgetSpec{...}: minAvailable and maxUnavailable cannot be both set"],
        ),
        (json!({"minAvailable": -1}), vec!["spec.minAvailable: Invalid value: -1: must be greater than or equal to 0"]),
        (json!({"maxUnavailable": "120%"}), vec!["spec.maxUnavailable: Invalid value: \"120%\": must not be greater than 100%"]),
    ];
    for (spec, want) in cases {
        let got: Vec<String> = validate(&pdb(spec.clone()))
            .iter()
            .map(|e| e.to_string())
            .collect();
        assert_eq!(got, want, "{spec}");
    }
}

#[test]
fn status_table() {
    let now: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    let pods = [pod("a", true), pod("b", true), pod("c", false)];
    let refs: Vec<&PodSummary> = pods.iter().collect();
    let sel = json!({"matchLabels": {"app": "web"}});
    // (spec, expected, healthy, desired, allowed)
    let cases = [
        (json!({"selector": sel, "minAvailable": 2}), 3, 2, 2, 0),
        (json!({"selector": sel, "minAvailable": 1}), 3, 2, 1, 1),
        (json!({"selector": sel, "maxUnavailable": 1}), 3, 2, 2, 0),
        (json!({"selector": sel, "minAvailable": "50%"}), 3, 2, 2, 0),
        (json!({"minAvailable": 1}), 0, 0, 1, 0),
    ];
    for (spec, expected, healthy, desired, allowed) in cases {
        let st = status(&pdb(spec.clone()), &refs, now);
        assert_eq!(
            (
                st.expected_pods,
                st.current_healthy,
                st.desired_healthy,
                st.disruptions_allowed
            ),
            (expected, healthy, desired, allowed),
            "{spec}"
        );
        let c = &st.conditions.unwrap()[0];
        assert_eq!(c.status, if allowed > 0 { "True" } else { "False" });
        assert_eq!(
            c.reason,
            if allowed > 0 {
                "SufficientPods"
            } else {
                "InsufficientPods"
            }
        );
    }
    assert_eq!(int_or_percent_cell(None), "N/A");
    assert_eq!(
        int_or_percent_cell(Some(&IntOrString::String("50%".into()))),
        "50%"
    );
}
