//! kubeconfig files for runtimes, in the shape `kind get kubeconfig` prints.

use base64::Engine;
use std::net::SocketAddr;

pub fn context_name(runtime: &str) -> String {
    format!("twinstack-{runtime}")
}

/// The URL clients use: a wildcard listen address is reached through loopback.
pub fn server_url(listen: SocketAddr, runtime: &str) -> String {
    format!("https://{}/runtimes/{runtime}", host_port(listen))
}

/// `host:port` clients connect to for a listen address.
pub fn host_port(listen: SocketAddr) -> String {
    let host = match listen {
        SocketAddr::V4(a) if a.ip().is_unspecified() => "127.0.0.1".to_string(),
        SocketAddr::V4(a) => a.ip().to_string(),
        SocketAddr::V6(a) if a.ip().is_unspecified() => "[::1]".to_string(),
        SocketAddr::V6(a) => format!("[{}]", a.ip()),
    };
    format!("{host}:{}", listen.port())
}

pub fn render(runtime: &str, server: &str, ca_pem: &str, token: &str) -> String {
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem.as_bytes());
    let name = context_name(runtime);
    format!(
        "apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: {ca}
    server: {server}
  name: {name}
contexts:
- context:
    cluster: {name}
    user: {name}
  name: {name}
current-context: {name}
kind: Config
preferences: {{}}
users:
- name: {name}
  user:
    token: {token}
"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_for_both_families() {
        assert_eq!(
            server_url("127.0.0.1:6443".parse().unwrap(), "local"),
            "https://127.0.0.1:6443/runtimes/local"
        );
        assert_eq!(
            server_url("[::1]:6443".parse().unwrap(), "a"),
            "https://[::1]:6443/runtimes/a"
        );
        assert_eq!(
            server_url("0.0.0.0:7000".parse().unwrap(), "a"),
            "https://127.0.0.1:7000/runtimes/a"
        );
        let k = render(
            "local",
            "https://127.0.0.1:6443/runtimes/local",
            "PEM",
            "tok",
        );
        assert!(k.contains("current-context: twinstack-local"));
        assert!(k.contains("token: tok"));
    }
}
