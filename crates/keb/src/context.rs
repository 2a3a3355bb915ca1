//! The OSB request `context` as KEB reads it: `ProvisionEndpoint.extractERSContext`
//! (internal/broker/instance_create.go) decodes it into `internal.ERSContext`
//! (internal/dto.go) with Go's `encoding/json` and refuses empty account IDs and user.
//!
//! KEB runs this after decoding `parameters` and before every other check; the failure is
//! answered 400 with the error text (brokerapi logger action `while extracting context`).

use crate::error::go_kind;
use crate::error::OsbError;
use serde_json::Value;

/// The fields of `internal.ERSContext` twinstack reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErsContext {
    pub global_account_id: String,
    pub sub_account_id: String,
    /// Lower-cased, as KEB stores it (`strings.ToLower(ersContext.UserID)`).
    pub user_id: String,
    pub tenant_id: String,
    pub license_type: Option<String>,
    pub commercial_model: Option<String>,
    pub platform: Option<String>,
    pub region: Option<String>,
    pub origin: Option<String>,
    pub active: Option<bool>,
}

impl ErsContext {
    /// `ERSContext.ExternalLicenseType`: `CUSTOMER`, `PARTNER` and `TRIAL` licenses are
    /// external (they lose internal-only machines and ingress filtering).
    pub fn is_external_license(&self) -> bool {
        matches!(
            self.license_type.as_deref(),
            Some("CUSTOMER" | "PARTNER" | "TRIAL")
        )
    }
}

/// `extractERSContext`: Go decoding (`while decoding context: json: ...`), then
/// `global accountID parameter cannot be empty`, `subAccountID parameter cannot be empty`,
/// `UserID parameter cannot be empty`, in this order; all 400.
///
/// `Null` stands for an absent `context` (brokerapi's `RawContext` is then empty and Go's
/// `json.Unmarshal` fails with `unexpected end of JSON input`). An explicit `"context": null`
/// decodes in Go to an empty context (then `global accountID ...`); `serde_json::Value` cannot
/// tell the two apart and the absent case is the one clients send.
pub fn validate_context(ctx: &Value) -> Result<ErsContext, OsbError> {
    let fail =
        |text: String| OsbError::bad_request(text).with_logger_action("while extracting context");
    let c = decode(ctx).map_err(|e| fail(format!("while decoding context: {e}")))?;
    if c.global_account_id.is_empty() {
        return Err(fail("global accountID parameter cannot be empty".into()));
    }
    if c.sub_account_id.is_empty() {
        return Err(fail("subAccountID parameter cannot be empty".into()));
    }
    if c.user_id.is_empty() {
        return Err(fail("UserID parameter cannot be empty".into()));
    }
    Ok(c)
}

/// Go's `json.Unmarshal(raw, &ERSContext{})`: keys matched case-insensitively, the first type
/// mismatch reported after the whole object was read.
fn decode(ctx: &Value) -> Result<ErsContext, String> {
    let obj = match ctx {
        Value::Null => return Err("unexpected end of JSON input".into()),
        Value::Object(o) => o,
        other => {
            return Err(format!(
                "json: cannot unmarshal {} into Go value of type internal.ERSContext",
                go_kind(other)
            ))
        }
    };
    let mut first: Option<String> = None;
    let mut c = ErsContext::default();
    let mismatch = |first: &mut Option<String>, field: &str, ty: &str, v: &Value| {
        first.get_or_insert_with(|| {
            format!(
                "json: cannot unmarshal {} into Go struct field ERSContext.{field} of type {ty}",
                go_kind(v)
            )
        });
    };
    for (k, v) in obj {
        let key = k.to_ascii_lowercase();
        let slot: Option<(&str, &mut String)> = match key.as_str() {
            "globalaccount_id" => Some(("globalaccount_id", &mut c.global_account_id)),
            "subaccount_id" => Some(("subaccount_id", &mut c.sub_account_id)),
            "user_id" => Some(("user_id", &mut c.user_id)),
            "tenant_id" => Some(("tenant_id", &mut c.tenant_id)),
            _ => None,
        };
        if let Some((field, s)) = slot {
            match v {
                Value::String(x) => *s = x.clone(),
                Value::Null => {}
                other => mismatch(&mut first, field, "string", other),
            }
            continue;
        }
        let opt: Option<(&str, &mut Option<String>)> = match key.as_str() {
            "license_type" => Some(("license_type", &mut c.license_type)),
            "commercial_model" => Some(("commercial_model", &mut c.commercial_model)),
            "platform" => Some(("platform", &mut c.platform)),
            "region" => Some(("region", &mut c.region)),
            "origin" => Some(("origin", &mut c.origin)),
            _ => None,
        };
        if let Some((field, s)) = opt {
            match v {
                Value::String(x) => *s = Some(x.clone()),
                Value::Null => *s = None,
                other => mismatch(&mut first, field, "string", other),
            }
            continue;
        }
        match key.as_str() {
            "active" => match v {
                Value::Bool(b) => c.active = Some(*b),
                Value::Null => c.active = None,
                other => mismatch(&mut first, "active", "bool", other),
            },
            "sm_operator_credentials" if !matches!(v, Value::Object(_) | Value::Null) => mismatch(
                &mut first,
                "sm_operator_credentials",
                "internal.ServiceManagerOperatorCredentials",
                v,
            ),
            _ => {}
        }
    }
    if let Some(e) = first {
        return Err(e);
    }
    c.user_id = c.user_id.to_lowercase();
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base() -> Value {
        json!({"globalaccount_id": "ga", "subaccount_id": "sa", "user_id": "John.Smith@Email.com"})
    }

    #[test]
    fn context_checks_in_keb_order() {
        let cases: Vec<(&str, Value, &str)> = vec![
            ("absent", Value::Null, "while decoding context: unexpected end of JSON input"),
            ("not an object", json!("x"), "while decoding context: json: cannot unmarshal string into Go value of type internal.ERSContext"),
            ("number GA", json!({"globalaccount_id": 5, "subaccount_id": "sa", "user_id": "u"}),
             "while decoding context: json: cannot unmarshal number into Go struct field ERSContext.globalaccount_id of type string"),
            ("active string", json!({"globalaccount_id": "g", "subaccount_id": "s", "user_id": "u", "active": "yes"}),
             "while decoding context: json: cannot unmarshal string into Go struct field ERSContext.active of type bool"),
            ("empty", json!({}), "global accountID parameter cannot be empty"),
            ("all missing but GA", json!({"globalaccount_id": "g"}), "subAccountID parameter cannot be empty"),
            ("no user", json!({"globalaccount_id": "g", "subaccount_id": "s"}), "UserID parameter cannot be empty"),
            ("empty user", json!({"globalaccount_id": "g", "subaccount_id": "s", "user_id": ""}), "UserID parameter cannot be empty"),
        ];
        for (name, ctx, want) in cases {
            let e = validate_context(&ctx).expect_err(name);
            assert_eq!((e.status, e.description.as_str()), (400, want), "{name}");
            assert_eq!(e.body(), json!({"description": want}), "{name}");
        }
    }

    #[test]
    fn user_id_lower_cased_keys_case_insensitive() {
        let c = validate_context(&base()).unwrap();
        assert_eq!(c.user_id, "john.smith@email.com");
        let c = validate_context(&json!({"GlobalAccount_ID": "g", "SUBACCOUNT_ID": "s", "user_id": "u", "license_type": "CUSTOMER"})).unwrap();
        assert_eq!(c.global_account_id, "g");
        assert!(c.is_external_license());
    }
}
