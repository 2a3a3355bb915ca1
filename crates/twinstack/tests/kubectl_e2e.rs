//! End-to-end: the installed kubectl binaries against a real `twinstack up`.

mod common;
use common::*;
use serde_json::Value;
use std::io::Read;
use std::time::{Duration, Instant};

fn json_of(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

fn in_cidr(ip: &str, cidr: &str) -> bool {
    let ip: std::net::IpAddr = ip.parse().unwrap();
    let net: ipnet_like::Net = cidr.parse().unwrap();
    net.contains(ip)
}

mod ipnet_like {
    //! Tiny CIDR check so the test does not trust the server's own range code.
    use std::net::IpAddr;
    pub struct Net(IpAddr, u8);
    impl std::str::FromStr for Net {
        type Err = String;
        fn from_str(s: &str) -> Result<Self, String> {
            let (a, p) = s.split_once('/').ok_or("no /")?;
            Ok(Net(
                a.parse().map_err(|_| "ip")?,
                p.parse().map_err(|_| "prefix")?,
            ))
        }
    }
    impl Net {
        pub fn contains(&self, ip: IpAddr) -> bool {
            match (self.0, ip) {
                (IpAddr::V4(n), IpAddr::V4(i)) => {
                    let m = if self.1 == 0 {
                        0
                    } else {
                        u32::MAX << (32 - self.1)
                    };
                    u32::from(n) & m == u32::from(i) & m
                }
                (IpAddr::V6(n), IpAddr::V6(i)) => {
                    let m = if self.1 == 0 {
                        0
                    } else {
                        u128::MAX << (128 - self.1)
                    };
                    u128::from(n) & m == u128::from(i) & m
                }
                _ => false,
            }
        }
    }
}

/// The whole user journey with one kubectl binary.
fn journey(kubectl: &str) {
    let t = Twin::start(&[]);
    let k = |args: &[&str]| t.kubectl_with(kubectl, args, None);
    let dir = t.data_dir().to_path_buf();
    let aws = write(&dir, "aws.yaml", AWS_SERVICE);
    let gcp = write(&dir, "gcp.yaml", GCP_SERVICE);

    // Client-side apply of the seed manifests.
    let out = ok(&k(&[
        "apply",
        "-f",
        aws.to_str().unwrap(),
        "-f",
        gcp.to_str().unwrap(),
    ]));
    assert!(out.contains("service/web-aws created"), "{out}");
    assert!(out.contains("service/web-gcp created"), "{out}");

    // -o json: IPv6 first, two cluster IPs inside the runtime's ranges.
    let svc = json_of(&ok(&k(&["get", "svc", "web-aws", "-o", "json"])));
    assert_eq!(
        svc["spec"]["ipFamilies"],
        serde_json::json!(["IPv6", "IPv4"])
    );
    assert_eq!(svc["spec"]["ipFamilyPolicy"], "RequireDualStack");
    let ips: Vec<String> = svc["spec"]["clusterIPs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(ips.len(), 2);
    assert!(ips[0].contains(':'), "IPv6 first: {ips:?}");
    assert!(in_cidr(&ips[1], "10.104.0.0/13"), "{ips:?}");
    assert_eq!(svc["spec"]["clusterIP"], ips[0].as_str());
    assert!(svc["spec"]["ports"][0]["nodePort"]
        .as_i64()
        .is_some_and(|p| (30000..=32767).contains(&p)));
    assert_eq!(
        svc["metadata"]["annotations"]
            ["service.beta.kubernetes.io/aws-load-balancer-ip-address-type"],
        "dualstack"
    );

    // -o yaml shows the same.
    let yaml = ok(&k(&["get", "svc", "web-aws", "-o", "yaml"]));
    assert!(yaml.contains("ipFamilies:\n  - IPv6\n  - IPv4"), "{yaml}");
    assert!(
        yaml.contains(&format!("  - {}", ips[0])) && yaml.contains(&format!("  - {}", ips[1])),
        "{yaml}"
    );

    // -o wide: server-side Table with upstream's columns.
    let wide = ok(&k(&["get", "svc", "-o", "wide"]));
    let header = wide.lines().next().unwrap();
    for col in [
        "NAME",
        "TYPE",
        "CLUSTER-IP",
        "EXTERNAL-IP",
        "PORT(S)",
        "AGE",
        "SELECTOR",
    ] {
        assert!(header.contains(col), "{wide}");
    }
    let gcp_svc = json_of(&ok(&k(&["get", "svc", "web-gcp", "-o", "json"])));
    let gcp_ip = gcp_svc["spec"]["clusterIPs"][0]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(gcp_ip, ips[0]);
    let aws_line = wide
        .lines()
        .find(|l| l.starts_with("web-aws"))
        .expect("web-aws row");
    assert!(
        aws_line.contains(&ips[0])
            && aws_line.contains("LoadBalancer")
            // Pending until the AWS Load Balancer Controller writes the NLB's hostname.
            && (aws_line.contains("<pending>") || aws_line.contains(".elb.eu-central-1.amazonaws.com"))
            && aws_line.contains("app=web"),
        "{wide}"
    );
    assert!(
        wide.lines()
            .any(|l| l.starts_with("web-gcp") && l.contains(&gcp_ip)),
        "{wide}"
    );
    assert!(
        wide.lines().any(|l| l.starts_with("kubernetes")
            && l.contains("10.104.0.1 ")
            && l.contains("443/TCP")),
        "{wide}"
    );

    // Apply again after an edit goes through the patch path; unchanged stays unchanged.
    let edited = AWS_SERVICE
        .replace("port: 80", "port: 8080")
        .replace("targetPort: 8080", "targetPort: 9090");
    let aws2 = write(&dir, "aws2.yaml", &edited);
    let out = ok(&k(&["apply", "-f", aws2.to_str().unwrap()]));
    assert!(out.contains("service/web-aws configured"), "{out}");
    let svc2 = json_of(&ok(&k(&["get", "svc", "web-aws", "-o", "json"])));
    assert_eq!(svc2["spec"]["ports"][0]["port"], 8080);
    assert_eq!(svc2["spec"]["ports"][0]["targetPort"], 9090);
    assert_eq!(
        svc2["spec"]["clusterIPs"], svc["spec"]["clusterIPs"],
        "cluster IPs are kept across updates"
    );
    let out = ok(&k(&["apply", "-f", aws2.to_str().unwrap()]));
    assert!(out.contains("service/web-aws unchanged"), "{out}");

    // Server-side apply, create then change.
    let ssa = write(&dir, "ssa.yaml", &GCP_SERVICE.replace("web-gcp", "web-ssa"));
    let out = ok(&k(&["apply", "--server-side", "-f", ssa.to_str().unwrap()]));
    assert!(out.contains("service/web-ssa serverside-applied"), "{out}");
    let ssa2 = write(
        &dir,
        "ssa2.yaml",
        &GCP_SERVICE
            .replace("web-gcp", "web-ssa")
            .replace("app: web", "app: web2"),
    );
    let out = ok(&k(&[
        "apply",
        "--server-side",
        "-f",
        ssa2.to_str().unwrap(),
    ]));
    assert!(out.contains("service/web-ssa serverside-applied"), "{out}");
    let s = json_of(&ok(&k(&["get", "svc", "web-ssa", "-o", "json"])));
    assert_eq!(s["spec"]["selector"]["app"], "web2");
    assert_eq!(s["spec"]["ipFamilies"], serde_json::json!(["IPv6", "IPv4"]));

    // Patches of each type.
    ok(&k(&[
        "patch",
        "svc",
        "web-gcp",
        "-p",
        r#"{"metadata":{"labels":{"tier":"edge"}}}"#,
    ]));
    ok(&k(&[
        "patch",
        "svc",
        "web-gcp",
        "--type=merge",
        "-p",
        r#"{"metadata":{"labels":{"team":"net"}}}"#,
    ]));
    ok(&k(&[
        "patch",
        "svc",
        "web-gcp",
        "--type=json",
        "-p",
        r#"[{"op":"add","path":"/metadata/labels/zone","value":"a"}]"#,
    ]));
    let g = json_of(&ok(&k(&["get", "svc", "web-gcp", "-o", "json"])));
    assert_eq!(
        g["metadata"]["labels"],
        serde_json::json!({"tier": "edge", "team": "net", "zone": "a"})
    );

    // Label selectors and all namespaces.
    let sel = ok(&k(&["get", "svc", "-l", "tier=edge", "-o", "name"]));
    assert_eq!(sel.trim(), "service/web-gcp");
    let all = ok(&k(&["get", "svc", "-A"]));
    assert!(
        all.lines().next().unwrap().starts_with("NAMESPACE"),
        "{all}"
    );
    assert!(
        all.lines()
            .any(|l| l.starts_with("default") && l.contains("kubernetes")),
        "{all}"
    );
    let none = ok(&k(&["get", "svc", "-l", "tier=nothing"]));
    assert!(none.trim().is_empty(), "{none}");

    // Field selectors.
    let by_name = ok(&k(&[
        "get",
        "svc",
        "--field-selector",
        "metadata.name=web-aws",
        "-o",
        "name",
    ]));
    assert_eq!(by_name.trim(), "service/web-aws");
    let e = fails(&k(&[
        "get",
        "svc",
        "--field-selector",
        "spec.type=LoadBalancer",
    ]));
    assert!(e.contains("field label not supported: spec.type"), "{e}");

    // A server-side dry run allocates and validates but stores nothing.
    let dry = write(&dir, "dry.yaml", &GCP_SERVICE.replace("web-gcp", "web-dry"));
    let out = ok(&k(&[
        "apply",
        "--dry-run=server",
        "-f",
        dry.to_str().unwrap(),
    ]));
    assert!(
        out.contains("service/web-dry created (server dry run)"),
        "{out}"
    );
    let e = fails(&k(&["get", "svc", "web-dry"]));
    assert!(e.contains("not found"), "{e}");

    // describe shows both families.
    let d = ok(&k(&["describe", "svc", "web-aws"]));
    assert!(
        d.contains("RequireDualStack") && d.contains("IPv6,IPv4"),
        "{d}"
    );
    assert!(d.contains(&format!("{},{}", ips[0], ips[1])), "{d}");

    // create errors as against a real cluster.
    let e = fails(&k(&["create", "-f", gcp.to_str().unwrap()]));
    assert!(
        e.contains("Error from server (AlreadyExists)")
            && e.contains("services \"web-gcp\" already exists"),
        "{e}"
    );
    let bad = write(
        &dir,
        "bad.yaml",
        &GCP_SERVICE
            .replace("web-gcp", "web-bad")
            .replace("spec:\n", "spec:\n  bogus: 1\n"),
    );
    let e = fails(&k(&["create", "-f", bad.to_str().unwrap()]));
    assert!(
        e.contains("Error from server (BadRequest)")
            && e.contains("strict decoding error: unknown field \"spec.bogus\""),
        "{e}"
    );
    let inv = write(&dir, "inv.yaml", &GCP_SERVICE.replace("web-gcp", "Web_Bad"));
    let e = fails(&k(&["create", "-f", inv.to_str().unwrap()]));
    assert!(
        e.contains("is invalid: metadata.name: Invalid value: \"Web_Bad\""),
        "{e}"
    );

    // delete
    let out = ok(&k(&["delete", "svc", "web-gcp"]));
    assert!(out.contains("service \"web-gcp\" deleted"), "{out}");
    let e = fails(&k(&["get", "svc", "web-gcp"]));
    assert!(
        e.contains("Error from server (NotFound): services \"web-gcp\" not found"),
        "{e}"
    );
}

#[test]
fn journey_kubectl_1_32_dispatcher() {
    journey("kubectl");
}

#[test]
fn journey_kubectl_1_27() {
    journey(&kubectl_version(27).expect("kubectl.1.27 is installed beside kubectl"));
}

#[test]
fn journey_kubectl_1_33() {
    journey(&kubectl_version(33).expect("kubectl.1.33 is installed beside kubectl"));
}

#[test]
fn single_stack_runtime_refuses_require_dual_stack() {
    let t = Twin::start(&["--ip-families", "IPv4", "--service-cidrs", "10.104.0.0/13"]);
    let aws = write(t.data_dir(), "aws.yaml", AWS_SERVICE);
    let e = fails(&t.kubectl(&["apply", "-f", aws.to_str().unwrap()]));
    // Upstream reports both cluster checks of initIPFamilyFields; kubectl lists several causes
    // as bullets.
    assert!(
        e.contains(
            "The Service \"web-aws\" is invalid: \n\
             * spec.ipFamilyPolicy: Invalid value: \"RequireDualStack\": this cluster is not configured for dual-stack services\n\
             * spec.ipFamilies[0]: Invalid value: \"IPv6\": not configured on this cluster"
        ),
        "{e}"
    );
    // The same Service with IPv4 first names only the policy.
    let v4first = write(
        t.data_dir(),
        "v4.yaml",
        &AWS_SERVICE.replace("    - IPv6\n    - IPv4\n", "    - IPv4\n    - IPv6\n"),
    );
    let e = fails(&t.kubectl(&["apply", "-f", v4first.to_str().unwrap()]));
    assert!(e.contains("spec.ipFamilyPolicy: Invalid value: \"RequireDualStack\": this cluster is not configured for dual-stack services"), "{e}");
    assert!(
        e.contains("spec.ipFamilies[1]: Invalid value: \"IPv6\": not configured on this cluster"),
        "{e}"
    );
    let e = fails(&t.kubectl(&["get", "svc", "web-aws"]));
    assert!(e.contains("not found"), "{e}");
    // Nothing was held: the only allocated addresses are the kubernetes Service's and the Kyma
    // Istio ingress gateway's.
    let list = json_of(&ok(&t.kubectl(&["get", "svc", "-A", "-o", "json"])));
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["kubernetes", "istio-ingressgateway"]);
}

/// `kubectl get -w` prints each change exactly once.
#[test]
fn get_watch_prints_each_change_once() {
    let t = Twin::start(&[]);
    // A class no controller serves: the only changes are the test's own (a load balancer
    // controller would add its finalizers and status, each a change of its own).
    let svc = GCP_SERVICE.replace(
        "  type: LoadBalancer\n",
        "  type: LoadBalancer\n  loadBalancerClass: example.com/no-controller\n",
    );
    let gcp = write(t.data_dir(), "gcp.yaml", &svc);
    ok(&t.kubectl(&["apply", "-f", gcp.to_str().unwrap()]));
    let mut cmd = std::process::Command::new("kubectl");
    cmd.args(["get", "svc", "-w", "--output-watch-events"])
        .env("KUBECONFIG", &t.kubeconfig)
        .env("KUBECACHEDIR", t.cache.path())
        .env("HOME", t.cache.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        loop {
            match stdout.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let _ = tx.send(String::from_utf8_lossy(&buf[..n]).to_string());
                }
            }
        }
    });
    let mut seen = String::new();
    let mut wait_for = |pred: &dyn Fn(&str) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !pred(&seen) {
            if let Ok(s) = rx.recv_timeout(Duration::from_millis(200)) {
                seen.push_str(&s);
            }
            assert!(Instant::now() < deadline, "watch output so far:\n{seen}");
        }
    };
    wait_for(&|s| s.contains("web-gcp"));
    ok(&t.kubectl(&["annotate", "svc", "web-gcp", "a=1"]));
    wait_for(&|s| {
        s.lines()
            .any(|l| l.starts_with("MODIFIED") && l.contains("web-gcp"))
    });
    ok(&t.kubectl(&["delete", "svc", "web-gcp"]));
    wait_for(&|s| {
        s.lines()
            .any(|l| l.starts_with("DELETED") && l.contains("web-gcp"))
    });
    // A marker written after the delete: events arrive in revision order, so once the
    // marker's ADDED is printed, any duplicate of the events above would have been printed too.
    ok(&t.kubectl(&["create", "service", "clusterip", "marker", "--tcp=80"]));
    wait_for(&|s| {
        s.lines()
            .any(|l| l.starts_with("ADDED") && l.contains("marker"))
    });
    let _ = child.kill();
    let _ = child.wait();
    let count = |ev: &str| {
        seen.lines()
            .filter(|l| l.starts_with(ev) && l.contains("web-gcp"))
            .count()
    };
    assert_eq!(count("ADDED"), 1, "{seen}");
    assert_eq!(count("MODIFIED"), 1, "{seen}");
    assert_eq!(count("DELETED"), 1, "{seen}");
    assert_eq!(
        seen.lines().filter(|l| l.contains("kubernetes")).count(),
        1,
        "{seen}"
    );
}

/// kubectl's imperative commands send protobuf bodies.
#[test]
fn imperative_commands() {
    let t = Twin::start(&[]);
    let out = ok(&t.kubectl(&["create", "namespace", "team-a"]));
    assert_eq!(out.trim(), "namespace/team-a created");
    let out = ok(&t.kubectl(&[
        "-n",
        "team-a",
        "create",
        "service",
        "clusterip",
        "api",
        "--tcp=80:8080",
    ]));
    assert_eq!(out.trim(), "service/api created");
    let svc = json_of(&ok(
        &t.kubectl(&["-n", "team-a", "get", "svc", "api", "-o", "json"])
    ));
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], 8080);
    assert_eq!(svc["spec"]["ipFamilyPolicy"], "SingleStack");
    assert_eq!(svc["spec"]["ipFamilies"], serde_json::json!(["IPv4"]));
    let out = ok(&t.kubectl(&[
        "-n",
        "team-a",
        "create",
        "service",
        "nodeport",
        "np",
        "--tcp=80:8080",
        "--node-port=30080",
    ]));
    assert_eq!(out.trim(), "service/np created");
    let np = json_of(&ok(
        &t.kubectl(&["-n", "team-a", "get", "svc", "np", "-o", "json"])
    ));
    assert_eq!(np["spec"]["ports"][0]["nodePort"], 30080);
    let e = fails(&t.kubectl(&[
        "-n",
        "team-a",
        "create",
        "service",
        "nodeport",
        "np2",
        "--tcp=80:8080",
        "--node-port=30080",
    ]));
    assert!(
        e.contains(
            "spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated"
        ),
        "{e}"
    );
    let out = ok(&t.kubectl(&[
        "-n",
        "team-a",
        "create",
        "configmap",
        "cfg",
        "--from-literal=a=1",
    ]));
    assert_eq!(out.trim(), "configmap/cfg created");
    let out = ok(&t.kubectl(&[
        "-n",
        "team-a",
        "create",
        "secret",
        "generic",
        "s",
        "--from-literal=p=x",
    ]));
    assert_eq!(out.trim(), "secret/s created");
    let out = ok(&t.kubectl(&["create", "namespace", "dry", "--dry-run=server"]));
    assert_eq!(out.trim(), "namespace/dry created (server dry run)");
    let e = fails(&t.kubectl(&["get", "ns", "dry"]));
    assert!(e.contains("namespaces \"dry\" not found"), "{e}");
    let e = fails(&t.kubectl(&["create", "namespace", "team-a"]));
    assert!(
        e.contains("Error from server (AlreadyExists): namespaces \"team-a\" already exists"),
        "{e}"
    );
}
