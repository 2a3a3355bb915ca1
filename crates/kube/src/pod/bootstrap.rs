//! What well-known bootstrap containers create through the API when they run: charts and
//! install manifests rely on them, and a pod that needs their output would otherwise wait for
//! ever where a real runtime starts it.
//!
//! - ingress-nginx's `kube-webhook-certgen create --secret-name=S --namespace=N` (its
//!   admission Job) creates the TLS Secret `S` (keys `ca`, `cert`, `key`) the controller
//!   mounts (kubernetes/ingress-nginx `images/kube-webhook-certgen`, `cmd/create.go`).
//! - Argo CD's `argocd admin redis-initial-password` (the redis init container `secret-init`)
//!   creates the Secret `argocd-redis` with key `auth` the Argo CD components read
//!   (argoproj/argo-cd `cmd/argocd/commands/admin/redis_initial_password.go`).
//!
//! The values are placeholders of the right shape: no certificate is issued.

use k8s_openapi::api::core::v1::{Container, Pod};
use serde_json::{json, Value};

fn image_is(c: &Container, name: &str) -> bool {
    let image = c.image.as_deref().unwrap_or("");
    let repo = image.split('@').next().unwrap_or("");
    let repo = repo
        .rsplit_once(':')
        .map_or(repo, |(r, tag)| if tag.contains('/') { repo } else { r });
    repo.rsplit('/').next() == Some(name)
}

/// The container's command and arguments with `$(VAR)` expanded as kubelet expands them: a
/// literal `value`, or the pod's namespace for a `metadata.namespace` field reference.
fn words(c: &Container, ns: &str) -> Vec<String> {
    let vars: Vec<(String, String)> = c
        .env
        .iter()
        .flatten()
        .filter_map(|e| {
            let v = match (&e.value, &e.value_from) {
                (Some(v), _) => v.clone(),
                (None, Some(f))
                    if f.field_ref
                        .as_ref()
                        .is_some_and(|r| r.field_path == "metadata.namespace") =>
                {
                    ns.to_string()
                }
                _ => return None,
            };
            Some((format!("$({})", e.name), v))
        })
        .collect();
    c.command
        .iter()
        .flatten()
        .chain(c.args.iter().flatten())
        .map(|w| vars.iter().fold(w.clone(), |acc, (k, v)| acc.replace(k, v)))
        .collect()
}

/// `--flag=value` or `--flag value`.
fn flag(words: &[String], name: &str) -> Option<String> {
    let eq = format!("--{name}=");
    words.iter().enumerate().find_map(|(i, w)| {
        if let Some(v) = w.strip_prefix(&eq) {
            Some(v.to_string())
        } else if *w == format!("--{name}") {
            words.get(i + 1).cloned()
        } else {
            None
        }
    })
}

fn secret(ns: &str, name: &str, data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": ns}, "data": data})
}

/// The objects `pod`'s containers (init containers first) create when they run.
pub fn objects(pod: &Pod) -> Vec<Value> {
    let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
    let Some(spec) = pod.spec.as_ref() else {
        return vec![];
    };
    let containers = spec
        .init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter());
    let placeholder = "dHdpbnN0YWNr"; // "twinstack"
    let mut out = Vec::new();
    for c in containers {
        let w = words(c, ns);
        if image_is(c, "kube-webhook-certgen") && w.iter().any(|x| x == "create") {
            if let Some(name) = flag(&w, "secret-name") {
                let target = flag(&w, "namespace").unwrap_or_else(|| ns.to_string());
                out.push(secret(
                    &target,
                    &name,
                    json!({"ca": placeholder, "cert": placeholder, "key": placeholder}),
                ));
            }
        }
        if image_is(c, "argocd") && w.iter().any(|x| x == "redis-initial-password") {
            out.push(secret(ns, "argocd-redis", json!({"auth": placeholder})));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(containers: Value, init: Value) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": "p", "namespace": "ns"},
            "spec": {"containers": containers, "initContainers": init}}))
        .unwrap()
    }

    #[test]
    fn known_bootstrap_containers_create_their_secrets() {
        let certgen = pod(
            json!([{"name": "create", "image": "registry.k8s.io/ingress-nginx/kube-webhook-certgen:v1.6.3@sha256:abc",
                    "args": ["create", "--host=ingress-nginx-controller-admission", "--namespace=$(POD_NAMESPACE)", "--secret-name=ingress-nginx-admission"],
                    "env": [{"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}]}]),
            json!([]),
        );
        let o = objects(&certgen);
        assert_eq!(o.len(), 1);
        assert_eq!(
            o[0]["metadata"],
            json!({"name": "ingress-nginx-admission", "namespace": "ns"})
        );
        assert!(o[0]["data"]["cert"].is_string());
        let redis = pod(
            json!([{"name": "redis", "image": "redis:8"}]),
            json!([{"name": "secret-init", "image": "quay.io/argoproj/argocd:v3.1.0", "command": ["argocd", "admin", "redis-initial-password"]}]),
        );
        let o = objects(&redis);
        assert_eq!(
            o[0]["metadata"],
            json!({"name": "argocd-redis", "namespace": "ns"})
        );
        let plain = pod(
            json!([{"name": "c", "image": "nginx", "args": ["create"]}]),
            json!([]),
        );
        assert!(objects(&plain).is_empty());
    }
}
