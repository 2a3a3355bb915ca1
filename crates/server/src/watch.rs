//! Watch streams: `{"type":…,"object":…}` lines, from a resourceVersion or from a synthetic
//! initial state, filtered by selectors (objects moving out of a selector are DELETED, into it
//! ADDED, as the apiserver's watch cache does), as JSON objects or one-row Tables.

use crate::api::{matches, table_of, AppState};
use crate::kinds::Kind;
use crate::negotiate::Output;
use crate::registry::collection_prefix;
use crate::runtimes::Runtime;
use axum::body::{Body, Bytes};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use twinstack_core::selector::{FieldSelector, LabelSelector};
use twinstack_core::status::Status;
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

    let raw = labels.is_none() && fields.is_none() && output == Output::Json;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(256);
    let watcher = store.watch(&prefix, start_rev);
    let metrics = st.metrics.clone();
    tokio::spawn(async move {
        metrics.watchers.inc();
        let _guard = scopeguard(move || {
            metrics.watchers.dec();
        });
        for b in initial {
            if tx.send(Ok(b)).await.is_err() {
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
                let _ = tx
                    .send(Ok(enc.line("ERROR", serde_json::to_value(s).unwrap())))
                    .await;
                return;
            }
            Err(e) => {
                let _ = tx
                    .send(Ok(enc.line(
                        "ERROR",
                        serde_json::to_value(Status::internal(e)).unwrap(),
                    )))
                    .await;
                return;
            }
        };
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        tick.tick().await;
        let mut last_rev = start_rev;
        loop {
            tokio::select! {
                _ = &mut deadline => return,
                _ = tx.closed() => return,
                _ = tick.tick(), if bookmarks => {
                    if tx.send(Ok(enc.bookmark(last_rev, false))).await.is_err() { return; }
                }
                ev = watcher.next() => {
                    let ev: Arc<Event> = match ev {
                        Some(Ok(ev)) => ev,
                        Some(Err(e)) => {
                            let s = match e {
                                StoreError::Compacted { requested, compacted } => Status::expired(format!("too old resource version: {requested} ({compacted})")),
                                other => Status::internal(other),
                            };
                            let _ = tx.send(Ok(enc.line("ERROR", serde_json::to_value(s).unwrap()))).await;
                            return;
                        }
                        None => return,
                    };
                    last_rev = ev.revision;
                    if raw {
                        // Without selectors a put is always sent, and the stored bytes are the
                        // object as served (read-defaulted, resourceVersion written with it):
                        // no decoding, as for lists.
                        if let (EventKind::Put, Some(line)) = (ev.kind, raw_line(&ev)) {
                            if tx.send(Ok(line)).await.is_err() {
                                return;
                            }
                            continue;
                        }
                    }
                    let kind = enc.kind.clone();
                    let new = match ev.kind {
                        EventKind::Put => enc.decode(&ev.kv.value, ev.revision),
                        EventKind::Delete => None,
                    };
                    let old = ev.prev.as_ref().and_then(|p| enc.decode(&p.value, ev.revision));
                    let now_in = new.as_ref().is_some_and(|o| matches(kind.as_ref(), o, &labels, &fields));
                    let was_in = old.as_ref().is_some_and(|o| matches(kind.as_ref(), o, &labels, &fields));
                    let line = match (was_in, now_in) {
                        (false, true) => enc.line("ADDED", new.unwrap()),
                        (true, true) => enc.line("MODIFIED", new.unwrap()),
                        (true, false) => enc.line("DELETED", new.or(old).unwrap()),
                        (false, false) => continue,
                    };
                    if tx.send(Ok(line)).await.is_err() {
                        return;
                    }
                }
            }
        }
    });
    let body = Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx));
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response())
}

struct Guard<F: FnMut()>(F);
impl<F: FnMut()> Drop for Guard<F> {
    fn drop(&mut self) {
        (self.0)()
    }
}
fn scopeguard<F: FnMut()>(f: F) -> Guard<F> {
    Guard(f)
}
