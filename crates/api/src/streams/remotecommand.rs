//! `pods/exec` and `pods/attach`: kubelet's remotecommand server (`pkg/kubelet/cri/streaming/
//! remotecommand`: `httpstream.go`, `websocket.go`, `exec.go`, `attach.go`) over SPDY
//! (`v4.channel.k8s.io`, streams named by their `streamType` header) and WebSocket
//! (`v5.channel.k8s.io`, `v4.channel.k8s.io`: one channel byte before each message; v5 adds the
//! close signal `[255, channel]`).
//!
//! The error stream carries a `metav1.Status`: Success, or Failure with reason
//! `NonZeroExitCode` and an `ExitCode` cause, which kubectl turns into its exit code.

use super::{conn, ws, Request, Upgrade};
use axum::response::Response;
use k8s_openapi::api::core::v1::Pod;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use twinstack_core::status::Status;
use twinstack_dataplane::pods::exec::{self, PodContext, Stdio};
use twinstack_dataplane::pods::Pods;

/// The SPDY protocols kubelet's remotecommand server takes, preferred first.
pub const SPDY_PROTOCOLS: &[&str] = &[
    "v4.channel.k8s.io",
    "v3.channel.k8s.io",
    "v2.channel.k8s.io",
    "channel.k8s.io",
];
/// The WebSocket protocols, preferred first.
pub const WS_PROTOCOLS: &[&str] = &["v5.channel.k8s.io", "v4.channel.k8s.io"];

/// How long the client has to open its streams (kubelet's `streamCreationTimeout`, 30 s).
const STREAM_CREATION_TIMEOUT: Duration = Duration::from_secs(30);

/// The channels of the WebSocket protocols, also used to name SPDY's streams here.
const STDIN: u8 = 0;
const STDOUT: u8 = 1;
const STDERR: u8 = 2;
const ERROR: u8 = 3;

/// What the session was asked for.
#[derive(Clone)]
struct Session {
    pods: Pods,
    ctx: PodContext,
    container: String,
    attach: bool,
    command: Vec<String>,
    stdin: bool,
    stdout: bool,
    stderr: bool,
    tty: bool,
    running: bool,
    pod: Pod,
}

/// Answers the upgrade and runs the session on the upgraded connection.
pub fn upgrade(
    pods: Pods,
    mut req: Request<'_>,
    attach: bool,
    pod: Pod,
    container: String,
) -> Result<Response, Status> {
    let command: Vec<String> = req
        .query
        .iter()
        .filter(|(k, _)| k == "command")
        .map(|(_, v)| v.clone())
        .collect();
    let tty = req.flag("tty");
    let session = Session {
        ctx: context(&req, &pod, &container),
        running: container_running(&pod, &container),
        pods,
        container,
        attach,
        command,
        stdin: req.flag("stdin"),
        stdout: req.flag("stdout"),
        stderr: req.flag("stderr") && !tty,
        tty,
        pod,
    };
    if !attach && session.command.is_empty() {
        return Err(Status::bad_request("you must specify at least 1 command"));
    }
    if !(session.stdin || session.stdout || session.stderr) {
        return Err(Status::bad_request(
            "you must specify at least 1 of stdin, stdout, stderr",
        ));
    }
    let Some(on_upgrade) = req.upgrade.take() else {
        return Err(Status::bad_request("Upgrade request required"));
    };
    match super::upgrade_kind(req.headers) {
        Some(Upgrade::Spdy(offered)) => {
            let Some(proto) = SPDY_PROTOCOLS
                .iter()
                .find(|p| offered.iter().any(|o| o == *p))
            else {
                return Err(super::no_protocol(&offered, SPDY_PROTOCOLS));
            };
            let v4 = *proto == "v4.channel.k8s.io";
            let slot = super::session_slot()?;
            tokio::spawn(async move {
                let _slot = slot;
                if let Ok(io) = on_upgrade.await {
                    spdy_session(hyper_util::rt::TokioIo::new(io), session, v4).await;
                }
            });
            Ok(super::switching(&[
                ("connection", "Upgrade".into()),
                ("upgrade", "SPDY/3.1".into()),
                ("x-stream-protocol-version", proto.to_string()),
            ]))
        }
        Some(Upgrade::WebSocket(key, offered)) => {
            let Some(proto) = WS_PROTOCOLS
                .iter()
                .find(|p| offered.iter().any(|o| o == *p))
            else {
                return Err(super::no_protocol(&offered, WS_PROTOCOLS));
            };
            let v5 = *proto == "v5.channel.k8s.io";
            let slot = super::session_slot()?;
            tokio::spawn(async move {
                let _slot = slot;
                if let Ok(io) = on_upgrade.await {
                    let socket = ws::server(hyper_util::rt::TokioIo::new(io)).await;
                    ws_session(socket, session, v5).await;
                }
            });
            Ok(ws::switching(&key, proto))
        }
        None => Err(Status::bad_request("Upgrade request required")),
    }
}

fn context(req: &Request<'_>, pod: &Pod, container: &str) -> PodContext {
    let spec = pod.spec.clone().unwrap_or_default();
    let c = spec.containers.iter().find(|c| c.name == container);
    PodContext {
        runtime: req.rt.name().to_string(),
        namespace: super::namespace(pod).to_string(),
        pod: super::name(pod).to_string(),
        image: c.and_then(|c| c.image.clone()).unwrap_or_default(),
        ips: pod
            .status
            .as_ref()
            .and_then(|s| s.pod_ips.as_ref())
            .into_iter()
            .flatten()
            .filter_map(|p| p.ip.parse().ok())
            .collect(),
        env: c
            .and_then(|c| c.env.clone())
            .unwrap_or_default()
            .into_iter()
            .filter_map(|e| e.value.map(|v| (e.name, v)))
            .collect(),
    }
}

fn container_running(pod: &Pod, container: &str) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .into_iter()
        .flatten()
        .any(|c| c.name == container && c.state.as_ref().is_some_and(|s| s.running.is_some()))
}

/// The Status the error stream carries for an exit code (kubelet `ServeExec`).
pub fn exit_status(argv: &[String], code: i32) -> Value {
    if code == 0 {
        return json!({"metadata": {}, "status": "Success"});
    }
    json!({
        "metadata": {},
        "status": "Failure",
        "message": format!(
            "command terminated with non-zero exit code: error executing command [{}], exit code {code}",
            argv.join(" ")
        ),
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": code.to_string()}]},
    })
}

/// `NewInternalError(fmt.Errorf("error executing command in container: %v", err))`.
fn internal(err: &str) -> Value {
    let e = format!("error executing command in container: {err}");
    json!({
        "metadata": {},
        "status": "Failure",
        "message": format!("Internal error occurred: {e}"),
        "reason": "InternalError",
        "details": {"causes": [{"message": e}]},
        "code": 500,
    })
}

/// Runs the session with its streams as duplex pipes; returns the Status for the error stream.
async fn run(
    s: &Session,
    stdin: Option<DuplexStream>,
    stdout: DuplexStream,
    stderr: DuplexStream,
) -> Value {
    let (mut stdin, mut stdout, mut stderr) = (stdin, stdout, stderr);
    let rt = s.ctx.runtime.clone();
    let ns = s.ctx.namespace.clone();
    if s.attach {
        // The container's output from its start (our commands finish before a client could
        // attach), then what it writes until it terminates. A running container that wrote
        // nothing yet has an empty log to follow.
        if s.running && !s.pods.logs.exists(&rt, &ns, &s.ctx.pod, &s.container) {
            s.pods.logs.start(&rt, &ns, &s.ctx.pod, &s.container);
        }
        let snap = s.pods.logs.read(&rt, &ns, &s.ctx.pod, &s.container, true);
        for l in &snap.lines {
            if stdout.write_all(l.render(false).as_bytes()).await.is_err() {
                return json!({"metadata": {}, "status": "Success"});
            }
        }
        if let Some(mut rx) = snap.follow {
            let drain_stdin = async {
                if let Some(i) = stdin.as_mut() {
                    let mut sink = tokio::io::sink();
                    let _ = tokio::io::copy(i, &mut sink).await;
                }
                std::future::pending::<()>().await
            };
            let follow = async {
                loop {
                    match rx.recv().await {
                        Ok(l) => {
                            if stdout.write_all(l.render(false).as_bytes()).await.is_err() {
                                break;
                            }
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(_) => break,
                    }
                }
            };
            tokio::select! {
                _ = follow => {}
                _ = drain_stdin => {}
            }
        }
        let _ = stdout.flush().await;
        return json!({"metadata": {}, "status": "Success"});
    }
    if !s.running {
        return internal("failed to exec in container: container is in CONTAINER_EXITED state");
    }
    let mut io = Stdio {
        stdin: stdin.as_mut().map(|i| i as _),
        stdout: &mut stdout,
        stderr: &mut stderr,
    };
    let r = exec::run(s.pods.network.as_ref(), &s.ctx, &s.command, &mut io).await;
    let _ = stdout.flush().await;
    let _ = stderr.flush().await;
    match r {
        Ok(code) => exit_status(&s.command, code),
        Err(e) => {
            let (sandbox, _) = super::sandbox_of(&s.pod);
            internal(&format!(
                "failed to exec in container: failed to start exec \"{}\": OCI runtime exec failed: exec failed: unable to start container process: {e}: unknown",
                &sandbox
            ))
        }
    }
}

/// Pipes between a transport and the session: what the session reads (stdin) and writes.
const PIPE: usize = 64 * 1024;

async fn spdy_session<IO>(io: IO, s: Session, v4: bool)
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + 'static,
{
    let (mut incoming, tx) = conn::serve(io);
    // The streams the client opens: error first, then stdin/stdout/stderr/resize as asked.
    let mut want: Vec<&str> = vec!["error"];
    if s.stdin {
        want.push("stdin");
    }
    if s.stdout {
        want.push("stdout");
    }
    if s.stderr {
        want.push("stderr");
    }
    if s.tty && v4 {
        want.push("resize");
    }
    let mut got: std::collections::HashMap<String, conn::Stream> = Default::default();
    let deadline = tokio::time::Instant::now() + STREAM_CREATION_TIMEOUT;
    while !want.iter().all(|w| got.contains_key(*w)) {
        match tokio::time::timeout_at(deadline, incoming.recv()).await {
            Ok(Some(st)) => {
                let t = st.header("streamtype").unwrap_or("").to_string();
                got.insert(t, st);
            }
            _ => {
                tx.close().await;
                return;
            }
        }
    }
    let err_id = got["error"].id;
    let out_id = got.get("stdout").map(|st| st.id);
    let errs_id = got.get("stderr").map(|st| st.id);
    let stdin = got.remove("stdin").map(|mut st| {
        let (mine, mut theirs) = tokio::io::duplex(PIPE);
        tokio::spawn(async move {
            while let Some(d) = st.rx.recv().await {
                if theirs.write_all(&d).await.is_err() {
                    break;
                }
            }
            let _ = theirs.shutdown().await;
        });
        mine
    });
    let pump = |id: Option<u32>| {
        let (mine, mut theirs) = tokio::io::duplex(PIPE);
        let tx = tx.clone();
        let task = tokio::spawn(async move {
            let mut buf = vec![0u8; conn::MAX_DATA];
            loop {
                match theirs.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if let Some(id) = id {
                            if !tx.data(id, &buf[..n]).await {
                                break;
                            }
                        }
                    }
                }
            }
        });
        (mine, task)
    };
    let (stdout, out_task) = pump(out_id);
    let (stderr, err_task) = pump(errs_id);
    let closed = tx.clone();
    let status = tokio::select! {
        st = run(&s, stdin, stdout, stderr) => Some(st),
        _ = closed.closed() => None,
    };
    let _ = out_task.await;
    let _ = err_task.await;
    if let Some(st) = status {
        let body = if v4 {
            serde_json::to_vec(&st).unwrap_or_default()
        } else {
            // Before v4 the error stream carries the message as text, nothing on success.
            st["message"].as_str().unwrap_or("").as_bytes().to_vec()
        };
        if !body.is_empty() {
            tx.data(err_id, &body).await;
        }
    }
    for id in [out_id, errs_id, Some(err_id)].into_iter().flatten() {
        tx.fin(id).await;
    }
    tx.close().await;
}

async fn ws_session(socket: ws::Socket, s: Session, v5: bool) {
    let (mut inbound, out) = ws::channels(socket, v5);
    let (stdin_tx, stdin) = if s.stdin {
        let (mine, theirs) = tokio::io::duplex(PIPE);
        (Some(theirs), Some(mine))
    } else {
        (None, None)
    };
    // Inbound: stdin bytes (channel 0) until the v5 close signal or the end; resize ignored.
    let inbound_task = tokio::spawn(async move {
        let mut stdin_tx = stdin_tx;
        while let Some(msg) = inbound.recv().await {
            match msg {
                ws::In::Data(STDIN, d) => {
                    if let Some(w) = stdin_tx.as_mut() {
                        if w.write_all(&d).await.is_err() {
                            stdin_tx = None;
                        }
                    }
                }
                ws::In::Close(STDIN) => {
                    if let Some(mut w) = stdin_tx.take() {
                        let _ = w.shutdown().await;
                    }
                }
                _ => {}
            }
        }
    });
    let pump = |ch: u8, on: bool| {
        let (mine, mut theirs) = tokio::io::duplex(PIPE);
        let out = out.clone();
        let task = tokio::spawn(async move {
            let mut buf = vec![0u8; 32 * 1024];
            loop {
                match theirs.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) if on => {
                        if out
                            .send(ws::Out::Data(ch, buf[..n].to_vec()))
                            .await
                            .is_err()
                        {
                            break;
                        }
                    }
                    Ok(_) => {}
                }
            }
        });
        (mine, task)
    };
    let (stdout, out_task) = pump(STDOUT, s.stdout);
    let (stderr, err_task) = pump(STDERR, s.stderr);
    let gone = out.clone();
    let status = tokio::select! {
        st = run(&s, stdin, stdout, stderr) => Some(st),
        _ = gone.closed() => None,
    };
    let _ = out_task.await;
    let _ = err_task.await;
    if let Some(st) = status {
        let _ = out
            .send(ws::Out::Data(
                ERROR,
                serde_json::to_vec(&st).unwrap_or_default(),
            ))
            .await;
    }
    let _ = out.send(ws::Out::Close).await;
    inbound_task.abort();
}
