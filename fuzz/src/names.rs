//! The name oracle: a plan whose every compared name (drug, agent,
//! sedative, route, origin, failed treatment) is rewritten in upper case
//! with other whitespace around and inside must get the same judgement.
//! SPEC §1: names are compared case-insensitively, trimmed, with inner runs
//! of Unicode whitespace taken as one space. A missed match can hide a
//! treated spinal feeder or an unknown drug.

use crate::edits::Json;

/// Keys whose text value is a compared name.
const NAME_KEYS: &[&str] = &["name", "agent", "route", "origin"];
/// Keys whose array of texts are compared names.
const NAME_LIST_KEYS: &[&str] = &["origins", "failed_treatments"];

/// Rewrites every compared name of `plan`; see [`respelled`].
pub fn respell_names(plan: &mut Json) {
    plan.for_each_object(&mut |members| {
        for (key, value) in members.iter_mut() {
            if NAME_KEYS.contains(&key.as_str()) {
                respell(value);
            } else if NAME_LIST_KEYS.contains(&key.as_str()) {
                if let Json::Array(items) = value {
                    items.iter_mut().for_each(respell);
                }
            }
        }
    });
}

fn respell(value: &mut Json) {
    if let Json::Text(text) = value {
        *text = respelled(text);
    }
}

/// The same name to a reader who folds case and whitespace: ASCII letters
/// in upper case (so Unicode lowercasing gives the original back), a tab
/// before, a no-break space after, and an em space after each space.
pub fn respelled(name: &str) -> String {
    let upper = name.to_ascii_uppercase().replace(' ', " \u{2003}");
    format!("\t{upper}\u{a0}")
}
