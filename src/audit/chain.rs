//! The hash chain of the decision log: what makes it tamper-evident.
//!
//! Every line of `log/decisions.jsonl` (decision records and events alike)
//! begins with two members:
//! - `seq`: 1 for the log's first line, then one more per line;
//! - `prev_sha256`: the sha256, in hex, of the previous line's exact bytes
//!   (without its newline); for `seq` 1, [`GENESIS`] (64 zeros).
//!
//! So a line edited, deleted, moved or inserted after it was written breaks
//! the chain at the next line (or at itself), which `embolint verify-log`
//! reports (see `verify`). The chain is added by the one place that writes
//! the log ([`super::decision_log::DecisionLog::append`]), so no line can
//! be written without it.

use crate::check::sha256_hex;

/// `prev_sha256` of the first line: there is no line before it.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Where the chain stands: the last line written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    /// `seq` of the last line; 0 for an empty log.
    pub seq: u64,
    /// sha256 (hex) of the last line's bytes; [`GENESIS`] for an empty log.
    pub sha256: String,
}

impl Head {
    /// The head of an empty log: the next line is `seq` 1 after [`GENESIS`].
    pub fn genesis() -> Head {
        Head { seq: 0, sha256: GENESIS.to_string() }
    }

    /// The head after `line` (its bytes, without the newline), when the
    /// line carries a `seq`; `None` for a line without one (written by an
    /// embolint without the chain, or damaged).
    pub fn after(line: &[u8]) -> Option<Head> {
        let seq = seq_of(line)?;
        Some(Head { seq, sha256: sha256_hex(line) })
    }

    /// Continues the chain with `body`, one JSON object serialized on one
    /// line (no newline): returns the line with `seq` and `prev_sha256`
    /// put first, and moves the head past it. `None` when `body` is not a
    /// JSON object's text (a bug of the caller: nothing may be logged
    /// outside the chain).
    pub fn extend(&mut self, body: &[u8]) -> Option<Vec<u8>> {
        let rest = body.strip_prefix(b"{")?;
        if !body.ends_with(b"}") || body.contains(&b'\n') {
            return None;
        }
        let seq = self.seq.checked_add(1)?;
        let mut line = format!("{{\"seq\":{seq},\"prev_sha256\":\"{}\"", self.sha256).into_bytes();
        if rest != b"}" {
            line.push(b',');
        }
        line.extend_from_slice(rest);
        *self = Head { seq, sha256: sha256_hex(&line) };
        Some(line)
    }
}

/// The `seq` member of a line, if it is a JSON object that has one.
pub fn seq_of(line: &[u8]) -> Option<u64> {
    #[derive(serde::Deserialize)]
    struct Seq {
        seq: u64,
    }
    serde_json::from_slice::<Seq>(line).ok().map(|s| s.seq)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_numbered_from_one_and_each_names_the_hash_of_the_one_before() {
        let mut head = Head::genesis();
        let first = head.extend(br#"{"verdict":"pass"}"#).unwrap();
        assert_eq!(
            String::from_utf8(first.clone()).unwrap(),
            format!(r#"{{"seq":1,"prev_sha256":"{GENESIS}","verdict":"pass"}}"#)
        );
        let second = head.extend(br#"{"event":"history-forget"}"#).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&second).unwrap();
        assert_eq!(value["seq"], 2);
        assert_eq!(value["prev_sha256"], sha256_hex(&first));
        assert_eq!(head, Head::after(&second).unwrap());
    }

    #[test]
    fn an_empty_object_gets_no_trailing_comma() {
        let line = Head::genesis().extend(b"{}").unwrap();
        let value: serde_json::Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(value["seq"], 1);
    }

    #[test]
    fn only_one_line_json_objects_can_be_chained() {
        let mut head = Head::genesis();
        assert_eq!(head.extend(b"[1]"), None);
        assert_eq!(head.extend(b"{\"a\":1}\n{\"b\":2}"), None);
        assert_eq!(head, Head::genesis(), "a refused body does not move the chain");
    }

    #[test]
    fn a_line_without_seq_has_no_head() {
        assert_eq!(Head::after(br#"{"verdict":"pass"}"#), None);
        assert_eq!(Head::after(b"not json"), None);
    }

    #[test]
    fn the_hash_is_the_sha256_of_the_exact_bytes() {
        // sha256("abc"), FIPS 180-2 example.
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
