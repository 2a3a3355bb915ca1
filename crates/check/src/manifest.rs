//! Manifests as kubectl reads them, each object with the file and line it came from (SARIF
//! points code review at that line).
//!
//! - A stream whose first non-blank byte is `{` is JSON: one or more objects one after another
//!   (apimachinery's `NewYAMLOrJSONDecoder` sniffs the same way).
//! - Anything else is YAML, split into documents as apimachinery's `YAMLReader`
//!   (`k8s.io/apimachinery/pkg/util/yaml/decoder.go`) splits it: a line starting with `---` ends
//!   a document, and only blanks or a `#` comment may follow the three dashes on that line.
//!   Each document is decoded with the API server's own YAML decoder
//!   (`twinstack_registry::decode::parse_yaml`: go-yaml's texts, bounded alias expansion).
//! - Empty documents are skipped; a `List` (`v1/List`, `ServiceList`, ...) stands for its
//!   `items`, each at its own line.
//!
//! Errors are [`ManifestError`]s: the file, the line in that file, and go-yaml's or Go JSON's
//! text, e.g. `web.yaml:7: mapping values are not allowed in this context`.

use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::Value;

/// Where an object came from: a file (`-` is standard input) and a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Origin {
    pub file: String,
    pub line: usize,
}

/// An object read from a manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Located {
    pub origin: Origin,
    pub object: Value,
}

/// Malformed input: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct ManifestError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

/// One YAML document of a stream: its text and the line its first line has in the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document<'a> {
    pub line: usize,
    pub text: &'a str,
}

/// A line the YAML reader refuses, with its 1-based number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitError {
    pub line: usize,
    pub message: String,
}

/// Splits a YAML stream into documents as `YAMLReader.Read` does. Documents with nothing in
/// them (two separators in a row) are left out; a document of only comments is kept (it
/// decodes to nothing).
pub fn split_documents(text: &str) -> Result<Vec<Document<'_>>, SplitError> {
    let mut docs = Vec::new();
    // The current document: its first line's number and byte range.
    let mut current: Option<(usize, usize, usize)> = None;
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let number = i + 1;
        let start = offset;
        offset += line.len();
        if let Some(rest) = line.strip_prefix("---") {
            let trimmed = rest.trim();
            if !trimmed.is_empty() && !trimmed.starts_with('#') {
                return Err(SplitError {
                    line: number,
                    message: format!("invalid Yaml document separator: {trimmed}"),
                });
            }
            if let Some((first, from, to)) = current.take() {
                docs.push(Document {
                    line: first,
                    text: &text[from..to],
                });
            }
            continue;
        }
        match &mut current {
            Some((_, _, to)) => *to = offset,
            None => current = Some((number, start, offset)),
        }
    }
    if let Some((first, from, to)) = current {
        docs.push(Document {
            line: first,
            text: &text[from..to],
        });
    }
    Ok(docs)
}

/// Reads every object of one file's text (`file` names it in origins and errors).
pub fn read(file: &str, text: &str) -> Result<Vec<Located>, ManifestError> {
    let error = |line: usize, message: String| ManifestError {
        file: file.to_string(),
        line,
        message,
    };
    let mut out = Vec::new();
    if text.trim_start().starts_with('{') {
        for (line, value) in json_values(text).map_err(|(l, m)| error(l, m))? {
            push_object(&mut out, file, line, text_from_line(text, line), value)?;
        }
        return Ok(out);
    }
    let docs = split_documents(text).map_err(|e| error(e.line, e.message))?;
    for doc in docs {
        let decoded = twinstack_registry::decode::parse_yaml(doc.text.as_bytes())
            .map_err(|e| relocate(file, doc.line, &e.to_string()))?;
        if decoded.value.is_null() {
            continue;
        }
        let line = doc.line + first_content_line(doc.text);
        push_object(&mut out, file, line, doc.text, decoded.value)?;
    }
    Ok(out)
}

/// Checks that `value` (read at `line`, from `text` on) is an object with a kind, and adds it,
/// or its items when it is a `List`.
fn push_object(
    out: &mut Vec<Located>,
    file: &str,
    line: usize,
    text: &str,
    value: Value,
) -> Result<(), ManifestError> {
    let error = |message: String| ManifestError {
        file: file.to_string(),
        line,
        message,
    };
    let kind = match &value {
        Value::Object(m) => m.get("kind").and_then(Value::as_str).unwrap_or(""),
        other => {
            return Err(error(format!(
                "expected a Kubernetes object (a mapping with apiVersion and kind), found {}",
                json_type(other)
            )))
        }
    };
    if kind.is_empty() {
        // apimachinery's `NewMissingKindErr`, as kubectl prints it.
        return Err(error(format!("Object 'Kind' is missing in '{value}'")));
    }
    if value.get("apiVersion").and_then(Value::as_str).is_none() {
        return Err(error(format!(
            "Object 'apiVersion' is missing in '{value}'"
        )));
    }
    if kind.ends_with("List") {
        if let Some(Value::Array(items)) = value.get("items") {
            let lines = item_lines(text);
            for (i, item) in items.iter().enumerate() {
                // An item's line within `text`, which starts at `line` minus its own lead.
                let item_line = match lines.get(i) {
                    Some(l) if *l > 0 => line - first_content_line(text) + l - 1,
                    _ => line,
                };
                push_object(out, file, item_line, "", item.clone())?;
            }
            return Ok(());
        }
    }
    out.push(Located {
        origin: Origin {
            file: file.to_string(),
            line,
        },
        object: value,
    });
    Ok(())
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// Lines (1-based, in `text`) of a `List`'s items, from the YAML parser's spans; empty when
/// they cannot be had (the items then take the `List`'s line).
fn item_lines(text: &str) -> Vec<usize> {
    #[derive(Deserialize)]
    struct Items {
        #[serde(default)]
        items: Vec<serde_saphyr::Spanned<IgnoredAny>>,
    }
    match serde_saphyr::from_str::<Items>(text) {
        Ok(l) => l
            .items
            .iter()
            .map(|s| s.referenced.line() as usize)
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// The 0-based index of a document's first line that is neither blank nor a comment nor a
/// directive (where the object starts).
fn first_content_line(text: &str) -> usize {
    text.lines()
        .position(|l| {
            let t = l.trim();
            !t.is_empty() && !t.starts_with('#') && !t.starts_with('%')
        })
        .unwrap_or(0)
}

/// `text` from its 1-based line `line` on.
fn text_from_line(text: &str, line: usize) -> &str {
    let mut offset = 0;
    for l in text.split_inclusive('\n').take(line.saturating_sub(1)) {
        offset += l.len();
    }
    &text[offset..]
}

/// The values of a JSON stream with the line each starts on; a syntax error with its line.
fn json_values(text: &str) -> Result<Vec<(usize, Value)>, (usize, String)> {
    let mut out = Vec::new();
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    let mut end = 0;
    while let Some(next) = stream.next() {
        match next {
            Ok(v) => {
                let start = end + (text[end..].len() - text[end..].trim_start().len());
                out.push((line_of(text, start), v));
                end = stream.byte_offset();
            }
            Err(e) => {
                let message = twinstack_registry::decode::go_json_syntax_error(
                    text[end..].trim_start().as_bytes(),
                )
                .unwrap_or_else(|| e.to_string());
                return Err((e.line().max(1), message));
            }
        }
    }
    Ok(out)
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// go-yaml's `yaml: line N: what` for a document starting at line `first` of `file`, as an
/// error at the line in the file.
fn relocate(file: &str, first: usize, text: &str) -> ManifestError {
    let rest = text.strip_prefix("yaml: ").unwrap_or(text);
    let parsed = rest.strip_prefix("line ").and_then(|r| {
        let (n, what) = r.split_once(": ")?;
        Some((n.parse::<usize>().ok()?, what))
    });
    let (line, message) = match parsed {
        Some((n, what)) => (first + n.max(1) - 1, what.to_string()),
        None => (first, rest.to_string()),
    };
    ManifestError {
        file: file.to_string(),
        line,
        message,
    }
}

#[cfg(test)]
mod tests;
