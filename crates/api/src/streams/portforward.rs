//! `pods/portforward`: kubelet's port-forward server (`pkg/kubelet/cri/streaming/portforward/
//! httpstream.go`) over SPDY (`portforward.k8s.io`), and the same SPDY connection tunnelled in a
//! WebSocket (`SPDY/3.1+portforward.k8s.io`, KEP-4006). Each forwarded connection is a pair of
//! streams with one `requestID`: `error` and `data`, with the `port` header; the data is carried
//! to `Network::connect(runtime, pod IP, pod IP:port)`, the pod's own localhost.

use super::{conn, ws, Request, Upgrade};
use axum::response::Response;
use k8s_openapi::api::core::v1::Pod;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use twinstack_core::status::Status;
use twinstack_dataplane::pods::Pods;

/// The SPDY protocol of port-forwarding.
pub const SPDY_PROTOCOL: &str = "portforward.k8s.io";
/// The WebSocket protocol tunnelling it.
pub const WS_PROTOCOL: &str = "SPDY/3.1+portforward.k8s.io";

struct Target {
    pods: Pods,
    runtime: String,
    ip: Option<IpAddr>,
    sandbox: String,
    netns: String,
}

/// Answers the upgrade and serves the port-forward connection.
pub fn upgrade(pods: Pods, mut req: Request<'_>, pod: Pod) -> Result<Response, Status> {
    let (sandbox, netns) = super::sandbox_of(&pod);
    let target = Target {
        pods,
        runtime: req.rt.name().to_string(),
        ip: pod
            .status
            .as_ref()
            .and_then(|s| s.pod_ips.as_ref())
            .and_then(|ips| ips.first())
            .and_then(|p| p.ip.parse().ok()),
        sandbox,
        netns,
    };
    let Some(on_upgrade) = req.upgrade.take() else {
        return Err(Status::bad_request("Upgrade request required"));
    };
    match super::upgrade_kind(req.headers) {
        Some(Upgrade::Spdy(offered)) => {
            if !offered.iter().any(|o| o == SPDY_PROTOCOL) {
                return Err(super::no_protocol(&offered, &[SPDY_PROTOCOL]));
            }
            let slot = super::session_slot()?;
            tokio::spawn(async move {
                let _slot = slot;
                if let Ok(io) = on_upgrade.await {
                    serve(hyper_util::rt::TokioIo::new(io), target).await;
                }
            });
            Ok(super::switching(&[
                ("connection", "Upgrade".into()),
                ("upgrade", "SPDY/3.1".into()),
                ("x-stream-protocol-version", SPDY_PROTOCOL.into()),
            ]))
        }
        Some(Upgrade::WebSocket(key, offered)) => {
            if !offered.iter().any(|o| o == WS_PROTOCOL) {
                return Err(super::no_protocol(&offered, &[WS_PROTOCOL]));
            }
            let slot = super::session_slot()?;
            tokio::spawn(async move {
                let _slot = slot;
                if let Ok(io) = on_upgrade.await {
                    let socket = ws::server(hyper_util::rt::TokioIo::new(io)).await;
                    serve(ws::tunnel(socket), target).await;
                }
            });
            Ok(ws::switching(&key, WS_PROTOCOL))
        }
        None => Err(Status::bad_request("Upgrade request required")),
    }
}

/// Pairs the streams by `requestID` and forwards each pair.
async fn serve<IO>(io: IO, target: Target)
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + 'static,
{
    let (mut incoming, tx) = conn::serve(io);
    let target = std::sync::Arc::new(target);
    let mut pending: HashMap<String, (Option<conn::Stream>, Option<conn::Stream>)> = HashMap::new();
    while let Some(st) = incoming.recv().await {
        let id = st.header("requestid").unwrap_or("").to_string();
        let kind = st.header("streamtype").unwrap_or("").to_string();
        if pending.len() >= conn::MAX_STREAMS {
            tx.reset(st.id).await;
            continue;
        }
        let slot = pending.entry(id.clone()).or_default();
        match kind.as_str() {
            "error" => slot.0 = Some(st),
            "data" => slot.1 = Some(st),
            _ => {
                tx.reset(st.id).await;
                continue;
            }
        }
        if let (Some(_), Some(_)) = slot {
            let (Some(err), Some(data)) = pending.remove(&id).unwrap_or_default() else {
                continue;
            };
            tokio::spawn(forward(target.clone(), tx.clone(), err, data));
        }
    }
    tx.close().await;
}

/// The text kubelet writes on the error stream when the pod's port refuses (containerd's
/// `portForward` inside kubelet's `error forwarding port`).
pub fn refused_message(port: u16, sandbox: &str, netns: &str, e: &std::io::Error) -> String {
    let why = match e.kind() {
        std::io::ErrorKind::ConnectionRefused => "connect: connection refused".to_string(),
        std::io::ErrorKind::TimedOut => "i/o timeout".to_string(),
        _ => e.to_string(),
    };
    format!(
        "error forwarding port {port} to pod {sandbox}, uid : failed to execute portforward in network namespace \"{netns}\": failed to connect to localhost:{port} inside namespace \"{sandbox}\", IPv4: dial tcp4 127.0.0.1:{port}: {why} IPv6 dial tcp6 [::1]:{port}: {why} "
    )
}

async fn forward(
    t: std::sync::Arc<Target>,
    tx: conn::Sender,
    err: conn::Stream,
    mut data: conn::Stream,
) {
    let port = data
        .header("port")
        .and_then(|p| p.parse::<u16>().ok())
        .filter(|p| *p > 0);
    let Some(port) = port else {
        let msg = format!(
            "error forwarding port {} to pod {}, uid : invalid port",
            data.header("port").unwrap_or(""),
            t.sandbox
        );
        tx.data(err.id, msg.as_bytes()).await;
        tx.fin(err.id).await;
        tx.fin(data.id).await;
        return;
    };
    let connected = match t.ip {
        Some(ip) => {
            t.pods
                .network
                .connect(&t.runtime, ip, SocketAddr::new(ip, port))
                .await
        }
        None => Err(std::io::ErrorKind::NetworkUnreachable.into()),
    };
    let conn = match connected {
        Ok(c) => c,
        Err(e) => {
            let msg = refused_message(port, &t.sandbox, &t.netns, &e);
            tx.data(err.id, msg.as_bytes()).await;
            tx.fin(err.id).await;
            tx.fin(data.id).await;
            return;
        }
    };
    let (mut rd, mut wr) = tokio::io::split(conn);
    // Client to pod, until the client half-closes the data stream; it may outlive the pod's
    // side (the client closes only after the error stream ends, as kubelet's `portForward`
    // closes both streams when the pod's side is done).
    tokio::spawn(async move {
        while let Some(d) = data.rx.recv().await {
            if wr.write_all(&d).await.is_err() {
                break;
            }
        }
        let _ = wr.shutdown().await;
    });
    let mut buf = vec![0u8; conn::MAX_DATA];
    loop {
        match rd.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if !tx.data(data.id, &buf[..n]).await {
                    break;
                }
            }
        }
    }
    tx.fin(data.id).await;
    tx.fin(err.id).await;
}
