//! How names written by people are compared: drugs, embolic agents,
//! sedatives, artery origins, routes and failed treatments.
//!
//! SPEC §1: case-insensitively (Unicode lowercase), surrounding whitespace
//! trimmed, inner runs of whitespace taken as one space. Synonyms come from
//! the rule set (`pirarubicine` and `THP` are pirarubicin).

use std::collections::HashMap;
use std::fmt;

/// A name in a plan (a drug, sedative, agent, origin, route or failed
/// treatment): as written, for messages, and in canonical form, for
/// comparing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Name {
    /// As the plan writes it; what messages quote.
    pub written: String,
    /// What the name is compared by: normalized when the plan is read, then
    /// resolved through a rule set's synonyms when that rule set takes the
    /// plan ([`crate::rules::RuleSet::resolve`]).
    pub canonical: String,
}

impl Name {
    /// A name as written, compared by its normalized form until a rule set
    /// resolves it.
    pub fn new(written: &str) -> Name {
        Name { written: written.to_string(), canonical: normalize(written) }
    }
}

/// Shows the name as written.
impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.written)
    }
}

/// The comparable form of a name: Unicode lowercase, whitespace collapsed
/// (`split_whitespace` splits on Unicode's White_Space characters).
///
/// ```
/// assert_eq!(embolint::names::normalize("  Left  T9\tIntercostal "), "left t9 intercostal");
/// ```
pub fn normalize(name: &str) -> String {
    let mut folded = String::with_capacity(name.len());
    for word in name.split_whitespace() {
        if !folded.is_empty() {
            folded.push(' ');
        }
        folded.push_str(word);
    }
    if folded.is_ascii() {
        folded.make_ascii_lowercase();
        return folded;
    }
    // Word by word: a capital sigma lowercases differently at a word's end.
    let words: Vec<String> = folded.split(' ').map(str::to_lowercase).collect();
    words.join(" ")
}

/// The rule set's synonyms: each known spelling mapped to its canonical name.
#[derive(Clone, Debug, Default)]
pub struct Names {
    /// Normalized spelling to normalized canonical name; a few dozen entries.
    canonical: HashMap<String, String>,
}

impl Names {
    /// Builds the table from canonical names and their synonyms. A spelling
    /// claimed by two canonical names is an error naming both.
    pub fn new<'a>(
        entries: impl IntoIterator<Item = (&'a str, &'a [String])>,
    ) -> Result<Names, String> {
        let mut canonical = HashMap::new();
        for (name, synonyms) in entries {
            let target = normalize(name);
            for spelling in std::iter::once(name).chain(synonyms.iter().map(String::as_str)) {
                let key = normalize(spelling);
                if let Some(previous) = canonical.insert(key, target.clone()) {
                    if previous != target {
                        return Err(format!(
                            "the name `{spelling}` is given as a synonym of both `{previous}` and `{target}`"
                        ));
                    }
                }
            }
        }
        Ok(Names { canonical })
    }

    /// The canonical form of a name: its synonym's target, or the name itself
    /// normalized when it has no synonym.
    pub fn canonical(&self, name: &str) -> String {
        let key = normalize(name);
        match self.canonical.get(&key) {
            Some(target) => target.clone(),
            None => key,
        }
    }

    /// The canonical name a normalized spelling is a synonym of, if any.
    pub fn synonym_of(&self, normalized: &str) -> Option<&str> {
        self.canonical.get(normalized).map(String::as_str)
    }

    /// True when `name`, as a plan reads it (compared by its normalized
    /// spelling), is `expected` or one of its synonyms.
    pub fn names(&self, name: &Name, expected: &str) -> bool {
        let resolved = self.synonym_of(&name.canonical).unwrap_or(&name.canonical);
        resolved == self.canonical(expected)
    }

    /// True when `name` is `expected` or one of its synonyms.
    pub fn is(&self, name: &str, expected: &str) -> bool {
        self.canonical(name) == self.canonical(expected)
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
