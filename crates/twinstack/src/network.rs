//! The emulated network a pod sees (`twinstack_dataplane::network::Network`), as `up` runs it:
//! connections through the data plane, names from the DNS table the controllers fill, looked
//! up along kubelet's search path (`twinstack_kube::dns::search_candidates`).

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use twinstack_dataplane::dns::DnsTable;
use twinstack_dataplane::frontends::DataPlane;
use twinstack_dataplane::network::{Conn, Network};

/// The data plane and the DNS table, together.
#[derive(Clone)]
pub struct RuntimeNetwork {
    pub dataplane: DataPlane,
    pub dns: Arc<DnsTable>,
}

#[async_trait::async_trait]
impl Network for RuntimeNetwork {
    async fn connect(
        &self,
        runtime: &str,
        src: IpAddr,
        dst: SocketAddr,
    ) -> io::Result<Box<dyn Conn>> {
        self.dataplane.connect(runtime, src, dst).await
    }

    async fn resolve(&self, runtime: &str, namespace: &str, name: &str) -> io::Result<Vec<IpAddr>> {
        const LOCAL: &str = ".svc.cluster.local";
        for cand in twinstack_kube::dns::search_candidates(name, namespace) {
            // Every runtime's Service names are in the table as `<svc>.<ns>.svc.<runtime>.cluster.local`.
            let key = match cand.strip_suffix(LOCAL) {
                Some(svc) => format!("{svc}.svc.{runtime}.cluster.local"),
                None => cand,
            };
            if let Some(e) = self.dns.lookup(&key) {
                let mut out: Vec<IpAddr> = e.v4.iter().map(|a| IpAddr::V4(*a)).collect();
                out.extend(e.v6.iter().map(|a| IpAddr::V6(*a)));
                if !out.is_empty() {
                    return Ok(out);
                }
            }
        }
        Ok(Vec::new())
    }

    fn cluster_dns(&self, runtime: &str) -> Option<IpAddr> {
        self.dataplane.cluster_dns(runtime)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn names_resolve_along_the_pods_search_path_in_its_runtime() {
        let dns = Arc::new(DnsTable::new());
        dns.replace(
            "rt",
            vec![
                (
                    "web.shop.svc.rt.cluster.local".into(),
                    "10.104.0.7".parse().unwrap(),
                ),
                (
                    "web.shop.svc.rt.cluster.local".into(),
                    "fd00::7".parse().unwrap(),
                ),
                (
                    "lb-1.elb.eu-central-1.amazonaws.com".into(),
                    "203.0.113.5".parse().unwrap(),
                ),
            ],
        )
        .unwrap();
        dns.replace(
            "other",
            vec![(
                "web.shop.svc.other.cluster.local".into(),
                "10.104.9.9".parse().unwrap(),
            )],
        )
        .unwrap();
        let n = RuntimeNetwork {
            dataplane: DataPlane::new(),
            dns,
        };
        let two: Vec<IpAddr> = vec!["10.104.0.7".parse().unwrap(), "fd00::7".parse().unwrap()];
        assert_eq!(n.resolve("rt", "shop", "web").await.unwrap(), two);
        assert_eq!(n.resolve("rt", "default", "web.shop").await.unwrap(), two);
        assert_eq!(
            n.resolve("rt", "x", "web.shop.svc.cluster.local")
                .await
                .unwrap(),
            two
        );
        assert_eq!(
            n.resolve("rt", "x", "lb-1.elb.eu-central-1.amazonaws.com")
                .await
                .unwrap(),
            vec!["203.0.113.5".parse::<IpAddr>().unwrap()]
        );
        assert!(n.resolve("rt", "default", "web").await.unwrap().is_empty());
        // Another runtime's names are not this runtime's.
        assert_eq!(
            n.resolve("other", "shop", "web").await.unwrap(),
            vec!["10.104.9.9".parse::<IpAddr>().unwrap()]
        );
    }
}
