//! managedFields bookkeeping around writes: the server-side apply merge and Update-operation
//! tracking live in `twinstack_core::patch`; this adapts them to the registry.

use crate::kinds::ResourceInfo;
use serde_json::Value;
use twinstack_core::patch::{self, Operation, PatchKind};
use twinstack_core::status::Status;

/// Server-side apply of `config` by `manager` onto `live` (or a new object).
pub fn apply(
    info: &ResourceInfo,
    live: Option<&Value>,
    config: &Value,
    manager: &str,
    force: bool,
    now: &str,
) -> Result<Value, Status> {
    patch::apply(
        live,
        config,
        manager,
        force,
        &info.api_version(),
        now,
        patch_kind(info),
    )
    .map_err(|e| e.to_status())
}

/// Records the fields `manager` changed with an Update operation.
pub fn track_update(
    info: &ResourceInfo,
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    now: &str,
) {
    patch::track_update(
        old,
        new,
        manager,
        Operation::Update,
        &info.api_version(),
        now,
        patch_kind(info),
    );
}

/// The managedFields of an object created by `manager` (an Update operation), computed without
/// copying the object.
pub fn for_create(info: &ResourceInfo, obj: &Value, manager: &str, now: &str) -> Value {
    patch::managed_fields_for_create(obj, manager, &info.api_version(), now, patch_kind(info))
}

/// The patch metadata of a served resource: the built-in kinds' by their kind, none for a
/// custom resource (whose kind may be spelled like a built-in one: a CRD's `Service`), so its
/// lists are atomic and its maps granular.
pub fn patch_kind(info: &ResourceInfo) -> PatchKind {
    let builtin = matches!(info.group, "" | "apps" | "batch") || info.group.ends_with(".k8s.io");
    if builtin {
        PatchKind::from_kind(info.kind)
    } else {
        PatchKind::Unknown
    }
}
