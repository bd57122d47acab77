//! Structured mutation of a plan: a JSON tree that keeps number text and
//! duplicate keys exactly, and edits chosen by the fuzzer (replace, remove,
//! duplicate, rename, insert) applied to the SPEC §1 example. Starting from a
//! valid plan, most edits keep it readable, so the rules run — where raw
//! byte mutation mostly produces unreadable JSON.

use arbitrary::Arbitrary;

/// A JSON value as written: numbers keep their text, objects their order
/// and any duplicate keys.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number literal, exactly as it will be written.
    Number(String),
    /// A string.
    Text(String),
    /// An array.
    Array(Vec<Json>),
    /// An object's members in order, duplicates kept.
    Object(Vec<(String, Json)>),
}

/// Words the shipped rules care about besides the format's field names
/// ([`embolint::plan::FIELD_NAMES`]), so the fuzzer can reach deep rule
/// branches without guessing spellings byte by byte.
const WORDS: &[&str] = &[
    "embolint.plan/1",
    "spine",
    "sacrum",
    "iliac",
    "other",
    "pirarubicin",
    "pirarubicine",
    "THP",
    "carboplatin",
    "paraplatine",
    "cisplatin",
    "PVA",
    "polyvinyl alcohol",
    "gelfoam",
    "alfentanil",
    "midazolam",
    "clonazepam",
    "propofol",
    "methylprednisolone",
    "dexamethasone",
    "granisetron",
    "IV",
    "intravenous",
    "oral",
    "chemotherapy",
    "radiotherapy",
    "radiation therapy",
    "surgery",
    "mg",
    "g",
    "ug",
    "µg",
    "μg",
    "mcg",
    "mg/h",
    "ug/h",
    "µg/h",
    "mg/min",
    "µg/min",
    "mcg/min",
    "MG",
    "left L3 lumbar",
    "right L1 lumbar",
    "left T9 intercostal",
    "aorta",
    "2026-11-05",
    "2026-10-05",
    "2026-12-05",
    "2026-01-31",
    "2026-02-28",
    "2024-02-29",
    "2026-02-29",
    "2026-04-30",
    "2026-05-30",
    "0000-01-01",
    "9999-12-31",
    "PAT-0007",
    "PLN-2026-0042",
    " ",
    "",
    "\u{a0}",
    "Pirarubicin ",
    "\u{130}",
];

/// A field name of the format, a word of [`WORDS`], or any text.
#[derive(Arbitrary, Debug)]
pub enum Word {
    /// The `n`th known word (modulo the list's length).
    Known(u8),
    /// Text the fuzzer makes up.
    Other(String),
}

impl Word {
    fn text(&self) -> String {
        match self {
            Word::Known(n) => {
                let fields = embolint::plan::FIELD_NAMES.iter();
                let known: Vec<&str> = fields.chain(WORDS).copied().collect();
                known.get(usize::from(*n) % known.len()).unwrap_or(&"").to_string()
            }
            Word::Other(text) => text.clone(),
        }
    }
}

/// A number literal: `digits` with a decimal point `point` places from the
/// right, and an optional exponent, so every bound of SPEC §1 (15
/// significant digits, below 10⁹, 18 decimals) can be reached and crossed.
#[derive(Arbitrary, Debug)]
pub struct Number {
    negative: bool,
    digits: u64,
    point: u8,
    exponent: Option<i8>,
}

impl Number {
    fn text(&self) -> String {
        let digits = self.digits.to_string();
        let point = usize::from(self.point % 24);
        let padded = format!("{digits:0>width$}", width = point + 1);
        let (int_part, frac_part) = padded.split_at(padded.len() - point);
        let mut text = String::new();
        if self.negative {
            text.push('-');
        }
        text.push_str(int_part);
        if !frac_part.is_empty() {
            text.push('.');
            text.push_str(frac_part);
        }
        if let Some(exponent) = self.exponent {
            text.push_str(&format!("e{exponent}"));
        }
        text
    }
}

/// A new value to put into the plan.
#[derive(Arbitrary, Debug)]
pub enum Value {
    Null,
    Bool(bool),
    Number(Number),
    Word(Word),
    EmptyArray,
    EmptyObject,
    /// `{"value": .., "unit": ..}`.
    Quantity(Number, Word),
    /// A copy of another node of the plan (pre-order index).
    CopyOf(u16),
}

/// One edit, at a node chosen by its pre-order index (modulo the count).
#[derive(Arbitrary, Debug)]
pub enum Edit {
    /// Put a new value in place of the node.
    Replace { at: u16, value: Value },
    /// Take the node out of its array or object.
    Remove { at: u16 },
    /// Repeat the node right after itself (in an object: a duplicate key).
    Duplicate { at: u16 },
    /// Give an object member another key.
    Rename { at: u16, key: Word },
    /// Add a member to an object, or an element to an array.
    Insert { at: u16, key: Word, value: Value },
}

/// Where a node is: the child positions from the root.
type Path = Vec<usize>;

/// Every node's path, in pre-order (the root first).
fn paths(root: &Json) -> Vec<Path> {
    let mut all = Vec::new();
    collect(root, &mut Vec::new(), &mut all);
    all
}

fn collect(node: &Json, here: &mut Path, all: &mut Vec<Path>) {
    all.push(here.clone());
    let children: Vec<&Json> = match node {
        Json::Array(items) => items.iter().collect(),
        Json::Object(members) => members.iter().map(|(_, v)| v).collect(),
        _ => Vec::new(),
    };
    for (i, child) in children.into_iter().enumerate() {
        here.push(i);
        collect(child, here, all);
        here.pop();
    }
}

fn node_mut<'a>(node: &'a mut Json, path: &[usize]) -> Option<&'a mut Json> {
    let Some((first, rest)) = path.split_first() else {
        return Some(node);
    };
    let child = match node {
        Json::Array(items) => items.get_mut(*first)?,
        Json::Object(members) => &mut members.get_mut(*first)?.1,
        _ => return None,
    };
    node_mut(child, rest)
}

fn node<'a>(node: &'a Json, path: &[usize]) -> Option<&'a Json> {
    let Some((first, rest)) = path.split_first() else {
        return Some(node);
    };
    let child = match node {
        Json::Array(items) => items.get(*first)?,
        Json::Object(members) => &members.get(*first)?.1,
        _ => return None,
    };
    self::node(child, rest)
}

impl Json {
    /// Applies one edit; an edit that does not fit the chosen node (renaming
    /// an array element) does nothing.
    pub fn apply(&mut self, edit: &Edit) {
        let all = paths(self);
        let pick = |at: u16| all.get(usize::from(at) % all.len().max(1)).cloned();
        let new_value = |root: &Json, value: &Value| match value {
            Value::CopyOf(at) => {
                pick(*at).and_then(|p| node(root, &p).cloned()).unwrap_or(Json::Null)
            }
            other => fresh(other),
        };
        match edit {
            Edit::Replace { at, value } => {
                let replacement = new_value(self, value);
                if let Some(target) = pick(*at).and_then(|p| node_mut(self, &p)) {
                    *target = replacement;
                }
            }
            Edit::Remove { at } => self.with_parent(pick(*at), |items, i| {
                items.remove_at(i);
            }),
            Edit::Duplicate { at } => self.with_parent(pick(*at), |items, i| items.duplicate(i)),
            Edit::Rename { at, key } => self.with_parent(pick(*at), |items, i| {
                if let Siblings::Members(members) = items {
                    if let Some(member) = members.get_mut(i) {
                        member.0 = key.text();
                    }
                }
            }),
            Edit::Insert { at, key, value } => {
                let addition = new_value(self, value);
                match pick(*at).and_then(|p| node_mut(self, &p)) {
                    Some(Json::Object(members)) => members.push((key.text(), addition)),
                    Some(Json::Array(items)) => items.push(addition),
                    Some(other) => *other = addition,
                    None => {}
                }
            }
        }
    }

    /// Runs `change` on the array or object holding the node at `path`.
    fn with_parent(&mut self, path: Option<Path>, change: impl FnOnce(Siblings, usize)) {
        let Some((last, parent)) = path.as_deref().and_then(|p| p.split_last()) else {
            return;
        };
        match node_mut(self, parent) {
            Some(Json::Array(items)) => change(Siblings::Items(items), *last),
            Some(Json::Object(members)) => change(Siblings::Members(members), *last),
            _ => {}
        }
    }

    /// The JSON text, keys in order, duplicates kept, numbers as written.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Number(text) => out.push_str(text),
            Json::Text(text) => out.push_str(&serde_json::Value::from(text.as_str()).to_string()),
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Json::Object(members) => {
                out.push('{');
                for (i, (key, value)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::Value::from(key.as_str()).to_string());
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }

    /// The tree of a JSON text read by serde_json (numbers as serde_json
    /// writes them back, which is exact for the SPEC example's numbers).
    pub fn from_serde(value: &serde_json::Value) -> Json {
        match value {
            serde_json::Value::Null => Json::Null,
            serde_json::Value::Bool(b) => Json::Bool(*b),
            serde_json::Value::Number(n) => Json::Number(n.to_string()),
            serde_json::Value::String(s) => Json::Text(s.clone()),
            serde_json::Value::Array(items) => {
                Json::Array(items.iter().map(Json::from_serde).collect())
            }
            serde_json::Value::Object(members) => Json::Object(
                members.iter().map(|(k, v)| (k.clone(), Json::from_serde(v))).collect(),
            ),
        }
    }

    /// Every object, depth first, for rewriting quantities.
    pub fn for_each_object(&mut self, visit: &mut impl FnMut(&mut Vec<(String, Json)>)) {
        match self {
            Json::Array(items) => items.iter_mut().for_each(|item| item.for_each_object(visit)),
            Json::Object(members) => {
                visit(members);
                members.iter_mut().for_each(|(_, value)| value.for_each_object(visit));
            }
            _ => {}
        }
    }
}

/// The children of one array or object.
enum Siblings<'a> {
    Items(&'a mut Vec<Json>),
    Members(&'a mut Vec<(String, Json)>),
}

impl Siblings<'_> {
    fn remove_at(self, i: usize) {
        match self {
            Siblings::Items(items) if i < items.len() => {
                items.remove(i);
            }
            Siblings::Members(members) if i < members.len() => {
                members.remove(i);
            }
            _ => {}
        }
    }

    fn duplicate(self, i: usize) {
        match self {
            Siblings::Items(items) => {
                if let Some(copy) = items.get(i).cloned() {
                    items.insert(i + 1, copy);
                }
            }
            Siblings::Members(members) => {
                if let Some(copy) = members.get(i).cloned() {
                    members.insert(i + 1, copy);
                }
            }
        }
    }
}

fn fresh(value: &Value) -> Json {
    match value {
        Value::Null | Value::CopyOf(_) => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Number(n) => Json::Number(n.text()),
        Value::Word(w) => Json::Text(w.text()),
        Value::EmptyArray => Json::Array(Vec::new()),
        Value::EmptyObject => Json::Object(Vec::new()),
        Value::Quantity(n, unit) => Json::Object(vec![
            ("value".into(), Json::Number(n.text())),
            ("unit".into(), Json::Text(unit.text())),
        ]),
    }
}
