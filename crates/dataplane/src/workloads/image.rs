//! Which built-in server a container is, from its image and arguments, and the port it listens
//! on: the images people deploy to test load balancers (`docs/dataplane.md`, "Backends").

use super::Workload;

/// The image's repository without registry, tag or digest: `registry.k8s.io/e2e-test-images/
/// agnhost:2.53` → `e2e-test-images/agnhost` → last component `agnhost`.
fn repo_name(image: &str) -> &str {
    let no_digest = image.split('@').next().unwrap_or(image);
    let last = no_digest.rsplit('/').next().unwrap_or(no_digest);
    last.split(':').next().unwrap_or(last)
}

/// The value of `-flag=v`, `--flag=v`, `-flag v` or `--flag v` among `args`.
fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let bare = a.trim_start_matches('-');
        if bare.len() == a.len() {
            continue;
        }
        if let Some((k, v)) = bare.split_once('=') {
            if k == name {
                return Some(v);
            }
        } else if bare == name {
            return it.next().map(String::as_str);
        }
    }
    None
}

fn port_of(listen: &str) -> Option<u16> {
    listen.rsplit(':').next().and_then(|p| p.parse().ok())
}

/// The built-in server a container with this image, command and args runs, and its port;
/// `None` for any other image (nothing listens, connections are refused).
pub fn workload_of(
    image: &str,
    command: &[String],
    args: &[String],
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<(Workload, u16)> {
    let all: Vec<String> = command.iter().chain(args).cloned().collect();
    match repo_name(image) {
        "whoami" => {
            let port = flag(&all, "port")
                .map(str::to_string)
                .or_else(|| env("WHOAMI_PORT_NUMBER"))
                .and_then(|p| p.parse().ok())
                .unwrap_or(80);
            let name = flag(&all, "name")
                .map(str::to_string)
                .or_else(|| env("WHOAMI_NAME"))
                .unwrap_or_default();
            Some((Workload::Whoami { name }, port))
        }
        "agnhost" => {
            // The first non-flag argument is the subcommand.
            let sub = all
                .iter()
                .find(|a| !a.starts_with('-') && !a.contains('/'))?;
            match sub.as_str() {
                "netexec" => Some((
                    Workload::Netexec,
                    flag(&all, "http-port")
                        .and_then(|p| p.parse().ok())
                        .unwrap_or(8080),
                )),
                "serve-hostname" => Some((
                    Workload::ServeHostname,
                    flag(&all, "port")
                        .and_then(|p| p.parse().ok())
                        .unwrap_or(9376),
                )),
                _ => None,
            }
        }
        "serve_hostname" | "serve-hostname" => Some((Workload::ServeHostname, 9376)),
        "http-echo" => {
            let text = flag(&all, "text").unwrap_or("").to_string();
            let port = flag(&all, "listen").and_then(port_of).unwrap_or(5678);
            Some((Workload::HttpEcho { text }, port))
        }
        "nginx" | "nginx-unprivileged" => {
            let port = if repo_name(image) == "nginx-unprivileged" {
                8080
            } else {
                80
            };
            Some((Workload::Nginx, port))
        }
        "httpd" => Some((Workload::Httpd, 80)),
        // Istio's gateway: `proxy router`, its HTTP listener on 8080 (the Service's `http2`).
        "proxyv2" if all.iter().any(|a| a == "router") => Some((Workload::IstioGateway, 8080)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn images_and_arguments_name_the_server_and_its_port() {
        let none = |_: &str| None;
        type Case<'a> = (
            &'a str,
            &'a [&'a str],
            &'a [&'a str],
            Option<(Workload, u16)>,
        );
        let cases: &[Case] = &[
            (
                "traefik/whoami",
                &[],
                &[],
                Some((
                    Workload::Whoami {
                        name: String::new(),
                    },
                    80,
                )),
            ),
            (
                "traefik/whoami:v1.10",
                &[],
                &["--port", "8080"],
                Some((
                    Workload::Whoami {
                        name: String::new(),
                    },
                    8080,
                )),
            ),
            (
                "containous/whoami",
                &[],
                &["-port=9000", "-name=a"],
                Some((Workload::Whoami { name: "a".into() }, 9000)),
            ),
            (
                "registry.k8s.io/e2e-test-images/agnhost:2.53",
                &[],
                &["netexec", "--http-port=8081"],
                Some((Workload::Netexec, 8081)),
            ),
            (
                "registry.k8s.io/e2e-test-images/agnhost:2.53",
                &["/agnhost"],
                &["netexec"],
                Some((Workload::Netexec, 8080)),
            ),
            (
                "registry.k8s.io/e2e-test-images/agnhost:2.53",
                &[],
                &["serve-hostname"],
                Some((Workload::ServeHostname, 9376)),
            ),
            (
                "registry.k8s.io/e2e-test-images/agnhost:2.53",
                &[],
                &["pause"],
                None,
            ),
            (
                "hashicorp/http-echo",
                &[],
                &["-text=hello world"],
                Some((
                    Workload::HttpEcho {
                        text: "hello world".into(),
                    },
                    5678,
                )),
            ),
            (
                "hashicorp/http-echo:1.0",
                &[],
                &["-listen=:8080", "-text", "x"],
                Some((Workload::HttpEcho { text: "x".into() }, 8080)),
            ),
            ("nginx:1.27", &[], &[], Some((Workload::Nginx, 80))),
            (
                "docker.io/library/nginx@sha256:abc",
                &[],
                &[],
                Some((Workload::Nginx, 80)),
            ),
            (
                "nginxinc/nginx-unprivileged",
                &[],
                &[],
                Some((Workload::Nginx, 8080)),
            ),
            ("httpd:2.4", &[], &[], Some((Workload::Httpd, 80))),
            ("busybox", &[], &["sleep", "3600"], None),
            ("my.registry:5000/team/app:1.0", &[], &[], None),
        ];
        for (image, cmd, args, want) in cases {
            assert_eq!(
                &workload_of(image, &s(cmd), &s(args), &none),
                want,
                "{image} {args:?}"
            );
        }
        let env = |k: &str| (k == "WHOAMI_PORT_NUMBER").then(|| "7000".to_string());
        assert_eq!(
            workload_of("traefik/whoami", &[], &[], &env),
            Some((
                Workload::Whoami {
                    name: String::new()
                },
                7000
            ))
        );
    }
}
