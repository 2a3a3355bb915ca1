//! The Job controller. What it decides is [`twinstack_kube::workloads::job`]; here the
//! snapshot is gathered and the plan carried out. The emulated kubelet finishes a Job's pods
//! (containers exit 0) shortly after they start (`kubelet::JOB_POD_RUN`).

use super::workloads::{typed, write_status};
use super::{meta, Ctl, World};
use k8s_openapi::api::batch::v1::Job;
use twinstack_kube::workloads::job;

pub async fn sync(ctl: &Ctl, w: &World) {
    let now = jiff::Timestamp::now();
    for v in &w.jobs {
        let Some(j) = typed::<Job>(v) else {
            continue;
        };
        if j.metadata.deletion_timestamp.is_some() || job::is_finished(&j) {
            continue;
        }
        let ns = j.metadata.namespace.as_deref().unwrap_or("");
        let pods = w.owned_pods(j.metadata.uid.as_deref().unwrap_or(""));
        let plan = job::plan(&j, &pods, now);
        let event = |reason: &'static str, msg: String| async move {
            ctl.controller_event(v, "batch/v1", "Job", "job-controller", reason, &msg)
                .await
        };
        for _ in 0..plan.create {
            let Ok(body) = serde_json::to_value(job::new_pod(&j)) else {
                break;
            };
            match ctl.create("", "pods", Some(ns), body).await {
                Ok(p) => {
                    event(
                        "SuccessfulCreate",
                        format!("Created pod: {}", meta(&p, "name")),
                    )
                    .await
                }
                Err(_) => break,
            }
        }
        let Ok(status) = serde_json::to_value(plan.status) else {
            continue;
        };
        if write_status(ctl, "batch", "jobs", v, status).await && plan.completes {
            event("Completed", "Job completed".into()).await;
        }
    }
}
