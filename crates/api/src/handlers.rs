//! The HTTP surface: health, metrics, and each runtime's Kubernetes API under
//! `/runtimes/{runtime}/`, parsed like kube-apiserver's RequestInfoFactory.

use crate::discovery;
use crate::negotiate::{self, Output};
use crate::request_info::{parse_target, ResourceRequest, Target};
use crate::state::AppState;
use crate::tables::table_of;
use crate::watch;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;
use twinstack_core::selector::{convert_field_label, FieldSelector, LabelSelector};
use twinstack_core::status::Status;
use twinstack_registry::kinds::Kind;
use twinstack_registry::registry::matches;
use twinstack_registry::registry::{FieldValidation, Preconditions, WriteOptions};
use twinstack_registry::runtimes::Runtime;

/// kube-apiserver's `MaxRequestBodyBytes` (3 MiB).
pub const MAX_BODY: usize = 3 * 1024 * 1024;

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(health))
        .route("/livez", get(health))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .route("/runtimes/{*rest}", any(kube))
        .route("/v2/{*rest}", any(broker))
        .route(
            "/twinstack/v1/runtimes/{runtime}/frontends",
            get(crate::dataplane::frontends),
        )
        .route(
            "/twinstack/v1/runtimes/{runtime}/trace",
            get(crate::dataplane::trace),
        )
        // The web view and what it reads (crate::ui).
        .route("/ui", get(crate::ui::redirect))
        .route("/ui/", get(crate::ui::index))
        .route("/ui/{*asset}", get(crate::ui::assets))
        .route("/twinstack/v1/ui/runtimes", get(crate::ui::runtimes))
        .route(
            "/twinstack/v1/runtimes/{runtime}/topology",
            get(crate::ui::snapshot),
        )
        .route(
            "/twinstack/v1/runtimes/{runtime}/topology/stream",
            get(crate::ui::stream),
        )
        .route("/twinstack/{*rest}", any(broker))
        // KEB's other endpoints: the runtimes API, kubeconfigs, expiry, and OSB under /oauth.
        .route("/runtimes", any(broker))
        .route("/kubeconfig", any(broker))
        .route("/kubeconfig/", any(broker))
        .route("/kubeconfig/{*rest}", any(broker))
        .route("/expire/{*rest}", any(broker))
        .route("/oauth/{*rest}", any(broker))
        // The cloud APIs of each runtime (AWS Query APIs, Compute Engine REST), read-only.
        .route("/cloud/aws/{runtime}", any(crate::cloud::aws))
        .route(
            "/cloud/gcp/{runtime}/compute/v1/{*rest}",
            any(crate::cloud::gcp),
        )
        .fallback(|| async { status_response(Status::path_not_found(), &[]) })
        // `/runtimes/{rt}/metrics` overlaps the runtime's catch-all route: taken first here.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            runtime_metrics,
        ))
        .with_state(state)
}

/// The OSB broker API and twinstack's runtime listing (basic auth).
async fn broker(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let query: HashMap<String, String> = Query::try_from_uri(&uri).map(|q| q.0).unwrap_or_default();
    let bytes = match read_body(body).await {
        Ok(b) => b,
        Err(s) => return status_response(s, &[]),
    };
    let resp = st
        .broker
        .handle(&method, uri.path(), uri.query(), &query, &headers, &bytes)
        .await;
    tracing::debug!(%method, path = %uri.path(), status = resp.status().as_u16(), "broker request");
    resp
}

async fn health() -> &'static str {
    "ok"
}

async fn ready(State(st): State<Arc<AppState>>) -> Response {
    if st.ready.load(Ordering::Acquire) {
        "ok".into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready").into_response()
    }
}

/// The aggregate metrics of all runtimes: for the platform's credential (the broker's) only,
/// as they show every tenant's activity.
async fn metrics(State(st): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if !st.broker.authorized(&headers) {
        let mut resp = status_response(Status::unauthorized(), &[]);
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"twinstack\""),
        );
        return resp;
    }
    metrics_response(st.metrics.render(st.registry.store.current_revision()))
}

/// `GET /runtimes/{rt}/metrics`: one runtime's metrics, for its own token, as its
/// kube-apiserver's `/metrics` would show them. Any other request goes on to the router.
async fn runtime_metrics(
    State(st): State<Arc<AppState>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let rt_name = match req.uri().path().strip_prefix("/runtimes/") {
        Some(rest) if req.method() == Method::GET => rest.strip_suffix("/metrics"),
        _ => None,
    };
    let Some(rt_name) = rt_name.filter(|n| !n.is_empty() && !n.contains('/')) else {
        return next.run(req).await;
    };
    match bearer(req.headers()).and_then(|t| st.registry.runtime_for_token(t)) {
        None => status_response(Status::unauthorized(), &[]),
        Some(rt) if rt.name() != rt_name => {
            status_response(forbidden(None, "get", "/metrics"), &[])
        }
        Some(rt) => metrics_response(st.metrics.runtime(&rt).render()),
    }
}

fn metrics_response(text: String) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

pub fn json_response(code: StatusCode, v: &Value, warnings: &[String]) -> Response {
    let mut resp = (
        code,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_vec(v).unwrap(),
    )
        .into_response();
    add_warnings(resp.headers_mut(), warnings);
    resp
}

fn yaml_response(code: StatusCode, v: &Value, warnings: &[String]) -> Response {
    let text = serde_saphyr::to_string(v).unwrap_or_default();
    let mut resp = (code, [(header::CONTENT_TYPE, "application/yaml")], text).into_response();
    add_warnings(resp.headers_mut(), warnings);
    resp
}

/// `Warning: 299 - "text"` headers (apimachinery `NewWarningHeader`).
fn add_warnings(h: &mut HeaderMap, warnings: &[String]) {
    let mut seen: Vec<&String> = Vec::new();
    for w in warnings {
        if seen.contains(&w) {
            continue;
        }
        seen.push(w);
        let text: String = w.chars().filter(|c| !c.is_control()).collect();
        let escaped = text.replace('\\', "\\\\").replace('"', "\\\"");
        if let Ok(v) = HeaderValue::from_str(&format!("299 - \"{escaped}\"")) {
            h.append("Warning", v);
        }
    }
}

pub fn status_response(s: Status, warnings: &[String]) -> Response {
    let code = StatusCode::from_u16(s.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    json_response(code, &serde_json::to_value(&s).unwrap(), warnings)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

pub const USER: &str = "admin";

fn verb_of(method: &Method, rr: Option<&ResourceRequest>, watch: bool) -> &'static str {
    let named = rr.is_some_and(|r| r.name.is_some());
    match *method {
        Method::GET | Method::HEAD if watch || rr.is_some_and(|r| r.watch) => "watch",
        Method::GET | Method::HEAD if named || rr.is_none() => "get",
        Method::GET | Method::HEAD => "list",
        Method::POST => "create",
        Method::PUT => "update",
        Method::PATCH => "patch",
        Method::DELETE if named => "delete",
        Method::DELETE => "deletecollection",
        _ => "unknown",
    }
}

/// 403 text of kube-apiserver's authorizer (`forbiddenMessage`).
fn forbidden(rr: Option<&ResourceRequest>, verb: &str, path: &str) -> Status {
    match rr {
        Some(r) => {
            let mut why = format!(
                "User \"{USER}\" cannot {verb} resource \"{}\" in API group \"{}\"",
                r.resource, r.group
            );
            match &r.namespace {
                Some(ns) => why.push_str(&format!(" in the namespace \"{ns}\"")),
                None => why.push_str(" at the cluster scope"),
            }
            let subject = twinstack_core::status::Subject {
                group: "",
                resource: "",
                kind: "",
            };
            let mut s = Status::forbidden(r.name.as_deref().unwrap_or(""), subject, &why);
            // `NewForbidden(GroupResource, name, err)`: the group-qualified resource
            // (`deployments.apps`), the core group's bare (`services`).
            let qualified = if r.group.is_empty() {
                r.resource.clone()
            } else {
                format!("{}.{}", r.resource, r.group)
            };
            let target = match &r.name {
                Some(n) => format!("{qualified} \"{n}\""),
                None => qualified,
            };
            s.message = format!("{target} is forbidden: {why}");
            s.details = Some(twinstack_core::status::StatusDetails {
                name: r.name.clone(),
                group: (!r.group.is_empty()).then(|| r.group.clone()),
                kind: Some(r.resource.clone()),
                ..Default::default()
            });
            s
        }
        None => {
            let mut s = Status::forbidden(
                "",
                twinstack_core::status::Subject {
                    group: "",
                    resource: "",
                    kind: "",
                },
                "",
            );
            s.message = format!("forbidden: User \"{USER}\" cannot {verb} path \"{path}\"");
            s.details = None;
            s
        }
    }
}

/// The HTTP/1.1 connection of a request that asks for an upgrade (`pods/exec`, `attach`,
/// `portforward`), taken out of the request as axum's WebSocket extractor does.
pub struct Upgradable(Option<hyper::upgrade::OnUpgrade>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Upgradable {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Upgradable(
            parts.extensions.remove::<hyper::upgrade::OnUpgrade>(),
        ))
    }
}

async fn kube(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Upgradable(upgrade): Upgradable,
    body: Body,
) -> Response {
    let started = Instant::now();
    let path = uri.path().to_string();
    let rest = path.trim_start_matches("/runtimes/");
    let mut segs: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let rt_name = if segs.is_empty() { "" } else { segs.remove(0) };
    let target = parse_target(&segs);
    let query: HashMap<String, String> = Query::try_from_uri(&uri).map(|q| q.0).unwrap_or_default();
    let watch = query.get("watch").is_some_and(|w| w == "true" || w == "1");
    let rr = match &target {
        Target::Resource(r) => Some(r),
        _ => None,
    };
    let verb = verb_of(&method, rr, watch);

    let resp = match bearer(&headers).and_then(|t| st.registry.runtime_for_token(t)) {
        None => {
            st.metrics.authentication(false);
            status_response(Status::unauthorized(), &[])
        }
        Some(rt) if rt.name() != rt_name => {
            st.metrics.authentication(true);
            st.metrics.authorization(false);
            let sub_path = format!("/{}", segs.join("/"));
            status_response(forbidden(rr, verb, &sub_path), &[])
        }
        Some(rt) => {
            st.metrics.authentication(true);
            st.metrics.authorization(true);
            // Labels from closed sets only (see `metrics`): the path's names never become one.
            let apply = headers.get(header::CONTENT_TYPE).map(HeaderValue::as_bytes)
                == Some(b"application/apply-patch+yaml");
            let labels = crate::metrics::request_labels(
                &method,
                &target,
                st.registry.kinds(),
                watch,
                apply,
                query.get("dryRun").map(String::as_str),
            );
            let metrics_rt = rt.clone();
            let ctx = Ctx {
                st: &st,
                rt,
                method: &method,
                headers: &headers,
                query: &query,
                verb,
                uri: &uri,
                upgrade: std::sync::Mutex::new(upgrade),
            };
            let resp = ctx.dispatch(&target, body).await;
            let elapsed = (verb != "watch").then(|| started.elapsed());
            st.metrics
                .request(&metrics_rt, &labels, resp.status().as_u16(), elapsed);
            resp
        }
    };
    tracing::debug!(%method, path = %path, status = resp.status().as_u16(), "request");
    resp
}

struct Ctx<'a> {
    st: &'a Arc<AppState>,
    rt: Arc<Runtime>,
    method: &'a Method,
    headers: &'a HeaderMap,
    query: &'a HashMap<String, String>,
    verb: &'static str,
    uri: &'a Uri,
    /// The connection, for the streaming subresources' upgrade.
    upgrade: std::sync::Mutex<Option<hyper::upgrade::OnUpgrade>>,
}

fn header_str(h: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

async fn read_body(body: Body) -> Result<bytes_type::Bytes, Status> {
    axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| Status::too_large(MAX_BODY))
}

mod bytes_type {
    pub use axum::body::Bytes;
}

impl Ctx<'_> {
    fn output(&self) -> Result<Output, Status> {
        negotiate::output(header_str(self.headers, header::ACCEPT)).ok_or_else(|| {
            Status::not_acceptable("only the following media types are accepted: application/json, application/yaml, application/json;as=Table;v=v1;g=meta.k8s.io")
        })
    }

    fn respond(&self, code: StatusCode, v: &Value, warnings: &[String]) -> Response {
        match self.output() {
            Ok(Output::Yaml) => yaml_response(code, v, warnings),
            _ => json_response(code, v, warnings),
        }
    }

    async fn dispatch(&self, target: &Target, body: Body) -> Response {
        let served = self.st.registry.kinds_for(self.rt.name());
        let kinds = served.as_slice();
        let is_get = matches!(*self.method, Method::GET | Method::HEAD);
        let r = match target {
            Target::Version if is_get => {
                Ok(json_response(StatusCode::OK, &discovery::version(), &[]))
            }
            Target::Api if is_get => {
                let host = header_str(self.headers, header::HOST).unwrap_or("127.0.0.1:6443");
                Ok(json_response(
                    StatusCode::OK,
                    &discovery::api_versions(host),
                    &[],
                ))
            }
            Target::Apis if is_get => Ok(json_response(
                StatusCode::OK,
                &discovery::api_group_list(kinds),
                &[],
            )),
            Target::ApiGroup(g) if is_get => discovery::api_group(kinds, g)
                .map(|v| json_response(StatusCode::OK, &v, &[]))
                .ok_or_else(Status::path_not_found),
            Target::ResourceList(g, v) if is_get => discovery::api_resource_list(kinds, g, v)
                .map(|v| json_response(StatusCode::OK, &v, &[]))
                .ok_or_else(Status::path_not_found),
            Target::OpenApiV2 if is_get => self.openapi_v2(),
            Target::OpenApiV3 if is_get => {
                let docs = crate::openapi::documents_for(self.rt.name(), kinds);
                let prefix = format!("/runtimes/{}", self.rt.name());
                Ok(json_response(StatusCode::OK, &docs.v3_index(&prefix), &[]))
            }
            Target::OpenApiV3Gv(gv) if is_get => self.openapi_v3(gv),
            Target::Resource(rr) => self.resource(rr, body).await,
            Target::Version
            | Target::Api
            | Target::Apis
            | Target::ApiGroup(_)
            | Target::ResourceList(..)
            | Target::OpenApiV2
            | Target::OpenApiV3
            | Target::OpenApiV3Gv(_) => Err(Status::method_not_allowed(
                self.method.as_str(),
                twinstack_core::status::Subject {
                    group: "",
                    resource: "",
                    kind: "",
                },
            )),
            Target::Unknown => Err(Status::path_not_found()),
        };
        r.unwrap_or_else(|s| status_response(s, &[]))
    }

    /// `/openapi/v2` as kube-openapi's handler serves it: JSON or gnostic protobuf by the
    /// Accept header, with an ETag.
    fn openapi_v2(&self) -> Result<Response, Status> {
        let served = self.st.registry.kinds_for(self.rt.name());
        let docs = crate::openapi::documents_for(self.rt.name(), &served);
        let accept = header_str(self.headers, header::ACCEPT).unwrap_or("");
        let Some(proto) = openapi_v2_wants_protobuf(accept) else {
            return Err(Status::not_acceptable(
                "only the following media types are accepted: application/json, application/com.github.proto-openapi.spec.v2@v1.0+protobuf",
            ));
        };
        let (ct, body) = if proto {
            (OPENAPI_V2_PROTO, docs.v2_proto.clone())
        } else {
            ("application/json", docs.v2_json.clone())
        };
        Ok(openapi_body(ct, body, &docs.v2_etag, false))
    }

    /// One group/version's v3 document; a stale `hash` is redirected to the current one, a
    /// current one may be cached for good (kube-openapi `handler3`).
    fn openapi_v3(&self, gv: &str) -> Result<Response, Status> {
        let served = self.st.registry.kinds_for(self.rt.name());
        let docs = crate::openapi::documents_for(self.rt.name(), &served);
        let Some((hash, bytes)) = docs.v3.get(gv) else {
            return Err(Status::path_not_found());
        };
        match self.query.get("hash") {
            Some(h) if h != hash => {
                let to = format!("/runtimes/{}/openapi/v3/{gv}?hash={hash}", self.rt.name());
                Ok((
                    StatusCode::MOVED_PERMANENTLY,
                    [(header::LOCATION, to)],
                    Vec::<u8>::new(),
                )
                    .into_response())
            }
            Some(_) => Ok(openapi_body("application/json", bytes.clone(), hash, true)),
            None => Ok(openapi_body("application/json", bytes.clone(), hash, false)),
        }
    }

    fn write_options(&self) -> Result<WriteOptions, Status> {
        self.write_options_for("UpdateOptions", None)
    }

    /// The query's `CreateOptions`, `UpdateOptions` or `PatchOptions`, validated as
    /// apimachinery's `ValidateCreateOptions`/`ValidateUpdateOptions`/`ValidatePatchOptions` do
    /// (422 `PatchOptions.meta.k8s.io "" is invalid: ...`).
    fn write_options_for(
        &self,
        options_kind: &str,
        patch: Option<negotiate::PatchType>,
    ) -> Result<WriteOptions, Status> {
        use twinstack_core::field::{BadValue, FieldError, Path};
        let q = self.query;
        let field_manager = q.get("fieldManager").map(String::as_str).unwrap_or("");
        let mut errs = Vec::new();
        match patch {
            Some(negotiate::PatchType::Apply) if field_manager.is_empty() => {
                // kubectl defaults it; controllers have to set it.
                errs.push(FieldError::required(
                    &Path::new("fieldManager"),
                    "is required for apply patch",
                ));
            }
            Some(negotiate::PatchType::Apply) => {}
            // Any value of `force` (even `false`) sets PatchOptions.Force.
            Some(_) if q.contains_key("force") => errs.push(FieldError::forbidden(
                &Path::new("force"),
                "may not be specified for non-apply patch",
            )),
            _ => {}
        }
        errs.extend(validate_field_manager(field_manager));
        let dry_run = match q.get("dryRun").map(String::as_str) {
            None => false,
            Some("All") => true,
            Some(other) => {
                errs.push(FieldError::not_supported(
                    &Path::new("dryRun"),
                    BadValue::list(&[other]),
                    &["All"],
                ));
                false
            }
        };
        let validation = match q.get("fieldValidation").map(String::as_str) {
            None | Some("") | Some("Warn") => FieldValidation::Warn,
            Some("Strict") => FieldValidation::Strict,
            Some("Ignore") => FieldValidation::Ignore,
            Some(other) => {
                errs.push(FieldError::not_supported(
                    &Path::new("fieldValidation"),
                    BadValue::str(other),
                    &["", "Ignore", "Strict", "Warn"],
                ));
                FieldValidation::Warn
            }
        };
        if !errs.is_empty() {
            return Err(Status::invalid_options(options_kind, &errs));
        }
        // Without fieldManager, the manager is the user agent's product name (as upstream's
        // managerOrUserAgent).
        let manager = if field_manager.is_empty() {
            header_str(self.headers, header::USER_AGENT)
                .and_then(|ua| ua.split('/').next())
                .unwrap_or("unknown")
                .to_string()
        } else {
            field_manager.to_string()
        };
        // PatchOptions.Force: absent is false; `0` and `false` (any case) are false; anything
        // else, even empty, is true (`Convert_Slice_string_To_Pointer_bool`).
        let force = q
            .get("force")
            .is_some_and(|f| f != "0" && !f.eq_ignore_ascii_case("false"));
        Ok(WriteOptions {
            dry_run,
            validation,
            manager,
            force,
        })
    }

    /// Decodes an object body of `bt` (create, update) as the apiserver's serializers do; JSON
    /// and YAML errors are `the object provided is unrecognized (must be of type X): ...`.
    fn decode_object(
        &self,
        kind: &dyn Kind,
        bt: negotiate::BodyType,
        bytes: &[u8],
    ) -> Result<twinstack_registry::decode::Decoded, Status> {
        let info = kind.info();
        let unrecognized = |err: &str| {
            Status::bad_request(twinstack_registry::decode::unrecognized(
                info.kind, err, bytes,
            ))
        };
        let decoded = match bt {
            negotiate::BodyType::Protobuf => {
                return twinstack_proto::decode_k8s_protobuf_as(
                    bytes,
                    Some(&info.api_version()),
                    Some(info.kind),
                )
                .map(twinstack_registry::decode::Decoded::plain)
                .map_err(|e| {
                    Status::bad_request(format!(
                        "{k} in version {v:?} cannot be handled as a {k}: {e}",
                        k = info.kind,
                        v = info.version
                    ))
                })
            }
            negotiate::BodyType::Yaml => twinstack_registry::decode::parse_yaml(bytes),
            negotiate::BodyType::Json => twinstack_registry::decode::parse_json(bytes),
        }
        .map_err(|e| unrecognized(&twinstack_registry::decode::interpret_error(&e)))?;
        if let Some(e) = twinstack_registry::decode::not_an_object(&decoded.value) {
            return Err(unrecognized(&e));
        }
        Ok(decoded)
    }

    /// Decodes a PATCH body of `ptype` with the apiserver's texts: JSON syntax errors are
    /// `error decoding patch: ...` under Warn/Strict (strictly decoded) and the library's own
    /// otherwise; a JSON patch's operations are strictly decoded too
    /// ([`twinstack_core::patch::json_patch_strict_errors`]).
    fn decode_patch(
        &self,
        ptype: negotiate::PatchType,
        bytes: &[u8],
        validation: FieldValidation,
    ) -> Result<twinstack_registry::decode::Decoded, Status> {
        use negotiate::PatchType;
        let strict = validation != FieldValidation::Ignore;
        if ptype == PatchType::Apply {
            return twinstack_registry::decode::parse_yaml(bytes).map_err(|e| {
                Status::bad_request(format!(
                    "error decoding YAML: error converting YAML to JSON: {e}"
                ))
            });
        }
        let mut decoded = twinstack_registry::decode::parse_json(bytes).map_err(|e| {
            Status::bad_request(match (ptype, strict) {
                (PatchType::Json | PatchType::Merge, true) => format!("error decoding patch: {e}"),
                // jsonpatch.MergePatch answers a syntax error with ErrBadJSONPatch.
                (PatchType::Merge, false) => "Invalid JSON Patch".to_string(),
                _ => e.to_string(),
            })
        })?;
        if !strict {
            decoded.strict_errors.clear();
            return Ok(decoded);
        }
        match ptype {
            PatchType::Json => {
                let mut errs: Vec<String> = decoded
                    .strict_errors
                    .iter()
                    .map(|e| format!("json patch {e}"))
                    .collect();
                errs.extend(
                    twinstack_core::patch::json_patch_strict_errors(&decoded.value)
                        .map_err(|e| e.to_status())?,
                );
                decoded.strict_errors = errs;
            }
            PatchType::Merge => {
                // Strictly decoded into a map[string]interface{} first.
                let kind = match &decoded.value {
                    Value::Object(_) | Value::Null => None,
                    Value::Array(_) => Some("array"),
                    Value::String(_) => Some("string"),
                    Value::Number(_) => Some("number"),
                    Value::Bool(_) => Some("bool"),
                };
                if let Some(kind) = kind {
                    return Err(Status::bad_request(format!(
                        "error decoding patch: json: cannot unmarshal {kind} into Go value of type map[string]interface {{}}"
                    )));
                }
            }
            _ => {}
        }
        Ok(decoded)
    }

    /// `pods/log`, `exec`, `attach`, `portforward` ([`crate::streams`]).
    async fn pod_stream(
        &self,
        rr: &ResourceRequest,
        kind: &dyn Kind,
        sub: &str,
    ) -> Result<Response, Status> {
        let (Some(pods), Some(name)) = (&self.st.pods, &rr.name) else {
            return Err(Status::path_not_found());
        };
        let obj = self
            .st
            .registry
            .get(&self.rt, kind, rr.namespace.as_deref(), name)?;
        let pod: k8s_openapi::api::core::v1::Pod =
            serde_json::from_value(obj).map_err(Status::internal)?;
        let query = Query::<Vec<(String, String)>>::try_from_uri(self.uri)
            .map(|q| q.0)
            .unwrap_or_default();
        let upgrade = self
            .upgrade
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        let req = crate::streams::Request {
            rt: self.rt.clone(),
            method: self.method,
            headers: self.headers,
            query,
            upgrade,
        };
        crate::streams::serve(pods, req, sub, pod).await
    }

    async fn resource(&self, rr: &ResourceRequest, body: Body) -> Result<Response, Status> {
        let Some(kind) =
            self.st
                .registry
                .kind_for(self.rt.name(), &rr.group, &rr.version, &rr.resource)
        else {
            return Err(Status::path_not_found());
        };
        if let Some(sub) = &rr.subresource {
            if let Some(custom) = kind.custom() {
                // Custom resources: `status` and `scale` as the CRD version declares them.
                if sub == "status" && custom.has_status() {
                    let view: Arc<dyn Kind> =
                        Arc::new(twinstack_registry::kinds::crd::StatusView(kind.clone()));
                    let rr = ResourceRequest {
                        subresource: None,
                        ..rr.clone()
                    };
                    return Box::pin(self.resource_as(&rr, view, body)).await;
                }
                if sub == "scale" && custom.scale_paths().is_some() {
                    return self.scale(rr, kind, body).await;
                }
                return Err(Status::path_not_found());
            }
            if sub == "scale" && kind.info().scale {
                return self.scale(rr, kind, body).await;
            }
            if sub == "token" && rr.group.is_empty() && rr.resource == "serviceaccounts" {
                return self.token_request(rr, body).await;
            }
            if rr.group.is_empty()
                && rr.resource == "pods"
                && crate::streams::SUBRESOURCES.contains(&sub.as_str())
            {
                return self.pod_stream(rr, kind.as_ref(), sub).await;
            }
            return Err(Status::path_not_found());
        }
        self.resource_as(rr, kind, body).await
    }

    /// The verbs of a resource (or of a custom resource's `status` view) on `kind`.
    async fn resource_as(
        &self,
        rr: &ResourceRequest,
        kind: Arc<dyn Kind>,
        body: Body,
    ) -> Result<Response, Status> {
        let info = kind.info();
        // The deprecated `/watch/` paths are routes for GET only.
        if rr.watch && self.verb != "watch" {
            return Err(Status::method_not_allowed(self.verb, info.subject()));
        }
        // Namespaced kinds addressed without a namespace: only list/watch across namespaces.
        let ns = if info.namespaced {
            rr.namespace.clone()
        } else {
            None
        };
        if !info.namespaced && rr.namespace.is_some() {
            return Err(Status::path_not_found());
        }
        let reg = &self.st.registry;
        let rt = self.rt.clone();
        match (self.verb, &rr.name) {
            ("get", Some(name)) => {
                let obj = reg.get(&rt, kind.as_ref(), ns.as_deref(), name)?;
                self.object_or_table(kind.as_ref(), obj)
            }
            ("list", None) => self.list(kind.as_ref(), ns.as_deref()).await,
            ("watch", _) => {
                let mut q = self.query.clone();
                if let Some(name) = &rr.name {
                    q.insert("fieldSelector".into(), format!("metadata.name={name}"));
                }
                let (labels, fields) = selectors(&q, kind.as_ref())?;
                let output = self.output()?;
                watch::serve(self.st.clone(), rt, kind, ns, &q, labels, fields, output).await
            }
            ("create", None) => {
                if info.namespaced && ns.is_none() {
                    return Err(Status::path_not_found());
                }
                let (bt, bytes) = self.body_bytes(body).await?;
                let opts = self.write_options_for("CreateOptions", None)?;
                let body = self.decode_object(kind.as_ref(), bt, &bytes)?;
                let r = reg.create_decoded(rt, kind.clone(), ns, body, opts).await?;
                let code = if r.created {
                    StatusCode::CREATED
                } else {
                    StatusCode::OK
                };
                Ok(self.respond(code, &r.object, &r.warnings))
            }
            ("update", Some(name)) => {
                let (bt, bytes) = self.body_bytes(body).await?;
                let opts = self.write_options_for("UpdateOptions", None)?;
                let body = self.decode_object(kind.as_ref(), bt, &bytes)?;
                let r = reg
                    .update_decoded(rt, kind.clone(), ns, name.clone(), body, opts)
                    .await?;
                Ok(self.respond(StatusCode::OK, &r.object, &r.warnings))
            }
            ("patch", Some(name)) => {
                let ptype = negotiate::patch_type(header_str(self.headers, header::CONTENT_TYPE))
                    .ok_or_else(|| {
                    Status::unsupported_media_type(negotiate::PATCH_TYPES_MESSAGE)
                })?;
                if kind.custom().is_some() && ptype == negotiate::PatchType::Strategic {
                    // Custom resources have no Go struct to take patch strategies from.
                    return Err(Status::unsupported_media_type(
                        negotiate::CUSTOM_PATCH_TYPES_MESSAGE,
                    ));
                }
                let bytes = read_body(body).await?;
                let opts = self.write_options_for("PatchOptions", Some(ptype))?;
                let patch = self.decode_patch(ptype, &bytes, opts.validation)?;
                let r = reg
                    .patch_decoded(rt, kind.clone(), ns, name.clone(), ptype, patch, opts)
                    .await?;
                let code = if r.created {
                    StatusCode::CREATED
                } else {
                    StatusCode::OK
                };
                Ok(self.respond(code, &r.object, &r.warnings))
            }
            ("delete", Some(name)) => {
                let opts = self.delete_options(read_body(body).await?)?;
                let d = reg
                    .delete_object(rt, kind.clone(), ns, name.clone(), opts.pre, opts.dry_run)
                    .await?;
                // handlers/delete.go: 202 only when the object is not gone yet and the client
                // asked for cascading deletion with the deprecated `orphanDependents: false`;
                // graceful deletion and finalizers otherwise answer 200.
                let code = if !d.deleted && opts.orphan_dependents == Some(false) {
                    StatusCode::ACCEPTED
                } else {
                    StatusCode::OK
                };
                Ok(self.respond(code, &d.object, &[]))
            }
            ("deletecollection", None) if info.verbs.contains(&"deletecollection") => {
                // Namespaced resources offer deletecollection only inside a namespace.
                if info.namespaced && ns.is_none() {
                    return Err(Status::method_not_allowed(
                        "deletecollection",
                        info.subject(),
                    ));
                }
                let (labels, fields) = selectors(self.query, kind.as_ref())?;
                let opts = self.delete_options(read_body(body).await?)?;
                let list = reg
                    .delete_collection(rt, kind.clone(), ns, labels, fields, opts.pre, opts.dry_run)
                    .await?;
                Ok(self.respond(StatusCode::OK, &list, &[]))
            }
            (verb, _) => Err(Status::method_not_allowed(verb, info.subject())),
        }
    }

    /// `DeleteOptions` from the body (JSON) and the query, as upstream's delete handlers read
    /// them: the body wins over query parameters.
    fn delete_options(&self, bytes: bytes_type::Bytes) -> Result<DeleteOpts, Status> {
        let opts: Value = if bytes.iter().all(u8::is_ascii_whitespace) {
            json!({})
        } else {
            serde_json::from_slice(&bytes)
                .map_err(|e| Status::bad_request(format!("invalid DeleteOptions: {e}")))?
        };
        let q = |k: &str| self.query.get(k).map(String::as_str);
        let orphan_dependents = opts
            .get("orphanDependents")
            .and_then(Value::as_bool)
            .or_else(|| q("orphanDependents").and_then(|v| v.parse().ok()));
        // `orphanDependents: true` is the deprecated spelling of the Orphan policy.
        let propagation_policy = opts
            .get("propagationPolicy")
            .and_then(Value::as_str)
            .or_else(|| q("propagationPolicy"))
            .map(String::from)
            .or_else(|| (orphan_dependents == Some(true)).then(|| "Orphan".to_string()));
        let pre = Preconditions {
            uid: opts
                .pointer("/preconditions/uid")
                .and_then(Value::as_str)
                .map(String::from),
            resource_version: opts
                .pointer("/preconditions/resourceVersion")
                .and_then(Value::as_str)
                .map(String::from),
            grace_period_seconds: opts
                .get("gracePeriodSeconds")
                .and_then(Value::as_i64)
                .or_else(|| q("gracePeriodSeconds")?.parse().ok()),
            propagation_policy,
        };
        let dry_run = q("dryRun") == Some("All")
            || opts
                .get("dryRun")
                .and_then(Value::as_array)
                .is_some_and(|a| a.iter().any(|v| v == "All"));
        Ok(DeleteOpts {
            pre,
            orphan_dependents,
            dry_run,
        })
    }

    /// `<workload>/scale` (autoscaling/v1 Scale), see `kinds::workload::serve_scale`.
    async fn scale(
        &self,
        rr: &ResourceRequest,
        kind: Arc<dyn Kind>,
        body: Body,
    ) -> Result<Response, Status> {
        let name = rr.name.clone().ok_or_else(Status::path_not_found)?;
        let patch = match self.verb {
            "update" => Some((negotiate::PatchType::Merge, {
                let bytes = read_body(body).await?;
                twinstack_registry::decode::parse_body(&bytes, false)
                    .or_else(|_| twinstack_registry::decode::parse_body(&bytes, true))
                    .map_err(Status::bad_request)?
            })),
            "patch" => {
                let ptype = negotiate::patch_type(header_str(self.headers, header::CONTENT_TYPE))
                    .ok_or_else(|| {
                    Status::unsupported_media_type(negotiate::PATCH_TYPES_MESSAGE)
                })?;
                let bytes = read_body(body).await?;
                let p = twinstack_registry::decode::parse_body(
                    &bytes,
                    ptype == negotiate::PatchType::Apply,
                )
                .map_err(Status::bad_request)?;
                Some((ptype, p))
            }
            _ => None,
        };
        let opts = self.write_options()?;
        if kind.custom().is_some() {
            let v = twinstack_registry::custom_scale::serve_scale(
                &self.st.registry,
                self.rt.clone(),
                kind,
                rr.namespace.clone(),
                name,
                self.verb,
                patch,
                opts,
            )
            .await?;
            return Ok(self.respond(StatusCode::OK, &v, &[]));
        }
        let v = twinstack_registry::kinds::workload::serve_scale(
            &self.st.registry,
            self.rt.clone(),
            kind,
            rr.namespace.clone(),
            name,
            self.verb,
            patch,
            opts,
        )
        .await?;
        Ok(self.respond(StatusCode::OK, &v, &[]))
    }

    /// `POST .../serviceaccounts/<name>/token` (TokenRequest, `kubectl create token`): a bound
    /// token for the ServiceAccount, answered as `authentication.k8s.io/v1` TokenRequest.
    async fn token_request(&self, rr: &ResourceRequest, body: Body) -> Result<Response, Status> {
        let (Some(name), Some(ns)) = (&rr.name, &rr.namespace) else {
            return Err(Status::path_not_found());
        };
        if self.verb != "create" {
            return Err(Status::method_not_allowed(
                self.verb,
                twinstack_core::status::Subject {
                    group: "authentication.k8s.io",
                    resource: "serviceaccounts/token",
                    kind: "TokenRequest",
                },
            ));
        }
        // kubectl sends protobuf; other clients JSON or YAML.
        let (bt, bytes) = self.body_bytes(body).await?;
        let mut req = match bt {
            negotiate::BodyType::Protobuf => twinstack_proto::decode_k8s_protobuf_as(
                &bytes,
                Some("authentication.k8s.io/v1"),
                Some("TokenRequest"),
            )
            .map_err(Status::bad_request)?,
            negotiate::BodyType::Yaml => {
                twinstack_registry::decode::parse_yaml(&bytes)
                    .map_err(|e| Status::bad_request(e.to_string()))?
                    .value
            }
            negotiate::BodyType::Json => {
                twinstack_registry::decode::parse_json(&bytes)
                    .map_err(|e| Status::bad_request(e.to_string()))?
                    .value
            }
        };
        let seconds = req
            .pointer("/spec/expirationSeconds")
            .and_then(Value::as_i64);
        let (token, expires) = self
            .st
            .registry
            .request_token(&self.rt, ns, name, seconds)?;
        let clock = &self.st.registry.clock;
        if !req.is_object() {
            req = json!({});
        }
        req["apiVersion"] = json!("authentication.k8s.io/v1");
        req["kind"] = json!("TokenRequest");
        let meta = req
            .as_object_mut()
            .expect("an object")
            .entry("metadata")
            .or_insert_with(|| json!({}));
        if meta.is_object() {
            meta["name"] = json!(name);
            meta["namespace"] = json!(ns);
            meta["creationTimestamp"] =
                json!(twinstack_registry::tokens::Clock::rfc3339(clock.now()));
        }
        let exp_seconds = expires - clock.now();
        req["spec"]["expirationSeconds"] = json!(exp_seconds);
        if req["spec"]["audiences"].is_null() {
            req["spec"]["audiences"] = json!([twinstack_registry::tokens::ISSUER]);
        }
        req["status"] = json!({
            "token": token,
            "expirationTimestamp": twinstack_registry::tokens::Clock::rfc3339(expires),
        });
        Ok(self.respond(StatusCode::CREATED, &req, &[]))
    }

    /// The body of a create or update and its media type (415 for an unknown one, 413 past
    /// the body limit), in the order of the apiserver's handlers.
    async fn body_bytes(
        &self,
        body: Body,
    ) -> Result<(negotiate::BodyType, bytes_type::Bytes), Status> {
        let ct = header_str(self.headers, header::CONTENT_TYPE);
        let bt = negotiate::body_type(ct).ok_or_else(|| {
            Status::unsupported_media_type(
                "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf",
            )
        })?;
        Ok((bt, read_body(body).await?))
    }

    fn object_or_table(&self, kind: &dyn Kind, obj: Value) -> Result<Response, Status> {
        match self.output()? {
            Output::Table => {
                let rv = obj
                    .pointer("/metadata/resourceVersion")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let t = table_of(kind, &[obj], &rv, self.query, true);
                Ok(json_response(StatusCode::OK, &t, &[]))
            }
            _ => Ok(self.respond(StatusCode::OK, &obj, &[])),
        }
    }

    /// LIST with kube-apiserver's pagination: `limit`/`continue`, `resourceVersion` and
    /// `resourceVersionMatch` (see [`Ctx::list_page`]).
    async fn list(&self, kind: &dyn Kind, ns: Option<&str>) -> Result<Response, Status> {
        let (labels, fields) = selectors(self.query, kind)?;
        let output = self.output()?;
        let filter = (labels.is_some() || fields.is_some()).then_some((&labels, &fields));
        let page = self.list_page(kind, ns, filter).await?;
        if filter.is_none() && output == Output::Json && kind.serves_stored_bytes() {
            return Ok(list_raw(kind, page));
        }
        let mut items = Vec::with_capacity(page.items.len());
        for item in page.items {
            items.push(match item {
                Listed::Object(v) => v,
                Listed::Stored(kv) => self.st.registry.read_stored(&self.rt, kind, &kv.value)?,
            });
        }
        let rv = page.revision.to_string();
        let mut body = match output {
            Output::Table => table_of(kind, &items, &rv, self.query, true),
            _ => json!({
                "kind": format!("{}List", kind.info().kind),
                "apiVersion": kind.info().api_version(),
                "metadata": {"resourceVersion": rv},
                "items": items,
            }),
        };
        if let Some(m) = body.get_mut("metadata").and_then(Value::as_object_mut) {
            if let Some(c) = page.continue_token {
                m.insert("continue".into(), Value::String(c));
            }
            if let Some(n) = page.remaining_item_count {
                m.insert("remainingItemCount".into(), json!(n));
            }
        }
        match output {
            Output::Table => Ok(json_response(StatusCode::OK, &body, &[])),
            _ => Ok(self.respond(StatusCode::OK, &body, &[])),
        }
    }

    /// Reads one page of a collection as kube-apiserver 1.32 does (etcd3 store `GetList` and
    /// the watch cache's `GetList`):
    /// - `continue`: the token's revision (or the latest for `-1`) from the token's key; a
    ///   compacted revision answers 410 with a token to go on at the latest revision;
    /// - `resourceVersion=0`: the whole collection at the latest revision, `limit` ignored (the
    ///   watch cache serves it);
    /// - `resourceVersionMatch=Exact`, or a `resourceVersion` with `limit` and no match: that
    ///   revision (410 when compacted);
    /// - otherwise the latest revision, not older than `resourceVersion` (waiting up to 3 s);
    /// - with `limit`, at most that many items and a continue token; with selectors, pages are
    ///   filled by reading on (doubling the read up to 10000 keys); `remainingItemCount` only
    ///   without selectors.
    async fn list_page(
        &self,
        kind: &dyn Kind,
        ns: Option<&str>,
        filter: Option<(&Option<LabelSelector>, &Option<FieldSelector>)>,
    ) -> Result<Page, Status> {
        use twinstack_core::pagination as pg;
        let q = self.query;
        let get = |k: &str| q.get(k).cloned().unwrap_or_default();
        let mut opts = pg::ListOptions {
            resource_version: get("resourceVersion"),
            resource_version_match: get("resourceVersionMatch"),
            limit: 0,
            continue_token: get("continue"),
            send_initial_events: q.contains_key("sendInitialEvents"),
        };
        if let Some(l) = q.get("limit") {
            opts.limit = pg::parse_limit(l).map_err(|e| Status::bad_request(e.to_string()))?;
        }
        let errs = pg::validate_list_options(&opts);
        if !errs.is_empty() {
            return Err(Status::invalid_options("ListOptions", &errs));
        }
        let reg = &self.st.registry;
        let prefix = twinstack_registry::registry::collection_prefix(self.rt.name(), kind, ns);
        let mut limit = usize::try_from(opts.limit.max(0)).unwrap_or(usize::MAX);
        let rv = opts.resource_version.as_str();
        let mut start: Option<String> = None;
        let mut at: Option<u64> = None;
        let continuing = !opts.continue_token.is_empty();
        if continuing {
            if !rv.is_empty() && rv != "0" {
                return Err(Status::bad_request(
                    "specifying resource version is not allowed when using continue",
                ));
            }
            let c = pg::decode_continue(&opts.continue_token)
                .map_err(|e| Status::bad_request(format!("invalid continue token: {e}")))?;
            start = Some(format!("{prefix}{}", c.start));
            at = u64::try_from(c.revision).ok();
        } else if rv == "0" {
            limit = 0;
        } else if !rv.is_empty() {
            let parsed = rv.parse::<u64>().map_err(|e| {
                format!(
                    "resourceVersion: Invalid value: {}: strconv.ParseUint: parsing {}: {}",
                    twinstack_core::field::go_quote(rv),
                    twinstack_core::field::go_quote(rv),
                    if matches!(e.kind(), std::num::IntErrorKind::PosOverflow) {
                        "value out of range"
                    } else {
                        "invalid syntax"
                    }
                )
            });
            let m = opts.resource_version_match.as_str();
            if m == "Exact" || (m.is_empty() && limit > 0) {
                // Served by etcd at that revision.
                at =
                    Some(parsed.map_err(|e| {
                        Status::bad_request(format!("invalid resource version: {e}"))
                    })?);
            } else {
                // Served by the watch cache once it has seen that revision.
                self.wait_for_revision(parsed.map_err(Status::unknown_error)?)
                    .await?;
            }
        }
        let store = &reg.store;
        let mut page = Page {
            items: Vec::new(),
            revision: 0,
            continue_token: None,
            remaining_item_count: None,
        };
        let mut batch = limit;
        let mut last_key = String::new();
        let mut more;
        loop {
            let read = store
                .list_at(&prefix, start.as_deref(), batch, at)
                .map_err(|e| self.list_error(e, continuing, start.as_deref(), &prefix))?;
            page.revision = read.revision;
            at = Some(read.revision);
            more = false;
            let fetched = read.items.len();
            for kv in read.items {
                if limit > 0 && page.items.len() >= limit {
                    more = true;
                    break;
                }
                last_key.clone_from(&kv.key);
                match filter {
                    None => page.items.push(Listed::Stored(kv)),
                    Some((labels, fields)) => {
                        let obj = reg.read_stored(&self.rt, kind, &kv.value)?;
                        if matches(kind, &obj, labels, fields) {
                            page.items.push(Listed::Object(obj));
                        }
                    }
                }
            }
            if filter.is_none() && read.more {
                page.remaining_item_count = Some(read.remaining as i64);
            }
            if more || !read.more || limit == 0 {
                more = more || (read.more && limit > 0);
                break;
            }
            if page.items.len() >= limit {
                more = true;
                break;
            }
            // A selector dropped items: read on from the last key, twice as much.
            let _ = fetched;
            start = Some(format!("{last_key}\u{0}"));
            batch = (batch * 2).min(pg::MAX_FETCH);
        }
        if more {
            let rel = last_key.strip_prefix(&prefix).unwrap_or(&last_key);
            page.continue_token = Some(pg::encode_continue(rel, page.revision as i64));
        } else {
            page.remaining_item_count = None;
        }
        Ok(page)
    }

    /// What a list answers when the store cannot read at the revision asked for.
    fn list_error(
        &self,
        e: twinstack_store::StoreError,
        continuing: bool,
        start: Option<&str>,
        prefix: &str,
    ) -> Status {
        use twinstack_core::pagination as pg;
        match e {
            twinstack_store::StoreError::Compacted { .. } if continuing => {
                // handleCompactedErrorForPaging: go on from the same key at the latest revision.
                let rel = start.and_then(|s| s.strip_prefix(prefix)).unwrap_or("");
                let mut s = Status::expired(pg::INCONSISTENT_CONTINUE);
                s.metadata = json!({"continue": pg::encode_continue_from(rel, -1)});
                s
            }
            twinstack_store::StoreError::Compacted { .. } => Status::expired(pg::EXPIRED),
            twinstack_store::StoreError::FutureRevision { .. } => {
                Status::unknown_error("etcdserver: mvcc: required revision is a future revision")
            }
            other => Status::internal(other),
        }
    }

    /// The watch cache's `waitUntilFreshAndBlock`: a list not older than `rv` waits up to 3 s for
    /// the store to reach it, then answers 504 `Too large resource version`.
    async fn wait_for_revision(&self, rv: u64) -> Result<(), Status> {
        let store = &self.st.registry.store;
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(3);
        loop {
            let current = store.current_revision();
            if current >= rv {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                let mut s = Status::timeout(
                    &format!("Too large resource version: {rv}, current: {current}"),
                    1,
                );
                if let Some(d) = s.details.as_mut() {
                    d.causes.push(twinstack_core::status::StatusCause {
                        reason: Some("ResourceVersionTooLarge".into()),
                        message: Some("Too large resource version".into()),
                        field: None,
                    });
                }
                return Err(s);
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

/// A page of a list.
struct Page {
    items: Vec<Listed>,
    revision: u64,
    continue_token: Option<String>,
    remaining_item_count: Option<i64>,
}

/// An item of a page: the stored bytes, or the object already decoded to test a selector.
enum Listed {
    Stored(twinstack_store::KeyValue),
    Object(Value),
}

/// A JSON list built from the stored bytes without decoding them: the common
/// `kubectl get -o json` / client-library list stays cheap for large collections.
fn list_raw(kind: &dyn Kind, page: Page) -> Response {
    let info = kind.info();
    let mut meta = json!({"resourceVersion": page.revision.to_string()});
    if let Some(c) = page.continue_token {
        meta["continue"] = Value::String(c);
    }
    if let Some(n) = page.remaining_item_count {
        meta["remainingItemCount"] = json!(n);
    }
    let head = json!({"kind": format!("{}List", info.kind), "apiVersion": info.api_version(),
        "metadata": meta});
    let mut body = serde_json::to_vec(&head).unwrap_or_default();
    body.pop(); // the closing brace
    body.extend_from_slice(b",\"items\":[");
    let total: usize = page
        .items
        .iter()
        .map(|i| match i {
            Listed::Stored(kv) => kv.value.len() + 1,
            Listed::Object(_) => 0,
        })
        .sum();
    body.reserve(total + 2);
    for (i, item) in page.items.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        match item {
            Listed::Stored(kv) => body.extend_from_slice(&kv.value),
            Listed::Object(v) => body.extend_from_slice(&serde_json::to_vec(v).unwrap_or_default()),
        }
    }
    body.extend_from_slice(b"]}");
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

/// `apimachinery ValidateFieldManager`: at most 128 bytes of printable characters.
fn validate_field_manager(m: &str) -> Vec<twinstack_core::field::FieldError> {
    use twinstack_core::field::{BadValue, FieldError, Path};
    let path = Path::new("fieldManager");
    let mut errs = Vec::new();
    if m.len() > 128 {
        errs.push(FieldError::too_long(&path, 128));
    }
    for (i, c) in m.char_indices() {
        if !go_is_print(c) {
            errs.push(FieldError::invalid(
                &path,
                BadValue::str(m),
                format!("invalid character U+{:04X} (at position {i})", c as u32),
            ));
        }
    }
    errs
}

/// Go's `unicode.IsPrint`: letters, marks, numbers, punctuation, symbols and the ASCII space.
fn go_is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    let format_char = matches!(c as u32, 0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x180E
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB);
    !(c.is_control() || c.is_whitespace() || format_char)
}

/// An OpenAPI document with its ETag; one addressed by its current hash may be cached for good.
fn openapi_body(
    ct: &'static str,
    body: bytes_type::Bytes,
    etag: &str,
    immutable: bool,
) -> Response {
    let mut resp = (StatusCode::OK, [(header::CONTENT_TYPE, ct)], body).into_response();
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{etag}\"")) {
        h.insert(header::ETAG, v);
    }
    if immutable {
        h.insert(header::VARY, HeaderValue::from_static("Accept"));
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, immutable"),
        );
    }
    resp
}

/// The content type kube-openapi answers the protobuf v2 document with.
const OPENAPI_V2_PROTO: &str = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

/// Which form of the v2 document an Accept header asks for: `Some(true)` protobuf,
/// `Some(false)` JSON (also for no header or `*/*`), `None` neither.
fn openapi_v2_wants_protobuf(accept: &str) -> Option<bool> {
    if accept.trim().is_empty() {
        return Some(false);
    }
    let mut clauses: Vec<(f32, &str)> = accept
        .split(',')
        .map(|c| {
            let mut parts = c.split(';').map(str::trim);
            let ty = parts.next().unwrap_or("");
            let q = parts
                .find_map(|p| p.strip_prefix("q="))
                .and_then(|q| q.parse().ok())
                .unwrap_or(1.0);
            (q, ty)
        })
        .filter(|(q, _)| *q > 0.0)
        .collect();
    clauses.sort_by(|a, b| b.0.total_cmp(&a.0));
    clauses.into_iter().find_map(|(_, ty)| match ty {
        "application/json" | "application/*" | "*/*" => Some(false),
        "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
        | "application/com.github.proto-openapi.spec.v2.v1.0+protobuf" => Some(true),
        _ => None,
    })
}

/// What a DELETE carries besides the target.
struct DeleteOpts {
    pre: Preconditions,
    orphan_dependents: Option<bool>,
    dry_run: bool,
}

/// Parses `labelSelector` and `fieldSelector`, refusing fields the kind does not index.
pub fn selectors(
    q: &HashMap<String, String>,
    kind: &dyn Kind,
) -> Result<(Option<LabelSelector>, Option<FieldSelector>), Status> {
    let labels = match q.get("labelSelector").filter(|s| !s.is_empty()) {
        Some(s) => Some(LabelSelector::parse(s).map_err(Status::bad_request)?),
        None => None,
    };
    let fields = match q.get("fieldSelector").filter(|s| !s.is_empty()) {
        Some(s) => {
            // Field labels go through the per-kind conversion of the API group, which refuses
            // unknown ones with upstream's text (core/v1 and other groups word it differently).
            let info = kind.info();
            let f = FieldSelector::parse(s)
                .and_then(|f| f.transform(|l| convert_field_label(info.group, info.kind, l)))
                .map_err(Status::bad_request)?;
            let probe = json!({});
            for name in f.fields() {
                if kind.field(&probe, &name).is_none() {
                    return Err(Status::bad_request(format!(
                        "field label not supported: {name}"
                    )));
                }
            }
            Some(f)
        }
        None => None,
    };
    Ok((labels, fields))
}
