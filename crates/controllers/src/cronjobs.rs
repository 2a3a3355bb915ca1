//! The CronJob controller (`pkg/controller/cronjob`). What it decides is
//! [`twinstack_kube::cronjob::plan`], a pure function of the CronJob, its Jobs and the time;
//! here the Jobs are gathered from the informer, the plan carried out (Jobs deleted and
//! created, the created Job recorded in `status.active`), the status written and the events
//! recorded (component `cronjob-controller`). The pass reads the clock once; the next due
//! time is within a controller tick (one second).

use super::{controller_uid, name_of, Ctl, World};
use twinstack_kube::cronjob::{self, JobSummary};

const COMPONENT: &str = "cronjob-controller";

pub async fn sync(ctl: &Ctl, w: &World) {
    sync_at(ctl, w, jiff::Timestamp::now()).await
}

/// One pass at `now`.
pub async fn sync_at(ctl: &Ctl, w: &World, now: jiff::Timestamp) {
    for cj in &w.lists.cronjobs {
        let m = &cj.metadata;
        if m.deletion_timestamp.is_some() {
            continue;
        }
        let uid = name_of(&m.uid);
        let owned: Vec<_> = w
            .lists
            .jobs
            .iter()
            .filter(|j| controller_uid(&j.metadata) == Some(uid))
            .collect();
        let summaries: Vec<JobSummary> = owned.iter().map(|j| JobSummary::from_job(j)).collect();
        let mut plan = cronjob::plan(cj, &summaries, now);
        for name in &plan.delete {
            if let Some(j) = owned.iter().find(|j| name_of(&j.metadata.name) == name) {
                let _ = ctl.delete("batch", "jobs", &j.metadata).await;
            }
        }
        let mut events = std::mem::take(&mut plan.events);
        if let Some((job, scheduled)) = plan.create.take() {
            let Ok(body) = serde_json::to_value(&job) else {
                continue;
            };
            match ctl
                .create("batch", "jobs", Some(name_of(&m.namespace)), body)
                .await
            {
                Ok(created) => {
                    let Ok(created) = serde_json::from_value(created) else {
                        continue;
                    };
                    let created = JobSummary::from_job(&created);
                    cronjob::record_created(&mut plan.status, &created, scheduled);
                    events.push(cronjob::CronJobEvent {
                        type_: "Normal",
                        reason: "SuccessfulCreate",
                        message: format!("Created job {}", created.name),
                    });
                }
                Err(s) => events.push(cronjob::CronJobEvent {
                    type_: "Warning",
                    reason: "FailedCreate",
                    message: format!("Error creating job: {}", s.message),
                }),
            }
        }
        if let (Ok(stored), Ok(status)) = (
            serde_json::to_value(&**cj),
            serde_json::to_value(&plan.status),
        ) {
            super::workloads::write_status(ctl, "batch", "cronjobs", &stored, status).await;
        }
        for e in &events {
            ctl.controller_event_of_type(
                m, "batch/v1", "CronJob", COMPONENT, e.type_, e.reason, &e.message,
            )
            .await;
        }
    }
}
