//! The LBC's Service annotations and its suffix annotation parser
//! (`pkg/annotations/constants.go`, `pkg/annotations/parser.go`): values are strings, lists are
//! comma separated (blank entries dropped), maps are `k=v` pairs; parse errors carry the
//! parser's text (Go's `errors.Wrapf` joins with `": "`).

use std::collections::BTreeMap;

pub const PREFIX: &str = "service.beta.kubernetes.io";

pub const TYPE: &str = "aws-load-balancer-type";
pub const TARGET_TYPE: &str = "aws-load-balancer-nlb-target-type";
pub const NAME: &str = "aws-load-balancer-name";
pub const SCHEME: &str = "aws-load-balancer-scheme";
pub const INTERNAL: &str = "aws-load-balancer-internal";
pub const PROXY_PROTOCOL: &str = "aws-load-balancer-proxy-protocol";
pub const PROXY_PROTOCOL_PER_TG: &str = "aws-load-balancer-proxy-protocol-per-target-group";
pub const IP_ADDRESS_TYPE: &str = "aws-load-balancer-ip-address-type";
pub const ACCESS_LOG_ENABLED: &str = "aws-load-balancer-access-log-enabled";
pub const ACCESS_LOG_BUCKET: &str = "aws-load-balancer-access-log-s3-bucket-name";
pub const ACCESS_LOG_PREFIX: &str = "aws-load-balancer-access-log-s3-bucket-prefix";
pub const CROSS_ZONE: &str = "aws-load-balancer-cross-zone-load-balancing-enabled";
pub const ADDITIONAL_TAGS: &str = "aws-load-balancer-additional-resource-tags";
pub const HC_HEALTHY: &str = "aws-load-balancer-healthcheck-healthy-threshold";
pub const HC_UNHEALTHY: &str = "aws-load-balancer-healthcheck-unhealthy-threshold";
pub const HC_TIMEOUT: &str = "aws-load-balancer-healthcheck-timeout";
pub const HC_INTERVAL: &str = "aws-load-balancer-healthcheck-interval";
pub const HC_PROTOCOL: &str = "aws-load-balancer-healthcheck-protocol";
pub const HC_PORT: &str = "aws-load-balancer-healthcheck-port";
pub const HC_PATH: &str = "aws-load-balancer-healthcheck-path";
pub const HC_SUCCESS_CODES: &str = "aws-load-balancer-healthcheck-success-codes";
pub const TG_ATTRIBUTES: &str = "aws-load-balancer-target-group-attributes";
pub const SUBNETS: &str = "aws-load-balancer-subnets";
pub const EIP_ALLOCATIONS: &str = "aws-load-balancer-eip-allocations";
pub const PRIVATE_IPV4: &str = "aws-load-balancer-private-ipv4-addresses";
pub const IPV6_ADDRESSES: &str = "aws-load-balancer-ipv6-addresses";
pub const TARGET_NODE_LABELS: &str = "aws-load-balancer-target-node-labels";
pub const LB_ATTRIBUTES: &str = "aws-load-balancer-attributes";
pub const SECURITY_GROUPS: &str = "aws-load-balancer-security-groups";
pub const SOURCE_RANGES: &str = "load-balancer-source-ranges";
pub const SOURCE_NAT: &str = "aws-load-balancer-enable-prefix-for-ipv6-source-nat";
pub const SOURCE_NAT_PREFIXES: &str = "aws-load-balancer-source-nat-ipv6-prefixes";
pub const DISABLE_NLB_SG: &str = "aws-load-balancer-disable-nlb-sg";

/// The full key of a suffix (`service.beta.kubernetes.io/<suffix>`).
pub fn key(suffix: &str) -> String {
    format!("{PREFIX}/{suffix}")
}

/// The parser over one Service's annotations.
pub struct Parser<'a>(pub &'a BTreeMap<String, String>);

impl Parser<'_> {
    /// `ParseStringAnnotation`.
    pub fn string(&self, suffix: &str) -> Option<&str> {
        self.0.get(&key(suffix)).map(String::as_str)
    }

    /// `ParseStringSliceAnnotation`: `splitCommaSeparatedString`.
    pub fn slice(&self, suffix: &str) -> Option<Vec<String>> {
        self.string(suffix).map(|raw| {
            raw.split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(String::from)
                .collect()
        })
    }

    /// `ParseBoolAnnotation` (Go's `strconv.ParseBool`).
    pub fn bool(&self, suffix: &str) -> Result<Option<bool>, String> {
        let Some(raw) = self.string(suffix) else {
            return Ok(None);
        };
        parse_bool(raw).map(Some).map_err(|e| {
            format!(
                "failed to parse bool annotation, {}: {raw}: {e}",
                key(suffix)
            )
        })
    }

    /// `ParseInt32Annotation` (Go's `strconv.ParseInt(raw, 10, 32)`).
    pub fn int32(&self, suffix: &str) -> Result<Option<i32>, String> {
        let Some(raw) = self.string(suffix) else {
            return Ok(None);
        };
        parse_int32(raw).map(Some).map_err(|e| {
            format!(
                "failed to parse int32 annotation, {}: {raw}: {e}",
                key(suffix)
            )
        })
    }

    /// `ParseStringMapAnnotation` (with `splitKeyValuePairs`' escaped commas).
    pub fn map(&self, suffix: &str) -> Result<Option<BTreeMap<String, String>>, String> {
        let Some(raw) = self.string(suffix) else {
            return Ok(None);
        };
        let err = || {
            format!(
                "failed to parse stringMap annotation, {}: {raw}",
                key(suffix)
            )
        };
        let mut out = BTreeMap::new();
        for pair in split_key_value_pairs(raw) {
            let Some((k, v)) = pair.split_once('=') else {
                return Err(err());
            };
            let k = k.trim();
            if k.is_empty() {
                return Err(err());
            }
            out.insert(k.to_string(), v.trim().to_string());
        }
        Ok(Some(out))
    }
}

/// Go's `strconv.ParseBool`, with its error text.
pub fn parse_bool(raw: &str) -> Result<bool, String> {
    match raw {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(format!(
            "strconv.ParseBool: parsing {}: invalid syntax",
            go_quote(raw)
        )),
    }
}

/// Go's `strconv.ParseInt(raw, 10, 32)`, with its error text.
pub fn parse_int32(raw: &str) -> Result<i32, String> {
    let digits = raw.strip_prefix(['+', '-']).unwrap_or(raw);
    let syntax = || {
        format!(
            "strconv.ParseInt: parsing {}: invalid syntax",
            go_quote(raw)
        )
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(syntax());
    }
    raw.parse::<i32>().map_err(|_| {
        format!(
            "strconv.ParseInt: parsing {}: value out of range",
            go_quote(raw)
        )
    })
}

/// Go's `%q` for the strings we quote (printable text; escapes `"` and `\`).
pub fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go's `%v` of a `[]string`: `[a b c]`.
pub fn go_list<S: AsRef<str>>(items: &[S]) -> String {
    let v: Vec<&str> = items.iter().map(AsRef::as_ref).collect();
    format!("[{}]", v.join(" "))
}

/// `splitKeyValuePairs`: a comma splits only when the rest holds an `=`; `\` escapes.
fn split_key_value_pairs(s: &str) -> Vec<String> {
    let b = s.as_bytes();
    let mut result = Vec::new();
    let mut cur: Vec<u8> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            cur.push(b[i + 1]);
            i += 2;
            continue;
        }
        if b[i] == b',' {
            let remaining = String::from_utf8_lossy(&b[i + 1..]).trim().to_string();
            if remaining.contains('=') {
                result.push(String::from_utf8_lossy(&cur).trim().to_string());
                cur.clear();
            } else if !remaining.is_empty() {
                result.push(String::from_utf8_lossy(&cur).trim().to_string());
                result.push(remaining);
                return result;
            } else {
                cur.push(b',');
            }
        } else {
            cur.push(b[i]);
        }
        i += 1;
    }
    if !cur.is_empty() {
        result.push(String::from_utf8_lossy(&cur).trim().to_string());
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_parsers_match_strconv_text() {
        assert_eq!(
            parse_bool("yes").unwrap_err(),
            r#"strconv.ParseBool: parsing "yes": invalid syntax"#
        );
        assert_eq!(
            parse_int32("1x").unwrap_err(),
            r#"strconv.ParseInt: parsing "1x": invalid syntax"#
        );
        assert_eq!(
            parse_int32("99999999999").unwrap_err(),
            r#"strconv.ParseInt: parsing "99999999999": value out of range"#
        );
        assert_eq!(parse_int32("+7"), Ok(7));
    }

    #[test]
    fn key_value_pairs_split_like_the_lbc() {
        assert_eq!(split_key_value_pairs("a=1, b=2"), vec!["a=1", "b=2"]);
        assert_eq!(split_key_value_pairs("a=1,2,b=3"), vec!["a=1", "2", "b=3"]);
        assert_eq!(split_key_value_pairs("a=1\\,2"), vec!["a=1,2"]);
        assert_eq!(split_key_value_pairs("a=1,junk"), vec!["a=1", "junk"]);
    }
}
