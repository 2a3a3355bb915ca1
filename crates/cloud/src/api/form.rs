//! `application/x-www-form-urlencoded` (the Query API body, and query strings): split on `&`,
//! the first `=` parts name from value, `+` is a space, `%XX` is a byte. As the WHATWG URL
//! standard's `application/x-www-form-urlencoded` parser: a `%` not followed by two hex digits
//! stays as it is, bytes that are not UTF-8 become U+FFFD. Never panics.

/// The name/value pairs of a form body or query string, in order, empty pairs skipped.
pub fn parse(input: &[u8]) -> Vec<(String, String)> {
    input
        .split(|&b| b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = match pair.iter().position(|&b| b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &pair[pair.len()..]),
            };
            (decode_str(name, true), decode_str(value, true))
        })
        .collect()
}

/// Percent-decodes `input`; with `plus_as_space`, `+` is a space (forms), otherwise a `+`.
pub fn percent_decode(input: &[u8], plus_as_space: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'%' => match (
                input.get(i + 1).and_then(|&h| hex_value(h)),
                input.get(i + 2).and_then(|&l| hex_value(l)),
            ) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if plus_as_space => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    out
}

fn decode_str(input: &[u8], plus_as_space: bool) -> String {
    String::from_utf8_lossy(&percent_decode(input, plus_as_space)).into_owned()
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// AWS's `UriEncode` (SigV4 spec, "Canonical request"): every byte but the unreserved
/// `A-Z a-z 0-9 - _ . ~` as `%XX` upper case; `/` kept when `keep_slash` (paths).
pub fn uri_encode(input: &[u8], keep_slash: bool) -> String {
    let mut out = String::with_capacity(input.len() * 3 / 2);
    for &b in input {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests;
