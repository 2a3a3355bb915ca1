//! Field errors rendered exactly as apimachinery's `field.Error` (k8s.io/apimachinery
//! pkg/util/validation/field/errors.go), because users compare kubectl output text.

use std::fmt;

/// The error types of apimachinery, with their cause `reason` string and their display text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    NotFound,
    Required,
    Duplicate,
    Invalid,
    NotSupported,
    Forbidden,
    TooLong,
    TooMany,
    Internal,
    TypeInvalid,
}

impl ErrorType {
    /// `metav1.CauseType` value used in `Status.details.causes[].reason`.
    pub fn reason(self) -> &'static str {
        match self {
            ErrorType::NotFound => "FieldValueNotFound",
            ErrorType::Required => "FieldValueRequired",
            ErrorType::Duplicate => "FieldValueDuplicate",
            ErrorType::Invalid => "FieldValueInvalid",
            ErrorType::NotSupported => "FieldValueNotSupported",
            ErrorType::Forbidden => "FieldValueForbidden",
            ErrorType::TooLong => "FieldValueTooLong",
            ErrorType::TooMany => "FieldValueTooMany",
            ErrorType::Internal => "InternalError",
            ErrorType::TypeInvalid => "FieldValueTypeInvalid",
        }
    }

    /// Human text (`ErrorType.String()`).
    pub fn text(self) -> &'static str {
        match self {
            ErrorType::NotFound => "Not found",
            ErrorType::Required => "Required value",
            ErrorType::Duplicate => "Duplicate value",
            ErrorType::Invalid => "Invalid value",
            ErrorType::NotSupported => "Unsupported value",
            ErrorType::Forbidden => "Forbidden",
            ErrorType::TooLong => "Too long",
            ErrorType::TooMany => "Too many",
            ErrorType::Internal => "Internal error",
            ErrorType::TypeInvalid => "Invalid value",
        }
    }
}

/// A bad value as Go's `ErrorBody` would print it. Go picks the format from the dynamic type
/// of the value, so we keep the type here.
#[derive(Debug, Clone, PartialEq)]
pub enum BadValue {
    /// No value shown (`field.omitValue`).
    Omit,
    /// nil / nil pointer: Go substitutes the string "null" and prints it with `%q`, so it
    /// renders quoted: `"null"`.
    Null,
    /// Go `string` or named string type: rendered with `%q`.
    Str(String),
    /// Integers, floats, bools: rendered plainly.
    Plain(String),
    /// A `[]string` (for example `clusterIPs`): `[]string{"a", "b"}`, nil → `[]string(nil)`.
    StrList(Option<Vec<String>>),
    /// A slice of a named string type, rendered with its Go type name, for example
    /// `[]core.IPFamily{"IPv4", "IPv6"}`.
    TypedList(&'static str, Option<Vec<String>>),
    /// Anything already rendered.
    Raw(String),
}

impl BadValue {
    pub fn str(s: impl Into<String>) -> Self {
        BadValue::Str(s.into())
    }
    pub fn int(i: i64) -> Self {
        BadValue::Plain(i.to_string())
    }
    pub fn list<S: AsRef<str>>(items: &[S]) -> Self {
        BadValue::StrList(Some(items.iter().map(|s| s.as_ref().to_string()).collect()))
    }
}

/// Go's `strconv.Quote` for the strings we meet (ASCII controls and quotes escaped).
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{07}' => out.push_str("\\a"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            '\u{0b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl fmt::Display for BadValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BadValue::Omit => Ok(()),
            BadValue::Null => f.write_str("\"null\""),
            BadValue::Str(s) => f.write_str(&go_quote(s)),
            BadValue::Plain(s) | BadValue::Raw(s) => f.write_str(s),
            BadValue::StrList(l) => write_go_slice(f, "[]string", l),
            BadValue::TypedList(t, l) => write_go_slice(f, t, l),
        }
    }
}

fn write_go_slice(f: &mut fmt::Formatter<'_>, ty: &str, l: &Option<Vec<String>>) -> fmt::Result {
    match l {
        None => write!(f, "{ty}(nil)"),
        Some(items) => {
            let inner: Vec<String> = items.iter().map(|s| go_quote(s)).collect();
            write!(f, "{ty}{{{}}}", inner.join(", "))
        }
    }
}

/// A field path such as `spec.clusterIPs[1]`, built like `field.NewPath("spec").Child(..).Index(..)`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Path(String);

impl Path {
    pub fn new(root: &str) -> Self {
        Path(root.to_string())
    }
    pub fn child(&self, name: &str) -> Self {
        if self.0.is_empty() {
            Path(name.to_string())
        } else {
            Path(format!("{}.{}", self.0, name))
        }
    }
    pub fn index(&self, i: usize) -> Self {
        Path(format!("{}[{}]", self.0, i))
    }
    /// Map key, as `Key()`: `metadata.labels[app]`.
    pub fn key(&self, k: &str) -> Self {
        Path(format!("{}[{}]", self.0, k))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One field error (`field.Error`).
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub kind: ErrorType,
    pub field: String,
    pub value: BadValue,
    pub detail: String,
}

impl FieldError {
    pub fn invalid(path: &Path, value: BadValue, detail: impl Into<String>) -> Self {
        Self {
            kind: ErrorType::Invalid,
            field: path.to_string(),
            value,
            detail: detail.into(),
        }
    }
    pub fn required(path: &Path, detail: impl Into<String>) -> Self {
        Self {
            kind: ErrorType::Required,
            field: path.to_string(),
            value: BadValue::Omit,
            detail: detail.into(),
        }
    }
    pub fn forbidden(path: &Path, detail: impl Into<String>) -> Self {
        Self {
            kind: ErrorType::Forbidden,
            field: path.to_string(),
            value: BadValue::Omit,
            detail: detail.into(),
        }
    }
    pub fn duplicate(path: &Path, value: BadValue) -> Self {
        Self {
            kind: ErrorType::Duplicate,
            field: path.to_string(),
            value,
            detail: String::new(),
        }
    }
    pub fn not_found(path: &Path, value: BadValue) -> Self {
        Self {
            kind: ErrorType::NotFound,
            field: path.to_string(),
            value,
            detail: String::new(),
        }
    }
    /// `field.NotSupported`: detail lists the quoted valid values in the order given.
    pub fn not_supported<S: AsRef<str>>(path: &Path, value: BadValue, valid: &[S]) -> Self {
        let quoted: Vec<String> = valid.iter().map(|v| go_quote(v.as_ref())).collect();
        let detail = if quoted.is_empty() {
            String::new()
        } else {
            format!("supported values: {}", quoted.join(", "))
        };
        Self {
            kind: ErrorType::NotSupported,
            field: path.to_string(),
            value,
            detail,
        }
    }
    pub fn too_long(path: &Path, max: usize) -> Self {
        // apimachinery 1.32 `field.TooLong` with a byte limit.
        let detail = format!("may not be more than {max} bytes");
        Self {
            kind: ErrorType::TooLong,
            field: path.to_string(),
            value: BadValue::Omit,
            detail,
        }
    }
    pub fn internal(path: &Path, detail: impl Into<String>) -> Self {
        Self {
            kind: ErrorType::Internal,
            field: path.to_string(),
            value: BadValue::Omit,
            detail: detail.into(),
        }
    }

    /// `ErrorBody()`: the message without the field path (used in `details.causes[].message`).
    pub fn body(&self) -> String {
        let mut s = match self.kind {
            ErrorType::Required
            | ErrorType::Forbidden
            | ErrorType::TooLong
            | ErrorType::Internal => self.kind.text().to_string(),
            _ if self.value == BadValue::Omit => self.kind.text().to_string(),
            _ => format!("{}: {}", self.kind.text(), self.value),
        };
        if !self.detail.is_empty() {
            s.push_str(": ");
            s.push_str(&self.detail);
        }
        s
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.body())
    }
}

pub type ErrorList = Vec<FieldError>;

/// `ErrorList.ToAggregate().Error()`: one message alone, several as `[a, b]`, exact duplicates removed.
pub fn aggregate(errs: &[FieldError]) -> String {
    let mut seen: Vec<String> = Vec::new();
    for e in errs {
        let m = e.to_string();
        if !seen.contains(&m) {
            seen.push(m);
        }
    }
    match seen.len() {
        0 => String::new(),
        1 => seen.pop().unwrap(),
        _ => format!("[{}]", seen.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_apimachinery() {
        let p = Path::new("spec").child("ipFamilyPolicy");
        let e = FieldError::invalid(
            &p,
            BadValue::str("RequireDualStack"),
            "this cluster is not configured for dual-stack services",
        );
        assert_eq!(
            e.to_string(),
            "spec.ipFamilyPolicy: Invalid value: \"RequireDualStack\": this cluster is not configured for dual-stack services"
        );
        let l = FieldError::invalid(
            &Path::new("spec").child("clusterIPs"),
            BadValue::list(&["10.0.0.1", "10.0.0.2"]),
            "may specify no more than one IP for each IP family",
        );
        assert_eq!(l.to_string(), "spec.clusterIPs: Invalid value: []string{\"10.0.0.1\", \"10.0.0.2\"}: may specify no more than one IP for each IP family");
        let ns = FieldError::not_supported(
            &Path::new("spec").child("ipFamilies").index(0),
            BadValue::str("IPv5"),
            &["IPv4", "IPv6"],
        );
        assert_eq!(
            ns.to_string(),
            "spec.ipFamilies[0]: Unsupported value: \"IPv5\": supported values: \"IPv4\", \"IPv6\""
        );
        let d = FieldError::duplicate(
            &Path::new("spec").child("ipFamilies").index(1),
            BadValue::str("IPv4"),
        );
        assert_eq!(
            d.to_string(),
            "spec.ipFamilies[1]: Duplicate value: \"IPv4\""
        );
        let f = FieldError::forbidden(
            &Path::new("spec").child("clusterIPs"),
            "may not be set for ExternalName services",
        );
        assert_eq!(
            f.to_string(),
            "spec.clusterIPs: Forbidden: may not be set for ExternalName services"
        );
        assert_eq!(
            FieldError::required(&Path::new("spec").child("ports"), "").to_string(),
            "spec.ports: Required value"
        );
        assert_eq!(BadValue::StrList(None).to_string(), "[]string(nil)");
        assert_eq!(
            BadValue::TypedList("[]core.IPFamily", Some(vec!["IPv4".into()])).to_string(),
            "[]core.IPFamily{\"IPv4\"}"
        );
    }

    #[test]
    fn aggregate_dedups_and_brackets() {
        let p = Path::new("spec");
        let a = FieldError::forbidden(&p, "x");
        let b = FieldError::forbidden(&p, "y");
        assert_eq!(aggregate(std::slice::from_ref(&a)), "spec: Forbidden: x");
        assert_eq!(
            aggregate(&[a.clone(), a.clone(), b]),
            "[spec: Forbidden: x, spec: Forbidden: y]"
        );
    }
}
