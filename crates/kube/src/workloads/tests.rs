//! Table tests of the workload controllers' rules: each row is a snapshot (the object, its
//! ReplicaSets or pods) and what one pass decides.

use super::*;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Node, Pod, ReplicationController};
use serde_json::json;

fn now() -> jiff::Timestamp {
    "2026-01-01T00:01:00Z".parse().unwrap()
}

/// A pod summary: `state` is one of running-ready, running, pending, unscheduled, deleting,
/// succeeded, failed.
fn pod(name: &str, owner: &str, state: &str) -> PodSummary {
    PodSummary {
        name: name.into(),
        namespace: "default".into(),
        uid: format!("uid-{name}"),
        created: format!("2026-01-01T00:00:0{}Z", name.len() % 10),
        labels: BTreeMap::from([("app".to_string(), "web".to_string())]),
        controller_uid: Some(owner.into()),
        node_name: (state != "unscheduled").then(|| "n1".to_string()),
        pinned_node: (state != "unscheduled").then(|| "n1".to_string()),
        phase: match state {
            "pending" | "unscheduled" => "Pending",
            "succeeded" => "Succeeded",
            "failed" => "Failed",
            _ => "Running",
        }
        .into(),
        deleting: state == "deleting",
        ready: state == "ready",
        ready_since: (state == "ready").then(|| "2026-01-01T00:00:00Z".parse().unwrap()),
    }
}

fn replica_set(replicas: i32, min_ready: i32) -> ReplicaSet {
    serde_json::from_value(json!({
        "metadata": {"name": "web-abc", "namespace": "default", "uid": "rs", "generation": 3},
        "spec": {"replicas": replicas, "minReadySeconds": min_ready,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web", "tier": "front"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}
    }))
    .unwrap()
}

#[test]
fn summary_reads_a_pod_projection() {
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": "a", "namespace": "ns", "uid": "u", "creationTimestamp": "2026-01-01T00:00:00Z",
            "labels": {"app": "x"},
            "ownerReferences": [{"apiVersion": "v1", "kind": "X", "name": "o", "uid": "other"},
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "rs", "controller": true}]},
        "spec": {"nodeName": "n2", "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
            {"nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}]}}}},
        "status": {"phase": "Running", "conditions": [
            {"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-01T00:00:30Z"}]}
    }))
    .unwrap();
    let p = PodSummary::from_pod(&pod);
    assert_eq!(p.controller_uid.as_deref(), Some("rs"));
    assert_eq!(p.node_name.as_deref(), Some("n2"));
    assert_eq!(p.pinned_node.as_deref(), Some("n1"));
    assert!(p.ready && p.is_active() && !p.deleting);
    assert!(p.is_available(30, now()));
    assert!(!p.is_available(31, now()));
    assert_eq!(p.created, "2026-01-01T00:00:00Z");
    // An empty pod: an empty summary, not a panic.
    assert_eq!(PodSummary::from_pod(&Pod::default()), PodSummary::default());
}

#[test]
fn replicaset_plan_table() {
    // (replicas, pods as (name, state), creates, deleted names, replicas/ready/available)
    type Row = (
        i32,
        &'static [(&'static str, &'static str)],
        usize,
        &'static [&'static str],
        (i32, Option<i32>, Option<i32>),
    );
    let rows: &[Row] = &[
        (3, &[], 3, &[], (0, None, None)),
        (2, &[("a", "ready")], 1, &[], (1, Some(1), Some(1))),
        // Terminating and finished pods do not count.
        (
            2,
            &[("a", "ready"), ("b", "deleting"), ("c", "succeeded")],
            1,
            &[],
            (1, Some(1), Some(1)),
        ),
        // Scale down: unscheduled, then pending, then not ready go first.
        (
            1,
            &[
                ("a", "ready"),
                ("bb", "running"),
                ("ccc", "pending"),
                ("dddd", "unscheduled"),
            ],
            0,
            &["dddd", "ccc", "bb"],
            (4, Some(1), Some(1)),
        ),
        // Among equals, the newest goes first.
        (
            1,
            &[("a", "ready"), ("bbb", "ready")],
            0,
            &["bbb"],
            (2, Some(2), Some(2)),
        ),
        (0, &[("a", "ready")], 0, &["a"], (1, Some(1), Some(1))),
    ];
    for (replicas, pods, creates, deletes, (n, ready, available)) in rows {
        let rs = replica_set(*replicas, 0);
        let pods: Vec<PodSummary> = pods.iter().map(|(n, s)| pod(n, "rs", s)).collect();
        let refs: Vec<&PodSummary> = pods.iter().collect();
        let plan = replicaset::plan(&rs, &refs, now());
        assert_eq!(plan.create, *creates, "{pods:?}");
        let deleted: Vec<&str> = plan.delete.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(deleted, *deletes, "{pods:?}");
        assert_eq!(plan.status.replicas, *n);
        assert_eq!(plan.status.ready_replicas, *ready);
        assert_eq!(plan.status.available_replicas, *available);
        assert_eq!(plan.status.observed_generation, Some(3));
    }
}

#[test]
fn replicaset_creates_at_most_a_burst_and_counts_labels_and_min_ready() {
    let rs = replica_set(1200, 45);
    let plan = replicaset::plan(&rs, &[], now());
    assert_eq!(plan.create, replicaset::BURST);
    // Ready for 60 s: available with minReadySeconds 45, not with 90; only fully labeled if
    // the pod has every template label.
    let mut p = pod("a", "rs", "ready");
    p.labels.insert("tier".into(), "front".into());
    let q = pod("b", "rs", "ready");
    let s = replicaset::plan(&replica_set(2, 45), &[&p, &q], now()).status;
    assert_eq!(
        (s.fully_labeled_replicas, s.available_replicas),
        (Some(1), Some(2))
    );
    let s = replicaset::plan(&replica_set(2, 90), &[&p, &q], now()).status;
    assert_eq!(s.available_replicas, None);
}

#[test]
fn replicaset_new_pod_and_replication_controllers() {
    let pod = replicaset::new_pod(&replica_set(1, 0), "apps/v1", "ReplicaSet");
    assert_eq!(
        serde_json::to_value(&pod.metadata).unwrap(),
        json!({"generateName": "web-abc-", "namespace": "default",
            "labels": {"app": "web", "tier": "front"}, "annotations": {},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-abc",
                "uid": "rs", "controller": true, "blockOwnerDeletion": true}]})
    );
    let rc: ReplicationController = serde_json::from_value(json!({
        "metadata": {"name": "rc", "uid": "u"},
        "spec": {"replicas": 2, "selector": {"app": "web"},
            "template": {"metadata": {"labels": {"app": "web"}}}}
    }))
    .unwrap();
    let rs = replicaset::from_replication_controller(&rc);
    let spec = rs.spec.as_ref().unwrap();
    assert_eq!(spec.replicas, Some(2));
    assert_eq!(
        spec.selector.match_labels.as_ref().unwrap()["app"],
        "web".to_string()
    );
    let st = replicaset::to_replication_controller_status(replicaset::plan(&rs, &[], now()).status);
    assert_eq!(st.replicas, 0);
    assert_eq!(
        replicaset::new_pod(&rs, "v1", "ReplicationController")
            .metadata
            .owner_references
            .unwrap()[0]
            .kind,
        "ReplicationController"
    );
}

fn deployment(replicas: i32, strategy: serde_json::Value) -> Deployment {
    serde_json::from_value(json!({
        "metadata": {"name": "web", "namespace": "default", "uid": "d", "generation": 2},
        "spec": {"replicas": replicas, "strategy": strategy, "revisionHistoryLimit": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "nginx:2"}]}}}
    }))
    .unwrap()
}

/// A RollingUpdate strategy; "1" is the integer 1, "25%" a percentage.
fn rolling(surge: &str, unavailable: &str) -> serde_json::Value {
    let v = |s: &str| s.parse::<i64>().map_or(json!(s), |i| json!(i));
    json!({"type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": v(surge), "maxUnavailable": v(unavailable)}})
}

/// A ReplicaSet of the Deployment: `image` "nginx:2" is the current template.
fn owned_rs(
    name: &str,
    image: &str,
    spec: i32,
    replicas: i32,
    available: i32,
    rev: i32,
) -> ReplicaSet {
    serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": "default", "uid": format!("uid-{name}"),
            "creationTimestamp": format!("2026-01-01T00:00:{:02}Z", rev),
            "annotations": {deployment::REVISION: rev.to_string()},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "d", "controller": true}]},
        "spec": {"replicas": spec, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web", "pod-template-hash": name}},
                "spec": {"containers": [{"name": "c", "image": image}]}}},
        "status": {"replicas": replicas, "availableReplicas": available, "readyReplicas": available}
    }))
    .unwrap()
}

#[test]
fn deployment_creates_its_replica_set() {
    // (strategy, old ReplicaSets (spec, replicas), replicas of the new ReplicaSet)
    type Row = (serde_json::Value, &'static [(i32, i32)], i32);
    let rows: &[Row] = &[
        (rolling("25%", "25%"), &[], 4),
        // Rolling from 4 old replicas: maxSurge 1 (25% of 4, rounded up) makes room for one.
        (rolling("25%", "25%"), &[(4, 4)], 1),
        (rolling("0", "1"), &[(4, 4)], 0),
        // Recreate waits until the old pods are gone.
        (json!({"type": "Recreate"}), &[(4, 4)], 0),
        (json!({"type": "Recreate"}), &[(0, 0)], 4),
    ];
    for (strategy, old, want) in rows {
        let d = deployment(4, strategy.clone());
        let olds: Vec<ReplicaSet> = old
            .iter()
            .enumerate()
            .map(|(i, (s, r))| owned_rs(&format!("old{i}"), "nginx:1", *s, *r, *r, i as i32 + 1))
            .collect();
        let refs: Vec<&ReplicaSet> = olds.iter().collect();
        let plan = deployment::plan(&d, &refs, now()).unwrap();
        let rs = plan.create.expect("a new ReplicaSet");
        assert_eq!(
            rs.spec.as_ref().unwrap().replicas,
            Some(*want),
            "{strategy} {old:?}"
        );
        let hash = template_hash(d.spec.as_ref().map(|s| &s.template), None);
        assert_eq!(
            rs.metadata.name.as_deref(),
            Some(format!("web-{hash}").as_str())
        );
        let ann = rs.metadata.annotations.as_ref().unwrap();
        assert_eq!(ann[deployment::REVISION], (old.len() + 1).to_string());
        assert_eq!(ann[deployment::DESIRED_REPLICAS], "4");
        let sel = &rs.spec.as_ref().unwrap().selector;
        assert_eq!(
            sel.match_labels.as_ref().unwrap()[deployment::HASH_LABEL],
            hash
        );
        let progressing = &plan.status.conditions.as_ref().unwrap()[1];
        assert_eq!(progressing.reason.as_deref(), Some("NewReplicaSetCreated"));
        assert_eq!(
            progressing.message.as_deref(),
            Some(format!("Created new replica set \"web-{hash}\"").as_str())
        );
    }
}

#[test]
fn deployment_rolls_within_surge_and_unavailable() {
    // 4 replicas, maxSurge 1, maxUnavailable 1; (new spec, new available, old spec, old
    // available) -> scales as (name, from, to).
    type Row = ((i32, i32, i32, i32), &'static [(&'static str, i32, i32)]);
    let rows: &[Row] = &[
        // Start: new 1 (surge), old 4: the old one can lose one (minAvailable 3).
        ((1, 0, 4, 4), &[("old", 4, 3)]),
        // New up to 2 once old went to 3; old down by what is available above 3.
        ((1, 1, 3, 3), &[("new", 1, 2), ("old", 3, 2)]),
        // Nothing available yet: nothing more may go.
        ((2, 0, 3, 3), &[]),
        // Done: the new one holds all, nothing to scale.
        ((4, 4, 0, 0), &[]),
    ];
    for ((ns, na, os, oa), want) in rows {
        let d = deployment(4, rolling("1", "1"));
        let new = owned_rs("new", "nginx:2", *ns, *ns, *na, 2);
        let old = owned_rs("old", "nginx:1", *os, *os, *oa, 1);
        let plan = deployment::plan(&d, &[&old, &new], now()).unwrap();
        assert_eq!(plan.create, None);
        let got: Vec<(&str, i32, i32)> = plan
            .scale
            .iter()
            .map(|s| (s.name.as_str(), s.from, s.to))
            .collect();
        assert_eq!(got, *want, "{:?}", (ns, na, os, oa));
        assert_eq!(plan.revision, Some(2));
    }
}

#[test]
fn deployment_status_history_and_pause() {
    let d = deployment(4, rolling("1", "1"));
    let new = owned_rs("new", "nginx:2", 4, 4, 4, 3);
    let idle1 = owned_rs("idle1", "nginx:0", 0, 0, 0, 1);
    let idle2 = owned_rs("idle2", "nginx:1", 0, 0, 0, 2);
    let plan = deployment::plan(&d, &[&idle2, &new, &idle1], now()).unwrap();
    // revisionHistoryLimit 1: the oldest idle ReplicaSet goes.
    assert_eq!(plan.delete, vec!["idle1".to_string()]);
    let s = &plan.status;
    assert_eq!(
        (
            s.replicas,
            s.updated_replicas,
            s.available_replicas,
            s.unavailable_replicas
        ),
        (Some(4), Some(4), Some(4), None)
    );
    let cs = s.conditions.as_ref().unwrap();
    assert_eq!(cs[0].reason.as_deref(), Some("MinimumReplicasAvailable"));
    assert_eq!(
        cs[1].message.as_deref(),
        Some("ReplicaSet \"new\" has successfully progressed.")
    );
    // The times of an unchanged condition are kept.
    let mut d2 = d.clone();
    d2.status = Some(plan.status.clone());
    let later: jiff::Timestamp = "2026-01-01T01:00:00Z".parse().unwrap();
    let again = deployment::plan(&d2, &[&new], later).unwrap();
    assert_eq!(again.status.conditions, plan.status.conditions);
    // Unavailable: the Available condition turns False, with a new transition time.
    let short = owned_rs("new", "nginx:2", 4, 4, 2, 3);
    let s = deployment::plan(&d2, &[&short], later).unwrap().status;
    let avail = &s.conditions.as_ref().unwrap()[0];
    assert_eq!(
        (
            avail.status.as_str(),
            avail.last_transition_time.as_ref().map(|t| t.0)
        ),
        ("False", Some(later))
    );
    assert_eq!(s.unavailable_replicas, Some(2));
    // Paused without a ReplicaSet for its template: nothing to do.
    let mut paused = deployment(4, rolling("1", "1"));
    paused.spec.as_mut().unwrap().paused = Some(true);
    assert_eq!(deployment::plan(&paused, &[&idle1], now()), None);
}

#[test]
fn fenceposts_table() {
    // (maxSurge, maxUnavailable, replicas) -> (surge, unavailable)
    let rows = [
        ("25%", "25%", 4, (1, 1)),
        ("25%", "25%", 10, (3, 2)),
        ("0", "0", 3, (0, 1)),
        ("50%", "0", 3, (2, 0)),
        ("bad%", "1", 3, (0, 1)),
    ];
    for (s, u, n, want) in rows {
        let d = deployment(n, rolling(s, u));
        assert_eq!(deployment::fenceposts(&d, n as i64), want, "{s} {u} {n}");
    }
}

fn stateful(replicas: i32, extra: serde_json::Value) -> StatefulSet {
    let mut v = json!({
        "metadata": {"name": "db", "namespace": "default", "uid": "sts", "generation": 1},
        "spec": {"replicas": replicas, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
            "template": {"metadata": {"labels": {"app": "db"}},
                "spec": {"containers": [{"name": "c", "image": "postgres"}]}}}
    });
    if let Some(o) = extra.as_object() {
        for (k, x) in o {
            v["spec"][k] = x.clone();
        }
    }
    serde_json::from_value(v).unwrap()
}

#[test]
fn statefulset_plan_table() {
    // (replicas, extra spec, pods (name, state, current revision?), created names, scaled down,
    // replaced)
    type Row = (
        i32,
        serde_json::Value,
        &'static [(&'static str, &'static str, bool)],
        &'static [&'static str],
        &'static [&'static str],
        Option<&'static str>,
    );
    let rows: &[Row] = &[
        (3, json!({}), &[], &["db-0"], &[], None),
        // OrderedReady waits for db-0 to be ready.
        (3, json!({}), &[("db-0", "running", true)], &[], &[], None),
        (
            3,
            json!({}),
            &[("db-0", "ready", true)],
            &["db-1"],
            &[],
            None,
        ),
        // Parallel creates every missing ordinal at once.
        (
            3,
            json!({"podManagementPolicy": "Parallel"}),
            &[("db-1", "running", true)],
            &["db-0", "db-2"],
            &[],
            None,
        ),
        // Scale down from the highest ordinal, one at a time.
        (
            1,
            json!({}),
            &[
                ("db-0", "ready", true),
                ("db-1", "ready", true),
                ("db-2", "ready", true),
            ],
            &[],
            &["db-2"],
            None,
        ),
        // Rolling update: the highest outdated ordinal first.
        (
            2,
            json!({}),
            &[("db-0", "ready", false), ("db-1", "ready", false)],
            &[],
            &[],
            Some("db-1"),
        ),
        // ...but not below the partition, and never with OnDelete.
        (
            2,
            json!({"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}}}),
            &[("db-0", "ready", false), ("db-1", "ready", true)],
            &[],
            &[],
            None,
        ),
        (
            2,
            json!({"updateStrategy": {"type": "OnDelete"}}),
            &[("db-0", "ready", false), ("db-1", "ready", false)],
            &[],
            &[],
            None,
        ),
    ];
    for (replicas, extra, pods, created, down, replaced) in rows {
        let sts = stateful(*replicas, extra.clone());
        let rev = statefulset::update_revision(&sts);
        let pods: Vec<PodSummary> = pods
            .iter()
            .map(|(n, s, current)| {
                let mut p = pod(n, "sts", s);
                let r = if *current {
                    rev.clone()
                } else {
                    "db-old".into()
                };
                p.labels.insert(statefulset::REVISION_HASH.into(), r);
                p
            })
            .collect();
        let refs: Vec<&PodSummary> = pods.iter().collect();
        let plan = statefulset::plan(&sts, &refs);
        let names: Vec<&str> = plan
            .create
            .iter()
            .map(|p| p.metadata.name.as_deref().unwrap())
            .collect();
        assert_eq!(names, *created, "{extra} {pods:?}");
        let downs: Vec<&str> = plan.scale_down.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(downs, *down, "{extra} {pods:?}");
        assert_eq!(plan.replace.map(|p| p.name.as_str()), *replaced);
    }
}

#[test]
fn statefulset_pod_identity_and_status() {
    let sts = stateful(1, json!({}));
    let rev = statefulset::update_revision(&sts);
    let pod0 = statefulset::new_pod(&sts, 0, &rev);
    let spec = pod0.spec.as_ref().unwrap();
    assert_eq!(
        (spec.hostname.as_deref(), spec.subdomain.as_deref()),
        (Some("db-0"), Some("db"))
    );
    let labels = pod0.metadata.labels.as_ref().unwrap();
    assert_eq!(labels[statefulset::POD_NAME_LABEL], "db-0");
    assert_eq!(labels[statefulset::POD_INDEX_LABEL], "0");
    assert_eq!(labels[statefulset::REVISION_HASH], rev);
    let mut p = pod("db-0", "sts", "ready");
    p.labels
        .insert(statefulset::REVISION_HASH.into(), rev.clone());
    let s = statefulset::plan(&sts, &[&p]).status;
    assert_eq!(
        (
            s.replicas,
            s.ready_replicas,
            s.current_replicas,
            s.updated_replicas
        ),
        (1, Some(1), Some(1), Some(1))
    );
    assert_eq!(s.current_revision.as_deref(), Some(rev.as_str()));
}

fn daemon(strategy: &str) -> DaemonSet {
    serde_json::from_value(json!({
        "metadata": {"name": "agent", "namespace": "kube-system", "uid": "ds", "generation": 4},
        "spec": {"selector": {"matchLabels": {"app": "agent"}}, "updateStrategy": {"type": strategy},
            "template": {"metadata": {"labels": {"app": "agent"}},
                "spec": {"containers": [{"name": "c", "image": "agent"}],
                    "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"}]}}}
    }))
    .unwrap()
}

#[test]
fn daemonset_plan_table() {
    // (eligible nodes, pods (name, node, state, current?), created on nodes, deleted, replaced)
    type Row = (
        &'static [&'static str],
        &'static [(&'static str, &'static str, &'static str, bool)],
        &'static [&'static str],
        &'static [&'static str],
        Option<&'static str>,
    );
    let rows: &[Row] = &[
        (&["n1", "n2"], &[], &["n1", "n2"], &[], None),
        (
            &["n1"],
            &[("a", "n1", "ready", true), ("b", "n1", "ready", true)],
            &[],
            &["b"],
            None,
        ),
        // A pod on a node that is gone or no longer eligible goes.
        (
            &["n1"],
            &[("a", "n1", "ready", true), ("b", "n9", "ready", true)],
            &[],
            &["b"],
            None,
        ),
        // Rolling: one outdated pod at a time, once all are ready.
        (
            &["n1", "n2"],
            &[("a", "n1", "ready", false), ("b", "n2", "ready", false)],
            &[],
            &[],
            Some("a"),
        ),
        (
            &["n1", "n2"],
            &[("a", "n1", "running", false), ("b", "n2", "ready", false)],
            &[],
            &[],
            None,
        ),
    ];
    let ds = daemon("RollingUpdate");
    let hash = daemonset::revision_hash(&ds);
    for (eligible, pods, created, deleted, replaced) in rows {
        let eligible: Vec<String> = eligible.iter().map(|s| s.to_string()).collect();
        let pods: Vec<PodSummary> = pods
            .iter()
            .map(|(n, node, s, current)| {
                let mut p = pod(n, "ds", s);
                p.pinned_node = Some(node.to_string());
                let h = if *current { hash.clone() } else { "old".into() };
                p.labels.insert(daemonset::REVISION_HASH.into(), h);
                p
            })
            .collect();
        let refs: Vec<&PodSummary> = pods.iter().collect();
        let plan = daemonset::plan(&ds, &refs, &eligible, &hash);
        let on: Vec<String> = plan
            .create
            .iter()
            .map(|p| {
                let v = serde_json::to_value(p).unwrap();
                v.pointer("/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms/0/matchFields/0/values/0")
                    .and_then(|v| v.as_str()).unwrap().to_string()
            })
            .collect();
        assert_eq!(on, *created, "{pods:?}");
        let del: Vec<&str> = plan.delete.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(del, *deleted, "{pods:?}");
        assert_eq!(plan.replace.map(|p| p.name.as_str()), *replaced, "{pods:?}");
    }
    // OnDelete never replaces.
    let ds = daemon("OnDelete");
    let mut p = pod("a", "ds", "ready");
    p.labels
        .insert(daemonset::REVISION_HASH.into(), "old".into());
    let plan = daemonset::plan(&ds, &[&p], &["n1".to_string()], &hash);
    assert_eq!(plan.replace, None);
    assert_eq!(
        (
            plan.status.desired_number_scheduled,
            plan.status.number_ready,
            plan.status.updated_number_scheduled
        ),
        (1, 1, None)
    );
}

#[test]
fn daemon_pods_tolerate_node_conditions_and_skip_tainted_nodes() {
    let ds = daemon("RollingUpdate");
    let hash = daemonset::revision_hash(&ds);
    let pod = daemonset::new_pod(&ds, Some("n1"), &hash);
    let tolerations = pod.spec.as_ref().unwrap().tolerations.as_ref().unwrap();
    // The template's not-ready toleration is kept, not repeated; the other five are added.
    assert_eq!(tolerations.len(), 6);
    let labels = pod.metadata.labels.as_ref().unwrap();
    assert_eq!(labels[daemonset::TEMPLATE_GENERATION], "4");
    let node = |name: &str, taint: Option<&str>| -> Node {
        let mut n = json!({"metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
            "status": {"allocatable": {"cpu": "2", "memory": "8Gi", "pods": "110"},
                "conditions": [{"type": "Ready", "status": "True"}]}});
        if let Some(t) = taint {
            n["spec"] = json!({"taints": [{"key": t, "effect": "NoSchedule"}]});
        }
        serde_json::from_value(n).unwrap()
    };
    let nodes = [
        node("n1", None),
        node("n2", Some("dedicated")),
        node("n3", Some("node.kubernetes.io/unschedulable")),
    ];
    assert_eq!(
        daemonset::eligible_nodes(&ds, &nodes, &hash),
        vec!["n1".to_string(), "n3".to_string()]
    );
}

fn job(extra: serde_json::Value) -> Job {
    let mut v = json!({
        "metadata": {"name": "pi", "namespace": "default", "uid": "job"},
        "spec": {"parallelism": 2, "template": {"metadata": {"labels": {"job-name": "pi"}},
            "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "perl"}]}}}
    });
    if let Some(o) = extra.as_object() {
        for (k, x) in o {
            v["spec"][k] = x.clone();
        }
    }
    serde_json::from_value(v).unwrap()
}

#[test]
fn job_plan_table() {
    // (extra spec, pod states, creates, completes, (active, succeeded, failed))
    type Row = (
        serde_json::Value,
        &'static [&'static str],
        usize,
        bool,
        (Option<i32>, Option<i32>, Option<i32>),
    );
    let rows: &[Row] = &[
        (json!({"completions": 3}), &[], 2, false, (None, None, None)),
        (
            json!({"completions": 3}),
            &["succeeded", "succeeded", "running"],
            0,
            false,
            (Some(1), Some(2), None),
        ),
        (
            json!({"completions": 3}),
            &["succeeded", "running"],
            1,
            false,
            (Some(1), Some(1), None),
        ),
        (
            json!({"completions": 1}),
            &["succeeded"],
            0,
            true,
            (None, Some(1), None),
        ),
        // A failed pod is replaced.
        (
            json!({"completions": 1, "parallelism": 1}),
            &["failed"],
            1,
            false,
            (None, None, Some(1)),
        ),
        // Without completions: done once one succeeded and none is active.
        (
            json!({}),
            &["succeeded", "running"],
            0,
            false,
            (Some(1), Some(1), None),
        ),
        (json!({}), &["succeeded"], 0, true, (None, Some(1), None)),
        // Suspended: no pods.
        (
            json!({"suspend": true, "completions": 3}),
            &[],
            0,
            false,
            (None, None, None),
        ),
    ];
    for (extra, states, creates, completes, (a, s, f)) in rows {
        let j = job(extra.clone());
        let pods: Vec<PodSummary> = states
            .iter()
            .enumerate()
            .map(|(i, st)| pod(&format!("pi-{i}"), "job", st))
            .collect();
        let refs: Vec<&PodSummary> = pods.iter().collect();
        let plan = job::plan(&j, &refs, now());
        assert_eq!(plan.create, *creates, "{extra} {states:?}");
        assert_eq!(plan.completes, *completes, "{extra} {states:?}");
        let st = &plan.status;
        assert_eq!(
            (st.active, st.succeeded, st.failed),
            (*a, *s, *f),
            "{extra} {states:?}"
        );
        assert_eq!(st.start_time.is_some(), extra.get("suspend").is_none());
        if *completes {
            let cs = st.conditions.as_ref().unwrap();
            assert_eq!(
                cs.iter().map(|c| c.type_.as_str()).collect::<Vec<_>>(),
                ["SuccessCriteriaMet", "Complete"]
            );
            assert_eq!(
                cs[1].message.as_deref(),
                Some(job::COMPLETIONS_REACHED_MESSAGE)
            );
            assert!(st.completion_time.is_some());
        }
    }
    let mut finished = job(json!({}));
    finished.status = plan_status_completed();
    assert!(job::is_finished(&finished));
    assert_eq!(
        job::new_pod(&finished).metadata.generate_name.as_deref(),
        Some("pi-")
    );
}

fn plan_status_completed() -> Option<k8s_openapi::api::batch::v1::JobStatus> {
    let j = job(json!({"completions": 1}));
    let p = pod("pi-0", "job", "succeeded");
    Some(job::plan(&j, &[&p], now()).status)
}

#[test]
fn statefulset_claims_per_ordinal() {
    let sts = stateful(
        2,
        json!({"volumeClaimTemplates": [{"metadata": {"name": "data", "labels": {"tier": "db"}},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}),
    );
    let claims = statefulset::claims_for(&sts, 1);
    assert_eq!(claims.len(), 1);
    let c = serde_json::to_value(&claims[0]).unwrap();
    let set = sts.metadata.name.clone().unwrap();
    assert_eq!(c["metadata"]["name"], format!("data-{set}-1"));
    assert_eq!(c["metadata"]["labels"]["tier"], "db");
    assert_eq!(c["metadata"]["labels"]["app"], "db");
    assert!(c["metadata"].get("ownerReferences").is_none());
    assert_eq!(c["spec"]["resources"]["requests"]["storage"], "1Gi");
    let pod = serde_json::to_value(statefulset::new_pod(&sts, 1, "rev")).unwrap();
    assert_eq!(
        pod["spec"]["volumes"],
        json!([{"name": "data", "persistentVolumeClaim": {"claimName": format!("data-{set}-1")}}])
    );
    assert_eq!(
        statefulset::create_claim_message("data-web-0", "web-0", "web"),
        "create Claim data-web-0 Pod web-0 in StatefulSet web success"
    );
    // Without templates, no volumes are added.
    let plain =
        serde_json::to_value(statefulset::new_pod(&stateful(1, json!({})), 0, "rev")).unwrap();
    assert!(plain["spec"].get("volumes").is_none());
}
