//! Bound ServiceAccount tokens, as kube-apiserver's TokenRequest issues them
//! (`pkg/serviceaccount/claims.go` `Claims`, `pkg/registry/core/serviceaccount/storage/token.go`
//! `TokenREST.Create`) and its authenticator checks them (`validator.Validate`): a JWT naming
//! the ServiceAccount and its UID, valid until `exp`, and only while that ServiceAccount (same
//! UID) still exists. Deleting the ServiceAccount revokes every token issued for it at once,
//! which is how KEB's unbind revokes a binding's kubeconfig.
//!
//! Upstream signs with the service-account key (RS256/ES256); twinstack signs with HMAC-SHA256
//! under a key kept in the data directory: no client verifies the signature, only the server.
//!
//! Time comes from a [`Clock`] the platform owns, so tests move it forward instead of sleeping.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use ring::hmac;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicI64, Ordering};

/// The platform's clock: the system time plus an offset that only moves forward (`twinstack up
/// --test-clock` lets tests advance it).
#[derive(Debug, Default)]
pub struct Clock {
    offset_seconds: AtomicI64,
}

impl Clock {
    /// Seconds since the Unix epoch.
    pub fn now(&self) -> i64 {
        jiff::Timestamp::now().as_second() + self.offset_seconds.load(Ordering::Relaxed)
    }

    /// Moves the clock forward by `seconds` (negative values are ignored).
    pub fn advance(&self, seconds: i64) {
        if seconds > 0 {
            self.offset_seconds.fetch_add(seconds, Ordering::Relaxed);
        }
    }

    pub fn offset(&self) -> i64 {
        self.offset_seconds.load(Ordering::Relaxed)
    }

    /// `now` in RFC 3339 (seconds), as Kubernetes writes times.
    pub fn rfc3339(seconds: i64) -> String {
        jiff::Timestamp::from_second(seconds)
            .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_default()
    }
}

/// `kubernetes.io` claims of a bound token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct KubernetesClaims {
    pub namespace: String,
    pub serviceaccount: Ref,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Ref {
    pub name: String,
    pub uid: String,
}

/// The claims of a bound ServiceAccount token (upstream's `privateClaims` + `jwt.Claims`), plus
/// the runtime it belongs to: one signing key serves every runtime, and a token of one runtime
/// must open nothing of another.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub aud: Vec<String>,
    pub exp: i64,
    pub iat: i64,
    pub iss: String,
    pub jti: String,
    #[serde(rename = "kubernetes.io")]
    pub kubernetes: KubernetesClaims,
    pub nbf: i64,
    pub sub: String,
    #[serde(rename = "twinstack.io/runtime")]
    pub runtime: String,
}

/// go-jose's `DefaultLeeway`.
pub const LEEWAY_SECONDS: i64 = 60;

/// kube-apiserver's default `--service-account-issuer` and API audience on Gardener shoots.
pub const ISSUER: &str = "https://kubernetes.default.svc.cluster.local";

impl Claims {
    pub fn new(runtime: &str, namespace: &str, name: &str, uid: &str, now: i64, ttl: i64) -> Self {
        Claims {
            aud: vec![ISSUER.to_string()],
            exp: now + ttl,
            iat: now,
            iss: ISSUER.to_string(),
            jti: uuid::Uuid::new_v4().to_string(),
            kubernetes: KubernetesClaims {
                namespace: namespace.to_string(),
                serviceaccount: Ref {
                    name: name.to_string(),
                    uid: uid.to_string(),
                },
            },
            nbf: now,
            sub: format!("system:serviceaccount:{namespace}:{name}"),
            runtime: runtime.to_string(),
        }
    }

    /// Whether the token is within its validity window at `now`, with the minute of leeway
    /// go-jose's `Claims.Validate` (`DefaultLeeway`) gives `exp` and `nbf` in kube-apiserver's
    /// validator: a token is refused once `now - 60 > exp`.
    pub fn valid_at(&self, now: i64) -> bool {
        now + LEEWAY_SECONDS >= self.nbf && now - LEEWAY_SECONDS <= self.exp
    }
}

/// Signs and verifies bound tokens.
pub struct TokenSigner {
    key: hmac::Key,
}

const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

impl TokenSigner {
    pub fn new(secret: &[u8]) -> Self {
        TokenSigner {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
        }
    }

    /// A signer with a fresh random key (tokens do not survive a restart).
    pub fn random() -> Self {
        let secret: [u8; 32] = rand::random();
        Self::new(&secret)
    }

    pub fn sign(&self, claims: &Claims) -> String {
        let payload = serde_json::to_vec(claims).expect("claims serialize");
        let signing_input = format!("{}.{}", B64.encode(HEADER), B64.encode(payload));
        let tag = hmac::sign(&self.key, signing_input.as_bytes());
        format!("{signing_input}.{}", B64.encode(tag.as_ref()))
    }

    /// The claims of a token this signer issued, or `None` (malformed, another key, altered).
    /// Validity in time and the ServiceAccount's existence are the caller's checks.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let (signing_input, sig) = token.rsplit_once('.')?;
        let (header, payload) = signing_input.split_once('.')?;
        let sig = B64.decode(sig).ok()?;
        hmac::verify(&self.key, signing_input.as_bytes(), &sig).ok()?;
        if B64.decode(header).ok()? != HEADER.as_bytes() {
            return None;
        }
        serde_json::from_slice(&B64.decode(payload).ok()?).ok()
    }
}

/// `TokenRequest` validation (`pkg/apis/authentication/validation` `ValidateTokenRequest`):
/// the messages of `spec.expirationSeconds`.
pub fn validate_expiration_seconds(seconds: i64) -> Option<&'static str> {
    if seconds < MIN_TOKEN_AGE_SECONDS {
        return Some("may not specify a duration less than 10 minutes");
    }
    if seconds > 1 << 32 {
        return Some("may not specify a duration larger than 2^32 seconds");
    }
    None
}

/// `MinTokenAgeSec` of upstream's validation.
pub const MIN_TOKEN_AGE_SECONDS: i64 = 600;
/// `TokenRequestSpec.expirationSeconds` default (`SetDefaults_TokenRequestSpec`).
pub const DEFAULT_EXPIRATION_SECONDS: i64 = 3600;
/// Gardener's kube-apiserver `--service-account-max-token-expiration` default (30 days);
/// longer requests are cut down to it (`TokenREST.Create`).
pub const MAX_EXPIRATION_SECONDS: i64 = 30 * 24 * 3600;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_verifies_with_its_key_only() {
        let s = TokenSigner::new(b"k1");
        let c = Claims::new("rt", "kyma-system", "sa", "uid-1", 1000, 600);
        let t = s.sign(&c);
        assert_eq!(s.verify(&t), Some(c.clone()));
        assert_eq!(TokenSigner::new(b"k2").verify(&t), None);
        // Altering the payload breaks the signature.
        let mut parts: Vec<&str> = t.split('.').collect();
        let mut other = c.clone();
        other.runtime = "other".into();
        let forged = B64.encode(serde_json::to_vec(&other).unwrap());
        parts[1] = &forged;
        assert_eq!(s.verify(&parts.join(".")), None);
        for junk in ["", ".", "..", "a.b.c", "abc", "a.b"] {
            assert_eq!(s.verify(junk), None, "{junk}");
        }
    }

    #[test]
    fn validity_window() {
        let c = Claims::new("rt", "ns", "sa", "u", 1000, 600);
        assert!(c.valid_at(1000));
        assert!(c.valid_at(940));
        assert!(!c.valid_at(939));
        assert!(c.valid_at(1660));
        assert!(!c.valid_at(1661));
        assert_eq!(c.sub, "system:serviceaccount:ns:sa");
    }

    #[test]
    fn expiration_seconds_rules() {
        let cases = [
            (599, Some("may not specify a duration less than 10 minutes")),
            (600, None),
            (1 << 32, None),
            (
                (1 << 32) + 1,
                Some("may not specify a duration larger than 2^32 seconds"),
            ),
        ];
        for (s, want) in cases {
            assert_eq!(validate_expiration_seconds(s), want, "{s}");
        }
    }

    #[test]
    fn the_clock_only_moves_forward() {
        let c = Clock::default();
        let t0 = c.now();
        c.advance(600);
        c.advance(-100);
        assert!(c.now() >= t0 + 600);
        assert_eq!(c.offset(), 600);
    }
}
