//! The web view (`/ui/`): a read-only picture of each runtime's dual-stack topology, live.
//!
//! - `GET /ui/` and its assets: plain HTML, JS and CSS embedded in the binary (no build step,
//!   nothing from a CDN). The page asks for a token; `?token=` is taken on load and removed
//!   from the address bar. Nothing here logs a request's query string.
//! - `GET /twinstack/v1/ui/runtimes`: the runtimes the credential may see (a runtime's token:
//!   its own; the broker's credential: every one), with plan, provider, region, families,
//!   state and ranges per family.
//! - `GET /twinstack/v1/runtimes/{runtime}/topology[?namespace=NS]`: the picture as JSON
//!   ([`topology::Topology`] with the runtime's summary and the revision it was read at).
//! - `GET /twinstack/v1/runtimes/{runtime}/topology/stream[?namespace=NS]`: the same picture as
//!   server-sent events, one `topology` event on open and one after each burst of changes,
//!   driven by the store's watch and the data plane's publications (no polling).
//!
//! Authorized as the data plane's endpoints are ([`crate::dataplane::authorized`]): a token
//! of one runtime opens nothing of another.

pub mod topology;

use crate::dataplane::{authorized, unauthorized};
use crate::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use k8s_openapi::api::core::v1::{Event, Namespace, Node, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;
use twinstack_core::status::Status;
use twinstack_registry::runtimes::{token_eq, Runtime};
use twinstack_store::{StoreError, Watcher};

const INDEX_HTML: &str = include_str!("assets/index.html");
const APP_JS: &str = include_str!("assets/app.js");
const APP_CSS: &str = include_str!("assets/app.css");

/// The page may load only itself and talk only to this origin; it is never framed, and the
/// address (which may carry `?token=` until the script removes it) is never sent as a referrer.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut resp = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// `GET /ui`: to `/ui/`, so the page's relative asset paths resolve; the query goes along.
pub async fn redirect(uri: Uri) -> Response {
    let to = match uri.query() {
        Some(q) => format!("/ui/?{q}"),
        None => "/ui/".to_string(),
    };
    let mut resp = StatusCode::MOVED_PERMANENTLY.into_response();
    if let Ok(v) = HeaderValue::from_str(&to) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    resp
}

pub async fn index() -> Response {
    asset("text/html; charset=utf-8", INDEX_HTML)
}

pub async fn assets(Path(name): Path<String>) -> Response {
    match name.as_str() {
        "app.js" => asset("text/javascript; charset=utf-8", APP_JS),
        "app.css" => asset("text/css; charset=utf-8", APP_CSS),
        "" | "index.html" => asset("text/html; charset=utf-8", INDEX_HTML),
        _ => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("the web view has no file {name:?}"),
        )
            .into_response(),
    }
}

fn answer(code: StatusCode, v: Value) -> Response {
    (
        code,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        v.to_string(),
    )
        .into_response()
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .split_once(' ')
        .filter(|(s, _)| s.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
}

/// A runtime as the runtimes list shows it (never its token).
fn summary(st: &AppState, rt: &Runtime) -> Value {
    let r = &rt.record;
    let n = &r.network;
    let ranges: Vec<Value> = n
        .families
        .iter()
        .map(|f| {
            let of = |nets: &[ipnet::IpNet]| -> Vec<String> {
                nets.iter()
                    .filter(|net| {
                        let v4 = matches!(net, ipnet::IpNet::V4(_));
                        v4 == (f.as_str() == "IPv4")
                    })
                    .map(ToString::to_string)
                    .collect()
            };
            json!({
                "family": f.as_str(),
                "nodes": of(&n.nodes),
                "pods": of(&n.pods),
                "services": of(&n.services),
            })
        })
        .collect();
    json!({
        "name": r.name,
        "plan": r.plan,
        "provider": r.provider.as_str(),
        "region": r.region,
        "families": n.families.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
        "state": st.broker.runtime_state(r),
        "nodes": r.nodes,
        "created": r.created,
        "ranges": ranges,
    })
}

/// `GET /twinstack/v1/ui/runtimes`.
pub async fn runtimes(State(st): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let mut visible: Vec<Arc<Runtime>> = if st.broker.authorized(&headers) {
        st.registry.runtimes()
    } else {
        match bearer(&headers) {
            Some(t) => st
                .registry
                .runtimes()
                .into_iter()
                .filter(|rt| token_eq(t, &rt.record.token))
                .collect(),
            None => Vec::new(),
        }
    };
    if visible.is_empty() {
        return unauthorized();
    }
    visible.sort_by(|a, b| a.name().cmp(b.name()));
    let list: Vec<Value> = visible.iter().map(|rt| summary(&st, rt)).collect();
    answer(
        StatusCode::OK,
        json!({"runtimes": list, "broker": st.broker.authorized(&headers)}),
    )
}

/// The objects of one kind in `ns` (every namespace: `None`), decoded as their typed value.
/// An object that does not decode is left out of the picture, not a failure of it.
fn objects<T: DeserializeOwned>(
    st: &AppState,
    rt: &Runtime,
    group: &str,
    plural: &str,
    ns: Option<&str>,
) -> Result<(Vec<T>, u64), Status> {
    objects_via::<T, T>(st, rt, group, plural, ns, Some)
}

/// [`objects`] through a projection `P`: only the fields the picture reads are decoded, then
/// `into` makes the typed value (or leaves the object out). Pods and events are the bulk of a
/// runtime (10,000 pods carry their managed fields and container statuses; each has four
/// events), and the picture reads a few fields of each.
fn objects_via<P: DeserializeOwned, T>(
    st: &AppState,
    rt: &Runtime,
    group: &str,
    plural: &str,
    ns: Option<&str>,
    into: impl Fn(P) -> Option<T>,
) -> Result<(Vec<T>, u64), Status> {
    let kind = st
        .registry
        .kind(group, plural)
        .ok_or_else(|| Status::internal(format!("no kind {plural}.{group}")))?;
    let (kvs, rev) = st.registry.list_raw(rt, kind.as_ref(), ns)?;
    Ok((
        kvs.iter()
            .filter_map(|kv| serde_json::from_slice::<P>(&kv.value).ok())
            .filter_map(into)
            .collect(),
        rev,
    ))
}

/// What the picture reads of a pod.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct PodHead {
    metadata: MetaHead,
    #[serde(default)]
    spec: Option<PodSpecHead>,
    #[serde(default)]
    status: Option<PodStatusHead>,
}

#[derive(serde::Deserialize)]
struct MetaHead {
    name: Option<String>,
    namespace: Option<String>,
    #[serde(default)]
    annotations: Option<std::collections::BTreeMap<String, String>>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct PodSpecHead {
    node_name: Option<String>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct PodStatusHead {
    phase: Option<String>,
    #[serde(rename = "podIP")]
    pod_ip: Option<String>,
    #[serde(rename = "podIPs", default)]
    pod_ips: Option<Vec<k8s_openapi::api::core::v1::PodIP>>,
}

/// The Warning events about Services: the rest are read only as far as their type and kind.
fn events_about_services(
    st: &AppState,
    rt: &Runtime,
    ns: Option<&str>,
) -> Result<Vec<Event>, Status> {
    let kind = st
        .registry
        .kind("", "events")
        .ok_or_else(|| Status::internal("no kind events"))?;
    let (kvs, _) = st.registry.list_raw(rt, kind.as_ref(), ns)?;
    Ok(kvs
        .iter()
        .filter(|kv| {
            serde_json::from_slice::<EventHead>(&kv.value).is_ok_and(|h| {
                h.type_.as_deref() == Some("Warning")
                    && h.involved_object
                        .is_some_and(|o| o.kind.as_deref() == Some("Service"))
            })
        })
        .filter_map(|kv| serde_json::from_slice(&kv.value).ok())
        .collect())
}

fn pod_of(h: PodHead) -> Option<Pod> {
    use k8s_openapi::api::core::v1::{PodSpec, PodStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    Some(Pod {
        metadata: ObjectMeta {
            name: h.metadata.name,
            namespace: h.metadata.namespace,
            annotations: h.metadata.annotations,
            ..Default::default()
        },
        spec: h.spec.map(|s| PodSpec {
            node_name: s.node_name,
            ..Default::default()
        }),
        status: h.status.map(|s| PodStatus {
            phase: s.phase,
            pod_ip: s.pod_ip,
            pod_ips: s.pod_ips,
            ..Default::default()
        }),
    })
}

/// What tells an event the picture shows (a Warning about a Service) from the rest.
#[derive(serde::Deserialize)]
struct EventHead {
    #[serde(rename = "type")]
    type_: Option<String>,
    #[serde(rename = "involvedObject")]
    involved_object: Option<InvolvedHead>,
}

#[derive(serde::Deserialize)]
struct InvolvedHead {
    kind: Option<String>,
}

/// The picture as the endpoints send it: the topology with the runtime's summary.
#[derive(serde::Serialize)]
struct Picture<'a> {
    #[serde(flatten)]
    topology: &'a topology::Topology,
    runtime: Value,
    namespace: Option<&'a str>,
    namespaces: Vec<String>,
    dataplane: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    revision: Option<String>,
}

/// Reads what the picture needs and builds it: the JSON text of the picture (with the
/// revision it was read at when `with_revision`; the stream leaves it out, to compare pictures)
/// and that revision. Serialized straight from the typed picture: at 10,000 pods an
/// intermediate `Value` tree would cost more than the text.
fn gather(
    st: &AppState,
    rt: &Runtime,
    ns: Option<&str>,
    with_revision: bool,
) -> Result<(String, u64), Status> {
    let (services, rev) = objects::<Service>(st, rt, "", "services", ns)?;
    let (slices, _) = objects::<EndpointSlice>(st, rt, "discovery.k8s.io", "endpointslices", ns)?;
    let (pods, _) = objects_via::<PodHead, Pod>(st, rt, "", "pods", ns, pod_of)?;
    let (nodes, _) = objects::<Node>(st, rt, "", "nodes", None)?;
    let events = events_about_services(st, rt, ns)?;
    let (namespaces, _) = objects::<Namespace>(st, rt, "", "namespaces", None)?;
    let mut frontends = st
        .dataplane
        .as_ref()
        .map(|d| d.frontends(rt.name()))
        .unwrap_or_default();
    if let Some(ns) = ns {
        let prefix = format!("{ns}/");
        frontends.retain(|f| f.service.starts_with(&prefix));
    }
    let t = topology::build(&topology::Inputs {
        services: &services,
        slices: &slices,
        pods: &pods,
        nodes: &nodes,
        events: &events,
        frontends: &frontends,
    });
    let mut names: Vec<String> = namespaces
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .collect();
    names.sort();
    let picture = Picture {
        topology: &t,
        runtime: summary(st, rt),
        namespace: ns,
        namespaces: names,
        dataplane: st.dataplane.is_some(),
        revision: with_revision.then(|| rev.to_string()),
    };
    let text = serde_json::to_string(&picture).map_err(Status::internal)?;
    Ok((text, rev))
}

fn namespace_of(q: &HashMap<String, String>) -> Option<String> {
    q.get("namespace").filter(|n| !n.is_empty()).cloned()
}

/// `GET /twinstack/v1/runtimes/{runtime}/topology`.
pub async fn snapshot(
    State(st): State<Arc<AppState>>,
    Path(runtime): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if !authorized(&st, &runtime, &headers) {
        return unauthorized();
    }
    let Some(rt) = st.registry.runtime(&runtime) else {
        return unauthorized();
    };
    let ns = namespace_of(&q);
    let st2 = st.clone();
    let built = tokio::task::spawn_blocking(move || gather(&st2, &rt, ns.as_deref(), true)).await;
    match built {
        Ok(Ok((text, _))) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            text,
        )
            .into_response(),
        Ok(Err(s)) => status_answer(s),
        Err(_) => status_answer(Status::internal("building the topology failed")),
    }
}

/// A `Status` as the answer (as the API's own errors are).
fn status_answer(s: Status) -> Response {
    let code = StatusCode::from_u16(s.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_string(&s).unwrap_or_default();
    (code, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// How long the stream waits for the rest of a burst before it builds the next picture: a
/// `kubectl scale` or a rollout writes pods, slices and statuses in quick succession, and one
/// picture of the end state serves the page better than one per write.
const QUIET: Duration = Duration::from_millis(40);
/// The longest a burst may hold a picture back: a steady stream of changes still shows.
const MAX_HOLD: Duration = Duration::from_millis(250);
/// A comment line this often keeps proxies from closing an idle stream, and finds a client
/// that has gone.
const KEEPALIVE: Duration = Duration::from_secs(25);

/// The resources whose changes alter the picture (their storage names, as in the keys).
const WATCHED: &[&str] = &[
    "services/specs",
    "endpointslices",
    "pods",
    "minions",
    "events",
    "namespaces",
];

/// Whether the store key `key` (`/registry/RT/RESOURCE/[NS/]NAME`) is of a resource the
/// picture shows, in the namespace shown (every namespace: `None`).
fn relevant(prefix: &str, key: &str, ns: Option<&str>) -> bool {
    let Some(rest) = key.strip_prefix(prefix) else {
        return false;
    };
    WATCHED.iter().any(|r| {
        rest.strip_prefix(r)
            .and_then(|t| t.strip_prefix('/'))
            .is_some_and(|t| match ns {
                // Cluster-scoped kinds (nodes, namespaces) are in every namespace's picture.
                Some(ns) if !matches!(*r, "minions" | "namespaces") => {
                    t.strip_prefix(ns).is_some_and(|t| t.starts_with('/'))
                }
                _ => true,
            })
    })
}

struct Stream {
    st: Arc<AppState>,
    runtime: String,
    ns: Option<String>,
    prefix: String,
    watcher: Option<Watcher>,
    frontends: Option<tokio::sync::watch::Receiver<u64>>,
    last_sent: Option<u64>,
    first: bool,
}

enum Wake {
    Changed,
    Keepalive,
    /// The store shut down, or the runtime is gone.
    End,
}

impl Stream {
    fn watch(&mut self) {
        let rev = self.st.registry.store.current_revision();
        self.watcher = self.st.registry.store.watch(&self.prefix, rev).ok();
    }

    /// Waits for a change the picture shows (or the keepalive).
    async fn wake(&mut self) -> Wake {
        let keepalive = tokio::time::sleep(KEEPALIVE);
        tokio::pin!(keepalive);
        loop {
            if self.watcher.is_none() {
                self.watch();
                if self.watcher.is_none() {
                    return Wake::End;
                }
            }
            let w = self.watcher.as_mut().expect("set above");
            let fe = self.frontends.as_mut();
            tokio::select! {
                _ = &mut keepalive => return Wake::Keepalive,
                changed = async { match fe { Some(r) => r.changed().await.is_ok(), None => std::future::pending().await } } => {
                    if changed { return Wake::Changed; }
                    self.frontends = None;
                }
                ev = w.next() => match ev {
                    Some(Ok(ev)) if relevant(&self.prefix, &ev.kv.key, self.ns.as_deref()) => return Wake::Changed,
                    Some(Ok(_)) => {}
                    // Behind the store: start again from now; the next picture is read whole.
                    Some(Err(StoreError::WatcherLagged { .. })) => {
                        self.watcher = None;
                        return Wake::Changed;
                    }
                    Some(Err(_)) | None => return Wake::End,
                },
            }
        }
    }

    /// Takes the rest of a burst: returns once no relevant change came for [`QUIET`], or
    /// [`MAX_HOLD`] after the burst began.
    async fn settle(&mut self) {
        let deadline = tokio::time::Instant::now() + MAX_HOLD;
        loop {
            let quiet = tokio::time::Instant::now() + QUIET;
            let until = quiet.min(deadline);
            match tokio::time::timeout_at(until, self.wake()).await {
                Ok(Wake::Changed) if tokio::time::Instant::now() < deadline => continue,
                _ => return,
            }
        }
    }

    /// The next frame for the client: a picture that differs from the last one sent, or a
    /// keepalive comment; `None` ends the stream.
    async fn next_frame(&mut self) -> Option<Bytes> {
        loop {
            if !self.first {
                match self.wake().await {
                    Wake::End => return None,
                    Wake::Keepalive => return Some(Bytes::from_static(b": keepalive\n\n")),
                    Wake::Changed => self.settle().await,
                }
            }
            self.first = false;
            let rt = self.st.registry.runtime(&self.runtime)?;
            let st = self.st.clone();
            let ns = self.ns.clone();
            let (text, rev) =
                match tokio::task::spawn_blocking(move || gather(&st, &rt, ns.as_deref(), false))
                    .await
                {
                    Ok(Ok(built)) => built,
                    Ok(Err(s)) => {
                        let body = json!({"error": s.reason, "description": s.message});
                        return Some(Bytes::from(format!("event: error\ndata: {body}\n\n")));
                    }
                    Err(_) => return None,
                };
            let mut h = std::collections::hash_map::DefaultHasher::new();
            text.hash(&mut h);
            let digest = h.finish();
            if self.last_sent == Some(digest) {
                continue;
            }
            self.last_sent = Some(digest);
            // `data:` is one line: serde_json's compact text has no newline.
            return Some(Bytes::from(format!(
                "event: topology\nid: {rev}\ndata: {{\"revision\":\"{rev}\",\"topology\":{text}}}\n\n"
            )));
        }
    }
}

/// One picture builder per (server, runtime, namespace), shared by every open stream of it:
/// ten pages of one namespace cost one read of it per change, not ten. It lives while a stream
/// holds it; its task ends when the last one goes.
struct Hub {
    latest: tokio::sync::watch::Receiver<Option<Bytes>>,
}

type HubKey = (usize, String, Option<String>);

static HUBS: std::sync::LazyLock<std::sync::Mutex<HashMap<HubKey, std::sync::Weak<Hub>>>> =
    std::sync::LazyLock::new(Default::default);

fn hub(st: &Arc<AppState>, runtime: &str, ns: Option<String>) -> Arc<Hub> {
    // The server's state is part of the key: tests run several servers in one process.
    let key = (Arc::as_ptr(st) as usize, runtime.to_string(), ns.clone());
    let mut hubs = HUBS.lock().unwrap_or_else(|e| e.into_inner());
    hubs.retain(|_, w| w.strong_count() > 0);
    if let Some(h) = hubs.get(&key).and_then(std::sync::Weak::upgrade) {
        return h;
    }
    let (tx, rx) = tokio::sync::watch::channel(None);
    let h = Arc::new(Hub { latest: rx });
    hubs.insert(key, Arc::downgrade(&h));
    let mut b = Stream {
        prefix: format!("/registry/{runtime}/"),
        frontends: st.dataplane.as_ref().map(|d| d.changes()),
        st: st.clone(),
        runtime: runtime.to_string(),
        ns,
        watcher: None,
        last_sent: None,
        first: true,
    };
    // Watch before the first picture is read: no change between the two is missed.
    b.watch();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                frame = b.next_frame() => match frame {
                    // Keepalives are each client's own (below); the hub keeps pictures.
                    Some(f) if f.starts_with(b":") => {}
                    Some(f) => {
                        if tx.send(Some(f)).is_err() {
                            return;
                        }
                    }
                    // The runtime is gone or the store shut down: the streams end.
                    None => return,
                },
                _ = tx.closed() => return,
            }
        }
    });
    h
}

/// `GET /twinstack/v1/runtimes/{runtime}/topology/stream`: `text/event-stream`.
///
/// Each client gets the latest picture on open and after each change; a client that reads
/// slowly skips the pictures it had no time for (only the latest waits for it), so nothing
/// queues on the server for it.
pub async fn stream(
    State(st): State<Arc<AppState>>,
    Path(runtime): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if !authorized(&st, &runtime, &headers) {
        return unauthorized();
    }
    let h = hub(&st, &runtime, namespace_of(&q));
    let mut rx = h.latest.clone();
    rx.mark_changed();
    let body = futures::stream::unfold((h, rx), |(h, mut rx)| async move {
        let frame = tokio::select! {
            changed = rx.changed() => {
                changed.ok()?;
                let latest = rx.borrow_and_update().clone();
                // No picture yet (a new hub): the first is on its way; nothing is sent.
                latest.unwrap_or_default()
            }
            _ = tokio::time::sleep(KEEPALIVE) => Bytes::from_static(b": keepalive\n\n"),
        };
        Some((Ok::<_, std::convert::Infallible>(frame), (h, rx)))
    });
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

#[cfg(test)]
mod tests;
