//! A minimal XML writer for the Query API answers: elements and escaped text, nothing else.

/// An XML document under construction.
#[derive(Default)]
pub(crate) struct Xml(String);

impl Xml {
    pub(crate) fn new() -> Self {
        Xml(String::with_capacity(1024))
    }

    /// `<?xml ...?>` as EC2 writes it.
    pub(crate) fn declaration(mut self) -> Self {
        self.0
            .push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        self
    }

    pub(crate) fn open(&mut self, tag: &str) -> &mut Self {
        self.0.push('<');
        self.0.push_str(tag);
        self.0.push('>');
        self
    }

    /// `<tag xmlns="ns">`.
    pub(crate) fn open_ns(&mut self, tag: &str, ns: &str) -> &mut Self {
        self.0.push('<');
        self.0.push_str(tag);
        self.0.push_str(" xmlns=\"");
        escape_into(&mut self.0, ns);
        self.0.push_str("\">");
        self
    }

    pub(crate) fn close(&mut self, tag: &str) -> &mut Self {
        self.0.push_str("</");
        self.0.push_str(tag);
        self.0.push('>');
        self
    }

    /// `<tag>text</tag>`.
    pub(crate) fn leaf(&mut self, tag: &str, text: impl std::fmt::Display) -> &mut Self {
        self.open(tag);
        escape_into(&mut self.0, &text.to_string());
        self.close(tag)
    }

    /// `<tag>text</tag>` when there is a value, nothing otherwise.
    pub(crate) fn opt<T: std::fmt::Display>(&mut self, tag: &str, text: Option<T>) -> &mut Self {
        if let Some(text) = text {
            self.leaf(tag, text);
        }
        self
    }

    /// Wraps what `body` writes in `<tag>...</tag>`.
    pub(crate) fn elem(&mut self, tag: &str, body: impl FnOnce(&mut Self)) -> &mut Self {
        self.open(tag);
        body(self);
        self.close(tag)
    }

    /// Appends XML written elsewhere.
    pub(crate) fn raw(&mut self, xml: &str) -> &mut Self {
        self.0.push_str(xml);
        self
    }

    pub(crate) fn finish(self) -> String {
        self.0
    }
}

/// XML 1.0 text and attribute escaping; characters XML 1.0 cannot carry, even escaped, become
/// U+FFFD.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_into(&mut out, text);
    out
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text_and_replaces_what_xml_cannot_carry() {
        let mut x = Xml::new();
        x.leaf("a", "<&>\"'\u{1}x\u{FFFE}\ty");
        assert_eq!(
            x.finish(),
            "<a>&lt;&amp;&gt;&quot;&apos;\u{FFFD}x\u{FFFD}\ty</a>"
        );
        assert_eq!(escape("a&b"), "a&amp;b");
    }
}
