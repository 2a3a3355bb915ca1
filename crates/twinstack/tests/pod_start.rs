//! Pods start only when they could (issue 14, item 3): a pod whose Secret or ConfigMap volume
//! is missing stays `ContainerCreating` with kubelet's `FailedMount` events until it appears;
//! one whose environment reads a missing Secret waits in `CreateContainerConfigError`; a pod
//! naming a ServiceAccount that does not exist is refused by admission.

mod common;

use common::{fails, ok, Twin};

fn apply(t: &Twin, yaml: &str) -> std::process::Output {
    t.kubectl_with("kubectl", &["apply", "-f", "-"], Some(yaml))
}

const MOUNTS: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: mounts}
spec:
  containers: [{name: app, image: nginx, volumeMounts: [{name: creds, mountPath: /creds}, {name: conf, mountPath: /conf}]}]
  volumes:
  - {name: creds, secret: {secretName: db-creds}}
  - {name: conf, configMap: {name: app-config}}
  - {name: maybe, secret: {secretName: not-there, optional: true}}
"#;

/// The pod's waiting reason, once the kubelet has reported one.
fn waiting(t: &Twin, pod: &str, reason: &str) {
    ok(&t.kubectl(&[
        "wait",
        &format!("pod/{pod}"),
        "--timeout=30s",
        &format!("--for=jsonpath={{.status.containerStatuses[0].state.waiting.reason}}={reason}"),
    ]));
}

fn events(t: &Twin, pod: &str) -> String {
    ok(&t.kubectl(&[
        "get",
        "events",
        "--field-selector",
        &format!("involvedObject.name={pod}"),
        "-o",
        "jsonpath={range .items[*]}{.type} {.reason} {.message}{\"\\n\"}{end}",
    ]))
}

#[test]
fn a_pod_waits_for_its_secret_and_configmap_volumes() {
    let t = Twin::start(&[]);
    ok(&apply(&t, MOUNTS));
    waiting(&t, "mounts", "ContainerCreating");
    let get = ok(&t.kubectl(&["get", "pod", "mounts"]));
    assert!(get.contains("ContainerCreating"), "{get}");
    // Both missing sources are reported; the optional one is not.
    let mut evs = String::new();
    for _ in 0..300 {
        evs = events(&t, "mounts");
        if evs.matches("FailedMount").count() == 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(
        evs.contains("Warning FailedMount MountVolume.SetUp failed for volume \"creds\" : secret \"db-creds\" not found"),
        "{evs}"
    );
    assert!(
        evs.contains("Warning FailedMount MountVolume.SetUp failed for volume \"conf\" : configmap \"app-config\" not found"),
        "{evs}"
    );
    assert!(!evs.contains("not-there"), "{evs}");
    assert!(evs.contains("Normal Scheduled"), "{evs}");
    // Scheduled, but no address until it starts.
    let ip = ok(&t.kubectl(&[
        "get",
        "pod",
        "mounts",
        "-o",
        "jsonpath={.spec.nodeName}|{.status.podIP}",
    ]));
    assert!(ip.ends_with('|') && ip.len() > 1, "{ip}");

    // Once both exist, the pod starts.
    ok(&t.kubectl(&[
        "create",
        "secret",
        "generic",
        "db-creds",
        "--from-literal=p=x",
    ]));
    ok(&t.kubectl(&["create", "configmap", "app-config", "--from-literal=k=v"]));
    ok(&t.kubectl(&[
        "wait",
        "pod/mounts",
        "--for=condition=Ready",
        "--timeout=30s",
    ]));
    let ips = ok(&t.kubectl(&[
        "get",
        "pod",
        "mounts",
        "-o",
        "jsonpath={.status.podIPs[*].ip}",
    ]));
    assert_eq!(ips.split_whitespace().count(), 2, "{ips}");
}

#[test]
fn a_missing_environment_secret_is_a_create_container_config_error() {
    let t = Twin::start(&[]);
    ok(&apply(
        &t,
        r#"
apiVersion: v1
kind: Pod
metadata: {name: envs}
spec:
  containers:
  - name: app
    image: nginx
    env: [{name: PASSWORD, valueFrom: {secretKeyRef: {name: db, key: password}}}]
"#,
    ));
    waiting(&t, "envs", "CreateContainerConfigError");
    let get = ok(&t.kubectl(&["get", "pod", "envs"]));
    assert!(get.contains("CreateContainerConfigError"), "{get}");
    let msg = ok(&t.kubectl(&[
        "get",
        "pod",
        "envs",
        "-o",
        "jsonpath={.status.containerStatuses[0].state.waiting.message}",
    ]));
    assert_eq!(msg, "secret \"db\" not found");
    ok(&t.kubectl(&[
        "create",
        "secret",
        "generic",
        "db",
        "--from-literal=password=x",
    ]));
    ok(&t.kubectl(&["wait", "pod/envs", "--for=condition=Ready", "--timeout=30s"]));
}

#[test]
fn a_pod_naming_a_missing_service_account_is_refused() {
    let t = Twin::start(&[]);
    let e = fails(&apply(
        &t,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: sa}\nspec:\n  serviceAccountName: builder\n  containers: [{name: app, image: nginx}]\n",
    ));
    assert!(
        e.contains("pods \"sa\" is forbidden: error looking up service account default/builder: serviceaccount \"builder\" not found"),
        "{e}"
    );
}

#[test]
fn a_namespace_goes_through_terminating_while_its_content_is_removed() {
    let t = Twin::start(&[]);
    ok(&t.kubectl(&["create", "namespace", "shop"]));
    ok(&apply(
        &t,
        r#"
apiVersion: v1
kind: Pod
metadata: {name: slow, namespace: shop}
spec:
  terminationGracePeriodSeconds: 3
  containers: [{name: app, image: busybox, command: [sleep, "3600"]}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
data: {a: b}
"#,
    ));
    ok(&t.kubectl(&[
        "wait",
        "-n",
        "shop",
        "pod/slow",
        "--for=condition=Ready",
        "--timeout=30s",
    ]));
    ok(&t.kubectl(&["delete", "namespace", "shop", "--wait=false"]));
    let phase = ok(&t.kubectl(&["get", "ns", "shop", "-o", "jsonpath={.status.phase}"]));
    assert_eq!(phase, "Terminating");
    // The pod (sleep ignores SIGTERM) holds the namespace for its grace period; the controller
    // says so.
    ok(&t.kubectl(&[
        "wait",
        "ns/shop",
        "--timeout=30s",
        "--for=jsonpath={.status.conditions[?(@.type==\"NamespaceContentRemaining\")].status}=True",
    ]));
    let msg = ok(&t.kubectl(&[
        "get",
        "ns",
        "shop",
        "-o",
        "jsonpath={.status.conditions[?(@.type==\"NamespaceContentRemaining\")].message}",
    ]));
    assert!(
        msg.starts_with("Some resources are remaining: ")
            && msg.contains("pods. has 1 resource instances"),
        "{msg}"
    );
    let e = fails(&t.kubectl(&[
        "create",
        "configmap",
        "late",
        "-n",
        "shop",
        "--from-literal=a=b",
    ]));
    assert!(
        e.contains("unable to create new content in namespace shop because it is being terminated"),
        "{e}"
    );
    ok(&t.kubectl(&["wait", "--for=delete", "ns/shop", "--timeout=30s"]));
    // A new namespace of the same name starts empty.
    ok(&t.kubectl(&["create", "namespace", "shop"]));
    let left = ok(&t.kubectl(&["get", "pods,configmaps", "-n", "shop", "-o", "name"]));
    assert_eq!(left.trim(), "configmap/kube-root-ca.crt", "{left}");
}
