//! `twinstack check`: the same manifests give the same answers offline as on a running twin
//! (the test that keeps the two from drifting), its SARIF validates against the OASIS schema,
//! its JUnit is read by a JUnit consumer, and malformed input is reported with file and line.
//!
//! The Python tools (`jsonschema`, `junitparser`) come from PyPI in a virtual environment
//! `.ci/run` installs; `TWINSTACK_CHECK_PYTHON` names its interpreter.

mod common;

use common::osb::Osb;
use common::{ok, Twin};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// A namespace with Istio injection, a PreferDualStack Service whose IPv6 skips the mesh, a
/// Deployment, and a LoadBalancer the AWS Load Balancer Controller cannot build.
const SHOP_NAMESPACE: &str = "apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels:
    istio-injection: enabled
";

const SHOP: &str = "apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec:
  ipFamilyPolicy: PreferDualStack
  selector: {app: api}
  ports: [{port: 80}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: api, image: nginx}]
---
apiVersion: v1
kind: Service
metadata:
  name: bad-scheme
  namespace: shop
  annotations:
    service.beta.kubernetes.io/aws-load-balancer-type: external
    service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: instance
    service.beta.kubernetes.io/aws-load-balancer-scheme: bogus
spec:
  type: LoadBalancer
  selector: {app: api}
  ports: [{port: 80, targetPort: 8080}]
";

/// The manifests in files named so that `kubectl apply -f DIR` (file-name order) applies
/// them in the order `check` does (namespaces first).
fn manifests() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    common::write(dir.path(), "00-namespace.yaml", SHOP_NAMESPACE);
    common::write(dir.path(), "10-seed-aws.yaml", common::AWS_SERVICE);
    common::write(dir.path(), "20-seed-gcp.yaml", common::GCP_SERVICE);
    common::write(dir.path(), "30-shop.yaml", SHOP);
    dir
}

fn check(args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(common::bin());
    cmd.arg("check").args(args);
    common::output_with_stdin(cmd, stdin)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn kubectl(kubeconfig: &Path, t: &Twin, args: &[&str]) -> Output {
    t.kubectl_at("kubectl", kubeconfig, args, None)
}

fn family(ip: &str) -> &'static str {
    if ip.contains(':') {
        "IPv6"
    } else {
        "IPv4"
    }
}

/// What must agree between `check` and a live twin about a Service's load balancer address:
/// hostname (its domain, the name carries a hash of the runtime) or IP family, mode, ports.
fn ingress_shape(ingress: &Value) -> Value {
    let entries = ingress.as_array().cloned().unwrap_or_default();
    Value::Array(
        entries
            .iter()
            .map(|i| {
                json!({
                    "hostDomain": i["hostname"].as_str().map(|h| h.split_once('.').map(|(_, d)| d).unwrap_or("")),
                    "ipFamily": i["ip"].as_str().map(family),
                    "ipMode": i["ipMode"],
                    "ports": i["ports"],
                })
            })
            .collect(),
    )
}

/// The events as (type, reason, message).
fn event_triples(events: &[Value]) -> Value {
    events
        .iter()
        .map(|e| json!([e["type"], e["reason"], e["message"]]))
        .collect()
}

/// The cloud records of a Service as the runtimes API lists them (`twinstack runtime show`).
fn cloud_of(cloud: &Value, ns: &str, name: &str) -> Value {
    cloud
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["service"] == format!("{ns}/{name}"))
        .map(|r| {
            let families: Vec<Value> = r["targetGroups"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| json!(t.as_str().unwrap().rsplit(' ').next().unwrap()))
                .collect();
            json!({"kind": r["kind"], "scheme": r["scheme"], "ipAddressType": r["ipAddressType"],
                   "targetGroupFamilies": families, "leaked": r["leaked"]})
        })
        .collect()
}

/// The comparable part of one object of `check -o json`.
fn from_check(o: &Value) -> Value {
    let mut p = json!({"outcome": o["outcome"]});
    if o["outcome"] == "refused" {
        p["message"] = o["refusal"]["message"].clone();
        return p;
    }
    if let Some(s) = o.get("service") {
        let mut added: Vec<&str> = s["annotationsAdded"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        added.sort();
        p["service"] = json!({
            "type": s["type"], "ipFamilyPolicy": s["ipFamilyPolicy"], "ipFamilies": s["ipFamilies"],
            "clusterIPFamilies": s["clusterIPs"].as_array().unwrap().iter().map(|ip| family(ip.as_str().unwrap())).collect::<Vec<_>>(),
            "annotationsAdded": added,
        });
    }
    if let Some(lb) = o.get("loadBalancer") {
        let cloud: Vec<Value> = lb["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                json!({"kind": r["kind"], "scheme": r["scheme"], "ipAddressType": r["ipAddressType"],
                       "targetGroupFamilies": r["targetGroupFamilies"], "leaked": r["leaked"]})
            })
            .collect();
        p["ingress"] = ingress_shape(&lb["ingress"]);
        p["cloud"] = Value::Array(cloud);
    }
    if let Some(w) = o.get("workload") {
        p["workload"] = w.clone();
    }
    p["events"] = event_triples(o["events"].as_array().unwrap());
    p
}

/// The same of the live twin's object (after `kubectl apply`).
fn from_live(
    kc: &Path,
    t: &Twin,
    input: &Value,
    o: &Value,
    apply_stderr: &str,
    cloud: &Value,
) -> Value {
    let kind = o["kind"].as_str().unwrap();
    let name = o["name"].as_str().unwrap();
    let ns = o["namespace"].as_str().unwrap_or("default");
    let resource = match kind {
        "Namespace" => "namespace".to_string(),
        k => k.to_lowercase(),
    };
    let mut args = vec!["get", resource.as_str(), name, "-o", "json"];
    if kind != "Namespace" {
        args.extend(["-n", ns]);
    }
    let got = kubectl(kc, t, &args);
    if !got.status.success() {
        // Refused: kubectl printed the API server's message.
        let message = o["refusal"]["message"].as_str().unwrap_or("");
        let printed = !message.is_empty() && apply_stderr.contains(message);
        return json!({"outcome": "refused", "message": if printed { json!(message) } else { json!(apply_stderr) }});
    }
    let live: Value = serde_json::from_slice(&got.stdout).unwrap();
    let mut p = json!({"outcome": "accepted"});
    if kind == "Service" {
        let had = &input["metadata"]["annotations"];
        let mut added: Vec<String> = live["metadata"]["annotations"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k.clone())
            .filter(|k| {
                had.get(k).is_none() && k != "kubectl.kubernetes.io/last-applied-configuration"
            })
            .collect();
        added.sort();
        let spec = &live["spec"];
        p["service"] = json!({
            "type": spec["type"], "ipFamilyPolicy": spec["ipFamilyPolicy"], "ipFamilies": spec["ipFamilies"],
            "clusterIPFamilies": spec["clusterIPs"].as_array().unwrap().iter().map(|ip| family(ip.as_str().unwrap())).collect::<Vec<_>>(),
            "annotationsAdded": added,
        });
        if spec["type"] == "LoadBalancer" {
            p["ingress"] = ingress_shape(&live["status"]["loadBalancer"]["ingress"]);
            p["cloud"] = cloud_of(cloud, ns, name);
        }
    }
    if kind == "Deployment" {
        let pods = kubectl(
            kc,
            t,
            &["get", "pods", "-n", ns, "-l", "app=api", "-o", "json"],
        );
        let pods: Value = serde_json::from_slice(&pods.stdout).unwrap();
        let mut families: Vec<&str> = pods["items"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|p| {
                p["status"]["podIPs"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .map(|ip| family(ip["ip"].as_str().unwrap()))
            .collect();
        families.dedup();
        p["workload"] = json!({"replicas": live["spec"]["replicas"], "readyReplicas": live["status"]["readyReplicas"].as_i64().unwrap_or(0), "podIPFamilies": families});
    }
    let uid = live["metadata"]["uid"].as_str().unwrap();
    let evs = kubectl(kc, t, &["get", "events", "-n", ns, "-o", "json"]);
    let evs: Value = serde_json::from_slice(&evs.stdout).unwrap();
    let mine: Vec<Value> = evs["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["involvedObject"]["uid"] == uid)
        .cloned()
        .collect();
    p["events"] = event_triples(&mine);
    p
}

/// The objects of the manifests, by (kind, name), as `check` read them.
fn inputs(dir: &Path) -> Vec<Value> {
    let mut out = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(f).unwrap();
        out.extend(
            twinstack_check::manifest::read("x", &text)
                .unwrap()
                .into_iter()
                .map(|l| l.object),
        );
    }
    out
}

#[test]
fn check_gives_what_a_running_twin_gives_for_the_seed_manifests() {
    let t = Twin::start(&[]);
    let dir = manifests();
    let osb = Osb::new(&t);
    let cases: [(&str, &[&str]); 3] = [
        ("aws-dual", &["--plan", "aws", "--dual-stack"]),
        ("aws-ipv4", &["--plan", "aws"]),
        ("gcp-dual", &["--plan", "gcp", "--dual-stack"]),
    ];
    for (instance, flags) in cases {
        // The live runtime, provisioned through the broker as `twinstack runtime create` does.
        let created = Command::new(common::bin())
            .args(["runtime", "create", instance])
            .args(flags)
            .arg("--data-dir")
            .arg(t.data_dir())
            .output()
            .unwrap();
        ok(&created);
        let kc = t.kubeconfig_of(instance);
        let runtime = t.runtime_of(instance);
        let applied = kubectl(&kc, &t, &["apply", "-f", dir.path().to_str().unwrap()]);
        let apply_stderr = stderr(&applied);

        // The same manifests, offline.
        let mut args: Vec<&str> = vec!["-o", "json", "-f", dir.path().to_str().unwrap()];
        args.extend_from_slice(flags);
        let out = check(&args, None);
        let report: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{instance}: {e}: {}", stderr(&out)));
        assert_eq!(report["converged"], true, "{instance}");
        let objects = report["objects"].as_array().unwrap();
        let inputs = inputs(dir.path());
        assert_eq!(objects.len(), inputs.len(), "{instance}");
        // Exit code 1: each runtime refuses an object or emits a Warning event. kubectl fails
        // on refusals only.
        assert_eq!(out.status.code(), Some(1), "{instance}: {}", stderr(&out));
        let refused = report["summary"]["refused"].as_u64().unwrap() > 0;
        assert_eq!(
            applied.status.success(),
            !refused,
            "{instance}: {apply_stderr}"
        );

        // Each object: the live twin gets there (its controllers run on their own time).
        let start = Instant::now();
        for (o, input) in objects.iter().zip(&inputs) {
            let want = from_check(o);
            loop {
                let (_, rts) = osb.call(reqwest::Method::GET, "/twinstack/v1/runtimes", None);
                let cloud = rts["runtimes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|r| r["name"] == runtime.as_str())
                    .map(|r| r["cloud"].clone())
                    .unwrap();
                let live = from_live(&kc, &t, input, o, &apply_stderr, &cloud);
                if live == want {
                    break;
                }
                assert!(
                    start.elapsed() < Duration::from_secs(45),
                    "{instance} {} {}: check says\n{want:#}\nthe live twin\n{live:#}",
                    o["kind"],
                    o["name"]
                );
                std::thread::sleep(Duration::from_millis(200));
            }
            // Warnings on apply: kubectl prints the same ones.
            for w in o["warnings"].as_array().unwrap() {
                let w = w.as_str().unwrap();
                assert!(
                    apply_stderr.contains(&format!("Warning: {w}")),
                    "{instance}: {w} not in {apply_stderr}"
                );
            }
        }
        // What the three runtimes tell apart, said plainly.
        let by_name = |n: &str| objects.iter().find(|o| o["name"] == n).unwrap();
        match instance {
            "aws-dual" => {
                let lb = &by_name("web-aws")["loadBalancer"];
                assert_eq!(lb["resources"][0]["ipAddressType"], "dualstack", "{lb:#}");
                assert_eq!(lb["resources"][0]["targetGroupFamilies"], json!(["ipv6"]));
                assert_eq!(lb["controller"], "aws-load-balancer-controller");
                // Gardener's webhook sets the scheme of a new Service on dual-stack runtimes.
                let bad = &by_name("bad-scheme")["loadBalancer"]["resources"][0];
                assert_eq!(bad["scheme"], "internet-facing", "{bad:#}");
                assert!(by_name("api")["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|f| f["rule"] == "event/IPv6OutsideMesh"));
            }
            "aws-ipv4" => {
                let web = by_name("web-aws");
                assert_eq!(web["outcome"], "refused");
                assert!(web["refusal"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("this cluster is not configured for dual-stack services"));
                assert!(by_name("api")["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|f| f["rule"] == "prefer-dual-stack-single"));
                assert!(by_name("bad-scheme")["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|f| f["rule"] == "event/FailedBuildModel"
                        && f["message"] == "Failed build model due to unknown scheme: bogus"));
            }
            _ => {
                let lb = &by_name("web-gcp")["loadBalancer"];
                let fams: Vec<&str> = lb["ingress"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| family(i["ip"].as_str().unwrap()))
                    .collect();
                assert_eq!(fams, ["IPv4", "IPv6"], "{lb:#}");
                // The AWS annotations mean nothing on Google Cloud, and check says so.
                assert!(by_name("bad-scheme")["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|f| f["rule"] == "annotation-ignored"));
            }
        }
    }
}

/// The Python of the virtual environment `.ci/run` installs (jsonschema, junitparser).
fn python() -> String {
    std::env::var("TWINSTACK_CHECK_PYTHON").unwrap_or_else(|_| {
        let home = std::env::var("HOME").unwrap_or_default();
        format!("{home}/.cache/twinstack/check-venv/bin/python")
    })
}

fn run_python(script: &str, args: &[&str]) -> String {
    let out = Command::new(python())
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {} ({e}); `.ci/run` installs it", python()));
    ok(&out)
}

#[test]
fn sarif_validates_against_the_oasis_schema_and_junit_reads_in_a_junit_consumer() {
    let dir = manifests();
    let path = dir.path().to_str().unwrap();
    let schema = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/sarif-schema-2.1.0.json"
    );

    // IPv4 AWS: a refusal, a Warning event, advice; every kind of result.
    let sarif = check(&["-o", "sarif", "--plan", "aws", "-f", path], None);
    assert_eq!(sarif.status.code(), Some(1), "{}", stderr(&sarif));
    let file = dir.path().join("out.sarif");
    std::fs::write(&file, &sarif.stdout).unwrap();
    let validated = run_python(
        "import json, sys, jsonschema\n\
         schema = json.load(open(sys.argv[1]))\n\
         log = json.load(open(sys.argv[2]))\n\
         jsonschema.Draft4Validator.check_schema(schema)\n\
         jsonschema.Draft4Validator(schema).validate(log)\n\
         r = log['runs'][0]['results']\n\
         print(len(r), sorted({x['ruleId'] for x in r}))\n",
        &[schema, file.to_str().unwrap()],
    );
    assert!(validated.contains("'refused'"), "{validated}");
    let log: Value = serde_json::from_slice(&sarif.stdout).unwrap();
    let refused = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "refused")
        .unwrap();
    let loc = &refused["locations"][0]["physicalLocation"];
    assert!(loc["artifactLocation"]["uri"]
        .as_str()
        .unwrap()
        .ends_with("10-seed-aws.yaml"));
    assert_eq!(loc["region"]["startLine"], 1);
    // The Deployment is the second document of 30-shop.yaml, at line 9.
    let out = check(&["-o", "json", "--plan", "aws", "-f", path], None);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let dep = report["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "Deployment")
        .unwrap();
    assert_eq!(dep["line"], 9, "{dep:#}");

    // JUnit, read by junitparser: one test case per object, failures where check failed.
    let junit = check(&["-o", "junit", "--plan", "aws", "-f", path], None);
    let file = dir.path().join("out.xml");
    std::fs::write(&file, &junit.stdout).unwrap();
    let read = run_python(
        "import sys\n\
         from junitparser import JUnitXml, Failure, Skipped\n\
         xml = JUnitXml.fromfile(sys.argv[1])\n\
         for suite in xml:\n\
         \x20   for case in suite:\n\
         \x20       kinds = [type(r).__name__ for r in case.result]\n\
         \x20       print(case.name, '|', case.classname, '|', ','.join(kinds) or 'passed')\n",
        &[file.to_str().unwrap()],
    );
    let lines: Vec<&str> = read.lines().collect();
    assert_eq!(
        lines.len(),
        report["objects"].as_array().unwrap().len(),
        "{read}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Service default/web-aws |") && l.ends_with("| Failure")),
        "{read}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Namespace shop |") && l.ends_with("| passed")),
        "{read}"
    );
}

#[test]
fn malformed_yaml_reports_file_and_line_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = common::write(
        dir.path(),
        "bad.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: b\n  labels: x: y\n",
    );
    let out = check(&["-f", bad.to_str().unwrap()], None);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "{}:9: mapping values are not allowed",
            bad.display()
        )),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(out.stdout.is_empty());

    // The same on standard input, named `-`; and a document separator kubectl refuses.
    let out = check(&["-f", "-"], Some("kind: Service\n--- nope\n"));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("-:2: invalid Yaml document separator: nope"),
        "{}",
        stderr(&out)
    );
    // Bytes that are not UTF-8, a JSON syntax error.
    let bin = dir.path().join("bin.yaml");
    std::fs::write(&bin, b"apiVersion: v1\nkind: \xff\xfe\n").unwrap();
    let out = check(&["-f", bin.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("bin.yaml:2:"), "{}", stderr(&out));
    let out = check(
        &["-f", "-"],
        Some("{\"kind\": \"Service\",\n\"apiVersion\": }"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("-:2: invalid character '}'"),
        "{}",
        stderr(&out)
    );
    // A missing file is not malformed input: exit 1.
    let out = check(&["-f", "/nonexistent/x.yaml"], None);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

#[test]
fn stdin_kustomize_unsupported_kinds_and_fail_on() {
    // kustomize output (kubectl's built-in kustomize) with a namespace transformer.
    let dir = tempfile::tempdir().unwrap();
    common::write(
        dir.path(),
        "kustomization.yaml",
        "namespace: shop\nresources: [ns.yaml, svc.yaml]\n",
    );
    common::write(
        dir.path(),
        "ns.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n",
    );
    common::write(
        dir.path(),
        "svc.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ipFamilyPolicy: PreferDualStack\n  ports: [{port: 80}]\n",
    );
    let out = check(
        &[
            "-o",
            "json",
            "--ip-families",
            "IPv4",
            "-k",
            dir.path().to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let svc = &r["objects"][1];
    assert_eq!(svc["namespace"], "shop", "{r:#}");
    assert_eq!(svc["service"]["ipFamilies"], json!(["IPv4"]));
    // A warning (PreferDualStack stayed single) fails only with --fail-on warning.
    let out = check(
        &[
            "--fail-on",
            "warning",
            "--ip-families",
            "IPv4",
            "-k",
            dir.path().to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let table = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(table.contains("prefer-dual-stack-single"), "{table}");
    assert!(
        !table.contains('\x1b'),
        "no colour when stdout is not a terminal"
    );

    // Standard input, a List, a kind twinstack does not serve (kubectl's text), a refusal.
    let input = r#"{"apiVersion": "v1", "kind": "List", "items": [
{"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "i"}},
{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "nowhere"}}]}"#;
    let out = check(&["-o", "json", "-f", "-"], Some(input));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["objects"][0]["outcome"], "unsupported");
    assert_eq!(
        r["objects"][0]["findings"][0]["message"],
        "resource mapping not found for name: \"i\" namespace: \"\" from \"-\": no matches for kind \"Widget\" in version \"example.com/v1\""
    );
    assert_eq!(r["objects"][0]["line"], 2);
    assert_eq!(r["objects"][1]["outcome"], "refused");
    assert_eq!(
        r["objects"][1]["refusal"]["message"],
        "namespaces \"nowhere\" not found"
    );
    assert_eq!(out.status.code(), Some(1));
    let out = check(&["--fail-on", "never", "-f", "-"], Some(input));
    assert_eq!(out.status.code(), Some(0));
}
