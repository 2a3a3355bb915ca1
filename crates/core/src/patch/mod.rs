//! Strategic merge patch, JSON merge patch, JSON patch and server-side apply.
//!
//! Everything works on `serde_json::Value` and is pure:
//! - [`json_patch`] (RFC 6902) and [`merge_patch`] (RFC 7396);
//! - [`strategic_merge_patch`] (apimachinery `pkg/util/strategicpatch`), driven by the patch
//!   metadata in [`schema`] for the kinds twinstack serves ([`PatchKind`]);
//! - [`apply`] (server-side apply, operation `Apply`) and [`track_update`] (managedFields of
//!   create/update/patch, operation `Update`), a subset of sigs.k8s.io/structured-merge-diff and
//!   apiserver `pkg/endpoints/handlers/fieldmanager`, with `fieldsV1` in the real encoding
//!   ([`FieldSet`]).
//!
//! Errors convert to the apiserver's `Status` with [`PatchError::to_status`] and
//! [`ApplyConflicts::to_status`].

mod apply;
mod fieldpath;
mod json;
pub mod schema;
mod strategic;
#[cfg(test)]
mod tests;

pub use apply::{
    apply, managed_fields_for_create, track_subresource_update, track_update, ApplyConflicts,
    ApplyError, Conflict, Operation,
};
pub use fieldpath::{path_string, FieldSet, OrdValue, Path, PathElement};
pub use json::{
    create_merge_patch, go_json_len, json_patch, json_patch_strict_errors, merge_patch,
    JSON_PATCH_MAX_COPY_BYTES, MAX_JSON_PATCH_OPERATIONS,
};
pub use schema::PatchKind;
pub use strategic::{go_fmt, strategic_merge_patch};

use crate::status::{Status, StatusDetails};

/// A patch that cannot be applied, classified by the `Status` the apiserver answers with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// 400 BadRequest with this message (undecodable patch, `Invalid JSON Patch`, malformed
    /// `$setElementOrder`/`$retainKeys`/`$deleteFromPrimitiveList` directives).
    #[error("{0}")]
    BadRequest(String),
    /// A JSON patch operation that does not apply. The apiserver wraps it with
    /// `NewGenericServerResponse(422, ...)`, whose message is the fixed text
    /// `the server rejected our request due to an error in our request`; the library's own
    /// text (kept here for logs) is not sent.
    #[error("{0}")]
    JsonPatchFailed(String),
    /// `lists of lists are not supported` (or `patch content doesn't match retainKeys list`):
    /// like [`PatchError::JsonPatchFailed`] the apiserver answers
    /// `NewGenericServerResponse(422, ...)`, whose message is the fixed generic text.
    #[error("{0}")]
    Unprocessable(String),
    /// More operations than the apiserver takes: 413 `Request entity too large: <msg>`.
    #[error("{0}")]
    TooLarge(String),
    /// Any other strategic merge patch error (e.g. `unknown patch type: ...`, a missing merge
    /// key): the apiserver passes the library's plain Go error on (`interpretStrategicMergePatchError`
    /// returns it unchanged), and `ErrorToAPIStatus` answers 500 with the error's text as the
    /// message and no reason.
    #[error("{0}")]
    Internal(String),
}

impl PatchError {
    /// The `Status` kube-apiserver answers for this error.
    pub fn to_status(&self) -> Status {
        match self {
            PatchError::BadRequest(m) => Status::bad_request(m.clone()),
            // `NewGenericServerResponse(422, "", GroupResource{}, "", err, 0, false)`: the fixed
            // text, empty details (no causes: `isUnexpectedResponse` is false).
            PatchError::JsonPatchFailed(_) | PatchError::Unprocessable(_) => Status {
                details: Some(StatusDetails::default()),
                ..Status::bad_request(String::new())
            }
            .with_code(
                422,
                "Invalid",
                "the server rejected our request due to an error in our request",
            ),
            PatchError::TooLarge(m) => Status::request_entity_too_large(m),
            PatchError::Internal(m) => Status::unknown_error(m.clone()),
        }
    }
}
