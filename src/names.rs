//! How names written by people are compared: drugs, embolic agents,
//! sedatives, artery origins, routes and failed treatments.
//!
//! SPEC §1: case-insensitively (Unicode lowercase), surrounding whitespace
//! trimmed, inner runs of whitespace taken as one space. Synonyms come from
//! the rule set (`pirarubicine` and `THP` are pirarubicin).

use bumpalo::Bump;
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

/// A name in a plan (a drug, sedative, agent, origin, route or failed
/// treatment): as written, for messages, and in canonical form, for
/// comparing. Resolved once when the plan is read, so no rule resolves the
/// same name again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Name<'a> {
    /// As the plan writes it; what messages quote.
    pub written: &'a str,
    /// Normalized and resolved through the rule set's synonyms
    /// ([`Names::canonical`]).
    pub canonical: &'a str,
}

/// Shows the name as written.
impl fmt::Display for Name<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.written)
    }
}

/// The comparable form of a name: Unicode lowercase, whitespace collapsed.
/// Printable ASCII with single spaces (the usual case) takes a short path:
/// the name itself when already lowercase, else one lowercase copy.
///
/// ```
/// assert_eq!(embolint::names::normalize("  Left  T9\tIntercostal "), "left t9 intercostal");
/// ```
pub fn normalize(name: &str) -> Cow<'_, str> {
    match shape(name) {
        Shape::Comparable => Cow::Borrowed(name),
        Shape::Capitals => Cow::Owned(name.to_ascii_lowercase()),
        Shape::Other => Cow::Owned(fold(name)),
    }
}

/// How far a name is from its comparable form.
enum Shape {
    /// Printable ASCII without capitals, words separated by single spaces,
    /// none at either end: already comparable.
    Comparable,
    /// The same with capitals: its ASCII lowercase is comparable.
    Capitals,
    /// Anything else: other whitespace, runs of spaces, non-ASCII.
    Other,
}

/// The [`Shape`] of `name`, in one pass over its bytes.
fn shape(name: &str) -> Shape {
    let mut capitals = false;
    // Starting as if after a space makes a leading space a doubled one.
    let mut after_space = true;
    for byte in name.bytes() {
        match byte {
            b' ' if after_space => return Shape::Other,
            b' ' => after_space = true,
            b'A'..=b'Z' => (capitals, after_space) = (true, false),
            b'!'..=b'~' => after_space = false,
            _ => return Shape::Other,
        }
    }
    if after_space && !name.is_empty() {
        Shape::Other
    } else if capitals {
        Shape::Capitals
    } else {
        Shape::Comparable
    }
}

/// The comparable form by SPEC §1's definition, word by word.
fn fold(name: &str) -> String {
    let mut folded = String::with_capacity(name.len());
    // `split_whitespace` splits on Unicode's White_Space characters.
    for word in name.split_whitespace() {
        if !folded.is_empty() {
            folded.push(' ');
        }
        folded.push_str(&word.to_lowercase());
    }
    folded
}

/// `a == b`, settled without the library's comparison call when the lengths
/// or first bytes differ, as they do for most pairs of names and field keys
/// compared while checking a plan (about 1,000 for a plan of 3 sessions × 6
/// arteries).
#[inline]
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.as_bytes().first() == b.as_bytes().first() && a == b
}

/// The rule set's synonyms: each known spelling mapped to its canonical name.
#[derive(Clone, Debug, Default)]
pub struct Names {
    /// Normalized spelling to normalized canonical name; a few dozen entries,
    /// looked up for nearly every name of a plan.
    canonical: HashMap<String, String, BuildHasherDefault<Fnv>>,
}

impl Names {
    /// Builds the table from canonical names and their synonyms. A spelling
    /// claimed by two canonical names is an error naming both.
    pub fn new<'a>(
        entries: impl IntoIterator<Item = (&'a str, &'a [String])>,
    ) -> Result<Names, String> {
        let mut canonical = HashMap::new();
        for (name, synonyms) in entries {
            let target = normalize(name).into_owned();
            for spelling in std::iter::once(name).chain(synonyms.iter().map(String::as_str)) {
                let key = normalize(spelling).into_owned();
                if let Some(previous) = canonical.insert(key, target.clone()) {
                    if previous != target {
                        return Err(format!(
                            "the name `{spelling}` is given as a synonym of both `{previous}` and `{target}`"
                        ));
                    }
                }
            }
        }
        Ok(Names { canonical: canonical.into_iter().collect() })
    }

    /// The canonical form of a name: its synonym's target, or the name itself
    /// normalized when it has no synonym. Borrowed whenever no new text is
    /// needed.
    pub fn canonical<'n>(&'n self, name: &'n str) -> Cow<'n, str> {
        let key = normalize(name);
        match self.canonical.get(key.as_ref()) {
            Some(target) => Cow::Borrowed(target.as_str()),
            None => key,
        }
    }

    /// `written` with its canonical form; a canonical form that is new text
    /// (the name had capitals or odd spacing and no synonym) is kept in
    /// `arena`.
    pub fn resolve<'a>(&'a self, written: &'a str, arena: &'a Bump) -> Name<'a> {
        let canonical = match self.canonical(written) {
            Cow::Borrowed(canonical) => canonical,
            Cow::Owned(canonical) => arena.alloc_str(&canonical),
        };
        Name { written, canonical }
    }

    /// True when `name` is `expected` or one of its synonyms.
    pub fn is(&self, name: &str, expected: &str) -> bool {
        self.canonical(name) == self.canonical(expected)
    }
}

/// FNV-1a: a plain, fast hash for the short names of the synonym table
/// (std's SipHash costs more than the rest of a lookup). The table holds only
/// the rule file's spellings, so a plan cannot fill it with colliding keys,
/// the attack SipHash is there to resist.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        let pir = vec!["pirarubicine".to_string(), "THP".to_string()];
        Names::new([("pirarubicin", pir.as_slice())]).unwrap()
    }

    #[test]
    fn synonyms_resolve_case_and_space_insensitively() {
        let n = names();
        assert_eq!(n.canonical("  Pirarubicine "), "pirarubicin");
        assert_eq!(n.canonical("thp"), "pirarubicin");
        assert!(n.is("PIRARUBICIN", "pirarubicin"));
        assert!(!n.is("doxorubicin", "pirarubicin"));
    }

    #[test]
    fn unicode_whitespace_and_case_are_folded() {
        assert_eq!(normalize("Polyvinyl\u{00A0}\u{2003}ALCOHOL"), "polyvinyl alcohol");
        assert_eq!(normalize("ÉTOPOSIDE"), "étoposide");
    }

    /// SPEC §1's definition, word for word: the reference `normalize` must
    /// match.
    fn by_definition(name: &str) -> String {
        name.split_whitespace().map(str::to_lowercase).collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn normalize_matches_the_definition_on_awkward_names() {
        let names = [
            "",
            " ",
            "pva",
            "PVA",
            "left t9 intercostal",
            "left  t9",
            " left",
            "left ",
            "left\tt9",
            "a\u{0B}b",
            "a\u{85}b",
            "\u{2003}x\u{3000}",
            "ΟΔΟΣ ΟΔΟΣ",
            "İstanbul",
            "ǅemal",
            "x\u{1}y",
            "µg μg",
            "~/\\\"",
        ];
        for name in names {
            assert_eq!(normalize(name), by_definition(name), "{name:?}");
        }
        assert!(matches!(normalize("left t9 intercostal"), Cow::Borrowed(_)));
    }

    proptest::proptest! {
        #[test]
        fn normalize_matches_the_definition(name in "[a-zA-Z0-9 \t\u{A0}\u{2003}ΣσςİÉé./-]{0,12}") {
            proptest::prop_assert_eq!(normalize(&name), by_definition(&name));
        }
    }

    #[test]
    fn a_spelling_claimed_twice_is_an_error() {
        let a = vec!["x".to_string()];
        let err = Names::new([("a", a.as_slice()), ("b", a.as_slice())]).unwrap_err();
        assert!(err.contains("`x`"), "{err}");
    }
}
