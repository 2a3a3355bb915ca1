//! Addresses the emulated Compute Engine hands out, derived from SHA-256 of stable inputs
//! (no randomness): external IPv4 from the RFC 5737 documentation ranges, IPv6 `/96` ranges
//! from a subnet's external /64, internal IPv4 from a subnet's range.

use ipnet::{Ipv4Net, Ipv6Net};
use ring::digest::{digest, SHA256};
use std::net::{Ipv4Addr, Ipv6Addr};

fn hash(parts: &[&str]) -> [u8; 32] {
    let d = digest(&SHA256, parts.join("\u{0}").as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// An ephemeral external IPv4 in 192.0.2.0/24, 198.51.100.0/24 or 203.0.113.0/24 (host 1..=254).
pub fn external_ipv4(project: &str, region: &str, name: &str) -> Ipv4Addr {
    let h = hash(&["ipv4", project, region, name]);
    let nets = [[192, 0, 2], [198, 51, 100], [203, 0, 113]];
    let n = nets[h[0] as usize % 3];
    Ipv4Addr::new(n[0], n[1], n[2], 1 + h[1] % 254)
}

/// A `/96` range inside `subnet` (a /64), as GCP stores an IPv6 forwarding rule's address.
pub fn ipv6_range(subnet: Ipv6Net, name: &str) -> Ipv6Net {
    let h = hash(&["ipv6", &subnet.to_string(), name]);
    let id = u32::from_be_bytes([h[0], h[1], h[2], h[3]]).max(1);
    let base = u128::from(subnet.trunc().network());
    let addr = base | ((id as u128) << 32);
    Ipv6Net::new(Ipv6Addr::from(addr), 96).expect("prefix")
}

/// An internal IPv4 in `subnet`, past GCP's reserved first two and last two addresses.
pub fn internal_ipv4(subnet: Ipv4Net, name: &str) -> Ipv4Addr {
    let h = hash(&["internal", &subnet.to_string(), name]);
    let size = 1u64 << (32 - subnet.prefix_len());
    let usable = size.saturating_sub(4).max(1);
    let off = 2 + u64::from(u32::from_be_bytes([h[0], h[1], h[2], h[3]])) % usable;
    Ipv4Addr::from(u32::from(subnet.network()) + off as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_ipv4_is_documentation_and_stable() {
        let a = external_ipv4("p", "r", "a1");
        assert_eq!(a, external_ipv4("p", "r", "a1"));
        let o = a.octets();
        assert!(matches!(
            (o[0], o[1], o[2]),
            (192, 0, 2) | (198, 51, 100) | (203, 0, 113)
        ));
    }

    #[test]
    fn ipv6_range_is_a_96_in_the_64() {
        let s: Ipv6Net = "2600:1900:4000:1::/64".parse().unwrap();
        let r = ipv6_range(s, "a1-ipv6");
        assert_eq!(r.prefix_len(), 96);
        assert!(s.contains(&r));
    }

    #[test]
    fn internal_ipv4_is_in_the_subnet() {
        let s: Ipv4Net = "10.251.0.0/16".parse().unwrap();
        assert!(s.contains(&internal_ipv4(s, "a1")));
    }
}
