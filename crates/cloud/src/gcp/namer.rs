//! Names of the GCE resources: the legacy `a<uid>` name (`k8s.io/cloud-provider`
//! `DefaultLoadBalancerName`) and ingress-gce's L4 namer (`pkg/utils/namer/l4_namer.go`,
//! `pkg/utils/common/common.go` `ContentHash`, `pkg/utils/namer/utils.go` `TrimFieldsEvenly`).

use ring::digest::{digest, SHA256};

const V2_PREFIX: &str = "k8s2";
/// `maximumL4CombinedLength` in `l4_namer.go`.
const MAXIMUM_L4_COMBINED_LENGTH: usize = 39;
const MAX_RESOURCE_NAME_LENGTH: usize = 63;
const SHARED_HC_SUFFIX: &str = "l4-shared-hc";
const FIREWALL_HC_SUFFIX: &str = "-fw";

/// `cloudprovider.DefaultLoadBalancerName`: `a` + the Service UID without dashes, cut to 32.
pub fn legacy_forwarding_rule_name(uid: &str) -> String {
    let mut name = format!("a{}", uid.replace('-', ""));
    name.truncate(32);
    name
}

/// `common.ContentHash`: the first `n` bytes of SHA-256, each mapped mod 36 onto `0-9a-z`.
pub fn content_hash(s: &str, n: usize) -> String {
    const CHARS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    digest(&SHA256, s.as_bytes())
        .as_ref()
        .iter()
        .take(n)
        .map(|b| CHARS[*b as usize % CHARS.len()] as char)
        .collect()
}

/// `namer.TrimFieldsEvenly`.
pub fn trim_fields_evenly(max: usize, fields: &[&str]) -> Vec<String> {
    let total: usize = fields.iter().map(|f| f.len()).sum();
    if max == 0 || total <= max {
        return fields.iter().map(|f| f.to_string()).collect();
    }
    let excess = total - max;
    let mut remaining = max as isize;
    let mut lengths: Vec<usize> = Vec::new();
    for f in fields {
        let l = f.len() - f.len() * excess / total - 1;
        lengths.push(l);
        remaining -= l as isize;
    }
    for l in lengths.iter_mut().take(remaining.max(0) as usize) {
        *l += 1;
    }
    fields
        .iter()
        .zip(lengths)
        .map(|(f, l)| f[..l].to_string())
        .collect()
}

/// `namer.GetSuffixedName`: cut `name` so that `name + suffix` fits 63 characters.
pub fn suffixed(name: &str, suffix: &str) -> String {
    let max = MAX_RESOURCE_NAME_LENGTH - suffix.len();
    let cut = if name.len() > max { &name[..max] } else { name };
    format!("{cut}{suffix}")
}

/// ingress-gce's `L4Namer` for one cluster (the kube-system UID).
#[derive(Debug, Clone)]
pub struct L4Namer {
    /// `v2ClusterUID`: `ContentHash(kubeSystemUID, 8)`.
    pub cluster_uid: String,
}

impl L4Namer {
    pub fn new(kube_system_uid: &str) -> L4Namer {
        L4Namer {
            cluster_uid: content_hash(kube_system_uid, 8),
        }
    }

    fn service_hash(&self, namespace: &str, name: &str) -> String {
        content_hash(&format!("{};{namespace};{name}", self.cluster_uid), 8)
    }

    /// `L4Backend`: `k8s2-{uid}-{ns}-{name}-{hash}` (also the backend service, the nodes
    /// firewall and the non-shared health check).
    pub fn backend(&self, namespace: &str, name: &str) -> String {
        let trimmed = trim_fields_evenly(MAXIMUM_L4_COMBINED_LENGTH, &[namespace, name]).join("-");
        [
            V2_PREFIX,
            &self.cluster_uid,
            &trimmed,
            &self.service_hash(namespace, name),
        ]
        .join("-")
    }

    /// `L4Firewall` (= `L4Backend`).
    pub fn firewall(&self, namespace: &str, name: &str) -> String {
        self.backend(namespace, name)
    }

    /// `L4IPv6Firewall`: `L4Backend` + `-ipv6`.
    pub fn ipv6_firewall(&self, namespace: &str, name: &str) -> String {
        suffixed(&self.backend(namespace, name), "-ipv6")
    }

    /// `L4HealthCheck`.
    pub fn health_check(&self, namespace: &str, name: &str, shared: bool) -> String {
        if shared {
            [V2_PREFIX, &self.cluster_uid, SHARED_HC_SUFFIX].join("-")
        } else {
            self.backend(namespace, name)
        }
    }

    /// `L4HealthCheckFirewall`.
    pub fn health_check_firewall(&self, namespace: &str, name: &str, shared: bool) -> String {
        if shared {
            format!(
                "{V2_PREFIX}-{}-{SHARED_HC_SUFFIX}{FIREWALL_HC_SUFFIX}",
                self.cluster_uid
            )
        } else {
            suffixed(&self.backend(namespace, name), FIREWALL_HC_SUFFIX)
        }
    }

    /// `L4IPv6HealthCheckFirewall`.
    pub fn ipv6_health_check_firewall(&self, namespace: &str, name: &str, shared: bool) -> String {
        if shared {
            format!(
                "{V2_PREFIX}-{}-{SHARED_HC_SUFFIX}{FIREWALL_HC_SUFFIX}-ipv6",
                self.cluster_uid
            )
        } else {
            suffixed(
                &self.backend(namespace, name),
                &format!("{FIREWALL_HC_SUFFIX}-ipv6"),
            )
        }
    }

    /// `L4ForwardingRule`: `k8s2-{protocol}-{uid}-{ns}-{name}-{hash}` (ILB).
    pub fn forwarding_rule(&self, namespace: &str, name: &str, protocol: &str) -> String {
        let mut protocol = protocol.to_lowercase();
        if protocol == "l3_default" {
            protocol = "l3".into();
        }
        let trimmed = trim_fields_evenly(
            MAXIMUM_L4_COMBINED_LENGTH - (protocol.len() + 1),
            &[namespace, name],
        )
        .join("-");
        [
            V2_PREFIX,
            &protocol,
            &self.cluster_uid,
            &trimmed,
            &self.service_hash(namespace, name),
        ]
        .join("-")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_name_is_a_plus_uid_without_dashes_cut_to_32() {
        assert_eq!(
            legacy_forwarding_rule_name("0a1b2c3d-4e5f-6789-abcd-ef0123456789"),
            "a0a1b2c3d4e5f6789abcdef012345678"
        );
    }

    #[test]
    fn content_hash_is_base36_of_sha256_bytes() {
        // sha256("") starts e3 b0 c4 42: 227%36=11 (b), 176%36=32 (w), 196%36=16 (g), 66%36=30 (u)
        assert_eq!(content_hash("", 4), "bwgu");
    }

    #[test]
    fn trim_fields_evenly_keeps_short_fields_and_cuts_long_ones() {
        assert_eq!(trim_fields_evenly(10, &["ab", "cd"]), vec!["ab", "cd"]);
        let t = trim_fields_evenly(
            39,
            &["a-very-long-namespace-name", "a-very-long-service-name-too"],
        );
        assert_eq!(t.iter().map(|s| s.len()).sum::<usize>(), 39);
    }

    #[test]
    fn backend_name_fits_63_and_has_the_v2_shape() {
        let n = L4Namer::new("kube-system-uid");
        let b = n.backend("default", "web");
        assert!(b.starts_with(&format!("k8s2-{}-default-web-", n.cluster_uid)));
        assert_eq!(b.len(), 4 + 1 + 8 + 1 + "default-web".len() + 1 + 8);
        let long = n.backend(&"n".repeat(60), &"s".repeat(60));
        assert!(long.len() <= 63);
        assert_eq!(n.ipv6_firewall("default", "web"), format!("{b}-ipv6"));
        assert_eq!(
            n.health_check("default", "web", true),
            format!("k8s2-{}-l4-shared-hc", n.cluster_uid)
        );
        assert_eq!(
            n.ipv6_health_check_firewall("default", "web", true),
            format!("k8s2-{}-l4-shared-hc-fw-ipv6", n.cluster_uid)
        );
    }
}
