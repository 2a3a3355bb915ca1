//! End-to-end: `kubectl logs`, `exec`, `attach` (`run -i`) and `port-forward` with the
//! installed kubectl binaries (1.27: SPDY only; 1.33: WebSocket, the port-forward tunnel too)
//! against a real `twinstack up`. A real HTTP server started by the test serves the pods
//! annotated `twinstack.io/backend`, so the requests carry real bytes.

mod common;
use common::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A loopback HTTP server answering every request with `body`; returns its port.
fn backend(body: &'static str) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut c) = conn else { continue };
            std::thread::spawn(move || {
                let mut r = BufReader::new(c.try_clone().unwrap());
                let mut line = String::new();
                // Read the head.
                loop {
                    line.clear();
                    if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                }
                let _ = write!(
                    c,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    port
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("timed out waiting for {what}");
}

fn phase(t: &Twin, pod: &str) -> String {
    let out = t.kubectl(&["get", "pod", pod, "-o", "jsonpath={.status.phase}"]);
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn running(t: &Twin, pod: &str) {
    wait_for(&format!("{pod} Running"), || phase(t, pod) == "Running");
}

fn pod_ip(t: &Twin, pod: &str) -> String {
    ok(&t.kubectl(&["get", "pod", pod, "-o", "jsonpath={.status.podIP}"]))
}

/// A server pod whose ports the local backend serves.
fn web(t: &Twin, port: u16) -> String {
    let manifest = format!(
        r#"apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {{app: web}}
  annotations:
    twinstack.io/backend: "127.0.0.1:{port}"
spec:
  containers:
  - name: web
    image: nginx
    ports: [{{containerPort: 80}}]
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {{app: web}}
  ports: [{{port: 8080, targetPort: 80}}]
"#
    );
    let f = write(t.data_dir(), "web.yaml", &manifest);
    ok(&t.kubectl(&["apply", "-f", f.to_str().unwrap()]));
    running(t, "web");
    pod_ip(t, "web")
}

fn k27() -> String {
    kubectl_version(27).expect("kubectl.1.27 is installed beside kubectl")
}

fn k33() -> String {
    kubectl_version(33).expect("kubectl.1.33 is installed beside kubectl")
}

#[test]
fn logs_of_a_client_pod_and_their_options() {
    let t = Twin::start(&[]);
    ok(&t.kubectl(&[
        "run",
        "hello",
        "--image=busybox",
        "--restart=Never",
        "--",
        "sh",
        "-c",
        "echo one; echo two; echo three",
    ]));
    wait_for("hello Succeeded", || phase(&t, "hello") == "Succeeded");
    assert_eq!(ok(&t.kubectl(&["logs", "hello"])), "one\ntwo\nthree\n");
    assert_eq!(ok(&t.kubectl(&["logs", "hello", "--tail=1"])), "three\n");
    assert_eq!(
        ok(&t.kubectl(&["logs", "hello", "--limit-bytes=6"])),
        "one\ntw"
    );
    let stamped = ok(&t.kubectl(&["logs", "hello", "--timestamps", "--tail=1"]));
    let (ts, line) = stamped.trim_end().split_once(' ').unwrap();
    assert_eq!(line, "three");
    assert!(
        ts.ends_with('Z') && ts.len() == "2026-12-03T11:00:00.123456789Z".len(),
        "{ts}"
    );

    // A failing command: the pod fails with the container's exit code.
    ok(&t.kubectl(&[
        "run",
        "bad",
        "--image=busybox",
        "--restart=Never",
        "--",
        "sh",
        "-c",
        "echo no; exit 4",
    ]));
    wait_for("bad Failed", || phase(&t, "bad") == "Failed");
    let code = ok(&t.kubectl(&[
        "get",
        "pod",
        "bad",
        "-o",
        "jsonpath={.status.containerStatuses[0].state.terminated.exitCode}",
    ]));
    assert_eq!(code, "4");

    // Errors as kube-apiserver and kubelet give them.
    let e = fails(&t.kubectl(&["logs", "nope"]));
    assert!(e.contains("pods \"nope\" not found"), "{e}");
    let two = write(
        t.data_dir(),
        "two.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: two}\nspec:\n  containers:\n  - {name: a, image: nginx}\n  - {name: b, image: nginx}\n",
    );
    ok(&t.kubectl(&["apply", "-f", two.to_str().unwrap()]));
    running(&t, "two");
    let e = String::from_utf8_lossy(&t.kubectl(&["logs", "two"]).stderr).to_string();
    assert!(
        e.contains("Defaulted container \"a\" out of: a, b")
            || e.contains("a container name must be specified for pod two, choose one of: [a b]"),
        "{e}"
    );
    let e = fails(&t.kubectl(&["logs", "two", "-c", "x"]));
    assert!(e.contains("container x is not valid for pod two"), "{e}");
    let e = fails(&t.kubectl(&["logs", "hello", "--previous"]));
    assert!(
        e.contains("previous terminated container \"hello\" in pod \"hello\" not found"),
        "{e}"
    );
}

#[test]
fn logs_follow_ends_when_the_container_terminates() {
    let t = Twin::start(&[]);
    ok(&t.kubectl(&[
        "run",
        "slow",
        "--image=busybox",
        "--restart=Never",
        "--",
        "sh",
        "-c",
        "echo a; sleep 2; echo b",
    ]));
    running(&t, "slow");
    let started = Instant::now();
    let out = ok(&t.kubectl(&["logs", "-f", "slow"]));
    assert_eq!(out, "a\nb\n");
    assert!(started.elapsed() < Duration::from_secs(20));
}

fn exec_journey(kubectl: &str) {
    let port = backend("hello from the backend\n");
    let t = Twin::start(&[]);
    let ip = web(&t, port);
    ok(&t.kubectl(&[
        "run",
        "client",
        "--image=nicolaka/netshoot",
        "--",
        "sleep",
        "3600",
    ]));
    running(&t, "client");
    let run = |args: &[&str], stdin: Option<&str>| t.kubectl_with(kubectl, args, stdin);

    let out = ok(&run(
        &[
            "exec",
            "client",
            "--",
            "curl",
            "-s",
            &format!("http://{ip}/"),
        ],
        None,
    ));
    assert_eq!(out, "hello from the backend\n");
    let out = run(
        &["exec", "client", "--", "sh", "-c", "echo hi; exit 3"],
        None,
    );
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hi\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("command terminated with exit code 3"));
    // Nothing listens on a pod without a backend: curl's own error and exit code.
    let other = pod_ip(&t, "client");
    let out = run(
        &[
            "exec",
            "client",
            "--",
            "curl",
            "-sS",
            &format!("http://{other}:9/"),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(7), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "curl: (7) Failed to connect to {other} port 9 after "
        )),
        "{err}"
    );
    // stdin
    let out = ok(&run(
        &["exec", "-i", "client", "--", "cat"],
        Some("piped\n"),
    ));
    assert_eq!(out, "piped\n");
    let out = ok(&run(
        &["exec", "-i", "client", "--", "sh"],
        Some("echo from-stdin\n"),
    ));
    assert_eq!(out, "from-stdin\n");
    // A command the image lacks.
    let out = run(&["exec", "client", "--", "foo"], None);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("OCI runtime exec failed: exec failed: unable to start container process: exec: \"foo\": executable file not found in $PATH: unknown"),
        "{err}"
    );
}

#[test]
fn exec_over_spdy_with_kubectl_1_27() {
    exec_journey(&k27());
}

#[test]
fn exec_over_websocket_with_kubectl_1_33() {
    exec_journey(&k33());
}

fn run_rm_journey(kubectl: &str) {
    let port = backend("answer\n");
    let t = Twin::start(&[]);
    let ip = web(&t, port);
    let out = t.kubectl_with(
        kubectl,
        &[
            "run",
            "t",
            "--rm",
            "-i",
            "--image=curlimages/curl",
            "--restart=Never",
            "--",
            "curl",
            "-s",
            &format!("http://{ip}/"),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("answer\n"),
        "{out:?}"
    );
    // curl's exit code is kubectl's.
    let out = t.kubectl_with(
        kubectl,
        &[
            "run",
            "u",
            "--rm",
            "-i",
            "--image=curlimages/curl",
            "--restart=Never",
            "--",
            "curl",
            "-sS",
            "http://10.0.0.1:81/",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(7), "{out:?}");
}

#[test]
fn run_rm_i_with_curl_default_kubectl() {
    run_rm_journey("kubectl");
}

#[test]
fn run_rm_i_with_curl_kubectl_1_27() {
    run_rm_journey(&k27());
}

#[test]
fn run_rm_i_with_curl_kubectl_1_33() {
    run_rm_journey(&k33());
}

#[test]
fn a_busybox_jobs_logs() {
    let port = backend("from the job\n");
    let t = Twin::start(&[]);
    let ip = web(&t, port);
    ok(&t.kubectl(&[
        "create",
        "job",
        "fetch",
        "--image=busybox",
        "--",
        "wget",
        "-qO-",
        &format!("http://{ip}/"),
    ]));
    wait_for("job complete", || {
        ok(&t.kubectl(&["get", "job", "fetch", "-o", "jsonpath={.status.succeeded}"])) == "1"
    });
    assert_eq!(ok(&t.kubectl(&["logs", "job/fetch"])), "from the job\n");
}

/// Runs `kubectl port-forward TARGET LOCAL:REMOTE` until the returned guard drops.
struct Forward(std::process::Child);

impl Drop for Forward {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn forward(t: &Twin, kubectl: &str, target: &str, remote: u16) -> (Forward, u16) {
    let local = free_port();
    let mut child = Command::new(kubectl)
        .args(["port-forward", target, &format!("{local}:{remote}")])
        .env("KUBECONFIG", &t.kubeconfig)
        .env("HOME", t.cache.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    assert!(first.starts_with("Forwarding from"), "{first}");
    // Keep reading: kubectl writes a line per connection and dies on a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    (Forward(child), local)
}

fn get(port: u16) -> String {
    let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut s = String::new();
    let _ = c.read_to_string(&mut s);
    s
}

fn port_forward_journey(kubectl: &str) {
    let port = backend("forwarded\n");
    let t = Twin::start(&[]);
    web(&t, port);
    let (_pod, local) = forward(&t, kubectl, "pod/web", 80);
    let answer = get(local);
    assert!(answer.ends_with("forwarded\n"), "{answer:?}");
    // Twice over the same port-forward connection.
    let answer = get(local);
    assert!(answer.ends_with("forwarded\n"), "{answer:?}");
    let (_svc, local) = forward(&t, kubectl, "svc/web", 8080);
    let answer = get(local);
    assert!(answer.ends_with("forwarded\n"), "{answer:?}");
}

#[test]
fn port_forward_with_kubectl_1_27() {
    port_forward_journey(&k27());
}

#[test]
fn port_forward_with_kubectl_1_33() {
    port_forward_journey(&k33());
}

#[test]
fn streams_need_the_runtimes_own_token() {
    let t = Twin::start(&[]);
    ok(&t.kubectl(&["run", "p", "--image=busybox", "--", "sleep", "3600"]));
    running(&t, "p");
    let client = t.client();
    let base = t.base_url();
    let other = base.replace("/runtimes/local", "/runtimes/other");
    let token = t.token();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let status = |url: String, token: Option<String>, upgrade: bool| {
        let client = client.clone();
        rt.block_on(async move {
            let mut req = client.post(&url);
            if let Some(tok) = token {
                req = req.bearer_auth(tok);
            }
            if upgrade {
                req = req
                    .header("Connection", "Upgrade")
                    .header("Upgrade", "SPDY/3.1")
                    .header("X-Stream-Protocol-Version", "v4.channel.k8s.io");
            }
            req.send().await.unwrap().status().as_u16()
        })
    };
    let exec = "/api/v1/namespaces/default/pods/p/exec?command=true&stdout=true";
    // No token, another runtime's path: refused before anything is allocated.
    assert_eq!(status(format!("{base}{exec}"), None, true), 401);
    assert_eq!(
        status(format!("{other}{exec}"), Some(token.clone()), true),
        403
    );
    // The runtime's own token without an upgrade: upstream's 400.
    assert_eq!(
        status(format!("{base}{exec}"), Some(token.clone()), false),
        400
    );
    let log = rt.block_on(async {
        client
            .get(format!("{base}/api/v1/namespaces/default/pods/p/log"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    assert_eq!(log, 401);
}
