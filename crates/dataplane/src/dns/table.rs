//! The record table: written by the controllers, read by the server on every query.
//!
//! Writers (`replace`, `remove`) take a mutex, rebuild an immutable [`Index`] from every owner's
//! set and publish it with one atomic pointer swap ([`arc_swap::ArcSwap`]). Readers take a
//! snapshot without locking, so a query never waits on a controller and always sees one
//! owner's set either wholly before or wholly after a `replace`.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use hickory_proto::rr::rdata::SOA;
use hickory_proto::rr::{LowerName, Name, RData, Record};

/// TTL of the emulated cloud load balancer names: AWS answers ELB names with TTL 60.
pub const LOAD_BALANCER_TTL: u32 = 60;
/// TTL of cluster names (`*.cluster.local`): CoreDNS's `kubernetes` plugin default (`ttl 5`).
pub const CLUSTER_TTL: u32 = 5;
/// The cluster domain of every runtime (Kyma keeps Kubernetes' default).
pub const CLUSTER_DOMAIN: &str = "cluster.local.";

/// A name given to [`DnsTable::replace`] is not a valid DNS name.
#[derive(Debug, thiserror::Error)]
#[error("invalid DNS name {name:?}: {reason}")]
pub struct InvalidName {
    /// The name as given.
    pub name: String,
    /// Why hickory refused it (a label over 63 octets, a name over 255 octets, ...).
    pub reason: String,
}

/// The addresses one name has, as served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// IPv4 addresses (A records), in the order the owners gave them, without duplicates.
    pub v4: Vec<Ipv4Addr>,
    /// IPv6 addresses (AAAA records): empty for an IPv4-only load balancer.
    pub v6: Vec<Ipv6Addr>,
    /// TTL of the records: [`CLUSTER_TTL`] under [`CLUSTER_DOMAIN`], else [`LOAD_BALANCER_TTL`].
    pub ttl: u32,
    /// The zone the name sits in (for the SOA of negative answers).
    pub(crate) zone: LowerName,
}

/// What a name resolves to in one snapshot of the table.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Found<'a> {
    /// The name has records.
    Name(&'a Entry),
    /// The name exists without records (an empty non-terminal such as `svc.cluster.local`,
    /// or a zone apex): NOERROR with no answer.
    Interior(&'a LowerName),
    /// The name does not exist; the zone that would hold it, if the table serves one.
    Missing(Option<&'a LowerName>),
}

/// One immutable snapshot of every owner's records, merged by name.
#[derive(Debug, Default)]
pub(crate) struct Index {
    names: HashMap<LowerName, Entry>,
    /// Ancestors of served names down to their zone apex, mapped to that zone.
    interior: HashMap<LowerName, LowerName>,
    /// The SOA record of every zone, by apex.
    soas: HashMap<LowerName, Record>,
}

impl Index {
    /// Look a (lower-cased) name up.
    pub(crate) fn find(&self, name: &LowerName) -> Found<'_> {
        if let Some(entry) = self.names.get(name) {
            return Found::Name(entry);
        }
        if let Some(zone) = self.interior.get(name) {
            return Found::Interior(zone);
        }
        // Below a zone we serve? Walk up until a known interior name or apex.
        let mut parent = name.base_name();
        while !parent.is_root() {
            if let Some(zone) = self.interior.get(&parent) {
                return Found::Missing(Some(zone));
            }
            if self.names.contains_key(&parent) {
                // Below a served leaf (e.g. `x.web.shop.svc.cluster.local`): its zone.
                return Found::Missing(self.names.get(&parent).map(|e| &e.zone));
            }
            parent = parent.base_name();
        }
        Found::Missing(None)
    }

    /// The SOA record of a zone served by this snapshot.
    pub(crate) fn soa(&self, zone: &LowerName) -> Option<&Record> {
        self.soas.get(zone)
    }

    /// Number of names with records.
    fn len(&self) -> usize {
        self.names.len()
    }
}

#[derive(Default)]
struct Owners {
    by_owner: HashMap<String, Vec<(LowerName, IpAddr)>>,
    /// Bumped on every change; the SOA serial.
    generation: u32,
}

/// The names the DNS server answers, filled by the controllers.
///
/// One *owner* (a runtime, or any producer with a stable key) owns a set of `(name, address)`
/// pairs; [`replace`](Self::replace) swaps an owner's whole set atomically. Several owners may
/// publish the same name: the server answers the union of their addresses.
///
/// ```
/// use std::net::IpAddr;
/// use twinstack_dataplane::dns::DnsTable;
///
/// let table = DnsTable::new();
/// let v4: IpAddr = "127.0.0.2".parse().unwrap();
/// let v6: IpAddr = "::1".parse().unwrap();
/// table
///     .replace("rt-1", vec![("Web.Shop.svc.cluster.local".into(), v4), ("web.shop.svc.cluster.local.".into(), v6)])
///     .unwrap();
/// let entry = table.lookup("web.shop.svc.cluster.local").unwrap();
/// assert_eq!(entry.v4.len() + entry.v6.len(), 2);
/// assert_eq!(entry.ttl, 5);
/// ```
pub struct DnsTable {
    owners: Mutex<Owners>,
    index: ArcSwap<Index>,
}

impl Default for DnsTable {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for DnsTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DnsTable")
            .field("names", &self.len())
            .finish()
    }
}

impl DnsTable {
    /// An empty table: every name is NXDOMAIN.
    pub fn new() -> Self {
        Self {
            owners: Mutex::new(Owners::default()),
            index: ArcSwap::from_pointee(Index::default()),
        }
    }

    /// Replace every record of `owner` with `records` (an empty vector removes the owner).
    ///
    /// Names are fully qualified, in any case, with or without the trailing dot. The change is
    /// atomic for readers: a query sees the owner's old set or its new set, never a mix. On an
    /// invalid name nothing changes.
    pub fn replace(&self, owner: &str, records: Vec<(String, IpAddr)>) -> Result<(), InvalidName> {
        let mut parsed = Vec::with_capacity(records.len());
        for (name, ip) in records {
            parsed.push((parse_name(&name)?, ip));
        }
        let mut owners = self.owners.lock().unwrap_or_else(|e| e.into_inner());
        if parsed.is_empty() {
            if owners.by_owner.remove(owner).is_none() {
                return Ok(());
            }
        } else {
            owners.by_owner.insert(owner.to_string(), parsed);
        }
        owners.generation = owners.generation.wrapping_add(1);
        self.index.store(Arc::new(build(&owners)));
        Ok(())
    }

    /// Remove every record of `owner` (a deleted runtime).
    pub fn remove(&self, owner: &str) {
        // An empty set never holds an invalid name.
        let _ = self.replace(owner, Vec::new());
    }

    /// The addresses of `name` (any case, trailing dot optional), if it has any.
    pub fn lookup(&self, name: &str) -> Option<Entry> {
        let name = parse_name(name).ok()?;
        self.index.load().names.get(&name).cloned()
    }

    /// Number of names with records.
    pub fn len(&self) -> usize {
        self.index.load().len()
    }

    /// Whether no name has records.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The current snapshot (lock-free).
    pub(crate) fn snapshot(&self) -> arc_swap::Guard<Arc<Index>> {
        self.index.load()
    }
}

fn parse_name(name: &str) -> Result<LowerName, InvalidName> {
    let invalid = |reason: String| InvalidName {
        name: name.to_string(),
        reason,
    };
    if name.trim_end_matches('.').is_empty() {
        return Err(invalid("empty name".into()));
    }
    let mut parsed = Name::from_ascii(name).map_err(|e| invalid(e.to_string()))?;
    parsed.set_fqdn(true);
    Ok(LowerName::new(&parsed))
}

fn cluster_domain() -> LowerName {
    parse_name(CLUSTER_DOMAIN).expect("constant cluster domain")
}

/// The zone a served name sits in: the cluster domain for cluster names, else the name's parent
/// (`elb.eu-central-1.amazonaws.com.` for an NLB name).
fn zone_of(name: &LowerName, cluster: &LowerName) -> LowerName {
    if cluster.zone_of(name) {
        cluster.clone()
    } else {
        name.base_name()
    }
}

fn soa_record(zone: &LowerName, ttl: u32, serial: u32, cluster: &LowerName) -> Record {
    let apex = Name::from(zone);
    // CoreDNS's kubernetes plugin: `ns.dns.cluster.local. hostmaster.cluster.local.`.
    let ns_label = if zone == cluster { "ns.dns" } else { "ns" };
    let mname = Name::from_ascii(ns_label)
        .and_then(|n| n.append_domain(&apex))
        .unwrap_or_else(|_| apex.clone());
    let rname = Name::from_ascii("hostmaster")
        .and_then(|n| n.append_domain(&apex))
        .unwrap_or_else(|_| apex.clone());
    let soa = SOA::new(mname, rname, serial, 7200, 1800, 86400, ttl);
    Record::from_rdata(apex, ttl, RData::SOA(soa))
}

fn build(owners: &Owners) -> Index {
    let cluster = cluster_domain();
    let mut index = Index::default();
    let mut seen: HashSet<(LowerName, IpAddr)> = HashSet::new();
    // Owners in a stable order, so the answer order does not depend on hashing.
    let mut keys: Vec<&String> = owners.by_owner.keys().collect();
    keys.sort();
    for key in keys {
        for (name, ip) in &owners.by_owner[key] {
            if !seen.insert((name.clone(), *ip)) {
                continue;
            }
            let entry = index.names.entry(name.clone()).or_insert_with(|| {
                let zone = zone_of(name, &cluster);
                let ttl = if zone == cluster {
                    CLUSTER_TTL
                } else {
                    LOAD_BALANCER_TTL
                };
                Entry {
                    v4: Vec::new(),
                    v6: Vec::new(),
                    ttl,
                    zone,
                }
            });
            match ip {
                IpAddr::V4(v4) => entry.v4.push(*v4),
                IpAddr::V6(v6) => entry.v6.push(*v6),
            }
        }
    }
    for (name, entry) in &index.names {
        let mut parent = name.base_name();
        while entry.zone.zone_of(&parent) {
            index
                .interior
                .entry(parent.clone())
                .or_insert_with(|| entry.zone.clone());
            if parent == entry.zone {
                break;
            }
            parent = parent.base_name();
        }
        index
            .soas
            .entry(entry.zone.clone())
            .or_insert_with(|| soa_record(&entry.zone, entry.ttl, owners.generation, &cluster));
    }
    // A served name that is also another's ancestor is a name, not an interior node.
    index.interior.retain(|n, _| !index.names.contains_key(n));
    index
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn lower(s: &str) -> LowerName {
        parse_name(s).unwrap()
    }

    const NLB: &str = "k8s-shop-web-0123456789-0123456789abcdef.elb.eu-central-1.amazonaws.com";

    #[test]
    fn names_are_case_insensitive_and_dot_optional() {
        let t = DnsTable::new();
        t.replace("a", vec![(NLB.to_uppercase(), ip("127.0.0.1"))])
            .unwrap();
        assert_eq!(t.lookup(NLB).unwrap().v4, vec![ip4("127.0.0.1")]);
        assert_eq!(t.lookup(&format!("{NLB}.")).unwrap().ttl, 60);
        assert!(t.lookup("other.example").is_none());
    }

    fn ip4(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn replace_is_per_owner_and_owners_merge() {
        let t = DnsTable::new();
        t.replace(
            "a",
            vec![(NLB.into(), ip("127.0.0.1")), (NLB.into(), ip("::1"))],
        )
        .unwrap();
        t.replace(
            "b",
            vec![(NLB.into(), ip("127.0.0.2")), (NLB.into(), ip("127.0.0.1"))],
        )
        .unwrap();
        let e = t.lookup(NLB).unwrap();
        assert_eq!(e.v4, vec![ip4("127.0.0.1"), ip4("127.0.0.2")]);
        assert_eq!(e.v6.len(), 1);
        t.replace("a", vec![(NLB.into(), ip("127.0.0.3"))]).unwrap();
        let e = t.lookup(NLB).unwrap();
        assert_eq!(
            e.v4,
            vec![ip4("127.0.0.3"), ip4("127.0.0.2"), ip4("127.0.0.1")]
        );
        assert!(e.v6.is_empty());
        t.remove("a");
        t.remove("b");
        assert!(t.is_empty());
    }

    #[test]
    fn invalid_name_changes_nothing() {
        let t = DnsTable::new();
        t.replace("a", vec![(NLB.into(), ip("127.0.0.1"))]).unwrap();
        let long = format!("{}.example.com", "x".repeat(64));
        let err = t
            .replace(
                "a",
                vec![
                    ("ok.example.com".into(), ip("127.0.0.1")),
                    (long, ip("127.0.0.1")),
                ],
            )
            .unwrap_err();
        assert!(err.to_string().starts_with("invalid DNS name"), "{err}");
        assert!(t.lookup(NLB).is_some());
        assert!(t.replace("a", vec![(".".into(), ip("127.0.0.1"))]).is_err());
    }

    #[test]
    fn cluster_names_interior_and_missing() {
        let t = DnsTable::new();
        t.replace(
            "rt",
            vec![("web.shop.svc.cluster.local".into(), ip("10.0.0.1"))],
        )
        .unwrap();
        let idx = t.snapshot();
        let cluster = lower("cluster.local");
        assert!(
            matches!(idx.find(&lower("WEB.shop.svc.cluster.local")), Found::Name(e) if e.ttl == CLUSTER_TTL)
        );
        assert_eq!(
            idx.find(&lower("shop.svc.cluster.local")),
            Found::Interior(&cluster)
        );
        assert_eq!(idx.find(&lower("cluster.local")), Found::Interior(&cluster));
        assert_eq!(
            idx.find(&lower("db.shop.svc.cluster.local")),
            Found::Missing(Some(&cluster))
        );
        assert_eq!(idx.find(&lower("local")), Found::Missing(None));
        assert_eq!(idx.find(&lower("example.org")), Found::Missing(None));
        let soa = idx.soa(&cluster).unwrap();
        assert_eq!(soa.ttl, CLUSTER_TTL);
        assert_eq!(soa.name.to_string(), "cluster.local.");
    }

    #[test]
    fn load_balancer_zone_is_the_parent() {
        let t = DnsTable::new();
        t.replace("rt", vec![(NLB.into(), ip("127.0.0.1"))])
            .unwrap();
        let idx = t.snapshot();
        let zone = lower("elb.eu-central-1.amazonaws.com");
        assert_eq!(idx.find(&zone), Found::Interior(&zone));
        assert_eq!(
            idx.find(&lower("nope.elb.eu-central-1.amazonaws.com")),
            Found::Missing(Some(&zone))
        );
        assert_eq!(idx.find(&lower("amazonaws.com")), Found::Missing(None));
        assert_eq!(idx.soa(&zone).unwrap().ttl, LOAD_BALANCER_TTL);
    }
}
