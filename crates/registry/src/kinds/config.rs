//! ConfigMaps and Secrets (core/v1): stored as given, with upstream's key validation, Secret
//! `stringData` folded into `data` and the default type `Opaque`.

use super::{Kind, ResourceInfo, Strategy, ALL_VERBS};
use crate::decode;
use crate::runtimes::Runtime;
use base64::Engine;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use serde_json::{json, Value};
use twinstack_core::field::{BadValue, ErrorList, FieldError, Path};
use twinstack_core::status::Status;
use twinstack_kube::table::{self, Column};

pub static CONFIGMAP: ResourceInfo = ResourceInfo {
    group: "",
    version: "v1",
    plural: "configmaps",
    singular: "configmap",
    kind: "ConfigMap",
    namespaced: true,
    short_names: &["cm"],
    categories: &[],
    verbs: ALL_VERBS,
    storage: "configmaps",
    scale: false,
};

pub static SECRET: ResourceInfo = ResourceInfo {
    group: "",
    version: "v1",
    plural: "secrets",
    singular: "secret",
    kind: "Secret",
    namespaced: true,
    short_names: &[],
    categories: &[],
    verbs: ALL_VERBS,
    storage: "secrets",
    scale: false,
};

/// `validation.IsConfigMapKey`.
pub fn config_key_errors(key: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if key.len() > 253 {
        errs.push("must be no more than 253 characters".to_string());
    }
    let ok = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if !ok {
        errs.push("a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')".to_string());
    }
    if key == "." {
        errs.push("must not be '.'".into());
    } else if key == ".." {
        errs.push("must not be '..'".into());
    } else if key.starts_with("..") {
        errs.push("must not start with '..'".into());
    }
    errs
}

fn validate_keys(obj: &Value, fields: &[&str]) -> ErrorList {
    let mut errs = ErrorList::new();
    for f in fields {
        if let Some(m) = obj.get(*f).and_then(Value::as_object) {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            for k in keys {
                for msg in config_key_errors(k) {
                    errs.push(FieldError::invalid(
                        &Path::new(f).key(k),
                        BadValue::str(k.as_str()),
                        msg,
                    ));
                }
            }
        }
    }
    if let (Some(d), Some(b)) = (
        obj.get("data").and_then(Value::as_object),
        obj.get("binaryData").and_then(Value::as_object),
    ) {
        let mut keys: Vec<&String> = b.keys().filter(|k| d.contains_key(*k)).collect();
        keys.sort();
        for k in keys {
            errs.push(FieldError::invalid(
                &Path::new("binaryData").key(k),
                BadValue::str(k.as_str()),
                "duplicate key in both data and binaryData",
            ));
        }
    }
    errs
}

/// `core.MaxSecretSize`: a ConfigMap's or Secret's data may total at most 1 MiB.
pub const MAX_SECRET_SIZE: usize = 1024 * 1024;

/// `ValidateConfigMap`/`ValidateSecret`'s size check: the bytes of `plain` fields' values plus
/// the decoded bytes of `base64` fields' values over [`MAX_SECRET_SIZE`] is `field.TooLong` on
/// `path` (ConfigMap: `field.NewPath("")`, which Go renders `[]`; Secret: `data`).
fn size_errors(obj: &Value, plain: &[&str], base64: &[&str], path: &str) -> ErrorList {
    let plain_len: usize = plain
        .iter()
        .filter_map(|f| obj.get(*f).and_then(Value::as_object))
        .flat_map(|m| m.values().filter_map(Value::as_str))
        .map(str::len)
        .sum();
    if plain_len + obj_base64_len(obj, base64) > MAX_SECRET_SIZE {
        vec![FieldError::too_long(&Path::new(path), MAX_SECRET_SIZE)]
    } else {
        vec![]
    }
}

/// Decoded length of the base64 values of `fields`.
fn obj_base64_len(obj: &Value, fields: &[&str]) -> usize {
    fields
        .iter()
        .filter_map(|f| obj.get(*f).and_then(Value::as_object))
        .flat_map(|m| m.values().filter_map(Value::as_str))
        .map(|s| {
            let pad = s.bytes().rev().take_while(|b| *b == b'=').count();
            (s.len() / 4 * 3).saturating_sub(pad)
        })
        .sum()
}

fn immutable_errors(new: &Value, old: &Value, fields: &[&str]) -> ErrorList {
    let mut errs = ErrorList::new();
    if old.get("immutable") == Some(&Value::Bool(true)) {
        if new.get("immutable") != Some(&Value::Bool(true)) {
            errs.push(FieldError::forbidden(
                &Path::new("immutable"),
                "field is immutable when `immutable` is set",
            ));
        }
        for f in fields {
            if new.get(*f) != old.get(*f) {
                errs.push(FieldError::forbidden(
                    &Path::new(f),
                    "field is immutable when `immutable` is set",
                ));
            }
        }
    }
    errs
}

fn data_count(obj: &Value) -> usize {
    ["data", "binaryData"]
        .iter()
        .filter_map(|f| obj.get(*f).and_then(Value::as_object))
        .map(|m| m.len())
        .sum()
}

pub struct ConfigMapKind;

/// Pass-through: only validation.
impl Strategy for ConfigMapKind {
    fn validate(&self, _rt: &Runtime, obj: &Value) -> Result<ErrorList, Status> {
        let mut errs = validate_keys(obj, &["data", "binaryData"]);
        errs.extend(size_errors(obj, &["data"], &["binaryData"], "[]"));
        Ok(errs)
    }
    fn validate_update(&self, rt: &Runtime, new: &Value, old: &Value) -> Result<ErrorList, Status> {
        let mut errs = immutable_errors(new, old, &["data", "binaryData"]);
        errs.extend(self.validate(rt, new)?);
        Ok(errs)
    }
}

impl Kind for ConfigMapKind {
    fn info(&self) -> &'static ResourceInfo {
        &CONFIGMAP
    }
    fn decode(&self, v: &Value) -> Result<(Value, Vec<String>), String> {
        let (cm, unknown): (ConfigMap, _) = decode::typed(v)?;
        Ok((
            serde_json::to_value(cm).map_err(|e| e.to_string())?,
            unknown,
        ))
    }
    fn columns(&self) -> Vec<Column> {
        vec![
            Column::name_column(),
            Column::new("Data", "Data contains the configuration data."),
            Column::new("Age", table::AGE_DESCRIPTION),
        ]
    }
    fn row(&self, obj: &Value, _wide: bool, now: jiff::Timestamp) -> Vec<Value> {
        vec![
            json!(obj
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("")),
            json!(data_count(obj)),
            json!(table::age(
                obj.pointer("/metadata/creationTimestamp")
                    .and_then(Value::as_str),
                now
            )),
        ]
    }
}

pub struct SecretKind;

/// Folds `stringData` into `data` (base64), as the API's conversion does, and defaults the type.
fn normalize_secret(obj: &mut Value) {
    if let Some(sd) = obj.as_object_mut().and_then(|o| o.remove("stringData")) {
        if let Some(sd) = sd.as_object() {
            let data = obj
                .as_object_mut()
                .unwrap()
                .entry("data")
                .or_insert_with(|| json!({}));
            if let Some(d) = data.as_object_mut() {
                for (k, v) in sd {
                    let enc = base64::engine::general_purpose::STANDARD
                        .encode(v.as_str().unwrap_or("").as_bytes());
                    d.insert(k.clone(), Value::String(enc));
                }
            }
        }
    }
    if obj
        .get("type")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        obj["type"] = json!("Opaque");
    }
}

/// Pass-through: only validation.
impl Strategy for SecretKind {
    fn validate(&self, _rt: &Runtime, obj: &Value) -> Result<ErrorList, Status> {
        let mut errs = validate_keys(obj, &["data"]);
        errs.extend(size_errors(obj, &[], &["data"], "data"));
        Ok(errs)
    }
    fn validate_update(&self, rt: &Runtime, new: &Value, old: &Value) -> Result<ErrorList, Status> {
        let mut errs = ErrorList::new();
        if new.get("type") != old.get("type") {
            errs.push(FieldError::invalid(
                &Path::new("type"),
                BadValue::str(new.get("type").and_then(Value::as_str).unwrap_or("")),
                "field is immutable",
            ));
        }
        errs.extend(immutable_errors(new, old, &["data"]));
        errs.extend(self.validate(rt, new)?);
        Ok(errs)
    }
}

impl Kind for SecretKind {
    fn info(&self) -> &'static ResourceInfo {
        &SECRET
    }
    fn decode(&self, v: &Value) -> Result<(Value, Vec<String>), String> {
        let (s, unknown): (Secret, _) = decode::typed(v)?;
        let mut out = serde_json::to_value(s).map_err(|e| e.to_string())?;
        normalize_secret(&mut out);
        Ok((out, unknown))
    }
    fn columns(&self) -> Vec<Column> {
        vec![
            Column::name_column(),
            Column::new("Type", "The type of the secret"),
            Column::new("Data", "The number of entries in the data"),
            Column::new("Age", table::AGE_DESCRIPTION),
        ]
    }
    fn row(&self, obj: &Value, _wide: bool, now: jiff::Timestamp) -> Vec<Value> {
        vec![
            json!(obj
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("")),
            json!(obj.get("type").and_then(Value::as_str).unwrap_or("")),
            json!(data_count(obj)),
            json!(table::age(
                obj.pointer("/metadata/creationTimestamp")
                    .and_then(Value::as_str),
                now
            )),
        ]
    }
    fn field(&self, obj: &Value, name: &str) -> Option<String> {
        match name {
            "type" => Some(
                obj.get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            ),
            _ => super::generic_field(obj, name, true),
        }
    }
}
