//! Pod rules: defaulting and create-time admission, validation (create and update),
//! scheduling, the statuses kubelet reports, and graceful deletion.
//!
//! Order used by the registry on create: [`set_defaults`] → [`admit_create`] →
//! [`validate_create`] → persist; on update: [`set_defaults`]`(new)` → [`validate_update`].
//! The pod controller then calls [`schedule`] and writes [`pending_status`] /
//! [`unschedulable_status`], allocates addresses ([`crate::podip`]) and writes
//! [`running_status`]; DELETE goes through [`plan_deletion`], and kubelet removes a terminating
//! pod once [`termination`] says its containers have exited.

pub mod bootstrap;
mod completion;
mod defaults;
mod schedule;
mod status;
mod terminate;
pub mod termination;
mod update;
mod validation;
pub mod volumes;

#[cfg(test)]
mod tests;

pub use completion::{completed_status, start_error, ContainerExit};
pub use defaults::{
    admit_create, image_tag, set_defaults, API_ACCESS_TOKEN_EXPIRATION_SECONDS,
    DEFAULT_SCHEDULER_NAME, DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS, DEFAULT_TOLERATION_SECONDS,
    SERVICE_ACCOUNT_MOUNT_PATH, TERMINATION_MESSAGE_PATH,
};
pub use schedule::{schedule, tolerates, NO_NODES_AVAILABLE};
pub use status::{
    hex64, image_id, node_internal_ips, normalize_image, pending_status, qos_class, running_status,
    unschedulable_status,
};
pub use terminate::{mark_terminating, plan_deletion, Deletion};
pub use update::{spec_diff, validate_update, UPDATE_FORBIDDEN};
pub use validation::{port_name_errors, validate_create, validate_spec, PORT_RANGE_ERROR};

use k8s_openapi::api::core::v1::Pod;

/// `podutil.IsPodReady`: the Ready condition is True.
pub fn is_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten()
        .any(|c| c.type_ == "Ready" && c.status == "True")
}

/// `podutil.IsPodTerminal`: phase Succeeded or Failed.
pub fn is_terminal(pod: &Pod) -> bool {
    matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded") | Some("Failed")
    )
}
