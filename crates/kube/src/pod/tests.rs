use super::*;
use k8s_openapi::api::core::v1::{Node, Pod};
use serde_json::json;
use std::collections::BTreeMap;
use std::net::IpAddr;
use twinstack_core::field::FieldError;

fn pod(v: serde_json::Value) -> Pod {
    serde_json::from_value(v).unwrap()
}

fn web() -> Pod {
    pod(
        json!({"metadata":{"name":"web-1","namespace":"default","uid":"u-1","resourceVersion":"1"},
        "spec":{"containers":[{"name":"web","image":"nginx:1.27","ports":[{"containerPort":80,"name":"http"}]}]}}),
    )
}

fn sa(name: &str) -> k8s_openapi::api::core::v1::ServiceAccount {
    serde_json::from_value(json!({"metadata": {"name": name, "namespace": "default"}})).unwrap()
}

fn msgs(errs: &[FieldError]) -> Vec<String> {
    errs.iter().map(|e| e.to_string()).collect()
}

fn now() -> jiff::Timestamp {
    "2026-01-01T00:00:00Z".parse().unwrap()
}

#[test]
fn defaults_like_set_defaults_pod() {
    let mut p = pod(json!({"metadata":{"name":"a"},"spec":{
        "containers":[
            {"name":"a","image":"nginx","resources":{"limits":{"cpu":"1"}},"ports":[{"containerPort":80}],
             "readinessProbe":{"httpGet":{"port":80}}},
            {"name":"b","image":"nginx:1.27"},
            {"name":"c","image":"nginx@sha256:abc"},
            {"name":"d","image":"localhost:5000/nginx"},
            {"name":"e","image":"nginx:latest"}],
        "volumes":[{"name":"v"},{"name":"s","secret":{"secretName":"x"}}]}}));
    set_defaults(&mut p);
    let v = serde_json::to_value(&p).unwrap();
    let s = &v["spec"];
    assert_eq!(s["dnsPolicy"], "ClusterFirst");
    assert_eq!(s["restartPolicy"], "Always");
    assert_eq!(s["schedulerName"], "default-scheduler");
    assert_eq!(s["terminationGracePeriodSeconds"], 30);
    assert_eq!(s["enableServiceLinks"], true);
    assert_eq!(s["securityContext"], json!({}));
    let pulls: Vec<&str> = s["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["imagePullPolicy"].as_str().unwrap())
        .collect();
    assert_eq!(
        pulls,
        ["Always", "IfNotPresent", "IfNotPresent", "Always", "Always"]
    );
    let c = &s["containers"][0];
    assert_eq!(c["terminationMessagePath"], "/dev/termination-log");
    assert_eq!(c["terminationMessagePolicy"], "File");
    assert_eq!(c["ports"][0]["protocol"], "TCP");
    assert_eq!(c["resources"]["requests"]["cpu"], "1");
    assert_eq!(
        c["readinessProbe"],
        json!({"httpGet":{"path":"/","port":80,"scheme":"HTTP"},"timeoutSeconds":1,"periodSeconds":10,"successThreshold":1,"failureThreshold":3})
    );
    assert_eq!(s["containers"][1]["resources"], json!({}));
    assert_eq!(s["volumes"][0], json!({"name":"v","emptyDir":{}}));
    assert_eq!(s["volumes"][1]["secret"]["defaultMode"], 420);
    // Idempotent.
    let again = {
        let mut q = p.clone();
        set_defaults(&mut q);
        q
    };
    assert_eq!(again, p);
}

#[test]
fn admission_adds_service_account_volume_and_tolerations() {
    let mut p = web();
    set_defaults(&mut p);
    admit_create(&mut p, Some(&sa("default")), "x7k2p").unwrap();
    let v = serde_json::to_value(&p).unwrap();
    let s = &v["spec"];
    assert_eq!(s["serviceAccountName"], "default");
    assert_eq!(s["serviceAccount"], "default");
    assert_eq!(s["priority"], 0);
    assert_eq!(s["preemptionPolicy"], "PreemptLowerPriority");
    assert_eq!(
        s["volumes"][0],
        json!({"name":"kube-api-access-x7k2p","projected":{"defaultMode":420,"sources":[
            {"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}},
            {"configMap":{"name":"kube-root-ca.crt","items":[{"key":"ca.crt","path":"ca.crt"}]}},
            {"downwardAPI":{"items":[{"path":"namespace","fieldRef":{"apiVersion":"v1","fieldPath":"metadata.namespace"}}]}}]}})
    );
    assert_eq!(
        s["containers"][0]["volumeMounts"][0],
        json!({"name":"kube-api-access-x7k2p","mountPath":"/var/run/secrets/kubernetes.io/serviceaccount","readOnly":true})
    );
    assert_eq!(
        s["tolerations"],
        json!([
            {"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300},
            {"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}])
    );
    assert!(
        validate_create(&p).is_empty(),
        "{:?}",
        msgs(&validate_create(&p))
    );

    // automountServiceAccountToken: false and existing tolerations are respected.
    let mut q = pod(
        json!({"metadata":{"name":"q","namespace":"default"},"spec":{
        "automountServiceAccountToken":false,"serviceAccountName":"robot",
        "tolerations":[{"operator":"Exists"}],
        "containers":[{"name":"c","image":"busybox"}]}}),
    );
    set_defaults(&mut q);
    admit_create(&mut q, Some(&sa("robot")), "aaaaa").unwrap();
    let v = serde_json::to_value(&q).unwrap();
    assert!(v["spec"].get("volumes").is_none());
    assert_eq!(v["spec"]["serviceAccount"], "robot");
    assert_eq!(v["spec"]["tolerations"], json!([{"operator":"Exists"}]));
}

#[test]
fn validation_messages_are_upstreams() {
    let cases: Vec<(serde_json::Value, Vec<&str>)> = vec![
        (json!({"containers":[]}), vec!["spec.containers: Required value"]),
        (
            json!({"containers":[{"name":"","image":""}]}),
            vec!["spec.containers[0].name: Required value", "spec.containers[0].image: Required value"],
        ),
        (
            json!({"containers":[{"name":"Web","image":"nginx"}]}),
            vec!["spec.containers[0].name: Invalid value: \"Web\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"],
        ),
        (
            json!({"containers":[{"name":"a","image":"x"},{"name":"a","image":"y"}]}),
            vec!["spec.containers[1].name: Duplicate value: \"a\""],
        ),
        (
            json!({"initContainers":[{"name":"a","image":"x"}],"containers":[{"name":"a","image":"y"}]}),
            vec!["spec.initContainers[0].name: Duplicate value: \"a\""],
        ),
        (
            json!({"containers":[{"name":"a","image":"x","ports":[
                {"containerPort":70000},{"containerPort":80,"protocol":"tcp"},
                {"containerPort":81,"name":"http"},{"containerPort":82,"name":"http"},{"containerPort":83,"name":"Http_1"}]}]}),
            vec![
                "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
                "spec.containers[0].ports[1].protocol: Unsupported value: \"tcp\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
                "spec.containers[0].ports[3].name: Duplicate value: \"http\"",
                "spec.containers[0].ports[4].name: Invalid value: \"Http_1\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
            ],
        ),
        (
            json!({"containers":[{"name":"a","image":"x","ports":[{"containerPort":80,"hostPort":8080}]},
                                 {"name":"b","image":"x","ports":[{"containerPort":81,"hostPort":8080}]}]}),
            vec!["spec.containers[1].ports[0].hostPort: Duplicate value: \"TCP//8080\""],
        ),
        (
            json!({"containers":[{"name":"a","image":"x","env":[{"name":""},{"name":"A=B"},{"name":"1.ok-name"}]}]}),
            vec![
                "spec.containers[0].env[0].name: Required value",
                "spec.containers[0].env[0].name: Invalid value: \"\": environment variable name must be non-empty",
                "spec.containers[0].env[1].name: Invalid value: \"A=B\": a valid environment variable name must consist only of printable ASCII characters other than '='",
            ],
        ),
        (
            json!({"containers":[{"name":"a","image":"x","resources":{"limits":{"cpu":"1"},"requests":{"cpu":"2","memory":"-1","gpu":"1"}}}]}),
            vec![
                "spec.containers[0].resources.requests: Invalid value: \"2\": must be less than or equal to cpu limit of 1",
                "spec.containers[0].resources.requests[gpu]: Invalid value: \"gpu\": must be a standard resource for containers",
                "spec.containers[0].resources.requests[memory]: Invalid value: \"-1\": must be greater than or equal to 0",
            ],
        ),
        (
            json!({"restartPolicy":"Sometimes","dnsPolicy":"Cluster","containers":[{"name":"a","image":"x","imagePullPolicy":"always"}]}),
            vec![
                "spec.containers[0].imagePullPolicy: Unsupported value: \"always\": supported values: \"Always\", \"IfNotPresent\", \"Never\"",
                "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"",
                "spec.dnsPolicy: Unsupported value: \"Cluster\": supported values: \"ClusterFirstWithHostNet\", \"ClusterFirst\", \"Default\", \"None\"",
            ],
        ),
        (
            json!({"volumes":[{"name":"data"},{"name":"data","emptyDir":{}}],"containers":[{"name":"a","image":"x",
                "volumeMounts":[{"name":"cache","mountPath":"/c"},{"name":"data","mountPath":"/c"}]}]}),
            vec![
                "spec.volumes[1].name: Duplicate value: \"data\"",
                "spec.containers[0].volumeMounts[0].name: Not found: \"cache\"",
                "spec.containers[0].volumeMounts[1].mountPath: Invalid value: \"/c\": must be unique",
            ],
        ),
        (
            json!({"volumes":[{"name":"v","secret":{"secretName":"s"},"hostPath":{"path":"/x"},"configMap":{"name":"c"}}],
                "containers":[{"name":"a","image":"x"}]}),
            vec![
                "spec.volumes[0].secret: Forbidden: may not specify more than 1 volume type",
                "spec.volumes[0].configMap: Forbidden: may not specify more than 1 volume type",
            ],
        ),
        (
            json!({"containers":[{"name":"a","image":"x","env":[
                {"name":"IP","valueFrom":{"fieldRef":{"fieldPath":"status.podIPs"}}},
                {"name":"PHASE","valueFrom":{"fieldRef":{"fieldPath":"status.phase"}}},
                {"name":"BAD","valueFrom":{"fieldRef":{"fieldPath":"status.foo"}}},
                {"name":"BOTH","value":"x","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}},
                {"name":"NONE","valueFrom":{}}]}]}),
            vec![
                "spec.containers[0].env[1].valueFrom.fieldRef.fieldPath: Unsupported value: \"status.phase\": supported values: \"metadata.name\", \"metadata.namespace\", \"metadata.uid\", \"spec.nodeName\", \"spec.serviceAccountName\", \"status.hostIP\", \"status.hostIPs\", \"status.podIP\", \"status.podIPs\"",
                "spec.containers[0].env[2].valueFrom.fieldRef.fieldPath: Invalid value: \"status.foo\": error converting fieldPath: field label not supported: status.foo",
                "spec.containers[0].env[3].valueFrom: Invalid value: \"\": may not be specified when `value` is not empty",
                "spec.containers[0].env[4].valueFrom: Invalid value: \"\": must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
            ],
        ),
        (
            json!({"nodeSelector":{"disk/":"ssd"},"containers":[{"name":"a","image":"x"}]}),
            vec!["spec.nodeSelector: Invalid value: \"disk/\": name part must be non-empty", "spec.nodeSelector: Invalid value: \"disk/\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"],
        ),
    ];
    for (spec, want) in cases {
        let mut p = pod(json!({"metadata":{"name":"p","namespace":"default"},"spec":spec}));
        set_defaults(&mut p);
        // Undo the defaults the case wants to see rejected.
        let errs = validate_create(&p);
        assert_eq!(msgs(&errs), want, "spec {spec}");
    }
    // Metadata goes through core's ObjectMeta validation.
    let mut p = web();
    p.metadata.name = Some("Web_1".into());
    set_defaults(&mut p);
    assert!(msgs(&validate_create(&p))[0].starts_with("metadata.name: Invalid value: \"Web_1\""));
}

#[test]
fn updates_may_only_change_images_and_friends() {
    let mut old = web();
    set_defaults(&mut old);
    admit_create(&mut old, Some(&sa("default")), "abcde").unwrap();
    let mut new = old.clone();
    new.spec.as_mut().unwrap().containers[0].image = Some("nginx:1.28".into());
    new.spec.as_mut().unwrap().active_deadline_seconds = Some(60);
    new.spec
        .as_mut()
        .unwrap()
        .tolerations
        .as_mut()
        .unwrap()
        .push(serde_json::from_value(json!({"key":"x","operator":"Exists"})).unwrap());
    assert!(
        validate_update(&new, &old).is_empty(),
        "{:?}",
        msgs(&validate_update(&new, &old))
    );

    let mut bad = old.clone();
    bad.spec.as_mut().unwrap().containers[0].ports = None;
    let errs = validate_update(&bad, &old);
    assert_eq!(errs.len(), 1);
    let text = errs[0].to_string();
    assert!(
        text.starts_with(&format!(
            "spec: Forbidden: {UPDATE_FORBIDDEN}\n  core.PodSpec{{\n"
        )),
        "{text}"
    );
    assert!(text.contains("- \tContainers: [{"), "{text}");
    assert!(text.contains("\t... // "), "{text}");

    let mut lower = new.clone();
    lower.spec.as_mut().unwrap().active_deadline_seconds = Some(120);
    assert_eq!(
        msgs(&validate_update(&lower, &new)),
        ["spec.activeDeadlineSeconds: Invalid value: 120: must be less than or equal to previous value"]
    );
    let mut unset = new.clone();
    unset.spec.as_mut().unwrap().active_deadline_seconds = None;
    assert_eq!(
        msgs(&validate_update(&unset, &new)),
        ["spec.activeDeadlineSeconds: Invalid value: \"null\": must not update from a positive integer to nil value"]
    );
    let mut removed = old.clone();
    removed
        .spec
        .as_mut()
        .unwrap()
        .tolerations
        .as_mut()
        .unwrap()
        .remove(0);
    assert_eq!(
        msgs(&validate_update(&removed, &old))[0],
        "spec.tolerations[0]: Forbidden: existing toleration can not be modified except its tolerationSeconds"
    );
}

fn nodes3() -> Vec<Node> {
    (1..=3)
        .map(|i| {
            serde_json::from_value(json!({"metadata":{"name":format!("n{i}"),
                "labels":{"topology.kubernetes.io/zone":format!("z{i}"),"disk":if i == 2 {"ssd"} else {"hdd"}}},
                "status":{"allocatable":{"pods":"2"}}}))
            .unwrap()
        })
        .collect()
}

#[test]
fn scheduling_spreads_and_explains() {
    let nodes = nodes3();
    let mut load = BTreeMap::new();
    let p = web();
    assert_eq!(schedule(&p, &nodes, &load).unwrap(), "n1");
    load.insert("n1".to_string(), 1);
    assert_eq!(schedule(&p, &nodes, &load).unwrap(), "n2");
    load.insert("n2".to_string(), 1);
    assert_eq!(schedule(&p, &nodes, &load).unwrap(), "n3");

    let mut sel = web();
    sel.spec.as_mut().unwrap().node_selector =
        Some([("disk".to_string(), "nvme".to_string())].into());
    assert_eq!(
        schedule(&sel, &nodes, &load).unwrap_err(),
        "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
    );
    sel.spec.as_mut().unwrap().node_selector =
        Some([("disk".to_string(), "ssd".to_string())].into());
    assert_eq!(schedule(&sel, &nodes, &load).unwrap(), "n2");

    let full: BTreeMap<String, usize> = [("n1", 2), ("n2", 2), ("n3", 2)]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    assert_eq!(
        schedule(&p, &nodes, &full).unwrap_err(),
        "0/3 nodes are available: 3 Too many pods. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."
    );
    let mut tainted = nodes.clone();
    tainted[0].spec = Some(
        serde_json::from_value(
            json!({"taints":[{"key":"node.kubernetes.io/not-ready","effect":"NoSchedule"}]}),
        )
        .unwrap(),
    );
    tainted[1].spec = Some(serde_json::from_value(json!({"unschedulable":true})).unwrap());
    assert_eq!(
        schedule(&sel, &tainted, &BTreeMap::new()).unwrap_err(),
        "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 1 node(s) were unschedulable. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
    );
    assert_eq!(schedule(&p, &[], &load).unwrap_err(), NO_NODES_AVAILABLE);
    let mut pinned = web();
    pinned.spec.as_mut().unwrap().node_name = Some("elsewhere".into());
    assert_eq!(schedule(&pinned, &nodes, &load).unwrap(), "elsewhere");
}

fn ips(list: &[&str]) -> Vec<IpAddr> {
    list.iter().map(|s| s.parse().unwrap()).collect()
}

#[test]
fn running_status_dual_and_single_stack() {
    let mut p = web();
    set_defaults(&mut p);
    p.spec.as_mut().unwrap().node_name = Some("n1".into());
    for (pod_ips, host_ips) in [
        (
            vec!["10.96.0.2", "2a05:d014::1:0:0:2"],
            vec!["10.250.0.10", "2a05:d014::8000:0:0:1"],
        ),
        (vec!["10.96.0.2"], vec!["10.250.0.10"]),
        (
            vec!["2a05:d014::1:0:0:2", "10.96.0.2"],
            vec!["2a05:d014::8000:0:0:1", "10.250.0.10"],
        ),
    ] {
        let st = running_status(&p, None, &ips(&pod_ips), &ips(&host_ips), now());
        let v = serde_json::to_value(&st).unwrap();
        assert_eq!(v["phase"], "Running");
        assert_eq!(v["podIP"], pod_ips[0]);
        let got: Vec<&str> = v["podIPs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["ip"].as_str().unwrap())
            .collect();
        assert_eq!(got, pod_ips);
        assert_eq!(v["hostIP"], host_ips[0]);
        assert_eq!(v["hostIPs"].as_array().unwrap().len(), host_ips.len());
        let types: Vec<&str> = v["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            [
                "PodReadyToStartContainers",
                "Initialized",
                "Ready",
                "ContainersReady",
                "PodScheduled"
            ]
        );
        assert!(v["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["status"] == "True"));
        let cs = &v["containerStatuses"][0];
        assert!(cs["containerID"]
            .as_str()
            .unwrap()
            .starts_with("containerd://"));
        assert_eq!(
            cs["containerID"].as_str().unwrap().len(),
            "containerd://".len() + 64
        );
        assert_eq!(cs["image"], "docker.io/library/nginx:1.27");
        assert!(cs["imageID"]
            .as_str()
            .unwrap()
            .starts_with("docker.io/library/nginx@sha256:"));
        assert_eq!(cs["ready"], true);
        assert_eq!(cs["started"], true);
        assert_eq!(cs["state"]["running"]["startedAt"], "2026-01-01T00:00:00Z");
        assert_eq!(v["qosClass"], "BestEffort");
        assert_eq!(v["startTime"], "2026-01-01T00:00:00Z");
    }
    // Mounted volumes are reported (RecursiveReadOnlyMounts is on in 1.32).
    let mut admitted = p.clone();
    admit_create(&mut admitted, Some(&sa("default")), "abcde").unwrap();
    let st = running_status(
        &admitted,
        None,
        &ips(&["10.96.0.2"]),
        &ips(&["10.250.0.10"]),
        now(),
    );
    assert_eq!(
        serde_json::to_value(&st).unwrap()["containerStatuses"][0]["volumeMounts"],
        json!([{"name":"kube-api-access-abcde","mountPath":"/var/run/secrets/kubernetes.io/serviceaccount","readOnly":true,"recursiveReadOnly":"Disabled"}])
    );
    // Readiness gates keep Ready false.
    let mut gated = p.clone();
    gated.spec.as_mut().unwrap().readiness_gates = Some(vec![serde_json::from_value(
        json!({"conditionType":"example.com/lb"}),
    )
    .unwrap()]);
    let st = running_status(
        &gated,
        None,
        &ips(&["10.96.0.2"]),
        &ips(&["10.250.0.10"]),
        now(),
    );
    let ready = st
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "Ready")
        .unwrap();
    assert_eq!(ready.status, "False");
    assert_eq!(ready.reason.as_deref(), Some("ReadinessGatesNotReady"));
    assert_eq!(
        ready.message.as_deref(),
        Some("corresponding condition of pod readiness gate \"example.com/lb\" does not exist.")
    );
}

#[test]
fn pending_and_unschedulable_statuses() {
    let mut p = web();
    set_defaults(&mut p);
    let st = unschedulable_status(&p, "0/1 nodes are available: x.", now());
    let c = &st.conditions.unwrap()[0];
    assert_eq!(
        (c.type_.as_str(), c.status.as_str(), c.reason.as_deref()),
        ("PodScheduled", "False", Some("Unschedulable"))
    );
    let st = pending_status(&p, &ips(&["10.250.0.10"]), now());
    assert_eq!(st.phase.as_deref(), Some("Pending"));
    let v = serde_json::to_value(&st).unwrap();
    assert_eq!(
        v["containerStatuses"][0]["state"]["waiting"]["reason"],
        "ContainerCreating"
    );
    assert_eq!(
        v["conditions"][2]["message"],
        "containers with unready status: [web]"
    );
    // Then running keeps the PodScheduled transition time.
    p.status = Some(st);
    let later: jiff::Timestamp = "2026-01-01T00:00:05Z".parse().unwrap();
    let run = running_status(
        &p,
        None,
        &ips(&["10.96.0.2"]),
        &ips(&["10.250.0.10"]),
        later,
    );
    let v = serde_json::to_value(&run).unwrap();
    assert_eq!(
        v["conditions"][4]["lastTransitionTime"],
        "2026-01-01T00:00:00Z"
    );
    assert_eq!(
        v["conditions"][2]["lastTransitionTime"],
        "2026-01-01T00:00:05Z"
    );
    assert_eq!(v["startTime"], "2026-01-01T00:00:00Z");
}

#[test]
fn qos_classes() {
    let with = |res: serde_json::Value| {
        let mut p = pod(json!({"spec":{"containers":[{"name":"a","image":"x","resources":res}]}}));
        set_defaults(&mut p);
        qos_class(&p)
    };
    assert_eq!(with(json!({})), "BestEffort");
    assert_eq!(
        with(json!({"limits":{"cpu":"1","memory":"1Gi"}})),
        "Guaranteed"
    );
    assert_eq!(
        with(
            json!({"limits":{"cpu":"1","memory":"1Gi"},"requests":{"cpu":"1000m","memory":"1024Mi"}})
        ),
        "Guaranteed"
    );
    assert_eq!(
        with(json!({"limits":{"cpu":"1","memory":"1Gi"},"requests":{"cpu":"500m"}})),
        "Burstable"
    );
    assert_eq!(with(json!({"requests":{"cpu":"100m"}})), "Burstable");
    assert_eq!(with(json!({"limits":{"cpu":"1"}})), "Burstable");
}

#[test]
fn graceful_deletion() {
    let mut p = web();
    set_defaults(&mut p);
    assert_eq!(plan_deletion(&p, None), Deletion::Immediate, "unscheduled");
    p.spec.as_mut().unwrap().node_name = Some("n1".into());
    assert_eq!(
        plan_deletion(&p, None),
        Deletion::Graceful { grace_seconds: 30 }
    );
    assert_eq!(
        plan_deletion(&p, Some(5)),
        Deletion::Graceful { grace_seconds: 5 }
    );
    assert_eq!(plan_deletion(&p, Some(0)), Deletion::Immediate);
    assert_eq!(
        plan_deletion(&p, Some(-3)),
        Deletion::Graceful { grace_seconds: 1 }
    );
    mark_terminating(&mut p, 30, now());
    let v = serde_json::to_value(&p.metadata).unwrap();
    assert_eq!(v["deletionTimestamp"], "2026-01-01T00:00:30Z");
    assert_eq!(v["deletionGracePeriodSeconds"], 30);
    assert_eq!(plan_deletion(&p, None), Deletion::Unchanged);
    assert_eq!(
        plan_deletion(&p, Some(1)),
        Deletion::Graceful { grace_seconds: 1 }
    );
    // Not started: nothing to stop, done when seen; Running nginx: half a second after SIGTERM.
    let exited = |p: &Pod| termination::containers_exited_at(p, now());
    assert_eq!(exited(&p), Some(now()));
    p.status = Some(serde_json::from_value(json!({"phase":"Running"})).unwrap());
    assert_eq!(exited(&p), Some("2026-01-01T00:00:00.5Z".parse().unwrap()));
    let mut done = web();
    done.spec.as_mut().unwrap().node_name = Some("n1".into());
    done.status = Some(serde_json::from_value(json!({"phase":"Succeeded"})).unwrap());
    assert_eq!(plan_deletion(&done, None), Deletion::Immediate);
}

#[test]
fn image_helpers() {
    assert_eq!(image_tag("nginx"), "latest");
    assert_eq!(image_tag("nginx:1.2"), "1.2");
    assert_eq!(image_tag("registry:5000/a/b"), "latest");
    assert_eq!(image_tag("a@sha256:00"), "");
    assert_eq!(normalize_image("nginx"), "docker.io/library/nginx:latest");
    assert_eq!(
        normalize_image("bitnami/redis:7"),
        "docker.io/bitnami/redis:7"
    );
    assert_eq!(normalize_image("ghcr.io/x/y:1"), "ghcr.io/x/y:1");
    assert_eq!(
        image_id("ghcr.io/x/y:1").split('@').next(),
        Some("ghcr.io/x/y")
    );
}

#[test]
fn update_diff_text() {
    let mut old = web();
    set_defaults(&mut old);
    let mut bad = old.clone();
    bad.spec.as_mut().unwrap().node_name = Some("n2".into());
    assert_eq!(
        twinstack_core::field::aggregate(&validate_update(&bad, &old)),
        format!("spec: Forbidden: {UPDATE_FORBIDDEN}\n  core.PodSpec{{\n  \t... // 4 identical fields\n- \tNodeName: \"\",\n+ \tNodeName: \"n2\",\n  \t... // 3 identical fields\n  }}\n")
    );
}
