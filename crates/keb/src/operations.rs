//! KEB's asynchronous operations as a client observes them: the stages each operation runs
//! through (`cmd/broker/provisioning.go`, `update.go`, `deprovisioning.go`: the step names
//! KEB's `StagedManager` records in `FinishedStages`), and the descriptions `last_operation`
//! reports (`internal/model.go` `NewProvisioningOperationWithID`, `staged_manager.go`
//! `Execute`, `instance_last_operation.go`).
//!
//! KEB's `last_operation` description stays `Operation created` while an operation runs and
//! becomes `Processing finished` when its last stage is done; the stages reached show in
//! `finishedStages` (the runtimes API, `twinstack runtime create`).

/// `last_operation` description of a running operation.
pub const OPERATION_CREATED: &str = "Operation created";
/// Description of an operation whose stages all finished (`StagedManager.Execute`).
pub const PROCESSING_FINISHED: &str = "Processing finished";
/// `responseFromInstanceArchived`: the answer for an operation of a deprovisioned instance.
pub const DEPROVISIONED: &str = "Operation succeeded. The instance was deprovisioned.";

/// Provisioning: one stage per step (`provisioning.go` defines stages from step names).
/// `Inject_BTP_Operator_Credentials` runs only when the context carries Service Manager
/// credentials (`WhenBTPOperatorCredentialsProvided`), which twinstack never receives.
pub const PROVISIONING_STAGES: &[&str] = &[
    "Starting",
    "Init_Kyma_Template",
    "Override_Kyma_Modules",
    "Resolve_Credentials_Binding",
    "Discover_Available_Zones_CredentialsBinding",
    "Generate_Runtime_ID",
    "Create_Resource_Names",
    "Create_Runtime_Resource",
    "Check_RuntimeResource_Provisioning",
    "Apply_Kyma",
];

/// The provisioning stage after which the cluster is ready (its API serves).
pub const PROVISIONING_RUNTIME_READY: &str = "Check_RuntimeResource_Provisioning";

/// Update: the stages of `update.go` that have steps.
pub const UPDATE_STAGES: &[&str] = &[
    "cluster",
    "runtime_resource",
    "check_runtime_resource",
    "kyma_resource",
];

/// Deprovisioning: one stage per step (`deprovisioning.go`).
pub const DEPROVISIONING_STAGES: &[&str] = &[
    "Initialisation",
    "BTPOperator_Cleanup",
    "Delete_Kyma_Resource",
    "Check_Kyma_Resource_Deleted",
    "Delete_Runtime_Resource",
    "Check_RuntimeResource_Deletion",
    "Free_Credentials_Binding_Step",
    "Archiving",
    "Remove_Instance",
    "Clean",
];

/// The deprovisioning stage that removes the instance (and with it, in twinstack, the
/// runtime, its operations and bindings, archiving the instance).
pub const DEPROVISIONING_REMOVES_INSTANCE: &str = "Remove_Instance";

/// How long each stage takes when a whole operation takes `total_ms`: evenly split, so an
/// operation time of 0 runs every stage at once.
pub fn stage_duration_ms(total_ms: u64, stages: usize) -> u64 {
    total_ms / stages.max(1) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_tables() {
        assert_eq!(PROVISIONING_STAGES.len(), 10);
        assert!(PROVISIONING_STAGES.contains(&PROVISIONING_RUNTIME_READY));
        assert!(DEPROVISIONING_STAGES.contains(&DEPROVISIONING_REMOVES_INSTANCE));
        assert_eq!(stage_duration_ms(2000, 10), 200);
        assert_eq!(stage_duration_ms(0, 10), 0);
        assert_eq!(stage_duration_ms(5, 0), 5);
    }
}
