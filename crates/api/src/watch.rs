//! Watch streams: `{"type":…,"object":…}` lines, from a resourceVersion or from a synthetic
//! initial state, filtered by selectors (objects moving out of a selector are DELETED, into it
//! ADDED, as the apiserver's watch cache does), as JSON objects or one-row Tables.
//!
//! Each watch has a bounded send buffer ([`Outbox`]): a client that stops reading is ended, as
//! kube-apiserver's cacher ends an unresponsive watcher, instead of being buffered without end.

use crate::negotiate::Output;
use crate::state::AppState;
use crate::tables::table_of;
use axum::body::{Body, Bytes};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use twinstack_core::selector::{FieldSelector, LabelSelector};
use twinstack_core::status::Status;
use twinstack_registry::kinds::Kind;
use twinstack_registry::registry::collection_prefix;
use twinstack_registry::registry::matches;
use twinstack_registry::runtimes::Runtime;
use twinstack_store::{Event, EventKind, StoreError};

struct Encoder {
    kind: Arc<dyn Kind>,
    rt: Arc<Runtime>,
    output: Output,
    query: HashMap<String, String>,
    sent_columns: bool,
}

impl Encoder {
    fn line(&mut self, ty: &str, obj: Value) -> Bytes {
        let object = match self.output {
            Output::Table if ty != "ERROR" && ty != "BOOKMARK" => {
                let rv = obj
                    .pointer("/metadata/resourceVersion")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let t = table_of(
                    self.kind.as_ref(),
                    &[obj],
                    &rv,
                    &self.query,
                    !self.sent_columns,
                );
                self.sent_columns = true;
                t
            }
            _ => obj,
        };
        let mut b = serde_json::to_vec(&json!({"type": ty, "object": object})).unwrap();
        b.push(b'\n');
        Bytes::from(b)
    }

    fn decode(&self, raw: &[u8], rv: u64) -> Option<Value> {
        let mut v: Value = serde_json::from_slice(raw).ok()?;
        self.kind.on_read(&self.rt, &mut v);
        if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
            m.insert("resourceVersion".into(), Value::String(rv.to_string()));
        }
        Some(v)
    }

    fn bookmark(&mut self, rv: u64, initial_end: bool) -> Bytes {
        let mut meta = json!({"resourceVersion": rv.to_string()});
        if initial_end {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let obj = json!({"kind": self.kind.info().kind, "apiVersion": self.kind.info().api_version(), "metadata": meta});
        self.line("BOOKMARK", obj)
    }
}

/// The JSON watch line of a put event built from the stored bytes; `None` when the stored
/// resourceVersion is not the event's (then the event is decoded and re-encoded).
fn raw_line(ev: &Event) -> Option<Bytes> {
    let ty = if ev.prev.is_some() {
        "MODIFIED"
    } else {
        "ADDED"
    };
    let rv = format!("\"resourceVersion\":\"{}\"", ev.revision);
    // The cheap check: the stored object carries this revision as its resourceVersion.
    if !ev.kv.value.windows(rv.len()).any(|w| w == rv.as_bytes()) {
        return None;
    }
    let mut b = Vec::with_capacity(ev.kv.value.len() + 32);
    b.extend_from_slice(b"{\"type\":\"");
    b.extend_from_slice(ty.as_bytes());
    b.extend_from_slice(b"\",\"object\":");
    b.extend_from_slice(&ev.kv.value);
    b.extend_from_slice(b"}\n");
    Some(Bytes::from(b))
}

/// Bytes of live events that may wait for one watch's client. A client further behind is not
/// reading: its watch is ended (see [`Outbox`]). Upstream buffers 10 to 1,000 events per
/// watcher (`suggestedWatchChannelSize`, about a second of history) as pointers into its watch
/// cache; here each watcher holds its own encoded lines, so the bound is in bytes: 4 MiB is
/// seconds of a busy collection's events, and 40 stalled watchers hold at most 160 MiB.
pub const LIVE_BUFFER_BYTES: usize = 4 * 1024 * 1024;

/// A watch's send buffer, between the task that follows the store and the response body.
///
/// Lines of the initial state (synthetic ADDED events, or the events replayed from the log for a
/// watch from a resourceVersion) wait for room, as upstream sends its initial events blocking.
/// Live events never wait: when a client lets more than [`LIVE_BUFFER_BYTES`] of them pile up,
/// its watcher is ended and the queued lines dropped (upstream's cacher: "Forcing watcher close
/// due to unresponsiveness"). The client sees its stream end cleanly after the events it did
/// take, and watches again from the last resourceVersion it saw, or re-lists on 410.
struct Outbox {
    queue: Mutex<Queue>,
    /// Wakes the body: a line was queued, or the stream ended.
    readable: Notify,
    /// Wakes the producer waiting for room for the initial state.
    room: Notify,
    /// Wakes the producer when the client has gone away.
    left: Notify,
}

#[derive(Default)]
struct Queue {
    lines: VecDeque<Bytes>,
    /// How many lines at the front belong to the initial state, and their bytes.
    initial: usize,
    initial_bytes: usize,
    live_bytes: usize,
    ended: bool,
    /// The response body is gone: the client disconnected.
    gone: bool,
}

/// What became of a live line offered to the [`Outbox`].
#[derive(Debug, PartialEq)]
enum Offer {
    Queued,
    /// The client has more than [`LIVE_BUFFER_BYTES`] waiting: it is not reading.
    Full,
    Gone,
}

impl Outbox {
    fn new() -> Arc<Outbox> {
        Arc::new(Outbox {
            queue: Mutex::default(),
            readable: Notify::new(),
            room: Notify::new(),
            left: Notify::new(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a line of the initial state once there is room; `false` if the client is gone.
    async fn send_initial(&self, line: Bytes) -> bool {
        loop {
            {
                let mut q = self.lock();
                if q.gone {
                    return false;
                }
                if q.initial_bytes == 0 || q.initial_bytes + line.len() <= LIVE_BUFFER_BYTES {
                    debug_assert_eq!(q.initial, q.lines.len(), "initial lines come first");
                    q.initial += 1;
                    q.initial_bytes += line.len();
                    q.lines.push_back(line);
                    drop(q);
                    self.readable.notify_one();
                    return true;
                }
            }
            // A permit is stored if the body takes a line between the check and here.
            self.room.notified().await;
        }
    }

    /// Queues a live line without waiting. One line is always taken when none is waiting, so a
    /// single object larger than the buffer still goes through.
    fn offer(&self, line: Bytes) -> Offer {
        let mut q = self.lock();
        if q.gone {
            return Offer::Gone;
        }
        if q.live_bytes > 0 && q.live_bytes + line.len() > LIVE_BUFFER_BYTES {
            return Offer::Full;
        }
        q.live_bytes += line.len();
        q.lines.push_back(line);
        drop(q);
        self.readable.notify_one();
        Offer::Queued
    }

    /// Ends the stream after the queued lines.
    fn end(&self) {
        self.lock().ended = true;
        self.readable.notify_one();
    }

    /// Ends the stream now: what the client did not take is dropped.
    fn terminate(&self) {
        let mut q = self.lock();
        q.lines.clear();
        q.initial = 0;
        q.initial_bytes = 0;
        q.live_bytes = 0;
        q.ended = true;
        drop(q);
        self.readable.notify_one();
    }

    /// Resolves once the client has gone away.
    async fn gone(&self) {
        loop {
            if self.lock().gone {
                return;
            }
            self.left.notified().await;
        }
    }

    /// The next line for the body; `None` once the stream has ended.
    async fn next_line(&self) -> Option<Bytes> {
        loop {
            {
                let mut q = self.lock();
                if let Some(line) = q.lines.pop_front() {
                    let initial = q.initial > 0;
                    if initial {
                        q.initial -= 1;
                        q.initial_bytes -= line.len();
                    } else {
                        q.live_bytes -= line.len();
                    }
                    drop(q);
                    if initial {
                        // Only the initial state ever waits for room.
                        self.room.notify_one();
                    }
                    return Some(line);
                }
                if q.ended {
                    return None;
                }
            }
            self.readable.notified().await;
        }
    }
}

/// The response body's end of an [`Outbox`]: dropping it (the client went away) stops the
/// producer.
struct OutboxBody(Arc<Outbox>);

impl Drop for OutboxBody {
    fn drop(&mut self) {
        self.0.lock().gone = true;
        self.0.room.notify_one();
        self.0.left.notify_one();
    }
}

fn response_body(outbox: Arc<Outbox>) -> Body {
    let stream = futures::stream::unfold(OutboxBody(outbox), |body| async move {
        let line = body.0.next_line().await?;
        Some((Ok::<_, std::convert::Infallible>(line), body))
    });
    Body::from_stream(stream)
}

/// Starts a watch and returns the streaming response.
#[allow(clippy::too_many_arguments)]
pub async fn serve(
    st: Arc<AppState>,
    rt: Arc<Runtime>,
    kind: Arc<dyn Kind>,
    ns: Option<String>,
    q: &HashMap<String, String>,
    labels: Option<LabelSelector>,
    fields: Option<FieldSelector>,
    output: Output,
) -> Result<Response, Status> {
    let rv_param = q.get("resourceVersion").cloned().unwrap_or_default();
    let bookmarks = q.get("allowWatchBookmarks").is_some_and(|b| b == "true");
    let send_initial = q.get("sendInitialEvents").is_some_and(|b| b == "true");
    let timeout = match q.get("timeoutSeconds").and_then(|t| t.parse::<u64>().ok()) {
        Some(t) => Duration::from_secs(t),
        // Like MinRequestTimeout: a random 30–60 minutes.
        None => Duration::from_secs(1800 + rand::random::<u64>() % 1800),
    };
    let mut enc = Encoder {
        kind: kind.clone(),
        rt: rt.clone(),
        output,
        query: q.clone(),
        sent_columns: false,
    };
    let prefix = collection_prefix(rt.name(), kind.as_ref(), ns.as_deref());
    let store = st.registry.store.clone();

    let mut initial: Vec<Bytes> = Vec::new();
    let start_rev = if rv_param.is_empty() || rv_param == "0" || send_initial {
        // Synthetic ADDED events for the current state, then changes after it.
        let (objs, rev) = st.registry.list(&rt, kind.as_ref(), ns.as_deref())?;
        for o in objs
            .into_iter()
            .filter(|o| matches(kind.as_ref(), o, &labels, &fields))
        {
            initial.push(enc.line("ADDED", o));
        }
        if send_initial && bookmarks {
            initial.push(enc.bookmark(rev, true));
        }
        rev
    } else {
        rv_param.parse::<u64>().map_err(|_| {
            Status::bad_request(format!(
                "resourceVersion: Invalid value: {rv_param:?}: must be a valid resource version"
            ))
        })?
    };

    let raw = labels.is_none()
        && fields.is_none()
        && output == Output::Json
        && kind.serves_stored_bytes();
    let outbox = Outbox::new();
    let watcher = store.watch(&prefix, start_rev);
    let watching = st
        .metrics
        .watch_started(&rt, crate::metrics::watch_labels(kind.info(), ns.is_some()));
    let metrics = st.metrics.clone();
    let producer = outbox.clone();
    tokio::spawn(async move {
        let _watching = watching;
        let outbox = producer;
        for b in initial {
            if !outbox.send_initial(b).await {
                return;
            }
        }
        let mut watcher = match watcher {
            Ok(w) => w,
            Err(StoreError::Compacted {
                requested,
                compacted,
            }) => {
                let s = Status::expired(format!(
                    "too old resource version: {requested} ({compacted})"
                ));
                outbox
                    .send_initial(enc.line("ERROR", serde_json::to_value(s).unwrap()))
                    .await;
                outbox.end();
                return;
            }
            Err(e) => {
                let s = serde_json::to_value(Status::internal(e)).unwrap();
                outbox.send_initial(enc.line("ERROR", s)).await;
                outbox.end();
                return;
            }
        };
        // Events up to this revision are replayed from the log: part of the initial state.
        let replayed_until = watcher.seen_revision();
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        tick.tick().await;
        let mut last_rev = start_rev;
        loop {
            tokio::select! {
                _ = &mut deadline => {
                    outbox.end();
                    return;
                }
                _ = outbox.gone() => return,
                _ = tick.tick(), if bookmarks => {
                    // As upstream, a bookmark that finds the buffer full is skipped.
                    if outbox.offer(enc.bookmark(last_rev, false)) == Offer::Gone {
                        return;
                    }
                }
                ev = watcher.next() => {
                    let ev: Arc<Event> = match ev {
                        Some(Ok(ev)) => ev,
                        Some(Err(StoreError::WatcherLagged { missed })) => {
                            // Too far behind the store: end the stream after what was queued;
                            // the client watches again from its last resourceVersion.
                            metrics.watch_terminated(&rt, kind.info());
                            tracing::info!(runtime = rt.name(), resource = kind.info().plural, missed, "watcher lagged behind the store; closing it");
                            outbox.end();
                            return;
                        }
                        Some(Err(e)) => {
                            let s = match e {
                                StoreError::Compacted { requested, compacted } => Status::expired(format!("too old resource version: {requested} ({compacted})")),
                                other => Status::internal(other),
                            };
                            outbox.send_initial(enc.line("ERROR", serde_json::to_value(s).unwrap())).await;
                            outbox.end();
                            return;
                        }
                        None => {
                            outbox.end();
                            return;
                        }
                    };
                    last_rev = ev.revision;
                    let Some(line) = event_line(&mut enc, &ev, raw, &labels, &fields) else {
                        continue;
                    };
                    if ev.revision <= replayed_until {
                        if !outbox.send_initial(line).await {
                            return;
                        }
                        continue;
                    }
                    match outbox.offer(line) {
                        Offer::Queued => {}
                        Offer::Gone => return,
                        Offer::Full => {
                            metrics.watch_terminated(&rt, kind.info());
                            tracing::info!(runtime = rt.name(), resource = kind.info().plural, "Forcing watcher close due to unresponsiveness");
                            outbox.terminate();
                            return;
                        }
                    }
                }
            }
        }
    });
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        response_body(outbox),
    )
        .into_response())
}

/// The watch line of a store event, or `None` when the selectors leave it out.
fn event_line(
    enc: &mut Encoder,
    ev: &Event,
    raw: bool,
    labels: &Option<LabelSelector>,
    fields: &Option<FieldSelector>,
) -> Option<Bytes> {
    if raw {
        // Without selectors a put is always sent, and the stored bytes are the object as served
        // (read-defaulted, resourceVersion written with it): no decoding, as for lists.
        if let (EventKind::Put, Some(line)) = (ev.kind, raw_line(ev)) {
            return Some(line);
        }
    }
    let kind = enc.kind.clone();
    let new = match ev.kind {
        EventKind::Put => enc.decode(&ev.kv.value, ev.revision),
        EventKind::Delete => None,
    };
    let old = ev
        .prev
        .as_ref()
        .and_then(|p| enc.decode(&p.value, ev.revision));
    let now_in = new
        .as_ref()
        .is_some_and(|o| matches(kind.as_ref(), o, labels, fields));
    let was_in = old
        .as_ref()
        .is_some_and(|o| matches(kind.as_ref(), o, labels, fields));
    match (was_in, now_in, new, old) {
        (false, true, Some(new), _) => Some(enc.line("ADDED", new)),
        (true, true, Some(new), _) => Some(enc.line("MODIFIED", new)),
        (true, false, new, old) => new.or(old).map(|o| enc.line("DELETED", o)),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
