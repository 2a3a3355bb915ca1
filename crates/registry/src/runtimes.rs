//! Runtimes: their persisted record (provider, region, network, credential) and the derived
//! configuration the registry needs.

use serde::{Deserialize, Serialize};
use twinstack_core::runtime::{Network, Provider};
use twinstack_kube::service::ClusterConfig;

/// What is stored for a runtime under `/twinstack/runtimes/<name>`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RuntimeRecord {
    pub name: String,
    pub provider: Provider,
    pub region: String,
    pub network: Network,
    /// The bearer token of the runtime's admin. Stored so `kubeconfig` can print it; the data
    /// directory is private to the user (0700).
    pub token: String,
    pub created: String,
    pub nodes: u32,
    /// The KEB plan the runtime was provisioned with (empty for the runtime `up` creates).
    #[serde(default)]
    pub plan: String,
    /// The owner: the OSB instance ID when the runtime came through the broker (empty for the
    /// runtime of `up`). Only its owner may delete the runtime.
    #[serde(default)]
    pub instance_id: String,
}

pub struct Runtime {
    pub record: RuntimeRecord,
    pub services: ClusterConfig,
}

/// Runtime records. Outside `/registry/`: no runtime's `/registry/<name>/` prefix reaches them.
pub const RUNTIMES_PREFIX: &str = "/twinstack/runtimes/";

/// Where runtime records lived before: a runtime named `twinstack` owned the prefix
/// `/registry/twinstack/` and its deletion took every record with it. Moved on start.
pub const LEGACY_RUNTIMES_PREFIX: &str = "/registry/twinstack/runtimes/";

impl Runtime {
    pub fn new(record: RuntimeRecord) -> anyhow::Result<Runtime> {
        let services =
            ClusterConfig::new(&record.network.services).map_err(|e| anyhow::anyhow!(e))?;
        Ok(Runtime { record, services })
    }
    pub fn name(&self) -> &str {
        &self.record.name
    }
    pub fn key(&self) -> String {
        format!("{RUNTIMES_PREFIX}{}", self.record.name)
    }
}

/// A new random bearer token (256 bits, hex).
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Constant-time comparison, so a token cannot be guessed byte by byte from timing.
pub fn token_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
