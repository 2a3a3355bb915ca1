//! The HTTPS accept loop: rustls with HTTP/2 and HTTP/1.1 (ALPN), serving the axum router,
//! with graceful shutdown, and the limits that keep any one client from holding the server:
//! a connection limit, timeouts for the TLS handshake, request headers, idle connections,
//! stalled writes and requests, and HTTP/2 stream limits and keep-alive pings.
//!
//! The values follow kube-apiserver's `SecureServingInfo.Serve` (k8s.io/apiserver
//! `pkg/server/secure_serving.go`) and `--request-timeout` where it has one; see [`Limits`].

use axum::body::Body;
use axum::http::{header, Request, Response, StatusCode, Uri, Version};
use axum::Router;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::time::Sleep;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// What one client may hold of the server. The defaults are kube-apiserver's where it has the
/// same knob.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Open connections at most. At the limit the server stops accepting: new connections
    /// wait in the kernel's listen backlog until one closes (as Go's `netutil.LimitListener`);
    /// the timeouts below make sure one does. kube-apiserver has no such limit (it bounds
    /// requests in flight); 4,096 stays well below the usual open-files limit.
    pub max_connections: usize,
    /// For the TLS handshake. Go's server bounds it by its shortest read/write timeout, which for
    /// kube-apiserver is `ReadHeaderTimeout` (32 s); 10 s is ample on loopback.
    pub tls_handshake_timeout: Duration,
    /// For a request's headers, over HTTP/1.1: kube-apiserver's `ReadHeaderTimeout` (32 s).
    /// hyper starts this timer as soon as a connection waits for a request, so an HTTP/1.1
    /// connection idle between requests is also closed after it.
    pub header_read_timeout: Duration,
    /// A connection with no request in flight for this long is closed (HTTP/2: GOAWAY):
    /// kube-apiserver's `IdleTimeout` and `http2.Server.IdleTimeout` (90 s). It also ends an
    /// HTTP/2 connection that never completes a request's headers.
    pub idle_timeout: Duration,
    /// A request that is not a watch is answered 504 after this long (its handler keeps running,
    /// as upstream's): kube-apiserver's `--request-timeout` (60 s). It bounds a request whose
    /// body arrives byte by byte.
    pub request_timeout: Duration,
    /// A connection whose peer takes no byte for this long is closed: a client that stops
    /// reading cannot pin its buffers for ever. Go's server has no such default (no
    /// `WriteTimeout` for kube-apiserver); one minute matches `--request-timeout`.
    pub write_stall_timeout: Duration,
    /// HTTP/2 streams per connection: `http2.Server.MaxConcurrentStreams` as kube-apiserver
    /// 1.32 sets it (100, since the rapid-reset fix).
    pub h2_max_concurrent_streams: u32,
    /// HTTP/2 PING when the connection has been quiet this long, and closed if the answer takes
    /// longer than `h2_keep_alive_timeout`: client-go's `ReadIdleTimeout` (30 s) and
    /// `PingTimeout` (15 s), so a peer that vanished does not hold its watches.
    pub h2_keep_alive_interval: Duration,
    pub h2_keep_alive_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 4_096,
            tls_handshake_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(32),
            idle_timeout: Duration::from_secs(90),
            request_timeout: Duration::from_secs(60),
            write_stall_timeout: Duration::from_secs(60),
            h2_max_concurrent_streams: 100,
            h2_keep_alive_interval: Duration::from_secs(30),
            h2_keep_alive_timeout: Duration::from_secs(15),
        }
    }
}

/// How long open connections get to finish after shutdown or an idle close.
const GRACE: Duration = Duration::from_secs(5);

/// Serves `router` on `listener` until `shutdown` turns true; then stops accepting and lets open
/// connections finish (watches are ended).
pub async fn serve_tls(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    router: Router,
    limits: Limits,
    mut shutdown: watch::Receiver<bool>,
) {
    let acceptor = TlsAcceptor::from(tls);
    let builder = Arc::new(http_builder(&limits));
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut conns = tokio::task::JoinSet::new();
    let mut backoff = AcceptBackoff::default();
    let mut at_limit = false;
    loop {
        let slot = tokio::select! {
            _ = shutdown.changed() => break,
            slot = slots.clone().acquire_owned() => slot,
            Some(_) = conns.join_next(), if !conns.is_empty() => continue,
        };
        let Ok(slot) = slot else { break };
        let full = slots.available_permits() == 0;
        if full && !at_limit {
            tracing::warn!(
                limit = limits.max_connections,
                "connection limit reached: new connections wait until one closes"
            );
        }
        at_limit = full;
        let (tcp, peer) = tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => { backoff.reset(); a }
                Err(e) => {
                    // Out of file descriptors and the like: wait, as Go's server does, instead
                    // of spinning on an accept that keeps failing.
                    tracing::warn!(error = %e, "accept failed");
                    backoff.wait().await;
                    continue;
                }
            },
        };
        let _ = tcp.set_nodelay(true);
        let conn = Conn {
            acceptor: acceptor.clone(),
            builder: builder.clone(),
            router: router.clone(),
            limits,
            peer,
            stop: shutdown.clone(),
        };
        conns.spawn(async move {
            conn.serve(tcp).await;
            drop(slot);
        });
    }
    let _ = tokio::time::timeout(GRACE + Duration::from_secs(1), async {
        while conns.join_next().await.is_some() {}
    })
    .await;
}

fn http_builder(limits: &Limits) -> Builder<TokioExecutor> {
    let mut b = Builder::new(TokioExecutor::new());
    b.http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    b.http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.h2_max_concurrent_streams)
        .keep_alive_interval(limits.h2_keep_alive_interval)
        .keep_alive_timeout(limits.h2_keep_alive_timeout);
    b
}

/// Go's accept retry: 5 ms, doubling, at most 1 s.
#[derive(Default)]
struct AcceptBackoff(Option<Duration>);

impl AcceptBackoff {
    fn reset(&mut self) {
        self.0 = None;
    }
    async fn wait(&mut self) {
        let d = self.0.map_or(Duration::from_millis(5), |d| {
            (d * 2).min(Duration::from_secs(1))
        });
        self.0 = Some(d);
        tokio::time::sleep(d).await;
    }
}

/// One accepted connection.
struct Conn {
    acceptor: TlsAcceptor,
    builder: Arc<Builder<TokioExecutor>>,
    router: Router,
    limits: Limits,
    peer: SocketAddr,
    stop: watch::Receiver<bool>,
}

impl Conn {
    async fn serve(mut self, tcp: TcpStream) {
        let peer = self.peer;
        let io = WriteStall::new(Linger(Some(tcp)), self.limits.write_stall_timeout);
        let handshake =
            tokio::time::timeout(self.limits.tls_handshake_timeout, self.acceptor.accept(io));
        let tls = match handshake.await {
            Ok(Ok(t)) => t,
            Ok(Err(e)) => {
                tracing::debug!(%peer, error = %e, "TLS handshake failed");
                return;
            }
            Err(_) => {
                tracing::debug!(%peer, "TLS handshake timed out");
                return;
            }
        };
        let (in_flight, idle) = watch::channel(0usize);
        let svc = RequestService {
            router: self.router.clone(),
            in_flight: Arc::new(in_flight),
            request_timeout: self.limits.request_timeout,
        };
        let svc = hyper::service::service_fn(move |req| svc.clone().call(req));
        let conn = self
            .builder
            .serve_connection_with_upgrades(TokioIo::new(tls), svc);
        tokio::pin!(conn);
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(%peer, error = %e, "connection ended with error");
                }
                return;
            }
            _ = self.stop.changed() => {}
            _ = idle_for(idle, self.limits.idle_timeout) => {
                tracing::debug!(%peer, "closing idle connection");
            }
        }
        conn.as_mut().graceful_shutdown();
        // A peer that ignores GOAWAY (or its PING) is cut off after the grace period.
        let _ = tokio::time::timeout(GRACE, conn).await;
    }
}

/// Resolves once no request has been in flight on the connection for `idle`.
async fn idle_for(mut in_flight: watch::Receiver<usize>, idle: Duration) {
    loop {
        if in_flight.wait_for(|n| *n == 0).await.is_err() {
            return;
        }
        if tokio::time::timeout(idle, in_flight.changed())
            .await
            .is_err()
        {
            return;
        }
    }
}

/// The router, as one connection serves it: counts the requests in flight (for the idle
/// timeout) and bounds the time to answer a request that is not a watch.
#[derive(Clone)]
struct RequestService {
    router: Router,
    in_flight: Arc<watch::Sender<usize>>,
    request_timeout: Duration,
}

impl RequestService {
    async fn call(self, req: Request<Incoming>) -> Result<Response<TrackedBody>, Infallible> {
        let request = InFlight::begin(&self.in_flight);
        if refuse_early(&req) {
            let resp = crate::handlers::status_response(
                twinstack_core::status::Status::too_large(crate::handlers::MAX_BODY),
                &[],
            );
            return Ok(resp.map(|inner| TrackedBody {
                inner,
                _request: request,
            }));
        }
        let long_running = is_long_running(req.uri());
        // The handler runs as its own task: on timeout it goes on (as upstream's does) while
        // the client gets its answer, and a panic in it becomes a 500.
        let handler = tokio::spawn(self.router.oneshot(req));
        let resp = if long_running {
            handler.await
        } else {
            match tokio::time::timeout(self.request_timeout, handler).await {
                Ok(r) => r,
                Err(_) => Ok(Ok(request_timed_out())),
            }
        };
        let resp = match resp {
            Ok(Ok(r)) => r,
            Ok(Err(never)) => match never {},
            Err(e) => {
                tracing::error!(error = %e, "request handler failed");
                crate::handlers::status_response(
                    twinstack_core::status::Status::internal("the request handler failed"),
                    &[],
                )
            }
        };
        Ok(resp.map(|inner| TrackedBody {
            inner,
            _request: request,
        }))
    }
}

/// A body declared larger than the API takes is refused before a byte of it is read, where the
/// client can take the answer and stop: over HTTP/2 (a stream of its own, reset after the
/// answer) and over HTTP/1.1 when it waits for `100 Continue`. An HTTP/1.1 client already
/// sending would find the connection closed under its write and lose the answer, so there the
/// handler reads up to the limit first, as upstream's `limitedReadBody` does.
fn refuse_early(req: &Request<Incoming>) -> bool {
    let headers = req.headers();
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let waits = req.version() == Version::HTTP_2
        || headers
            .get(header::EXPECT)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    waits && declared.is_some_and(|n| n > crate::handlers::MAX_BODY as u64)
}

/// Watches are long-running: `?watch=true` (or any value but `0`/`false`, as apimachinery
/// reads a bool) and the legacy `/watch/` paths, as upstream's `LongRunningRequestCheck`, and
/// the web view's topology stream.
fn is_long_running(uri: &Uri) -> bool {
    let watch_param = uri.query().unwrap_or("").split('&').any(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        k == "watch" && !matches!(v.to_ascii_lowercase().as_str(), "0" | "false")
    });
    // The web view's event stream (crate::ui::stream) is a watch too.
    let ui_stream = uri.path().starts_with("/twinstack/v1/runtimes/")
        && uri.path().ends_with("/topology/stream");
    watch_param || ui_stream || uri.path().split('/').any(|s| s == "watch")
}

/// upstream's `NewTimeoutError("request did not complete within the allotted timeout", 0)`.
fn request_timed_out() -> Response<Body> {
    let status = twinstack_core::status::Status {
        kind: "Status".into(),
        api_version: "v1".into(),
        metadata: serde_json::json!({}),
        status: "Failure".into(),
        message: "Timeout: request did not complete within the allotted timeout".into(),
        reason: "Timeout".into(),
        details: Some(Default::default()),
        code: StatusCode::GATEWAY_TIMEOUT.as_u16(),
    };
    // (hyper closes an HTTP/1.1 connection whose request body was not read to its end.)
    crate::handlers::status_response(status, &[])
}

/// A request in flight on a connection, until its response body is done or dropped.
struct InFlight(Arc<watch::Sender<usize>>);

impl InFlight {
    fn begin(count: &Arc<watch::Sender<usize>>) -> InFlight {
        count.send_modify(|n| *n += 1);
        InFlight(count.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n -= 1);
    }
}

/// A response body that keeps its request counted as in flight while it streams.
struct TrackedBody {
    inner: Body,
    /// Held for its `Drop`.
    _request: InFlight,
}

impl hyper::body::Body for TrackedBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// How long a closed connection goes on taking what its peer still sends: Go's
/// `rstAvoidanceDelay` (net/http `server.go`, 500 ms).
const RST_AVOIDANCE_DELAY: Duration = Duration::from_millis(500);

/// A TCP connection that closes as Go's server closes one: when it is dropped, its write side is
/// shut (FIN) and what the peer still sends is read and dropped for [`RST_AVOIDANCE_DELAY`]
/// before the socket is closed (`closeWriteAndWait`). Closing a socket with unread data makes
/// the kernel answer with a reset, and a client still sending a body the server refused (a 413
/// after 3 MiB of a 100 MB upload) would lose the answer already on its way to it.
struct Linger(Option<TcpStream>);

impl Drop for Linger {
    fn drop(&mut self) {
        let (Some(tcp), Ok(rt)) = (self.0.take(), tokio::runtime::Handle::try_current()) else {
            return;
        };
        rt.spawn(close_lingering(tcp));
    }
}

async fn close_lingering(mut tcp: TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let _ = tcp.shutdown().await;
    let mut sink = vec![0u8; 16 * 1024];
    let _ = tokio::time::timeout(RST_AVOIDANCE_DELAY, async {
        while matches!(tcp.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
}

impl Linger {
    fn tcp(self: Pin<&mut Self>) -> Pin<&mut TcpStream> {
        // Only `Drop` takes the stream out.
        Pin::new(
            self.get_mut()
                .0
                .as_mut()
                .expect("the stream is there until the connection is dropped"),
        )
    }
}

impl AsyncRead for Linger {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        self.tcp().poll_read(cx, buf)
    }
}

impl AsyncWrite for Linger {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.tcp().poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        self.tcp().poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.as_ref().is_some_and(|t| t.is_write_vectored())
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.tcp().poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.tcp().poll_shutdown(cx)
    }
}

/// A socket whose writes fail with `TimedOut` once the peer has taken no byte for `limit`.
struct WriteStall<S> {
    inner: S,
    limit: Duration,
    stalled: Option<Pin<Box<Sleep>>>,
}

impl<S> WriteStall<S> {
    fn new(inner: S, limit: Duration) -> Self {
        WriteStall {
            inner,
            limit,
            stalled: None,
        }
    }

    /// Passes a write's outcome on; a write still pending after `limit` fails.
    fn check<T>(
        &mut self,
        cx: &mut Context<'_>,
        r: Poll<std::io::Result<T>>,
    ) -> Poll<std::io::Result<T>> {
        if r.is_ready() {
            self.stalled = None;
            return r;
        }
        let limit = self.limit;
        let timer = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the peer took no data for too long",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for WriteStall<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for WriteStall<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.check(cx, r)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.check(cx, r)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_flush(cx);
        this.check(cx, r)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests;
