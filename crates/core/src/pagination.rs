//! List pagination as kube-apiserver does it: continue tokens tied to the revision of the first
//! page (apiserver `pkg/storage/continue.go`), the validation of `ListOptions` (apimachinery
//! `pkg/apis/meta/internalversion/validation`), and the parameter parsing of `limit`
//! (`runtime.Convert_Slice_string_To_int64`).
//!
//! A token is base64url (no padding) of `{"v":"meta.k8s.io/v1","rv":<revision>,"start":"<key>"}`,
//! where `<key>` is the last listed key relative to the collection's prefix followed by `\u0000`
//! (the first key that can follow it). Revision `-1` means "continue at the latest revision",
//! which is what the 410 for a compacted token hands out.

use crate::field::{BadValue, FieldError, Path};

/// The only token version kube-apiserver writes and reads.
pub const CONTINUE_VERSION: &str = "meta.k8s.io/v1";

/// etcd3 store `maxLimit`: the most keys one storage read fetches while filling a page whose
/// selector drops items (the page size doubles up to it).
pub const MAX_FETCH: usize = 10_000;

/// apiserver etcd3 `errors.go` `expired`: a list at an exact, compacted resourceVersion.
pub const EXPIRED: &str = "The resourceVersion for the provided list is too old.";

/// apiserver etcd3 `errors.go` `inconsistentContinue`: a continue token whose revision has been
/// compacted; the 410 carries a new token (revision -1) to go on at the latest revision.
pub const INCONSISTENT_CONTINUE: &str = "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

/// A decoded continue token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Continue {
    /// Where the next page starts (inclusive), relative to the collection's key prefix.
    pub start: String,
    /// The revision of the first page, or -1 for the latest.
    pub revision: i64,
}

/// Why list parameters were refused. A continue token's errors are `storage.DecodeContinue`'s
/// words (the apiserver answers 400 `invalid continue token: <this>`); a bad `limit` is Go's
/// `strconv.ParseInt` error (400 as it is).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaginationError {
    /// `ErrGenericInvalidKey` with the decoding error.
    #[error("continue key is not valid: {0}")]
    Invalid(String),
    /// `ErrInvalidStartRV`.
    #[error(
        "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)"
    )]
    InvalidStartRv,
    /// `ErrEmptyStartKey`.
    #[error("continue key is not valid: encoded start key empty (version meta.k8s.io/v1)")]
    EmptyStartKey,
    /// `ErrUnrecognizedEncodedVersion`.
    #[error("continue key is not valid: server does not recognize this encoded version {0}")]
    UnrecognizedVersion(String),
    /// `limit` is not an int64: the quoted value and Go's reason (`invalid syntax`, `value out
    /// of range`).
    #[error("strconv.ParseInt: parsing {0}: {1}")]
    Limit(String, &'static str),
}

/// `storage.PrepareContinueToken`: the token for going on after `last_key` (relative to the
/// prefix) at `revision`.
pub fn encode_continue(last_key: &str, revision: i64) -> String {
    encode_continue_from(&format!("{last_key}\u{0}"), revision)
}

/// `storage.EncodeContinue`: the token for going on from `start` (inclusive, relative to the
/// prefix) at `revision`.
pub fn encode_continue_from(start: &str, revision: i64) -> String {
    let json = format!(
        "{{\"v\":\"{CONTINUE_VERSION}\",\"rv\":{revision},\"start\":{}}}",
        go_json_string(start)
    );
    base64_raw_url_encode(json.as_bytes())
}

/// `storage.DecodeContinue`: the start key (relative to the prefix) and revision of a token.
pub fn decode_continue(token: &str) -> Result<Continue, PaginationError> {
    let data = base64_raw_url_decode(token).map_err(PaginationError::Invalid)?;
    let (v, rv, start) = unmarshal_token(&data).map_err(PaginationError::Invalid)?;
    if v != CONTINUE_VERSION {
        return Err(PaginationError::UnrecognizedVersion(v));
    }
    if rv == 0 {
        return Err(PaginationError::InvalidStartRv);
    }
    if start.is_empty() {
        return Err(PaginationError::EmptyStartKey);
    }
    // A token cannot reach above its collection: the key must be a clean path.
    let key = if start.starts_with('/') {
        start.clone()
    } else {
        format!("/{start}")
    };
    if clean_path(&key) != key {
        return Err(PaginationError::Invalid(start));
    }
    Ok(Continue {
        start: key[1..].to_string(),
        revision: rv,
    })
}

/// Go's `json.Marshal` of a string (HTML-safe escaping).
fn go_json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `json.Unmarshal(data, &continueToken{})`: field names match case-insensitively, unknown
/// fields are ignored, null leaves a field empty, the first type error is reported.
fn unmarshal_token(data: &[u8]) -> Result<(String, i64, String), String> {
    if let Some(e) = crate::gojson::go_json_syntax_error(data) {
        return Err(e);
    }
    let value: serde_json::Value = serde_json::from_slice(data)
        .map_err(|_| "invalid character in string literal".to_string())?;
    let obj = match value {
        serde_json::Value::Object(m) => m,
        serde_json::Value::Null => return Ok((String::new(), 0, String::new())),
        other => {
            return Err(format!(
                "json: cannot unmarshal {} into Go value of type storage.continueToken",
                json_kind(&other)
            ))
        }
    };
    let mut v = String::new();
    let mut rv = 0i64;
    let mut start = String::new();
    let mut first_error = None;
    for (k, val) in &obj {
        let field = ["v", "rv", "start"]
            .into_iter()
            .find(|f| f.eq_ignore_ascii_case(k));
        let type_error = |want: &str, got: String| {
            format!(
                "json: cannot unmarshal {got} into Go struct field continueToken.{} of type {want}",
                field.unwrap_or("")
            )
        };
        let err = match (field, val) {
            (None, _) | (Some(_), serde_json::Value::Null) => None,
            (Some("rv"), serde_json::Value::Number(n)) => match n.as_i64() {
                Some(i) => {
                    rv = i;
                    None
                }
                None => Some(type_error("int64", format!("number {n}"))),
            },
            (Some("rv"), other) => Some(type_error("int64", json_kind(other).into())),
            (Some(f), serde_json::Value::String(s)) => {
                if f == "v" {
                    v = s.clone();
                } else {
                    start = s.clone();
                }
                None
            }
            (Some(_), other) => Some(type_error("string", json_kind(other).into())),
        };
        if first_error.is_none() {
            first_error = err;
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok((v, rv, start)),
    }
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "bool",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn base64_raw_url_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len() * 4 / 3 + 3);
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// Go's `base64.RawURLEncoding.DecodeString`: newlines are skipped, anything else outside the
/// alphabet (padding included) or a dangling single character is `illegal base64 data at input
/// byte N`.
fn base64_raw_url_decode(s: &str) -> Result<Vec<u8>, String> {
    let illegal = |i: usize| format!("illegal base64 data at input byte {i}");
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut quantum = [0u32; 4];
    let mut n = 0;
    let mut last = 0;
    for (i, c) in s.bytes().enumerate() {
        if c == b'\n' || c == b'\r' {
            continue;
        }
        let Some(d) = B64.iter().position(|b| *b == c) else {
            return Err(illegal(i));
        };
        quantum[n] = d as u32;
        n += 1;
        last = i;
        if n == 4 {
            let v = (quantum[0] << 18) | (quantum[1] << 12) | (quantum[2] << 6) | quantum[3];
            out.extend_from_slice(&[(v >> 16) as u8, (v >> 8) as u8, v as u8]);
            n = 0;
        }
    }
    match n {
        0 => {}
        1 => return Err(illegal(last)),
        _ => {
            let v = (quantum[0] << 18) | (quantum[1] << 12) | (quantum[2] << 6);
            out.push((v >> 16) as u8);
            if n == 3 {
                out.push((v >> 8) as u8);
            }
        }
    }
    Ok(out)
}

/// Go's `path.Clean` of a rooted path.
fn clean_path(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    format!("/{}", parts.join("/"))
}

/// The list parameters pagination needs, as the query gives them (empty is absent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListOptions {
    pub resource_version: String,
    pub resource_version_match: String,
    pub limit: i64,
    pub continue_token: String,
    /// `sendInitialEvents` was given (any value).
    pub send_initial_events: bool,
}

/// `runtime.Convert_Slice_string_To_int64` for `limit`: Go's `strconv.ParseInt` text on error,
/// which the apiserver answers with 400.
pub fn parse_limit(s: &str) -> Result<i64, PaginationError> {
    s.parse::<i64>().map_err(|e| {
        let why = match e.kind() {
            std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow => {
                "value out of range"
            }
            _ => "invalid syntax",
        };
        PaginationError::Limit(crate::field::go_quote(s), why)
    })
}

/// `ValidateListOptions` for a list (not a watch): the apiserver answers 422
/// `ListOptions.meta.k8s.io "" is invalid: ...`.
pub fn validate_list_options(o: &ListOptions) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let path = Path::new("resourceVersionMatch");
    let m = o.resource_version_match.as_str();
    if !m.is_empty() {
        if o.resource_version.is_empty() {
            errs.push(FieldError::forbidden(
                &path,
                "resourceVersionMatch is forbidden unless resourceVersion is provided",
            ));
        }
        if !o.continue_token.is_empty() {
            errs.push(FieldError::forbidden(
                &path,
                "resourceVersionMatch is forbidden when continue is provided",
            ));
        }
        if m != "Exact" && m != "NotOlderThan" {
            errs.push(FieldError::not_supported(
                &path,
                BadValue::str(m),
                &["Exact", "NotOlderThan", ""],
            ));
        }
        if m == "Exact" && o.resource_version == "0" {
            errs.push(FieldError::forbidden(
                &path,
                "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"",
            ));
        }
    }
    if o.send_initial_events {
        errs.push(FieldError::forbidden(
            &Path::new("sendInitialEvents"),
            "sendInitialEvents is forbidden for list",
        ));
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_upstreams() {
        // What kube-apiserver hands out after `default/web-1` at revision 42.
        let t = encode_continue("default/web-1", 42);
        assert_eq!(
            String::from_utf8(base64_raw_url_decode(&t).unwrap()).unwrap(),
            "{\"v\":\"meta.k8s.io/v1\",\"rv\":42,\"start\":\"default/web-1\\u0000\"}"
        );
        assert!(!t.contains('='));
        assert_eq!(
            decode_continue(&t).unwrap(),
            Continue {
                start: "default/web-1\u{0}".into(),
                revision: 42
            }
        );
        assert_eq!(
            decode_continue(&encode_continue("a", -1)).unwrap().revision,
            -1
        );
    }

    #[test]
    fn bad_tokens_have_upstreams_errors() {
        let enc = |s: &str| base64_raw_url_encode(s.as_bytes());
        for (token, want) in [
            ("garbage!".to_string(), "continue key is not valid: illegal base64 data at input byte 7"),
            ("a".to_string(), "continue key is not valid: illegal base64 data at input byte 0"),
            ("YWJj=".to_string(), "continue key is not valid: illegal base64 data at input byte 4"),
            (enc("abc"), "continue key is not valid: invalid character 'a' looking for beginning of value"),
            (enc("[1]"), "continue key is not valid: json: cannot unmarshal array into Go value of type storage.continueToken"),
            (enc("{\"v\":\"meta.k8s.io/v1\",\"rv\":\"1\",\"start\":\"a\"}"), "continue key is not valid: json: cannot unmarshal string into Go struct field continueToken.rv of type int64"),
            (enc("{\"v\":\"meta.k8s.io/v1\",\"rv\":0,\"start\":\"a\"}"), "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)"),
            (enc("{\"v\":\"meta.k8s.io/v1\",\"rv\":3}"), "continue key is not valid: encoded start key empty (version meta.k8s.io/v1)"),
            (enc("{\"v\":\"x/v9\",\"rv\":3,\"start\":\"a\"}"), "continue key is not valid: server does not recognize this encoded version x/v9"),
            (enc("{\"v\":\"meta.k8s.io/v1\",\"rv\":3,\"start\":\"../other/x\"}"), "continue key is not valid: ../other/x"),
        ] {
            assert_eq!(decode_continue(&token).unwrap_err().to_string(), want, "{token}");
        }
        // Field names match case-insensitively, as Go's decoder does.
        let t = enc("{\"V\":\"meta.k8s.io/v1\",\"RV\":7,\"Start\":\"ns/a\"}");
        assert_eq!(decode_continue(&t).unwrap().revision, 7);
    }

    #[test]
    fn list_options_validation() {
        let o = |rv: &str, m: &str, cont: &str| ListOptions {
            resource_version: rv.into(),
            resource_version_match: m.into(),
            continue_token: cont.into(),
            ..Default::default()
        };
        let msgs = |o: &ListOptions| {
            validate_list_options(o)
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
        };
        assert!(msgs(&o("5", "Exact", "")).is_empty());
        assert!(msgs(&o("", "", "x")).is_empty());
        assert_eq!(
            msgs(&o("", "NotOlderThan", "")),
            ["resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided"]
        );
        assert_eq!(
            msgs(&o("0", "Exact", "")),
            ["resourceVersionMatch: Forbidden: resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\""]
        );
        assert_eq!(
            msgs(&o("1", "Newest", "t")),
            [
                "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is provided",
                "resourceVersionMatch: Unsupported value: \"Newest\": supported values: \"Exact\", \"NotOlderThan\", \"\""
            ]
        );
        assert_eq!(
            parse_limit("ten").unwrap_err().to_string(),
            "strconv.ParseInt: parsing \"ten\": invalid syntax"
        );
        assert_eq!(
            parse_limit("99999999999999999999").unwrap_err().to_string(),
            "strconv.ParseInt: parsing \"99999999999999999999\": value out of range"
        );
        assert_eq!(parse_limit("500"), Ok(500));
    }

    proptest::proptest! {
        #[test]
        fn base64_round_trips(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64)) {
            proptest::prop_assert_eq!(base64_raw_url_decode(&base64_raw_url_encode(&data)).unwrap(), data);
        }

        #[test]
        fn any_token_decodes_or_fails_cleanly(s in "\\PC{0,64}") {
            let _ = decode_continue(&s);
        }

        #[test]
        fn keys_round_trip(key in "[a-z0-9][a-z0-9.-]{0,19}/[a-z0-9][a-z0-9.-]{0,19}", rv in 1i64..1_000_000) {
            let c = decode_continue(&encode_continue(&key, rv)).unwrap();
            proptest::prop_assert_eq!(c.start, format!("{key}\u{0}"));
            proptest::prop_assert_eq!(c.revision, rv);
        }
    }
}
