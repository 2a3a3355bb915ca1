//! Per-node pod address allocation, the way the CNI's IPAM hands out pod IPs inside a node's
//! `spec.podCIDRs` (one range per family).
//!
//! Reserved addresses (the choice, written down): Kyma's Gardener shoots run Calico with the
//! `host-local` IPAM on the node's pod CIDR (`usePodCidr`), for IPv6 too (AWS prefix-delegated
//! /80, GCP /112). host-local's range defaults (containernetworking/plugins
//! `plugins/ipam/host-local/backend/allocator/range.go`): `rangeStart` = network + 1,
//! `gateway` = network + 1 and never handed out, `rangeEnd` = last address, minus the
//! broadcast for IPv4. So the network address, the first address (gateway) and the IPv4
//! broadcast are never allocated; the first pod of a /24 gets `.2`. Allocation is next-fit
//! round-robin from the last address handed out (host-local's `lastReservedIP`), so a released
//! address is not reused at once. (AWS VPC CNI, not used by Gardener, would instead skip the
//! VPC-reserved first four and last address of a subnet.)
//!
//! Errors carry host-local's texts (`no IP addresses available in range set: <start>-<end>`).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use ipnet::IpNet;
use twinstack_core::ipam::Family;

/// One node pod CIDR with host-local's usable window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodRange {
    cidr: IpNet,
}

impl PodRange {
    pub fn new(cidr: IpNet) -> PodRange {
        PodRange { cidr: cidr.trunc() }
    }
    pub fn cidr(&self) -> IpNet {
        self.cidr
    }
    pub fn family(&self) -> Family {
        Family::of_net(&self.cidr)
    }
    /// Number of addresses in the CIDR (saturating at `u128::MAX` for a /0 IPv6 range).
    pub fn size(&self) -> u128 {
        let host_bits = (self.cidr.max_prefix_len() - self.cidr.prefix_len()) as u32;
        1u128.checked_shl(host_bits).unwrap_or(u128::MAX)
    }
    /// First allocatable offset: network + 2 (network + 1 is the gateway).
    pub fn first(&self) -> u128 {
        2
    }
    /// Last allocatable offset (inclusive): the last address, minus the IPv4 broadcast.
    pub fn last(&self) -> u128 {
        let last = self.size() - 1;
        if self.family() == Family::IPv4 {
            last.saturating_sub(1)
        } else {
            last
        }
    }
    /// Number of addresses pods can get.
    pub fn capacity(&self) -> u128 {
        if self.last() < self.first() {
            0
        } else {
            self.last() - self.first() + 1
        }
    }
    pub fn ip_at(&self, offset: u128) -> Option<IpAddr> {
        if offset >= self.size() {
            return None;
        }
        Some(match self.cidr {
            IpNet::V4(n) => IpAddr::V4((u32::from(n.network()) + offset as u32).into()),
            IpNet::V6(n) => IpAddr::V6((u128::from(n.network()) + offset).into()),
        })
    }
    pub fn offset_of(&self, ip: IpAddr) -> Option<u128> {
        if !self.cidr.contains(&ip) {
            return None;
        }
        Some(match (self.cidr, ip) {
            (IpNet::V4(n), IpAddr::V4(a)) => (u32::from(a) - u32::from(n.network())) as u128,
            (IpNet::V6(n), IpAddr::V6(a)) => u128::from(a) - u128::from(n.network()),
            _ => return None,
        })
    }
    /// Whether pods may get `ip` (inside the window, not network/gateway/broadcast).
    pub fn allocatable(&self, ip: IpAddr) -> bool {
        self.offset_of(ip)
            .is_some_and(|o| o >= self.first() && o <= self.last())
    }
    /// host-local's range set text: `<rangeStart>-<rangeEnd>` (rangeStart = network + 1).
    pub fn range_string(&self) -> String {
        format!(
            "{}-{}",
            self.ip_at(1).map(|i| i.to_string()).unwrap_or_default(),
            self.ip_at(self.last())
                .map(|i| i.to_string())
                .unwrap_or_default()
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PodIpError {
    #[error("node {node:?} has no {family} pod CIDR")]
    NoRange { node: String, family: Family },
    #[error("no IP addresses available in range set: {0}")]
    Full(String),
    #[error("requested IP address {ip} is not available in range set {range}")]
    Unavailable { ip: IpAddr, range: String },
}

/// The allocation state the pod controller works against; [`MemoryPodAllocator`] keeps it
/// in memory, a store-backed one keeps one key per address. Contract: `allocate_next` returns
/// an address of `family` inside the node's pod CIDR of that family that is not held, or an
/// error; `allocate` reserves exactly `ip` (used to rebuild state from existing pods);
/// `release` of an address not held is a no-op.
pub trait PodAllocator {
    fn allocate_next(&mut self, node: &str, family: Family) -> Result<IpAddr, PodIpError>;
    fn allocate(&mut self, node: &str, ip: IpAddr) -> Result<(), PodIpError>;
    fn release(&mut self, node: &str, ip: IpAddr);
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct NodePool {
    range: PodRange,
    used: BTreeSet<u128>,
    last: u128,
}

/// In-memory [`PodAllocator`]: per node, one pool per pod CIDR.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryPodAllocator {
    nodes: BTreeMap<String, Vec<NodePool>>,
}

impl MemoryPodAllocator {
    pub fn new() -> Self {
        Self::default()
    }
    /// Registers (or replaces) a node's pod CIDRs (`spec.podCIDRs`), keeping held addresses
    /// that still fit.
    pub fn set_node(&mut self, node: &str, pod_cidrs: &[IpNet]) {
        let old = self.nodes.remove(node).unwrap_or_default();
        let pools = pod_cidrs
            .iter()
            .map(|c| {
                let range = PodRange::new(*c);
                let mut pool = NodePool {
                    last: range.first() - 1,
                    range,
                    used: BTreeSet::new(),
                };
                for o in &old {
                    for off in &o.used {
                        if let Some(ip) = o.range.ip_at(*off) {
                            if pool.range.allocatable(ip) {
                                pool.used
                                    .insert(pool.range.offset_of(ip).unwrap_or_default());
                            }
                        }
                    }
                }
                pool
            })
            .collect();
        self.nodes.insert(node.to_string(), pools);
    }
    pub fn remove_node(&mut self, node: &str) {
        self.nodes.remove(node);
    }
    /// Number of addresses of `family` held on `node`.
    pub fn used(&self, node: &str, family: Family) -> usize {
        self.nodes
            .get(node)
            .into_iter()
            .flatten()
            .filter(|p| p.range.family() == family)
            .map(|p| p.used.len())
            .sum()
    }
    pub fn holds(&self, node: &str, ip: IpAddr) -> bool {
        self.nodes
            .get(node)
            .into_iter()
            .flatten()
            .any(|p| p.range.offset_of(ip).is_some_and(|o| p.used.contains(&o)))
    }
    fn pool_mut(&mut self, node: &str, family: Family) -> Result<&mut NodePool, PodIpError> {
        self.nodes
            .get_mut(node)
            .and_then(|ps| ps.iter_mut().find(|p| p.range.family() == family))
            .ok_or_else(|| PodIpError::NoRange {
                node: node.to_string(),
                family,
            })
    }
}

impl PodAllocator for MemoryPodAllocator {
    fn allocate_next(&mut self, node: &str, family: Family) -> Result<IpAddr, PodIpError> {
        let pool = self.pool_mut(node, family)?;
        let (first, last) = (pool.range.first(), pool.range.last());
        if pool.range.capacity() == 0 || pool.used.len() as u128 >= pool.range.capacity() {
            return Err(PodIpError::Full(pool.range.range_string()));
        }
        // Next fit after the last handed-out address, wrapping once around the window.
        let mut cand = if pool.last >= last {
            first
        } else {
            pool.last + 1
        };
        loop {
            if !pool.used.contains(&cand) {
                break;
            }
            cand = if cand >= last { first } else { cand + 1 };
        }
        pool.used.insert(cand);
        pool.last = cand;
        pool.range
            .ip_at(cand)
            .ok_or_else(|| PodIpError::Full(pool.range.range_string()))
    }

    fn allocate(&mut self, node: &str, ip: IpAddr) -> Result<(), PodIpError> {
        let pool = self.pool_mut(node, Family::of_ip(&ip))?;
        if !pool.range.allocatable(ip) {
            return Err(PodIpError::Unavailable {
                ip,
                range: pool.range.range_string(),
            });
        }
        let off = pool.range.offset_of(ip).unwrap_or_default();
        if !pool.used.insert(off) {
            return Err(PodIpError::Unavailable {
                ip,
                range: pool.range.range_string(),
            });
        }
        Ok(())
    }

    fn release(&mut self, node: &str, ip: IpAddr) {
        if let Ok(pool) = self.pool_mut(node, Family::of_ip(&ip)) {
            if let Some(off) = pool.range.offset_of(ip) {
                pool.used.remove(&off);
            }
        }
    }
}

/// One address per family in `families` order (the pod's `podIPs`, primary first). On
/// failure nothing stays allocated.
pub fn allocate_pod_ips(
    alloc: &mut dyn PodAllocator,
    node: &str,
    families: &[Family],
) -> Result<Vec<IpAddr>, PodIpError> {
    let mut got = Vec::new();
    for f in families {
        match alloc.allocate_next(node, *f) {
            Ok(ip) => got.push(ip),
            Err(e) => {
                for ip in got {
                    alloc.release(node, ip);
                }
                return Err(e);
            }
        }
    }
    Ok(got)
}

/// Releases every address of a pod.
pub fn release_pod_ips(alloc: &mut dyn PodAllocator, node: &str, ips: &[IpAddr]) {
    for ip in ips {
        alloc.release(node, *ip);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn alloc(cidrs: &[&str]) -> MemoryPodAllocator {
        let mut a = MemoryPodAllocator::new();
        let nets: Vec<IpNet> = cidrs.iter().map(|c| c.parse().unwrap()).collect();
        a.set_node("n1", &nets);
        a
    }

    #[test]
    fn host_local_window_and_round_robin() {
        let mut a = alloc(&["10.96.0.0/24", "2a05:d014:1:2:1::/80"]);
        let got = allocate_pod_ips(&mut a, "n1", &[Family::IPv4, Family::IPv6]).unwrap();
        assert_eq!(got[0].to_string(), "10.96.0.2");
        assert_eq!(got[1].to_string(), "2a05:d014:1:2:1::2");
        let next = a.allocate_next("n1", Family::IPv4).unwrap();
        assert_eq!(next.to_string(), "10.96.0.3");
        // Released addresses are not reused at once (next fit).
        a.release("n1", got[0]);
        assert_eq!(
            a.allocate_next("n1", Family::IPv4).unwrap().to_string(),
            "10.96.0.4"
        );
        assert_eq!(a.used("n1", Family::IPv4), 2);
        // IPv6-primary order is the caller's.
        let v6first = allocate_pod_ips(&mut a, "n1", &[Family::IPv6, Family::IPv4]).unwrap();
        assert!(v6first[0].is_ipv6() && v6first[1].is_ipv4());
    }

    #[test]
    fn full_range_and_errors() {
        let mut a = alloc(&["10.96.0.0/29"]);
        let got: Vec<String> = (0..5)
            .map(|_| a.allocate_next("n1", Family::IPv4).unwrap().to_string())
            .collect();
        assert_eq!(
            got,
            [
                "10.96.0.2",
                "10.96.0.3",
                "10.96.0.4",
                "10.96.0.5",
                "10.96.0.6"
            ]
        );
        assert_eq!(
            a.allocate_next("n1", Family::IPv4).unwrap_err().to_string(),
            "no IP addresses available in range set: 10.96.0.1-10.96.0.6"
        );
        a.release("n1", "10.96.0.4".parse().unwrap());
        assert_eq!(
            a.allocate_next("n1", Family::IPv4).unwrap().to_string(),
            "10.96.0.4"
        );
        assert_eq!(
            a.allocate_next("n1", Family::IPv6).unwrap_err().to_string(),
            "node \"n1\" has no IPv6 pod CIDR"
        );
        assert_eq!(
            a.allocate("n1", "10.96.0.1".parse().unwrap())
                .unwrap_err()
                .to_string(),
            "requested IP address 10.96.0.1 is not available in range set 10.96.0.1-10.96.0.6"
        );
        // All-or-nothing: the IPv4 address is given back when IPv6 fails.
        let mut b = alloc(&["10.96.1.0/24"]);
        assert!(allocate_pod_ips(&mut b, "n1", &[Family::IPv4, Family::IPv6]).is_err());
        assert_eq!(b.used("n1", Family::IPv4), 0);
        // Restoring state from existing pods.
        b.allocate("n1", "10.96.1.2".parse().unwrap()).unwrap();
        assert!(b.holds("n1", "10.96.1.2".parse().unwrap()));
        assert!(b.allocate("n1", "10.96.1.2".parse().unwrap()).is_err());
        assert_eq!(
            b.allocate_next("n1", Family::IPv4).unwrap().to_string(),
            "10.96.1.3"
        );
    }

    proptest! {
        #[test]
        fn never_twice_and_inside_the_cidrs(
            ops in proptest::collection::vec((any::<bool>(), any::<bool>(), any::<u8>()), 1..400),
            v4_prefix in 26u8..30,
        ) {
            let v4: IpNet = format!("10.96.4.0/{v4_prefix}").parse().unwrap();
            let v6: IpNet = "fd00:1::/120".parse().unwrap();
            let mut a = MemoryPodAllocator::new();
            a.set_node("n1", &[v4, v6]);
            let ranges = [PodRange::new(v4), PodRange::new(v6)];
            let mut held: Vec<IpAddr> = Vec::new();
            for (alloc_op, v6_op, pick) in ops {
                let fam = if v6_op { Family::IPv6 } else { Family::IPv4 };
                if alloc_op || held.is_empty() {
                    match a.allocate_next("n1", fam) {
                        Ok(ip) => {
                            prop_assert!(!held.contains(&ip), "{ip} handed out twice");
                            prop_assert!(ranges.iter().any(|r| r.allocatable(ip)));
                            prop_assert_eq!(Family::of_ip(&ip), fam);
                            held.push(ip);
                        }
                        Err(PodIpError::Full(_)) => {
                            let cap = ranges.iter().find(|r| r.family() == fam).unwrap().capacity();
                            let n = held.iter().filter(|i| Family::of_ip(i) == fam).count() as u128;
                            prop_assert_eq!(n, cap);
                        }
                        Err(e) => prop_assert!(false, "{e}"),
                    }
                } else {
                    let ip = held.remove(pick as usize % held.len());
                    a.release("n1", ip);
                }
            }
        }
    }
}
