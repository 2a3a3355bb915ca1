//! Test harness: runs the real `twinstack` binary on a free loopback port with its own data dir,
//! and drives it with the installed kubectl binaries and an HTTPS client.
#![allow(dead_code)]

pub mod osb;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub struct Twin {
    pub child: Option<Child>,
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub kubeconfig: PathBuf,
    pub cache: tempfile::TempDir,
    pub args: Vec<String>,
    pub stderr_log: PathBuf,
    /// The DNS server's address (UDP and TCP).
    pub dns: Option<std::net::SocketAddr>,
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_twinstack")
}

impl Twin {
    /// Starts `twinstack up` with extra flags; waits until it prints its ready lines.
    pub fn start(extra: &[&str]) -> Twin {
        let dir = tempfile::tempdir().unwrap();
        // Port 0: the kernel picks a free port, read back from the ready line, so tests running
        // at the same time never race for one. Restarts keep that port.
        let port = 0;
        let mut args: Vec<String> = vec!["up".into(), "--listen".into(), "127.0.0.1:0".into()];
        // Broker operations finish within their request unless a test asks for them to take
        // time (tests of asynchronous operations pass their own --operation-time).
        if !extra.iter().any(|a| a.starts_with("--operation-time")) {
            args.extend(["--operation-time".into(), "0".into()]);
        }
        // The DNS server on a port of the kernel's choice too (read back from its ready line).
        if !extra.iter().any(|a| a.starts_with("--dns-listen")) {
            args.push("--dns-listen=127.0.0.1:0".into());
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        let mut t = Twin {
            child: None,
            kubeconfig: dir.path().join("kubeconfig"),
            stderr_log: dir.path().join("stderr.log"),
            dir,
            port,
            cache: tempfile::tempdir().unwrap(),
            args,
            dns: None,
        };
        t.spawn();
        t
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// (Re)starts the process on the same data dir and port.
    pub fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.stderr_log)
            .unwrap();
        let mut child = Command::new(bin())
            .args(&self.args)
            .arg("--data-dir")
            .arg(self.dir.path())
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("start twinstack");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(url) = line.split(" at https://").nth(1) {
                    let host_port = url.split("/runtimes/").next().unwrap_or("");
                    let _ = tx.send(format!(
                        "port={}",
                        host_port.rsplit(':').next().unwrap_or("")
                    ));
                }
                if let Some(rest) = line.strip_prefix("DNS server at ") {
                    let addr = rest.split(' ').next().unwrap_or("");
                    let _ = tx.send(format!("dns={addr}"));
                }
                if line.starts_with("export KUBECONFIG=") {
                    let _ = tx.send(line.trim_start_matches("export KUBECONFIG=").to_string());
                }
            }
        });
        loop {
            match rx.recv_timeout(Duration::from_secs(60)) {
                Ok(line) if line.starts_with("dns=") => {
                    let addr = line.trim_start_matches("dns=").to_string();
                    for a in self
                        .args
                        .iter_mut()
                        .filter(|a| a.starts_with("--dns-listen="))
                    {
                        *a = format!("--dns-listen={addr}");
                    }
                    self.dns = addr.parse().ok();
                }
                Ok(line) => match line.strip_prefix("port=") {
                    Some(p) => {
                        self.port = p.parse().expect("port in the ready line");
                        for a in self.args.iter_mut().filter(|a| a.as_str() == "127.0.0.1:0") {
                            *a = format!("127.0.0.1:{}", self.port);
                        }
                    }
                    None => {
                        self.kubeconfig = PathBuf::from(line);
                        break;
                    }
                },
                Err(_) => {
                    let _ = child.kill();
                    panic!(
                        "twinstack did not become ready; stderr:\n{}",
                        std::fs::read_to_string(&self.stderr_log).unwrap_or_default()
                    );
                }
            }
        }
        self.child = Some(child);
    }

    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap(); // SIGKILL on Unix
            c.wait().unwrap();
        }
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            unsafe_sigterm(c.id());
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                if let Some(_st) = c.try_wait().unwrap() {
                    break;
                }
                if Instant::now() > deadline {
                    let _ = c.kill();
                    let _ = c.wait();
                    panic!("twinstack did not stop on SIGTERM");
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    /// The server's peak resident set size so far (`VmHWM` of `/proc/PID/status`), in bytes:
    /// what a hostile test asserts stayed bounded through everything it did.
    pub fn peak_rss_bytes(&self) -> u64 {
        let pid = self.child.as_ref().expect("server running").id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM in /proc/PID/status");
        kb * 1024
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_log).unwrap_or_default()
    }

    pub fn token(&self) -> String {
        let k = std::fs::read_to_string(&self.kubeconfig).unwrap();
        k.lines()
            .find_map(|l| l.trim().strip_prefix("token: "))
            .unwrap()
            .to_string()
    }

    /// The name of the runtime whose instance is named `instance_name` (runtimes are named as
    /// KEB names Shoots, so the two differ), from `twinstack runtime show`.
    pub fn runtime_of(&self, instance_name: &str) -> String {
        let out = Command::new(bin())
            .args(["runtime", "show", instance_name, "--data-dir"])
            .arg(self.dir.path())
            .output()
            .unwrap();
        let text = ok(&out);
        text.lines()
            .find_map(|l| l.strip_prefix("Name:"))
            .map(|n| n.trim().to_string())
            .unwrap_or_else(|| panic!("no Name: in {text}"))
    }

    /// The kubeconfig file of the runtime whose instance is named `instance_name`.
    pub fn kubeconfig_of(&self, instance_name: &str) -> PathBuf {
        self.dir
            .path()
            .join("kubeconfigs")
            .join(format!("{}.yaml", self.runtime_of(instance_name)))
    }

    pub fn ca_pem(&self) -> Vec<u8> {
        std::fs::read(self.dir.path().join("pki").join("ca.crt")).unwrap()
    }

    pub fn base_url(&self) -> String {
        format!("https://127.0.0.1:{}/runtimes/local", self.port)
    }

    /// Runs the default kubectl (the dispatcher, which runs its own 1.32 against a 1.32 server).
    pub fn kubectl(&self, args: &[&str]) -> Output {
        self.kubectl_with("kubectl", args, None)
    }

    pub fn kubectl_with(&self, binary: &str, args: &[&str], stdin: Option<&str>) -> Output {
        self.kubectl_at(binary, &self.kubeconfig, args, stdin)
    }

    /// A kubectl with another runtime's kubeconfig (e.g. [`Twin::kubeconfig_of`]).
    pub fn kubectl_at(
        &self,
        binary: &str,
        kubeconfig: &Path,
        args: &[&str],
        stdin: Option<&str>,
    ) -> Output {
        let mut cmd = Command::new(binary);
        cmd.args(args)
            .env("KUBECONFIG", kubeconfig)
            .env("KUBECACHEDIR", self.cache.path())
            .env("HOME", self.cache.path())
            .env_remove("KUBECTL_EXTERNAL_DIFF");
        output_with_stdin(cmd, stdin)
    }

    pub fn client(&self) -> reqwest::Client {
        let ca = reqwest::Certificate::from_pem(&self.ca_pem()).unwrap();
        reqwest::Client::builder()
            .add_root_certificate(ca)
            .use_rustls_tls()
            .build()
            .unwrap()
    }
}

impl Drop for Twin {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn unsafe_sigterm(pid: u32) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status();
}

/// Runs `cmd` to its end with `stdin` as its standard input (none: /dev/null), capturing
/// stdout and stderr.
pub fn output_with_stdin(mut cmd: Command, stdin: Option<&str>) -> Output {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("running {:?}: {e}", cmd.get_program()));
    if let Some(input) = stdin {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    child.wait_with_output().unwrap()
}

/// Path of a versioned kubectl (`kubectl.1.27` …) installed beside the dispatcher.
pub fn kubectl_version(minor: u32) -> Option<String> {
    let name = format!("kubectl.1.{minor}");
    if let Ok(out) = Command::new("which").arg(&name).output() {
        if out.status.success() {
            return Some(String::from_utf8_lossy(&out.stdout).trim().to_string());
        }
    }
    let k = Command::new("which").arg("kubectl").output().ok()?;
    let path = std::fs::canonicalize(String::from_utf8_lossy(&k.stdout).trim()).ok()?;
    let p = path.parent()?.join(name);
    p.exists().then(|| p.to_string_lossy().to_string())
}

pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "command failed: {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

pub fn fails(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "command unexpectedly succeeded:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).to_string()
}

/// The seed page's AWS Service (its annotations and RequireDualStack with IPv6 first).
pub const AWS_SERVICE: &str = r#"apiVersion: v1
kind: Service
metadata:
  name: web-aws
  annotations:
    service.beta.kubernetes.io/aws-load-balancer-ip-address-type: dualstack
    service.beta.kubernetes.io/aws-load-balancer-scheme: internet-facing
    service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: instance
    service.beta.kubernetes.io/aws-load-balancer-type: external
spec:
  type: LoadBalancer
  selector:
    app: web
  ports:
    - name: http
      port: 80
      targetPort: 8080
  ipFamilyPolicy: RequireDualStack
  ipFamilies:
    - IPv6
    - IPv4
"#;

/// The seed page's Google Cloud Service.
pub const GCP_SERVICE: &str = r#"apiVersion: v1
kind: Service
metadata:
  name: web-gcp
spec:
  type: LoadBalancer
  selector:
    app: web
  ports:
    - name: http
      port: 80
      targetPort: 8080
  ipFamilyPolicy: RequireDualStack
  ipFamilies:
    - IPv6
    - IPv4
"#;

pub fn write(dir: &Path, name: &str, contents: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, contents).unwrap();
    p
}
