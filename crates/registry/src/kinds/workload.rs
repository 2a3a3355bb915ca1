//! Deployments and ReplicaSets (apps/v1): v1 defaulting (pod template included), upstream's
//! validation of the fields users write (selector vs template labels with upstream's text,
//! replicas, restartPolicy, the pod template's spec), `metadata.generation` bumped on spec
//! changes, status kept on updates of the main resource (controllers write it).

use super::{Kind, ResourceInfo, Strategy, ALL_VERBS};
use crate::decode;
use crate::runtimes::Runtime;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec, ReplicationController};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector as MetaSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use twinstack_core::field::{go_quote, BadValue, ErrorList, FieldError, Path};
use twinstack_core::selector::LabelSelector;
use twinstack_core::status::Status;
use twinstack_kube::pod as kpod;
use twinstack_kube::table::{self, Column};

pub static DEPLOYMENT: ResourceInfo = ResourceInfo {
    group: "apps",
    version: "v1",
    plural: "deployments",
    singular: "deployment",
    kind: "Deployment",
    namespaced: true,
    short_names: &["deploy"],
    categories: &["all"],
    verbs: ALL_VERBS,
    storage: "deployments",
    scale: true,
};

pub static REPLICASET: ResourceInfo = ResourceInfo {
    group: "apps",
    version: "v1",
    plural: "replicasets",
    singular: "replicaset",
    kind: "ReplicaSet",
    namespaced: true,
    short_names: &["rs"],
    categories: &["all"],
    verbs: ALL_VERBS,
    storage: "replicasets",
    scale: true,
};

/// Columns printers.go types `integer` (kubectl right-aligns nothing on it, but clients read
/// the type).
trait IntegerColumn {
    fn integer_type(self) -> Self;
}

impl IntegerColumn for Column {
    fn integer_type(mut self) -> Self {
        self.ty = "integer";
        self
    }
}

/// `SetDefaults_PodSpec` and friends on a pod template.
pub fn default_template(t: &mut PodTemplateSpec) {
    let mut pod = Pod {
        metadata: t.metadata.clone().unwrap_or_default(),
        spec: t.spec.clone(),
        status: None,
    };
    kpod::set_defaults(&mut pod);
    t.spec = pod.spec;
}

/// Go's `%#v` of a `map[string]string` (keys sorted, as fmt prints maps).
pub fn go_map(m: &BTreeMap<String, String>) -> String {
    let inner: Vec<String> = m
        .iter()
        .map(|(k, v)| format!("{}:{}", go_quote(k), go_quote(v)))
        .collect();
    if m.is_empty() {
        "map[string]string(nil)".into()
    } else {
        format!("map[string]string{{{}}}", inner.join(", "))
    }
}

fn go_selector(s: Option<&MetaSelector>) -> String {
    let Some(s) = s else {
        return "(*v1.LabelSelector)(nil)".into();
    };
    let labels = match &s.match_labels {
        Some(m) => go_map(m),
        None => "map[string]string(nil)".into(),
    };
    let exprs = match &s.match_expressions {
        None => "[]v1.LabelSelectorRequirement(nil)".to_string(),
        Some(e) => {
            let items: Vec<String> = e
                .iter()
                .map(|r| {
                    let vals = match &r.values {
                        None => "[]string(nil)".to_string(),
                        Some(v) => format!(
                            "[]string{{{}}}",
                            v.iter().map(|x| go_quote(x)).collect::<Vec<_>>().join(", ")
                        ),
                    };
                    format!(
                        "v1.LabelSelectorRequirement{{Key:{}, Operator:{}, Values:{vals}}}",
                        go_quote(&r.key),
                        go_quote(&r.operator)
                    )
                })
                .collect();
            format!("[]v1.LabelSelectorRequirement{{{}}}", items.join(", "))
        }
    };
    format!("v1.LabelSelector{{MatchLabels:{labels}, MatchExpressions:{exprs}}}")
}

fn is_empty_selector(s: &MetaSelector) -> bool {
    s.match_labels.as_ref().is_none_or(|m| m.is_empty())
        && s.match_expressions.as_ref().is_none_or(|e| e.is_empty())
}

/// `ValidateNonnegativeField`.
fn nonnegative(v: Option<i32>, path: &Path, errs: &mut ErrorList) {
    if let Some(n) = v.filter(|n| *n < 0) {
        errs.push(FieldError::invalid(
            path,
            BadValue::int(n as i64),
            "must be greater than or equal to 0",
        ));
    }
}

/// Selector and template rules shared by Deployments and ReplicaSets
/// (`ValidateLabelSelector` + `ValidatePodTemplateSpecForReplicaSet`).
fn validate_selector_template(
    selector: Option<&MetaSelector>,
    template: Option<&PodTemplateSpec>,
    what: &str,
    errs: &mut ErrorList,
) {
    let spec = Path::new("spec");
    let sel_path = spec.child("selector");
    let mut parsed: Option<LabelSelector> = None;
    match selector {
        None => {
            errs.push(FieldError::required(&sel_path, ""));
            parsed = LabelSelector::from_metav1(None).ok();
        }
        Some(s) => match LabelSelector::from_metav1(Some(s)) {
            Err(e) => errs.push(FieldError::invalid(
                &sel_path,
                BadValue::Raw(go_selector(Some(s))),
                e,
            )),
            Ok(p) => {
                if is_empty_selector(s) {
                    errs.push(FieldError::invalid(
                        &sel_path,
                        BadValue::Raw(go_selector(Some(s))),
                        format!("empty selector is invalid for {what}"),
                    ));
                } else {
                    parsed = Some(p);
                }
            }
        },
    }
    let tpath = spec.child("template");
    let Some(t) = template else {
        errs.push(FieldError::required(&tpath, ""));
        return;
    };
    let tlabels = t
        .metadata
        .as_ref()
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    if let Some(p) = &parsed {
        if !p.matches(&tlabels) {
            errs.push(FieldError::invalid(
                &tpath.child("metadata").child("labels"),
                BadValue::Raw(go_map(&tlabels)),
                "`selector` does not match template `labels`",
            ));
        }
    }
    replica_template_rules(t, &tpath, "ReplicaSet", errs);
}

/// What `ValidatePodTemplateSpecForReplicaSet` and `ValidatePodTemplateSpecForRC` share past
/// the selector: the pod spec, `restartPolicy: Always`, no `activeDeadlineSeconds`.
/// `controller` names the kind in the last message.
fn replica_template_rules(
    t: &PodTemplateSpec,
    tpath: &Path,
    controller: &str,
    errs: &mut ErrorList,
) {
    let default_spec = Default::default();
    let pspec = t.spec.as_ref().unwrap_or(&default_spec);
    errs.extend(kpod::validate_spec(pspec, &tpath.child("spec")));
    let rp = pspec.restart_policy.as_deref().unwrap_or("");
    if rp != "Always" {
        errs.push(FieldError::not_supported(
            &tpath.child("spec").child("restartPolicy"),
            BadValue::str(rp),
            &["Always"],
        ));
    }
    if pspec.active_deadline_seconds.is_some() {
        errs.push(FieldError::forbidden(
            &tpath.child("spec").child("activeDeadlineSeconds"),
            format!("activeDeadlineSeconds in {controller} is not Supported"),
        ));
    }
}

fn selector_immutable(
    new: Option<&MetaSelector>,
    old: Option<&MetaSelector>,
    errs: &mut ErrorList,
) {
    if new != old {
        errs.push(FieldError::invalid(
            &Path::new("spec").child("selector"),
            BadValue::Raw(go_selector(new)),
            "field is immutable",
        ));
    }
}

fn name_of(v: &Value) -> String {
    v.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

fn intstr_percent(s: &str) -> IntOrString {
    IntOrString::String(s.into())
}

pub struct DeploymentKind;

/// The typed round trip turns a missing selector into an empty one; validation tells them
/// apart (Required vs "empty selector"), so the decoded object keeps it missing.
fn keep_missing_selector(raw: &Value, out: &mut Value) {
    if !has_selector(raw) {
        if let Some(spec) = out.get_mut("spec").and_then(Value::as_object_mut) {
            spec.remove("selector");
        }
    }
}

/// Whether the object as sent has a selector (nil and empty selectors fail differently).
fn has_selector(v: &Value) -> bool {
    v.pointer("/spec/selector").is_some_and(|s| !s.is_null())
}

fn validate_deployment(d: &Deployment, selector: bool) -> ErrorList {
    let mut errs = ErrorList::new();
    let spec = d.spec.clone().unwrap_or_default();
    let p = Path::new("spec");
    nonnegative(spec.replicas, &p.child("replicas"), &mut errs);
    validate_selector_template(
        Some(&spec.selector).filter(|_| selector),
        Some(&spec.template),
        "deployment",
        &mut errs,
    );
    if let Some(st) = &spec.strategy {
        let ty = st.type_.as_deref().unwrap_or("");
        if ty == "Recreate" && st.rolling_update.is_some() {
            errs.push(FieldError::forbidden(
                &p.child("strategy").child("rollingUpdate"),
                "may not be specified when strategy `type` is 'Recreate'",
            ));
        } else if ty != "Recreate" && ty != "RollingUpdate" {
            errs.push(FieldError::not_supported(
                &p.child("strategy").child("type"),
                BadValue::str(ty),
                &["Recreate", "RollingUpdate"],
            ));
        }
    }
    nonnegative(
        spec.revision_history_limit,
        &p.child("revisionHistoryLimit"),
        &mut errs,
    );
    nonnegative(
        spec.min_ready_seconds,
        &p.child("minReadySeconds"),
        &mut errs,
    );
    if let Some(pd) = spec.progress_deadline_seconds {
        nonnegative(Some(pd), &p.child("progressDeadlineSeconds"), &mut errs);
        if pd <= spec.min_ready_seconds.unwrap_or(0) {
            errs.push(FieldError::invalid(
                &p.child("progressDeadlineSeconds"),
                BadValue::int(pd as i64),
                "must be greater than minReadySeconds",
            ));
        }
    }
    errs
}

/// Deployments and ReplicaSets: typed rules and an immutable `spec.selector`.
trait SelectorWorkload: serde::de::DeserializeOwned {
    const KIND: &'static str;
    fn selector(&self) -> Option<&MetaSelector>;
    /// Upstream's `ValidateX`; `selector` tells whether the object as sent had one.
    fn rules(&self, selector: bool) -> ErrorList;
}

impl SelectorWorkload for Deployment {
    const KIND: &'static str = "Deployment";
    fn selector(&self) -> Option<&MetaSelector> {
        self.spec.as_ref().map(|s| &s.selector)
    }
    fn rules(&self, selector: bool) -> ErrorList {
        validate_deployment(self, selector)
    }
}

impl SelectorWorkload for ReplicaSet {
    const KIND: &'static str = "ReplicaSet";
    fn selector(&self) -> Option<&MetaSelector> {
        self.spec.as_ref().map(|s| &s.selector)
    }
    fn rules(&self, selector: bool) -> ErrorList {
        validate_replicaset(self, selector)
    }
}

fn validate_selector_workload<T: SelectorWorkload>(obj: &Value) -> Result<ErrorList, Status> {
    Ok(super::typed::<T>(obj, T::KIND)?.rules(has_selector(obj)))
}

/// `ValidateXUpdate`: the rules on `new`, then its selector against the stored one.
fn validate_selector_workload_update<T: SelectorWorkload>(
    new: &Value,
    old: &Value,
) -> Result<ErrorList, Status> {
    let (n, o) = (
        super::typed::<T>(new, T::KIND)?,
        super::typed::<T>(old, T::KIND)?,
    );
    let mut errs = n.rules(has_selector(new));
    selector_immutable(n.selector(), o.selector(), &mut errs);
    Ok(errs)
}

/// The status strategy's spec half, then upstream's `ValidateDeployment(Update)`.
impl Strategy for DeploymentKind {
    fn validate(&self, _rt: &Runtime, obj: &Value) -> Result<ErrorList, Status> {
        validate_selector_workload::<Deployment>(obj)
    }
    fn validate_update(
        &self,
        _rt: &Runtime,
        new: &Value,
        old: &Value,
    ) -> Result<ErrorList, Status> {
        validate_selector_workload_update::<Deployment>(new, old)
    }
    fn status_subresource(&self) -> bool {
        true
    }
}

impl Kind for DeploymentKind {
    fn info(&self) -> &'static ResourceInfo {
        &DEPLOYMENT
    }

    fn decode(&self, v: &Value) -> Result<(Value, Vec<String>), String> {
        let (mut d, unknown): (Deployment, _) = decode::typed(v)?;
        let spec = d.spec.get_or_insert_with(Default::default);
        spec.replicas.get_or_insert(1);
        let st = spec.strategy.get_or_insert_with(Default::default);
        if st.type_.is_none() {
            st.type_ = Some("RollingUpdate".into());
        }
        if st.type_.as_deref() == Some("RollingUpdate") {
            let ru = st.rolling_update.get_or_insert_with(Default::default);
            ru.max_unavailable.get_or_insert(intstr_percent("25%"));
            ru.max_surge.get_or_insert(intstr_percent("25%"));
        }
        spec.revision_history_limit.get_or_insert(10);
        spec.progress_deadline_seconds.get_or_insert(600);
        default_template(&mut spec.template);
        let mut out = serde_json::to_value(d).map_err(|e| e.to_string())?;
        keep_missing_selector(v, &mut out);
        Ok((out, unknown))
    }

    fn columns(&self) -> Vec<Column> {
        vec![
            Column::name_column(),
            Column::new("Ready", "Number of the pod with ready state"),
            Column::new("Up-to-date", "Total number of non-terminated pods targeted by this deployment that have the desired template spec."),
            Column::new("Available", "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment."),
            Column::new("Age", table::AGE_DESCRIPTION),
            Column::new("Containers", "Names of each container in the template.").wide(),
            Column::new("Images", "Images referenced by each container in the template.").wide(),
            Column::new("Selector", "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.").wide(),
        ]
    }

    fn row(&self, obj: &Value, _wide: bool, now: jiff::Timestamp) -> Vec<Value> {
        let i = |p: &str| obj.pointer(p).and_then(Value::as_i64).unwrap_or(0);
        let (containers, images) = containers_images(obj);
        vec![
            json!(name_of(obj)),
            json!(format!(
                "{}/{}",
                i("/status/readyReplicas"),
                i("/spec/replicas")
            )),
            json!(i("/status/updatedReplicas")),
            json!(i("/status/availableReplicas")),
            json!(table::age(
                obj.pointer("/metadata/creationTimestamp")
                    .and_then(Value::as_str),
                now
            )),
            json!(containers),
            json!(images),
            json!(selector_text(obj)),
        ]
    }
}

/// The names and images of the pod template's containers, comma-separated (printers.go
/// `layoutContainerCells`).
pub(super) fn containers_images(obj: &Value) -> (String, String) {
    let cs = obj
        .pointer("/spec/template/spec/containers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let names: Vec<&str> = cs
        .iter()
        .map(|c| c.get("name").and_then(Value::as_str).unwrap_or(""))
        .collect();
    let images: Vec<&str> = cs
        .iter()
        .map(|c| c.get("image").and_then(Value::as_str).unwrap_or(""))
        .collect();
    (names.join(","), images.join(","))
}

/// `metav1.FormatLabelSelector`.
fn selector_text(obj: &Value) -> String {
    let sel: Option<MetaSelector> = obj
        .pointer("/spec/selector")
        .and_then(|s| serde_json::from_value(s.clone()).ok());
    let Some(sel) = sel else {
        return "<none>".into();
    };
    let mut parts: Vec<String> = sel
        .match_labels
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    for e in sel.match_expressions.iter().flatten() {
        let vals = e.values.clone().unwrap_or_default().join(",");
        parts.push(match e.operator.as_str() {
            "In" => format!("{} in ({vals})", e.key),
            "NotIn" => format!("{} notin ({vals})", e.key),
            "Exists" => e.key.clone(),
            "DoesNotExist" => format!("!{}", e.key),
            op => format!("{} {op} ({vals})", e.key),
        });
    }
    if parts.is_empty() {
        "<none>".into()
    } else {
        parts.join(",")
    }
}

pub struct ReplicaSetKind;

/// `printReplicaSet` / `printReplicationController`: desired, current and ready replicas.
fn replica_row(obj: &Value, now: jiff::Timestamp, selector: String) -> Vec<Value> {
    let i = |p: &str| obj.pointer(p).and_then(Value::as_i64).unwrap_or(0);
    let (containers, images) = containers_images(obj);
    vec![
        json!(name_of(obj)),
        json!(i("/spec/replicas")),
        json!(i("/status/replicas")),
        json!(i("/status/readyReplicas")),
        json!(table::age(
            obj.pointer("/metadata/creationTimestamp")
                .and_then(Value::as_str),
            now
        )),
        json!(containers),
        json!(images),
        json!(selector),
    ]
}

fn validate_replicaset(r: &ReplicaSet, selector: bool) -> ErrorList {
    let mut errs = ErrorList::new();
    let spec = r.spec.clone().unwrap_or_default();
    let p = Path::new("spec");
    nonnegative(spec.replicas, &p.child("replicas"), &mut errs);
    nonnegative(
        spec.min_ready_seconds,
        &p.child("minReadySeconds"),
        &mut errs,
    );
    validate_selector_template(
        Some(&spec.selector).filter(|_| selector),
        spec.template.as_ref(),
        "deployment",
        &mut errs,
    );
    errs
}

/// The status strategy's spec half, then upstream's `ValidateReplicaSet(Update)`.
impl Strategy for ReplicaSetKind {
    fn validate(&self, _rt: &Runtime, obj: &Value) -> Result<ErrorList, Status> {
        validate_selector_workload::<ReplicaSet>(obj)
    }
    fn validate_update(
        &self,
        _rt: &Runtime,
        new: &Value,
        old: &Value,
    ) -> Result<ErrorList, Status> {
        validate_selector_workload_update::<ReplicaSet>(new, old)
    }
    fn status_subresource(&self) -> bool {
        true
    }
}

impl Kind for ReplicaSetKind {
    fn info(&self) -> &'static ResourceInfo {
        &REPLICASET
    }

    fn decode(&self, v: &Value) -> Result<(Value, Vec<String>), String> {
        let (mut r, unknown): (ReplicaSet, _) = decode::typed(v)?;
        let spec = r.spec.get_or_insert_with(Default::default);
        spec.replicas.get_or_insert(1);
        if let Some(t) = spec.template.as_mut() {
            default_template(t);
        }
        let mut out = serde_json::to_value(r).map_err(|e| e.to_string())?;
        keep_missing_selector(v, &mut out);
        Ok((out, unknown))
    }

    fn columns(&self) -> Vec<Column> {
        vec![
            Column::name_column(),
            Column::new("Desired", "Replicas is the number of desired pods. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicaset/#how-a-replicaset-works").integer_type(),
            Column::new("Current", "Replicas is the most recently observed number of non-terminating pods. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicaset/#how-a-replicaset-works").integer_type(),
            Column::new("Ready", "The number of non-terminating pods targeted by this ReplicaSet with a Ready Condition.").integer_type(),
            Column::new("Age", table::AGE_DESCRIPTION),
            Column::new("Containers", "Names of each container in the template.").wide(),
            Column::new("Images", "Images referenced by each container in the template.").wide(),
            Column::new("Selector", "Selector is a label query over pods that should match the replica count. Label keys and values that must match in order to be controlled by this replica set. It must match the pod template's labels. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors").wide(),
        ]
    }

    fn row(&self, obj: &Value, _wide: bool, now: jiff::Timestamp) -> Vec<Value> {
        replica_row(obj, now, selector_text(obj))
    }
}

// ------------------------------------------------------ ReplicationControllers

pub static REPLICATIONCONTROLLER: ResourceInfo = ResourceInfo {
    group: "",
    version: "v1",
    plural: "replicationcontrollers",
    singular: "replicationcontroller",
    kind: "ReplicationController",
    namespaced: true,
    short_names: &["rc"],
    categories: &["all"],
    verbs: ALL_VERBS,
    // kube-apiserver's etcd layout: /registry/controllers/<ns>/<name>.
    storage: "controllers",
    scale: true,
};

/// ReplicationControllers (core/v1): the ReplicaSet's older sibling with a map selector, run by
/// the same controller (`twinstack_controllers::workloads`) and validated with the same template
/// rules.
pub struct ReplicationControllerKind;

fn replication_controller(v: &Value) -> Result<ReplicationController, Status> {
    super::typed(v, "ReplicationController")
}

/// `SetDefaults_ReplicationController`: selector and labels from the template's labels when
/// unset, one replica; then the template's pod defaults.
fn default_replication_controller(rc: &mut ReplicationController) {
    let spec = rc.spec.get_or_insert_with(Default::default);
    let tlabels = spec
        .template
        .as_ref()
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.labels.clone());
    if let Some(labels) = tlabels {
        if spec.selector.as_ref().is_none_or(|s| s.is_empty()) {
            spec.selector = Some(labels.clone());
        }
        if rc.metadata.labels.as_ref().is_none_or(|l| l.is_empty()) {
            rc.metadata.labels = Some(labels);
        }
    }
    spec.replicas.get_or_insert(1);
    if let Some(t) = spec.template.as_mut() {
        default_template(t);
    }
}

/// `ValidateReplicationControllerSpec`.
fn validate_replication_controller(rc: &ReplicationController) -> ErrorList {
    let mut errs = ErrorList::new();
    let spec = rc.spec.clone().unwrap_or_default();
    let p = Path::new("spec");
    nonnegative(
        spec.min_ready_seconds,
        &p.child("minReadySeconds"),
        &mut errs,
    );
    let selector = spec.selector.clone().unwrap_or_default();
    if selector.is_empty() {
        errs.push(FieldError::required(&p.child("selector"), ""));
    }
    nonnegative(spec.replicas, &p.child("replicas"), &mut errs);
    let tpath = p.child("template");
    match &spec.template {
        None => errs.push(FieldError::required(&tpath, "")),
        Some(t) => {
            let tlabels = t
                .metadata
                .as_ref()
                .and_then(|m| m.labels.clone())
                .unwrap_or_default();
            if !selector.is_empty() && !LabelSelector::from_set(&selector).matches(&tlabels) {
                errs.push(FieldError::invalid(
                    &tpath.child("metadata").child("labels"),
                    BadValue::Raw(go_map(&tlabels)),
                    "`selector` does not match template `labels`",
                ));
            }
            replica_template_rules(t, &tpath, "ReplicationController", &mut errs);
        }
    }
    errs
}

/// `labels.FormatLabels` of a map selector: `k=v` sorted by key, `<none>` when empty.
fn map_selector_text(obj: &Value) -> String {
    let m: BTreeMap<String, String> = obj
        .pointer("/spec/selector")
        .and_then(|s| serde_json::from_value(s.clone()).ok())
        .unwrap_or_default();
    if m.is_empty() {
        return "<none>".into();
    }
    m.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The status strategy's spec half, then `ValidateReplicationController(Update)`.
impl Strategy for ReplicationControllerKind {
    fn validate(&self, _rt: &Runtime, obj: &Value) -> Result<ErrorList, Status> {
        Ok(validate_replication_controller(&replication_controller(
            obj,
        )?))
    }
    /// The selector of a ReplicationController may change (unlike a ReplicaSet's).
    fn validate_update(
        &self,
        rt: &Runtime,
        new: &Value,
        _old: &Value,
    ) -> Result<ErrorList, Status> {
        self.validate(rt, new)
    }
    fn status_subresource(&self) -> bool {
        true
    }
}

impl Kind for ReplicationControllerKind {
    fn info(&self) -> &'static ResourceInfo {
        &REPLICATIONCONTROLLER
    }

    fn decode(&self, v: &Value) -> Result<(Value, Vec<String>), String> {
        let (mut rc, unknown): (ReplicationController, _) = decode::typed(v)?;
        default_replication_controller(&mut rc);
        Ok((
            serde_json::to_value(rc).map_err(|e| e.to_string())?,
            unknown,
        ))
    }

    /// printers.go `replicationControllerColumnDefinitions`.
    fn columns(&self) -> Vec<Column> {
        vec![
            Column::name_column(),
            Column::new("Desired", "Replicas is the number of desired replicas. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller#what-is-a-replicationcontroller").integer_type(),
            Column::new("Current", "Replicas is the most recently observed number of replicas. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller#what-is-a-replicationcontroller").integer_type(),
            Column::new("Ready", "The number of ready replicas for this replication controller.").integer_type(),
            Column::new("Age", table::AGE_DESCRIPTION),
            Column::new("Containers", "Names of each container in the template.").wide(),
            Column::new("Images", "Images referenced by each container in the template.").wide(),
            Column::new("Selector", "Selector is a label query over pods that should match the Replicas count. If Selector is empty, it is defaulted to the labels present on the Pod template. Label keys and values that must match in order to be controlled by this replication controller, if empty defaulted to labels on Pod template. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors").wide(),
        ]
    }

    /// `printReplicationController`.
    fn row(&self, obj: &Value, _wide: bool, now: jiff::Timestamp) -> Vec<Value> {
        replica_row(obj, now, map_selector_text(obj))
    }
}

// ------------------------------------------------------ StatefulSets and DaemonSets

pub static STATEFULSET: ResourceInfo = ResourceInfo {
    group: "apps",
    version: "v1",
    plural: "statefulsets",
    singular: "statefulset",
    kind: "StatefulSet",
    namespaced: true,
    short_names: &["sts"],
    categories: &["all"],
    verbs: ALL_VERBS,
    storage: "statefulsets",
    scale: true,
};

pub static DAEMONSET: ResourceInfo = ResourceInfo {
    group: "apps",
    version: "v1",
    plural: "daemonsets",
    singular: "daemonset",
    kind: "DaemonSet",
    namespaced: true,
    short_names: &["ds"],
    categories: &["all"],
    verbs: ALL_VERBS,
    storage: "daemonsets",
    scale: false,
};

/// The selector and template of a StatefulSet or DaemonSet, decoded from JSON.
fn set_parts(v: &Value) -> (Option<MetaSelector>, Option<PodTemplateSpec>) {
    let sel = v
        .pointer("/spec/selector")
        .filter(|s| !s.is_null())
        .and_then(|s| serde_json::from_value(s.clone()).ok());
    let t = v
        .pointer("/spec/template")
        .and_then(|s| serde_json::from_value(s.clone()).ok());
    (sel, t)
}

/// Validation shared by StatefulSets and DaemonSets.
fn validate_set(v: &Value, what: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    let p = Path::new("spec");
    let replicas = v
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .map(|n| n as i32);
    nonnegative(replicas, &p.child("replicas"), &mut errs);
    let (sel, mut t) = set_parts(v);
    // Volume mounts may name a `volumeClaimTemplates` entry: validate the template with those
    // volumes added (the union upstream's `ValidatePodTemplateSpecForStatefulSet` leaves as a
    // TODO: upstream does not validate a StatefulSet's pod spec at all).
    if let (Some(t), Some(claims)) = (
        t.as_mut(),
        v.pointer("/spec/volumeClaimTemplates")
            .and_then(Value::as_array),
    ) {
        if let Some(ps) = t.spec.as_mut() {
            let vols = ps.volumes.get_or_insert_with(Vec::new);
            for c in claims {
                let name = c
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if !name.is_empty() && !vols.iter().any(|x| x.name == name) {
                    vols.push(k8s_openapi::api::core::v1::Volume {
                        name: name.into(),
                        persistent_volume_claim: Some(
                            k8s_openapi::api::core::v1::PersistentVolumeClaimVolumeSource {
                                claim_name: name.into(),
                                read_only: None,
                            },
                        ),
                        ..Default::default()
                    });
                }
            }
        }
    }
    validate_selector_template(sel.as_ref(), t.as_ref(), what, &mut errs);
    errs
}

/// A typed round trip plus v1 defaults for a set kind.
fn decode_set<T>(
    v: &Value,
    defaults: impl FnOnce(&mut Value),
) -> Result<(Value, Vec<String>), String>
where
    T: serde::de::DeserializeOwned + serde::Serialize,
{
    let (obj, unknown): (T, _) = decode::typed(v)?;
    let mut out = serde_json::to_value(obj).map_err(|e| e.to_string())?;
    if let Some(t) = out.pointer("/spec/template").cloned() {
        if let Ok(mut t) = serde_json::from_value::<PodTemplateSpec>(t) {
            default_template(&mut t);
            out["spec"]["template"] = serde_json::to_value(t).map_err(|e| e.to_string())?;
        }
    }
    defaults(&mut out);
    keep_missing_selector(v, &mut out);
    Ok((out, unknown))
}

fn set_default(v: &mut Value, ptr: &str, value: Value) {
    if v.pointer(ptr).is_none_or(Value::is_null) {
        let mut parts: Vec<&str> = ptr.trim_start_matches('/').split('/').collect();
        let last = parts.pop().unwrap_or("");
        let mut cur = &mut *v;
        for p in parts {
            if !cur.get(p).is_some_and(Value::is_object) {
                cur[p] = json!({});
            }
            cur = &mut cur[p];
        }
        cur[last] = value;
    }
}

/// A set kind (StatefulSet or DaemonSet): decode, validate, generation and status handling.
pub struct SetKind {
    pub info: &'static ResourceInfo,
}

impl SetKind {
    /// The word upstream's validation messages use for this kind.
    fn what(&self) -> &'static str {
        if self.info.kind == "StatefulSet" {
            "statefulset"
        } else {
            "daemonset"
        }
    }
}

/// The status strategy's spec half, then the selector and template rules.
impl Strategy for SetKind {
    fn validate(&self, _rt: &Runtime, obj: &Value) -> Result<ErrorList, Status> {
        Ok(validate_set(obj, self.what()))
    }
    fn validate_update(
        &self,
        _rt: &Runtime,
        new: &Value,
        old: &Value,
    ) -> Result<ErrorList, Status> {
        let mut errs = validate_set(new, self.what());
        let (ns, _) = set_parts(new);
        let (os, _) = set_parts(old);
        selector_immutable(ns.as_ref(), os.as_ref(), &mut errs);
        Ok(errs)
    }
    fn status_subresource(&self) -> bool {
        true
    }
}

impl Kind for SetKind {
    fn info(&self) -> &'static ResourceInfo {
        self.info
    }

    fn decode(&self, v: &Value) -> Result<(Value, Vec<String>), String> {
        if self.info.kind == "StatefulSet" {
            decode_set::<k8s_openapi::api::apps::v1::StatefulSet>(v, |o| {
                set_default(o, "/spec/replicas", json!(1));
                set_default(o, "/spec/podManagementPolicy", json!("OrderedReady"));
                set_default(o, "/spec/updateStrategy/type", json!("RollingUpdate"));
                if o.pointer("/spec/updateStrategy/type") == Some(&json!("RollingUpdate")) {
                    set_default(o, "/spec/updateStrategy/rollingUpdate/partition", json!(0));
                }
                set_default(o, "/spec/revisionHistoryLimit", json!(10));
                set_default(
                    o,
                    "/spec/persistentVolumeClaimRetentionPolicy",
                    json!({"whenDeleted": "Retain", "whenScaled": "Retain"}),
                );
            })
        } else {
            decode_set::<k8s_openapi::api::apps::v1::DaemonSet>(v, |o| {
                set_default(o, "/spec/updateStrategy/type", json!("RollingUpdate"));
                if o.pointer("/spec/updateStrategy/type") == Some(&json!("RollingUpdate")) {
                    set_default(
                        o,
                        "/spec/updateStrategy/rollingUpdate/maxUnavailable",
                        json!(1),
                    );
                    set_default(o, "/spec/updateStrategy/rollingUpdate/maxSurge", json!(0));
                }
                set_default(o, "/spec/revisionHistoryLimit", json!(10));
            })
        }
    }

    fn columns(&self) -> Vec<Column> {
        if self.info.kind == "StatefulSet" {
            vec![
                Column::name_column(),
                Column::new("Ready", "Number of the pod with ready state"),
                Column::new("Age", table::AGE_DESCRIPTION),
                Column::new("Containers", "Names of each container in the template.").wide(),
                Column::new(
                    "Images",
                    "Images referenced by each container in the template.",
                )
                .wide(),
            ]
        } else {
            vec![
                Column::name_column(),
                Column::new("Desired", "The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod). More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/"),
                Column::new("Current", "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod. More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/"),
                Column::new("Ready", "numberReady is the number of nodes that should be running the daemon pod and have one or more of the daemon pod running with a Ready Condition."),
                Column::new("Up-to-date", "The total number of nodes that are running updated daemon pod"),
                Column::new("Available", "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)"),
                Column::new("Node Selector", "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node's labels for the pod to be scheduled on that node. More info: https://kubernetes.io/docs/concepts/configuration/assign-pod-node/"),
                Column::new("Age", table::AGE_DESCRIPTION),
                Column::new("Containers", "Names of each container in the template.").wide(),
                Column::new("Images", "Images referenced by each container in the template.").wide(),
                Column::new("Selector", "A label query over pods that are managed by the daemon set. Must match in order to be controlled. It must match the pod template's labels. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors").wide(),
            ]
        }
    }

    fn row(&self, obj: &Value, _wide: bool, now: jiff::Timestamp) -> Vec<Value> {
        let i = |p: &str| obj.pointer(p).and_then(Value::as_i64).unwrap_or(0);
        let (containers, images) = containers_images(obj);
        let age = json!(table::age(
            obj.pointer("/metadata/creationTimestamp")
                .and_then(Value::as_str),
            now
        ));
        if self.info.kind == "StatefulSet" {
            vec![
                json!(name_of(obj)),
                json!(format!(
                    "{}/{}",
                    i("/status/readyReplicas"),
                    i("/spec/replicas")
                )),
                age,
                json!(containers),
                json!(images),
            ]
        } else {
            let node_selector: Vec<String> = obj
                .pointer("/spec/template/spec/nodeSelector")
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                        .collect()
                })
                .unwrap_or_default();
            vec![
                json!(name_of(obj)),
                json!(i("/status/desiredNumberScheduled")),
                json!(i("/status/currentNumberScheduled")),
                json!(i("/status/numberReady")),
                json!(i("/status/updatedNumberScheduled")),
                json!(i("/status/numberAvailable")),
                json!(if node_selector.is_empty() {
                    "<none>".to_string()
                } else {
                    node_selector.join(",")
                }),
                age,
                json!(containers),
                json!(images),
                json!(selector_text(obj)),
            ]
        }
    }
}

// ------------------------------------------------------ the scale subresource

/// The Scale view of a workload.
pub fn to_scale(obj: &Value) -> Value {
    let m = |f: &str| {
        obj.pointer(&format!("/metadata/{f}"))
            .cloned()
            .unwrap_or(Value::Null)
    };
    let mut meta = json!({"name": m("name"), "namespace": m("namespace"), "uid": m("uid"),
        "resourceVersion": m("resourceVersion"), "creationTimestamp": m("creationTimestamp")});
    if let Some(o) = meta.as_object_mut() {
        o.retain(|_, v| !v.is_null());
    }
    let mut status =
        json!({"replicas": obj.pointer("/status/replicas").and_then(Value::as_i64).unwrap_or(0)});
    // A ReplicationController's selector is a map (`labels.SelectorFromSet(...).String()`).
    let sel = if obj.get("kind").and_then(Value::as_str) == Some("ReplicationController") {
        map_selector_text(obj)
    } else {
        selector_text(obj)
    };
    if sel != "<none>" {
        status["selector"] = json!(sel);
    }
    json!({"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": meta,
        "spec": {"replicas": obj.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(0)},
        "status": status})
}

/// GET, PUT and PATCH of `<workload>/scale`: reads or writes `spec.replicas` of the workload
/// (with the Scale's resourceVersion as precondition on PUT), answering with the Scale.
#[allow(clippy::too_many_arguments)]
pub async fn serve_scale(
    reg: &crate::registry::Registry,
    rt: std::sync::Arc<crate::runtimes::Runtime>,
    kind: std::sync::Arc<dyn Kind>,
    ns: Option<String>,
    name: String,
    verb: &str,
    patch: Option<(crate::registry::PatchType, Value)>,
    opts: crate::registry::WriteOptions,
) -> Result<Value, Status> {
    use crate::registry::PatchType;
    let current = reg.get(&rt, kind.as_ref(), ns.as_deref(), &name)?;
    let scale = to_scale(&current);
    let Some((replicas, rv)) = crate::scale::requested(
        &name,
        &scale,
        verb,
        patch.map(|(t, v)| (t == PatchType::Json, v)),
    )?
    else {
        return Ok(scale);
    };
    let mut merge = json!({"spec": {"replicas": replicas}});
    if let Some(rv) = rv {
        merge["metadata"] = json!({"resourceVersion": rv});
    }
    let r = reg
        .patch(rt, kind, ns, name, PatchType::Merge, merge, opts)
        .await?;
    Ok(to_scale(&r.object))
}
