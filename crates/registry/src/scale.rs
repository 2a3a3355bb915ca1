//! The `autoscaling/v1` Scale write both scale subresources share (workloads' and custom
//! resources'): what a GET, PUT or PATCH of a Scale asks for, checked as kube-apiserver's
//! `ScaleREST` checks it, before the caller writes the replicas where its kind keeps them.

use serde_json::Value;
use twinstack_core::field::{BadValue, FieldError, Path};
use twinstack_core::status::{Status, Subject};

pub(crate) const SCALE: Subject<'static> = Subject {
    group: "autoscaling",
    resource: "scale",
    kind: "Scale",
};

/// What a Scale request asks: `None` for a GET (answer the current Scale), else the replicas
/// wanted and, for a PUT, the resourceVersion it was read at (the write's precondition).
/// `patch` is the body with whether it is a JSON patch (else a merge patch); kept free of the
/// registry's types so that kinds can use it without importing the registry.
pub(crate) fn requested(
    name: &str,
    scale: &Value,
    verb: &str,
    patch: Option<(bool, Value)>,
) -> Result<Option<(i64, Option<String>)>, Status> {
    let wanted = match (verb, patch) {
        ("get", _) => return Ok(None),
        ("update", Some((_, body))) => body,
        ("patch", Some((json, p))) => if json {
            twinstack_core::patch::json_patch(scale, &p)
        } else {
            twinstack_core::patch::merge_patch(scale, &p)
        }
        .map_err(|e| e.to_status())?,
        (verb, _) => return Err(Status::method_not_allowed(verb, SCALE)),
    };
    let replicas = wanted
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if replicas < 0 {
        return Err(Status::invalid(
            name,
            SCALE,
            &[FieldError::invalid(
                &Path::new("spec").child("replicas"),
                BadValue::int(replicas),
                "must be greater than or equal to 0",
            )],
        ));
    }
    let rv = (verb == "update")
        .then(|| {
            wanted
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
        })
        .flatten()
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    Ok(Some((replicas, rv)))
}
