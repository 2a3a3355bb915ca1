//! The Compute Engine v1 REST resources `gcloud compute` reads, over a runtime's VPC network,
//! forwarding rules and addresses, read-only: [`handle`] takes the path after `/compute/v1/`
//! and answers the resource JSON (`compute#forwardingRule`, `compute#forwardingRuleList`,
//! `compute#forwardingRuleAggregatedList`, ...) or GCE's error body.
//!
//! Links are the real API's: `https://www.googleapis.com/compute/v1/projects/P/regions/R/
//! forwardingRules/N` (gcloud prints names and regions from them), whatever host the shell
//! serves on. Ids are deterministic decimals (a SHA-256 prefix of the self link).
//!
//! Paths and parameters gcloud sends (observed with `--log-http`):
//! `projects/P/aggregated/{forwardingRules,addresses,subnetworks}?includeAllScopes=True&
//! maxResults=500&returnPartialSuccess=True` (`list`), `projects/P/regions/R/<collection>
//! [?maxResults=500]` (`list --regions R`), `projects/P/regions/R/<collection>/N`
//! (`describe N --region R`), `projects/P/global/{networks,addresses,forwardingRules}[/N]`.
//! gcloud applies `--filter` itself; `--page-size` becomes `maxResults`, and it follows
//! `nextPageToken` with `pageToken`.

use crate::inventory::{Address, ForwardingRule, Network, Subnetwork};
use serde_json::{json, Map, Value};

/// The base of every link, as the real API writes it.
pub const BASE: &str = "https://www.googleapis.com/compute/v1/";

/// The fingerprint of an empty label set, as GCE answers it.
const EMPTY_LABEL_FINGERPRINT: &str = "42WmSpB8rSM=";

/// The largest page GCE answers (and gcloud's default).
const MAX_RESULTS: usize = 500;

/// What the API describes: the runtime's network and what the load balancer controllers made.
#[derive(Debug, Clone, Copy)]
pub struct GcpView<'a> {
    pub network: &'a Network,
    pub forwarding_rules: &'a [ForwardingRule],
    pub addresses: &'a [Address],
    /// The runtime's region.
    pub region: &'a str,
}

/// Answers one request: `path` is what follows `/compute/v1/` (`projects/P/...`), `query` the
/// decoded query parameters, `project` the caller's project (the runtime's). Returns the HTTP
/// status and the JSON body.
pub fn handle(
    method: &str,
    path: &str,
    query: &[(String, String)],
    view: &GcpView<'_>,
    project: &str,
) -> (u16, Value) {
    match route(method, path, query, view, project) {
        Ok(body) => (200, body),
        Err(e) => (e.code, e.body()),
    }
}

/// A GCE error: status, reason (`notFound`, `forbidden`, `invalid`) and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GceError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
}

impl GceError {
    fn not_found(resource: &str) -> Self {
        GceError {
            code: 404,
            reason: "notFound",
            message: format!("The resource '{resource}' was not found"),
        }
    }

    fn forbidden(permission: &str, resource: &str, why: &str) -> Self {
        GceError {
            code: 403,
            reason: "forbidden",
            message: format!("Required '{permission}' permission for '{resource}'{why}"),
        }
    }

    fn invalid(field: &str, value: &str, why: &str) -> Self {
        GceError {
            code: 400,
            reason: "invalid",
            message: format!("Invalid value for field '{field}': '{value}'. {why}"),
        }
    }

    /// `{"error":{"code":404,"message":...,"errors":[{"message":...,"domain":"global","reason":"notFound"}]}}`.
    pub fn body(&self) -> Value {
        json!({"error": {
            "code": self.code,
            "message": self.message,
            "errors": [{"message": self.message, "domain": "global", "reason": self.reason}],
        }})
    }
}

/// The collections twinstack answers, with their `kind` stems and JSON item builders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Collection {
    ForwardingRules,
    Addresses,
    Subnetworks,
    Networks,
}

impl Collection {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "forwardingRules" => Collection::ForwardingRules,
            "addresses" => Collection::Addresses,
            "subnetworks" => Collection::Subnetworks,
            "networks" => Collection::Networks,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Collection::ForwardingRules => "forwardingRules",
            Collection::Addresses => "addresses",
            Collection::Subnetworks => "subnetworks",
            Collection::Networks => "networks",
        }
    }

    /// `compute#forwardingRule` and friends, without `compute#`.
    fn kind(self) -> &'static str {
        match self {
            Collection::ForwardingRules => "forwardingRule",
            Collection::Addresses => "address",
            Collection::Subnetworks => "subnetwork",
            Collection::Networks => "network",
        }
    }
}

fn route(
    method: &str,
    path: &str,
    query: &[(String, String)],
    view: &GcpView<'_>,
    project: &str,
) -> Result<Value, GceError> {
    let path = path.trim_matches('/');
    let parts: Vec<&str> = path.split('/').collect();
    let ["projects", p, rest @ ..] = &parts[..] else {
        return Err(GceError::not_found(path));
    };
    let collection = rest.iter().copied().find_map(Collection::parse);
    let coll_name = collection.map_or("projects", Collection::name);
    if *p != project {
        // Another runtime's project: as GCE answers a project the token cannot read.
        let verb = if rest.len() % 2 == 0 && rest.first() != Some(&"aggregated") {
            "get"
        } else {
            "list"
        };
        return Err(GceError::forbidden(
            &format!("compute.{coll_name}.{verb}"),
            &format!("projects/{p}"),
            "",
        ));
    }
    if method != "GET" {
        let verb = match (method, rest.len() % 2) {
            ("DELETE", _) => "delete",
            ("PATCH" | "PUT", _) => "update",
            ("POST", 1) if rest.len() > 3 => rest[rest.len() - 1],
            _ => "create",
        };
        return Err(GceError::forbidden(
            &format!("compute.{coll_name}.{verb}"),
            path,
            " (the twinstack Compute Engine API is read-only)",
        ));
    }
    let page = Page::from_query(query)?;
    let filter = Filter::from_query(query)?;
    let ctx = Ctx { view, project };
    match rest {
        [] => Ok(ctx.project_resource()),
        ["regions", r] if *r == view.region => Ok(ctx.region_resource()),
        ["aggregated", c] => match Collection::parse(c) {
            Some(c) if c != Collection::Networks => Ok(ctx.aggregated(c, &page, &filter, path)),
            _ => Err(GceError::not_found(path)),
        },
        ["regions", r, c] => match Collection::parse(c) {
            Some(c) if c != Collection::Networks => {
                let items = ctx
                    .items(c)
                    .into_iter()
                    .filter(|(scope, _)| *scope == format!("regions/{r}"))
                    .map(|(_, v)| v);
                Ok(ctx.list(c, items.collect(), &page, &filter, path))
            }
            _ => Err(GceError::not_found(path)),
        },
        ["global", c] => match Collection::parse(c) {
            Some(Collection::Networks) => Ok(ctx.list(
                Collection::Networks,
                vec![ctx.network()],
                &page,
                &filter,
                path,
            )),
            // No global forwarding rules or addresses: the runtime's load balancers are regional.
            Some(c @ (Collection::ForwardingRules | Collection::Addresses)) => {
                Ok(ctx.list(c, vec![], &page, &filter, path))
            }
            _ => Err(GceError::not_found(path)),
        },
        ["regions", r, c, name] => ctx.get(c, &format!("regions/{r}"), name, path),
        ["global", c @ "networks", name] => ctx.get(c, "global", name, path),
        _ => Err(GceError::not_found(path)),
    }
}

/// `maxResults` and `pageToken` (an offset, opaque to gcloud).
struct Page {
    max: usize,
    start: usize,
}

impl Page {
    fn from_query(query: &[(String, String)]) -> Result<Self, GceError> {
        let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let max = match get("maxResults") {
            None => MAX_RESULTS,
            Some(v) => match v.parse::<usize>() {
                Ok(n) if n <= MAX_RESULTS => n,
                Ok(_) => {
                    return Err(GceError::invalid(
                        "maxResults",
                        v,
                        "Must be less than or equal to 500",
                    ))
                }
                Err(_) => {
                    return Err(GceError::invalid(
                        "maxResults",
                        v,
                        "Must be a non-negative integer",
                    ))
                }
            },
        };
        // GCE answers `maxResults=0` with the default page.
        let max = if max == 0 { MAX_RESULTS } else { max };
        let start = match get("pageToken").filter(|t| !t.is_empty()) {
            None => 0,
            Some(t) => t
                .parse()
                .map_err(|_| GceError::invalid("pageToken", t, "Invalid page token."))?,
        };
        Ok(Page { max, start })
    }

    /// This page of `items`, and the token of the next when there is one.
    fn slice<T>(&self, items: Vec<T>) -> (Vec<T>, Option<String>) {
        let total = items.len();
        let end = self.start.saturating_add(self.max).min(total);
        let next = (end < total).then(|| end.to_string());
        (
            items
                .into_iter()
                .skip(self.start)
                .take(end.saturating_sub(self.start))
                .collect(),
            next,
        )
    }
}

/// The `filter` parameter, in its simplest forms: `FIELD = VALUE`, `FIELD != VALUE`,
/// `FIELD eq VALUE`, `FIELD ne VALUE` on a top-level field, `VALUE` quoted or not, compared as
/// text (`eq`/`ne` take a literal, not a regular expression). gcloud itself sends no filter
/// for these commands (it filters client-side).
struct Filter {
    clause: Option<(String, bool, String)>,
}

impl Filter {
    fn from_query(query: &[(String, String)]) -> Result<Self, GceError> {
        let Some(raw) = query
            .iter()
            .find(|(n, _)| n == "filter")
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
        else {
            return Ok(Filter { clause: None });
        };
        let invalid = || GceError::invalid("filter", raw, "Invalid list filter expression.");
        let (field, equal, value) = if let Some((f, v)) = raw.split_once("!=") {
            (f, false, v)
        } else if let Some((f, v)) = raw.split_once('=') {
            (f, true, v)
        } else {
            let words: Vec<&str> = raw.splitn(3, ' ').collect();
            match words[..] {
                [f, "eq", v] => (f, true, v),
                [f, "ne", v] => (f, false, v),
                _ => return Err(invalid()),
            }
        };
        let field = field.trim();
        if field.is_empty() || !field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(invalid());
        }
        let value = value.trim().trim_matches('"').trim_matches('\'');
        Ok(Filter {
            clause: Some((field.to_string(), equal, value.to_string())),
        })
    }

    fn keeps(&self, item: &Value) -> bool {
        let Some((field, equal, value)) = &self.clause else {
            return true;
        };
        let got = match &item[field.as_str()] {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        (got == *value) == *equal
    }
}

struct Ctx<'a> {
    view: &'a GcpView<'a>,
    project: &'a str,
}

impl Ctx<'_> {
    fn project_url(&self) -> String {
        format!("{BASE}projects/{}", self.project)
    }

    fn region_url(&self, region: &str) -> String {
        format!("{}/regions/{region}", self.project_url())
    }

    /// A link to `value` in `collection`: kept when it already is a URL, completed when it is
    /// `projects/...` or a bare name (regional collections in `region`).
    fn link(&self, collection: &str, region: &str, value: &str) -> String {
        if value.starts_with("https://") || value.starts_with("http://") {
            value.to_string()
        } else if value.starts_with("projects/") {
            format!("{BASE}{value}")
        } else if collection == "networks" {
            format!("{}/global/networks/{value}", self.project_url())
        } else {
            format!("{}/{collection}/{value}", self.region_url(region))
        }
    }

    /// Every item of `collection` with its scope (`regions/R` or `global`), in inventory order.
    fn items(&self, collection: Collection) -> Vec<(String, Value)> {
        match collection {
            Collection::ForwardingRules => self
                .view
                .forwarding_rules
                .iter()
                .map(|fr| (format!("regions/{}", fr.region), self.forwarding_rule(fr)))
                .collect(),
            Collection::Addresses => self
                .view
                .addresses
                .iter()
                .map(|a| (format!("regions/{}", a.region), self.address(a)))
                .collect(),
            Collection::Subnetworks => self
                .view
                .network
                .subnetworks
                .iter()
                .map(|s| (format!("regions/{}", s.region), self.subnetwork(s)))
                .collect(),
            Collection::Networks => vec![("global".to_string(), self.network())],
        }
    }

    /// One item by scope and name.
    fn get(
        &self,
        collection: &str,
        scope: &str,
        name: &str,
        path: &str,
    ) -> Result<Value, GceError> {
        let c = Collection::parse(collection).ok_or_else(|| GceError::not_found(path))?;
        self.items(c)
            .into_iter()
            .find(|(s, v)| s == scope && v["name"] == *name)
            .map(|(_, v)| v)
            .ok_or_else(|| GceError::not_found(path))
    }

    fn list(
        &self,
        c: Collection,
        items: Vec<Value>,
        page: &Page,
        filter: &Filter,
        path: &str,
    ) -> Value {
        let items: Vec<Value> = items.into_iter().filter(|v| filter.keeps(v)).collect();
        let (items, next) = page.slice(items);
        let mut out = Map::new();
        out.insert("kind".into(), json!(format!("compute#{}List", c.kind())));
        out.insert("id".into(), json!(path));
        if !items.is_empty() {
            out.insert("items".into(), Value::Array(items));
        }
        if let Some(next) = next {
            out.insert("nextPageToken".into(), json!(next));
        }
        out.insert("selfLink".into(), json!(format!("{BASE}{path}")));
        Value::Object(out)
    }

    /// `items` keyed by scope; the runtime's region (and `global` for forwarding rules and
    /// addresses) with GCE's `NO_RESULTS_ON_PAGE` warning when it has nothing on this page.
    fn aggregated(&self, c: Collection, page: &Page, filter: &Filter, path: &str) -> Value {
        let all: Vec<(String, Value)> = self
            .items(c)
            .into_iter()
            .filter(|(_, v)| filter.keeps(v))
            .collect();
        let (items, next) = page.slice(all);
        let mut scopes: Vec<String> = vec![format!("regions/{}", self.view.region)];
        if c != Collection::Subnetworks {
            scopes.push("global".into());
        }
        let mut by_scope: Map<String, Value> = Map::new();
        for (scope, item) in items {
            let entry = by_scope
                .entry(scope)
                .or_insert_with(|| json!({ c.name(): [] }));
            if let Some(list) = entry[c.name()].as_array_mut() {
                list.push(item);
            }
        }
        for scope in scopes {
            by_scope.entry(scope.clone()).or_insert_with(|| {
                json!({"warning": {
                    "code": "NO_RESULTS_ON_PAGE",
                    "message": format!("There are no results for scope '{scope}' on this page."),
                    "data": [{"key": "scope", "value": scope}],
                }})
            });
        }
        let mut out = Map::new();
        out.insert(
            "kind".into(),
            json!(format!("compute#{}AggregatedList", c.kind())),
        );
        out.insert("id".into(), json!(path));
        out.insert("items".into(), Value::Object(by_scope));
        if let Some(next) = next {
            out.insert("nextPageToken".into(), json!(next));
        }
        out.insert("selfLink".into(), json!(format!("{BASE}{path}")));
        Value::Object(out)
    }

    fn forwarding_rule(&self, fr: &ForwardingRule) -> Value {
        let self_link = format!(
            "{}/forwardingRules/{}",
            self.region_url(&fr.region),
            fr.name
        );
        let ip = if fr.ip_version == "IPV6" && !fr.ip_address.contains('/') {
            format!("{}/96", fr.ip_address)
        } else {
            fr.ip_address.clone()
        };
        let mut o = Map::new();
        o.insert("kind".into(), json!("compute#forwardingRule"));
        o.insert("id".into(), json!(id(&self_link)));
        o.insert("creationTimestamp".into(), json!(fr.creation_timestamp));
        o.insert("name".into(), json!(fr.name));
        o.insert("description".into(), json!(fr.description));
        o.insert("region".into(), json!(self.region_url(&fr.region)));
        o.insert("IPAddress".into(), json!(ip));
        o.insert("IPProtocol".into(), json!(fr.ip_protocol));
        if let Some(range) = fr.port_range.as_ref().filter(|r| !r.is_empty()) {
            o.insert("portRange".into(), json!(range));
        }
        if !fr.ports.is_empty() {
            o.insert("ports".into(), json!(fr.ports));
        }
        if let Some(t) = &fr.target {
            o.insert(
                "target".into(),
                json!(self.link("targetPools", &fr.region, t)),
            );
        }
        if let Some(b) = &fr.backend_service {
            o.insert(
                "backendService".into(),
                json!(self.link("backendServices", &fr.region, b)),
            );
        }
        o.insert("selfLink".into(), json!(self_link));
        o.insert(
            "loadBalancingScheme".into(),
            json!(fr.load_balancing_scheme),
        );
        if let Some(s) = &fr.subnetwork {
            o.insert(
                "subnetwork".into(),
                json!(self.link("subnetworks", &fr.region, s)),
            );
        }
        if let Some(n) = &fr.network {
            o.insert(
                "network".into(),
                json!(self.link("networks", &fr.region, n)),
            );
        }
        o.insert("networkTier".into(), json!(fr.network_tier));
        o.insert("labelFingerprint".into(), json!(EMPTY_LABEL_FINGERPRINT));
        o.insert("fingerprint".into(), json!(fingerprint(&format!("{fr:?}"))));
        o.insert("ipVersion".into(), json!(fr.ip_version));
        if fr.load_balancing_scheme == "INTERNAL" {
            o.insert("allowGlobalAccess".into(), json!(fr.allow_global_access));
        }
        Value::Object(o)
    }

    fn address(&self, a: &Address) -> Value {
        let self_link = format!("{}/addresses/{}", self.region_url(&a.region), a.name);
        let mut o = Map::new();
        o.insert("kind".into(), json!("compute#address"));
        o.insert("id".into(), json!(id(&self_link)));
        o.insert("creationTimestamp".into(), json!(a.creation_timestamp));
        o.insert("name".into(), json!(a.name));
        o.insert("description".into(), json!(""));
        o.insert("address".into(), json!(a.address));
        if let Some(p) = a.prefix_length {
            o.insert("prefixLength".into(), json!(p));
        }
        o.insert("status".into(), json!(a.status));
        o.insert("region".into(), json!(self.region_url(&a.region)));
        o.insert("selfLink".into(), json!(self_link));
        if !a.users.is_empty() {
            let users: Vec<String> = a
                .users
                .iter()
                .map(|u| self.link("forwardingRules", &a.region, u))
                .collect();
            o.insert("users".into(), json!(users));
        }
        o.insert("networkTier".into(), json!(a.network_tier));
        o.insert("labelFingerprint".into(), json!(EMPTY_LABEL_FINGERPRINT));
        o.insert("ipVersion".into(), json!(a.ip_version));
        o.insert("addressType".into(), json!(a.address_type));
        if a.address_type == "INTERNAL" {
            o.insert("purpose".into(), json!("GCE_ENDPOINT"));
        }
        if a.ip_version == "IPV6" && a.address_type == "EXTERNAL" {
            o.insert("ipv6EndpointType".into(), json!("NETLB"));
        }
        if let Some(s) = &a.subnetwork {
            o.insert(
                "subnetwork".into(),
                json!(self.link("subnetworks", &a.region, s)),
            );
        }
        Value::Object(o)
    }

    fn subnetwork(&self, s: &Subnetwork) -> Value {
        let self_link = format!("{}/subnetworks/{}", self.region_url(&s.region), s.name);
        let gateway = s
            .ip_cidr_range
            .hosts()
            .next()
            .map(|h| h.to_string())
            .unwrap_or_default();
        let mut o = Map::new();
        o.insert("kind".into(), json!("compute#subnetwork"));
        o.insert("id".into(), json!(id(&self_link)));
        o.insert("name".into(), json!(s.name));
        o.insert(
            "network".into(),
            json!(self.link("networks", &s.region, &self.view.network.name)),
        );
        o.insert("ipCidrRange".into(), json!(s.ip_cidr_range.to_string()));
        o.insert("gatewayAddress".into(), json!(gateway));
        o.insert("region".into(), json!(self.region_url(&s.region)));
        o.insert("selfLink".into(), json!(self_link));
        o.insert("privateIpGoogleAccess".into(), json!(false));
        if !s.secondary_ip_ranges.is_empty() {
            let ranges: Vec<Value> = s
                .secondary_ip_ranges
                .iter()
                .map(|(n, r)| json!({"rangeName": n, "ipCidrRange": r.to_string()}))
                .collect();
            o.insert("secondaryIpRanges".into(), json!(ranges));
        }
        o.insert("fingerprint".into(), json!(fingerprint(&format!("{s:?}"))));
        o.insert(
            "privateIpv6GoogleAccess".into(),
            json!("DISABLE_GOOGLE_ACCESS"),
        );
        o.insert("purpose".into(), json!(s.purpose));
        o.insert("stackType".into(), json!(s.stack_type));
        if let Some(t) = &s.ipv6_access_type {
            o.insert("ipv6AccessType".into(), json!(t));
        }
        if let Some(p) = s.external_ipv6_prefix {
            o.insert("externalIpv6Prefix".into(), json!(p.to_string()));
        }
        if let Some(p) = s.internal_ipv6_prefix {
            o.insert("internalIpv6Prefix".into(), json!(p.to_string()));
            o.insert("ipv6CidrRange".into(), json!(p.to_string()));
        }
        Value::Object(o)
    }

    fn network(&self) -> Value {
        let n = self.view.network;
        let self_link = format!("{}/global/networks/{}", self.project_url(), n.name);
        let network_id = id(&self_link);
        let subnetworks: Vec<String> = n
            .subnetworks
            .iter()
            .map(|s| format!("{}/subnetworks/{}", self.region_url(&s.region), s.name))
            .collect();
        json!({
            "kind": "compute#network",
            "id": network_id,
            "name": n.name,
            "selfLink": self_link,
            "selfLinkWithId": format!("{}/global/networks/{network_id}", self.project_url()),
            "autoCreateSubnetworks": false,
            "subnetworks": subnetworks,
            "routingConfig": {"routingMode": "REGIONAL"},
            "mtu": 1460,
            "enableUlaInternalIpv6": n.subnetworks.iter().any(|s| s.internal_ipv6_prefix.is_some()),
            "networkFirewallPolicyEnforcementOrder": "AFTER_CLASSIC_FIREWALL",
        })
    }

    fn project_resource(&self) -> Value {
        let link = self.project_url();
        json!({
            "kind": "compute#project",
            "id": id(&link),
            "name": self.project,
            "selfLink": link,
            "defaultNetworkTier": "PREMIUM",
            "xpnProjectStatus": "UNSPECIFIED_XPN_PROJECT_STATUS",
        })
    }

    fn region_resource(&self) -> Value {
        let link = self.region_url(self.view.region);
        json!({
            "kind": "compute#region",
            "id": id(&link),
            "name": self.view.region,
            "description": self.view.region,
            "status": "UP",
            "selfLink": link,
            "supportsPzs": false,
        })
    }
}

/// A deterministic decimal id (GCE ids are unsigned 64-bit, sent as strings).
fn id(self_link: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, self_link.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest.as_ref()[..8]);
    // 19 digits, as real ids mostly have.
    (u64::from_be_bytes(bytes) % 9_000_000_000_000_000_000 + 1_000_000_000_000_000_000).to_string()
}

/// A base64 fingerprint of 8 bytes, as GCE's.
fn fingerprint(content: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let digest = ring::digest::digest(&ring::digest::SHA256, content.as_bytes());
    let b = &digest.as_ref()[..8];
    let mut out = String::new();
    for chunk in b.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &x)| acc | u32::from(x) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
