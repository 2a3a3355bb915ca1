//! `PrepareForCreate` / `PrepareForUpdate` of the Service strategy (`strategy.go`, 1.30+).

use super::*;
use k8s_openapi::api::core::v1::{LoadBalancerStatus, ServiceStatus};

/// `PrepareForCreate`: clears status. (`dropServiceDisabledFields` drops nothing in 1.32:
/// TrafficDistribution is beta and on.)
/// The empty status serializes like Go's zero `ServiceStatus`: `{"loadBalancer": {}}`.
pub fn prepare_for_create(svc: &mut Service) {
    svc.status = Some(empty_status());
}

fn empty_status() -> ServiceStatus {
    ServiceStatus {
        load_balancer: Some(LoadBalancerStatus::default()),
        conditions: None,
    }
}

/// `PrepareForUpdate`: status copied from old, then `dropTypeDependentFields(new, old)`.
pub fn prepare_for_update(new: &mut Service, old: &Service) {
    new.status = old.status.clone();
    drop_type_dependent_fields(new, old);
}

fn node_port_set(svc: &Service) -> Vec<i32> {
    ports(svc)
        .iter()
        .map(node_port_of)
        .filter(|p| *p != 0)
        .collect()
}

/// `dropTypeDependentFields`: wipe fields that no longer apply after a type change, but only
/// those the user did not change in the same request.
fn drop_type_dependent_fields(new: &mut Service, old: &Service) {
    if needs_cluster_ip(old) && !needs_cluster_ip(new) {
        // sameClusterIPs: singular and plural both unchanged.
        if cluster_ip(old) == cluster_ip(new) && cluster_ips(old) == cluster_ips(new) {
            set_cluster_ip(new, "");
            spec_mut(new).cluster_ips = None;
        }
        // reflect.DeepEqual: nil != [] (k8s-openapi: None != Some([])).
        if spec(old).ip_families == spec(new).ip_families {
            spec_mut(new).ip_families = None;
        }
        if policy(old).unwrap_or("") == policy(new).unwrap_or("") {
            spec_mut(new).ip_family_policy = None;
        }
    }
    if needs_node_port(old) && !needs_node_port(new) {
        let old_ports = node_port_set(old);
        if node_port_set(new).iter().all(|p| old_ports.contains(p)) {
            if let Some(ps) = spec_mut(new).ports.as_mut() {
                for p in ps.iter_mut() {
                    p.node_port = None;
                }
            }
        }
    }
    if needs_health_check(old) && !needs_health_check(new) && hc_node_port(old) == hc_node_port(new)
    {
        spec_mut(new).health_check_node_port = None;
    }
    if svc_type(old) == LOAD_BALANCER && svc_type(new) != LOAD_BALANCER {
        if let (Some(o), Some(n)) = (
            spec(old).allocate_load_balancer_node_ports,
            spec(new).allocate_load_balancer_node_ports,
        ) {
            if o == n {
                spec_mut(new).allocate_load_balancer_node_ports = None;
            }
        }
    }
    if svc_type(old) == LOAD_BALANCER
        && svc_type(new) != LOAD_BALANCER
        && spec(old).load_balancer_class == spec(new).load_balancer_class
    {
        spec_mut(new).load_balancer_class = None;
    }
    if externally_accessible(old)
        && !externally_accessible(new)
        && external_traffic_policy(old) == external_traffic_policy(new)
    {
        spec_mut(new).external_traffic_policy = None;
    }
    if svc_type(new) != LOAD_BALANCER {
        new.status.get_or_insert_with(empty_status).load_balancer =
            Some(LoadBalancerStatus::default());
    }
}
