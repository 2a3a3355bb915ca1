//! Jobs (batch/v1): v1 defaults, the generated selector (`batch.kubernetes.io/controller-uid`)
//! and template labels, upstream's validation of the fields users write, status kept on
//! updates of the main resource (the Job controller writes it).

use super::workload::{containers_images, default_template};
use super::{Kind, ResourceInfo, Strategy, ALL_VERBS};
use crate::decode;
use crate::runtimes::Runtime;
use k8s_openapi::api::batch::v1::Job;
use serde_json::{json, Value};
use twinstack_core::field::{BadValue, ErrorList, FieldError, Path};
use twinstack_core::status::Status;
use twinstack_kube::pod as kpod;
use twinstack_kube::table::{self, Column};

pub static JOB: ResourceInfo = ResourceInfo {
    group: "batch",
    version: "v1",
    plural: "jobs",
    singular: "job",
    kind: "Job",
    namespaced: true,
    short_names: &[],
    categories: &["all"],
    verbs: ALL_VERBS,
    storage: "jobs",
    scale: false,
};

pub const CONTROLLER_UID: &str = "batch.kubernetes.io/controller-uid";
pub const JOB_NAME: &str = "batch.kubernetes.io/job-name";

pub struct JobKind;

fn name_of(v: &Value) -> String {
    v.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

fn validate(job: &Job) -> ErrorList {
    let mut errs = ErrorList::new();
    let spec = job.spec.clone().unwrap_or_default();
    let p = Path::new("spec");
    for (v, f) in [
        (spec.parallelism, "parallelism"),
        (spec.completions, "completions"),
        (spec.backoff_limit, "backoffLimit"),
    ] {
        if let Some(n) = v.filter(|n| *n < 0) {
            errs.push(FieldError::invalid(
                &p.child(f),
                BadValue::int(n as i64),
                "must be greater than or equal to 0",
            ));
        }
    }
    let tpath = p.child("template").child("spec");
    let default_spec = Default::default();
    let pspec = spec.template.spec.as_ref().unwrap_or(&default_spec);
    errs.extend(kpod::validate_spec(pspec, &tpath));
    let rp = pspec.restart_policy.as_deref().unwrap_or("");
    if rp != "OnFailure" && rp != "Never" {
        errs.push(FieldError::not_supported(
            &tpath.child("restartPolicy"),
            BadValue::str(rp),
            &["OnFailure", "Never"],
        ));
    }
    errs
}

/// The status strategy's spec half, the generated selector, upstream's `ValidateJob(Update)`.
impl Strategy for JobKind {
    /// The generated selector and labels (`generateSelector`), keyed by the new uid.
    fn prepare_for_create(&self, obj: &mut Value) -> Result<(), Status> {
        let uid = obj
            .pointer("/metadata/uid")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let name = name_of(obj);
        if obj.pointer("/spec/manualSelector") != Some(&json!(true)) {
            let labels = json!({CONTROLLER_UID: uid, JOB_NAME: name, "controller-uid": uid, "job-name": name});
            if !obj["spec"]["template"]["metadata"].is_object() {
                obj["spec"]["template"]["metadata"] = json!({});
            }
            if !obj["spec"]["template"]["metadata"]["labels"].is_object() {
                obj["spec"]["template"]["metadata"]["labels"] = json!({});
            }
            for (k, v) in labels.as_object().unwrap() {
                obj["spec"]["template"]["metadata"]["labels"][k] = v.clone();
            }
            obj["spec"]["selector"] = json!({"matchLabels": {CONTROLLER_UID: uid}});
        }
        Ok(())
    }

    fn validate(&self, _rt: &Runtime, obj: &Value) -> Result<ErrorList, Status> {
        Ok(validate(&job(obj)?))
    }

    fn validate_update(
        &self,
        _rt: &Runtime,
        new: &Value,
        old: &Value,
    ) -> Result<ErrorList, Status> {
        let mut errs = validate(&job(new)?);
        if new.pointer("/spec/template") != old.pointer("/spec/template") {
            errs.push(FieldError::invalid(
                &Path::new("spec").child("template"),
                BadValue::Omit,
                "field is immutable",
            ));
        }
        Ok(errs)
    }

    fn status_subresource(&self) -> bool {
        true
    }
}

fn job(v: &Value) -> Result<Job, Status> {
    serde_json::from_value(v.clone())
        .map_err(|e| Status::internal(format!("Job does not decode: {e}")))
}

impl Kind for JobKind {
    fn info(&self) -> &'static ResourceInfo {
        &JOB
    }

    fn decode(&self, v: &Value) -> Result<(Value, Vec<String>), String> {
        let (mut job, unknown): (Job, _) = decode::typed(v)?;
        let spec = job.spec.get_or_insert_with(Default::default);
        let completions_unset = spec.completions.is_none() && spec.parallelism.is_none();
        if completions_unset {
            spec.completions = Some(1);
        }
        spec.parallelism.get_or_insert(1);
        spec.backoff_limit.get_or_insert(6);
        spec.completion_mode
            .get_or_insert_with(|| "NonIndexed".into());
        spec.suspend.get_or_insert(false);
        spec.manual_selector.get_or_insert(false);
        spec.pod_replacement_policy
            .get_or_insert_with(|| "TerminatingOrFailed".into());
        default_template(&mut spec.template);
        Ok((
            serde_json::to_value(job).map_err(|e| e.to_string())?,
            unknown,
        ))
    }

    fn columns(&self) -> Vec<Column> {
        vec![
            Column::name_column(),
            Column::new("Status", "Status of the job."),
            Column::new("Completions", "The desired number of successfully finished pods the job should be run with."),
            Column::new("Duration", "Time required to complete the job."),
            Column::new("Age", table::AGE_DESCRIPTION),
            Column::new("Containers", "Names of each container in the template.").wide(),
            Column::new("Images", "Images referenced by each container in the template.").wide(),
            Column::new("Selector", "A label query over pods that should match the pod count. Normally, the system sets this field for you. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors").wide(),
        ]
    }

    fn row(&self, obj: &Value, _wide: bool, now: jiff::Timestamp) -> Vec<Value> {
        let i = |p: &str| obj.pointer(p).and_then(Value::as_i64).unwrap_or(0);
        let cond = |ty: &str| {
            obj.pointer("/status/conditions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .any(|c| c["type"] == ty && c["status"] == "True")
        };
        let status = if cond("Complete") {
            "Complete"
        } else if cond("Failed") {
            "Failed"
        } else if cond("Suspended") {
            "Suspended"
        } else if cond("FailureTarget") {
            "FailureTarget"
        } else if cond("SuccessCriteriaMet") {
            "SuccessCriteriaMet"
        } else {
            "Running"
        };
        let completions = match obj.pointer("/spec/completions").and_then(Value::as_i64) {
            Some(c) => format!("{}/{c}", i("/status/succeeded")),
            None => {
                let p = i("/spec/parallelism");
                format!("{}/1 of {p}", i("/status/succeeded"))
            }
        };
        let ts = |p: &str| {
            obj.pointer(p)
                .and_then(Value::as_str)
                .and_then(|s| s.parse::<jiff::Timestamp>().ok())
        };
        let duration = match (ts("/status/startTime"), ts("/status/completionTime")) {
            (Some(s), Some(c)) => table::human_duration(c.as_second() - s.as_second()),
            (Some(s), None) => table::human_duration(now.as_second() - s.as_second()),
            _ => String::new(),
        };
        let (names, images) = containers_images(obj);
        let selector: Vec<String> = obj
            .pointer("/spec/selector/matchLabels")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                    .collect()
            })
            .unwrap_or_default();
        vec![
            json!(name_of(obj)),
            json!(status),
            json!(completions),
            json!(duration),
            json!(table::age(
                obj.pointer("/metadata/creationTimestamp")
                    .and_then(Value::as_str),
                now
            )),
            json!(names),
            json!(images),
            json!(selector.join(",")),
        ]
    }
}

pub static CRON_JOB: ResourceInfo = ResourceInfo {
    group: "batch",
    version: "v1",
    plural: "cronjobs",
    singular: "cronjob",
    kind: "CronJob",
    namespaced: true,
    short_names: &["cj"],
    categories: &["all"],
    verbs: ALL_VERBS,
    storage: "cronjobs",
    scale: false,
};

/// CronJobs (`pkg/registry/batch/cronjob`): v1 defaults, `ValidateCronJobCreate`/`Update`
/// ([`twinstack_kube::cronjob::validate`] plus the Job template's pod rules), status kept
/// apart (the CronJob controller writes it).
pub struct CronJobKind;

fn cron_job(v: &Value) -> Result<k8s_openapi::api::batch::v1::CronJob, Status> {
    super::typed(v, "CronJob")
}

/// The Job template's pod spec, as `ValidateJobTemplateSpec` checks it.
fn validate_job_template(cj: &k8s_openapi::api::batch::v1::CronJob) -> ErrorList {
    let mut errs = ErrorList::new();
    let tpath = Path::new("spec")
        .child("jobTemplate")
        .child("spec")
        .child("template")
        .child("spec");
    let default_spec = Default::default();
    let pspec = cj
        .spec
        .as_ref()
        .and_then(|s| s.job_template.spec.as_ref())
        .and_then(|s| s.template.spec.as_ref())
        .unwrap_or(&default_spec);
    errs.extend(kpod::validate_spec(pspec, &tpath));
    let rp = pspec.restart_policy.as_deref().unwrap_or("");
    if rp != "OnFailure" && rp != "Never" {
        errs.push(FieldError::not_supported(
            &tpath.child("restartPolicy"),
            BadValue::str(rp),
            &["OnFailure", "Never"],
        ));
    }
    errs
}

impl Strategy for CronJobKind {
    fn validate(&self, _rt: &Runtime, obj: &Value) -> Result<ErrorList, Status> {
        let cj = cron_job(obj)?;
        let mut errs = twinstack_kube::cronjob::validate(&cj);
        errs.extend(validate_job_template(&cj));
        Ok(errs)
    }

    /// `ValidateCronJobUpdate`: a schedule that already had `TZ=` may keep it.
    fn validate_update(
        &self,
        _rt: &Runtime,
        new: &Value,
        old: &Value,
    ) -> Result<ErrorList, Status> {
        let cj = cron_job(new)?;
        let mut errs = twinstack_kube::cronjob::validate(&cj);
        let old_tz = old
            .pointer("/spec/schedule")
            .and_then(Value::as_str)
            .is_some_and(|s| s.contains("TZ"));
        if old_tz {
            errs.retain(|e| !e.to_string().contains("cannot use TZ or CRON_TZ"));
        }
        errs.extend(validate_job_template(&cj));
        Ok(errs)
    }

    fn status_subresource(&self) -> bool {
        true
    }
}

impl Kind for CronJobKind {
    fn info(&self) -> &'static ResourceInfo {
        &CRON_JOB
    }

    fn decode(&self, v: &Value) -> Result<(Value, Vec<String>), String> {
        let (mut cj, unknown): (k8s_openapi::api::batch::v1::CronJob, _) = decode::typed(v)?;
        twinstack_kube::cronjob::set_defaults(&mut cj);
        if let Some(js) = cj.spec.as_mut().and_then(|s| s.job_template.spec.as_mut()) {
            default_template(&mut js.template);
        }
        Ok((
            serde_json::to_value(cj).map_err(|e| e.to_string())?,
            unknown,
        ))
    }

    /// `cronJobColumnDefinitions`.
    fn columns(&self) -> Vec<Column> {
        let mut suspend = Column::new("Suspend", "This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.  Defaults to false.");
        suspend.ty = "boolean";
        let mut active = Column::new("Active", "A list of pointers to currently running jobs.");
        active.ty = "integer";
        vec![
            Column::name_column(),
            Column::new("Schedule", "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron."),
            Column::new("Timezone", "The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones. If not specified, this will default to the time zone of the kube-controller-manager process."),
            suspend,
            active,
            Column::new("Last Schedule", "Information when was the last time the job was successfully scheduled."),
            Column::new("Age", table::AGE_DESCRIPTION),
            Column::new("Containers", "Names of each container in the template.").wide(),
            Column::new("Images", "Images referenced by each container in the template.").wide(),
            Column::new("Selector", "A label query over pods that should match the pod count. Normally, the system sets this field for you. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors").wide(),
        ]
    }

    /// `printCronJob`.
    fn row(&self, obj: &Value, _wide: bool, now: jiff::Timestamp) -> Vec<Value> {
        let s = |p: &str| obj.pointer(p).and_then(Value::as_str);
        let suspend = match obj.pointer("/spec/suspend").and_then(Value::as_bool) {
            Some(true) => "True",
            Some(false) => "False",
            None => "<unset>",
        };
        let active = obj
            .pointer("/status/active")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        let last = s("/status/lastScheduleTime")
            .map_or_else(|| "<none>".to_string(), |t| table::age(Some(t), now));
        let template = obj
            .pointer("/spec/jobTemplate")
            .cloned()
            .unwrap_or_default();
        let (names, images) = containers_images(&template);
        let selector: Vec<String> = template
            .pointer("/spec/selector/matchLabels")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                    .collect()
            })
            .unwrap_or_default();
        vec![
            json!(name_of(obj)),
            json!(s("/spec/schedule").unwrap_or("")),
            json!(s("/spec/timeZone").unwrap_or("<none>")),
            json!(suspend),
            json!(active),
            json!(last),
            json!(table::age(s("/metadata/creationTimestamp"), now)),
            json!(names),
            json!(images),
            json!(if selector.is_empty() {
                "<none>".to_string()
            } else {
                selector.join(",")
            }),
        ]
    }
}
