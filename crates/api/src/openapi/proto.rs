//! The protobuf form of the OpenAPI v2 document (`application/com.github.proto-openapi.spec.v2@v1.0+protobuf`),
//! which kubectl and client-go request: gnostic's `openapi.v2.Document` message
//! (github.com/google/gnostic-models `openapiv2/OpenAPIv2.proto`), written from the JSON
//! document field by field. Vendor extensions and `default` values are `Any` messages carrying
//! YAML text (JSON is YAML), as gnostic writes them.

use serde_json::Value;

/// A protobuf message being written.
#[derive(Default)]
struct Msg(Vec<u8>);

impl Msg {
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }
    fn key(&mut self, field: u32, wire: u8) {
        self.varint(((field as u64) << 3) | wire as u64);
    }
    fn bytes(&mut self, field: u32, b: &[u8]) {
        self.key(field, 2);
        self.varint(b.len() as u64);
        self.0.extend_from_slice(b);
    }
    /// A proto3 string: the empty string is not written.
    fn str(&mut self, field: u32, s: &str) {
        if !s.is_empty() {
            self.bytes(field, s.as_bytes());
        }
    }
    fn str_of(&mut self, field: u32, v: &Value, key: &str) {
        if let Some(s) = v.get(key).and_then(Value::as_str) {
            self.str(field, s);
        }
    }
    fn strs(&mut self, field: u32, v: Option<&Value>) {
        for s in v.and_then(Value::as_array).into_iter().flatten() {
            if let Some(s) = s.as_str() {
                self.bytes(field, s.as_bytes());
            }
        }
    }
    fn bool(&mut self, field: u32, b: bool) {
        if b {
            self.key(field, 0);
            self.varint(1);
        }
    }
    fn bool_of(&mut self, field: u32, v: &Value, key: &str) {
        self.bool(field, v.get(key).and_then(Value::as_bool).unwrap_or(false));
    }
    fn int_of(&mut self, field: u32, v: &Value, key: &str) {
        if let Some(i) = v.get(key).and_then(Value::as_i64).filter(|i| *i != 0) {
            self.key(field, 0);
            self.varint(i as u64);
        }
    }
    fn double_of(&mut self, field: u32, v: &Value, key: &str) {
        if let Some(f) = v.get(key).and_then(Value::as_f64).filter(|f| *f != 0.0) {
            self.key(field, 1);
            self.0.extend_from_slice(&f.to_le_bytes());
        }
    }
    fn msg(&mut self, field: u32, m: Msg) {
        self.bytes(field, &m.0);
    }
}

/// `Any { yaml }`.
fn any(v: &Value) -> Msg {
    let mut m = Msg::default();
    m.str(2, &format!("{v}\n"));
    m
}

/// `repeated NamedAny vendor_extension` from the `x-` keys of an object.
fn vendor_extensions(m: &mut Msg, field: u32, v: &Value) {
    let Some(o) = v.as_object() else { return };
    for (k, val) in o.iter().filter(|(k, _)| k.starts_with("x-")) {
        let mut named = Msg::default();
        named.str(1, k);
        named.msg(2, any(val));
        m.msg(field, named);
    }
}

/// `openapi.v2.Document` of a Swagger 2.0 JSON document.
pub fn encode_document(doc: &Value) -> Vec<u8> {
    let mut m = Msg::default();
    m.str_of(1, doc, "swagger");
    if let Some(info) = doc.get("info") {
        let mut i = Msg::default();
        i.str_of(1, info, "title");
        i.str_of(2, info, "version");
        i.str_of(3, info, "description");
        m.msg(2, i);
    }
    m.str_of(3, doc, "host");
    m.str_of(4, doc, "basePath");
    m.strs(5, doc.get("schemes"));
    m.strs(6, doc.get("consumes"));
    m.strs(7, doc.get("produces"));
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        let mut p = Msg::default();
        for (name, item) in paths {
            let mut named = Msg::default();
            named.str(1, name);
            named.msg(2, path_item(item));
            p.msg(2, named);
        }
        m.msg(8, p);
    }
    if let Some(defs) = doc.get("definitions").and_then(Value::as_object) {
        let mut d = Msg::default();
        for (name, s) in defs {
            d.msg(1, named_schema(name, s));
        }
        m.msg(9, d);
    }
    for req in doc
        .get("security")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let mut r = Msg::default();
        for (name, scopes) in req.as_object().into_iter().flatten() {
            let mut named = Msg::default();
            named.str(1, name);
            let mut arr = Msg::default();
            arr.strs(1, Some(scopes));
            named.msg(2, arr);
            r.msg(1, named);
        }
        m.msg(12, r);
    }
    if let Some(defs) = doc.get("securityDefinitions").and_then(Value::as_object) {
        let mut sd = Msg::default();
        for (name, def) in defs {
            let mut api_key = Msg::default();
            api_key.str_of(1, def, "type");
            api_key.str_of(2, def, "name");
            api_key.str_of(3, def, "in");
            api_key.str_of(4, def, "description");
            let mut item = Msg::default();
            item.msg(2, api_key);
            let mut named = Msg::default();
            named.str(1, name);
            named.msg(2, item);
            sd.msg(1, named);
        }
        m.msg(13, sd);
    }
    vendor_extensions(&mut m, 16, doc);
    m.0
}

fn path_item(item: &Value) -> Msg {
    let mut m = Msg::default();
    m.str_of(1, item, "$ref");
    for (field, method) in [
        (2, "get"),
        (3, "put"),
        (4, "post"),
        (5, "delete"),
        (6, "options"),
        (7, "head"),
        (8, "patch"),
    ] {
        if let Some(op) = item.get(method) {
            m.msg(field, operation(op));
        }
    }
    for p in item
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        m.msg(9, parameters_item(p));
    }
    vendor_extensions(&mut m, 10, item);
    m
}

fn operation(op: &Value) -> Msg {
    let mut m = Msg::default();
    m.strs(1, op.get("tags"));
    m.str_of(2, op, "summary");
    m.str_of(3, op, "description");
    m.str_of(5, op, "operationId");
    m.strs(6, op.get("produces"));
    m.strs(7, op.get("consumes"));
    for p in op
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        m.msg(8, parameters_item(p));
    }
    if let Some(rs) = op.get("responses").and_then(Value::as_object) {
        let mut responses = Msg::default();
        for (code, r) in rs {
            let mut resp = Msg::default();
            resp.str_of(1, r, "description");
            if let Some(s) = r.get("schema") {
                let mut item = Msg::default();
                item.msg(1, schema(s));
                resp.msg(2, item);
            }
            let mut value = Msg::default();
            value.msg(1, resp);
            let mut named = Msg::default();
            named.str(1, code);
            named.msg(2, value);
            responses.msg(1, named);
        }
        m.msg(9, responses);
    }
    m.strs(10, op.get("schemes"));
    m.bool_of(11, op, "deprecated");
    vendor_extensions(&mut m, 13, op);
    m
}

/// `ParametersItem { parameter: Parameter { body_parameter | non_body_parameter } }`.
fn parameters_item(p: &Value) -> Msg {
    let mut param = Msg::default();
    match p.get("in").and_then(Value::as_str) {
        Some("body") => {
            let mut b = Msg::default();
            b.str_of(1, p, "description");
            b.str_of(2, p, "name");
            b.str_of(3, p, "in");
            b.bool_of(4, p, "required");
            if let Some(s) = p.get("schema") {
                b.msg(5, schema(s));
            }
            vendor_extensions(&mut b, 6, p);
            param.msg(1, b);
        }
        loc => {
            // Query (3) and path (4) sub-schemas share their first fields; from `type` on the
            // path message's numbers are one lower (it has no allowEmptyValue).
            let (which, off) = if loc == Some("path") { (4, 1) } else { (3, 0) };
            let mut s = Msg::default();
            s.bool_of(1, p, "required");
            s.str_of(2, p, "in");
            s.str_of(3, p, "description");
            s.str_of(4, p, "name");
            if which == 3 {
                s.bool_of(5, p, "allowEmptyValue");
            }
            s.str_of(6 - off, p, "type");
            s.str_of(7 - off, p, "format");
            s.bool_of(20 - off, p, "uniqueItems");
            vendor_extensions(&mut s, 23 - off, p);
            let mut nb = Msg::default();
            nb.msg(which, s);
            param.msg(2, nb);
        }
    }
    let mut item = Msg::default();
    item.msg(1, param);
    item
}

fn named_schema(name: &str, s: &Value) -> Msg {
    let mut m = Msg::default();
    m.str(1, name);
    m.msg(2, schema(s));
    m
}

/// `openapi.v2.Schema`.
fn schema(s: &Value) -> Msg {
    let mut m = Msg::default();
    m.str_of(1, s, "$ref");
    m.str_of(2, s, "format");
    m.str_of(3, s, "title");
    m.str_of(4, s, "description");
    if let Some(d) = s.get("default") {
        m.msg(5, any(d));
    }
    m.double_of(6, s, "multipleOf");
    m.double_of(7, s, "maximum");
    m.bool_of(8, s, "exclusiveMaximum");
    m.double_of(9, s, "minimum");
    m.bool_of(10, s, "exclusiveMinimum");
    m.int_of(11, s, "maxLength");
    m.int_of(12, s, "minLength");
    m.str_of(13, s, "pattern");
    m.int_of(14, s, "maxItems");
    m.int_of(15, s, "minItems");
    m.bool_of(16, s, "uniqueItems");
    m.int_of(17, s, "maxProperties");
    m.int_of(18, s, "minProperties");
    m.strs(19, s.get("required"));
    for e in s
        .get("enum")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        m.msg(20, any(e));
    }
    match s.get("additionalProperties") {
        Some(Value::Bool(b)) => {
            let mut a = Msg::default();
            a.key(2, 0);
            a.varint(u64::from(*b));
            m.msg(21, a);
        }
        Some(sub @ Value::Object(_)) => {
            let mut a = Msg::default();
            a.msg(1, schema(sub));
            m.msg(21, a);
        }
        _ => {}
    }
    match s.get("type") {
        Some(Value::String(t)) => {
            let mut ty = Msg::default();
            ty.str(1, t);
            m.msg(22, ty);
        }
        Some(ts @ Value::Array(_)) => {
            let mut ty = Msg::default();
            ty.strs(1, Some(ts));
            m.msg(22, ty);
        }
        _ => {}
    }
    if let Some(items) = s.get("items") {
        let mut it = Msg::default();
        match items {
            Value::Array(a) => a.iter().for_each(|i| it.msg(1, schema(i))),
            one => it.msg(1, schema(one)),
        }
        m.msg(23, it);
    }
    for a in s
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        m.msg(24, schema(a));
    }
    if let Some(props) = s.get("properties").and_then(Value::as_object) {
        let mut p = Msg::default();
        for (name, sub) in props {
            p.msg(1, named_schema(name, sub));
        }
        m.msg(25, p);
    }
    m.str_of(26, s, "discriminator");
    m.bool_of(27, s, "readOnly");
    if let Some(e) = s.get("example") {
        m.msg(30, any(e));
    }
    vendor_extensions(&mut m, 31, s);
    m
}
