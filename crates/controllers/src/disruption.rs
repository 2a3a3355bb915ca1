//! The disruption controller (`pkg/controller/disruption`): each PodDisruptionBudget's status
//! from the pods it selects ([`twinstack_kube::policy::status`], which keeps the condition's
//! transition time while it holds). Evictions (`pods/eviction`) are not served yet.

use super::{Ctl, World};

pub async fn sync(ctl: &Ctl, w: &World) {
    let now = jiff::Timestamp::now();
    let pods: Vec<&twinstack_kube::workloads::PodSummary> = w.pod_summaries.iter().collect();
    for pdb in &w.lists.poddisruptionbudgets {
        if pdb.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let status = twinstack_kube::policy::status(pdb, &pods, now);
        if let (Ok(stored), Ok(status)) =
            (serde_json::to_value(&**pdb), serde_json::to_value(&status))
        {
            // Written only when it changed.
            super::workloads::write_status(ctl, "policy", "poddisruptionbudgets", &stored, status)
                .await;
        }
    }
}
