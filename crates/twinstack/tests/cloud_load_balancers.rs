//! `type: LoadBalancer` Services as the AWS and Google Cloud controllers build them, seen the
//! way users see them: kubectl (status, events, `Warning:` headers), twinstack's DNS server,
//! the real AWS CLI and gcloud against twinstack's cloud APIs.

mod common;

use common::{fails, ok, Twin};
use hickory_proto::op::{Message, Query};
use hickory_proto::rr::{Name, RData, RecordType};
use serde_json::Value;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

const SEED_AWS: &str = r#"
apiVersion: v1
kind: Service
metadata:
  name: web
  annotations:
    service.beta.kubernetes.io/aws-load-balancer-ip-address-type: dualstack
    service.beta.kubernetes.io/aws-load-balancer-scheme: internet-facing
    service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: instance
    service.beta.kubernetes.io/aws-load-balancer-type: external
spec:
  type: LoadBalancer
  ipFamilyPolicy: POLICY
  ipFamilies: FAMILIES
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: 8080}
"#;

const SEED_GCP: &str = r#"
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: LoadBalancer
  ipFamilyPolicy: RequireDualStack
  ipFamilies: [IPv6, IPv4]
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: 8080}
"#;

fn apply(t: &Twin, yaml: &str) -> std::process::Output {
    t.kubectl_with("kubectl", &["apply", "-f", "-"], Some(yaml))
}

fn service(t: &Twin, name: &str) -> Value {
    serde_json::from_str(&ok(&t.kubectl(&["get", "svc", name, "-o", "json"]))).unwrap()
}

/// Polls until `f` holds of the Service (a controller's write is asynchronous).
fn wait_for(t: &Twin, name: &str, what: &str, f: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    loop {
        let s = service(t, name);
        if f(&s) {
            return s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "Service {name}: {what} did not happen; it is {s:#}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The Service's events as (type, reason, message), in the order `kubectl get events` lists them.
fn events(t: &Twin, name: &str) -> Vec<(String, String, String)> {
    let out = ok(&t.kubectl(&[
        "get",
        "events",
        "--field-selector",
        &format!("involvedObject.name={name},involvedObject.kind=Service"),
        "-o",
        "json",
    ]));
    let v: Value = serde_json::from_str(&out).unwrap();
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or("").to_string();
            (s("type"), s("reason"), s("message"))
        })
        .collect()
}

fn wait_for_event(t: &Twin, name: &str, reason: &str) -> Vec<(String, String, String)> {
    let start = Instant::now();
    loop {
        let evs = events(t, name);
        if evs.iter().any(|e| e.1 == reason) {
            return evs;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no {reason} event for {name}: {evs:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn dns(addr: SocketAddr, name: &str, rtype: RecordType) -> Vec<IpAddr> {
    let mut msg = Message::query();
    msg.metadata.recursion_desired = true;
    msg.add_query(Query::query(Name::from_ascii(name).unwrap(), rtype));
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    sock.send_to(&msg.to_vec().unwrap(), addr).unwrap();
    let mut buf = vec![0u8; 4096];
    let n = sock.recv(&mut buf).unwrap();
    let resp = Message::from_vec(&buf[..n]).unwrap();
    resp.answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::A(a) => Some(IpAddr::V4(a.0)),
            RData::AAAA(a) => Some(IpAddr::V6(a.0)),
            _ => None,
        })
        .collect()
}

/// The AWS CLI: `.ci/run` installs it in a virtual environment of its own and names it in
/// `TWINSTACK_AWS_CLI`; otherwise the `aws` on the PATH.
fn aws(t: &Twin, access_key: &str, secret: &str, args: &[&str]) -> std::process::Output {
    let bin = std::env::var("TWINSTACK_AWS_CLI").unwrap_or_else(|_| "aws".into());
    Command::new(&bin)
        .args([
            "--endpoint-url",
            &format!("https://127.0.0.1:{}/cloud/aws/local", t.port),
            "--ca-bundle",
            t.data_dir().join("pki/ca.crt").to_str().unwrap(),
            "--region",
            "eu-central-1",
            "--output",
            "json",
        ])
        .args(args)
        .env("AWS_ACCESS_KEY_ID", access_key)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("HOME", t.data_dir())
        .output()
        .unwrap_or_else(|e| panic!("running {bin}: {e} (set TWINSTACK_AWS_CLI)"))
}

/// `aws elbv2 describe-target-groups` of one load balancer, as the runtime `local`.
fn target_groups(t: &Twin, token: &str, load_balancer_arn: &str) -> Value {
    json(&aws(
        t,
        "local",
        token,
        &[
            "elbv2",
            "describe-target-groups",
            "--load-balancer-arn",
            load_balancer_arn,
        ],
    ))
}

fn json(out: &std::process::Output) -> Value {
    serde_json::from_str(&ok(out)).unwrap()
}

fn seed_aws(policy: &str, families: &str) -> String {
    SEED_AWS
        .replace("POLICY", policy)
        .replace("FAMILIES", families)
}

#[test]
fn the_seed_aws_manifest_on_a_dual_stack_runtime_gets_a_dualstack_nlb() {
    let t = Twin::start(&[]);
    ok(&apply(&t, &seed_aws("RequireDualStack", "[IPv6, IPv4]")));
    let s = wait_for(&t, "web", "load balancer status", |s| {
        s["status"]["loadBalancer"]["ingress"][0]["hostname"].is_string()
    });
    let ingress = s["status"]["loadBalancer"]["ingress"].as_array().unwrap();
    assert_eq!(ingress.len(), 1, "one entry: {ingress:?}");
    let host = ingress[0]["hostname"].as_str().unwrap();
    assert_eq!(host, host.to_lowercase());
    assert!(host.starts_with("k8s-default-web-"), "{host}");
    assert!(host.ends_with(".elb.eu-central-1.amazonaws.com"), "{host}");
    assert!(ingress[0].get("ip").is_none());
    assert_eq!(
        ingress[0]["ports"],
        serde_json::json!([{"port": 80, "protocol": "TCP"}])
    );
    let fins = s["metadata"]["finalizers"].as_array().unwrap();
    assert!(fins.contains(&"service.kubernetes.io/load-balancer-cleanup".into()));
    assert!(fins.contains(&"service.k8s.aws/resources".into()));

    // The cloud-controller-manager's event, then the LBC's, in that order.
    let evs = wait_for_event(&t, "web", "SuccessfullyReconciled");
    let reasons: Vec<&str> = evs.iter().map(|e| e.1.as_str()).collect();
    assert_eq!(
        reasons,
        ["EnsuringLoadBalancer", "SuccessfullyReconciled"],
        "{evs:?}"
    );
    assert_eq!(evs[0].2, "Ensuring load balancer");
    assert_eq!(evs[1].2, "Successfully reconciled");
    let described = ok(&t.kubectl(&["describe", "svc", "web"]));
    assert!(described.contains("SuccessfullyReconciled"), "{described}");

    // The hostname resolves to A and AAAA through twinstack's DNS.
    let dns_addr = t.dns.expect("DNS server address");
    let a = dns(dns_addr, host, RecordType::A);
    let aaaa = dns(dns_addr, host, RecordType::AAAA);
    assert!(!a.is_empty() && a.iter().all(IpAddr::is_ipv4), "{a:?}");
    assert!(
        !aaaa.is_empty() && aaaa.iter().all(IpAddr::is_ipv6),
        "{aaaa:?}"
    );
    // And the Service name as kube-dns answers it, both families.
    let cluster = dns(dns_addr, "web.default.svc.cluster.local", RecordType::AAAA);
    assert_eq!(cluster.len(), 1, "{cluster:?}");
    // A headless Service answers with its ready pods' addresses, both families.
    ok(&apply(
        &t,
        "apiVersion: v1\nkind: Service\nmetadata: {name: db}\nspec:\n  clusterIP: None\n  ipFamilyPolicy: RequireDualStack\n  selector: {app: db}\n  ports: [{port: 5432}]\n",
    ));
    ok(&t.kubectl(&["run", "db", "--image=postgres", "--labels=app=db"]));
    let start = Instant::now();
    let (pod_ips, answers) = loop {
        let p: Value =
            serde_json::from_str(&ok(&t.kubectl(&["get", "pod", "db", "-o", "json"]))).unwrap();
        let ips: Vec<IpAddr> = p["status"]["podIPs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i["ip"].as_str()?.parse().ok())
            .collect();
        let a = dns(dns_addr, "db.default.svc.cluster.local", RecordType::A);
        let aaaa = dns(dns_addr, "db.default.svc.cluster.local", RecordType::AAAA);
        if ips.len() == 2 && a.len() == 1 && aaaa.len() == 1 {
            break (ips, [a[0], aaaa[0]]);
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "pod {ips:?}, A {a:?}, AAAA {aaaa:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        pod_ips.contains(&answers[0]) && pod_ips.contains(&answers[1]),
        "{pod_ips:?} {answers:?}"
    );

    // The AWS CLI sees the same load balancer.
    let token = t.token();
    let lbs = json(&aws(
        &t,
        "local",
        &token,
        &["elbv2", "describe-load-balancers"],
    ));
    let lb = lb_named(&lbs, host);
    assert_eq!(lb["IpAddressType"], "dualstack", "{lbs:#}");
    assert_eq!(lb["Scheme"], "internet-facing");
    assert_eq!(lb["Type"], "network");
    assert_eq!(lb["DNSName"], host);
    let arn = lb["LoadBalancerArn"].as_str().unwrap();
    let tgs = target_groups(&t, &token, arn);
    let tg = &tgs["TargetGroups"][0];
    assert_eq!(tg["IpAddressType"], "ipv6", "{tgs:#}");
    assert_eq!(tg["TargetType"], "instance");
    let subnets = json(&aws(&t, "local", &token, &["ec2", "describe-subnets"]));
    assert!(
        subnets["Subnets"].as_array().unwrap().len() >= 3,
        "{subnets:#}"
    );

    // `twinstack runtime show` lists the same inventory and the cloud APIs' secret.
    let show = Command::new(common::bin())
        .args(["runtime", "show", "local", "--data-dir"])
        .arg(t.data_dir())
        .output()
        .unwrap();
    let show = ok(&show);
    assert!(show.contains(&format!("Token:       {token}")), "{show}");
    assert!(
        show.lines()
            .any(|l| l.contains("NLB") && l.contains(host) && l.contains("dualstack")),
        "{show}"
    );

    // A wrong secret gets AWS's own error.
    let denied = aws(
        &t,
        "local",
        "not-the-token",
        &["elbv2", "describe-load-balancers"],
    );
    let err = fails(&denied);
    assert!(err.contains("SignatureDoesNotMatch"), "{err}");
}

/// The load balancer of `describe-load-balancers` with `dns_name`: every runtime also has the
/// Kyma Istio ingress gateway's.
fn lb_named<'a>(lbs: &'a Value, dns_name: &str) -> &'a Value {
    lbs["LoadBalancers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|lb| lb["DNSName"] == dns_name)
        .unwrap_or_else(|| panic!("no load balancer {dns_name} in {lbs:#}"))
}

#[test]
fn an_ipv4_aws_runtime_refuses_require_dual_stack_and_translates_with_prefer() {
    let t = Twin::start(&["--ip-families", "IPv4"]);
    let refused = fails(&apply(&t, &seed_aws("RequireDualStack", "[IPv6, IPv4]")));
    assert!(
        refused.contains("this cluster is not configured for dual-stack services"),
        "{refused}"
    );
    ok(&apply(&t, &seed_aws("PreferDualStack", "[IPv4]")));
    let s = wait_for(&t, "web", "load balancer status", |s| {
        s["status"]["loadBalancer"]["ingress"][0]["hostname"].is_string()
    });
    assert_eq!(s["spec"]["ipFamilies"], serde_json::json!(["IPv4"]));
    let token = t.token();
    let lbs = json(&aws(
        &t,
        "local",
        &token,
        &["elbv2", "describe-load-balancers"],
    ));
    let host = s["status"]["loadBalancer"]["ingress"][0]["hostname"]
        .as_str()
        .unwrap();
    let lb = lb_named(&lbs, host);
    assert_eq!(lb["IpAddressType"], "dualstack", "{lbs:#}");
    let arn = lb["LoadBalancerArn"].as_str().unwrap().to_string();
    let tgs = target_groups(&t, &token, &arn);
    assert_eq!(tgs["TargetGroups"][0]["IpAddressType"], "ipv4", "{tgs:#}");
    let aaaa = dns(t.dns.unwrap(), host, RecordType::AAAA);
    assert!(!aaaa.is_empty(), "a dualstack NLB answers AAAA");
}

#[test]
fn a_service_moved_to_the_lbc_leaks_its_classic_elb_and_a_wrong_annotation_fails_the_build() {
    let t = Twin::start(&["--ip-families", "IPv4"]);
    let clb = r#"
apiVersion: v1
kind: Service
metadata: {name: legacy}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
"#;
    ok(&apply(&t, clb));
    let s = wait_for(&t, "legacy", "Classic ELB", |s| {
        s["status"]["loadBalancer"]["ingress"][0]["hostname"].is_string()
    });
    let old = s["status"]["loadBalancer"]["ingress"][0]["hostname"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(old.ends_with(".eu-central-1.elb.amazonaws.com"), "{old}");
    let evs = wait_for_event(&t, "legacy", "EnsuredLoadBalancer");
    assert!(evs.iter().any(|e| e.1 == "EnsuringLoadBalancer"), "{evs:?}");
    ok(&t.kubectl(&[
        "annotate",
        "svc",
        "legacy",
        "service.beta.kubernetes.io/aws-load-balancer-type=external",
        "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type=instance",
    ]));
    let evs = wait_for_event(&t, "legacy", "LoadBalancerLeaked");
    let leak = evs.iter().find(|e| e.1 == "LoadBalancerLeaked").unwrap();
    assert_eq!(leak.0, "Warning");
    assert!(leak.2.contains(&old), "{leak:?}");
    let s = wait_for(&t, "legacy", "NLB status", |s| {
        s["status"]["loadBalancer"]["ingress"][0]["hostname"]
            .as_str()
            .is_some_and(|h| h.starts_with("k8s-"))
    });
    // The LBC's default scheme is internal.
    let token = t.token();
    let lbs = json(&aws(
        &t,
        "local",
        &token,
        &["elbv2", "describe-load-balancers"],
    ));
    let nlb = s["status"]["loadBalancer"]["ingress"][0]["hostname"]
        .as_str()
        .unwrap();
    assert_eq!(lb_named(&lbs, nlb)["Scheme"], "internal", "{lbs:#}");
    assert!(s["metadata"]["finalizers"]
        .as_array()
        .unwrap()
        .contains(&"service.k8s.aws/resources".into()));

    // A scheme the LBC does not know fails its build: the error, as an event.
    let bad = r#"
apiVersion: v1
kind: Service
metadata:
  name: bad
  annotations:
    service.beta.kubernetes.io/aws-load-balancer-type: external
    service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: instance
    service.beta.kubernetes.io/aws-load-balancer-scheme: bogus
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
"#;
    ok(&apply(&t, bad));
    let evs = wait_for_event(&t, "bad", "FailedBuildModel");
    let e = evs.iter().find(|e| e.1 == "FailedBuildModel").unwrap();
    assert_eq!(e.0, "Warning");
    assert_eq!(e.2, "Failed build model due to unknown scheme: bogus");
    let s = service(&t, "bad");
    assert!(
        s["status"]["loadBalancer"].get("ingress").is_none(),
        "{s:#}"
    );
}

#[test]
fn the_seed_gcp_manifest_gets_two_forwarding_rules_ipv4_first() {
    let t = Twin::start(&["--provider", "gcp", "--region", "europe-west3"]);
    ok(&apply(&t, SEED_GCP));
    let s = wait_for(&t, "web", "two ingress IPs", |s| {
        s["status"]["loadBalancer"]["ingress"]
            .as_array()
            .is_some_and(|i| i.len() == 2)
    });
    // Gardener's webhook handed it to ingress-gce.
    assert_eq!(
        s["metadata"]["annotations"]["cloud.google.com/l4-rbs"], "enabled",
        "{s:#}"
    );
    let ingress = s["status"]["loadBalancer"]["ingress"].as_array().unwrap();
    let ips: Vec<IpAddr> = ingress
        .iter()
        .map(|i| i["ip"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(ips[0].is_ipv4() && ips[1].is_ipv6(), "{ips:?}");
    assert!(ingress.iter().all(|i| i["ipMode"] == "VIP"));

    let gcloud = |args: &[&str]| gcloud(&t, args);
    let out = gcloud(&["compute", "forwarding-rules", "list", "--format=json"]);
    let rules = json(&out);
    // The Service's rules (every runtime also has the Kyma Istio ingress gateway's).
    let rules: Vec<&Value> = rules
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["backendService"]
                .as_str()
                .unwrap_or("")
                .contains("-default-web-")
        })
        .collect();
    assert_eq!(rules.len(), 2, "{rules:?}");
    let versions: Vec<&str> = rules
        .iter()
        .map(|r| r["ipVersion"].as_str().unwrap_or("IPV4"))
        .collect();
    assert!(
        versions.contains(&"IPV6") && versions.contains(&"IPV4"),
        "{rules:?}"
    );
    // Forwarding rules hold ephemeral addresses: `addresses list` shows only reserved ones
    // (none here), as on Google Cloud. The subnets are Gardener's.
    let addresses = json(&gcloud(&["compute", "addresses", "list", "--format=json"]));
    assert_eq!(addresses, serde_json::json!([]));
    let subnets = json(&gcloud(&[
        "compute",
        "networks",
        "subnets",
        "list",
        "--format=json",
    ]));
    let names: Vec<&str> = subnets
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"local-nodes"), "{names:?}");

    // Internal IPv6 load balancers are not supported on Gardener's Google Cloud: the
    // cloud-controller-manager builds an IPv4 ILB, and twinstack says so on apply and in an event.
    let internal = r#"
apiVersion: v1
kind: Service
metadata:
  name: internal
  annotations: {networking.gke.io/load-balancer-type: Internal}
spec:
  type: LoadBalancer
  ipFamilyPolicy: RequireDualStack
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
"#;
    let out = apply(&t, internal);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    ok(&out);
    assert!(
        stderr.contains("Warning:")
            && stderr.contains("internal IPv6 load balancers are not supported"),
        "{stderr}"
    );
    let s = wait_for(&t, "internal", "an ingress IP", |s| {
        s["status"]["loadBalancer"]["ingress"]
            .as_array()
            .is_some_and(|i| !i.is_empty())
    });
    let ingress = s["status"]["loadBalancer"]["ingress"].as_array().unwrap();
    assert_eq!(ingress.len(), 1, "{ingress:?}");
    assert!(ingress[0]["ip"]
        .as_str()
        .unwrap()
        .parse::<IpAddr>()
        .unwrap()
        .is_ipv4());
    let evs = wait_for_event(&t, "internal", "InternalIPv6LoadBalancerNotSupported");
    let e = evs
        .iter()
        .find(|e| e.1 == "InternalIPv6LoadBalancerNotSupported")
        .unwrap();
    assert_eq!(e.0, "Warning");
    let described = ok(&t.kubectl(&["describe", "svc", "internal"]));
    assert!(
        described.contains("InternalIPv6LoadBalancerNotSupported"),
        "{described}"
    );
}

/// gcloud against twinstack's Compute Engine API for the runtime `local` (its token as the
/// access token, twinstack's CA).
fn gcloud(t: &Twin, args: &[&str]) -> std::process::Output {
    let cfg = tempfile::tempdir().unwrap();
    let token_file: PathBuf = cfg.path().join("token");
    std::fs::write(&token_file, t.token()).unwrap();
    Command::new("gcloud")
        .args(args)
        .env("CLOUDSDK_CONFIG", cfg.path())
        .env(
            "CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE",
            format!("https://127.0.0.1:{}/cloud/gcp/local/compute/v1/", t.port),
        )
        .env("CLOUDSDK_AUTH_ACCESS_TOKEN_FILE", &token_file)
        .env(
            "CLOUDSDK_CORE_CUSTOM_CA_CERTS_FILE",
            t.data_dir().join("pki/ca.crt"),
        )
        .env("REQUESTS_CA_BUNDLE", t.data_dir().join("pki/ca.crt"))
        .env("CLOUDSDK_CORE_PROJECT", "local")
        .env("CLOUDSDK_CORE_DISABLE_PROMPTS", "1")
        .output()
        .expect("gcloud")
}

#[test]
fn ipv6_to_sidecar_pods_warns_on_apply_and_in_describe() {
    let t = Twin::start(&[]);
    ok(&t.kubectl(&["create", "namespace", "shop"]));
    ok(&t.kubectl(&["label", "namespace", "shop", "istio-injection=enabled"]));
    let svc = r#"
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  ipFamilyPolicy: PreferDualStack
  selector: {app: web}
  ports: [{port: 80}]
"#;
    let out = apply(&t, svc);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    ok(&out);
    assert!(
        stderr.contains("Warning:") && stderr.contains("won't be part of the Istio service mesh"),
        "{stderr}"
    );
    let start = Instant::now();
    loop {
        let d = ok(&t.kubectl(&["describe", "svc", "web", "-n", "shop"]));
        if d.contains("IPv6OutsideMesh") {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "{d}");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Pods of the namespace get the sidecar.
    ok(&t.kubectl(&[
        "run",
        "p",
        "-n",
        "shop",
        "--image=nginx",
        "--labels=app=web",
    ]));
    let p: Value = serde_json::from_str(&ok(
        &t.kubectl(&["get", "pod", "p", "-n", "shop", "-o", "json"])
    ))
    .unwrap();
    let names: Vec<&str> = p["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"istio-proxy"), "{names:?}");
    assert!(p["metadata"]["annotations"]["sidecar.istio.io/status"].is_string());
}

/// A LoadBalancer Service named `name` with the given `service.beta.kubernetes.io/` annotations
/// and extra spec lines.
fn lb_service(name: &str, annotations: &[(&str, &str)], spec: &str) -> String {
    let mut y =
        format!("apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n  annotations:\n");
    for (k, v) in annotations {
        y.push_str(&format!("    service.beta.kubernetes.io/{k}: {v:?}\n"));
    }
    y.push_str(&format!(
        "spec:\n  type: LoadBalancer\n  selector: {{app: web}}\n  ports: [{{name: http, port: 80, targetPort: 8080}}]\n{spec}"
    ));
    y
}

/// Every build error of the AWS Load Balancer Controller that annotations can trigger on a
/// Kyma runtime, set up through kubectl and read back as the `FailedBuildModel` event with the
/// controller's exact text (reference `cloud-load-balancers.md` §1.3). The rows that need a VPC
/// without IPv6 (13, 14, 19) or subnet IDs (6, 16 AZ, 22 range) are in `crates/cloud` tests.
#[test]
fn every_annotation_error_row_of_the_lbc_is_a_failed_build_model_event() {
    const EXT: [(&str, &str); 2] = [
        ("aws-load-balancer-type", "external"),
        ("aws-load-balancer-nlb-target-type", "instance"),
    ];
    const DS: [(&str, &str); 4] = [
        ("aws-load-balancer-ip-address-type", "dualstack"),
        ("aws-load-balancer-scheme", "internet-facing"),
        ("aws-load-balancer-nlb-target-type", "instance"),
        ("aws-load-balancer-type", "external"),
    ];
    let with = |base: &[(&'static str, &'static str)], extra: &[(&'static str, &'static str)]| {
        let mut a = base.to_vec();
        a.extend_from_slice(extra);
        a
    };
    let nat_on = ("aws-load-balancer-enable-prefix-for-ipv6-source-nat", "on");
    // (row, annotations, extra spec, the controller's error)
    type Row<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str, &'a str);
    let rows: Vec<Row> = vec![
        ("1", with(&EXT, &[("aws-load-balancer-ip-address-type", "dualstack-without-public-ipv4")]), "", "unknown IPAddressType: dualstack-without-public-ipv4"),
        ("2", with(&EXT, &[("aws-load-balancer-scheme", "public")]), "", "unknown scheme: public"),
        ("3", with(&EXT, &[("aws-load-balancer-ipv6-addresses", "2a05:d014:abc:f02::1")]), "", "IPv6 addresses can only be set for dualstack load balancers"),
        ("4", with(&DS, &[("aws-load-balancer-ipv6-addresses", "2a05:d014:abc:f02::1")]), "", "count of IPv6 addresses (1) and subnets (3) must match"),
        ("5a", with(&DS, &[("aws-load-balancer-ipv6-addresses", "x,y,z")]), "", "IPv6 addresses must be valid IP address: x"),
        ("5b", with(&DS, &[("aws-load-balancer-ipv6-addresses", "10.0.0.1,y,z")]), "", "IPv6 addresses must be valid IPv6 address: 10.0.0.1"),
        ("7", with(&EXT, &[("aws-load-balancer-eip-allocations", "eipalloc-1,eipalloc-2")]), "", "EIP allocations can only be set for internet facing load balancers"),
        ("8", with(&DS, &[("aws-load-balancer-eip-allocations", "eipalloc-1")]), "", "count of EIP allocations (1) and subnets (3) must match"),
        ("9", with(&DS, &[("aws-load-balancer-private-ipv4-addresses", "10.0.0.1")]), "", "private IPv4 addresses can only be set for internal load balancers"),
        ("10a", with(&EXT, &[("aws-load-balancer-private-ipv4-addresses", "10.0.0.1")]), "", "count of private IPv4 addresses (1) and subnets (3) must match"),
        ("10b", with(&EXT, &[("aws-load-balancer-private-ipv4-addresses", "a,b,c")]), "", "private IPv4 addresses must be valid IP address: a"),
        ("10c", with(&EXT, &[("aws-load-balancer-private-ipv4-addresses", "::1,b,c")]), "", "private IPv4 addresses must be valid IPv4 address: ::1"),
        ("12", EXT.to_vec(), "  loadBalancerSourceRanges: [2001:db8::/32]\n", "unsupported v6 cidr 2001:db8::/32 when lb is not dualstack"),
        ("16 name", with(&EXT, &[("aws-load-balancer-subnets", "nope")]), "", "failed to list subnets by names or IDs: couldn't find all subnets, missing names: [nope]"),
        ("16 empty", with(&EXT, &[("aws-load-balancer-subnets", " , ")]), "", "unable to resolve at least one subnet"),
        ("17", with(&DS, &[("aws-load-balancer-enable-prefix-for-ipv6-source-nat", "yes")]), "", "Invalid enable-prefix-for-ipv6-source-nat value: yes. Valid values are ['on', 'off']."),
        ("18", with(&EXT, &[nat_on]), "", "enable-prefix-for-ipv6-source-nat annotation is only applicable to Network Load Balancers using Dualstack IP address type."),
        ("20", with(&EXT, &[("aws-load-balancer-source-nat-ipv6-prefixes", "auto_assigned")]), "", "source-nat-ipv6-prefixes annotation can only be set for Network Load Balancers using Dualstack IP address type."),
        ("21", with(&DS, &[("aws-load-balancer-source-nat-ipv6-prefixes", "auto_assigned")]), "", "source-nat-ipv6-prefixes annotation is only applicable if enable-prefix-for-ipv6-source-nat annotation is set to on."),
        ("22 count", with(&DS, &[nat_on, ("aws-load-balancer-source-nat-ipv6-prefixes", "auto_assigned")]), "", "Number of values in source-nat-ipv6-prefixes (1) must match the number of subnets (3)."),
        ("22 length", with(&DS, &[nat_on, ("aws-load-balancer-source-nat-ipv6-prefixes", "2001:db8::/64,auto_assigned,auto_assigned")]), "", "Invalid value in source-nat-ipv6-prefixes: 2001:db8::/64. Prefix length must be 80, but 64 is specified."),
        ("22 form", with(&DS, &[nat_on, ("aws-load-balancer-source-nat-ipv6-prefixes", "x,auto_assigned,auto_assigned")]), "", "Invalid value in source-nat-ipv6-prefixes: x."),
        ("22 v6", with(&DS, &[nat_on, ("aws-load-balancer-source-nat-ipv6-prefixes", "10.0.0.0/80,auto_assigned,auto_assigned")]), "", "Invalid value in source-nat-ipv6-prefixes: 10.0.0.0/80. Value must be a valid IPv6 CIDR."),
        ("25", EXT.to_vec(), "  allocateLoadBalancerNodePorts: false\n", "unable to support instance target type with an unallocated NodePort"),
        ("27", with(&EXT, &[("aws-load-balancer-proxy-protocol", "true")]), "", "invalid value true for Load Balancer proxy protocol v2 annotation, only value currently supported is *"),
        ("28", with(&EXT, &[("aws-load-balancer-healthcheck-protocol", "udp")]), "", "unsupported health check protocol udp"),
        ("29", vec![("aws-load-balancer-type", "external"), ("aws-load-balancer-nlb-target-type", "ip"), ("aws-load-balancer-healthcheck-port", "http")], "", "cannot use named healthCheckPort for IP TargetType when service's targetPort is a named port"),
        ("30", with(&EXT, &[("aws-load-balancer-name", "a-name-that-is-longer-than-32-chars")]), "", "load balancer name cannot be longer than 32 characters"),
        ("int", with(&EXT, &[("aws-load-balancer-healthcheck-interval", "ten")]), "", "failed to parse int32 annotation, service.beta.kubernetes.io/aws-load-balancer-healthcheck-interval: ten: strconv.ParseInt: parsing \"ten\": invalid syntax"),
        ("bool", with(&EXT, &[("aws-load-balancer-internal", "yes")]), "", "failed to parse bool annotation, service.beta.kubernetes.io/aws-load-balancer-internal: yes: strconv.ParseBool: parsing \"yes\": invalid syntax"),
    ];
    // An IPv4 runtime: Gardener's webhook leaves its Services' annotations as written.
    let t = Twin::start(&["--ip-families", "IPv4"]);
    let name = |row: &str| format!("row-{}", row.replace(' ', "-"));
    let mut docs = Vec::new();
    for (row, ann, spec, _) in &rows {
        // Row 29 needs a named targetPort.
        let svc = lb_service(&name(row), ann, spec);
        docs.push(if *row == "29" {
            svc.replace("targetPort: 8080", "targetPort: web")
        } else {
            svc
        });
    }
    // The cases nobody takes: the LBC does not (no or another target type), the legacy
    // provider hands them off (`ImplementedElsewhere`) after its first event.
    let nobody: [(&str, &[(&str, &str)]); 2] = [
        (
            "nobody-no-target-type",
            &[("aws-load-balancer-type", "external")],
        ),
        (
            "nobody-target-type-ip-upper",
            &[
                ("aws-load-balancer-type", "external"),
                ("aws-load-balancer-nlb-target-type", "IP"),
            ],
        ),
    ];
    for (name, ann) in nobody {
        docs.push(lb_service(name, ann, ""));
    }
    ok(&apply(&t, &docs.join("---\n")));
    let start = Instant::now();
    loop {
        let out = ok(&t.kubectl(&[
            "get",
            "events",
            "--field-selector",
            "reason=FailedBuildModel",
            "-o",
            "json",
        ]));
        let v: Value = serde_json::from_str(&out).unwrap();
        let got: Vec<(String, String, String)> = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let s = |p: &str| {
                    e.pointer(p)
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string()
                };
                (s("/involvedObject/name"), s("/type"), s("/message"))
            })
            .collect();
        let missing: Vec<&str> = rows
            .iter()
            .filter(|(row, ..)| !got.iter().any(|g| g.0 == name(row)))
            .map(|(row, ..)| *row)
            .collect();
        if missing.is_empty() {
            for (row, _, _, want) in &rows {
                let g: Vec<_> = got.iter().filter(|g| g.0 == name(row)).collect();
                assert_eq!(g.len(), 1, "row {row}: {g:?}");
                assert_eq!(g[0].1, "Warning", "row {row}");
                assert_eq!(
                    g[0].2,
                    format!("Failed build model due to {want}"),
                    "row {row}"
                );
                // A failed build leaves the Service pending.
                let s = service(&t, &name(row));
                assert!(
                    s["status"]["loadBalancer"].get("ingress").is_none(),
                    "row {row}: {s:#}"
                );
            }
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no FailedBuildModel for rows {missing:?}: {got:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // They stay pending with the legacy provider's one event and its finalizer (its metadata
    // update comes after the reconcile's events are recorded).
    for (name, _) in nobody {
        wait_for(&t, name, "the cleanup finalizer", |s| {
            s["metadata"]["finalizers"].is_array()
        });
        let evs = events(&t, name);
        let reasons: Vec<&str> = evs.iter().map(|e| e.1.as_str()).collect();
        assert_eq!(reasons, ["EnsuringLoadBalancer"], "{name}: {evs:?}");
        let s = service(&t, name);
        assert!(
            s["status"]["loadBalancer"].get("ingress").is_none(),
            "{name}: {s:#}"
        );
        assert_eq!(
            s["metadata"]["finalizers"],
            serde_json::json!(["service.kubernetes.io/load-balancer-cleanup"]),
            "{name}"
        );
    }

    // Row 11 needs IPv6 in the Service's families: a dual-stack runtime, where Gardener's
    // webhook leaves internal Services alone.
    let t = Twin::start(&[]);
    let svc = lb_service(
        "row-11",
        &with(&EXT, &[("aws-load-balancer-scheme", "internal")]),
        "  ipFamilyPolicy: RequireDualStack\n",
    );
    ok(&apply(&t, &svc));
    let evs = wait_for_event(&t, "row-11", "FailedBuildModel");
    let e = evs.iter().find(|e| e.1 == "FailedBuildModel").unwrap();
    assert_eq!(
        e.2,
        "Failed build model due to unsupported IPv6 configuration, lb not dual-stack"
    );
}
