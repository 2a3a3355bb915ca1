//! The built-in workloads: pods whose image is one people deploy to test load balancers
//! (`traefik/whoami`, agnhost `netexec` and `serve-hostname`, `hashicorp/http-echo`, `nginx`,
//! `httpd`) are served by the data plane itself, answering as those programs do. What they
//! report about their peer (whoami's `RemoteAddr`, netexec's `/clientip`) is the address the
//! path model says the pod's socket sees, not the loopback address twinstack's own socket has.

mod http;
mod image;

pub use http::{serve, write_response, Request, Response, Server};
pub use image::workload_of;

use std::net::{IpAddr, SocketAddr};

/// A built-in server program.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Workload {
    /// `traefik/whoami` (`--name` or `WHOAMI_NAME`).
    Whoami { name: String },
    /// agnhost `netexec`.
    Netexec,
    /// agnhost `serve-hostname`.
    ServeHostname,
    /// `hashicorp/http-echo` with its `-text`.
    HttpEcho { text: String },
    /// nginx's default server.
    Nginx,
    /// Apache httpd's default server.
    Httpd,
    /// Istio's ingress gateway (`proxyv2 proxy router`): it routes by the runtime's
    /// VirtualServices (`frontends::gateway`); as a server of its own it has no route.
    IstioGateway,
}

/// Envoy's answer when no route matches (`server: istio-envoy`, no body).
pub fn envoy_not_found(now: jiff::Timestamp) -> Response {
    Response {
        status: 404,
        headers: vec![
            ("date".into(), http_date(now)),
            ("server".into(), "istio-envoy".into()),
            ("content-length".into(), "0".into()),
        ],
        body: Vec::new(),
        close: false,
    }
}

/// What one connection to a built-in server knows about itself.
#[derive(Debug, Clone)]
pub struct Context {
    /// The pod's name (its hostname).
    pub hostname: String,
    /// The pod's addresses (`status.podIPs`).
    pub pod_ips: Vec<IpAddr>,
    /// The peer as the pod's socket sees it.
    pub peer: SocketAddr,
    /// The time of the request, for logs and netexec's `NOW:` (RFC 3339 in UTC).
    pub now: jiff::Timestamp,
}

/// The Go `net/http` answer to a request it cannot parse (`server.go`, `(*conn).serve`).
const GO_BAD_REQUEST: &[u8] = b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request";

/// Go's `http.Error`/`DetectContentType` headers for a text body, in Go's sorted order.
fn go_text(status: u16, ctx: &Context, body: String) -> Response {
    Response {
        status,
        headers: vec![
            ("Content-Length".into(), body.len().to_string()),
            ("Content-Type".into(), "text/plain; charset=utf-8".into()),
            ("Date".into(), http_date(ctx.now)),
        ],
        body: body.into_bytes(),
        close: false,
    }
}

/// `Mon, 02 Jan 2006 15:04:05 GMT` (Go's `http.TimeFormat`, nginx's and httpd's `Date`).
pub fn http_date(t: jiff::Timestamp) -> String {
    t.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Go's `CanonicalMIMEHeaderKey`: `x-forwarded-for` → `X-Forwarded-For`.
fn canonical(name: &str) -> String {
    let mut up = true;
    name.chars()
        .map(|c| {
            let o = if up {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            up = c == '-';
            o
        })
        .collect()
}

/// The request as Go's `(*Request).Write` puts it on the wire (whoami echoes it): request
/// line, `Host`, `User-Agent`, then the other headers sorted by canonical name.
fn go_request_wire(req: &Request) -> String {
    let mut out = format!("{} {} HTTP/1.1\r\n", req.method, req.target);
    out.push_str(&format!("Host: {}\r\n", req.header("host").unwrap_or("")));
    out.push_str(&format!(
        "User-Agent: {}\r\n",
        req.header("user-agent").unwrap_or("Go-http-client/1.1")
    ));
    let mut rest: Vec<(String, &str)> = req
        .headers
        .iter()
        .map(|(k, v)| (canonical(k), v.as_str()))
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                "Host" | "User-Agent" | "Content-Length" | "Transfer-Encoding" | "Trailer"
            )
        })
        .collect();
    rest.sort_by(|a, b| a.0.cmp(&b.0));
    for (k, v) in rest {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    if !req.body.is_empty() {
        out.push_str(&format!("Content-Length: {}\r\n", req.body.len()));
    }
    out.push_str("\r\n");
    out
}

/// whoami's `IP:` lines: loopback first, then the pod's addresses (`net.Interfaces` order).
fn whoami_ips(ctx: &Context) -> Vec<String> {
    let mut ips = vec!["127.0.0.1".to_string()];
    if ctx.pod_ips.iter().any(IpAddr::is_ipv6) {
        ips.push("::1".into());
    }
    ips.extend(ctx.pod_ips.iter().map(IpAddr::to_string));
    ips
}

const NGINX_INDEX: &str = "<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to nginx!</title>\n<style>\nhtml { color-scheme: light dark; }\nbody { width: 35em; margin: 0 auto;\nfont-family: Tahoma, Verdana, Arial, sans-serif; }\n</style>\n</head>\n<body>\n<h1>Welcome to nginx!</h1>\n<p>If you see this page, the nginx web server is successfully installed and\nworking. Further configuration is required.</p>\n\n<p>For online documentation and support please refer to\n<a href=\"http://nginx.org/\">nginx.org</a>.<br/>\nCommercial support is available at\n<a href=\"http://nginx.com/\">nginx.com</a>.</p>\n\n<p><em>Thank you for using nginx.</em></p>\n</body>\n</html>\n";
const NGINX_VERSION: &str = "nginx/1.27.3";
const HTTPD_INDEX: &str = "<html><body><h1>It works!</h1></body></html>\n";
const HTTPD_SERVER: &str = "Apache/2.4.62 (Unix)";

fn nginx_error(status: u16, ctx: &Context) -> Response {
    let text = format!("{status} {}", http_reason(status));
    let body = format!(
        "<html>\r\n<head><title>{text}</title></head>\r\n<body>\r\n<center><h1>{text}</h1></center>\r\n<hr><center>{NGINX_VERSION}</center>\r\n</body>\r\n</html>\r\n"
    );
    Response {
        status,
        headers: vec![
            ("Server".into(), NGINX_VERSION.into()),
            ("Date".into(), http_date(ctx.now)),
            ("Content-Type".into(), "text/html".into()),
            ("Content-Length".into(), body.len().to_string()),
        ],
        body: body.into_bytes(),
        close: status == 400,
    }
}

fn http_reason(s: u16) -> &'static str {
    match s {
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Not Allowed",
        _ => "",
    }
}

/// One built-in server bound to a connection's context.
pub struct Instance<'a> {
    pub workload: &'a Workload,
    pub ctx: &'a Context,
}

impl Server for Instance<'_> {
    fn handle(&self, req: &Request) -> Response {
        let ctx = self.ctx;
        match self.workload {
            Workload::Whoami { name } => match req.path() {
                "/health" => go_text(200, ctx, String::new()),
                "/bench" => Response {
                    status: 200,
                    headers: vec![
                        ("Connection".into(), "keep-alive".into()),
                        ("Content-Length".into(), "1".into()),
                        ("Content-Type".into(), "text/plain".into()),
                        ("Date".into(), http_date(ctx.now)),
                    ],
                    body: b"1".to_vec(),
                    close: false,
                },
                "/api" => {
                    let body = serde_json_like_api(name, req, ctx);
                    let mut r = go_text(200, ctx, body);
                    r.headers = vec![
                        ("Access-Control-Allow-Methods".into(), "*".into()),
                        ("Access-Control-Allow-Origin".into(), "*".into()),
                        ("Content-Length".into(), r.body.len().to_string()),
                        ("Content-Type".into(), "application/json".into()),
                        ("Date".into(), http_date(ctx.now)),
                    ];
                    r
                }
                _ => {
                    let mut b = String::new();
                    if !name.is_empty() {
                        b.push_str(&format!("Name: {name}\n"));
                    }
                    b.push_str(&format!("Hostname: {}\n", ctx.hostname));
                    for ip in whoami_ips(ctx) {
                        b.push_str(&format!("IP: {ip}\n"));
                    }
                    b.push_str(&format!("RemoteAddr: {}\n", ctx.peer));
                    b.push_str(&go_request_wire(req));
                    go_text(200, ctx, b)
                }
            },
            Workload::Netexec => match req.path() {
                "/" => go_text(
                    200,
                    ctx,
                    format!(
                        "NOW: {}",
                        ctx.now.strftime("%Y-%m-%d %H:%M:%S.%f +0000 UTC")
                    ),
                ),
                "/clientip" => go_text(200, ctx, ctx.peer.to_string()),
                "/hostname" => go_text(200, ctx, ctx.hostname.clone()),
                "/echo" => go_text(200, ctx, req.query("msg").unwrap_or_default()),
                "/healthz" | "/healthz/" => go_text(200, ctx, String::new()),
                "/header" => go_text(
                    200,
                    ctx,
                    req.query("key")
                        .and_then(|k| req.header(&k).map(str::to_string))
                        .unwrap_or_default(),
                ),
                _ => go_text(404, ctx, "404 page not found\n".into()),
            },
            Workload::ServeHostname => go_text(200, ctx, ctx.hostname.clone()),
            Workload::IstioGateway => envoy_not_found(ctx.now),
            Workload::HttpEcho { text } => {
                let mut r = go_text(200, ctx, format!("{text}\n"));
                r.headers
                    .insert(0, ("X-App-Name".into(), "http-echo".into()));
                r.headers
                    .insert(1, ("X-App-Version".into(), "1.0.0".into()));
                r
            }
            Workload::Nginx => {
                if req.method != "GET" && req.method != "HEAD" {
                    return nginx_error(405, ctx);
                }
                if req.path() != "/" && req.path() != "/index.html" {
                    return nginx_error(404, ctx);
                }
                Response {
                    status: 200,
                    headers: vec![
                        ("Server".into(), NGINX_VERSION.into()),
                        ("Date".into(), http_date(ctx.now)),
                        ("Content-Type".into(), "text/html".into()),
                        ("Content-Length".into(), NGINX_INDEX.len().to_string()),
                        (
                            "Last-Modified".into(),
                            "Tue, 26 Nov 2024 15:55:00 GMT".into(),
                        ),
                        ("Connection".into(), "keep-alive".into()),
                        ("ETag".into(), "\"6745ef54-267\"".into()),
                        ("Accept-Ranges".into(), "bytes".into()),
                    ],
                    body: NGINX_INDEX.as_bytes().to_vec(),
                    close: false,
                }
            }
            Workload::Httpd => {
                let (status, body) = if req.path() == "/" || req.path() == "/index.html" {
                    (200, HTTPD_INDEX.to_string())
                } else {
                    (
                        404,
                        "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>404 Not Found</title>\n</head><body>\n<h1>Not Found</h1>\n<p>The requested URL was not found on this server.</p>\n</body></html>\n".to_string(),
                    )
                };
                Response {
                    status,
                    headers: vec![
                        ("Date".into(), http_date(ctx.now)),
                        ("Server".into(), HTTPD_SERVER.into()),
                        ("Content-Length".into(), body.len().to_string()),
                        (
                            "Content-Type".into(),
                            if status == 200 {
                                "text/html"
                            } else {
                                "text/html; charset=iso-8859-1"
                            }
                            .into(),
                        ),
                    ],
                    body: body.into_bytes(),
                    close: false,
                }
            }
        }
    }

    fn bad_request(&self) -> Vec<u8> {
        match self.workload {
            Workload::Nginx => {
                super::workloads::http::write_response(&nginx_error(400, self.ctx), false)
            }
            Workload::Httpd => {
                let body = "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>400 Bad Request</title>\n</head><body>\n<h1>Bad Request</h1>\n<p>Your browser sent a request that this server could not understand.<br />\n</p>\n</body></html>\n";
                http::write_response(
                    &Response {
                        status: 400,
                        headers: vec![
                            ("Date".into(), http_date(self.ctx.now)),
                            ("Server".into(), HTTPD_SERVER.into()),
                            ("Content-Length".into(), body.len().to_string()),
                            ("Connection".into(), "close".into()),
                            (
                                "Content-Type".into(),
                                "text/html; charset=iso-8859-1".into(),
                            ),
                        ],
                        body: body.as_bytes().to_vec(),
                        close: true,
                    },
                    false,
                )
            }
            _ => GO_BAD_REQUEST.to_vec(),
        }
    }
}

/// whoami's `/api` JSON (field order as its `Data` struct).
fn serde_json_like_api(name: &str, req: &Request, ctx: &Context) -> String {
    let mut headers: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (k, v) in &req.headers {
        if !k.eq_ignore_ascii_case("host") {
            headers.entry(canonical(k)).or_default().push(v.clone());
        }
    }
    let esc = |s: &str| {
        let mut o = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => o.push_str("\\\""),
                '\\' => o.push_str("\\\\"),
                c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
                c => o.push(c),
            }
        }
        o.push('"');
        o
    };
    let mut out = format!("{{\"hostname\":{}", esc(&ctx.hostname));
    out.push_str(",\"ip\":[");
    out.push_str(
        &whoami_ips(ctx)
            .iter()
            .map(|s| esc(s))
            .collect::<Vec<_>>()
            .join(","),
    );
    out.push_str("],\"headers\":{");
    out.push_str(
        &headers
            .iter()
            .map(|(k, vs)| {
                format!(
                    "{}:[{}]",
                    esc(k),
                    vs.iter().map(|v| esc(v)).collect::<Vec<_>>().join(",")
                )
            })
            .collect::<Vec<_>>()
            .join(","),
    );
    out.push_str(&format!(
        "}},\"url\":{},\"host\":{},\"method\":{}",
        esc(&req.target),
        esc(req.header("host").unwrap_or("")),
        esc(&req.method)
    ));
    if !name.is_empty() {
        out.push_str(&format!(",\"name\":{}", esc(name)));
    }
    out.push_str(&format!(
        ",\"remoteAddr\":{}}}\n",
        esc(&ctx.peer.to_string())
    ));
    out
}

/// The access log line the server writes for a request (nginx's `main` format, httpd's common
/// format, whoami `--verbose` is off by default so it logs nothing).
pub fn access_line(w: &Workload, ctx: &Context, req: &Request, resp: &Response) -> Option<String> {
    let t = ctx.now.strftime("%d/%b/%Y:%H:%M:%S +0000");
    let request = format!("{} {} {}", req.method, req.target, req.version);
    match w {
        Workload::Nginx => Some(format!(
            "{} - - [{t}] \"{request}\" {} {} \"{}\" \"{}\" \"{}\"",
            ctx.peer.ip(),
            resp.status,
            resp.body.len(),
            req.header("referer").unwrap_or("-"),
            req.header("user-agent").unwrap_or("-"),
            req.header("x-forwarded-for").unwrap_or("-"),
        )),
        Workload::Httpd => Some(format!(
            "{} - - [{t}] \"{request}\" {} {}",
            ctx.peer.ip(),
            resp.status,
            if resp.body.is_empty() {
                "-".to_string()
            } else {
                resp.body.len().to_string()
            }
        )),
        Workload::Netexec => Some(format!(
            "I{} {:>7} netexec.go] GET {}",
            ctx.now.strftime("%m%d %H:%M:%S%.6f"),
            1,
            req.target
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn ctx() -> Context {
        Context {
            hostname: "web-7d9f-abcde".into(),
            pod_ips: vec![
                "10.96.0.5".parse().unwrap(),
                "2600:1f18::5".parse().unwrap(),
            ],
            peer: "10.250.0.9:40000".parse().unwrap(),
            now: "2026-12-03T10:00:00Z".parse().unwrap(),
        }
    }

    async fn exchange(w: &Workload, input: &[u8]) -> String {
        let (mut client, mut server) = tokio::io::duplex(1 << 16);
        let c = ctx();
        let w2 = w.clone();
        let task = tokio::spawn(async move {
            let inst = Instance {
                workload: &w2,
                ctx: &c,
            };
            serve(&mut server, &inst, |_, _| {}).await;
        });
        client.write_all(input).await.unwrap();
        client.shutdown().await.unwrap();
        let mut out = String::new();
        client.read_to_string(&mut out).await.unwrap();
        task.await.unwrap();
        out
    }

    #[tokio::test]
    async fn whoami_reports_the_modelled_peer_and_echoes_the_request() {
        let out = exchange(
            &Workload::Whoami {
                name: String::new(),
            },
            b"GET / HTTP/1.1\r\nHost: lb.example\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n",
        )
        .await;
        assert!(
            out.starts_with("HTTP/1.1 200 OK\r\nContent-Length: "),
            "{out}"
        );
        let body = out.split_once("\r\n\r\n").unwrap().1;
        assert_eq!(
            body,
            "Hostname: web-7d9f-abcde\nIP: 127.0.0.1\nIP: ::1\nIP: 10.96.0.5\nIP: 2600:1f18::5\nRemoteAddr: 10.250.0.9:40000\nGET / HTTP/1.1\r\nHost: lb.example\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n"
        );
    }

    #[tokio::test]
    async fn a_proxy_protocol_header_is_a_bad_request_to_go_servers_and_nginx() {
        // The PROXY v2 signature, then an address block, then the request.
        let mut input = b"\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c".to_vec();
        input.extend_from_slice(&[198, 51, 100, 7, 10, 0, 0, 1, 0x1f, 0x90, 0, 80]);
        input.extend_from_slice(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        let out = exchange(
            &Workload::Whoami {
                name: String::new(),
            },
            &input,
        )
        .await;
        assert_eq!(
            out,
            "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request"
        );
        let out = exchange(&Workload::Nginx, &input).await;
        assert!(
            out.starts_with("HTTP/1.1 400 Bad Request\r\nServer: nginx/"),
            "{out}"
        );
    }

    #[tokio::test]
    async fn netexec_and_friends_answer_as_upstream() {
        let get = |p: &str| format!("GET {p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let body = |s: String| s.split_once("\r\n\r\n").unwrap().1.to_string();
        assert_eq!(
            body(exchange(&Workload::Netexec, get("/clientip").as_bytes()).await),
            "10.250.0.9:40000"
        );
        assert_eq!(
            body(exchange(&Workload::Netexec, get("/echo?msg=hi+there").as_bytes()).await),
            "hi there"
        );
        assert_eq!(
            body(exchange(&Workload::Netexec, get("/nope").as_bytes()).await),
            "404 page not found\n"
        );
        assert_eq!(
            body(exchange(&Workload::ServeHostname, get("/").as_bytes()).await),
            "web-7d9f-abcde"
        );
        assert_eq!(
            body(
                exchange(
                    &Workload::HttpEcho {
                        text: "hello".into()
                    },
                    get("/").as_bytes()
                )
                .await
            ),
            "hello\n"
        );
        let nginx = exchange(&Workload::Nginx, get("/").as_bytes()).await;
        assert!(nginx.contains("<title>Welcome to nginx!</title>"));
        assert!(nginx.contains("Content-Length: 615\r\n"), "{nginx}");
        let httpd = exchange(&Workload::Httpd, get("/").as_bytes()).await;
        assert!(httpd.ends_with("<h1>It works!</h1></body></html>\n"));
    }

    #[tokio::test]
    async fn keep_alive_serves_several_requests_on_one_connection() {
        let two =
            b"GET /hostname HTTP/1.1\r\nHost: x\r\n\r\nGET /clientip HTTP/1.1\r\nHost: x\r\n\r\n";
        let out = exchange(&Workload::Netexec, two).await;
        assert_eq!(out.matches("HTTP/1.1 200 OK").count(), 2, "{out}");
    }

    #[test]
    fn nginx_logs_in_its_main_format() {
        let req = Request {
            method: "GET".into(),
            target: "/".into(),
            version: "HTTP/1.1",
            headers: vec![("User-Agent".into(), "curl/8.5.0".into())],
            body: vec![],
        };
        let resp = Response {
            status: 200,
            headers: vec![],
            body: vec![0; 615],
            close: false,
        };
        assert_eq!(
            access_line(&Workload::Nginx, &ctx(), &req, &resp).unwrap(),
            "10.250.0.9 - - [03/Dec/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 615 \"-\" \"curl/8.5.0\" \"-\""
        );
    }
}
