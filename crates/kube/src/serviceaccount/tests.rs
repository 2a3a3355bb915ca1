use super::*;
use serde_json::{json, Value};

fn pod(spec: Value) -> Pod {
    serde_json::from_value(json!({"metadata": {"name": "p", "namespace": "shop"}, "spec": spec}))
        .unwrap()
}

fn sa(v: Value) -> ServiceAccount {
    let mut base = json!({"metadata": {"name": "default", "namespace": "shop"}});
    for (k, val) in v.as_object().unwrap() {
        base[k] = val.clone();
    }
    serde_json::from_value(base).unwrap()
}

fn admitted(mut p: Pod, s: Option<&ServiceAccount>) -> Result<Value, String> {
    admit(&mut p, s, "x7k2p").map_err(|e| e.to_string())?;
    Ok(serde_json::to_value(p).unwrap()["spec"].clone())
}

#[test]
fn the_objects_every_namespace_has() {
    assert_eq!(
        serde_json::to_value(default_service_account("shop")).unwrap(),
        json!({"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": "default", "namespace": "shop"}})
    );
    let cm = root_ca_configmap(
        "shop",
        "-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n",
    );
    assert_eq!(
        serde_json::to_value(&cm).unwrap(),
        json!({"apiVersion": "v1", "kind": "ConfigMap",
            "data": {"ca.crt": "-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n"},
            "metadata": {"name": "kube-root-ca.crt", "namespace": "shop",
                "annotations": {"kubernetes.io/description": DESCRIPTION}}})
    );
    assert_eq!(
        root_ca_configmap_update(
            &cm,
            "-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n"
        ),
        None
    );
    // Edited data or a dropped annotation is put back; other annotations stay.
    let mut edited = cm.clone();
    edited.data = Some(BTreeMap::from([("ca.crt".into(), "mine".into())]));
    edited.metadata.annotations = Some(BTreeMap::from([("team".into(), "a".into())]));
    let fixed = root_ca_configmap_update(&edited, "CA").unwrap();
    assert_eq!(fixed.data.unwrap()["ca.crt"], "CA");
    let a = fixed.metadata.annotations.unwrap();
    assert_eq!(
        (a["team"].as_str(), a[DESCRIPTION_ANNOTATION].as_str()),
        ("a", DESCRIPTION)
    );
}

#[test]
fn admission_defaults_the_service_account_and_mounts_the_token() {
    let spec = admitted(
        pod(json!({"initContainers": [{"name": "i", "image": "busybox"}],
            "containers": [{"name": "c", "image": "nginx"},
                {"name": "own", "image": "nginx", "volumeMounts": [{"name": "mine", "mountPath": DEFAULT_API_TOKEN_MOUNT_PATH}]}],
            "volumes": [{"name": "mine", "emptyDir": {}}]})),
        Some(&sa(json!({}))),
    )
    .unwrap();
    assert_eq!(spec["serviceAccountName"], "default");
    assert_eq!(spec["serviceAccount"], "default");
    let mount = json!({"name": "kube-api-access-x7k2p", "mountPath": DEFAULT_API_TOKEN_MOUNT_PATH, "readOnly": true});
    assert_eq!(spec["initContainers"][0]["volumeMounts"], json!([mount]));
    assert_eq!(spec["containers"][0]["volumeMounts"], json!([mount]));
    // A container that mounts something at the path keeps it.
    assert_eq!(
        spec["containers"][1]["volumeMounts"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        spec["volumes"][1],
        json!({"name": "kube-api-access-x7k2p", "projected": {"defaultMode": 420, "sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
            {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
            {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}]}})
    );
}

#[test]
fn a_missing_service_account_refuses_the_pod_with_upstreams_text() {
    assert_eq!(
        admitted(
            pod(json!({"containers": [{"name": "c", "image": "nginx"}]})),
            None
        ),
        Err(
            "error looking up service account shop/default: serviceaccount \"default\" not found"
                .into()
        )
    );
    assert_eq!(
        admitted(
            pod(
                json!({"serviceAccountName": "robot", "containers": [{"name": "c", "image": "nginx"}]})
            ),
            None
        ),
        Err(
            "error looking up service account shop/robot: serviceaccount \"robot\" not found"
                .into()
        )
    );
    // The deprecated field names it when serviceAccountName is empty (v1 conversion).
    let p =
        pod(json!({"serviceAccount": "legacy", "containers": [{"name": "c", "image": "nginx"}]}));
    assert_eq!(service_account_name(&p), "legacy");
}

#[test]
fn automount_follows_the_pod_then_the_service_account() {
    let c = json!([{"name": "c", "image": "nginx"}]);
    let no_sa_mount = sa(json!({"automountServiceAccountToken": false}));
    let cases = [
        (json!({"containers": c}), sa(json!({})), true),
        (json!({"containers": c}), no_sa_mount.clone(), false),
        (
            json!({"containers": c, "automountServiceAccountToken": true}),
            no_sa_mount,
            true,
        ),
        (
            json!({"containers": c, "automountServiceAccountToken": false}),
            sa(json!({})),
            false,
        ),
    ];
    for (spec, s, mounted) in cases {
        let out = admitted(pod(spec.clone()), Some(&s)).unwrap();
        assert_eq!(out.get("volumes").is_some(), mounted, "{spec} {s:?}");
    }
}

#[test]
fn an_existing_api_access_volume_is_reused() {
    let spec = admitted(
        pod(json!({"containers": [{"name": "c", "image": "nginx"}],
            "volumes": [{"name": "kube-api-access-abcde", "projected": {"sources": []}}]})),
        Some(&sa(json!({}))),
    )
    .unwrap();
    assert_eq!(spec["volumes"].as_array().unwrap().len(), 1);
    assert_eq!(
        spec["containers"][0]["volumeMounts"][0]["name"],
        "kube-api-access-abcde"
    );
}

#[test]
fn image_pull_secrets_come_from_the_service_account_when_the_pod_has_none() {
    let s = sa(json!({"imagePullSecrets": [{"name": "registry"}]}));
    let spec = admitted(
        pod(json!({"containers": [{"name": "c", "image": "nginx"}]})),
        Some(&s),
    )
    .unwrap();
    assert_eq!(spec["imagePullSecrets"], json!([{"name": "registry"}]));
    let spec = admitted(
        pod(json!({"imagePullSecrets": [{"name": "own"}], "containers": [{"name": "c", "image": "nginx"}]})),
        Some(&s),
    )
    .unwrap();
    assert_eq!(spec["imagePullSecrets"], json!([{"name": "own"}]));
}

#[test]
fn enforce_mountable_secrets_limits_what_the_pod_references() {
    let s = sa(json!({"metadata": {"name": "robot", "namespace": "shop",
        "annotations": {ENFORCE_MOUNTABLE_SECRETS_ANNOTATION: "true"}},
        "secrets": [{"name": "ok"}], "imagePullSecrets": [{"name": "pull"}]}));
    let cases = [
        (json!({"volumes": [{"name": "v", "secret": {"secretName": "nope"}}], "containers": [{"name": "c", "image": "x"}]}),
            "volume with secret.secretName=\"nope\" is not allowed because service account robot does not reference that secret"),
        (json!({"containers": [{"name": "c", "image": "x", "env": [{"name": "E", "valueFrom": {"secretKeyRef": {"name": "nope", "key": "k"}}}]}]}),
            "container c with envVar E referencing secret.secretName=\"nope\" is not allowed because service account robot does not reference that secret"),
        (json!({"initContainers": [{"name": "i", "image": "x", "envFrom": [{"secretRef": {"name": "nope"}}]}], "containers": [{"name": "c", "image": "x"}]}),
            "init container i with envFrom referencing secret.secretName=\"nope\" is not allowed because service account robot does not reference that secret"),
        (json!({"imagePullSecrets": [{"name": "pull"}, {"name": "other"}], "containers": [{"name": "c", "image": "x"}]}),
            "imagePullSecrets[1].name=\"other\" is not allowed because service account robot does not reference that imagePullSecret"),
    ];
    for (mut spec, want) in cases {
        spec["serviceAccountName"] = json!("robot");
        assert_eq!(
            admitted(pod(spec.clone()), Some(&s)),
            Err(want.to_string()),
            "{spec}"
        );
    }
    let fine = json!({"serviceAccountName": "robot", "volumes": [{"name": "v", "secret": {"secretName": "ok"}}],
        "containers": [{"name": "c", "image": "x"}]});
    assert!(admitted(pod(fine), Some(&s)).is_ok());
}

#[test]
fn mirror_pods_are_only_validated() {
    let mirror = |spec: Value| {
        serde_json::from_value::<Pod>(json!({"metadata": {"name": "m", "namespace": "kube-system",
            "annotations": {MIRROR_POD_ANNOTATION_KEY: "x"}}, "spec": spec}))
        .unwrap()
    };
    let c = json!([{"name": "c", "image": "x"}]);
    // No service account needed and none added.
    let mut p = mirror(json!({"containers": c}));
    admit(&mut p, None, "abcde").unwrap();
    assert_eq!(p.spec.unwrap().service_account_name, None);
    let cases = [
        (
            json!({"serviceAccountName": "a", "containers": c}),
            "a mirror pod may not reference service accounts",
        ),
        (
            json!({"volumes": [{"name": "v", "secret": {"secretName": "s"}}], "containers": c}),
            "a mirror pod may not reference secrets",
        ),
        (
            json!({"volumes": [{"name": "v", "projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]}}], "containers": c}),
            "a mirror pod may not use ServiceAccountToken volume projections",
        ),
    ];
    for (spec, want) in cases {
        assert_eq!(
            admit(&mut mirror(spec), None, "abcde")
                .unwrap_err()
                .to_string(),
            want
        );
    }
}
