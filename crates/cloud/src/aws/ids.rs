//! Deterministic stand-ins for what AWS picks at random (IDs, DNS suffixes, addresses): all
//! derived from SHA-256 of stable inputs, so the same inputs give the same cloud.

use ring::digest::{digest, SHA256};

/// Hex SHA-256 of the parts written one after another, as Go's `hash.Write` calls do (no
/// separator): the LBC's name hashes are built this way.
pub(crate) fn sha256_hex_concat(parts: &[&str]) -> String {
    hex(digest(&SHA256, parts.concat().as_bytes()).as_ref())
}

/// SHA-256 of the parts joined by NUL (our own seeds: no ambiguity between parts).
pub(crate) fn seed(parts: &[&str]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, parts.join("\0").as_bytes()).as_ref());
    out
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `n` lower-case hex digits derived from `parts`.
pub(crate) fn hex_id(parts: &[&str], n: usize) -> String {
    let mut s = hex(&seed(parts));
    s.truncate(n);
    s
}

/// A number derived from `parts`.
pub(crate) fn seed_u128(parts: &[&str]) -> u128 {
    let s = seed(parts);
    u128::from_be_bytes(s[..16].try_into().expect("16 bytes"))
}
