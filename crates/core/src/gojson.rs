//! Go `encoding/json` syntax errors: what `json.Unmarshal` says about malformed input
//! (`unexpected end of JSON input`, `invalid character 'x' after object key`, ...). kube-apiserver
//! passes these texts to clients, so twinstack computes them the same way: a byte-at-a-time
//! scanner with the states of Go's `encoding/json/scanner.go`.

/// The `SyntaxError` text Go's `encoding/json` gives for `bytes`, or `None` when they are one
/// valid JSON value. Follows the states of Go's `scanner.go`, including its nesting limit of
/// 10000.
pub fn go_json_syntax_error(bytes: &[u8]) -> Option<String> {
    let mut s = GoScanner::default();
    for &c in bytes {
        if let Err(e) = s.step(c) {
            return Some(e);
        }
    }
    s.eof().err()
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Scan {
    BeginValue,
    BeginValueOrEmpty,
    BeginStringOrEmpty,
    BeginString,
    EndValue,
    EndTop,
    InString,
    InStringEsc,
    InStringEscU(u8),
    Neg,
    One,
    Zero,
    Dot,
    Dot0,
    E,
    ESign,
    E0,
    Literal(&'static [u8], usize),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Parse {
    ObjectKey,
    ObjectValue,
    ArrayValue,
}

struct GoScanner {
    state: Scan,
    stack: Vec<Parse>,
}

impl Default for GoScanner {
    fn default() -> Self {
        GoScanner {
            state: Scan::BeginValue,
            stack: Vec::new(),
        }
    }
}

/// Go's `quoteChar`: the byte as a single-quoted Go literal.
fn quote_char(c: u8) -> String {
    match c {
        b'\'' => "'\\''".into(),
        b'"' => "'\"'".into(),
        _ => {
            let q = crate::field::go_quote(&char::from(c).to_string());
            format!("'{}'", &q[1..q.len() - 1])
        }
    }
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

const MAX_NESTING_DEPTH: usize = 10_000;

impl GoScanner {
    fn error(c: u8, context: &str) -> Result<(), String> {
        Err(format!("invalid character {} {context}", quote_char(c)))
    }

    fn push(&mut self, c: u8, p: Parse) -> Result<(), String> {
        self.stack.push(p);
        if self.stack.len() > MAX_NESTING_DEPTH {
            return Self::error(c, "exceeded max depth");
        }
        Ok(())
    }

    fn step(&mut self, c: u8) -> Result<(), String> {
        match self.state {
            Scan::BeginValueOrEmpty => {
                if is_space(c) {
                    return Ok(());
                }
                if c == b']' {
                    return self.end_value(c);
                }
                self.begin_value(c)
            }
            Scan::BeginValue => self.begin_value(c),
            Scan::BeginStringOrEmpty => {
                if is_space(c) {
                    return Ok(());
                }
                if c == b'}' {
                    if let Some(last) = self.stack.last_mut() {
                        *last = Parse::ObjectValue;
                    }
                    return self.end_value(c);
                }
                self.begin_string(c)
            }
            Scan::BeginString => self.begin_string(c),
            Scan::EndValue => self.end_value(c),
            Scan::EndTop => {
                if !is_space(c) {
                    return Self::error(c, "after top-level value");
                }
                Ok(())
            }
            Scan::InString => {
                match c {
                    b'"' => self.state = Scan::EndValue,
                    b'\\' => self.state = Scan::InStringEsc,
                    c if c < 0x20 => return Self::error(c, "in string literal"),
                    _ => {}
                }
                Ok(())
            }
            Scan::InStringEsc => match c {
                b'b' | b'f' | b'n' | b'r' | b't' | b'\\' | b'/' | b'"' => {
                    self.state = Scan::InString;
                    Ok(())
                }
                b'u' => {
                    self.state = Scan::InStringEscU(0);
                    Ok(())
                }
                _ => Self::error(c, "in string escape code"),
            },
            Scan::InStringEscU(n) => {
                if !c.is_ascii_hexdigit() {
                    return Self::error(c, "in \\u hexadecimal character escape");
                }
                self.state = if n == 3 {
                    Scan::InString
                } else {
                    Scan::InStringEscU(n + 1)
                };
                Ok(())
            }
            Scan::Neg => match c {
                b'0' => {
                    self.state = Scan::Zero;
                    Ok(())
                }
                b'1'..=b'9' => {
                    self.state = Scan::One;
                    Ok(())
                }
                _ => Self::error(c, "in numeric literal"),
            },
            Scan::One => {
                if c.is_ascii_digit() {
                    return Ok(());
                }
                self.zero(c)
            }
            Scan::Zero => self.zero(c),
            Scan::Dot => {
                if c.is_ascii_digit() {
                    self.state = Scan::Dot0;
                    return Ok(());
                }
                Self::error(c, "after decimal point in numeric literal")
            }
            Scan::Dot0 => {
                if c.is_ascii_digit() {
                    return Ok(());
                }
                if c == b'e' || c == b'E' {
                    self.state = Scan::E;
                    return Ok(());
                }
                self.end_value(c)
            }
            Scan::E => {
                if c == b'+' || c == b'-' {
                    self.state = Scan::ESign;
                    return Ok(());
                }
                self.e_sign(c)
            }
            Scan::ESign => self.e_sign(c),
            Scan::E0 => {
                if c.is_ascii_digit() {
                    return Ok(());
                }
                self.end_value(c)
            }
            Scan::Literal(word, i) => {
                if c != word[i] {
                    let name = std::str::from_utf8(word).unwrap_or("");
                    return Self::error(
                        c,
                        &format!("in literal {name} (expecting {})", quote_char(word[i])),
                    );
                }
                self.state = if i + 1 == word.len() {
                    Scan::EndValue
                } else {
                    Scan::Literal(word, i + 1)
                };
                Ok(())
            }
        }
    }

    fn begin_value(&mut self, c: u8) -> Result<(), String> {
        if is_space(c) {
            return Ok(());
        }
        self.state = match c {
            b'{' => {
                self.push(c, Parse::ObjectKey)?;
                Scan::BeginStringOrEmpty
            }
            b'[' => {
                self.push(c, Parse::ArrayValue)?;
                Scan::BeginValueOrEmpty
            }
            b'"' => Scan::InString,
            b'-' => Scan::Neg,
            b'0' => Scan::Zero,
            b'1'..=b'9' => Scan::One,
            b't' => Scan::Literal(b"true", 1),
            b'f' => Scan::Literal(b"false", 1),
            b'n' => Scan::Literal(b"null", 1),
            _ => return Self::error(c, "looking for beginning of value"),
        };
        Ok(())
    }

    fn begin_string(&mut self, c: u8) -> Result<(), String> {
        if is_space(c) {
            return Ok(());
        }
        if c == b'"' {
            self.state = Scan::InString;
            return Ok(());
        }
        Self::error(c, "looking for beginning of object key string")
    }

    fn zero(&mut self, c: u8) -> Result<(), String> {
        match c {
            b'.' => {
                self.state = Scan::Dot;
                Ok(())
            }
            b'e' | b'E' => {
                self.state = Scan::E;
                Ok(())
            }
            _ => self.end_value(c),
        }
    }

    fn e_sign(&mut self, c: u8) -> Result<(), String> {
        if c.is_ascii_digit() {
            self.state = Scan::E0;
            return Ok(());
        }
        Self::error(c, "in exponent of numeric literal")
    }

    fn end_value(&mut self, c: u8) -> Result<(), String> {
        let Some(&top) = self.stack.last() else {
            self.state = Scan::EndTop;
            return self.step(c);
        };
        if is_space(c) {
            self.state = Scan::EndValue;
            return Ok(());
        }
        match top {
            Parse::ObjectKey => {
                if c == b':' {
                    *self.stack.last_mut().expect("non-empty") = Parse::ObjectValue;
                    self.state = Scan::BeginValue;
                    return Ok(());
                }
                Self::error(c, "after object key")
            }
            Parse::ObjectValue => match c {
                b',' => {
                    *self.stack.last_mut().expect("non-empty") = Parse::ObjectKey;
                    self.state = Scan::BeginString;
                    Ok(())
                }
                b'}' => {
                    self.stack.pop();
                    self.after_pop();
                    Ok(())
                }
                _ => Self::error(c, "after object key:value pair"),
            },
            Parse::ArrayValue => match c {
                b',' => {
                    self.state = Scan::BeginValue;
                    Ok(())
                }
                b']' => {
                    self.stack.pop();
                    self.after_pop();
                    Ok(())
                }
                _ => Self::error(c, "after array element"),
            },
        }
    }

    fn after_pop(&mut self) {
        self.state = if self.stack.is_empty() {
            Scan::EndTop
        } else {
            Scan::EndValue
        };
    }

    fn eof(&mut self) -> Result<(), String> {
        if self.state == Scan::EndTop {
            return Ok(());
        }
        if self.step(b' ').is_ok() && self.state == Scan::EndTop {
            return Ok(());
        }
        Err("unexpected end of JSON input".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Go's texts, as `json.Unmarshal` gives them.
    #[test]
    fn go_texts() {
        for (input, want) in [
            (&b""[..], "unexpected end of JSON input"),
            (b"{\"a\" 1}", "invalid character '1' after object key"),
            (b"[1 2]", "invalid character '2' after array element"),
            (b"x", "invalid character 'x' looking for beginning of value"),
            (b"\"\\q\"", "invalid character 'q' in string escape code"),
            (b"fals", "unexpected end of JSON input"),
            (
                b"fa1se",
                "invalid character '1' in literal false (expecting 'l')",
            ),
            (
                b"\xff",
                "invalid character 'ÿ' looking for beginning of value",
            ),
        ] {
            assert_eq!(go_json_syntax_error(input).as_deref(), Some(want));
        }
        assert_eq!(go_json_syntax_error(b" {\"a\":[1,{}]} "), None);
    }
}
