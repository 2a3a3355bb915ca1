use super::*;
use proptest::prelude::*;
use serde_json::{json, Value};

fn now() -> jiff::Timestamp {
    "2026-01-01T01:00:00Z".parse().unwrap()
}

#[test]
fn pod_rows() {
    let running = json!({"metadata":{"name":"web-1","creationTimestamp":"2026-01-01T00:00:00Z"},
        "spec":{"nodeName":"n1","containers":[{"name":"a"},{"name":"b"}]},
        "status":{"phase":"Running","podIPs":[{"ip":"2a05:d014::2"},{"ip":"10.96.0.2"}],
          "conditions":[{"type":"Ready","status":"True"}],
          "containerStatuses":[
            {"name":"a","ready":true,"restartCount":2,"state":{"running":{}},"lastState":{"terminated":{"finishedAt":"2026-01-01T00:55:00Z"}}},
            {"name":"b","ready":true,"restartCount":0,"state":{"running":{}}}]}});
    assert_eq!(
        pod_row(&running, true, now()),
        vec![
            json!("web-1"),
            json!("2/2"),
            json!("Running"),
            json!("2 (5m ago)"),
            json!("60m"),
            json!("2a05:d014::2"),
            json!("n1"),
            json!("<none>"),
            json!("<none>")
        ]
    );
    let creating = json!({"metadata":{"name":"p"},"spec":{"containers":[{"name":"a"}]},
        "status":{"phase":"Pending","containerStatuses":[{"name":"a","ready":false,"state":{"waiting":{"reason":"ContainerCreating"}}}]}});
    assert_eq!(
        pod_row(&creating, false, now()),
        vec![
            json!("p"),
            json!("0/1"),
            json!("ContainerCreating"),
            json!("0"),
            json!("<unknown>")
        ]
    );
    let pending = json!({"metadata":{"name":"p"},"spec":{"containers":[{"name":"a"}],"readinessGates":[{"conditionType":"x"}]},"status":{"phase":"Pending"}});
    let row = pod_row(&pending, true, now());
    assert_eq!(row[2], json!("Pending"));
    assert_eq!(row[5], json!("<none>"));
    assert_eq!(row[8], json!("0/1"));
    let mut terminating = running.clone();
    terminating["metadata"]["deletionTimestamp"] = json!("2026-01-01T01:00:30Z");
    assert_eq!(pod_row(&terminating, false, now())[2], json!("Terminating"));
    let done = json!({"metadata":{"name":"j"},"spec":{"containers":[{"name":"a"}]},
        "status":{"phase":"Succeeded","containerStatuses":[{"name":"a","state":{"terminated":{"reason":"Completed","exitCode":0}}}]}});
    assert_eq!(
        pod_row(&done, false, now())[1..3],
        [json!("0/1"), json!("Completed")]
    );
    let init = json!({"metadata":{"name":"i"},"spec":{"initContainers":[{"name":"i1"},{"name":"i2"}],"containers":[{"name":"a"}]},
        "status":{"phase":"Pending","initContainerStatuses":[
            {"name":"i1","state":{"terminated":{"exitCode":0}}},{"name":"i2","state":{"running":{}}}]}});
    assert_eq!(pod_row(&init, false, now())[2], json!("Init:1/2"));
    let crash = json!({"metadata":{"name":"c"},"spec":{"containers":[{"name":"a"}]},
        "status":{"phase":"Running","containerStatuses":[{"name":"a","restartCount":3,"state":{"waiting":{"reason":"CrashLoopBackOff"}}}]}});
    assert_eq!(
        pod_row(&crash, false, now())[2..4],
        [json!("CrashLoopBackOff"), json!("3")]
    );
}

#[test]
fn node_rows() {
    let node = json!({"metadata":{"name":"ip-10-250-0-10.eu-central-1.compute.internal","creationTimestamp":"2025-12-31T01:00:00Z",
          "labels":{"node.kubernetes.io/role":"node","node-role.kubernetes.io/worker":"","kubernetes.io/role":"edge"}},
        "spec":{"unschedulable":true},
        "status":{"conditions":[{"type":"MemoryPressure","status":"False"},{"type":"Ready","status":"True"}],
          "addresses":[{"type":"InternalIP","address":"10.250.0.10"},{"type":"InternalIP","address":"2a05:d014::10"},{"type":"Hostname","address":"h"}],
          "nodeInfo":{"kubeletVersion":"v1.32.4","osImage":"Garden Linux 1592.9","kernelVersion":"6.6","containerRuntimeVersion":"containerd://1.7.24"}}});
    assert_eq!(
        node_row(&node, true, now()),
        vec![
            json!("ip-10-250-0-10.eu-central-1.compute.internal"),
            json!("Ready,SchedulingDisabled"),
            json!("edge,worker"),
            json!("24h"),
            json!("v1.32.4"),
            json!("10.250.0.10"),
            json!("<none>"),
            json!("Garden Linux 1592.9"),
            json!("6.6"),
            json!("containerd://1.7.24")
        ]
    );
    let bare = json!({"metadata":{"name":"n"}});
    assert_eq!(
        node_row(&bare, true, now()),
        vec![
            json!("n"),
            json!("Unknown"),
            json!("<none>"),
            json!("<unknown>"),
            json!(""),
            json!("<none>"),
            json!("<none>"),
            json!("<unknown>"),
            json!("<unknown>"),
            json!("<unknown>")
        ]
    );
    let cols: Vec<&str> = node_columns().iter().map(|c| c.name).collect();
    assert_eq!(
        cols,
        [
            "Name",
            "Status",
            "Roles",
            "Age",
            "Version",
            "Internal-IP",
            "External-IP",
            "OS-Image",
            "Kernel-Version",
            "Container-Runtime"
        ]
    );
}

#[test]
fn endpointslice_and_endpoints_rows() {
    let slice = json!({"metadata":{"name":"web-abcde"},"addressType":"IPv6",
        "ports":[{"port":80},{"name":"dns"},{}, {"port":9}],
        "endpoints":[{"addresses":["fd00::1"]},{"addresses":["fd00::2"]},{"addresses":["fd00::3"]},{"addresses":["fd00::4"]}]});
    assert_eq!(
        endpointslice_row(&slice, false, now()),
        vec![
            json!("web-abcde"),
            json!("IPv6"),
            json!("80,dns,* + 1 more..."),
            json!("fd00::1,fd00::2,fd00::3 + 1 more..."),
            json!("<unknown>")
        ]
    );
    let placeholder =
        json!({"metadata":{"name":"web-xyz12"},"addressType":"IPv4","ports":[],"endpoints":[]});
    assert_eq!(
        endpointslice_row(&placeholder, false, now())[2..4],
        [json!("<unset>"), json!("<unset>")]
    );
    let ep = json!({"metadata":{"name":"web"},"subsets":[{"addresses":[{"ip":"fd00::1"},{"ip":"fd00::2"}],"ports":[{"port":80},{"port":443}]}]});
    assert_eq!(
        endpoints_row(&ep, false, now())[1],
        json!("[fd00::1]:80,[fd00::2]:80,[fd00::1]:443 + 1 more...")
    );
    let none = json!({"metadata":{"name":"web"}});
    assert_eq!(endpoints_row(&none, false, now())[1], json!("<none>"));
    let headless = json!({"subsets":[{"addresses":[{"ip":"10.96.0.2"}]}]});
    assert_eq!(format_endpoints(&headless), "10.96.0.2");
}

#[test]
fn event_rows() {
    let legacy = json!({"metadata":{"name":"web-1.18a2b"},"involvedObject":{"kind":"Pod","name":"web-1","fieldPath":"spec.containers{web}"},
        "reason":"Pulled","message":"Container image \"nginx\" already present on machine\n","type":"Normal",
        "source":{"component":"kubelet","host":"n1"},"firstTimestamp":"2026-01-01T00:58:00Z","lastTimestamp":"2026-01-01T00:59:00Z","count":2});
    assert_eq!(
        event_row(&legacy, true, now()),
        vec![
            json!("60s"),
            json!("Normal"),
            json!("Pulled"),
            json!("pod/web-1"),
            json!("spec.containers{web}"),
            json!("kubelet, n1"),
            json!("Container image \"nginx\" already present on machine"),
            json!("2m"),
            json!(2),
            json!("web-1.18a2b")
        ]
    );
    let v1 = json!({"metadata":{"name":"web-1.18a2c"},"involvedObject":{"kind":"Pod","name":"web-1"},"reason":"Scheduled",
        "message":"Successfully assigned default/web-1 to n1","type":"Normal","source":{},
        "eventTime":"2026-01-01T00:59:30.123456Z","reportingComponent":"default-scheduler","reportingInstance":"default-scheduler-x"});
    assert_eq!(
        event_row(&v1, true, now()),
        vec![
            json!("30s"),
            json!("Normal"),
            json!("Scheduled"),
            json!("pod/web-1"),
            json!(""),
            json!("default-scheduler, default-scheduler-x"),
            json!("Successfully assigned default/web-1 to n1"),
            json!("30s"),
            json!(1),
            json!("web-1.18a2c")
        ]
    );
    assert_eq!(event_row(&v1, false, now()).len(), 5);
    let cols: Vec<(&str, i32)> = event_columns()
        .iter()
        .map(|c| (c.name, c.priority))
        .collect();
    assert_eq!(
        cols,
        [
            ("Last Seen", 0),
            ("Type", 0),
            ("Reason", 0),
            ("Object", 0),
            ("Subobject", 1),
            ("Source", 1),
            ("Message", 0),
            ("First Seen", 1),
            ("Count", 1),
            ("Name", 1)
        ]
    );
}

#[test]
fn configmap_and_secret_rows() {
    let cm = json!({"metadata":{"name":"kube-root-ca.crt","creationTimestamp":"2026-01-01T00:59:55Z"},"data":{"ca.crt":"x"},"binaryData":{"b":"AA=="}});
    assert_eq!(
        configmap_row(&cm, false, now()),
        vec![json!("kube-root-ca.crt"), json!(2), json!("5s")]
    );
    let sec = json!({"metadata":{"name":"s"},"type":"Opaque","data":{"a":"","b":""}});
    assert_eq!(
        secret_row(&sec, false, now()),
        vec![json!("s"), json!("Opaque"), json!(2), json!("<unknown>")]
    );
    assert_eq!(configmap_columns().len(), 3);
    assert_eq!(secret_columns().len(), 4);
}

#[test]
fn selectable_fields() {
    let pod = json!({"metadata":{"name":"p","namespace":"default"},"spec":{"nodeName":"n1"},
        "status":{"phase":"Running","podIP":"10.96.0.2","podIPs":[{"ip":"10.96.0.2"},{"ip":"fd00::2"}]}});
    assert_eq!(
        selectable_field("pods", &pod, "spec.nodeName").as_deref(),
        Some("n1")
    );
    assert_eq!(
        selectable_field("pods", &pod, "status.phase").as_deref(),
        Some("Running")
    );
    assert_eq!(
        selectable_field("pods", &pod, "status.podIP").as_deref(),
        Some("10.96.0.2")
    );
    assert_eq!(
        selectable_field("pods", &pod, "spec.hostNetwork").as_deref(),
        Some("false")
    );
    assert_eq!(selectable_field("pods", &pod, "spec.bogus"), None);
    let ev = json!({"involvedObject":{"uid":"u1","kind":"Pod"},"source":{"component":"kubelet"}});
    assert_eq!(
        selectable_field("events", &ev, "involvedObject.uid").as_deref(),
        Some("u1")
    );
    assert_eq!(
        selectable_field("events", &ev, "source").as_deref(),
        Some("kubelet")
    );
    assert_eq!(
        labels_text(&json!({"metadata":{"labels":{"b":"2","a":"1"}}})),
        "a=1,b=2"
    );
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        prop_oneof![
            Just("2026-01-01T00:00:00Z".to_string()),
            Just("Ready".to_string()),
            Just("True".to_string()),
            Just("Always".to_string()),
            "[a-zA-Z0-9:.-]{0,12}"
        ]
        .prop_map(Value::from),
    ];
    let keys = prop_oneof![
        Just("metadata"),
        Just("spec"),
        Just("status"),
        Just("name"),
        Just("containers"),
        Just("initContainers"),
        Just("containerStatuses"),
        Just("initContainerStatuses"),
        Just("state"),
        Just("terminated"),
        Just("waiting"),
        Just("running"),
        Just("lastState"),
        Just("reason"),
        Just("conditions"),
        Just("type"),
        Just("addresses"),
        Just("endpoints"),
        Just("ports"),
        Just("port"),
        Just("subsets"),
        Just("podIPs"),
        Just("labels"),
        Just("data"),
        Just("series"),
        Just("count"),
        Just("deletionTimestamp"),
        Just("restartPolicy"),
        Just("restartCount"),
        Just("exitCode"),
        Just("signal"),
        Just("readinessGates"),
        Just("creationTimestamp"),
        Just("involvedObject"),
        Just("source"),
        Just("nodeInfo")
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::vec((keys.clone(), inner), 0..6).prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

proptest! {
    #[test]
    fn printers_never_panic(obj in arb_json(), wide in any::<bool>()) {
        let rows = [
            pod_row(&obj, wide, now()),
            node_row(&obj, wide, now()),
            endpointslice_row(&obj, wide, now()),
            endpoints_row(&obj, wide, now()),
            event_row(&obj, wide, now()),
            configmap_row(&obj, wide, now()),
            secret_row(&obj, wide, now()),
        ];
        let cols = [
            pod_columns(), node_columns(), endpointslice_columns(), endpoints_columns(),
            event_columns(), configmap_columns(), secret_columns(),
        ];
        for (row, cols) in rows.iter().zip(cols.iter()) {
            let expected = cols.iter().filter(|c| wide || c.priority == 0).count();
            prop_assert_eq!(row.len(), expected);
        }
        for f in ["spec.nodeName", "status.podIP", "involvedObject.uid", "type"] {
            let _ = selectable_field("pods", &obj, f);
            let _ = selectable_field("events", &obj, f);
        }
    }
}
