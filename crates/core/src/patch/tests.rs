//! Cross-module tests: strategic merge patch cases ported from apimachinery
//! `pkg/util/strategicpatch/patch_test.go` (YAML turned into JSON, applying the two-way patch to
//! `original` or the three-way patch to `current`), kubectl scenarios, server-side apply and
//! property tests.

use super::*;
use serde_json::{json, Value};

fn smp(doc: Value, patch: Value) -> Value {
    strategic_merge_patch(&doc, &patch, PatchKind::TestMergeItem).unwrap()
}

fn smp_err(doc: Value, patch: Value) -> String {
    strategic_merge_patch(&doc, &patch, PatchKind::TestMergeItem)
        .unwrap_err()
        .to_string()
}

// ---- customStrategicMergePatchTestCaseData ------------------------------------------------

#[test]
fn upstream_custom_cases() {
    // unique scalars when merging lists
    assert_eq!(
        smp(
            json!({"mergingIntList": [1, 2]}),
            json!({"mergingIntList": [2, 3]})
        ),
        json!({"mergingIntList": [1, 2, 3]})
    );
    // delete map from nested map
    assert_eq!(
        smp(
            json!({"simpleMap": {"key1": 1, "key2": 1}}),
            json!({"simpleMap": {"$patch": "delete"}})
        ),
        json!({"simpleMap": {}})
    );
    // delete all items from merging list
    assert_eq!(
        smp(
            json!({"mergingList": [{"name": 1}, {"name": 2}]}),
            json!({"mergingList": [{"$patch": "replace"}]})
        ),
        json!({"mergingList": []})
    );
    // merge empty merging lists
    assert_eq!(
        smp(json!({"mergingList": []}), json!({"mergingList": []})),
        json!({"mergingList": []})
    );
    // delete all keys from map
    assert_eq!(
        smp(json!({"name": 1, "value": 1}), json!({"$patch": "replace"})),
        json!({})
    );
    // add key and delete all keys from map
    assert_eq!(
        smp(
            json!({"name": 1, "value": 1}),
            json!({"other": "a", "$patch": "replace"})
        ),
        json!({"other": "a"})
    );
    // delete all duplicate entries in a merging list
    assert_eq!(
        smp(
            json!({"mergingList": [{"name": 1}, {"name": 1}, {"name": 2, "value": "a"}, {"name": 3}, {"name": 3}]}),
            json!({"mergingList": [{"name": 1, "$patch": "delete"}, {"name": 3, "$patch": "delete"}]})
        ),
        json!({"mergingList": [{"name": 2, "value": "a"}]})
    );
    // retainKeys map can add / change / delete a field when no retainKeys directive present
    assert_eq!(
        smp(
            json!({"retainKeysMap": {"name": "foo"}}),
            json!({"retainKeysMap": {"value": "bar"}})
        ),
        json!({"retainKeysMap": {"name": "foo", "value": "bar"}})
    );
    assert_eq!(
        smp(
            json!({"retainKeysMap": {"name": "foo", "value": "a"}}),
            json!({"retainKeysMap": {"value": "b"}})
        ),
        json!({"retainKeysMap": {"name": "foo", "value": "b"}})
    );
    assert_eq!(
        smp(
            json!({"retainKeysMap": {"name": "foo", "value": "a"}}),
            json!({"retainKeysMap": {"value": null}})
        ),
        json!({"retainKeysMap": {"name": "foo"}})
    );
    // retainKeys map merge an empty map
    assert_eq!(
        smp(
            json!({"retainKeysMap": {"name": "foo", "value": "a"}}),
            json!({"retainKeysMap": {}})
        ),
        json!({"retainKeysMap": {"name": "foo", "value": "a"}})
    );
    // retainKeys list can add / change / delete a field when no retainKeys directive present
    assert_eq!(
        smp(
            json!({"retainKeysMergingList": [{"name": "bar"}, {"name": "foo"}]}),
            json!({"retainKeysMergingList": [{"name": "foo", "value": "a"}]})
        ),
        json!({"retainKeysMergingList": [{"name": "bar"}, {"name": "foo", "value": "a"}]})
    );
    assert_eq!(
        smp(
            json!({"retainKeysMergingList": [{"name": "bar"}, {"name": "foo", "value": "a"}]}),
            json!({"retainKeysMergingList": [{"name": "foo", "value": null}]})
        ),
        json!({"retainKeysMergingList": [{"name": "bar"}, {"name": "foo"}]})
    );
    // preserve the order from the patch in a merging list
    assert_eq!(
        smp(
            json!({"mergingList": [{"name": 1}, {"name": 2, "value": "b"}, {"name": 3}]}),
            json!({"mergingList": [{"name": 3, "value": "c"}, {"name": 1, "value": "a"}, {"name": 2, "other": "x"}]})
        ),
        json!({"mergingList": [{"name": 3, "value": "c"}, {"name": 1, "value": "a"}, {"name": 2, "value": "b", "other": "x"}]})
    );
    // preserve the order from the patch in a merging list 2
    assert_eq!(
        smp(
            json!({"mergingList": [{"name": 1}, {"name": 2, "value": "b"}, {"name": 3}]}),
            json!({"mergingList": [{"name": 3, "value": "c"}, {"name": 1, "value": "a"}]})
        ),
        json!({"mergingList": [{"name": 2, "value": "b"}, {"name": 3, "value": "c"}, {"name": 1, "value": "a"}]})
    );
    // preserve the order from the patch in a merging int list (two cases)
    assert_eq!(
        smp(
            json!({"mergingIntList": [1, 2, 3]}),
            json!({"mergingIntList": [3, 1, 2]})
        ),
        json!({"mergingIntList": [3, 1, 2]})
    );
    assert_eq!(
        smp(
            json!({"mergingIntList": [1, 2, 3]}),
            json!({"mergingIntList": [3, 1]})
        ),
        json!({"mergingIntList": [2, 3, 1]})
    );
}

// ---- customStrategicMergePatchRawTestCases ------------------------------------------------

#[test]
fn upstream_custom_raw_cases() {
    assert_eq!(
        smp(
            json!({"mergingList": [{"name": 1}, {"name": 3}]}),
            json!({"$setElementOrder/mergingList": [{"name": 3}, {"name": 2}, {"name": 1}],
                   "mergingList": [{"name": 3, "value": 3}, {"name": 1, "value": 1}]})
        ),
        json!({"mergingList": [{"name": 3, "value": 3}, {"name": 1, "value": 1}]})
    );
    assert_eq!(
        smp(
            json!({"mergingIntList": [1, 3]}),
            json!({"$setElementOrder/mergingIntList": [3, 2, 1]})
        ),
        json!({"mergingIntList": [3, 1]})
    );
    assert!(smp_err(
        json!({"mergingList": [{"name": 1}, {"name": 3}, {"name": 2}]}),
        json!({"$setElementOrder/mergingList": [{"name": 1}, {"name": 2}, {"name": 3}],
               "mergingList": [{"name": 3, "value": 3}, {"name": 1, "value": 1}]})
    )
    .contains("doesn't match"));
    assert!(smp_err(
        json!({"mergingIntList": [1, 3, 2]}),
        json!({"$setElementOrder/mergingIntList": [1, 2, 3], "mergingIntList": [3, 1]})
    )
    .contains("doesn't match"));
    let e = strategic_merge_patch(
        &json!({"mergingList": [{"name": 1, "value": "a"}]}),
        &json!({"mergingList": [{"value": "b"}]}),
        PatchKind::TestMergeItem,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "map: map[value:b] does not contain declared merge key: name"
    );
    assert_eq!(e.to_status().code, 500);
    // $deleteFromPrimitiveList of nonexistent item / on empty list / on missing list / with and without merge strategy
    assert_eq!(
        smp(
            json!({"mergingIntList": [1, 2]}),
            json!({"$deleteFromPrimitiveList/mergingIntList": [3]})
        ),
        json!({"mergingIntList": [1, 2]})
    );
    assert_eq!(
        smp(
            json!({"mergingIntList": null}),
            json!({"$deleteFromPrimitiveList/mergingIntList": [3]})
        ),
        json!({"mergingIntList": null})
    );
    assert_eq!(
        smp(
            json!({"foo": ["bar"]}),
            json!({"$deleteFromPrimitiveList/mergingIntList": [3]})
        ),
        json!({"foo": ["bar"]})
    );
    assert_eq!(
        smp(
            json!({"mergingIntList": [1, 2, 3]}),
            json!({"$deleteFromPrimitiveList/mergingIntList": [2]})
        ),
        json!({"mergingIntList": [1, 3]})
    );
    assert_eq!(
        smp(
            json!({"nonMergingIntList": [1, 2, 3]}),
            json!({"$deleteFromPrimitiveList/nonMergingIntList": [2]})
        ),
        json!({"nonMergingIntList": [1, 3]})
    );
}

// ---- createStrategicMergePatchTestCaseData / strategicMergePatchRawTestCases (three-way) ----

#[test]
fn upstream_three_way_cases() {
    // nil original / add field to map
    assert_eq!(
        smp(json!({"name": 1, "other": "a"}), json!({"value": 1})),
        json!({"name": 1, "other": "a", "value": 1})
    );
    // add field and delete field from map
    assert_eq!(
        smp(
            json!({"name": 1, "other": "a"}),
            json!({"name": null, "value": 1})
        ),
        json!({"other": "a", "value": 1})
    );
    // delete field from nested map with conflict
    assert_eq!(
        smp(
            json!({"simpleMap": {"key1": "a", "key2": 1, "other": "a"}}),
            json!({"simpleMap": {"key1": 1, "key2": null}})
        ),
        json!({"simpleMap": {"key1": 1, "other": "a"}})
    );
    // replace list of scalars with conflict
    assert_eq!(
        smp(
            json!({"nonMergingIntList": [1, 4]}),
            json!({"nonMergingIntList": [2, 3]})
        ),
        json!({"nonMergingIntList": [2, 3]})
    );
    // delete all maps from merging list with conflict / from empty merging list
    let del =
        json!({"mergingList": [{"name": 1, "$patch": "delete"}, {"name": 2, "$patch": "delete"}]});
    assert_eq!(
        smp(
            json!({"mergingList": [{"name": 1, "other": "a"}, {"name": 2, "other": "b"}]}),
            del.clone()
        ),
        json!({"mergingList": []})
    );
    assert_eq!(
        smp(json!({"mergingList": []}), del),
        json!({"mergingList": []})
    );
    // defined null values should propagate overwrite current fields (with conflict)
    assert_eq!(
        smp(
            json!({"name": "a", "other": "a"}),
            json!({"name": 1, "value": 1, "other": null})
        ),
        json!({"name": 1, "value": 1})
    );
    // retainKeys map with no change should not be present
    assert_eq!(
        smp(
            json!({"name": "a", "other": "c", "retainKeysMap": {"name": "foo"}}),
            json!({"value": "b"})
        ),
        json!({"name": "a", "other": "c", "retainKeysMap": {"name": "foo"}, "value": "b"})
    );
    // nested patch merge with empty list
    assert_eq!(
        smp(
            json!({"name": "hi", "mergingList": [{"name": "hello2"}]}),
            json!({"$setElementOrder/mergingList": [{"name": "hello"}, {"name": "doesntexist"}],
                   "mergingList": [{"name": "hello"}, {"$patch": "delete", "name": "doesntexist"}]})
        ),
        json!({"name": "hi", "mergingList": [{"name": "hello"}, {"name": "hello2"}]})
    );
    assert_eq!(
        smp(
            json!({"name": "hi"}),
            json!({"mergingList": [{"name": "hello"}, {"$patch": "delete", "name": "doesntexist"}]})
        ),
        json!({"name": "hi", "mergingList": [{"name": "hello"}]})
    );
    // delete items in lists of scalars / all duplicates / add and delete
    let p = json!({"$setElementOrder/mergingIntList": [1, 2], "$deleteFromPrimitiveList/mergingIntList": [3]});
    assert_eq!(
        smp(json!({"mergingIntList": [1, 2, 3, 4]}), p.clone()),
        json!({"mergingIntList": [1, 2, 4]})
    );
    assert_eq!(
        smp(json!({"mergingIntList": [1, 2, 3, 3, 4]}), p),
        json!({"mergingIntList": [1, 2, 4]})
    );
    assert_eq!(
        smp(
            json!({"mergingIntList": [1, 2, 3]}),
            json!({"$setElementOrder/mergingIntList": [1, 2, 4], "$deleteFromPrimitiveList/mergingIntList": [3], "mergingIntList": [4]})
        ),
        json!({"mergingIntList": [1, 2, 4]})
    );
    // merge lists of maps
    assert_eq!(
        smp(
            json!({"mergingList": [{"name": 1, "other": "a"}, {"name": 2, "value": 2, "other": "b"}]}),
            json!({"$setElementOrder/mergingList": [{"name": 4}, {"name": 1}, {"name": 2}, {"name": 3}],
                   "mergingList": [{"name": 4, "value": 4}, {"name": 3, "value": 3}]})
        ),
        json!({"mergingList": [{"name": 4, "value": 4}, {"name": 1, "other": "a"}, {"name": 2, "value": 2, "other": "b"}, {"name": 3, "value": 3}]})
    );
    // merge lists of maps with conflict
    assert_eq!(
        smp(
            json!({"mergingList": [{"name": 1, "other": "a"}, {"name": 2, "value": 3, "other": "b"}]}),
            json!({"$setElementOrder/mergingList": [{"name": 1}, {"name": 2}, {"name": 3}],
                   "mergingList": [{"name": 2, "value": 2}, {"name": 3, "value": 3}]})
        ),
        json!({"mergingList": [{"name": 1, "other": "a"}, {"name": 2, "value": 2, "other": "b"}, {"name": 3, "value": 3}]})
    );
}

#[test]
fn retain_keys_directive() {
    // The shape kubectl sends when switching a Deployment strategy to Recreate.
    let live = json!({"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%"}}, "replicas": 1}});
    let patch = json!({"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": null, "type": "Recreate"}}});
    assert_eq!(
        strategic_merge_patch(&live, &patch, "Deployment").unwrap(),
        json!({"spec": {"strategy": {"type": "Recreate"}, "replicas": 1}})
    );
    let e = smp_err(
        json!({"retainKeysMap": {"name": "a"}}),
        json!({"retainKeysMap": {"$retainKeys": ["name"], "value": "x"}}),
    );
    assert_eq!(e, "invalid patch format of retainKeys");
    assert_eq!(
        smp(
            json!({"retainKeysMap": {"name": "a", "value": "b", "other": "c"}}),
            json!({"retainKeysMap": {"$retainKeys": ["name", "value"], "value": "x"}})
        ),
        json!({"retainKeysMap": {"name": "a", "value": "x"}})
    );
    let e = strategic_merge_patch(
        &json!({}),
        &json!({"retainKeysMap": {"$retainKeys": "name"}}),
        PatchKind::TestMergeItem,
    )
    .unwrap_err();
    assert_eq!(e.to_status().code, 400);
}

#[test]
fn errors_map_to_apiserver_statuses() {
    let e = smp_err(json!({"a": [[1]]}), json!({"mergingIntList": [[1]]}));
    assert_eq!(e, "lists of lists are not supported");
    let st = strategic_merge_patch(
        &json!({}),
        &json!({"mergingIntList": [[1]]}),
        PatchKind::TestMergeItem,
    )
    .unwrap_err()
    .to_status();
    assert_eq!(
        (st.code, st.message.as_str()),
        (
            422,
            "the server rejected our request due to an error in our request"
        )
    );
    let e = strategic_merge_patch(
        &json!({"mergingList": [{"name": 1}, {"name": 3}, {"name": 2}]}),
        &json!({"$setElementOrder/mergingList": [{"name": 1}, {"name": 2}, {"name": 3}], "mergingList": [{"name": 3}, {"name": 1}]}),
        PatchKind::TestMergeItem,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "the order in patch list:\n[map[name:3] map[name:1]]\n doesn't match $setElementOrder list:\n[map[name:1] map[name:2] map[name:3]]"
    );
    let e = strategic_merge_patch(
        &json!({}),
        &json!({"$patch": "merge"}),
        PatchKind::TestMergeItem,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "unknown patch type: merge in map: map[$patch:merge]"
    );
    let e = strategic_merge_patch(&json!({}), &json!([1]), "Pod").unwrap_err();
    assert_eq!(e.to_status().code, 400);
    assert_eq!(
        strategic_merge_patch(&json!({"a": 1}), &Value::Null, "Pod").unwrap(),
        json!({"a": 1})
    );
}

// ---- kubectl scenarios ---------------------------------------------------------------------

#[test]
fn kubectl_client_side_apply_pod_patch() {
    let live = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default", "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "old"}},
        "spec": {"containers": [{"name": "c", "image": "nginx:1.25", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "x"}],
                                  "ports": [{"containerPort": 80, "protocol": "TCP"}]}],
                 "tolerations": [{"key": "a", "operator": "Exists"}]}
    });
    let patch = json!({
        "metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": "new"}},
        "spec": {"$setElementOrder/containers": [{"name": "c"}],
                 "containers": [{"$setElementOrder/env": [{"name": "A"}], "env": [{"name": "A", "value": "2"}, {"$patch": "delete", "name": "B"}],
                                 "image": "nginx:1.26", "name": "c"}],
                 "tolerations": [{"key": "b", "operator": "Exists"}]}
    });
    let out = strategic_merge_patch(&live, &patch, "Pod").unwrap();
    assert_eq!(
        out["spec"],
        json!({"containers": [{"name": "c", "image": "nginx:1.26", "env": [{"name": "A", "value": "2"}],
                               "ports": [{"containerPort": 80, "protocol": "TCP"}]}],
               "tolerations": [{"key": "b", "operator": "Exists"}]})
    );
    assert_eq!(
        out["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"],
        "new"
    );
}

#[test]
fn service_ports_merge_by_port_and_atomic_cluster_ips() {
    let live = json!({"spec": {"ports": [{"port": 80, "protocol": "TCP", "targetPort": 8080}, {"port": 443, "protocol": "TCP"}],
                               "clusterIPs": ["10.0.0.1", "fd00::1"], "ipFamilies": ["IPv4", "IPv6"], "type": "ClusterIP"}});
    let patch = json!({"spec": {"$setElementOrder/ports": [{"port": 443}, {"port": 80}], "ports": [{"port": 80, "targetPort": 9090}],
                                "ipFamilies": ["IPv4"], "type": "NodePort"}});
    let out = strategic_merge_patch(&live, &patch, "Service").unwrap();
    assert_eq!(
        out["spec"]["ports"],
        json!([{"port": 443, "protocol": "TCP"}, {"port": 80, "protocol": "TCP", "targetPort": 9090}])
    );
    assert_eq!(out["spec"]["ipFamilies"], json!(["IPv4"]));
    assert_eq!(out["spec"]["clusterIPs"], json!(["10.0.0.1", "fd00::1"]));
    // Unknown kinds: lists replaced even where a built-in kind would merge them.
    let out = strategic_merge_patch(&live, &json!({"spec": {"ports": [{"port": 81}]}}), "Widget")
        .unwrap();
    assert_eq!(out["spec"]["ports"], json!([{"port": 81}]));
}

#[test]
fn finalizers_and_owner_references() {
    let live = json!({"metadata": {"finalizers": ["a", "b"], "ownerReferences": [{"uid": "1", "name": "x"}]}});
    let patch = json!({"metadata": {"$setElementOrder/finalizers": ["c", "a"], "$deleteFromPrimitiveList/finalizers": ["b"], "finalizers": ["c"],
                                    "ownerReferences": [{"uid": "2", "name": "y"}]}});
    let out = strategic_merge_patch(&live, &patch, "Namespace").unwrap();
    assert_eq!(out["metadata"]["finalizers"], json!(["c", "a"]));
    // Without $setElementOrder, patch items come first (mergeSortedSlice), as upstream.
    assert_eq!(
        out["metadata"]["ownerReferences"],
        json!([{"uid": "2", "name": "y"}, {"uid": "1", "name": "x"}])
    );
}

#[test]
fn deployment_template_reaches_pod_spec() {
    let live = json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "1"}, {"name": "b", "image": "2"}],
                                                      "volumes": [{"name": "v", "emptyDir": {}}]}}}});
    let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "b", "image": "3"}],
                                                       "volumes": [{"name": "v", "$retainKeys": ["configMap", "name"], "configMap": {"name": "cm"}}]}}}});
    let out = strategic_merge_patch(&live, &patch, "Deployment").unwrap();
    assert_eq!(
        out["spec"]["template"]["spec"]["containers"],
        json!([{"name": "a", "image": "1"}, {"name": "b", "image": "3"}])
    );
    assert_eq!(
        out["spec"]["template"]["spec"]["volumes"],
        json!([{"name": "v", "configMap": {"name": "cm"}}])
    );
}

// ---- server-side apply ---------------------------------------------------------------------

const T0: &str = "2026-01-01T00:00:00Z";
const T1: &str = "2026-01-01T00:01:00Z";
const T2: &str = "2026-01-01T00:02:00Z";

fn svc(ty: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
           "spec": {"type": ty, "selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}})
}

#[test]
fn apply_creates_with_managed_fields_encoding() {
    let out = apply(
        None,
        &svc("ClusterIP"),
        "kubectl",
        false,
        "v1",
        T0,
        "Service",
    )
    .unwrap();
    let mf = &out["metadata"]["managedFields"];
    assert_eq!(mf.as_array().unwrap().len(), 1);
    assert_eq!(mf[0]["manager"], "kubectl");
    assert_eq!(mf[0]["operation"], "Apply");
    assert_eq!(mf[0]["apiVersion"], "v1");
    assert_eq!(mf[0]["time"], T0);
    assert_eq!(mf[0]["fieldsType"], "FieldsV1");
    assert_eq!(
        serde_json::to_string(&mf[0]["fieldsV1"]).unwrap(),
        r#"{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:ports":{"k:{\"port\":80,\"protocol\":\"TCP\"}":{".":{},"f:port":{},"f:targetPort":{}}},"f:selector":{},"f:type":{}}}"#
    );
    // Second identical apply: no change at all, time kept (idempotent).
    let again = apply(
        Some(&out),
        &svc("ClusterIP"),
        "kubectl",
        false,
        "v1",
        T1,
        "Service",
    )
    .unwrap();
    assert_eq!(again, out);
}

#[test]
fn create_tracks_update_manager_like_apiserver() {
    let mut obj = svc("ClusterIP");
    obj["spec"]["ports"][0]["protocol"] = json!("TCP");
    track_update(
        None,
        &mut obj,
        "kubectl-client-side-apply",
        Operation::Update,
        "v1",
        T0,
        "Service",
    );
    let mf = &obj["metadata"]["managedFields"][0];
    assert_eq!(mf["operation"], "Update");
    assert_eq!(
        serde_json::to_string(&mf["fieldsV1"]).unwrap(),
        r#"{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:ports":{".":{},"k:{\"port\":80,\"protocol\":\"TCP\"}":{".":{},"f:port":{},"f:protocol":{},"f:targetPort":{}}},"f:selector":{},"f:type":{}}}"#
    );
}

#[test]
fn apply_conflicts_with_update_manager_and_force_moves_ownership() {
    let mut live = svc("ClusterIP");
    track_update(
        None,
        &mut live,
        "kubectl-client-side-apply",
        Operation::Update,
        "v1",
        T0,
        "Service",
    );
    // Server-allocated clusterIP, not owned by anybody.
    live["spec"]["clusterIP"] = json!("10.96.0.10");
    let mut cfg = svc("NodePort");
    cfg["spec"]["clusterIP"] = json!("10.96.0.10");
    let err = apply(Some(&live), &cfg, "kubectl", false, "v1", T1, "Service").unwrap_err();
    let st = err.to_status();
    assert_eq!(st.code, 409);
    assert_eq!(st.reason, "Conflict");
    assert_eq!(st.message, "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using v1: .spec.type");
    let cause = &st.details.as_ref().unwrap().causes[0];
    assert_eq!(cause.reason.as_deref(), Some("FieldManagerConflict"));
    assert_eq!(
        cause.message.as_deref(),
        Some("conflict with \"kubectl-client-side-apply\" using v1")
    );
    assert_eq!(cause.field.as_deref(), Some(".spec.type"));

    let out = apply(Some(&live), &cfg, "kubectl", true, "v1", T1, "Service").unwrap();
    assert_eq!(out["spec"]["type"], "NodePort");
    let mf = out["metadata"]["managedFields"].as_array().unwrap();
    assert_eq!(mf[0]["manager"], "kubectl");
    assert_eq!(mf[1]["manager"], "kubectl-client-side-apply");
    let upd = FieldSet::from_fields_v1(&mf[1]["fieldsV1"]).unwrap();
    assert!(!upd
        .iter()
        .any(|p| p.last() == Some(&PathElement::Field("type".into()))));
    let app = FieldSet::from_fields_v1(&mf[0]["fieldsV1"]).unwrap();
    assert!(app
        .iter()
        .any(|p| p.last() == Some(&PathElement::Field("clusterIP".into()))));
}

#[test]
fn several_conflicts_message() {
    let mut live = svc("ClusterIP");
    live["spec"]["sessionAffinity"] = json!("None");
    track_update(
        None,
        &mut live,
        "kubectl-client-side-apply",
        Operation::Update,
        "v1",
        T0,
        "Service",
    );
    let mut cfg = svc("NodePort");
    cfg["spec"]["sessionAffinity"] = json!("ClientIP");
    let err = apply(Some(&live), &cfg, "kubectl", false, "v1", T1, "Service").unwrap_err();
    assert_eq!(
        err.to_status().message,
        "Apply failed with 2 conflicts: conflicts with \"kubectl-client-side-apply\" using v1:\n- .spec.sessionAffinity\n- .spec.type"
    );
    let ApplyError::Conflicts(c) = err else {
        panic!()
    };
    assert_eq!(c.conflicts.len(), 2);
}

#[test]
fn apply_conflicts_between_appliers_and_shared_ownership() {
    let a = apply(None, &svc("ClusterIP"), "alice", false, "v1", T0, "Service").unwrap();
    // Same value: no conflict, shared ownership.
    let b = apply(
        Some(&a),
        &svc("ClusterIP"),
        "bob",
        false,
        "v1",
        T1,
        "Service",
    )
    .unwrap();
    assert_eq!(b["metadata"]["managedFields"].as_array().unwrap().len(), 2);
    let err = apply(
        Some(&b),
        &svc("NodePort"),
        "bob",
        false,
        "v1",
        T2,
        "Service",
    )
    .unwrap_err();
    assert_eq!(
        err.to_status().message,
        "Apply failed with 1 conflict: conflict with \"alice\": .spec.type"
    );
}

#[test]
fn apply_prunes_fields_dropped_from_config() {
    let mut cfg = svc("ClusterIP");
    cfg["metadata"]["labels"]["tier"] = json!("fe");
    cfg["spec"]["ports"] = json!([{"port": 80, "targetPort": 8080}, {"port": 443}]);
    let a = apply(None, &cfg, "kubectl", false, "v1", T0, "Service").unwrap();
    // Another manager owns the 443 port's name.
    let mut b = a.clone();
    b["spec"]["ports"][1]["name"] = json!("https");
    track_update(
        Some(&a),
        &mut b,
        "other",
        Operation::Update,
        "v1",
        T1,
        "Service",
    );
    let c = apply(
        Some(&b),
        &svc("ClusterIP"),
        "kubectl",
        false,
        "v1",
        T2,
        "Service",
    )
    .unwrap();
    assert_eq!(c["metadata"]["labels"], json!({"app": "web"}));
    // The port item stays because `other` still owns a field in it.
    assert_eq!(
        c["spec"]["ports"],
        json!([{"port": 80, "targetPort": 8080}, {"port": 443, "name": "https"}])
    );
}

#[test]
fn first_apply_on_untracked_object_conflicts_with_before_first_apply() {
    let live = svc("ClusterIP");
    let err = apply(
        Some(&live),
        &svc("NodePort"),
        "kubectl",
        false,
        "v1",
        T1,
        "Service",
    )
    .unwrap_err();
    assert_eq!(
        err.to_status().message,
        "Apply failed with 1 conflict: conflict with \"before-first-apply\" using v1: .spec.type"
    );
}

#[test]
fn update_takes_ownership_and_keeps_time_when_unchanged() {
    let a = apply(
        None,
        &svc("ClusterIP"),
        "kubectl",
        false,
        "v1",
        T0,
        "Service",
    )
    .unwrap();
    let mut b = a.clone();
    b["spec"]["type"] = json!("NodePort");
    track_update(
        Some(&a),
        &mut b,
        "kubectl-edit",
        Operation::Update,
        "v1",
        T1,
        "Service",
    );
    let mf = b["metadata"]["managedFields"].as_array().unwrap();
    assert_eq!(mf.len(), 2);
    assert_eq!(mf[1]["manager"], "kubectl-edit");
    assert_eq!(
        serde_json::to_string(&mf[1]["fieldsV1"]).unwrap(),
        r#"{"f:spec":{"f:type":{}}}"#
    );
    // A no-op update changes nothing.
    let mut c = b.clone();
    track_update(
        Some(&b),
        &mut c,
        "kubectl-edit",
        Operation::Update,
        "v1",
        T2,
        "Service",
    );
    assert_eq!(c, b);
    // Status is never owned through the main resource.
    let mut d = b.clone();
    d["status"] = json!({"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}});
    track_update(
        Some(&b),
        &mut d,
        "ctrl",
        Operation::Update,
        "v1",
        T2,
        "Service",
    );
    assert_eq!(
        d["metadata"]["managedFields"],
        b["metadata"]["managedFields"]
    );
}

#[test]
fn apply_by_kubectl_syncs_last_applied_annotation() {
    let mut live = svc("ClusterIP");
    live["metadata"]["annotations"] =
        json!({"kubectl.kubernetes.io/last-applied-configuration": "{}\n"});
    track_update(
        None,
        &mut live,
        "kubectl-client-side-apply",
        Operation::Update,
        "v1",
        T0,
        "Service",
    );
    let out = apply(
        Some(&live),
        &svc("ClusterIP"),
        "kubectl",
        false,
        "v1",
        T1,
        "Service",
    )
    .unwrap();
    assert_eq!(
        out["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"],
        "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"labels\":{\"app\":\"web\"},\"name\":\"web\",\"namespace\":\"default\"},\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":8080}],\"selector\":{\"app\":\"web\"},\"type\":\"ClusterIP\"}}\n"
    );
}

#[test]
fn apply_pod_containers_merge_by_name() {
    let cfg = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                     "spec": {"containers": [{"name": "a", "image": "x", "ports": [{"containerPort": 80}]}]}});
    let live = apply(None, &cfg, "kubectl", false, "v1", T0, "Pod").unwrap();
    let fv1 = serde_json::to_string(&live["metadata"]["managedFields"][0]["fieldsV1"]).unwrap();
    assert_eq!(
        fv1,
        r#"{"f:spec":{"f:containers":{"k:{\"name\":\"a\"}":{".":{},"f:image":{},"f:name":{},"f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}}}}"#
    );
    let sidecar = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                         "spec": {"containers": [{"name": "b", "image": "y"}]}});
    let out = apply(Some(&live), &sidecar, "injector", false, "v1", T1, "Pod").unwrap();
    let names: Vec<&str> = out["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a", "b"]);
}

// ---- property tests ------------------------------------------------------------------------

mod props {
    use super::*;
    use proptest::prelude::*;

    fn scalar() -> impl Strategy<Value = Value> {
        prop_oneof![
            any::<bool>().prop_map(Value::Bool),
            (-1000i64..1000).prop_map(Value::from),
            "[a-z]{0,4}".prop_map(Value::String),
        ]
    }

    /// JSON without nulls (so that documents are valid merge-patch targets).
    fn doc() -> impl Strategy<Value = Value> {
        scalar().prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
                prop::collection::btree_map("[a-d]", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn object() -> impl Strategy<Value = Value> {
        prop::collection::btree_map("[a-d]", doc(), 0..4)
            .prop_map(|m| Value::Object(m.into_iter().collect()))
    }

    /// Arbitrary JSON, nulls and directive-looking keys included.
    fn wild() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            scalar(),
            Just(json!("replace")),
            Just(json!("delete"))
        ];
        leaf.prop_recursive(4, 32, 4, |inner| {
            let key = prop_oneof![
                "[a-c]".prop_map(String::from),
                Just("$patch".to_string()),
                Just("$retainKeys".to_string()),
                Just("$setElementOrder/containers".to_string()),
                Just("$deleteFromPrimitiveList/finalizers".to_string()),
                Just("containers".to_string()),
                Just("name".to_string()),
                Just("spec".to_string()),
                Just("metadata".to_string()),
                Just("finalizers".to_string()),
            ];
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
                prop::collection::btree_map(key, inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// A JSON patch operation on paths of a small document.
    fn json_op() -> impl Strategy<Value = Value> {
        let path = prop_oneof![
            Just("".to_string()),
            "(/[a-d]){1,3}".prop_map(String::from),
            "(/[a-d]){0,2}/-".prop_map(String::from),
        ];
        (
            prop_oneof![Just("add"), Just("copy"), Just("move"), Just("remove"), Just("replace"), Just("test")],
            path.clone(),
            path,
            doc(),
        )
            .prop_map(|(op, path, from, value)| json!({"op": op, "path": path, "from": from, "value": value}))
    }

    proptest! {
        /// Whatever a JSON patch does, the result is at most the document, plus the patch's own
        /// values, plus the copy limit: a patch cannot make memory grow beyond that.
        #[test]
        fn json_patch_growth_is_bounded(d in object(), ops in prop::collection::vec(json_op(), 0..40)) {
            let patch = Value::Array(ops);
            if let Ok(out) = json_patch(&d, &patch) {
                prop_assert!(go_json_len(&out) <= go_json_len(&d) + go_json_len(&patch) + JSON_PATCH_MAX_COPY_BYTES);
            }
            let _ = json_patch_strict_errors(&patch);
        }
    }

    proptest! {
        #[test]
        fn merge_patch_round_trip(a in object(), b in object()) {
            let p = create_merge_patch(&a, &b);
            prop_assert_eq!(merge_patch(&a, &p).unwrap(), b);
        }

        #[test]
        fn smp_without_directives_on_unknown_kind_is_merge_patch(a in object(), b in object()) {
            let p = create_merge_patch(&a, &b);
            prop_assert_eq!(strategic_merge_patch(&a, &p, "Widget").unwrap(), merge_patch(&a, &p).unwrap());
        }

        #[test]
        fn smp_never_panics(doc in wild(), patch in wild(), kind in prop_oneof![Just("Pod"), Just("Deployment"), Just("Widget")]) {
            let _ = strategic_merge_patch(&doc, &patch, kind);
        }

        #[test]
        fn json_patch_never_panics(doc in wild(), ops in prop::collection::vec(
            (prop_oneof![Just("add"), Just("remove"), Just("replace"), Just("move"), Just("copy"), Just("test")],
             prop_oneof![Just("/a"), Just("/a/0"), Just("/b/-"), Just(""), Just("/a/b/c"), Just("/-1")], wild()), 0..4)) {
            let p = Value::Array(ops.into_iter().map(|(op, path, v)| json!({"op": op, "path": path, "from": "/a", "value": v})).collect());
            let _ = json_patch(&doc, &p);
        }

        #[test]
        fn apply_twice_is_idempotent_and_conflict_free(labels in prop::collection::btree_map("[a-c]", "[a-z]{1,3}", 0..3),
                                                       ports in prop::collection::btree_set(1u16..5, 0..3),
                                                       ty in prop_oneof![Just("ClusterIP"), Just("NodePort")]) {
            let cfg = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "labels": labels},
                             "spec": {"type": ty, "ports": ports.iter().map(|p| json!({"port": p})).collect::<Vec<_>>()}});
            let once = apply(None, &cfg, "kubectl", false, "v1", T0, "Service").unwrap();
            let twice = apply(Some(&once), &cfg, "kubectl", false, "v1", T1, "Service").unwrap();
            prop_assert_eq!(&once, &twice);
            // Another applier with the same values never conflicts.
            prop_assert!(apply(Some(&twice), &cfg, "other", false, "v1", T2, "Service").is_ok());
        }

        #[test]
        fn apply_never_panics(live in wild(), cfg in wild(), force in any::<bool>()) {
            let live = if live.is_object() { Some(live) } else { None };
            let _ = apply(live.as_ref(), &cfg, "m", force, "v1", T0, "Pod");
        }
    }
}

#[test]
fn status_subresource_and_manager_cap() {
    let a = apply(
        None,
        &svc("LoadBalancer"),
        "kubectl",
        false,
        "v1",
        T0,
        "Service",
    )
    .unwrap();
    let mut b = a.clone();
    b["status"] = json!({"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}});
    track_subresource_update(
        &a,
        &mut b,
        "cloud-controller",
        "status",
        "v1",
        T1,
        "Service",
    );
    let mf = b["metadata"]["managedFields"].as_array().unwrap();
    assert_eq!(mf[1]["manager"], "cloud-controller");
    assert_eq!(mf[1]["subresource"], "status");
    assert_eq!(
        serde_json::to_string(&mf[1]["fieldsV1"]).unwrap(),
        r#"{"f:status":{"f:loadBalancer":{"f:ingress":{}}}}"#
    );

    let mut cur = a;
    for i in 0..12 {
        let mut next = cur.clone();
        next["metadata"]["labels"][format!("l{i}")] = json!("x");
        track_update(
            Some(&cur),
            &mut next,
            &format!("m{i:02}"),
            Operation::Update,
            "v1",
            &format!("2026-01-01T00:00:{i:02}Z"),
            "Service",
        );
        cur = next;
    }
    let mf = cur["metadata"]["managedFields"].as_array().unwrap();
    let updaters: Vec<&str> = mf
        .iter()
        .filter(|e| e["operation"] == "Update")
        .map(|e| e["manager"].as_str().unwrap())
        .collect();
    assert_eq!(updaters.len(), 10);
    assert!(updaters.contains(&"ancient-changes"));
    assert!(!updaters.contains(&"m00") && !updaters.contains(&"m02") && updaters.contains(&"m03"));
}

#[test]
fn upstream_raw_three_way_merging_list_cases() {
    let order12 = json!([{"name": 1}, {"name": 2}]);
    // add field to map in merging list with conflict
    assert_eq!(
        smp(
            json!({"mergingList": [{"name": 1, "other": "a"}, {"name": 3, "value": 2, "other": "b"}]}),
            json!({"$setElementOrder/mergingList": order12, "mergingList": [{"name": 1, "value": 1}, {"name": 2, "value": 2}]})
        ),
        json!({"mergingList": [{"name": 1, "other": "a", "value": 1}, {"name": 2, "value": 2}, {"name": 3, "value": 2, "other": "b"}]})
    );
    // delete missing map from merging list with conflict
    assert_eq!(
        smp(
            json!({"mergingList": [{"name": 3, "other": "a"}]}),
            json!({"$setElementOrder/mergingList": [{"name": 2}], "mergingList": [{"name": 2}, {"name": 1, "$patch": "delete"}]})
        ),
        json!({"mergingList": [{"name": 2}, {"name": 3, "other": "a"}]})
    );
    // add map and delete map from merging list
    assert_eq!(
        smp(
            json!({"mergingList": [{"name": 1}, {"name": 2, "other": "b"}, {"name": 4, "other": "c"}]}),
            json!({"$setElementOrder/mergingList": [{"name": 2}, {"name": 3}], "mergingList": [{"name": 3}, {"name": 1, "$patch": "delete"}]})
        ),
        json!({"mergingList": [{"name": 2, "other": "b"}, {"name": 4, "other": "c"}, {"name": 3}]})
    );
    // add map and delete map from merging list with conflict
    assert_eq!(
        smp(
            json!({"mergingList": [{"name": 1, "other": "a"}, {"name": 4, "other": "c"}]}),
            json!({"$setElementOrder/mergingList": [{"name": 2}, {"name": 3}],
                   "mergingList": [{"name": 2}, {"name": 3}, {"name": 1, "$patch": "delete"}]})
        ),
        json!({"mergingList": [{"name": 4, "other": "c"}, {"name": 2}, {"name": 3}]})
    );
    // delete field from map in merging list
    assert_eq!(
        smp(
            json!({"mergingList": [{"name": 1, "value": 1, "other": "a"}, {"name": 2, "value": 2, "other": "b"}]}),
            json!({"$setElementOrder/mergingList": order12, "mergingList": [{"name": 1, "value": null}]})
        ),
        json!({"mergingList": [{"name": 1, "other": "a"}, {"name": 2, "value": 2, "other": "b"}]})
    );
    // replace non merging list nested in merging list with value conflict
    assert_eq!(
        smp(
            json!({"mergingList": [{"name": 1, "other": "a", "nonMergingList": [{"name": 1, "value": "c"}]}, {"name": 2, "other": "b"}]}),
            json!({"$setElementOrder/mergingList": order12, "mergingList": [{"name": 1, "nonMergingList": [{"name": 1, "value": 1}]}]})
        ),
        json!({"mergingList": [{"name": 1, "other": "a", "nonMergingList": [{"name": 1, "value": 1}]}, {"name": 2, "other": "b"}]})
    );
}

#[test]
fn update_uses_client_managed_fields_and_skips_untracked_objects() {
    // An existing object without managedFields stays untracked on update.
    let old = svc("ClusterIP");
    let mut new = svc("NodePort");
    track_update(
        Some(&old),
        &mut new,
        "kubectl-edit",
        Operation::Update,
        "v1",
        T1,
        "Service",
    );
    assert!(new["metadata"].get("managedFields").is_none());

    // managedFields sent by the client (kubectl's CSA→SSA migration) replace the stored ones.
    let mut live = svc("ClusterIP");
    track_update(
        None,
        &mut live,
        "kubectl-client-side-apply",
        Operation::Update,
        "v1",
        T0,
        "Service",
    );
    let mut migrated = live.clone();
    let mut entry = migrated["metadata"]["managedFields"][0].clone();
    entry["manager"] = json!("kubectl");
    entry["operation"] = json!("Apply");
    migrated["metadata"]["managedFields"] = json!([entry]);
    track_update(
        Some(&live),
        &mut migrated,
        "kubectl",
        Operation::Update,
        "v1",
        T1,
        "Service",
    );
    let mf = migrated["metadata"]["managedFields"].as_array().unwrap();
    assert_eq!(mf.len(), 1);
    assert_eq!(mf[0]["operation"], "Apply");
    // The next server-side apply by kubectl then owns everything without conflicts.
    assert!(apply(
        Some(&migrated),
        &svc("NodePort"),
        "kubectl",
        false,
        "v1",
        T2,
        "Service"
    )
    .is_ok());
}

#[test]
fn server_side_apply_upgrades_from_client_side_apply() {
    // `kubectl apply` (client-side) created the object; `kubectl apply --server-side` then
    // changes a field it used to manage: no conflict, as on a real cluster.
    let mut live = svc("ClusterIP");
    live["metadata"]["annotations"] = json!({"kubectl.kubernetes.io/last-applied-configuration":
        "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"labels\":{\"app\":\"web\"},\"name\":\"web\",\"namespace\":\"default\"},\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":8080}],\"selector\":{\"app\":\"web\"},\"type\":\"ClusterIP\"}}\n"});
    track_update(
        None,
        &mut live,
        "kubectl-client-side-apply",
        Operation::Update,
        "v1",
        T0,
        "Service",
    );
    let out = apply(
        Some(&live),
        &svc("NodePort"),
        "kubectl",
        false,
        "v1",
        T1,
        "Service",
    )
    .unwrap();
    assert_eq!(out["spec"]["type"], "NodePort");
    // Another field manager gets the conflict.
    let err = apply(
        Some(&live),
        &svc("NodePort"),
        "helm",
        false,
        "v1",
        T1,
        "Service",
    )
    .unwrap_err();
    assert!(matches!(err, ApplyError::Conflicts(_)));
    // And so does kubectl when the live object drifted from the annotation.
    let mut drifted = live.clone();
    drifted["spec"]["selector"] = json!({"app": "other"});
    track_update(
        Some(&live),
        &mut drifted,
        "kubectl-edit",
        Operation::Update,
        "v1",
        T1,
        "Service",
    );
    let err = apply(
        Some(&drifted),
        &svc("NodePort"),
        "kubectl",
        false,
        "v1",
        T2,
        "Service",
    )
    .unwrap_err();
    assert_eq!(
        err.to_status().message,
        "Apply failed with 1 conflict: conflict with \"kubectl-edit\" using v1: .spec.selector"
    );
}

/// The 2.4 KB copy bomb: each copy of `/data` into itself doubles the document; the copy limit
/// (3 MiB in total) stops it after a few doublings with json-patch's text.
#[test]
fn json_patch_copy_bomb_is_stopped_by_the_copy_limit() {
    let doc = json!({"data": {"a": "x".repeat(64)}});
    let ops: Vec<Value> = (0..30)
        .map(|i| json!({"op": "copy", "from": "/data", "path": format!("/data/k{i:02}")}))
        .collect();
    let started = std::time::Instant::now();
    let e = json_patch(&doc, &Value::Array(ops)).unwrap_err();
    assert!(started.elapsed().as_secs() < 10);
    let PatchError::JsonPatchFailed(msg) = &e else {
        panic!("{e:?}")
    };
    assert!(
        msg.starts_with("Unable to complete the copy, the accumulated size increase of copy is ")
            && msg.ends_with(", exceeding the limit 3145728"),
        "{msg}"
    );
    assert_eq!(e.to_status().code, 422);
    // Exactly at the limit still copies.
    let big = json!({"s": "y".repeat(3 * 1024 * 1024 - 2)});
    assert_eq!(go_json_len(&big["s"]), JSON_PATCH_MAX_COPY_BYTES);
    let ok = json_patch(&big, &json!([{"op": "copy", "from": "/s", "path": "/t"}])).unwrap();
    assert_eq!(ok["t"], big["s"]);
    assert!(json_patch(&big, &json!([{"op": "copy", "from": "/s", "path": "/t"}, {"op": "copy", "from": "/s", "path": "/u"}])).is_err());
}

#[test]
fn json_patch_operation_count_is_bounded() {
    let ops = Value::Array(vec![
        json!({"op": "test", "path": "", "value": {}});
        MAX_JSON_PATCH_OPERATIONS + 1
    ]);
    let st = json_patch(&json!({}), &ops).unwrap_err().to_status();
    assert_eq!(st.code, 413);
    assert_eq!(st.message, "Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001");
}

#[test]
fn go_json_length_counts_gos_escapes() {
    assert_eq!(
        go_json_len(&json!({"a": "<&>"})),
        "{\"a\":\"\\u003c\\u0026\\u003e\"}".len() as u64
    );
    assert_eq!(
        go_json_len(&json!([1, true, null, "\n"])),
        "[1,true,null,\"\\n\"]".len() as u64
    );
}

#[test]
fn strategic_errors_are_plain_500s() {
    let st = strategic_merge_patch(&json!({}), &json!({"$patch": 5}), "Pod")
        .unwrap_err()
        .to_status();
    assert_eq!(st.code, 500);
    assert_eq!(st.reason, "");
    assert!(st.details.is_none());
    assert_eq!(
        st.message,
        "unknown patch type: %!s(int64=5) in map: map[$patch:5]"
    );
    let st = strategic_merge_patch(&json!({}), &json!({"a": {"$patch": [1.5, true]}}), "Pod")
        .unwrap_err();
    assert_eq!(
        st.to_string(),
        "unknown patch type: [%!s(float64=1.5) %!s(bool=true)] in map: map[$patch:[1.5 true]]"
    );
}

/// Merging two keyed lists of 20,000 items each (a body of ~1.3 MB) and tracking the fields of
/// the result take time proportional to their length: with linear scans (as upstream's
/// strategicpatch has) it took over 8 minutes for half as many items in a debug build, holding
/// the store's writer all along.
#[test]
fn long_lists_merge_in_linear_time() {
    use serde_json::json;
    let n = 20_000;
    let env: Vec<serde_json::Value> = (0..n)
        .map(|i| json!({"name": format!("E{i}"), "value": "v"}))
        .collect();
    let doc = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"},
        "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "i", "env": env}]}}}});
    let penv: Vec<serde_json::Value> = (0..n)
        .map(|i| json!({"name": format!("P{i}"), "value": "w", "$patch": if i % 2 == 0 { "delete" } else { "merge" }}))
        .filter(|v| v["$patch"] == "delete")
        .chain((0..n).rev().map(|i| json!({"name": format!("E{i}"), "value": "z"})))
        .collect();
    let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "env": penv,
        "$setElementOrder/env": (0..n).rev().map(|i| json!({"name": format!("E{i}")})).collect::<Vec<_>>()}]}}}});
    let started = std::time::Instant::now();
    let out = strategic_merge_patch(&doc, &patch, "Deployment").unwrap();
    let mut tracked = out.clone();
    track_update(
        Some(&doc),
        &mut tracked,
        "m",
        Operation::Update,
        "apps/v1",
        "2020-01-01T00:00:00Z",
        PatchKind::from_kind("Deployment"),
    );
    let took = started.elapsed();
    let merged = out["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap();
    assert_eq!(merged.len(), n);
    assert_eq!(
        merged[0],
        json!({"name": format!("E{}", n - 1), "value": "z"})
    );
    assert!(took.as_secs() < 30, "took {took:?}");
}
