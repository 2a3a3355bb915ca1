//! PodDisruptionBudgets (`policy/v1`, `pkg/registry/policy/poddisruptionbudget`): the spec
//! rules of [`twinstack_kube::policy::validate`], status kept apart (the disruption controller
//! writes it), kube-apiserver's columns.

use super::{Kind, ResourceInfo, Strategy, ALL_VERBS};
use crate::decode;
use crate::runtimes::Runtime;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use serde_json::{json, Value};
use twinstack_core::field::ErrorList;
use twinstack_core::status::Status;
use twinstack_kube::policy;
use twinstack_kube::table::{self, Column};

pub static POD_DISRUPTION_BUDGET: ResourceInfo = ResourceInfo {
    group: "policy",
    version: "v1",
    plural: "poddisruptionbudgets",
    singular: "poddisruptionbudget",
    kind: "PodDisruptionBudget",
    namespaced: true,
    short_names: &["pdb"],
    categories: &[],
    verbs: ALL_VERBS,
    storage: "poddisruptionbudgets",
    scale: false,
};

pub struct PodDisruptionBudgetKind;

impl Strategy for PodDisruptionBudgetKind {
    fn validate(&self, _rt: &Runtime, obj: &Value) -> Result<ErrorList, Status> {
        Ok(policy::validate(&super::typed(obj, "PodDisruptionBudget")?))
    }

    fn validate_update(
        &self,
        _rt: &Runtime,
        new: &Value,
        _old: &Value,
    ) -> Result<ErrorList, Status> {
        Ok(policy::validate(&super::typed(new, "PodDisruptionBudget")?))
    }

    fn status_subresource(&self) -> bool {
        true
    }
}

impl Kind for PodDisruptionBudgetKind {
    fn info(&self) -> &'static ResourceInfo {
        &POD_DISRUPTION_BUDGET
    }

    fn decode(&self, v: &Value) -> Result<(Value, Vec<String>), String> {
        let (pdb, unknown): (PodDisruptionBudget, _) = decode::typed(v)?;
        Ok((
            serde_json::to_value(pdb).map_err(|e| e.to_string())?,
            unknown,
        ))
    }

    /// `podDisruptionBudgetColumnDefinitions`.
    fn columns(&self) -> Vec<Column> {
        let mut allowed = Column::new(
            "Allowed Disruptions",
            "Number of pod disruptions that are currently allowed.",
        );
        allowed.ty = "integer";
        vec![
            Column::name_column(),
            Column::new("Min Available", "An eviction is allowed if at least \"minAvailable\" pods selected by \"selector\" will still be available after the eviction, i.e. even in the absence of the evicted pod.  So for example you can prevent all voluntary evictions by specifying \"100%\"."),
            Column::new("Max Unavailable", "An eviction is allowed if at most \"maxUnavailable\" pods selected by \"selector\" are unavailable after the eviction, i.e. even in absence of the evicted pod. For example, one can prevent all voluntary evictions by specifying 0. This is a mutually exclusive setting with \"minAvailable\"."),
            allowed,
            Column::new("Age", table::AGE_DESCRIPTION),
        ]
    }

    /// `printPodDisruptionBudget`.
    fn row(&self, obj: &Value, _wide: bool, now: jiff::Timestamp) -> Vec<Value> {
        let pdb: PodDisruptionBudget = serde_json::from_value(obj.clone()).unwrap_or_default();
        let spec = pdb.spec.unwrap_or_default();
        vec![
            json!(pdb.metadata.name.unwrap_or_default()),
            json!(policy::int_or_percent_cell(spec.min_available.as_ref())),
            json!(policy::int_or_percent_cell(spec.max_unavailable.as_ref())),
            json!(pdb.status.map_or(0, |s| s.disruptions_allowed)),
            json!(table::age(
                obj.pointer("/metadata/creationTimestamp")
                    .and_then(Value::as_str),
                now
            )),
        ]
    }
}
