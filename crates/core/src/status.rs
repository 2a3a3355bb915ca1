//! `metav1.Status` error bodies shaped as kube-apiserver's (k8s.io/apimachinery
//! pkg/api/errors/errors.go), so kubectl prints the same text as against a real cluster.

use crate::field::{aggregate, FieldError};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct StatusCause {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct StatusDetails {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub causes: Vec<StatusCause>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<i32>,
}

/// A Kubernetes `Status` object. `code` is also the HTTP status of the response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub kind: String,
    pub api_version: String,
    pub metadata: serde_json::Value,
    pub status: String,
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub message: String,
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<StatusDetails>,
    pub code: u16,
}

/// Identifies what an error is about: `resource` is the plural (`services`), `kind` the Kind.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub group: &'a str,
    pub resource: &'a str,
    pub kind: &'a str,
}

impl Subject<'_> {
    /// `schema.GroupResource.String()`: `services` or `deployments.apps`.
    fn group_resource(&self) -> String {
        if self.group.is_empty() {
            self.resource.to_string()
        } else {
            format!("{}.{}", self.resource, self.group)
        }
    }
    fn group_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.to_string()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }
    fn group_opt(&self) -> Option<String> {
        (!self.group.is_empty()).then(|| self.group.to_string())
    }
}

impl Status {
    fn failure(code: u16, reason: &str, message: String, details: Option<StatusDetails>) -> Self {
        Status {
            kind: "Status".into(),
            api_version: "v1".into(),
            metadata: serde_json::json!({}),
            status: "Failure".into(),
            message,
            reason: reason.into(),
            details,
            code,
        }
    }

    /// A `Success` status, as returned by some deletes.
    pub fn success(name: &str, s: Subject<'_>, uid: Option<String>) -> Self {
        Status {
            kind: "Status".into(),
            api_version: "v1".into(),
            metadata: serde_json::json!({}),
            status: "Success".into(),
            message: String::new(),
            reason: String::new(),
            details: Some(StatusDetails {
                name: Some(name.into()),
                group: s.group_opt(),
                kind: Some(s.resource.into()),
                uid,
                ..Default::default()
            }),
            code: 200,
        }
    }

    fn named(name: &str, s: Subject<'_>) -> Option<StatusDetails> {
        Some(StatusDetails {
            name: Some(name.into()),
            group: s.group_opt(),
            kind: Some(s.resource.into()),
            ..Default::default()
        })
    }

    pub fn not_found(name: &str, s: Subject<'_>) -> Self {
        let msg = format!(
            "{} {} not found",
            s.group_resource(),
            crate::field::go_quote(name)
        );
        Self::failure(404, "NotFound", msg, Self::named(name, s))
    }

    pub fn already_exists(name: &str, s: Subject<'_>) -> Self {
        let msg = format!(
            "{} {} already exists",
            s.group_resource(),
            crate::field::go_quote(name)
        );
        Self::failure(409, "AlreadyExists", msg, Self::named(name, s))
    }

    /// Optimistic-concurrency failure (`NewConflict` with `OptimisticLockErrorMsg`).
    pub fn conflict(name: &str, s: Subject<'_>, why: &str) -> Self {
        let msg = format!(
            "Operation cannot be fulfilled on {} {}: {}",
            s.group_resource(),
            crate::field::go_quote(name),
            why
        );
        Self::failure(409, "Conflict", msg, Self::named(name, s))
    }

    pub const OPTIMISTIC_LOCK: &'static str =
        "the object has been modified; please apply your changes to the latest version and try again";

    /// `NewInvalid`: 422 with one cause per field error.
    pub fn invalid(name: &str, s: Subject<'_>, errs: &[FieldError]) -> Self {
        let causes = errs
            .iter()
            .map(|e| StatusCause {
                reason: Some(e.kind.reason().into()),
                message: Some(e.body()),
                field: Some(e.field.clone()),
            })
            .collect();
        let agg = aggregate(errs);
        let quoted = crate::field::go_quote(name);
        let msg = if agg.is_empty() {
            format!("{} {} is invalid", s.group_kind(), quoted)
        } else {
            format!("{} {} is invalid: {}", s.group_kind(), quoted, agg)
        };
        // `StatusDetails` fields are `omitempty`: an empty name, group or kind is left out.
        let details = StatusDetails {
            name: (!name.is_empty()).then(|| name.into()),
            group: s.group_opt(),
            kind: (!s.kind.is_empty()).then(|| s.kind.into()),
            causes,
            ..Default::default()
        };
        Self::failure(422, "Invalid", msg, Some(details))
    }

    /// `NewInvalid(schema.GroupKind{Group: "meta.k8s.io", Kind: <options>}, "", errs)`: what the
    /// handlers answer when `CreateOptions`, `UpdateOptions`, `PatchOptions` or `ListOptions`
    /// do not validate (apimachinery `pkg/apis/meta/v1/validation`).
    pub fn invalid_options(options_kind: &str, errs: &[FieldError]) -> Self {
        Self::invalid(
            "",
            Subject {
                group: "meta.k8s.io",
                resource: "",
                kind: options_kind,
            },
            errs,
        )
    }

    /// `NewInvalid(schema.GroupKind{}, "", errs)`, as the patch handler words a patched object
    /// that fails strict decoding: the message starts with a space (the empty kind).
    pub fn invalid_patch(errs: &[FieldError]) -> Self {
        Self::invalid(
            "",
            Subject {
                group: "",
                resource: "",
                kind: "",
            },
            errs,
        )
    }

    /// `NewRequestEntityTooLargeError(message)`: 413 `Request entity too large: <message>`.
    pub fn request_entity_too_large(message: &str) -> Self {
        Self::failure(
            413,
            "RequestEntityTooLarge",
            format!("Request entity too large: {message}"),
            None,
        )
    }

    /// What `responsewriters.ErrorToAPIStatus` makes of an error that is not a Status (a plain
    /// Go error from a library or etcd): 500, no reason (`StatusReasonUnknown` is empty), the
    /// error's text as the message, no details. Examples: strategic merge patch errors
    /// (`unknown patch type: ...`) and `etcdserver: request is too large`.
    pub fn unknown_error(message: impl Into<String>) -> Self {
        Self::failure(500, "", message.into(), None)
    }

    /// `NewTimeoutError(message, retryAfterSeconds)`: 504 `Timeout: <message>`.
    pub fn timeout(message: &str, retry_after_seconds: i32) -> Self {
        Self::failure(
            504,
            "Timeout",
            format!("Timeout: {message}"),
            Some(StatusDetails {
                retry_after_seconds: (retry_after_seconds != 0).then_some(retry_after_seconds),
                ..Default::default()
            }),
        )
    }

    pub fn bad_request(msg: impl Into<String>) -> Self {
        Self::failure(400, "BadRequest", msg.into(), None)
    }

    pub fn unauthorized() -> Self {
        Self::failure(401, "Unauthorized", "Unauthorized".into(), None)
    }

    /// `NewForbidden` as the authorizer words it.
    pub fn forbidden(name: &str, s: Subject<'_>, why: &str) -> Self {
        let target = if name.is_empty() {
            s.group_resource()
        } else {
            format!("{} {}", s.group_resource(), crate::field::go_quote(name))
        };
        let msg = format!("{target} is forbidden: {why}");
        Self::failure(403, "Forbidden", msg, Self::named(name, s))
    }

    pub fn method_not_allowed(verb: &str, s: Subject<'_>) -> Self {
        let msg = format!(
            "{verb} is not supported on resources of kind {}",
            crate::field::go_quote(&s.group_kind())
        );
        Self::failure(405, "MethodNotAllowed", msg, None)
    }

    /// A watch or list from a revision that has been compacted away.
    pub fn expired(msg: impl Into<String>) -> Self {
        Self::failure(410, "Expired", msg.into(), None)
    }

    pub fn gone(msg: impl Into<String>) -> Self {
        Self::failure(410, "Gone", msg.into(), None)
    }

    /// The same failure with another code, reason and message (details kept).
    pub fn with_code(mut self, code: u16, reason: &str, message: &str) -> Self {
        self.code = code;
        self.reason = reason.into();
        self.message = message.into();
        self
    }

    /// `limitedReadBody`: a request body over `limit` bytes.
    pub fn too_large(limit: usize) -> Self {
        Self::request_entity_too_large(&format!("limit is {limit}"))
    }

    pub fn unsupported_media_type(msg: impl Into<String>) -> Self {
        Self::failure(415, "UnsupportedMediaType", msg.into(), None)
    }

    pub fn not_acceptable(msg: impl Into<String>) -> Self {
        Self::failure(406, "NotAcceptable", msg.into(), None)
    }

    /// `NewInternalError`.
    pub fn internal(err: impl std::fmt::Display) -> Self {
        let e = err.to_string();
        let details = StatusDetails {
            causes: vec![StatusCause {
                message: Some(e.clone()),
                ..Default::default()
            }],
            ..Default::default()
        };
        Self::failure(
            500,
            "InternalError",
            format!("Internal error occurred: {e}"),
            Some(details),
        )
    }

    /// Plain 404 for an unknown path (kube-apiserver's `404 page not found` is text; client-go
    /// maps any 404 to NotFound, but a Status body prints better).
    pub fn path_not_found() -> Self {
        Self::failure(
            404,
            "NotFound",
            "the server could not find the requested resource".into(),
            None,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::{BadValue, Path};

    const SVC: Subject<'static> = Subject {
        group: "",
        resource: "services",
        kind: "Service",
    };

    #[test]
    fn invalid_status_shape() {
        let e = FieldError::invalid(
            &Path::new("spec").child("ipFamilyPolicy"),
            BadValue::str("RequireDualStack"),
            "this cluster is not configured for dual-stack services",
        );
        let s = Status::invalid("web", SVC, &[e]);
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["code"], 422);
        assert_eq!(v["reason"], "Invalid");
        assert_eq!(
            v["message"],
            "Service \"web\" is invalid: spec.ipFamilyPolicy: Invalid value: \"RequireDualStack\": this cluster is not configured for dual-stack services"
        );
        assert_eq!(v["details"]["causes"][0]["reason"], "FieldValueInvalid");
        assert_eq!(v["details"]["causes"][0]["field"], "spec.ipFamilyPolicy");
        assert_eq!(v["details"]["kind"], "Service");
        assert!(v["details"].get("group").is_none());
    }

    #[test]
    fn not_found_and_conflict() {
        assert_eq!(
            Status::not_found("x", SVC).message,
            "services \"x\" not found"
        );
        assert_eq!(
            Status::already_exists("x", SVC).message,
            "services \"x\" already exists"
        );
        assert_eq!(
            Status::conflict("x", SVC, Status::OPTIMISTIC_LOCK).message,
            "Operation cannot be fulfilled on services \"x\": the object has been modified; please apply your changes to the latest version and try again"
        );
        assert_eq!(
            Status::internal("failed to allocate a serviceIP: range is full").message,
            "Internal error occurred: failed to allocate a serviceIP: range is full"
        );
    }
}
