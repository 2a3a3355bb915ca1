//! A small HTTP/1.1 server loop for the built-in workloads, answering as Go's `net/http` (whoami,
//! agnhost, http-echo) or nginx/httpd answer: keep-alive, `Content-Length` bodies, and the
//! servers' own reply to a request they cannot parse (a PROXY protocol header sent to a server
//! that does not speak it is such a request).

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The most a request head may take (Go's `DefaultMaxHeaderBytes` is 1 MiB; nginx's
/// `large_client_header_buffers` 4×8k); bodies are read up to this too and then dropped.
const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 1024 * 1024;

/// A parsed request.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// As sent (`/path?query`).
    pub target: String,
    /// `HTTP/1.1` or `HTTP/1.0`.
    pub version: &'static str,
    /// In arrival order, names as sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    /// A query parameter, percent-decoded (`+` as space, as Go's `url.ParseQuery`).
    pub fn query(&self, key: &str) -> Option<String> {
        let q = self.target.split_once('?')?.1;
        q.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (decode(k) == key).then(|| decode(v))
        })
    }
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16)
                {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A response; `headers` are written in order after the status line.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Close the connection after this response.
    pub close: bool,
}

/// How a server answers what it cannot parse, and whether it keeps the connection.
pub trait Server: Send + Sync {
    fn handle(&self, req: &Request) -> Response;
    /// The raw bytes answered to a malformed request (then the connection closes).
    fn bad_request(&self) -> Vec<u8>;
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Request Entity Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "",
    }
}

pub fn write_response(resp: &Response, head_only: bool) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {} {}\r\n", resp.status, reason(resp.status)).into_bytes();
    for (k, v) in &resp.headers {
        out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    if !head_only {
        out.extend_from_slice(&resp.body);
    }
    out
}

/// Serves requests on `io` until the client closes, an error, or a response that closes.
pub async fn serve<S, F>(io: &mut S, server: &dyn Server, mut on_request: F)
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: FnMut(&Request, &Response),
{
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    loop {
        // Read until a whole head is buffered.
        let (req, used) = loop {
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut r = httparse::Request::new(&mut headers);
            match r.parse(&buf) {
                Ok(httparse::Status::Complete(n)) => {
                    let req = Request {
                        method: r.method.unwrap_or("").to_string(),
                        target: r.path.unwrap_or("").to_string(),
                        version: if r.version == Some(0) {
                            "HTTP/1.0"
                        } else {
                            "HTTP/1.1"
                        },
                        headers: r
                            .headers
                            .iter()
                            .map(|h| {
                                (
                                    h.name.to_string(),
                                    String::from_utf8_lossy(h.value).into_owned(),
                                )
                            })
                            .collect(),
                        body: Vec::new(),
                    };
                    break (req, n);
                }
                Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => {}
                _ => {
                    let _ = io.write_all(&server.bad_request()).await;
                    let _ = io.shutdown().await;
                    return;
                }
            }
            let mut chunk = [0u8; 4096];
            match io.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        buf.drain(..used);
        let mut req = req;
        let len: usize = match req.header("content-length").map(|v| v.trim().parse()) {
            None => 0,
            Some(Ok(n)) if n <= MAX_BODY => n,
            Some(_) => {
                let _ = io.write_all(&server.bad_request()).await;
                return;
            }
        };
        if req.header("transfer-encoding").is_some() {
            // Chunked uploads are not what these servers are for.
            let _ = io.write_all(&server.bad_request()).await;
            return;
        }
        while buf.len() < len {
            let mut chunk = [0u8; 8192];
            match io.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        req.body = buf.drain(..len).collect();
        let mut resp = server.handle(&req);
        let close = resp.close
            || req
                .header("connection")
                .is_some_and(|c| c.eq_ignore_ascii_case("close"))
            || (req.version == "HTTP/1.0"
                && !req
                    .header("connection")
                    .is_some_and(|c| c.eq_ignore_ascii_case("keep-alive")));
        if close && !resp.headers.iter().any(|(k, _)| k == "Connection") {
            resp.headers.push(("Connection".into(), "close".into()));
        }
        on_request(&req, &resp);
        if io
            .write_all(&write_response(&resp, req.method == "HEAD"))
            .await
            .is_err()
        {
            return;
        }
        if close {
            let _ = io.shutdown().await;
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_decoded_as_go_does() {
        let r = Request {
            method: "GET".into(),
            target: "/echo?msg=hello+world%21&x".into(),
            version: "HTTP/1.1",
            headers: vec![],
            body: vec![],
        };
        assert_eq!(r.query("msg").as_deref(), Some("hello world!"));
        assert_eq!(r.query("x").as_deref(), Some(""));
        assert_eq!(r.query("y"), None);
        assert_eq!(r.path(), "/echo");
        assert_eq!(decode("%zz%4"), "%zz%4");
    }
}
