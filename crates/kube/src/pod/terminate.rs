//! Graceful pod deletion: the pod strategy's `CheckGracefulDelete` and the generic registry's
//! `BeforeDelete` (pkg/registry/core/pod/strategy.go, staging apiserver
//! pkg/registry/rest/delete.go), plus kubelet's side: once the containers have exited
//! ([`super::termination`]) the pod object is removed.

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// What a DELETE does to a pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deletion {
    /// Remove the object now (unscheduled or terminal pods, grace period 0).
    Immediate,
    /// Set `deletionTimestamp` = now + grace and `deletionGracePeriodSeconds` = grace; kubelet
    /// stops the containers and removes the object when the grace period has passed.
    Graceful { grace_seconds: i64 },
    /// Already terminating with an equal or shorter grace period: nothing changes.
    Unchanged,
}

/// Decides a delete with the request's `gracePeriodSeconds` (if any), as upstream does:
/// the request wins over `spec.terminationGracePeriodSeconds`; unscheduled and terminal pods
/// go at once; negative becomes 1; a second delete may only shorten the grace period.
pub fn plan_deletion(pod: &Pod, requested_grace: Option<i64>) -> Deletion {
    let spec = pod.spec.as_ref();
    let mut period = requested_grace
        .or_else(|| spec.and_then(|s| s.termination_grace_period_seconds))
        .unwrap_or(0);
    if spec
        .and_then(|s| s.node_name.as_deref())
        .unwrap_or("")
        .is_empty()
    {
        period = 0;
    }
    let phase = pod
        .status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("");
    if phase == "Succeeded" || phase == "Failed" {
        period = 0;
    }
    if period < 0 {
        period = 1;
    }
    if pod.metadata.deletion_timestamp.is_some() {
        let current = pod.metadata.deletion_grace_period_seconds.unwrap_or(0);
        if period >= current {
            return Deletion::Unchanged;
        }
    }
    if period == 0 {
        Deletion::Immediate
    } else {
        Deletion::Graceful {
            grace_seconds: period,
        }
    }
}

/// Applies a graceful deletion to the pod's metadata.
pub fn mark_terminating(pod: &mut Pod, grace_seconds: i64, now: jiff::Timestamp) {
    let at = now
        .checked_add(jiff::SignedDuration::from_secs(grace_seconds))
        .unwrap_or(now);
    pod.metadata.deletion_timestamp = Some(Time(at));
    pod.metadata.deletion_grace_period_seconds = Some(grace_seconds);
}
