//! The DNS server over real sockets on 127.0.0.1 (UDP and TCP): what a resolver sees.
//! Rules of the table itself are unit-tested beside it (`src/dns/table.rs`).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{DNSClass, Name, RData, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use twinstack_dataplane::dns::{serve, DnsServer, DnsTable};

const DUAL: &str = "k8s-shop-web-0a1b2c3d4e-0123456789abcdef.elb.eu-central-1.amazonaws.com";
const V4ONLY: &str = "k8s-shop-api-5f6a7b8c9d-fedcba9876543210.elb.eu-central-1.amazonaws.com";
const SVC: &str = "web.shop.svc.cluster.local";
const TIMEOUT: Duration = Duration::from_secs(5);

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

async fn start() -> (Arc<DnsTable>, DnsServer) {
    let table = Arc::new(DnsTable::new());
    table
        .replace(
            "rt-1",
            vec![
                (DUAL.into(), ip("127.0.10.1")),
                (DUAL.into(), ip("127.0.10.2")),
                (DUAL.into(), ip("fd00:10::1")),
                (V4ONLY.into(), ip("127.0.10.3")),
                (SVC.into(), ip("10.96.0.10")),
                (SVC.into(), ip("fd00:96::a")),
            ],
        )
        .unwrap();
    let server = serve("127.0.0.1:0".parse().unwrap(), table.clone())
        .await
        .unwrap();
    (table, server)
}

fn query(name: &str, rtype: RecordType) -> Message {
    let mut msg = Message::query();
    msg.metadata.recursion_desired = true;
    msg.add_query(Query::query(Name::from_ascii(name).unwrap(), rtype));
    msg
}

async fn udp(addr: SocketAddr, msg: &Message) -> Message {
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    sock.send_to(&msg.to_vec().unwrap(), addr).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(TIMEOUT, sock.recv(&mut buf))
        .await
        .expect("UDP answer in time")
        .unwrap();
    let resp = Message::from_vec(&buf[..n]).unwrap();
    assert_eq!(resp.metadata.id, msg.metadata.id);
    assert_eq!(resp.metadata.message_type, MessageType::Response);
    resp
}

async fn tcp_conn(addr: SocketAddr) -> TcpStream {
    TcpStream::connect(addr).await.unwrap()
}

async fn tcp_on(conn: &mut TcpStream, msg: &Message) -> Message {
    let bytes = msg.to_vec().unwrap();
    conn.write_all(&(bytes.len() as u16).to_be_bytes())
        .await
        .unwrap();
    conn.write_all(&bytes).await.unwrap();
    let mut len = [0u8; 2];
    tokio::time::timeout(TIMEOUT, conn.read_exact(&mut len))
        .await
        .expect("TCP answer in time")
        .unwrap();
    let mut buf = vec![0u8; u16::from_be_bytes(len) as usize];
    conn.read_exact(&mut buf).await.unwrap();
    let resp = Message::from_vec(&buf).unwrap();
    assert_eq!(resp.metadata.id, msg.metadata.id);
    resp
}

fn addrs(resp: &Message) -> Vec<IpAddr> {
    resp.answers
        .iter()
        .map(|r| match &r.data {
            RData::A(a) => IpAddr::V4(a.0),
            RData::AAAA(a) => IpAddr::V6(a.0),
            other => panic!("unexpected answer {other:?}"),
        })
        .collect()
}

fn soa_name(resp: &Message) -> String {
    assert_eq!(resp.authorities.len(), 1, "{resp:?}");
    assert_eq!(resp.authorities[0].record_type(), RecordType::SOA);
    resp.authorities[0].name.to_string()
}

#[tokio::test]
async fn a_and_aaaa_of_a_dualstack_load_balancer() {
    let (_t, server) = start().await;
    let a = udp(server.local_addr(), &query(DUAL, RecordType::A)).await;
    assert_eq!(a.metadata.response_code, ResponseCode::NoError);
    assert!(a.metadata.authoritative);
    assert_eq!(addrs(&a), vec![ip("127.0.10.1"), ip("127.0.10.2")]);
    assert!(a.answers.iter().all(|r| r.ttl == 60));
    let aaaa = udp(server.local_addr(), &query(DUAL, RecordType::AAAA)).await;
    assert_eq!(addrs(&aaaa), vec![ip("fd00:10::1")]);
    assert_eq!(aaaa.answers[0].ttl, 60);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn aaaa_of_an_ipv4_only_load_balancer_is_nodata_with_soa() {
    let (_t, server) = start().await;
    let a = udp(server.local_addr(), &query(V4ONLY, RecordType::A)).await;
    assert_eq!(addrs(&a), vec![ip("127.0.10.3")]);
    let aaaa = udp(server.local_addr(), &query(V4ONLY, RecordType::AAAA)).await;
    assert_eq!(aaaa.metadata.response_code, ResponseCode::NoError);
    assert!(aaaa.answers.is_empty());
    assert_eq!(soa_name(&aaaa), "elb.eu-central-1.amazonaws.com.");
    let counts = server.metrics().counts();
    assert_eq!((counts.queries, counts.noerror, counts.nodata), (2, 2, 1));
}

#[tokio::test]
async fn service_names_answer_both_families_with_ttl_5() {
    let (_t, server) = start().await;
    let a = udp(server.local_addr(), &query(SVC, RecordType::A)).await;
    assert_eq!(addrs(&a), vec![ip("10.96.0.10")]);
    assert_eq!(a.answers[0].ttl, 5);
    let aaaa = udp(server.local_addr(), &query(SVC, RecordType::AAAA)).await;
    assert_eq!(addrs(&aaaa), vec![ip("fd00:96::a")]);
    // An empty non-terminal exists: NODATA, not NXDOMAIN.
    let ent = udp(
        server.local_addr(),
        &query("svc.cluster.local", RecordType::A),
    )
    .await;
    assert_eq!(ent.metadata.response_code, ResponseCode::NoError);
    assert_eq!(soa_name(&ent), "cluster.local.");
}

#[tokio::test]
async fn unknown_names_are_nxdomain() {
    let (_t, server) = start().await;
    let nx = udp(
        server.local_addr(),
        &query("db.shop.svc.cluster.local", RecordType::A),
    )
    .await;
    assert_eq!(nx.metadata.response_code, ResponseCode::NXDomain);
    assert!(nx.answers.is_empty());
    assert_eq!(soa_name(&nx), "cluster.local.");
    let outside = udp(server.local_addr(), &query("example.org", RecordType::AAAA)).await;
    assert_eq!(outside.metadata.response_code, ResponseCode::NXDomain);
    assert!(outside.authorities.is_empty());
    assert_eq!(server.metrics().counts().nxdomain, 2);
}

#[tokio::test]
async fn names_are_case_insensitive_and_the_question_case_is_echoed() {
    let (_t, server) = start().await;
    let mixed = "K8s-ShOp-WeB-0A1B2C3D4E-0123456789ABCDEF.eLb.Eu-CeNtRaL-1.AmAzOnAwS.cOm.";
    let resp = udp(server.local_addr(), &query(mixed, RecordType::A)).await;
    assert_eq!(addrs(&resp).len(), 2);
    assert_eq!(resp.queries[0].name().to_string(), mixed);
    assert_eq!(resp.answers[0].name.to_string(), mixed);
}

#[tokio::test]
async fn other_types_are_nodata() {
    let (_t, server) = start().await;
    for rtype in [RecordType::ANY, RecordType::TXT, RecordType::MX] {
        let resp = udp(server.local_addr(), &query(DUAL, rtype)).await;
        assert_eq!(
            resp.metadata.response_code,
            ResponseCode::NoError,
            "{rtype}"
        );
        assert!(resp.answers.is_empty());
    }
}

#[tokio::test]
async fn replacing_an_owner_is_seen_by_the_next_query() {
    let (table, server) = start().await;
    table
        .replace("rt-1", vec![(DUAL.into(), ip("127.0.20.1"))])
        .unwrap();
    let a = udp(server.local_addr(), &query(DUAL, RecordType::A)).await;
    assert_eq!(addrs(&a), vec![ip("127.0.20.1")]);
    let aaaa = udp(server.local_addr(), &query(DUAL, RecordType::AAAA)).await;
    assert!(aaaa.answers.is_empty());
    let gone = udp(server.local_addr(), &query(V4ONLY, RecordType::A)).await;
    assert_eq!(gone.metadata.response_code, ResponseCode::NXDomain);
    table.remove("rt-1");
    let gone = udp(server.local_addr(), &query(DUAL, RecordType::A)).await;
    assert_eq!(gone.metadata.response_code, ResponseCode::NXDomain);
}

#[tokio::test]
async fn tcp_answers_several_queries_on_one_connection() {
    let (_t, server) = start().await;
    let mut conn = tcp_conn(server.local_addr()).await;
    let a = tcp_on(&mut conn, &query(DUAL, RecordType::A)).await;
    assert_eq!(addrs(&a).len(), 2);
    let aaaa = tcp_on(&mut conn, &query(SVC, RecordType::AAAA)).await;
    assert_eq!(addrs(&aaaa), vec![ip("fd00:96::a")]);
    let nx = tcp_on(&mut conn, &query("nope.example", RecordType::A)).await;
    assert_eq!(nx.metadata.response_code, ResponseCode::NXDomain);
}

#[tokio::test]
async fn garbage_does_not_kill_the_server() {
    let (_t, server) = start().await;
    let addr = server.local_addr();
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    // Too short for a header, a header with counts that lie, random bytes, and a response.
    let mut response = query(DUAL, RecordType::A);
    response.metadata.message_type = MessageType::Response;
    let garbage: Vec<Vec<u8>> = vec![
        vec![],
        vec![0x12],
        vec![
            0xab, 0xcd, 0x01, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03,
        ],
        (0..=255u8).rev().collect(),
        vec![0xff; 600],
        response.to_vec().unwrap(),
    ];
    for g in &garbage {
        sock.send_to(g, addr).await.unwrap();
    }
    // Garbage over TCP too: a length prefix promising more than is sent, then close.
    let mut conn = tcp_conn(addr).await;
    conn.write_all(&[0x00, 0x40, 1, 2, 3]).await.unwrap();
    drop(conn);

    let a = udp(addr, &query(DUAL, RecordType::A)).await;
    assert_eq!(addrs(&a).len(), 2);
    let mut conn = tcp_conn(addr).await;
    let a = tcp_on(&mut conn, &query(DUAL, RecordType::A)).await;
    assert_eq!(addrs(&a).len(), 2);
}

#[tokio::test]
async fn malformed_header_counts_get_formerr() {
    let (_t, server) = start().await;
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    // Header says one question, none follows: hickory answers FORMERR with the same id.
    let bytes = [0xbe, 0xef, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0];
    sock.send_to(&bytes, server.local_addr()).await.unwrap();
    let mut buf = [0u8; 512];
    let n = tokio::time::timeout(TIMEOUT, sock.recv(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let resp = Message::from_vec(&buf[..n]).unwrap();
    assert_eq!(resp.metadata.id, 0xbeef);
    assert_eq!(resp.metadata.response_code, ResponseCode::FormErr);
}

#[tokio::test]
async fn edns_is_echoed_and_non_query_opcodes_are_notimp() {
    let (_t, server) = start().await;
    let mut q = query(DUAL, RecordType::A);
    let mut edns = Edns::new();
    edns.set_max_payload(1232);
    q.edns = Some(edns);
    let resp = udp(server.local_addr(), &q).await;
    assert!(resp.edns.is_some());
    assert_eq!(addrs(&resp).len(), 2);

    let mut notify = query(DUAL, RecordType::SOA);
    notify.metadata.op_code = OpCode::Notify;
    let resp = udp(server.local_addr(), &notify).await;
    assert_eq!(resp.metadata.response_code, ResponseCode::NotImp);

    let mut chaos = Message::query();
    let mut q = Query::query(Name::from_ascii("version.bind.").unwrap(), RecordType::TXT);
    q.set_query_class(DNSClass::CH);
    chaos.add_query(q);
    let resp = udp(server.local_addr(), &chaos).await;
    assert_eq!(resp.metadata.response_code, ResponseCode::Refused);
}

#[tokio::test]
async fn concurrent_queries_are_all_answered() {
    let (table, server) = start().await;
    let addr = server.local_addr();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..8u8 {
        tasks.spawn(async move {
            for _ in 0..50 {
                let a = udp(addr, &query(DUAL, RecordType::A)).await;
                assert_eq!(a.metadata.response_code, ResponseCode::NoError);
            }
            i
        });
    }
    // Writers race the readers: every answer is the old or the new set, never empty.
    for n in 0..50u8 {
        table
            .replace(
                "rt-2",
                vec![(format!("x{n}.example.test"), ip("127.0.0.1"))],
            )
            .unwrap();
        tokio::task::yield_now().await;
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    assert_eq!(server.metrics().counts().queries, 400);
}

#[tokio::test]
async fn serves_on_ipv6_loopback() {
    if std::net::UdpSocket::bind("[::1]:0").is_err() {
        eprintln!("no IPv6 loopback here: skipped");
        return;
    }
    let table = Arc::new(DnsTable::new());
    table
        .replace("rt", vec![(DUAL.into(), ip("fd00:10::1"))])
        .unwrap();
    let server = serve("[::1]:0".parse().unwrap(), table).await.unwrap();
    assert!(server.local_addr().is_ipv6());
    let sock = UdpSocket::bind("[::1]:0").await.unwrap();
    let q = query(DUAL, RecordType::AAAA);
    sock.send_to(&q.to_vec().unwrap(), server.local_addr())
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = tokio::time::timeout(TIMEOUT, sock.recv(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let resp = Message::from_vec(&buf[..n]).unwrap();
    assert_eq!(addrs(&resp), vec![ip("fd00:10::1")]);
    let mut conn = tcp_conn(server.local_addr()).await;
    let a = tcp_on(&mut conn, &query(DUAL, RecordType::A)).await;
    assert!(a.answers.is_empty());
}
