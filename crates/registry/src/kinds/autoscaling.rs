//! HorizontalPodAutoscalers (`autoscaling/v2`, `pkg/registry/autoscaling/horizontalpodautoscaler`):
//! v2 defaults, upstream's validation, status kept apart (the HPA controller writes it), and
//! kube-apiserver's columns. The rules are [`twinstack_kube::autoscaling`]'s.

use super::{Kind, ResourceInfo, Strategy, ALL_VERBS};
use crate::decode;
use crate::runtimes::Runtime;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use serde_json::{json, Value};
use twinstack_core::field::ErrorList;
use twinstack_core::status::Status;
use twinstack_kube::autoscaling as hpa;
use twinstack_kube::table::{self, Column};

pub static HORIZONTAL_POD_AUTOSCALER: ResourceInfo = ResourceInfo {
    group: "autoscaling",
    version: "v2",
    plural: "horizontalpodautoscalers",
    singular: "horizontalpodautoscaler",
    kind: "HorizontalPodAutoscaler",
    namespaced: true,
    short_names: &["hpa"],
    categories: &["all"],
    verbs: ALL_VERBS,
    storage: "horizontalpodautoscalers",
    scale: false,
};

pub struct HorizontalPodAutoscalerKind;

fn typed(v: &Value) -> Result<HorizontalPodAutoscaler, Status> {
    super::typed(v, "HorizontalPodAutoscaler")
}

/// `autoscalerStrategy` and its status strategy.
impl Strategy for HorizontalPodAutoscalerKind {
    fn validate(&self, _rt: &Runtime, obj: &Value) -> Result<ErrorList, Status> {
        Ok(hpa::validate(&typed(obj)?, 1))
    }

    /// `ValidateHorizontalPodAutoscalerUpdate`: an HPA that already had `minReplicas: 0` may
    /// keep it.
    fn validate_update(
        &self,
        _rt: &Runtime,
        new: &Value,
        old: &Value,
    ) -> Result<ErrorList, Status> {
        let bound = if old.pointer("/spec/minReplicas") == Some(&json!(0)) {
            0
        } else {
            1
        };
        Ok(hpa::validate(&typed(new)?, bound))
    }

    fn status_subresource(&self) -> bool {
        true
    }
}

impl Kind for HorizontalPodAutoscalerKind {
    fn info(&self) -> &'static ResourceInfo {
        &HORIZONTAL_POD_AUTOSCALER
    }

    fn decode(&self, v: &Value) -> Result<(Value, Vec<String>), String> {
        let (mut h, unknown): (HorizontalPodAutoscaler, _) = decode::typed(v)?;
        hpa::set_defaults(&mut h);
        Ok((serde_json::to_value(h).map_err(|e| e.to_string())?, unknown))
    }

    /// `horizontalPodAutoscalerColumnDefinitions` (descriptions from the v2 API's docs).
    fn columns(&self) -> Vec<Column> {
        let mut max = Column::new("MaxPods", "maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up. It cannot be less that minReplicas.");
        max.ty = "integer";
        let mut replicas = Column::new("Replicas", "currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler.");
        replicas.ty = "integer";
        vec![
            Column::name_column(),
            Column::new("Reference", "scaleTargetRef points to the target resource to scale, and is used to the pods for which metrics should be collected, as well as to actually change the replica count."),
            Column::new("Targets", "metrics contains the specifications for which to use to calculate the desired replica count (the maximum replica count across all metrics will be used)."),
            Column::new("MinPods", "minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.  It defaults to 1 pod."),
            max,
            replicas,
            Column::new("Age", table::AGE_DESCRIPTION),
        ]
    }

    /// `printHorizontalPodAutoscaler`.
    fn row(&self, obj: &Value, _wide: bool, now: jiff::Timestamp) -> Vec<Value> {
        let h: HorizontalPodAutoscaler = serde_json::from_value(obj.clone()).unwrap_or_default();
        let spec = h.spec.unwrap_or_default();
        let status = h.status.unwrap_or_default();
        let reference = format!(
            "{}/{}",
            spec.scale_target_ref.kind, spec.scale_target_ref.name
        );
        let min = spec
            .min_replicas
            .map_or_else(|| "<unset>".to_string(), |m| m.to_string());
        vec![
            json!(h.metadata.name.unwrap_or_default()),
            json!(reference),
            json!(hpa::format_metrics(
                spec.metrics.as_deref().unwrap_or_default(),
                status.current_metrics.as_deref().unwrap_or_default()
            )),
            json!(min),
            json!(spec.max_replicas),
            json!(status.current_replicas.unwrap_or(0)),
            json!(table::age(
                obj.pointer("/metadata/creationTimestamp")
                    .and_then(Value::as_str),
                now
            )),
        ]
    }
}
