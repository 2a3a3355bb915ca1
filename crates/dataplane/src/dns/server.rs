//! The server: hickory-server's UDP and TCP loops with a [`RequestHandler`] that reads the
//! [`DnsTable`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::{Edns, Metadata, OpCode, ResponseCode};
use hickory_proto::rr::{DNSClass, RData, Record, RecordType};
use hickory_server::net::runtime::Time;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::MessageResponseBuilder;
use tokio::net::{TcpListener, UdpSocket};

use super::metrics::DnsMetrics;
use super::table::{DnsTable, Found};

/// How long a TCP connection may stay idle between two queries (hickory's own binary uses 5 s).
pub const TCP_IDLE_TIMEOUT: Duration = Duration::from_secs(5);
/// Responses queued per TCP connection before the writer waits.
const TCP_RESPONSE_BUFFER: usize = 32;
/// Attempts to find a port free for both UDP and TCP when asked for port 0.
const PORT_ATTEMPTS: usize = 16;

/// Errors of [`serve`].
#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    /// The UDP socket could not be bound.
    #[error("DNS server: cannot bind UDP {addr}: {source}")]
    BindUdp {
        /// Address asked for.
        addr: SocketAddr,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The TCP listener could not be bound on the UDP socket's address.
    #[error("DNS server: cannot bind TCP {addr}: {source}")]
    BindTcp {
        /// Address asked for.
        addr: SocketAddr,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A server task ended with an error (reported by [`DnsServer::shutdown`]).
    #[error("DNS server: {0}")]
    Task(String),
}

/// A running DNS server. Dropping it stops the server (its tasks are aborted);
/// [`shutdown`](Self::shutdown) stops it gracefully.
pub struct DnsServer {
    local_addr: SocketAddr,
    metrics: Arc<DnsMetrics>,
    server: hickory_server::Server<Handler>,
}

impl std::fmt::Debug for DnsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DnsServer")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

impl DnsServer {
    /// The address both UDP and TCP are bound to (the real port when asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The server's counters.
    pub fn metrics(&self) -> &Arc<DnsMetrics> {
        &self.metrics
    }

    /// Stop accepting queries and wait until the UDP and TCP tasks have ended.
    pub async fn shutdown(mut self) -> Result<(), DnsError> {
        self.server
            .shutdown_gracefully()
            .await
            .map_err(|e| DnsError::Task(e.to_string()))
    }
}

/// Serve `table` on UDP and TCP at `listen` (port 0: one free port for both), with fresh
/// counters. See [`serve_with_metrics`].
pub async fn serve(listen: SocketAddr, table: Arc<DnsTable>) -> Result<DnsServer, DnsError> {
    serve_with_metrics(listen, table, Arc::new(DnsMetrics::default())).await
}

/// Serve `table` on UDP and TCP at `listen`, counting into `metrics` (registered beforehand
/// by the caller). Returns once both sockets are bound; the server runs on the current tokio
/// runtime until [`DnsServer::shutdown`] or drop.
pub async fn serve_with_metrics(
    listen: SocketAddr,
    table: Arc<DnsTable>,
    metrics: Arc<DnsMetrics>,
) -> Result<DnsServer, DnsError> {
    let (udp, tcp) = bind_pair(listen).await?;
    let local_addr = udp.local_addr().map_err(|source| DnsError::BindUdp {
        addr: listen,
        source,
    })?;
    let handler = Handler {
        table,
        metrics: metrics.clone(),
    };
    let mut server = hickory_server::Server::new(handler);
    server.register_socket(udp);
    server.register_listener(tcp, TCP_IDLE_TIMEOUT, TCP_RESPONSE_BUFFER);
    tracing::info!(%local_addr, "DNS server listening on UDP and TCP");
    Ok(DnsServer {
        local_addr,
        metrics,
        server,
    })
}

/// Bind UDP, then TCP on the same address; with port 0, retry until one port is free for both.
async fn bind_pair(listen: SocketAddr) -> Result<(UdpSocket, TcpListener), DnsError> {
    let attempts = if listen.port() == 0 { PORT_ATTEMPTS } else { 1 };
    let mut last = None;
    for _ in 0..attempts {
        let udp = UdpSocket::bind(listen)
            .await
            .map_err(|source| DnsError::BindUdp {
                addr: listen,
                source,
            })?;
        let addr = udp.local_addr().map_err(|source| DnsError::BindUdp {
            addr: listen,
            source,
        })?;
        match TcpListener::bind(addr).await {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(source) => last = Some(DnsError::BindTcp { addr, source }),
        }
    }
    Err(last.expect("at least one attempt"))
}

/// Answers queries from the table.
struct Handler {
    table: Arc<DnsTable>,
    metrics: Arc<DnsMetrics>,
}

/// An answer, computed without holding the table snapshot across an await.
struct Answer {
    rcode: ResponseCode,
    answers: Vec<Record>,
    soa: Option<Record>,
}

impl Answer {
    fn code(rcode: ResponseCode) -> Self {
        Self {
            rcode,
            answers: Vec::new(),
            soa: None,
        }
    }
}

impl Handler {
    fn answer(&self, request: &Request) -> Answer {
        if request.metadata.op_code != OpCode::Query {
            return Answer::code(ResponseCode::NotImp);
        }
        if request.edns.as_ref().is_some_and(|e| e.version() > 0) {
            return Answer::code(ResponseCode::BADVERS);
        }
        let [query] = request.queries.queries() else {
            return Answer::code(ResponseCode::FormErr);
        };
        if query.query_class() != DNSClass::IN {
            return Answer::code(ResponseCode::Refused);
        }
        let index = self.table.snapshot();
        let soa_of = |zone| index.soa(zone).cloned();
        match index.find(query.name()) {
            Found::Name(entry) => {
                // Answer with the name as asked (0x20 case kept, and compressed to the question).
                let owner = query.original().name().clone();
                let answers: Vec<Record> = match query.query_type() {
                    RecordType::A => entry
                        .v4
                        .iter()
                        .map(|ip| {
                            Record::from_rdata(owner.clone(), entry.ttl, RData::A((*ip).into()))
                        })
                        .collect(),
                    RecordType::AAAA => entry
                        .v6
                        .iter()
                        .map(|ip| {
                            Record::from_rdata(owner.clone(), entry.ttl, RData::AAAA((*ip).into()))
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                let soa = if answers.is_empty() {
                    soa_of(&entry.zone)
                } else {
                    None
                };
                Answer {
                    rcode: ResponseCode::NoError,
                    answers,
                    soa,
                }
            }
            Found::Interior(zone) => Answer {
                rcode: ResponseCode::NoError,
                answers: Vec::new(),
                soa: soa_of(zone),
            },
            Found::Missing(zone) => Answer {
                rcode: ResponseCode::NXDomain,
                answers: Vec::new(),
                soa: zone.and_then(soa_of),
            },
        }
    }
}

#[async_trait::async_trait]
impl RequestHandler for Handler {
    async fn handle_request<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        mut response_handle: R,
    ) -> ResponseInfo {
        self.metrics.query();
        let answer = self.answer(request);

        let resp_edns = request.edns.as_ref().map(|req| {
            let mut edns = Edns::new();
            edns.set_max_payload(req.max_payload().max(512));
            edns.set_version(0);
            edns
        });
        let mut metadata = Metadata::response_from_request(&request.metadata);
        // Authoritative for the names it serves, like CoreDNS for the cluster zone and
        // Route 53 for ELB names; no recursion.
        metadata.authoritative =
            answer.rcode == ResponseCode::NoError || answer.rcode == ResponseCode::NXDomain;
        metadata.response_code = answer.rcode;

        let builder = MessageResponseBuilder::new(&request.queries, resp_edns.as_ref());
        let response = builder.build(
            metadata,
            answer.answers.iter(),
            std::iter::empty(),
            answer.soa.iter(),
            std::iter::empty(),
        );
        match response_handle.send_response(response).await {
            Ok(info) => {
                self.metrics.response(answer.rcode, answer.answers.len());
                info
            }
            Err(error) => {
                tracing::debug!(%error, "DNS response not sent");
                self.metrics.response(ResponseCode::ServFail, 0);
                let mut metadata = Metadata::response_from_request(&request.metadata);
                metadata.response_code = ResponseCode::ServFail;
                ResponseInfo::from(hickory_proto::op::Header {
                    metadata,
                    counts: Default::default(),
                })
            }
        }
    }
}
