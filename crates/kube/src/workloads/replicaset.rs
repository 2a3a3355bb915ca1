//! The ReplicaSet controller (`pkg/controller/replicaset`): pods named `<rs>-<5 chars>` with
//! the ReplicaSet as controller owner, kept at `spec.replicas`, and the status counted from
//! them. ReplicationControllers run the same rules after [`from_replication_controller`], as
//! `pkg/controller/replication` converts them.

use super::{controller_ref, count, has_labels, pod_from_template, positive, PodSummary};
use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetSpec, ReplicaSetStatus};
use k8s_openapi::api::core::v1::{Pod, ReplicationController, ReplicationControllerStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

/// Pods created or deleted in one pass (upstream's `burstReplicas`).
pub const BURST: usize = 500;

/// What one pass does for a ReplicaSet.
#[derive(Debug, PartialEq)]
pub struct Plan<'a> {
    /// How many pods to create from the template ([`new_pod`]).
    pub create: usize,
    /// The pods to delete, most expendable first.
    pub delete: Vec<&'a PodSummary>,
    /// The status from the pods as they are now (the next pass sees this pass's writes).
    pub status: ReplicaSetStatus,
}

/// `getPodsToDelete`'s order (`controller.ActivePods`): unscheduled before scheduled, pending
/// before running, not ready before ready, then the newest first.
fn delete_rank(p: &PodSummary) -> (bool, bool, bool, std::cmp::Reverse<&str>) {
    (
        p.node_name.is_some(),
        p.phase != "Pending",
        p.ready,
        std::cmp::Reverse(p.created.as_str()),
    )
}

/// One pass of the ReplicaSet controller over `rs` and the pods it controls.
pub fn plan<'a>(rs: &ReplicaSet, pods: &[&'a PodSummary], now: jiff::Timestamp) -> Plan<'a> {
    let spec = rs.spec.as_ref();
    let desired = spec.and_then(|s| s.replicas).unwrap_or(0).max(0) as usize;
    let active: Vec<&PodSummary> = pods.iter().copied().filter(|p| p.is_active()).collect();
    let create = desired.saturating_sub(active.len()).min(BURST);
    let mut delete = Vec::new();
    if active.len() > desired {
        let mut victims = active.clone();
        victims.sort_by_key(|p| delete_rank(p));
        victims.truncate((active.len() - desired).min(BURST));
        delete = victims;
    }
    let min_ready = spec.and_then(|s| s.min_ready_seconds).unwrap_or(0) as i64;
    let template_labels = spec
        .and_then(|s| s.template.as_ref())
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.labels.as_ref());
    let status = ReplicaSetStatus {
        replicas: count(active.len()),
        observed_generation: Some(rs.metadata.generation.unwrap_or(0)),
        fully_labeled_replicas: positive(
            active
                .iter()
                .filter(|p| has_labels(p, template_labels))
                .count(),
        ),
        ready_replicas: positive(active.iter().filter(|p| p.ready).count()),
        available_replicas: positive(
            active
                .iter()
                .filter(|p| p.is_available(min_ready, now))
                .count(),
        ),
        conditions: None,
    };
    Plan {
        create,
        delete,
        status,
    }
}

/// A pod the ReplicaSet (or ReplicationController, by `api_version`/`kind`) creates.
pub fn new_pod(rs: &ReplicaSet, api_version: &str, kind: &str) -> Pod {
    pod_from_template(
        rs.spec.as_ref().and_then(|s| s.template.as_ref()),
        rs.metadata.namespace.as_deref().unwrap_or(""),
        controller_ref(api_version, kind, &rs.metadata),
    )
}

/// A ReplicationController as the ReplicaSet it is run as (`Convert_v1_ReplicationController_To_apps_ReplicaSet`):
/// its selector map becomes `matchLabels`.
pub fn from_replication_controller(rc: &ReplicationController) -> ReplicaSet {
    let spec = rc.spec.clone().unwrap_or_default();
    ReplicaSet {
        metadata: rc.metadata.clone(),
        spec: Some(ReplicaSetSpec {
            replicas: spec.replicas,
            min_ready_seconds: spec.min_ready_seconds,
            selector: LabelSelector {
                match_labels: spec.selector,
                match_expressions: None,
            },
            template: spec.template,
        }),
        status: None,
    }
}

/// A ReplicaSet status as the ReplicationController's.
pub fn to_replication_controller_status(s: ReplicaSetStatus) -> ReplicationControllerStatus {
    ReplicationControllerStatus {
        available_replicas: s.available_replicas,
        conditions: None,
        fully_labeled_replicas: s.fully_labeled_replicas,
        observed_generation: s.observed_generation,
        ready_replicas: s.ready_replicas,
        replicas: s.replicas,
    }
}
