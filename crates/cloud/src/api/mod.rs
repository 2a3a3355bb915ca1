//! The cloud APIs the CLIs call, read-only, over a runtime's inventory: the ELBv2 and EC2 Query
//! APIs (`aws elbv2 ...`, `aws ec2 ...`), with Signature Version 4 checked, and the Compute
//! Engine REST resources `gcloud compute` reads.
//!
//! Pure functions; the shell routes HTTP to them (see `docs/cloud-apis.md`):
//!
//! - [`form`]: `application/x-www-form-urlencoded` bodies and query strings (never panics).
//! - [`sigv4`]: [`sigv4::verify`] checks an AWS Signature Version 4 `Authorization` header.
//! - [`aws`]: [`aws::handle`] answers an ELBv2 or EC2 Query API action in its XML.
//! - [`gcp`]: [`gcp::handle`] answers a Compute Engine `GET` in its JSON.
//!
//! Must not: change the inventory (every write answers an error), read a clock (`now` is an
//! argument), or do I/O.

pub mod aws;
pub mod form;
pub mod gcp;
pub mod sigv4;
pub mod xml;

/// A short deterministic hex digest of `input` (SHA-256 prefix), for ids the inventory lacks
/// (EC2 association ids).
pub(crate) fn short_hash(input: &str, hex_len: usize) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, input.as_bytes());
    let mut out = String::with_capacity(hex_len);
    for b in digest.as_ref() {
        out.push_str(&format!("{b:02x}"));
        if out.len() >= hex_len {
            break;
        }
    }
    out.truncate(hex_len);
    out
}
