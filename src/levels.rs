//! The vertebral levels and sides a text names: how `spinal-feeder-excluded`
//! recognises a mapped spinal artery's origin written in other words, and
//! how `spinal-mapping-required` sees that a plan treats near the cord.
//!
//! The words of a text are its longest runs of ASCII letters and digits,
//! lowercased (`L2–L4` has the words `l2` and `l4`). A level is one word —
//! `c`, `t`, `d` (dorsal), `l` or `s`, or `th` (thoracic), followed by a
//! number (`T10`, `Th10`, `T010`) — or one of these letters as a word
//! followed by a word that is a number (`T 10`, `T-10`). `d` and `th` are
//! `t`; leading zeros do not count. The levels are C1–C8, T1–T13, L1–L6 and
//! S1–S5 (T13 and L6 are anatomical variants): `T9a`, `TL1` or `T14` name
//! none. A text names a side when one of its words is `left` or `right`; the
//! pairs (level, side) it names are each level with each side, with both
//! sides when it names none.

use std::collections::BTreeSet;
use std::fmt;

/// A region of the spine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Region {
    Cervical,
    Thoracic,
    Lumbar,
    Sacral,
}

impl Region {
    /// The region a level's letters stand for, if they stand for one
    /// (in either case: `T`, `t`, `Th`, `TH`).
    fn of(letters: &str) -> Option<Region> {
        let is = |word: &str| letters.eq_ignore_ascii_case(word);
        if is("c") {
            Some(Region::Cervical)
        } else if is("t") || is("th") || is("d") {
            Some(Region::Thoracic)
        } else if is("l") {
            Some(Region::Lumbar)
        } else if is("s") {
            Some(Region::Sacral)
        } else {
            None
        }
    }

    /// The highest level of the region (T13 and L6 are variants, but levels).
    fn last(self) -> u8 {
        match self {
            Region::Cervical => 8,
            Region::Thoracic => 13,
            Region::Lumbar => 6,
            Region::Sacral => 5,
        }
    }

    fn letter(self) -> char {
        match self {
            Region::Cervical => 'C',
            Region::Thoracic => 'T',
            Region::Lumbar => 'L',
            Region::Sacral => 'S',
        }
    }
}

/// A vertebral level: T10, L1, S2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Level {
    pub region: Region,
    /// 1 up to the region's last level.
    pub number: u8,
}

impl Level {
    /// The level written as `letters` and `digits` (already split), if
    /// that is a level: `("th", "010")` is T10; `("t", "14")` is none.
    fn read(letters: &str, digits: &str) -> Option<Level> {
        let region = Region::of(letters)?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let significant = digits.trim_start_matches('0');
        // More than two digits after the zeros is no level (and no overflow).
        let number: u8 =
            if significant.len() > 2 { return None } else { significant.parse().ok()? };
        (1..=region.last()).contains(&number).then_some(Level { region, number })
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.region.letter(), self.number)
    }
}

/// A side of the body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Side {
    Left,
    Right,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Left => "left",
            Side::Right => "right",
        })
    }
}

/// The levels and sides one or more texts name, as (level, side) pairs.
pub type Pairs = BTreeSet<(Level, Side)>;

/// The words of a text: its longest runs of ASCII letters and digits (as
/// written; they are compared without regard to case).
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_ascii_alphanumeric()).filter(|word| !word.is_empty())
}

/// The levels a text names, in order, each once.
///
/// ```
/// use embolint::levels::levels;
/// let named: Vec<String> = levels("tumour T-10, Th011 and L01–L2").iter().map(|l| l.to_string()).collect();
/// assert_eq!(named, ["T10", "T11", "L1", "L2"]);
/// assert!(levels("T9a TL1 T14").is_empty());
/// ```
pub fn levels(text: &str) -> Vec<Level> {
    let mut words = words(text).peekable();
    let mut found: Vec<Level> = Vec::new();
    while let Some(word) = words.next() {
        let letters_end = word.find(|c: char| c.is_ascii_digit()).unwrap_or(word.len());
        let (letters, digits) = word.split_at(letters_end);
        let level = if digits.is_empty() {
            // A letter as a word, followed by a word that is a number.
            words.peek().and_then(|next| Level::read(letters, next))
        } else {
            Level::read(letters, digits)
        };
        if let Some(level) = level.filter(|level| !found.contains(level)) {
            found.push(level);
        }
    }
    found
}

/// Whether a text names at least one vertebral level.
pub fn names_a_level(text: &str) -> bool {
    !levels(text).is_empty()
}

/// The sides a text names: the words `left` and `right`.
pub fn sides(text: &str) -> Vec<Side> {
    let names = |side: &str| words(text).any(|word| word.eq_ignore_ascii_case(side));
    let mut sides = Vec::new();
    if names("left") {
        sides.push(Side::Left);
    }
    if names("right") {
        sides.push(Side::Right);
    }
    sides
}

/// The (level, side) pairs a text names: each level with each side it
/// names, with both sides when it names none.
pub fn pairs(text: &str) -> Pairs {
    let mut sides = sides(text);
    if sides.is_empty() {
        sides = vec![Side::Left, Side::Right];
    }
    let mut pairs = Pairs::new();
    for level in levels(text) {
        for side in &sides {
            pairs.insert((level, *side));
        }
    }
    pairs
}

/// "left L1", "right T10 and left T10".
pub fn describe(pairs: &Pairs) -> String {
    let items: Vec<String> = pairs.iter().map(|(level, side)| format!("{side} {level}")).collect();
    items.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(text: &str) -> Vec<String> {
        levels(text).iter().map(Level::to_string).collect()
    }

    #[test]
    fn a_level_is_one_word_or_a_letter_then_a_number() {
        assert_eq!(named("right L1 lumbar artery"), ["L1"]);
        assert_eq!(named("T10"), ["T10"]);
        assert_eq!(named("Th10"), ["T10"]);
        assert_eq!(named("D10 intercostal"), ["T10"]);
        assert_eq!(named("T 10"), ["T10"]);
        assert_eq!(named("T-10"), ["T10"]);
        assert_eq!(named("th-10"), ["T10"]);
        assert_eq!(named("d 7"), ["T7"]);
        assert_eq!(named("C2 S1 s5 c8"), ["C2", "S1", "S5", "C8"]);
    }

    #[test]
    fn leading_zeros_do_not_count() {
        assert_eq!(named("right L01 lumbar"), ["L1"]);
        assert_eq!(named("T010"), ["T10"]);
        assert_eq!(named("T 009"), ["T9"]);
        assert_eq!(named("L0001"), ["L1"]);
        assert!(named("T0").is_empty() && named("L00").is_empty());
    }

    #[test]
    fn words_that_are_not_levels_name_none() {
        for text in [
            "T9a",
            "TL1",
            "T14",
            "L7",
            "S6",
            "C9",
            "C0",
            "T",
            "9",
            "lumbar",
            "left iliolumbar",
            "T 9a",
            "XT10",
            "T10x",
            "t 1000",
            "l99999999999999999999999",
        ] {
            assert!(named(text).is_empty(), "{text}: {:?}", named(text));
        }
    }

    #[test]
    fn t13_and_l6_are_variant_levels() {
        assert_eq!(named("right T13 intercostal"), ["T13"]);
        assert_eq!(named("L6"), ["L6"]);
    }

    #[test]
    fn words_split_at_every_other_character() {
        assert_eq!(named("L2–L4"), ["L2", "L4"]);
        assert_eq!(named("(tumour L2/L3)"), ["L2", "L3"]);
        assert_eq!(named("T12·L1"), ["T12", "L1"]);
        // Non-ASCII letters are not part of a word.
        assert_eq!(named("éT10"), ["T10"]);
    }

    #[test]
    fn pairs_take_both_sides_when_none_is_named() {
        let p = |text: &str| describe(&pairs(text));
        assert_eq!(p("right L1 lumbar"), "right L1");
        assert_eq!(p("T10 intercostal"), "left T10, right T10");
        assert_eq!(p("common trunk of right and left L4 lumbar arteries"), "left L4, right L4");
        assert_eq!(p("LEFT t9 Intercostal"), "left T9");
        assert_eq!(p("aorta"), "");
        assert_eq!(p("left internal iliac"), "");
        assert!(sides("leftover rightmost").is_empty(), "whole words only");
    }
}
