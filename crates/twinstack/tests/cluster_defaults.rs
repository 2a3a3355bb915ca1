//! End-to-end (issue 7): what every cluster has and tools expect. Every namespace's `default`
//! ServiceAccount and `kube-root-ca.crt` (at once, and put back), pods admitted with the
//! projected token volume, `default/kubernetes` Endpoints and EndpointSlice,
//! ReplicationControllers with their controller and scale subresource, the RBAC kinds, and
//! kubectl's imperative `create` (protobuf bodies) of all of them. Driven by the real kubectl
//! and a plain HTTPS client.

mod common;
use common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn json_of(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

fn get_json(t: &Twin, args: &[&str]) -> Value {
    let mut a = vec!["get"];
    a.extend_from_slice(args);
    a.extend_from_slice(&["-o", "json"]);
    json_of(&ok(&t.kubectl(&a)))
}

fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> Result<(), String>) {
    let deadline = Instant::now() + timeout;
    loop {
        match f() {
            Ok(()) => return,
            Err(e) if Instant::now() > deadline => panic!("timed out waiting for {what}: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

fn apply(t: &Twin, name: &str, yaml: &str) -> String {
    let p = write(t.data_dir(), name, yaml);
    ok(&t.kubectl(&["apply", "-f", p.to_str().unwrap()]))
}

/// The header line of each table kubectl printed.
fn headers(out: &str) -> Vec<Vec<String>> {
    out.split("\n\n")
        .filter_map(|block| block.lines().next())
        .map(|l| l.split_whitespace().map(String::from).collect())
        .collect()
}

#[test]
fn a_new_namespace_has_its_service_account_and_root_ca_at_once() {
    let t = Twin::start(&[]);
    let ca = String::from_utf8(t.ca_pem()).unwrap();

    // Over HTTP: create, then read straight away (no wait of any kind in between).
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let c = t.client();
        let auth = format!("Bearer {}", t.token());
        for i in 0..5 {
            let ns = format!("fresh-{i}");
            let r = c
                .post(format!("{}/api/v1/namespaces", t.base_url()))
                .header("Authorization", &auth)
                .json(&json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
            let created: Value = r.json().await.unwrap();
            for path in [
                format!("namespaces/{ns}/serviceaccounts/default"),
                format!("namespaces/{ns}/configmaps/kube-root-ca.crt"),
            ] {
                let r = c
                    .get(format!("{}/api/v1/{path}", t.base_url()))
                    .header("Authorization", &auth)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200, "{path}");
                let obj: Value = r.json().await.unwrap();
                // Written in the namespace's own transaction.
                assert_eq!(
                    obj["metadata"]["resourceVersion"], created["metadata"]["resourceVersion"],
                    "{obj}"
                );
            }
        }
    });

    // With kubectl, as upstream prints them.
    ok(&t.kubectl(&["create", "namespace", "shop"]));
    let sa = get_json(&t, &["sa", "default", "-n", "shop"]);
    assert_eq!(sa["metadata"]["namespace"], "shop");
    assert!(sa.get("secrets").is_none(), "{sa}");
    let cm = get_json(
        &t,
        &[
            "configmap",
            "kube-root-ca.crt",
            "-n",
            "shop",
            "--show-managed-fields",
        ],
    );
    assert_eq!(cm["data"]["ca.crt"], ca.as_str());
    assert_eq!(
        cm["metadata"]["annotations"]["kubernetes.io/description"],
        "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."
    );
    assert_eq!(
        cm["metadata"]["managedFields"][0]["manager"],
        "kube-controller-manager"
    );
    // The system namespaces have them too.
    for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        ok(&t.kubectl(&["get", "sa", "default", "-n", ns]));
        ok(&t.kubectl(&["get", "cm", "kube-root-ca.crt", "-n", ns]));
    }
    let out = ok(&t.kubectl(&["get", "sa", "-n", "shop"]));
    assert_eq!(headers(&out), vec![vec!["NAME", "SECRETS", "AGE"]], "{out}");
    assert!(
        out.lines().nth(1).unwrap().starts_with("default   0 "),
        "{out}"
    );

    // Deleted or edited, they come back as the controllers put them.
    ok(&t.kubectl(&["delete", "sa", "default", "-n", "shop"]));
    ok(&t.kubectl(&[
        "patch",
        "cm",
        "kube-root-ca.crt",
        "-n",
        "shop",
        "--type=merge",
        "-p",
        r#"{"data":{"ca.crt":"tampered"},"metadata":{"annotations":{"kubernetes.io/description":null}}}"#,
    ]));
    wait_for(
        "the ServiceAccount and CA back",
        Duration::from_secs(10),
        || {
            let sa = t.kubectl(&["get", "sa", "default", "-n", "shop"]);
            let cm = get_json(&t, &["cm", "kube-root-ca.crt", "-n", "shop"]);
            (sa.status.success()
                && cm["data"]["ca.crt"] == ca.as_str()
                && cm["metadata"]["annotations"]["kubernetes.io/description"].is_string())
            .then_some(())
            .ok_or(format!("{cm}"))
        },
    );
}

#[test]
fn pods_are_admitted_with_the_service_account_token_volume() {
    let t = Twin::start(&[]);
    ok(&t.kubectl(&["create", "namespace", "shop"]));
    ok(&t.kubectl(&["run", "web", "-n", "shop", "--image=nginx:1.27"]));
    let pod = get_json(&t, &["pod", "web", "-n", "shop"]);
    let spec = &pod["spec"];
    assert_eq!(spec["serviceAccountName"], "default");
    assert_eq!(spec["serviceAccount"], "default");
    let volume = &spec["volumes"][0];
    let name = volume["name"].as_str().unwrap();
    assert!(
        name.starts_with("kube-api-access-") && name.len() == "kube-api-access-".len() + 5,
        "{name}"
    );
    assert_eq!(
        volume["projected"],
        json!({"defaultMode": 420, "sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
            {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
            {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}]})
    );
    assert_eq!(
        spec["containers"][0]["volumeMounts"],
        json!([{"name": name, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true}])
    );
    let described = ok(&t.kubectl(&["describe", "pod", "web", "-n", "shop"]));
    assert!(
        described.contains("/var/run/secrets/kubernetes.io/serviceaccount from kube-api-access-"),
        "{described}"
    );

    // automountServiceAccountToken: false on the pod, or on its ServiceAccount.
    ok(&t.kubectl(&[
        "run",
        "quiet",
        "-n",
        "shop",
        "--image=nginx:1.27",
        "--overrides",
        r#"{"spec":{"automountServiceAccountToken":false}}"#,
    ]));
    assert!(get_json(&t, &["pod", "quiet", "-n", "shop"])["spec"]
        .get("volumes")
        .is_none());
    ok(&t.kubectl(&["create", "serviceaccount", "robot", "-n", "shop"]));
    ok(&t.kubectl(&[
        "patch",
        "sa",
        "robot",
        "-n",
        "shop",
        "-p",
        r#"{"automountServiceAccountToken":false,"imagePullSecrets":[{"name":"registry"}]}"#,
    ]));
    ok(&t.kubectl(&[
        "run",
        "bot",
        "-n",
        "shop",
        "--image=nginx:1.27",
        "--overrides",
        r#"{"spec":{"serviceAccountName":"robot"}}"#,
    ]));
    let bot = get_json(&t, &["pod", "bot", "-n", "shop"]);
    assert!(bot["spec"].get("volumes").is_none(), "{bot}");
    assert_eq!(
        bot["spec"]["imagePullSecrets"],
        json!([{"name": "registry"}])
    );

    // A ServiceAccount that does not exist refuses the pod with the admission plugin's text.
    let p = write(
        t.data_dir(),
        "nope.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: nope\n  namespace: shop\nspec:\n  serviceAccountName: ghost\n  containers:\n    - name: c\n      image: nginx\n",
    );
    let err = fails(&t.kubectl(&["apply", "-f", p.to_str().unwrap()]));
    assert!(
        err.contains(r#"Error from server (Forbidden): error when creating ""#)
            && err.contains(r#"pods "nope" is forbidden: error looking up service account shop/ghost: serviceaccount "ghost" not found"#),
        "{err}"
    );
    // A workload's pods: the ReplicaSet controller reports the refusal as upstream's does.
    ok(&t.kubectl(&[
        "create",
        "deployment",
        "ghostly",
        "-n",
        "shop",
        "--image=nginx:1.27",
    ]));
    ok(&t.kubectl(&[
        "patch",
        "deployment",
        "ghostly",
        "-n",
        "shop",
        "-p",
        r#"{"spec":{"template":{"spec":{"serviceAccountName":"ghost"}}}}"#,
    ]));
    wait_for("FailedCreate", Duration::from_secs(20), || {
        let ev = ok(&t.kubectl(&[
            "get",
            "events",
            "-n",
            "shop",
            "--field-selector",
            "reason=FailedCreate",
        ]));
        // Admission names a pod by its generateName (`ghostly-<hash>-`): it runs before the
        // name is generated.
        (ev.contains(r#"Error creating: pods "ghostly-"#)
            && ev.contains(r#"-" is forbidden: error looking up service account shop/ghost: serviceaccount "ghost" not found"#))
            .then_some(())
            .ok_or(ev)
    });
}

#[test]
fn the_kubernetes_service_has_the_api_servers_endpoints() {
    let t = Twin::start(&[]);
    wait_for(
        "default/kubernetes endpoints",
        Duration::from_secs(10),
        || {
            let out = ok(&t.kubectl(&["get", "endpoints", "kubernetes"]));
            out.contains("203.0.113.10:443").then_some(()).ok_or(out)
        },
    );
    let out = ok(&t.kubectl(&["get", "endpoints", "kubernetes"]));
    assert_eq!(
        headers(&out),
        vec![vec!["NAME", "ENDPOINTS", "AGE"]],
        "{out}"
    );
    let ep = get_json(&t, &["endpoints", "kubernetes"]);
    assert_eq!(
        ep["metadata"]["labels"],
        json!({"endpointslice.kubernetes.io/skip-mirror": "true"})
    );
    assert_eq!(
        ep["subsets"],
        json!([{"addresses": [{"ip": "203.0.113.10"}], "ports": [{"name": "https", "port": 443, "protocol": "TCP"}]}])
    );
    let slice = get_json(&t, &["endpointslice", "kubernetes"]);
    assert_eq!(slice["addressType"], "IPv4");
    assert_eq!(
        slice["metadata"]["labels"],
        json!({"kubernetes.io/service-name": "kubernetes"})
    );
    assert_eq!(
        slice["endpoints"],
        json!([{"addresses": ["203.0.113.10"], "conditions": {"ready": true}}])
    );
    assert_eq!(
        slice["ports"],
        json!([{"name": "https", "port": 443, "protocol": "TCP"}])
    );
    let svc = get_json(&t, &["service", "kubernetes"]);
    assert_eq!(
        svc["spec"]["ports"],
        json!([{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 443}])
    );
    // The Service's ports are the kubernetesservice controller's (a store of an older twinstack
    // had targetPort 6443): reset.
    ok(&t.kubectl(&[
        "patch",
        "service",
        "kubernetes",
        "--type=json",
        "-p",
        r#"[{"op":"replace","path":"/spec/ports/0/targetPort","value":6443}]"#,
    ]));
    wait_for("the reset Service ports", Duration::from_secs(10), || {
        let svc = get_json(&t, &["service", "kubernetes"]);
        (svc["spec"]["ports"][0]["targetPort"] == 443)
            .then_some(())
            .ok_or(format!("{svc}"))
    });
    // The Endpoints are the reconciler's: edits are reset.
    ok(&t.kubectl(&[
        "patch",
        "endpoints",
        "kubernetes",
        "--type=json",
        "-p",
        r#"[{"op":"replace","path":"/subsets/0/addresses/0/ip","value":"10.0.0.1"}]"#,
    ]));
    wait_for("the reset Endpoints", Duration::from_secs(10), || {
        let ep = get_json(&t, &["endpoints", "kubernetes"]);
        (ep["subsets"][0]["addresses"][0]["ip"] == "203.0.113.10")
            .then_some(())
            .ok_or(format!("{ep}"))
    });
}

#[test]
fn an_ipv6_primary_runtime_advertises_an_ipv6_api_server() {
    let t = Twin::start(&["--ip-families", "IPv6,IPv4"]);
    wait_for("IPv6 endpoints", Duration::from_secs(10), || {
        let out = ok(&t.kubectl(&["get", "endpoints", "kubernetes"]));
        out.contains("[2001:db8::443]:443").then_some(()).ok_or(out)
    });
    let slice = get_json(&t, &["endpointslice", "kubernetes"]);
    assert_eq!(slice["addressType"], "IPv6");
    assert_eq!(slice["endpoints"][0]["addresses"], json!(["2001:db8::443"]));
}

const RC: &str = r#"apiVersion: v1
kind: ReplicationController
metadata:
  name: web
spec:
  replicas: 2
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx:1.27
"#;

fn rc_pods(t: &Twin) -> Vec<Value> {
    get_json(t, &["pods", "-l", "app=web"])["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .collect()
}

fn ready_rc(t: &Twin, n: usize) {
    wait_for(
        &format!("{n} ready replicas"),
        Duration::from_secs(30),
        || {
            let rc = get_json(t, &["rc", "web"]);
            let ready = rc["status"]["readyReplicas"].as_u64().unwrap_or(0) as usize;
            let pods = rc_pods(t).len();
            (ready == n && pods == n)
                .then_some(())
                .ok_or(format!("{ready} ready, {pods} pods"))
        },
    );
}

#[test]
fn replication_controllers_own_and_scale_their_pods() {
    let t = Twin::start(&[]);
    let out = apply(&t, "rc.yaml", RC);
    assert!(out.contains("replicationcontroller/web created"), "{out}");
    // Defaulted as upstream: selector and labels from the template.
    let rc = get_json(&t, &["rc", "web"]);
    assert_eq!(rc["spec"]["selector"], json!({"app": "web"}));
    assert_eq!(rc["metadata"]["labels"], json!({"app": "web"}));
    ready_rc(&t, 2);
    for p in rc_pods(&t) {
        let owner = &p["metadata"]["ownerReferences"][0];
        assert_eq!(owner["kind"], "ReplicationController");
        assert_eq!(owner["apiVersion"], "v1");
        assert_eq!(owner["uid"], rc["metadata"]["uid"]);
        assert!(p["metadata"]["name"].as_str().unwrap().starts_with("web-"));
    }
    let out = ok(&t.kubectl(&["get", "rc"]));
    assert_eq!(
        headers(&out),
        vec![vec!["NAME", "DESIRED", "CURRENT", "READY", "AGE"]],
        "{out}"
    );
    let row: Vec<&str> = out.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(row[..4], ["web", "2", "2", "2"], "{out}");
    let wide = ok(&t.kubectl(&["get", "rc", "-o", "wide"]));
    assert!(
        wide.lines()
            .next()
            .unwrap()
            .ends_with("CONTAINERS   IMAGES       SELECTOR"),
        "{wide}"
    );
    assert!(wide.contains("web          nginx:1.27   app=web"), "{wide}");

    // kubectl scale goes through the scale subresource.
    let out = ok(&t.kubectl(&["scale", "rc", "web", "--replicas=3"]));
    assert!(out.contains("replicationcontroller/web scaled"), "{out}");
    ready_rc(&t, 3);
    let scale: Value = tokio::runtime::Runtime::new().unwrap().block_on(async {
        t.client()
            .get(format!(
                "{}/api/v1/namespaces/default/replicationcontrollers/web/scale",
                t.base_url()
            ))
            .header("Authorization", format!("Bearer {}", t.token()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    assert_eq!(scale["kind"], "Scale");
    assert_eq!(scale["spec"]["replicas"], 3);
    assert_eq!(scale["status"]["selector"], "app=web");
    let ev = ok(&t.kubectl(&[
        "get",
        "events",
        "--field-selector",
        "involvedObject.kind=ReplicationController",
    ]));
    assert!(
        ev.contains("SuccessfulCreate") && ev.contains("Created pod: web-"),
        "{ev}"
    );

    // Deleting it collects its pods.
    ok(&t.kubectl(&["delete", "rc", "web"]));
    wait_for("pods collected", Duration::from_secs(20), || {
        let n = rc_pods(&t).len();
        (n == 0).then_some(()).ok_or(format!("{n} pods"))
    });

    // Upstream's validation text.
    let bad = RC.replace(
        "  replicas: 2\n",
        "  replicas: 2\n  selector: {app: other}\n",
    );
    let p = write(t.data_dir(), "bad.yaml", &bad);
    let err = fails(&t.kubectl(&["apply", "-f", p.to_str().unwrap()]));
    assert!(
        err.contains(r#"The ReplicationController "web" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`"#),
        "{err}"
    );
}

const RBAC: &str = r#"apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: pod-reader
  namespace: default
rules:
  - apiGroups: [""]
    resources: ["pods"]
    verbs: ["get", "list", "watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: read-pods
  namespace: default
subjects:
  - kind: User
    name: jane
  - kind: ServiceAccount
    name: default
    namespace: default
roleRef:
  kind: Role
  name: pod-reader
  apiGroup: rbac.authorization.k8s.io
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: "system:metrics-reader"
rules:
  - nonResourceURLs: ["/metrics"]
    verbs: ["get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: metrics-readers
subjects:
  - kind: Group
    name: monitoring
roleRef:
  kind: ClusterRole
  name: "system:metrics-reader"
"#;

#[test]
fn rbac_objects_apply_and_print_as_upstream() {
    let t = Twin::start(&[]);
    let out = apply(&t, "rbac.yaml", RBAC);
    for s in [
        "role.rbac.authorization.k8s.io/pod-reader created",
        "rolebinding.rbac.authorization.k8s.io/read-pods created",
        "clusterrole.rbac.authorization.k8s.io/system:metrics-reader created",
        "clusterrolebinding.rbac.authorization.k8s.io/metrics-readers created",
    ] {
        assert!(out.contains(s), "{s}: {out}");
    }
    // Applied again: unchanged.
    let again = apply(&t, "rbac.yaml", RBAC);
    assert!(
        again.contains("role.rbac.authorization.k8s.io/pod-reader unchanged"),
        "{again}"
    );

    let crb = get_json(&t, &["clusterrolebinding", "metrics-readers"]);
    assert_eq!(crb["roleRef"]["apiGroup"], "rbac.authorization.k8s.io");
    assert_eq!(crb["subjects"][0]["apiGroup"], "rbac.authorization.k8s.io");

    let out = ok(&t.kubectl(&["get", "roles"]));
    assert_eq!(headers(&out), vec![vec!["NAME", "CREATED", "AT"]], "{out}");
    let row: Vec<&str> = out.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(row[0], "pod-reader");
    assert!(row[1].parse::<jiff::Timestamp>().is_ok(), "{out}");
    let out = ok(&t.kubectl(&["get", "rolebindings", "-o", "wide"]));
    assert_eq!(
        headers(&out),
        vec![vec![
            "NAME",
            "ROLE",
            "AGE",
            "USERS",
            "GROUPS",
            "SERVICEACCOUNTS"
        ]],
        "{out}"
    );
    let row: Vec<&str> = out.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(
        (row[0], row[1], row[3], row[4]),
        ("read-pods", "Role/pod-reader", "jane", "default/default"),
        "{out}"
    );
    let out = ok(&t.kubectl(&["get", "clusterrolebinding", "metrics-readers", "-o", "wide"]));
    let row: Vec<&str> = out.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(
        (row[1], row[3]),
        ("ClusterRole/system:metrics-reader", "monitoring"),
        "{out}"
    );

    // Upstream's validation: required fields and a roleRef that never changes.
    let bad = write(
        t.data_dir(),
        "bad.yaml",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: empty\nrules:\n  - verbs: []\n",
    );
    let err = fails(&t.kubectl(&["apply", "-f", bad.to_str().unwrap()]));
    assert!(
        err.contains(r#"The Role "empty" is invalid: "#)
            && err.contains("rules[0].verbs: Required value: verbs must contain at least one value")
            && err.contains("rules[0].apiGroups: Required value: resource rules must supply at least one api group")
            && err.contains("rules[0].resources: Required value: resource rules must supply at least one resource"),
        "{err}"
    );
    let err = fails(&t.kubectl(&[
        "patch",
        "rolebinding",
        "read-pods",
        "--type=merge",
        "-p",
        r#"{"roleRef":{"name":"other"}}"#,
    ]));
    assert!(
        err.contains(r#"The RoleBinding "read-pods" is invalid: roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"Role", Name:"other"}: cannot change roleRef"#),
        "{err}"
    );
}

#[test]
fn kubectl_create_sends_protobuf_and_the_objects_arrive_whole() {
    let t = Twin::start(&[]);
    let created = [
        (
            vec!["create", "serviceaccount", "robot"],
            "serviceaccount/robot created",
        ),
        (
            vec![
                "create",
                "role",
                "reader",
                "--verb=get,list",
                "--resource=pods,deployments.apps",
            ],
            "role.rbac.authorization.k8s.io/reader created",
        ),
        (
            vec![
                "create",
                "rolebinding",
                "robot-reads",
                "--role=reader",
                "--serviceaccount=default:robot",
                "--user=jane",
            ],
            "rolebinding.rbac.authorization.k8s.io/robot-reads created",
        ),
        (
            vec![
                "create",
                "clusterrole",
                "health",
                "--verb=get",
                "--non-resource-url=/healthz",
            ],
            "clusterrole.rbac.authorization.k8s.io/health created",
        ),
        (
            vec![
                "create",
                "clusterrolebinding",
                "health-all",
                "--clusterrole=health",
                "--group=system:authenticated",
            ],
            "clusterrolebinding.rbac.authorization.k8s.io/health-all created",
        ),
    ];
    for (args, want) in created {
        let out = ok(&t.kubectl(&args));
        assert!(out.contains(want), "{args:?}: {out}");
    }
    let role = get_json(&t, &["role", "reader"]);
    assert_eq!(
        role["rules"],
        json!([{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]},
               {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list"]}])
    );
    let rb = get_json(&t, &["rolebinding", "robot-reads"]);
    assert_eq!(
        rb["roleRef"],
        json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"})
    );
    assert_eq!(
        rb["subjects"],
        json!([{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "jane"},
               {"kind": "ServiceAccount", "name": "robot", "namespace": "default"}])
    );
    let cr = get_json(&t, &["clusterrole", "health"]);
    assert_eq!(
        cr["rules"],
        json!([{"nonResourceURLs": ["/healthz"], "verbs": ["get"]}])
    );

    // `kubectl get sa,rc,roles`: one table per kind, with upstream's columns.
    apply(&t, "rc.yaml", RC);
    let out = ok(&t.kubectl(&["get", "sa,rc,roles"]));
    assert_eq!(
        headers(&out),
        vec![
            vec!["NAME", "SECRETS", "AGE"],
            vec!["NAME", "DESIRED", "CURRENT", "READY", "AGE"],
            vec!["NAME", "CREATED", "AT"],
        ],
        "{out}"
    );
    for s in [
        "serviceaccount/default",
        "serviceaccount/robot",
        "replicationcontroller/web",
        "role.rbac.authorization.k8s.io/reader",
    ] {
        assert!(out.contains(s), "{s}: {out}");
    }
}
