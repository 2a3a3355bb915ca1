//! The A and AAAA records kube-dns (CoreDNS's `kubernetes` plugin) answers for Services, as in
//! the Kubernetes DNS specification (`kubernetes/dns` `docs/specification.md`, §2.3):
//! - a Service with cluster IPs: `<service>.<ns>.svc.<zone>` → its cluster IPs (one record per
//!   family);
//! - a headless Service (`clusterIP: None`): the same name → the addresses of its ready
//!   endpoints, and `<hostname>.<service>.<ns>.svc.<zone>` → an endpoint's addresses when the
//!   endpoint has a hostname (StatefulSet pods, or pods with `hostname` and `subdomain`);
//! - ExternalName Services are CNAMEs and have no address records here.
//!
//! Not-ready endpoints are left out unless the Service has `publishNotReadyAddresses` (the
//! EndpointSlice controller then marks them ready).

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use std::collections::HashMap;
use std::net::IpAddr;

/// The cluster domain's zone.
pub const ZONE: &str = "cluster.local";

/// The address records of `services`, whose EndpointSlices are among `slices`: (name, address),
/// names fully qualified without the trailing dot.
pub fn service_records<'a>(
    services: impl IntoIterator<Item = &'a Service>,
    slices: &[&EndpointSlice],
) -> Vec<(String, IpAddr)> {
    let mut by_service: HashMap<(&str, &str), Vec<&EndpointSlice>> = HashMap::new();
    for s in slices {
        let Some(svc) = s
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(crate::endpointslices::LABEL_SERVICE_NAME))
        else {
            continue;
        };
        let ns = s.metadata.namespace.as_deref().unwrap_or_default();
        by_service.entry((ns, svc.as_str())).or_default().push(s);
    }
    let mut out = Vec::new();
    for svc in services {
        let name = svc.metadata.name.as_deref().unwrap_or_default();
        let ns = svc.metadata.namespace.as_deref().unwrap_or("default");
        let fqdn = format!("{name}.{ns}.svc.{ZONE}");
        let spec = svc.spec.as_ref();
        if spec.and_then(|s| s.type_.as_deref()) == Some("ExternalName") {
            continue;
        }
        let headless = spec.and_then(|s| s.cluster_ip.as_deref()) == Some("None");
        if !headless {
            for ip in spec
                .and_then(|s| s.cluster_ips.as_ref())
                .into_iter()
                .flatten()
            {
                if let Ok(ip) = ip.parse() {
                    out.push((fqdn.clone(), ip));
                }
            }
            continue;
        }
        for slice in by_service.get(&(ns, name)).into_iter().flatten() {
            for e in &slice.endpoints {
                let ready = e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true);
                if !ready {
                    continue;
                }
                for a in &e.addresses {
                    let Ok(ip) = a.parse::<IpAddr>() else {
                        continue;
                    };
                    out.push((fqdn.clone(), ip));
                    if let Some(h) = e.hostname.as_deref().filter(|h| !h.is_empty()) {
                        out.push((format!("{h}.{fqdn}"), ip));
                    }
                }
            }
        }
    }
    out
}

/// The names a pod's resolver tries for `name`, in order, as kubelet's `resolv.conf` makes it
/// (`search <ns>.svc.cluster.local svc.cluster.local cluster.local`, `options ndots:5`): a name
/// with a trailing dot is tried as is only; a name with at least five dots is tried as is first,
/// then with each search domain; any other name with each search domain first, then as is.
pub fn search_candidates(name: &str, namespace: &str) -> Vec<String> {
    if let Some(abs) = name.strip_suffix('.') {
        return vec![abs.to_string()];
    }
    let search = [
        format!("{namespace}.svc.{ZONE}"),
        format!("svc.{ZONE}"),
        ZONE.to_string(),
    ];
    let with: Vec<String> = search.iter().map(|d| format!("{name}.{d}")).collect();
    if name.matches('.').count() >= 5 {
        std::iter::once(name.to_string()).chain(with).collect()
    } else {
        with.into_iter()
            .chain(std::iter::once(name.to_string()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_search_path_is_kubelets_with_ndots_5() {
        use super::search_candidates;
        assert_eq!(
            search_candidates("web", "shop"),
            [
                "web.shop.svc.cluster.local",
                "web.svc.cluster.local",
                "web.cluster.local",
                "web"
            ]
        );
        assert_eq!(
            search_candidates("web.shop", "x")[1],
            "web.shop.svc.cluster.local"
        );
        assert_eq!(search_candidates("a.example.com.", "x"), ["a.example.com"]);
        let lb = "k8s-x.elb.eu-central-1.amazonaws.com";
        assert_eq!(search_candidates(lb, "x").last().unwrap(), lb);
        assert_eq!(search_candidates("a.b.c.d.e.f", "x")[0], "a.b.c.d.e.f");
    }
    use super::*;
    use serde_json::json;

    fn svc(v: serde_json::Value) -> Service {
        serde_json::from_value(v).unwrap()
    }

    fn slice(v: serde_json::Value) -> EndpointSlice {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn records_per_kind_of_service() {
        let services = [
            svc(json!({"metadata": {"name": "web", "namespace": "shop"},
                "spec": {"clusterIP": "10.0.0.10", "clusterIPs": ["10.0.0.10", "fd00::a"]}})),
            svc(json!({"metadata": {"name": "db", "namespace": "shop"},
                "spec": {"clusterIP": "None", "clusterIPs": ["None"]}})),
            svc(json!({"metadata": {"name": "ext", "namespace": "shop"},
                "spec": {"type": "ExternalName", "externalName": "example.com"}})),
        ];
        let v4 = slice(json!({"metadata": {"name": "db-abc", "namespace": "shop",
                "labels": {"kubernetes.io/service-name": "db"}},
            "addressType": "IPv4",
            "endpoints": [
                {"addresses": ["10.1.0.5"], "hostname": "db-0", "conditions": {"ready": true}},
                {"addresses": ["10.1.0.6"], "conditions": {"ready": false}},
                {"addresses": ["10.1.0.7"]}]}));
        let v6 = slice(json!({"metadata": {"name": "db-def", "namespace": "shop",
                "labels": {"kubernetes.io/service-name": "db"}},
            "addressType": "IPv6",
            "endpoints": [{"addresses": ["fd01::5"], "hostname": "db-0"}]}));
        // A slice of a same-named Service in another namespace is not this one's.
        let other = slice(json!({"metadata": {"name": "db-x", "namespace": "other",
                "labels": {"kubernetes.io/service-name": "db"}},
            "addressType": "IPv4", "endpoints": [{"addresses": ["10.9.9.9"]}]}));
        let got = service_records(&services, &[&v4, &v6, &other]);
        let want: Vec<(String, IpAddr)> = [
            ("web.shop.svc.cluster.local", "10.0.0.10"),
            ("web.shop.svc.cluster.local", "fd00::a"),
            ("db.shop.svc.cluster.local", "10.1.0.5"),
            ("db-0.db.shop.svc.cluster.local", "10.1.0.5"),
            ("db.shop.svc.cluster.local", "10.1.0.7"),
            ("db.shop.svc.cluster.local", "fd01::5"),
            ("db-0.db.shop.svc.cluster.local", "fd01::5"),
        ]
        .iter()
        .map(|(n, a)| (n.to_string(), a.parse().unwrap()))
        .collect();
        assert_eq!(got, want);
    }
}
