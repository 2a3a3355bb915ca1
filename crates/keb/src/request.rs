//! OSB request bodies as KEB receives them: pivotal-cf/brokerapi v12 decodes the body into
//! `domain.ProvisionDetails` / `domain.UpdateDetails` with Go's `encoding/json`
//! (`handlers/provision.go`, `handlers/update.go`) and checks the IDs before KEB sees the
//! request; KEB then refuses parameters over `MaxRawParametersSize` (`internal/broker/broker.go`).
//!
//! Also the twinstack runtime name of an instance ([`runtime_name`]): the Shoot name KEB gives
//! it (`gardener.CreateShootName`), derived from the instance ID instead of a random UUID, so
//! a repeated request names the same runtime. Instance names (`parameters.name`) need not be
//! unique, as on KEB.

use crate::error::{go_kind, OsbError};
use crate::plans::{plan_by_id, KYMA_SERVICE_ID};
use serde_json::Value;

/// KEB's `MaxRawParametersSize` (64 KiB): larger `parameters` are refused with 400
/// `request parameters too large` (provision and update).
pub const MAX_RAW_PARAMETERS_SIZE: usize = 64 * 1024;

/// brokerapi's `domain.ProvisionDetails` (the fields twinstack reads).
#[derive(Debug, Clone, PartialEq)]
pub struct ProvisionDetails {
    pub service_id: String,
    pub plan_id: String,
    /// `parameters` (`json.RawMessage`; `Null` when absent).
    pub parameters: Value,
    /// `context` (`json.RawMessage`; `Null` when absent).
    pub context: Value,
}

/// brokerapi's `domain.UpdateDetails` (the fields twinstack reads).
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateDetails {
    pub service_id: String,
    pub plan_id: String,
    pub parameters: Value,
    pub context: Value,
}

/// Decodes a provisioning body and makes brokerapi's checks, in its order: Go decoding (422
/// with Go's error text), `service_id missing`, `plan_id missing` (400), `service-id not in the
/// catalog`, `plan-id not in the catalog` (400); then KEB's size limit on `parameters`.
pub fn provision_details(body: &[u8]) -> Result<ProvisionDetails, OsbError> {
    provision_details_with(body, &crate::KebOptions::default())
}

/// [`provision_details`] against the catalog KEB serves under `opts`: brokerapi looks the plan
/// up in `Services()`, which leaves out plans not in `enabled_plans` and plans without regions
/// on the platform region (`sap-converged-cloud` outside its platform regions), so those get
/// brokerapi's 400 `plan-id not in the catalog`, not KEB's `plan ID "..." is not recognized`.
pub fn provision_details_with(
    body: &[u8],
    opts: &crate::KebOptions,
) -> Result<ProvisionDetails, OsbError> {
    let fields = decode_details(body, "ProvisionDetails")?;
    if fields.service_id.is_empty() {
        return Err(OsbError::bad_request("service_id missing"));
    }
    if fields.plan_id.is_empty() {
        return Err(OsbError::bad_request("plan_id missing"));
    }
    if fields.service_id != KYMA_SERVICE_ID {
        return Err(OsbError::bad_request("service-id not in the catalog"));
    }
    let in_catalog = plan_by_id(&fields.plan_id).is_some_and(|p| {
        opts.enabled_plans.contains(&p.plan)
            && p.offered_on(opts.platform_provider, opts.platform_region.as_deref())
    });
    if !in_catalog {
        return Err(OsbError::bad_request("plan-id not in the catalog"));
    }
    check_parameters_size(&fields.parameters)?;
    Ok(ProvisionDetails {
        service_id: fields.service_id,
        plan_id: fields.plan_id,
        parameters: fields.parameters,
        context: fields.context,
    })
}

/// Decodes an update body: Go decoding (422), `service_id missing` (400), KEB's size limit.
pub fn update_details(body: &[u8]) -> Result<UpdateDetails, OsbError> {
    let fields = decode_details(body, "UpdateDetails")?;
    if fields.service_id.is_empty() {
        return Err(OsbError::bad_request("service_id missing"));
    }
    check_parameters_size(&fields.parameters)?;
    Ok(UpdateDetails {
        service_id: fields.service_id,
        plan_id: fields.plan_id,
        parameters: fields.parameters,
        context: fields.context,
    })
}

/// `len(details.RawParameters) > MaxRawParametersSize`. The raw bytes are not kept after
/// decoding; their compact re-encoding is measured (never longer than what was sent, except for
/// escapes written shorter by the client than serde writes them).
fn check_parameters_size(parameters: &Value) -> Result<(), OsbError> {
    if parameters.is_null() {
        return Ok(());
    }
    let len = serde_json::to_vec(parameters).map_or(usize::MAX, |b| b.len());
    if len > MAX_RAW_PARAMETERS_SIZE {
        return Err(OsbError::bad_request("request parameters too large")
            .with_logger_action("request parameters too large"));
    }
    Ok(())
}

#[derive(Default)]
pub(crate) struct Fields {
    pub(crate) service_id: String,
    pub(crate) plan_id: String,
    pub(crate) parameters: Value,
    pub(crate) context: Value,
}

/// Go's `json.NewDecoder(body).Decode(&details)`: the first JSON value of the body (trailing
/// bytes are not read), keys matched case-insensitively (the last match wins), the first type
/// mismatch reported after the whole value was decoded.
pub(crate) fn decode_details(body: &[u8], go_type: &str) -> Result<Fields, OsbError> {
    let value = first_json_value(body).map_err(OsbError::unprocessable)?;
    let obj = match value {
        Value::Null => return Ok(Fields::default()),
        Value::Object(o) => o,
        other => {
            return Err(OsbError::unprocessable(format!(
                "json: cannot unmarshal {} into Go value of type domain.{go_type}",
                go_kind(&other)
            )))
        }
    };
    let mut f = Fields::default();
    let mut first_error: Option<String> = None;
    let mut mismatch = |field: &str, ty: &str, v: &Value| {
        first_error.get_or_insert_with(|| {
            format!(
                "json: cannot unmarshal {} into Go struct field {go_type}.{field} of type {ty}",
                go_kind(v)
            )
        });
    };
    for (k, v) in obj {
        match k.to_ascii_lowercase().as_str() {
            "service_id" => match v {
                Value::String(s) => f.service_id = s,
                Value::Null => {}
                other => mismatch("service_id", "string", &other),
            },
            "plan_id" => match v {
                Value::String(s) => f.plan_id = s,
                Value::Null => {}
                other => mismatch("plan_id", "string", &other),
            },
            field @ ("organization_guid" | "space_guid")
                if !matches!(v, Value::String(_) | Value::Null) =>
            {
                mismatch(field, "string", &v)
            }
            "maintenance_info" if !matches!(v, Value::Object(_) | Value::Null) => {
                mismatch("maintenance_info", "domain.MaintenanceInfo", &v)
            }
            "parameters" => f.parameters = v,
            "context" => f.context = v,
            _ => {}
        }
    }
    match first_error {
        Some(e) => Err(OsbError::unprocessable(e)),
        None => Ok(f),
    }
}

/// The first JSON value of `body`, with Go's decoder texts for the common failures: `EOF` for an
/// empty body, `unexpected EOF` for a truncated one, `invalid character 'x' looking for
/// beginning of value` otherwise (Go words the last one by context; the context is not
/// reproduced).
fn first_json_value(body: &[u8]) -> Result<Value, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err("EOF".into());
    }
    let mut stream = serde_json::Deserializer::from_slice(body).into_iter::<Value>();
    match stream.next() {
        Some(Ok(v)) => Ok(v),
        Some(Err(e)) if e.is_eof() => Err("unexpected EOF".into()),
        Some(Err(e)) => Err(invalid_character(body, &e)),
        None => Err("EOF".into()),
    }
}

fn invalid_character(body: &[u8], e: &serde_json::Error) -> String {
    // serde_json reports the 1-based line and column of the offending byte.
    let line_start: usize = body
        .split(|b| *b == b'\n')
        .take(e.line().saturating_sub(1))
        .map(|l| l.len() + 1)
        .sum();
    let offset = line_start + e.column().saturating_sub(1);
    let c = body
        .get(offset.min(body.len().saturating_sub(1)))
        .copied()
        .unwrap_or(b'?');
    format!(
        "invalid character {} looking for beginning of value",
        go_quote_char(c)
    )
}

/// Go's `encoding/json` `quoteChar`: the byte in single quotes, escaped as `strconv.Quote` does.
fn go_quote_char(c: u8) -> String {
    match c {
        b'\'' => r"'\''".into(),
        b'"' => "'\"'".into(),
        b'\\' => r"'\\'".into(),
        b'\n' => r"'\n'".into(),
        b'\r' => r"'\r'".into(),
        b'\t' => r"'\t'".into(),
        0x07 => r"'\a'".into(),
        0x08 => r"'\b'".into(),
        0x0b => r"'\v'".into(),
        0x0c => r"'\f'".into(),
        c if c < 0x20 || c == 0x7f => format!("'\\x{c:02x}'"),
        // `string(c)` of a byte is the code point U+00XX; Quote escapes the unprintable ones.
        c if (0x80..=0xa0).contains(&c) || c == 0xad => format!("'\\u{:04x}'", c),
        c => format!("'{}'", char::from(c)),
    }
}

/// The twinstack runtime name of an instance: KEB's `CreateShootName` (the first seven hex
/// digits of a UUID without dashes, lower case, `c-` before them when they start with a digit),
/// with the digits taken from a hash of the instance ID (FNV-1a, then MurmurHash3's `fmix64`
/// so that IDs differing in one character differ in every digit) instead of a random UUID.
/// Always a valid DNS label, whatever the ID.
pub fn runtime_name(instance_id: &str) -> String {
    let mut hash = instance_id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    hash ^= hash >> 33;
    let digits = format!("{hash:016x}");
    let name = &digits[..7];
    // `startWithLetter`.
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("c-{name}")
    } else {
        name.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    const AWS: &str = "361c511f-f939-4621-b228-d0fb79a1fe15";

    fn body(v: Value) -> Vec<u8> {
        serde_json::to_vec(&v).unwrap()
    }

    #[test]
    fn brokerapi_checks_in_order() {
        let cases: Vec<(&[u8], u16, &str)> = vec![
            (b"", 422, "EOF"),
            (b"  \n", 422, "EOF"),
            (b"{\"service_id\": \"x\"", 422, "unexpected EOF"),
            (b"xyz", 422, "invalid character 'x' looking for beginning of value"),
            (b"\x01", 422, "invalid character '\\x01' looking for beginning of value"),
            (
                b"[1]",
                422,
                "json: cannot unmarshal array into Go value of type domain.ProvisionDetails",
            ),
            (
                b"{\"service_id\": 5}",
                422,
                "json: cannot unmarshal number into Go struct field ProvisionDetails.service_id of type string",
            ),
            (b"null", 400, "service_id missing"),
            (b"{}", 400, "service_id missing"),
            (b"{\"service_id\": \"s\"}", 400, "plan_id missing"),
            (
                b"{\"service_id\": \"s\", \"plan_id\": \"p\"}",
                400,
                "service-id not in the catalog",
            ),
        ];
        for (b, status, text) in cases {
            let e = provision_details(b).unwrap_err();
            assert_eq!(
                (e.status, e.description.as_str()),
                (status, text),
                "{}",
                String::from_utf8_lossy(b)
            );
        }
        let e = provision_details(&body(
            json!({"service_id": KYMA_SERVICE_ID, "plan_id": "nope"}),
        ))
        .unwrap_err();
        assert_eq!(e.description, "plan-id not in the catalog");
    }

    #[test]
    fn keys_match_case_insensitively_and_trailing_bytes_are_not_read() {
        let mut b = body(
            json!({"SERVICE_ID": KYMA_SERVICE_ID, "Plan_Id": AWS, "parameters": {"name": "x"}}),
        );
        b.extend_from_slice(b" trailing garbage");
        let d = provision_details(&b).unwrap();
        assert_eq!(d.plan_id, AWS);
        assert_eq!(d.parameters, json!({"name": "x"}));
        assert_eq!(d.context, Value::Null);
    }

    #[test]
    fn parameters_over_64k_are_refused() {
        let big = "x".repeat(MAX_RAW_PARAMETERS_SIZE);
        let e = provision_details(&body(
            json!({"service_id": KYMA_SERVICE_ID, "plan_id": AWS, "parameters": {"name": big}}),
        ))
        .unwrap_err();
        assert_eq!(
            (e.status, e.description.as_str()),
            (400, "request parameters too large")
        );
        let e = update_details(&body(
            json!({"service_id": KYMA_SERVICE_ID, "parameters": {"name": "x".repeat(MAX_RAW_PARAMETERS_SIZE)}}),
        ))
        .unwrap_err();
        assert_eq!(e.status, 400);
        assert!(update_details(&body(json!({"service_id": "s"}))).is_ok());
        assert_eq!(
            update_details(b"{}").unwrap_err().description,
            "service_id missing"
        );
    }

    #[test]
    fn runtime_names_are_shoot_names() {
        // (Computed independently; `c-` when the first digit is not a letter.)
        let cases = [
            ("", "efd01f6"),
            ("i1", "ae36458"),
            ("i2", "c-480a136"),
            ("0f5c4d7e-1111-2222-3333-444455556666", "c-3c56bcf"),
        ];
        for (id, want) in cases {
            let got = runtime_name(id);
            assert_eq!(got, want, "{id:?}");
            assert!(
                got.len() == 7 || (got.len() == 9 && got.starts_with("c-")),
                "{got}"
            );
        }
        // Distinct IDs, distinct names; the same ID, the same name.
        assert_ne!(runtime_name("a"), runtime_name("b"));
        assert_eq!(runtime_name("a"), runtime_name("a"));
        let with_digit = (0..100)
            .map(|i| runtime_name(&i.to_string()))
            .find(|n| n.starts_with("c-"))
            .expect("some hash starts with a digit");
        assert_eq!(with_digit.len(), 9);
    }

    proptest! {
        #[test]
        fn runtime_name_is_always_a_dns_label(id in ".{0,80}") {
            let n = runtime_name(&id);
            prop_assert!(twinstack_core::runtime::validate_runtime_name(&n).is_ok(), "{n:?}");
        }

        #[test]
        fn no_body_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = provision_details(&bytes);
            let _ = update_details(&bytes);
        }

        #[test]
        fn no_json_body_panics(v in arb_json()) {
            let b = body(v);
            let _ = provision_details(&b);
            let _ = update_details(&b);
        }
    }

    /// KEB-shaped parameters, mostly valid (so validation passes and the later rules run),
    /// with wrong types, bad CIDRs, IPv6 ranges and unknown keys mixed in. `region: null` is
    /// replaced by a region of the plan.
    fn arb_params() -> impl Strategy<Value = Value> {
        let cidr = prop_oneof![
            8 => Just(json!("10.250.0.0/20")),
            1 => Just(json!("10.250.0.0/24")),
            1 => Just(json!("10.96.0.0/13")),
            1 => Just(json!("10.250.0.1/22")),
            1 => Just(json!("fd00::/16")),
            1 => Just(json!("0.0.0.0/0")),
            1 => "[0-9a-f:./]{0,20}".prop_map(Value::String),
            1 => any::<i64>().prop_map(|i| json!(i)),
        ];
        let v6 = prop_oneof![
            Just(json!("2600:1f18:0:100::/56")),
            Just(json!("2600:1f18:0:100:0:0:10::/108")),
            Just(json!("2600:1900:4000::/64")),
            Just(json!("::/0")),
            Just(json!("10.0.0.0/8")),
            "[0-9a-f:/]{0,16}".prop_map(Value::String),
        ];
        let family = prop_oneof![
            4 => Just(json!("IPv4")),
            4 => Just(json!("IPv6")),
            1 => Just(json!("IPv5")),
            1 => Just(json!(4)),
        ];
        (
            prop_oneof![4 => "[a-z][a-z0-9-]{0,10}", 1 => "[a-zA-Z0-9-]{0,70}", 1 => ".{0,8}"],
            prop_oneof![8 => Just(Value::Null), 1 => ".{0,6}".prop_map(Value::String), 1 => any::<bool>().prop_map(Value::Bool)],
            proptest::option::of((cidr, proptest::option::of(any::<bool>()))),
            proptest::option::of((
                proptest::collection::vec(family, 0..3),
                proptest::option::of((v6.clone(), v6.clone(), v6)),
            )),
            proptest::option::of((0..30i64, 0..30i64)),
            proptest::option::of(proptest::collection::vec("[a-z0-9-]{0,4}", 0..6)),
            proptest::option::weighted(0.1, arb_json()),
        )
            .prop_map(|(name, region, net, ts, scaler, zones, extra)| {
                let mut p = json!({"name": name, "region": region});
                if let Some(extra) = extra {
                    p["extra"] = extra;
                }
                if let Some((nodes, ds)) = net {
                    p["networking"] = json!({"nodes": nodes});
                    if let Some(ds) = ds {
                        p["networking"]["dualStack"] = json!(ds);
                    }
                }
                if let Some((families, v6)) = ts {
                    p["twinstack"] = json!({"ipFamilies": families});
                    if let Some((n, po, s)) = v6 {
                        p["twinstack"]["ipv6"] = json!({"nodes": n, "pods": po, "services": s});
                    }
                }
                if let Some((min, max)) = scaler {
                    p["autoScalerMin"] = json!(min);
                    p["autoScalerMax"] = json!(max);
                }
                if let Some(z) = zones {
                    p["zones"] = json!(z);
                }
                p
            })
    }

    /// A region the plan's schema offers (the first of its enum), where it has one.
    fn plan_region(info: &crate::PlanInfo, opts: &crate::KebOptions) -> Value {
        crate::schema::create_schema(info, opts)
            .pointer("/properties/region/enum/0")
            .cloned()
            .unwrap_or(Value::Null)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// What the broker runs on a request body before it touches the store: decoding,
        /// KEB's validation for every plan, the runtime name and the Shoot networking, for
        /// create and update. None of it may panic.
        #[test]
        fn provisioning_rules_never_panic(
            plan in 0..crate::plans::PLANS.len(),
            mut params in arb_params(),
            update in arb_params(),
            id in ".{0,12}",
            strict in any::<bool>(),
        ) {
            let info = &crate::plans::PLANS[plan];
            let opts = if strict { crate::KebOptions::strict() } else { crate::KebOptions::default() };
            if params["region"].is_null() {
                params["region"] = plan_region(info, &opts);
            }
            let body = body(json!({"service_id": KYMA_SERVICE_ID, "plan_id": info.plan.id(), "parameters": params}));
            if let Ok(d) = provision_details(&body) {
                if let Ok(p) = crate::validate_provision(&d.plan_id, &d.parameters, &opts) {
                    let name = runtime_name(&id);
                    let shoot = crate::shoot_networking(&p, &name);
                    let _ = shoot.to_network();
                    let _ = crate::kube_dns_service(&shoot);
                    let _ = crate::validate_update(info.plan.id(), &p, &update, &opts);
                }
            }
        }
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|i| json!(i)),
            "[a-zA-Z_ -]{0,12}".prop_map(Value::String),
            Just(json!(KYMA_SERVICE_ID)),
            Just(json!(AWS)),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::vec(
                    (
                        prop_oneof![
                            Just("service_id".to_string()),
                            Just("plan_id".to_string()),
                            Just("parameters".to_string()),
                            Just("context".to_string()),
                            Just("maintenance_info".to_string()),
                            "[a-z]{1,6}"
                        ],
                        inner
                    ),
                    0..5
                )
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }
}
