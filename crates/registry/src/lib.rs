//! The registry: kube-apiserver's generic store for every served kind, over the embedded store.
//!
//! It holds each kind's strategy ([`kinds`]: defaulting, validation, Tables, field selectors),
//! the driver that runs a strategy's hooks in upstream's order ([`strategy`]), the one write
//! path that runs it inside a store transaction ([`registry`]: create, update, patch, apply,
//! delete with preconditions, dry run and field validation), the conditional writes
//! controllers make ([`conditional`]), the address
//! allocators whose keys are written in the same transaction ([`alloc`]), managed fields,
//! request-body decoding with Go's texts ([`decode`]) and the runtimes' records ([`runtimes`]).
//! What a runtime serves is [`registry::Registry::kinds_for`]: the built-in kinds and one kind per
//! served version of each established CustomResourceDefinition of that runtime
//! ([`kinds::crd`]).
//! It knows nothing of HTTP (that is `twinstack-api`) or of controllers (`twinstack-controllers`
//! write through it); the rules it applies live in the pure crates (`twinstack-core`,
//! `twinstack-kube`).

// `Status` is the API's error value; it is large, but it is built once on the error path and
// turned into a response, so boxing it would only add noise.
#![allow(clippy::result_large_err)]

pub mod alloc;
pub mod cloud_inventory;
pub mod conditional;
pub mod custom_scale;
pub mod decode;
pub mod keys;
pub mod kinds;
pub mod managed;
pub mod registry;
pub mod runtimes;
mod scale;
pub mod store_ext;
pub mod strategy;
pub mod tokens;

use kinds::Kind;
use std::sync::Arc;

/// Every kind the API serves, in discovery order.
pub fn all_kinds() -> Vec<Arc<dyn Kind>> {
    let mut kinds: Vec<Arc<dyn Kind>> = vec![
        Arc::new(kinds::namespace::NamespaceKind),
        Arc::new(kinds::service::ServiceKind),
        Arc::new(kinds::config::ConfigMapKind),
        Arc::new(kinds::config::SecretKind),
        Arc::new(kinds::serviceaccount::ServiceAccountKind),
        Arc::new(kinds::node::NodeKind),
        Arc::new(kinds::pod::PodKind),
        Arc::new(kinds::endpointslice::EndpointSliceKind),
        Arc::new(kinds::endpointslice::EndpointsKind),
        Arc::new(kinds::event::EventKind),
        Arc::new(kinds::volume::PersistentVolumeClaimKind),
        Arc::new(kinds::volume::PersistentVolumeKind),
        Arc::new(kinds::workload::DeploymentKind),
        Arc::new(kinds::workload::ReplicaSetKind),
        Arc::new(kinds::workload::ReplicationControllerKind),
        Arc::new(kinds::workload::SetKind {
            info: &kinds::workload::STATEFULSET,
        }),
        Arc::new(kinds::workload::SetKind {
            info: &kinds::workload::DAEMONSET,
        }),
        Arc::new(kinds::batch::JobKind),
        Arc::new(kinds::batch::CronJobKind),
        Arc::new(kinds::policy::PodDisruptionBudgetKind),
        Arc::new(kinds::autoscaling::HorizontalPodAutoscalerKind),
        Arc::new(kinds::rbac::RbacKind {
            info: &kinds::rbac::ROLE,
        }),
        Arc::new(kinds::rbac::RbacKind {
            info: &kinds::rbac::CLUSTER_ROLE,
        }),
        Arc::new(kinds::rbac::RbacKind {
            info: &kinds::rbac::ROLE_BINDING,
        }),
        Arc::new(kinds::rbac::RbacKind {
            info: &kinds::rbac::CLUSTER_ROLE_BINDING,
        }),
        Arc::new(kinds::crd::CrdKind),
    ];
    kinds.extend(
        kinds::stored::StoredKind::all()
            .into_iter()
            .map(|k| Arc::new(k) as Arc<dyn Kind>),
    );
    kinds
}

#[cfg(test)]
mod testutil;
