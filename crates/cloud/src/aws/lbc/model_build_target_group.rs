//! The LBC's listeners and target groups (`pkg/service/model_build_listener.go`
//! `buildListenersLegacy`: one listener per Service port; `pkg/service/model_build_target_group.go`
//! `buildTargetGroup`: target type, health check, attributes, client IP preservation, spec
//! (name, IP address type, port), binding (node selector)).

use super::annotations as a;
use super::{names, Task, TgSpec};
use crate::inventory::HealthCheck;
use k8s_openapi::api::core::v1::ServicePort;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

impl Task<'_> {
    /// `buildListenersLegacy`: a listener (and its target group) per Service port, in order.
    pub(super) fn build_listeners(&self, ip_type: &str) -> Result<Vec<TgSpec>, String> {
        let ports = self
            .svc
            .spec
            .as_ref()
            .and_then(|s| s.ports.clone())
            .unwrap_or_default();
        ports
            .iter()
            .map(|p| self.build_target_group(p, ip_type))
            .collect()
    }

    fn build_target_group(&self, port: &ServicePort, ip_type: &str) -> Result<TgSpec, String> {
        let protocol = port.protocol.clone().unwrap_or_else(|| "TCP".into());
        let target_type = self.build_target_type(port)?;
        let hc = self.build_target_group_health_check_config(&target_type)?;
        let attributes = self.build_target_group_attributes(port)?;
        self.build_preserve_client_ip_flag(&attributes)?;
        let tg_port = build_target_group_port(&target_type, port);
        let name = names::target_group_name(
            self.namespace,
            self.name,
            &names::TargetGroupNameInputs {
                cluster: self.cluster.name,
                uid: self.uid,
                tg_port,
                svc_port: port.port,
                target_type: &target_type,
                tg_protocol: &protocol,
                hc_protocol: &hc.protocol,
                hc_interval: hc.interval_seconds,
            },
        );
        let ip_address_type = self.build_target_group_ip_address_type(ip_type)?;
        if tg_port == 0 {
            return Err(if target_type == "ip" {
                "TargetGroup port is empty. Are you using the correct service type?".into()
            } else {
                "TargetGroup port is empty. When using Instance targets, your service be must of type 'NodePort' or 'LoadBalancer'".into()
            });
        }
        let node_selector = if target_type == "instance" {
            self.ann
                .map(a::TARGET_NODE_LABELS)?
                .filter(|m| !m.is_empty())
        } else {
            None
        };
        Ok(TgSpec {
            name,
            target_type,
            port: tg_port,
            protocol,
            ip_address_type,
            health_check: hc,
            attributes,
            node_selector,
            svc_port: port.clone(),
        })
    }

    /// `buildTargetType`: `ip` for `nlb-ip` or target type exactly `ip`, else instance (the
    /// flag `--default-target-type=instance`); `EnableIPTargetType` is on (default).
    fn build_target_type(&self, port: &ServicePort) -> Result<String, String> {
        let lb_type = self.ann.string(a::TYPE).unwrap_or("");
        let target_type = self.ann.string(a::TARGET_TYPE).unwrap_or("instance");
        if lb_type == "nlb-ip" || target_type == "ip" {
            return Ok("ip".into());
        }
        let spec = self.svc.spec.as_ref();
        let svc_type = spec
            .and_then(|s| s.type_.clone())
            .unwrap_or_else(|| "ClusterIP".into());
        if svc_type == "ClusterIP" {
            return Err(format!("unsupported service type \"{svc_type}\" for load balancer target type \"{target_type}\""));
        }
        let no_alloc = spec.and_then(|s| s.allocate_load_balancer_node_ports) == Some(false);
        if port.node_port.unwrap_or(0) == 0 && no_alloc {
            return Err(
                "unable to support instance target type with an unallocated NodePort".into(),
            );
        }
        Ok("instance".into())
    }

    /// `buildTargetGroupHealthCheckConfig`: defaults TCP/traffic-port/10/10/3/3; for instance
    /// targets of a `LoadBalancer` Service with `externalTrafficPolicy: Local`, HTTP on
    /// `healthCheckNodePort` `/healthz`, 10/6/2/2.
    fn build_target_group_health_check_config(
        &self,
        target_type: &str,
    ) -> Result<HealthCheck, String> {
        let spec = self.svc.spec.as_ref();
        let local = target_type == "instance"
            && spec.and_then(|s| s.external_traffic_policy.as_deref()) == Some("Local")
            && spec.and_then(|s| s.type_.as_deref()) == Some("LoadBalancer");
        let (d_proto, d_port, d_path, d_int, d_to, d_h, d_u) = if local {
            let hcnp = spec.and_then(|s| s.health_check_node_port).unwrap_or(0);
            ("HTTP", hcnp.to_string(), "/healthz", 10, 6, 2, 2)
        } else {
            ("TCP", "traffic-port".to_string(), "/", 10, 10, 3, 3)
        };
        let raw_proto = self.ann.string(a::HC_PROTOCOL).unwrap_or(d_proto);
        let protocol = match raw_proto.to_uppercase().as_str() {
            p @ ("TCP" | "HTTP" | "HTTPS") => p.to_string(),
            _ => return Err(format!("unsupported health check protocol {raw_proto}")),
        };
        let path =
            (protocol != "TCP").then(|| self.ann.string(a::HC_PATH).unwrap_or(d_path).to_string());
        let matcher = (protocol != "TCP").then(|| {
            self.ann
                .string(a::HC_SUCCESS_CODES)
                .unwrap_or("200-399")
                .to_string()
        });
        let port = self.build_target_group_health_check_port(&d_port, target_type)?;
        Ok(HealthCheck {
            protocol,
            port,
            path,
            interval_seconds: self.ann.int32(a::HC_INTERVAL)?.unwrap_or(d_int),
            timeout_seconds: self.ann.int32(a::HC_TIMEOUT)?.unwrap_or(d_to),
            healthy_threshold_count: self.ann.int32(a::HC_HEALTHY)?.unwrap_or(d_h),
            unhealthy_threshold_count: self.ann.int32(a::HC_UNHEALTHY)?.unwrap_or(d_u),
            matcher,
        })
    }

    /// `buildTargetGroupHealthCheckPort`: `traffic-port`, a number, or a Service port name
    /// (its NodePort for instance targets, its numeric targetPort for ip targets).
    fn build_target_group_health_check_port(
        &self,
        default: &str,
        target_type: &str,
    ) -> Result<String, String> {
        let raw = self.ann.string(a::HC_PORT).unwrap_or(default);
        if raw == "traffic-port" || raw.parse::<i64>().is_ok() {
            return Ok(raw.to_string());
        }
        let ports = self.svc.spec.as_ref().and_then(|s| s.ports.as_ref());
        let Some(p) = ports.and_then(|ps| ps.iter().find(|p| p.name.as_deref() == Some(raw)))
        else {
            return Err(format!(
                "failed to resolve healthCheckPort: unable to find port {raw} on service {}/{}",
                self.namespace, self.name
            ));
        };
        if target_type == "instance" {
            return Ok(p.node_port.unwrap_or(0).to_string());
        }
        match &p.target_port {
            None => Ok(p.port.to_string()),
            Some(IntOrString::Int(i)) => Ok(i.to_string()),
            Some(IntOrString::String(_)) => {
                Err("cannot use named healthCheckPort for IP TargetType when service's targetPort is a named port".into())
            }
        }
    }

    /// `buildTargetGroupAttributes`: `proxy_protocol_v2.enabled=false`, the attributes
    /// annotations (base, then `.<port>`), then the proxy protocol annotations.
    fn build_target_group_attributes(
        &self,
        port: &ServicePort,
    ) -> Result<BTreeMap<String, String>, String> {
        let mut attrs = BTreeMap::new();
        attrs.insert("proxy_protocol_v2.enabled".to_string(), "false".to_string());
        let base = self.validate_and_parse_attributes(a::TG_ATTRIBUTES)?;
        let per_port =
            self.validate_and_parse_attributes(&format!("{}.{}", a::TG_ATTRIBUTES, port.port))?;
        let mut merged = base.unwrap_or_default();
        for (k, v) in per_port.unwrap_or_default() {
            if !v.is_empty() {
                merged.insert(k, v);
            }
        }
        attrs.extend(merged);
        if let Some(list) = self.ann.string(a::PROXY_PROTOCOL_PER_TG) {
            let mut on = false;
            for p in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                if p.parse::<i64>().is_err() {
                    return Err(format!(
                        "invalid port number in proxy-protocol-per-target-group: {p}"
                    ));
                }
                on |= p == port.port.to_string();
            }
            attrs.insert("proxy_protocol_v2.enabled".into(), on.to_string());
        }
        if let Some(v) = self.ann.string(a::PROXY_PROTOCOL) {
            if v != "*" {
                return Err(format!(
                    "invalid value {v} for Load Balancer proxy protocol v2 annotation, only value currently supported is *"
                ));
            }
            attrs.insert("proxy_protocol_v2.enabled".into(), "true".into());
        }
        if attrs
            .get("proxy_protocol_v2.enabled")
            .is_some_and(String::is_empty)
        {
            attrs.remove("proxy_protocol_v2.enabled");
        }
        Ok(attrs)
    }

    fn validate_and_parse_attributes(
        &self,
        suffix: &str,
    ) -> Result<Option<BTreeMap<String, String>>, String> {
        let attrs = self.ann.map(suffix)?;
        if let Some(v) = attrs
            .as_ref()
            .and_then(|m| m.get("preserve_client_ip.enabled"))
        {
            a::parse_bool(v).map_err(|e| {
                format!("failed to parse attribute preserve_client_ip.enabled={v}: {e}")
            })?;
        }
        Ok(attrs)
    }

    /// `buildPreserveClientIPFlag`: only validates here; the default (true for instance,
    /// false for ip) is applied when the record is built.
    fn build_preserve_client_ip_flag(
        &self,
        attrs: &BTreeMap<String, String>,
    ) -> Result<(), String> {
        if let Some(v) = attrs.get("preserve_client_ip.enabled") {
            a::parse_bool(v).map_err(|e| {
                format!("failed to parse attribute preserve_client_ip.enabled={v}: {e}")
            })?;
        }
        Ok(())
    }

    /// `buildTargetGroupIPAddressType`: any IPv6 in `spec.ipFamilies` means an IPv6 target
    /// group, which needs a dualstack load balancer.
    fn build_target_group_ip_address_type(&self, lb_ip_type: &str) -> Result<String, String> {
        let fams = self.svc.spec.as_ref().and_then(|s| s.ip_families.as_ref());
        if fams.is_some_and(|f| f.iter().any(|f| f == "IPv6")) {
            if lb_ip_type != "dualstack" {
                return Err("unsupported IPv6 configuration, lb not dual-stack".into());
            }
            return Ok("ipv6".into());
        }
        Ok("ipv4".into())
    }
}

/// `buildTargetGroupPort`: the NodePort (instance), the numeric targetPort, or 1 for a named
/// one (not in the data path).
fn build_target_group_port(target_type: &str, p: &ServicePort) -> i32 {
    if target_type == "instance" {
        return p.node_port.unwrap_or(0);
    }
    match &p.target_port {
        None => p.port,
        Some(IntOrString::Int(i)) => *i,
        Some(IntOrString::String(_)) => 1,
    }
}

/// `preserve_client_ip.enabled` as the target group ends up with it.
pub(super) fn preserve_client_ip(target_type: &str, attrs: &BTreeMap<String, String>) -> bool {
    match attrs.get("preserve_client_ip.enabled") {
        Some(v) => a::parse_bool(v).unwrap_or(false),
        None => target_type == "instance",
    }
}
