//! core/v1 Events as the components record them, and the message texts they use.
//!
//! Two recorders exist upstream and their Events look different through core/v1:
//! - the legacy recorder (client-go `tools/record`, used by kubelet and most
//!   kube-controller-manager controllers): `source: {component, host}`, `firstTimestamp` =
//!   `lastTimestamp` = now, `count: 1`, `reportingComponent`/`reportingInstance` copied from
//!   the source, no `eventTime`;
//! - the events.k8s.io recorder (kube-scheduler): `eventTime` (micro time), `action`,
//!   `reportingComponent: default-scheduler`, `reportingInstance: default-scheduler-<host>`,
//!   empty `source`, no first/last timestamps or count (kubectl prints count 1).
//!
//! Names are `<involved name>.<hex>`: upstream formats `time.Now().UnixNano()` as hex; the
//! caller passes that number (or any unique one) as `name_suffix`. Events of cluster-scoped
//! objects (Nodes) go to the `default` namespace.
//!
//! Message texts (kubelet `pkg/kubelet/images/image_manager.go`,
//! `pkg/kubelet/kuberuntime/kuberuntime_container.go`, scheduler `schedule_one.go`):
//! `Successfully assigned <ns>/<pod> to <node>`, `Pulling image "<image>"`,
//! `Successfully pulled image "<image>" in <pull> (<total> including waiting). Image size:
//! <bytes> bytes.`, `Container image "<image>" already present on machine`,
//! `Created container: <name>`, `Started container <name>`, `Stopping container <name>`.
//! Durations print like Go's `time.Duration.String()` after truncation to milliseconds.

use k8s_openapi::api::core::v1::{Event, EventSource, Node, ObjectReference, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};

/// Who records an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reporter {
    /// Legacy recorder: `component` (e.g. `kubelet`, `endpointslice-controller`,
    /// `service-controller`) and `host` (the node for kubelet, empty for controllers).
    Legacy { component: String, host: String },
    /// events.k8s.io recorder: controller (e.g. `default-scheduler`), instance and action.
    EventsV1 {
        controller: String,
        instance: String,
        action: String,
    },
}

impl Reporter {
    pub fn kubelet(node: &str) -> Reporter {
        Reporter::Legacy {
            component: "kubelet".into(),
            host: node.into(),
        }
    }
    /// kube-scheduler; `action` is `Binding` for Scheduled and `Scheduling` for
    /// FailedScheduling.
    pub fn scheduler(action: &str) -> Reporter {
        Reporter::EventsV1 {
            controller: "default-scheduler".into(),
            instance: "default-scheduler-twinstack".into(),
            action: action.into(),
        }
    }
    pub fn controller(component: &str) -> Reporter {
        Reporter::Legacy {
            component: component.into(),
            host: String::new(),
        }
    }
}

/// A new Event about `involved`. `type_` is `Normal` or `Warning`.
pub fn event_for(
    involved: &ObjectReference,
    reason: &str,
    message: &str,
    type_: &str,
    reporter: &Reporter,
    now: jiff::Timestamp,
    name_suffix: u64,
) -> Event {
    let namespace = involved
        .namespace
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "default".into());
    let mut ev = Event {
        metadata: ObjectMeta {
            name: Some(format!(
                "{}.{:x}",
                involved.name.as_deref().unwrap_or(""),
                name_suffix
            )),
            namespace: Some(namespace),
            ..Default::default()
        },
        involved_object: involved.clone(),
        reason: Some(reason.into()),
        message: Some(message.into()),
        type_: Some(type_.into()),
        ..Default::default()
    };
    match reporter {
        Reporter::Legacy { component, host } => {
            ev.source = Some(EventSource {
                component: Some(component.clone()),
                host: Some(host.clone()).filter(|h| !h.is_empty()),
            });
            ev.first_timestamp = Some(Time(now));
            ev.last_timestamp = Some(Time(now));
            ev.count = Some(1);
            ev.reporting_component = Some(component.clone());
            ev.reporting_instance = Some(host.clone());
        }
        Reporter::EventsV1 {
            controller,
            instance,
            action,
        } => {
            ev.source = Some(EventSource::default());
            ev.event_time = Some(MicroTime(now));
            ev.action = Some(action.clone());
            ev.reporting_component = Some(controller.clone());
            ev.reporting_instance = Some(instance.clone());
        }
    }
    ev
}

/// The legacy recorder's aggregation of an identical event: count + 1, new lastTimestamp.
pub fn repeat(ev: &mut Event, now: jiff::Timestamp) {
    ev.count = Some(ev.count.unwrap_or(1) + 1);
    ev.last_timestamp = Some(Time(now));
}

/// Reference to a pod, or to one of its containers (`fieldPath: spec.containers{name}`), as
/// kubelet builds it (`ref.GetReference` + `GenerateContainerRef`).
pub fn pod_reference(pod: &Pod, container: Option<&str>) -> ObjectReference {
    ObjectReference {
        api_version: Some("v1".into()),
        kind: Some("Pod".into()),
        name: pod.metadata.name.clone(),
        namespace: pod.metadata.namespace.clone(),
        uid: pod.metadata.uid.clone(),
        resource_version: pod.metadata.resource_version.clone(),
        field_path: container.map(|c| format!("spec.containers{{{c}}}")),
    }
}

/// The events a node leaves when it joins, in order: kubelet's `Starting`,
/// `NodeHasSufficientMemory`, `NodeHasNoDiskPressure`, `NodeHasSufficientPID`,
/// `NodeAllocatableEnforced` and `NodeReady` (kubelet refers to its node with the node *name*
/// as UID, which is why `kubectl describe node` queries events twice), then the node
/// controller's `RegisteredNode` against the real UID. Names use `name_suffix`, `+1`, ...
pub fn node_join_events(node: &Node, now: jiff::Timestamp, name_suffix: u64) -> Vec<Event> {
    let name = node.metadata.name.clone().unwrap_or_default();
    let kubelet_ref = ObjectReference {
        kind: Some("Node".into()),
        name: Some(name.clone()),
        uid: Some(name.clone()),
        ..Default::default()
    };
    let status = |c: &str| format!("Node {name} status is now: {c}");
    let kubelet = Reporter::kubelet(&name);
    let mut out: Vec<Event> = [
        ("Starting", "Starting kubelet.".to_string()),
        ("NodeHasSufficientMemory", status("NodeHasSufficientMemory")),
        ("NodeHasNoDiskPressure", status("NodeHasNoDiskPressure")),
        ("NodeHasSufficientPID", status("NodeHasSufficientPID")),
        (
            "NodeAllocatableEnforced",
            "Updated Node Allocatable limit across pods".to_string(),
        ),
        ("NodeReady", status("NodeReady")),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, (reason, msg))| {
        event_for(
            &kubelet_ref,
            reason,
            &msg,
            "Normal",
            &kubelet,
            now,
            name_suffix + i as u64,
        )
    })
    .collect();
    let controller_ref = ObjectReference {
        api_version: Some("v1".into()),
        kind: Some("Node".into()),
        name: Some(name.clone()),
        uid: node.metadata.uid.clone(),
        ..Default::default()
    };
    out.push(event_for(
        &controller_ref,
        "RegisteredNode",
        &format!("Node {name} event: Registered Node {name} in Controller"),
        "Normal",
        &Reporter::controller("node-controller"),
        now,
        name_suffix + out.len() as u64,
    ));
    out
}

pub fn scheduled_message(namespace: &str, pod: &str, node: &str) -> String {
    format!("Successfully assigned {namespace}/{pod} to {node}")
}
pub fn pulling_message(image: &str) -> String {
    format!("Pulling image \"{image}\"")
}
/// `pull_ms` is the pull itself, `total_ms` includes waiting in the pull queue.
pub fn pulled_message(image: &str, pull_ms: u64, total_ms: u64, size_bytes: u64) -> String {
    format!(
        "Successfully pulled image \"{image}\" in {} ({} including waiting). Image size: {size_bytes} bytes.",
        go_duration_ms(pull_ms),
        go_duration_ms(total_ms)
    )
}
pub fn already_present_message(image: &str) -> String {
    format!("Container image \"{image}\" already present on machine")
}
pub fn created_message(container: &str) -> String {
    format!("Created container: {container}")
}
pub fn started_message(container: &str) -> String {
    format!("Started container {container}")
}
pub fn killing_message(container: &str) -> String {
    format!("Stopping container {container}")
}

/// Go's `time.Duration.String()` for a whole number of milliseconds: `0s`, `450ms`, `1.2s`,
/// `1m3.5s`, `1h0m0s`.
pub fn go_duration_ms(ms: u64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let secs = |ms: u64| {
        let s = ms / 1000;
        let frac = ms % 1000;
        if frac == 0 {
            format!("{s}s")
        } else {
            let f = format!("{frac:03}");
            format!("{s}.{}s", f.trim_end_matches('0'))
        }
    };
    let h = ms / 3_600_000;
    let m = (ms / 60_000) % 60;
    let rest = ms % 60_000;
    if h > 0 {
        format!("{h}h{m}m{}", secs(rest))
    } else if m > 0 {
        format!("{m}m{}", secs(rest))
    } else {
        secs(rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> jiff::Timestamp {
        "2026-01-01T00:00:00Z".parse().unwrap()
    }

    fn web() -> Pod {
        serde_json::from_value(json!({"metadata":{"name":"web-1","namespace":"default","uid":"u1","resourceVersion":"7"}})).unwrap()
    }

    #[test]
    fn kubelet_events_use_the_legacy_shape() {
        let ev = event_for(
            &pod_reference(&web(), Some("web")),
            "Pulled",
            &pulled_message("nginx", 1234, 1250, 72955450),
            "Normal",
            &Reporter::kubelet("n1"),
            now(),
            0x188f3a2b4c5d6e7f,
        );
        let v = serde_json::to_value(&ev).unwrap();
        assert_eq!(
            v,
            json!({"apiVersion":"v1","kind":"Event",
                "metadata":{"name":"web-1.188f3a2b4c5d6e7f","namespace":"default"},
                "involvedObject":{"apiVersion":"v1","kind":"Pod","name":"web-1","namespace":"default","uid":"u1","resourceVersion":"7","fieldPath":"spec.containers{web}"},
                "reason":"Pulled",
                "message":"Successfully pulled image \"nginx\" in 1.234s (1.25s including waiting). Image size: 72955450 bytes.",
                "type":"Normal","source":{"component":"kubelet","host":"n1"},
                "firstTimestamp":"2026-01-01T00:00:00Z","lastTimestamp":"2026-01-01T00:00:00Z","count":1,
                "reportingComponent":"kubelet","reportingInstance":"n1"})
        );
        let mut again = ev.clone();
        repeat(&mut again, "2026-01-01T00:01:00Z".parse().unwrap());
        assert_eq!(again.count, Some(2));
    }

    #[test]
    fn scheduler_events_use_events_v1_shape() {
        let ev = event_for(
            &pod_reference(&web(), None),
            "Scheduled",
            &scheduled_message("default", "web-1", "n1"),
            "Normal",
            &Reporter::scheduler("Binding"),
            now(),
            255,
        );
        let v = serde_json::to_value(&ev).unwrap();
        assert_eq!(v["metadata"]["name"], "web-1.ff");
        assert_eq!(v["message"], "Successfully assigned default/web-1 to n1");
        assert_eq!(v["source"], json!({}));
        assert_eq!(v["action"], "Binding");
        assert_eq!(v["reportingComponent"], "default-scheduler");
        assert!(v.get("firstTimestamp").is_none() && v.get("count").is_none());
        assert!(v["eventTime"]
            .as_str()
            .unwrap()
            .starts_with("2026-01-01T00:00:00"));
        // Node events land in "default".
        let node_ref = ObjectReference {
            kind: Some("Node".into()),
            name: Some("n1".into()),
            ..Default::default()
        };
        let ev = event_for(
            &node_ref,
            "NodeReady",
            "Node n1 status is now: NodeReady",
            "Normal",
            &Reporter::controller("node-controller"),
            now(),
            1,
        );
        assert_eq!(ev.metadata.namespace.as_deref(), Some("default"));
        assert_eq!(ev.source.unwrap().host, None);
    }

    #[test]
    fn node_join() {
        let node: Node =
            serde_json::from_value(json!({"metadata":{"name":"n1","uid":"node-uid"}})).unwrap();
        let evs = node_join_events(&node, now(), 16);
        let reasons: Vec<&str> = evs.iter().map(|e| e.reason.as_deref().unwrap()).collect();
        assert_eq!(
            reasons,
            [
                "Starting",
                "NodeHasSufficientMemory",
                "NodeHasNoDiskPressure",
                "NodeHasSufficientPID",
                "NodeAllocatableEnforced",
                "NodeReady",
                "RegisteredNode"
            ]
        );
        assert_eq!(
            evs[1].message.as_deref(),
            Some("Node n1 status is now: NodeHasSufficientMemory")
        );
        assert_eq!(evs[0].involved_object.uid.as_deref(), Some("n1"));
        assert_eq!(evs[6].involved_object.uid.as_deref(), Some("node-uid"));
        assert_eq!(
            evs[6].message.as_deref(),
            Some("Node n1 event: Registered Node n1 in Controller")
        );
        assert_eq!(evs[6].metadata.name.as_deref(), Some("n1.16"));
        assert!(evs
            .iter()
            .all(|e| e.metadata.namespace.as_deref() == Some("default")));
    }

    #[test]
    fn message_texts() {
        assert_eq!(
            pulling_message("nginx:1.27"),
            "Pulling image \"nginx:1.27\""
        );
        assert_eq!(
            already_present_message("nginx"),
            "Container image \"nginx\" already present on machine"
        );
        assert_eq!(created_message("web"), "Created container: web");
        assert_eq!(started_message("web"), "Started container web");
        assert_eq!(killing_message("web"), "Stopping container web");
        for (ms, s) in [
            (0, "0s"),
            (450, "450ms"),
            (1200, "1.2s"),
            (2000, "2s"),
            (63500, "1m3.5s"),
            (3_600_000, "1h0m0s"),
        ] {
            assert_eq!(go_duration_ms(ms), s);
        }
    }
}
