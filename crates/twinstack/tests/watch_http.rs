//! Watch streams over HTTP: events from a resourceVersion, synthetic initial state, selector
//! transitions, Table events, and 410 Expired for a compacted resourceVersion.

mod common;
use common::*;
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::time::Duration;

struct W {
    t: Twin,
    c: reqwest::Client,
}

impl W {
    fn url(&self, q: &str) -> String {
        format!(
            "{}/api/v1/namespaces/default/services{q}",
            self.t.base_url()
        )
    }
    async fn create(&self, name: &str, labels: Value) -> Value {
        let body = json!({"apiVersion":"v1","kind":"Service","metadata":{"name":name,"labels":labels},"spec":{"ports":[{"port":80}]}});
        let r = self
            .c
            .post(self.url(""))
            .bearer_auth(self.t.token())
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
        r.json().await.unwrap()
    }
    async fn patch(&self, name: &str, p: Value) {
        let r = self
            .c
            .patch(self.url(&format!("/{name}")))
            .bearer_auth(self.t.token())
            .header("Content-Type", "application/merge-patch+json")
            .body(p.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
    }
    async fn delete(&self, name: &str) {
        let r = self
            .c
            .delete(self.url(&format!("/{name}")))
            .bearer_auth(self.t.token())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
    }
    /// Opens a watch and returns a receiver of parsed events.
    async fn watch(&self, q: &str, accept: &str) -> tokio::sync::mpsc::UnboundedReceiver<Value> {
        let r = self
            .c
            .get(self.url(q))
            .bearer_auth(self.t.token())
            .header("Accept", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let mut stream = r.bytes_stream();
        tokio::spawn(async move {
            let mut buf = Vec::new();
            while let Some(Ok(chunk)) = stream.next().await {
                buf.extend_from_slice(&chunk);
                while let Some(pos) = buf.iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = buf.drain(..=pos).collect();
                    let v: Value = serde_json::from_slice(&line).expect("one JSON object per line");
                    if tx.send(v).is_err() {
                        return;
                    }
                }
            }
        });
        rx
    }
}

async fn next(rx: &mut tokio::sync::mpsc::UnboundedReceiver<Value>) -> Value {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("event in time")
        .expect("stream open")
}

fn name(ev: &Value) -> &str {
    ev["object"]["metadata"]["name"].as_str().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_semantics() {
    let t = Twin::start(&[
        "--watch-history-revisions",
        "5",
        "--watch-history-seconds",
        "0",
    ]);
    let w = W { c: t.client(), t };
    let first = w.create("w0", json!({})).await;
    let first_rv = first["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();

    // From a resourceVersion: only later changes, in order, each once.
    let mut rx = w
        .watch(
            &format!("?watch=true&resourceVersion={first_rv}"),
            "application/json",
        )
        .await;
    w.create("w1", json!({"tier": "a"})).await;
    w.patch("w1", json!({"metadata": {"labels": {"x": "1"}}}))
        .await;
    w.delete("w1").await;
    // (Without selectors, puts are sent from the stored bytes: the objects must read as
    // the decoded path gives them, each with its own resourceVersion.)
    let mut last_rv = first_rv.parse::<u64>().unwrap();
    for (ty, n) in [("ADDED", "w1"), ("MODIFIED", "w1"), ("DELETED", "w1")] {
        let ev = next(&mut rx).await;
        assert_eq!((ev["type"].as_str().unwrap(), name(&ev)), (ty, n), "{ev}");
        let rv: u64 = ev["object"]["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(rv > last_rv, "{ev}");
        last_rv = rv;
        assert_eq!(ev["object"]["kind"], "Service", "{ev}");
        if ty == "MODIFIED" {
            assert_eq!(ev["object"]["metadata"]["labels"]["x"], "1", "{ev}");
            assert_eq!(
                ev["object"]["spec"]["ipFamilyPolicy"], "SingleStack",
                "{ev}"
            );
        }
    }

    // resourceVersion=0: the current state as ADDED first.
    let mut rx0 = w
        .watch("?watch=1&resourceVersion=0", "application/json")
        .await;
    let mut initial = vec![];
    for _ in 0..2 {
        let ev = next(&mut rx0).await;
        assert_eq!(ev["type"], "ADDED");
        initial.push(name(&ev).to_string());
    }
    initial.sort();
    assert_eq!(initial, vec!["kubernetes", "w0"]);

    // Label selector: moving into the selector is ADDED, out of it DELETED.
    let mut rxl = w
        .watch("?watch=true&labelSelector=tier%3Dfront", "application/json")
        .await;
    w.patch("w0", json!({"metadata": {"labels": {"tier": "front"}}}))
        .await;
    let ev = next(&mut rxl).await;
    assert_eq!((ev["type"].as_str().unwrap(), name(&ev)), ("ADDED", "w0"));
    w.patch("w0", json!({"metadata": {"labels": {"tier": "back"}}}))
        .await;
    let ev = next(&mut rxl).await;
    assert_eq!((ev["type"].as_str().unwrap(), name(&ev)), ("DELETED", "w0"));

    // Table events: one-row Tables, column definitions on the first only.
    let table = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
    let mut rxt = w.watch("?watch=true&resourceVersion=0", table).await;
    let a = next(&mut rxt).await;
    let b = next(&mut rxt).await;
    assert_eq!(a["object"]["kind"], "Table");
    assert_eq!(a["object"]["rows"].as_array().unwrap().len(), 1);
    assert!(!a["object"]["columnDefinitions"]
        .as_array()
        .unwrap()
        .is_empty());
    assert!(b["object"]["columnDefinitions"]
        .as_array()
        .unwrap()
        .is_empty());

    // A compacted resourceVersion: an ERROR event with 410 Expired.
    // Compaction runs in the group commit of the write that passes the window, so once these
    // creates are answered, revision 2 is already gone.
    for i in 0..30 {
        w.create(&format!("fill-{i}"), json!({})).await;
    }
    let mut old = w
        .watch("?watch=true&resourceVersion=2", "application/json")
        .await;
    let ev = next(&mut old).await;
    assert_eq!(ev["type"], "ERROR", "{ev}");
    assert_eq!(ev["object"]["code"], 410);
    assert_eq!(ev["object"]["reason"], "Expired");
    assert!(
        ev["object"]["message"]
            .as_str()
            .unwrap()
            .starts_with("too old resource version: 2 ("),
        "{ev}"
    );
}
