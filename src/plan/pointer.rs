//! JSON Pointers (RFC 6901) as paths into a plan: the `path` of an
//! acknowledgement, and the `path` of every finding, read into their
//! segments so that one can be compared with the other segment by segment
//! (`/sessions/0/arteries/1` covers `/sessions/0/arteries/1/drugs/0/dose`
//! but not `/sessions/0/arteries/10`).

use std::fmt;

/// A JSON Pointer read into its segments, `~1` and `~0` undone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonPointer {
    /// The reference tokens, unescaped; empty for the whole document (`""`).
    segments: Vec<String>,
}

impl JsonPointer {
    /// Reads a pointer written as RFC 6901 says: `""`, or `/` followed by
    /// tokens separated by `/`, where `~` is only ever `~0` or `~1`.
    ///
    /// # Errors
    /// Why the text is not a JSON Pointer, in words a planner can act on.
    ///
    /// # Example
    /// ```
    /// use embolint::plan::JsonPointer;
    ///
    /// let artery = JsonPointer::parse("/sessions/0/arteries/1").unwrap();
    /// let dose = JsonPointer::parse("/sessions/0/arteries/1/drugs/0/dose").unwrap();
    /// let other = JsonPointer::parse("/sessions/0/arteries/10").unwrap();
    /// assert!(artery.covers(&dose) && artery.covers(&artery));
    /// assert!(!artery.covers(&other));
    /// assert!(JsonPointer::parse("sessions/0").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<JsonPointer, String> {
        if text.is_empty() {
            return Ok(JsonPointer { segments: Vec::new() });
        }
        let Some(rest) = text.strip_prefix('/') else {
            return Err("a JSON Pointer starts with `/` (for example \"/sessions/0/arteries/1\")"
                .to_string());
        };
        let mut segments = Vec::new();
        for token in rest.split('/') {
            segments.push(unescape(token)?);
        }
        Ok(JsonPointer { segments })
    }

    /// Whether `other` is this place or lies under it, compared segment by
    /// segment.
    pub fn covers(&self, other: &JsonPointer) -> bool {
        other.segments.starts_with(&self.segments)
    }
}

/// One reference token with `~1` read as `/` and `~0` as `~`; any other
/// `~` is refused.
fn unescape(token: &str) -> Result<String, String> {
    let mut out = String::with_capacity(token.len());
    let mut chars = token.chars();
    while let Some(c) = chars.next() {
        if c != '~' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('0') => out.push('~'),
            Some('1') => out.push('/'),
            _ => {
                return Err("in a JSON Pointer `~` must be written `~0`, and a `/` inside a key \
                            `~1`"
                    .to_string())
            }
        }
    }
    Ok(out)
}

impl fmt::Display for JsonPointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for segment in &self.segments {
            write!(f, "/{}", super::fields::escape_key(segment))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::JsonPointer;

    fn p(text: &str) -> JsonPointer {
        JsonPointer::parse(text).unwrap()
    }

    #[test]
    fn a_pointer_covers_itself_and_what_lies_under_it_by_segments() {
        assert!(p("/sessions/0/arteries/1").covers(&p("/sessions/0/arteries/1/drugs/0/dose")));
        assert!(p("/sessions/0/arteries/1").covers(&p("/sessions/0/arteries/1")));
        assert!(!p("/sessions/0/arteries/1").covers(&p("/sessions/0/arteries/10")));
        assert!(!p("/sessions/0/arteries/1").covers(&p("/sessions/0")));
        assert!(!p("/sessions/0").covers(&p("")), "a finding about the whole file");
        assert!(p("").covers(&p("/plan_id")));
    }

    #[test]
    fn escapes_are_undone_and_written_back() {
        assert_eq!(p("/a~1b/m~0n"), JsonPointer { segments: vec!["a/b".into(), "m~n".into()] });
        assert_eq!(p("/a~1b/m~0n").to_string(), "/a~1b/m~0n");
        assert_eq!(p("/").to_string(), "/", "one empty token");
        assert_eq!(p("/sessions//x").to_string(), "/sessions//x");
    }

    #[test]
    fn text_that_is_not_a_pointer_is_refused_with_a_reason() {
        assert!(JsonPointer::parse("sessions/0").unwrap_err().contains("starts with `/`"));
        for bad in ["/a~2", "/a~", "/~x/b"] {
            assert!(JsonPointer::parse(bad).unwrap_err().contains("`~0`"), "{bad}");
        }
        assert!(JsonPointer::parse("#/sessions/0").is_err(), "a URI fragment is not a pointer");
    }
}
