//! The Job controller (`pkg/controller/job`): up to `parallelism` active pods until
//! `completions` pods succeeded, then the `SuccessCriteriaMet` and `Complete` conditions
//! (reason `CompletionsReached`) and `completionTime`. Pods carry no
//! `batch.kubernetes.io/job-tracking` finalizer (a choice: the counts are recomputed from the
//! pods at every pass).

use super::{controller_ref, count, pod_from_template, PodSummary};
use k8s_openapi::api::batch::v1::{Job, JobCondition, JobStatus, UncountedTerminatedPods};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// The message of the conditions of a Job that reached its completions.
pub const COMPLETIONS_REACHED_MESSAGE: &str = "Reached expected number of succeeded pods";

/// What one pass does for a Job.
#[derive(Debug, PartialEq)]
pub struct Plan {
    /// How many pods to create ([`new_pod`]).
    pub create: usize,
    pub status: JobStatus,
    /// The Job completes with this status (the controller reports `Completed`).
    pub completes: bool,
}

fn has_condition(job: &Job, ty: &str) -> bool {
    job.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten()
        .any(|c| c.type_ == ty && c.status == "True")
}

/// Whether the Job is finished (`IsJobFinished`): nothing more to do for it.
pub fn is_finished(job: &Job) -> bool {
    has_condition(job, "Complete") || has_condition(job, "Failed")
}

/// A pod of the Job.
pub fn new_pod(job: &Job) -> Pod {
    pod_from_template(
        job.spec.as_ref().map(|s| &s.template),
        job.metadata.namespace.as_deref().unwrap_or(""),
        controller_ref("batch/v1", "Job", &job.metadata),
    )
}

/// One pass of the Job controller over `job` (not finished, not being deleted) and its pods.
pub fn plan(job: &Job, pods: &[&PodSummary], now: jiff::Timestamp) -> Plan {
    let spec = job.spec.as_ref();
    let active = pods
        .iter()
        .filter(|p| !p.deleting && !p.is_terminal())
        .count() as i64;
    let active_ready = pods
        .iter()
        .filter(|p| !p.deleting && !p.is_terminal() && p.ready)
        .count();
    let succeeded = pods.iter().filter(|p| p.phase == "Succeeded").count() as i64;
    let failed = pods.iter().filter(|p| p.phase == "Failed").count() as i64;
    let parallelism = spec.and_then(|s| s.parallelism).unwrap_or(0) as i64;
    let completions = spec.and_then(|s| s.completions).map(i64::from);
    let suspended = spec.and_then(|s| s.suspend) == Some(true);
    let done = match completions {
        Some(c) => succeeded >= c,
        None => succeeded > 0 && active == 0,
    };
    let want_active = if done || suspended {
        0
    } else {
        match completions {
            Some(c) => parallelism.min(c - succeeded),
            None if succeeded > 0 => active,
            None => parallelism,
        }
    };
    let mut status = job.status.clone().unwrap_or_default();
    let now = Time(now);
    if status.start_time.is_none() && !suspended {
        status.start_time = Some(now.clone());
    }
    let positive = |n: i64| Some(count(n as usize)).filter(|n| *n > 0);
    status.active = positive(active);
    status.succeeded = positive(succeeded);
    status.failed = positive(failed);
    status.ready = Some(count(active_ready));
    status.terminating = Some(0);
    status.uncounted_terminated_pods = Some(UncountedTerminatedPods::default());
    let completes = done && active == 0;
    if completes {
        let condition = |ty: &str| JobCondition {
            type_: ty.into(),
            status: "True".into(),
            reason: Some("CompletionsReached".into()),
            message: Some(COMPLETIONS_REACHED_MESSAGE.into()),
            last_probe_time: Some(now.clone()),
            last_transition_time: Some(now.clone()),
        };
        status.conditions = Some(vec![condition("SuccessCriteriaMet"), condition("Complete")]);
        status.completion_time = Some(now);
    }
    Plan {
        create: (want_active - active).max(0) as usize,
        status,
        completes,
    }
}
