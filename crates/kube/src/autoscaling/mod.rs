//! HorizontalPodAutoscaler (`autoscaling/v2`): its v2 defaults
//! (`pkg/apis/autoscaling/v2/defaults.go`), its validation
//! (`pkg/apis/autoscaling/validation/validation.go` `ValidateHorizontalPodAutoscaler`), its
//! printer's TARGETS cell (`pkg/printers/internalversion/printers.go` `formatHPAMetrics`) and
//! what one pass of the HPA controller decides when no metrics source answers
//! (`pkg/controller/podautoscaler/horizontal.go` `reconcileAutoscaler`): a runtime without
//! metrics-server data reports what a real HPA reports when the resource metrics API returns
//! nothing, and still enforces `minReplicas`/`maxReplicas` on the target's scale.

#[cfg(test)]
mod tests;

use k8s_openapi::api::autoscaling::v2::{
    HPAScalingPolicy, HPAScalingRules, HorizontalPodAutoscaler, HorizontalPodAutoscalerCondition,
    HorizontalPodAutoscalerStatus, MetricSpec, MetricStatus, MetricTarget, ResourceMetricSource,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use twinstack_core::field::{BadValue, ErrorList, FieldError, Path};
use twinstack_core::meta::is_valid_path_segment_name;

/// `autoscaling.DefaultCPUUtilization`: the metric of an HPA that names none.
pub const DEFAULT_CPU_UTILIZATION: i32 = 80;
/// `MaxPeriodSeconds` of a scaling policy.
pub const MAX_PERIOD_SECONDS: i32 = 1800;
/// `MaxStabilizationWindowSeconds` of a scaling rule.
pub const MAX_STABILIZATION_WINDOW_SECONDS: i32 = 3600;

/// The resource metrics API's answer when it has no sample for the target's pods
/// (`pkg/controller/podautoscaler/metrics/client.go` `GetResourceMetric`): twinstack runs no
/// metrics-server, so every resource metric ends here.
pub const NO_RESOURCE_METRICS: &str = "no metrics returned from resource metrics API";

/// The custom metrics client's error when no APIService serves `custom.metrics.k8s.io`.
pub const NO_CUSTOM_METRICS_API: &str =
    "the server could not find the requested resource (get custom.metrics.k8s.io)";
/// The external metrics client's error when no APIService serves `external.metrics.k8s.io`.
pub const NO_EXTERNAL_METRICS_API: &str =
    "the server could not find the requested resource (get external.metrics.k8s.io)";

/// `SetDefaults_HorizontalPodAutoscaler` of `autoscaling/v2`: `minReplicas` 1, the 80% CPU
/// metric when none is given, and behavior's unset fields filled when behavior is given
/// (`GenerateHPAScaleUpRules`/`GenerateHPAScaleDownRules`).
pub fn set_defaults(hpa: &mut HorizontalPodAutoscaler) {
    let Some(spec) = hpa.spec.as_mut() else {
        return;
    };
    spec.min_replicas.get_or_insert(1);
    if spec.metrics.as_ref().is_none_or(Vec::is_empty) {
        spec.metrics = Some(vec![MetricSpec {
            type_: "Resource".into(),
            resource: Some(ResourceMetricSource {
                name: "cpu".into(),
                target: MetricTarget {
                    type_: "Utilization".into(),
                    average_utilization: Some(DEFAULT_CPU_UTILIZATION),
                    ..Default::default()
                },
            }),
            ..Default::default()
        }]);
    }
    if let Some(b) = spec.behavior.as_mut() {
        let policy = |type_: &str, value: i32| HPAScalingPolicy {
            type_: type_.into(),
            value,
            period_seconds: 15,
        };
        b.scale_up = Some(fill_rules(
            b.scale_up.take(),
            0,
            vec![policy("Pods", 4), policy("Percent", 100)],
        ));
        b.scale_down = Some(fill_rules(
            b.scale_down.take(),
            300,
            vec![policy("Percent", 100)],
        ));
    }
}

fn fill_rules(
    rules: Option<HPAScalingRules>,
    window: i32,
    policies: Vec<HPAScalingPolicy>,
) -> HPAScalingRules {
    let mut r = rules.unwrap_or_default();
    r.stabilization_window_seconds.get_or_insert(window);
    r.select_policy.get_or_insert_with(|| "Max".into());
    if r.policies.as_ref().is_none_or(Vec::is_empty) {
        r.policies = Some(policies);
    }
    r
}

/// `ValidateHorizontalPodAutoscaler` without ObjectMeta (the registry checks that):
/// `min_replicas_lower_bound` is 1, or 0 on an update of an HPA that already had
/// `minReplicas: 0` (`ValidateHorizontalPodAutoscalerUpdate`; HPAScaleToZero is alpha, off).
pub fn validate(hpa: &HorizontalPodAutoscaler, min_replicas_lower_bound: i32) -> ErrorList {
    let mut errs = ErrorList::new();
    let default_spec = Default::default();
    let spec = hpa.spec.as_ref().unwrap_or(&default_spec);
    let p = Path::new("spec");
    if let Some(min) = spec.min_replicas.filter(|m| *m < min_replicas_lower_bound) {
        errs.push(FieldError::invalid(
            &p.child("minReplicas"),
            BadValue::int(min.into()),
            format!("must be greater than or equal to {min_replicas_lower_bound}"),
        ));
    }
    if spec.max_replicas < 1 {
        errs.push(FieldError::invalid(
            &p.child("maxReplicas"),
            BadValue::int(spec.max_replicas.into()),
            "must be greater than 0",
        ));
    }
    if spec.min_replicas.is_some_and(|m| spec.max_replicas < m) {
        errs.push(FieldError::invalid(
            &p.child("maxReplicas"),
            BadValue::int(spec.max_replicas.into()),
            "must be greater than or equal to `minReplicas`",
        ));
    }
    let r = p.child("scaleTargetRef");
    errs.extend(validate_reference(
        &spec.scale_target_ref.kind,
        &spec.scale_target_ref.name,
        &r,
    ));
    let mp = p.child("metrics");
    let metrics = spec.metrics.as_deref().unwrap_or_default();
    let mut has_object_or_external = false;
    for (i, m) in metrics.iter().enumerate() {
        errs.extend(validate_metric_spec(m, &mp.index(i)));
        has_object_or_external |= m.type_ == "Object" || m.type_ == "External";
    }
    if spec.min_replicas == Some(0) && !has_object_or_external {
        errs.push(FieldError::forbidden(
            &mp,
            "must specify at least one Object or External metric to support scaling to zero replicas",
        ));
    }
    if let Some(b) = &spec.behavior {
        let bp = p.child("behavior");
        for (rules, name) in [(&b.scale_up, "scaleUp"), (&b.scale_down, "scaleDown")] {
            if let Some(rules) = rules {
                errs.extend(validate_scaling_rules(rules, &bp.child(name)));
            }
        }
    }
    errs
}

/// `ValidateCrossVersionObjectReference`.
fn validate_reference(kind: &str, name: &str, p: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    for (field, value) in [("kind", kind), ("name", name)] {
        if value.is_empty() {
            errs.push(FieldError::required(&p.child(field), ""));
        } else {
            for msg in is_valid_path_segment_name(value) {
                errs.push(FieldError::invalid(
                    &p.child(field),
                    BadValue::str(value),
                    msg,
                ));
            }
        }
    }
    errs
}

const METRIC_SOURCE_TYPES: [&str; 5] = [
    "ContainerResource",
    "External",
    "Object",
    "Pods",
    "Resource",
];

/// `validateMetricSpec`: the type, its one source, and that source's target.
fn validate_metric_spec(m: &MetricSpec, p: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if m.type_.is_empty() {
        errs.push(FieldError::required(
            &p.child("type"),
            "must specify a metric source type",
        ));
    }
    if !METRIC_SOURCE_TYPES.contains(&m.type_.as_str()) {
        errs.push(FieldError::not_supported(
            &p.child("type"),
            BadValue::str(&m.type_),
            &METRIC_SOURCE_TYPES,
        ));
    }
    // The sources present, in upstream's order; only the first is validated.
    let present: Vec<&str> = [
        ("object", m.object.is_some()),
        ("external", m.external.is_some()),
        ("pods", m.pods.is_some()),
        ("resource", m.resource.is_some()),
        ("containerResource", m.container_resource.is_some()),
    ]
    .into_iter()
    .filter(|(_, here)| *here)
    .map(|(n, _)| n)
    .collect();
    match present.first().copied() {
        Some("resource") => {
            let r = m.resource.as_ref().expect("present");
            let rp = p.child("resource");
            if r.name.is_empty() {
                errs.push(FieldError::required(
                    &rp.child("name"),
                    "must specify a resource name",
                ));
            }
            errs.extend(validate_target(&r.target, &rp.child("target")));
            let t = rp.child("target");
            if r.target.average_utilization.is_none() && r.target.average_value.is_none() {
                errs.push(FieldError::required(
                    &t.child("averageUtilization"),
                    "must set either a target raw value or a target utilization",
                ));
            }
            if r.target.average_utilization.is_some() && r.target.average_value.is_some() {
                errs.push(FieldError::forbidden(
                    &t.child("averageValue"),
                    "may not set both a target raw value and a target utilization",
                ));
            }
        }
        Some("pods") => {
            let s = m.pods.as_ref().expect("present");
            let sp = p.child("pods");
            errs.extend(validate_metric_name(&s.metric.name, &sp.child("metric")));
            errs.extend(validate_target(&s.target, &sp.child("target")));
            if s.target.average_value.is_none() {
                errs.push(FieldError::required(
                    &sp.child("target").child("averageValue"),
                    "must specify a positive target averageValue",
                ));
            }
        }
        Some("object") => {
            let s = m.object.as_ref().expect("present");
            let sp = p.child("object");
            errs.extend(validate_reference(
                &s.described_object.kind,
                &s.described_object.name,
                &sp.child("describedObject"),
            ));
            errs.extend(validate_metric_name(&s.metric.name, &sp.child("metric")));
            errs.extend(validate_target(&s.target, &sp.child("target")));
            if s.target.value.is_none() && s.target.average_value.is_none() {
                errs.push(FieldError::required(
                    &sp.child("target").child("averageValue"),
                    "must set either a target value or averageValue",
                ));
            }
        }
        Some("external") => {
            let s = m.external.as_ref().expect("present");
            let sp = p.child("external");
            errs.extend(validate_metric_name(&s.metric.name, &sp.child("metric")));
            errs.extend(validate_target(&s.target, &sp.child("target")));
            let t = sp.child("target");
            if s.target.value.is_none() && s.target.average_value.is_none() {
                errs.push(FieldError::required(
                    &t.child("averageValue"),
                    "must set either a target value for metric or a per-pod target",
                ));
            }
            if s.target.value.is_some() && s.target.average_value.is_some() {
                errs.push(FieldError::forbidden(
                    &t.child("value"),
                    "may not set both a target value for metric and a per-pod target",
                ));
            }
        }
        _ => {}
    }
    let expected = match m.type_.as_str() {
        "Object" => "object",
        "Pods" => "pods",
        "Resource" => "resource",
        "External" => "external",
        "ContainerResource" => "containerResource",
        _ => "",
    };
    if !expected.is_empty() && !present.contains(&expected) {
        errs.push(FieldError::required(
            &p.child(expected),
            "must populate information for the given metric source",
        ));
    }
    if present.len() != 1 {
        for typ in present.iter().filter(|t| **t != expected) {
            errs.push(FieldError::forbidden(
                &p.child(typ),
                "must populate the given metric source only",
            ));
        }
    }
    errs
}

fn validate_metric_name(name: &str, p: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if name.is_empty() {
        errs.push(FieldError::required(
            &p.child("name"),
            "must specify a metric name",
        ));
    } else {
        for msg in is_valid_path_segment_name(name) {
            errs.push(FieldError::invalid(
                &p.child("name"),
                BadValue::str(name),
                msg,
            ));
        }
    }
    errs
}

/// `validateMetricTarget`.
fn validate_target(t: &MetricTarget, p: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if t.type_.is_empty() {
        errs.push(FieldError::required(
            &p.child("type"),
            "must specify a metric target type",
        ));
    }
    if !["Utilization", "Value", "AverageValue"].contains(&t.type_.as_str()) {
        errs.push(FieldError::invalid(
            &p.child("type"),
            BadValue::str(&t.type_),
            "must be either Utilization, Value, or AverageValue",
        ));
    }
    for (q, name) in [(&t.value, "value"), (&t.average_value, "averageValue")] {
        if let Some(q) = q {
            let positive = crate::quantity::Quantity::parse(&q.0).is_ok_and(|v| v.nanos > 0);
            if !positive {
                errs.push(FieldError::invalid(
                    &p.child(name),
                    BadValue::Raw(q.0.clone()),
                    "must be positive",
                ));
            }
        }
    }
    if let Some(u) = t.average_utilization.filter(|u| *u < 1) {
        errs.push(FieldError::invalid(
            &p.child("averageUtilization"),
            BadValue::int(u.into()),
            "must be greater than 0",
        ));
    }
    errs
}

/// `validateScalingRules`.
fn validate_scaling_rules(r: &HPAScalingRules, p: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if let Some(w) = r.stabilization_window_seconds {
        let wp = p.child("stabilizationWindowSeconds");
        if w < 0 {
            errs.push(FieldError::invalid(
                &wp,
                BadValue::int(w.into()),
                "must be greater than or equal to zero",
            ));
        }
        if w > MAX_STABILIZATION_WINDOW_SECONDS {
            errs.push(FieldError::invalid(
                &wp,
                BadValue::int(w.into()),
                format!("must be less than or equal to {MAX_STABILIZATION_WINDOW_SECONDS}"),
            ));
        }
    }
    if let Some(sp) = r.select_policy.as_deref() {
        if !["Disabled", "Max", "Min"].contains(&sp) {
            errs.push(FieldError::not_supported(
                &p.child("selectPolicy"),
                BadValue::str(sp),
                &["Disabled", "Max", "Min"],
            ));
        }
    }
    let pp = p.child("policies");
    let policies = r.policies.as_deref().unwrap_or_default();
    if policies.is_empty() {
        errs.push(FieldError::required(
            &pp,
            "must specify at least one Policy",
        ));
    }
    for (i, policy) in policies.iter().enumerate() {
        let ip = pp.index(i);
        if policy.type_ != "Pods" && policy.type_ != "Percent" {
            errs.push(FieldError::not_supported(
                &ip.child("type"),
                BadValue::str(&policy.type_),
                &["Percent", "Pods"],
            ));
        }
        if policy.value <= 0 {
            errs.push(FieldError::invalid(
                &ip.child("value"),
                BadValue::int(policy.value.into()),
                "must be greater than zero",
            ));
        }
        if policy.period_seconds <= 0 {
            errs.push(FieldError::invalid(
                &ip.child("periodSeconds"),
                BadValue::int(policy.period_seconds.into()),
                "must be greater than zero",
            ));
        }
        if policy.period_seconds > MAX_PERIOD_SECONDS {
            errs.push(FieldError::invalid(
                &ip.child("periodSeconds"),
                BadValue::int(policy.period_seconds.into()),
                format!("must be less than or equal to {MAX_PERIOD_SECONDS}"),
            ));
        }
    }
    errs
}

/// The TARGETS cell (`formatHPAMetrics`): at most two metrics, then `+ N more...`.
pub fn format_metrics(specs: &[MetricSpec], statuses: &[MetricStatus]) -> String {
    if specs.is_empty() {
        return "<none>".into();
    }
    let q = |q: &Option<k8s_openapi::apimachinery::pkg::api::resource::Quantity>| {
        q.as_ref()
            .map(|q| q.0.clone())
            .unwrap_or_else(|| "0".into())
    };
    let unknown = || "<unknown>".to_string();
    let list: Vec<String> = specs
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let st = statuses.get(i);
            match spec.type_.as_str() {
                "External" => {
                    let e = spec.external.as_ref();
                    let t = e.map(|e| &e.target);
                    let cur = st.and_then(|s| s.external.as_ref()).map(|s| &s.current);
                    match t.and_then(|t| t.average_value.as_ref()) {
                        Some(av) => format!(
                            "{}/{} (avg)",
                            cur.filter(|c| c.average_value.is_some())
                                .map_or_else(unknown, |c| q(&c.average_value)),
                            av.0
                        ),
                        None => format!(
                            "{}/{}",
                            cur.map_or_else(unknown, |c| q(&c.value)),
                            t.map_or_else(|| "0".into(), |t| q(&t.value))
                        ),
                    }
                }
                "Pods" => format!(
                    "{}/{}",
                    st.and_then(|s| s.pods.as_ref())
                        .map_or_else(unknown, |s| q(&s.current.average_value)),
                    spec.pods
                        .as_ref()
                        .map_or_else(|| "0".into(), |p| q(&p.target.average_value))
                ),
                "Object" => {
                    let t = spec.object.as_ref().map(|o| &o.target);
                    let cur = st.and_then(|s| s.object.as_ref()).map(|s| &s.current);
                    match t.and_then(|t| t.average_value.as_ref()) {
                        Some(av) => format!(
                            "{}/{} (avg)",
                            cur.filter(|c| c.average_value.is_some())
                                .map_or_else(unknown, |c| q(&c.average_value)),
                            av.0
                        ),
                        None => format!(
                            "{}/{}",
                            cur.map_or_else(unknown, |c| q(&c.value)),
                            t.map_or_else(|| "0".into(), |t| q(&t.value))
                        ),
                    }
                }
                "Resource" | "ContainerResource" => {
                    let (name, target, cur) = if spec.type_ == "Resource" {
                        (
                            spec.resource.as_ref().map(|r| r.name.as_str()),
                            spec.resource.as_ref().map(|r| &r.target),
                            st.and_then(|s| s.resource.as_ref()).map(|s| &s.current),
                        )
                    } else {
                        (
                            spec.container_resource.as_ref().map(|r| r.name.as_str()),
                            spec.container_resource.as_ref().map(|r| &r.target),
                            st.and_then(|s| s.container_resource.as_ref())
                                .map(|s| &s.current),
                        )
                    };
                    let name = name.unwrap_or("");
                    match target.and_then(|t| t.average_value.as_ref()) {
                        Some(av) => format!(
                            "{name}: {}/{}",
                            cur.map_or_else(unknown, |c| q(&c.average_value)),
                            av.0
                        ),
                        None => format!(
                            "{name}: {}/{}",
                            cur.and_then(|c| c.average_utilization)
                                .map_or_else(unknown, |u| format!("{u}%")),
                            target
                                .and_then(|t| t.average_utilization)
                                .map_or_else(|| "<auto>".to_string(), |u| format!("{u}%"))
                        ),
                    }
                }
                _ => "<unknown type>".into(),
            }
        })
        .collect();
    let max = 2;
    if list.len() > max {
        format!("{} + {} more...", list[..max].join(", "), list.len() - max)
    } else {
        list.join(", ")
    }
}

/// What the HPA controller read of its target through the scale subresource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetScale {
    /// `spec.replicas` of the Scale.
    pub spec_replicas: i32,
    /// `status.replicas` of the Scale.
    pub status_replicas: i32,
    /// `status.selector`; empty when the target has none.
    pub selector: String,
}

/// An event the controller records about the HPA (component `horizontal-pod-autoscaler`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HpaEvent {
    pub type_: &'static str,
    pub reason: &'static str,
    pub message: String,
}

/// What one pass decides for an HPA.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub status: HorizontalPodAutoscalerStatus,
    /// The target's new `spec.replicas`, when the controller rescales it.
    pub rescale: Option<i32>,
    pub events: Vec<HpaEvent>,
}

fn warning(reason: &'static str, message: String) -> HpaEvent {
    HpaEvent {
        type_: "Warning",
        reason,
        message,
    }
}

/// `setCondition`: replaces the condition of that type, keeping `lastTransitionTime` when the
/// status did not change (`setConditionInList`).
fn set_condition(
    conds: &mut Vec<HorizontalPodAutoscalerCondition>,
    type_: &str,
    status: &str,
    reason: &str,
    message: String,
    now: &Time,
) {
    let existing = conds.iter_mut().find(|c| c.type_ == type_);
    match existing {
        Some(c) => {
            if c.status != status {
                c.last_transition_time = Some(now.clone());
            }
            c.status = status.into();
            c.reason = Some(reason.into());
            c.message = Some(message);
        }
        None => conds.push(HorizontalPodAutoscalerCondition {
            type_: type_.into(),
            status: status.into(),
            reason: Some(reason.into()),
            message: Some(message),
            last_transition_time: Some(now.clone()),
        }),
    }
}

/// The error of one metric when no metrics source answers, as
/// `computeReplicasForMetric` builds it, with its condition reason: `(reason, the metric's
/// error (the event and condition text), the error the list of metrics reports)`.
fn metric_error(m: &MetricSpec) -> (&'static str, String, String) {
    match m.type_.as_str() {
        "Resource" | "ContainerResource" => {
            let name = m
                .resource
                .as_ref()
                .map(|r| r.name.clone())
                .or_else(|| m.container_resource.as_ref().map(|r| r.name.clone()))
                .unwrap_or_default();
            // GetRawResourceReplicas and GetResourceReplicas wrap the client's error alike.
            let err = format!(
                "failed to get {name} utilization: unable to get metrics for resource {name}: {NO_RESOURCE_METRICS}"
            );
            let reason = if m.type_ == "Resource" {
                "FailedGetResourceMetric"
            } else {
                "FailedGetContainerResourceMetric"
            };
            let kind = if m.type_ == "Resource" {
                "resource"
            } else {
                "container resource"
            };
            let outer = format!("failed to get {name} {kind} metric value: {err}");
            (reason, err, outer)
        }
        // The custom and external metrics APIs are not served (no APIService registers them):
        // the metrics client's error (`metrics/client.go`) wrapped by the replica calculator.
        "Pods" => {
            let name = m
                .pods
                .as_ref()
                .map(|p| p.metric.name.clone())
                .unwrap_or_default();
            let err = format!("unable to get metric {name}: unable to fetch metrics from custom metrics API: {NO_CUSTOM_METRICS_API}");
            let outer = format!("failed to get pods metric value: {err}");
            ("FailedGetPodsMetric", err, outer)
        }
        "Object" => {
            let name = m
                .object
                .as_ref()
                .map(|p| p.metric.name.clone())
                .unwrap_or_default();
            let err = format!("unable to get metric {name}: unable to fetch metrics from custom metrics API: {NO_CUSTOM_METRICS_API}");
            let outer = format!("failed to get object metric value: {err}");
            ("FailedGetObjectMetric", err, outer)
        }
        _ => {
            let name = m
                .external
                .as_ref()
                .map(|p| p.metric.name.clone())
                .unwrap_or_default();
            let err = format!("unable to get external metric {name}: unable to fetch metrics from external metrics API: {NO_EXTERNAL_METRICS_API}");
            let outer = err.clone();
            ("FailedGetExternalMetric", err, outer)
        }
    }
}

/// One pass of `reconcileAutoscaler` for `hpa` whose target's scale is `target` (`Err`: the
/// error reading it, as `deployments.apps "web" not found`), at `now`, with no metrics source.
pub fn plan(
    hpa: &HorizontalPodAutoscaler,
    target: Result<&TargetScale, String>,
    now: jiff::Timestamp,
) -> Plan {
    let now = Time(now);
    let mut status = hpa.status.clone().unwrap_or_default();
    let mut conds = status.conditions.take().unwrap_or_default();
    let mut events = Vec::new();
    let default_spec = Default::default();
    let spec = hpa.spec.as_ref().unwrap_or(&default_spec);
    let scale = match target {
        Ok(s) => s,
        Err(e) => {
            events.push(warning("FailedGetScale", e.clone()));
            set_condition(
                &mut conds,
                "AbleToScale",
                "False",
                "FailedGetScale",
                format!("the HPA controller was unable to get the target's current scale: {e}"),
                &now,
            );
            status.conditions = Some(conds);
            return Plan {
                status,
                rescale: None,
                events,
            };
        }
    };
    set_condition(
        &mut conds,
        "AbleToScale",
        "True",
        "SucceededGetScale",
        "the HPA controller was able to get the target's current scale".into(),
        &now,
    );
    let current = scale.status_replicas;
    status.current_replicas = Some(current);
    let min = spec.min_replicas.unwrap_or(1);
    let max = spec.max_replicas;
    let metrics = spec.metrics.as_deref().unwrap_or_default();
    let mut rescale_reason = None;
    if scale.spec_replicas == 0 && min != 0 {
        status.desired_replicas = 0;
        set_condition(
            &mut conds,
            "ScalingActive",
            "False",
            "ScalingDisabled",
            "scaling is disabled since the replica count of the target is zero".into(),
            &now,
        );
    } else if current > max {
        rescale_reason = Some("Current number of replicas above Spec.MaxReplicas");
        status.desired_replicas = max;
    } else if current < min {
        rescale_reason = Some("Current number of replicas below Spec.MinReplicas");
        status.desired_replicas = min;
    } else if scale.selector.is_empty() {
        events.push(warning("SelectorRequired", "selector is required".into()));
        set_condition(
            &mut conds,
            "ScalingActive",
            "False",
            "InvalidSelector",
            "the HPA target's scale is missing a selector".into(),
            &now,
        );
    } else if !metrics.is_empty() {
        // Every metric fails: each reports its own event, the first sets the condition,
        // and the list's error is `FailedComputeMetricsReplicas`.
        let errors: Vec<_> = metrics.iter().map(metric_error).collect();
        for (reason, err, _) in &errors {
            events.push(warning(reason, err.clone()));
        }
        let (reason, err, outer) = &errors[0];
        set_condition(
            &mut conds,
            "ScalingActive",
            "False",
            reason,
            format!("the HPA was unable to compute the replica count: {err}"),
            &now,
        );
        // `setCurrentReplicasAndMetricsInStatus`: one empty status per metric.
        status.current_metrics = Some(vec![MetricStatus::default(); metrics.len()]);
        events.push(warning(
            "FailedComputeMetricsReplicas",
            format!(
                "invalid metrics ({} invalid out of {}), first error is: {outer}",
                errors.len(),
                errors.len()
            ),
        ));
    }
    let rescale = rescale_reason.map(|reason| {
        let desired = status.desired_replicas;
        status.last_scale_time = Some(now.clone());
        set_condition(
            &mut conds,
            "AbleToScale",
            "True",
            "SucceededRescale",
            format!("the HPA controller was able to update the target scale to {desired}"),
            &now,
        );
        events.push(HpaEvent {
            type_: "Normal",
            reason: "SuccessfulRescale",
            message: format!("New size: {desired}; reason: {reason}"),
        });
        desired
    });
    status.conditions = Some(conds);
    Plan {
        status,
        rescale,
        events,
    }
}
