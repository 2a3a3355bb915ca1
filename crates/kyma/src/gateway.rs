//! The HTTP routes of the Kyma gateway: the VirtualServices bound to `kyma-system/kyma-gateway`
//! (as the api-gateway creates them for APIRules, or as users write them), in the order Istio
//! merges them for a host (oldest first), each `http` entry with its first match and its first
//! destination.

use serde_json::Value;

/// One route: what it matches and where it sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRoute {
    pub hosts: Vec<String>,
    pub method_regex: Option<String>,
    pub uri_prefix: Option<String>,
    pub uri_regex: Option<String>,
    /// The destination Service: (namespace, name).
    pub service: (String, String),
    pub port: u16,
    /// `headers.request.set`.
    pub set_headers: Vec<(String, String)>,
}

fn s<'a>(v: &'a Value, p: &str) -> Option<&'a str> {
    v.pointer(p).and_then(Value::as_str)
}

/// `host` of a destination as a Service: `name`, `name.ns`, `name.ns.svc`,
/// `name.ns.svc.cluster.local` (short names in the VirtualService's namespace).
fn service_of(host: &str, vs_ns: &str) -> Option<(String, String)> {
    let parts: Vec<&str> = host.split('.').collect();
    match parts.as_slice() {
        [name] => Some((vs_ns.to_string(), name.to_string())),
        [name, ns] | [name, ns, "svc"] | [name, ns, "svc", "cluster", "local"] => {
            Some((ns.to_string(), name.to_string()))
        }
        _ => None,
    }
}

/// The routes of the VirtualServices in `vss` bound to `gateway` (`namespace/name`).
pub fn routes(vss: &[Value], gateway: &str) -> Vec<HttpRoute> {
    let (gw_ns, gw_name) = gateway.split_once('/').unwrap_or(("", gateway));
    let mut bound: Vec<&Value> = vss
        .iter()
        .filter(|vs| {
            let ns = s(vs, "/metadata/namespace").unwrap_or("");
            vs.pointer("/spec/gateways")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .any(|g| g == gateway || (g == gw_name && ns == gw_ns))
        })
        .collect();
    bound.sort_by_key(|vs| {
        (
            s(vs, "/metadata/creationTimestamp")
                .unwrap_or("")
                .to_string(),
            s(vs, "/metadata/name").unwrap_or("").to_string(),
        )
    });
    let mut out = Vec::new();
    for vs in bound {
        let ns = s(vs, "/metadata/namespace").unwrap_or("default");
        let hosts: Vec<String> = vs
            .pointer("/spec/hosts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|h| h.as_str().map(String::from))
            .collect();
        for h in vs
            .pointer("/spec/http")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(dest) = h.pointer("/route/0/destination") else {
                continue;
            };
            let Some(service) = s(dest, "/host").and_then(|d| service_of(d, ns)) else {
                continue;
            };
            let m = h.pointer("/match/0");
            let set_headers = h
                .pointer("/headers/request/set")
                .and_then(Value::as_object)
                .map(|o| {
                    o.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                        .collect()
                })
                .unwrap_or_default();
            out.push(HttpRoute {
                hosts: hosts.clone(),
                method_regex: m.and_then(|m| s(m, "/method/regex")).map(String::from),
                uri_prefix: m.and_then(|m| s(m, "/uri/prefix")).map(String::from),
                uri_regex: m.and_then(|m| s(m, "/uri/regex")).map(String::from),
                service,
                port: dest
                    .pointer("/port/number")
                    .and_then(Value::as_u64)
                    .and_then(|p| u16::try_from(p).ok())
                    .unwrap_or(80),
                set_headers,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bound_virtual_services_become_routes_in_order() {
        let vss = vec![
            json!({"metadata": {"name": "b", "namespace": "shop", "creationTimestamp": "2026-01-02T00:00:00Z"},
                   "spec": {"hosts": ["b.x"], "gateways": ["kyma-system/kyma-gateway"],
                            "http": [{"match": [{"uri": {"prefix": "/"}}], "route": [{"destination": {"host": "web", "port": {"number": 8080}}}]}]}}),
            json!({"metadata": {"name": "a", "namespace": "shop", "creationTimestamp": "2026-01-01T00:00:00Z"},
                   "spec": {"hosts": ["a.x"], "gateways": ["kyma-system/kyma-gateway"],
                            "http": [{"match": [{"method": {"regex": "^(GET)$"}, "uri": {"regex": "^/h$"}}],
                                      "headers": {"request": {"set": {"x-forwarded-host": "a.x"}}},
                                      "route": [{"destination": {"host": "httpbin.other.svc.cluster.local", "port": {"number": 8000}}}]}]}}),
            json!({"metadata": {"name": "mesh", "namespace": "shop"},
                   "spec": {"hosts": ["c"], "http": [{"route": [{"destination": {"host": "c"}}]}]}}),
        ];
        let r = routes(&vss, "kyma-system/kyma-gateway");
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].hosts, vec!["a.x"]);
        assert_eq!(r[0].service, ("other".to_string(), "httpbin".to_string()));
        assert_eq!(r[0].port, 8000);
        assert_eq!(r[0].method_regex.as_deref(), Some("^(GET)$"));
        assert_eq!(
            r[0].set_headers,
            vec![("x-forwarded-host".to_string(), "a.x".to_string())]
        );
        assert_eq!(r[1].service, ("shop".to_string(), "web".to_string()));
        assert_eq!(r[1].uri_prefix.as_deref(), Some("/"));
    }
}
