//! Service CIDR range math and the allocator interface, with kube-apiserver 1.32 semantics.
//!
//! Sources read (kubernetes/kubernetes):
//! - `pkg/registry/core/service/ipallocator/bitmap.go`: range base/size (network address never
//!   used, IPv4 broadcast never used, IPv6 size capped at 65536), `calculateRangeOffset`
//!   (`min(max(16, size/16), 256)`, 0 when size <= 16).
//! - `pkg/registry/core/service/allocator/bitmap.go`: `randomScanStrategyWithOffset` (scan the
//!   dynamic band `[offset, max)` from a random start, wrapping inside the band, then the static
//!   band `[0, offset)`).
//! - `pkg/registry/core/service/ipallocator/interfaces.go` (1.2x–1.32 text, the one users see in
//!   real error reports): `range is full`, `provided IP is already allocated`,
//!   `the provided IP (<ip>) is not in the valid range. The range of valid IPs is <cidr>`.
//!   (A newer revision shortens the last one; 1.32 has the long form.)
//! - `pkg/registry/core/service/portallocator/allocator.go`: `provided port is already allocated`,
//!   `provided port is not in the valid range. The range of valid ports is 30000-32767`, and the
//!   port `calculateRangeOffset` (`min(max(16, size/32), 128)`).
//! - `cmd/kube-apiserver/app/options/validation.go` (`validateClusterIPFlags`,
//!   `validateMaxCIDRRange`) for `--service-cluster-ip-range` texts.
//! - `k8s.io/utils/net` (`ParseIPSloppy` = Go 1.16 `net.ParseIP`, `RangeSize`, `IsIPv6String`).
//!
//! Nothing here draws random numbers: the "random" start of a scan is a parameter, and
//! [`MemoryAllocator`] derives successive starts from the seed given at construction.

use ipnet::IpNet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// An IP family (`core.IPFamily`); serializes as `"IPv4"` / `"IPv6"`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Family {
    IPv4,
    IPv6,
}

impl Family {
    pub fn as_str(self) -> &'static str {
        match self {
            Family::IPv4 => "IPv4",
            Family::IPv6 => "IPv6",
        }
    }

    /// The other family (IPv4 <-> IPv6).
    pub fn other(self) -> Family {
        match self {
            Family::IPv4 => Family::IPv6,
            Family::IPv6 => Family::IPv4,
        }
    }

    /// Upstream classification (`netutils.IsIPv6`): an address is IPv6 only when it is not
    /// representable as IPv4, so `::ffff:1.2.3.4` counts as IPv4.
    pub fn of_ip(ip: &IpAddr) -> Family {
        match ip {
            IpAddr::V4(_) => Family::IPv4,
            IpAddr::V6(v6) => {
                if v6.to_ipv4_mapped().is_some() {
                    Family::IPv4
                } else {
                    Family::IPv6
                }
            }
        }
    }

    /// Family of a CIDR.
    pub fn of_net(net: &IpNet) -> Family {
        match net {
            IpNet::V4(_) => Family::IPv4,
            IpNet::V6(_) => Family::IPv6,
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Family {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "IPv4" => Ok(Family::IPv4),
            "IPv6" => Ok(Family::IPv6),
            other => Err(format!("unknown IP family {other:?}")),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Legacy (Go 1.16 net.ParseIP) parsing, as k8s.io/utils/net ParseIPSloppy.
// ---------------------------------------------------------------------------------------------

const BIG: u32 = 0xFF_FFFF;

/// Decimal to integer (Go `dtoi`): returns (value, consumed, ok).
fn dtoi(s: &[u8]) -> (u32, usize, bool) {
    let mut n: u32 = 0;
    let mut i = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        n = n * 10 + (s[i] - b'0') as u32;
        if n >= BIG {
            return (BIG, i, false);
        }
        i += 1;
    }
    if i == 0 {
        return (0, 0, false);
    }
    (n, i, true)
}

/// Hexadecimal to integer (Go `xtoi`).
fn xtoi(s: &[u8]) -> (u32, usize, bool) {
    let mut n: u32 = 0;
    let mut i = 0;
    while i < s.len() {
        let d = match s[i] {
            c @ b'0'..=b'9' => (c - b'0') as u32,
            c @ b'a'..=b'f' => (c - b'a') as u32 + 10,
            c @ b'A'..=b'F' => (c - b'A') as u32 + 10,
            _ => break,
        };
        n = n * 16 + d;
        if n >= BIG {
            return (0, i, false);
        }
        i += 1;
    }
    if i == 0 {
        return (0, i, false);
    }
    (n, i, true)
}

fn parse_ipv4_legacy(mut s: &[u8]) -> Option<[u8; 4]> {
    let mut p = [0u8; 4];
    for (i, slot) in p.iter_mut().enumerate() {
        if s.is_empty() {
            return None;
        }
        if i > 0 {
            if s[0] != b'.' {
                return None;
            }
            s = &s[1..];
        }
        let (n, c, ok) = dtoi(s);
        if !ok || n > 0xFF {
            return None;
        }
        s = &s[c..];
        *slot = n as u8;
    }
    if !s.is_empty() {
        return None;
    }
    Some(p)
}

fn parse_ipv6_legacy(mut s: &[u8]) -> Option<[u8; 16]> {
    let mut ip = [0u8; 16];
    let mut ellipsis: Option<usize> = None;
    if s.len() >= 2 && s[0] == b':' && s[1] == b':' {
        ellipsis = Some(0);
        s = &s[2..];
        if s.is_empty() {
            return Some(ip);
        }
    }
    let mut i = 0;
    while i < 16 {
        let (n, c, ok) = xtoi(s);
        if !ok || n > 0xFFFF {
            return None;
        }
        if c < s.len() && s[c] == b'.' {
            if ellipsis.is_none() && i != 12 {
                return None;
            }
            if i + 4 > 16 {
                return None;
            }
            let v4 = parse_ipv4_legacy(s)?;
            ip[i..i + 4].copy_from_slice(&v4);
            s = &[];
            i += 4;
            break;
        }
        ip[i] = (n >> 8) as u8;
        ip[i + 1] = n as u8;
        i += 2;
        s = &s[c..];
        if s.is_empty() {
            break;
        }
        if s[0] != b':' || s.len() == 1 {
            return None;
        }
        s = &s[1..];
        if s[0] == b':' {
            if ellipsis.is_some() {
                return None;
            }
            ellipsis = Some(i);
            s = &s[1..];
            if s.is_empty() {
                break;
            }
        }
    }
    if !s.is_empty() {
        return None;
    }
    if i < 16 {
        let e = ellipsis?;
        let n = 16 - i;
        let mut j = i;
        while j > e {
            j -= 1;
            ip[j + n] = ip[j];
        }
        for b in ip.iter_mut().skip(e).take(n) {
            *b = 0;
        }
    } else if ellipsis.is_some() {
        return None;
    }
    Some(ip)
}

/// Parses an IP the way Go's legacy `net.ParseIP` (k8s `netutils.ParseIPSloppy`) does:
/// IPv4 octets may have leading zeros and are read as decimal (`010.0.0.1` is 10.0.0.1), zones
/// are rejected, an IPv4 tail is allowed in IPv6. IPv6 literals (including IPv4-mapped ones) are
/// returned as `IpAddr::V6`; use [`Family::of_ip`] / [`canonical_ip`] for upstream semantics.
pub fn parse_ip_legacy(s: &str) -> Option<IpAddr> {
    let b = s.as_bytes();
    for &c in b {
        match c {
            b'.' => return parse_ipv4_legacy(b).map(|p| IpAddr::V4(Ipv4Addr::from(p))),
            b':' => return parse_ipv6_legacy(b).map(|p| IpAddr::V6(Ipv6Addr::from(p))),
            _ => {}
        }
    }
    None
}

/// The address as Go's `net.IP` sees it after `To4()`: IPv4-mapped IPv6 becomes IPv4.
pub fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => ip,
        },
        v4 => v4,
    }
}

/// Go's `net.IP.String()` of a legacy-parsed address (IPv4-mapped printed as dotted IPv4).
pub fn go_ip_string(ip: IpAddr) -> String {
    canonical_ip(ip).to_string()
}

/// `netutils.IsIPv6String`: parses (legacy) and is not representable as IPv4.
pub fn is_ipv6_string(s: &str) -> bool {
    parse_ip_legacy(s)
        .map(|ip| Family::of_ip(&ip) == Family::IPv6)
        .unwrap_or(false)
}

/// `netutils.IsIPv4String`.
pub fn is_ipv4_string(s: &str) -> bool {
    parse_ip_legacy(s)
        .map(|ip| Family::of_ip(&ip) == Family::IPv4)
        .unwrap_or(false)
}

/// Go's legacy `net.ParseCIDR` (`netutils.ParseCIDRSloppy`): returns the address and the
/// masked network.
pub fn parse_cidr_legacy(s: &str) -> Option<(IpAddr, IpNet)> {
    let (addr, mask) = s.split_once('/')?;
    let is_v6 = addr.contains(':');
    let ip = parse_ip_legacy(addr)?;
    let (n, c, ok) = dtoi(mask.as_bytes());
    let bits = if is_v6 { 128 } else { 32 };
    if !ok || c != mask.len() || n > bits {
        return None;
    }
    let net = if is_v6 {
        let v6 = match ip {
            IpAddr::V6(v6) => v6,
            IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        };
        IpNet::new(IpAddr::V6(v6), n as u8).ok()?.trunc()
    } else {
        IpNet::new(ip, n as u8).ok()?.trunc()
    };
    Some((ip, net))
}

// ---------------------------------------------------------------------------------------------
// Ranges
// ---------------------------------------------------------------------------------------------

fn ip_to_u128(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u32::from(v4) as u128,
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// `netutils.RangeSize`: 0 for /0 and /1, saturating at `i64::MAX`.
fn range_size(net: &IpNet) -> u64 {
    let bits = net.max_prefix_len() as u32;
    let host = bits - net.prefix_len() as u32;
    if host >= bits - 1 {
        return 0;
    }
    if host >= 63 {
        return i64::MAX as u64;
    }
    1u64 << host
}

/// `calculateRangeOffset(cidr)` of the IP allocator: `min(max(16, size/16), 256)`, 0 if size <= 16.
fn ip_range_offset(net: &IpNet) -> u64 {
    let size = range_size(net);
    if size <= 16 {
        return 0;
    }
    (size / 16).clamp(16, 256)
}

/// A service CIDR with the bitmap allocator's layout: offset 0 is the address after the
/// network address; the IPv4 broadcast address is never used; IPv6 ranges are capped at
/// 65536 addresses (offsets 0..65535). Offsets below `static_band()` form the static band,
/// preferred last by dynamic allocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRange {
    cidr: IpNet,
    family: Family,
    base: u128,
    size: u64,
    offset: u64,
}

impl ServiceRange {
    pub fn new(cidr: IpNet) -> ServiceRange {
        let cidr = cidr.trunc();
        let family = Family::of_net(&cidr);
        let mut max = range_size(&cidr) as i128;
        if family == Family::IPv6 {
            if max > 65536 {
                max = 65536;
            }
        } else {
            max -= 1;
        }
        max -= 1;
        if max < 0 {
            max = 0;
        }
        let size = max as u64;
        let mut offset = ip_range_offset(&cidr);
        if offset >= size {
            offset = 0;
        }
        ServiceRange {
            base: ip_to_u128(cidr.network()) + 1,
            cidr,
            family,
            size,
            offset,
        }
    }

    pub fn family(&self) -> Family {
        self.family
    }
    pub fn cidr(&self) -> IpNet {
        self.cidr
    }
    /// Number of allocatable addresses (`r.max` upstream).
    pub fn size(&self) -> u64 {
        self.size
    }
    /// Size of the static band `[0, static_band())` (`calculateRangeOffset`).
    pub fn static_band(&self) -> u64 {
        self.offset
    }

    /// The address at `offset` (offset 0 = network address + 1).
    pub fn ip_at(&self, offset: u64) -> Option<IpAddr> {
        if offset >= self.size {
            return None;
        }
        let v = self.base + offset as u128;
        Some(match self.family {
            Family::IPv4 => IpAddr::V4(Ipv4Addr::from(v as u32)),
            Family::IPv6 => IpAddr::V6(Ipv6Addr::from(v)),
        })
    }

    /// Offset of `ip` if it is allocatable in this range (IPv4-mapped IPv6 counts as IPv4,
    /// as Go's `IPNet.Contains` does).
    pub fn offset_of(&self, ip: IpAddr) -> Option<u64> {
        let ip = canonical_ip(ip);
        if Family::of_ip(&ip) != self.family || !self.cidr.contains(&ip) {
            return None;
        }
        let v = ip_to_u128(ip);
        if v < self.base {
            return None;
        }
        let off = v - self.base;
        if off < self.size as u128 {
            Some(off as u64)
        } else {
            None
        }
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.offset_of(ip).is_some()
    }

    /// Upstream `randomScanStrategyWithOffset` given its random start: scan the dynamic band
    /// `[static, size)` from `static + start % len`, wrapping inside the band, then the static
    /// band from `start % static`. (Upstream draws a second random number for the static band;
    /// we reuse `start`.)
    pub fn next_free(&self, start: u64, is_used: impl FnMut(u64) -> bool) -> Option<u64> {
        scan_with_offset(self.size, self.offset, start, is_used)
    }
}

fn scan_with_offset(
    size: u64,
    offset: u64,
    start: u64,
    mut is_used: impl FnMut(u64) -> bool,
) -> Option<u64> {
    if size == 0 {
        return None;
    }
    let sub = size - offset;
    if sub > 0 {
        let s = start % sub;
        for i in 0..sub {
            let at = offset + (s + i) % sub;
            if !is_used(at) {
                return Some(at);
            }
        }
    }
    if offset > 0 {
        let s = start % offset;
        for i in 0..offset {
            let at = (s + i) % offset;
            if !is_used(at) {
                return Some(at);
            }
        }
    }
    None
}

/// `--service-node-port-range` (`net.PortRange`), default 30000-32767.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodePortRange {
    base: i32,
    size: i32,
}

impl Default for NodePortRange {
    fn default() -> Self {
        NodePortRange {
            base: 30000,
            size: 2768,
        }
    }
}

impl NodePortRange {
    /// `first..=last`.
    pub fn new(first: i32, last: i32) -> Result<NodePortRange, String> {
        if first < 0 || last > 65535 || last < first {
            return Err(format!("invalid port range {first}-{last}"));
        }
        Ok(NodePortRange {
            base: first,
            size: last - first + 1,
        })
    }
    pub fn base(&self) -> i32 {
        self.base
    }
    pub fn size(&self) -> i32 {
        self.size
    }
    pub fn contains(&self, port: i32) -> bool {
        port >= self.base && port < self.base + self.size
    }
    /// Port allocator `calculateRangeOffset`: `min(max(16, size/32), 128)`, 0 if size <= 16.
    pub fn static_band(&self) -> u64 {
        let size = self.size as u64;
        if size <= 16 {
            return 0;
        }
        (size / 32).clamp(16, 128)
    }
    /// Same scan as [`ServiceRange::next_free`], over port offsets.
    pub fn next_free(&self, start: u64, is_used: impl FnMut(u64) -> bool) -> Option<u64> {
        scan_with_offset(self.size as u64, self.static_band(), start, is_used)
    }
}

impl fmt::Display for NodePortRange {
    /// `net.PortRange.String()`: `30000-32767`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.base, self.base + self.size - 1)
    }
}

/// kube-apiserver's `--service-cluster-ip-range` checks (`validateClusterIPFlags`), errors
/// aggregated as `utilerrors.NewAggregate` prints them (one alone, several as `[a, b]`).
pub fn validate_service_cidrs(cidrs: &[IpNet]) -> Result<(), String> {
    let mut errs: Vec<String> = Vec::new();
    if cidrs.is_empty() {
        errs.push("--service-cluster-ip-range must contain at least one valid cidr".into());
    }
    if cidrs.len() > 2 {
        errs.push("--service-cluster-ip-range must not contain more than two entries".into());
    }
    let max_check = |net: &IpNet, flag: &str| -> Option<String> {
        let bits = net.max_prefix_len() as u32;
        let ones = net.prefix_len() as u32;
        if bits - ones > 20 {
            Some(format!(
                "specified {flag} is too large; for {bits}-bit addresses, the mask must be >= {}",
                bits - 20
            ))
        } else {
            None
        }
    };
    if let Some(p) = cidrs.first() {
        if let Some(e) = max_check(p, "--service-cluster-ip-range") {
            errs.push(e);
        }
    }
    if let (Some(p), Some(s)) = (cidrs.first(), cidrs.get(1)) {
        if Family::of_net(p) == Family::of_net(s) {
            errs.push("--service-cluster-ip-range[0] and --service-cluster-ip-range[1] must be of different IP family".into());
        }
        if let Some(e) = max_check(s, "--service-cluster-ip-range[1]") {
            errs.push(e);
        }
    }
    match errs.len() {
        0 => Ok(()),
        1 => Err(errs.remove(0)),
        _ => Err(format!("[{}]", errs.join(", "))),
    }
}

// ---------------------------------------------------------------------------------------------
// Allocation
// ---------------------------------------------------------------------------------------------

/// What an allocation error is about (the texts differ for IPs and ports).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Ip,
    Port,
}

/// Allocator errors with upstream texts. `Allocated` and `NotInRange` say whether an IP or a
/// node port was asked for (`ipallocator` and `portallocator` word them differently).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllocError {
    /// `ErrFull`.
    #[error("range is full")]
    Full,
    /// `ErrAllocated`.
    #[error("{}", match .0 { Resource::Ip => "provided IP is already allocated", Resource::Port => "provided port is already allocated" })]
    Allocated(Resource),
    /// `ErrNotInRange`; `value` is the address as Go prints it, `valid` the range string.
    #[error("{}", not_in_range_text(*.what, .value, .valid))]
    NotInRange {
        what: Resource,
        value: String,
        valid: String,
    },
}

fn not_in_range_text(what: Resource, value: &str, valid: &str) -> String {
    match what {
        Resource::Ip => {
            format!("the provided IP ({value}) is not in the valid range. The range of valid IPs is {valid}")
        }
        Resource::Port => {
            format!("provided port is not in the valid range. The range of valid ports is {valid}")
        }
    }
}

/// The allocation state the Service registry works against (one per runtime). The registry
/// implements it over its store transaction (one key per address/port); [`MemoryAllocator`]
/// is the in-memory implementation.
///
/// Contract: `allocate_ip` reserves exactly `ip` (IPv4-mapped IPv6 is the IPv4 address) or
/// fails with `NotInRange` (outside the family's range, including the network and IPv4
/// broadcast addresses, or family not configured) / `Allocated`; `allocate_next_ip` returns a
/// free address following the dynamic-then-static scan, or `Full`; releases of unallocated or
/// out-of-range values are no-ops. Ports likewise over the node port range.
pub trait Allocator {
    fn allocate_ip(&mut self, family: Family, ip: IpAddr) -> Result<(), AllocError>;
    fn allocate_next_ip(&mut self, family: Family) -> Result<IpAddr, AllocError>;
    fn release_ip(&mut self, family: Family, ip: IpAddr);
    fn allocate_node_port(&mut self, port: i32) -> Result<(), AllocError>;
    fn allocate_next_node_port(&mut self) -> Result<i32, AllocError>;
    fn release_node_port(&mut self, port: i32);
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Bitmap {
    words: Vec<u64>,
    count: u64,
}

impl Bitmap {
    fn new(size: u64) -> Self {
        Bitmap {
            words: vec![0; size.div_ceil(64) as usize],
            count: 0,
        }
    }
    fn has(&self, i: u64) -> bool {
        self.words[(i / 64) as usize] & (1 << (i % 64)) != 0
    }
    fn set(&mut self, i: u64) -> bool {
        if self.has(i) {
            return false;
        }
        self.words[(i / 64) as usize] |= 1 << (i % 64);
        self.count += 1;
        true
    }
    fn clear(&mut self, i: u64) {
        if self.has(i) {
            self.words[(i / 64) as usize] &= !(1 << (i % 64));
            self.count -= 1;
        }
    }
}

/// In-memory allocator over bitmaps, one per configured service range plus one for node
/// ports. Deterministic: successive scan starts come from a splitmix64 sequence seeded at
/// construction. `Clone` gives a cheap snapshot for callers that need to roll back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryAllocator {
    ranges: Vec<(ServiceRange, Bitmap)>,
    ports: (NodePortRange, Bitmap),
    state: u64,
}

impl MemoryAllocator {
    pub fn new(ranges: Vec<ServiceRange>, node_ports: NodePortRange, seed: u64) -> Self {
        MemoryAllocator {
            ranges: ranges
                .into_iter()
                .map(|r| {
                    let b = Bitmap::new(r.size());
                    (r, b)
                })
                .collect(),
            ports: (node_ports, Bitmap::new(node_ports.size() as u64)),
            state: seed,
        }
    }

    fn next_start(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn range_mut(&mut self, family: Family) -> Option<&mut (ServiceRange, Bitmap)> {
        self.ranges.iter_mut().find(|(r, _)| r.family() == family)
    }

    /// Whether `ip` is currently allocated.
    pub fn has_ip(&self, ip: IpAddr) -> bool {
        let ip = canonical_ip(ip);
        self.ranges
            .iter()
            .any(|(r, b)| r.offset_of(ip).map(|o| b.has(o)).unwrap_or(false))
    }
    /// Number of allocated addresses of `family`.
    pub fn used_ips(&self, family: Family) -> u64 {
        self.ranges
            .iter()
            .filter(|(r, _)| r.family() == family)
            .map(|(_, b)| b.count)
            .sum()
    }
    pub fn has_node_port(&self, port: i32) -> bool {
        self.ports.0.contains(port) && self.ports.1.has((port - self.ports.0.base()) as u64)
    }
    pub fn used_node_ports(&self) -> u64 {
        self.ports.1.count
    }
}

impl Allocator for MemoryAllocator {
    fn allocate_ip(&mut self, family: Family, ip: IpAddr) -> Result<(), AllocError> {
        let value = go_ip_string(ip);
        let Some((range, bits)) = self.range_mut(family) else {
            return Err(AllocError::NotInRange {
                what: Resource::Ip,
                value,
                valid: String::new(),
            });
        };
        let Some(off) = range.offset_of(ip) else {
            return Err(AllocError::NotInRange {
                what: Resource::Ip,
                value,
                valid: range.cidr().to_string(),
            });
        };
        if bits.set(off) {
            Ok(())
        } else {
            Err(AllocError::Allocated(Resource::Ip))
        }
    }

    fn allocate_next_ip(&mut self, family: Family) -> Result<IpAddr, AllocError> {
        let start = self.next_start();
        let Some((range, bits)) = self.range_mut(family) else {
            return Err(AllocError::Full);
        };
        if bits.count >= range.size() {
            return Err(AllocError::Full);
        }
        let off = range
            .next_free(start, |o| bits.has(o))
            .ok_or(AllocError::Full)?;
        bits.set(off);
        range.ip_at(off).ok_or(AllocError::Full)
    }

    fn release_ip(&mut self, family: Family, ip: IpAddr) {
        if let Some((range, bits)) = self.range_mut(family) {
            if let Some(off) = range.offset_of(ip) {
                bits.clear(off);
            }
        }
    }

    fn allocate_node_port(&mut self, port: i32) -> Result<(), AllocError> {
        let (range, bits) = &mut self.ports;
        if !range.contains(port) {
            return Err(AllocError::NotInRange {
                what: Resource::Port,
                value: port.to_string(),
                valid: range.to_string(),
            });
        }
        if bits.set((port - range.base()) as u64) {
            Ok(())
        } else {
            Err(AllocError::Allocated(Resource::Port))
        }
    }

    fn allocate_next_node_port(&mut self) -> Result<i32, AllocError> {
        let start = self.next_start();
        let (range, bits) = &mut self.ports;
        if bits.count >= range.size() as u64 {
            return Err(AllocError::Full);
        }
        let off = range
            .next_free(start, |o| bits.has(o))
            .ok_or(AllocError::Full)?;
        bits.set(off);
        Ok(range.base() + off as i32)
    }

    fn release_node_port(&mut self, port: i32) {
        let (range, bits) = &mut self.ports;
        if range.contains(port) {
            bits.clear((port - range.base()) as u64);
        }
    }
}

/// Upstream's dry-run allocation (`dryRun=All`): `ipallocator.Range.DryRun()` and a dry-run
/// `portallocator.PortAllocationOperation`, quirks included:
/// - `allocate_ip` only checks the range (an address in use is accepted);
/// - `allocate_next_ip` returns the range's network address (`r.CIDR().IP`), never `Full`;
/// - `allocate_node_port` fails only if the port is in use (`has_node_port`) or was already
///   taken in this request; the range is not checked;
/// - `allocate_next_node_port` returns 32769, then one more than the highest port taken in this
///   request (upstream's search loop `for port := last+1; port < 100` never runs);
/// - releases do nothing.
///
/// Build one per request from the cluster's ranges and a read-only view of the node ports.
pub struct DryRunAllocator<'a> {
    ranges: Vec<ServiceRange>,
    has_node_port: Box<dyn Fn(i32) -> bool + 'a>,
    ports: Vec<i32>,
}

impl<'a> DryRunAllocator<'a> {
    pub fn new(ranges: &[ServiceRange], has_node_port: impl Fn(i32) -> bool + 'a) -> Self {
        DryRunAllocator {
            ranges: ranges.to_vec(),
            has_node_port: Box::new(has_node_port),
            ports: Vec::new(),
        }
    }
    fn range(&self, family: Family) -> Option<&ServiceRange> {
        self.ranges.iter().find(|r| r.family() == family)
    }
}

impl Allocator for DryRunAllocator<'_> {
    fn allocate_ip(&mut self, family: Family, ip: IpAddr) -> Result<(), AllocError> {
        let value = go_ip_string(ip);
        match self.range(family) {
            Some(r) if r.contains(ip) => Ok(()),
            Some(r) => Err(AllocError::NotInRange {
                what: Resource::Ip,
                value,
                valid: r.cidr().to_string(),
            }),
            None => Err(AllocError::NotInRange {
                what: Resource::Ip,
                value,
                valid: String::new(),
            }),
        }
    }
    fn allocate_next_ip(&mut self, family: Family) -> Result<IpAddr, AllocError> {
        self.range(family)
            .map(|r| r.cidr().network())
            .ok_or(AllocError::Full)
    }
    fn release_ip(&mut self, _family: Family, _ip: IpAddr) {}
    fn allocate_node_port(&mut self, port: i32) -> Result<(), AllocError> {
        if (self.has_node_port)(port) || self.ports.contains(&port) {
            return Err(AllocError::Allocated(Resource::Port));
        }
        self.ports.push(port);
        Ok(())
    }
    fn allocate_next_node_port(&mut self) -> Result<i32, AllocError> {
        let last = self.ports.iter().copied().max().unwrap_or(32768);
        self.ports.push(last + 1);
        Ok(last + 1)
    }
    fn release_node_port(&mut self, _port: i32) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    #[test]
    fn legacy_parser_accepts_what_go_accepts() {
        assert_eq!(
            parse_ip_legacy("010.000.000.001"),
            Some("10.0.0.1".parse().unwrap())
        );
        assert_eq!(parse_ip_legacy("1.2.3.4"), Some("1.2.3.4".parse().unwrap()));
        assert_eq!(
            parse_ip_legacy("2001:db8::1"),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(
            parse_ip_legacy("::ffff:1.2.3.4").map(|i| Family::of_ip(&i)),
            Some(Family::IPv4)
        );
        assert_eq!(parse_ip_legacy("::"), Some("::".parse().unwrap()));
        assert_eq!(
            parse_ip_legacy("::1.2.3.4"),
            Some("::102:304".parse().unwrap())
        );
        assert_eq!(
            parse_ip_legacy("2001:DB8::1"),
            Some("2001:db8::1".parse().unwrap())
        );
        for bad in [
            "",
            "None",
            "1.2.3",
            "1.2.3.4.5",
            "256.1.1.1",
            "1.2.3.4 ",
            "fe80::1%eth0",
            "1::2::3",
            ":1::",
            "1:2:3:4:5:6:7:8::",
            "12345::1",
        ] {
            assert_eq!(parse_ip_legacy(bad), None, "{bad}");
        }
        assert!(is_ipv6_string("2001:db8::1"));
        assert!(!is_ipv6_string("::ffff:10.0.0.1"));
        assert!(is_ipv4_string("::ffff:10.0.0.1"));
        assert_eq!(
            parse_cidr_legacy("10.0.0.1/8").map(|c| c.1.to_string()),
            Some("10.0.0.0/8".into())
        );
        assert_eq!(parse_cidr_legacy("10.0.0.1/33"), None);
        assert_eq!(parse_cidr_legacy("10.0.0.1"), None);
    }

    #[test]
    fn range_arithmetic() {
        let r = ServiceRange::new(net("10.0.0.0/24"));
        assert_eq!((r.size(), r.static_band()), (254, 16));
        assert_eq!(r.ip_at(0), Some("10.0.0.1".parse().unwrap()));
        assert_eq!(r.ip_at(253), Some("10.0.0.254".parse().unwrap()));
        assert!(!r.contains("10.0.0.0".parse().unwrap()));
        assert!(!r.contains("10.0.0.255".parse().unwrap()));
        assert_eq!(r.offset_of("::ffff:10.0.0.5".parse().unwrap()), Some(4));
        let r = ServiceRange::new(net("10.0.0.0/29"));
        assert_eq!((r.size(), r.static_band()), (6, 0));
        let r = ServiceRange::new(net("10.0.0.0/27"));
        assert_eq!((r.size(), r.static_band()), (30, 16));
        let r = ServiceRange::new(net("10.96.0.0/12"));
        assert_eq!((r.size(), r.static_band()), ((1 << 20) - 2, 256));
        let r = ServiceRange::new(net("fd00::/108"));
        assert_eq!((r.size(), r.static_band()), (65535, 256));
        assert_eq!(r.ip_at(65534), Some("fd00::ffff".parse().unwrap()));
        assert!(
            !r.contains("fd00::1:0".parse().unwrap()),
            "IPv6 cap at 65536"
        );
        let r = ServiceRange::new(net("fd00::/120"));
        assert_eq!((r.size(), r.static_band()), (255, 16));
        assert!(r.contains("fd00::ff".parse().unwrap()), "no IPv6 broadcast");
        let r = ServiceRange::new(net("fd00::/64"));
        assert_eq!((r.size(), r.static_band()), (65535, 256));
        assert_eq!(ServiceRange::new(net("10.0.0.1/32")).size(), 0);
        assert_eq!(ServiceRange::new(net("10.0.0.0/31")).size(), 0);
        assert_eq!(ServiceRange::new(net("10.0.0.0/30")).size(), 2);
        let p = NodePortRange::default();
        assert_eq!(
            (p.to_string(), p.static_band()),
            ("30000-32767".to_string(), 86)
        );
    }

    #[test]
    fn scan_order_dynamic_then_static() {
        let r = ServiceRange::new(net("10.0.0.0/27")); // 30 addresses, static band 16
        let mut used = std::collections::BTreeSet::new();
        let mut order = Vec::new();
        while let Some(o) = r.next_free(5, |o| used.contains(&o)) {
            used.insert(o);
            order.push(o);
        }
        assert_eq!(order.len(), 30);
        assert_eq!(
            &order[..14],
            &[21, 22, 23, 24, 25, 26, 27, 28, 29, 16, 17, 18, 19, 20]
        );
        assert_eq!(
            &order[14..],
            &[5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4]
        );
    }

    #[test]
    fn cidr_flag_rules() {
        assert_eq!(validate_service_cidrs(&[net("10.96.0.0/12")]), Ok(()));
        assert_eq!(
            validate_service_cidrs(&[net("10.96.0.0/12"), net("fd00::/108")]),
            Ok(())
        );
        assert_eq!(
            validate_service_cidrs(&[net("10.0.0.0/8")]).unwrap_err(),
            "specified --service-cluster-ip-range is too large; for 32-bit addresses, the mask must be >= 12"
        );
        assert_eq!(
            validate_service_cidrs(&[net("fd00::/64")]).unwrap_err(),
            "specified --service-cluster-ip-range is too large; for 128-bit addresses, the mask must be >= 108"
        );
        assert_eq!(
            validate_service_cidrs(&[net("10.0.0.0/16"), net("11.0.0.0/16")]).unwrap_err(),
            "--service-cluster-ip-range[0] and --service-cluster-ip-range[1] must be of different IP family"
        );
        assert_eq!(
            validate_service_cidrs(&[net("10.0.0.0/16"), net("fd00::/64")]).unwrap_err(),
            "specified --service-cluster-ip-range[1] is too large; for 128-bit addresses, the mask must be >= 108"
        );
        assert_eq!(
            validate_service_cidrs(&[]).unwrap_err(),
            "--service-cluster-ip-range must contain at least one valid cidr"
        );
        assert!(validate_service_cidrs(&[
            net("10.0.0.0/16"),
            net("fd00::/108"),
            net("10.1.0.0/16")
        ])
        .unwrap_err()
        .contains("must not contain more than two entries"));
    }

    fn mem(cidrs: &[&str]) -> MemoryAllocator {
        MemoryAllocator::new(
            cidrs.iter().map(|c| ServiceRange::new(net(c))).collect(),
            NodePortRange::default(),
            7,
        )
    }

    #[test]
    fn memory_allocator_errors_and_reuse() {
        let mut a = mem(&["10.0.0.0/29", "fd00::/120"]);
        // The first address (the kubernetes Service's) is allocatable explicitly.
        a.allocate_ip(Family::IPv4, "10.0.0.1".parse().unwrap())
            .unwrap();
        assert_eq!(
            a.allocate_ip(Family::IPv4, "10.0.0.1".parse().unwrap())
                .unwrap_err()
                .to_string(),
            "provided IP is already allocated"
        );
        assert_eq!(
            a.allocate_ip(Family::IPv4, "10.0.0.7".parse().unwrap()).unwrap_err().to_string(),
            "the provided IP (10.0.0.7) is not in the valid range. The range of valid IPs is 10.0.0.0/29"
        );
        assert_eq!(
            a.allocate_ip(Family::IPv4, "10.0.0.0".parse().unwrap()).unwrap_err().to_string(),
            "the provided IP (10.0.0.0) is not in the valid range. The range of valid IPs is 10.0.0.0/29"
        );
        let mut got = vec!["10.0.0.1".parse::<IpAddr>().unwrap()];
        for _ in 0..5 {
            got.push(a.allocate_next_ip(Family::IPv4).unwrap());
        }
        got.sort();
        let want: Vec<IpAddr> = (1..=6)
            .map(|i| format!("10.0.0.{i}").parse().unwrap())
            .collect();
        assert_eq!(got, want, "a /29 holds exactly 6 addresses");
        assert_eq!(
            a.allocate_next_ip(Family::IPv4).unwrap_err().to_string(),
            "range is full"
        );
        a.release_ip(Family::IPv4, "10.0.0.3".parse().unwrap());
        assert_eq!(
            a.allocate_next_ip(Family::IPv4).unwrap(),
            "10.0.0.3".parse::<IpAddr>().unwrap()
        );
        a.allocate_ip(Family::IPv6, "fd00::ff".parse().unwrap())
            .unwrap();
        assert!(a.has_ip("fd00::ff".parse().unwrap()));
        // node ports
        a.allocate_node_port(30000).unwrap();
        assert_eq!(
            a.allocate_node_port(30000).unwrap_err().to_string(),
            "provided port is already allocated"
        );
        assert_eq!(
            a.allocate_node_port(80).unwrap_err().to_string(),
            "provided port is not in the valid range. The range of valid ports is 30000-32767"
        );
        let p = a.allocate_next_node_port().unwrap();
        assert!((30086..=32767).contains(&p), "dynamic band first: {p}");
        a.release_node_port(p);
        a.release_node_port(30000);
        assert_eq!(a.used_node_ports(), 0);
    }

    #[test]
    fn ipv6_cap() {
        let mut a = mem(&["fd00::/108"]);
        assert_eq!(
            a.allocate_ip(Family::IPv6, "fd00::1:0".parse().unwrap()).unwrap_err().to_string(),
            "the provided IP (fd00::1:0) is not in the valid range. The range of valid IPs is fd00::/108"
        );
        a.allocate_ip(Family::IPv6, "fd00::ffff".parse().unwrap())
            .unwrap();
    }

    proptest! {
        #[test]
        fn never_hands_out_twice(ops in proptest::collection::vec((any::<bool>(), any::<u8>()), 1..200), seed in any::<u64>()) {
            let mut a = MemoryAllocator::new(vec![ServiceRange::new(net("10.0.0.0/27")), ServiceRange::new(net("fd00::/124"))], NodePortRange::new(30000, 30040).unwrap(), seed);
            let mut held: Vec<(Family, IpAddr)> = Vec::new();
            let mut ports: Vec<i32> = Vec::new();
            for (create, pick) in ops {
                let fam = if pick % 2 == 0 { Family::IPv4 } else { Family::IPv6 };
                if create || held.is_empty() {
                    match a.allocate_next_ip(fam) {
                        Ok(ip) => {
                            prop_assert!(!held.contains(&(fam, ip)));
                            held.push((fam, ip));
                        }
                        Err(e) => {
                            prop_assert_eq!(e, AllocError::Full);
                            let cap = if fam == Family::IPv4 { 30 } else { 15 };
                            prop_assert_eq!(held.iter().filter(|h| h.0 == fam).count(), cap);
                        }
                    }
                    if let Ok(p) = a.allocate_next_node_port() {
                        prop_assert!(!ports.contains(&p));
                        ports.push(p);
                    }
                } else {
                    let (f, ip) = held.remove(pick as usize % held.len());
                    a.release_ip(f, ip);
                    if !ports.is_empty() {
                        a.release_node_port(ports.remove(pick as usize % ports.len()));
                    }
                }
            }
            for (f, ip) in held.drain(..) {
                a.release_ip(f, ip);
            }
            for p in ports.drain(..) {
                a.release_node_port(p);
            }
            prop_assert_eq!(a.used_ips(Family::IPv4) + a.used_ips(Family::IPv6) + a.used_node_ports(), 0);
        }
    }
}
