//! `printEndpointSlice` and `printEndpoints`.

use crate::table::{Column, AGE_DESCRIPTION};
use serde_json::{json, Value};

use super::*;

/// EndpointSlice columns: NAME ADDRESSTYPE PORTS ENDPOINTS AGE.
pub fn endpointslice_columns() -> Vec<Column> {
    vec![
        Column::name_column(),
        Column::new("AddressType", "addressType specifies the type of address carried by this EndpointSlice. All addresses in this slice must be the same type. This field is immutable after creation. The following address types are currently supported: * IPv4: Represents an IPv4 Address. * IPv6: Represents an IPv6 Address. * FQDN: Represents a Fully Qualified Domain Name."),
        Column::new("Ports", "ports specifies the list of network ports exposed by each endpoint in this slice. Each port must have a unique name. When ports is empty, it indicates that there are no defined ports. When a port is defined with a nil port value, it indicates \"all ports\". Each slice may include a maximum of 100 ports."),
        Column::new("Endpoints", "endpoints is a list of unique endpoints in this slice. Each slice may include a maximum of 1000 endpoints."),
        Column::new("Age", AGE_DESCRIPTION),
    ]
}

/// `listWithMoreString`.
fn list_with_more(list: &[String], more: bool, count: usize, max: usize) -> String {
    let ret = list.join(",");
    if more {
        return format!("{ret} + {} more...", count - max);
    }
    if ret.is_empty() {
        "<unset>".into()
    } else {
        ret
    }
}

/// `printEndpointSlice` (`formatDiscoveryPorts`, `formatDiscoveryEndpoints`: first three).
pub fn endpointslice_row(slice: &Value, _wide: bool, now: jiff::Timestamp) -> Vec<Value> {
    const MAX: usize = 3;
    let mut ports = Vec::new();
    let mut more = false;
    let mut count = 0;
    for p in arr(slice, "/ports") {
        if ports.len() < MAX {
            let txt = match p.get("port").and_then(Value::as_i64) {
                Some(n) => n.to_string(),
                None => p
                    .get("name")
                    .and_then(Value::as_str)
                    .map(String::from)
                    .unwrap_or_else(|| "*".into()),
            };
            ports.push(txt);
        } else if ports.len() == MAX {
            more = true;
        }
        count += 1;
    }
    let ports_cell = list_with_more(&ports, more, count, MAX);
    let mut addrs = Vec::new();
    let (mut more, mut count) = (false, 0);
    for e in arr(slice, "/endpoints") {
        for a in arr(e, "/addresses") {
            if addrs.len() < MAX {
                addrs.push(a.as_str().unwrap_or("").to_string());
            } else if addrs.len() == MAX {
                more = true;
            }
            count += 1;
        }
    }
    vec![
        json!(s(slice, "/metadata/name")),
        json!(s(slice, "/addressType")),
        json!(ports_cell),
        json!(list_with_more(&addrs, more, count, MAX)),
        json!(creation_age(slice, now)),
    ]
}

/// Endpoints columns: NAME ENDPOINTS AGE.
pub fn endpoints_columns() -> Vec<Column> {
    vec![
        Column::name_column(),
        Column::new("Endpoints", "The set of all endpoints is the union of all subsets. Addresses are placed into subsets according to the IPs they share. A single address with multiple ports, some of which are ready and some of which are not (because they come from different containers) will result in the address being displayed in different subsets for the different ports. No address will appear in both Addresses and NotReadyAddresses in the same subset. Sets of addresses and ports that comprise a service."),
        Column::new("Age", AGE_DESCRIPTION),
    ]
}

/// `net.JoinHostPort`.
fn join_host_port(host: &str, port: i64) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// `formatEndpoints` (ready addresses only, first three).
pub fn format_endpoints(ep: &Value) -> String {
    let subsets = arr(ep, "/subsets");
    if subsets.is_empty() {
        return "<none>".into();
    }
    const MAX: usize = 3;
    let mut list: Vec<String> = Vec::new();
    let mut more = false;
    let mut count = 0;
    for ss in subsets {
        let addrs = arr(ss, "/addresses");
        let ports = arr(ss, "/ports");
        if ports.is_empty() {
            count += addrs.len();
            for a in addrs {
                if list.len() == MAX {
                    more = true;
                    break;
                }
                list.push(s(a, "/ip").to_string());
            }
            continue;
        }
        for p in ports {
            count += addrs.len();
            for a in addrs {
                if list.len() == MAX {
                    more = true;
                    break;
                }
                list.push(join_host_port(s(a, "/ip"), int(p, "/port")));
            }
        }
    }
    let ret = list.join(",");
    if more {
        format!("{ret} + {} more...", count - MAX)
    } else {
        ret
    }
}

pub fn endpoints_row(ep: &Value, _wide: bool, now: jiff::Timestamp) -> Vec<Value> {
    vec![
        json!(s(ep, "/metadata/name")),
        json!(format_endpoints(ep)),
        json!(creation_age(ep, now)),
    ]
}
