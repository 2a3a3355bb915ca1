//! Server-side `Table` output (meta.k8s.io/v1) with kube-apiserver's columns and cell text
//! (kubernetes/kubernetes pkg/printers/internalversion/printers.go).

use serde_json::{json, Value};

/// One column definition of a Table.
#[derive(Debug, Clone)]
pub struct Column {
    pub name: &'static str,
    pub ty: &'static str,
    pub format: &'static str,
    pub description: &'static str,
    pub priority: i32,
}

impl Column {
    pub const fn new(name: &'static str, description: &'static str) -> Self {
        Column {
            name,
            ty: "string",
            format: "",
            description,
            priority: 0,
        }
    }
    pub const fn name_column() -> Self {
        Column {
            name: "Name",
            ty: "string",
            format: "name",
            description: "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
            priority: 0,
        }
    }
    pub const fn wide(mut self) -> Self {
        self.priority = 1;
        self
    }
    pub fn to_json(&self) -> Value {
        json!({"name": self.name, "type": self.ty, "format": self.format, "description": self.description, "priority": self.priority})
    }
}

pub const AGE_DESCRIPTION: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

/// `duration.HumanDuration` of apimachinery.
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    } else if seconds < 0 {
        return "0s".into();
    } else if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    } else if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    } else if hours < 48 {
        return format!("{hours}h");
    } else if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{}h", hours / 24, h)
        };
    } else if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    } else if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{}d", hours / 24 / 365, dy)
        };
    }
    format!("{}y", hours / 24 / 365)
}

/// `translateTimestampSince`: age of an RFC 3339 timestamp relative to `now`, `<unknown>` if absent.
pub fn age(creation: Option<&str>, now: jiff::Timestamp) -> String {
    match creation.and_then(|c| c.parse::<jiff::Timestamp>().ok()) {
        Some(t) => human_duration(now.as_second() - t.as_second()),
        None => "<unknown>".into(),
    }
}

/// `labels.FormatLabels`: sorted `k=v` joined by commas, `<none>` when empty.
pub fn format_labels(map: Option<&serde_json::Map<String, Value>>) -> String {
    let mut pairs: Vec<String> = map
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{}={}", k, v.as_str().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    if pairs.is_empty() {
        return "<none>".into();
    }
    pairs.sort();
    pairs.join(",")
}

fn s<'a>(v: &'a Value, ptr: &str) -> Option<&'a str> {
    v.pointer(ptr).and_then(Value::as_str)
}

pub fn service_columns() -> Vec<Column> {
    vec![
        Column::name_column(),
        Column::new("Type", "type determines how the Service is exposed. Defaults to ClusterIP. Valid options are ExternalName, ClusterIP, NodePort, and LoadBalancer. \"ClusterIP\" allocates a cluster-internal IP address for load-balancing to endpoints. Endpoints are determined by the selector or if that is not specified, by manual construction of an Endpoints object or EndpointSlice objects. If clusterIP is \"None\", no virtual IP is allocated and the endpoints are published as a set of endpoints rather than a virtual IP. \"NodePort\" builds on ClusterIP and allocates a port on every node which routes to the same endpoints as the clusterIP. \"LoadBalancer\" builds on NodePort and creates an external load-balancer (if supported in the current cloud) which routes to the same endpoints as the clusterIP. \"ExternalName\" aliases this service to the specified externalName. Several other fields do not apply to ExternalName services. More info: https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types"),
        Column::new("Cluster-IP", "clusterIP is the IP address of the service and is usually assigned randomly. If an address is specified manually, is in-range (as per system configuration), and is not in use, it will be allocated to the service; otherwise creation of the service will fail. This field may not be changed through updates unless the type field is also being changed to ExternalName (which requires this field to be blank) or the type field is being changed from ExternalName (in which case this field may optionally be specified, as describe above).  Valid values are \"None\", empty string (\"\"), or a valid IP address. Setting this to \"None\" makes a \"headless service\" (no virtual IP), which is useful when direct endpoint connections are preferred and proxying is not required.  Only applies to types ClusterIP, NodePort, and LoadBalancer. If this field is specified when creating a Service of type ExternalName, creation will fail. This field will be wiped when updating a Service to type ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies"),
        Column::new("External-IP", "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.  These IPs are not managed by Kubernetes.  The user is responsible for ensuring that traffic arrives at a node with this IP.  A common example is external load-balancers that are not part of the Kubernetes system."),
        Column::new("Port(s)", "The list of ports that are exposed by this service. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies"),
        Column::new("Age", AGE_DESCRIPTION),
        Column::new("Selector", "Route service traffic to pods with label keys and values matching this selector. If empty or not present, the service is assumed to have an external process managing its endpoints, which Kubernetes will not modify. Only applies to types ClusterIP, NodePort, and LoadBalancer. Ignored if type is ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/").wide(),
    ]
}

const LOAD_BALANCER_WIDTH: usize = 16;

fn service_external_ip(svc: &Value, wide: bool) -> String {
    let external_ips: Vec<&str> = svc
        .pointer("/spec/externalIPs")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    match s(svc, "/spec/type").unwrap_or("ClusterIP") {
        "ClusterIP" | "NodePort" => {
            if external_ips.is_empty() {
                "<none>".into()
            } else {
                external_ips.join(",")
            }
        }
        "LoadBalancer" => {
            let mut lb: Vec<String> = svc
                .pointer("/status/loadBalancer/ingress")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|i| {
                            s(i, "/ip")
                                .filter(|x| !x.is_empty())
                                .or_else(|| s(i, "/hostname").filter(|x| !x.is_empty()))
                        })
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default();
            lb.sort();
            lb.dedup();
            let mut lb_ips = lb.join(",");
            if !wide && lb_ips.len() > LOAD_BALANCER_WIDTH {
                lb_ips = format!("{}...", &lb_ips[..LOAD_BALANCER_WIDTH - 3]);
            }
            if !external_ips.is_empty() {
                let mut results: Vec<String> = Vec::new();
                if !lb_ips.is_empty() {
                    results.extend(lb_ips.split(',').map(String::from));
                }
                results.extend(external_ips.iter().map(|x| x.to_string()));
                return results.join(",");
            }
            if lb_ips.is_empty() {
                "<pending>".into()
            } else {
                lb_ips
            }
        }
        "ExternalName" => s(svc, "/spec/externalName").unwrap_or_default().to_string(),
        _ => "<unknown>".into(),
    }
}

fn port_string(svc: &Value) -> String {
    let ports = svc
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let pieces: Vec<String> = ports
        .iter()
        .map(|p| {
            let port = p.get("port").and_then(Value::as_i64).unwrap_or(0);
            let proto = p.get("protocol").and_then(Value::as_str).unwrap_or("");
            match p.get("nodePort").and_then(Value::as_i64) {
                Some(np) if np > 0 => format!("{port}:{np}/{proto}"),
                _ => format!("{port}/{proto}"),
            }
        })
        .collect();
    if pieces.is_empty() {
        "<none>".into()
    } else {
        pieces.join(",")
    }
}

/// Cells of one Service row (`printService`). `wide` adds the SELECTOR column.
pub fn service_row(svc: &Value, wide: bool, now: jiff::Timestamp) -> Vec<Value> {
    let internal_ip = svc
        .pointer("/spec/clusterIPs/0")
        .and_then(Value::as_str)
        .unwrap_or("<none>")
        .to_string();
    let mut cells = vec![
        json!(s(svc, "/metadata/name").unwrap_or_default()),
        json!(s(svc, "/spec/type").unwrap_or_default()),
        json!(internal_ip),
        json!(service_external_ip(svc, wide)),
        json!(port_string(svc)),
        json!(age(s(svc, "/metadata/creationTimestamp"), now)),
    ];
    if wide {
        cells.push(json!(format_labels(
            svc.pointer("/spec/selector").and_then(Value::as_object)
        )));
    }
    cells
}

pub fn namespace_columns() -> Vec<Column> {
    vec![
        Column::name_column(),
        Column::new("Status", "The status of the namespace"),
        Column::new("Age", AGE_DESCRIPTION),
    ]
}

pub fn namespace_row(ns: &Value, _wide: bool, now: jiff::Timestamp) -> Vec<Value> {
    vec![
        json!(s(ns, "/metadata/name").unwrap_or_default()),
        json!(s(ns, "/status/phase").unwrap_or_default()),
        json!(age(s(ns, "/metadata/creationTimestamp"), now)),
    ]
}

/// Builds the Table body. Rows carry `PartialObjectMetadata` (the default `includeObject=Metadata`)
/// or the full object (`includeObject=Object`), so `-A` and `--show-labels` work.
pub fn table(
    columns: &[Column],
    rows: Vec<(Vec<Value>, &Value)>,
    resource_version: &str,
    include: Include,
    with_columns: bool,
) -> Value {
    let rows: Vec<Value> = rows
        .into_iter()
        .map(|(cells, obj)| {
            let object = match include {
                Include::None => Value::Null,
                Include::Object => obj.clone(),
                Include::Metadata => json!({
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": obj.get("metadata").cloned().unwrap_or(json!({})),
                }),
            };
            if object.is_null() {
                json!({"cells": cells})
            } else {
                json!({"cells": cells, "object": object})
            }
        })
        .collect();
    let cols: Vec<Value> = if with_columns {
        columns.iter().map(Column::to_json).collect()
    } else {
        vec![]
    };
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": cols,
        "rows": rows,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Include {
    None,
    Metadata,
    Object,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations() {
        assert_eq!(human_duration(5), "5s");
        assert_eq!(human_duration(119), "119s");
        assert_eq!(human_duration(150), "2m30s");
        assert_eq!(human_duration(600), "10m");
        assert_eq!(human_duration(3 * 3600 + 120), "3h2m");
        assert_eq!(human_duration(9 * 3600), "9h");
        assert_eq!(human_duration(3 * 86400 + 3600), "3d1h");
        assert_eq!(human_duration(-5), "<invalid>");
    }

    #[test]
    fn service_cells() {
        let now: jiff::Timestamp = "2026-01-01T00:01:00Z".parse().unwrap();
        let svc = json!({"metadata":{"name":"web","creationTimestamp":"2026-01-01T00:00:00Z"},
            "spec":{"type":"LoadBalancer","clusterIPs":["fd00::5","10.0.0.5"],"selector":{"b":"2","a":"1"},
            "ports":[{"port":80,"protocol":"TCP","nodePort":30080},{"port":53,"protocol":"UDP"}]}});
        let row = service_row(&svc, true, now);
        assert_eq!(
            row,
            vec![
                json!("web"),
                json!("LoadBalancer"),
                json!("fd00::5"),
                json!("<pending>"),
                json!("80:30080/TCP,53/UDP"),
                json!("60s"),
                json!("a=1,b=2")
            ]
        );
    }
}
