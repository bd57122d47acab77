//! What a name in the inbox means (SPEC §4), and how a plan's name is
//! turned into a safe, unique name in an outcome folder.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

/// Longest file name most Linux file systems accept, in bytes.
pub const NAME_MAX: usize = 255;
/// Suffix of the verdict written beside a plan.
pub const SIDECAR_SUFFIX: &str = ".verdict.json";
/// Suffix of the same verdict as text for people, also beside the plan:
/// what `embolint check` prints, so a pass with warnings is told from a
/// clean pass without opening the JSON.
pub const TEXT_SIDECAR_SUFFIX: &str = ".verdict.txt";
/// Longest plan name that leaves room for the sidecar suffix and a unique
/// counter (`.99999`) in the outcome folder.
pub const MAX_PLAN_NAME: usize = NAME_MAX - SIDECAR_SUFFIX.len() - 6;

/// What a name found in the inbox stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameKind {
    /// Ends in `.json`: a plan to judge.
    Plan,
    /// Starts with `.` or ends in `.tmp`, `.part` or `~`: a writer is still
    /// busy with it; not a plan yet, and not worth a log line.
    NotYet,
    /// Any other name: left alone, reported once.
    Other,
}

/// Classifies an inbox name by its bytes (a name need not be UTF-8).
///
/// `.json` is matched without regard to ASCII case, so `PLAN.JSON` from
/// software that writes upper-case names is judged rather than ignored.
pub fn classify(name: &OsStr) -> NameKind {
    let bytes = name.as_bytes();
    let lower = bytes.to_ascii_lowercase();
    if bytes.starts_with(b".")
        || lower.ends_with(b".tmp")
        || lower.ends_with(b".part")
        || bytes.ends_with(b"~")
    {
        NameKind::NotYet
    } else if lower.ends_with(b".json") {
        NameKind::Plan
    } else {
        NameKind::Other
    }
}

/// Why a plan's name alone makes it invalid, in words for the person who
/// named it; `None` for a good name.
pub fn name_problem(name: &OsStr) -> Option<String> {
    let Some(text) = name.to_str() else {
        return Some(format!(
            "the file name is not valid UTF-8 (shown as `{}`): rename the plan with \
             letters, digits, `-`, `_` and `.` and drop it again",
            name.to_string_lossy()
        ));
    };
    if text.chars().any(char::is_control) {
        return Some(format!(
            "the file name contains a control character such as a line break (shown \
             escaped as {text:?}): rename the plan on one line without control characters \
             and drop it again"
        ));
    }
    if text.len() > MAX_PLAN_NAME {
        return Some(format!(
            "the file name is {} bytes long; at most {MAX_PLAN_NAME} leave room for the \
             verdict file beside it: shorten the name and drop the plan again",
            text.len()
        ));
    }
    None
}

/// A name for `name` in an outcome folder: valid UTF-8, without control
/// characters, short enough for the sidecar and a counter, never `.` or
/// `..` and never a hidden name. Unchanged for ordinary names.
pub fn outcome_base(name: &OsStr) -> String {
    let lossy = name.to_string_lossy();
    let mut safe: String =
        lossy.chars().map(|c| if c.is_control() || c == '/' { '_' } else { c }).collect();
    if safe.starts_with('.') {
        safe.insert(0, '_');
    }
    if safe.len() > MAX_PLAN_NAME {
        let (stem, extension) = split_extension(&safe);
        let keep = MAX_PLAN_NAME.saturating_sub(extension.len());
        let mut cut = keep.min(stem.len());
        while !stem.is_char_boundary(cut) {
            cut -= 1;
        }
        safe = format!("{}{}", stem.get(..cut).unwrap_or(""), extension);
    }
    safe
}

/// The n-th candidate name (n ≥ 2) for `base` when `base` is taken:
/// `plan.json` → `plan.2.json`.
pub fn numbered(base: &str, n: u32) -> String {
    let (stem, extension) = split_extension(base);
    format!("{stem}.{n}{extension}")
}

/// Splits `plan.json` into `plan` and `.json`; a name without an extension
/// has an empty one.
fn split_extension(name: &str) -> (&str, &str) {
    match name.rfind('.') {
        Some(dot) if dot > 0 => (name.get(..dot).unwrap_or(name), name.get(dot..).unwrap_or("")),
        _ => (name, ""),
    }
}

/// The name as text for logs and records: lossy for non-UTF-8 names (the
/// exact bytes go into the record separately, see [`hex_if_not_utf8`]).
pub fn display(name: &OsStr) -> String {
    name.to_string_lossy().into_owned()
}

/// Text from a file name or a plan, safe for one log line: control
/// characters escaped (a name with a line break cannot forge a log line).
pub fn for_log(text: &str) -> String {
    text.escape_debug().to_string()
}

/// The name's bytes in hex when it is not UTF-8, so the decision record
/// keeps the exact name even when its text form is lossy.
pub fn hex_if_not_utf8(name: &OsStr) -> Option<String> {
    match name.to_str() {
        Some(_) => None,
        None => Some(name.as_bytes().iter().map(|b| format!("{b:02x}")).collect()),
    }
}

/// Decodes a name written by [`hex_if_not_utf8`]; `None` when malformed.
pub fn from_hex(hex: &str) -> Option<Vec<u8>> {
    let digits = hex.as_bytes();
    if digits.len() % 2 != 0 {
        return None;
    }
    digits
        .chunks(2)
        .map(|pair| std::str::from_utf8(pair).ok().and_then(|s| u8::from_str_radix(s, 16).ok()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;
    use std::os::unix::ffi::OsStringExt;

    #[test]
    fn names_are_classified_as_the_spec_says() {
        for (name, kind) in [
            ("plan.json", NameKind::Plan),
            ("PLAN.JSON", NameKind::Plan),
            (".plan.json", NameKind::NotYet),
            ("plan.json.tmp", NameKind::NotYet),
            ("plan.json.part", NameKind::NotYet),
            ("plan.json~", NameKind::NotYet),
            ("notes.txt", NameKind::Other),
            ("plan", NameKind::Other),
        ] {
            assert_eq!(classify(OsStr::new(name)), kind, "{name}");
        }
    }

    #[test]
    fn odd_names_have_a_problem_and_a_safe_outcome_name() {
        let bad_utf8 = OsString::from_vec(b"pl\xffan.json".to_vec());
        assert!(name_problem(&bad_utf8).unwrap().contains("UTF-8"));
        assert_eq!(outcome_base(&bad_utf8), "pl\u{fffd}an.json");
        let newline = OsStr::new("two\nlines.json");
        assert!(name_problem(newline).unwrap().contains("control character"));
        assert_eq!(outcome_base(newline), "two_lines.json");
        let long = format!("{}.json", "a".repeat(250));
        assert!(name_problem(OsStr::new(&long)).unwrap().contains("255"));
        let base = outcome_base(OsStr::new(&long));
        assert!(base.ends_with(".json") && base.len() == MAX_PLAN_NAME);
        assert!(numbered(&base, 99999).len() + SIDECAR_SUFFIX.len() <= NAME_MAX);
        assert_eq!(name_problem(OsStr::new("PLN-0042 rév.json")), None);
    }

    #[test]
    fn long_multibyte_names_are_cut_on_a_character_boundary() {
        let long = format!("{}.json", "é".repeat(200));
        let base = outcome_base(OsStr::new(&long));
        assert!(base.len() <= MAX_PLAN_NAME && base.ends_with(".json"));
    }

    #[test]
    fn numbered_names_keep_the_extension() {
        assert_eq!(numbered("plan.json", 2), "plan.2.json");
        assert_eq!(numbered("noext", 3), "noext.3");
    }

    #[test]
    fn hex_names_round_trip() {
        let raw = b"a\xff\x00b".to_vec();
        let hex = hex_if_not_utf8(&OsString::from_vec(raw.clone())).unwrap();
        assert_eq!(from_hex(&hex), Some(raw));
        assert_eq!(hex_if_not_utf8(OsStr::new("plain.json")), None);
    }
}
