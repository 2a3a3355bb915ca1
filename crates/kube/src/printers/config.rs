//! `printConfigMap` and `printSecret`.

use crate::table::{Column, AGE_DESCRIPTION};
use serde_json::{json, Value};

use super::*;

/// ConfigMap columns: NAME DATA AGE.
pub fn configmap_columns() -> Vec<Column> {
    vec![
        Column::name_column(),
        Column::new("Data", "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not overlap with the keys in the BinaryData field, this is enforced during validation process."),
        Column::new("Age", AGE_DESCRIPTION),
    ]
}

/// `printConfigMap`: DATA counts `data` and `binaryData` keys.
pub fn configmap_row(cm: &Value, _wide: bool, now: jiff::Timestamp) -> Vec<Value> {
    vec![
        json!(s(cm, "/metadata/name")),
        json!(obj_len(cm, "/data") + obj_len(cm, "/binaryData")),
        json!(creation_age(cm, now)),
    ]
}

/// Secret columns: NAME TYPE DATA AGE.
pub fn secret_columns() -> Vec<Column> {
    vec![
        Column::name_column(),
        Column::new("Type", "Used to facilitate programmatic handling of secret data. More info: https://kubernetes.io/docs/concepts/configuration/secret/#secret-types"),
        Column::new("Data", "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'. The serialized form of the secret data is a base64 encoded string, representing the arbitrary (possibly non-string) data value here. Described in https://tools.ietf.org/html/rfc4648#section-4"),
        Column::new("Age", AGE_DESCRIPTION),
    ]
}

/// `printSecret`. The type is printed as stored (defaulting makes it `Opaque`).
pub fn secret_row(secret: &Value, _wide: bool, now: jiff::Timestamp) -> Vec<Value> {
    vec![
        json!(s(secret, "/metadata/name")),
        json!(s(secret, "/type")),
        json!(obj_len(secret, "/data")),
        json!(creation_age(secret, now)),
    ]
}
