//! KEB's non-OSB HTTP endpoints as pure functions: `GET /runtimes` ([`runtimes`]),
//! `GET /kubeconfig/{instance_id}` ([`kubeconfig`]) and `PUT /expire/service_instance/{instance_id}`
//! ([`expiration`]). No I/O: the HTTP broker gathers the stored facts, calls these functions and
//! performs the side effects they name.
//!
//! # Routing in KEB (`cmd/broker/main.go` `main` and `createAPI`, `internal/broker/server.go` `AttachRoutes`)
//!
//! KEB builds one Go 1.22 `http.ServeMux` (`internal/httputil/router.go`). The OSB API lives on a
//! sub-router mounted with `router.Handle("/oauth/", http.StripPrefix("/oauth", subRouter))`;
//! `AttachRoutes(..., prefixes = ["/{region}", ""])` registers every OSB route twice, so each is
//! served under both `/oauth/v2/...` and `/oauth/{region}/v2/...`:
//!
//! | method | path (after `/oauth` or `/oauth/{region}`) | brokerapi handler |
//! |---|---|---|
//! | GET | `/v2/catalog` | Catalog |
//! | GET, PUT, PATCH, DELETE | `/v2/service_instances/{instance_id}` | GetInstance, Provision, Update, Deprovision |
//! | GET | `/v2/service_instances/{instance_id}/last_operation` | LastOperation |
//! | GET, PUT, DELETE | `/v2/service_instances/{instance_id}/service_bindings/{binding_id}` | GetBinding, Bind (wrapped in `http.TimeoutHandler`, `request timeout: time exceeded <d>`), Unbind |
//! | GET | `/v2/service_instances/{instance_id}/service_bindings/{binding_id}/last_operation` | LastBindingOperation |
//!
//! Middlewares of the OSB sub-router, in order: correlation ID, originating identity,
//! brokerapi `APIVersionMiddleware.ValidateAPIVersionHdr` (`X-Broker-API-Version` required: 412),
//! info location, `AddRegionToContext(defaultRequestRegion)` (the `{region}` path value, or
//! `broker.defaultRequestRegion` when the path has none), `AddProviderToContext`.
//!
//! Non-OSB routes on the main mux (none of them behind the OSB middlewares):
//! * `/oauth/v2/machines_availability` (only with `MachinesAvailabilityEndpoint`; on the main mux, so
//!   no `/oauth/{region}/...` variant);
//! * `/metrics` (Prometheus);
//! * `GET /kubeconfig/{instance_id}` and `GET /kubeconfig/` (the latter answers 404 `instanceID is required`);
//! * `/runtimes` (any method; the handler does not check it);
//! * `/additional_properties`;
//! * `PUT /expire/service_instance/{instance_id}`;
//! * `/events` (`?instance_ids=&runtime_ids=&operation_ids=`), `/version`;
//! * `/` (swagger file server).
//!
//! Go's mux answers paths without a route with `404 page not found` (text/plain) and a known
//! path with another method with `405 Method Not Allowed` plus `Allow` (`GET, HEAD` for kubeconfig, `PUT`
//! for expire).
//!
//! # Authentication (not in KEB's Go code)
//!
//! KEB checks no credentials itself; Istio does (`resources/keb/templates/authorization-policy.yaml`,
//! `virtualservice.yaml`):
//! * `/oauth/*` (GET, PUT, PATCH, DELETE): a JWT of the configured OIDC issuer(s) with
//!   `scp` claim `broker:write`.
//! * `GET /runtimes`, `GET /version`: JWT with `groups` admin, operator or viewer (runtimes also
//!   allows the mTLS principals `runtimeAllowedPrincipals`); `GET /events`: admin or operator (or those principals).
//! * `GET /kubeconfig*`: no authentication (allowed from the ingress gateway's namespace `istio-system`).
//! * `/metrics`: open to the monitoring scrape; `/additional_properties`: DENY.
//! * `PUT /expire/...`: not routed by the VirtualService and not allowed from outside; only callers in
//!   the `kcp-system` namespace reach it (`istio-oauth2-local` allows everything from there).
//! * The policies for `/orchestrations*` and `/upgrade/*` remain, but this KEB mounts no such handlers.
//!
//! # Error bodies
//!
//! `/runtimes` and `/expire` use `httputil.WriteErrorResponse`: `{"error":"<msg>"}`
//! (`json.Marshal`, no trailing newline, `Content-Type: application/json`) ([`ApiError`]).
//! `/kubeconfig` uses `httputil.JSONEncodeWithCode(&ErrorResponse{Error})`: the Go field has no JSON tag,
//! so the key is `Error` (capital E) and `json.Encoder` appends `\n` ([`kubeconfig::KubeconfigError`]).
//! None of them is OSB's `{"description": ...}`.

pub mod expiration;
pub mod kubeconfig;
pub mod runtimes;
mod time;

pub(crate) use time::civil_from_days;
pub use time::Time;

use serde::Serialize;

/// An error answer of `/runtimes` or `/expire`: `httputil.WriteErrorResponse(w, status, err)`
/// (`internal/httputil/write_response.go`) writes `{"error": err.Error()}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {message}")]
pub struct ApiError {
    pub status: u16,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }
    /// `{"error": "<message>"}`.
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({ "error": self.message })
    }
    /// The exact bytes KEB writes (`json.Marshal`, HTML-escaped, no newline).
    pub fn body_string(&self) -> String {
        go_json(&self.body())
    }
    /// Always `application/json`.
    pub fn content_type(&self) -> &'static str {
        "application/json"
    }
}

/// Go's `json.Marshal` text of a value: serde's compact output with Go's HTML escaping of `<`, `>`,
/// `&`, U+2028 and U+2029 (these characters can only occur inside JSON strings, so a textual
/// replacement is exact). Object keys keep the order of the value (`preserve_order`).
pub fn go_json<T: Serialize + ?Sized>(value: &T) -> String {
    let s = serde_json::to_string(value).expect("serializable");
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// `url.ParseQuery`: `&`-separated pairs in order, percent-decoded, `+` as space.
pub fn query_pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod query_tests {
    use super::*;

    #[test]
    fn query_pairs_as_go_parses_them() {
        assert_eq!(
            query_pairs("page=2&plan=aws&plan=gcp&a+b=%41%2&x=%zz&ü=%C3%BC&&k"),
            vec![
                ("page".into(), "2".into()),
                ("plan".into(), "aws".into()),
                ("plan".into(), "gcp".into()),
                ("a b".into(), "A%2".into()),
                ("x".into(), "%zz".into()),
                ("ü".into(), "ü".into()),
                ("k".into(), "".into()),
            ]
        );
    }
}
