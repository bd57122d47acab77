//! Pieces of the sentences rules write for clinicians.

use crate::plan::Session;

/// How a message names a session: "session 2 on 2026-11-04" — its own
/// number when the plan gives one, else its position counted from 1.
pub(super) fn session_label(session: &Session) -> String {
    let number = session.number.unwrap_or((session.index as u64).saturating_add(1));
    format!("session {number} on {}", session.date)
}

/// "a, b and c".
pub(super) fn and_list(items: &[impl AsRef<str>]) -> String {
    joined(items, "and")
}

/// "a, b or c".
pub(super) fn or_list(items: &[impl AsRef<str>]) -> String {
    joined(items, "or")
}

fn joined(items: &[impl AsRef<str>], word: &str) -> String {
    let items: Vec<&str> = items.iter().map(AsRef::as_ref).collect();
    match items.as_slice() {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} {word} {last}", init.join(", ")),
    }
}

/// "1 artery", "3 arteries".
pub(super) fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// " Did you mean pirarubicin?" when `written` looks like a misspelling of
/// one of `known` (a typo in a drug or agent name must not read as a
/// drug the protocol does not know); nothing otherwise.
pub(super) fn did_you_mean(written: &str, known: &[impl AsRef<str>]) -> String {
    crate::plan::suggest(written, known.iter().map(AsRef::as_ref))
        .map(|near| format!(" Did you mean {near}?"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_read_as_prose() {
        let items = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(and_list(&items(&["a"])), "a");
        assert_eq!(and_list(&items(&["a", "b", "c"])), "a, b and c");
        assert_eq!(or_list(&items(&["a", "b"])), "a or b");
        assert_eq!(count(1, "artery", "arteries"), "1 artery");
        assert_eq!(count(0, "artery", "arteries"), "0 arteries");
    }
}
