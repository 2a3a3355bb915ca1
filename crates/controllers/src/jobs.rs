//! The Job controller. What it decides is [`twinstack_kube::workloads::job`]; here the
//! snapshot is gathered and the plan carried out. The emulated kubelet finishes a Job's pods
//! (containers exit 0) shortly after they start (`kubelet::JOB_POD_RUN_MS`).

use super::workloads::write_status;
use super::{meta, name_of, Ctl, World};
use twinstack_kube::workloads::job;

pub async fn sync(ctl: &Ctl, w: &World) {
    let now = jiff::Timestamp::now();
    for j in &w.lists.jobs {
        let m = &j.metadata;
        if m.deletion_timestamp.is_some() || job::is_finished(j) {
            continue;
        }
        let pods = w.owned_pods(name_of(&m.uid));
        let plan = job::plan(j, &pods, now);
        let event = |reason: &'static str, msg: String| async move {
            ctl.controller_event(m, "batch/v1", "Job", "job-controller", reason, &msg)
                .await
        };
        for _ in 0..plan.create {
            let Ok(body) = serde_json::to_value(job::new_pod(j)) else {
                break;
            };
            match ctl
                .create("", "pods", Some(name_of(&m.namespace)), body)
                .await
            {
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
        let (Ok(stored), Ok(status)) = (
            serde_json::to_value(&**j),
            serde_json::to_value(plan.status),
        ) else {
            continue;
        };
        if write_status(ctl, "batch", "jobs", &stored, status).await && plan.completes {
            event("Completed", "Job completed".into()).await;
        }
    }
}
