//! Where a runtime's cloud inventory lives in the store: under the runtime's prefix (so deleting
//! the runtime deletes its clouds), beside the Kubernetes objects but under a name no resource
//! has (`twinstack.io`), one key per record:
//!
//! - `/registry/<rt>/twinstack.io/cloud/aws/vpc`
//! - `/registry/<rt>/twinstack.io/cloud/aws/loadbalancers/<name>`
//! - `/registry/<rt>/twinstack.io/cloud/gcp/network`
//! - `/registry/<rt>/twinstack.io/cloud/gcp/forwardingrules/<name>`
//!
//! The load balancer controllers are the only writers; the cloud APIs and `twinstack runtime
//! show` read.

use twinstack_cloud::inventory::{ForwardingRule, LoadBalancer, Network, Vpc};
use twinstack_store::Store;

pub fn prefix(runtime: &str) -> String {
    format!("/registry/{runtime}/twinstack.io/cloud/")
}
pub fn aws_vpc_key(runtime: &str) -> String {
    format!("{}aws/vpc", prefix(runtime))
}
pub fn aws_load_balancers_prefix(runtime: &str) -> String {
    format!("{}aws/loadbalancers/", prefix(runtime))
}
pub fn aws_load_balancer_key(runtime: &str, name: &str) -> String {
    format!("{}{name}", aws_load_balancers_prefix(runtime))
}
pub fn gcp_network_key(runtime: &str) -> String {
    format!("{}gcp/network", prefix(runtime))
}
pub fn gcp_forwarding_rules_prefix(runtime: &str) -> String {
    format!("{}gcp/forwardingrules/", prefix(runtime))
}
pub fn gcp_forwarding_rule_key(runtime: &str, name: &str) -> String {
    format!("{}{name}", gcp_forwarding_rules_prefix(runtime))
}

/// Everything a runtime's clouds hold, read from the store.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub vpc: Option<Vpc>,
    pub load_balancers: Vec<LoadBalancer>,
    pub network: Option<Network>,
    pub forwarding_rules: Vec<ForwardingRule>,
}

fn list<T: serde::de::DeserializeOwned>(store: &Store, prefix: &str) -> Vec<T> {
    store
        .list(prefix)
        .map(|(kvs, _)| kvs)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|kv| serde_json::from_slice(&kv.value).ok())
        .collect()
}

fn get<T: serde::de::DeserializeOwned>(store: &Store, key: &str) -> Option<T> {
    let kv = store.get(key).ok()??;
    serde_json::from_slice(&kv.value).ok()
}

/// Reads the runtime's inventory (records that do not decode are skipped).
pub fn load(store: &Store, runtime: &str) -> Inventory {
    Inventory {
        vpc: get(store, &aws_vpc_key(runtime)),
        load_balancers: list(store, &aws_load_balancers_prefix(runtime)),
        network: get(store, &gcp_network_key(runtime)),
        forwarding_rules: list(store, &gcp_forwarding_rules_prefix(runtime)),
    }
}
