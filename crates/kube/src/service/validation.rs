//! `ValidateService` without the ObjectMeta part, `ValidateServiceClusterIPsRelatedFields` and
//! the update rules (`pkg/apis/core/validation/validation.go`, identical in 1.30–1.33 for
//! Services), plus the apimachinery name/label checks they use.
//!
//! Covered, in upstream order: topology annotations, ports (required, names, port numbers,
//! protocol, targetPort, appProtocol), type-specific clusterIPs/ExternalName rules, selector
//! labels, sessionAffinity and its config, clusterIPs rules C1–C12, externalIPs (IP syntax and
//! non-special ranges), type, ClusterIP node ports, duplicate node ports and ports,
//! loadBalancerSourceRanges (field and annotation), allocateLoadBalancerNodePorts,
//! loadBalancerClass, external/internal traffic policy, healthCheckNodePort, trafficDistribution.
//! Skipped: nothing of ValidateService except ObjectMeta (the caller's). Selector label errors
//! are reported in key order (Go iterates its map in random order).

use super::*;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use twinstack_core::field::{BadValue, FieldError, Path};
use twinstack_core::ipam::{is_ipv6_string, parse_cidr_legacy, parse_ip_legacy};

// The apimachinery name and label checks are shared with ObjectMeta and selector validation.
pub(crate) use twinstack_core::selector::{
    is_dns1123_label, is_dns1123_subdomain, is_qualified_name, is_valid_label_value,
};

fn is_lower_alnum(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// `IsValidPortNum`.
fn is_valid_port_num(p: i32) -> Vec<String> {
    if (1..=65535).contains(&p) {
        vec![]
    } else {
        vec!["must be between 1 and 65535, inclusive".into()]
    }
}

/// `IsValidPortName` (IANA_SVC_NAME).
fn is_valid_port_name(p: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if p.len() > 15 {
        errs.push("must be no more than 15 characters".into());
    }
    if p.is_empty() || !p.bytes().all(|c| is_lower_alnum(c) || c == b'-') {
        errs.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".into());
    }
    if !p.bytes().any(|c| c.is_ascii_lowercase()) {
        errs.push("must contain at least one letter (a-z)".into());
    }
    if p.contains("--") {
        errs.push("must not contain consecutive hyphens".into());
    }
    if p.starts_with('-') || p.ends_with('-') {
        errs.push("must not begin or end with a hyphen".into());
    }
    errs
}

const VALID_IP_MSG: &str = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)";
const VALID_CIDR_MSG: &str = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)";

fn is_valid_ip(path: &Path, v: &str) -> Vec<FieldError> {
    if parse_ip_legacy(v).is_none() {
        vec![FieldError::invalid(path, BadValue::str(v), VALID_IP_MSG)]
    } else {
        vec![]
    }
}

fn is_valid_cidr(path: &Path, v: &str) -> Vec<FieldError> {
    if parse_cidr_legacy(v).is_none() {
        vec![FieldError::invalid(path, BadValue::str(v), VALID_CIDR_MSG)]
    } else {
        vec![]
    }
}

/// `ValidateNonSpecialIP`.
fn validate_non_special_ip(path: &Path, v: &str) -> Vec<FieldError> {
    let Some(ip) = parse_ip_legacy(v).map(twinstack_core::ipam::canonical_ip) else {
        return vec![FieldError::invalid(
            path,
            BadValue::str(v),
            "must be a valid IP address",
        )];
    };
    let mut errs = Vec::new();
    let (unspec, loopback, ll_unicast, ll_multicast) = match ip {
        std::net::IpAddr::V4(a) => {
            let o = a.octets();
            (
                a.is_unspecified(),
                o[0] == 127,
                o[0] == 169 && o[1] == 254,
                o[0] == 224 && o[1] == 0 && o[2] == 0,
            )
        }
        std::net::IpAddr::V6(a) => {
            let s = a.segments();
            (
                a.is_unspecified(),
                a.is_loopback(),
                s[0] & 0xffc0 == 0xfe80,
                s[0] & 0xff0f == 0xff02,
            )
        }
    };
    if unspec {
        errs.push(FieldError::invalid(
            path,
            BadValue::str(v),
            format!("may not be unspecified ({v})"),
        ));
    }
    if loopback {
        errs.push(FieldError::invalid(
            path,
            BadValue::str(v),
            "may not be in the loopback range (127.0.0.0/8, ::1/128)",
        ));
    }
    if ll_unicast {
        errs.push(FieldError::invalid(
            path,
            BadValue::str(v),
            "may not be in the link-local range (169.254.0.0/16, fe80::/10)",
        ));
    }
    if ll_multicast {
        errs.push(FieldError::invalid(
            path,
            BadValue::str(v),
            "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)",
        ));
    }
    errs
}

fn ips_value(svc: &Service) -> BadValue {
    match &spec(svc).cluster_ips {
        None => BadValue::StrList(None),
        Some(v) => BadValue::list(v),
    }
}

fn families_value(svc: &Service) -> BadValue {
    BadValue::TypedList("[]core.IPFamily", spec(svc).ip_families.clone())
}

fn policy_value(svc: &Service) -> BadValue {
    BadValue::str(policy(svc).unwrap_or("null"))
}

/// `ValidateServiceClusterIPsRelatedFields` (rules C1–C12).
pub fn validate_cluster_ips_related_fields(svc: &Service) -> ErrorList {
    let mut errs = Vec::new();
    if svc_type(svc) == EXTERNAL_NAME {
        return errs;
    }
    let spec_path = Path::new("spec");
    let ips_path = spec_path.child("clusterIPs");
    let fam_path = spec_path.child("ipFamilies");
    let ips = cluster_ips(svc);
    if !cluster_ip(svc).is_empty() {
        if ips.is_empty() {
            errs.push(FieldError::required(&ips_path, ""));
        } else if ips[0] != cluster_ip(svc) {
            errs.push(FieldError::invalid(
                &ips_path,
                ips_value(svc),
                "first value must match `clusterIP`",
            ));
        }
    } else if !ips.is_empty() {
        errs.push(FieldError::invalid(
            &ips_path,
            ips_value(svc),
            "must be empty when `clusterIP` is not specified",
        ));
    }
    let mut seen: Vec<&str> = Vec::new();
    for (i, f) in ip_families(svc).iter().enumerate() {
        if f != "IPv4" && f != "IPv6" {
            errs.push(FieldError::not_supported(
                &fam_path.index(i),
                BadValue::str(f),
                &["IPv4", "IPv6"],
            ));
        }
        if seen.contains(&f.as_str()) {
            errs.push(FieldError::duplicate(&fam_path.index(i), BadValue::str(f)));
        }
        seen.push(f);
    }
    if let Some(p) = policy(svc) {
        if p != SINGLE && p != PREFER && p != REQUIRE {
            errs.push(FieldError::not_supported(
                &spec_path.child("ipFamilyPolicy"),
                BadValue::str(p),
                &[PREFER, REQUIRE, SINGLE],
            ));
        }
    }
    let mut invalid_ips = false;
    for (i, ip) in ips.iter().enumerate() {
        if i == 0 && ip == NONE {
            if ips.len() > 1 {
                invalid_ips = true;
                errs.push(FieldError::invalid(
                    &ips_path,
                    ips_value(svc),
                    "'None' must be the first and only value",
                ));
            }
            continue;
        }
        let e = is_valid_ip(&ips_path.index(i), ip);
        invalid_ips |= !e.is_empty();
        errs.extend(e);
    }
    if ips.len() > 2 {
        errs.push(FieldError::invalid(
            &ips_path,
            ips_value(svc),
            "may only hold up to 2 values",
        ));
    }
    if invalid_ips {
        return errs;
    }
    if ips.len() > 1 {
        let v6 = ips.iter().filter(|ip| is_ipv6_string(ip)).count();
        let dual = v6 > 0 && v6 < ips.len();
        if !dual {
            errs.push(FieldError::invalid(
                &ips_path,
                ips_value(svc),
                "may specify no more than one IP for each IP family",
            ));
        }
    }
    let fams = ip_families(svc);
    if !is_headless_validation(svc) && !ips.is_empty() && !fams.is_empty() {
        for (i, ip) in ips.iter().enumerate() {
            if i >= fams.len() {
                break;
            }
            if fams[i] == "IPv4" && is_ipv6_string(ip) {
                errs.push(FieldError::invalid(
                    &ips_path.index(i),
                    BadValue::str(ip),
                    format!("expected an IPv4 value as indicated by `ipFamilies[{i}]`"),
                ));
            }
            if fams[i] == "IPv6" && !is_ipv6_string(ip) {
                errs.push(FieldError::invalid(
                    &ips_path.index(i),
                    BadValue::str(ip),
                    format!("expected an IPv6 value as indicated by `ipFamilies[{i}]`"),
                ));
            }
        }
    }
    errs
}

const TOPOLOGY_HINTS: &str = "service.kubernetes.io/topology-aware-hints";
const TOPOLOGY_MODE: &str = "service.kubernetes.io/topology-mode";
const LB_SOURCE_RANGES_ANNOTATION: &str = "service.beta.kubernetes.io/load-balancer-source-ranges";

fn validate_service_port(
    sp: &ServicePort,
    require_name: bool,
    names: &mut Vec<String>,
    path: &Path,
) -> ErrorList {
    let mut errs = Vec::new();
    let name = sp.name.as_deref().unwrap_or("");
    if require_name && name.is_empty() {
        errs.push(FieldError::required(&path.child("name"), ""));
    } else if !name.is_empty() {
        for m in is_dns1123_label(name) {
            errs.push(FieldError::invalid(
                &path.child("name"),
                BadValue::str(name),
                m,
            ));
        }
        if names.iter().any(|n| n == name) {
            errs.push(FieldError::duplicate(
                &path.child("name"),
                BadValue::str(name),
            ));
        } else {
            names.push(name.to_string());
        }
    }
    for m in is_valid_port_num(sp.port) {
        errs.push(FieldError::invalid(
            &path.child("port"),
            BadValue::int(sp.port as i64),
            m,
        ));
    }
    let proto = protocol_of(sp);
    if proto.is_empty() {
        errs.push(FieldError::required(&path.child("protocol"), ""));
    } else if !matches!(proto, "TCP" | "UDP" | "SCTP") {
        errs.push(FieldError::not_supported(
            &path.child("protocol"),
            BadValue::str(proto),
            &["SCTP", "TCP", "UDP"],
        ));
    }
    let tp_path = path.child("targetPort");
    match &sp.target_port {
        Some(IntOrString::String(s)) => {
            for m in is_valid_port_name(s) {
                errs.push(FieldError::invalid(&tp_path, BadValue::str(s), m));
            }
        }
        Some(IntOrString::Int(i)) => {
            for m in is_valid_port_num(*i) {
                errs.push(FieldError::invalid(&tp_path, BadValue::int(*i as i64), m));
            }
        }
        None => {
            for m in is_valid_port_num(0) {
                errs.push(FieldError::invalid(&tp_path, BadValue::int(0), m));
            }
        }
    }
    if let Some(ap) = &sp.app_protocol {
        for m in is_qualified_name(ap) {
            errs.push(FieldError::invalid(
                &path.child("appProtocol"),
                BadValue::str(ap),
                m,
            ));
        }
    }
    errs
}

/// Go's `%#v` of the internal `core.ServicePort{Protocol, Port}` key used by the duplicate
/// port check.
fn service_port_key(proto: &str, port: i32) -> String {
    format!(
        "core.ServicePort{{Name:\"\", Protocol:{}, AppProtocol:(*string)(nil), Port:{port}, TargetPort:intstr.IntOrString{{Type:0, IntVal:0, StrVal:\"\"}}, NodePort:0}}",
        twinstack_core::field::go_quote(proto)
    )
}

fn validate_load_balancer_class(old: Option<&Service>, svc: &Service) -> ErrorList {
    let mut errs = Vec::new();
    let path = Path::new("spec").child("loadBalancerClass");
    let class = spec(svc).load_balancer_class.as_deref();
    if let Some(old) = old {
        if svc_type(old) == LOAD_BALANCER
            && svc_type(svc) == LOAD_BALANCER
            && spec(old).load_balancer_class.as_deref() != class
        {
            let v = class.map(BadValue::str).unwrap_or(BadValue::str("null"));
            errs.push(FieldError::invalid(&path, v, "may not change once set"));
        }
    }
    if svc_type(svc) == LOAD_BALANCER {
        if let Some(c) = class {
            for m in is_qualified_name(c) {
                errs.push(FieldError::invalid(&path, BadValue::str(c), m));
            }
        }
    } else if class.is_some() {
        errs.push(FieldError::forbidden(
            &path,
            "may only be used when `type` is 'LoadBalancer'",
        ));
    }
    errs
}

/// `ValidateService` minus `ValidateObjectMeta` (the caller prepends metadata errors).
/// `_cfg` is unused by upstream validation (cluster checks live in allocation); it is taken
/// for API symmetry.
pub fn validate(svc: &Service, _cfg: &ClusterConfig) -> ErrorList {
    // Upstream's order, which is the order of the errors in a refusal's message.
    let mut errs = validate_topology_annotations(svc);
    errs.extend(validate_type_specific(svc));
    errs.extend(validate_ports(svc));
    errs.extend(validate_selector(svc));
    errs.extend(validate_session_affinity(svc));
    errs.extend(validate_cluster_ips_related_fields(svc));
    errs.extend(validate_external_ips(svc));
    errs.extend(validate_type_and_port_uniqueness(svc));
    errs.extend(validate_load_balancer_fields(svc));
    errs.extend(validate_load_balancer_class(None, svc));
    errs.extend(validate_traffic_policies(svc));
    errs
}

/// The topology-aware hints annotations agree when both are set.
fn validate_topology_annotations(svc: &Service) -> ErrorList {
    let mut errs: ErrorList = Vec::new();
    let annotations = svc.metadata.annotations.as_ref();
    let hints = annotations.and_then(|a| a.get(TOPOLOGY_HINTS));
    let mode = annotations.and_then(|a| a.get(TOPOLOGY_MODE));
    if let (Some(h), Some(m)) = (hints, mode) {
        if h != m {
            errs.push(FieldError::invalid(
                &Path::new("metadata")
                    .child("annotations")
                    .key(TOPOLOGY_MODE),
                BadValue::str(m),
                format!("must match annotations[{TOPOLOGY_HINTS}] when both are specified"),
            ));
        }
    }
    errs
}

/// `ports` are required but for headless and ExternalName Services; what each type forbids.
fn validate_type_specific(svc: &Service) -> ErrorList {
    let mut errs: ErrorList = Vec::new();
    let sp = spec(svc);
    let spec_path = Path::new("spec");
    let ty = svc_type(svc);
    let headless = is_headless_validation(svc);
    if ports(svc).is_empty() && !headless && ty != EXTERNAL_NAME {
        errs.push(FieldError::required(&spec_path.child("ports"), ""));
    }
    match ty {
        LOAD_BALANCER if headless => errs.push(FieldError::invalid(
            &spec_path.child("clusterIPs").index(0),
            BadValue::str(NONE),
            "may not be set to 'None' for LoadBalancer services",
        )),
        NODE_PORT if headless => errs.push(FieldError::invalid(
            &spec_path.child("clusterIPs").index(0),
            BadValue::str(NONE),
            "may not be set to 'None' for NodePort services",
        )),
        EXTERNAL_NAME => {
            if !cluster_ips(svc).is_empty() {
                errs.push(FieldError::forbidden(
                    &spec_path.child("clusterIPs"),
                    "may not be set for ExternalName services",
                ));
            }
            if !ip_families(svc).is_empty() {
                errs.push(FieldError::forbidden(
                    &spec_path.child("ipFamilies"),
                    "may not be set for ExternalName services",
                ));
            }
            if policy(svc).is_some() {
                errs.push(FieldError::forbidden(
                    &spec_path.child("ipFamilyPolicy"),
                    "may not be set for ExternalName services",
                ));
            }
            let en = sp.external_name.as_deref().unwrap_or("");
            let cname = en.strip_suffix('.').unwrap_or(en);
            if !cname.is_empty() {
                for m in is_dns1123_subdomain(cname) {
                    errs.push(FieldError::invalid(
                        &spec_path.child("externalName"),
                        BadValue::str(cname),
                        m,
                    ));
                }
            } else {
                errs.push(FieldError::required(&spec_path.child("externalName"), ""));
            }
        }
        _ => {}
    }
    errs
}

/// Each port (`validateServicePort`).
fn validate_ports(svc: &Service) -> ErrorList {
    let mut errs: ErrorList = Vec::new();
    let spec_path = Path::new("spec");
    let mut names = Vec::new();
    let ports_path = spec_path.child("ports");
    let n_ports = ports(svc).len();
    for (i, p) in ports(svc).iter().enumerate() {
        errs.extend(validate_service_port(
            p,
            n_ports > 1,
            &mut names,
            &ports_path.index(i),
        ));
    }
    errs
}

/// Selector keys are qualified names and values label values.
fn validate_selector(svc: &Service) -> ErrorList {
    let mut errs: ErrorList = Vec::new();
    let sp = spec(svc);
    let spec_path = Path::new("spec");
    if let Some(sel) = &sp.selector {
        let sel_path = spec_path.child("selector");
        for (k, v) in sel {
            for m in is_qualified_name(k) {
                errs.push(FieldError::invalid(&sel_path, BadValue::str(k), m));
            }
            for m in is_valid_label_value(v) {
                errs.push(FieldError::invalid(&sel_path, BadValue::str(v), m));
            }
        }
    }
    errs
}

/// `sessionAffinity` and its `ClientIP` timeout.
fn validate_session_affinity(svc: &Service) -> ErrorList {
    let mut errs: ErrorList = Vec::new();
    let sp = spec(svc);
    let spec_path = Path::new("spec");
    let aff = sp.session_affinity.as_deref().unwrap_or("");
    if aff.is_empty() {
        errs.push(FieldError::required(
            &spec_path.child("sessionAffinity"),
            "",
        ));
    } else if aff != "ClientIP" && aff != "None" {
        errs.push(FieldError::not_supported(
            &spec_path.child("sessionAffinity"),
            BadValue::str(aff),
            &["ClientIP", "None"],
        ));
    }
    let cfg_path = spec_path.child("sessionAffinityConfig");
    if aff == "ClientIP" {
        let when = "when session affinity type is ClientIP";
        match &sp.session_affinity_config {
            None => errs.push(FieldError::required(&cfg_path, when)),
            Some(c) => match &c.client_ip {
                None => errs.push(FieldError::required(&cfg_path.child("clientIP"), when)),
                Some(cip) => match cip.timeout_seconds {
                    None => errs.push(FieldError::required(
                        &cfg_path.child("clientIP").child("timeoutSeconds"),
                        when,
                    )),
                    Some(t) if t <= 0 || t > 86400 => errs.push(FieldError::invalid(
                        &cfg_path.child("clientIP").child("timeoutSeconds"),
                        BadValue::int(t as i64),
                        "must be greater than 0 and less than 86400",
                    )),
                    _ => {}
                },
            },
        }
    } else if aff == "None" && sp.session_affinity_config.is_some() {
        errs.push(FieldError::forbidden(
            &cfg_path,
            "must not be set when session affinity is None",
        ));
    }
    errs
}

/// `externalIPs` are IPs and not special ones.
fn validate_external_ips(svc: &Service) -> ErrorList {
    let mut errs: ErrorList = Vec::new();
    let sp = spec(svc);
    let spec_path = Path::new("spec");
    let ext_path = spec_path.child("externalIPs");
    for (i, ip) in sp.external_ips.as_deref().unwrap_or(&[]).iter().enumerate() {
        let e = is_valid_ip(&ext_path.index(i), ip);
        if e.is_empty() {
            errs.extend(validate_non_special_ip(&ext_path.index(i), ip));
        } else {
            errs.extend(e);
        }
    }
    errs
}

/// `type` is known; node ports only where allowed and unique per protocol; ports unique per protocol.
fn validate_type_and_port_uniqueness(svc: &Service) -> ErrorList {
    let mut errs: ErrorList = Vec::new();
    let spec_path = Path::new("spec");
    let ty = svc_type(svc);
    let ports_path = spec_path.child("ports");
    if ty.is_empty() {
        errs.push(FieldError::required(&spec_path.child("type"), ""));
    } else if !matches!(ty, CLUSTER_IP | NODE_PORT | LOAD_BALANCER | EXTERNAL_NAME) {
        errs.push(FieldError::not_supported(
            &spec_path.child("type"),
            BadValue::str(ty),
            &[CLUSTER_IP, EXTERNAL_NAME, LOAD_BALANCER, NODE_PORT],
        ));
    }
    if ty == CLUSTER_IP {
        for (i, p) in ports(svc).iter().enumerate() {
            if node_port_of(p) != 0 {
                errs.push(FieldError::forbidden(
                    &ports_path.index(i).child("nodePort"),
                    "may not be used when `type` is 'ClusterIP'",
                ));
            }
        }
    }
    let mut node_ports: Vec<(String, i32)> = Vec::new();
    for (i, p) in ports(svc).iter().enumerate() {
        let np = node_port_of(p);
        if np == 0 {
            continue;
        }
        let key = (protocol_of(p).to_string(), np);
        if node_ports.contains(&key) {
            errs.push(FieldError::duplicate(
                &ports_path.index(i).child("nodePort"),
                BadValue::int(np as i64),
            ));
        }
        node_ports.push(key);
    }
    let mut seen_ports: Vec<(String, i32)> = Vec::new();
    for (i, p) in ports(svc).iter().enumerate() {
        let key = (protocol_of(p).to_string(), p.port);
        if seen_ports.contains(&key) {
            errs.push(FieldError::duplicate(
                &ports_path.index(i),
                BadValue::Raw(service_port_key(&key.0, key.1)),
            ));
        }
        seen_ports.push(key);
    }
    errs
}

/// `loadBalancerSourceRanges` (or its annotation) and `allocateLoadBalancerNodePorts`, only on LoadBalancer Services.
fn validate_load_balancer_fields(svc: &Service) -> ErrorList {
    let mut errs: ErrorList = Vec::new();
    let sp = spec(svc);
    let spec_path = Path::new("spec");
    let ty = svc_type(svc);
    let annotations = svc.metadata.annotations.as_ref();
    let ranges = sp.load_balancer_source_ranges.as_deref().unwrap_or(&[]);
    if !ranges.is_empty() {
        let path = spec_path.child("LoadBalancerSourceRanges");
        if ty != LOAD_BALANCER {
            errs.push(FieldError::forbidden(
                &path,
                "may only be used when `type` is 'LoadBalancer'",
            ));
        }
        for (i, v) in ranges.iter().enumerate() {
            errs.extend(is_valid_cidr(&path.index(i), v.trim()));
        }
    } else if let Some(val) = annotations.and_then(|a| a.get(LB_SOURCE_RANGES_ANNOTATION)) {
        let path = Path::new("metadata")
            .child("annotations")
            .key(LB_SOURCE_RANGES_ANNOTATION);
        if ty != LOAD_BALANCER {
            errs.push(FieldError::forbidden(
                &path,
                "may only be used when `type` is 'LoadBalancer'",
            ));
        }
        let val = val.trim();
        if !val.is_empty() {
            for v in val.split(',') {
                errs.extend(is_valid_cidr(&path, v.trim()));
            }
        }
    }
    if sp.allocate_load_balancer_node_ports.is_some() && ty != LOAD_BALANCER {
        errs.push(FieldError::forbidden(
            &spec_path.child("allocateLoadBalancerNodePorts"),
            "may only be used when `type` is 'LoadBalancer'",
        ));
    }
    if ty == LOAD_BALANCER && sp.allocate_load_balancer_node_ports.is_none() {
        // Upstream's path lacks the "spec." prefix.
        errs.push(FieldError::required(
            &Path::new("allocateLoadBalancerNodePorts"),
            "",
        ));
    }
    errs
}

/// `externalTrafficPolicy`, `healthCheckNodePort`, `internalTrafficPolicy`, `trafficDistribution`.
fn validate_traffic_policies(svc: &Service) -> ErrorList {
    let mut errs: ErrorList = Vec::new();
    let sp = spec(svc);
    let spec_path = Path::new("spec");
    let ty = svc_type(svc);
    // externalTrafficPolicy / healthCheckNodePort
    let etp = external_traffic_policy(svc);
    if !externally_accessible(svc) {
        if !etp.is_empty() {
            errs.push(FieldError::invalid(
                &spec_path.child("externalTrafficPolicy"),
                BadValue::str(etp),
                "may only be set for externally-accessible services",
            ));
        }
    } else if etp.is_empty() {
        errs.push(FieldError::required(
            &spec_path.child("externalTrafficPolicy"),
            "",
        ));
    } else if etp != "Cluster" && etp != "Local" {
        errs.push(FieldError::not_supported(
            &spec_path.child("externalTrafficPolicy"),
            BadValue::str(etp),
            &["Cluster", "Local"],
        ));
    }
    let hc = hc_node_port(svc);
    if !needs_health_check(svc) {
        if hc != 0 {
            errs.push(FieldError::invalid(
                &spec_path.child("healthCheckNodePort"),
                BadValue::int(hc as i64),
                "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
            ));
        }
    } else if hc == 0 {
        errs.push(FieldError::required(
            &spec_path.child("healthCheckNodePort"),
            "",
        ));
    } else {
        for m in is_valid_port_num(hc) {
            errs.push(FieldError::invalid(
                &spec_path.child("healthCheckNodePort"),
                BadValue::int(hc as i64),
                m,
            ));
        }
    }
    // internalTrafficPolicy
    match sp.internal_traffic_policy.as_deref() {
        None => {
            if matches!(ty, NODE_PORT | LOAD_BALANCER | CLUSTER_IP) {
                errs.push(FieldError::required(
                    &spec_path.child("internalTrafficPolicy"),
                    "",
                ));
            }
        }
        Some(p) if p != "Cluster" && p != "Local" => {
            errs.push(FieldError::not_supported(
                &spec_path.child("internalTrafficPolicy"),
                BadValue::str(p),
                &["Cluster", "Local"],
            ));
        }
        _ => {}
    }
    if let Some(td) = sp.traffic_distribution.as_deref() {
        if td != "PreferClose" {
            errs.push(FieldError::not_supported(
                &spec_path.child("trafficDistribution"),
                BadValue::str(td),
                &["PreferClose"],
            ));
        }
    }
    errs
}

/// `validateUpgradeDowngradeClusterIPs` (U1–U5).
fn upgrade_downgrade_cluster_ips(old: &Service, svc: &Service) -> ErrorList {
    let mut errs = Vec::new();
    if svc_type(svc) == EXTERNAL_NAME || svc_type(old) == EXTERNAL_NAME {
        return errs;
    }
    if is_headless_validation(old) && is_headless_validation(svc) {
        return errs;
    }
    let (o, n) = (cluster_ips(old), cluster_ips(svc));
    let path = Path::new("spec").child("clusterIPs");
    if o.len() == n.len() {
        for (i, ip) in o.iter().enumerate() {
            if *ip != n[i] {
                errs.push(FieldError::invalid(
                    &path.index(i),
                    ips_value(svc),
                    "may not change once set",
                ));
            }
        }
    } else if o.len() > n.len() {
        if n.is_empty() {
            errs.push(FieldError::invalid(
                &path.index(0),
                ips_value(svc),
                "primary clusterIP can not be unset",
            ));
        }
        if !o.is_empty() && !n.is_empty() && n[0] != o[0] {
            errs.push(FieldError::invalid(
                &path.index(0),
                ips_value(svc),
                "may not change once set",
            ));
        }
        if n.len() == 1 && policy(svc) != Some(SINGLE) {
            errs.push(FieldError::invalid(
                &Path::new("spec").child("ipFamilyPolicy"),
                policy_value(svc),
                "must be set to 'SingleStack' when releasing the secondary clusterIP",
            ));
        }
    } else if !o.is_empty() && n[0] != o[0] {
        errs.push(FieldError::invalid(
            &path.index(0),
            ips_value(svc),
            "may not change once set",
        ));
    }
    errs
}

/// `validateUpgradeDowngradeIPFamilies` (U6–U10), including upstream's quirks (path always
/// `[0]`, the clusterIPs list as value in U8/U10).
fn upgrade_downgrade_ip_families(old: &Service, svc: &Service) -> ErrorList {
    let mut errs = Vec::new();
    if svc_type(svc) == EXTERNAL_NAME || svc_type(old) == EXTERNAL_NAME {
        return errs;
    }
    let (oh, nh) = (is_headless_validation(old), is_headless_validation(svc));
    if oh != nh || nh {
        return errs;
    }
    let (o, n) = (ip_families(old), ip_families(svc));
    let path = Path::new("spec").child("ipFamilies").index(0);
    if o.len() == n.len() {
        for (i, f) in o.iter().enumerate() {
            if *f != n[i] {
                errs.push(FieldError::invalid(
                    &path,
                    families_value(svc),
                    "may not change once set",
                ));
            }
        }
    } else if o.len() > n.len() {
        if cluster_ips(svc).is_empty() {
            errs.push(FieldError::invalid(
                &path,
                families_value(svc),
                "primary ipFamily can not be unset",
            ));
        }
        if !n.is_empty() && n[0] != o[0] {
            errs.push(FieldError::invalid(
                &path,
                ips_value(svc),
                "may not change once set",
            ));
        }
        if n.len() == 1 && policy(svc) != Some(SINGLE) {
            errs.push(FieldError::invalid(
                &Path::new("spec").child("ipFamilyPolicy"),
                policy_value(svc),
                "must be set to 'SingleStack' when releasing the secondary ipFamily",
            ));
        }
    } else if !o.is_empty() && !n.is_empty() && n[0] != o[0] {
        errs.push(FieldError::invalid(
            &path,
            ips_value(svc),
            "may not change once set",
        ));
    }
    errs
}

/// `ValidateServiceUpdate` minus `ValidateObjectMetaUpdate`: U1–U10, loadBalancerClass
/// immutability, healthCheckNodePort immutability, then [`validate`]. `old` gets
/// [`default_on_read`] first (on a copy), as upstream's `beginUpdate` does in place.
pub fn validate_update(new: &Service, old: &Service, cfg: &ClusterConfig) -> ErrorList {
    let mut old = old.clone();
    super::default_on_read(&mut old, cfg);
    let mut errs = upgrade_downgrade_cluster_ips(&old, new);
    errs.extend(upgrade_downgrade_ip_families(&old, new));
    errs.extend(validate_load_balancer_class(Some(&old), new));
    if needs_health_check(&old)
        && needs_health_check(new)
        && hc_node_port(&old) != hc_node_port(new)
    {
        errs.push(FieldError::forbidden(
            &Path::new("spec").child("healthCheckNodePort"),
            "field is immutable",
        ));
    }
    errs.extend(validate(new, cfg));
    errs
}
