//! Go's `net.ParseCIDR`, `netip.ParsePrefix` and `net.IP.String`, as KEB calls them.

use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Go `dtoi`: decimal digits only (leading zeros allowed), at least one digit, below 0xFFFFFF.
fn dtoi(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut n: u32 = 0;
    for b in s.bytes() {
        n = n * 10 + u32::from(b - b'0');
        if n >= 0xFF_FFFF {
            return None;
        }
    }
    Some(n)
}

/// `netip.ParseAddr` without zones (Rust's parsers reject leading zeros in IPv4 like Go's).
fn parse_addr(s: &str) -> Option<IpAddr> {
    if s.contains('%') {
        return None;
    }
    if let Ok(v4) = s.parse::<Ipv4Addr>() {
        return Some(IpAddr::V4(v4));
    }
    s.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
}

/// `net.ParseCIDR(s)`: the address as written and its network. Error text is Go's
/// `*net.ParseError` (`invalid CIDR address: <s>`).
pub fn parse_cidr(s: &str) -> Result<(IpAddr, IpNet), String> {
    let err = || format!("invalid CIDR address: {s}");
    let (addr, mask) = s.split_once('/').ok_or_else(err)?;
    let ip = parse_addr(addr).ok_or_else(err)?;
    let bits = dtoi(mask).ok_or_else(err)?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    if bits > max {
        return Err(err());
    }
    let net = IpNet::new(ip, bits as u8).map_err(|_| err())?.trunc();
    Ok((ip, net))
}

/// KEB `validateCidr`: `net.ParseCIDR` plus `<ip> must be valid canonical CIDR`.
pub fn validate_cidr(s: &str) -> Result<IpNet, String> {
    let (ip, net) = parse_cidr(s)?;
    if net.addr() != ip {
        return Err(format!(
            "{} must be valid canonical CIDR",
            go_ip_string(&ip)
        ));
    }
    Ok(net)
}

/// `netip.ParsePrefix(s).Bits()`: the prefix length, or -1 when the string does not parse.
/// Stricter than `net.ParseCIDR` on the length (no leading zeros, no sign).
pub fn netip_prefix_bits(s: &str) -> i32 {
    let Some(i) = s.rfind('/') else { return -1 };
    let (addr, bits) = (&s[..i], &s[i + 1..]);
    let Some(ip) = parse_addr(addr) else {
        return -1;
    };
    if bits.is_empty() || !bits.bytes().all(|b| b.is_ascii_digit()) {
        return -1;
    }
    if bits.len() > 1 && bits.starts_with('0') {
        return -1;
    }
    let Ok(n) = bits.parse::<u32>() else {
        return -1;
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    if n > max {
        return -1;
    }
    n as i32
}

/// Go `net.IP.String()`: IPv4-mapped IPv6 addresses print as dotted IPv4.
pub fn go_ip_string(ip: &IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => v6.to_string(),
        },
    }
}

/// Go `IPNet.Contains` both ways: same family and one network holds the other's base address.
pub fn overlaps(a: &IpNet, b: &IpNet) -> bool {
    match (a, b) {
        (IpNet::V4(_), IpNet::V4(_)) | (IpNet::V6(_), IpNet::V6(_)) => {
            a.contains(&b.network()) || b.contains(&a.network())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_parse_cidr_errors() {
        assert_eq!(
            parse_cidr("1abcd").unwrap_err(),
            "invalid CIDR address: 1abcd"
        );
        assert_eq!(parse_cidr("").unwrap_err(), "invalid CIDR address: ");
        assert_eq!(
            parse_cidr("10.0.0.0/").unwrap_err(),
            "invalid CIDR address: 10.0.0.0/"
        );
        assert_eq!(
            parse_cidr("10.0.0.0/33").unwrap_err(),
            "invalid CIDR address: 10.0.0.0/33"
        );
        assert_eq!(
            parse_cidr(" 10.0.0.0/8").unwrap_err(),
            "invalid CIDR address:  10.0.0.0/8"
        );
        assert!(parse_cidr("010.0.0.0/8").is_err());
        assert_eq!(
            parse_cidr("10.0.0.0/016").unwrap().1.to_string(),
            "10.0.0.0/16"
        );
        assert_eq!(
            validate_cidr("10.250.0.1/22").unwrap_err(),
            "10.250.0.1 must be valid canonical CIDR"
        );
        assert_eq!(
            validate_cidr("fd00::1/64").unwrap_err(),
            "fd00::1 must be valid canonical CIDR"
        );
    }

    #[test]
    fn netip_bits() {
        assert_eq!(netip_prefix_bits("10.250.0.1/24"), 24);
        assert_eq!(netip_prefix_bits("10.0.0.0/016"), -1);
        assert_eq!(netip_prefix_bits("1abcd"), -1);
        assert_eq!(netip_prefix_bits("fd00::/64"), 64);
    }
}
