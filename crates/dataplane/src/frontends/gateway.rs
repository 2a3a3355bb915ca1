//! Istio's ingress gateway as the data plane plays it: a connection the load balancer hands to
//! an `istio-ingressgateway` pod is an HTTP request routed by the VirtualServices bound to the
//! gateway (their hosts, method and URI matches, in order), forwarded from the gateway pod's
//! own address to the destination Service, as Envoy does. No route: Envoy's `404` with
//! `server: istio-envoy`. The destination pod sees the gateway pod as its peer: traffic past
//! the gateway is inside the mesh, whichever family the client used.

use super::{Inner, Planned};
use crate::workloads::{envoy_not_found, write_response};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The largest request head the gateway reads (Envoy's default `max_request_headers_kb` is 60).
const MAX_HEAD: usize = 60 * 1024;

/// One HTTP route of a VirtualService bound to the gateway.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// The VirtualService's hosts (`*.domain` wildcards allowed).
    pub hosts: Vec<String>,
    /// `match[].method.regex`, anchored.
    pub method: Option<String>,
    /// `match[].uri.prefix`.
    pub uri_prefix: Option<String>,
    /// `match[].uri.regex`, anchored.
    pub uri_regex: Option<String>,
    /// The destination Service's cluster IPs with the port (one per family).
    pub destinations: Vec<SocketAddr>,
    /// Request headers the route sets (`headers.request.set`).
    pub set_headers: Vec<(String, String)>,
}

fn host_matches(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(domain) => host
            .strip_suffix(domain)
            .is_some_and(|l| l.ends_with('.') && l.len() > 1),
        None => pattern.eq_ignore_ascii_case(host),
    }
}

fn full_match(re: &str, s: &str) -> bool {
    regex::Regex::new(re).is_ok_and(|r| {
        r.find(s)
            .is_some_and(|m| m.start() == 0 && m.end() == s.len())
    })
}

impl Route {
    /// Whether a request with `host` (without port), `method` and `path` takes this route.
    pub fn matches(&self, host: &str, method: &str, path: &str) -> bool {
        let path_only = path.split('?').next().unwrap_or(path);
        self.hosts.iter().any(|h| host_matches(h, host))
            && self.method.as_deref().is_none_or(|m| full_match(m, method))
            && self
                .uri_prefix
                .as_deref()
                .is_none_or(|p| path_only.starts_with(p))
            && self
                .uri_regex
                .as_deref()
                .is_none_or(|r| full_match(r, path_only))
    }
}

/// The first route of `routes` a request takes.
pub fn select<'a>(routes: &'a [Route], host: &str, method: &str, path: &str) -> Option<&'a Route> {
    let host = host.rsplit_once(':').map_or(host, |(h, p)| {
        if p.chars().all(|c| c.is_ascii_digit()) && !h.ends_with(']') && !h.contains(':') {
            h
        } else {
            host
        }
    });
    routes.iter().find(|r| r.matches(host, method, path))
}

/// Reads the request head (through the blank line) and whatever followed it in the same reads.
async fn read_head<S: AsyncRead + Unpin>(s: &mut S) -> Option<(Vec<u8>, usize)> {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            return Some((buf, i + 4));
        }
        if buf.len() > MAX_HEAD {
            return None;
        }
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// The head with the route's and Envoy's headers added (`x-forwarded-for` the peer the gateway
/// sees, `x-forwarded-proto`, `x-envoy-attempt-count`).
fn rewrite_head(head: &str, route: &Route, peer: IpAddr) -> String {
    let mut lines: Vec<String> = head
        .trim_end_matches("\r\n")
        .split("\r\n")
        .map(String::from)
        .collect();
    let set = |lines: &mut Vec<String>, k: &str, v: &str| {
        lines.retain(|l| {
            l.split_once(':')
                .is_none_or(|(n, _)| !n.trim().eq_ignore_ascii_case(k))
        });
        lines.push(format!("{k}: {v}"));
    };
    for (k, v) in &route.set_headers {
        set(&mut lines, k, v);
    }
    set(&mut lines, "x-forwarded-for", &peer.to_string());
    set(&mut lines, "x-forwarded-proto", "http");
    set(&mut lines, "x-envoy-attempt-count", "1");
    format!("{}\r\n\r\n", lines.join("\r\n"))
}

/// Serves one connection to a gateway pod.
pub(super) async fn serve<S>(inner: &Arc<Inner>, runtime: &str, p: &Planned, client: &mut S)
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    // A closed or oversized head: the connection closes (the caller drops it).
    let Some((buf, head_len)) = read_head(client).await else {
        return;
    };
    let head = String::from_utf8_lossy(&buf[..head_len]).to_string();
    let mut first = head.lines().next().unwrap_or("").split(' ');
    let (method, target) = (first.next().unwrap_or(""), first.next().unwrap_or("/"));
    let host = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("host"))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default();
    let routes = inner.routes(runtime);
    let chosen = select(&routes, &host, method, target).and_then(|r| {
        // From the gateway pod's own address of a family the destination has.
        r.destinations.iter().find_map(|d| {
            p.pod
                .ips
                .iter()
                .find(|ip| ip.is_ipv4() == d.is_ipv4())
                .map(|src| (r, *src, *d))
        })
    });
    let Some((route, src, dst)) = chosen else {
        let resp = write_response(&envoy_not_found(jiff::Timestamp::now()), false);
        let _ = client.write_all(&resp).await;
        return;
    };
    let Ok(mut up) = inner.clone().connect(runtime, src, dst).await else {
        let body = "no healthy upstream";
        let resp = format!(
            "HTTP/1.1 503 Service Unavailable\r\ncontent-length: {}\r\ncontent-type: text/plain\r\ndate: {}\r\nserver: istio-envoy\r\n\r\n{body}",
            body.len(),
            crate::workloads::http_date(jiff::Timestamp::now())
        );
        let _ = client.write_all(resp.as_bytes()).await;
        return;
    };
    let out = rewrite_head(&head, route, p.flow.seen.ip());
    if up.write_all(out.as_bytes()).await.is_err() || up.write_all(&buf[head_len..]).await.is_err()
    {
        return;
    }
    let moved = tokio::io::copy_bidirectional(client, &mut up).await;
    if let Ok((a, b)) = moved {
        p.counters.bytes.inc_by(a + b + buf.len() as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(
        hosts: &[&str],
        method: Option<&str>,
        prefix: Option<&str>,
        re: Option<&str>,
    ) -> Route {
        Route {
            hosts: hosts.iter().map(|h| h.to_string()).collect(),
            method: method.map(String::from),
            uri_prefix: prefix.map(String::from),
            uri_regex: re.map(String::from),
            destinations: vec!["10.0.0.1:80".parse().unwrap()],
            set_headers: vec![],
        }
    }

    #[test]
    fn routes_are_taken_in_order_by_host_method_and_uri() {
        let routes = vec![
            route(
                &["httpbin.rt.kyma.ondemand.com"],
                Some("^(GET)$"),
                None,
                Some("^/headers$"),
            ),
            route(
                &["httpbin.rt.kyma.ondemand.com"],
                Some("^(GET|POST)$"),
                Some("/"),
                None,
            ),
            route(&["*.apps.example.com"], None, Some("/"), None),
        ];
        let pick = |h: &str, m: &str, p: &str| {
            select(&routes, h, m, p).map(|r| routes.iter().position(|x| x == r).unwrap())
        };
        assert_eq!(
            pick("httpbin.rt.kyma.ondemand.com", "GET", "/headers"),
            Some(0)
        );
        assert_eq!(
            pick("httpbin.rt.kyma.ondemand.com:80", "GET", "/headers?x=1"),
            Some(0)
        );
        assert_eq!(
            pick("httpbin.rt.kyma.ondemand.com", "POST", "/headers"),
            Some(1)
        );
        assert_eq!(pick("httpbin.rt.kyma.ondemand.com", "DELETE", "/x"), None);
        assert_eq!(pick("a.apps.example.com", "PUT", "/"), Some(2));
        assert_eq!(pick("apps.example.com", "PUT", "/"), None);
        assert_eq!(pick("other", "GET", "/"), None);
    }

    #[test]
    fn the_forwarded_head_carries_the_routes_and_envoys_headers() {
        let mut r = route(&["h"], None, None, None);
        r.set_headers = vec![("x-forwarded-host".into(), "h".into())];
        let out = rewrite_head(
            "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n",
            &r,
            "10.0.0.9".parse().unwrap(),
        );
        assert_eq!(
            out,
            "GET / HTTP/1.1\r\nHost: h\r\nx-forwarded-host: h\r\nx-forwarded-for: 10.0.0.9\r\nx-forwarded-proto: http\r\nx-envoy-attempt-count: 1\r\n\r\n"
        );
    }
}
