//! A Kyma runtime as Kyma ships it (issue 14, item 4), driven with the real kubectl: the
//! default modules' namespaces, CRDs and resources, the Istio ingress gateway's load balancer
//! and the `kyma-gateway` DNSEntry on it, and the api-gateway's APIRule controller (its
//! VirtualService, authorization objects, status, validation messages and IPv6 warning) on a
//! dual-stack AWS runtime.

mod common;

use common::{fails, ok, Twin};
use serde_json::Value;

fn json(out: &std::process::Output) -> Value {
    serde_json::from_str(&ok(out)).expect("kubectl prints JSON")
}

fn apply(t: &Twin, yaml: &str) -> std::process::Output {
    t.kubectl_with("kubectl", &["apply", "-f", "-"], Some(yaml))
}

/// `kubectl wait` for a JSONPath value: the controller's result, without a sleep.
fn wait_for(t: &Twin, what: &[&str], cond: &str) {
    let mut args = vec!["wait", "--timeout=30s", cond];
    args.splice(1..1, what.iter().copied());
    ok(&t.kubectl(&args));
}

#[test]
fn a_runtime_starts_with_kymas_default_modules_and_its_gateway() {
    let t = Twin::start(&[]);
    let ns = ok(&t.kubectl(&["get", "ns", "-o", "name"]));
    assert!(ns.contains("namespace/kyma-system"), "{ns}");
    assert!(ns.contains("namespace/istio-system"), "{ns}");

    let crds = ok(&t.kubectl(&["get", "crd", "-o", "name"]));
    for crd in [
        "apirules.gateway.kyma-project.io",
        "virtualservices.networking.istio.io",
        "gateways.networking.istio.io",
        "authorizationpolicies.security.istio.io",
        "functions.serverless.kyma-project.io",
        "serviceinstances.services.cloud.sap.com",
        "servicebindings.services.cloud.sap.com",
        "kymas.operator.kyma-project.io",
        "dnsentries.dns.gardener.cloud",
    ] {
        assert!(crds.contains(crd), "{crd} in {crds}");
    }
    // Discovery serves the module kinds with their short names.
    let res = ok(&t.kubectl(&["api-resources", "--api-group=networking.istio.io"]));
    assert!(
        res.contains("virtualservices") && res.contains(" vs "),
        "{res}"
    );

    let kyma = json(&t.kubectl(&["get", "kyma", "default", "-n", "kyma-system", "-o", "json"]));
    assert_eq!(kyma["status"]["state"], "Ready", "{kyma:#}");
    let modules: Vec<&str> = kyma["spec"]["modules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        modules,
        ["istio", "api-gateway", "btp-operator", "serverless"]
    );
    let table = ok(&t.kubectl(&["get", "istios", "-n", "kyma-system"]));
    assert!(
        table.contains("STATE") && table.contains("Ready"),
        "{table}"
    );

    // The ingress gateway: single stack (the released Istio module), with the module's IPv4
    // NLB annotations on AWS, which Gardener's webhook turns into a dual-stack NLB of the AWS
    // Load Balancer Controller on this dual-stack shoot; a hostname once it is built.
    wait_for(
        &t,
        &["-n", "istio-system", "svc/istio-ingressgateway"],
        "--for=jsonpath={.status.loadBalancer.ingress[0].hostname}",
    );
    let svc = json(&t.kubectl(&[
        "get",
        "svc",
        "istio-ingressgateway",
        "-n",
        "istio-system",
        "-o",
        "json",
    ]));
    let a = &svc["metadata"]["annotations"];
    assert_eq!(
        a["service.beta.kubernetes.io/aws-load-balancer-type"], "external",
        "{svc:#}"
    );
    assert_eq!(
        a["service.beta.kubernetes.io/aws-load-balancer-ip-address-type"],
        "dualstack"
    );
    assert_eq!(
        a["service.beta.kubernetes.io/aws-load-balancer-scheme"],
        "internet-facing"
    );
    assert_eq!(
        a["service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"],
        "instance"
    );
    assert_eq!(svc["spec"]["ipFamilies"], serde_json::json!(["IPv4"]));
    let hostname = svc["status"]["loadBalancer"]["ingress"][0]["hostname"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        hostname.ends_with(".elb.eu-central-1.amazonaws.com"),
        "{hostname}"
    );
    wait_for(
        &t,
        &["-n", "istio-system", "deploy/istio-ingressgateway"],
        "--for=condition=Available",
    );

    // The kyma-gateway DNSEntry points at it; no ip-stack annotation for an IPv4 gateway.
    wait_for(
        &t,
        &["-n", "kyma-system", "dnsentry/kyma-gateway"],
        "--for=jsonpath={.status.state}=Ready",
    );
    let entry = json(&t.kubectl(&[
        "get",
        "dnsentry",
        "kyma-gateway",
        "-n",
        "kyma-system",
        "-o",
        "json",
    ]));
    assert_eq!(entry["spec"]["dnsName"], "*.local.kyma.ondemand.com");
    assert_eq!(entry["spec"]["targets"][0], hostname.as_str());
    assert!(entry["metadata"]["annotations"]
        .get("dns.gardener.cloud/ip-stack")
        .is_none());
    let gw = json(&t.kubectl(&[
        "get",
        "gateway",
        "kyma-gateway",
        "-n",
        "kyma-system",
        "-o",
        "json",
    ]));
    assert_eq!(
        gw["spec"]["servers"][0]["hosts"][0],
        "*.local.kyma.ondemand.com"
    );
}

const HTTPBIN: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: httpbin, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: httpbin}}
  template:
    metadata: {labels: {app: httpbin}}
    spec:
      containers: [{name: httpbin, image: kennethreitz/httpbin, ports: [{containerPort: 80}]}]
---
apiVersion: v1
kind: Service
metadata: {name: httpbin, namespace: shop}
spec:
  ipFamilyPolicy: RequireDualStack
  selector: {app: httpbin}
  ports: [{name: http, port: 8000, targetPort: 80}]
"#;

const APIRULE: &str = r#"
apiVersion: gateway.kyma-project.io/v2
kind: APIRule
metadata: {name: httpbin, namespace: shop}
spec:
  hosts: [httpbin]
  service: {name: httpbin, port: 8000}
  gateway: kyma-system/kyma-gateway
  rules:
  - path: /headers
    methods: [GET]
    noAuth: true
  - path: /*
    methods: [GET, POST]
    jwt:
      authentications:
      - issuer: https://example.accounts.ondemand.com
        jwksUri: https://example.accounts.ondemand.com/oauth2/certs
"#;

#[test]
fn an_apirule_on_a_dual_stack_aws_runtime_gets_its_virtual_service_and_ready() {
    let t = Twin::start(&[]);
    ok(&t.kubectl(&["create", "namespace", "shop"]));
    ok(&t.kubectl(&["label", "namespace", "shop", "istio-injection=enabled"]));
    ok(&apply(&t, HTTPBIN));
    wait_for(
        &t,
        &["-n", "shop", "deploy/httpbin"],
        "--for=condition=Available",
    );
    ok(&apply(&t, APIRULE));
    wait_for(
        &t,
        &["-n", "shop", "apirule/httpbin"],
        "--for=jsonpath={.status.state}=Ready",
    );
    let ar = json(&t.kubectl(&["get", "apirule", "httpbin", "-n", "shop", "-o", "json"]));
    assert_eq!(ar["status"]["description"], "Reconciled successfully");
    let table = ok(&t.kubectl(&["get", "apirules", "-n", "shop"]));
    assert!(
        table.starts_with("NAME") && table.contains("Ready"),
        "{table}"
    );

    // The VirtualService: the short host on the gateway's domain, a route per rule.
    let vss = json(&t.kubectl(&[
        "get",
        "vs",
        "-n",
        "shop",
        "-l",
        "apirule.gateway.kyma-project.io/name=httpbin",
        "-o",
        "json",
    ]));
    let items = vss["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{vss:#}");
    let vs = &items[0];
    assert!(vs["metadata"]["name"]
        .as_str()
        .unwrap()
        .starts_with("httpbin-"));
    assert_eq!(vs["spec"]["hosts"][0], "httpbin.local.kyma.ondemand.com");
    assert_eq!(vs["spec"]["gateways"][0], "kyma-system/kyma-gateway");
    let http = vs["spec"]["http"].as_array().unwrap();
    assert_eq!(http[0]["match"][0]["uri"]["regex"], "^/headers$");
    assert_eq!(http[1]["match"][0]["uri"]["prefix"], "/");
    assert_eq!(
        http[0]["route"][0]["destination"]["host"],
        "httpbin.shop.svc.cluster.local"
    );
    assert_eq!(http[0]["route"][0]["destination"]["port"]["number"], 8000);
    // One AuthorizationPolicy per rule, one RequestAuthentication for the JWT rule.
    let aps = json(&t.kubectl(&["get", "authorizationpolicies", "-n", "shop", "-o", "json"]));
    assert_eq!(aps["items"].as_array().unwrap().len(), 2, "{aps:#}");
    let ras = json(&t.kubectl(&["get", "requestauthentications", "-n", "shop", "-o", "json"]));
    assert_eq!(
        ras["items"][0]["spec"]["jwtRules"][0]["issuer"],
        "https://example.accounts.ondemand.com"
    );
    // IPv6 to the Service's sidecar pods is outside the mesh: the APIRule's events say so.
    let events = ok(&t.kubectl(&[
        "get",
        "events",
        "-n",
        "shop",
        "--field-selector",
        "involvedObject.kind=APIRule,reason=IPv6OutsideMesh",
        "-o",
        "jsonpath={.items[*].message}",
    ]));
    assert!(
        events.contains("won't be part of the Istio service mesh"),
        "{events}"
    );

    // Refused by the CRD's CEL rule, with the module's message.
    let bad = apply(
        &t,
        &APIRULE
            .replace(
                "name: httpbin, namespace: shop}",
                "name: noauth, namespace: shop}",
            )
            .replace("    noAuth: true\n", ""),
    );
    let err = fails(&bad);
    assert!(
        err.contains("spec.rules[0]: Invalid value: \"object\": One of the following fields must be set: noAuth, jwt, extAuth"),
        "{err}"
    );
    // Accepted by the schema, errored by the controller with api-gateway's validation text.
    let taken = r#"
apiVersion: gateway.kyma-project.io/v2
kind: APIRule
metadata: {name: taken, namespace: shop}
spec:
  hosts: [httpbin.local.kyma.ondemand.com]
  service: {name: httpbin, port: 8000}
  gateway: kyma-system/kyma-gateway
  rules:
  - {path: /ip, methods: [GET], noAuth: true}
"#;
    ok(&apply(&t, taken));
    wait_for(
        &t,
        &["-n", "shop", "apirule/taken"],
        "--for=jsonpath={.status.state}=Error",
    );
    let st = json(&t.kubectl(&["get", "apirule", "taken", "-n", "shop", "-o", "json"]));
    assert_eq!(
        st["status"]["description"],
        "Validation errors: Attribute '.spec.hosts[0]': Host is occupied by another Virtual Service"
    );
    // A namespace without sidecars: the module refuses to expose its pods.
    ok(&t.kubectl(&["create", "namespace", "plain"]));
    ok(&apply(
        &t,
        &HTTPBIN.replace("namespace: shop", "namespace: plain"),
    ));
    wait_for(
        &t,
        &["-n", "plain", "deploy/httpbin"],
        "--for=condition=Available",
    );
    ok(&apply(
        &t,
        &APIRULE
            .replace("namespace: shop", "namespace: plain")
            .replace("hosts: [httpbin]", "hosts: [plain]"),
    ));
    wait_for(
        &t,
        &["-n", "plain", "apirule/httpbin"],
        "--for=jsonpath={.status.state}=Error",
    );
    let st = json(&t.kubectl(&["get", "apirule", "httpbin", "-n", "plain", "-o", "json"]));
    let desc = st["status"]["description"].as_str().unwrap();
    assert!(
        desc.starts_with("Validation errors: Attribute '.spec.rules[0]': Pod plain/httpbin-")
            && desc.contains("does not have an injected istio sidecar"),
        "{desc}"
    );

    // Deleting the APIRule removes what it created.
    ok(&t.kubectl(&["delete", "apirule", "httpbin", "taken", "-n", "shop"]));
    ok(&t.kubectl(&[
        "wait",
        "--for=delete",
        "vs,authorizationpolicies,requestauthentications",
        "-n",
        "shop",
        "-l",
        "apirule.gateway.kyma-project.io/name=httpbin",
        "--timeout=30s",
    ]));
    let left = ok(&t.kubectl(&[
        "get",
        "vs,authorizationpolicies,requestauthentications",
        "-n",
        "shop",
        "-o",
        "name",
    ]));
    assert_eq!(left.trim(), "", "{left}");
}

/// The gateway's NLB frontend of `family` on port 80, once its targets are healthy.
fn gateway_frontend(t: &Twin, family: &str) -> Value {
    let start = std::time::Instant::now();
    loop {
        let out = std::process::Command::new(common::bin())
            .args(["runtime", "show", "local", "-o", "json", "--data-dir"])
            .arg(t.data_dir())
            .output()
            .unwrap();
        let rt: Value = serde_json::from_str(&ok(&out)).unwrap();
        let fe = rt["frontends"].as_array().unwrap().iter().find(|f| {
            f["service"] == "istio-system/istio-ingressgateway"
                && f["kind"] == "nlb"
                && f["family"] == family
                && f["port"] == 80
                && f["targets"]
                    .as_array()
                    .is_some_and(|ts| ts.iter().any(|t| t["state"] == "healthy"))
        });
        if let Some(fe) = fe {
            return fe.clone();
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(60),
            "no healthy {family} gateway frontend: {:#}",
            rt["frontends"]
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// `curl -4|-6` of `http://HOST/PATH` through the frontend (the NLB's hostname resolves to it).
fn curl_host(fe: &Value, host: &str, path: &str) -> String {
    let lb = fe["hostname"].as_str().unwrap();
    let listen = fe["listen"].as_str().unwrap();
    let family = if fe["family"] == "IPv4" { "-4" } else { "-6" };
    let out = std::process::Command::new("curl")
        .args(["-sS", "-i", "--max-time", "10", family, "--connect-to"])
        .arg(format!("{lb}:80:{listen}"))
        .args(["-H", &format!("Host: {host}")])
        .arg(format!("http://{lb}{path}"))
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

#[test]
fn traffic_for_an_apirules_host_enters_through_the_gateways_load_balancer() {
    let t = Twin::start(&[]);
    ok(&t.kubectl(&["create", "namespace", "shop"]));
    ok(&t.kubectl(&["label", "namespace", "shop", "istio-injection=enabled"]));
    ok(&apply(
        &t,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: whoami, namespace: shop}
spec:
  selector: {matchLabels: {app: whoami}}
  template:
    metadata: {labels: {app: whoami}}
    spec:
      containers: [{name: whoami, image: traefik/whoami, ports: [{containerPort: 80}]}]
---
apiVersion: v1
kind: Service
metadata: {name: whoami, namespace: shop}
spec:
  ipFamilyPolicy: PreferDualStack
  selector: {app: whoami}
  ports: [{name: http, port: 80}]
---
apiVersion: gateway.kyma-project.io/v2
kind: APIRule
metadata: {name: whoami, namespace: shop}
spec:
  hosts: [whoami]
  service: {name: whoami, port: 80}
  gateway: kyma-system/kyma-gateway
  rules: [{path: "/api/{**}", methods: [GET], noAuth: true}]
"#,
    ));
    wait_for(
        &t,
        &["-n", "shop", "apirule/whoami"],
        "--for=jsonpath={.status.state}=Ready",
    );
    let gw_pod = ok(&t.kubectl(&[
        "get",
        "pods",
        "-n",
        "istio-system",
        "-l",
        "app=istio-ingressgateway",
        "-o",
        "jsonpath={.items[0].status.podIPs[0].ip}",
    ]));
    let host = "whoami.local.kyma.ondemand.com";
    for family in ["IPv4", "IPv6"] {
        let fe = gateway_frontend(&t, family);
        // The route's VirtualService may reach the data plane a pass after the APIRule is
        // Ready: retry until the answer is whoami's.
        let start = std::time::Instant::now();
        let answer = loop {
            let a = curl_host(&fe, host, "/api/orders?id=1");
            if a.contains("Hostname: whoami-") {
                break a;
            }
            assert!(
                start.elapsed() < std::time::Duration::from_secs(30),
                "{family}: {a}"
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        };
        // The pod's peer is the gateway pod: past the gateway, traffic is in the mesh (IPv4),
        // whichever family the client used.
        assert!(
            answer.contains(&format!("RemoteAddr: {gw_pod}:")),
            "{family}: {answer}"
        );
        assert!(answer.contains("GET /api/orders?id=1 HTTP/1.1"), "{answer}");
        assert!(
            answer.contains(&format!("X-Forwarded-Host: {host}")),
            "{answer}"
        );
        // No route: Envoy's 404.
        let miss = curl_host(&fe, host, "/other");
        assert!(
            miss.starts_with("HTTP/1.1 404 Not Found"),
            "{family}: {miss}"
        );
        assert!(miss.contains("server: istio-envoy"), "{miss}");
        let unknown = curl_host(&fe, "nope.local.kyma.ondemand.com", "/api/x");
        assert!(unknown.starts_with("HTTP/1.1 404 Not Found"), "{unknown}");
    }
}
