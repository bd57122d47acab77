//! How names written by people are compared: drugs, embolic agents,
//! sedatives, artery origins, routes and failed treatments.
//!
//! SPEC §1: case-insensitively (Unicode lowercase), surrounding whitespace
//! trimmed, inner runs of whitespace taken as one space. Synonyms come from
//! the rule set (`pirarubicine` and `THP` are pirarubicin).

use std::collections::HashMap;

/// The comparable form of a name: Unicode lowercase, whitespace collapsed.
///
/// ```
/// assert_eq!(embolint::names::normalize("  Left  T9\tIntercostal "), "left t9 intercostal");
/// ```
pub fn normalize(name: &str) -> String {
    // `split_whitespace` splits on Unicode's White_Space characters.
    name.split_whitespace().map(str::to_lowercase).collect::<Vec<_>>().join(" ")
}

/// The rule set's synonyms: each known spelling mapped to its canonical name.
#[derive(Clone, Debug, Default)]
pub struct Names {
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
                if let Some(previous) = canonical.insert(key.clone(), target.clone()) {
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

    #[test]
    fn a_spelling_claimed_twice_is_an_error() {
        let a = vec!["x".to_string()];
        let err = Names::new([("a", a.as_slice()), ("b", a.as_slice())]).unwrap_err();
        assert!(err.contains("`x`"), "{err}");
    }
}
