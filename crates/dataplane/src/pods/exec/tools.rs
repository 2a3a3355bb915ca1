//! The network tools, carried out over [`Network`]: curl 8, BusyBox wget, nc and nslookup,
//! OpenBSD netcat and dig as netshoot ships them.

use super::parse::{Curl, Family, Nc, Wget};
use super::{err, out, PodContext, Stdio};
use crate::network::{source_for, Conn, Network};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

/// curl's User-Agent.
const CURL_VERSION: &str = "8.11.1";
/// Response headers read at most.
const MAX_HEAD: usize = 64 * 1024;

/// A URL as the tools read it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Url {
    pub scheme: String,
    pub host: String,
    pub port: u16,
    pub path: String,
    /// `host` or `host:port` as the Host header carries it (IPv6 in brackets).
    pub authority: String,
}

pub(crate) fn parse_url(s: &str) -> Result<Url, String> {
    let (scheme, rest) = match s.split_once("://") {
        Some((sc, r)) => (sc.to_ascii_lowercase(), r),
        None => ("http".to_string(), s),
    };
    let default_port = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        other => return Err(format!("Protocol \"{other}\" not supported")),
    };
    let (auth, path) = match rest.find(['/', '?', '#']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let path = if path.starts_with('/') {
        path.split('#').next().unwrap_or("/").to_string()
    } else {
        format!("/{}", path.split('#').next().unwrap_or(""))
    };
    let auth = auth.rsplit('@').next().unwrap_or(auth);
    let (host, port) = if let Some(v6) = auth.strip_prefix('[') {
        let Some((h, after)) = v6.split_once(']') else {
            return Err("URL rejected: Bad IPv6 address".into());
        };
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| {
                "URL rejected: Port number was not a decimal number between 0 and 65535".to_string()
            })?,
            None if after.is_empty() => default_port,
            None => return Err("URL rejected: Bad IPv6 address".into()),
        };
        if h.parse::<std::net::Ipv6Addr>().is_err() {
            return Err("URL rejected: Bad IPv6 address".into());
        }
        (h.to_string(), port)
    } else {
        match auth.rsplit_once(':') {
            Some((h, p)) => (
                h.to_string(),
                p.parse().map_err(|_| {
                    "URL rejected: Port number was not a decimal number between 0 and 65535"
                        .to_string()
                })?,
            ),
            None => (auth.to_string(), default_port),
        }
    };
    if host.is_empty() {
        return Err("URL rejected: No host part in the URL".into());
    }
    let authority = match auth.rsplit('@').next() {
        Some(a) => a.to_string(),
        None => auth.to_string(),
    };
    Ok(Url {
        scheme,
        host,
        port,
        path,
        authority,
    })
}

/// The addresses of `host`: an address literal as it is, a name through the pod's resolver.
async fn addresses(
    net: &dyn Network,
    ctx: &PodContext,
    host: &str,
    family: Option<Family>,
) -> Vec<IpAddr> {
    let ips = match host.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) if host == "localhost" => vec!["::1".parse().unwrap(), [127, 0, 0, 1].into()],
        Err(_) => net
            .resolve(&ctx.runtime, &ctx.namespace, host)
            .await
            .unwrap_or_default(),
    };
    ips.into_iter()
        .filter(|ip| match family {
            Some(Family::V4) => ip.is_ipv4(),
            Some(Family::V6) => ip.is_ipv6(),
            None => true,
        })
        .collect()
}

async fn connect(
    net: &dyn Network,
    ctx: &PodContext,
    dst: SocketAddr,
) -> io::Result<Box<dyn Conn>> {
    let src = if dst.ip().is_loopback() {
        dst.ip()
    } else {
        source_for(&ctx.ips, dst.ip())
            .ok_or_else(|| io::Error::from(io::ErrorKind::NetworkUnreachable))?
    };
    net.connect(&ctx.runtime, src, dst).await
}

fn ms(since: Instant) -> u128 {
    since.elapsed().as_millis()
}

fn show(ip: IpAddr, port: u16) -> String {
    SocketAddr::new(ip, port).to_string()
}

/// A read HTTP response head.
struct Head {
    status_line: String,
    code: u16,
    raw: Vec<u8>,
    content_length: Option<u64>,
    chunked: bool,
}

fn parse_head(raw: &[u8]) -> Option<Head> {
    let text = std::str::from_utf8(raw).ok()?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next()?.to_string();
    let mut parts = status_line.splitn(3, ' ');
    let proto = parts.next()?;
    if !proto.starts_with("HTTP/") {
        return None;
    }
    let code = parts.next()?.parse().ok()?;
    let mut content_length = None;
    let mut chunked = false;
    for l in lines {
        if let Some((k, v)) = l.split_once(':') {
            let v = v.trim();
            if k.eq_ignore_ascii_case("content-length") {
                content_length = v.parse().ok();
            } else if k.eq_ignore_ascii_case("transfer-encoding") {
                chunked = v.eq_ignore_ascii_case("chunked");
            }
        }
    }
    Some(Head {
        status_line,
        code,
        raw: raw.to_vec(),
        content_length,
        chunked,
    })
}

enum HttpError {
    /// Closed before a response (curl 52).
    Empty,
    /// Not HTTP (curl 1/8).
    Weird,
    Io,
}

/// Reads the response head; returns it and what of the body came with it.
async fn read_head(conn: &mut Box<dyn Conn>) -> Result<(Head, Vec<u8>), HttpError> {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = parse_head(&buf[..i + 4]).ok_or(HttpError::Weird)?;
            return Ok((head, buf[i + 4..].to_vec()));
        }
        if buf.len() > MAX_HEAD {
            return Err(HttpError::Weird);
        }
        match conn.read(&mut chunk).await {
            Ok(0) if buf.is_empty() => return Err(HttpError::Empty),
            Ok(0) => return Err(HttpError::Weird),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(_) if buf.is_empty() => return Err(HttpError::Empty),
            Err(_) => return Err(HttpError::Io),
        }
    }
}

/// Reads the body after the head, giving each piece to `sink`; returns the bytes received.
async fn read_body(
    conn: &mut Box<dyn Conn>,
    head: &Head,
    head_only: bool,
    mut first: Vec<u8>,
    sink: &mut (dyn FnMut(&[u8]) + Send),
    received: &mut u64,
) -> io::Result<()> {
    if head_only || head.code == 204 || head.code == 304 {
        return Ok(());
    }
    let mut chunk = vec![0u8; 16 * 1024];
    if head.chunked {
        // Decode chunked encoding.
        let mut buf = std::mem::take(&mut first);
        loop {
            let Some(i) = buf.windows(2).position(|w| w == b"\r\n") else {
                let n = conn.read(&mut chunk).await?;
                if n == 0 || buf.len() > MAX_HEAD {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
                buf.extend_from_slice(&chunk[..n]);
                continue;
            };
            let size_str = String::from_utf8_lossy(&buf[..i]).to_string();
            let size = u64::from_str_radix(size_str.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| io::Error::from(io::ErrorKind::InvalidData))?;
            buf.drain(..i + 2);
            if size == 0 {
                return Ok(());
            }
            let mut left = size;
            while left > 0 {
                if buf.is_empty() {
                    let n = conn.read(&mut chunk).await?;
                    if n == 0 {
                        return Err(io::ErrorKind::UnexpectedEof.into());
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                let take = (left as usize).min(buf.len());
                sink(&buf[..take]);
                *received += take as u64;
                buf.drain(..take);
                left -= take as u64;
            }
            while buf.len() < 2 {
                let n = conn.read(&mut chunk).await?;
                if n == 0 {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            buf.drain(..2);
        }
    }
    let limit = head.content_length;
    let mut take_from = |data: &[u8], received: &mut u64| -> bool {
        let room = limit.map_or(data.len() as u64, |l| l.saturating_sub(*received));
        let n = (data.len() as u64).min(room) as usize;
        sink(&data[..n]);
        *received += n as u64;
        limit.is_some_and(|l| *received >= l)
    };
    if take_from(&first, received) || limit == Some(0) {
        return Ok(());
    }
    loop {
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            return match limit {
                Some(l) if *received < l => Err(io::ErrorKind::UnexpectedEof.into()),
                _ => Ok(()),
            };
        }
        if take_from(&chunk[..n], received) {
            return Ok(());
        }
    }
}

fn errno_text(e: &io::Error) -> &'static str {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => "Connection refused",
        io::ErrorKind::NetworkUnreachable => "Network unreachable",
        io::ErrorKind::HostUnreachable => "Host is unreachable",
        io::ErrorKind::TimedOut => "Operation timed out",
        io::ErrorKind::ConnectionReset => "Connection reset by peer",
        _ => "Connection refused",
    }
}

/// curl: the request over HTTP/1.1, its output and `-w` variables, its errors and exit codes.
pub(super) async fn curl(net: &dyn Network, ctx: &PodContext, c: &Curl, io: &mut Stdio<'_>) -> i32 {
    let started = Instant::now();
    let deadline = c.max_time.map(|d| started + d);
    let show_errors = !c.silent || c.show_error;
    let progress = !c.silent && !c.verbose;
    macro_rules! fail {
        ($code:expr, $msg:expr) => {{
            if progress {
                err(io, PROGRESS_HEAD).await;
                err(io, &progress_line(0, 0, started)).await;
                err(io, "\n").await;
            }
            if show_errors {
                err(io, &format!("curl: ({}) {}\n", $code, $msg)).await;
            }
            if let Some(w) = &c.write_out {
                out(io, &write_out(w, 0, None, 0, started)).await;
            }
            return $code;
        }};
    }
    let url = match parse_url(&c.url) {
        Ok(u) => u,
        Err(e) if e.starts_with("Protocol") => fail!(1, e),
        Err(e) => fail!(3, e),
    };
    if url.scheme == "https" {
        // No TLS server exists in the emulated network's built-in workloads.
        fail!(
            35,
            format!(
                "OpenSSL SSL_connect: SSL_ERROR_SYSCALL in connection to {}:{}",
                url.host, url.port
            )
        );
    }
    let ips = addresses(net, ctx, &url.host, c.family).await;
    if ips.is_empty() {
        fail!(6, format!("Could not resolve host: {}", url.host));
    }
    let mut conn = None;
    let mut timed_out = false;
    for ip in &ips {
        if c.verbose {
            err(io, &format!("*   Trying {}...\n", show(*ip, url.port))).await;
        }
        let limit = match (c.connect_timeout, deadline) {
            (Some(ct), Some(d)) => Some((started + ct).min(d)),
            (Some(ct), None) => Some(started + ct),
            (None, d) => d,
        };
        let attempt = connect(net, ctx, SocketAddr::new(*ip, url.port));
        let r = match limit {
            Some(l) => match tokio::time::timeout_at(l, attempt).await {
                Ok(r) => r,
                Err(_) => {
                    timed_out = true;
                    break;
                }
            },
            None => attempt.await,
        };
        match r {
            Ok(cn) => {
                conn = Some((cn, *ip));
                break;
            }
            Err(e) if e.kind() == io::ErrorKind::TimedOut => timed_out = true,
            Err(e) => {
                if c.verbose {
                    err(
                        io,
                        &format!(
                            "* connect to {ip} port {} from {} port 0 failed: {}\n",
                            url.port,
                            source_for(&ctx.ips, *ip).map_or("0.0.0.0".into(), |s| s.to_string()),
                            errno_text(&e)
                        ),
                    )
                    .await;
                }
            }
        }
    }
    let Some((mut conn, ip)) = conn else {
        if timed_out {
            fail!(
                28,
                format!("Connection timed out after {} milliseconds", ms(started))
            );
        }
        fail!(
            7,
            format!(
                "Failed to connect to {} port {} after {} ms: Couldn't connect to server",
                url.host,
                url.port,
                ms(started)
            )
        );
    };
    if c.verbose {
        err(
            io,
            &format!("* Connected to {} ({ip}) port {}\n", url.host, url.port),
        )
        .await;
    }
    let method = c.method.clone().unwrap_or_else(|| {
        if c.head {
            "HEAD".into()
        } else if c.data.is_some() {
            "POST".into()
        } else {
            "GET".into()
        }
    });
    let mut req = format!("{method} {} HTTP/1.1\r\n", url.path);
    let has = |name: &str| {
        c.headers.iter().any(|h| {
            h.split(':')
                .next()
                .is_some_and(|k| k.trim().eq_ignore_ascii_case(name))
        })
    };
    if !has("host") {
        req.push_str(&format!("Host: {}\r\n", url.authority));
    }
    if !has("user-agent") {
        req.push_str(&format!("User-Agent: curl/{CURL_VERSION}\r\n"));
    }
    if !has("accept") {
        req.push_str("Accept: */*\r\n");
    }
    for h in &c.headers {
        req.push_str(h);
        req.push_str("\r\n");
    }
    if let Some(d) = &c.data {
        req.push_str(&format!(
            "Content-Length: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n",
            d.len()
        ));
    }
    req.push_str("\r\n");
    if c.verbose {
        for l in req.trim_end().split("\r\n") {
            err(io, &format!("> {l}\n")).await;
        }
        err(io, ">\n").await;
    }
    let mut body_out: Vec<u8> = Vec::new();
    let to_stdout = c.output.as_deref().is_none_or(|o| o == "-");
    let mut received = 0u64;
    let mut code = 0u16;
    let exchange = async {
        conn.write_all(req.as_bytes())
            .await
            .map_err(|_| HttpError::Io)?;
        if let Some(d) = &c.data {
            conn.write_all(d.as_bytes())
                .await
                .map_err(|_| HttpError::Io)?;
        }
        let (head, first) = read_head(&mut conn).await?;
        code = head.code;
        let mut sink = |b: &[u8]| {
            if to_stdout && body_out.len() < MAX_BODY {
                body_out.extend_from_slice(&b[..b.len().min(MAX_BODY - body_out.len())]);
            }
        };
        read_body(
            &mut conn,
            &head,
            method == "HEAD",
            first,
            &mut sink,
            &mut received,
        )
        .await
        .map_err(|_| HttpError::Io)?;
        Ok::<Head, HttpError>(head)
    };
    let result = match deadline {
        Some(d) => tokio::time::timeout_at(d, exchange).await.ok(),
        None => Some(exchange.await),
    };
    let head = match result {
        None => {
            let _ = std::mem::take(&mut body_out);
            fail!(
                28,
                format!(
                    "Operation timed out after {} milliseconds with {received} bytes received",
                    ms(started)
                )
            );
        }
        Some(Err(HttpError::Empty)) => fail!(52, "Empty reply from server"),
        Some(Err(HttpError::Weird)) => fail!(1, "Received HTTP/0.9 when not allowed"),
        Some(Err(HttpError::Io)) => fail!(56, "Recv failure: Connection reset by peer"),
        Some(Ok(h)) => h,
    };
    if c.verbose {
        let text = String::from_utf8_lossy(&head.raw).to_string();
        for l in text.trim_end().split("\r\n") {
            err(io, &format!("< {l}\n")).await;
        }
        err(io, "<\n").await;
    }
    if c.fail && head.code >= 400 {
        if progress {
            err(io, PROGRESS_HEAD).await;
            err(io, &progress_line(0, 0, started)).await;
            err(io, "\n").await;
        }
        if show_errors {
            err(
                io,
                &format!(
                    "curl: (22) The requested URL returned error: {}\n",
                    head.code
                ),
            )
            .await;
        }
        if let Some(w) = &c.write_out {
            out(io, &write_out(w, head.code, Some(ip), url.port, started)).await;
        }
        return 22;
    }
    if progress {
        err(io, PROGRESS_HEAD).await;
        err(io, &progress_line(received, received, started)).await;
        err(io, "\n").await;
    }
    if to_stdout {
        if c.head || c.include {
            let _ = io.stdout.write_all(&head.raw).await;
        }
        let _ = io.stdout.write_all(&body_out).await;
    }
    if c.verbose {
        err(
            io,
            &format!("* Connection #0 to host {} left intact\n", url.host),
        )
        .await;
    }
    if let Some(w) = &c.write_out {
        let _ = io
            .stdout
            .write_all(write_out(w, head.code, Some(ip), url.port, started).as_bytes())
            .await;
    }
    let _ = io.stdout.flush().await;
    let _ = code;
    0
}

/// Bytes of a body a tool keeps for its output.
const MAX_BODY: usize = 16 * 1024 * 1024;

const PROGRESS_HEAD: &str = "  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n                                 Dload  Upload   Total   Spent    Left  Speed\n";

fn progress_line(total: u64, got: u64, started: Instant) -> String {
    let secs = started.elapsed().as_secs_f64().max(0.001);
    let speed = (got as f64 / secs) as u64;
    let pct = if total == 0 { 0 } else { 100 };
    format!(
        "\r{pct:>3} {total:>5}  {pct:>3} {got:>5}    0     0 {speed:>6}      0 --:--:-- --:--:-- --:--:-- {speed:>6}"
    )
}

/// curl's `-w` format: `%{http_code}`, `%{remote_ip}`, `%{remote_port}`, `%{time_total}`, `\n`.
fn write_out(fmt: &str, code: u16, ip: Option<IpAddr>, port: u16, started: Instant) -> String {
    let mut out = String::new();
    let mut rest = fmt;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("%{") {
            if let Some(end) = r.find('}') {
                let var = &r[..end];
                match var {
                    "http_code" | "response_code" => out.push_str(&format!("{code:03}")),
                    "remote_ip" => out.push_str(&ip.map(|i| i.to_string()).unwrap_or_default()),
                    "remote_port" => out.push_str(&if ip.is_some() {
                        port.to_string()
                    } else {
                        String::new()
                    }),
                    "time_total" => {
                        out.push_str(&format!("{:.6}", started.elapsed().as_secs_f64()))
                    }
                    "exitcode" => out.push('0'),
                    _ => {}
                }
                rest = &r[end + 1..];
                continue;
            }
        }
        if let Some(r) = rest.strip_prefix("\\n") {
            out.push('\n');
            rest = r;
            continue;
        }
        let ch = rest.chars().next().unwrap();
        out.push(ch);
        rest = &rest[ch.len_utf8()..];
    }
    out
}

/// BusyBox wget: its progress lines without `-q`, its error texts, exit 1 on any failure.
pub(super) async fn wget(net: &dyn Network, ctx: &PodContext, w: &Wget, io: &mut Stdio<'_>) -> i32 {
    let url = match parse_url(&w.url) {
        Ok(u) => u,
        Err(e) if e.starts_with("Protocol") => {
            err(io, &format!("wget: not an http or ftp url: {}\n", w.url)).await;
            return 1;
        }
        Err(_) => {
            err(io, &format!("wget: bad address '{}'\n", w.url)).await;
            return 1;
        }
    };
    let timeout = w.timeout.unwrap_or(Duration::from_secs(900));
    let ips = addresses(net, ctx, &url.host, None).await;
    let Some(ip) = ips.first().copied() else {
        err(io, &format!("wget: bad address '{}'\n", url.host)).await;
        return 1;
    };
    if !w.quiet {
        err(
            io,
            &format!("Connecting to {} ({})\n", url.authority, show(ip, url.port)),
        )
        .await;
    }
    let conn =
        tokio::time::timeout(timeout, connect(net, ctx, SocketAddr::new(ip, url.port))).await;
    let mut conn = match conn {
        Err(_) => {
            err(io, "wget: download timed out\n").await;
            return 1;
        }
        Ok(Err(e)) => {
            err(
                io,
                &format!(
                    "wget: can't connect to remote host ({ip}): {}\n",
                    errno_text(&e)
                ),
            )
            .await;
            return 1;
        }
        Ok(Ok(c)) => c,
    };
    let method = if w.spider { "HEAD" } else { "GET" };
    let req = format!(
        "{method} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: Wget\r\nConnection: close\r\n\r\n",
        url.path, url.authority
    );
    let mut body = Vec::new();
    let mut received = 0u64;
    let exchange = async {
        conn.write_all(req.as_bytes())
            .await
            .map_err(|_| HttpError::Io)?;
        let (head, first) = read_head(&mut conn).await?;
        if head.code >= 400 {
            return Ok(head);
        }
        let mut sink = |b: &[u8]| {
            if body.len() < MAX_BODY {
                body.extend_from_slice(&b[..b.len().min(MAX_BODY - body.len())]);
            }
        };
        read_body(&mut conn, &head, w.spider, first, &mut sink, &mut received)
            .await
            .map_err(|_| HttpError::Io)?;
        Ok::<Head, HttpError>(head)
    };
    let head = match tokio::time::timeout(timeout, exchange).await {
        Err(_) => {
            err(io, "wget: download timed out\n").await;
            return 1;
        }
        Ok(Err(HttpError::Empty)) | Ok(Err(HttpError::Weird)) => {
            err(io, "wget: error getting response\n").await;
            return 1;
        }
        Ok(Err(HttpError::Io)) => {
            err(
                io,
                "wget: error getting response: Connection reset by peer\n",
            )
            .await;
            return 1;
        }
        Ok(Ok(h)) => h,
    };
    if w.server_response {
        let text = String::from_utf8_lossy(&head.raw).to_string();
        for l in text.trim_end().split("\r\n") {
            err(io, &format!("  {l}\n")).await;
        }
    }
    if head.code >= 400 {
        err(
            io,
            &format!("wget: server returned error: {}\n", head.status_line),
        )
        .await;
        return 1;
    }
    if w.spider {
        if !w.quiet {
            err(io, "remote file exists\n").await;
        }
        return 0;
    }
    let to_stdout = w.output.as_deref() == Some("-");
    let file = w.output.clone().unwrap_or_else(|| {
        let f = url
            .path
            .split('?')
            .next()
            .unwrap_or("")
            .rsplit('/')
            .next()
            .unwrap_or("");
        if f.is_empty() {
            "index.html".into()
        } else {
            f.to_string()
        }
    });
    if !w.quiet {
        if to_stdout {
            err(io, "writing to stdout\n").await;
        } else {
            err(io, &format!("saving to '{file}'\n")).await;
        }
    }
    if to_stdout {
        let _ = io.stdout.write_all(&body).await;
        let _ = io.stdout.flush().await;
    }
    if !w.quiet {
        let name = if to_stdout {
            "-".to_string()
        } else {
            file.clone()
        };
        err(
            io,
            &format!(
                "{name:<20} 100% |********************************| {:>5}  0:00:00 ETA\n",
                human(received)
            ),
        )
        .await;
        if to_stdout {
            err(io, "written to stdout\n").await;
        } else {
            err(io, &format!("'{file}' saved\n")).await;
        }
    }
    0
}

fn human(n: u64) -> String {
    if n < 100_000 {
        n.to_string()
    } else {
        format!("{}k", n / 1024)
    }
}

/// nc: `-z` scans, otherwise stdin goes to the connection and the connection to stdout.
pub(super) async fn nc(net: &dyn Network, ctx: &PodContext, n: &Nc, io: &mut Stdio<'_>) -> i32 {
    let ips = addresses(net, ctx, &n.host, n.family).await;
    let Some(ip) = ips.first().copied() else {
        if n.openbsd {
            err(
                io,
                &format!(
                    "nc: getaddrinfo for host \"{}\" port {}: Name does not resolve\n",
                    n.host, n.port
                ),
            )
            .await;
        } else {
            err(io, &format!("nc: bad address '{}'\n", n.host)).await;
        }
        return 1;
    };
    let attempt = connect(net, ctx, SocketAddr::new(ip, n.port));
    let r = match n.timeout {
        Some(t) => tokio::time::timeout(t, attempt)
            .await
            .unwrap_or_else(|_| Err(io::ErrorKind::TimedOut.into())),
        None => attempt.await,
    };
    let mut conn = match r {
        Err(e) => {
            if n.openbsd {
                if n.verbose {
                    err(
                        io,
                        &format!(
                            "nc: connect to {} ({ip}) port {} (tcp) failed: {}\n",
                            n.host,
                            n.port,
                            errno_text(&e)
                        ),
                    )
                    .await;
                }
            } else if e.kind() == io::ErrorKind::TimedOut {
                err(io, "nc: timed out\n").await;
            } else {
                err(
                    io,
                    &format!(
                        "nc: can't connect to remote host ({ip}): {}\n",
                        errno_text(&e)
                    ),
                )
                .await;
            }
            return 1;
        }
        Ok(c) => c,
    };
    if n.verbose {
        if n.openbsd {
            let svc = match n.port {
                80 => "http",
                443 => "https",
                53 => "domain",
                _ => "*",
            };
            err(
                io,
                &format!(
                    "Connection to {} ({ip}) {} port [tcp/{svc}] succeeded!\n",
                    n.host, n.port
                ),
            )
            .await;
        } else {
            err(io, &format!("{} ({}) open\n", n.host, show(ip, n.port))).await;
        }
    }
    if n.zero {
        return 0;
    }
    let (mut rd, mut wr) = tokio::io::split(conn.as_mut());
    let up = async {
        if let Some(stdin) = io.stdin.as_mut() {
            let _ = tokio::io::copy(stdin, &mut wr).await;
        }
        let _ = wr.shutdown().await;
    };
    let down = async {
        let mut buf = vec![0u8; 16 * 1024];
        let mut got = Vec::new();
        loop {
            let read = match n.timeout {
                Some(t) => match tokio::time::timeout(t, rd.read(&mut buf)).await {
                    Ok(r) => r,
                    Err(_) => break,
                },
                None => rd.read(&mut buf).await,
            };
            match read {
                Ok(0) | Err(_) => break,
                Ok(k) => got.extend_from_slice(&buf[..k.min(MAX_BODY.saturating_sub(got.len()))]),
            }
        }
        got
    };
    let (_, got) = tokio::join!(up, down);
    let _ = io.stdout.write_all(&got).await;
    let _ = io.stdout.flush().await;
    0
}

/// The name the resolver's search list turns `name` into (`ndots:5`; the first search domain
/// for a bare name, `svc.cluster.local` for `svc.ns`).
fn qualified(ctx: &PodContext, name: &str) -> String {
    let name = name.trim_end_matches('.');
    if name.ends_with(".cluster.local") || name.matches('.').count() >= 2 {
        name.to_string()
    } else if name.contains('.') {
        format!("{name}.svc.cluster.local")
    } else {
        format!("{name}.{}.svc.cluster.local", ctx.namespace)
    }
}

/// BusyBox nslookup: `Server:`/`Address:` of the cluster DNS, then each address.
pub(super) async fn nslookup(
    net: &dyn Network,
    ctx: &PodContext,
    name: &str,
    io: &mut Stdio<'_>,
) -> i32 {
    let Some(server) = net.cluster_dns(&ctx.runtime) else {
        err(
            io,
            ";; connection timed out; no servers could be reached\n\n",
        )
        .await;
        return 1;
    };
    let mut text = format!(
        "Server:\t\t{server}\nAddress:\t{}\n\n",
        SocketAddr::new(server, 53)
    );
    let ips = match name.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => net
            .resolve(&ctx.runtime, &ctx.namespace, name)
            .await
            .unwrap_or_default(),
    };
    if ips.is_empty() {
        text.push_str(&format!(
            "** server can't find {}: NXDOMAIN\n\n",
            qualified(ctx, name)
        ));
        out(io, &text).await;
        return 1;
    }
    let fq = qualified(ctx, name);
    for ip in ips.iter().filter(|i| i.is_ipv4()) {
        text.push_str(&format!("Name:\t{fq}\nAddress: {ip}\n"));
    }
    if ips.iter().any(|i| i.is_ipv4()) {
        text.push('\n');
    }
    for ip in ips.iter().filter(|i| i.is_ipv6()) {
        text.push_str(&format!("Name:\t{fq}\nAddress: {ip}\n"));
    }
    if ips.iter().any(|i| i.is_ipv6()) {
        text.push('\n');
    }
    out(io, &text).await;
    0
}

/// dig (netshoot): `+short` prints the addresses; otherwise a short answer section.
pub(super) async fn dig(
    net: &dyn Network,
    ctx: &PodContext,
    name: &str,
    short: bool,
    aaaa: bool,
    io: &mut Stdio<'_>,
) -> i32 {
    let ips: Vec<IpAddr> = net
        .resolve(&ctx.runtime, &ctx.namespace, name)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|i| i.is_ipv6() == aaaa)
        .collect();
    let qtype = if aaaa { "AAAA" } else { "A" };
    let fq = format!("{}.", qualified(ctx, name));
    if short {
        let s: String = ips.iter().map(|i| format!("{i}\n")).collect();
        out(io, &s).await;
        return 0;
    }
    let status = if ips.is_empty() {
        "NXDOMAIN"
    } else {
        "NOERROR"
    };
    let server = net
        .cluster_dns(&ctx.runtime)
        .map_or("127.0.0.1".into(), |s| s.to_string());
    let mut s = format!(
        "\n; <<>> DiG 9.20.4 <<>> {name}\n;; global options: +cmd\n;; Got answer:\n;; ->>HEADER<<- opcode: QUERY, status: {status}, id: 1\n\n;; QUESTION SECTION:\n;{fq}\t\tIN\t{qtype}\n\n"
    );
    if !ips.is_empty() {
        s.push_str(";; ANSWER SECTION:\n");
        for ip in &ips {
            s.push_str(&format!("{fq}\t30\tIN\t{qtype}\t{ip}\n"));
        }
        s.push('\n');
    }
    s.push_str(&format!(";; SERVER: {server}#53({server}) (UDP)\n\n"));
    out(io, &s).await;
    0
}
