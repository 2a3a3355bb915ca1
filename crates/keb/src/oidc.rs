//! `parameters.oidc` in both shapes KEB accepts (common/runtime/model.go `OIDCConnectDTO`):
//! the legacy object (`{"clientID": ..., "issuerURL": ...}`) and the list form
//! (`{"list": [{...}, ...]}`), checked by `OIDCConnectDTO.Validate` with KEB's messages.
//!
//! KEB calls it on provisioning when `oidc` is provided (`Validate(nil)`, 422 wrapped to 400 by
//! `Provision`) and on update against the instance's OIDC (`Validate(instance.OIDC)`, 400).

use serde_json::Value;

/// `oidcValidSigningAlgs`.
pub const VALID_SIGNING_ALGS: &[&str] = &[
    "RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512",
];

/// What the stored instance uses (only matters on update).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceOidc {
    /// Provisioning, or an instance without OIDC.
    None,
    Object,
    List,
}

/// `OIDCConnectDTO.IsProvided`: Go allocates the embedded object as soon as one of its fields
/// is present, and `List` when `list` is present (even empty).
pub fn is_provided(oidc: Option<&Value>) -> bool {
    let Some(Value::Object(o)) = oidc else {
        return false;
    };
    o.contains_key("list")
        || o.keys()
            .any(|k| OBJECT_FIELDS.iter().any(|f| f.eq_ignore_ascii_case(k)))
}

const OBJECT_FIELDS: &[&str] = &[
    "clientID",
    "groupsClaim",
    "groupsPrefix",
    "issuerURL",
    "signingAlgs",
    "usernameClaim",
    "usernamePrefix",
    "requiredClaims",
    "encodedJwksArray",
];

/// `OIDCConnectDTO.Validate`: `Err` carries KEB's text (causes joined by `", "`).
pub fn validate(oidc: &Value, instance: InstanceOidc) -> Result<(), String> {
    let Value::Object(o) = oidc else {
        return Ok(());
    };
    let has_object = o
        .keys()
        .any(|k| OBJECT_FIELDS.iter().any(|f| f.eq_ignore_ascii_case(k)));
    let list = o.get("list").filter(|v| !v.is_null());
    if list.is_some() && has_object {
        return Err("both list and object OIDC cannot be set".into());
    }
    let mut errs = Vec::new();
    if has_object {
        if instance == InstanceOidc::List {
            return Err(
                "an object OIDC cannot be used because the instance OIDC configuration uses a list"
                    .into(),
            );
        }
        let c = Config::from(oidc);
        if c.is_empty() {
            return Ok(());
        }
        if c.client_id.is_empty() {
            errs.push("clientID must not be empty".to_string());
        }
        if c.issuer_url.is_empty() {
            errs.push("issuerURL must not be empty".to_string());
        } else {
            issuer_url(&c.issuer_url, None, &mut errs);
        }
        signing_algs(&c.signing_algs, None, &mut errs);
        required_claims(&c.required_claims, None, &mut errs);
        if !c.encoded_jwks_array.is_empty()
            && c.encoded_jwks_array != "-"
            && !is_std_base64(&c.encoded_jwks_array)
        {
            errs.push("encodedJwksArray must be a valid base64-encoded value or set to '-' to disable it if it was used previously".into());
        }
    } else if let Some(Value::Array(items)) = list {
        for (i, item) in items.iter().enumerate() {
            let c = Config::from(item);
            if c.client_id.is_empty() {
                errs.push(format!("clientID must not be empty for OIDC at index {i}"));
            }
            if c.issuer_url.is_empty() {
                errs.push(format!("issuerURL must not be empty for OIDC at index {i}"));
            } else {
                issuer_url(&c.issuer_url, Some(i), &mut errs);
            }
            if !c.encoded_jwks_array.is_empty() && !is_std_base64(&c.encoded_jwks_array) {
                errs.push(format!(
                    "encodedJwksArray must be a valid base64 encoded value at index {i}"
                ));
            }
            signing_algs(&c.signing_algs, Some(i), &mut errs);
            required_claims(&c.required_claims, Some(i), &mut errs);
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs.join(", "))
    }
}

#[derive(Default)]
struct Config {
    client_id: String,
    issuer_url: String,
    groups_claim: String,
    groups_prefix: String,
    username_claim: String,
    username_prefix: String,
    signing_algs: Vec<String>,
    required_claims: Vec<String>,
    encoded_jwks_array: String,
}

impl Config {
    fn from(v: &Value) -> Config {
        // Go matches keys case-insensitively.
        let get = |k: &str| {
            v.as_object()
                .and_then(|o| o.iter().rev().find(|(key, _)| key.eq_ignore_ascii_case(k)))
                .map(|(_, v)| v)
        };
        let s = |k: &str| get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let list = |k: &str| {
            get(k)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .map(|x| x.as_str().unwrap_or("").to_string())
                        .collect()
                })
                .unwrap_or_default()
        };
        Config {
            client_id: s("clientID"),
            issuer_url: s("issuerURL"),
            groups_claim: s("groupsClaim"),
            groups_prefix: s("groupsPrefix"),
            username_claim: s("usernameClaim"),
            username_prefix: s("usernamePrefix"),
            signing_algs: list("signingAlgs"),
            required_claims: list("requiredClaims"),
            encoded_jwks_array: s("encodedJwksArray"),
        }
    }
    /// `OIDCConfigDTO.IsEmpty`.
    fn is_empty(&self) -> bool {
        self.client_id.is_empty()
            && self.issuer_url.is_empty()
            && self.groups_claim.is_empty()
            && self.username_prefix.is_empty()
            && self.username_claim.is_empty()
            && self.signing_algs.is_empty()
            && self.required_claims.is_empty()
            && self.groups_prefix.is_empty()
            && self.encoded_jwks_array.is_empty()
    }
}

fn at(index: Option<usize>, msg: &str) -> String {
    match index {
        Some(i) => format!("{msg} for OIDC at index {i}"),
        None => msg.to_string(),
    }
}

/// `validateIssuerURL` over Go's `url.Parse`.
fn issuer_url(raw: &str, index: Option<usize>, errs: &mut Vec<String>) {
    let Some(u) = go_url_parse(raw).filter(|u| !u.host.is_empty()) else {
        errs.push(at(
            index,
            "issuerURL must be a valid URL, issuerURL must have https scheme",
        ));
        return;
    };
    if u.fragment {
        errs.push(at(index, "issuerURL must not contain a fragment"));
    }
    if u.user {
        errs.push(at(
            index,
            "issuerURL must not contain a username or password",
        ));
    }
    if u.query {
        errs.push(at(index, "issuerURL must not contain a query"));
    }
    if u.scheme != "https" {
        errs.push(at(index, "issuerURL must have https scheme"));
    }
}

fn signing_algs(algs: &[String], index: Option<usize>, errs: &mut Vec<String>) {
    if algs
        .iter()
        .any(|a| !VALID_SIGNING_ALGS.contains(&a.as_str()))
    {
        errs.push(at(
            index,
            "signingAlgs must contain valid signing algorithm(s)",
        ));
    }
}

fn required_claims(claims: &[String], index: Option<usize>, errs: &mut Vec<String>) {
    // The object form accepts `["-"]` (remove the claims set before).
    if index.is_none() && claims.len() == 1 && claims[0] == "-" {
        return;
    }
    for c in claims {
        let ok = c
            .split_once('=')
            .is_some_and(|(k, v)| !k.is_empty() && !v.is_empty());
        if !ok {
            errs.push(at(
                index,
                &format!("requiredClaims must be in claim=value format, invalid claim: {c}"),
            ));
        }
    }
}

struct GoUrl {
    scheme: String,
    host: String,
    user: bool,
    query: bool,
    fragment: bool,
}

/// The parts of Go's `net/url.Parse` the issuer check reads; `None` where Go returns an error.
fn go_url_parse(raw: &str) -> Option<GoUrl> {
    if raw.chars().any(|c| (c as u32) < 0x20 || c as u32 == 0x7f) {
        return None; // net/url: invalid control character in URL
    }
    let (rest, fragment) = match raw.split_once('#') {
        Some((r, _)) => (r, true),
        None => (raw, false),
    };
    // getScheme: letters first, then letters/digits/+-. up to ':'; ':' first = missing scheme.
    let mut scheme = "";
    let mut rest = rest;
    for (i, c) in rest.char_indices() {
        if c.is_ascii_alphabetic() {
            continue;
        }
        if i > 0 && (c.is_ascii_digit() || matches!(c, '+' | '-' | '.')) {
            continue;
        }
        if c == ':' {
            if i == 0 {
                return None; // missing protocol scheme
            }
            scheme = &rest[..i];
            rest = &rest[i + 1..];
        }
        break;
    }
    let scheme = scheme.to_ascii_lowercase();
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, !q.is_empty()),
        None => (rest, rest.ends_with('?')),
    };
    let mut host = String::new();
    let mut user = false;
    if let Some(after) = rest.strip_prefix("//") {
        let authority = after.split('/').next().unwrap_or("");
        let hostport = match authority.rsplit_once('@') {
            Some((_, h)) => {
                user = true;
                h
            }
            None => authority,
        };
        if let Some((h, port)) = hostport.rsplit_once(':') {
            if !h.ends_with(']') && h.contains(':') && !h.starts_with('[') {
                return None;
            }
            if !port.chars().all(|c| c.is_ascii_digit()) {
                return None; // invalid port
            }
        }
        host = hostport.to_string();
    }
    Some(GoUrl {
        scheme,
        host,
        user,
        query,
        fragment,
    })
}

/// `base64.StdEncoding.DecodeString(s) == nil` (padding required, `\r`/`\n` ignored, trailing
/// bits not checked).
fn is_std_base64(s: &str) -> bool {
    let b: Vec<u8> = s.bytes().filter(|c| *c != b'\r' && *c != b'\n').collect();
    if !b.len().is_multiple_of(4) {
        return false;
    }
    let pad = b.iter().rev().take_while(|c| **c == b'=').count();
    if pad > 2 {
        return false;
    }
    b[..b.len() - pad]
        .iter()
        .all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(issuer: &str) -> Value {
        json!({"clientID": "c", "issuerURL": issuer, "signingAlgs": ["RS256"], "usernameClaim": "sub"})
    }

    #[test]
    fn object_form_messages() {
        let cases: Vec<(Value, &str)> = vec![
            (json!({"issuerURL": "https://a.b"}), "clientID must not be empty"),
            (json!({"clientID": "c"}), "issuerURL must not be empty"),
            (obj("http://a.b"), "issuerURL must have https scheme"),
            (obj("a.b"), "issuerURL must be a valid URL, issuerURL must have https scheme"),
            (obj("https://u:p@a.b"), "issuerURL must not contain a username or password"),
            (obj("https://a.b?x=1"), "issuerURL must not contain a query"),
            (obj("https://a.b#f"), "issuerURL must not contain a fragment"),
            (obj("http://a.b?x=1#f"), "issuerURL must not contain a fragment, issuerURL must not contain a query, issuerURL must have https scheme"),
            (json!({"clientID": "c", "issuerURL": "https://a.b", "signingAlgs": ["HS256"]}), "signingAlgs must contain valid signing algorithm(s)"),
            (json!({"clientID": "c", "issuerURL": "https://a.b", "requiredClaims": ["a"]}), "requiredClaims must be in claim=value format, invalid claim: a"),
            (json!({"clientID": "c", "issuerURL": "https://a.b", "encodedJwksArray": "abc"}), "encodedJwksArray must be a valid base64-encoded value or set to '-' to disable it if it was used previously"),
            (json!({"clientID": "c", "list": []}), "both list and object OIDC cannot be set"),
        ];
        for (v, want) in cases {
            assert_eq!(validate(&v, InstanceOidc::None).unwrap_err(), want, "{v}");
        }
        for ok in [
            obj("https://kymatest.accounts400.ondemand.com"),
            json!({"clientID": ""}),
            json!({"clientID": "c", "issuerURL": "https://a.b", "requiredClaims": ["-"], "encodedJwksArray": "-"}),
        ] {
            assert_eq!(validate(&ok, InstanceOidc::None), Ok(()), "{ok}");
        }
        assert_eq!(
            validate(&obj("https://a.b"), InstanceOidc::List).unwrap_err(),
            "an object OIDC cannot be used because the instance OIDC configuration uses a list"
        );
    }

    #[test]
    fn list_form_messages() {
        let v = json!({"list": [
            {"clientID": "c", "issuerURL": "https://a.b"},
            {"clientID": "", "issuerURL": "http://a.b", "signingAlgs": ["none"], "requiredClaims": ["-"], "encodedJwksArray": "!!"}
        ]});
        assert_eq!(
            validate(&v, InstanceOidc::Object).unwrap_err(),
            "clientID must not be empty for OIDC at index 1, issuerURL must have https scheme for OIDC at index 1, encodedJwksArray must be a valid base64 encoded value at index 1, signingAlgs must contain valid signing algorithm(s) for OIDC at index 1, requiredClaims must be in claim=value format, invalid claim: - for OIDC at index 1"
        );
        assert_eq!(validate(&json!({"list": []}), InstanceOidc::None), Ok(()));
        assert!(is_provided(Some(&json!({"list": []}))));
        assert!(!is_provided(Some(&json!({}))));
    }
}
