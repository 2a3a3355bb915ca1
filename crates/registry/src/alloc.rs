//! Cluster IP and node port allocation inside the store transaction of the Service that holds
//! them: one key per held address or port, like upstream's IPAddress objects, so no address is
//! ever held twice and a failed request leaves nothing behind.

use crate::runtimes::Runtime;
use crate::store_ext::TxnExt;
use serde_json::json;
use std::net::IpAddr;
use twinstack_core::ipam::{
    canonical_ip, go_ip_string, AllocError, Allocator, Family, Resource, ServiceRange,
};

pub struct StoreAllocator<'a> {
    txn: &'a mut dyn TxnExt,
    rt: &'a Runtime,
    owner: String,
}

/// Key of the address at `offset` of `range`. Fixed-width hex offsets keep a range's keys in
/// address order.
fn ip_key(rt: &str, range: &ServiceRange, offset: u64) -> String {
    format!(
        "/registry/{rt}/ipaddresses/{}/{offset:032x}",
        range.cidr().to_string().replace('/', "_")
    )
}

fn port_key(rt: &str, port: i32) -> String {
    format!("/registry/{rt}/servicenodeports/{port:05}")
}

impl<'a> StoreAllocator<'a> {
    pub fn new(txn: &'a mut dyn TxnExt, rt: &'a Runtime, owner: String) -> Self {
        StoreAllocator { txn, rt, owner }
    }

    fn hold(&mut self, key: String, what: serde_json::Value) {
        let v = json!({"held": what, "parentRef": {"resource": "services", "name": self.owner}});
        self.txn.put_raw(&key, serde_json::to_vec(&v).unwrap());
    }
}

impl Allocator for StoreAllocator<'_> {
    fn allocate_ip(&mut self, family: Family, ip: IpAddr) -> Result<(), AllocError> {
        let not_in_range = |valid: String| AllocError::NotInRange {
            what: Resource::Ip,
            value: go_ip_string(ip),
            valid,
        };
        let Some(range) = self.rt.services.range(family) else {
            return Err(not_in_range(String::new()));
        };
        let offset = range
            .offset_of(ip)
            .ok_or_else(|| not_in_range(range.cidr().to_string()))?;
        let key = ip_key(self.rt.name(), range, offset);
        if self.txn.get_raw(&key).is_some() {
            return Err(AllocError::Allocated(Resource::Ip));
        }
        self.hold(key, json!(canonical_ip(ip).to_string()));
        Ok(())
    }

    fn allocate_next_ip(&mut self, family: Family) -> Result<IpAddr, AllocError> {
        let range = self.rt.services.range(family).ok_or(AllocError::Full)?;
        let name = self.rt.name().to_string();
        let txn = &mut *self.txn;
        let offset = range
            .next_free(rand::random::<u64>(), |o| {
                txn.get_raw(&ip_key(&name, range, o)).is_some()
            })
            .ok_or(AllocError::Full)?;
        let ip = range.ip_at(offset).ok_or(AllocError::Full)?;
        self.hold(ip_key(&name, range, offset), json!(ip.to_string()));
        Ok(ip)
    }

    fn release_ip(&mut self, family: Family, ip: IpAddr) {
        if let Some(range) = self.rt.services.range(family) {
            if let Some(offset) = range.offset_of(ip) {
                self.txn.delete_raw(&ip_key(self.rt.name(), range, offset));
            }
        }
    }

    fn allocate_node_port(&mut self, port: i32) -> Result<(), AllocError> {
        let range = self.rt.services.node_ports();
        if !range.contains(port) {
            return Err(AllocError::NotInRange {
                what: Resource::Port,
                value: port.to_string(),
                valid: range.to_string(),
            });
        }
        let key = port_key(self.rt.name(), port);
        if self.txn.get_raw(&key).is_some() {
            return Err(AllocError::Allocated(Resource::Port));
        }
        self.hold(key, json!(port));
        Ok(())
    }

    fn allocate_next_node_port(&mut self) -> Result<i32, AllocError> {
        let range = self.rt.services.node_ports();
        let name = self.rt.name().to_string();
        let txn = &mut *self.txn;
        let offset = range
            .next_free(rand::random::<u64>(), |o| {
                txn.get_raw(&port_key(&name, range.base() + o as i32))
                    .is_some()
            })
            .ok_or(AllocError::Full)?;
        let port = range.base() + offset as i32;
        self.hold(port_key(&name, port), json!(port));
        Ok(port)
    }

    fn release_node_port(&mut self, port: i32) {
        self.txn.delete_raw(&port_key(self.rt.name(), port));
    }
}
