//! The cloud APIs the CLIs call, per runtime, read-only (`twinstack_cloud::api` answers):
//!
//! - `/cloud/aws/{runtime}`: the ELBv2 and EC2 Query APIs (`aws --endpoint-url`), authenticated
//!   by Signature Version 4 with access key id = the runtime's name and secret = its token; the
//!   service is the one the signature's credential scope names.
//! - `/cloud/gcp/{runtime}/compute/v1/...`: the Compute Engine REST resources `gcloud compute`
//!   reads (`CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE`), with the runtime's token as the bearer
//!   access token and project = the runtime's name.

use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use twinstack_cloud::api::aws::{self as aws_api, AwsService, AwsView};
use twinstack_cloud::api::gcp::{self as gcp_api, GcpView};
use twinstack_cloud::api::{form, sigv4};
use twinstack_cloud::inventory::{Network, Vpc};
use twinstack_registry::cloud_inventory;
use twinstack_registry::runtimes::token_eq;

/// Query API requests are small forms; 64 KiB is far above any describe call.
const MAX_FORM: usize = 64 * 1024;

fn xml(status: u16, body: String) -> Response {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [(header::CONTENT_TYPE, "text/xml")],
        body,
    )
        .into_response()
}

fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The service named in `Authorization`'s credential scope (`.../<region>/<service>/aws4_request`),
/// to shape an authentication error in that service's format.
fn scope_service(headers: &HeaderMap) -> AwsService {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split("Credential=").nth(1))
        .and_then(|c| c.split([',', ' ']).next())
        .and_then(|c| c.split('/').nth(3))
        .and_then(AwsService::from_signing_name)
        .unwrap_or(AwsService::Elbv2)
}

pub async fn aws(
    State(st): State<Arc<AppState>>,
    Path(runtime): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let id = request_id();
    let service = scope_service(&headers);
    let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM).await else {
        let e = aws_api::AwsError::new(413, "RequestEntityTooLarge", "Request body too large");
        return xml(413, aws_api::error_xml(service, &e, &id));
    };
    let rt = st.registry.runtime(&runtime);
    let header_list: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let req = sigv4::Request {
        method: method.as_str(),
        path: uri.path(),
        query: uri.query().unwrap_or(""),
        headers: &header_list,
        body: &bytes,
    };
    let now = jiff::Timestamp::now().as_second();
    // Only this runtime's own key opens it; another runtime's key is unknown here.
    let secret_of = |key: &str| {
        rt.as_ref()
            .filter(|rt| token_eq(key, rt.name()))
            .map(|rt| rt.record.token.clone())
    };
    let verified = match sigv4::verify(&req, secret_of, now) {
        Ok(v) => v,
        Err(e) => {
            tracing::debug!(%runtime, "cloud API authentication failed: {e}");
            let err = aws_api::auth_error(service, &e);
            return xml(err.status, aws_api::error_xml(service, &err, &id));
        }
    };
    let Some(rt) = rt else {
        let err = aws_api::AwsError::new(
            403,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        );
        return xml(403, aws_api::error_xml(service, &err, &id));
    };
    let service = AwsService::from_signing_name(&verified.service).unwrap_or(service);
    let mut params = form::parse(uri.query().unwrap_or("").as_bytes());
    params.extend(form::parse(&bytes));
    let inv = cloud_inventory::load(&st.registry.store, rt.name());
    let empty_vpc = Vpc {
        vpc_id: String::new(),
        cidr_block: "10.250.0.0/16".parse().expect("static range"),
        ipv6_cidr_block: None,
        subnets: Vec::new(),
        tags: Default::default(),
    };
    let account = twinstack_cloud::aws::account_id(rt.name());
    // Target health as the data plane's health checks measured it, once they have a verdict
    // (before that, the registration's view: healthy where a Local node has an endpoint).
    let mut load_balancers = inv.load_balancers.clone();
    if let Some(dp) = &st.dataplane {
        let measured = dp.target_health(rt.name());
        for tg in load_balancers
            .iter_mut()
            .flat_map(|lb| lb.target_groups.iter_mut())
        {
            for t in &mut tg.targets {
                match measured.get(&(tg.target_group_arn.clone(), t.id.clone())) {
                    Some(s) if *s != "initial" => t.observe(s),
                    _ => {}
                }
            }
        }
    }
    let view = AwsView {
        vpc: inv.vpc.as_ref().unwrap_or(&empty_vpc),
        load_balancers: &load_balancers,
        region: &rt.record.region,
        account_id: &account,
    };
    let (status, body) = aws_api::handle(service, &params, &view, &id);
    xml(status, body)
}

pub async fn gcp(
    State(st): State<Arc<AppState>>,
    Path((runtime, rest)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(s, _)| s.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim());
    let rt = st.registry.runtime(&runtime);
    let authorized = match (&rt, token) {
        (Some(rt), Some(t)) => token_eq(t, &rt.record.token),
        _ => false,
    };
    let Some(rt) = rt.filter(|_| authorized) else {
        let body = serde_json::json!({"error": {
            "code": 401,
            "message": "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
            "errors": [{"message": "Invalid Credentials", "domain": "global", "reason": "authError", "location": "Authorization", "locationType": "header"}],
            "status": "UNAUTHENTICATED"}});
        return (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
    };
    let query = form::parse(uri.query().unwrap_or("").as_bytes());
    let inv = cloud_inventory::load(&st.registry.store, rt.name());
    let empty = Network {
        name: rt.name().to_string(),
        subnetworks: Vec::new(),
    };
    let view = GcpView {
        network: inv.network.as_ref().unwrap_or(&empty),
        forwarding_rules: &inv.forwarding_rules,
        addresses: &[],
        region: &rt.record.region,
    };
    let (status, body) = gcp_api::handle(method.as_str(), &rest, &query, &view, rt.name());
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        axum::Json(body),
    )
        .into_response()
}
