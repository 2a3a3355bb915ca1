//! The background run of one operation through KEB's stages (KEB's `StagedManager.Execute`):
//! each stage waits its share of the operation time, does what it stands for in twinstack,
//! and is recorded in the operation's `finishedStages` under the instance's lock.
//!
//! What the stages do here: provisioning's `Check_RuntimeResource_Provisioning` creates what
//! the runtime is made of and serves it (its kubeconfig appears); deprovisioning's
//! `Remove_Instance` deletes the runtime, the instance, its operations and bindings and
//! archives the instance. The other stages only take time.

use super::*;
use twinstack_keb::operations::{
    stage_duration_ms, DEPROVISIONING_REMOVES_INSTANCE, DEPROVISIONING_STAGES, PROCESSING_FINISHED,
    PROVISIONING_RUNTIME_READY, PROVISIONING_STAGES, UPDATE_STAGES,
};

fn stages(kind: OperationType) -> &'static [&'static str] {
    match kind {
        OperationType::Provision => PROVISIONING_STAGES,
        OperationType::Update => UPDATE_STAGES,
        OperationType::Deprovision => DEPROVISIONING_STAGES,
    }
}

/// What a stage left to do.
enum Next {
    Continue,
    /// The operation ended (failed, superseded, or its records are gone with the instance).
    Stop,
}

/// Runs `operation` from the first stage it has not finished to its end.
pub(super) async fn run(broker: Arc<Broker>, operation: String) {
    let Some(op) = broker.operation(&operation) else {
        return;
    };
    let all = stages(op.kind);
    let pause = std::time::Duration::from_millis(stage_duration_ms(
        broker.settings.operation_time.as_millis() as u64,
        all.len(),
    ));
    for stage in all.iter().skip(op.finished_stages.len()) {
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
        match broker.finish_stage(&operation, stage).await {
            Next::Continue => {}
            Next::Stop => return,
        }
    }
    broker.finish(&operation).await;
}

impl Broker {
    /// Does what `stage` stands for and records it, if the operation still runs.
    async fn finish_stage(&self, operation: &str, stage: &str) -> Next {
        let Some(op) = self.operation(operation) else {
            return Next::Stop;
        };
        let _instance = self.instance_locks.lock(&op.instance_id).await;
        // Re-read under the lock: another request may have ended or superseded it.
        let (Some(mut op), Some(inst)) =
            (self.operation(operation), self.instance(&op.instance_id))
        else {
            return Next::Stop;
        };
        if op.state != OperationState::InProgress {
            return Next::Stop;
        }
        match (op.kind, stage) {
            (OperationType::Provision, _) if self.deprovisioning(&inst).is_some() => {
                // A deprovisioning took over; it removes the operation with the instance.
                return Next::Stop;
            }
            (OperationType::Provision, PROVISIONING_RUNTIME_READY) => {
                if let Err(e) = self.make_runtime(&inst).await {
                    op.state = OperationState::Failed;
                    op.description = format!("provisioning failed: {e:#}");
                    self.save(&op).await;
                    return Next::Stop;
                }
            }
            (OperationType::Deprovision, DEPROVISIONING_REMOVES_INSTANCE) if op.temporary => {
                // A suspension: the runtime goes, the instance (and its records) stay.
                if let Err(e) = self.suspend_runtime(&inst).await {
                    op.state = OperationState::Failed;
                    op.description = format!("suspension failed: {e}");
                    self.save(&op).await;
                    return Next::Stop;
                }
            }
            (OperationType::Deprovision, DEPROVISIONING_REMOVES_INSTANCE) => {
                return match self.remove_instance(&inst).await {
                    Ok(()) => Next::Stop,
                    Err(e) => {
                        op.state = OperationState::Failed;
                        op.description = format!("deprovisioning failed: {e}");
                        self.save(&op).await;
                        Next::Stop
                    }
                };
            }
            _ => {}
        }
        op.finished_stages.push(stage.to_string());
        op.updated_at = twinstack_registry::registry::now_rfc3339();
        self.save(&op).await;
        Next::Continue
    }

    /// Every stage is done: `succeeded`, `Processing finished`.
    async fn finish(&self, operation: &str) {
        let Some(op) = self.operation(operation) else {
            return;
        };
        let _instance = self.instance_locks.lock(&op.instance_id).await;
        let Some(mut op) = self
            .operation(operation)
            .filter(|o| o.state == OperationState::InProgress)
        else {
            return;
        };
        op.state = OperationState::Succeeded;
        op.description = PROCESSING_FINISHED.into();
        op.updated_at = twinstack_registry::registry::now_rfc3339();
        self.save(&op).await;
        tracing::info!(instance = %op.instance_id, operation = %op.id, kind = op.kind.as_str(), "operation succeeded");
    }

    async fn save(&self, op: &Operation) {
        let o = op.clone();
        if let Err(e) = self
            .store()
            .txn(move |txn| {
                put_json(txn, &operation_key(&o.id), &o);
                Ok::<_, std::convert::Infallible>(())
            })
            .await
        {
            tracing::error!(operation = %op.id, "recording the operation: {e}");
        }
    }

    /// The runtime of a provisioning instance, made and served (idempotent, so a restart
    /// completes one it interrupted).
    async fn make_runtime(&self, inst: &Instance) -> anyhow::Result<()> {
        let _name = self.platform.runtime_locks.lock(&inst.runtime).await;
        let rt = match self
            .platform
            .registry
            .runtime(&inst.runtime)
            .filter(|rt| rt.record.instance_id == inst.instance_id)
        {
            Some(rt) => rt,
            None => {
                let kv = self
                    .store()
                    .get(&directory::runtime_key(&inst.runtime))?
                    .ok_or_else(|| anyhow::anyhow!("runtime {} is not recorded", inst.runtime))?;
                let record: twinstack_registry::runtimes::RuntimeRecord =
                    serde_json::from_slice(&kv.value)?;
                anyhow::ensure!(
                    record.instance_id == inst.instance_id,
                    "runtime {} belongs to another instance",
                    inst.runtime
                );
                let rt = Arc::new(Runtime::new(record)?);
                self.platform.registry.insert_runtime(rt.clone());
                rt
            }
        };
        self.platform.complete(rt, &runtime_spec(inst)).await
    }

    /// Deletes the runtime of a suspended instance (KEB's suspension deletes the cluster and
    /// keeps the instance).
    async fn suspend_runtime(&self, inst: &Instance) -> Result<(), String> {
        self.delete_runtime_of(inst, |_| {}, "suspended").await
    }

    /// Deletes the instance, its operations, bindings and (if it owns it) its runtime in one
    /// transaction, and archives the instance (KEB's `Archiving` + `Remove_Instance`).
    async fn remove_instance(&self, inst: &Instance) -> Result<(), String> {
        let archived = ArchivedInstance {
            instance_id: inst.instance_id.clone(),
            plan_id: inst.plan_id.clone(),
            runtime: inst.runtime.clone(),
            deprovisioned_at: twinstack_registry::registry::now_rfc3339(),
        };
        let (bindings, _) = self
            .store()
            .list(&bindings::prefix(&inst.instance_id))
            .map_err(|e| e.to_string())?;
        let binding_keys: Vec<String> = bindings.into_iter().map(|kv| kv.key).collect();
        let i = inst.clone();
        let records = move |txn: &mut twinstack_store::Txn<'_>| {
            txn.delete(&instance_key(&i.instance_id));
            for op in &i.operations {
                txn.delete(&operation_key(op));
            }
            for k in &binding_keys {
                txn.delete(k);
            }
            put_json(txn, &archived_key(&i.instance_id), &archived);
        };
        self.delete_runtime_of(inst, records, "deprovisioned").await
    }

    /// Stops serving the instance's runtime and deletes it (only if the instance owns it: what
    /// another instance owns stays) in one transaction with `records`; serves it again if the
    /// transaction fails.
    async fn delete_runtime_of(
        &self,
        inst: &Instance,
        records: impl FnOnce(&mut twinstack_store::Txn<'_>) + Send + 'static,
        done: &str,
    ) -> Result<(), String> {
        let _name = self.platform.runtime_locks.lock(&inst.runtime).await;
        let served = self
            .platform
            .registry
            .runtime(&inst.runtime)
            .filter(|rt| rt.record.instance_id == inst.instance_id);
        if served.is_some() {
            self.platform.forget(&inst.runtime);
        }
        let i = inst.clone();
        let deleted = self
            .store()
            .txn(move |txn| {
                let owned = match directory::delete_runtime_in_txn(txn, &i.runtime, &i.instance_id)
                {
                    Ok(found) => found,
                    Err(e) => {
                        tracing::warn!(instance = %i.instance_id, "{e}");
                        false
                    }
                };
                records(txn);
                Ok::<_, std::convert::Infallible>(owned)
            })
            .await;
        match deleted {
            Ok(c) => {
                if c.value {
                    self.platform.remove_kubeconfig(&inst.runtime);
                }
                tracing::info!(instance = %inst.instance_id, runtime = %inst.runtime, "{done}");
                Ok(())
            }
            Err(e) => {
                if let Some(rt) = served {
                    self.platform.registry.insert_runtime(rt);
                }
                Err(e.to_string())
            }
        }
    }
}
