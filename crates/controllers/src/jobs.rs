//! The Job controller: up to `parallelism` active pods until `completions` pods succeeded,
//! then the `SuccessCriteriaMet` and `Complete` conditions (reason `CompletionsReached`) and
//! `completionTime`. The emulated kubelet finishes a Job's pods (containers exit 0) shortly
//! after they start (`kubelet::JOB_POD_RUN`). Pods carry no `batch.kubernetes.io/job-tracking`
//! finalizer (a choice: counting is recomputed from the pods at every pass).

use super::{controller_uid, int, is_ready, meta, Ctl, World};
use serde_json::{json, Value};
use std::collections::BTreeMap;

fn phase(p: &Value) -> &str {
    p.pointer("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn has_condition(job: &Value, ty: &str) -> bool {
    job.pointer("/status/conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|c| c["type"] == ty && c["status"] == "True")
}

async fn event(ctl: &Ctl, job: &Value, reason: &str, msg: &str) {
    ctl.controller_event(job, "batch/v1", "Job", "job-controller", reason, msg)
        .await;
}

pub async fn sync(ctl: &Ctl, w: &World) {
    let mut owned: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
    for p in &w.pods {
        if let Some(uid) = controller_uid(p) {
            owned.entry(uid).or_default().push(p);
        }
    }
    let now = twinstack_registry::registry::now_rfc3339();
    for job in &w.jobs {
        if job.pointer("/metadata/deletionTimestamp").is_some()
            || has_condition(job, "Complete")
            || has_condition(job, "Failed")
        {
            continue;
        }
        let ns = meta(job, "namespace");
        let pods = owned.get(meta(job, "uid")).cloned().unwrap_or_default();
        let active: Vec<&&Value> = pods
            .iter()
            .filter(|p| {
                p.pointer("/metadata/deletionTimestamp").is_none()
                    && !matches!(phase(p), "Succeeded" | "Failed")
            })
            .collect();
        let succeeded = pods.iter().filter(|p| phase(p) == "Succeeded").count() as i64;
        let failed = pods.iter().filter(|p| phase(p) == "Failed").count() as i64;
        let parallelism = int(job, "/spec/parallelism");
        let completions = job.pointer("/spec/completions").and_then(Value::as_i64);
        let suspended = job.pointer("/spec/suspend") == Some(&json!(true));
        let done = match completions {
            Some(c) => succeeded >= c,
            None => succeeded > 0 && active.is_empty(),
        };
        let want_active = if done || suspended {
            0
        } else {
            match completions {
                Some(c) => parallelism.min(c - succeeded),
                None => {
                    if succeeded > 0 {
                        active.len() as i64
                    } else {
                        parallelism
                    }
                }
            }
        };
        let template = job.pointer("/spec/template").cloned().unwrap_or(json!({}));
        for _ in 0..(want_active - active.len() as i64).max(0) {
            let pod = json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {
                    "generateName": format!("{}-", meta(job, "name")),
                    "namespace": ns,
                    "labels": template.pointer("/metadata/labels").cloned().unwrap_or(json!({})),
                    "annotations": template.pointer("/metadata/annotations").cloned().unwrap_or(json!({})),
                    "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": meta(job, "name"),
                        "uid": meta(job, "uid"), "controller": true, "blockOwnerDeletion": true}],
                },
                "spec": template.get("spec").cloned().unwrap_or(json!({})),
            });
            match ctl.create("", "pods", Some(ns), pod).await {
                Ok(p) => {
                    event(
                        ctl,
                        job,
                        "SuccessfulCreate",
                        &format!("Created pod: {}", meta(&p, "name")),
                    )
                    .await
                }
                Err(_) => break,
            }
        }
        let ready = active.iter().filter(|p| is_ready(p)).count();
        let mut status = job.get("status").cloned().unwrap_or(json!({}));
        if !status.is_object() {
            status = json!({});
        }
        if status.get("startTime").is_none() && !suspended {
            status["startTime"] = json!(now);
        }
        let o = status.as_object_mut().unwrap();
        for (k, v) in [
            ("active", active.len() as i64),
            ("succeeded", succeeded),
            ("failed", failed),
        ] {
            if v > 0 {
                o.insert(k.into(), json!(v));
            } else {
                o.remove(k);
            }
        }
        o.insert("ready".into(), json!(ready));
        o.insert("terminating".into(), json!(0));
        o.insert("uncountedTerminatedPods".into(), json!({}));
        if done && active.is_empty() {
            let msg = "Reached expected number of succeeded pods";
            o.insert(
                "conditions".into(),
                json!([
                    {"type": "SuccessCriteriaMet", "status": "True", "reason": "CompletionsReached",
                     "message": msg, "lastProbeTime": now, "lastTransitionTime": now},
                    {"type": "Complete", "status": "True", "reason": "CompletionsReached",
                     "message": msg, "lastProbeTime": now, "lastTransitionTime": now},
                ]),
            );
            o.insert("completionTime".into(), json!(now));
        }
        if job.get("status") != Some(&status) {
            let mut next = Value::clone(job);
            next["status"] = status;
            if ctl.write("batch", "jobs", next).await && done && active.is_empty() {
                event(ctl, job, "Completed", "Job completed").await;
            }
        }
    }
}
