//! End-to-end: CustomResourceDefinitions and their custom resources, driven by the installed
//! kubectl binaries against a real `twinstack up`. What goes here: what a user sees applying
//! CRDs and custom resources (conditions, Tables, explain, apply, subresources, versions,
//! deletion, tenant isolation); the rules themselves are tested beside them in
//! `twinstack-kube` (`apiextensions/tests.rs`).

mod common;
use common::*;

const CRONTAB_CRD: &str = r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.stable.example.com
spec:
  group: stable.example.com
  scope: Namespaced
  names:
    plural: crontabs
    singular: crontab
    kind: CronTab
    shortNames: [ct]
    categories: [all]
  versions:
  - name: v1beta1
    served: true
    storage: false
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            x-kubernetes-preserve-unknown-fields: true
          status:
            type: object
            x-kubernetes-preserve-unknown-fields: true
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale:
        specReplicasPath: .spec.replicas
        statusReplicasPath: .status.replicas
    additionalPrinterColumns:
    - name: Spec
      type: string
      jsonPath: .spec.cronSpec
    - name: Replicas
      type: integer
      jsonPath: .spec.replicas
    - name: Age
      type: date
      jsonPath: .metadata.creationTimestamp
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            description: The schedule and what it runs.
            required: [cronSpec]
            x-kubernetes-validations:
            - rule: "self.replicas <= self.maxReplicas"
              message: replicas must not exceed maxReplicas
            properties:
              cronSpec:
                type: string
                description: When the job runs, in cron syntax.
                pattern: '^(\d+|\*)(/\d+)?(\s+(\d+|\*)(/\d+)?){4}$'
              image:
                type: string
              replicas:
                type: integer
                minimum: 0
                default: 1
              maxReplicas:
                type: integer
                default: 10
          status:
            type: object
            properties:
              replicas:
                type: integer
"#;

const CRONTAB: &str = r#"apiVersion: stable.example.com/v1
kind: CronTab
metadata:
  name: my-crontab
spec:
  cronSpec: "* * * * */5"
  image: my-awesome-cron-image
"#;

fn crd_file(t: &Twin, name: &str, text: &str) -> String {
    write(t.data_dir(), name, text)
        .to_string_lossy()
        .to_string()
}

/// The whole journey with one kubectl binary.
fn journey(kubectl: &str) {
    let t = Twin::start(&[]);
    let k = |args: &[&str]| t.kubectl_with(kubectl, args, None);
    let crd = crd_file(&t, "crd.yaml", CRONTAB_CRD);
    let out = ok(&k(&["apply", "-f", &crd]));
    assert!(
        out.contains(
            "customresourcedefinition.apiextensions.k8s.io/crontabs.stable.example.com created"
        ),
        "{out}"
    );
    ok(&k(&[
        "wait",
        "--for",
        "condition=established",
        "--timeout=30s",
        "crd/crontabs.stable.example.com",
    ]));
    let names = ok(&k(&[
        "get",
        "crd",
        "crontabs.stable.example.com",
        "-o",
        "jsonpath={.status.acceptedNames.kind} {.status.conditions[?(@.type==\"NamesAccepted\")].reason} {.status.storedVersions}",
    ]));
    assert_eq!(names, "CronTab NoConflicts [\"v1\"]");

    // Discovery: the group with both versions, the resource with its short name.
    let res = ok(&k(&["api-resources", "--api-group=stable.example.com"]));
    assert!(
        res.contains("crontabs") && res.contains("ct") && res.contains("CronTab"),
        "{res}"
    );
    let versions = ok(&k(&["api-versions"]));
    assert!(versions.contains("stable.example.com/v1\n"), "{versions}");
    assert!(
        versions.contains("stable.example.com/v1beta1\n"),
        "{versions}"
    );

    // Create; defaults set; printer columns in `kubectl get`.
    let cr = crd_file(&t, "ct.yaml", CRONTAB);
    ok(&k(&["apply", "-f", &cr]));
    let table = ok(&k(&["get", "ct"]));
    let header = table.lines().next().unwrap();
    assert!(
        header.starts_with("NAME")
            && header.contains("SPEC")
            && header.contains("REPLICAS")
            && header.contains("AGE"),
        "{table}"
    );
    assert!(table.contains("my-crontab   * * * * */5   1"), "{table}");
    assert_eq!(
        ok(&k(&[
            "get",
            "crontab",
            "my-crontab",
            "-o",
            "jsonpath={.spec.maxReplicas} {.metadata.generation}"
        ])),
        "10 1"
    );

    // A second client-side apply patches (JSON merge patch: kubectl has no Go type for it).
    let changed = crd_file(
        &t,
        "ct2.yaml",
        &CRONTAB.replace("my-awesome-cron-image", "v2"),
    );
    let out = ok(&k(&["apply", "-f", &changed]));
    assert!(
        out.contains("crontab.stable.example.com/my-crontab configured"),
        "{out}"
    );
    assert_eq!(
        ok(&k(&[
            "get",
            "ct",
            "my-crontab",
            "-o",
            "jsonpath={.spec.image} {.metadata.generation}"
        ])),
        "v2 2"
    );

    // Refusals with upstream's text.
    let bad = crd_file(
        &t,
        "bad.yaml",
        "apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata:\n  name: bad\nspec:\n  cronSpec: nope\n  replicas: two\n",
    );
    let err = fails(&k(&["apply", "-f", &bad]));
    assert!(err.contains(r#"The CronTab "bad" is invalid: "#), "{err}");
    assert!(err.contains(r#"spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string""#), "{err}");
    assert!(
        err.contains(r#"spec.cronSpec: Invalid value: "nope": spec.cronSpec in body should match"#),
        "{err}"
    );
    let cel = crd_file(
        &t,
        "cel.yaml",
        "apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata:\n  name: cel\nspec:\n  cronSpec: '* * * * *'\n  replicas: 11\n",
    );
    let err = fails(&k(&["apply", "-f", &cel]));
    assert!(
        err.contains(r#"The CronTab "cel" is invalid: spec: Invalid value: "object": replicas must not exceed maxReplicas"#),
        "{err}"
    );

    // Unknown fields: refused under kubectl's default strict validation, a warning otherwise.
    let unknown = crd_file(
        &t,
        "unknown.yaml",
        "apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata:\n  name: unknown\nspec:\n  cronSpec: '* * * * *'\n  bogus: 1\n",
    );
    let err = fails(&k(&["create", "-f", &unknown]));
    assert!(
        err.contains(r#"strict decoding error: unknown field "spec.bogus""#),
        "{err}"
    );
    let out = k(&["create", "--validate=warn", "-f", &unknown]);
    ok(&out);
    let warn = String::from_utf8_lossy(&out.stderr);
    assert!(
        warn.contains(r#"Warning: unknown field "spec.bogus""#),
        "{warn}"
    );
    assert_eq!(
        ok(&k(&["get", "ct", "unknown", "-o", "jsonpath={.spec}"])),
        r#"{"cronSpec":"* * * * *","maxReplicas":10,"replicas":1}"#
    );

    // kubectl explain from the OpenAPI v3 document.
    let explain = ok(&k(&["explain", "crontab.spec"]));
    assert!(explain.contains("cronSpec"), "{explain}");
    assert!(
        explain.contains("The schedule and what it runs."),
        "{explain}"
    );

    // Server-side apply creates and updates.
    let ssa = crd_file(
        &t,
        "ssa.yaml",
        "apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata:\n  name: ssa\nspec:\n  cronSpec: '0 * * * *'\n  replicas: 2\n",
    );
    let out = ok(&k(&["apply", "--server-side", "-f", &ssa]));
    assert!(
        out.contains("crontab.stable.example.com/ssa serverside-applied"),
        "{out}"
    );

    // scale subresource.
    let out = ok(&k(&["scale", "ct/my-crontab", "--replicas=3"]));
    assert!(
        out.contains("crontab.stable.example.com/my-crontab scaled"),
        "{out}"
    );
    assert_eq!(
        ok(&k(&[
            "get",
            "ct",
            "my-crontab",
            "-o",
            "jsonpath={.spec.replicas} {.metadata.generation}"
        ])),
        "3 3"
    );

    // status subresource: a status write keeps the spec, a main write keeps the status.
    ok(&k(&[
        "patch",
        "ct",
        "my-crontab",
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"replicas":3},"spec":{"replicas":9}}"#,
    ]));
    ok(&k(&[
        "patch",
        "ct",
        "my-crontab",
        "--type=merge",
        "-p",
        r#"{"status":{"replicas":0}}"#,
    ]));
    assert_eq!(
        ok(&k(&[
            "get",
            "ct",
            "my-crontab",
            "-o",
            "jsonpath={.spec.replicas} {.status.replicas}"
        ])),
        "3 3"
    );
    let scale = ok(&k(&[
        "get",
        "--raw",
        "/runtimes/local/apis/stable.example.com/v1/namespaces/default/crontabs/my-crontab/scale",
    ]));
    assert!(
        scale.contains(r#""kind":"Scale""#) && scale.contains(r#""status":{"replicas":3}"#),
        "{scale}"
    );

    // Conversion None: the same object in the other version.
    assert_eq!(
        ok(&k(&[
            "get",
            "crontabs.v1beta1.stable.example.com",
            "my-crontab",
            "-o",
            "jsonpath={.apiVersion}"
        ])),
        "stable.example.com/v1beta1"
    );

    // The `all` category.
    let all = ok(&k(&["get", "all"]));
    assert!(
        all.contains("crontab.stable.example.com/my-crontab"),
        "{all}"
    );

    // A second CRD of the group whose short name is taken is not accepted.
    let clash = CRONTAB_CRD
        .replace(
            "crontabs.stable.example.com",
            "crontabs2.stable.example.com",
        )
        .replace("plural: crontabs", "plural: crontabs2")
        .replace("singular: crontab", "singular: crontab2")
        .replace("kind: CronTab", "kind: CronTab2");
    let clash = crd_file(&t, "clash.yaml", &clash);
    ok(&k(&["apply", "-f", &clash]));
    let cond = ok(&k(&[
        "get", "crd", "crontabs2.stable.example.com", "-o",
        "jsonpath={.status.conditions[?(@.type==\"NamesAccepted\")].status} {.status.conditions[?(@.type==\"NamesAccepted\")].message}",
    ]));
    assert_eq!(cond, "False \"ct\" is already in use");

    // Deleting the CRD removes its instances; the resource is no longer served.
    ok(&k(&["delete", "crd", "crontabs.stable.example.com"]));
    let err = fails(&k(&["get", "crontabs.stable.example.com"]));
    assert!(
        err.contains("the server doesn't have a resource type"),
        "{err}"
    );
    // Its short name is free again: the clashing CRD is accepted now.
    ok(&k(&[
        "wait",
        "--for",
        "condition=NamesAccepted",
        "--timeout=30s",
        "crd/crontabs2.stable.example.com",
    ]));
    // Created again (once the other CRD gave the short name back), it serves no old instance.
    ok(&k(&["delete", "crd", "crontabs2.stable.example.com"]));
    ok(&k(&["apply", "-f", &crd]));
    ok(&k(&[
        "wait",
        "--for",
        "condition=established",
        "--timeout=30s",
        "crd/crontabs.stable.example.com",
    ]));
    let out = ok(&k(&["get", "crontabs.stable.example.com", "-A"]));
    assert!(
        !out.contains("my-crontab"),
        "instances outlived their CRD: {out}"
    );
}

#[test]
fn crd_journey_default_kubectl() {
    journey("kubectl");
}

#[test]
fn crd_journey_oldest_and_newest_kubectl() {
    for minor in [27, 33] {
        if let Some(k) = kubectl_version(minor) {
            journey(&k);
        }
    }
}

/// A CRD of runtime A is not served in runtime B.
#[test]
fn crds_are_per_runtime() {
    let t = Twin::start(&[]);
    let crd = crd_file(&t, "crd.yaml", CRONTAB_CRD);
    ok(&t.kubectl(&["apply", "-f", &crd]));
    ok(&t.kubectl(&[
        "wait",
        "--for",
        "condition=established",
        "--timeout=30s",
        "crd/crontabs.stable.example.com",
    ]));
    let created = std::process::Command::new(bin())
        .args(["runtime", "create", "other", "--plan", "aws", "--data-dir"])
        .arg(t.data_dir())
        .output()
        .unwrap();
    ok(&created);
    let other = t.kubeconfig_of("other");
    let err = fails(&t.kubectl_at("kubectl", &other, &["get", "crontabs"], None));
    assert!(
        err.contains(r#"the server doesn't have a resource type "crontabs""#),
        "{err}"
    );
    let crds = ok(&t.kubectl_at("kubectl", &other, &["get", "crd"], None));
    assert!(!crds.contains("crontabs"), "{crds}");
    // Deleting a namespace removes its custom resources.
    ok(&t.kubectl(&["create", "namespace", "team"]));
    let cr = crd_file(&t, "ct.yaml", CRONTAB);
    ok(&t.kubectl(&["apply", "-n", "team", "-f", &cr]));
    ok(&t.kubectl(&["delete", "namespace", "team"]));
    let left = ok(&t.kubectl(&["get", "crontabs", "-A", "-o", "name"]));
    assert!(left.trim().is_empty(), "{left}");
    // And it survives a restart of the server.
    let mut t = t;
    t.stop();
    t.spawn();
    let cr = crd_file(&t, "ct.yaml", CRONTAB);
    ok(&t.kubectl(&["apply", "-f", &cr]));
}

/// Kyma's APIRule CRD as api-gateway ships it (tests/data/crds): four versions, CEL rules.
#[test]
fn kyma_apirule_crd_applies_and_validates() {
    let t = Twin::start(&[]);
    let dir = env!("CARGO_MANIFEST_DIR");
    let crd = format!("{dir}/tests/data/crds/gateway.kyma-project.io_apirules.yaml");
    ok(&t.kubectl(&["apply", "-f", &crd]));
    ok(&t.kubectl(&[
        "wait",
        "--for",
        "condition=established",
        "--timeout=30s",
        "crd/apirules.gateway.kyma-project.io",
    ]));
    let rule = r#"apiVersion: gateway.kyma-project.io/v2
kind: APIRule
metadata:
  name: httpbin
spec:
  hosts: [httpbin.local.kyma.dev]
  gateway: kyma-system/kyma-gateway
  service:
    name: httpbin
    port: 8000
  rules:
  - path: /*
    methods: [GET]
    noAuth: true
"#;
    let f = crd_file(&t, "rule.yaml", rule);
    ok(&t.kubectl(&["apply", "-f", &f]));
    let got = ok(&t.kubectl(&[
        "get",
        "apirules.v2.gateway.kyma-project.io",
        "httpbin",
        "-o",
        "jsonpath={.apiVersion} {.spec.service.port}",
    ]));
    assert_eq!(got, "gateway.kyma-project.io/v2 8000");
    let table = ok(&t.kubectl(&["get", "apirules.v2.gateway.kyma-project.io"]));
    assert!(table.lines().next().unwrap().contains("HOSTS"), "{table}");
    // A rule without an access strategy breaks the CRD's CEL rule.
    let bad = rule
        .replace("    noAuth: true\n", "")
        .replace("name: httpbin\nspec", "name: bad\nspec");
    let f = crd_file(&t, "bad.yaml", &bad);
    let err = fails(&t.kubectl(&["apply", "-f", &f]));
    assert!(
        err.contains(r#"spec.rules[0]: Invalid value: "object": One of the following fields must be set: noAuth, jwt, extAuth"#),
        "{err}"
    );
    // A gateway that is not namespace/name.
    let bad = rule
        .replace("kyma-system/kyma-gateway", "Kyma Gateway")
        .replace("name: httpbin\nspec", "name: bad2\nspec");
    let f = crd_file(&t, "bad2.yaml", &bad);
    let err = fails(&t.kubectl(&["apply", "-f", &f]));
    assert!(
        err.contains(
            "spec.gateway: Invalid value: \"string\": Gateway must be in the namespace/name format"
        ),
        "{err}"
    );
    let explain = ok(&t.kubectl(&[
        "explain",
        "apirules.spec.rules",
        "--api-version=gateway.kyma-project.io/v2",
    ]));
    assert!(explain.contains("noAuth"), "{explain}");
}
