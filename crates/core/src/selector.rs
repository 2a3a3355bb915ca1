//! Label and field selectors, parsed, matched and rejected exactly as kube-apiserver 1.32 does.
//!
//! Sources (read for facts, not copied):
//! - k8s.io/apimachinery `pkg/labels/selector.go`: the label selector lexer/parser
//!   (`Parse`), `NewRequirement` validation, `Requirement.Matches`, `String()`.
//! - k8s.io/apimachinery `pkg/fields/selector.go`: `ParseSelector`, `splitTerms`, `splitTerm`,
//!   `UnescapeValue`, `EscapeValue`.
//! - k8s.io/apimachinery `pkg/util/validation/validation.go`: `IsQualifiedName`,
//!   `IsValidLabelValue`, `IsDNS1123Label`, `IsDNS1123Subdomain`, `IsDNS1035Label`.
//! - k8s.io/apimachinery `pkg/apis/meta/v1/helpers.go` (`LabelSelectorAsSelector`) and
//!   `pkg/apis/meta/v1/validation/validation.go` (`ValidateLabelSelector`, `ValidateLabels`).
//! - kubernetes `pkg/apis/core/v1/conversion.go` and apimachinery `pkg/runtime/conversion.go`
//!   (`DefaultMetaV1FieldSelectorConversion`): which field labels a kind accepts.
//!
//! kube-apiserver answers an unparsable `labelSelector` or `fieldSelector` with 400 BadRequest
//! whose message is the parse error unchanged (the query-parameter conversion returns it and
//! the list/watch handler wraps it in `NewBadRequest`), so the `Err(String)` of the parsers
//! below is the exact `Status.message`.

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::apimachinery::pkg::apis::meta::v1 as metav1;

use crate::field::{aggregate, go_quote, BadValue, ErrorList, FieldError, Path};

// ---------------------------------------------------------------------------------------------
// Name validators (pkg/util/validation). They live here because the selector needs them;
// `crate::meta` re-exports them.
// ---------------------------------------------------------------------------------------------

const QUALIFIED_NAME_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const QUALIFIED_NAME_ERR: &str =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const QUALIFIED_NAME_MAX: usize = 63;
const LABEL_VALUE_FMT: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
const LABEL_VALUE_ERR: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
/// Maximum length of a label value.
pub const LABEL_VALUE_MAX: usize = 63;
const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_LABEL_ERR: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
/// Maximum length of an RFC 1123 label.
pub const DNS1123_LABEL_MAX: usize = 63;
const DNS1123_SUBDOMAIN_FMT: &str =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1123_SUBDOMAIN_ERR: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
/// Maximum length of an RFC 1123 subdomain.
pub const DNS1123_SUBDOMAIN_MAX: usize = 253;
const DNS1035_LABEL_FMT: &str = "[a-z]([-a-z0-9]*[a-z0-9])?";
const DNS1035_LABEL_ERR: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
/// Maximum length of an RFC 1035 label.
pub const DNS1035_LABEL_MAX: usize = 63;

/// `validation.MaxLenError`.
pub fn max_len_error(n: usize) -> String {
    format!("must be no more than {n} characters")
}

/// `validation.RegexError`.
pub fn regex_error(msg: &str, fmt: &str, examples: &[&str]) -> String {
    if examples.is_empty() {
        return format!("{msg} (regex used for validation is '{fmt}')");
    }
    let mut s = format!("{msg} (e.g. ");
    for (i, e) in examples.iter().enumerate() {
        if i > 0 {
            s.push_str(" or ");
        }
        s.push('\'');
        s.push_str(e);
        s.push_str("', ");
    }
    s.push_str("regex used for validation is '");
    s.push_str(fmt);
    s.push_str("')");
    s
}

/// `^(first mid*)?last$` style matcher: non-empty, `first`/`last` for the edge bytes,
/// `mid` for the bytes in between.
fn matches_edges(
    s: &str,
    first: fn(u8) -> bool,
    mid: fn(u8) -> bool,
    last: fn(u8) -> bool,
) -> bool {
    let b = s.as_bytes();
    match b.len() {
        0 => false,
        1 => first(b[0]) && last(b[0]),
        n => first(b[0]) && last(b[n - 1]) && b[1..n - 1].iter().all(|&c| mid(c)),
    }
}

fn is_alnum(c: u8) -> bool {
    c.is_ascii_alphanumeric()
}
fn is_qname_ext(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b'.'
}
fn is_lower_alnum(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}
fn is_lower_alnum_dash(c: u8) -> bool {
    is_lower_alnum(c) || c == b'-'
}
fn is_lower(c: u8) -> bool {
    c.is_ascii_lowercase()
}

fn qualified_name_re(s: &str) -> bool {
    matches_edges(s, is_alnum, is_qname_ext, is_alnum)
}
fn dns1123_label_re(s: &str) -> bool {
    matches_edges(s, is_lower_alnum, is_lower_alnum_dash, is_lower_alnum)
}
fn dns1123_subdomain_re(s: &str) -> bool {
    s.split('.').all(dns1123_label_re)
}
fn dns1035_label_re(s: &str) -> bool {
    matches_edges(s, is_lower, is_lower_alnum_dash, is_lower_alnum)
}

/// `validation.IsQualifiedName`: `[prefix/]name` as used by label keys, annotation keys and
/// finalizers.
pub fn is_qualified_name(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let parts: Vec<&str> = value.split('/').collect();
    let name = match parts.len() {
        1 => parts[0],
        2 => {
            let prefix = parts[0];
            if prefix.is_empty() {
                errs.push("prefix part must be non-empty".to_string());
            } else {
                for m in is_dns1123_subdomain(prefix) {
                    errs.push(format!("prefix part {m}"));
                }
            }
            parts[1]
        }
        _ => {
            errs.push(format!(
                "a qualified name {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                regex_error(QUALIFIED_NAME_ERR, QUALIFIED_NAME_FMT, &["MyName", "my.name", "123-abc"])
            ));
            return errs;
        }
    };
    if name.is_empty() {
        errs.push("name part must be non-empty".to_string());
    } else if name.len() > QUALIFIED_NAME_MAX {
        errs.push(format!("name part {}", max_len_error(QUALIFIED_NAME_MAX)));
    }
    if !qualified_name_re(name) {
        errs.push(format!(
            "name part {}",
            regex_error(
                QUALIFIED_NAME_ERR,
                QUALIFIED_NAME_FMT,
                &["MyName", "my.name", "123-abc"]
            )
        ));
    }
    errs
}

/// `validation.IsValidLabelValue`.
pub fn is_valid_label_value(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > LABEL_VALUE_MAX {
        errs.push(max_len_error(LABEL_VALUE_MAX));
    }
    if !(value.is_empty() || qualified_name_re(value)) {
        errs.push(regex_error(
            LABEL_VALUE_ERR,
            LABEL_VALUE_FMT,
            &["MyValue", "my_value", "12345"],
        ));
    }
    errs
}

/// `validation.IsDNS1123Label`.
pub fn is_dns1123_label(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_LABEL_MAX {
        errs.push(max_len_error(DNS1123_LABEL_MAX));
    }
    if !dns1123_label_re(value) {
        if dns1123_subdomain_re(value) {
            errs.push("must not contain dots".to_string());
        } else {
            errs.push(regex_error(
                DNS1123_LABEL_ERR,
                DNS1123_LABEL_FMT,
                &["my-name", "123-abc"],
            ));
        }
    }
    errs
}

/// `validation.IsDNS1123Subdomain`.
pub fn is_dns1123_subdomain(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_SUBDOMAIN_MAX {
        errs.push(max_len_error(DNS1123_SUBDOMAIN_MAX));
    }
    if !dns1123_subdomain_re(value) {
        errs.push(regex_error(
            DNS1123_SUBDOMAIN_ERR,
            DNS1123_SUBDOMAIN_FMT,
            &["example.com"],
        ));
    }
    errs
}

/// `validation.IsDNS1035Label`.
pub fn is_dns1035_label(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1035_LABEL_MAX {
        errs.push(max_len_error(DNS1035_LABEL_MAX));
    }
    if !dns1035_label_re(value) {
        errs.push(regex_error(
            DNS1035_LABEL_ERR,
            DNS1035_LABEL_FMT,
            &["my-name", "abc-123"],
        ));
    }
    errs
}

/// `v1validation.ValidateLabelName`: one `Invalid` per message, at `path`.
pub fn validate_label_name(name: &str, path: &Path) -> ErrorList {
    is_qualified_name(name)
        .into_iter()
        .map(|m| FieldError::invalid(path, BadValue::str(name), m))
        .collect()
}

/// `v1validation.ValidateLabels`. Go walks the map in random order; we walk it sorted.
pub fn validate_labels(labels: &BTreeMap<String, String>, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    for (k, v) in labels {
        errs.extend(validate_label_name(k, path));
        for m in is_valid_label_value(v) {
            errs.push(FieldError::invalid(path, BadValue::str(v), m));
        }
    }
    errs
}

// ---------------------------------------------------------------------------------------------
// Label selectors
// ---------------------------------------------------------------------------------------------

/// `selection.Operator` as a label requirement uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    In,
    NotIn,
    Equals,
    DoubleEquals,
    NotEquals,
    Exists,
    DoesNotExist,
    GreaterThan,
    LessThan,
}

impl Operator {
    /// The `selection.Operator` string (`in`, `notin`, `=`, `==`, `!=`, `exists`, `!`, `gt`, `lt`).
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::In => "in",
            Operator::NotIn => "notin",
            Operator::Equals => "=",
            Operator::DoubleEquals => "==",
            Operator::NotEquals => "!=",
            Operator::Exists => "exists",
            Operator::DoesNotExist => "!",
            Operator::GreaterThan => "gt",
            Operator::LessThan => "lt",
        }
    }
}

/// One requirement of a label selector (`labels.Requirement`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    key: String,
    op: Operator,
    values: Vec<String>,
}

fn child(base: Option<&Path>, name: &str) -> Path {
    match base {
        Some(p) => p.child(name),
        None => Path::new(name),
    }
}

fn go_parse_int(s: &str) -> Option<i64> {
    // strconv.ParseInt(s, 10, 64): optional sign, decimal digits, no underscores.
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<i64>().ok()
}

impl Requirement {
    /// `labels.NewRequirement` with no path option: the error is the aggregated field errors,
    /// e.g. `values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty`.
    pub fn new(key: &str, op: Operator, values: Vec<String>) -> Result<Requirement, String> {
        Self::new_at(key, op, values, false, None)
    }

    /// `values_nil`: whether Go would hold a nil slice when `values` is empty (it renders
    /// `[]string(nil)` rather than `[]string{}`).
    fn new_at(
        key: &str,
        op: Operator,
        values: Vec<String>,
        values_nil: bool,
        base: Option<&Path>,
    ) -> Result<Requirement, String> {
        let mut errs = ErrorList::new();
        let key_path = child(base, "key");
        let key_errs = is_qualified_name(key);
        if !key_errs.is_empty() {
            errs.push(FieldError::invalid(
                &key_path,
                BadValue::str(key),
                key_errs.join("; "),
            ));
        }
        let value_path = child(base, "values");
        let vals_bad = || {
            if values.is_empty() && values_nil {
                BadValue::StrList(None)
            } else {
                BadValue::list(&values)
            }
        };
        match op {
            Operator::In | Operator::NotIn => {
                if values.is_empty() {
                    errs.push(FieldError::invalid(
                        &value_path,
                        vals_bad(),
                        "for 'in', 'notin' operators, values set can't be empty",
                    ));
                }
            }
            Operator::Equals | Operator::DoubleEquals | Operator::NotEquals => {
                if values.len() != 1 {
                    errs.push(FieldError::invalid(
                        &value_path,
                        vals_bad(),
                        "exact-match compatibility requires one single value",
                    ));
                }
            }
            Operator::Exists | Operator::DoesNotExist => {
                if !values.is_empty() {
                    errs.push(FieldError::invalid(
                        &value_path,
                        vals_bad(),
                        "values set must be empty for exists and does not exist",
                    ));
                }
            }
            Operator::GreaterThan | Operator::LessThan => {
                if values.len() != 1 {
                    errs.push(FieldError::invalid(
                        &value_path,
                        vals_bad(),
                        "for 'Gt', 'Lt' operators, exactly one value is required",
                    ));
                }
                for (i, v) in values.iter().enumerate() {
                    if go_parse_int(v).is_none() {
                        errs.push(FieldError::invalid(
                            &value_path.index(i),
                            BadValue::str(v),
                            "for 'Gt', 'Lt' operators, the value must be an integer",
                        ));
                    }
                }
            }
        }
        for (i, v) in values.iter().enumerate() {
            let msgs = is_valid_label_value(v);
            if !msgs.is_empty() {
                errs.push(FieldError::invalid(
                    &value_path.index(i).key(key),
                    BadValue::str(v),
                    msgs.join("; "),
                ));
            }
        }
        if errs.is_empty() {
            Ok(Requirement {
                key: key.to_string(),
                op,
                values,
            })
        } else {
            Err(aggregate(&errs))
        }
    }

    pub fn key(&self) -> &str {
        &self.key
    }
    pub fn operator(&self) -> Operator {
        self.op
    }
    pub fn values(&self) -> &[String] {
        &self.values
    }

    fn has_value(&self, v: &str) -> bool {
        self.values.iter().any(|x| x == v)
    }

    /// `Requirement.Matches`.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let got = labels.get(&self.key);
        match self.op {
            Operator::In | Operator::Equals | Operator::DoubleEquals => {
                got.is_some_and(|v| self.has_value(v))
            }
            Operator::NotIn | Operator::NotEquals => got.is_none_or(|v| !self.has_value(v)),
            Operator::Exists => got.is_some(),
            Operator::DoesNotExist => got.is_none(),
            Operator::GreaterThan | Operator::LessThan => {
                let Some(have) = got.and_then(|v| go_parse_int(v)) else {
                    return false;
                };
                if self.values.len() != 1 {
                    return false;
                }
                let Some(want) = go_parse_int(&self.values[0]) else {
                    return false;
                };
                if self.op == Operator::GreaterThan {
                    have > want
                } else {
                    have < want
                }
            }
        }
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.op == Operator::DoesNotExist {
            f.write_str("!")?;
        }
        f.write_str(&self.key)?;
        let (op, paren) = match self.op {
            Operator::Equals => ("=", false),
            Operator::DoubleEquals => ("==", false),
            Operator::NotEquals => ("!=", false),
            Operator::In => (" in ", true),
            Operator::NotIn => (" notin ", true),
            Operator::GreaterThan => (">", false),
            Operator::LessThan => ("<", false),
            Operator::Exists | Operator::DoesNotExist => return Ok(()),
        };
        f.write_str(op)?;
        if paren {
            f.write_str("(")?;
        }
        if self.values.len() == 1 {
            f.write_str(&self.values[0])?;
        } else {
            let mut sorted = self.values.clone();
            sorted.sort();
            f.write_str(&sorted.join(","))?;
        }
        if paren {
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// A label selector: all requirements must match (`labels.Selector`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
    /// `labels.Nothing()`: matches no object (a nil metav1 `LabelSelector`).
    nothing: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    EndOfString,
    ClosedPar,
    Comma,
    DoesNotExist,
    DoubleEquals,
    Equals,
    GreaterThan,
    Identifier,
    In,
    LessThan,
    NotEquals,
    NotIn,
    OpenPar,
}

fn keyword(s: &[u8]) -> Option<Tok> {
    Some(match s {
        b")" => Tok::ClosedPar,
        b"," => Tok::Comma,
        b"!" => Tok::DoesNotExist,
        b"==" => Tok::DoubleEquals,
        b"=" => Tok::Equals,
        b">" => Tok::GreaterThan,
        b"in" => Tok::In,
        b"<" => Tok::LessThan,
        b"!=" => Tok::NotEquals,
        b"notin" => Tok::NotIn,
        b"(" => Tok::OpenPar,
        _ => return None,
    })
}

fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}
fn is_special(c: u8) -> bool {
    matches!(c, b'=' | b'!' | b'(' | b')' | b',' | b'>' | b'<')
}

/// The label selector lexer, byte by byte like Go's (a NUL byte reads as end of input).
struct Lexer<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Lexer<'_> {
    fn read(&mut self) -> u8 {
        if self.pos < self.s.len() {
            self.pos += 1;
            self.s[self.pos - 1]
        } else {
            0
        }
    }
    fn unread(&mut self) {
        self.pos -= 1;
    }
    fn lex(&mut self) -> (Tok, String) {
        let mut ch = self.read();
        while is_ws(ch) {
            ch = self.read();
        }
        if ch == 0 {
            return (Tok::EndOfString, String::new());
        }
        self.unread();
        let mut buf: Vec<u8> = Vec::new();
        if is_special(ch) {
            let mut last: Option<(Tok, usize)> = None;
            loop {
                let c = self.read();
                if c == 0 {
                    break;
                }
                if !is_special(c) {
                    self.unread();
                    break;
                }
                buf.push(c);
                if let Some(t) = keyword(&buf) {
                    last = Some((t, buf.len()));
                } else if last.is_some() {
                    self.unread();
                    break;
                }
            }
            // Every single special byte is a token, so `last` is always set.
            let (t, n) = last.unwrap_or((Tok::Identifier, buf.len()));
            return (t, String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        loop {
            let c = self.read();
            if c == 0 {
                break;
            }
            if is_special(c) || is_ws(c) {
                self.unread();
                break;
            }
            buf.push(c);
        }
        let lit = String::from_utf8_lossy(&buf).into_owned();
        (keyword(&buf).unwrap_or(Tok::Identifier), lit)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Ctx {
    KeyAndOperator,
    Values,
}

struct Parser {
    items: Vec<(Tok, String)>,
    pos: usize,
}

impl Parser {
    fn item(&self, i: usize, ctx: Ctx) -> (Tok, String) {
        let (t, l) = self
            .items
            .get(i)
            .cloned()
            .unwrap_or((Tok::EndOfString, String::new()));
        if ctx == Ctx::Values && matches!(t, Tok::In | Tok::NotIn) {
            (Tok::Identifier, l)
        } else {
            (t, l)
        }
    }
    fn lookahead(&self, ctx: Ctx) -> (Tok, String) {
        self.item(self.pos, ctx)
    }
    fn consume(&mut self, ctx: Ctx) -> (Tok, String) {
        self.pos += 1;
        self.item(self.pos - 1, ctx)
    }

    fn parse(&mut self) -> Result<Vec<Requirement>, String> {
        let mut reqs = Vec::new();
        loop {
            let (tok, lit) = self.lookahead(Ctx::Values);
            match tok {
                Tok::Identifier | Tok::DoesNotExist => {
                    let r = self
                        .parse_requirement()
                        .map_err(|e| format!("unable to parse requirement: {e}"))?;
                    reqs.push(r);
                    let (t, l) = self.consume(Ctx::Values);
                    match t {
                        Tok::EndOfString => return Ok(reqs),
                        Tok::Comma => {
                            let (t2, l2) = self.lookahead(Ctx::Values);
                            if t2 != Tok::Identifier && t2 != Tok::DoesNotExist {
                                return Err(format!(
                                    "found '{l2}', expected: identifier after ','"
                                ));
                            }
                        }
                        _ => return Err(format!("found '{l}', expected: ',' or 'end of string'")),
                    }
                }
                Tok::EndOfString => return Ok(reqs),
                _ => {
                    return Err(format!(
                        "found '{lit}', expected: !, identifier, or 'end of string'"
                    ))
                }
            }
        }
    }

    fn parse_requirement(&mut self) -> Result<Requirement, String> {
        let (key, op) = self.parse_key_and_infer_operator()?;
        if let Some(op @ (Operator::Exists | Operator::DoesNotExist)) = op {
            return Requirement::new_at(&key, op, Vec::new(), false, None);
        }
        let op = self.parse_operator()?;
        let values = match op {
            Operator::In | Operator::NotIn => self.parse_values()?,
            _ => self.parse_exact_value()?,
        };
        // sets.String.List(): sorted and deduplicated.
        let values: Vec<String> = values.into_iter().collect();
        Requirement::new_at(&key, op, values, false, None)
    }

    fn parse_key_and_infer_operator(&mut self) -> Result<(String, Option<Operator>), String> {
        let mut op = None;
        let (mut tok, mut lit) = self.consume(Ctx::Values);
        if tok == Tok::DoesNotExist {
            op = Some(Operator::DoesNotExist);
            (tok, lit) = self.consume(Ctx::Values);
        }
        if tok != Tok::Identifier {
            return Err(format!("found '{lit}', expected: identifier"));
        }
        let key_errs = is_qualified_name(&lit);
        if !key_errs.is_empty() {
            // validateLabelKey with the parser's nil *field.Path, which prints as "<nil>".
            return Err(FieldError::invalid(
                &Path::new("<nil>"),
                BadValue::str(&lit),
                key_errs.join("; "),
            )
            .to_string());
        }
        let (t, _) = self.lookahead(Ctx::Values);
        if (t == Tok::EndOfString || t == Tok::Comma) && op != Some(Operator::DoesNotExist) {
            op = Some(Operator::Exists);
        }
        Ok((lit, op))
    }

    fn parse_operator(&mut self) -> Result<Operator, String> {
        let (tok, lit) = self.consume(Ctx::KeyAndOperator);
        Ok(match tok {
            Tok::In => Operator::In,
            Tok::Equals => Operator::Equals,
            Tok::DoubleEquals => Operator::DoubleEquals,
            Tok::GreaterThan => Operator::GreaterThan,
            Tok::LessThan => Operator::LessThan,
            Tok::NotIn => Operator::NotIn,
            Tok::NotEquals => Operator::NotEquals,
            _ => {
                return Err(format!(
                    "found '{lit}', expected: in, notin, =, ==, !=, gt, lt"
                ))
            }
        })
    }

    fn parse_values(&mut self) -> Result<std::collections::BTreeSet<String>, String> {
        let (tok, lit) = self.consume(Ctx::Values);
        if tok != Tok::OpenPar {
            return Err(format!("found '{lit}' expected: '('"));
        }
        let (tok, lit) = self.lookahead(Ctx::Values);
        match tok {
            Tok::Identifier | Tok::Comma => {
                let s = self.parse_identifiers_list()?;
                let (t, _) = self.consume(Ctx::Values);
                if t != Tok::ClosedPar {
                    // Upstream reports the literal seen before the list, not the one found.
                    return Err(format!("found '{lit}', expected: ')'"));
                }
                Ok(s)
            }
            Tok::ClosedPar => {
                self.consume(Ctx::Values);
                Ok([String::new()].into_iter().collect())
            }
            _ => Err(format!("found '{lit}', expected: ',', ')' or identifier")),
        }
    }

    fn parse_identifiers_list(&mut self) -> Result<std::collections::BTreeSet<String>, String> {
        let mut s = std::collections::BTreeSet::new();
        loop {
            let (tok, lit) = self.consume(Ctx::Values);
            match tok {
                Tok::Identifier => {
                    s.insert(lit);
                    let (t2, l2) = self.lookahead(Ctx::Values);
                    match t2 {
                        Tok::Comma => continue,
                        Tok::ClosedPar => return Ok(s),
                        _ => return Err(format!("found '{l2}', expected: ',' or ')'")),
                    }
                }
                Tok::Comma => {
                    if s.is_empty() {
                        s.insert(String::new());
                    }
                    let (t2, _) = self.lookahead(Ctx::Values);
                    if t2 == Tok::ClosedPar {
                        s.insert(String::new());
                        return Ok(s);
                    }
                    if t2 == Tok::Comma {
                        self.consume(Ctx::Values);
                        s.insert(String::new());
                    }
                }
                _ => return Err(format!("found '{lit}', expected: ',', or identifier")),
            }
        }
    }

    fn parse_exact_value(&mut self) -> Result<std::collections::BTreeSet<String>, String> {
        let mut s = std::collections::BTreeSet::new();
        let (tok, _) = self.lookahead(Ctx::Values);
        if tok == Tok::EndOfString || tok == Tok::Comma {
            s.insert(String::new());
            return Ok(s);
        }
        let (tok, lit) = self.consume(Ctx::Values);
        if tok == Tok::Identifier {
            s.insert(lit);
            return Ok(s);
        }
        Err(format!("found '{lit}', expected: identifier"))
    }
}

impl LabelSelector {
    /// Matches everything (`labels.Everything()`).
    pub fn everything() -> Self {
        LabelSelector::default()
    }

    /// Matches nothing (`labels.Nothing()`, what a nil metav1 selector converts to).
    pub fn nothing() -> Self {
        LabelSelector {
            requirements: Vec::new(),
            nothing: true,
        }
    }

    /// `labels.Parse`: the `labelSelector` query parameter. The error text is upstream's, e.g.
    /// `unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt`.
    pub fn parse(s: &str) -> Result<LabelSelector, String> {
        let mut lexer = Lexer {
            s: s.as_bytes(),
            pos: 0,
        };
        let mut items = Vec::new();
        loop {
            let (t, l) = lexer.lex();
            items.push((t, l));
            if t == Tok::EndOfString {
                break;
            }
        }
        let mut requirements = Parser { items, pos: 0 }.parse()?;
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(LabelSelector {
            requirements,
            nothing: false,
        })
    }

    /// `metav1.LabelSelectorAsSelector`: nil → nothing, empty → everything, otherwise
    /// matchLabels (as `=`) and matchExpressions. The first invalid requirement is the error
    /// (Go walks matchLabels in random order; we walk them sorted).
    pub fn from_metav1(ps: Option<&metav1::LabelSelector>) -> Result<LabelSelector, String> {
        let Some(ps) = ps else {
            return Ok(LabelSelector::nothing());
        };
        let labels = ps.match_labels.as_ref();
        let exprs = ps.match_expressions.as_deref().unwrap_or(&[]);
        if labels.map_or(0, |l| l.len()) + exprs.len() == 0 {
            return Ok(LabelSelector::everything());
        }
        let mut requirements = Vec::new();
        for (k, v) in labels.into_iter().flatten() {
            requirements.push(Requirement::new_at(
                k,
                Operator::Equals,
                vec![v.clone()],
                false,
                None,
            )?);
        }
        for e in exprs {
            let op = match e.operator.as_str() {
                "In" => Operator::In,
                "NotIn" => Operator::NotIn,
                "Exists" => Operator::Exists,
                "DoesNotExist" => Operator::DoesNotExist,
                other => {
                    return Err(format!(
                        "{} is not a valid label selector operator",
                        go_quote(other)
                    ))
                }
            };
            let values = e.values.clone().unwrap_or_default();
            requirements.push(Requirement::new_at(&e.key, op, values, true, None)?);
        }
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(LabelSelector {
            requirements,
            nothing: false,
        })
    }

    /// A selector requiring exactly `labels` (`labels.SelectorFromSet`).
    pub fn from_set(labels: &BTreeMap<String, String>) -> LabelSelector {
        let requirements = labels
            .iter()
            .map(|(k, v)| Requirement {
                key: k.clone(),
                op: Operator::Equals,
                values: vec![v.clone()],
            })
            .collect();
        LabelSelector {
            requirements,
            nothing: false,
        }
    }

    /// Whether every requirement matches `labels`.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        !self.nothing && self.requirements.iter().all(|r| r.matches(labels))
    }

    /// `Empty()`: true when the selector does not restrict anything.
    pub fn is_empty(&self) -> bool {
        !self.nothing && self.requirements.is_empty()
    }

    /// Whether this is `labels.Nothing()`.
    pub fn is_nothing(&self) -> bool {
        self.nothing
    }

    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// `RequiresExactMatch`: the single value `label` must have, if the selector pins it.
    pub fn requires_exact_match(&self, label: &str) -> Option<&str> {
        let r = self.requirements.iter().find(|r| r.key == label)?;
        match r.op {
            Operator::Equals | Operator::DoubleEquals | Operator::In if r.values.len() == 1 => {
                Some(&r.values[0])
            }
            _ => None,
        }
    }
}

impl fmt::Display for LabelSelector {
    /// `String()`: requirements joined by `,` (the canonical form kubectl and logs show).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

/// `v1validation.ValidateLabelSelector` for a metav1 `LabelSelector` inside an object, e.g.
/// `spec.selector`. `allow_invalid_label_value` is upstream's
/// `AllowInvalidLabelValueInSelector` option (set on update when the old object already had
/// an invalid value).
pub fn validate_label_selector(
    ps: Option<&metav1::LabelSelector>,
    allow_invalid_label_value: bool,
    path: &Path,
) -> ErrorList {
    let mut errs = ErrorList::new();
    let Some(ps) = ps else {
        return errs;
    };
    if let Some(l) = &ps.match_labels {
        errs.extend(validate_labels(l, &path.child("matchLabels")));
    }
    for (i, e) in ps.match_expressions.iter().flatten().enumerate() {
        let p = path.child("matchExpressions").index(i);
        errs.extend(validate_label_selector_requirement(
            e,
            allow_invalid_label_value,
            &p,
        ));
    }
    errs
}

/// `v1validation.ValidateLabelSelectorRequirement`.
pub fn validate_label_selector_requirement(
    sr: &metav1::LabelSelectorRequirement,
    allow_invalid_label_value: bool,
    path: &Path,
) -> ErrorList {
    let mut errs = ErrorList::new();
    let values = sr.values.as_deref().unwrap_or(&[]);
    match sr.operator.as_str() {
        "In" | "NotIn" => {
            if values.is_empty() {
                errs.push(FieldError::required(
                    &path.child("values"),
                    "must be specified when `operator` is 'In' or 'NotIn'",
                ));
            }
        }
        "Exists" | "DoesNotExist" => {
            if !values.is_empty() {
                errs.push(FieldError::forbidden(
                    &path.child("values"),
                    "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                ));
            }
        }
        other => errs.push(FieldError::invalid(
            &path.child("operator"),
            BadValue::str(other),
            "not a valid selector operator",
        )),
    }
    errs.extend(validate_label_name(&sr.key, &path.child("key")));
    if !allow_invalid_label_value {
        for (i, v) in values.iter().enumerate() {
            for m in is_valid_label_value(v) {
                errs.push(FieldError::invalid(
                    &path.child("values").index(i),
                    BadValue::str(v),
                    m,
                ));
            }
        }
    }
    errs
}

// ---------------------------------------------------------------------------------------------
// Field selectors
// ---------------------------------------------------------------------------------------------

/// Operator of one field selector term. `==` parses to [`FieldOp::Equals`], as upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldOp {
    Equals,
    NotEquals,
}

/// One `field=value` / `field!=value` term; `value` is unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldTerm {
    pub field: String,
    pub op: FieldOp,
    pub value: String,
}

/// A field selector: all terms must hold (`fields.Selector`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldSelector {
    terms: Vec<FieldTerm>,
}

/// `fields.EscapeValue`: `\` → `\\`, `,` → `\,`, `=` → `\=`.
pub fn escape_field_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | ',' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `fields.UnescapeValue`, with upstream's error texts.
pub fn unescape_field_value(s: &str) -> Result<String, String> {
    if !s.contains(['\\', ',', '=']) {
        return Ok(s.to_string());
    }
    let mut out = String::with_capacity(s.len());
    let mut in_slash = false;
    for c in s.chars() {
        if in_slash {
            match c {
                '\\' | ',' | '=' => out.push(c),
                _ => {
                    return Err(format!(
                        "invalid field selector: invalid escape sequence: \\{c}"
                    ))
                }
            }
            in_slash = false;
            continue;
        }
        match c {
            '\\' => in_slash = true,
            // Go prints the rune with %v, i.e. as its code point number.
            ',' | '=' => {
                return Err(format!(
                    "invalid field selector: unescaped character in value: {}",
                    c as u32
                ))
            }
            _ => out.push(c),
        }
    }
    if in_slash {
        return Err("invalid field selector: invalid escape sequence: \\".to_string());
    }
    Ok(out)
}

fn split_field_terms(s: &str) -> Vec<&str> {
    if s.is_empty() {
        return Vec::new();
    }
    let mut terms = Vec::new();
    let mut start = 0;
    let mut in_slash = false;
    for (i, c) in s.char_indices() {
        if in_slash {
            in_slash = false;
        } else if c == '\\' {
            in_slash = true;
        } else if c == ',' {
            terms.push(&s[start..i]);
            start = i + 1;
        }
    }
    terms.push(&s[start..]);
    terms
}

fn split_field_term(term: &str) -> Option<(&str, FieldOp, &str)> {
    for (i, _) in term.char_indices() {
        let rest = &term[i..];
        for (op, kind) in [
            ("!=", FieldOp::NotEquals),
            ("==", FieldOp::Equals),
            ("=", FieldOp::Equals),
        ] {
            if rest.starts_with(op) {
                return Some((&term[..i], kind, &term[i + op.len()..]));
            }
        }
    }
    None
}

impl FieldSelector {
    /// `fields.ParseSelector`: the `fieldSelector` query parameter, e.g.
    /// `spec.nodeName=n1,status.phase!=Succeeded`. Terms are sorted as upstream sorts them,
    /// so the first error reported is upstream's. Errors: `invalid selector: '<s>'; can't
    /// understand '<term>'`, `invalid field selector: invalid escape sequence: \x`,
    /// `invalid field selector: unescaped character in value: 61`.
    pub fn parse(s: &str) -> Result<FieldSelector, String> {
        let mut parts = split_field_terms(s);
        parts.sort();
        let mut terms = Vec::new();
        for part in parts {
            if part.is_empty() {
                continue;
            }
            let Some((lhs, op, rhs)) = split_field_term(part) else {
                return Err(format!(
                    "invalid selector: '{s}'; can't understand '{part}'"
                ));
            };
            let value = unescape_field_value(rhs)?;
            // Transform drops a term whose field and value are both empty.
            if lhs.is_empty() && value.is_empty() {
                continue;
            }
            terms.push(FieldTerm {
                field: lhs.to_string(),
                op,
                value,
            });
        }
        Ok(FieldSelector { terms })
    }

    /// Matches everything.
    pub fn everything() -> Self {
        FieldSelector::default()
    }

    /// Whether all terms hold; `get` returns an object's value for a field name, `None`
    /// counting as the empty string (as `fields.Set.Get` does).
    pub fn matches(&self, get: &dyn Fn(&str) -> Option<String>) -> bool {
        self.terms.iter().all(|t| {
            let have = get(&t.field).unwrap_or_default();
            match t.op {
                FieldOp::Equals => have == t.value,
                FieldOp::NotEquals => have != t.value,
            }
        })
    }

    /// Field names in the order upstream checks them (sorted terms), duplicates kept, so the
    /// first unsupported one gives upstream's error (see [`convert_field_label`]).
    pub fn fields(&self) -> Vec<String> {
        self.terms.iter().map(|t| t.field.clone()).collect()
    }

    pub fn terms(&self) -> &[FieldTerm] {
        &self.terms
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// `RequiresExactMatch`: the value of the first `field=value` term for `field`.
    pub fn requires_exact_match(&self, field: &str) -> Option<&str> {
        self.terms
            .iter()
            .find(|t| t.field == field && t.op == FieldOp::Equals)
            .map(|t| t.value.as_str())
    }

    /// Renames fields (upstream's `Transform` with a field-label conversion), e.g. a pod's
    /// `spec.host` → `spec.nodeName`; the first error is returned.
    pub fn transform(
        &self,
        f: impl Fn(&str) -> Result<String, String>,
    ) -> Result<FieldSelector, String> {
        let mut terms = Vec::with_capacity(self.terms.len());
        for t in &self.terms {
            let field = f(&t.field)?;
            if field.is_empty() && t.value.is_empty() {
                continue;
            }
            terms.push(FieldTerm {
                field,
                op: t.op,
                value: t.value.clone(),
            });
        }
        Ok(FieldSelector { terms })
    }
}

impl fmt::Display for FieldSelector {
    /// `String()`: `field=escaped,field!=escaped`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, t) in self.terms.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            let op = if t.op == FieldOp::Equals { "=" } else { "!=" };
            write!(f, "{}{}{}", t.field, op, escape_field_value(&t.value))?;
        }
        Ok(())
    }
}

/// The field labels kube-apiserver 1.32 accepts for `group`/`kind` (`Scheme.ConvertFieldLabel`),
/// returning the (possibly renamed) label or upstream's error text. Core v1 kinds with a
/// registered conversion answer `field label not supported: <label>`; every other kind uses
/// `DefaultMetaV1FieldSelectorConversion`: `"<label>" is not a known field selector: only
/// "metadata.name", "metadata.namespace"`.
pub fn convert_field_label(group: &str, kind: &str, label: &str) -> Result<String, String> {
    let core: Option<&[&str]> = if group.is_empty() {
        match kind {
            "Pod" => Some(&[
                "metadata.name",
                "metadata.namespace",
                "spec.nodeName",
                "spec.restartPolicy",
                "spec.schedulerName",
                "spec.serviceAccountName",
                "spec.hostNetwork",
                "status.phase",
                "status.podIP",
                "status.podIPs",
                "status.nominatedNodeName",
            ]),
            "Node" => Some(&["metadata.name", "spec.unschedulable"]),
            "ReplicationController" => {
                Some(&["metadata.name", "metadata.namespace", "status.replicas"])
            }
            "Event" => Some(&[
                "involvedObject.kind",
                "involvedObject.namespace",
                "involvedObject.name",
                "involvedObject.uid",
                "involvedObject.apiVersion",
                "involvedObject.resourceVersion",
                "involvedObject.fieldPath",
                "reason",
                "reportingComponent",
                "source",
                "type",
                "metadata.namespace",
                "metadata.name",
            ]),
            "Namespace" => Some(&["status.phase", "metadata.name"]),
            "Secret" => Some(&["type", "metadata.namespace", "metadata.name"]),
            "Service" => Some(&[
                "metadata.namespace",
                "metadata.name",
                "spec.clusterIP",
                "spec.type",
            ]),
            _ => None,
        }
    } else {
        None
    };
    match core {
        Some(allowed) => {
            if allowed.contains(&label) {
                Ok(label.to_string())
            } else if kind == "Pod" && label == "spec.host" {
                Ok("spec.nodeName".to_string())
            } else {
                Err(format!("field label not supported: {label}"))
            }
        }
        None => match label {
            "metadata.name" | "metadata.namespace" => Ok(label.to_string()),
            _ => Err(format!(
                "{} is not a known field selector: only \"metadata.name\", \"metadata.namespace\"",
                go_quote(label)
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn set(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn sel(s: &str) -> LabelSelector {
        LabelSelector::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    // selector_test.go TestSelectorParse
    #[test]
    fn upstream_good_and_bad_strings() {
        for s in [
            "x=a,y=b,z=c",
            "",
            "x!=a,y=b",
            "x=",
            "x= ",
            "x=,z= ",
            "x= ,z= ",
            "!x",
            "x>1",
            "x>1,z<5",
        ] {
            assert_eq!(sel(s).to_string(), s.replace(' ', ""), "{s}");
        }
        for s in ["x=a||y=b", "x==a==b", "!x=a", "x<a"] {
            assert!(LabelSelector::parse(s).is_err(), "{s}");
        }
        assert_eq!(sel("x=a,a=x").to_string(), sel("a=x,x=a").to_string());
    }

    // selector_test.go TestSelectorMatches and TestRequirementSelectorMatching
    #[test]
    fn upstream_matches() {
        let yes = |s: &str, l: &[(&str, &str)]| {
            assert!(sel(s).matches(&set(l)), "{s} should match {l:?}")
        };
        let no = |s: &str, l: &[(&str, &str)]| {
            assert!(!sel(s).matches(&set(l)), "{s} should not match {l:?}")
        };
        yes("", &[("x", "y")]);
        yes("x=y", &[("x", "y")]);
        yes("x=y,z=w", &[("x", "y"), ("z", "w")]);
        yes("x!=y,z!=w", &[("x", "z"), ("z", "a")]);
        yes("notin=in", &[("notin", "in")]);
        yes("x", &[("x", "z")]);
        yes("!x", &[("y", "z")]);
        yes("x>1", &[("x", "2")]);
        yes("x<1", &[("x", "0")]);
        no("x=z", &[]);
        no("x=y", &[("x", "z")]);
        no("x=y,z=w", &[("x", "w"), ("z", "w")]);
        no("x!=y,z!=w", &[("x", "z"), ("z", "w")]);
        no("x", &[("y", "z")]);
        no("!x", &[("x", "z")]);
        no("x>1", &[("x", "0")]);
        no("x<1", &[("x", "2")]);
        let ls = [("foo", "bar"), ("baz", "blah")];
        yes("foo=bar", &ls);
        yes("baz=blah", &ls);
        yes("foo=bar,baz=blah", &ls);
        no("foo=blah", &ls);
        no("baz=bar", &ls);
        no("foo=bar,foobar=bar,baz=blah", &ls);
        yes("x in (foo),y notin (alpha)", &[("x", "foo"), ("y", "baz")]);
        no("x in (foo),y in (alpha)", &[("x", "foo"), ("y", "baz")]);
        yes("x notin (),y", &[("y", "")]);
        yes("!x,y", &[("y", "")]);
        no("x notin (),!y", &[("y", "")]);
        no("x in ()", &[("y", "baz")]);
        yes("z>1", &[("z", "2")]);
        no("z>1", &[("z", "v2")]);
    }

    // selector_test.go TestSetSelectorParser
    #[test]
    fn upstream_set_parser() {
        let cases: &[(&str, Option<&str>)] = &[
            ("", Some("")),
            ("\rx", Some("x")),
            (
                "this-is-a-dns.domain.com/key-with-dash",
                Some("this-is-a-dns.domain.com/key-with-dash"),
            ),
            (
                "this-is-another-dns.domain.com/key-with-dash in (so,what)",
                Some("this-is-another-dns.domain.com/key-with-dash in (so,what)"),
            ),
            (
                "0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)",
                Some("0.1.2.domain/99 notin (10.10.100.1,tick.tack.clock)"),
            ),
            ("foo  in\t (abc)", Some("foo in (abc)")),
            ("x notin\n (abc)", Some("x notin (abc)")),
            ("x  notin\t\t\t(abc,def)", Some("x notin (abc,def)")),
            ("x in (abc,def)", Some("x in (abc,def)")),
            ("x in (abc,)", Some("x in (,abc)")),
            ("x in ()", Some("x in ()")),
            (
                "x notin (abc,def),bar,z in (),w",
                Some("bar,w,x notin (abc,def),z in ()"),
            ),
            ("x,y in (a)", Some("x,y in (a)")),
            ("x=a", Some("x=a")),
            ("x>1", Some("x>1")),
            ("x<7", Some("x<7")),
            ("x=a,y!=b", Some("x=a,y!=b")),
            ("x=a,y!=b,z in (h,i,j)", Some("x=a,y!=b,z in (h,i,j)")),
            ("x=a||y=b", None),
            ("x,y", Some("x,y")),
            (",x,y", None),
            ("x nott in (y)", None),
            ("x notin ( )", Some("x notin ()")),
            ("x notin (, a)", Some("x notin (,a)")),
            ("a in (xyz),", None),
            ("a in (xyz)b notin ()", None),
            ("a ", Some("a")),
            ("a in (x,y,notin, z,in)", Some("a in (in,notin,x,y,z)")),
            ("a in (xyz abc)", None),
            ("a notin(", None),
            ("a (", None),
            ("(", None),
        ];
        for (input, want) in cases {
            match (LabelSelector::parse(input), want) {
                (Ok(s), Some(w)) => assert_eq!(&s.to_string(), w, "{input:?}"),
                (Err(_), None) => {}
                (got, _) => panic!("{input:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn parse_error_texts() {
        let err = |s: &str| LabelSelector::parse(s).unwrap_err();
        assert_eq!(
            err("a b"),
            "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"
        );
        assert_eq!(
            err(",x"),
            "found ',', expected: !, identifier, or 'end of string'"
        );
        assert_eq!(
            err("a in (xyz),"),
            "found '', expected: identifier after ','"
        );
        assert_eq!(
            err("a in (xyz)b notin ()"),
            "found 'b', expected: ',' or 'end of string'"
        );
        assert_eq!(
            err("a in (xyz abc)"),
            "unable to parse requirement: found 'abc', expected: ',' or ')'"
        );
        assert_eq!(
            err("a notin("),
            "unable to parse requirement: found '', expected: ',', ')' or identifier"
        );
        assert_eq!(
            err("a in x"),
            "unable to parse requirement: found 'x' expected: '('"
        );
        assert_eq!(
            err("a in (,"),
            "unable to parse requirement: found '', expected: ',', or identifier"
        );
        assert_eq!(
            err("!"),
            "unable to parse requirement: found '', expected: identifier"
        );
        assert_eq!(
            err("x==a==b"),
            "found '==', expected: ',' or 'end of string'"
        );
        assert_eq!(
            err("-a"),
            "unable to parse requirement: <nil>: Invalid value: \"-a\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
        );
        assert_eq!(
            err("x<a"),
            "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' operators, the value must be an integer"
        );
        assert_eq!(
            err("app=a@b"),
            "unable to parse requirement: values[0][app]: Invalid value: \"a@b\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
        );
        assert_eq!(
            err("x>a@"),
            "unable to parse requirement: [values[0]: Invalid value: \"a@\": for 'Gt', 'Lt' operators, the value must be an integer, values[0][x]: Invalid value: \"a@\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')]"
        );
    }

    #[test]
    fn regex_error_has_go_spacing() {
        // Go appends "', " after each example and " or " between them: a double space.
        assert_eq!(
            regex_error("m", "f", &["a", "b"]),
            "m (e.g. 'a',  or 'b', regex used for validation is 'f')"
        );
        assert_eq!(
            regex_error("m", "f", &[]),
            "m (regex used for validation is 'f')"
        );
    }

    #[test]
    fn lexer_tokens() {
        let toks = |s: &str| {
            let mut l = Lexer {
                s: s.as_bytes(),
                pos: 0,
            };
            let mut v = Vec::new();
            loop {
                let (t, _) = l.lex();
                if t == Tok::EndOfString {
                    break v;
                }
                v.push(t);
            }
        };
        assert_eq!(
            toks("== != (), = notin"),
            vec![
                Tok::DoubleEquals,
                Tok::NotEquals,
                Tok::OpenPar,
                Tok::ClosedPar,
                Tok::Comma,
                Tok::Equals,
                Tok::NotIn
            ]
        );
        assert_eq!(
            toks("key>2"),
            vec![Tok::Identifier, Tok::GreaterThan, Tok::Identifier]
        );
        assert_eq!(toks("~"), vec![Tok::Identifier]);
        assert_eq!(toks("||"), vec![Tok::Identifier]);
        assert_eq!(toks("!"), vec![Tok::DoesNotExist]);
    }

    #[test]
    fn requirement_constructor() {
        assert!(Requirement::new("x", Operator::In, vec![]).is_err());
        assert!(Requirement::new("x", Operator::In, vec!["foo".into()]).is_ok());
        assert!(Requirement::new("x", Operator::Exists, vec![]).is_ok());
        assert!(Requirement::new("1foo", Operator::In, vec!["bar".into()]).is_ok());
        assert!(Requirement::new("1234", Operator::In, vec!["bar".into()]).is_ok());
        assert!(Requirement::new("y", Operator::GreaterThan, vec!["1".into()]).is_ok());
        assert!(Requirement::new("foo", Operator::GreaterThan, vec!["bar".into()]).is_err());
        assert!(Requirement::new(&"a".repeat(254), Operator::Exists, vec![]).is_err());
        assert_eq!(
            Requirement::new("x", Operator::In, vec![]).unwrap_err(),
            "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty"
        );
    }

    #[test]
    fn metav1_conversion() {
        let ps = metav1::LabelSelector {
            match_labels: Some(set(&[("app", "web")])),
            match_expressions: Some(vec![metav1::LabelSelectorRequirement {
                key: "tier".into(),
                operator: "NotIn".into(),
                values: Some(vec!["db".into()]),
            }]),
        };
        let s = LabelSelector::from_metav1(Some(&ps)).unwrap();
        assert_eq!(s.to_string(), "app=web,tier notin (db)");
        assert!(s.matches(&set(&[("app", "web")])));
        assert!(!s.matches(&set(&[("app", "web"), ("tier", "db")])));
        assert!(LabelSelector::from_metav1(None).unwrap().is_nothing());
        assert!(!LabelSelector::from_metav1(None).unwrap().matches(&set(&[])));
        assert!(
            LabelSelector::from_metav1(Some(&metav1::LabelSelector::default()))
                .unwrap()
                .matches(&set(&[("a", "b")]))
        );
        let bad = metav1::LabelSelector {
            match_labels: None,
            match_expressions: Some(vec![metav1::LabelSelectorRequirement {
                key: "k".into(),
                operator: "Seriously".into(),
                values: None,
            }]),
        };
        assert_eq!(
            LabelSelector::from_metav1(Some(&bad)).unwrap_err(),
            "\"Seriously\" is not a valid label selector operator"
        );
        let empty_in = metav1::LabelSelector {
            match_labels: None,
            match_expressions: Some(vec![metav1::LabelSelectorRequirement {
                key: "name".into(),
                operator: "In".into(),
                values: Some(vec![]),
            }]),
        };
        assert_eq!(
            LabelSelector::from_metav1(Some(&empty_in)).unwrap_err(),
            "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty"
        );
    }

    #[test]
    fn validate_metav1_selector() {
        let ps = metav1::LabelSelector {
            match_labels: Some(set(&[("-bad", "ok")])),
            match_expressions: Some(vec![
                metav1::LabelSelectorRequirement {
                    key: "a".into(),
                    operator: "In".into(),
                    values: None,
                },
                metav1::LabelSelectorRequirement {
                    key: "b".into(),
                    operator: "Exists".into(),
                    values: Some(vec!["x".into()]),
                },
                metav1::LabelSelectorRequirement {
                    key: "c".into(),
                    operator: "Foo".into(),
                    values: Some(vec!["a b".into()]),
                },
            ]),
        };
        let p = Path::new("spec").child("selector");
        let errs: Vec<String> = validate_label_selector(Some(&ps), false, &p)
            .iter()
            .map(|e| e.to_string())
            .collect();
        assert_eq!(errs.len(), 5, "{errs:#?}");
        assert!(errs[0].starts_with(
            "spec.selector.matchLabels: Invalid value: \"-bad\": name part must consist of"
        ));
        assert_eq!(errs[1], "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'");
        assert_eq!(
            errs[2],
            "spec.selector.matchExpressions[1].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
        );
        assert_eq!(errs[3], "spec.selector.matchExpressions[2].operator: Invalid value: \"Foo\": not a valid selector operator");
        assert!(errs[4].starts_with("spec.selector.matchExpressions[2].values[0]: Invalid value: \"a b\": a valid label must be"));
        assert_eq!(validate_label_selector(Some(&ps), true, &p).len(), 4);
    }

    #[test]
    fn name_validators() {
        assert!(is_qualified_name("simple").is_empty());
        assert!(is_qualified_name("now-with-dashes").is_empty());
        assert!(is_qualified_name("1-starts-with-num").is_empty());
        assert!(is_qualified_name("1234").is_empty());
        assert!(is_qualified_name("simple/simple").is_empty());
        assert!(is_qualified_name("example.com/Upper_Case").is_empty());
        assert!(is_qualified_name(&format!("prefix/{}", "a".repeat(63))).is_empty());
        for bad in [
            "nospecialchars%^=@",
            "cantendwithadash-",
            "-cantstartwithadash-",
            "only/one/slash",
            "Example.com/abc",
            "example_com/abc",
            "/simple",
            "",
        ] {
            assert!(!is_qualified_name(bad).is_empty(), "{bad}");
        }
        assert_eq!(is_qualified_name("a/b/c"), vec![
            "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]);
        assert_eq!(is_qualified_name("").len(), 2);
        assert_eq!(
            is_qualified_name(&"a".repeat(64)),
            vec!["name part must be no more than 63 characters".to_string()]
        );
        assert_eq!(
            is_qualified_name("/a"),
            vec!["prefix part must be non-empty".to_string()]
        );
        assert!(is_qualified_name("Ex/a")[0]
            .starts_with("prefix part a lowercase RFC 1123 subdomain must consist"));

        assert!(is_valid_label_value("").is_empty());
        assert!(is_valid_label_value("a.b_c-D").is_empty());
        assert_eq!(
            is_valid_label_value(&"a".repeat(64)),
            vec!["must be no more than 63 characters".to_string()]
        );
        assert_eq!(is_valid_label_value("-a").len(), 1);

        assert!(is_dns1123_label("a").is_empty());
        assert!(is_dns1123_label("0").is_empty());
        assert!(is_dns1123_label("a-1").is_empty());
        assert_eq!(
            is_dns1123_label("a.b"),
            vec!["must not contain dots".to_string()]
        );
        assert_eq!(is_dns1123_label("A"), vec![
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')".to_string()
        ]);
        assert_eq!(
            is_dns1123_label(&"a".repeat(64)),
            vec!["must be no more than 63 characters".to_string()]
        );
        assert!(is_dns1123_subdomain("example.com").is_empty());
        assert!(is_dns1123_subdomain(&format!(
            "{}.{}.{}.{}",
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(61)
        ))
        .is_empty());
        assert_eq!(is_dns1123_subdomain("a..b"), vec![
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')".to_string()
        ]);
        assert_eq!(is_dns1123_subdomain(&"a".repeat(254)).len(), 1);
        assert!(is_dns1035_label("a-1").is_empty());
        assert_eq!(is_dns1035_label("1a"), vec![
            "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')".to_string()
        ]);
    }

    #[test]
    fn field_selector_parse_and_match() {
        let f =
            FieldSelector::parse("spec.nodeName=n1,status.phase!=Succeeded,status.phase!=Failed")
                .unwrap();
        assert_eq!(
            f.fields(),
            vec!["spec.nodeName", "status.phase", "status.phase"]
        );
        let pod = |node: &str, phase: &str| {
            let (node, phase) = (node.to_string(), phase.to_string());
            move |name: &str| match name {
                "spec.nodeName" => Some(node.clone()),
                "status.phase" => Some(phase.clone()),
                _ => None,
            }
        };
        assert!(f.matches(&pod("n1", "Running")));
        assert!(!f.matches(&pod("n1", "Failed")));
        assert!(!f.matches(&pod("n2", "Running")));
        let f = FieldSelector::parse("metadata.name==web").unwrap();
        assert_eq!(f.requires_exact_match("metadata.name"), Some("web"));
        assert_eq!(f.to_string(), "metadata.name=web");
        let empty = FieldSelector::parse("spec.nodeName=").unwrap();
        assert!(empty.matches(&|_: &str| None));
        assert!(FieldSelector::parse("").unwrap().is_empty());
        assert!(FieldSelector::parse("=").unwrap().is_empty());
        assert!(FieldSelector::parse(",,").unwrap().is_empty());
    }

    // fields/selector_test.go cases for escaping and errors
    #[test]
    fn field_selector_escapes_and_errors() {
        let f = FieldSelector::parse(r"a=\,\=\\,b!=x").unwrap();
        assert_eq!(
            f.terms()[0],
            FieldTerm {
                field: "a".into(),
                op: FieldOp::Equals,
                value: r",=\".into()
            }
        );
        assert_eq!(f.to_string(), r"a=\,\=\\,b!=x");
        assert_eq!(
            FieldSelector::parse("foo").unwrap_err(),
            "invalid selector: 'foo'; can't understand 'foo'"
        );
        assert_eq!(
            FieldSelector::parse("b,a=1").unwrap_err(),
            "invalid selector: 'b,a=1'; can't understand 'b'"
        );
        assert_eq!(
            FieldSelector::parse(r"a=\x").unwrap_err(),
            r"invalid field selector: invalid escape sequence: \x"
        );
        assert_eq!(
            FieldSelector::parse(r"a=b\").unwrap_err(),
            r"invalid field selector: invalid escape sequence: \"
        );
        assert_eq!(
            FieldSelector::parse("a=b=c").unwrap_err(),
            "invalid field selector: unescaped character in value: 61"
        );
        assert_eq!(FieldSelector::parse("x==y").unwrap().terms()[0].value, "y");
        assert_eq!(
            FieldSelector::parse("x!==y").unwrap_err(),
            "invalid field selector: unescaped character in value: 61"
        );
        assert_eq!(unescape_field_value(r"\\\,"), Ok(r"\,".to_string()));
        assert_eq!(escape_field_value(r"a\b,c=d"), r"a\\b\,c\=d");
    }

    #[test]
    fn field_label_conversion() {
        assert_eq!(
            convert_field_label("", "Pod", "spec.nodeName"),
            Ok("spec.nodeName".into())
        );
        assert_eq!(
            convert_field_label("", "Pod", "spec.host"),
            Ok("spec.nodeName".into())
        );
        assert_eq!(
            convert_field_label("", "Pod", "spec.foo"),
            Err("field label not supported: spec.foo".into())
        );
        assert_eq!(
            convert_field_label("", "Namespace", "metadata.namespace"),
            Err("field label not supported: metadata.namespace".into())
        );
        assert_eq!(
            convert_field_label("", "Event", "involvedObject.uid"),
            Ok("involvedObject.uid".into())
        );
        assert_eq!(
            convert_field_label("apps", "Deployment", "metadata.namespace"),
            Ok("metadata.namespace".into())
        );
        assert_eq!(
            convert_field_label("apps", "Deployment", "spec.foo"),
            Err("\"spec.foo\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"".into())
        );
        let f = FieldSelector::parse("spec.host=n1")
            .unwrap()
            .transform(|l| convert_field_label("", "Pod", l))
            .unwrap();
        assert_eq!(f.to_string(), "spec.nodeName=n1");
    }

    fn key_strategy() -> impl Strategy<Value = String> {
        (
            proptest::option::of("[a-z0-9]([-a-z0-9]{0,8}[a-z0-9])?(\\.[a-z0-9]{1,5}){0,2}"),
            "[A-Za-z0-9]([-A-Za-z0-9_.]{0,10}[A-Za-z0-9])?",
        )
            .prop_filter("not a keyword", |(_, n)| n != "in" && n != "notin")
            .prop_map(|(p, n)| match p {
                Some(p) => format!("{p}/{n}"),
                None => n,
            })
    }

    fn value_strategy() -> impl Strategy<Value = String> {
        "([A-Za-z0-9]([-A-Za-z0-9_.]{0,10}[A-Za-z0-9])?)?"
    }

    fn requirement_strategy() -> impl Strategy<Value = String> {
        (
            key_strategy(),
            0..8usize,
            proptest::collection::vec(value_strategy(), 1..4),
            0i64..1000,
        )
            .prop_map(|(k, op, vals, n)| {
                // Upstream rejects `(a,,)` and `(,,)`: lists carry non-empty values or are `()`.
                let list: Vec<&str> = vals
                    .iter()
                    .map(String::as_str)
                    .filter(|v| !v.is_empty())
                    .collect();
                match op {
                    0 => format!("{k}={}", vals[0]),
                    1 => format!("{k}=={}", vals[0]),
                    2 => format!("{k}!={}", vals[0]),
                    3 => format!("{k} in ({})", list.join(",")),
                    4 => format!("{k} notin ({})", list.join(",")),
                    5 => k,
                    6 => format!("!{k}"),
                    _ => format!("{k}>{n}"),
                }
            })
    }

    proptest! {
        #[test]
        fn label_parse_never_panics(s in ".{0,40}") {
            let _ = LabelSelector::parse(&s);
        }

        #[test]
        fn label_parse_never_panics_on_selector_alphabet(s in "[a-z=!(),<> \t\\-./0-9]{0,30}") {
            let _ = LabelSelector::parse(&s);
        }

        #[test]
        fn field_parse_never_panics(s in ".{0,40}") {
            let _ = FieldSelector::parse(&s);
        }

        #[test]
        fn label_round_trip(reqs in proptest::collection::vec(requirement_strategy(), 0..5)) {
            let s = reqs.join(",");
            let parsed = LabelSelector::parse(&s).map_err(|e| TestCaseError::fail(format!("{s}: {e}")))?;
            let again = LabelSelector::parse(&parsed.to_string()).map_err(|e| TestCaseError::fail(format!("{parsed}: {e}")))?;
            prop_assert_eq!(parsed.to_string(), again.to_string());
            prop_assert_eq!(parsed.requirements().len(), reqs.len());
        }

        #[test]
        fn field_round_trip(terms in proptest::collection::vec(("[a-z]{1,5}(\\.[a-zA-Z]{1,6}){0,2}", any::<bool>(), ".{0,8}"), 0..5)) {
            let s: Vec<String> = terms.iter().map(|(f, ne, v)| format!("{f}{}{}", if *ne { "!=" } else { "=" }, escape_field_value(v))).collect();
            let s = s.join(",");
            let parsed = FieldSelector::parse(&s).map_err(|e| TestCaseError::fail(format!("{s}: {e}")))?;
            prop_assert_eq!(parsed.terms().len(), terms.len());
            let again = FieldSelector::parse(&parsed.to_string()).map_err(|e| TestCaseError::fail(format!("{parsed}: {e}")))?;
            prop_assert_eq!(&parsed, &again);
            for (f, ne, v) in &terms {
                prop_assert!(parsed.terms().iter().any(|t| &t.field == f && &t.value == v && (t.op == FieldOp::NotEquals) == *ne));
            }
        }

        #[test]
        fn label_values_validate_like_regex(v in "[-A-Za-z0-9_.@ ]{0,70}") {
            let valid = v.is_empty() || (v.len() <= 63 && {
                let b = v.as_bytes();
                b[0].is_ascii_alphanumeric() && b[b.len()-1].is_ascii_alphanumeric()
                    && b.iter().all(|c| c.is_ascii_alphanumeric() || b"-_.".contains(c))
            });
            prop_assert_eq!(is_valid_label_value(&v).is_empty(), valid);
        }
    }
}
