//! What a load balancer controller's reconcile of one Service returns: the shell carries it out.

use k8s_openapi::api::core::v1::LoadBalancerIngress;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Normal,
    Warning,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

/// An event about the Service, as the controller's event recorder writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub type_: EventType,
    pub reason: String,
    pub message: String,
    /// The recorder's component (`source.component` / `reportingController`), e.g.
    /// `service-controller` for the cloud-controller-manager's service controller.
    pub component: &'static str,
}

impl Event {
    pub fn normal(component: &'static str, reason: &str, message: impl Into<String>) -> Event {
        Event {
            type_: EventType::Normal,
            reason: reason.into(),
            message: message.into(),
            component,
        }
    }
    pub fn warning(component: &'static str, reason: &str, message: impl Into<String>) -> Event {
        Event {
            type_: EventType::Warning,
            reason: reason.into(),
            message: message.into(),
            component,
        }
    }
}

/// The outcome of reconciling one Service against the cloud; `R` is the cloud's inventory
/// record (an AWS load balancer, a GCP forwarding rule).
#[derive(Debug, Clone, PartialEq)]
pub struct Reconciled<R> {
    /// Events in the order the controllers record them.
    pub events: Vec<Event>,
    /// Finalizers the Service must carry after this pass (added when missing).
    pub add_finalizers: Vec<String>,
    /// Finalizers to remove (cleanup done).
    pub remove_finalizers: Vec<String>,
    /// `Some(list)`: write `status.loadBalancer.ingress` (empty list: clear it); `None`: leave it.
    pub ingress: Option<Vec<LoadBalancerIngress>>,
    /// Annotations the controller writes on the Service (`None` removes one).
    pub annotations: BTreeMap<String, Option<String>>,
    /// The inventory records this Service owns after this pass; records it owned before and
    /// are not here are deleted, unless named in `leaked`.
    pub resources: Vec<R>,
    /// Names of existing records left behind in the cloud (no controller will delete them).
    pub leaked: Vec<String>,
}

impl<R> Default for Reconciled<R> {
    fn default() -> Self {
        Reconciled {
            events: Vec::new(),
            add_finalizers: Vec::new(),
            remove_finalizers: Vec::new(),
            ingress: None,
            annotations: BTreeMap::new(),
            resources: Vec::new(),
            leaked: Vec::new(),
        }
    }
}
