//! The keys of a `[[rules]]` entry as read from TOML, each with where it was
//! written, and the checked values the kinds build from them.
//!
//! Every key any kind takes is listed once here, so TOML itself refuses an
//! unknown key (a typo) with its line and column; each kind then takes its
//! own keys, and a key left over belongs to another kind and is refused too.

use super::care::RequiredCareEntry;
use super::loader::LoadError;
use super::schedule::WindowEntry;
use crate::decimal::Decimal;
use crate::names::{Name, Names};
use crate::plan::quantity::accepted_units;
use crate::plan::{Dimension, Quantity};
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::ops::Range;
use toml::Spanned;

macro_rules! params {
    ($($(#[$doc:meta])* $field:ident: $ty:ty,)*) => {
        /// One `[[rules]]` entry: every key optional here; the loader and the
        /// kind decide which are required.
        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub(super) struct Params {
            $($(#[$doc])* pub(super) $field: Option<Spanned<$ty>>,)*
            /// The rule's id, for messages about its parameters.
            #[serde(skip)]
            pub(super) rule_id: String,
            /// The rule's kind, for messages about its parameters.
            #[serde(skip)]
            pub(super) rule_kind: String,
            /// Where the entry is, for a missing key.
            #[serde(skip)]
            pub(super) rule_span: Range<usize>,
        }

        impl Params {
            /// Every key a rule entry may have.
            pub(super) const KEYS: &'static [&'static str] = &[$(stringify!($field)),*];

            /// The keys still present, with where each is written.
            pub(super) fn present(&self) -> Vec<(&'static str, Range<usize>)> {
                let mut present = Vec::new();
                $(
                    if let Some(value) = &self.$field {
                        present.push((stringify!($field), value.span()));
                    }
                )*
                present
            }
        }
    };
}

params! {
    /// Unique id of the rule.
    id: String,
    /// Which kind of check it is.
    kind: String,
    /// error, warning or info.
    severity: String,
    /// false switches the rule off.
    enabled: bool,
    /// What the rule is for.
    description: String,
    /// The protocol's sentence.
    citation: String,
    /// Why a rule that is not the protocol's is there, instead of a citation.
    rationale: String,
    /// Whether a plan may acknowledge the rule's findings.
    acknowledgeable: bool,
    /// spinal-mapping-required: lesion regions needing the mapping.
    regions: Vec<String>,
    /// artery-dose-max: diameter from which the large caps apply.
    large_from_mm: Number,
    /// artery-dose-max: caps below `large_from_mm`.
    small_caps: Table<Spanned<String>>,
    /// artery-dose-max: caps from `large_from_mm` on.
    large_caps: Table<Spanned<String>>,
    /// session-dose-max/min: per-drug session limits.
    limits: Table<Spanned<String>>,
    /// unknown-drug: drugs allowed into an artery.
    formulary: Vec<String>,
    /// artery-count: fewest treated arteries.
    min: u64,
    /// artery-count: most treated arteries.
    max: u64,
    /// particle-size-min: smallest lower bound in µm.
    min_um: Number,
    /// particle-size-protocol: the calibres in µm.
    calibres_um: Vec<[Number; 2]>,
    /// embolic-agent: allowed agents.
    agents: Vec<String>,
    /// embolic-agent: drugs given mixed with the embolic agent.
    mixed_drugs: Vec<String>,
    /// session-spacing: calendar months between sessions.
    months: u64,
    /// course-length: sessions the course should have.
    min_sessions: u64,
    /// follow-up: the windows needing a visit.
    windows: Vec<WindowEntry>,
    /// sedation-dose-max: highest rate per sedative.
    rate_limits: Table<Spanned<String>>,
    /// sedation-dose-max: highest bolus per sedative.
    bolus_limits: Table<Spanned<String>>,
    /// sedation-protocol: sedatives given as a continuous rate.
    rate_sedatives: Vec<String>,
    /// sedation-protocol: sedatives given as a bolus.
    bolus_sedatives: Vec<String>,
    /// sedation-protocol: sedatives of which one session gives one only.
    not_together: Vec<String>,
    /// post-procedure-care: the items each session needs.
    required: Vec<RequiredCareEntry>,
    /// eligibility: treatments that must have failed.
    required_failed_treatments: Vec<String>,
    /// eligibility: whether cementoplasty must be contraindicated.
    require_cementoplasty_contraindicated: bool,
    /// eligibility: whether a multidisciplinary decision must be recorded.
    require_mdt_decision: bool,
}

impl Params {
    /// The error for a required key that is absent.
    pub(super) fn missing(&self, key: &str) -> LoadError {
        LoadError::at(
            self.rule_span.clone(),
            format!(
                "rule `{}` of kind `{}` needs the parameter `{key}`",
                self.rule_id, self.rule_kind
            ),
        )
    }
}

/// Takes a required key out of a rule entry, or returns the error naming it:
/// `let caps = required!(params, small_caps);`.
macro_rules! required {
    ($params:ident, $key:ident) => {
        match $params.$key.take() {
            Some(value) => value,
            None => return Err($params.missing(stringify!($key))),
        }
    };
}
pub(super) use required;

/// A number in the rule file: a TOML integer, float or a decimal string,
/// kept exact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub(super) struct Number(pub(super) Decimal);

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Number, D::Error> {
        struct NumberVisitor;
        impl Visitor<'_> for NumberVisitor {
            type Value = Number;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Number, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Number, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Number, E> {
                // Rust prints the shortest text that reads back as the same
                // float, which is the number as the file wrote it.
                self.visit_str(&v.to_string())
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Number, E> {
                let value: Decimal =
                    v.parse().map_err(|e| E::custom(format!("the number `{v}` {e}")))?;
                if value.is_negative() {
                    return Err(E::custom(format!("`{v}` is negative; this number cannot be")));
                }
                Ok(Number(value))
            }
        }
        deserializer.deserialize_any(NumberVisitor)
    }
}

/// A TOML table read in the order the file writes it.
#[derive(Debug, Default)]
pub(super) struct Table<V>(pub(super) Vec<(String, V)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Table<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Table<V>, D::Error> {
        struct TableVisitor<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for TableVisitor<V> {
            type Value = Table<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a table")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Table<V>, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<String, V>()? {
                    entries.push(entry);
                }
                Ok(Table(entries))
            }
        }
        deserializer.deserialize_map(TableVisitor(std::marker::PhantomData))
    }
}

/// A limit per drug (or sedative), keyed by canonical name, in file order.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct DoseLimits(pub(super) Vec<(String, Quantity)>);

impl DoseLimits {
    /// Reads `{ name = "3 mg", ... }`: each a quantity of `dimension`, not
    /// negative, and no name given twice (synonyms included).
    pub(super) fn read(
        table: Spanned<Table<Spanned<String>>>,
        dimension: Dimension,
        names: &Names,
    ) -> Result<DoseLimits, LoadError> {
        let mut limits: Vec<(String, Quantity)> = Vec::new();
        for (name, text) in table.into_inner().0 {
            let canonical = names.canonical(&name);
            if canonical.is_empty() {
                return Err(LoadError::at(text.span(), "a drug name is empty"));
            }
            if limits.iter().any(|(known, _)| *known == canonical) {
                return Err(LoadError::at(
                    text.span(),
                    format!("`{name}` is {canonical}, which already has a limit in this table"),
                ));
            }
            limits.push((canonical, quantity(&text, dimension)?));
        }
        Ok(DoseLimits(limits))
    }

    /// The limit for a canonical name, if it has one.
    pub(super) fn get(&self, canonical: &str) -> Option<Quantity> {
        self.0.iter().find(|(name, _)| name == canonical).map(|(_, limit)| *limit)
    }

    /// "pirarubicin 3 mg, carboplatin 50 mg".
    pub(super) fn summary(&self) -> String {
        let parts: Vec<String> = self.0.iter().map(|(name, q)| format!("{name} {q}")).collect();
        if parts.is_empty() {
            "none".to_string()
        } else {
            parts.join(", ")
        }
    }
}

impl Serialize for DoseLimits {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, limit) in &self.0 {
            map.serialize_entry(name, &limit.to_string())?;
        }
        map.end()
    }
}

/// Reads a limit such as `"3 mg"`: a quantity of the right dimension, not
/// negative.
pub(super) fn quantity(
    text: &Spanned<String>,
    dimension: Dimension,
) -> Result<Quantity, LoadError> {
    let quantity =
        Quantity::parse_text(text.get_ref()).map_err(|e| LoadError::at(text.span(), e))?;
    if quantity.unit.dimension != dimension {
        let wanted = match dimension {
            Dimension::Mass => "a mass",
            Dimension::Rate => "a rate",
        };
        return Err(LoadError::at(
            text.span(),
            format!("`{}` is not {wanted}; use {}", text.get_ref(), accepted_units(dimension)),
        ));
    }
    if quantity.value.is_negative() {
        return Err(LoadError::at(
            text.span(),
            format!("`{}` is negative; a limit cannot be", text.get_ref()),
        ));
    }
    Ok(quantity)
}

/// Reads a list of names: none empty, at least one.
pub(super) fn name_list(list: Spanned<Vec<String>>, what: &str) -> Result<Vec<String>, LoadError> {
    let span = list.span();
    let names: Vec<String> = list.into_inner().into_iter().map(|n| n.trim().to_string()).collect();
    if names.is_empty() {
        return Err(LoadError::at(span, format!("the list of {what} is empty")));
    }
    if names.iter().any(String::is_empty) {
        return Err(LoadError::at(span, format!("the list of {what} has an empty name")));
    }
    Ok(names)
}

/// Reads a list of names (none empty, at least one), each with its
/// canonical form for comparing with plans.
pub(super) fn rule_names(
    list: Spanned<Vec<String>>,
    what: &str,
    names: &Names,
) -> Result<Vec<RuleName>, LoadError> {
    let written = name_list(list, what)?;
    Ok(written.into_iter().map(|name| RuleName::new(name, names)).collect())
}

/// A name the rule file gives (a drug of the formulary, an agent, a route):
/// as written, for messages and listings, and in canonical form, worked out
/// once when the rules are loaded rather than for every name of every plan.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct RuleName {
    /// As the rule file writes it.
    written: String,
    /// Normalized and resolved through the rule set's synonyms.
    canonical: String,
}

impl RuleName {
    /// `written` with its canonical form under `names`, the rule set's
    /// synonyms (the same table plans are compared through).
    pub(super) fn new(written: String, names: &Names) -> RuleName {
        let canonical = names.canonical(&written);
        RuleName { written, canonical }
    }

    /// True when `name`, from a plan, is this name or one of its synonyms.
    pub(super) fn matches(&self, name: &Name) -> bool {
        name.canonical == self.canonical
    }
}

/// True when `name`, from a plan, is one of `list` or one of their synonyms.
pub(super) fn is_one_of(list: &[RuleName], name: &Name) -> bool {
    list.iter().any(|known| known.matches(name))
}

impl AsRef<str> for RuleName {
    fn as_ref(&self) -> &str {
        &self.written
    }
}

impl fmt::Display for RuleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.written)
    }
}

/// Listed as the rule file writes it.
impl Serialize for RuleName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.written)
    }
}
