//! `PUT /expire/service_instance/{instance_id}` as KEB answers it
//! (`internal/expiration/handler.go` `expireInstance`, `setInstanceExpirationTime`,
//! `suspendInstance`, `deactivateInstance`).

use serde_json::{json, Value};

use super::runtimes::OperationState;
use super::ApiError;

/// What the broker knows about the instance (`instances.GetByID`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpirationInstance {
    pub plan_id: String,
    /// `ExpiredAt != nil`.
    pub expired: bool,
    /// `Parameters.ErsContext.Active`.
    pub active: Option<bool>,
}

/// The newest `deprovision` operation of the instance in any state
/// (`GetLastOperationByTypesWithAllStates(id, [deprovision])`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastDeprovisioning {
    pub id: String,
    pub state: OperationState,
    /// A suspension (`Temporary`); only changes KEB's log line.
    pub temporary: bool,
    /// `ExcutedButNotCompleted` is non-empty (steps to retry).
    pub has_steps_to_retry: bool,
}

/// What to do about the suspension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Suspension {
    /// A deprovisioning/suspension is pending or in progress, or succeeded with nothing to retry:
    /// answer with its ID, create nothing.
    Existing(String),
    /// Create a suspension operation and queue it for the deprovisioning process
    /// (`internal.NewSuspensionOperationWithID`): new UUID, `type: deprovision`, `temporary: true`,
    /// `state: pending`, `description: "Operation created"`, `finishedStages: []`, the instance's
    /// details and provisioning parameters; then `deprovisioningQueue.Add(id)`.
    Create,
}

/// The accepted expiration: the steps in KEB's order, then `202 {"operation": <id>}` ([`accepted_body`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expiration {
    /// 1. `expired_at = now (UTC)` and store the instance (false: already expired, nothing written).
    pub set_expired_at: bool,
    /// 2. The suspension.
    pub suspension: Suspension,
    /// 3. `ers_context.active = false` and store the instance (false: already `false`).
    pub deactivate: bool,
}

/// KEB's decision. `plan_name_of` maps a plan ID to its name (`AvailablePlans.GetPlanNameOrEmpty`);
/// [`decide`] uses this crate's plans.
///
/// Errors: 404 with the storage's not-found text `Instance with id <id> not exist`; 400
/// `unsupported plan: <plan name or "">` for any plan but `trial` and `free`. A storage error in
/// any step is KEB's 500 with the error text (earlier steps stay done).
pub fn decide_with(
    instance_id: &str,
    instance: Option<&ExpirationInstance>,
    last_deprovisioning: Option<&LastDeprovisioning>,
    plan_name_of: impl Fn(&str) -> String,
) -> Result<Expiration, ApiError> {
    let Some(instance) = instance else {
        return Err(ApiError::new(
            404,
            format!("Instance with id {instance_id} not exist"),
        ));
    };
    let trial = crate::plans::Plan::Trial.id();
    let free = crate::plans::Plan::Free.id();
    if instance.plan_id != trial && instance.plan_id != free {
        return Err(ApiError::new(
            400,
            format!("unsupported plan: {}", plan_name_of(&instance.plan_id)),
        ));
    }
    let suspension = match last_deprovisioning {
        Some(op) => match op.state {
            OperationState::Pending | OperationState::InProgress => {
                Suspension::Existing(op.id.clone())
            }
            OperationState::Succeeded if !op.has_steps_to_retry => {
                Suspension::Existing(op.id.clone())
            }
            _ => Suspension::Create,
        },
        None => Suspension::Create,
    };
    Ok(Expiration {
        set_expired_at: !instance.expired,
        suspension,
        deactivate: instance.active != Some(false),
    })
}

/// [`decide_with`] with this crate's plan table for the plan name.
pub fn decide(
    instance_id: &str,
    instance: Option<&ExpirationInstance>,
    last_deprovisioning: Option<&LastDeprovisioning>,
) -> Result<Expiration, ApiError> {
    decide_with(instance_id, instance, last_deprovisioning, |id| {
        crate::plans::plan_by_id(id)
            .map(|p| p.name.to_string())
            .unwrap_or_default()
    })
}

/// The 202 body: `{"operation": "<suspension operation ID>"}` (`expirationResponse`).
pub fn accepted_body(operation_id: &str) -> Value {
    json!({ "operation": operation_id })
}

/// Status of the accepted answer.
pub const ACCEPTED: u16 = 202;
