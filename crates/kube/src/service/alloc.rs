//! The BeginCreate / BeginUpdate hooks (`storage.go`) and allocation (`alloc.go`).

use super::defaults::{default_on_read, normalize_create};
use super::validation::validate_cluster_ips_related_fields;
use super::*;
use std::net::IpAddr;
use twinstack_core::field::{BadValue, FieldError, Path};
use twinstack_core::ipam::{parse_ip_legacy, Allocator, Family};

fn policy_value(svc: &Service) -> BadValue {
    match policy(svc) {
        Some(p) => BadValue::str(p),
        // apimachinery renders a nil pointer as the Go string "null" (quoted).
        None => BadValue::str("null"),
    }
}

fn ips_value(svc: &Service) -> BadValue {
    let ips = cluster_ips(svc);
    if spec(svc).cluster_ips.is_none() {
        BadValue::StrList(None)
    } else {
        BadValue::list(ips)
    }
}

/// Changes made by one hook call, undone on failure and committed at the end.
#[derive(Default)]
struct Txn {
    ips: Vec<(Family, IpAddr)>,
    ports: Vec<i32>,
    release_ips: Vec<(Family, String)>,
    release_ports: Vec<i32>,
}

impl Txn {
    fn revert(&mut self, alloc: &mut dyn Allocator) {
        for (f, ip) in self.ips.drain(..) {
            alloc.release_ip(f, ip);
        }
        for p in self.ports.drain(..) {
            alloc.release_node_port(p);
        }
    }
    fn commit(&mut self, cfg: &ClusterConfig, alloc: &mut dyn Allocator) {
        for (f, ip) in self.release_ips.drain(..) {
            // Not configured any more (cluster went single-stack): upstream only logs.
            if !cfg.has_family(f) {
                continue;
            }
            if let Some(addr) = parse_ip_legacy(&ip) {
                alloc.release_ip(f, addr);
            }
        }
        for p in self.release_ports.drain(..) {
            alloc.release_node_port(p);
        }
    }
    fn alloc_port(
        &mut self,
        alloc: &mut dyn Allocator,
        port: i32,
    ) -> Result<(), twinstack_core::ipam::AllocError> {
        alloc.allocate_node_port(port)?;
        self.ports.push(port);
        Ok(())
    }
    fn alloc_next_port(
        &mut self,
        alloc: &mut dyn Allocator,
    ) -> Result<i32, twinstack_core::ipam::AllocError> {
        let p = alloc.allocate_next_node_port()?;
        self.ports.push(p);
        Ok(p)
    }
}

/// `beginCreate`: `normalizeClusterIPs`, then `allocateCreate` (`initIPFamilyFields`, cluster
/// IPs, node ports, health-check node port). On error nothing stays allocated.
pub fn begin_create(
    svc: &mut Service,
    cfg: &ClusterConfig,
    alloc: &mut dyn Allocator,
) -> Result<(), ServiceError> {
    normalize_create(svc);
    init_ip_family_fields(svc, None, cfg)?;
    let mut txn = Txn::default();
    let res = alloc_cluster_ips(svc, cfg, alloc, &mut txn)
        .and_then(|_| alloc_node_ports_create(svc, alloc, &mut txn));
    if let Err(e) = res {
        txn.revert(alloc);
        return Err(e);
    }
    Ok(())
}

/// `beginUpdate`: `defaultOnRead(old)` (on a copy), `patchAllocatedValues`,
/// `normalizeClusterIPs`, then `allocateUpdate` (`initIPFamilyFields(new, old)`,
/// `updateClusterIPs`, node ports). Releases are applied at the end, after everything
/// succeeded; on error nothing changed in the allocator.
pub fn begin_update(
    new: &mut Service,
    old: &Service,
    cfg: &ClusterConfig,
    alloc: &mut dyn Allocator,
) -> Result<(), ServiceError> {
    let mut old = old.clone();
    default_on_read(&mut old, cfg);
    patch_allocated_values(new, &old);
    normalize_update(new, &old);
    init_ip_family_fields(new, Some(&old), cfg)?;
    let mut txn = Txn::default();
    let res = update_cluster_ips(new, &old, cfg, alloc, &mut txn)
        .and_then(|_| update_node_ports(new, &old, alloc, &mut txn));
    if let Err(e) = res {
        txn.revert(alloc);
        return Err(e);
    }
    txn.commit(cfg, alloc);
    Ok(())
}

/// Delete (`releaseAllocatedResources`): cluster IPs (family from each IP; families no longer
/// configured are skipped), every non-zero node port, and the health-check node port when the
/// Service needs one.
pub fn release(old: &Service, cfg: &ClusterConfig, alloc: &mut dyn Allocator) {
    // afterDelete runs defaultOnReadService first (legacy objects without clusterIPs).
    let mut old = old.clone();
    default_on_read(&mut old, cfg);
    let old = &old;
    if needs_cluster_ip(old) && !is_headless_alloc(old) {
        // Go collects into a map keyed by family: the last IP of a family wins.
        let mut by_family: Vec<(Family, String)> = Vec::new();
        for ip in cluster_ips(old) {
            let f = if twinstack_core::ipam::is_ipv6_string(ip) {
                Family::IPv6
            } else {
                Family::IPv4
            };
            by_family.retain(|(g, _)| *g != f);
            by_family.push((f, ip.clone()));
        }
        for (f, ip) in by_family {
            if !cfg.has_family(f) {
                continue;
            }
            if let Some(addr) = parse_ip_legacy(&ip) {
                alloc.release_ip(f, addr);
            }
        }
    }
    for p in ports(old) {
        if node_port_of(p) != 0 {
            alloc.release_node_port(node_port_of(p));
        }
    }
    if needs_health_check(old) && hc_node_port(old) > 0 {
        alloc.release_node_port(hc_node_port(old));
    }
}

/// `normalizeClusterIPs(new, old)` for updates.
pub(crate) fn normalize_update(new: &mut Service, old: &Service) {
    if !cluster_ips(old).is_empty()
        && cluster_ips(new).is_empty()
        && cluster_ip(old) == cluster_ip(new)
    {
        set_cluster_ips(new, cluster_ips(old).to_vec());
    }
    if cluster_ip(old) != cluster_ip(new) {
        let same = cluster_ips(old) == cluster_ips(new);
        if !cluster_ip(old).is_empty() && cluster_ip(new).is_empty() {
            if same {
                set_cluster_ips(new, vec![]);
            }
        } else if same {
            let ip = cluster_ip(new).to_string();
            set_cluster_ips(new, vec![ip]);
        }
    }
}

/// `patchAllocatedValues`: keep allocated values a client did not send back.
pub(crate) fn patch_allocated_values(new: &mut Service, old: &Service) {
    if needs_cluster_ip(old) && needs_cluster_ip(new) {
        if cluster_ip(new).is_empty() {
            let ip = cluster_ip(old).to_string();
            set_cluster_ip(new, &ip);
        }
        if cluster_ips(new).is_empty() && !cluster_ips(old).is_empty() {
            set_cluster_ips(new, cluster_ips(old).to_vec());
        }
    }
    if needs_node_port(old) && needs_node_port(new) {
        let used_by = |s: &Service| -> Vec<i32> {
            ports(s)
                .iter()
                .map(node_port_of)
                .filter(|p| *p != 0)
                .collect()
        };
        let old_used = used_by(old);
        let used: Vec<i32> = used_by(new)
            .into_iter()
            .filter(|p| old_used.contains(p))
            .collect();
        // Map node ports by port name (the last one of a name wins, as with a Go map).
        let mut by_name: Vec<(String, i32)> = Vec::new();
        for p in ports(old) {
            let name = p.name.clone().unwrap_or_default();
            by_name.retain(|(n, _)| *n != name);
            by_name.push((name, node_port_of(p)));
        }
        if let Some(new_ports) = spec_mut(new).ports.as_mut() {
            for p in new_ports.iter_mut() {
                if node_port_of(p) == 0 {
                    let name = p.name.clone().unwrap_or_default();
                    let old_val = by_name
                        .iter()
                        .find(|(n, _)| *n == name)
                        .map(|(_, v)| *v)
                        .unwrap_or(0);
                    if !used.contains(&old_val) && old_val != 0 {
                        p.node_port = Some(old_val);
                    }
                }
            }
        }
    }
    if needs_health_check(old) && needs_health_check(new) && hc_node_port(new) == 0 {
        let v = hc_node_port(old);
        spec_mut(new).health_check_node_port = if v == 0 { None } else { Some(v) };
    }
}

/// `isMatchingPreferDualStackClusterIPFields`.
fn is_matching_prefer_dual_stack(new: &Service, old: Option<&Service>) -> bool {
    let Some(old) = old else { return false };
    let Some(p) = policy(new) else { return false };
    if svc_type(old) != svc_type(new) {
        return false;
    }
    if !matches!(svc_type(new), CLUSTER_IP | NODE_PORT | LOAD_BALANCER) {
        return false;
    }
    if p != PREFER {
        return false;
    }
    if policy(old).is_some_and(|op| op != PREFER) {
        return false;
    }
    cluster_ips(old) == cluster_ips(new) && ip_families(old) == ip_families(new)
}

/// `initIPFamilyFields(after, before)`: defaults the policy and families and checks them
/// against the cluster. See the reference §5 for the step list.
pub(crate) fn init_ip_family_fields(
    svc: &mut Service,
    old: Option<&Service>,
    cfg: &ClusterConfig,
) -> Result<(), ServiceError> {
    if svc_type(svc) == EXTERNAL_NAME {
        return Ok(());
    }
    if is_matching_prefer_dual_stack(svc, old) {
        return Ok(());
    }
    if policy(svc).is_none() {
        if let Some(op) = old.and_then(policy) {
            let op = op.to_string();
            set_policy(svc, Some(&op));
        } else if cluster_ip(svc) == NONE && selector_is_empty(svc) {
            set_policy(svc, Some(REQUIRE));
        } else {
            set_policy(svc, Some(SINGLE));
        }
    }
    let loose = validate_cluster_ips_related_fields(svc);
    if !loose.is_empty() {
        return Err(ServiceError::Invalid(loose));
    }
    let pol_path = Path::new("spec").child("ipFamilyPolicy");
    let mut el: Vec<FieldError> = Vec::new();
    let is_single = policy(svc) == Some(SINGLE);
    if let Some(old) = old {
        if is_single {
            if cluster_ips(old) == cluster_ips(svc) && cluster_ips(svc).len() > 1 {
                let first = cluster_ips(svc)[0].clone();
                set_cluster_ips(svc, vec![first]);
            }
            if ip_families(old) == ip_families(svc) && ip_families(svc).len() > 1 {
                let first = ip_families(svc)[0].clone();
                set_ip_families(svc, vec![first]);
            }
        } else {
            if !cluster_ips(svc).is_empty() && cluster_ips(svc).len() < cluster_ips(old).len() {
                el.push(FieldError::invalid(
                    &pol_path,
                    policy_value(svc),
                    "must be 'SingleStack' to release the secondary cluster IP",
                ));
            }
            if !ip_families(svc).is_empty() && ip_families(svc).len() < ip_families(old).len() {
                el.push(FieldError::invalid(
                    &pol_path,
                    policy_value(svc),
                    "must be 'SingleStack' to release the secondary IP family",
                ));
            }
        }
    }
    if is_single {
        if cluster_ips(svc).len() == 2 {
            el.push(FieldError::invalid(
                &pol_path,
                policy_value(svc),
                "must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified",
            ));
        }
        if ip_families(svc).len() == 2 {
            el.push(FieldError::invalid(
                &pol_path,
                policy_value(svc),
                "must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified",
            ));
        }
    }
    let ips: Vec<String> = cluster_ips(svc).to_vec();
    for (i, ip) in ips.iter().enumerate() {
        if ip == NONE {
            break;
        }
        if i >= ip_families(svc).len() {
            let fam = family_of_str(ip);
            match fam {
                Some(f) if cfg.has_family(f) => {
                    let mut fams = ip_families(svc).to_vec();
                    fams.push(f.as_str().into());
                    set_ip_families(svc, fams);
                }
                _ => {
                    let name = fam.map(|f| f.as_str()).unwrap_or("unknown");
                    el.push(FieldError::invalid(
                        &Path::new("spec").child("clusterIPs").index(i),
                        ips_value(svc),
                        format!("{name} is not configured on this cluster"),
                    ));
                }
            }
        }
    }
    if !el.is_empty() {
        return Err(ServiceError::Invalid(el));
    }
    if cluster_ip(svc) == NONE && selector_is_empty(svc) {
        if ip_families(svc).is_empty() {
            set_ip_families(svc, vec![cfg.primary().as_str().into()]);
        }
        if ip_families(svc).len() < 2 && policy(svc) != Some(SINGLE) {
            let other = if ip_families(svc)[0] == "IPv4" {
                "IPv6"
            } else {
                "IPv4"
            };
            let mut fams = ip_families(svc).to_vec();
            fams.push(other.into());
            set_ip_families(svc, fams);
        }
        return Ok(());
    }
    if policy(svc) == Some(REQUIRE) && !cfg.is_dual_stack() {
        el.push(FieldError::invalid(
            &pol_path,
            policy_value(svc),
            "this cluster is not configured for dual-stack services",
        ));
    }
    for (i, f) in ip_families(svc).iter().enumerate() {
        if !cfg.has_family_str(f) {
            el.push(FieldError::invalid(
                &Path::new("spec").child("ipFamilies").index(i),
                BadValue::str(f),
                "not configured on this cluster",
            ));
        }
    }
    if !el.is_empty() {
        return Err(ServiceError::Invalid(el));
    }
    if ip_families(svc).is_empty() {
        set_ip_families(svc, vec![cfg.primary().as_str().into()]);
    }
    if policy(svc) != Some(SINGLE) && ip_families(svc).len() == 1 && cfg.is_dual_stack() {
        let other = match ip_families(svc)[0].as_str() {
            "IPv4" => Some("IPv6"),
            "IPv6" => Some("IPv4"),
            _ => None,
        };
        if let Some(o) = other {
            let mut fams = ip_families(svc).to_vec();
            fams.push(o.into());
            set_ip_families(svc, fams);
        }
    }
    Ok(())
}

/// `allocIPs` for the given (family, requested ip or "") pairs, in `ipFamilies` order.
/// (Upstream iterates a Go map, so with two failing families which error is reported is
/// random; we take the `ipFamilies` order.)
fn alloc_ips(
    svc: &Service,
    to_alloc: &[(Family, String)],
    alloc: &mut dyn Allocator,
    txn: &mut Txn,
) -> Result<Vec<(Family, String)>, ServiceError> {
    let mut out = Vec::new();
    for (f, ip) in to_alloc {
        if ip.is_empty() {
            match alloc.allocate_next_ip(*f) {
                Ok(a) => {
                    txn.ips.push((*f, a));
                    out.push((*f, a.to_string()));
                }
                Err(e) => {
                    return Err(ServiceError::Internal(format!(
                        "failed to allocate a serviceIP: {e}"
                    )))
                }
            }
        } else {
            let Some(addr) = parse_ip_legacy(ip) else {
                return Err(ServiceError::Internal(format!(
                    "failed to parse service IP {}",
                    twinstack_core::field::go_quote(ip)
                )));
            };
            if let Err(e) = alloc.allocate_ip(*f, addr) {
                return Err(ServiceError::Invalid(vec![FieldError::invalid(
                    &Path::new("spec").child("clusterIPs"),
                    ips_value(svc),
                    format!("failed to allocate IP {ip}: {e}"),
                )]));
            }
            txn.ips.push((*f, addr));
            out.push((*f, ip.clone()));
        }
    }
    Ok(out)
}

/// `allocClusterIPs`.
fn alloc_cluster_ips(
    svc: &mut Service,
    _cfg: &ClusterConfig,
    alloc: &mut dyn Allocator,
    txn: &mut Txn,
) -> Result<(), ServiceError> {
    if svc_type(svc) == EXTERNAL_NAME || is_headless_alloc(svc) {
        return Ok(());
    }
    let fams: Vec<Family> = ip_families(svc)
        .iter()
        .filter_map(|f| f.parse().ok())
        .collect();
    let mut ips = cluster_ips(svc).to_vec();
    let mut to_alloc = Vec::new();
    for (i, f) in fams.iter().enumerate() {
        if i >= ips.len() {
            ips.push(String::new());
        }
        to_alloc.push((*f, ips[i].clone()));
    }
    // The "" markers are visible in an error's value, as upstream.
    spec_mut(svc).cluster_ips = Some(ips.clone());
    let allocated = alloc_ips(svc, &to_alloc, alloc, txn)?;
    for (f, ip) in allocated {
        if let Some(i) = fams.iter().position(|g| *g == f) {
            ips[i] = ip.clone();
            if i == 0 {
                set_cluster_ip(svc, &ip);
            }
        }
    }
    set_cluster_ips(svc, ips);
    Ok(())
}

/// `updateClusterIPs` (cases A–D).
fn update_cluster_ips(
    svc: &mut Service,
    old: &Service,
    cfg: &ClusterConfig,
    alloc: &mut dyn Allocator,
    txn: &mut Txn,
) -> Result<(), ServiceError> {
    if is_matching_prefer_dual_stack(svc, Some(old)) {
        return Ok(());
    }
    if svc_type(old) == EXTERNAL_NAME && svc_type(svc) != EXTERNAL_NAME {
        return alloc_cluster_ips(svc, cfg, alloc, txn);
    }
    if is_headless_alloc(old) {
        return Ok(());
    }
    if svc_type(old) != EXTERNAL_NAME && svc_type(svc) == EXTERNAL_NAME {
        for (i, f) in ip_families(old).iter().enumerate() {
            if let (Ok(f), Some(ip)) = (f.parse::<Family>(), cluster_ips(old).get(i)) {
                txn.release_ips.retain(|(g, _)| *g != f);
                txn.release_ips.push((f, ip.clone()));
            }
        }
        return Ok(());
    }
    let upgraded = ip_families(old).len() == 1 && ip_families(svc).len() == 2;
    let downgraded = ip_families(old).len() == 2 && ip_families(svc).len() == 1;
    if upgraded {
        let mut ips = cluster_ips(svc).to_vec();
        if ips.len() < 2 {
            ips.push(String::new());
        }
        spec_mut(svc).cluster_ips = Some(ips.clone());
        let Ok(f) = ip_families(svc)[1].parse::<Family>() else {
            return Ok(());
        };
        let allocated = alloc_ips(svc, &[(f, ips[1].clone())], alloc, txn)?;
        if let Some((_, ip)) = allocated.into_iter().next() {
            ips[1] = ip;
        }
        set_cluster_ips(svc, ips);
        return Ok(());
    }
    if downgraded {
        if let (Ok(f), Some(ip)) = (
            ip_families(old)[1].parse::<Family>(),
            cluster_ips(old).get(1),
        ) {
            txn.release_ips.push((f, ip.clone()));
        }
    }
    Ok(())
}

/// `txnAllocNodePorts` (create): `initNodePorts` for NodePort/LoadBalancer, then the
/// health-check node port.
fn alloc_node_ports_create(
    svc: &mut Service,
    alloc: &mut dyn Allocator,
    txn: &mut Txn,
) -> Result<(), ServiceError> {
    if needs_node_port(svc) {
        init_node_ports(svc, alloc, txn)?;
    }
    if needs_health_check(svc) {
        alloc_health_check_node_port(svc, alloc, txn).map_err(ServiceError::Internal)?;
    }
    Ok(())
}

fn should_allocate_node_ports(svc: &Service) -> bool {
    match svc_type(svc) {
        NODE_PORT => true,
        LOAD_BALANCER => spec(svc).allocate_load_balancer_node_ports.unwrap_or(true),
        _ => false,
    }
}

fn node_port_path(i: usize) -> Path {
    Path::new("spec").child("ports").index(i).child("nodePort")
}

/// `initNodePorts`: ports sharing a port number share a node port.
fn init_node_ports(
    svc: &mut Service,
    alloc: &mut dyn Allocator,
    txn: &mut Txn,
) -> Result<(), ServiceError> {
    let should = should_allocate_node_ports(svc);
    let snapshot: Vec<(i32, i32)> = ports(svc)
        .iter()
        .map(|p| (p.port, node_port_of(p)))
        .collect();
    let mut by_port: Vec<(i32, i32)> = Vec::new();
    let mut result: Vec<i32> = snapshot.iter().map(|(_, np)| *np).collect();
    for i in 0..snapshot.len() {
        let (port, node_port) = (snapshot[i].0, result[i]);
        if node_port == 0 && !should {
            continue;
        }
        let allocated = by_port
            .iter()
            .find(|(p, _)| *p == port)
            .map(|(_, np)| *np)
            .unwrap_or(0);
        if allocated == 0 {
            let requested = (0..snapshot.len())
                .map(|j| (snapshot[j].0, result[j]))
                .find(|(p, np)| *p == port && *np != 0)
                .map(|(_, np)| np)
                .unwrap_or(0);
            if requested != 0 {
                if let Err(e) = txn.alloc_port(alloc, requested) {
                    return Err(ServiceError::Invalid(vec![FieldError::invalid(
                        &node_port_path(i),
                        BadValue::int(requested as i64),
                        e.to_string(),
                    )]));
                }
                result[i] = requested;
                by_port.push((port, requested));
            } else {
                let np = txn.alloc_next_port(alloc).map_err(|e| {
                    ServiceError::Internal(format!("failed to allocate a nodePort: {e}"))
                })?;
                result[i] = np;
                by_port.push((port, np));
            }
        } else if node_port != allocated {
            if node_port == 0 {
                result[i] = allocated;
            } else if let Err(e) = txn.alloc_port(alloc, node_port) {
                return Err(ServiceError::Invalid(vec![FieldError::invalid(
                    &node_port_path(i),
                    BadValue::int(node_port as i64),
                    e.to_string(),
                )]));
            }
        }
    }
    if let Some(ps) = spec_mut(svc).ports.as_mut() {
        for (p, np) in ps.iter_mut().zip(result) {
            p.node_port = if np == 0 { None } else { Some(np) };
        }
    }
    Ok(())
}

/// `allocHealthCheckNodePort`; the error text is wrapped into an Internal error by callers.
fn alloc_health_check_node_port(
    svc: &mut Service,
    alloc: &mut dyn Allocator,
    txn: &mut Txn,
) -> Result<(), String> {
    let hc = hc_node_port(svc);
    if hc != 0 {
        txn.alloc_port(alloc, hc)
            .map_err(|e| format!("failed to allocate requested HealthCheck NodePort {hc}: {e}"))?;
    } else {
        // Upstream prints the shadowed (zero) variable on failure.
        let np = txn
            .alloc_next_port(alloc)
            .map_err(|e| format!("failed to allocate a HealthCheck NodePort 0: {e}"))?;
        spec_mut(svc).health_check_node_port = Some(np);
    }
    Ok(())
}

/// `txnUpdateNodePorts`.
fn update_node_ports(
    svc: &mut Service,
    old: &Service,
    alloc: &mut dyn Allocator,
    txn: &mut Txn,
) -> Result<(), ServiceError> {
    if needs_node_port(old) && matches!(svc_type(svc), EXTERNAL_NAME | CLUSTER_IP) {
        for p in ports(old) {
            if node_port_of(p) != 0 {
                txn.release_ports.push(node_port_of(p));
            }
        }
    }
    if needs_node_port(svc) {
        let old_numbers: Vec<i32> = ports(old)
            .iter()
            .map(node_port_of)
            .filter(|p| *p != 0)
            .collect();
        let should = should_allocate_node_ports(svc);
        let mut seen: Vec<(String, i32)> = Vec::new();
        let mut port_allocated: Vec<i32> = Vec::new();
        let n = ports(svc).len();
        for i in 0..n {
            let (np, proto) = {
                let p = &ports(svc)[i];
                (node_port_of(p), protocol_of(p).to_string())
            };
            if np == 0 && !should {
                continue;
            }
            let mut value = np;
            if np != 0 {
                if !old_numbers.contains(&np) && !port_allocated.contains(&np) {
                    if let Err(e) = txn.alloc_port(alloc, np) {
                        return Err(ServiceError::Invalid(vec![FieldError::invalid(
                            &node_port_path(i),
                            BadValue::int(np as i64),
                            e.to_string(),
                        )]));
                    }
                    port_allocated.push(np);
                }
            } else {
                let got = txn.alloc_next_port(alloc).map_err(|e| {
                    ServiceError::Internal(format!("failed to allocate a nodePort: {e}"))
                })?;
                if let Some(ps) = spec_mut(svc).ports.as_mut() {
                    ps[i].node_port = Some(got);
                }
                value = got;
            }
            if seen.iter().any(|(p, v)| *p == proto && *v == value) {
                return Err(ServiceError::Internal(format!(
                    "duplicate nodePort: {{{proto} {value}}}"
                )));
            }
            seen.push((proto, value));
        }
        let new_numbers: Vec<i32> = ports(svc)
            .iter()
            .map(node_port_of)
            .filter(|p| *p != 0)
            .collect();
        for o in old_numbers {
            if !new_numbers.contains(&o) {
                txn.release_ports.push(o);
            }
        }
    }
    // updateHealthCheckNodePort
    let needed = needs_health_check(old);
    let needs = needs_health_check(svc);
    if !needed && needs {
        alloc_health_check_node_port(svc, alloc, txn).map_err(ServiceError::Internal)?;
    } else if needed && !needs {
        txn.release_ports.push(hc_node_port(old));
    }
    Ok(())
}
