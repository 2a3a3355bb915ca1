//! OSB error responses as KEB (pivotal-cf/brokerapi v12) writes them.

use serde_json::{json, Value};

/// An Open Service Broker error: HTTP status plus the body `{"error"?: ..., "description": ...}`.
///
/// brokerapi's `FailureResponse.ErrorResponse()` puts `err.Error()` into `description` and the
/// optional error key into `error` (omitted when empty). The third argument KEB passes to
/// `apiresponses.NewFailureResponse` (for example `"[instanceID: <id>] <err>"`) is only the
/// *logger action*; it is kept here in [`OsbError::logger_action`] and never sent to clients.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {description}")]
pub struct OsbError {
    pub status: u16,
    /// OSB error code (`AsyncRequired`, `ConcurrencyError`, ...); `None` for KEB's validation errors.
    pub error: Option<String>,
    /// The `description` of the body, byte-for-byte what KEB sends.
    pub description: String,
    /// What KEB logs with the failure (brokerapi `loggerAction`); not part of the body.
    pub logger_action: Option<String>,
}

impl OsbError {
    pub fn new(status: u16, description: impl Into<String>) -> OsbError {
        OsbError {
            status,
            error: None,
            description: description.into(),
            logger_action: None,
        }
    }
    pub fn bad_request(description: impl Into<String>) -> OsbError {
        OsbError::new(400, description)
    }
    pub fn unprocessable(description: impl Into<String>) -> OsbError {
        OsbError::new(422, description)
    }
    pub fn with_logger_action(mut self, action: impl Into<String>) -> OsbError {
        self.logger_action = Some(action.into());
        self
    }
    /// The response body: `{"description": ...}`, plus `"error"` when set.
    pub fn body(&self) -> Value {
        match &self.error {
            Some(e) => json!({ "error": e, "description": self.description }),
            None => json!({ "description": self.description }),
        }
    }
}

/// hashicorp/go-multierror's default `ListFormatFunc`.
pub fn multierror_text(errs: &[String]) -> String {
    if errs.len() == 1 {
        return format!("1 error occurred:\n\t* {}\n\n", errs[0]);
    }
    let points: Vec<String> = errs.iter().map(|e| format!("* {e}")).collect();
    format!(
        "{} errors occurred:\n\t{}\n\n",
        errs.len(),
        points.join("\n\t")
    )
}

/// Go's name for a JSON value's kind in `UnmarshalTypeError` (`number 1.5` is written `number`).
pub(crate) fn go_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}
