//! The pods' streaming subresources: `pods/log` (kube-apiserver `pkg/registry/core/pod/rest/log.go`
//! and kubelet's log reader), `pods/exec` and `pods/attach` (kubelet's
//! `pkg/kubelet/cri/streaming/remotecommand`), and `pods/portforward` (its `portforward`), over
//! the protocols kubectl 1.27–1.33 speak: SPDY/3.1 after an HTTP/1.1 upgrade ([`spdy`],
//! [`conn`]) and WebSocket (`v5.channel.k8s.io`, `v4.channel.k8s.io`, and
//! `SPDY/3.1+portforward.k8s.io` tunnelling SPDY, KEP-4006) ([`ws`]).
//!
//! Start at [`serve`]: the handler has already authenticated the runtime's token; this module
//! checks the pod and container as the apiserver's `LogLocation`/`ExecLocation` do, then
//! answers or upgrades. What runs is [`twinstack_dataplane::pods`]'s.

pub mod conn;
pub mod dictionary;
pub mod portforward;
pub mod remotecommand;
pub mod spdy;
pub mod ws;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use hyper::upgrade::OnUpgrade;
use k8s_openapi::api::core::v1::Pod;
use std::sync::Arc;
use twinstack_core::status::Status;
use twinstack_dataplane::pods::logs::{self, LogOptions};
use twinstack_dataplane::pods::Pods;
use twinstack_registry::runtimes::Runtime;

/// Streaming sessions (exec, attach, port-forward connections) open at once, over every
/// runtime: an upgraded connection leaves the HTTPS server's connection limit, so it is bounded
/// here.
pub const MAX_SESSIONS: usize = 1024;

static SESSIONS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(MAX_SESSIONS);

/// A slot for one streaming session, or 429 when all are taken.
pub(crate) fn session_slot() -> Result<tokio::sync::SemaphorePermit<'static>, Status> {
    SESSIONS.try_acquire().map_err(|_| {
        let mut s = Status::bad_request("too many streaming sessions, please try again later");
        s.code = 429;
        s.reason = "TooManyRequests".into();
        s
    })
}

/// The streaming subresources of pods.
pub const SUBRESOURCES: &[&str] = &["log", "exec", "attach", "portforward"];

/// What a streaming request carries besides the pod.
pub struct Request<'a> {
    /// The runtime.
    pub rt: Arc<Runtime>,
    /// GET or POST.
    pub method: &'a Method,
    /// The request's headers.
    pub headers: &'a HeaderMap,
    /// The query's pairs, repeated names kept (`command=sh&command=-c`).
    pub query: Vec<(String, String)>,
    /// The HTTP/1.1 connection, for an upgrade.
    pub upgrade: Option<OnUpgrade>,
}

impl Request<'_> {
    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn flag(&self, name: &str) -> bool {
        self.param(name)
            .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "1" | "t"))
    }
}

/// Serves `sub` of pod `pod`.
pub async fn serve(pods: &Pods, req: Request<'_>, sub: &str, pod: Pod) -> Result<Response, Status> {
    let method_ok = match sub {
        "log" => matches!(*req.method, Method::GET | Method::HEAD),
        _ => matches!(*req.method, Method::GET | Method::POST),
    };
    if !method_ok {
        return Err(Status::method_not_allowed(
            req.method.as_str(),
            twinstack_core::status::Subject {
                group: "",
                resource: "pods",
                kind: "Pod",
            },
        ));
    }
    match sub {
        "log" => log(pods, &req, &pod).await,
        "exec" | "attach" => {
            let container = validate_container(req.param("container").unwrap_or(""), &pod)?;
            if node_name(&pod).is_empty() {
                return Err(Status::bad_request(format!(
                    "pod {} does not have a host assigned",
                    name(&pod)
                )));
            }
            remotecommand::upgrade(pods.clone(), req, sub == "attach", pod, container)
        }
        _ => {
            if node_name(&pod).is_empty() {
                return Err(Status::bad_request(format!(
                    "pod {} does not have a host assigned",
                    name(&pod)
                )));
            }
            portforward::upgrade(pods.clone(), req, pod)
        }
    }
}

fn name(pod: &Pod) -> &str {
    pod.metadata.name.as_deref().unwrap_or("")
}

fn namespace(pod: &Pod) -> &str {
    pod.metadata.namespace.as_deref().unwrap_or("")
}

fn node_name(pod: &Pod) -> &str {
    pod.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .unwrap_or("")
}

/// apiserver `validateContainer` (pkg/registry/core/pod/strategy.go): the one container when
/// none is named, else the named one among all containers.
pub fn validate_container(container: &str, pod: &Pod) -> Result<String, Status> {
    let spec = pod.spec.clone().unwrap_or_default();
    if container.is_empty() {
        return match spec.containers.len() {
            1 => Ok(spec.containers[0].name.clone()),
            0 => Err(Status::bad_request(format!(
                "pod {} does not have a container",
                name(pod)
            ))),
            _ => {
                // Every container kind, in VisitContainers' order (init, regular, ephemeral).
                let names: Vec<&str> = spec
                    .init_containers
                    .iter()
                    .flatten()
                    .map(|c| c.name.as_str())
                    .chain(spec.containers.iter().map(|c| c.name.as_str()))
                    .chain(
                        spec.ephemeral_containers
                            .iter()
                            .flatten()
                            .map(|c| c.name.as_str()),
                    )
                    .collect();
                Err(Status::bad_request(format!(
                    "a container name must be specified for pod {}, choose one of: [{}]",
                    name(pod),
                    names.join(" ")
                )))
            }
        };
    }
    let known = spec
        .init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter())
        .any(|c| c.name == container)
        || spec
            .ephemeral_containers
            .iter()
            .flatten()
            .any(|c| c.name == container);
    if known {
        Ok(container.to_string())
    } else {
        Err(Status::bad_request(format!(
            "container {container} is not valid for pod {}",
            name(pod)
        )))
    }
}

/// kubelet `validateContainerLogStatus` (pkg/kubelet/kubelet_pods.go): whether the container's
/// log can be read, and the error text when not.
pub fn container_log_status(pod: &Pod, container: &str, previous: bool) -> Result<(), Status> {
    let statuses = pod.status.as_ref().map(|s| {
        s.init_container_statuses
            .iter()
            .flatten()
            .chain(s.container_statuses.iter().flatten())
            .chain(s.ephemeral_container_statuses.iter().flatten())
            .cloned()
            .collect::<Vec<_>>()
    });
    let pod_name = name(pod);
    let Some(cs) = statuses
        .unwrap_or_default()
        .into_iter()
        .find(|c| c.name == container)
    else {
        return Err(Status::bad_request(format!(
            "container \"{container}\" in pod \"{pod_name}\" is waiting to start: ContainerCreating"
        )));
    };
    let last_terminated = cs
        .last_state
        .as_ref()
        .and_then(|s| s.terminated.as_ref())
        .is_some_and(|t| t.container_id.as_deref().is_some_and(|i| !i.is_empty()));
    if previous {
        if !last_terminated {
            return Err(Status::bad_request(format!(
                "previous terminated container \"{container}\" in pod \"{pod_name}\" not found"
            )));
        }
        return Ok(());
    }
    let state = cs.state.unwrap_or_default();
    if state.running.is_some() || state.terminated.is_some() {
        return Ok(());
    }
    if let Some(w) = state.waiting {
        if !last_terminated {
            let reason = w.reason.unwrap_or_default();
            return Err(Status::bad_request(format!(
                "container \"{container}\" in pod \"{pod_name}\" is waiting to start: {reason}"
            )));
        }
    }
    Ok(())
}

/// `PodLogOptions` from the query (upstream's `ValidatePodLogOptions` texts for bad numbers).
fn log_options(req: &Request<'_>, pod: &Pod) -> Result<LogOptions, Status> {
    let int = |k: &str| -> Result<Option<i64>, Status> {
        match req.param(k) {
            None | Some("") => Ok(None),
            Some(v) => v.parse::<i64>().map(Some).map_err(|_| {
                Status::bad_request(format!("strconv.ParseInt: parsing \"{v}\": invalid syntax"))
            }),
        }
    };
    let tail = int("tailLines")?;
    let since_seconds = int("sinceSeconds")?;
    let limit = int("limitBytes")?;
    let mut errs = Vec::new();
    use twinstack_core::field::{BadValue, FieldError, Path};
    if let Some(t) = tail.filter(|t| *t < 0) {
        errs.push(FieldError::invalid(
            &Path::new("tailLines"),
            BadValue::Plain(t.to_string()),
            "must be greater than or equal to 0",
        ));
    }
    if let Some(l) = limit.filter(|l| *l < 1) {
        errs.push(FieldError::invalid(
            &Path::new("limitBytes"),
            BadValue::Plain(l.to_string()),
            "must be greater than 0",
        ));
    }
    if let Some(s) = since_seconds.filter(|s| *s < 1) {
        errs.push(FieldError::invalid(
            &Path::new("sinceSeconds"),
            BadValue::Plain(s.to_string()),
            "must be greater than 0",
        ));
    }
    let since_time = match req.param("sinceTime") {
        Some(t) if !t.is_empty() => Some(
            t.parse::<jiff::Timestamp>()
                .map_err(|e| Status::bad_request(format!("parsing time \"{t}\": {e}")))?,
        ),
        _ => None,
    };
    if since_time.is_some() && since_seconds.is_some() {
        errs.push(FieldError::forbidden(
            &Path::new(""),
            "at most one of `sinceTime` or `sinceSeconds` may be specified",
        ));
    }
    if !errs.is_empty() {
        return Err(Status::invalid(
            name(pod),
            twinstack_core::status::Subject {
                group: "",
                resource: "PodLogOptions",
                kind: "PodLogOptions",
            },
            &errs,
        ));
    }
    let now = jiff::Timestamp::now();
    Ok(LogOptions {
        timestamps: req.flag("timestamps"),
        tail_lines: tail,
        since: since_time.or_else(|| {
            since_seconds.and_then(|s| now.checked_sub(jiff::SignedDuration::from_secs(s)).ok())
        }),
        limit_bytes: limit,
    })
}

async fn log(pods: &Pods, req: &Request<'_>, pod: &Pod) -> Result<Response, Status> {
    let container = validate_container(req.param("container").unwrap_or(""), pod)?;
    let opts = log_options(req, pod)?;
    let text_plain = |body: Body| {
        let mut r = (StatusCode::OK, body).into_response();
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        r
    };
    // A pod not bound to a node has no log to stream: an empty body (LocationStreamer without
    // a location).
    if node_name(pod).is_empty() {
        return Ok(text_plain(Body::empty()));
    }
    let previous = req.flag("previous");
    container_log_status(pod, &container, previous)?;
    let follow = req.flag("follow") && !previous;
    // A running container that has written nothing yet (a server before its first access
    // line) has an empty log to follow.
    let running = pod
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .into_iter()
        .flatten()
        .any(|c| c.name == container && c.state.as_ref().is_some_and(|s| s.running.is_some()));
    if follow
        && running
        && !pods
            .logs
            .exists(req.rt.name(), namespace(pod), name(pod), &container)
    {
        pods.logs
            .start(req.rt.name(), namespace(pod), name(pod), &container);
    }
    let snap = pods
        .logs
        .read(req.rt.name(), namespace(pod), name(pod), &container, follow);
    let (first, left) = logs::select(&snap.lines, &opts);
    let Some(rx) = snap.follow.filter(|_| left != Some(0)) else {
        return Ok(text_plain(Body::from(first)));
    };
    let timestamps = opts.timestamps;
    let stream = futures::stream::unfold(
        (Some(first), rx, left),
        move |(first, mut rx, left)| async move {
            if let Some(f) = first {
                return Some((Ok::<_, std::convert::Infallible>(f), (None, rx, left)));
            }
            if left == Some(0) {
                return None;
            }
            loop {
                match rx.recv().await {
                    Ok(line) => {
                        let mut text = line.render(timestamps);
                        let mut left = left;
                        if let Some(max) = left {
                            if text.len() > max {
                                let cut = text.as_bytes()[..max].to_vec();
                                text = String::from_utf8_lossy(&cut).into_owned();
                            }
                            left = Some(max - text.len().min(max));
                        }
                        return Some((Ok(text), (None, rx, left)));
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(_) => return None,
                }
            }
        },
    );
    Ok(text_plain(Body::from_stream(stream)))
}

/// Header values as a list (comma-separated, repeated headers too).
pub(crate) fn header_list(headers: &HeaderMap, name: &str) -> Vec<String> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect()
}

/// Which upgrade the client asks for.
pub(crate) enum Upgrade {
    /// `Upgrade: SPDY/3.1`, with the protocols of `X-Stream-Protocol-Version`.
    Spdy(Vec<String>),
    /// `Upgrade: websocket`, with `Sec-WebSocket-Key` and the protocols of
    /// `Sec-WebSocket-Protocol`.
    WebSocket(String, Vec<String>),
}

pub(crate) fn upgrade_kind(headers: &HeaderMap) -> Option<Upgrade> {
    let up = headers
        .get(header::UPGRADE)?
        .to_str()
        .ok()?
        .to_ascii_lowercase();
    if up.starts_with("spdy/3.1") {
        return Some(Upgrade::Spdy(header_list(
            headers,
            "x-stream-protocol-version",
        )));
    }
    if up == "websocket" {
        let key = headers
            .get(header::SEC_WEBSOCKET_KEY)?
            .to_str()
            .ok()?
            .to_string();
        return Some(Upgrade::WebSocket(
            key,
            header_list(headers, "sec-websocket-protocol"),
        ));
    }
    None
}

/// `101 Switching Protocols` with these headers.
pub(crate) fn switching(headers: &[(&'static str, String)]) -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    for (k, v) in headers {
        if let Ok(v) = HeaderValue::from_str(v) {
            r.headers_mut().insert(*k, v);
        }
    }
    r
}

/// upstream's answer when no protocol matches (`httpstream.Handshake`): 403 with the text.
pub(crate) fn no_protocol(offered: &[String], supported: &[&str]) -> Status {
    let mut s = Status::bad_request(format!(
        "unable to upgrade: unable to negotiate protocol: client supports {offered:?}, server supports {supported:?}"
    ));
    s.code = 403;
    s.reason = "Forbidden".into();
    s
}

/// The sandbox id and network namespace path containerd would give the pod (for upstream's
/// error texts), derived from its uid.
pub(crate) fn sandbox_of(pod: &Pod) -> (String, String) {
    let uid = pod.metadata.uid.as_deref().unwrap_or("");
    let h = |salt: &str| twinstack_core::hash::fnv1a64(&format!("{salt}{uid}"));
    let id = format!(
        "{:016x}{:016x}{:016x}{:016x}",
        h("a"),
        h("b"),
        h("c"),
        h("d")
    );
    let n = format!("{:016x}{:016x}", h("n"), h("m"));
    let netns = format!(
        "/var/run/netns/cni-{}-{}-{}-{}-{}",
        &n[0..8],
        &n[8..12],
        &n[12..16],
        &n[16..20],
        &n[20..32]
    );
    (id, netns)
}

#[cfg(test)]
mod tests;
