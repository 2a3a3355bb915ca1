//! Table tests of the CronJob rules: robfig's parser and its messages, `Next`, the most recent
//! due time, validation, and controller passes driven by an explicit clock.

use super::*;
use serde_json::{json, Value};

fn ts(s: &str) -> jiff::Timestamp {
    s.parse().unwrap()
}

#[test]
fn parse_errors_are_robfigs() {
    let cases = [
        ("x", "expected exactly 5 fields, found 1: [x]"),
        ("* * * *", "expected exactly 5 fields, found 4: [* * * *]"),
        ("60 * * * *", "end of range (60) above maximum (59): 60"),
        ("* * 0 * *", "beginning of range (0) below minimum (1): 0"),
        (
            "5-1 * * * *",
            "beginning of range (5) beyond end of range (1): 5-1",
        ),
        (
            "*/0 * * * *",
            "step of range should be a positive number: */0",
        ),
        ("1-2-3 * * * *", "too many hyphens: 1-2-3"),
        ("*/2/3 * * * *", "too many slashes: */2/3"),
        (
            "a * * * *",
            "failed to parse int from a: strconv.Atoi: parsing \"a\": invalid syntax",
        ),
        ("@fortnightly", "unrecognized descriptor: @fortnightly"),
        ("", "empty spec string"),
    ];
    for (spec, want) in cases {
        assert_eq!(schedule::parse(spec), Err(want.to_string()), "{spec}");
    }
    for ok in [
        "*/5 * * * *",
        "0 9 * * mon-fri",
        "@hourly",
        "@every 1h30m",
        "0 0 1 jan *",
    ] {
        assert!(schedule::parse(ok).is_ok(), "{ok}");
    }
}

#[test]
fn next_table() {
    let utc = jiff::tz::TimeZone::UTC;
    let cases = [
        (
            "*/5 * * * *",
            "2026-01-01T00:00:00Z",
            "2026-01-01T00:05:00Z",
        ),
        (
            "*/5 * * * *",
            "2026-01-01T00:04:59Z",
            "2026-01-01T00:05:00Z",
        ),
        ("* * * * *", "2026-01-01T00:00:30Z", "2026-01-01T00:01:00Z"),
        (
            "0 9 * * mon-fri",
            "2026-01-02T10:00:00Z",
            "2026-01-05T09:00:00Z",
        ),
        ("@hourly", "2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z"),
        ("@monthly", "2026-01-15T00:00:00Z", "2026-02-01T00:00:00Z"),
        ("@yearly", "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"),
        // Day of month or day of week when neither is a star: the 13th or any Friday.
        ("0 0 13 * 5", "2026-02-01T00:00:00Z", "2026-02-06T00:00:00Z"),
        ("@every 90s", "2026-01-01T00:00:00Z", "2026-01-01T00:01:30Z"),
    ];
    for (spec, from, want) in cases {
        let s = schedule::parse(spec).unwrap();
        assert_eq!(
            s.next(ts(from), &utc),
            Some(ts(want)),
            "{spec} after {from}"
        );
    }
    // 31 February never comes.
    let never = schedule::parse("0 0 31 2 *").unwrap();
    assert_eq!(never.next(ts("2026-01-01T00:00:00Z"), &utc), None);
    // A time zone moves the hour.
    let berlin = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
    let nine = schedule::parse("0 9 * * *").unwrap();
    assert_eq!(
        nine.next(ts("2026-01-01T00:00:00Z"), &berlin),
        Some(ts("2026-01-01T08:00:00Z"))
    );
}

#[test]
fn next_schedule_table() {
    let utc = jiff::tz::TimeZone::UTC;
    let every5 = schedule::parse("*/5 * * * *").unwrap();
    // (earliest, now, most recent due, missed)
    let cases = [
        ("2026-01-01T00:00:00Z", "2026-01-01T00:04:00Z", None),
        (
            "2026-01-01T00:00:00Z",
            "2026-01-01T00:05:00Z",
            Some(("2026-01-01T00:05:00Z", 1)),
        ),
        (
            "2026-01-01T00:00:00Z",
            "2026-01-01T00:17:00Z",
            Some(("2026-01-01T00:15:00Z", 3)),
        ),
        ("2026-01-01T00:05:00Z", "2026-01-01T00:09:59Z", None),
    ];
    for (earliest, now, want) in cases {
        let got = next_schedule(&every5, &utc, ts(earliest), ts(now));
        assert_eq!(got, want.map(|(t, n)| (ts(t), n)), "{earliest} {now}");
    }
    // Years of missed minutes end at the latest one without walking them all.
    let every1 = schedule::parse("* * * * *").unwrap();
    let (t, missed) = next_schedule(
        &every1,
        &utc,
        ts("2020-01-01T00:00:00Z"),
        ts("2026-01-01T00:00:30Z"),
    )
    .unwrap();
    assert_eq!(t, ts("2026-01-01T00:00:00Z"));
    assert!(missed > 100);
}

fn cron_job(tweak: impl FnOnce(&mut Value)) -> CronJob {
    let mut v = json!({
        "metadata": {"name": "tick", "namespace": "default", "uid": "cj-uid",
            "creationTimestamp": "2026-01-01T00:00:00Z"},
        "spec": {"schedule": "*/5 * * * *",
            "jobTemplate": {"metadata": {"labels": {"app": "tick"}},
                "spec": {"template": {"spec": {"restartPolicy": "Never",
                    "containers": [{"name": "c", "image": "busybox"}]}}}}}
    });
    tweak(&mut v);
    let mut cj: CronJob = serde_json::from_value(v).unwrap();
    set_defaults(&mut cj);
    cj
}

fn msgs(errs: &ErrorList) -> Vec<String> {
    errs.iter().map(|e| e.to_string()).collect()
}

#[test]
fn validation_table() {
    type Tweak = fn(&mut Value);
    let cases: Vec<(&str, Tweak, Vec<&str>)> = vec![
        ("valid", |_| {}, vec![]),
        (
            "bad schedule",
            |v| v["spec"]["schedule"] = json!("x"),
            vec!["spec.schedule: Invalid value: \"x\": expected exactly 5 fields, found 1: [x]"],
        ),
        (
            "no schedule",
            |v| v["spec"]["schedule"] = json!(""),
            vec!["spec.schedule: Required value"],
        ),
        (
            "TZ in schedule",
            |v| v["spec"]["schedule"] = json!("TZ=UTC */5 * * * *"),
            vec!["spec.schedule: Invalid value: \"TZ=UTC */5 * * * *\": cannot use TZ or CRON_TZ in schedule, use timeZone field instead"],
        ),
        (
            "unknown time zone",
            |v| v["spec"]["timeZone"] = json!("Mars/Olympus"),
            vec!["spec.timeZone: Invalid value: \"Mars/Olympus\": unknown time zone Mars/Olympus"],
        ),
        (
            "bad policy",
            |v| v["spec"]["concurrencyPolicy"] = json!("Sometimes"),
            vec!["spec.concurrencyPolicy: Unsupported value: \"Sometimes\": supported values: \"Allow\", \"Forbid\", \"Replace\""],
        ),
        (
            "negative history",
            |v| v["spec"]["failedJobsHistoryLimit"] = json!(-1),
            vec!["spec.failedJobsHistoryLimit: Invalid value: -1: must be greater than or equal to 0"],
        ),
        (
            "long name",
            |v| v["metadata"]["name"] = json!("a".repeat(53)),
            vec!["metadata.name: Invalid value: \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\": must be no more than 52 characters"],
        ),
    ];
    for (name, tweak, want) in cases {
        assert_eq!(msgs(&validate(&cron_job(tweak))), want, "{name}");
    }
}

fn job(name: &str, finished: Option<&str>, created: &str) -> JobSummary {
    JobSummary {
        name: name.into(),
        namespace: "default".into(),
        uid: format!("uid-{name}"),
        resource_version: "1".into(),
        finished: finished.map(String::from),
        completion_time: finished.map(|_| ts(created)),
        created: Some(ts(created)),
    }
}

#[test]
fn plan_creates_the_due_job_named_by_minutes() {
    let cj = cron_job(|_| {});
    let p = plan(&cj, &[], ts("2026-01-01T00:04:00Z"));
    assert_eq!(p.create, None);
    assert_eq!(p.next, Some(ts("2026-01-01T00:05:00Z")));
    let p = plan(&cj, &[], ts("2026-01-01T00:05:10Z"));
    let (j, at) = p.create.clone().unwrap();
    assert_eq!(at, ts("2026-01-01T00:05:00Z"));
    // 2026-01-01T00:05:00Z is 1767225900 s = 29453765 min since the epoch.
    assert_eq!(j.metadata.name.as_deref(), Some("tick-29453765"));
    let v = serde_json::to_value(&j).unwrap();
    assert_eq!(v["metadata"]["labels"], json!({"app": "tick"}));
    assert_eq!(
        v["metadata"]["annotations"][SCHEDULED_TIMESTAMP],
        "2026-01-01T00:05:00Z"
    );
    assert_eq!(v["metadata"]["ownerReferences"][0]["kind"], "CronJob");
    assert_eq!(v["metadata"]["ownerReferences"][0]["controller"], true);
    let mut status = p.status;
    record_created(
        &mut status,
        &job("tick-29453765", None, "2026-01-01T00:05:01Z"),
        at,
    );
    assert_eq!(status.active.as_ref().unwrap().len(), 1);
    assert_eq!(status.last_schedule_time, Some(Time(at)));
}

#[test]
fn plan_table_policies_and_history() {
    let running = job("tick-29453765", None, "2026-01-01T00:05:01Z");
    let with_active = |policy: &'static str| {
        cron_job(move |v| {
            v["spec"]["concurrencyPolicy"] = json!(policy);
            v["status"] = json!({"lastScheduleTime": "2026-01-01T00:05:00Z",
                "active": [{"kind": "Job", "name": "tick-29453765", "namespace": "default", "uid": "uid-tick-29453765"}]});
        })
    };
    let at = ts("2026-01-01T00:10:05Z");
    // (name, cron job, jobs, creates, deletes, event reasons)
    type Case<'a> = (
        &'a str,
        CronJob,
        Vec<JobSummary>,
        bool,
        Vec<&'a str>,
        Vec<&'a str>,
    );
    let cases: Vec<Case> = vec![
        (
            "allow runs beside",
            with_active("Allow"),
            vec![running.clone()],
            true,
            vec![],
            vec![],
        ),
        (
            "forbid waits",
            with_active("Forbid"),
            vec![running.clone()],
            false,
            vec![],
            vec!["JobAlreadyActive"],
        ),
        (
            "replace deletes the running one",
            with_active("Replace"),
            vec![running.clone()],
            true,
            vec!["tick-29453765"],
            vec!["SuccessfulDelete"],
        ),
        (
            "forbid after completion starts the next",
            with_active("Forbid"),
            vec![job(
                "tick-29453765",
                Some("Complete"),
                "2026-01-01T00:06:00Z",
            )],
            true,
            vec![],
            vec!["SawCompletedJob"],
        ),
        (
            "a running job not in active is not adopted",
            cron_job(|v| v["status"] = json!({"lastScheduleTime": "2026-01-01T00:05:00Z"})),
            vec![job("manual", None, "2026-01-01T00:06:00Z")],
            true,
            vec![],
            vec!["UnexpectedJob"],
        ),
        (
            "suspended does nothing",
            cron_job(|v| v["spec"]["suspend"] = json!(true)),
            vec![],
            false,
            vec![],
            vec![],
        ),
        (
            "history keeps three successful",
            cron_job(|v| v["status"] = json!({"lastScheduleTime": "2026-01-01T00:10:00Z"})),
            vec![
                job("tick-1", Some("Complete"), "2026-01-01T00:01:00Z"),
                job("tick-2", Some("Complete"), "2026-01-01T00:02:00Z"),
                job("tick-3", Some("Complete"), "2026-01-01T00:03:00Z"),
                job("tick-4", Some("Complete"), "2026-01-01T00:04:00Z"),
            ],
            false,
            vec!["tick-1"],
            vec!["SuccessfulDelete"],
        ),
    ];
    for (name, cj, jobs, creates, deletes, reasons) in cases {
        let p = plan(&cj, &jobs, at);
        assert_eq!(p.create.is_some(), creates, "{name}");
        assert_eq!(p.delete, deletes, "{name}");
        let got: Vec<&str> = p.events.iter().map(|e| e.reason).collect();
        assert_eq!(got, reasons, "{name}");
    }
    let p = plan(&with_active("Forbid"), &[running], at);
    assert_eq!(
        p.events[0].message,
        "Not starting job because prior execution is running and concurrency policy is Forbid"
    );
}

#[test]
fn plan_respects_starting_deadline() {
    let cj = cron_job(|v| v["spec"]["startingDeadlineSeconds"] = json!(10));
    // Due at 00:05, seen at 00:05:30: too late, and nothing older is within the deadline.
    let p = plan(&cj, &[], ts("2026-01-01T00:05:30Z"));
    assert_eq!(p.create, None);
    let p = plan(&cj, &[], ts("2026-01-01T00:05:05Z"));
    assert!(p.create.is_some());
}
