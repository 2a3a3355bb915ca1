//! CronJob (`batch/v1`): v1 defaults (`pkg/apis/batch/v1/defaults.go` `SetDefaults_CronJob`),
//! validation (`pkg/apis/batch/validation/validation.go` `ValidateCronJobCreate`,
//! `validateScheduleFormat`), and one pass of the CronJob controller
//! (`pkg/controller/cronjob/cronjob_controllerv2.go` `syncCronJob`, `utils.go`
//! `mostRecentScheduleTime`, `getJobFromTemplate2`) as a pure function of the CronJob, its
//! Jobs and `now`, so a test drives the clock.

pub mod schedule;
#[cfg(test)]
mod tests;

use crate::workloads::controller_ref;
use k8s_openapi::api::batch::v1::{CronJob, CronJobStatus, Job, JobTemplateSpec};
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use schedule::Schedule;
use twinstack_core::field::{BadValue, ErrorList, FieldError, Path};

/// The annotation a created Job carries with its scheduled time (feature
/// `CronJobsScheduledAnnotation`, beta and on since 1.28).
pub const SCHEDULED_TIMESTAMP: &str = "batch.kubernetes.io/cronjob-scheduled-timestamp";

/// `validation.go`: a CronJob's name leaves room for the Job name's 11-character suffix.
pub const MAX_NAME_LENGTH: usize = 52;

/// `SetDefaults_CronJob`.
pub fn set_defaults(cj: &mut CronJob) {
    let spec = cj.spec.get_or_insert_with(Default::default);
    spec.concurrency_policy
        .get_or_insert_with(|| "Allow".into());
    spec.suspend.get_or_insert(false);
    spec.successful_jobs_history_limit.get_or_insert(3);
    spec.failed_jobs_history_limit.get_or_insert(1);
}

/// `validateScheduleFormat` with `allowTZInSchedule` false (a create, or an update whose old
/// schedule had no TZ): robfig's parse error, then the TZ rule.
pub fn validate_schedule(schedule: &str, p: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if let Err(e) = schedule::parse(schedule) {
        errs.push(FieldError::invalid(p, BadValue::str(schedule), e));
    }
    if schedule.contains("TZ") {
        errs.push(FieldError::invalid(
            p,
            BadValue::str(schedule),
            "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
        ));
    }
    errs
}

/// `ValidateCronJobCreate` without ObjectMeta's general rules and without the Job template's
/// pod spec (the registry runs the pod rules): name length, schedule, time zone, policy and
/// the history limits.
pub fn validate(cj: &CronJob) -> ErrorList {
    let mut errs = ErrorList::new();
    let name = cj.metadata.name.as_deref().unwrap_or("");
    if name.len() > MAX_NAME_LENGTH {
        errs.push(FieldError::invalid(
            &Path::new("metadata").child("name"),
            BadValue::str(name),
            format!("must be no more than {MAX_NAME_LENGTH} characters"),
        ));
    }
    let default_spec = Default::default();
    let spec = cj.spec.as_ref().unwrap_or(&default_spec);
    let p = Path::new("spec");
    if spec.schedule.is_empty() {
        errs.push(FieldError::required(&p.child("schedule"), ""));
    } else {
        errs.extend(validate_schedule(&spec.schedule, &p.child("schedule")));
    }
    if let Some(tz) = spec.time_zone.as_deref() {
        errs.extend(validate_time_zone(tz, &p.child("timeZone")));
    }
    match spec.concurrency_policy.as_deref().unwrap_or("") {
        "Allow" | "Forbid" | "Replace" => {}
        "" => errs.push(FieldError::required(&p.child("concurrencyPolicy"), "")),
        other => errs.push(FieldError::not_supported(
            &p.child("concurrencyPolicy"),
            BadValue::str(other),
            &["Allow", "Forbid", "Replace"],
        )),
    }
    for (v, f) in [
        (spec.starting_deadline_seconds, "startingDeadlineSeconds"),
        (
            spec.successful_jobs_history_limit.map(i64::from),
            "successfulJobsHistoryLimit",
        ),
        (
            spec.failed_jobs_history_limit.map(i64::from),
            "failedJobsHistoryLimit",
        ),
    ] {
        if let Some(n) = v.filter(|n| *n < 0) {
            errs.push(FieldError::invalid(
                &p.child(f),
                BadValue::int(n),
                "must be greater than or equal to 0",
            ));
        }
    }
    errs
}

/// `validateTimeZone`: an IANA name the time zone database knows, not `Local`.
fn validate_time_zone(tz: &str, p: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if tz.is_empty() {
        return errs;
    }
    if tz.eq_ignore_ascii_case("local") {
        errs.push(FieldError::invalid(
            p,
            BadValue::str(tz),
            "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones",
        ));
    } else if jiff::tz::TimeZone::get(tz).is_err() {
        errs.push(FieldError::invalid(
            p,
            BadValue::str(tz),
            format!("unknown time zone {tz}"),
        ));
    }
    errs
}

/// The time zone a CronJob's schedule is read in: `spec.timeZone`, else the schedule's `TZ=`,
/// else kube-controller-manager's (UTC on a Gardener shoot).
pub fn time_zone(cj: &CronJob, sched: &Schedule) -> jiff::tz::TimeZone {
    let name = cj
        .spec
        .as_ref()
        .and_then(|s| s.time_zone.as_deref())
        .or(sched.time_zone());
    name.and_then(|n| jiff::tz::TimeZone::get(n).ok())
        .unwrap_or(jiff::tz::TimeZone::UTC)
}

/// The most recent activation of `sched` in `(earliest, now]`, and how many there were
/// (`mostRecentScheduleTime`): the time a Job is due for, if any.
pub fn next_schedule(
    sched: &Schedule,
    tz: &jiff::tz::TimeZone,
    earliest: jiff::Timestamp,
    now: jiff::Timestamp,
) -> Option<(jiff::Timestamp, usize)> {
    let mut t = sched.next(earliest, tz)?;
    if t > now {
        return None;
    }
    let mut missed = 1;
    // Upstream stops counting past 100 and warns; walking further adds nothing but time, so
    // jump close to `now` and walk the rest.
    while let Some(n) = sched.next(t, tz).filter(|n| *n <= now) {
        missed += 1;
        t = n;
        if missed == 100 {
            let near = now
                .checked_sub(jiff::SignedDuration::from_hours(24 * 31))
                .unwrap_or(now);
            if near > t {
                t = sched.next(near, tz).filter(|n| *n <= now).unwrap_or(t);
            }
        }
    }
    Some((t, missed))
}

/// `getJobName`: the CronJob's name and the scheduled time in minutes since the epoch.
pub fn job_name(cron_job: &str, scheduled: jiff::Timestamp) -> String {
    format!("{cron_job}-{}", scheduled.as_second().div_euclid(60))
}

/// `getJobFromTemplate2`: the Job the CronJob starts for `scheduled`.
pub fn new_job(cj: &CronJob, scheduled: jiff::Timestamp, tz: &jiff::tz::TimeZone) -> Job {
    let name = cj.metadata.name.clone().unwrap_or_default();
    let template: JobTemplateSpec = cj
        .spec
        .as_ref()
        .map(|s| s.job_template.clone())
        .unwrap_or_default();
    let tm = template.metadata.unwrap_or_default();
    let mut annotations = tm.annotations.unwrap_or_default();
    annotations.insert(
        SCHEDULED_TIMESTAMP.into(),
        scheduled
            .to_zoned(tz.clone())
            .strftime("%Y-%m-%dT%H:%M:%S%:z")
            .to_string()
            .replace("+00:00", "Z"),
    );
    Job {
        metadata: ObjectMeta {
            name: Some(job_name(&name, scheduled)),
            namespace: cj.metadata.namespace.clone(),
            labels: tm.labels,
            annotations: Some(annotations),
            owner_references: Some(vec![controller_ref("batch/v1", "CronJob", &cj.metadata)]),
            ..Default::default()
        },
        spec: template.spec,
        status: None,
    }
}

/// What the CronJob controller reads of one of the CronJob's Jobs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobSummary {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub resource_version: String,
    /// `Complete` or `Failed` once finished (`IsJobFinished`).
    pub finished: Option<String>,
    /// `status.completionTime`.
    pub completion_time: Option<jiff::Timestamp>,
    /// `metadata.creationTimestamp` (history cleanup deletes the oldest first).
    pub created: Option<jiff::Timestamp>,
}

impl JobSummary {
    pub fn from_job(j: &Job) -> JobSummary {
        let m = &j.metadata;
        let conds = j
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .into_iter()
            .flatten();
        let finished = conds
            .filter(|c| c.status == "True")
            .map(|c| c.type_.clone())
            .find(|t| t == "Complete" || t == "Failed");
        JobSummary {
            name: m.name.clone().unwrap_or_default(),
            namespace: m.namespace.clone().unwrap_or_default(),
            uid: m.uid.clone().unwrap_or_default(),
            resource_version: m.resource_version.clone().unwrap_or_default(),
            finished,
            completion_time: j
                .status
                .as_ref()
                .and_then(|s| s.completion_time.as_ref())
                .map(|t| t.0),
            created: m.creation_timestamp.as_ref().map(|t| t.0),
        }
    }

    /// The `status.active` entry of this Job.
    pub fn reference(&self) -> ObjectReference {
        ObjectReference {
            api_version: Some("batch/v1".into()),
            kind: Some("Job".into()),
            name: Some(self.name.clone()),
            namespace: Some(self.namespace.clone()),
            uid: Some(self.uid.clone()),
            resource_version: Some(self.resource_version.clone()),
            field_path: None,
        }
    }
}

/// An event the CronJob controller records (component `cronjob-controller`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CronJobEvent {
    pub type_: &'static str,
    pub reason: &'static str,
    pub message: String,
}

fn normal(reason: &'static str, message: String) -> CronJobEvent {
    CronJobEvent {
        type_: "Normal",
        reason,
        message,
    }
}

/// What one pass does for a CronJob.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// The status before a Job is created (active list cleaned, lastSuccessfulTime).
    pub status: CronJobStatus,
    /// The Job to create and the time it is scheduled for; once created, the controller adds it
    /// to `status.active` and sets `status.lastScheduleTime` ([`record_created`]).
    pub create: Option<(Job, jiff::Timestamp)>,
    /// Jobs to delete (Replace policy, then history limits), each with its event.
    pub delete: Vec<String>,
    pub events: Vec<CronJobEvent>,
    /// When the next activation is due (the controller's requeue).
    pub next: Option<jiff::Timestamp>,
}

/// After the Job of `plan.create` was created as `job`: `status.active` holds it and
/// `status.lastScheduleTime` is its scheduled time.
pub fn record_created(status: &mut CronJobStatus, job: &JobSummary, scheduled: jiff::Timestamp) {
    let active = status.active.get_or_insert_with(Vec::new);
    if !active.iter().any(|r| r.uid.as_deref() == Some(&job.uid)) {
        active.push(job.reference());
    }
    status.last_schedule_time = Some(Time(scheduled));
}

/// One pass of `syncCronJob` for `cj` (not being deleted) whose Jobs (those it controls) are
/// `jobs`, at `now`.
pub fn plan(cj: &CronJob, jobs: &[JobSummary], now: jiff::Timestamp) -> Plan {
    let mut status = cj.status.clone().unwrap_or_default();
    let mut events = Vec::new();
    let mut delete = Vec::new();
    let default_spec = Default::default();
    let spec = cj.spec.as_ref().unwrap_or(&default_spec);
    // The active list: finished Jobs leave it (SawCompletedJob), missing ones too (MissingJob).
    let mut active: Vec<ObjectReference> = Vec::new();
    for r in status.active.iter().flatten() {
        let uid = r.uid.as_deref().unwrap_or("");
        match jobs.iter().find(|j| j.uid == uid) {
            None => events.push(normal(
                "MissingJob",
                format!(
                    "Active job went missing: {}",
                    r.name.as_deref().unwrap_or("")
                ),
            )),
            Some(j) if j.finished.is_some() => {}
            Some(_) => active.push(r.clone()),
        }
    }
    for j in jobs {
        let listed = status
            .active
            .iter()
            .flatten()
            .any(|r| r.uid.as_deref() == Some(&j.uid));
        match &j.finished {
            Some(cond) if listed => {
                events.push(normal(
                    "SawCompletedJob",
                    format!("Saw completed job: {}, condition: {cond}", j.name),
                ));
                if cond == "Complete" {
                    if let Some(t) = j.completion_time {
                        let later = status.last_successful_time.as_ref().is_none_or(|l| l.0 < t);
                        if later {
                            status.last_successful_time = Some(Time(t));
                        }
                    }
                }
            }
            // Not adopted (upstream only warns): a Job someone else made with this owner, or
            // one whose status write was lost.
            None if !listed => events.push(CronJobEvent {
                type_: "Warning",
                reason: "UnexpectedJob",
                message: format!(
                    "Saw a job that the controller did not create or forgot: {}",
                    j.name
                ),
            }),
            _ => {}
        }
    }
    status.active = Some(active).filter(|a| !a.is_empty());
    // History limits (`cleanupFinishedJobs`): the oldest finished Jobs beyond each limit go.
    for (cond, limit) in [
        ("Complete", spec.successful_jobs_history_limit),
        ("Failed", spec.failed_jobs_history_limit),
    ] {
        let Some(limit) = limit else { continue };
        let mut finished: Vec<&JobSummary> = jobs
            .iter()
            .filter(|j| j.finished.as_deref() == Some(cond))
            .collect();
        finished.sort_by_key(|j| (j.created, j.name.clone()));
        let excess = finished.len().saturating_sub(limit.max(0) as usize);
        for j in &finished[..excess] {
            delete.push(j.name.clone());
            events.push(normal(
                "SuccessfulDelete",
                format!("Deleted job {}", j.name),
            ));
        }
    }
    let mut plan = Plan {
        status,
        create: None,
        delete,
        events,
        next: None,
    };
    if spec.suspend == Some(true) {
        return plan;
    }
    let sched = match schedule::parse(&spec.schedule) {
        Ok(s) => s,
        Err(e) => {
            plan.events.push(CronJobEvent {
                type_: "Warning",
                reason: "UnparseableSchedule",
                message: format!(
                    "unparseable schedule: {} : {e}",
                    twinstack_core::field::go_quote(&spec.schedule)
                ),
            });
            return plan;
        }
    };
    let tz = time_zone(cj, &sched);
    let created = cj.metadata.creation_timestamp.as_ref().map_or(now, |t| t.0);
    let mut earliest = plan
        .status
        .last_schedule_time
        .as_ref()
        .map_or(created, |t| t.0);
    if let Some(d) = spec.starting_deadline_seconds {
        let from = now
            .checked_sub(jiff::SignedDuration::from_secs(d))
            .unwrap_or(now);
        if from > earliest {
            earliest = from;
        }
    }
    let due = next_schedule(&sched, &tz, earliest, now);
    plan.next = sched.next(now, &tz);
    let Some((scheduled, missed)) = due else {
        return plan;
    };
    if missed > 100 {
        plan.events.push(CronJobEvent {
            type_: "Warning",
            reason: "TooManyMissedTimes",
            message: format!("too many missed start times: {missed}. Set or decrease .spec.startingDeadlineSeconds or check clock skew"),
        });
    }
    if let Some(d) = spec.starting_deadline_seconds {
        if scheduled.as_second() + d < now.as_second() {
            plan.events.push(CronJobEvent {
                type_: "Warning",
                reason: "MissSchedule",
                message: format!(
                    "Missed scheduled time to start a job: {}",
                    scheduled.strftime("%Y-%m-%dT%H:%M:%SZ")
                ),
            });
            return plan;
        }
    }
    let name = job_name(cj.metadata.name.as_deref().unwrap_or(""), scheduled);
    if jobs.iter().any(|j| j.name == name) {
        // Created by an earlier pass whose status write was lost: record it now.
        let later = plan
            .status
            .last_schedule_time
            .as_ref()
            .is_none_or(|l| l.0 < scheduled);
        if later {
            plan.status.last_schedule_time = Some(Time(scheduled));
        }
        return plan;
    }
    let active = plan.status.active.as_deref().unwrap_or_default();
    match spec.concurrency_policy.as_deref() {
        Some("Forbid") if !active.is_empty() => {
            plan.events.push(normal(
                "JobAlreadyActive",
                "Not starting job because prior execution is running and concurrency policy is Forbid".into(),
            ));
            return plan;
        }
        Some("Replace") => {
            for r in active {
                let n = r.name.clone().unwrap_or_default();
                plan.events
                    .push(normal("SuccessfulDelete", format!("Deleted job {n}")));
                plan.delete.push(n);
            }
            plan.status.active = None;
        }
        _ => {}
    }
    plan.create = Some((new_job(cj, scheduled, &tz), scheduled));
    plan
}
