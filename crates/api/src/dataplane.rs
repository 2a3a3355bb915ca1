//! The data plane's view of a runtime, for `twinstack runtime show -o json` and
//! `twinstack trace` and the web view (`crate::ui`):
//!
//! - `GET /twinstack/v1/runtimes/{runtime}/frontends`: every frontend with its emulated address,
//!   the local socket it listens on, and its targets' health.
//! - `GET /twinstack/v1/runtimes/{runtime}/trace?namespace=NS&service=NAME&family=IPv4|IPv6
//!   [&port=P]`: the hops of one real request through the Service and its answer.
//!
//! Authorized by the runtime's own token (as its kubeconfig carries it) or the broker's
//! credential (which sees every runtime); a token of one runtime opens nothing of another.

use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use twinstack_cloud::path::Family;
use twinstack_registry::runtimes::token_eq;

fn answer(code: StatusCode, v: serde_json::Value) -> Response {
    (
        code,
        [(header::CONTENT_TYPE, "application/json")],
        v.to_string(),
    )
        .into_response()
}

pub(crate) fn authorized(st: &AppState, runtime: &str, headers: &HeaderMap) -> bool {
    if st.broker.authorized(headers) {
        return st.registry.runtime(runtime).is_some();
    }
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(s, _)| s.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim());
    match (st.registry.runtime(runtime), token) {
        (Some(rt), Some(t)) => token_eq(t, &rt.record.token),
        _ => false,
    }
}

pub(crate) fn unauthorized() -> Response {
    answer(
        StatusCode::UNAUTHORIZED,
        json!({"error": "Unauthorized", "description": "a runtime's token or the broker credential is required"}),
    )
}

pub async fn frontends(
    State(st): State<Arc<AppState>>,
    Path(runtime): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !authorized(&st, &runtime, &headers) {
        return unauthorized();
    }
    let list = st
        .dataplane
        .as_ref()
        .map(|d| d.frontends(&runtime))
        .unwrap_or_default();
    let netns = st.dataplane.as_ref().and_then(|d| d.netns_name(&runtime));
    answer(StatusCode::OK, json!({ "frontends": list, "netns": netns }))
}

pub async fn trace(
    State(st): State<Arc<AppState>>,
    Path(runtime): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if !authorized(&st, &runtime, &headers) {
        return unauthorized();
    }
    let bad = |m: String| {
        answer(
            StatusCode::BAD_REQUEST,
            json!({"error": "BadRequest", "description": m}),
        )
    };
    let Some(dp) = &st.dataplane else {
        return answer(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"error": "Unavailable", "description": "the data plane is off"}),
        );
    };
    let ns = q.get("namespace").map(String::as_str).unwrap_or("default");
    let Some(svc) = q.get("service").filter(|s| !s.is_empty()) else {
        return bad("service is required".into());
    };
    let family = match q.get("family").map(|f| Family::parse(f)) {
        None => Family::IPv4,
        Some(Some(f)) => f,
        Some(None) => {
            return bad(format!(
                "family must be IPv4 or IPv6, not {:?}",
                q["family"]
            ))
        }
    };
    let port = match q.get("port").map(|p| p.parse::<u16>()) {
        None => None,
        Some(Ok(p)) => Some(p),
        Some(Err(_)) => return bad(format!("port must be a number, not {:?}", q["port"])),
    };
    let key = format!("{ns}/{svc}");
    match dp.trace(&runtime, &key, family, port).await {
        Ok(t) => answer(
            StatusCode::OK,
            json!({
                "service": key,
                "family": family.as_str(),
                "frontend": t.frontend,
                "client": t.client.to_string(),
                "hops": t.flow.as_ref().map(|f| json!(f.hops)).unwrap_or(json!([])),
                "seen": t.flow.as_ref().map(|f| f.seen.to_string()),
                "translated": t.flow.as_ref().map(|f| f.translated),
                "proxyProtocol": t.flow.as_ref().and_then(|f| f.proxy_header).map(|h| json!({"src": h.src.to_string(), "dst": h.dst.to_string()})),
                "mesh": t.flow.as_ref().map(|f| json!(f.mesh)),
                "response": match &t.response { Ok(r) => json!(r), Err(_) => json!(null) },
                "error": match &t.response { Ok(_) => json!(null), Err(e) => json!(e) },
            }),
        ),
        Err(_) => answer(
            StatusCode::NOT_FOUND,
            json!({"error": "NotFound", "description": format!("service {key} has no {} frontend{}", family.as_str(), port.map(|p| format!(" on port {p}")).unwrap_or_default())}),
        ),
    }
}
