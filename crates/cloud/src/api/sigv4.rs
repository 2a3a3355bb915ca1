//! Verifying an AWS Signature Version 4 `Authorization` header, as the AWS Query API endpoints
//! do. The spec: <https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html>
//! ("Create a signed AWS API request": canonical request, string to sign, signing key,
//! signature). The `aws-sigv4` crate only signs; this is the other side, in four steps that
//! carry the spec's step names.
//!
//! Not supported (answered as missing authentication): presigned URLs (`X-Amz-Signature` in
//! the query), SigV4a, the legacy `Date` header instead of `X-Amz-Date`.

use crate::api::form::{percent_decode, uri_encode};
use ring::{digest, hmac};

/// The parts of an HTTP request a signature covers, as received (raw path and query).
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    /// The raw (still percent-encoded) path, e.g. `/cloud/aws/rt1`.
    pub path: &'a str,
    /// The raw query string without `?` (empty when none).
    pub query: &'a str,
    /// Every header as received; names in any case, repeated names allowed.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// Who signed, and for which region and service (`elasticloadbalancing`, `ec2`): the credential
/// scope of a valid signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub access_key_id: String,
    pub region: String,
    pub service: String,
}

/// Why a request is refused. Display is AWS's message; [`Self::code`] AWS's error code as the
/// ELBv2 Query API answers it (EC2 answers some as `AuthFailure`: `api::aws::auth_error`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigV4Error {
    /// No `Authorization` header.
    #[error("Request is missing Authentication Token")]
    MissingAuthenticationToken,
    /// A malformed `Authorization` header, or one without `X-Amz-Date` (AWS's text).
    #[error("{0}")]
    IncompleteSignature(String),
    /// The access key id is not known.
    #[error("The security token included in the request is invalid.")]
    InvalidClientTokenId,
    /// The signature is not the one the secret gives.
    #[error("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")]
    SignatureDoesNotMatch,
    /// `X-Amz-Date` more than 15 minutes before `now`.
    #[error("Signature expired: {date} is now earlier than {earliest} ({now} - 15 min.)")]
    SignatureExpired {
        date: String,
        earliest: String,
        now: String,
    },
    /// `X-Amz-Date` more than 15 minutes after `now`.
    #[error("Signature not yet current: {date} is still later than {latest} ({now} + 15 min.)")]
    SignatureNotYetCurrent {
        date: String,
        latest: String,
        now: String,
    },
    /// The credential scope's date is not the day of `X-Amz-Date`.
    #[error("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{scope}' != '{day}', from '{amz_date}'.")]
    ScopeDateMismatch {
        scope: String,
        day: String,
        amz_date: String,
    },
}

impl SigV4Error {
    /// AWS's error code.
    pub fn code(&self) -> &'static str {
        match self {
            SigV4Error::MissingAuthenticationToken => "MissingAuthenticationToken",
            SigV4Error::IncompleteSignature(_) => "IncompleteSignature",
            SigV4Error::InvalidClientTokenId => "InvalidClientTokenId",
            SigV4Error::SignatureDoesNotMatch
            | SigV4Error::SignatureExpired { .. }
            | SigV4Error::SignatureNotYetCurrent { .. }
            | SigV4Error::ScopeDateMismatch { .. } => "SignatureDoesNotMatch",
        }
    }

    /// The HTTP status AWS answers it with.
    pub fn status(&self) -> u16 {
        match self {
            SigV4Error::IncompleteSignature(_) => 400,
            _ => 403,
        }
    }
}

/// AWS accepts a request signed up to 15 minutes before or after its clock.
pub const MAX_SKEW_SECONDS: i64 = 15 * 60;

const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// Checks `request`'s `Authorization` header against the secret `secret_of` gives for its
/// access key id, with `now` (Unix seconds) for the 15-minute window.
pub fn verify(
    request: &Request<'_>,
    secret_of: impl Fn(&str) -> Option<String>,
    now: i64,
) -> Result<Verified, SigV4Error> {
    let authorization =
        header(request.headers, "authorization").ok_or(SigV4Error::MissingAuthenticationToken)?;
    let auth = parse_authorization(&authorization)?;
    let amz_date = header(request.headers, "x-amz-date").ok_or_else(|| {
        SigV4Error::IncompleteSignature(format!(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization={authorization}"
        ))
    })?;
    let signed_at = parse_amz_date(&amz_date).ok_or_else(|| {
        SigV4Error::IncompleteSignature(format!(
            "Date must be in ISO-8601 'basic format'. Got '{amz_date}'. See http://en.wikipedia.org/wiki/ISO_8601"
        ))
    })?;
    let secret = secret_of(&auth.access_key_id).ok_or(SigV4Error::InvalidClientTokenId)?;
    if auth.date != amz_date[..8] {
        return Err(SigV4Error::ScopeDateMismatch {
            scope: auth.date.clone(),
            day: amz_date[..8].to_string(),
            amz_date: amz_date.clone(),
        });
    }
    if signed_at < now.saturating_sub(MAX_SKEW_SECONDS) {
        return Err(SigV4Error::SignatureExpired {
            date: amz_date.clone(),
            earliest: format_amz_date(now.saturating_sub(MAX_SKEW_SECONDS)),
            now: format_amz_date(now),
        });
    }
    if signed_at > now.saturating_add(MAX_SKEW_SECONDS) {
        return Err(SigV4Error::SignatureNotYetCurrent {
            date: amz_date.clone(),
            latest: format_amz_date(now.saturating_add(MAX_SKEW_SECONDS)),
            now: format_amz_date(now),
        });
    }
    // Step 1-2: canonical request, string to sign; step 3: signing key; step 4: compare the
    // signature (HMAC verify is constant-time).
    let canonical = canonical_request(request, &auth.signed_headers);
    let scope = format!(
        "{}/{}/{}/aws4_request",
        auth.date, auth.region, auth.service
    );
    let to_sign = string_to_sign(&amz_date, &scope, &canonical);
    let key = signing_key(&secret, &auth.date, &auth.region, &auth.service);
    let given = hex_decode(&auth.signature).ok_or(SigV4Error::SignatureDoesNotMatch)?;
    hmac::verify(
        &hmac::Key::new(hmac::HMAC_SHA256, &key),
        to_sign.as_bytes(),
        &given,
    )
    .map_err(|_| SigV4Error::SignatureDoesNotMatch)?;
    Ok(Verified {
        access_key_id: auth.access_key_id,
        region: auth.region,
        service: auth.service,
    })
}

/// The signature `secret` gives `request` (the client side, for tests and tools): the
/// `Signature=` value of an `Authorization` header with these `signed_headers` (lower case).
pub fn sign(
    request: &Request<'_>,
    signed_headers: &[&str],
    secret: &str,
    amz_date: &str,
    region: &str,
    service: &str,
) -> String {
    let signed: Vec<String> = signed_headers.iter().map(|h| h.to_string()).collect();
    let day = amz_date.get(..8).unwrap_or_default();
    let canonical = canonical_request(request, &signed);
    let to_sign = string_to_sign(
        amz_date,
        &format!("{day}/{region}/{service}/aws4_request"),
        &canonical,
    );
    let key = signing_key(secret, day, region, service);
    hex(hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &key), to_sign.as_bytes()).as_ref())
}

struct Authorization {
    access_key_id: String,
    date: String,
    region: String,
    service: String,
    signed_headers: Vec<String>,
    signature: String,
}

/// `AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request,
/// SignedHeaders=host;x-amz-date, Signature=<64 hex>`.
fn parse_authorization(value: &str) -> Result<Authorization, SigV4Error> {
    let incomplete =
        |what: &str| SigV4Error::IncompleteSignature(format!("{what} Authorization={value}"));
    let rest = value
        .strip_prefix(ALGORITHM)
        .filter(|rest| rest.starts_with(' '))
        .ok_or_else(|| {
            incomplete("Unsupported AWS 'algorithm': only AWS4-HMAC-SHA256 is supported.")
        })?;
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (name, v) = part.trim().split_once('=').unwrap_or((part.trim(), ""));
        match name {
            "Credential" => credential = Some(v),
            "SignedHeaders" => signed_headers = Some(v),
            "Signature" => signature = Some(v),
            _ => {}
        }
    }
    let mut missing = String::new();
    for (name, got) in [
        ("Credential", credential),
        ("Signature", signature),
        ("SignedHeaders", signed_headers),
    ] {
        if got.is_none_or(str::is_empty) {
            missing.push_str(&format!(
                "Authorization header requires '{name}' parameter. "
            ));
        }
    }
    if !missing.is_empty() {
        return Err(incomplete(missing.trim_end()));
    }
    let credential = credential.unwrap_or_default();
    let scope: Vec<&str> = credential.split('/').collect();
    let [access_key_id, date, region, service, terminator] = scope[..] else {
        return Err(incomplete(&format!(
            "Credential should be scoped to a valid region, service and terminator: '{credential}'."
        )));
    };
    if terminator != "aws4_request" {
        return Err(incomplete(&format!(
            "Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'."
        )));
    }
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(incomplete(&format!(
            "Credential should be scoped to a valid date: '{date}'."
        )));
    }
    let signed_headers: Vec<String> = signed_headers
        .unwrap_or_default()
        .split(';')
        .map(str::to_ascii_lowercase)
        .collect();
    if !signed_headers.iter().any(|h| h == "host") {
        return Err(incomplete(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    Ok(Authorization {
        access_key_id: access_key_id.to_string(),
        date: date.to_string(),
        region: region.to_string(),
        service: service.to_string(),
        signed_headers,
        signature: signature.unwrap_or_default().to_string(),
    })
}

/// Spec "Step 1: Create a canonical request": method, canonical URI, canonical query string,
/// canonical headers, signed headers, hex SHA-256 of the body.
fn canonical_request(request: &Request<'_>, signed_headers: &[String]) -> String {
    let mut out = String::new();
    out.push_str(request.method);
    out.push('\n');
    out.push_str(&canonical_uri(request.path));
    out.push('\n');
    out.push_str(&canonical_query(request.query));
    out.push('\n');
    for name in signed_headers {
        // Values trimmed, inner runs of spaces one space, repeated headers joined with `,`.
        let values: Vec<String> = request
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        out.push_str(name);
        out.push(':');
        out.push_str(&values.join(","));
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&signed_headers.join(";"));
    out.push('\n');
    out.push_str(&hex(digest::digest(&digest::SHA256, request.body).as_ref()));
    out
}

/// Every service but S3: the path with `.`/`..` segments removed, each byte URI-encoded once
/// more (the client's `%XX` become `%25XX`), `/` when empty.
fn canonical_uri(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut normalized = segments.join("/");
    if !normalized.starts_with('/') {
        normalized.insert(0, '/');
    }
    uri_encode(normalized.as_bytes(), true)
}

/// Names and values decoded then URI-encoded, sorted by name then value, joined by `&`.
fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (n, v) = p.split_once('=').unwrap_or((p, ""));
            (
                uri_encode(&percent_decode(n.as_bytes(), false), false),
                uri_encode(&percent_decode(v.as_bytes(), false), false),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Spec "Step 2: Create a hash of the canonical request" and "Step 3: Create a string to sign".
fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    let hashed = hex(digest::digest(&digest::SHA256, canonical_request.as_bytes()).as_ref());
    format!("{ALGORITHM}\n{amz_date}\n{scope}\n{hashed}")
}

/// Spec "Step 4: Calculate the signature": `kSecret = "AWS4" + secret`, then HMAC over date,
/// region, service and `aws4_request`.
fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> Vec<u8> {
    let mut key = format!("AWS4{secret}").into_bytes();
    for part in [date, region, service, "aws4_request"] {
        key = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &key), part.as_bytes())
            .as_ref()
            .to_vec();
    }
    key
}

fn header(headers: &[(String, String)], name: &str) -> Option<String> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim().to_string())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// `20150830T123600Z` as Unix seconds.
fn parse_amz_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (y, m, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (hh, mm, ss) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    Some(days_from_civil(y, m, d) * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// Unix seconds as `20150830T123600Z`.
fn format_amz_date(t: i64) -> String {
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Howard Hinnant's `days_from_civil` (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Howard Hinnant's `civil_from_days`.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests;
