//! The LBC's generated names (`pkg/service/model_build_load_balancer.go`
//! `buildLoadBalancerName`, `pkg/service/model_build_target_group.go` `buildTargetGroupName`):
//! `k8s-<ns8>-<name8>-<hash10>`, where the namespace and name lose every non-alphanumeric
//! character (`[[:^alnum:]]`) and the hash is SHA-256 hex over the inputs written one after
//! another.

use crate::aws::ids::sha256_hex_concat;

fn sanitize8(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .take(8)
        .collect()
}

/// `buildLoadBalancerName` (without the `aws-load-balancer-name` override): the hash covers
/// cluster name, Service UID and scheme.
pub fn load_balancer_name(
    cluster: &str,
    namespace: &str,
    name: &str,
    uid: &str,
    scheme: &str,
) -> String {
    let h = sha256_hex_concat(&[cluster, uid, scheme]);
    format!(
        "k8s-{}-{}-{}",
        sanitize8(namespace),
        sanitize8(name),
        &h[..10]
    )
}

/// What `buildTargetGroupName` hashes, in its order (no base Service: plain Services).
pub struct TargetGroupNameInputs<'a> {
    pub cluster: &'a str,
    pub uid: &'a str,
    /// The target group port (`buildTargetGroupPort`).
    pub tg_port: i32,
    /// The Service port (`intstr.FromInt(port.Port).String()`).
    pub svc_port: i32,
    pub target_type: &'a str,
    pub tg_protocol: &'a str,
    pub hc_protocol: &'a str,
    pub hc_interval: i32,
}

/// `buildTargetGroupName`. The IP address type is not hashed: an IPv4 and an IPv6 target
/// group of one port share the name.
pub fn target_group_name(namespace: &str, name: &str, i: &TargetGroupNameInputs<'_>) -> String {
    let h = sha256_hex_concat(&[
        i.cluster,
        i.uid,
        &i.tg_port.to_string(),
        &i.svc_port.to_string(),
        i.target_type,
        i.tg_protocol,
        i.hc_protocol,
        &i.hc_interval.to_string(),
    ]);
    format!(
        "k8s-{}-{}-{}",
        sanitize8(namespace),
        sanitize8(name),
        &h[..10]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lb_name_shape_and_sanitizing() {
        let n = load_balancer_name(
            "c",
            "ingress-nginx",
            "ingress-nginx-controller",
            "u",
            "internal",
        );
        assert!(n.starts_with("k8s-ingressn-ingressn-"), "{n}");
        assert_eq!(n.len(), "k8s-ingressn-ingressn-".len() + 10);
        // The hash is SHA-256 over "c" + "u" + "internal" written one after another.
        let h = sha256_hex_concat(&["cuinternal"]);
        assert!(n.ends_with(&h[..10]));
        // The scheme is part of the hash: a scheme change means a new name (replacement).
        assert_ne!(
            n,
            load_balancer_name(
                "c",
                "ingress-nginx",
                "ingress-nginx-controller",
                "u",
                "internet-facing"
            )
        );
    }

    #[test]
    fn tg_name_hash_inputs() {
        let i = TargetGroupNameInputs {
            cluster: "c",
            uid: "u",
            tg_port: 30080,
            svc_port: 80,
            target_type: "instance",
            tg_protocol: "TCP",
            hc_protocol: "TCP",
            hc_interval: 10,
        };
        let n = target_group_name("default", "my-svc", &i);
        let h = sha256_hex_concat(&["cu3008080instanceTCPTCP10"]);
        assert_eq!(n, format!("k8s-default-mysvc-{}", &h[..10]));
    }
}
