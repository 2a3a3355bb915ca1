//! Test doubles shared by the registry's unit tests.

use crate::runtimes::{Runtime, RuntimeRecord};
use crate::store_ext::TxnExt;
use std::collections::BTreeMap;
use twinstack_core::runtime::{Network, Provider};

/// A transaction over a map, enough for hooks that write in it.
#[derive(Default)]
pub struct MapTxn(pub BTreeMap<String, Vec<u8>>);

impl TxnExt for MapTxn {
    fn get_raw(&mut self, key: &str) -> Option<Vec<u8>> {
        self.0.get(key).cloned()
    }
    fn put_raw(&mut self, key: &str, value: Vec<u8>) {
        self.0.insert(key.into(), value);
    }
    fn delete_raw(&mut self, key: &str) -> bool {
        self.0.remove(key).is_some()
    }
    fn scan(&mut self, prefix: &str) -> Vec<(String, Vec<u8>)> {
        let it = self.0.iter().filter(|(k, _)| k.starts_with(prefix));
        it.map(|(k, v)| (k.clone(), v.clone())).collect()
    }
    fn revision(&self) -> u64 {
        7
    }
}

pub fn runtime() -> Runtime {
    Runtime::new(RuntimeRecord {
        name: "rt".into(),
        provider: Provider::Aws,
        region: "eu-central-1".into(),
        network: Network {
            families: vec![twinstack_core::ipam::Family::IPv4],
            nodes: vec!["10.250.0.0/16".parse().unwrap()],
            pods: vec!["100.64.0.0/12".parse().unwrap()],
            services: vec!["100.104.0.0/13".parse().unwrap()],
            ipv6_zone_subnets: vec![],
        },
        token: String::new(),
        created: String::new(),
        nodes: 1,
        plan: String::new(),
        instance_id: String::new(),
    })
    .unwrap()
}
