//! The JSON tree a plan file is read into before it is checked field by field.
//!
//! `serde_json::Value` would lose what a strict reader needs: it keeps only
//! the last of two equal keys (a duplicate must be reported, not silently
//! resolved) and turns numbers into `f64` (`0.1` must stay exactly `0.1`).
//! [`Node`] keeps every object entry in order, duplicates included, and every
//! number as the exact text written in the file.
//!
//! The JSON syntax is serde_json's alone: a visitor builds the tree, so
//! serde_json decides what is JSON, keeps deep nesting from overflowing the
//! stack (128 levels), and words every syntax error with its line and
//! column. serde_json hands a visitor numbers as `u64`, `i64` or `f64`; the
//! exact text of each is taken from the file as it is visited (numbers come
//! in file order, and in JSON a number is the only token that starts with a
//! `-` or a digit outside a string). serde_json lends keys and strings
//! without escapes straight from the file, so where each ends tells the
//! search for the next number where to resume: the file is not scanned a
//! second time.

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

/// A JSON value with object entries in file order and numbers as written.
///
/// It borrows its text from the file's (`'t`): keys, numbers and strings
/// without escapes are not copied. The tree lives only while the plan is
/// read; the [`crate::plan::Plan`] read from it owns its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node<'t> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as its literal text (`2.50`, `3e0`), so it can be read exactly.
    Number(&'t str),
    /// A string, unescaped (copied only when it had escapes).
    String(Cow<'t, str>),
    /// A list of values.
    Array(Vec<Node<'t>>),
    /// Every entry in file order, duplicate keys included, so that a
    /// duplicate can be reported with its JSON Pointer.
    Object(Vec<(Key<'t>, Node<'t>)>),
}

/// An object's key, as the file writes it.
pub type Key<'t> = Cow<'t, str>;

/// Longest stretch of a string quoted in a message before it is cut short.
const QUOTE_LIMIT: usize = 60;

impl Node<'_> {
    /// What this value is, for messages: `a string "2.5"`, `a number 3`, `null`.
    pub fn describe(&self) -> String {
        match self {
            Node::Null => "null".to_string(),
            Node::Bool(b) => format!("{b}"),
            Node::Number(literal) => format!("a number {}", clip(literal)),
            Node::String(text) => format!("a string {}", quote(text)),
            Node::Array(_) => "a list".to_string(),
            Node::Object(_) => "an object".to_string(),
        }
    }
}

/// `text` in double quotes, cut short (on a character boundary) when long.
pub fn quote(text: &str) -> String {
    format!("{:?}", cut(text))
}

/// Text from the file, made safe to show inside a message: cut short when
/// long, control characters (a raw line break in a key) written as escapes.
pub fn clip(text: &str) -> String {
    let mut shown = String::with_capacity(text.len().min(4 * QUOTE_LIMIT));
    for c in cut(text).chars() {
        if c.is_control() {
            shown.extend(c.escape_debug());
        } else {
            shown.push(c);
        }
    }
    shown
}

fn cut(text: &str) -> String {
    let mut cut: String = text.chars().take(QUOTE_LIMIT).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    cut
}

/// Reads a whole file into a [`Node`]; the error is a message for a
/// clinician about the file as a whole. Never panics, whatever the bytes.
///
/// # Errors
/// Text that is not UTF-8, an empty file, and anything serde_json does not
/// accept as one JSON value, with line and column:
///
/// ```
/// use embolint::plan::json::{read, Node};
///
/// let node = read(br#"{"dose": 2.50, "dose": 3}"#).unwrap();
/// let Node::Object(entries) = node else { panic!("an object") };
/// assert_eq!(entries[0], ("dose".into(), Node::Number("2.50")));
/// assert_eq!(entries.len(), 2, "the duplicate is kept, to be reported");
///
/// let error = read(b"{\"dose\": 2,}").unwrap_err();
/// assert_eq!(
///     error,
///     "the file is not valid JSON: there is a comma before a closing bracket; remove it \
///      at line 1, column 12"
/// );
/// ```
pub fn read(bytes: &[u8]) -> Result<Node<'_>, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        format!(
            "the file is not UTF-8 text: invalid byte at offset {}; save it as UTF-8",
            e.valid_up_to()
        )
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim_matches([' ', '\t', '\n', '\r']).is_empty() {
        return Err("the file is empty; a plan is one JSON object, {\"format\": ...}".into());
    }
    let mut literals = NumberLiterals { text, at: 0 };
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let node = NodeSeed { literals: &mut literals }
        .deserialize(&mut deserializer)
        .and_then(|node| deserializer.end().map(|()| node));
    match node {
        Ok(node) if literals.next().is_none() => Ok(node),
        Ok(_) => Err(MISMATCH.into()),
        Err(error) if error.to_string().starts_with(MISMATCH) => Err(MISMATCH.into()),
        Err(error) => Err(syntax_message(text, &error)),
    }
}

/// What is said if a number's text could not be found: a bug in embolint,
/// never a reason to pass the plan.
const MISMATCH: &str = "embolint could not read the numbers of this file exactly; please \
                        report this file to the embolint maintainers";

/// The text of each number literal of `text`, in file order: runs of
/// `-+.eE0-9` that start outside a string with `-` or a digit.
struct NumberLiterals<'t> {
    text: &'t str,
    /// Where the scan goes on.
    at: usize,
}

impl<'t> NumberLiterals<'t> {
    /// Notes that serde_json lent `string`, a key or string of the file
    /// (without its quotes): no number starts before its closing quote.
    fn passed(&mut self, string: &'t str) {
        let start = (string.as_ptr() as usize).wrapping_sub(self.text.as_ptr() as usize);
        if start <= self.text.len() {
            self.at = self.at.max(start + string.len() + 1);
        }
    }
}

impl<'t> Iterator for NumberLiterals<'t> {
    type Item = &'t str;

    fn next(&mut self) -> Option<&'t str> {
        let bytes = self.text.as_bytes();
        loop {
            let rest = bytes.get(self.at..)?;
            let skip = rest.iter().position(|b| *b == b'"' || *b == b'-' || b.is_ascii_digit())?;
            let start = self.at + skip;
            if bytes.get(start) == Some(&b'"') {
                self.at = end_of_string(bytes, start + 1);
                continue;
            }
            let number = bytes.get(start..).unwrap_or_default();
            let length = number
                .iter()
                .position(|b| !(b"-+.eE".contains(b) || b.is_ascii_digit()))
                .unwrap_or(number.len());
            self.at = start + length;
            // Starts and ends on ASCII bytes, so `get` always succeeds.
            return self.text.get(start..self.at);
        }
    }
}

/// The index just past the closing quote of a string whose body starts at `at`.
fn end_of_string(bytes: &[u8], mut at: usize) -> usize {
    while let Some(rest) = bytes.get(at..) {
        match rest.iter().position(|b| *b == b'"' || *b == b'\\') {
            Some(found) if rest.get(found) == Some(&b'"') => return at + found + 1,
            // An escape: the next byte is escaped, whatever it is.
            Some(found) => at += found + 2,
            None => break,
        }
    }
    bytes.len()
}

/// Reads an object's key, borrowed from the file unless it had escapes.
struct KeySeed<'s, 't> {
    literals: &'s mut NumberLiterals<'t>,
}

impl<'t> DeserializeSeed<'t> for KeySeed<'_, 't> {
    type Value = Key<'t>;

    fn deserialize<D: Deserializer<'t>>(self, deserializer: D) -> Result<Key<'t>, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'t> Visitor<'t> for KeySeed<'_, 't> {
    type Value = Key<'t>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_borrowed_str<E>(self, key: &'t str) -> Result<Key<'t>, E> {
        self.literals.passed(key);
        Ok(Cow::Borrowed(key))
    }

    fn visit_str<E>(self, key: &str) -> Result<Key<'t>, E> {
        Ok(Cow::Owned(key.to_string()))
    }
}

/// Builds one [`Node`], taking each number's text from `literals`.
struct NodeSeed<'s, 't> {
    literals: &'s mut NumberLiterals<'t>,
}

impl<'t> DeserializeSeed<'t> for NodeSeed<'_, 't> {
    type Value = Node<'t>;

    fn deserialize<D: Deserializer<'t>>(self, deserializer: D) -> Result<Node<'t>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'t> NodeSeed<'_, 't> {
    /// The number just visited, as written.
    fn number<E: serde::de::Error>(self) -> Result<Node<'t>, E> {
        let literal = self.literals.next().ok_or_else(|| E::custom(MISMATCH))?;
        Ok(Node::Number(literal))
    }
}

impl<'t> Visitor<'t> for NodeSeed<'_, 't> {
    type Value = Node<'t>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Node<'t>, E> {
        Ok(Node::Null)
    }

    fn visit_bool<E>(self, value: bool) -> Result<Node<'t>, E> {
        Ok(Node::Bool(value))
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Node<'t>, E> {
        self.number()
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Node<'t>, E> {
        self.number()
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Node<'t>, E> {
        self.number()
    }

    fn visit_borrowed_str<E>(self, value: &'t str) -> Result<Node<'t>, E> {
        self.literals.passed(value);
        Ok(Node::String(Cow::Borrowed(value)))
    }

    fn visit_str<E>(self, value: &str) -> Result<Node<'t>, E> {
        Ok(Node::String(Cow::Owned(value.to_string())))
    }

    fn visit_seq<A: SeqAccess<'t>>(self, mut seq: A) -> Result<Node<'t>, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(NodeSeed { literals: &mut *self.literals })? {
            items.push(item);
        }
        Ok(Node::Array(items))
    }

    fn visit_map<A: MapAccess<'t>>(self, mut map: A) -> Result<Node<'t>, A::Error> {
        // Room for the fields of the format's largest objects.
        let mut entries = Vec::with_capacity(8);
        while let Some(key) = map.next_key_seed(KeySeed { literals: &mut *self.literals })? {
            let value = map.next_value_seed(NodeSeed { literals: &mut *self.literals })?;
            entries.push((key, value));
        }
        Ok(Node::Object(entries))
    }
}

/// serde_json's error as a plain-language message with line and column.
fn syntax_message(text: &str, error: &serde_json::Error) -> String {
    let (line, column) = (error.line(), char_column(text, error.line(), error.column()));
    let raw = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    let reason = raw.strip_suffix(&suffix).unwrap_or(&raw);
    if reason == "recursion limit exceeded" {
        return format!(
            "the file is nested more than 128 levels deep (at line {line}, column {column}); \
             a plan needs only a few levels"
        );
    }
    format!("the file is not valid JSON: {} at line {line}, column {column}", plain(reason))
}

/// serde_json's reason in words a clinician can act on.
fn plain(reason: &str) -> &str {
    match reason {
        "EOF while parsing a list" => "the file ends before a list `[` is closed with `]`",
        "EOF while parsing an object" => "the file ends before an object `{` is closed with `}`",
        "EOF while parsing a string" => "the file ends inside a text in double quotes",
        "EOF while parsing a value" => "the file ends where a value was expected",
        "expected `:`" => "expected `:` after the field name",
        "expected ident" => "expected `true`, `false` or `null` (in lowercase)",
        "expected value" => "expected a value: a number, text in double quotes, true, false, null, an object or a list",
        "invalid escape" => "a text contains an invalid escape after `\\`",
        "number out of range" => "a number is far too large; numbers in a plan must be below 1000000000",
        "key must be a string" => "a field name must be written in double quotes",
        "trailing comma" => "there is a comma before a closing bracket; remove it",
        "trailing characters" => "there is more text after the end of the plan; a file holds one JSON object",
        "control character (\\u0000-\\u001F) found while parsing a string" => {
            "a text contains a control character such as a raw tab or line break; write it as \\t or \\n"
        }
        "invalid unicode code point"
        | "lone leading surrogate in hex escape"
        | "unexpected end of hex escape" => "a text contains an invalid `\\u` escape",
        other => other,
    }
}

/// serde_json counts columns in bytes; people count characters.
fn char_column(text: &str, line: usize, byte_column: usize) -> usize {
    let Some(line_text) = text.split('\n').nth(line.saturating_sub(1)) else {
        return byte_column;
    };
    match line_text.get(..byte_column) {
        Some(prefix) => prefix.chars().count(),
        None => byte_column,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(text: &str) -> Node<'_> {
        Node::Number(text)
    }

    #[test]
    fn duplicate_keys_are_kept_in_order() {
        let node = read(br#"{"a": 1, "b": 2, "a": 3}"#).unwrap();
        let Node::Object(entries) = node else { panic!("not an object") };
        let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_ref()).collect();
        assert_eq!(keys, ["a", "b", "a"]);
        assert_eq!(entries[2].1, num("3"));
    }

    #[test]
    fn numbers_keep_their_exact_text() {
        let text =
            r#"{"s": "x -1 \"2\" 3e5", "n": [0.1, -2.50, 3E+2, 1e-400, 12345678901234567890123]}"#;
        let node = read(text.as_bytes()).unwrap();
        let numbers =
            [num("0.1"), num("-2.50"), num("3E+2"), num("1e-400"), num("12345678901234567890123")];
        let expected = Node::Object(vec![
            ("s".into(), Node::String("x -1 \"2\" 3e5".into())),
            ("n".into(), Node::Array(numbers.to_vec())),
        ]);
        assert_eq!(node, expected);
    }

    #[test]
    fn literals_and_strings_with_escapes_do_not_confuse_the_number_scan() {
        let text = r#"[true, false, null, "a\\", 7, "\"5", {"k\"1": -0}]"#;
        let Node::Array(items) = read(text.as_bytes()).unwrap() else { panic!() };
        assert_eq!(items[4], num("7"));
        assert_eq!(items[6], Node::Object(vec![("k\"1".into(), num("-0"))]));
    }

    #[test]
    fn a_leading_byte_order_mark_is_skipped() {
        assert_eq!(read("\u{feff}{}".as_bytes()).unwrap(), Node::Object(vec![]));
    }

    #[test]
    fn non_utf8_bytes_name_the_offset() {
        let err = read(b"{\"a\": \"\xff\"}").unwrap_err();
        assert_eq!(err, "the file is not UTF-8 text: invalid byte at offset 7; save it as UTF-8");
    }

    #[test]
    fn empty_and_blank_files_are_refused() {
        for text in ["", "  \n\t "] {
            assert!(
                read(text.as_bytes()).unwrap_err().starts_with("the file is empty"),
                "{text:?}"
            );
        }
    }

    #[test]
    fn syntax_errors_give_line_and_column() {
        let err = read(b"{\n  \"a\": 1\n  \"b\": 2\n}").unwrap_err();
        assert_eq!(err, "the file is not valid JSON: expected `,` or `}` at line 3, column 3");
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let err = read("[\"µµµ\" 1]".as_bytes()).unwrap_err();
        assert!(err.ends_with("at line 1, column 8"), "{err}");
    }

    #[test]
    fn trailing_garbage_is_refused() {
        let err = read(b"{} x").unwrap_err();
        assert!(err.contains("more text after the end of the plan"), "{err}");
        assert!(err.ends_with("line 1, column 4"), "{err}");
    }

    #[test]
    fn trailing_commas_and_bare_words_are_refused() {
        assert!(read(b"[1,]").unwrap_err().contains("comma before a closing bracket"));
        assert!(read(b"[True]").unwrap_err().contains("expected a value"));
        assert!(read(b"[NaN]").unwrap_err().contains("not valid JSON"));
    }

    #[test]
    fn numbers_beyond_floating_point_range_are_refused_in_words() {
        let err = read(b"[1e400]").unwrap_err();
        assert!(err.contains("a number is far too large"), "{err}");
    }

    #[test]
    fn very_deep_nesting_is_a_problem_not_a_crash() {
        let deep = "[".repeat(100_000);
        let err = read(deep.as_bytes()).unwrap_err();
        assert!(err.contains("nested more than 128 levels deep"), "{err}");
        let closed = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert!(read(closed.as_bytes()).unwrap_err().contains("128 levels"));
    }

    #[test]
    fn nesting_within_the_limit_is_read() {
        let ok = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert!(read(ok.as_bytes()).is_ok());
    }

    #[test]
    fn descriptions_quote_values() {
        assert_eq!(Node::String("2.5".into()).describe(), "a string \"2.5\"");
        assert_eq!(num("3").describe(), "a number 3");
        assert_eq!(Node::Null.describe(), "null");
        let long = "x".repeat(100);
        assert!(Node::String(long.as_str().into()).describe().ends_with("…\""));
        assert_eq!(clip(&long).chars().count(), QUOTE_LIMIT + 1);
        assert_eq!(clip("a\nb"), "a\\nb");
    }
}
