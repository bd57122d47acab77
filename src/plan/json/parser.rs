//! One pass over a plan's text that builds its [`Node`] tree.
//!
//! Why not serde_json: it keeps only the last of two equal keys and turns
//! numbers into `f64`, and the exact text of a number can only be recovered
//! from it by scanning the whole file a second time. Reading a plan was most
//! of the cost of checking one (34 of 60 µs for a plan of 3 sessions × 6
//! arteries). This reader builds the tree in the same pass that validates it,
//! borrowing keys, strings and number literals from the text.
//!
//! It accepts exactly the documents serde_json accepts — the same grammar,
//! the same 128-level nesting limit, the same refusal of numbers beyond the
//! range of `f64` — and a property test holds the two to that. It does not
//! explain a refusal: the caller asks serde_json why, so the messages with
//! line and column stay those a clinician has been shown all along. Strings
//! with escapes (rare in plans) are decoded by serde_json too.

use super::Node;
use bumpalo::collections::Vec as ArenaVec;
use bumpalo::Bump;

/// The deepest nesting serde_json accepts: its recursion budget of 128 is
/// spent one per `[` or `{`, and running out at zero is an error, so 127
/// containers may be open at once.
const NESTING_BUDGET: usize = 128;

/// Reads `text` as one JSON value, its lists and objects kept in `arena`.
/// `None` when it is not valid JSON (the caller asks serde_json for the
/// reason).
pub(super) fn document<'t>(text: &'t str, arena: &'t Bump) -> Option<Node<'t>> {
    let mut reader = Reader {
        text,
        bytes: text.as_bytes(),
        arena,
        at: 0,
        items: ArenaVec::with_capacity_in(64, arena),
        entries: ArenaVec::with_capacity_in(64, arena),
    };
    reader.skip_whitespace();
    let node = reader.value(NESTING_BUDGET)?;
    reader.skip_whitespace();
    (reader.at == reader.bytes.len()).then_some(node)
}

/// Where the reader is in the text.
struct Reader<'t> {
    /// The whole document, valid UTF-8 (checked before reading).
    text: &'t str,
    /// The same, as bytes: JSON's grammar is all ASCII.
    bytes: &'t [u8],
    /// Where finished lists and objects are kept, and strings that held
    /// escapes, once decoded.
    arena: &'t Bump,
    /// The offset of the next byte to read.
    at: usize,
    /// The items of the lists being read, innermost last. Each list is copied
    /// into the arena in one piece when it closes, at its final size. This
    /// stack lives in the arena too: reading asks the allocator for nothing.
    items: ArenaVec<'t, Node<'t>>,
    /// The same for the entries of the objects being read.
    entries: ArenaVec<'t, (&'t str, Node<'t>)>,
}

impl<'t> Reader<'t> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// The next byte, consumed.
    fn next(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.at += 1;
        Some(byte)
    }

    fn skip_whitespace(&mut self) {
        while let Some(byte) = self.peek() {
            match byte {
                b'\n' => {
                    self.at += 1;
                    self.skip_indentation();
                }
                b' ' | b'\r' | b'\t' => self.at += 1,
                _ => return,
            }
        }
    }

    /// Skips spaces eight at a time after a line break: the indentation of a
    /// pretty-printed plan is most of its bytes.
    fn skip_indentation(&mut self) {
        while word_at(self.bytes, self.at) == Some(repeated(b' ')) {
            self.at += 8;
        }
    }

    /// The value starting at the next byte; `budget` is what is left of the
    /// nesting budget.
    fn value(&mut self, budget: usize) -> Option<Node<'t>> {
        let mut value = None;
        self.value_into(budget, |_, node| value = Some(node))?;
        value
    }

    /// Reads the value starting at the next byte and hands it to `keep`.
    ///
    /// Each kind of value is handed over on its own path, so a node is
    /// written where it is kept in one piece. Built on one path and then
    /// copied, every node was reloaded before its stores had landed: a
    /// stall on each of a plan's ~700 values, a fifth of the reader's time
    /// by `perf annotate`.
    #[inline(always)]
    fn value_into(
        &mut self,
        budget: usize,
        mut keep: impl FnMut(&mut Self, Node<'t>),
    ) -> Option<()> {
        match self.peek()? {
            b'"' => {
                let string = self.string()?;
                keep(self, Node::String(string));
            }
            b'-' | b'0'..=b'9' => {
                let literal = self.number()?;
                keep(self, Node::Number(literal));
            }
            b'{' => {
                let object = self.object(budget)?;
                keep(self, Node::Object(object));
            }
            b'[' => {
                let array = self.array(budget)?;
                keep(self, Node::Array(array));
            }
            b't' => {
                self.word(b"true")?;
                keep(self, Node::Bool(true));
            }
            b'f' => {
                self.word(b"false")?;
                keep(self, Node::Bool(false));
            }
            b'n' => {
                self.word(b"null")?;
                keep(self, Node::Null);
            }
            _ => return None,
        }
        Some(())
    }

    /// Consumes `word` (`true`, `false`, `null`) if it comes next.
    fn word(&mut self, word: &[u8]) -> Option<()> {
        let end = self.at + word.len();
        (self.bytes.get(self.at..end)? == word).then(|| self.at = end)
    }

    /// The entries of the object whose `{` is the next byte.
    fn object(&mut self, budget: usize) -> Option<&'t [(&'t str, Node<'t>)]> {
        let budget = inner_budget(budget)?;
        self.at += 1;
        self.skip_whitespace();
        if self.peek()? == b'}' {
            self.at += 1;
            return Some(&[]);
        }
        let first = self.entries.len();
        loop {
            if self.peek()? != b'"' {
                return None;
            }
            let key = self.string()?;
            self.skip_whitespace();
            if self.next()? != b':' {
                return None;
            }
            self.skip_whitespace();
            self.value_into(budget, |reader, value| reader.entries.push((key, value)))?;
            self.skip_whitespace();
            match self.next()? {
                b',' => self.skip_whitespace(),
                b'}' => {
                    let entries = self.entries.get(first..)?;
                    let entries = self.arena.alloc_slice_copy(entries);
                    self.entries.truncate(first);
                    return Some(entries);
                }
                _ => return None,
            }
        }
    }

    /// The items of the list whose `[` is the next byte.
    fn array(&mut self, budget: usize) -> Option<&'t [Node<'t>]> {
        let budget = inner_budget(budget)?;
        self.at += 1;
        self.skip_whitespace();
        if self.peek()? == b']' {
            self.at += 1;
            return Some(&[]);
        }
        let first = self.items.len();
        loop {
            self.value_into(budget, |reader, item| reader.items.push(item))?;
            self.skip_whitespace();
            match self.next()? {
                b',' => self.skip_whitespace(),
                b']' => {
                    let items = self.items.get(first..)?;
                    let items = self.arena.alloc_slice_copy(items);
                    self.items.truncate(first);
                    return Some(items);
                }
                _ => return None,
            }
        }
    }

    /// A string whose opening quote is the next byte: borrowed from the text
    /// unless it holds escapes.
    fn string(&mut self) -> Option<&'t str> {
        let start = self.at + 1;
        let rest = self.bytes.get(start..)?;
        let end = start + rest.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
        match self.bytes.get(end)? {
            b'"' => {
                self.at = end + 1;
                self.text.get(start..end)
            }
            b'\\' => self.string_with_escapes(start),
            _ => None,
        }
    }

    /// A string with escapes, body starting at `start`: found here, decoded
    /// (and its escapes judged) by serde_json.
    fn string_with_escapes(&mut self, start: usize) -> Option<&'t str> {
        let mut at = start;
        loop {
            match *self.bytes.get(at)? {
                b'"' => break,
                b'\\' => at += 2,
                byte if byte < 0x20 => return None,
                _ => at += 1,
            }
        }
        let quoted = self.text.get(start - 1..at + 1)?;
        let decoded: String = serde_json::from_str(quoted).ok()?;
        self.at = at + 1;
        Some(self.arena.alloc_str(&decoded))
    }

    /// A number literal, kept as written: `-`? integer (no leading zeros),
    /// then an optional fraction and exponent.
    fn number(&mut self) -> Option<&'t str> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.next()? {
            b'0' => {}
            b'1'..=b'9' => self.skip_digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            self.digits()?;
        }
        let mut exponent = false;
        if let Some(b'e' | b'E') = self.peek() {
            exponent = true;
            self.at += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            self.digits()?;
        }
        let literal = self.text.get(start..self.at)?;
        within_range(literal, exponent).then_some(literal)
    }

    /// One or more digits.
    fn digits(&mut self) -> Option<()> {
        let first = self.at;
        self.skip_digits();
        (self.at > first).then_some(())
    }

    fn skip_digits(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
    }
}

/// The eight bytes at `at` as one word, when there are eight.
fn word_at(bytes: &[u8], at: usize) -> Option<u64> {
    let chunk = bytes.get(at..at.checked_add(8)?)?;
    <[u8; 8]>::try_from(chunk).ok().map(u64::from_le_bytes)
}

/// Each byte of a word, repeated: `0x2020…` for spaces.
const fn repeated(byte: u8) -> u64 {
    u64::from_le_bytes([byte; 8])
}

/// The nesting budget inside a container opened with `budget` left; `None`
/// when it is spent (serde_json's "recursion limit exceeded").
fn inner_budget(budget: usize) -> Option<usize> {
    budget.checked_sub(1).filter(|&left| left > 0)
}

/// serde_json refuses a number whose value is beyond `f64` (`1e400`). Only a
/// long literal or one with an exponent can be; the rest skip the test.
fn within_range(literal: &str, exponent: bool) -> bool {
    const SHORTEST_OVERFLOW: usize = 309;
    if !exponent && literal.len() < SHORTEST_OVERFLOW {
        return true;
    }
    literal.parse::<f64>().is_ok_and(f64::is_finite)
}

#[cfg(test)]
mod tests;
