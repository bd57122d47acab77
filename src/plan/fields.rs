//! Reading the fields of one JSON object strictly: each plan section names
//! every field it defines up front, so duplicate and unknown keys (typos
//! such as `diamter_mm`) are reported with their JSON Pointer, and a near
//! miss gets a suggestion.

use super::json::{clip, Key, Node};
use super::parse::Problem;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt;

/// The problems found so far in one plan, in the order found.
#[derive(Debug, Default)]
pub struct Problems {
    /// Every problem; the plan is invalid when this is not empty.
    pub list: Vec<Problem>,
}

impl Problems {
    /// Records a problem at `at`. (Cold: valid plans never get here.)
    #[cold]
    pub fn add(&mut self, at: &Pointer<'_>, message: impl Into<String>) {
        self.list.push(Problem { path: at.to_string(), message: message.into() });
    }

    /// Records that the value at `field` is not of the kind expected.
    #[cold]
    pub fn wrong_type(&mut self, field: &Field<'_, '_>, expected: &str) {
        self.add(&field.path, format!("expected {expected}, found {}", field.node.describe()));
    }
}

/// Where a value is in the plan: the steps from the root, each borrowing its
/// parent. It is written out as a JSON Pointer (`/sessions/0/arteries/2`)
/// only when a problem is reported, so reading a valid plan builds no
/// pointer text at all.
#[derive(Clone, Copy, Debug)]
pub enum Pointer<'p> {
    /// The whole document, written `""`.
    Root,
    /// A field of the object at the parent pointer.
    Key(&'p Pointer<'p>, &'p str),
    /// An element of the list at the parent pointer.
    Index(&'p Pointer<'p>, usize),
}

impl fmt::Display for Pointer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pointer::Root => Ok(()),
            Pointer::Key(parent, key) => {
                parent.fmt(f)?;
                f.write_str("/")?;
                f.write_str(&escape_key(key))
            }
            Pointer::Index(parent, index) => {
                parent.fmt(f)?;
                write!(f, "/{index}")
            }
        }
    }
}

/// A value of the plan with where it is.
#[derive(Clone, Copy, Debug)]
pub struct Field<'a, 'p> {
    /// The value as read.
    pub node: &'a Node<'a>,
    /// Where it is, for messages: `/sessions/0/arteries/2/diameter_mm`.
    pub path: Pointer<'p>,
}

impl<'a> Field<'a, '_> {
    /// The whole document, at the empty pointer.
    pub fn root(node: &'a Node<'a>) -> Field<'a, 'static> {
        Field { node, path: Pointer::Root }
    }

    /// The elements of a list, each with its pointer; `None` (reported) when
    /// the value is not a list.
    pub fn items(
        &self,
        expected: &str,
        problems: &mut Problems,
    ) -> Option<impl ExactSizeIterator<Item = Field<'a, '_>>> {
        let Node::Array(items) = self.node else {
            problems.wrong_type(self, expected);
            return None;
        };
        let path = &self.path;
        Some(
            items
                .iter()
                .enumerate()
                .map(move |(i, node)| Field { node, path: Pointer::Index(path, i) }),
        )
    }

    /// Reads every element of a list with `read`, going on past bad elements
    /// so that all their problems are reported; `None` if any was bad.
    pub fn list<T>(
        &self,
        expected: &str,
        problems: &mut Problems,
        mut read: impl FnMut(usize, Field<'a, '_>, &mut Problems) -> Option<T>,
    ) -> Option<Vec<T>> {
        let items = self.items(expected, problems)?;
        let mut values = Vec::with_capacity(items.len());
        let mut all_read = true;
        for (index, item) in items.enumerate() {
            match read(index, item, problems) {
                Some(value) if all_read => values.push(value),
                Some(_) => {}
                None => all_read = false,
            }
        }
        all_read.then_some(values)
    }
}

/// Escapes a key for a JSON Pointer (RFC 6901): `~` as `~0`, `/` as `~1`.
pub fn escape_key(key: &str) -> Cow<'_, str> {
    if key.contains(['~', '/']) {
        Cow::Owned(key.replace('~', "~0").replace('/', "~1"))
    } else {
        Cow::Borrowed(key)
    }
}

/// Reads the fields of one object; reports duplicate and unknown keys as soon
/// as it is opened, and missing required fields as they are asked for.
pub struct ObjectReader<'a, 'p> {
    /// The object's own pointer, borrowed from its field: copying it made
    /// the reader reload a value it had just stored, for every object read.
    path: &'p Pointer<'p>,
    /// Its entries in file order.
    entries: &'a [(Key<'a>, Node<'a>)],
    /// Fields a misspelt key was taken for: their absence is already explained
    /// by the "did you mean" problem and is not reported twice.
    suggested: Vec<&'static str>,
}

impl<'a, 'p> ObjectReader<'a, 'p> {
    /// Opens `field` as an object defining exactly `known` fields; `None`
    /// (reported) when it is not an object.
    #[inline]
    pub fn open(
        field: &'p Field<'a, 'p>,
        expected: &str,
        known: &[&'static str],
        problems: &mut Problems,
    ) -> Option<ObjectReader<'a, 'p>> {
        let Node::Object(entries) = field.node else {
            problems.wrong_type(field, expected);
            return None;
        };
        let mut reader = ObjectReader { path: &field.path, entries, suggested: Vec::new() };
        if !reader.keys_known_and_distinct(known) {
            reader.report_duplicates(problems);
            reader.report_unknown(known, problems);
        }
        Some(reader)
    }

    fn key_path<'k>(&'k self, key: &'k str) -> Pointer<'k> {
        Pointer::Key(self.path, key)
    }

    /// True when every key is one of `known` (at most 64) and none appears
    /// twice: the usual case, checked with one bit per known field and
    /// without allocating. Otherwise the keys are looked at one by one.
    fn keys_known_and_distinct(&self, known: &[&'static str]) -> bool {
        let mut seen = 0u64;
        for (key, _) in self.entries {
            let Some(position) = known.iter().position(|k| k == key) else { return false };
            let Some(bit) = u32::try_from(position).ok().and_then(|p| 1u64.checked_shl(p)) else {
                return false;
            };
            if seen & bit != 0 {
                return false;
            }
            seen |= bit;
        }
        true
    }

    #[cold]
    fn report_duplicates(&self, problems: &mut Problems) {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for (key, _) in self.entries {
            *counts.entry(key.as_ref()).or_default() += 1;
        }
        let mut reported = HashSet::new();
        for (key, _) in self.entries {
            let times = counts.get(key.as_ref()).copied().unwrap_or(0);
            if times > 1 && reported.insert(key.as_ref()) {
                let times = if times == 2 { "twice".to_string() } else { format!("{times} times") };
                let message = format!("`{}` appears {times}; keep one", clip(key));
                problems.add(&self.key_path(key), message);
            }
        }
    }

    #[cold]
    fn report_unknown(&mut self, known: &[&'static str], problems: &mut Problems) {
        // A near miss is taken for a field the object lacks, not one it has.
        let absent: Vec<&'static str> = known
            .iter()
            .copied()
            .filter(|k| !self.entries.iter().any(|(key, _)| key == k))
            .collect();
        for (key, _) in self.entries {
            if known.contains(&key.as_ref()) {
                continue;
            }
            let shown = clip(key);
            let message = match suggest(key, absent.iter().copied()) {
                Some(near) => {
                    self.suggested.push(near);
                    format!("unknown field `{shown}`; did you mean `{near}`?")
                }
                None => format!(
                    "unknown field `{shown}`; remove it or correct its spelling (fields here: {})",
                    known.join(", ")
                ),
            };
            problems.add(&self.key_path(key), message);
        }
    }

    /// The field `key`, if present (the first, if it appears twice).
    #[inline]
    pub fn optional(&self, key: &'static str) -> Option<Field<'a, '_>> {
        let node = self.entries.iter().find(|(k, _)| k == key).map(|(_, node)| node)?;
        Some(Field { node, path: self.key_path(key) })
    }

    /// The field `key`; reports it as missing when absent.
    #[inline]
    pub fn required(&self, key: &'static str, problems: &mut Problems) -> Option<Field<'a, '_>> {
        let field = self.optional(key);
        if field.is_none() && !self.suggested.contains(&key) {
            problems.add(&self.key_path(key), format!("missing required field `{key}`"));
        }
        field
    }
}

/// The candidate `word` is most likely a misspelling of, if any is close.
pub fn suggest<'c>(word: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    let word = word.trim().to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&word, &c.to_lowercase()), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::json::read;

    const KNOWN: &[&str] = &["name", "diameter_mm", "origin"];

    const A: Pointer<'static> = Pointer::Key(&Pointer::Root, "a");

    /// Opens `text` at `/a`; the `diameter_mm` value, if any, and the problems.
    fn open(text: &str) -> (Option<String>, Problems) {
        let node = read(text.as_bytes()).unwrap();
        let mut problems = Problems::default();
        let field = Field { node: &node, path: A };
        let reader = ObjectReader::open(&field, "an artery", KNOWN, &mut problems).unwrap();
        let diameter = reader.required("diameter_mm", &mut problems).map(|f| f.node.describe());
        reader.required("name", &mut problems);
        (diameter, problems)
    }

    fn messages(problems: &Problems) -> Vec<(&str, &str)> {
        problems.list.iter().map(|p| (p.path.as_str(), p.message.as_str())).collect()
    }

    #[test]
    fn a_typo_gets_a_suggestion_and_no_second_missing_problem() {
        let (_, problems) = open(r#"{"name": "x", "diameter": 2}"#);
        assert_eq!(
            messages(&problems),
            [("/a/diameter", "unknown field `diameter`; did you mean `diameter_mm`?")]
        );
        let (_, problems) = open(r#"{"name": "x", "diamter_mm": 2}"#);
        assert_eq!(
            problems.list[0].message,
            "unknown field `diamter_mm`; did you mean `diameter_mm`?"
        );
    }

    #[test]
    fn a_near_miss_of_a_field_already_there_is_not_taken_for_it() {
        let (_, problems) = open(r#"{"name": "x", "diameter_mm": 2, "diameter": 3}"#);
        assert!(problems.list[0].message.starts_with("unknown field `diameter`; remove it"));
    }

    #[test]
    fn a_far_unknown_field_lists_the_fields() {
        let (_, problems) = open(r#"{"name": "x", "diameter_mm": 2, "colour": 1}"#);
        assert_eq!(
            messages(&problems),
            [(
                "/a/colour",
                "unknown field `colour`; remove it or correct its spelling (fields here: name, \
                 diameter_mm, origin)"
            )]
        );
    }

    #[test]
    fn duplicates_are_reported_once_per_key() {
        let (diameter, problems) =
            open(r#"{"name": "x", "diameter_mm": 2, "diameter_mm": 3, "name": "y", "name": "z"}"#);
        assert_eq!(
            messages(&problems),
            [
                ("/a/name", "`name` appears 3 times; keep one"),
                ("/a/diameter_mm", "`diameter_mm` appears twice; keep one")
            ]
        );
        assert_eq!(diameter.unwrap(), "a number 2", "the first of the two");
    }

    #[test]
    fn missing_fields_are_reported_at_their_pointer() {
        let (_, problems) = open("{}");
        assert_eq!(
            messages(&problems),
            [
                ("/a/diameter_mm", "missing required field `diameter_mm`"),
                ("/a/name", "missing required field `name`")
            ]
        );
    }

    #[test]
    fn keys_are_escaped_in_pointers() {
        assert_eq!(escape_key("a/b~c"), "a~1b~0c");
        let (_, problems) = open(r#"{"name": "x", "diameter_mm": 2, "m~/x": 1}"#);
        assert_eq!(problems.list[0].path, "/a/m~0~1x");
    }

    #[test]
    fn suggestions_need_a_close_match() {
        assert_eq!(suggest("Spine", ["spine", "sacrum"]), Some("spine"));
        assert_eq!(suggest("name", ["number", "date"]), None);
        assert_eq!(suggest("xyz", ["spine", "sacrum"]), None);
    }

    #[test]
    fn lists_go_on_past_bad_elements() {
        let node = read(br#"[1, "x", 2, "y"]"#).unwrap();
        let mut problems = Problems::default();
        let field = Field::root(&node);
        let read_number = |_, item: Field<'_, '_>, p: &mut Problems| match item.node {
            Node::Number(text) => Some(text.to_string()),
            _ => {
                p.wrong_type(&item, "a number");
                None
            }
        };
        assert_eq!(field.list("a list", &mut problems, read_number), None);
        assert_eq!(
            messages(&problems),
            [
                ("/1", "expected a number, found a string \"x\""),
                ("/3", "expected a number, found a string \"y\"")
            ]
        );
    }
}
