use super::process::{
    container_argv, on_sigterm, run_time, sleep_duration, split_commands, Command, OnSigterm, Sleep,
};
use super::*;
use proptest::prelude::*;
use serde_json::{json, Value};

fn ms(n: i64) -> SignedDuration {
    SignedDuration::from_millis(n)
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

/// A Running pod with one container `c` built from `container` (name and image filled in).
fn pod_with(container: Value) -> Pod {
    let mut c = json!({"name": "c", "image": "nginx:1.27"});
    for (k, v) in container.as_object().unwrap() {
        c[k] = v.clone();
    }
    serde_json::from_value(json!({
        "metadata": {"name": "p"},
        "spec": {"containers": [c]},
        "status": {"phase": "Running"}
    }))
    .unwrap()
}

fn on_term(container: Value) -> OnSigterm {
    let p = pod_with(container);
    container_on_sigterm(&p, &p.spec.as_ref().unwrap().containers[0])
}

#[test]
fn what_pid1_does_with_sigterm() {
    use OnSigterm::*;
    let cases: &[(&str, Value, OnSigterm)] = &[
        ("nginx image, its entrypoint", json!({}), Exits),
        (
            "unknown image with args",
            json!({"image": "ghcr.io/acme/api:1", "args": ["--port", "80"]}),
            Exits,
        ),
        (
            "sleep as PID 1",
            json!({"command": ["sleep", "3600"]}),
            Ignores,
        ),
        (
            "/bin/sleep as PID 1",
            json!({"command": ["/bin/sleep", "infinity"]}),
            Ignores,
        ),
        (
            "tail -f as PID 1",
            json!({"command": ["tail", "-f", "/dev/null"]}),
            Ignores,
        ),
        (
            "busybox args sleep",
            json!({"image": "busybox", "args": ["sleep", "3600"]}),
            Ignores,
        ),
        (
            "alpine args sleep",
            json!({"image": "docker.io/library/alpine:3.20", "args": ["sleep", "1d"]}),
            Ignores,
        ),
        (
            "e2e busybox image",
            json!({"image": "registry.k8s.io/e2e-test-images/busybox:1.36.1-1", "command": ["sleep", "3600"]}),
            Ignores,
        ),
        (
            "busybox default shell exits",
            json!({"image": "busybox"}),
            Exits,
        ),
        (
            "sh -c one sleep: exec'd",
            json!({"command": ["sh", "-c", "sleep 3600"]}),
            Ignores,
        ),
        (
            "sh -c one program: exec'd",
            json!({"command": ["/bin/sh", "-c", "nginx -g 'daemon off;'"]}),
            Exits,
        ),
        (
            "bash -ec loop, no trap",
            json!({"command": ["bash", "-ec", "while true; do echo hi; sleep 5; done"]}),
            Ignores,
        ),
        (
            "shell stays PID 1 without trap",
            json!({"command": ["sh", "-c", "echo start; nginx"]}),
            Ignores,
        ),
        (
            "script ending in exec",
            json!({"command": ["sh", "-c", "echo start; exec nginx -g 'daemon off;'"]}),
            Exits,
        ),
        (
            "script ending in exec sleep",
            json!({"command": ["sh", "-c", "echo start\nexec sleep 3600"]}),
            Ignores,
        ),
        (
            "trap and wait",
            json!({"command": ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]}),
            Exits,
        ),
        (
            "trap, foreground sleep 1 loop",
            json!({"command": ["sh", "-c", "trap 'exit 0' SIGTERM; while true; do sleep 1; done"]}),
            ExitsAfter(ms(1000)),
        ),
        (
            "trap, foreground long sleep",
            json!({"command": ["sh", "-c", "trap 'exit 0' 15; sleep 20"]}),
            ExitsAfter(ms(20_000)),
        ),
        (
            "trap, sleep infinity",
            json!({"command": ["sh", "-c", "trap 'exit 0' TERM; sleep infinity"]}),
            Ignores,
        ),
        (
            "trap of another signal",
            json!({"command": ["sh", "-c", "trap 'exit 0' INT; sleep 60; echo"]}),
            Ignores,
        ),
        (
            "trap '' TERM ignores",
            json!({"command": ["sh", "-c", "trap '' TERM; echo; nginx"]}),
            Ignores,
        ),
        (
            "tini forwards to a child",
            json!({"command": ["tini", "--", "sleep", "3600"]}),
            Exits,
        ),
        (
            "env wrapper",
            json!({"command": ["env", "A=1", "sleep", "60"]}),
            Ignores,
        ),
        (
            "shell script file",
            json!({"command": ["sh", "/entrypoint.sh"]}),
            Exits,
        ),
    ];
    for (name, c, want) in cases {
        assert_eq!(on_term(c.clone()), *want, "{name}");
    }
}

#[test]
fn shared_process_namespace_makes_pause_pid1() {
    let mut p = pod_with(json!({"command": ["sleep", "3600"]}));
    p.spec.as_mut().unwrap().share_process_namespace = Some(true);
    let c = &p.spec.as_ref().unwrap().containers[0];
    assert_eq!(container_on_sigterm(&p, c), OnSigterm::Exits);
}

#[test]
fn argv_from_command_args_and_image_defaults() {
    type Argv<'a> = Option<&'a [&'a str]>;
    let cases: &[(&str, Argv, Argv, Argv)] = &[
        ("nginx", None, None, None),
        (
            "nginx",
            Some(&["nginx", "-g"]),
            Some(&["x"]),
            Some(&["nginx", "-g", "x"]),
        ),
        ("busybox:1.36", None, None, Some(&["sh"])),
        (
            "busybox",
            None,
            Some(&["sleep", "5"]),
            Some(&["sleep", "5"]),
        ),
        ("python:3.12", None, None, Some(&["python3"])),
        ("busybox@sha256:00", Some(&[]), None, Some(&["sh"])),
    ];
    for (image, cmd, args, want) in cases {
        let cmd = cmd.map(s);
        let args = args.map(s);
        assert_eq!(
            container_argv(image, cmd.as_deref(), args.as_deref()),
            want.map(s),
            "{image} {cmd:?} {args:?}"
        );
    }
}

#[test]
fn sleep_operands_as_gnu_and_busybox_read_them() {
    let cases: &[(&[&str], Sleep)] = &[
        (&["5"], Sleep::For(ms(5000))),
        (&["0.5"], Sleep::For(ms(500))),
        (&["2m"], Sleep::For(ms(120_000))),
        (&["1h", "30s"], Sleep::For(ms(3_630_000))),
        (&["1d"], Sleep::For(ms(86_400_000))),
        (&["infinity"], Sleep::Forever),
        (&["inf"], Sleep::Forever),
        (&["99999999999"], Sleep::Forever),
        (&["$DELAY"], Sleep::Unknown),
        (&["5x"], Sleep::Unknown),
        (&["1e5"], Sleep::Unknown),
        (&["-1"], Sleep::Unknown),
        (&[], Sleep::Unknown),
    ];
    for (ops, want) in cases {
        assert_eq!(sleep_duration(&s(ops)), *want, "{ops:?}");
    }
}

#[test]
fn hook_run_times() {
    let cases: &[(&[&str], Option<SignedDuration>)] = &[
        (&["sleep", "5"], Some(ms(5000))),
        (&["/bin/sh", "-c", "sleep 5"], Some(ms(5000))),
        (
            &["sh", "-c", "nginx -s quit; sleep 3; sleep 2"],
            Some(ms(5000)),
        ),
        (&["sh", "-c", "sleep 100 & echo"], Some(ms(0))),
        (&["sleep", "infinity"], None),
        (&["nginx", "-s", "quit"], Some(ms(0))),
        (&["sleep", "$T"], Some(ms(0))),
    ];
    for (argv, want) in cases {
        assert_eq!(run_time(&s(argv)), *want, "{argv:?}");
    }
}

#[test]
fn scripts_split_into_commands() {
    assert_eq!(
        split_commands("trap 'exit 0' TERM; sleep 10 & wait\necho \"a;b\" && x || y | z"),
        vec![
            Command {
                words: s(&["trap", "exit 0", "TERM"]),
                background: false
            },
            Command {
                words: s(&["sleep", "10"]),
                background: true
            },
            Command {
                words: s(&["wait"]),
                background: false
            },
            Command {
                words: s(&["echo", "a;b"]),
                background: false
            },
            Command {
                words: s(&["x"]),
                background: false
            },
            Command {
                words: s(&["y"]),
                background: false
            },
            Command {
                words: s(&["z"]),
                background: false
            },
        ]
    );
    assert_eq!(split_commands("  ;; \n"), vec![]);
}

/// One row: the container (merged over nginx), the grace period, and when it has exited.
struct Case {
    name: &'static str,
    container: Value,
    grace: i64,
    exits_after: SignedDuration,
    killed: bool,
}

#[test]
fn when_each_container_exits() {
    let cases = [
        Case {
            name: "ordinary container: half a second after SIGTERM",
            container: json!({}),
            grace: 30,
            exits_after: ms(500),
            killed: false,
        },
        Case {
            name: "sleep as PID 1 takes the grace period",
            container: json!({"command": ["sleep", "3600"]}),
            grace: 30,
            exits_after: ms(30_000),
            killed: true,
        },
        Case {
            name: "short grace: still the minimum 2 s before SIGKILL",
            container: json!({"command": ["sleep", "3600"]}),
            grace: 1,
            exits_after: ms(2000),
            killed: true,
        },
        Case {
            name: "preStop sleep 5, then SIGTERM",
            container: json!({"lifecycle": {"preStop": {"exec": {"command": ["sleep", "5"]}}}}),
            grace: 30,
            exits_after: ms(5500),
            killed: false,
        },
        Case {
            name: "preStop sleep action",
            container: json!({"lifecycle": {"preStop": {"sleep": {"seconds": 3}}}}),
            grace: 30,
            exits_after: ms(3500),
            killed: false,
        },
        Case {
            name: "preStop httpGet is quick",
            container: json!({"lifecycle": {"preStop": {"httpGet": {"port": 80}}}}),
            grace: 30,
            exits_after: ms(500),
            killed: false,
        },
        Case {
            name: "preStop outlasting the grace period: 2 s more, then SIGKILL if ignored",
            container: json!({"command": ["sleep", "3600"],
                "lifecycle": {"preStop": {"exec": {"command": ["sleep", "60"]}}}}),
            grace: 10,
            exits_after: ms(12_000),
            killed: true,
        },
        Case {
            name: "preStop then sleep PID 1: the rest of the grace period",
            container: json!({"command": ["sleep", "3600"],
                "lifecycle": {"preStop": {"exec": {"command": ["sleep", "5"]}}}}),
            grace: 30,
            exits_after: ms(30_000),
            killed: true,
        },
        Case {
            name: "trap with a foreground sleep 20 outlasting grace 10",
            container: json!({"command": ["sh", "-c", "trap 'exit' TERM; sleep 20"]}),
            grace: 10,
            exits_after: ms(10_000),
            killed: true,
        },
        Case {
            name: "trap with a foreground sleep 3",
            container: json!({"command": ["sh", "-c", "trap 'exit' TERM; sleep 3"]}),
            grace: 10,
            exits_after: ms(3000),
            killed: false,
        },
    ];
    for c in cases {
        let p = pod_with(c.container.clone());
        let t = termination(&p, c.grace);
        assert_eq!(t.containers.len(), 1, "{}", c.name);
        assert_eq!(t.containers[0].exits_after, c.exits_after, "{}", c.name);
        assert_eq!(t.containers[0].killed, c.killed, "{}", c.name);
        assert_eq!(t.done_after(), c.exits_after, "{}", c.name);
    }
}

#[test]
fn sidecars_stop_after_the_regular_containers_in_reverse_order() {
    let p: Pod = serde_json::from_value(json!({
        "metadata": {"name": "p"},
        "spec": {
            "initContainers": [
                {"name": "init", "image": "busybox", "command": ["true"]},
                {"name": "proxy", "image": "envoy", "restartPolicy": "Always"},
                {"name": "log", "image": "fluent-bit", "restartPolicy": "Always",
                 "lifecycle": {"preStop": {"sleep": {"seconds": 1}}}}
            ],
            "containers": [
                {"name": "app", "image": "app", "lifecycle": {"preStop": {"sleep": {"seconds": 5}}}},
                {"name": "idle", "image": "busybox", "command": ["sleep", "3600"]}
            ]
        },
        "status": {"phase": "Running"}
    }))
    .unwrap();
    let t = termination(&p, 10);
    let by: Vec<(&str, SignedDuration, bool)> = t
        .containers
        .iter()
        .map(|c| (c.name.as_str(), c.exits_after, c.killed))
        .collect();
    assert_eq!(
        by,
        vec![
            ("app", ms(5500), false),
            ("idle", ms(10_000), true),
            // The last sidecar waits for the regular containers (until 10 s: its grace is
            // spent, so it gets the minimum 2 s), then exits on SIGTERM; the first sidecar
            // waits for it, but no longer than its own grace period.
            ("log", ms(10_500), false),
            ("proxy", ms(10_500), false),
        ]
    );
    assert_eq!(t.done_after(), ms(10_500));
}

#[test]
fn a_pod_not_running_stops_at_once() {
    let mut p = pod_with(json!({"command": ["sleep", "3600"]}));
    p.status = Some(serde_json::from_value(json!({"phase": "Pending"})).unwrap());
    assert_eq!(termination(&p, 30).done_after(), SignedDuration::ZERO);
}

#[test]
fn exit_time_counts_from_when_kubelet_saw_the_delete() {
    let mut p = pod_with(json!({"lifecycle": {"preStop": {"exec": {"command": ["sleep", "5"]}}}}));
    // Deleted at 12:00:00.4 with 30 s: deletionTimestamp 12:00:30 (stored to the second).
    p.metadata.deletion_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
        "2026-01-01T12:00:30Z".parse().unwrap(),
    ));
    p.metadata.deletion_grace_period_seconds = Some(30);
    let t = |s: &str| -> jiff::Timestamp { s.parse().unwrap() };
    // Seen at once: from then.
    assert_eq!(
        termination_started(&p, t("2026-01-01T12:00:00.45Z")),
        Some(t("2026-01-01T12:00:00.45Z"))
    );
    assert_eq!(
        containers_exited_at(&p, t("2026-01-01T12:00:00.45Z")),
        Some(t("2026-01-01T12:00:05.95Z"))
    );
    // Seen late (after a restart): no later than a second after the stored second.
    assert_eq!(
        termination_started(&p, t("2026-01-01T12:00:20Z")),
        Some(t("2026-01-01T12:00:01Z"))
    );
    // Not terminating: nothing to wait for.
    assert_eq!(
        containers_exited_at(&pod_with(json!({})), t("2026-01-01T12:00:00Z")),
        None
    );
}

proptest! {
    /// Whatever a container runs, its exit is bounded by the grace period plus kubelet's
    /// minimum window, and classifying it never panics.
    #[test]
    fn exit_is_bounded_by_the_grace_period(
        cmd in proptest::collection::vec("[a-z/ ;&|'\"0-9.$-]{0,12}", 0..5),
        hook in proptest::collection::vec("[a-z/ ;&|'\"0-9.]{0,12}", 0..4),
        grace in 0i64..100,
    ) {
        let p = pod_with(json!({"command": cmd,
            "lifecycle": {"preStop": {"exec": {"command": hook}}}}));
        let t = termination(&p, grace);
        let bound = SignedDuration::from_secs(grace.max(0) + MINIMUM_GRACE_PERIOD_SECONDS);
        prop_assert!(t.done_after() <= bound, "{:?} > {:?}", t.done_after(), bound);
        let argv: Vec<String> = cmd.clone();
        let _ = on_sigterm(Some(&argv), false);
        let _ = run_time(&argv);
    }
}
