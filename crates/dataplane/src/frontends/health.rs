//! Target health as an NLB measures it: each target probed every interval (TCP connect or an
//! HTTP GET through the same path traffic takes), `healthy` after the healthy threshold of
//! successes in a row and `unhealthy` after the unhealthy threshold of failures; new targets are
//! `initial`. Traffic goes to healthy targets; when none is healthy it goes to all of them
//! ("fail open", as NLB does). kube-proxy's health check node port (`externalTrafficPolicy:
//! Local`) answers healthy only on nodes with a local endpoint.

use super::{FrontendSpec, HealthCheck, Live, Serve, Target, TargetHealthView};
use crate::workloads::{Context, Instance, Request, Server};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Debug, Clone, Copy, Default)]
struct State {
    /// `None` while initial.
    healthy: Option<bool>,
    ok: u32,
    failed: u32,
}

/// The health of a frontend's targets, by target id.
#[derive(Debug, Default)]
pub struct Health {
    states: Mutex<HashMap<String, State>>,
}

impl Health {
    pub fn new(spec: &FrontendSpec) -> Health {
        let h = Health::default();
        h.retarget(spec);
        h
    }

    /// Keeps the state of targets still there; new ones start initial.
    pub fn retarget(&self, spec: &FrontendSpec) {
        let mut st = self.states.lock().unwrap_or_else(|e| e.into_inner());
        let mut next = HashMap::with_capacity(spec.targets.len());
        for t in &spec.targets {
            next.insert(t.id.clone(), st.get(&t.id).copied().unwrap_or_default());
        }
        *st = next;
    }

    /// The indices of the targets new flows may go to.
    pub fn eligible(&self, spec: &FrontendSpec) -> Vec<usize> {
        let all: Vec<usize> = (0..spec.targets.len()).collect();
        if spec.health.is_none() {
            return all;
        }
        let st = self.states.lock().unwrap_or_else(|e| e.into_inner());
        let healthy: Vec<usize> = all
            .iter()
            .copied()
            .filter(|&i| {
                st.get(&spec.targets[i].id)
                    .is_some_and(|s| s.healthy == Some(true))
            })
            .collect();
        if healthy.is_empty() {
            all
        } else {
            healthy
        }
    }

    pub fn view(&self, spec: &FrontendSpec) -> Vec<TargetHealthView> {
        let st = self.states.lock().unwrap_or_else(|e| e.into_inner());
        spec.targets
            .iter()
            .map(|t| TargetHealthView {
                id: t.id.clone(),
                state: match (spec.health.is_some(), st.get(&t.id).and_then(|s| s.healthy)) {
                    (false, _) => "unused",
                    (true, None) => "initial",
                    (true, Some(true)) => "healthy",
                    (true, Some(false)) => "unhealthy",
                },
                endpoints: t.backends.len(),
            })
            .collect()
    }

    fn record(&self, id: &str, ok: bool, hc: &HealthCheck) {
        let mut st = self.states.lock().unwrap_or_else(|e| e.into_inner());
        let Some(s) = st.get_mut(id) else { return };
        if ok {
            s.ok += 1;
            s.failed = 0;
            if s.ok >= hc.healthy_threshold.max(1) {
                s.healthy = Some(true);
            }
        } else {
            s.failed += 1;
            s.ok = 0;
            if s.failed >= hc.unhealthy_threshold.max(1) {
                s.healthy = Some(false);
            }
        }
    }
}

/// Probes a live frontend's targets until it is dropped.
pub fn spawn(
    live: Weak<Live>,
    get: fn(&Live) -> (Arc<FrontendSpec>, Arc<Health>),
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut round: usize = 0;
        loop {
            let Some((spec, health)) = live.upgrade().map(|l| get(&l)) else {
                return;
            };
            let Some(hc) = spec.health.clone() else {
                return;
            };
            for t in &spec.targets {
                let ok = probe(t, &hc, round).await;
                health.record(&t.id, ok, &hc);
            }
            round = round.wrapping_add(1);
            tokio::time::sleep(hc.interval.max(Duration::from_millis(200))).await;
        }
    })
}

async fn probe(t: &Target, hc: &HealthCheck, round: usize) -> bool {
    // kube-proxy's health check node port: 200 with a local endpoint, 503 without.
    if t.health_check_node_port.is_some() {
        return !t.backends.is_empty();
    }
    if t.backends.is_empty() {
        return false;
    }
    let b = &t.backends[round % t.backends.len()];
    let port = b.endpoint.address.port();
    let path = hc.path.clone().unwrap_or_else(|| "/".into());
    match b.pod.serve(port) {
        Serve::Refuse => false,
        Serve::Builtin(w) => {
            if hc.protocol != "HTTP" {
                return true;
            }
            let ctx = Context {
                hostname: b.pod.hostname.clone(),
                pod_ips: b.pod.ips.clone(),
                peer: b.endpoint.address,
                now: jiff::Timestamp::now(),
            };
            let req = Request {
                method: "GET".into(),
                target: path,
                version: "HTTP/1.1",
                headers: vec![("User-Agent".into(), "ELB-HealthChecker/2.0".into())],
                body: Vec::new(),
            };
            let status = Instance {
                workload: &w,
                ctx: &ctx,
            }
            .handle(&req)
            .status;
            (200..400).contains(&status)
        }
        Serve::Local(addr) => {
            let attempt = async {
                let mut s = tokio::net::TcpStream::connect(addr).await?;
                if hc.protocol != "HTTP" {
                    return Ok::<bool, std::io::Error>(true);
                }
                s.write_all(
                    format!(
                        "GET {path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: ELB-HealthChecker/2.0\r\nConnection: close\r\n\r\n",
                        b.endpoint.address
                    )
                    .as_bytes(),
                )
                .await?;
                let mut head = [0u8; 12];
                s.read_exact(&mut head).await?;
                let code: u16 = std::str::from_utf8(&head[9..12])
                    .ok()
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(0);
                Ok((200..400).contains(&code))
            };
            matches!(
                tokio::time::timeout(hc.timeout.max(Duration::from_millis(100)), attempt).await,
                Ok(Ok(true))
            )
        }
    }
}
