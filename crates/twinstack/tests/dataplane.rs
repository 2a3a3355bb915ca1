//! Real IPv4 and IPv6 traffic through the emulated load balancers, driven as a user does: the
//! seed's manifests applied with kubectl, `twinstack runtime show -o json` for the sockets,
//! the real `curl` through the load balancer's DNS name (`--connect-to` its local socket), and
//! `twinstack trace`. What the pod sees (whoami's `RemoteAddr`) must be what the AWS and
//! Kubernetes references give for each case.

mod common;

use common::{ok, Twin};
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{IpAddr, TcpListener};
use std::process::Command;
use std::time::{Duration, Instant};

fn apply(t: &Twin, yaml: &str) {
    ok(&t.kubectl_with("kubectl", &["apply", "-f", "-"], Some(yaml)));
}

/// A whoami Deployment (`--port 8080`, the seed's targetPort) and the seed's Service with
/// `annotations` and `spec` lines added.
fn whoami(name: &str, annotations: &str, spec: &str, pod_annotations: &str) -> String {
    format!(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata:
      labels: {{app: {name}}}
      annotations: {{{pod_annotations}}}
    spec:
      containers:
      - name: whoami
        image: traefik/whoami:v1.10
        args: ["--port", "8080"]
        ports: [{{containerPort: 8080}}]
---
apiVersion: v1
kind: Service
metadata:
  name: {name}
  annotations:
    service.beta.kubernetes.io/aws-load-balancer-ip-address-type: dualstack
    service.beta.kubernetes.io/aws-load-balancer-scheme: internet-facing
    service.beta.kubernetes.io/aws-load-balancer-type: external
    service.beta.kubernetes.io/aws-load-balancer-healthcheck-interval: "5"
    service.beta.kubernetes.io/aws-load-balancer-healthcheck-healthy-threshold: "2"
{annotations}
spec:
  type: LoadBalancer
{spec}
  selector: {{app: {name}}}
  ports:
  - {{name: http, port: 80, targetPort: 8080}}
"#
    )
}

/// Runs the `twinstack` CLI against the twin's data dir.
fn twinstack(t: &Twin, args: &[&str]) -> std::process::Output {
    Command::new(common::bin())
        .args(args)
        .arg("--data-dir")
        .arg(t.data_dir())
        .output()
        .unwrap()
}

fn runtime_show(t: &Twin) -> Value {
    let out = twinstack(t, &["runtime", "show", "local", "-o", "json"]);
    serde_json::from_str(&ok(&out)).unwrap()
}

/// Waits until the Service's load balancer frontends of both families have healthy targets.
fn lb_frontends(t: &Twin, svc: &str) -> (Value, Value) {
    let start = Instant::now();
    loop {
        let rt = runtime_show(t);
        let fes: Vec<Value> = rt["frontends"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["service"] == format!("default/{svc}") && f["kind"] == "nlb")
            .cloned()
            .collect();
        let of = |fam: &str| fes.iter().find(|f| f["family"] == fam).cloned();
        let ready = |f: &Value| {
            f["targets"]
                .as_array()
                .is_some_and(|ts| ts.iter().any(|t| t["state"] == "healthy"))
        };
        if let (Some(a), Some(b)) = (of("IPv4"), of("IPv6")) {
            if ready(&a) && ready(&b) {
                return (a, b);
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no healthy IPv4 and IPv6 NLB frontends for {svc}: {:#}",
            rt["frontends"]
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `curl -4|-6 http://HOSTNAME/` reaching the frontend's local socket.
fn curl(fe: &Value) -> String {
    let host = fe["hostname"].as_str().unwrap();
    let listen = fe["listen"].as_str().unwrap();
    let family = if fe["family"] == "IPv4" { "-4" } else { "-6" };
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10", family, "--connect-to"])
        .arg(format!("{host}:80:{listen}"))
        .arg(format!("http://{host}/"))
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

fn remote_addr(answer: &str) -> IpAddr {
    let line = answer
        .lines()
        .find_map(|l| l.strip_prefix("RemoteAddr: "))
        .unwrap_or_else(|| panic!("no RemoteAddr in {answer}"));
    let host = line.rsplit_once(':').unwrap().0;
    host.trim_matches(['[', ']']).parse().unwrap()
}

fn node_ips(t: &Twin) -> BTreeSet<IpAddr> {
    let nodes: Value =
        serde_json::from_str(&ok(&t.kubectl(&["get", "nodes", "-o", "json"]))).unwrap();
    nodes["items"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|n| n["status"]["addresses"].as_array().unwrap().clone())
        .filter(|a| a["type"] == "InternalIP")
        .map(|a| a["address"].as_str().unwrap().parse().unwrap())
        .collect()
}

fn in_vpc(ip: IpAddr) -> bool {
    matches!(ip, IpAddr::V4(v) if v.octets()[0] == 10 && v.octets()[1] == 250)
}

/// An IPv6 address of the VPC that is no node's: the NLB's own in its subnet.
fn nlb_private_v6(ip: IpAddr, nodes: &BTreeSet<IpAddr>) -> bool {
    ip.is_ipv6() && !ip.is_loopback() && !nodes.contains(&ip)
}

#[test]
fn whoami_behind_the_seed_nlb_sees_what_the_aws_table_says() {
    let t = Twin::start(&[]);
    let nodes = node_ips(&t);
    let dual = "  ipFamilyPolicy: RequireDualStack\n  ipFamilies: [IPv4, IPv6]";
    // Instance targets, externalTrafficPolicy Cluster: kube-proxy masquerades to the node.
    apply(
        &t,
        &whoami(
            "cluster",
            "    service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: instance",
            dual,
            "",
        ),
    );
    // Instance targets, Local: the IPv4 client is preserved; the IPv6 one is translated.
    apply(
        &t,
        &whoami(
            "local",
            "    service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: instance",
            &format!("{dual}\n  externalTrafficPolicy: Local"),
            "",
        ),
    );
    // ip targets: preservation off by default, the NLB's private IPv4 for both.
    apply(
        &t,
        &whoami(
            "ip",
            "    service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: ip",
            dual,
            "",
        ),
    );

    // A dual-stack Service gets IPv6 target groups (`buildTargetGroupIPAddressType`): the
    // NLB translates IPv4 clients to IPv6.
    let (v4, v6) = lb_frontends(&t, "cluster");
    assert!(v4["hostname"]
        .as_str()
        .unwrap()
        .ends_with(".elb.eu-central-1.amazonaws.com"));
    for fe in [&v4, &v6] {
        let a = curl(fe);
        assert!(a.contains("Hostname: cluster-"), "{a}");
        let seen = remote_addr(&a);
        assert!(
            nodes.contains(&seen) && seen.is_ipv6(),
            "Cluster: a node's IPv6, got {a}"
        );
    }

    let (v4, v6) = lb_frontends(&t, "local");
    let a = curl(&v6);
    assert_eq!(
        remote_addr(&a),
        "::1".parse::<IpAddr>().unwrap(),
        "the client: {a}"
    );
    let a = curl(&v4);
    let seen = remote_addr(&a);
    assert!(nlb_private_v6(seen, &nodes), "the NLB's private IPv6: {a}");

    // Gardener's webhook makes every NLB of a dual-stack shoot use instance targets ("NLB
    // target type ip is not supported"): the ip Service's flows pass a node too.
    let ann = ok(&t.kubectl(&[
        "get",
        "svc",
        "ip",
        "-o",
        "jsonpath={.metadata.annotations.service\\.beta\\.kubernetes\\.io/aws-load-balancer-nlb-target-type}",
    ]));
    assert_eq!(ann.trim(), "instance");
    let (v4, _) = lb_frontends(&t, "ip");
    let seen = remote_addr(&curl(&v4));
    assert!(nodes.contains(&seen) && seen.is_ipv6(), "{seen}");

    // `twinstack trace` shows the translation hop of an IPv6 client and proves it.
    let out = twinstack(
        &t,
        &[
            "trace", "-n", "default", "local", "--family", "IPv4", "-o", "json",
        ],
    );
    let tr: Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(tr["translated"], true, "{tr:#}");
    let hops = tr["hops"].as_array().unwrap();
    assert_eq!(hops.len(), 3, "{tr:#}");
    assert!(hops[1]["note"]
        .as_str()
        .unwrap()
        .contains("translated from IPv4 to IPv6"));
    assert!(hops[0]["src"].as_str().unwrap().starts_with("127.0.0.1:"));
    assert_eq!(
        tr["seen"].as_str().unwrap(),
        hops[2]["src"].as_str().unwrap()
    );
    assert!(tr["response"]
        .as_str()
        .unwrap()
        .contains(&format!("RemoteAddr: {}", tr["seen"].as_str().unwrap())));
    let text = twinstack(&t, &["trace", "-n", "default", "ip", "--family", "IPv4"]);
    let text = ok(&text);
    assert!(text.contains("load balancer → instance target"), "{text}");
    assert!(text.contains("translated from IPv4 to IPv6"), "{text}");
    assert!(text.contains("the pod sees the client as ["), "{text}");
}

#[test]
fn an_ipv4_only_runtime_serves_ipv6_clients_through_the_nlbs_translation() {
    let t = Twin::start(&["--ip-families", "IPv4"]);
    let nodes = node_ips(&t);
    for (name, tt) in [("inst", "instance"), ("ips", "ip")] {
        apply(
            &t,
            &whoami(
                name,
                &format!("    service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: {tt}"),
                "  ipFamilyPolicy: PreferDualStack\n  externalTrafficPolicy: Local",
                "",
            ),
        );
        let (v4, v6) = lb_frontends(&t, name);
        let a = curl(&v6);
        let seen = remote_addr(&a);
        assert!(
            in_vpc(seen) && !nodes.contains(&seen),
            "{tt}: the NLB's private IPv4, got {a}"
        );
        let a = curl(&v4);
        let seen = remote_addr(&a);
        if tt == "instance" {
            assert_eq!(seen, "127.0.0.1".parse::<IpAddr>().unwrap(), "{a}");
        } else {
            assert!(in_vpc(seen), "ip targets: preservation off by default: {a}");
        }
    }
}

#[test]
fn with_proxy_protocol_whoami_answers_400_and_a_users_process_reads_the_client() {
    let t = Twin::start(&[]);
    let user = TcpListener::bind("127.0.0.1:0").unwrap();
    let local = user.local_addr().unwrap();
    let dual = "  ipFamilyPolicy: RequireDualStack\n  ipFamilies: [IPv4, IPv6]";
    let pp = "    service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: ip\n    service.beta.kubernetes.io/aws-load-balancer-proxy-protocol: \"*\"";
    apply(&t, &whoami("pp", pp, dual, ""));
    apply(
        &t,
        &whoami(
            "mine",
            pp,
            dual,
            &format!("twinstack.io/backend: \"{local}\""),
        ),
    );
    let (v4, _) = lb_frontends(&t, "pp");
    let a = curl(&v4);
    assert!(a.starts_with("400 Bad Request"), "{a}");

    let (_, v6) = lb_frontends(&t, "mine");
    let listen: std::net::SocketAddr = v6["listen"].as_str().unwrap().parse().unwrap();
    let client = std::thread::spawn(move || {
        let mut s = std::net::TcpStream::connect(listen).unwrap();
        let me = s.local_addr().unwrap();
        s.write_all(b"ping").unwrap();
        let mut back = [0u8; 4];
        s.read_exact(&mut back).unwrap();
        (me, back)
    });
    // The NLB's TCP health checks connect and close; the client's connection carries data.
    let (mut conn, got) = loop {
        let (mut conn, _) = user.accept().unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 512];
        // The v2 signature (12) + version/family/length (4) + an IPv6 address block (36) +
        // ping.
        while got.len() < 16 + 36 + 4 {
            let n = conn.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        if !got.is_empty() {
            break (conn, got);
        }
    };
    assert_eq!(&got[..12], b"\r\n\r\n\0\r\nQUIT\n", "a PROXY v2 signature");
    assert_eq!(got[12], 0x21, "v2, PROXY");
    assert_eq!(got[13], 0x21, "TCP over IPv6");
    let src: [u8; 16] = got[16..32].try_into().unwrap();
    let dst: [u8; 16] = got[32..48].try_into().unwrap();
    let src_port = u16::from_be_bytes([got[48], got[49]]);
    assert_eq!(&got[52..], b"ping");
    conn.write_all(b"pong").unwrap();
    let (me, back) = client.join().unwrap();
    assert_eq!(&back, b"pong");
    assert_eq!(IpAddr::from(src), me.ip(), "the real client");
    assert_eq!(src_port, me.port());
    assert_eq!(
        IpAddr::from(dst),
        v6["address"].as_str().unwrap().parse::<IpAddr>().unwrap(),
        "the load balancer's IPv6 frontend"
    );
}

/// GCP passthrough: each forwarding rule forwards its own family, no translation.
#[test]
fn gcp_forwarding_rules_forward_each_family_in_its_own() {
    let t = Twin::start(&["--provider", "gcp", "--region", "europe-west1"]);
    let nodes = node_ips(&t);
    let yaml = |name: &str, policy: &str| {
        format!(
            r#"
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
      - {{name: netexec, image: "registry.k8s.io/e2e-test-images/agnhost:2.53", args: [netexec, --http-port=8080]}}
---
apiVersion: v1
kind: Service
metadata: {{name: {name}}}
spec:
  type: LoadBalancer
  externalTrafficPolicy: {policy}
  ipFamilyPolicy: RequireDualStack
  ipFamilies: [IPv6, IPv4]
  selector: {{app: {name}}}
  ports:
  - {{name: http, port: 80, targetPort: 8080}}
"#
        )
    };
    apply(&t, &yaml("cluster", "Cluster"));
    apply(&t, &yaml("local", "Local"));
    for (name, local) in [("cluster", false), ("local", true)] {
        let start = Instant::now();
        let fes = loop {
            let rt = runtime_show(&t);
            let fes: Vec<Value> = rt["frontends"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| {
                    f["service"] == format!("default/{name}") && f["kind"] == "forwarding-rule"
                })
                .cloned()
                .collect();
            let served = |f: &Value| {
                let ts = f["targets"].as_array().unwrap();
                !ts.is_empty() && ts.iter().all(|t| t["endpoints"].as_u64() > Some(0))
            };
            if fes.len() == 2 && fes.iter().all(served) {
                break fes;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "{:#}",
                rt["frontends"]
            );
            std::thread::sleep(Duration::from_millis(200));
        };
        for fe in &fes {
            let listen: std::net::SocketAddr = fe["listen"].as_str().unwrap().parse().unwrap();
            let fam = if listen.is_ipv4() { "-4" } else { "-6" };
            let out = Command::new("curl")
                .args(["-sS", "--max-time", "10", fam])
                .arg(format!("http://{listen}/clientip"))
                .output()
                .unwrap();
            let seen = ok(&out);
            let ip: IpAddr = seen
                .rsplit_once(':')
                .unwrap()
                .0
                .trim_matches(['[', ']'])
                .parse()
                .unwrap();
            assert_eq!(
                ip.is_ipv4(),
                listen.is_ipv4(),
                "{name}: no translation: {seen}"
            );
            if local {
                assert!(ip.is_loopback(), "{name}: the client is kept: {seen}");
            } else {
                assert!(nodes.contains(&ip), "{name}: masqueraded to a node: {seen}");
            }
        }
    }
    let out = twinstack(
        &t,
        &[
            "trace", "-n", "default", "local", "--family", "IPv6", "-o", "json",
        ],
    );
    let tr: Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(tr["translated"], false, "{tr:#}");
    assert_eq!(tr["frontend"]["kind"], "forwarding-rule");
    assert!(
        tr["hops"][1]["note"]
            .as_str()
            .unwrap()
            .contains("passthrough"),
        "{tr:#}"
    );
}

/// A user's process that answers each line with its own tag; `stop` closes its listener.
struct Echo {
    addr: std::net::SocketAddr,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

fn echo(tag: &'static str) -> Echo {
    use std::io::BufRead;
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let s2 = stop.clone();
    l.set_nonblocking(true).unwrap();
    std::thread::spawn(move || loop {
        if s2.load(std::sync::atomic::Ordering::SeqCst) {
            return; // drops the listener: connections are refused from now on
        }
        match l.accept() {
            Ok((c, _)) => {
                c.set_nonblocking(false).unwrap();
                std::thread::spawn(move || {
                    let mut w = c.try_clone().unwrap();
                    for line in std::io::BufReader::new(c).lines() {
                        let Ok(line) = line else { return };
                        if w.write_all(format!("{tag}:{line}\n").as_bytes()).is_err() {
                            return;
                        }
                    }
                });
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    });
    Echo { addr, stop }
}

fn ask(s: &mut std::net::TcpStream, what: &str) -> String {
    use std::io::BufRead;
    s.write_all(format!("{what}\n").as_bytes()).unwrap();
    let mut r = std::io::BufReader::new(s.try_clone().unwrap());
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    line.trim().to_string()
}

/// Scaling and port changes never drop an established flow; removed frontends stop accepting;
/// a failing target leaves rotation within the configured health check thresholds.
#[test]
fn flows_survive_changes_and_failing_targets_leave_rotation() {
    flows_journey(false);
}

/// The same in namespace mode (root): clients connect from inside the runtime's namespace.
#[test]
fn in_namespace_mode_flows_survive_changes_and_failing_targets_leave_rotation() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("namespace mode needs root; CI runs as root");
        return;
    }
    flows_journey(true);
}

/// A TCP connection to `addr`, from inside the network namespace `ns` when there is one (a
/// socket stays in the namespace of the thread that made it).
fn connect_in(ns: Option<&str>, addr: &str) -> std::io::Result<std::net::TcpStream> {
    let Some(ns) = ns else {
        return std::net::TcpStream::connect(addr);
    };
    let (path, addr) = (format!("/run/netns/{ns}"), addr.to_string());
    std::thread::spawn(move || {
        use std::os::fd::AsRawFd;
        let f = std::fs::File::open(path)?;
        // SAFETY: setns on a namespace file this thread opened; only this thread moves.
        if unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        std::net::TcpStream::connect(addr)
    })
    .join()
    .unwrap()
}

fn flows_journey(netns: bool) {
    let t = if netns {
        Twin::start(&["--ip-families", "IPv4", "--dataplane", "netns"])
    } else {
        Twin::start(&["--ip-families", "IPv4"])
    };
    let ns = netns.then(|| runtime_show(&t)["netns"].as_str().unwrap().to_string());
    let ns = ns.as_deref();
    let (a, b) = (echo("a"), echo("b"));
    let dep = |name: &str, backend: std::net::SocketAddr, replicas: u32| {
        format!(
            r#"
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: web, backend: {name}}}}}
  template:
    metadata:
      labels: {{app: web, backend: {name}}}
      annotations: {{twinstack.io/backend: "{backend}"}}
    spec:
      containers: [{{name: app, image: example.com/app:1, ports: [{{containerPort: 8080}}]}}]
"#
        )
    };
    let svc = |port: u16| {
        format!(
            r#"
apiVersion: v1
kind: Service
metadata:
  name: web
  annotations:
    service.beta.kubernetes.io/aws-load-balancer-type: external
    service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: ip
    service.beta.kubernetes.io/aws-load-balancer-scheme: internet-facing
    service.beta.kubernetes.io/aws-load-balancer-healthcheck-interval: "5"
    service.beta.kubernetes.io/aws-load-balancer-healthcheck-healthy-threshold: "2"
    service.beta.kubernetes.io/aws-load-balancer-healthcheck-unhealthy-threshold: "2"
spec:
  type: LoadBalancer
  selector: {{app: web}}
  ports: [{{name: tcp, port: {port}, targetPort: 8080}}]
"#
        )
    };
    apply(&t, &dep("a", a.addr, 1));
    apply(&t, &dep("b", b.addr, 1));
    apply(&t, &svc(7000));
    let frontend = |port: u16, healthy: usize| -> String {
        let start = Instant::now();
        loop {
            let rt = runtime_show(&t);
            let fe = rt["frontends"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["service"] == "default/web" && f["kind"] == "nlb" && f["port"] == port)
                .cloned();
            if let Some(fe) = fe {
                let n = fe["targets"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|t| t["state"] == "healthy")
                    .count();
                if n >= healthy {
                    return fe["listen"].as_str().unwrap().to_string();
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "{:#}",
                rt["frontends"]
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    let listen = frontend(7000, 2);
    let mut flow = connect_in(ns, &listen).unwrap();
    let first = ask(&mut flow, "1");
    let (keep, kill) = if first.starts_with("a:") {
        (&a, &b)
    } else {
        (&b, &a)
    };
    let tag = &first[..1];
    // Scale up: the established flow is untouched.
    apply(&t, &dep("a", a.addr, 3));
    frontend(7000, 4);
    assert_eq!(ask(&mut flow, "2"), format!("{tag}:2"));
    // The other target's process stops listening: it leaves rotation within
    // interval × unhealthy threshold (5 s × 2), plus one interval of phase.
    kill.stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let killed = Instant::now();
    let survivor = if std::ptr::eq(keep, &a) { "a" } else { "b" };
    loop {
        let answers: Vec<String> = (0..8)
            .map(|i| {
                connect_in(ns, &listen)
                    .ok()
                    .and_then(|mut s| {
                        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
                        use std::io::BufRead;
                        s.write_all(format!("p{i}\n").as_bytes()).ok()?;
                        let mut line = String::new();
                        std::io::BufReader::new(s).read_line(&mut line).ok()?;
                        Some(line.trim().to_string())
                    })
                    .unwrap_or_default()
            })
            .collect();
        if answers
            .iter()
            .all(|x| x.starts_with(&format!("{survivor}:")))
        {
            break;
        }
        assert!(
            killed.elapsed() < Duration::from_secs(20),
            "the failing target is still in rotation: {answers:?}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    assert_eq!(ask(&mut flow, "3"), format!("{tag}:3"));
    // Killing the other target's pod leaves the flow alone too.
    let other = if survivor == "a" { "b" } else { "a" };
    ok(&t.kubectl(&[
        "delete",
        "pod",
        "-l",
        &format!("backend={other}"),
        "--wait=false",
    ]));
    assert_eq!(ask(&mut flow, "3b"), format!("{tag}:3b"));
    // A new port: the old frontend stops accepting, the established flow goes on.
    apply(&t, &svc(7001));
    let new_listen = frontend(7001, 1);
    let start = Instant::now();
    while connect_in(ns, &listen).is_ok() && listen != new_listen {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{listen} still accepts"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(ask(&mut flow, "4"), format!("{tag}:4"));
    let mut fresh = connect_in(ns, &new_listen).unwrap();
    assert!(ask(&mut fresh, "5").ends_with(":5"));
    // A clean stop (the namespace, if any, goes with it).
    let mut t = t;
    t.stop();
}

/// The issue's kubectl journeys against built-in servers, through the data plane's network:
/// `kubectl run` of curl by Service name over IPv6, a Job's logs, `kubectl exec` of curl to the
/// IPv6 cluster IP (the pod's IPv6 is the source the server sees), `kubectl port-forward
/// svc/web`, and the server's access lines in `kubectl logs`.
#[test]
fn kubectl_run_exec_logs_and_port_forward_reach_the_built_in_servers() {
    let t = Twin::start(&[]);
    ok(&t.kubectl(&["create", "namespace", "shop"]));
    apply(
        &t,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: netexec, image: "registry.k8s.io/e2e-test-images/agnhost:2.53", args: [netexec, --http-port=8080]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: nginx, namespace: shop}
spec:
  replicas: 1
  selector: {matchLabels: {app: nginx}}
  template:
    metadata: {labels: {app: nginx}}
    spec:
      containers: [{name: nginx, image: "nginx:1.27"}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  ipFamilyPolicy: RequireDualStack
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: nginx, namespace: shop}
spec:
  ipFamilyPolicy: RequireDualStack
  ipFamilies: [IPv6, IPv4]
  selector: {app: nginx}
  ports: [{name: http, port: 80}]
"#,
    );
    ok(&t.kubectl(&[
        "-n",
        "shop",
        "rollout",
        "status",
        "deploy/web",
        "--timeout=60s",
    ]));
    ok(&t.kubectl(&[
        "-n",
        "shop",
        "rollout",
        "status",
        "deploy/nginx",
        "--timeout=60s",
    ]));
    // Wait until the data plane serves the Services (the controllers publish after a pass).
    let start = Instant::now();
    loop {
        let rt = runtime_show(&t);
        let served = rt["frontends"].as_array().unwrap().iter().any(|f| {
            f["service"] == "shop/nginx"
                && f["kind"] == "clusterip"
                && f["targets"][0]["endpoints"].as_u64() > Some(0)
        });
        if served {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{:#}",
            rt["frontends"]
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // `kubectl run --rm -i` of curl, by the Service's short name from its namespace, over IPv6.
    let out = t.kubectl(&[
        "-n",
        "shop",
        "run",
        "t",
        "--rm",
        "-i",
        "--image=curlimages/curl",
        "--restart=Never",
        "--",
        "curl",
        "-s",
        "-6",
        "http://nginx/",
    ]);
    let text = ok(&out);
    assert!(text.contains("<title>Welcome to nginx!</title>"), "{text}");
    // The same from another namespace by `web.shop`, as a Job, read with `kubectl logs`.
    ok(&t.kubectl(&[
        "create",
        "job",
        "fetch",
        "--image=curlimages/curl",
        "--",
        "curl",
        "-s",
        "-6",
        "http://web.shop/hostname",
    ]));
    ok(&t.kubectl(&[
        "wait",
        "--for=condition=complete",
        "job/fetch",
        "--timeout=30s",
    ]));
    let logs = ok(&t.kubectl(&["logs", "job/fetch"]));
    assert!(logs.starts_with("web-"), "the netexec pod's name: {logs}");
    // `kubectl exec` of curl into web's IPv6 cluster IP: netexec sees the client pod's IPv6.
    apply(
        &t,
        r#"
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: shop}
spec:
  containers: [{name: shell, image: nicolaka/netshoot, command: [sleep, infinity]}]
"#,
    );
    ok(&t.kubectl(&[
        "-n",
        "shop",
        "wait",
        "--for=condition=ready",
        "pod/client",
        "--timeout=30s",
    ]));
    let svc: Value = serde_json::from_str(&ok(
        &t.kubectl(&["-n", "shop", "get", "svc", "web", "-o", "json"])
    ))
    .unwrap();
    let v6 = svc["spec"]["clusterIPs"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|i| i.as_str().filter(|s| s.contains(':')))
        .unwrap()
        .to_string();
    let pod: Value = serde_json::from_str(&ok(
        &t.kubectl(&["-n", "shop", "get", "pod", "client", "-o", "json"])
    ))
    .unwrap();
    let pod_v6 = pod["status"]["podIPs"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|i| i["ip"].as_str().filter(|s| s.contains(':')))
        .unwrap()
        .to_string();
    let seen = ok(&t.kubectl(&[
        "-n",
        "shop",
        "exec",
        "client",
        "--",
        "curl",
        "-s",
        &format!("http://[{v6}]/clientip"),
    ]));
    assert!(
        seen.starts_with(&format!("[{pod_v6}]:")),
        "{seen} from {pod_v6}"
    );
    // `kubectl port-forward svc/web` reaches netexec.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut pf = Command::new("kubectl")
        .env("KUBECONFIG", &t.kubeconfig)
        .args([
            "-n",
            "shop",
            "port-forward",
            "svc/web",
            &format!("{port}:80"),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(t.data_dir().join("pf.err")).unwrap())
        .spawn()
        .unwrap();
    let mut line = String::new();
    use std::io::BufRead;
    let mut pf_out = std::io::BufReader::new(pf.stdout.take().unwrap());
    pf_out.read_line(&mut line).unwrap();
    assert!(line.starts_with("Forwarding from"), "{line}");
    // kubectl writes a line per connection and dies on a closed pipe: keep reading.
    std::thread::spawn(move || std::io::copy(&mut pf_out, &mut std::io::sink()));
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10"])
        .arg(format!("http://127.0.0.1:{port}/hostname"))
        .output()
        .unwrap();
    let _ = pf.kill();
    let _ = pf.wait();
    assert!(
        out.status.success(),
        "{out:?}; port-forward: {}",
        std::fs::read_to_string(t.data_dir().join("pf.err")).unwrap_or_default()
    );
    assert!(ok(&out).starts_with("web-"));
    // nginx wrote an access line for the IPv6 request of `kubectl run`.
    let access = ok(&t.kubectl(&["-n", "shop", "logs", "deploy/nginx"]));
    assert!(access.contains("\"GET / HTTP/1.1\" 200 615"), "{access}");
}

/// Namespace mode (root): the runtime's namespace holds the real emulated addresses, so curl
/// inside it reaches the NLB by its DNS name and real address, in both families.
#[test]
fn in_namespace_mode_curl_reaches_the_nlb_at_its_real_addresses() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("namespace mode needs root; CI runs as root");
        return;
    }
    let t = Twin::start(&["--dataplane", "netns"]);
    apply(
        &t,
        &whoami(
            "web",
            "    service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: instance",
            "  ipFamilyPolicy: RequireDualStack\n  ipFamilies: [IPv4, IPv6]\n  externalTrafficPolicy: Local",
            "",
        ),
    );
    let (v4, v6) = lb_frontends(&t, "web");
    let ns = runtime_show(&t)["netns"].as_str().unwrap().to_string();
    for fe in [&v4, &v6] {
        let addr: IpAddr = fe["address"].as_str().unwrap().parse().unwrap();
        let listen: std::net::SocketAddr = fe["listen"].as_str().unwrap().parse().unwrap();
        assert_eq!(listen.ip(), addr, "the real address: {fe}");
        assert_eq!(listen.port(), 80);
        let host = fe["hostname"].as_str().unwrap();
        let resolve = match addr {
            IpAddr::V4(a) => format!("{host}:80:{a}"),
            IpAddr::V6(a) => format!("{host}:80:[{a}]"),
        };
        let out = Command::new("ip")
            .args([
                "netns",
                "exec",
                &ns,
                "curl",
                "-sS",
                "--max-time",
                "10",
                "--resolve",
                &resolve,
            ])
            .arg(format!("http://{host}/"))
            .output()
            .unwrap();
        let a = ok(&out);
        let seen = remote_addr(&a);
        // An IPv6 target group: the IPv6 client is kept (Local), the IPv4 one translated.
        if addr.is_ipv6() {
            assert!(seen.is_ipv6(), "{a}");
        } else {
            assert!(
                seen.is_ipv6() && seen != addr,
                "translated to the NLB's IPv6: {a}"
            );
        }
    }
    // Nothing of it on the host: the emulated address is not reachable outside the namespace.
    let v6addr = v6["address"].as_str().unwrap();
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "2"])
        .arg(format!("http://[{v6addr}]/"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let tr = twinstack(&t, &["trace", "web", "--family", "IPv4", "-o", "json"]);
    let tr: Value = serde_json::from_str(&ok(&tr)).unwrap();
    assert_eq!(tr["translated"], true, "{tr:#}");
    assert!(
        tr["response"].as_str().unwrap().contains("RemoteAddr: ["),
        "{tr:#}"
    );
    // A clean stop removes the namespace.
    let mut t = t;
    t.stop();
    assert!(
        !std::path::Path::new("/run/netns").join(&ns).exists(),
        "{ns} left behind"
    );
}
