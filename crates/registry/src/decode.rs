//! Decoding request bodies the way kube-apiserver does: JSON or YAML into a value, with the
//! strict-decoding findings upstream reports (duplicate fields), bounded work, and Go's error
//! texts; then into the typed object, reporting unknown fields (for `fieldValidation`) with
//! upstream's paths, e.g. `spec.ports[0].foo`.
//!
//! - JSON: malformed input is reported with Go `encoding/json`'s `SyntaxError` text
//!   ([`go_json_syntax_error`]); duplicate keys are found while parsing and reported as
//!   sigs.k8s.io/json's strict errors (`duplicate field "metadata.name"`, at most 100).
//! - YAML: duplicate keys keep the last value (go-yaml v2 into a map) and are reported as
//!   go-yaml's strict errors (`line 4: key "name" already set in map`). Alias expansion is bounded
//!   by the size of what it produces ([`yaml_output_limit`]): a document whose JSON form would
//!   exceed it is refused with go-yaml's `yaml: document contains excessive aliasing`, so a
//!   301 KB body of nested aliases cannot become a 30 MB object.

use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::cell::{Cell, RefCell};
use std::fmt;
pub use twinstack_core::gojson::go_json_syntax_error;

/// Malformed bodies, with the text of the Go library kube-apiserver uses for that format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Go `encoding/json`: `unexpected end of JSON input`, `invalid character 'x' looking for
    /// beginning of value`, ...
    #[error("{0}")]
    Json(String),
    /// go-yaml v2: `yaml: line 3: ...`, or `yaml: document contains excessive aliasing`.
    #[error("{0}")]
    Yaml(String),
}

/// A parsed body and the strict-decoding errors found in its bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub value: Value,
    /// Strict errors in upstream's wording and order: for JSON one `duplicate field "<path>"`
    /// per duplicate; for YAML one `yaml: unmarshal errors:\n  line N: key "k" already set in map`
    /// (go-yaml's `TypeError`, which the apiserver splits into one warning per line).
    pub strict_errors: Vec<String>,
}

impl Decoded {
    /// A value with nothing to report (a body built by the server itself).
    pub fn plain(value: Value) -> Self {
        Decoded {
            value,
            strict_errors: Vec::new(),
        }
    }
}

/// go-yaml v2's refusal of alias bombs (`decode.go`), the text a client gets for one.
pub const EXCESSIVE_ALIASING: &str = "yaml: document contains excessive aliasing";

/// The most bytes (as compact JSON) a YAML body of `input_len` bytes may decode to: four times
/// its own size, and at least 1 MiB. Without aliases YAML never grows that much (the worst,
/// `-\n` becoming `null,`, is 2.5 times), so only alias expansion can reach it.
pub fn yaml_output_limit(input_len: usize) -> u64 {
    (input_len as u64).saturating_mul(4).max(1024 * 1024)
}

/// sigs.k8s.io/json keeps at most this many strict errors (`saveStrictError`).
const MAX_STRICT_ERRORS: usize = 100;

/// Parses a JSON body, reporting duplicate fields.
pub fn parse_json(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    let st = State::new(u64::MAX, false);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed = ValueSeed {
        st: &st,
        path: &PathNode::Root,
    }
    .deserialize(&mut de)
    .and_then(|v| de.end().map(|_| v));
    match parsed {
        Ok(value) => Ok(Decoded {
            value,
            strict_errors: st.duplicates.into_inner(),
        }),
        Err(e) => Err(DecodeError::Json(
            go_json_syntax_error(bytes).unwrap_or_else(|| json_fallback_error(&e)),
        )),
    }
}

/// serde_json refuses a few inputs Go's decoder takes (nesting deeper than 128, invalid UTF-8,
/// lone surrogates); those are reported with the nearest Go text.
fn json_fallback_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    if text.starts_with("recursion limit exceeded") {
        "exceeded max depth".into()
    } else {
        "invalid character in string literal".into()
    }
}

/// Parses a YAML body (one document) into its JSON form, reporting duplicate keys and bounding
/// alias expansion by [`yaml_output_limit`].
pub fn parse_yaml(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| DecodeError::Yaml("yaml: invalid leading UTF-8 octet".into()))?;
    let st = State::new(yaml_output_limit(bytes.len()), true);
    let options = serde_saphyr::options! {
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::PassThrough,
    };
    let parsed = serde_saphyr::with_deserializer_from_str_with_options(text, options, |de| {
        ValueSeed {
            st: &st,
            path: &PathNode::Root,
        }
        .deserialize(de)
    });
    match parsed {
        Ok(value) => {
            let lines = st.duplicates.into_inner();
            let strict_errors = if lines.is_empty() {
                vec![]
            } else {
                vec![format!("yaml: unmarshal errors:\n  {}", lines.join("\n  "))]
            };
            Ok(Decoded {
                value,
                strict_errors,
            })
        }
        Err(e) => Err(DecodeError::Yaml(yaml_error_text(&e))),
    }
}

/// go-yaml's shape for a YAML error: `yaml: line N: <what>` (N 1-based), without the library's
/// snippets and hints.
fn yaml_error_text(e: &serde_saphyr::Error) -> String {
    let e = e.without_snippet();
    let rendered = e.to_string();
    if rendered.contains(EXCESSIVE_ALIASING)
        || rendered.contains("alias") && rendered.contains("limit")
    {
        return EXCESSIVE_ALIASING.into();
    }
    // The first line, without the library's own location suffix or hint.
    let first = rendered.lines().next().unwrap_or("").trim();
    let what = first
        .split(" at line ")
        .next()
        .unwrap_or(first)
        .trim_end_matches('.')
        .to_string();
    let what = if what.is_empty() {
        "did not find expected node content".to_string()
    } else {
        what
    };
    match e.location().map(|l| l.line()).filter(|l| *l > 0) {
        Some(line) => format!("yaml: line {line}: {what}"),
        None => format!("yaml: {what}"),
    }
}

/// Parses a request body (JSON, or YAML when `yaml`) into a value; the error is the Go text of
/// the failure (see [`DecodeError`]). Strict errors are dropped: callers that honour
/// `fieldValidation` use [`parse_json`] / [`parse_yaml`].
pub fn parse_body(bytes: &[u8], yaml: bool) -> Result<Value, String> {
    let r = if yaml {
        parse_yaml(bytes)
    } else {
        parse_json(bytes)
    };
    r.map(|d| d.value).map_err(|e| e.to_string())
}

/// apiserver `summarizeData(body, 30)`: the start of a body as it appears in decode errors.
pub fn summarize(body: &[u8]) -> String {
    const MAX: usize = 30;
    match body.first() {
        None => "<empty>".into(),
        Some(b'{') if body.len() > MAX => format!("{} ...", String::from_utf8_lossy(&body[..MAX])),
        Some(b'{') => String::from_utf8_lossy(body).into_owned(),
        Some(_) if body.len() > MAX => format!("{} ...", hex(&body[..MAX])),
        Some(_) => hex(body),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// apiserver `transformDecodeError` for a body whose group/version/kind could not be read:
/// `the object provided is unrecognized (must be of type Service): <err> (<summary>)`.
pub fn unrecognized(kind: &str, err: &str, body: &[u8]) -> String {
    format!(
        "the object provided is unrecognized (must be of type {kind}): {err} ({})",
        summarize(body)
    )
}

/// The error of an object body as the apiserver's serializers word it: JSON syntax errors come
/// from `SimpleMetaFactory.Interpret` (`couldn't get version/kind; json parse error: ...`), YAML
/// ones from the YAML-to-JSON conversion.
pub fn interpret_error(err: &DecodeError) -> String {
    match err {
        DecodeError::Json(m) => format!("couldn't get version/kind; json parse error: {m}"),
        DecodeError::Yaml(m) => m.clone(),
    }
}

/// `SimpleMetaFactory.Interpret` on a JSON value that is not an object (or null).
pub fn not_an_object(v: &Value) -> Option<String> {
    let kind = match v {
        Value::Object(_) | Value::Null => return None,
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
    };
    Some(format!(
        "couldn't get version/kind; json parse error: json: cannot unmarshal {kind} into Go value of type struct {{ APIVersion string \"json:\\\"apiVersion,omitempty\\\"\"; Kind string \"json:\\\"kind,omitempty\\\"\" }}"
    ))
}

/// The apiserver splits a YAML strict error into one warning per line (`parseYAMLWarnings`);
/// other strict errors are one warning each.
pub fn strict_warnings(errs: &[String]) -> Vec<String> {
    const SHORT: &str = "yaml: unmarshal errors:\n";
    const LONG: &str = "error converting YAML to JSON: yaml: unmarshal errors:\n";
    let mut out = Vec::new();
    for e in errs {
        match e.strip_prefix(SHORT).or_else(|| e.strip_prefix(LONG)) {
            Some(rest) => out.extend(rest.split('\n').map(|l| l.trim().to_string())),
            None => out.push(e.clone()),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The value builder shared by both formats.

/// What the parse found so far: the output size (for the alias bound) and the duplicates.
struct State {
    output: Cell<u64>,
    limit: u64,
    yaml: bool,
    duplicates: RefCell<Vec<String>>,
}

impl State {
    fn new(limit: u64, yaml: bool) -> Self {
        State {
            output: Cell::new(0),
            limit,
            yaml,
            duplicates: RefCell::new(Vec::new()),
        }
    }

    /// Counts `n` output bytes; past the limit the parse stops.
    fn charge<E: de::Error>(&self, n: u64) -> Result<(), E> {
        let total = self.output.get().saturating_add(n);
        self.output.set(total);
        if total > self.limit {
            return Err(E::custom(EXCESSIVE_ALIASING));
        }
        Ok(())
    }

    fn duplicate(&self, msg: String) {
        let mut d = self.duplicates.borrow_mut();
        if d.len() < MAX_STRICT_ERRORS && !d.contains(&msg) {
            d.push(msg);
        }
    }
}

/// Where a value sits, for duplicate-field paths; lives on the stack, allocates nothing.
enum PathNode<'a> {
    Root,
    Key(&'a PathNode<'a>, &'a str),
    Index(&'a PathNode<'a>, usize),
}

impl PathNode<'_> {
    /// sigs.k8s.io/json's field path: keys joined by `.`, indices as `[i]`.
    fn render(&self, out: &mut String) {
        match self {
            PathNode::Root => {}
            PathNode::Key(parent, k) => {
                parent.render(out);
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            PathNode::Index(parent, i) => {
                parent.render(out);
                out.push_str(&format!("[{i}]"));
            }
        }
    }

    fn child_path(&self, key: &str) -> String {
        let mut s = String::new();
        self.render(&mut s);
        if !s.is_empty() {
            s.push('.');
        }
        s.push_str(key);
        s
    }
}

struct ValueSeed<'a> {
    st: &'a State,
    path: &'a PathNode<'a>,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        self.st.charge(5)?;
        Ok(Value::Bool(b))
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Value, E> {
        self.st.charge(20)?;
        Ok(Value::Number(n.into()))
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Value, E> {
        self.st.charge(20)?;
        Ok(Value::Number(n.into()))
    }
    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Value, E> {
        self.st.charge(24)?;
        Ok(Number::from_f64(f).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        self.st.charge(s.len() as u64 + 2)?;
        Ok(Value::String(s.to_owned()))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Value, E> {
        self.st.charge(s.len() as u64 + 2)?;
        Ok(Value::String(s))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        self.st.charge(4)?;
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        self.visit_unit()
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.st.charge(2)?;
        let mut out = Vec::new();
        loop {
            let path = PathNode::Index(self.path, out.len());
            let seed = ValueSeed {
                st: self.st,
                path: &path,
            };
            match seq.next_element_seed(seed)? {
                Some(v) => {
                    self.st.charge(1)?;
                    out.push(v);
                }
                None => break,
            }
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.st.charge(2)?;
        let mut out = Map::new();
        loop {
            let key = if self.st.yaml {
                match map.next_key_seed(YamlKeySeed)? {
                    Some((key, line)) => {
                        if out.contains_key(&key) {
                            // go-yaml: `line %d: key %#v already set in map`.
                            self.st.duplicate(format!(
                                "line {line}: key {} already set in map",
                                twinstack_core::field::go_quote(&key)
                            ));
                        }
                        key
                    }
                    None => break,
                }
            } else {
                match map.next_key::<String>()? {
                    Some(key) => {
                        if out.contains_key(&key) {
                            self.st.duplicate(format!(
                                "duplicate field {}",
                                twinstack_core::field::go_quote(&self.path.child_path(&key))
                            ));
                        }
                        key
                    }
                    None => break,
                }
            };
            self.st.charge(key.len() as u64 + 4)?;
            let path = PathNode::Key(self.path, &key);
            let v = map.next_value_seed(ValueSeed {
                st: self.st,
                path: &path,
            })?;
            // The last value wins, as in Go (`SetMapIndex`).
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

/// A YAML mapping key as sigs.k8s.io/yaml turns it into a JSON key (scalars as their text), with
/// the line it is on.
struct YamlKeySeed;

impl<'de> DeserializeSeed<'de> for YamlKeySeed {
    type Value = (String, u64);
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(String, u64), D::Error> {
        let spanned: serde_saphyr::Spanned<KeyText> = serde::Deserialize::deserialize(d)?;
        Ok((spanned.value.0, spanned.referenced.line()))
    }
}

struct KeyText(String);

impl<'de> serde::Deserialize<'de> for KeyText {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = KeyText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a scalar mapping key")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<KeyText, E> {
                Ok(KeyText(s.to_owned()))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<KeyText, E> {
                Ok(KeyText(s))
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<KeyText, E> {
                Ok(KeyText(b.to_string()))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<KeyText, E> {
                Ok(KeyText(n.to_string()))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<KeyText, E> {
                Ok(KeyText(n.to_string()))
            }
            fn visit_f64<E: de::Error>(self, f: f64) -> Result<KeyText, E> {
                Ok(KeyText(f.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<KeyText, E> {
                Ok(KeyText("null".into()))
            }
            fn visit_none<E: de::Error>(self) -> Result<KeyText, E> {
                Ok(KeyText("null".into()))
            }
        }
        d.deserialize_any(V)
    }
}

// ---------------------------------------------------------------------------------------------
// Typed decoding.

fn render_path(p: &serde_ignored::Path<'_>, out: &mut String) {
    use serde_ignored::Path;
    match p {
        Path::Root => {}
        Path::Seq { parent, index } => {
            render_path(parent, out);
            out.push_str(&format!("[{index}]"));
        }
        Path::Map { parent, key } => {
            render_path(parent, out);
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(key);
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => render_path(parent, out),
    }
}

/// Decodes `v` into `T`, returning the unknown field paths (as `spec.foo`) that were dropped.
/// A value of the wrong type is reported as Go's `encoding/json` reports it (see
/// [`go_type_error`]).
pub fn typed<T: DeserializeOwned>(v: &Value) -> Result<(T, Vec<String>), String> {
    let mut unknown = Vec::new();
    let t: T = serde_ignored::deserialize(v.clone(), |path| {
        let mut s = String::new();
        render_path(&path, &mut s);
        unknown.push(s);
    })
    .map_err(|e| go_type_error::<T>(v, &e.to_string()))?;
    Ok((t, unknown))
}

/// Go's `UnmarshalTypeError` text for a serde type error while decoding `v` into `T`:
/// `json: cannot unmarshal string into Go struct field ServicePort.spec.ports.port of type int32`.
/// The field path comes from re-running the decode with path tracking, the containing struct's
/// name from serde's own `expected struct X` for that position.
fn go_type_error<T: DeserializeOwned>(v: &Value, serde_msg: &str) -> String {
    let tracked: Result<T, _> = serde_path_to_error::deserialize(v);
    let Err(err) = tracked else {
        return format!("json: {}", strip_serde_words(serde_msg));
    };
    let inner = err.inner().to_string();
    let segments: Vec<serde_path_to_error::Segment> = err.path().iter().cloned().collect();
    let (Some(got), Some(want)) = (json_kind_of(&inner), go_type_of::<T>(&inner, v, &segments))
    else {
        return format!("json: {}", strip_serde_words(&inner));
    };
    // The Go field path: struct field names only (array indices and map keys are not in it).
    let fields: Vec<&str> = segments
        .iter()
        .filter_map(|s| match s {
            serde_path_to_error::Segment::Map { key } => Some(key.as_str()),
            _ => None,
        })
        .collect();
    if fields.is_empty() {
        return format!("json: cannot unmarshal {got} into Go value of type {want}");
    }
    let parent = struct_name_at::<T>(v, &segments[..segments.len() - 1]).unwrap_or_default();
    format!(
        "json: cannot unmarshal {got} into Go struct field {parent}.{} of type {want}",
        fields.join(".")
    )
}

/// What `T` expects at `path`, from serde's `expected X` after putting `probe` there.
fn expected_at<T: DeserializeOwned>(
    v: &Value,
    path: &[serde_path_to_error::Segment],
    probe: Value,
) -> Option<String> {
    let mut doc = v.clone();
    let mut cur = &mut doc;
    for s in path {
        cur = match s {
            serde_path_to_error::Segment::Map { key } => cur.get_mut(key.as_str())?,
            serde_path_to_error::Segment::Seq { index } => cur.get_mut(*index)?,
            _ => return None,
        };
    }
    *cur = probe;
    let err = serde_json::from_value::<T>(doc).err()?.to_string();
    Some(err.split(", expected ").nth(1)?.trim().to_string())
}

/// The struct at `path` inside `T` (k8s-openapi's visitors expect their Go type's name).
fn struct_name_at<T: DeserializeOwned>(
    v: &Value,
    path: &[serde_path_to_error::Segment],
) -> Option<String> {
    expected_at::<T>(v, path, Value::Bool(true)).filter(|n| is_type_name(n))
}

fn is_type_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_uppercase()) && s.chars().all(|c| c.is_ascii_alphanumeric())
}

/// A k8s-openapi type name as Go prints it with its package.
fn go_named_type(name: &str) -> String {
    match name {
        "Quantity" => "resource.Quantity".into(),
        "IntOrString" => "intstr.IntOrString".into(),
        _ => format!("v1.{name}"),
    }
}

/// The JSON kind Go names in `cannot unmarshal <kind>` from serde's `invalid type: <what>`.
fn json_kind_of(serde_msg: &str) -> Option<&'static str> {
    let what = serde_msg.strip_prefix("invalid type: ")?;
    Some(if what.starts_with("string") {
        "string"
    } else if what.starts_with("integer") || what.starts_with("floating point") {
        "number"
    } else if what.starts_with("boolean") {
        "bool"
    } else if what.starts_with("sequence") {
        "array"
    } else if what.starts_with("map") {
        "object"
    } else if what.starts_with("null") {
        "null"
    } else {
        return None;
    })
}

/// The Go type of the target from serde's `expected <what>`; a slice's element type is found by
/// probing that position with `[true]`.
fn go_type_of<T: DeserializeOwned>(
    serde_msg: &str,
    v: &Value,
    path: &[serde_path_to_error::Segment],
) -> Option<String> {
    let want = serde_msg.split(", expected ").nth(1)?.trim();
    Some(match want {
        "i32" => "int32".into(),
        "i64" => "int64".into(),
        "u8" | "u16" | "u32" | "u64" => format!("uint{}", &want[1..]),
        "f64" => "float64".into(),
        "a string" | "a borrowed string" => "string".into(),
        "a boolean" => "bool".into(),
        "a map" => "map[string]string".into(),
        "a sequence" => {
            let elem = expected_at::<T>(v, path, Value::Array(vec![Value::Bool(true)]));
            match elem.as_deref() {
                Some(n) if is_type_name(n) => format!("[]{}", go_named_type(n)),
                _ => "[]string".into(),
            }
        }
        w if is_type_name(w) => go_named_type(w),
        w if w.starts_with("struct ") => go_named_type(&w["struct ".len()..]),
        _ => return None,
    })
}

/// A serde message without Rust vocabulary, for the rare errors that are not type errors.
fn strip_serde_words(msg: &str) -> String {
    msg.replace("invalid type: ", "cannot unmarshal ")
        .replace(", expected ", " into ")
}

#[cfg(test)]
mod tests;
