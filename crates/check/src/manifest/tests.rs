//! The manifest reader: table tests of what kubectl accepts and refuses, and properties of the
//! splitter (every document comes back with the line it starts on).

use super::*;
use proptest::prelude::*;

fn names(objs: &[Located]) -> Vec<(String, usize)> {
    objs.iter()
        .map(|o| {
            (
                o.object["metadata"]["name"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                o.origin.line,
            )
        })
        .collect()
}

fn named(pairs: &[(&str, usize)]) -> Vec<(String, usize)> {
    pairs.iter().map(|(n, l)| (n.to_string(), *l)).collect()
}

#[test]
fn documents_with_their_lines() {
    type Case<'a> = (&'a str, &'a str, &'a [(&'a str, usize)]);
    let cases: &[Case] = &[
        (
            "one object",
            "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n",
            &[("a", 1)],
        ),
        (
            "leading separator and comments",
            "---\n# a comment\n\napiVersion: v1\nkind: Service\nmetadata: {name: a}\n",
            &[("a", 4)],
        ),
        (
            "two documents, a separator with a comment",
            "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n--- # next\napiVersion: v1\nkind: Service\nmetadata: {name: b}\n",
            &[("a", 1), ("b", 5)],
        ),
        (
            "empty documents are skipped",
            "---\n---\n\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\n",
            &[("shop", 5)],
        ),
        (
            "CRLF line ends",
            "apiVersion: v1\r\nkind: Service\r\nmetadata: {name: a}\r\n---\r\napiVersion: v1\r\nkind: Service\r\nmetadata: {name: b}\r\n",
            &[("a", 1), ("b", 5)],
        ),
        (
            "a List stands for its items, each at its line",
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: a}\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: b}\n",
            &[("a", 4), ("b", 7)],
        ),
        (
            "a JSON stream",
            "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"a\"}}\n\n{\"apiVersion\":\"v1\",\"kind\":\"Service\",\n \"metadata\":{\"name\":\"b\"}}\n",
            &[("a", 1), ("b", 3)],
        ),
        (
            "a JSON List",
            "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[\n{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"a\"}},\n{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"b\"}}]}\n",
            &[("a", 2), ("b", 3)],
        ),
    ];
    for (name, text, want) in cases {
        let got = read("m.yaml", text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(names(&got), named(want), "{name}");
        assert!(got.iter().all(|o| o.origin.file == "m.yaml"), "{name}");
    }
}

#[test]
fn malformed_input_is_refused_with_file_and_line() {
    let cases: &[(&str, &str, usize, &str)] = &[
        (
            "a mapping value where none may be",
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  labels: x: y\n",
            5,
            "mapping values are not allowed",
        ),
        (
            "in the second document",
            "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\napiVersion: v1\nkind: [\n",
            6,
            "",
        ),
        (
            "text after the separator",
            "apiVersion: v1\nkind: Service\n--- kind: x\n",
            3,
            "invalid Yaml document separator: kind: x",
        ),
        (
            "no kind",
            "apiVersion: v1\nmetadata: {name: a}\n",
            1,
            "Object 'Kind' is missing in",
        ),
        ("not a mapping", "---\n- a\n- b\n", 2, "found a list"),
        (
            "broken JSON",
            "{\"apiVersion\": \"v1\",\n \"kind\": }\n",
            2,
            "invalid character '}' looking for beginning of value",
        ),
    ];
    for (name, text, line, contains) in cases {
        let err = read("bad.yaml", text).expect_err(name);
        assert_eq!(
            (err.file.as_str(), err.line),
            ("bad.yaml", *line),
            "{name}: {err}"
        );
        assert!(err.message.contains(contains), "{name}: {err}");
        assert!(
            err.to_string().starts_with(&format!("bad.yaml:{line}: ")),
            "{name}"
        );
    }
}

/// A line of a generated document: anything but a separator (`---` at the start).
fn doc_line() -> impl Strategy<Value = String> {
    "[a-z #:\\-]{0,12}".prop_filter("not a separator", |l| !l.starts_with("---"))
}

proptest! {
    /// Every document comes back whole, in order, with the line it starts on; nothing but the
    /// separators is lost.
    #[test]
    fn split_keeps_every_document_at_its_line(
        docs in prop::collection::vec(prop::collection::vec(doc_line(), 1..5), 0..6),
        comment in prop::bool::ANY,
    ) {
        let sep = if comment { "--- # c\n" } else { "---\n" };
        let mut text = String::new();
        let mut want = Vec::new();
        for d in &docs {
            text.push_str(sep);
            let first = text.lines().count() + 1;
            let body: String = d.iter().map(|l| format!("{l}\n")).collect();
            want.push((first, body.clone()));
            text.push_str(&body);
        }
        let got = split_documents(&text).unwrap();
        let got: Vec<(usize, String)> = got.iter().map(|d| (d.line, d.text.to_string())).collect();
        prop_assert_eq!(&got, &want);
        let lines: Vec<&str> = text.lines().collect();
        for (line, body) in &got {
            prop_assert_eq!(lines[line - 1], body.lines().next().unwrap());
        }
    }

    /// Whatever the bytes, reading answers objects or an error inside the file, never a panic.
    #[test]
    fn read_never_panics_and_errors_point_into_the_file(text in "(?s).{0,200}") {
        // YAML breaks lines at \n, \r\n and a lone \r.
        let lines = text.replace("\r\n", "\n").matches(['\n', '\r']).count() + 1;
        match read("f.yaml", &text) {
            Ok(objs) => for o in objs {
                prop_assert!(o.origin.line >= 1);
                prop_assert!(o.origin.line <= lines);
            },
            Err(e) => {
                prop_assert!(e.line >= 1);
                prop_assert!(e.line <= lines, "{}", e);
            }
        }
    }
}
