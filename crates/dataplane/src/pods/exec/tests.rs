//! The tools against an in-memory network: each connection is one side of a duplex whose other
//! side a scripted server answers.

use super::*;
use crate::network::Conn;
use std::collections::HashMap;
use std::net::SocketAddr;

/// Serves `answer` to each connection to a listed address; refuses the others.
struct Fake {
    open: HashMap<SocketAddr, &'static str>,
    names: HashMap<&'static str, Vec<IpAddr>>,
}

#[async_trait::async_trait]
impl Network for Fake {
    async fn connect(
        &self,
        _: &str,
        src: IpAddr,
        dst: SocketAddr,
    ) -> std::io::Result<Box<dyn Conn>> {
        assert_eq!(
            src.is_ipv4(),
            dst.ip().is_ipv4(),
            "source in the family of {dst}"
        );
        let Some(answer) = self.open.get(&dst).copied() else {
            return Err(std::io::ErrorKind::ConnectionRefused.into());
        };
        let (client, mut server) = tokio::io::duplex(64 * 1024);
        tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            let _ = server.read(&mut buf).await;
            let _ = server.write_all(answer.as_bytes()).await;
        });
        Ok(Box::new(client))
    }
    async fn resolve(&self, _: &str, _: &str, name: &str) -> std::io::Result<Vec<IpAddr>> {
        Ok(self.names.get(name).cloned().unwrap_or_default())
    }
    fn cluster_dns(&self, _: &str) -> Option<IpAddr> {
        Some("10.96.0.10".parse().unwrap())
    }
}

const OK: &str = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nhello\n";
const NOT_FOUND: &str = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";

fn fake() -> Fake {
    let v4: IpAddr = "10.96.1.2".parse().unwrap();
    let v6: IpAddr = "fd00::2".parse().unwrap();
    Fake {
        open: [
            (SocketAddr::new(v4, 80), OK),
            (SocketAddr::new(v6, 80), OK),
            (SocketAddr::new(v4, 8080), NOT_FOUND),
        ]
        .into_iter()
        .collect(),
        names: [("web", vec![v4, v6])].into_iter().collect(),
    }
}

fn ctx(image: &str) -> PodContext {
    PodContext {
        runtime: "rt".into(),
        namespace: "shop".into(),
        pod: "client".into(),
        image: image.into(),
        ips: vec!["10.100.0.5".parse().unwrap(), "fd01::5".parse().unwrap()],
        env: vec![],
    }
}

async fn sh(image: &str, line: &str) -> (Result<i32, NotFound>, String, String) {
    let argv: Vec<String> = vec!["sh".into(), "-c".into(), line.into()];
    run_argv(image, &argv).await
}

async fn run_argv(image: &str, argv: &[String]) -> (Result<i32, NotFound>, String, String) {
    let (mut o, mut e) = (Vec::new(), Vec::new());
    let code = {
        let mut io = Stdio {
            stdin: None,
            stdout: &mut o,
            stderr: &mut e,
        };
        run(&fake(), &ctx(image), argv, &mut io).await
    };
    (
        code,
        String::from_utf8(o).unwrap(),
        String::from_utf8(e).unwrap(),
    )
}

#[tokio::test]
async fn curl_answers_and_fails_as_curl() {
    let (code, out, _) = sh("curlimages/curl", "curl -s http://web").await;
    assert_eq!((code, out.as_str()), (Ok(0), "hello\n"));
    let (code, out, _) = sh("curlimages/curl", "curl -s -6 http://[fd00::2]/").await;
    assert_eq!((code, out.as_str()), (Ok(0), "hello\n"));
    let (code, out, _) = sh(
        "curlimages/curl",
        "curl -s -o /dev/null -w '%{http_code}' http://10.96.1.2:8080",
    )
    .await;
    assert_eq!((code, out.as_str()), (Ok(0), "404"));
    let (code, _, err) = sh("curlimages/curl", "curl -sS http://10.96.1.2:81").await;
    assert_eq!(code, Ok(7));
    assert!(
        err.starts_with("curl: (7) Failed to connect to 10.96.1.2 port 81 after ")
            && err.ends_with(" ms: Couldn't connect to server\n"),
        "{err}"
    );
    let (code, _, err) = sh("curlimages/curl", "curl -sS http://nope").await;
    assert_eq!(
        (code, err.as_str()),
        (Ok(6), "curl: (6) Could not resolve host: nope\n")
    );
    let (code, _, err) = sh("curlimages/curl", "curl -s http://nope").await;
    assert_eq!((code, err.as_str()), (Ok(6), ""));
    let (code, _, err) = sh("curlimages/curl", "curl -sSf http://10.96.1.2:8080/").await;
    assert_eq!(
        (code, err.as_str()),
        (Ok(22), "curl: (22) The requested URL returned error: 404\n")
    );
}

#[tokio::test]
async fn busybox_tools() {
    let (code, out, _) = sh("busybox", "wget -qO- http://web").await;
    assert_eq!((code, out.as_str()), (Ok(0), "hello\n"));
    let (code, _, err) = sh("busybox", "wget -qO- http://10.96.1.2:81").await;
    assert_eq!(
        (code, err.as_str()),
        (
            Ok(1),
            "wget: can't connect to remote host (10.96.1.2): Connection refused\n"
        )
    );
    let (code, _, err) = sh("busybox", "wget -qO- http://10.96.1.2:8080").await;
    assert_eq!(
        (code, err.as_str()),
        (
            Ok(1),
            "wget: server returned error: HTTP/1.1 404 Not Found\n"
        )
    );
    let (code, _, err) = sh("busybox", "nc -zv web 80").await;
    assert_eq!((code, err.as_str()), (Ok(0), "web (10.96.1.2:80) open\n"));
    let (code, out, _) = sh("busybox", "nslookup web").await;
    assert_eq!(code, Ok(0));
    assert_eq!(
        out,
        "Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\nName:\tweb.shop.svc.cluster.local\nAddress: 10.96.1.2\n\nName:\tweb.shop.svc.cluster.local\nAddress: fd00::2\n\n"
    );
    let (code, out, _) = sh("busybox", "nslookup nope").await;
    assert_eq!(code, Ok(1));
    assert!(out.ends_with("** server can't find nope.shop.svc.cluster.local: NXDOMAIN\n\n"));
}

#[tokio::test]
async fn shell_lists_and_missing_tools() {
    let (code, out, err) = sh("busybox", "echo a && curl -s http://web; echo $HOSTNAME").await;
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (Ok(0), "a\nclient\n", "sh: curl: not found\n")
    );
    let (code, _, _) = sh("busybox", "false || exit 3; echo no").await;
    assert_eq!(code, Ok(3));
    let (code, ..) = run_argv("busybox", &["curl".into(), "x".into()]).await;
    assert_eq!(code, Err(NotFound("curl".into())));
}
