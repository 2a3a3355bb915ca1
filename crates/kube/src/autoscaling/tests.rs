//! Table tests of the HPA rules: a valid HPA with named tweaks, the TARGETS cell, and one
//! controller pass per situation a user meets without a metrics source.

use super::*;
use serde_json::{json, Value};

fn hpa(tweak: impl FnOnce(&mut Value)) -> HorizontalPodAutoscaler {
    let mut v = json!({
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 2, "maxReplicas": 5,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": 80}}}]
        }
    });
    tweak(&mut v);
    serde_json::from_value(v).unwrap()
}

fn msgs(errs: &ErrorList) -> Vec<String> {
    errs.iter().map(|e| e.to_string()).collect()
}

#[test]
fn validation_table() {
    type Tweak = fn(&mut Value);
    let cases: Vec<(&str, Tweak, Vec<&str>)> = vec![
        ("valid", |_| {}, vec![]),
        (
            "minReplicas zero",
            |v| v["spec"]["minReplicas"] = json!(0),
            vec![
                "spec.minReplicas: Invalid value: 0: must be greater than or equal to 1",
                "spec.metrics: Forbidden: must specify at least one Object or External metric to support scaling to zero replicas",
            ],
        ),
        (
            "max below min",
            |v| v["spec"]["maxReplicas"] = json!(1),
            vec!["spec.maxReplicas: Invalid value: 1: must be greater than or equal to `minReplicas`"],
        ),
        (
            "max zero",
            |v| v["spec"]["maxReplicas"] = json!(0),
            vec![
                "spec.maxReplicas: Invalid value: 0: must be greater than 0",
                "spec.maxReplicas: Invalid value: 0: must be greater than or equal to `minReplicas`",
            ],
        ),
        (
            "no target kind or name",
            |v| v["spec"]["scaleTargetRef"] = json!({}),
            vec![
                "spec.scaleTargetRef.kind: Required value",
                "spec.scaleTargetRef.name: Required value",
            ],
        ),
        (
            "target name with a slash",
            |v| v["spec"]["scaleTargetRef"]["name"] = json!("a/b"),
            vec!["spec.scaleTargetRef.name: Invalid value: \"a/b\": may not contain '/'"],
        ),
        (
            "utilization zero",
            |v| v["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] = json!(0),
            vec!["spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0"],
        ),
        (
            "resource without target",
            |v| v["spec"]["metrics"][0]["resource"]["target"] = json!({"type": "Utilization"}),
            vec!["spec.metrics[0].resource.target.averageUtilization: Required value: must set either a target raw value or a target utilization"],
        ),
        (
            "unknown metric type",
            |v| v["spec"]["metrics"][0]["type"] = json!("Cpu"),
            vec!["spec.metrics[0].type: Unsupported value: \"Cpu\": supported values: \"ContainerResource\", \"External\", \"Object\", \"Pods\", \"Resource\""],
        ),
        (
            "type without its source",
            |v| v["spec"]["metrics"][0]["type"] = json!("Pods"),
            vec!["spec.metrics[0].pods: Required value: must populate information for the given metric source"],
        ),
        (
            "two sources",
            |v| v["spec"]["metrics"][0]["pods"] = json!({"metric": {"name": "rps"}, "target": {"type": "AverageValue", "averageValue": "10"}}),
            vec!["spec.metrics[0].pods: Forbidden: must populate the given metric source only"],
        ),
        (
            "behavior without policies",
            |v| v["spec"]["behavior"] = json!({"scaleDown": {"stabilizationWindowSeconds": -1}}),
            vec![
                "spec.behavior.scaleDown.stabilizationWindowSeconds: Invalid value: -1: must be greater than or equal to zero",
                "spec.behavior.scaleDown.policies: Required value: must specify at least one Policy",
            ],
        ),
    ];
    for (name, tweak, want) in cases {
        assert_eq!(msgs(&validate(&hpa(tweak), 1)), want, "{name}");
    }
}

#[test]
fn defaults_fill_min_metric_and_behavior() {
    let mut h = hpa(|v| {
        let spec = v["spec"].as_object_mut().unwrap();
        spec.remove("minReplicas");
        spec.remove("metrics");
        spec.insert(
            "behavior".into(),
            json!({"scaleDown": {"policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]}}),
        );
    });
    set_defaults(&mut h);
    let v = serde_json::to_value(&h).unwrap();
    assert_eq!(v["spec"]["minReplicas"], 1);
    assert_eq!(
        v["spec"]["metrics"],
        json!([{"type": "Resource", "resource": {"name": "cpu",
            "target": {"type": "Utilization", "averageUtilization": 80}}}])
    );
    assert_eq!(
        v["spec"]["behavior"]["scaleDown"],
        json!({"policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}],
            "selectPolicy": "Max", "stabilizationWindowSeconds": 300})
    );
    assert_eq!(
        v["spec"]["behavior"]["scaleUp"]["policies"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn targets_cell_table() {
    let cpu = |u: Value| json!({"type": "Resource", "resource": {"name": "cpu", "target": u}});
    let cases: Vec<(Value, Value, &str)> = vec![
        (json!([]), json!([]), "<none>"),
        (
            json!([cpu(
                json!({"type": "Utilization", "averageUtilization": 80})
            )]),
            json!([{"type": ""}]),
            "cpu: <unknown>/80%",
        ),
        (
            json!([cpu(
                json!({"type": "Utilization", "averageUtilization": 80})
            )]),
            json!([{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 12}}}]),
            "cpu: 12%/80%",
        ),
        (
            json!([cpu(json!({"type": "AverageValue", "averageValue": "500m"}))]),
            json!([]),
            "cpu: <unknown>/500m",
        ),
        (
            json!([
                cpu(json!({"type": "Utilization", "averageUtilization": 1})),
                cpu(json!({"type": "Utilization", "averageUtilization": 2})),
                cpu(json!({"type": "Utilization", "averageUtilization": 3}))
            ]),
            json!([]),
            "cpu: <unknown>/1%, cpu: <unknown>/2% + 1 more...",
        ),
    ];
    for (specs, statuses, want) in cases {
        let specs: Vec<MetricSpec> = serde_json::from_value(specs).unwrap();
        let statuses: Vec<MetricStatus> = serde_json::from_value(statuses).unwrap();
        assert_eq!(format_metrics(&specs, &statuses), want);
    }
}

fn now() -> jiff::Timestamp {
    "2026-01-01T00:00:00Z".parse().unwrap()
}

fn scale(spec: i32, status: i32) -> TargetScale {
    TargetScale {
        spec_replicas: spec,
        status_replicas: status,
        selector: "app=web".into(),
    }
}

fn conditions(p: &Plan) -> Vec<(String, String, String)> {
    p.status
        .conditions
        .iter()
        .flatten()
        .map(|c| {
            (
                c.type_.clone(),
                c.status.clone(),
                c.reason.clone().unwrap_or_default(),
            )
        })
        .collect()
}

fn reasons(p: &Plan) -> Vec<&str> {
    p.events.iter().map(|e| e.reason).collect()
}

#[test]
fn plan_without_metrics_reports_failed_get_resource_metric() {
    let p = plan(&hpa(|_| {}), Ok(&scale(2, 2)), now());
    assert_eq!(
        conditions(&p),
        vec![
            (
                "AbleToScale".into(),
                "True".into(),
                "SucceededGetScale".into()
            ),
            (
                "ScalingActive".into(),
                "False".into(),
                "FailedGetResourceMetric".into()
            ),
        ]
    );
    let active = &p.status.conditions.as_ref().unwrap()[1];
    assert_eq!(
        active.message.as_deref(),
        Some("the HPA was unable to compute the replica count: failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API")
    );
    assert_eq!(p.status.current_replicas, Some(2));
    assert_eq!(p.status.desired_replicas, 0);
    assert_eq!(p.rescale, None);
    assert_eq!(
        reasons(&p),
        vec!["FailedGetResourceMetric", "FailedComputeMetricsReplicas"]
    );
    assert_eq!(p.events[0].type_, "Warning");
    assert_eq!(
        p.events[0].message,
        "failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API"
    );
    assert_eq!(
        p.events[1].message,
        "invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource metric value: failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API"
    );
    // The TARGETS cell of that status.
    let spec = hpa(|_| {}).spec.unwrap();
    assert_eq!(
        format_metrics(
            spec.metrics.as_deref().unwrap(),
            p.status.current_metrics.as_deref().unwrap()
        ),
        "cpu: <unknown>/80%"
    );
}

#[test]
fn plan_table_rescale_disabled_missing() {
    // (name, target, want rescale, want desired, want events)
    let below = scale(1, 1);
    let above = scale(9, 9);
    let zero = scale(0, 0);
    type Case<'a> = (
        &'a str,
        Result<&'a TargetScale, String>,
        Option<i32>,
        i32,
        Vec<&'a str>,
    );
    let cases: Vec<Case> = vec![
        (
            "below min",
            Ok(&below),
            Some(2),
            2,
            vec!["SuccessfulRescale"],
        ),
        (
            "above max",
            Ok(&above),
            Some(5),
            5,
            vec!["SuccessfulRescale"],
        ),
        ("scaled to zero", Ok(&zero), None, 0, vec![]),
        (
            "target missing",
            Err("deployments.apps \"web\" not found".into()),
            None,
            0,
            vec!["FailedGetScale"],
        ),
    ];
    for (name, target, rescale, desired, events) in cases {
        let p = plan(&hpa(|_| {}), target, now());
        assert_eq!(p.rescale, rescale, "{name}");
        assert_eq!(p.status.desired_replicas, desired, "{name}");
        assert_eq!(reasons(&p), events, "{name}");
    }
    let p = plan(&hpa(|_| {}), Ok(&below), now());
    assert_eq!(
        p.events[0].message,
        "New size: 2; reason: Current number of replicas below Spec.MinReplicas"
    );
    assert!(p.status.last_scale_time.is_some());
    let p = plan(&hpa(|_| {}), Ok(&zero), now());
    assert_eq!(
        conditions(&p)[1],
        (
            "ScalingActive".into(),
            "False".into(),
            "ScalingDisabled".into()
        )
    );
    let p = plan(
        &hpa(|_| {}),
        Err("deployments.apps \"web\" not found".into()),
        now(),
    );
    assert_eq!(
        p.status.conditions.unwrap()[0].message.as_deref(),
        Some("the HPA controller was unable to get the target's current scale: deployments.apps \"web\" not found")
    );
}

#[test]
fn plan_keeps_transition_time_of_an_unchanged_condition() {
    let first = plan(&hpa(|_| {}), Ok(&scale(2, 2)), now());
    let mut h = hpa(|_| {});
    h.status = Some(first.status.clone());
    let later: jiff::Timestamp = "2026-01-01T00:05:00Z".parse().unwrap();
    let second = plan(&h, Ok(&scale(2, 2)), later);
    assert_eq!(first.status.conditions, second.status.conditions);
}
