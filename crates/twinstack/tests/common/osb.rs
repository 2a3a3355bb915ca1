//! An OSB client of the broker (basic auth, API version 2.17) for tests of KEB's behaviour.

use super::Twin;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

pub const SERVICE: &str = "47c9dcbf-ff30-448e-ab36-d3bad66ba281";
pub const AWS: &str = "361c511f-f939-4621-b228-d0fb79a1fe15";
pub const AZURE: &str = "4deee563-e5ec-4731-b9b1-53b42d855f0c";

pub struct Osb<'a> {
    pub t: &'a Twin,
    c: reqwest::Client,
    rt: tokio::runtime::Runtime,
    user: String,
    pass: String,
}

impl<'a> Osb<'a> {
    pub fn new(t: &'a Twin) -> Osb<'a> {
        let creds: Value =
            serde_json::from_slice(&std::fs::read(t.data_dir().join("broker.json")).unwrap())
                .unwrap();
        Osb {
            c: t.client(),
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            user: creds["username"].as_str().unwrap().into(),
            pass: creds["password"].as_str().unwrap().into(),
            t,
        }
    }
    pub fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut r = self
            .c
            .request(method, format!("https://127.0.0.1:{}{path}", self.t.port))
            .header("X-Broker-API-Version", "2.17")
            .basic_auth(&self.user, Some(&self.pass));
        if let Some(b) = body {
            r = r.json(&b);
        }
        self.rt.block_on(async {
            let resp = r.send().await.unwrap();
            let code = resp.status().as_u16();
            let text = resp.text().await.unwrap();
            (
                code,
                serde_json::from_str(&text).unwrap_or(Value::String(text)),
            )
        })
    }
    /// A request as any HTTP client makes it: with or without the broker credential, no API
    /// version header; the status, the headers and the body as text.
    pub fn raw(
        &self,
        method: reqwest::Method,
        path: &str,
        auth: bool,
    ) -> (u16, reqwest::header::HeaderMap, String) {
        let mut r = self
            .c
            .request(method, format!("https://127.0.0.1:{}{path}", self.t.port))
            .header("Origin", "https://cockpit.example");
        if auth {
            r = r.basic_auth(&self.user, Some(&self.pass));
        }
        self.rt.block_on(async {
            let resp = r.send().await.unwrap();
            let code = resp.status().as_u16();
            let headers = resp.headers().clone();
            (code, headers, resp.text().await.unwrap())
        })
    }
    pub fn provision(&self, id: &str, plan: &str, params: Value) -> (u16, Value) {
        self.call(
            reqwest::Method::PUT,
            &format!("/v2/service_instances/{id}?accepts_incomplete=true"),
            Some(json!({"service_id": SERVICE, "plan_id": plan,
                "context": {"globalaccount_id": "ga", "subaccount_id": "sa", "user_id": "dev@example.com"},
                "parameters": params})),
        )
    }
    pub fn bind(&self, id: &str, bid: &str, params: Value) -> (u16, Value) {
        self.call(
            reqwest::Method::PUT,
            &format!("/v2/service_instances/{id}/service_bindings/{bid}?accepts_incomplete=true"),
            Some(json!({"service_id": SERVICE, "plan_id": AWS, "parameters": params})),
        )
    }
    pub fn unbind(&self, id: &str, bid: &str) -> (u16, Value) {
        self.call(
            reqwest::Method::DELETE,
            &format!(
                "/v2/service_instances/{id}/service_bindings/{bid}?service_id={SERVICE}&plan_id={AWS}"
            ),
            None,
        )
    }
    pub fn last_operation(&self, id: &str, op: &str) -> (u16, Value) {
        self.call(
            reqwest::Method::GET,
            &format!("/v2/service_instances/{id}/last_operation?operation={op}"),
            None,
        )
    }
    pub fn operation(&self, op: &str) -> Option<Value> {
        match self.call(
            reqwest::Method::GET,
            &format!("/twinstack/v1/operations/{op}"),
            None,
        ) {
            (200, v) => Some(v),
            _ => None,
        }
    }
    pub fn advance_clock(&self, seconds: i64) {
        let (code, body) = self.call(
            reqwest::Method::POST,
            "/twinstack/v1/clock",
            Some(json!({"advanceSeconds": seconds})),
        );
        assert_eq!(code, 200, "{body}");
    }
    /// Polls `last_operation` until the operation ends; returns every distinct answer seen
    /// and the stages the operation had finished at each poll.
    pub fn poll(&self, id: &str, op: &str) -> (Vec<Value>, Vec<Vec<String>>) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let (mut answers, mut stages) = (Vec::<Value>::new(), Vec::<Vec<String>>::new());
        loop {
            let (code, v) = self.last_operation(id, op);
            assert_eq!(code, 200, "{v}");
            if answers.last() != Some(&v) {
                answers.push(v.clone());
            }
            if let Some(o) = self.operation(op) {
                let s: Vec<String> =
                    serde_json::from_value(o["finishedStages"].clone()).unwrap_or_default();
                if stages.last() != Some(&s) {
                    stages.push(s);
                }
            }
            if v["state"] != "in progress" {
                return (answers, stages);
            }
            assert!(Instant::now() < deadline, "operation {op} never ended");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    /// Waits until an operation has finished `n` stages and still runs.
    pub fn wait_for_stages(&self, op: &str, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let v = self.operation(op).expect("the operation is recorded");
            if v["finishedStages"].as_array().unwrap().len() >= n {
                assert_eq!(v["state"], "in progress", "{v}");
                return;
            }
            assert!(Instant::now() < deadline, "{v}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
