//! The Deployment controller (`pkg/controller/deployment`): a ReplicaSet per template named
//! `<deployment>-<pod-template-hash>`, rolling replacement within maxSurge and maxUnavailable
//! (`rolling.go`) or Recreate (`recreate.go`), scaling, revision history limited by
//! `revisionHistoryLimit` (`sync.go` `cleanupDeployment`), and the status and conditions that
//! `kubectl rollout status` reads (`syncRolloutStatus`).

use super::{controller_ref, template_hash};
use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet, ReplicaSetSpec,
};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

pub const HASH_LABEL: &str = "pod-template-hash";
pub const REVISION: &str = "deployment.kubernetes.io/revision";
pub const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
pub const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";

/// A ReplicaSet to scale, and the Deployment's replicas it records (`desired-replicas`).
#[derive(Debug, PartialEq, Eq)]
pub struct Scale {
    pub name: String,
    pub from: i32,
    pub to: i32,
}

impl Scale {
    /// The `ScalingReplicaSet` event's message.
    pub fn message(&self) -> String {
        let verb = if self.to > self.from { "up" } else { "down" };
        format!(
            "Scaled {verb} replica set {} from {} to {}",
            self.name, self.from, self.to
        )
    }
}

/// What one pass does for a Deployment.
#[derive(Debug, PartialEq)]
pub struct Plan {
    /// A ReplicaSet for the current template, when none of the Deployment's has it.
    pub create: Option<ReplicaSet>,
    /// ReplicaSets to scale, in order.
    pub scale: Vec<Scale>,
    /// Names of old ReplicaSets beyond `revisionHistoryLimit`, to delete.
    pub delete: Vec<String>,
    /// The status once the plan is carried out (written only if the create succeeds).
    pub status: DeploymentStatus,
    /// The `deployment.kubernetes.io/revision` annotation the Deployment takes.
    pub revision: Option<i64>,
}

/// The pod template without the `pod-template-hash` label (`EqualIgnoreHash`).
fn without_hash(t: &PodTemplateSpec) -> PodTemplateSpec {
    let mut t = t.clone();
    if let Some(l) = t.metadata.as_mut().and_then(|m| m.labels.as_mut()) {
        l.remove(HASH_LABEL);
    }
    t
}

/// `intstr.GetScaledValueFromIntOrPercent` (a malformed percentage counts as 0).
fn scaled(v: Option<&IntOrString>, total: i64, round_up: bool) -> i64 {
    match v {
        None => 0,
        Some(IntOrString::Int(i)) => *i as i64,
        Some(IntOrString::String(s)) => {
            let Some(p) = s.strip_suffix('%').and_then(|p| p.parse::<i64>().ok()) else {
                return 0;
            };
            if round_up {
                (p * total + 99) / 100
            } else {
                p * total / 100
            }
        }
    }
}

/// (maxSurge, maxUnavailable) of a RollingUpdate deployment (`ResolveFenceposts`).
pub fn fenceposts(d: &Deployment, desired: i64) -> (i64, i64) {
    let ru = d
        .spec
        .as_ref()
        .and_then(|s| s.strategy.as_ref())
        .and_then(|s| s.rolling_update.as_ref());
    let surge = scaled(ru.and_then(|r| r.max_surge.as_ref()), desired, true);
    let mut unavailable = scaled(ru.and_then(|r| r.max_unavailable.as_ref()), desired, false);
    if surge == 0 && unavailable == 0 {
        unavailable = 1;
    }
    (surge, unavailable)
}

/// The `deployment.kubernetes.io/revision` of a ReplicaSet (0 when absent).
pub fn revision_of(rs: &ReplicaSet) -> i64 {
    rs.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(REVISION))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn spec_replicas(rs: &ReplicaSet) -> i64 {
    rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0) as i64
}

fn status_replicas(rs: &ReplicaSet) -> i64 {
    rs.status.as_ref().map_or(0, |s| s.replicas) as i64
}

fn status_available(rs: &ReplicaSet) -> i64 {
    rs.status
        .as_ref()
        .and_then(|s| s.available_replicas)
        .unwrap_or(0) as i64
}

fn status_ready(rs: &ReplicaSet) -> i64 {
    rs.status
        .as_ref()
        .and_then(|s| s.ready_replicas)
        .unwrap_or(0) as i64
}

fn int32(n: i64) -> i32 {
    n.clamp(i32::MIN as i64, i32::MAX as i64) as i32
}

/// One pass of the Deployment controller over `d` and the ReplicaSets it controls (not being
/// deleted). `None` when there is nothing to do (a paused Deployment without a ReplicaSet for
/// its template).
pub fn plan(d: &Deployment, owned: &[&ReplicaSet], now: jiff::Timestamp) -> Option<Plan> {
    let spec = d.spec.clone().unwrap_or_default();
    let desired = spec.replicas.unwrap_or(0).max(0) as i64;
    let template = &spec.template;
    let new_rs = owned.iter().copied().find(|r| {
        r.spec
            .as_ref()
            .and_then(|s| s.template.as_ref())
            .map(without_hash)
            .as_ref()
            == Some(template)
    });
    let mut old: Vec<&ReplicaSet> = owned
        .iter()
        .copied()
        .filter(|r| new_rs.is_none_or(|n| n.metadata.uid != r.metadata.uid))
        .collect();
    old.sort_by_key(|r| {
        (
            r.metadata.creation_timestamp.as_ref().map(|t| t.0),
            r.metadata.name.clone(),
        )
    });
    let recreate = spec.strategy.as_ref().and_then(|s| s.type_.as_deref()) == Some("Recreate");
    let (surge, unavailable) = if recreate {
        (0, desired)
    } else {
        fenceposts(d, desired)
    };
    let paused = spec.paused == Some(true);
    let old_spec: i64 = old.iter().map(|r| spec_replicas(r)).sum();
    let Some(new_rs) = new_rs else {
        if paused {
            return None;
        }
        let old_active: i64 = old.iter().map(|r| status_replicas(r)).sum();
        let replicas = if recreate {
            if old_spec + old_active > 0 {
                0
            } else {
                desired
            }
        } else if old_spec == 0 {
            desired
        } else {
            (desired + surge - old_spec).clamp(0, desired)
        };
        let revision = owned.iter().map(|r| revision_of(r)).max().unwrap_or(0) + 1;
        let rs = new_replica_set(d, replicas, desired, surge, revision);
        let status = status(
            d,
            owned,
            None,
            desired,
            unavailable,
            rs.metadata.name.as_deref(),
            now,
        );
        return Some(Plan {
            create: Some(rs),
            scale: vec![],
            delete: vec![],
            status,
            revision: None,
        });
    };
    let mut scale = Vec::new();
    let mut delete = Vec::new();
    if !paused {
        let new_spec = spec_replicas(new_rs);
        let mut to = |r: &ReplicaSet, n: i64| {
            scale.push(Scale {
                name: r.metadata.name.clone().unwrap_or_default(),
                from: int32(spec_replicas(r)),
                to: int32(n),
            })
        };
        if recreate {
            for r in &old {
                if spec_replicas(r) > 0 {
                    to(r, 0);
                }
            }
            let old_pods: i64 = old.iter().map(|r| status_replicas(r)).sum();
            if old_pods == 0 && old_spec == 0 && new_spec != desired {
                to(new_rs, desired);
            }
        } else {
            // Scale the new ReplicaSet up within maxSurge (or down when replicas shrank).
            let mut new_target = new_spec;
            if old_spec == 0 {
                new_target = desired;
            } else if new_spec < desired {
                let allowed = desired + surge - (old_spec + new_spec);
                if allowed > 0 {
                    new_target = (new_spec + allowed).min(desired);
                }
            } else if new_spec > desired {
                new_target = desired;
            }
            if new_target != new_spec {
                to(new_rs, new_target);
            }
            // Scale old ReplicaSets down while keeping minAvailable (`reconcileOldReplicaSets`).
            if old_spec > 0 {
                let min_available = desired - unavailable;
                let new_unavailable = (new_target - status_available(new_rs)).max(0);
                let all_pods = old_spec + new_target;
                let mut budget = all_pods - min_available - new_unavailable;
                let mut targets: Vec<i64> = old.iter().map(|r| spec_replicas(r)).collect();
                if budget > 0 {
                    // Unhealthy replicas of old ReplicaSets go first (`cleanupUnhealthyReplicas`).
                    for (i, r) in old.iter().enumerate() {
                        let unhealthy = (targets[i] - status_available(r)).max(0);
                        let n = unhealthy.min(budget);
                        targets[i] -= n;
                        budget -= n;
                    }
                    let available: i64 = old.iter().map(|r| status_available(r)).sum::<i64>()
                        + status_available(new_rs);
                    let mut more = (available - min_available).max(0).min(budget);
                    for t in targets.iter_mut() {
                        let n = (*t).min(more);
                        *t -= n;
                        more -= n;
                    }
                }
                for (i, r) in old.iter().enumerate() {
                    if targets[i] != spec_replicas(r) {
                        to(r, targets[i]);
                    }
                }
            }
        }
        // Revision history: old ReplicaSets at zero beyond revisionHistoryLimit go.
        let limit = spec.revision_history_limit.unwrap_or(10) as i64;
        let idle: Vec<&&ReplicaSet> = old
            .iter()
            .filter(|r| spec_replicas(r) == 0 && status_replicas(r) == 0)
            .collect();
        if idle.len() as i64 > limit {
            delete = idle
                .iter()
                .take(idle.len() - limit.max(0) as usize)
                .map(|r| r.metadata.name.clone().unwrap_or_default())
                .collect();
        }
    }
    let rev = revision_of(new_rs);
    Some(Plan {
        create: None,
        scale,
        delete,
        status: status(d, owned, Some(new_rs), desired, unavailable, None, now),
        revision: Some(rev).filter(|r| *r > 0),
    })
}

/// The ReplicaSet for the Deployment's current template (`getNewReplicaSet`).
fn new_replica_set(
    d: &Deployment,
    replicas: i64,
    desired: i64,
    surge: i64,
    revision: i64,
) -> ReplicaSet {
    let spec = d.spec.clone().unwrap_or_default();
    let collision = d.status.as_ref().and_then(|s| s.collision_count);
    let hash = template_hash(Some(&spec.template), collision);
    let mut t = spec.template.clone();
    let tm = t.metadata.get_or_insert_with(Default::default);
    tm.labels
        .get_or_insert_with(Default::default)
        .insert(HASH_LABEL.into(), hash.clone());
    let mut selector = spec.selector.clone();
    selector
        .match_labels
        .get_or_insert_with(Default::default)
        .insert(HASH_LABEL.into(), hash.clone());
    let labels = tm.labels.clone();
    let name = format!("{}-{hash}", d.metadata.name.as_deref().unwrap_or(""));
    ReplicaSet {
        metadata: ObjectMeta {
            name: Some(name),
            namespace: d.metadata.namespace.clone(),
            labels,
            annotations: Some(BTreeMap::from([
                (DESIRED_REPLICAS.to_string(), desired.to_string()),
                (MAX_REPLICAS.to_string(), (desired + surge).to_string()),
                (REVISION.to_string(), revision.to_string()),
            ])),
            owner_references: Some(vec![controller_ref("apps/v1", "Deployment", &d.metadata)]),
            ..Default::default()
        },
        spec: Some(ReplicaSetSpec {
            replicas: Some(int32(replicas)),
            min_ready_seconds: Some(spec.min_ready_seconds.unwrap_or(0)),
            selector,
            template: Some(t),
        }),
        status: None,
    }
}

/// A condition of the new status: its times carried from the old one where upstream keeps them
/// (`SetDeploymentCondition`: the transition time while the status is unchanged, the update
/// time while nothing changed).
fn condition(
    old: Option<&DeploymentStatus>,
    ty: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: jiff::Timestamp,
) -> DeploymentCondition {
    let prev = old
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == ty));
    let same_status = prev.is_some_and(|c| c.status == status);
    let same_all = same_status
        && prev.is_some_and(|c| {
            c.reason.as_deref() == Some(reason) && c.message.as_deref() == Some(message)
        });
    let now = Time(now);
    let transition = match prev {
        Some(c) if same_status => c.last_transition_time.clone().unwrap_or(now.clone()),
        _ => now.clone(),
    };
    let update = match prev {
        Some(c) if same_all => c.last_update_time.clone().unwrap_or(now.clone()),
        _ => now,
    };
    DeploymentCondition {
        type_: ty.into(),
        status: status.into(),
        last_update_time: Some(update),
        last_transition_time: Some(transition),
        reason: Some(reason.into()),
        message: Some(message.into()),
    }
}

/// The Deployment's status (`calculateStatus` and `syncRolloutStatus`); `created` names the
/// ReplicaSet this pass creates.
fn status(
    d: &Deployment,
    owned: &[&ReplicaSet],
    new_rs: Option<&ReplicaSet>,
    desired: i64,
    max_unavailable: i64,
    created: Option<&str>,
    now: jiff::Timestamp,
) -> DeploymentStatus {
    let replicas: i64 = owned.iter().map(|r| status_replicas(r)).sum();
    let ready: i64 = owned.iter().map(|r| status_ready(r)).sum();
    let available: i64 = owned.iter().map(|r| status_available(r)).sum();
    let updated = new_rs.map_or(0, status_replicas);
    let old = d.status.as_ref();
    let avail = if available >= desired - max_unavailable {
        condition(
            old,
            "Available",
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.",
            now,
        )
    } else {
        condition(
            old,
            "Available",
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
            now,
        )
    };
    let rs_name = new_rs
        .and_then(|r| r.metadata.name.clone())
        .or(created.map(String::from));
    let complete = new_rs.is_some_and(|r| spec_replicas(r) == desired)
        && updated == desired
        && replicas == desired
        && available >= desired;
    let (reason, message) = match (&rs_name, created) {
        (Some(n), Some(_)) => (
            "NewReplicaSetCreated",
            format!("Created new replica set \"{n}\""),
        ),
        (Some(n), None) if complete => (
            "NewReplicaSetAvailable",
            format!("ReplicaSet \"{n}\" has successfully progressed."),
        ),
        (Some(n), None) => (
            "ReplicaSetUpdated",
            format!("ReplicaSet \"{n}\" is progressing."),
        ),
        (None, _) => ("ReplicaSetUpdated", String::new()),
    };
    let progress = condition(old, "Progressing", "True", reason, &message, now);
    DeploymentStatus {
        observed_generation: Some(d.metadata.generation.unwrap_or(0)),
        replicas: Some(int32(replicas)),
        updated_replicas: Some(int32(updated)),
        ready_replicas: Some(int32(ready)).filter(|n| *n > 0),
        available_replicas: Some(int32(available)).filter(|n| *n > 0),
        unavailable_replicas: Some(int32(desired - available)).filter(|n| *n > 0),
        collision_count: old.and_then(|s| s.collision_count),
        // Upstream lists Available first, then Progressing.
        conditions: Some(vec![avail, progress]),
    }
}
