//! KEB's service bindings (`internal/broker/bind_create.go` `BindEndpoint.bind`,
//! `bind_get.go`, `bind_delete.go`, `internal/broker/bindings/bindings_manager.go`): the
//! request checks in KEB's order with its messages, the expiry rules, the limit of non-expired
//! bindings, and the kubeconfig KEB hands out. The broker gathers the inputs (instance, last
//! operation, stored bindings) and carries out the result (ServiceAccount, ClusterRole,
//! ClusterRoleBinding, TokenRequest).

use crate::error::go_kind;
use crate::error::OsbError;
use crate::request::decode_details;
use serde_json::Value;

/// `BindingConfig` (KEB `broker.binding.*`). KEB ships bindings disabled and only for `aws`;
/// twinstack enables them for the plans the catalog marks `bindable`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingConfig {
    pub enabled: bool,
    /// `expirationSeconds`: the default lifetime of a binding's token.
    pub expiration_seconds: i64,
    pub max_expiration_seconds: i64,
    /// Never below 600: Gardener (kube-apiserver's TokenRequest) refuses shorter tokens.
    pub min_expiration_seconds: i64,
    pub max_bindings_count: usize,
}

impl Default for BindingConfig {
    fn default() -> Self {
        BindingConfig {
            enabled: true,
            expiration_seconds: 600,
            max_expiration_seconds: 7200,
            min_expiration_seconds: 600,
            max_bindings_count: 10,
        }
    }
}

/// `bindings_manager.go` `BindingNameFormat`: the ServiceAccount, ClusterRole and
/// ClusterRoleBinding of a binding are all named so, in `kyma-system`.
pub fn binding_name(binding_id: &str) -> String {
    format!("kyma-binding-{binding_id}")
}

pub const BINDING_NAMESPACE: &str = "kyma-system";
/// The label KEB puts on everything it creates in the runtime.
pub const MANAGED_BY: (&str, &str) = (
    "app.kubernetes.io/managed-by",
    "kcp-kyma-environment-broker",
);

/// brokerapi's `domain.BindDetails`, the fields KEB reads.
#[derive(Debug, Clone, PartialEq)]
pub struct BindDetails {
    pub service_id: String,
    pub plan_id: String,
    pub parameters: Value,
    pub context: Value,
}

/// brokerapi's `APIHandler.Bind` before KEB: Go decoding (422 with Go's text), then
/// `service_id missing`, `plan_id missing` (400).
pub fn bind_details(body: &[u8]) -> Result<BindDetails, OsbError> {
    let f = decode_details(body, "BindDetails")?;
    if f.service_id.is_empty() {
        return Err(OsbError::bad_request("service_id missing"));
    }
    if f.plan_id.is_empty() {
        return Err(OsbError::bad_request("plan_id missing"));
    }
    Ok(BindDetails {
        service_id: f.service_id,
        plan_id: f.plan_id,
        parameters: f.parameters,
        context: f.context,
    })
}

/// What KEB knows of the instance's last operation when it binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastOperation {
    ProvisionInProgress,
    ProvisionFailed,
    /// Anything else: a succeeded provisioning, an update, a deprovisioning.
    Other,
}

/// The binding's record as KEB keeps it, as far as the checks need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBinding {
    pub expiration_seconds: i64,
    /// Unix seconds.
    pub expires_at: i64,
    /// Empty while the binding is being created.
    pub has_kubeconfig: bool,
}

/// What the broker does with a bind request that passed the checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindDecision {
    /// The same binding exists and has not expired: answer 200 with it.
    Existing,
    /// Create a binding (ServiceAccount, RBAC, token) valid for this many seconds.
    Create {
        expiration_seconds: i64,
        created_by: String,
    },
}

/// What the broker knows when it binds: the instance's plan and last operation, the binding of
/// this ID and all bindings of the instance as stored, and the platform clock.
#[derive(Debug, Clone, Copy)]
pub struct BindFacts<'a> {
    pub plan_bindable: bool,
    pub last: LastOperation,
    pub instance_id: &'a str,
    pub existing: Option<&'a StoredBinding>,
    pub bindings_of_instance: &'a [StoredBinding],
    /// Unix seconds.
    pub now: i64,
}

/// KEB's `bind` after the instance lookup, in its order: plan bindable (422
/// `BindingNotSupported`), `context` and `parameters` decoding (400), expiry bounds (400), the
/// provisioning state (400), an existing binding (409 on other parameters, 422 while it is
/// created), and the limit of non-expired bindings (400).
pub fn decide(
    cfg: &BindingConfig,
    details: &BindDetails,
    facts: &BindFacts<'_>,
) -> Result<BindDecision, OsbError> {
    let BindFacts {
        plan_bindable,
        last,
        instance_id,
        existing,
        bindings_of_instance,
        now,
    } = *facts;
    if !plan_bindable {
        let mut e = OsbError::unprocessable("binding is not supported");
        e.error = Some("BindingNotSupported".into());
        return Err(e);
    }
    let created_by = binding_context(&details.context)?;
    let requested = binding_parameters(&details.parameters)?;
    let mut expiration_seconds = cfg.expiration_seconds;
    if requested != 0 {
        if requested > cfg.max_expiration_seconds {
            return Err(OsbError::bad_request(format!(
                "expiration_seconds cannot be greater than {}",
                cfg.max_expiration_seconds
            )));
        }
        if requested < cfg.min_expiration_seconds {
            return Err(OsbError::bad_request(format!(
                "expiration_seconds cannot be less than {}",
                cfg.min_expiration_seconds
            )));
        }
        expiration_seconds = requested;
    }
    match last {
        LastOperation::ProvisionInProgress => {
            return Err(OsbError::bad_request(format!(
                "instance {instance_id} creation is in progress"
            )))
        }
        LastOperation::ProvisionFailed => {
            return Err(OsbError::bad_request(format!(
                "instance {instance_id} creation failed"
            )))
        }
        LastOperation::Other => {}
    }
    // `searchDbForBinding`.
    if let Some(b) = existing {
        if b.expiration_seconds != expiration_seconds {
            return Err(OsbError::new(
                409,
                "binding already exists but with different parameters",
            ));
        }
        if b.expires_at > now {
            if !b.has_kubeconfig {
                return Err(OsbError::unprocessable(
                    "binding creation already in progress",
                ));
            }
            return Ok(BindDecision::Existing);
        }
    }
    // `checkAgainstLimit`: expired bindings do not count.
    let live = bindings_of_instance
        .iter()
        .filter(|b| b.expires_at >= now)
        .count();
    if bindings_of_instance.len() >= cfg.max_bindings_count && live >= cfg.max_bindings_count {
        return Err(OsbError::bad_request(format!(
            "maximum number of non expired bindings reached: {}",
            cfg.max_bindings_count
        )));
    }
    Ok(BindDecision::Create {
        expiration_seconds,
        created_by,
    })
}

/// `BindingContext.CreatedBy`: the email, else the origin, else empty. A context that is not
/// an object answers `failed to unmarshal context: <Go's error>`.
fn binding_context(ctx: &Value) -> Result<String, OsbError> {
    let field = |obj: &serde_json::Map<String, Value>, name: &str| -> Result<String, OsbError> {
        // Go matches keys case-insensitively; the last match wins.
        let mut out = String::new();
        for (k, v) in obj {
            if k.eq_ignore_ascii_case(name) {
                out = match v {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    other => {
                        return Err(OsbError::bad_request(format!(
                            "failed to unmarshal context: json: cannot unmarshal {} into Go struct field BindingContext.{name} of type string",
                            go_kind(other)
                        )))
                    }
                };
            }
        }
        Ok(out)
    };
    match ctx {
        Value::Null => Ok(String::new()),
        Value::Object(o) => {
            let email = field(o, "email")?;
            let origin = field(o, "origin")?;
            Ok(if !email.is_empty() { email } else { origin })
        }
        other => Err(OsbError::bad_request(format!(
            "failed to unmarshal context: json: cannot unmarshal {} into Go value of type broker.BindingContext",
            go_kind(other)
        ))),
    }
}

/// `BindingParams.ExpirationSeconds` (0 when absent). KEB strips `json: ` and
/// `Go struct field BindingParams.` from Go's error text.
fn binding_parameters(params: &Value) -> Result<i64, OsbError> {
    let fail = |what: String| {
        Err(OsbError::bad_request(format!(
            "failed to unmarshal parameters: {what}"
        )))
    };
    let obj = match params {
        Value::Null => return Ok(0),
        Value::Object(o) => o,
        other => {
            return fail(format!(
                "cannot unmarshal {} into Go value of type broker.BindingParams",
                go_kind(other)
            ))
        }
    };
    let mut seconds = 0;
    for (k, v) in obj {
        if !k.eq_ignore_ascii_case("expiration_seconds") {
            continue;
        }
        seconds = match v {
            Value::Null => seconds,
            Value::Number(n) => match n.as_i64() {
                Some(i) => i,
                // Go reports the literal of a number that does not fit an int.
                None => {
                    return fail(format!(
                        "cannot unmarshal number {n} into expiration_seconds of type int"
                    ))
                }
            },
            other => {
                return fail(format!(
                    "cannot unmarshal {} into expiration_seconds of type int",
                    go_kind(other)
                ))
            }
        };
    }
    Ok(seconds)
}

/// `expiresAtLayout` (`2006-01-02T15:04:05.0Z`): token expiry has whole seconds, so the
/// fraction is always `.0`.
pub fn expires_at(unix_seconds: i64) -> String {
    let (days, secs) = (
        unix_seconds.div_euclid(86_400),
        unix_seconds.rem_euclid(86_400),
    );
    let (y, m, d) = crate::endpoints::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.0Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// `kubeconfigTemplateForKymaBindings` (`internal/kubeconfig/kubeconfig.go`), filled as
/// `BuildFromAdminKubeconfigForBinding` fills it: the context, cluster and user are all named
/// after the instance's `name` parameter; server and CA come from the admin kubeconfig.
pub fn binding_kubeconfig(context_name: &str, ca_data: &str, server: &str, token: &str) -> String {
    format!(
        "\n---\napiVersion: v1\nkind: Config\ncurrent-context: {context_name}\nclusters:\n- name: {context_name}\n  cluster:\n    certificate-authority-data: {ca_data}\n    server: {server}\ncontexts:\n- name: {context_name}\n  context:\n    cluster: {context_name}\n    user: {context_name}\nusers:\n- name: {context_name}\n  user:\n    token: {token}\n  "
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn details(params: Value, ctx: Value) -> BindDetails {
        BindDetails {
            service_id: "s".into(),
            plan_id: "p".into(),
            parameters: params,
            context: ctx,
        }
    }

    fn stored(exp: i64, at: i64) -> StoredBinding {
        StoredBinding {
            expiration_seconds: exp,
            expires_at: at,
            has_kubeconfig: true,
        }
    }

    /// One row per KEB answer: (parameters, context, last operation, existing, others) →
    /// status and description, or the decision.
    #[test]
    fn keb_bind_answers() {
        let cfg = BindingConfig::default();
        let now = 1_000_000;
        let ok = LastOperation::Other;
        type Row = (
            Value,
            Value,
            LastOperation,
            Option<StoredBinding>,
            usize,
            Result<BindDecision, (u16, &'static str)>,
        );
        let create = |s, by: &str| {
            Ok(BindDecision::Create {
                expiration_seconds: s,
                created_by: by.into(),
            })
        };
        let rows: Vec<Row> = vec![
            (Value::Null, Value::Null, ok, None, 0, create(600, "")),
            (json!({"expiration_seconds": 7200}), json!({"email": "a@b", "origin": "o"}), ok, None, 0, create(7200, "a@b")),
            (json!({"Expiration_Seconds": 900}), json!({"origin": "cockpit"}), ok, None, 0, create(900, "cockpit")),
            (json!({"expiration_seconds": 7201}), Value::Null, ok, None, 0, Err((400, "expiration_seconds cannot be greater than 7200"))),
            (json!({"expiration_seconds": 599}), Value::Null, ok, None, 0, Err((400, "expiration_seconds cannot be less than 600"))),
            (json!({"expiration_seconds": "600"}), Value::Null, ok, None, 0, Err((400, "failed to unmarshal parameters: cannot unmarshal string into expiration_seconds of type int"))),
            (json!({"expiration_seconds": 600.5}), Value::Null, ok, None, 0, Err((400, "failed to unmarshal parameters: cannot unmarshal number 600.5 into expiration_seconds of type int"))),
            (json!([1]), Value::Null, ok, None, 0, Err((400, "failed to unmarshal parameters: cannot unmarshal array into Go value of type broker.BindingParams"))),
            (Value::Null, json!("x"), ok, None, 0, Err((400, "failed to unmarshal context: json: cannot unmarshal string into Go value of type broker.BindingContext"))),
            (Value::Null, Value::Null, LastOperation::ProvisionInProgress, None, 0, Err((400, "instance i-1 creation is in progress"))),
            (Value::Null, Value::Null, LastOperation::ProvisionFailed, None, 0, Err((400, "instance i-1 creation failed"))),
            (json!({"expiration_seconds": 900}), Value::Null, ok, Some(stored(600, now + 10)), 1, Err((409, "binding already exists but with different parameters"))),
            (Value::Null, Value::Null, ok, Some(stored(600, now + 10)), 1, Ok(BindDecision::Existing)),
            // An expired binding of the same ID is created again.
            (Value::Null, Value::Null, ok, Some(stored(600, now - 1)), 1, create(600, "")),
            (Value::Null, Value::Null, ok, Some(StoredBinding { has_kubeconfig: false, ..stored(600, now + 10) }), 1, Err((422, "binding creation already in progress"))),
            (Value::Null, Value::Null, ok, None, 10, Err((400, "maximum number of non expired bindings reached: 10"))),
            (Value::Null, Value::Null, ok, None, 9, create(600, "")),
        ];
        for (i, (params, ctx, last, existing, live, want)) in rows.into_iter().enumerate() {
            let others: Vec<StoredBinding> = (0..live).map(|_| stored(600, now + 5)).collect();
            let facts = BindFacts {
                plan_bindable: true,
                last,
                instance_id: "i-1",
                existing: existing.as_ref(),
                bindings_of_instance: &others,
                now,
            };
            let got = decide(&cfg, &details(params, ctx), &facts)
                .map_err(|e| (e.status, e.description.clone()));
            let want = want.map_err(|(s, d)| (s, d.to_string()));
            assert_eq!(got, want, "row {i}");
        }
    }

    #[test]
    fn expired_bindings_do_not_count_against_the_limit() {
        let cfg = BindingConfig::default();
        let now = 1000;
        let mut others: Vec<StoredBinding> = (0..9).map(|_| stored(600, now + 5)).collect();
        others.extend((0..5).map(|_| stored(600, now - 5)));
        let d = details(Value::Null, Value::Null);
        let facts = BindFacts {
            plan_bindable: true,
            last: LastOperation::Other,
            instance_id: "i",
            existing: None,
            bindings_of_instance: &others,
            now,
        };
        assert!(decide(&cfg, &d, &facts).is_ok());
    }

    #[test]
    fn not_bindable_plan() {
        let facts = BindFacts {
            plan_bindable: false,
            last: LastOperation::Other,
            instance_id: "i",
            existing: None,
            bindings_of_instance: &[],
            now: 0,
        };
        let e = decide(
            &BindingConfig::default(),
            &details(Value::Null, Value::Null),
            &facts,
        )
        .unwrap_err();
        assert_eq!(e.status, 422);
        assert_eq!(
            e.body(),
            json!({"error": "BindingNotSupported", "description": "binding is not supported"})
        );
    }

    #[test]
    fn brokerapi_bind_details() {
        let e = |b: &str| bind_details(b.as_bytes()).unwrap_err();
        assert_eq!(e("{}").description, "service_id missing");
        assert_eq!(e(r#"{"service_id":"s"}"#).description, "plan_id missing");
        assert_eq!(e("[]").status, 422);
        assert_eq!(
            e("[]").description,
            "json: cannot unmarshal array into Go value of type domain.BindDetails"
        );
        let d = bind_details(
            br#"{"service_id":"s","plan_id":"p","parameters":{"expiration_seconds":900}}"#,
        )
        .unwrap();
        assert_eq!(d.parameters, json!({"expiration_seconds": 900}));
    }

    #[test]
    fn expires_at_layout() {
        assert_eq!(expires_at(0), "1970-01-01T00:00:00.0Z");
        assert_eq!(expires_at(1_798_761_600 + 3661), "2027-01-01T01:01:01.0Z");
        assert_eq!(expires_at(951_782_400), "2000-02-29T00:00:00.0Z");
    }

    #[test]
    fn kubeconfig_is_keb_template() {
        let k = binding_kubeconfig("my-kyma", "Q0E=", "https://h:1/runtimes/r", "t0k");
        assert!(k.starts_with("\n---\napiVersion: v1\nkind: Config\ncurrent-context: my-kyma\n"));
        assert!(k.contains("    server: https://h:1/runtimes/r\n"));
        assert!(k.contains("users:\n- name: my-kyma\n  user:\n    token: t0k\n"));
    }
}
