use super::*;
use crate::workloads::Workload;
use std::collections::BTreeMap;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn pod(local: Option<SocketAddr>) -> PodSpec {
    PodSpec {
        pod: "shop/web-1".into(),
        hostname: "web-1".into(),
        ips: vec![
            "10.96.0.5".parse().unwrap(),
            "2600:1f18::5".parse().unwrap(),
        ],
        node: "node-a".into(),
        injected: false,
        containers: BTreeMap::from([(80, "whoami".to_string())]),
        ports: BTreeMap::from([(
            80,
            Workload::Whoami {
                name: String::new(),
            },
        )]),
        local,
    }
}

fn nlb(address: &str, pp: bool, pod: PodSpec) -> FrontendSpec {
    let ep_addr: SocketAddr = "10.96.0.5:80".parse().unwrap();
    FrontendSpec {
        service: "shop/web".into(),
        model: path::Frontend {
            kind: path::FrontendKind::Nlb,
            address: address.parse().unwrap(),
            delivery: path::Delivery::TargetGroup {
                target_type: path::TargetType::Ip,
                family: path::Family::IPv4,
                preserve_client_ip: false,
                proxy_protocol: pp,
                private_ipv4: Some("10.250.0.9".parse().unwrap()),
                private_ipv6: None,
            },
            local_traffic_policy: false,
            node_port: None,
        },
        protocol: Protocol::Tcp,
        hostname: Some("k8s-shop-web-0123456789.elb.eu-central-1.amazonaws.com".into()),
        targets: vec![Target {
            id: "10.96.0.5".into(),
            node: None,
            backends: vec![Backend {
                endpoint: path::Endpoint {
                    pod: "shop/web-1".into(),
                    address: ep_addr,
                    node: "node-a".into(),
                    injected: false,
                },
                pod,
            }],
            health_check_node_port: None,
        }],
        health: None,
        target_group: None,
    }
}

async fn get(listen: &str) -> String {
    let mut s = TcpStream::connect(listen).await.unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

#[tokio::test]
async fn an_ipv6_client_reaches_an_ipv4_target_and_the_pod_sees_the_nlbs_private_ipv4() {
    let dp = DataPlane::new();
    dp.publish(
        "rt",
        vec![
            nlb("[2600:1f18::100]:80", false, pod(None)),
            nlb("203.0.113.10:80", false, pod(None)),
        ],
        vec![pod(None)],
        None,
    );
    let fes = dp.frontends("rt");
    assert_eq!(fes.len(), 2, "{fes:?}");
    let v6 = fes.iter().find(|f| f.family == "IPv6").unwrap();
    assert!(v6.listen.starts_with("[::1]:"), "{v6:?}");
    let v4 = fes.iter().find(|f| f.family == "IPv4").unwrap();
    assert!(v4.listen.starts_with("127.0.1."), "{v4:?}");
    for f in [v6, v4] {
        let out = get(&f.listen).await;
        assert!(out.contains("RemoteAddr: 10.250.0.9:"), "{out}");
        assert!(out.contains("Hostname: web-1\n"), "{out}");
    }
    // The same frontend through the in-process network, from a pod.
    let mut c = dp
        .connect(
            "rt",
            "2600:1f18::77".parse().unwrap(),
            "[2600:1f18::100]:80".parse().unwrap(),
        )
        .await
        .unwrap();
    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = String::new();
    c.read_to_string(&mut out).await.unwrap();
    assert!(out.contains("RemoteAddr: 10.250.0.9:"), "{out}");
    // Per frontend and family: the IPv6 frontend translated two flows (one from the listener,
    // one in-process), the IPv4 one none.
    let mut reg = prometheus_client::registry::Registry::default();
    dp.metrics().register(&mut reg);
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &reg).unwrap();
    assert!(
        text.contains("twinstack_dataplane_translated_flows_total{service=\"shop/web\",kind=\"nlb\",family=\"IPv6\"} 2"),
        "{text}"
    );
    assert!(text.contains("twinstack_dataplane_connections_total{service=\"shop/web\",kind=\"nlb\",family=\"IPv4\"} 1"), "{text}");
    assert!(!text.contains("translated_flows_total{service=\"shop/web\",kind=\"nlb\",family=\"IPv4\"}"), "{text}");
}

#[tokio::test]
async fn a_users_process_reads_the_real_client_from_the_proxy_header() {
    let server = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let local = server.local_addr().unwrap();
    let dp = DataPlane::new();
    dp.publish(
        "rt",
        vec![nlb("[2600:1f18::100]:80", true, pod(Some(local)))],
        vec![pod(Some(local))],
        None,
    );
    let listen = dp.frontends("rt")[0].listen.clone();
    let client = tokio::spawn(async move {
        let mut s = TcpStream::connect(listen).await.unwrap();
        let me = s.local_addr().unwrap();
        s.write_all(b"hello").await.unwrap();
        let mut back = [0u8; 2];
        s.read_exact(&mut back).await.unwrap();
        (me, back)
    });
    let (mut conn, _) = server.accept().await.unwrap();
    let mut buf = vec![0u8; 256];
    let mut got = Vec::new();
    while got.len() < 16 + 36 + 5 {
        let n = conn.read(&mut buf).await.unwrap();
        assert!(n > 0);
        got.extend_from_slice(&buf[..n]);
    }
    let header = ppp::v2::Header::try_from(&got[..]).unwrap();
    let ppp::v2::Addresses::IPv6(a) = header.addresses else {
        panic!("{:?}", header.addresses)
    };
    assert_eq!(
        a.destination_address,
        "2600:1f18::100".parse::<Ipv6Addr>().unwrap()
    );
    let hlen = header.len();
    assert_eq!(&got[hlen..], b"hello");
    conn.write_all(b"ok").await.unwrap();
    let (me, back) = client.await.unwrap();
    assert_eq!(&back, b"ok");
    assert_eq!(
        a.source_address,
        *match me.ip() {
            IpAddr::V6(v) => Box::new(v),
            _ => panic!(),
        }
    );
    assert_eq!(a.source_port, me.port());
}

#[tokio::test]
async fn whoami_answers_400_to_a_proxy_header() {
    let dp = DataPlane::new();
    dp.publish(
        "rt",
        vec![nlb("203.0.113.10:80", true, pod(None))],
        vec![pod(None)],
        None,
    );
    let out = get(&dp.frontends("rt")[0].listen).await;
    assert!(out.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{out}");
}

#[tokio::test]
async fn a_removed_frontend_stops_accepting_and_nothing_listening_resets() {
    let dp = DataPlane::new();
    let mut p = pod(None);
    p.ports.clear();
    dp.publish(
        "rt",
        vec![nlb("203.0.113.10:80", false, p.clone())],
        vec![p],
        None,
    );
    let listen = dp.frontends("rt")[0].listen.clone();
    // Nothing listens on the pod's port: the connection is reset.
    let mut s = TcpStream::connect(&listen).await.unwrap();
    let _ = s.write_all(b"GET / HTTP/1.1\r\n\r\n").await;
    let mut buf = [0u8; 16];
    let r = s.read(&mut buf).await;
    assert!(
        matches!(&r, Err(e) if e.kind() == io::ErrorKind::ConnectionReset) || matches!(r, Ok(0)),
        "{r:?}"
    );
    dp.publish("rt", vec![], vec![], None);
    assert!(dp.frontends("rt").is_empty());
    // The accept task is aborted; give the runtime a turn to drop the listener.
    for _ in 0..100 {
        if TcpStream::connect(&listen).await.is_err() {
            return;
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{listen} still accepts");
}

#[tokio::test]
async fn a_trace_returns_the_flow_and_the_answer() {
    let dp = DataPlane::new();
    dp.publish(
        "rt",
        vec![nlb("[2600:1f18::100]:80", false, pod(None))],
        vec![pod(None)],
        None,
    );
    let t = dp
        .trace("rt", "shop/web", path::Family::IPv6, None)
        .await
        .unwrap();
    let flow = t.flow.unwrap();
    assert!(flow.translated);
    assert_eq!(flow.hops[0].src, t.client);
    assert!(t.response.unwrap().contains("RemoteAddr: 10.250.0.9:"));
    assert!(matches!(
        dp.trace("rt", "shop/web", path::Family::IPv4, None).await,
        Err(TraceError::NoFrontend)
    ));
}
