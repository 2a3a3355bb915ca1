//! The api-gateway's APIRule v2 reconciliation (kyma-project/api-gateway,
//! `internal/validation/v2alpha1`, `internal/processing/processors/v2alpha1`,
//! `internal/processing/status/v2alpha1.go`), as a pure function of the APIRule and what the
//! controller lists: Gateways, VirtualServices, Services and pods.
//!
//! - Validation: no rules or hosts, a rule without a service, a short host whose Gateway has
//!   no single `*.<domain>` host, a host another VirtualService occupies, `{**}` misuse, a
//!   path/method conflict, the gateway missing, and a target pod without an Istio sidecar,
//!   each with the module's message. Failures make the status `Error` with
//!   `Validation errors: Attribute '<path>': <message>` (three at most, then `N more
//!   error(s)...`), and nothing is changed.
//! - Otherwise the desired objects: one VirtualService (`generateName: <apirule>-`, routes per
//!   rule, method and path regexes, timeout 180 s by default, `x-forwarded-host`, CORS headers
//!   removed), one ALLOW AuthorizationPolicy per rule and JWT authorization (the ingress
//!   gateway's principal as the source; JWT issuers as request principals), and one
//!   RequestAuthentication per JWT rule. Status `Ready`, `Reconciled successfully`.
//!
//! Not modelled: `extAuth` providers (the mesh config's extension providers), ExternalGateway
//! resources, the `v1beta1` Ory migration.

use k8s_openapi::api::core::v1::{Pod, Service};
use serde_json::{json, Value};

pub const OWNER_NAME: &str = "apirule.gateway.kyma-project.io/name";
pub const OWNER_NAMESPACE: &str = "apirule.gateway.kyma-project.io/namespace";
/// The index label of the hash-based state the module keeps its AuthorizationPolicies by.
pub const INDEX: &str = "gateway.kyma-project.io/index";
/// The istio sidecar container's name (`istioSidecarContainerName`).
pub const SIDECAR: &str = "istio-proxy";
/// The ingress gateway's workload principal (`internal/builders/istio.go`).
pub const GATEWAY_PRINCIPAL: &str =
    "cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account";
const DEFAULT_TIMEOUT: u64 = 180;
const TROUBLESHOOTING: &str =
    "https://kyma-project.io/#/api-gateway/user/troubleshooting-guides/03-70-empty-apirule-spec";

/// One validation failure (`validation.Failure`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub path: String,
    pub message: String,
}

fn fail(path: impl Into<String>, message: impl Into<String>) -> Failure {
    Failure {
        path: path.into(),
        message: message.into(),
    }
}

/// What the controller lists besides the APIRule.
pub struct Inputs<'a> {
    pub apirule: &'a Value,
    /// Istio Gateways of every namespace.
    pub gateways: &'a [Value],
    /// VirtualServices of every namespace.
    pub virtual_services: &'a [Value],
    pub services: &'a [Service],
    pub pods: &'a [Pod],
}

/// What the reconciliation leaves.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub failures: Vec<Failure>,
    /// The VirtualService (without its generated name) when valid.
    pub virtual_service: Option<Value>,
    /// The AuthorizationPolicies, each labelled with its [`INDEX`].
    pub authorization_policies: Vec<Value>,
    pub request_authentications: Vec<Value>,
    /// `state` and `description`.
    pub status: Value,
}

fn s<'a>(v: &'a Value, p: &str) -> &'a str {
    v.pointer(p).and_then(Value::as_str).unwrap_or("")
}

fn is_short_host(h: &str) -> bool {
    !h.contains('.')
}

/// `helpers.IsFqdnOrWildcardHostName`.
fn is_fqdn_or_wildcard(h: &str) -> bool {
    let re = regex::Regex::new(
        r"^(?:\*\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$",
    )
    .expect("a valid pattern");
    h.len() <= 255 && re.is_match(h)
}

fn gateway_of<'a>(name: &str, gateways: &'a [Value]) -> Option<&'a Value> {
    gateways
        .iter()
        .find(|g| format!("{}/{}", s(g, "/metadata/namespace"), s(g, "/metadata/name")) == name)
}

fn server_hosts(g: &Value) -> Vec<Vec<String>> {
    g.pointer("/spec/servers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|srv| {
            srv.get("hosts")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|h| h.as_str().map(String::from))
                .collect()
        })
        .collect()
}

fn gateway_domain(g: Option<&Value>) -> String {
    g.and_then(|g| server_hosts(g).into_iter().find(|h| !h.is_empty()))
        .map(|h| h[0].trim_start_matches("*.").to_string())
        .unwrap_or_default()
}

fn single_wildcard_host(g: &Value) -> bool {
    let mut host = None;
    for hosts in server_hosts(g) {
        if hosts.len() != 1 || !hosts[0].starts_with("*.") {
            return false;
        }
        match &host {
            None => host = Some(hosts[0].clone()),
            Some(h) if *h != hosts[0] => return false,
            _ => {}
        }
    }
    true
}

fn with_domain(host: &str, domain: &str) -> String {
    if is_short_host(host) && !domain.is_empty() {
        format!("{host}.{domain}")
    } else {
        host.to_string()
    }
}

fn owned_by(vs: &Value, name: &str, ns: &str) -> bool {
    let l = |k: &str| {
        vs.pointer("/metadata/labels")
            .and_then(|l| l.get(k))
            .and_then(Value::as_str)
    };
    if let Some(v) = l("apirule.gateway.kyma-project.io/v1beta1") {
        return v == format!("{name}.{ns}");
    }
    l(OWNER_NAME) == Some(name) && l(OWNER_NAMESPACE) == Some(ns)
}

fn rules(ar: &Value) -> Vec<&Value> {
    ar.pointer("/spec/rules")
        .and_then(Value::as_array)
        .map(|r| r.iter().collect())
        .unwrap_or_default()
}

fn methods(rule: &Value) -> Vec<String> {
    rule.get("methods")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| m.as_str().map(String::from))
        .collect()
}

/// The Service a rule sends to: (namespace, name, port).
fn target(ar: &Value, rule: &Value) -> Option<(String, String, u64)> {
    let svc = rule
        .get("service")
        .or_else(|| ar.pointer("/spec/service"))?;
    let ns = svc
        .get("namespace")
        .and_then(Value::as_str)
        .unwrap_or(s(ar, "/metadata/namespace"));
    Some((
        ns.to_string(),
        s(svc, "/name").to_string(),
        svc.get("port").and_then(Value::as_u64).unwrap_or(0),
    ))
}

/// The `{**}` rules of `validateEnvoyTemplate`.
fn validate_path(at: &str, path: &str) -> Vec<Failure> {
    let n = path.matches("{**}").count();
    if n == 0 {
        return vec![];
    }
    if n > 1 {
        return vec![fail(at, "Only one {**} operator is allowed in the path.")];
    }
    let mut last = false;
    for seg in path.trim_start_matches('/').split('/') {
        if seg == "{*}" || seg == "{**}" {
            if last {
                return vec![fail(
                    at,
                    "The {**} operator must be the last operator in the path.",
                )];
            }
            last = seg == "{**}";
        }
    }
    vec![]
}

/// Whether the earlier rule path `p` (with `{*}` and `{**}`) already matches the later path
/// `q` taken literally: the module's segment trie (`InsertAndCheckCollisions`), where an
/// earlier wildcard shadows a later path but a later wildcard after specific paths is fine.
fn shadows(p: &[&str], q: &[&str]) -> bool {
    match p.first() {
        None => q.is_empty(),
        Some(&"{**}") => {
            let rest = &p[1..];
            rest.is_empty() || (0..=q.len()).any(|i| rest == &q[i..])
        }
        Some(&"{*}") => !q.is_empty() && shadows(&p[1..], &q[1..]),
        Some(x) => q.first() == Some(x) && shadows(&p[1..], &q[1..]),
    }
}

fn segments(path: &str) -> Vec<&str> {
    let p = if path == "/*" { "/{**}" } else { path };
    p.trim_start_matches('/').split('/').collect()
}

/// `hasPathByMethodConflict`: the first path of a method that collides with an earlier one.
fn path_method_conflict(at: &str, rules: &[&Value]) -> Vec<Failure> {
    let mut by_method: Vec<(String, Vec<String>)> = Vec::new();
    for r in rules {
        let path = s(r, "/path").to_string();
        for m in methods(r) {
            match by_method.iter_mut().find(|(k, _)| *k == m) {
                Some((_, v)) => v.push(path.clone()),
                None => by_method.push((m, vec![path.clone()])),
            }
        }
    }
    for (m, paths) in by_method {
        for (i, p) in paths.iter().enumerate() {
            let shown = if p == "/*" { "/{**}" } else { p.as_str() };
            if paths[..i]
                .iter()
                .any(|q| shadows(&segments(q), &segments(p)))
            {
                return vec![fail(
                    at,
                    format!("Path {shown} with method {m} conflicts with at least one of the previous rule paths"),
                )];
            }
        }
    }
    vec![]
}

fn selector_of<'a>(services: &'a [Service], ns: &str, name: &str) -> Option<&'a Service> {
    services.iter().find(|s| {
        s.metadata.namespace.as_deref() == Some(ns) && s.metadata.name.as_deref() == Some(name)
    })
}

fn pod_matches(p: &Pod, ns: &str, sel: &std::collections::BTreeMap<String, String>) -> bool {
    let labels = p.metadata.labels.clone().unwrap_or_default();
    p.metadata.namespace.as_deref() == Some(ns)
        && p.metadata.deletion_timestamp.is_none()
        && sel.iter().all(|(k, v)| labels.get(k) == Some(v))
}

fn has_sidecar(p: &Pod) -> bool {
    p.spec.as_ref().is_some_and(|s| {
        s.containers.iter().any(|c| c.name == SIDECAR)
            || s.init_containers
                .iter()
                .flatten()
                .any(|c| c.name == SIDECAR)
    })
}

/// `validateSidecarInjection` of one rule.
fn validate_injection(at: &str, inp: &Inputs<'_>, rule: &Value) -> Vec<Failure> {
    let Some((ns, name, _)) = target(inp.apirule, rule) else {
        return vec![];
    };
    let Some(svc) = selector_of(inp.services, &ns, &name) else {
        return vec![fail(
            at,
            format!("Failed to execute sidecar injection validation, err: services \"{name}\" not found"),
        )];
    };
    let Some(sel) = svc
        .spec
        .as_ref()
        .and_then(|s| s.selector.clone())
        .filter(|s| !s.is_empty())
    else {
        return vec![fail(
            format!("{at}.injection"),
            "Target service label selectors are not defined",
        )];
    };
    inp.pods
        .iter()
        .filter(|p| pod_matches(p, &ns, &sel) && !has_sidecar(p))
        .map(|p| {
            fail(
                at,
                format!(
                    "Pod {}/{} does not have an injected istio sidecar",
                    ns,
                    p.metadata.name.as_deref().unwrap_or("")
                ),
            )
        })
        .collect()
}

/// `APIRuleValidator.Validate` for v2 (same as v2alpha1).
pub fn validate(inp: &Inputs<'_>) -> Vec<Failure> {
    let ar = inp.apirule;
    let spec = ar.get("spec").cloned().unwrap_or(Value::Null);
    if spec.as_object().is_none_or(|m| m.is_empty()) {
        return vec![fail(
            ".spec",
            format!("APIRule in version v2alpha1 contains an empty spec. To troubleshoot, see {TROUBLESHOOTING}."),
        )];
    }
    let mut out = Vec::new();
    // validateRules
    let rs = rules(ar);
    if rs.is_empty() {
        out.push(fail(".spec.rules", "No rules defined"));
    } else {
        for (i, r) in rs.iter().enumerate() {
            let at = format!(".spec.rules[{i}]");
            if ar.pointer("/spec/service").is_none() && r.get("service").is_none() {
                out.push(fail(
                    format!("{at}.service"),
                    "The rule must define a service, because no service is defined on spec level",
                ));
            }
            if let Some(jwt) = r.get("jwt") {
                let authn = jwt
                    .get("authentications")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
                if authn == 0 {
                    out.push(fail(
                        format!("{at}.jwt.authentications"),
                        "A JWT config must have at least one authentication",
                    ));
                }
            }
            out.extend(validate_injection(&at, inp, r));
            out.extend(validate_path(&format!("{at}.path"), s(r, "/path")));
        }
        out.extend(path_method_conflict(".spec.rules", &rs));
    }
    // validateHosts
    let gw_name = s(ar, "/spec/gateway");
    let gateway = gateway_of(gw_name, inp.gateways);
    let hosts: Vec<&str> = ar
        .pointer("/spec/hosts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if hosts.is_empty() {
        out.push(fail(".spec.hosts", "No hosts defined"));
    }
    let (name, ns) = (s(ar, "/metadata/name"), s(ar, "/metadata/namespace"));
    for (i, h) in hosts.iter().enumerate() {
        let at = format!(".spec.hosts[{i}]");
        let mut domain = String::new();
        if is_short_host(h) {
            match gateway {
                None => out.push(fail(&at, format!("Unable to find Gateway \"{gw_name}\""))),
                Some(g) if !single_wildcard_host(g) => out.push(fail(
                    &at,
                    "Lowercase RFC 1123 label (short host) is only supported as the APIRule host when selected Gateway has a single host definition matching *.<fqdn> format",
                )),
                Some(_) => {}
            }
            domain = gateway_domain(gateway);
        } else if !is_fqdn_or_wildcard(h) {
            out.push(fail(&at, "Host must be a valid FQDN or short host name"));
        }
        let full = with_domain(h, &domain);
        for vs in inp.virtual_services {
            let occupies = vs
                .pointer("/spec/hosts")
                .and_then(Value::as_array)
                .is_some_and(|hs| hs.iter().any(|x| x.as_str() == Some(full.as_str())));
            if occupies && !owned_by(vs, name, ns) {
                out.push(fail(&at, "Host is occupied by another Virtual Service"));
            }
        }
    }
    // validateGateway
    let has_gw = ar.pointer("/spec/gateway").is_some();
    let has_ext = ar.pointer("/spec/externalGateway").is_some();
    match (has_gw, has_ext) {
        (false, false) => out.push(fail(
            ".spec",
            "Either gateway or externalGateway must be specified",
        )),
        (true, true) => out.push(fail(
            ".spec",
            "Only one of gateway or externalGateway can be specified",
        )),
        (true, false) if gateway.is_none() => out.push(fail(".spec.gateway", "Gateway not found")),
        (false, true) => out.push(fail(".spec.externalGateway", "ExternalGateway not found")),
        _ => {}
    }
    out
}

/// `GenerateStatusFromFailures`.
pub fn status_from_failures(failures: &[Failure]) -> Value {
    if failures.is_empty() {
        return json!({"state": "Ready", "description": "Reconciled successfully"});
    }
    let mut msgs: Vec<String> = failures
        .iter()
        .take(3)
        .map(|f| format!("Attribute '{}': {}", f.path, f.message))
        .collect();
    if failures.len() > 3 {
        msgs.push(format!("{} more error(s)...", failures.len() - 3));
    }
    json!({"state": "Error", "description": format!("Validation errors: {}", msgs.join("\n"))})
}

fn labels(name: &str, ns: &str) -> Value {
    json!({
        OWNER_NAME: name, OWNER_NAMESPACE: ns,
        "kyma-project.io/module": "api-gateway",
        "app.kubernetes.io/managed-by": "api-gateway",
        "app.kubernetes.io/component": "api-gateway",
        "app.kubernetes.io/part-of": "api-gateway",
    })
}

/// `prepareRegexPath`.
fn regex_path(path: &str) -> String {
    let p = path
        .replace("{**}", "([A-Za-z0-9-._~!$&'()*+,;=:@/]|%[0-9a-fA-F]{2})*")
        .replace("{*}", "([A-Za-z0-9-._~!$&'()*+,;=:@]|%[0-9a-fA-F]{2})+");
    format!("^{p}$")
}

fn applies_to_all_paths(path: &str) -> bool {
    path == "/*" || path == "/{**}"
}

fn virtual_service(inp: &Inputs<'_>, hosts: &[String], gateway: &str) -> Value {
    let ar = inp.apirule;
    let (name, ns) = (s(ar, "/metadata/name"), s(ar, "/metadata/namespace"));
    let spec_timeout = ar.pointer("/spec/timeout").and_then(Value::as_u64);
    let http: Vec<Value> = rules(ar)
        .iter()
        .filter_map(|r| {
            let (tns, tname, port) = target(ar, r)?;
            let path = s(r, "/path");
            let uri = if applies_to_all_paths(path) {
                json!({"prefix": "/"})
            } else {
                json!({"regex": regex_path(path)})
            };
            let timeout = r
                .get("timeout")
                .and_then(Value::as_u64)
                .or(spec_timeout)
                .unwrap_or(DEFAULT_TIMEOUT);
            let mut set = serde_json::Map::new();
            let first = hosts.first().cloned().unwrap_or_default();
            set.insert(
                "x-forwarded-host".into(),
                json!(if first.starts_with("*.") {
                    "%REQ(:AUTHORITY)%".to_string()
                } else {
                    first
                }),
            );
            if let Some(h) = r.pointer("/request/headers").and_then(Value::as_object) {
                set.extend(h.clone());
            }
            let mut route = json!({
                "match": [{"method": {"regex": format!("^({})$", methods(r).join("|"))}, "uri": uri}],
                "route": [{"destination": {"host": format!("{tname}.{tns}.svc.cluster.local"), "port": {"number": port}}, "weight": 100}],
                "timeout": format!("{timeout}s"),
                "headers": {
                    "request": {"set": set},
                    "response": {"remove": ["Access-Control-Allow-Origin", "Access-Control-Expose-Headers", "Access-Control-Allow-Headers", "Access-Control-Allow-Credentials", "Access-Control-Allow-Methods", "Access-Control-Max-Age"]},
                },
            });
            if let Some(c) = ar.pointer("/spec/corsPolicy") {
                route["corsPolicy"] = c.clone();
            }
            Some(route)
        })
        .collect();
    json!({
        "apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
        "metadata": {"generateName": format!("{name}-"), "namespace": ns, "labels": labels(name, ns)},
        "spec": {"hosts": hosts, "gateways": [gateway], "http": http},
    })
}

fn policies(inp: &Inputs<'_>, hosts: &[String]) -> (Vec<Value>, Vec<Value>) {
    let ar = inp.apirule;
    let (name, ns) = (s(ar, "/metadata/name"), s(ar, "/metadata/namespace"));
    let rs = rules(ar);
    let mut aps = Vec::new();
    let mut ras = Vec::new();
    for r in &rs {
        let Some((tns, tname, _)) = target(ar, r) else {
            continue;
        };
        let selector = selector_of(inp.services, &tns, &tname)
            .and_then(|s| s.spec.as_ref()?.selector.clone())
            .unwrap_or_default();
        let path = s(r, "/path");
        let path = if path == "/*" { "/{**}" } else { path };
        // `generateNotPaths`: the paths of earlier rules with a shared method.
        let mut not_paths = Vec::new();
        for other in &rs {
            let op = s(other, "/path");
            if op == "/*" || op == "/{**}" || op == "/" {
                continue;
            }
            if op == s(r, "/path") {
                break;
            }
            if methods(other).iter().any(|m| methods(r).contains(m)) {
                not_paths.push(op.to_string());
            }
        }
        let mut op = json!({"hosts": hosts, "methods": methods(r), "paths": [path]});
        if !not_paths.is_empty() {
            op["notPaths"] = json!(not_paths);
        }
        let issuers: Vec<String> = r
            .pointer("/jwt/authentications")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|a| format!("{}/*", s(a, "/issuer")))
            .collect();
        let mut from = json!({"source": {"principals": [GATEWAY_PRINCIPAL]}});
        if !issuers.is_empty() {
            from["source"]["requestPrincipals"] = json!(issuers);
        }
        let authorizations: Vec<Value> = r
            .pointer("/jwt/authorizations")
            .and_then(Value::as_array)
            .cloned()
            .filter(|a| !a.is_empty())
            .unwrap_or_else(|| vec![json!({})]);
        for authz in authorizations {
            let mut when: Vec<Value> = Vec::new();
            for aud in authz
                .get("audiences")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                when.push(json!({"key": "request.auth.claims[aud]", "values": [aud]}));
            }
            let scopes: Vec<&Value> = authz
                .get("requiredScopes")
                .and_then(Value::as_array)
                .map(|a| a.iter().collect())
                .unwrap_or_default();
            let mut ap_rules = Vec::new();
            if scopes.is_empty() {
                let mut rule = json!({"from": [from], "to": [{"operation": op}]});
                if !when.is_empty() {
                    rule["when"] = json!(when);
                }
                ap_rules.push(rule);
            } else {
                for key in [
                    "request.auth.claims[scp]",
                    "request.auth.claims[scope]",
                    "request.auth.claims[scopes]",
                ] {
                    let mut w: Vec<Value> = scopes
                        .iter()
                        .map(|sc| json!({"key": key, "values": [sc]}))
                        .collect();
                    w.extend(when.iter().cloned());
                    ap_rules.push(json!({"from": [from], "to": [{"operation": op}], "when": w}));
                }
            }
            let mut l = labels(name, ns);
            l[INDEX] = json!(aps.len().to_string());
            aps.push(json!({
                "apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
                "metadata": {"generateName": format!("{name}-"), "namespace": tns, "labels": l},
                "spec": {"selector": {"matchLabels": selector}, "action": "ALLOW", "rules": ap_rules},
            }));
        }
        if let Some(authn) = r.pointer("/jwt/authentications").and_then(Value::as_array) {
            let jwt_rules: Vec<Value> = authn
                .iter()
                .map(|a| {
                    let mut j = json!({"issuer": s(a, "/issuer"), "jwksUri": s(a, "/jwksUri")});
                    if let Some(h) = a.get("fromHeaders") {
                        j["fromHeaders"] = h.clone();
                    }
                    if let Some(p) = a.get("fromParams") {
                        j["fromParams"] = p.clone();
                    }
                    j
                })
                .collect();
            let mut l = labels(name, ns);
            l[INDEX] = json!(ras.len().to_string());
            ras.push(json!({
                "apiVersion": "security.istio.io/v1", "kind": "RequestAuthentication",
                "metadata": {"generateName": format!("{name}-"), "namespace": tns, "labels": l},
                "spec": {"selector": {"matchLabels": selector}, "jwtRules": jwt_rules},
            }));
        }
    }
    (aps, ras)
}

/// One reconciliation of an APIRule.
pub fn reconcile(inp: &Inputs<'_>) -> Outcome {
    let failures = validate(inp);
    let status = status_from_failures(&failures);
    if !failures.is_empty() {
        return Outcome {
            failures,
            virtual_service: None,
            authorization_policies: vec![],
            request_authentications: vec![],
            status,
        };
    }
    let ar = inp.apirule;
    let gw_name = s(ar, "/spec/gateway");
    let domain = gateway_domain(gateway_of(gw_name, inp.gateways));
    let hosts: Vec<String> = ar
        .pointer("/spec/hosts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|h| with_domain(h, &domain))
        .collect();
    let (aps, ras) = policies(inp, &hosts);
    Outcome {
        failures,
        virtual_service: Some(virtual_service(inp, &hosts, gw_name)),
        authorization_policies: aps,
        request_authentications: ras,
        status,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Container, PodSpec, ServiceSpec};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn gateway() -> Value {
        json!({"metadata": {"name": "kyma-gateway", "namespace": "kyma-system"},
               "spec": {"servers": [{"hosts": ["*.rt.kyma.ondemand.com"]}, {"hosts": ["*.rt.kyma.ondemand.com"]}]}})
    }

    fn service() -> Service {
        Service {
            metadata: ObjectMeta {
                name: Some("httpbin".into()),
                namespace: Some("default".into()),
                ..Default::default()
            },
            spec: Some(ServiceSpec {
                selector: Some([("app".to_string(), "httpbin".to_string())].into()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn pod(name: &str, sidecar: bool) -> Pod {
        let mut containers = vec![Container {
            name: "httpbin".into(),
            ..Default::default()
        }];
        if sidecar {
            containers.push(Container {
                name: SIDECAR.into(),
                ..Default::default()
            });
        }
        Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("default".into()),
                labels: Some([("app".to_string(), "httpbin".to_string())].into()),
                ..Default::default()
            },
            spec: Some(PodSpec {
                containers,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn apirule(spec: Value) -> Value {
        json!({"metadata": {"name": "httpbin", "namespace": "default"}, "spec": spec})
    }

    fn run(ar: &Value, vss: &[Value], pods: &[Pod]) -> Outcome {
        reconcile(&Inputs {
            apirule: ar,
            gateways: &[gateway()],
            virtual_services: vss,
            services: &[service()],
            pods,
        })
    }

    fn valid_spec() -> Value {
        json!({"hosts": ["httpbin"], "gateway": "kyma-system/kyma-gateway",
               "service": {"name": "httpbin", "port": 8000},
               "rules": [{"path": "/headers", "methods": ["GET"], "noAuth": true},
                         {"path": "/*", "methods": ["GET", "POST"], "jwt": {"authentications": [{"issuer": "https://iss", "jwksUri": "https://iss/keys"}]}}]})
    }

    #[test]
    fn a_valid_rule_gets_its_virtual_service_policies_and_ready() {
        let ar = apirule(valid_spec());
        let o = run(&ar, &[], &[pod("a", true)]);
        assert_eq!(o.failures, vec![]);
        assert_eq!(
            o.status,
            json!({"state": "Ready", "description": "Reconciled successfully"})
        );
        let vs = o.virtual_service.unwrap();
        assert_eq!(vs["metadata"]["generateName"], "httpbin-");
        assert_eq!(vs["spec"]["hosts"], json!(["httpbin.rt.kyma.ondemand.com"]));
        assert_eq!(vs["spec"]["gateways"], json!(["kyma-system/kyma-gateway"]));
        let r0 = &vs["spec"]["http"][0];
        assert_eq!(r0["match"][0]["uri"]["regex"], "^/headers$");
        assert_eq!(r0["match"][0]["method"]["regex"], "^(GET)$");
        assert_eq!(
            r0["route"][0]["destination"]["host"],
            "httpbin.default.svc.cluster.local"
        );
        assert_eq!(r0["timeout"], "180s");
        assert_eq!(vs["spec"]["http"][1]["match"][0]["uri"]["prefix"], "/");
        assert_eq!(o.authorization_policies.len(), 2);
        let ap1 = &o.authorization_policies[1]["spec"]["rules"][0];
        assert_eq!(
            ap1["from"][0]["source"]["requestPrincipals"],
            json!(["https://iss/*"])
        );
        assert_eq!(ap1["to"][0]["operation"]["paths"], json!(["/{**}"]));
        assert_eq!(ap1["to"][0]["operation"]["notPaths"], json!(["/headers"]));
        assert_eq!(o.request_authentications.len(), 1);
    }

    #[test]
    fn failures_carry_the_modules_messages() {
        let cases: Vec<(Value, Vec<Pod>, &str)> = vec![
            (
                valid_spec(),
                vec![pod("a", false)],
                "Validation errors: Attribute '.spec.rules[0]': Pod default/a does not have an injected istio sidecar\nAttribute '.spec.rules[1]': Pod default/a does not have an injected istio sidecar",
            ),
            (
                json!({"hosts": ["httpbin"], "gateway": "kyma-system/nope", "service": {"name": "httpbin", "port": 8000},
                       "rules": [{"path": "/*", "methods": ["GET"], "noAuth": true}]}),
                vec![],
                "Validation errors: Attribute '.spec.hosts[0]': Unable to find Gateway \"kyma-system/nope\"\nAttribute '.spec.gateway': Gateway not found",
            ),
            (
                json!({"hosts": ["api.example.com"], "gateway": "kyma-system/kyma-gateway",
                       "rules": [{"path": "/{**}/x/{**}", "methods": ["GET"], "noAuth": true}]}),
                vec![],
                "Validation errors: Attribute '.spec.rules[0].service': The rule must define a service, because no service is defined on spec level\nAttribute '.spec.rules[0].path': Only one {**} operator is allowed in the path.",
            ),
            (
                json!({"hosts": ["api.example.com"], "gateway": "kyma-system/kyma-gateway", "service": {"name": "httpbin", "port": 8000},
                       "rules": [{"path": "/a/{*}", "methods": ["GET"], "noAuth": true}, {"path": "/a/b", "methods": ["GET", "POST"], "noAuth": true}]}),
                vec![],
                "Validation errors: Attribute '.spec.rules': Path /a/b with method GET conflicts with at least one of the previous rule paths",
            ),
            (
                json!({}),
                vec![],
                "Validation errors: Attribute '.spec': APIRule in version v2alpha1 contains an empty spec. To troubleshoot, see https://kyma-project.io/#/api-gateway/user/troubleshooting-guides/03-70-empty-apirule-spec.",
            ),
        ];
        for (spec, pods, want) in cases {
            let ar = apirule(spec);
            let o = run(&ar, &[], &pods);
            assert_eq!(o.status["state"], "Error");
            assert_eq!(o.status["description"], want);
            assert!(o.virtual_service.is_none());
        }
    }

    #[test]
    fn a_host_another_virtual_service_holds_is_refused_unless_it_is_ours() {
        let ar = apirule(valid_spec());
        let theirs = json!({"metadata": {"labels": {}}, "spec": {"hosts": ["httpbin.rt.kyma.ondemand.com"]}});
        let o = run(&ar, &[theirs], &[pod("a", true)]);
        assert_eq!(
            o.failures,
            vec![fail(
                ".spec.hosts[0]",
                "Host is occupied by another Virtual Service"
            )]
        );
        let ours = json!({"metadata": {"labels": {OWNER_NAME: "httpbin", OWNER_NAMESPACE: "default"}},
                          "spec": {"hosts": ["httpbin.rt.kyma.ondemand.com"]}});
        assert_eq!(run(&ar, &[ours], &[pod("a", true)]).failures, vec![]);
    }

    #[test]
    fn more_than_three_failures_are_counted() {
        let fs: Vec<Failure> = (0..5).map(|i| fail(format!(".x{i}"), "m")).collect();
        let st = status_from_failures(&fs);
        assert!(st["description"]
            .as_str()
            .unwrap()
            .ends_with("\n2 more error(s)..."));
    }

    fn arb_json() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            "[a-z/{}*.\\-]{0,12}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                proptest::collection::btree_map(
                    prop_oneof![
                        Just("hosts".to_string()),
                        Just("rules".to_string()),
                        Just("service".to_string()),
                        Just("gateway".to_string()),
                        Just("path".to_string()),
                        Just("methods".to_string()),
                        Just("jwt".to_string()),
                        Just("authentications".to_string()),
                        Just("name".to_string()),
                        Just("port".to_string()),
                        Just("namespace".to_string()),
                        Just("timeout".to_string()),
                        "[a-z]{1,6}",
                    ],
                    inner,
                    0..5
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// Whatever an APIRule holds (the CRD's schema is not trusted here), reconciling it never
        /// panics and always yields a status.
        #[test]
        fn reconcile_never_panics(spec in arb_json()) {
            let ar = apirule(spec);
            let o = run(&ar, &[], &[pod("a", true)]);
            proptest::prop_assert!(o.status["state"] == "Ready" || o.status["state"] == "Error");
        }
    }
}
