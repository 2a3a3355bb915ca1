//! `printPod`.

use crate::table::{Column, AGE_DESCRIPTION};
use serde_json::{json, Value};

use super::*;

const POD_IP_DESC: &str =
    "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.";
const NODE_NAME_DESC: &str = "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName. Once this field is set, the kubelet for this node becomes responsible for the lifecycle of this pod. This field should not be used to express a desire for the pod to be scheduled on a specific node. https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename";
const NOMINATED_DESC: &str = "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods. This field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to give the resources on this node to a higher priority pod that is created after preemption. As a result, this field may be different than PodSpec.nodeName when the pod is scheduled.";
const GATES_DESC: &str = "If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to \"True\" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates";
pub fn pod_columns() -> Vec<Column> {
    vec![
        Column::name_column(),
        Column::new("Ready", "The aggregate readiness state of this pod for accepting traffic."),
        Column::new("Status", "The aggregate status of the containers in this pod."),
        Column::new("Restarts", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
        Column::new("Age", AGE_DESCRIPTION),
        Column::new("IP", POD_IP_DESC).wide(),
        Column::new("Node", NODE_NAME_DESC).wide(),
        Column::new("Nominated Node", NOMINATED_DESC).wide(),
        Column::new("Readiness Gates", GATES_DESC).wide(),
    ]
}

fn is_restartable_init(c: Option<&Value>) -> bool {
    c.map(|c| s(c, "/restartPolicy") == "Always")
        .unwrap_or(false)
}

/// `printPod`.
pub fn pod_row(pod: &Value, wide: bool, now: jiff::Timestamp) -> Vec<Value> {
    let containers = arr(pod, "/spec/containers");
    let init_specs = arr(pod, "/spec/initContainers");
    let mut total = containers.len();
    let mut ready = 0usize;
    let mut restarts: i64 = 0;
    let mut restartable_restarts: i64 = 0;
    let mut last_restart: Option<jiff::Timestamp> = None;
    let mut last_restartable: Option<jiff::Timestamp> = None;
    let phase = s(pod, "/status/phase");
    let mut reason = phase.to_string();
    if !s(pod, "/status/reason").is_empty() {
        reason = s(pod, "/status/reason").to_string();
    }
    let conditions = arr(pod, "/status/conditions");
    if conditions
        .iter()
        .any(|c| s(c, "/type") == "PodScheduled" && s(c, "/reason") == "SchedulingGated")
    {
        reason = "SchedulingGated".into();
    }
    let init_by_name = |name: &str| init_specs.iter().find(|c| s(c, "/name") == name);
    total += init_specs
        .iter()
        .filter(|c| is_restartable_init(Some(c)))
        .count();
    let later = |cur: Option<jiff::Timestamp>, t: &str| -> Option<jiff::Timestamp> {
        match (cur, ts(t)) {
            (Some(c), Some(n)) if n > c => Some(n),
            (None, Some(n)) => Some(n),
            (c, _) => c,
        }
    };
    let mut initializing = false;
    let init_statuses = arr(pod, "/status/initContainerStatuses");
    for (i, c) in init_statuses.iter().enumerate() {
        restarts += int(c, "/restartCount");
        let finished = s(c, "/lastState/terminated/finishedAt");
        if c.pointer("/lastState/terminated").is_some() {
            last_restart = later(last_restart, finished);
        }
        let restartable = is_restartable_init(init_by_name(s(c, "/name")));
        if restartable {
            restartable_restarts += int(c, "/restartCount");
            if c.pointer("/lastState/terminated").is_some() {
                last_restartable = later(last_restartable, finished);
            }
        }
        let term = c.pointer("/state/terminated");
        let waiting_reason = s(c, "/state/waiting/reason");
        if term.is_some() && int(c, "/state/terminated/exitCode") == 0 {
            continue;
        }
        if restartable && c.pointer("/started").and_then(Value::as_bool) == Some(true) {
            if c.pointer("/ready").and_then(Value::as_bool) == Some(true) {
                ready += 1;
            }
            continue;
        }
        if term.is_some() {
            let r = s(c, "/state/terminated/reason");
            reason = if r.is_empty() {
                let sig = int(c, "/state/terminated/signal");
                if sig != 0 {
                    format!("Init:Signal:{sig}")
                } else {
                    format!("Init:ExitCode:{}", int(c, "/state/terminated/exitCode"))
                }
            } else {
                format!("Init:{r}")
            };
        } else if !waiting_reason.is_empty() && waiting_reason != "PodInitializing" {
            reason = format!("Init:{waiting_reason}");
        } else {
            reason = format!("Init:{}/{}", i, init_specs.len());
        }
        initializing = true;
        break;
    }
    let initialized = conditions
        .iter()
        .any(|c| s(c, "/type") == "Initialized" && s(c, "/status") == "True");
    if !initializing || initialized {
        restarts = restartable_restarts;
        last_restart = last_restartable;
        let mut has_running = false;
        for c in arr(pod, "/status/containerStatuses").iter().rev() {
            restarts += int(c, "/restartCount");
            if c.pointer("/lastState/terminated").is_some() {
                last_restart = later(last_restart, s(c, "/lastState/terminated/finishedAt"));
            }
            let waiting = s(c, "/state/waiting/reason");
            let terminated = c.pointer("/state/terminated").is_some();
            let term_reason = s(c, "/state/terminated/reason");
            if !waiting.is_empty() {
                reason = waiting.to_string();
            } else if terminated && !term_reason.is_empty() {
                reason = term_reason.to_string();
            } else if terminated {
                let sig = int(c, "/state/terminated/signal");
                reason = if sig != 0 {
                    format!("Signal:{sig}")
                } else {
                    format!("ExitCode:{}", int(c, "/state/terminated/exitCode"))
                };
            } else if c.pointer("/ready").and_then(Value::as_bool) == Some(true)
                && c.pointer("/state/running").is_some()
            {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            let pod_ready = conditions
                .iter()
                .any(|c| s(c, "/type") == "Ready" && s(c, "/status") == "True");
            reason = if pod_ready { "Running" } else { "NotReady" }.into();
        }
    }
    let deleting = pod
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null());
    if deleting && s(pod, "/status/reason") == "NodeLost" {
        reason = "Unknown".into();
    } else if deleting && phase != "Succeeded" && phase != "Failed" {
        reason = "Terminating".into();
    }
    let restarts_str = match last_restart {
        Some(t) if restarts != 0 => format!(
            "{restarts} ({} ago)",
            crate::table::human_duration(now.as_second() - t.as_second())
        ),
        _ => restarts.to_string(),
    };
    let mut cells = vec![
        json!(s(pod, "/metadata/name")),
        json!(format!("{ready}/{total}")),
        json!(reason),
        json!(restarts_str),
        json!(creation_age(pod, now)),
    ];
    if wide {
        let ip = arr(pod, "/status/podIPs")
            .first()
            .map(|p| s(p, "/ip"))
            .unwrap_or("");
        let gates = arr(pod, "/spec/readinessGates");
        let gates_cell = if gates.is_empty() {
            "<none>".to_string()
        } else {
            let true_count = gates
                .iter()
                .filter(|g| {
                    conditions
                        .iter()
                        .find(|c| s(c, "/type") == s(g, "/conditionType"))
                        .is_some_and(|c| s(c, "/status") == "True")
                })
                .count();
            format!("{true_count}/{}", gates.len())
        };
        cells.push(json!(none_if_empty(ip)));
        cells.push(json!(none_if_empty(s(pod, "/spec/nodeName"))));
        cells.push(json!(none_if_empty(s(pod, "/status/nominatedNodeName"))));
        cells.push(json!(gates_cell));
    }
    cells
}
