//! The plan's `acknowledgements`, read as strictly as the rest of the plan.

use super::*;
use crate::plan::JsonPointer;

/// The example with `acknowledgements` set to `list` (JSON text).
fn with_acknowledgements(list: &str) -> String {
    let end = EXAMPLE.rfind('}').unwrap();
    format!("{}, \"acknowledgements\": {list}\n}}", EXAMPLE[..end].trim_end())
}

#[test]
fn acknowledgements_are_read_with_their_rule_path_reason_and_author() {
    let text = with_acknowledgements(
        r#"[{"rule": "course-length", "reason": "third session planned", "by": "Dr A"},
            {"rule": "artery-count", "path": "/sessions/0/arteries/1", "reason": "r", "by": "b"}]"#,
    );
    let plan = parse(&text).unwrap();
    let [first, second] = plan.acknowledgements.as_slice() else { panic!("{plan:#?}") };
    assert_eq!((first.index, first.rule.as_str(), &first.path), (0, "course-length", &None));
    assert_eq!((first.reason.as_str(), first.by.as_str()), ("third session planned", "Dr A"));
    assert_eq!(second.path, Some(JsonPointer::parse("/sessions/0/arteries/1").unwrap()));
    assert_eq!(second.pointer(), "/acknowledgements/1");
    assert!(parse(&with_acknowledgements("[]")).unwrap().acknowledgements.is_empty());
    assert!(parse(EXAMPLE).unwrap().acknowledgements.is_empty(), "the field is optional");
}

#[test]
fn every_problem_of_every_acknowledgement_is_reported_at_its_pointer() {
    let text = with_acknowledgements(
        r#"[{"rule": "course-length", "reason": " ", "by": "Dr A", "comment": "x"},
            {"rule": 3, "path": "sessions/0", "reason": "r"},
            {"rule": "artery-count", "path": "/a~2", "reason": "r", "by": ""},
            "course-length"]"#,
    );
    assert_eq!(
        problems(&text),
        [
            pair(
                "/acknowledgements/0/comment",
                "unknown field `comment`; remove it or correct its spelling (fields here: rule, \
                 path, reason, by)"
            ),
            pair("/acknowledgements/0/reason", "the text is empty or only spaces; write a value"),
            pair("/acknowledgements/1/rule", "expected a string, found a number 3"),
            pair(
                "/acknowledgements/1/path",
                "\"sessions/0\" is not a JSON Pointer: a JSON Pointer starts with `/` (for \
                 example \"/sessions/0/arteries/1\")"
            ),
            pair("/acknowledgements/1/by", "missing required field `by`"),
            pair(
                "/acknowledgements/2/path",
                "\"/a~2\" is not a JSON Pointer: in a JSON Pointer `~` must be written `~0`, and \
                 a `/` inside a key `~1`"
            ),
            pair("/acknowledgements/2/by", "the text is empty or only spaces; write a value"),
            pair(
                "/acknowledgements/3",
                "expected an acknowledgement: an object with `rule`, `reason`, `by` and, if it \
                 is about one place in the plan, `path`, found a string \"course-length\""
            ),
        ]
    );
}

#[test]
fn acknowledgements_must_be_a_list_and_a_typo_gets_a_suggestion() {
    let text = with_acknowledgements(r#"{"rule": "course-length"}"#);
    let (path, message) = problem(&text);
    assert_eq!(path, "/acknowledgements");
    assert!(message.starts_with("expected a list of acknowledgements, found"), "{message}");
    let end = EXAMPLE.rfind('}').unwrap();
    let typo = format!("{}, \"acknowledgments\": []\n}}", EXAMPLE[..end].trim_end());
    assert_eq!(
        problem(&typo),
        pair(
            "/acknowledgments",
            "unknown field `acknowledgments`; did you mean `acknowledgements`?"
        )
    );
}
