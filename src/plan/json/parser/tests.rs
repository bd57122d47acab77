//! The reader must accept exactly what serde_json accepts, and read it to the
//! same values: hand-picked edge cases, then random documents and random
//! damage to them.

use super::*;
use proptest::prelude::*;
use serde_json::{Map, Value};

/// The reader's tree as serde_json would hold it: numbers through serde_json
/// from their literal, later duplicate keys replacing earlier ones.
fn as_value(node: &Node<'_>) -> Value {
    match node {
        Node::Null => Value::Null,
        Node::Bool(b) => Value::Bool(*b),
        Node::Number(literal) => serde_json::from_str(literal).unwrap(),
        Node::String(text) => Value::String(text.to_string()),
        Node::Array(items) => Value::Array(items.iter().map(as_value).collect()),
        Node::Object(entries) => {
            let mut map = Map::new();
            for (key, value) in entries.iter() {
                map.insert(key.to_string(), as_value(value));
            }
            Value::Object(map)
        }
    }
}

/// Both readers agree on `text`: both refuse it, or both read the same value.
fn assert_agrees(text: &str) {
    let arena = Bump::new();
    let ours = document(text, &arena);
    let theirs = serde_json::from_str::<Value>(text);
    match (&ours, &theirs) {
        (Some(node), Ok(value)) => assert_eq!(&as_value(node), value, "{text:?}"),
        (None, Err(_)) => {}
        _ => panic!("disagree on {text:?}: ours {ours:?}, serde_json {theirs:?}"),
    }
}

#[test]
fn edge_cases_agree_with_serde_json() {
    let cases = [
        "0",
        "-0",
        "-",
        "01",
        "-01",
        "1.",
        ".5",
        "1.5",
        "1e",
        "1e+",
        "1e-5",
        "1E+2",
        "2.50",
        "1e400",
        "-1e400",
        "1e-400",
        "0e999999999999",
        "1.5e308",
        "1.8e308",
        "+1",
        "0x10",
        "true",
        "True",
        "tru",
        "null",
        "nul",
        "false ",
        " false",
        "NaN",
        "Infinity",
        "\"\"",
        "\"a\"",
        "\"a",
        "\"\\\"\"",
        "\"\\u00b5\"",
        "\"\\u00\"",
        "\"\\ud800\"",
        "\"\\udc00\"",
        "\"\\ud83d\\ude00\"",
        "\"\\x\"",
        "\"tab\there\"",
        "\"line\nbreak\"",
        "\"\\/\"",
        "[]",
        "[ ]",
        "[1,]",
        "[,1]",
        "[1 2]",
        "[1,,2]",
        "{}",
        "{ }",
        "{\"a\":1,}",
        "{\"a\" 1}",
        "{a:1}",
        "{\"a\":1 \"b\":2}",
        "{\"a\":1,\"a\":2}",
        "{1:2}",
        "[1]]",
        "{}}",
        "[\"µ\"]",
        "\u{a0}1",
        "1\u{a0}",
        "[1]\r\n\t ",
        "{\"a\":[{\"b\":[null,true,false,-2.5e-3]}]}",
    ];
    for case in cases {
        assert_agrees(case);
    }
    let long_integer = "9".repeat(400);
    assert_agrees(&long_integer);
    assert_agrees(&format!("1{}", "0".repeat(307)));
    assert_agrees(&format!("1{}", "0".repeat(308)));
}

#[test]
fn the_nesting_limit_is_serde_jsons() {
    for depth in [1, 100, 126, 127, 128, 129, 200] {
        assert_agrees(&format!("{}{}", "[".repeat(depth), "]".repeat(depth)));
        let objects = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
        assert_agrees(&objects);
    }
}

#[test]
fn numbers_and_plain_strings_are_borrowed_from_the_text() {
    let text = r#"{"dose": 2.50, "drug": "pirarubicin", "note": "a\tb"}"#;
    let arena = Bump::new();
    let Some(Node::Object(entries)) = document(text, &arena) else { panic!("not read") };
    let in_text = |s: &str| text.as_bytes().as_ptr_range().contains(&s.as_ptr());
    assert_eq!(entries[0].1, Node::Number("2.50"));
    assert!(matches!(entries[1].1, Node::String(s) if s == "pirarubicin" && in_text(s)));
    assert!(matches!(entries[2].1, Node::String(s) if s == "a\tb" && !in_text(s)));
}

/// Any JSON value, with numbers written in several ways.
fn any_json() -> impl Strategy<Value = Value> {
    let number = prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter_map("finite", |f| serde_json::Number::from_f64(f).map(Value::Number)),
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number,
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((any::<String>(), inner), 0..8)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

/// Characters that matter to JSON's grammar, for damaging documents.
const GRAMMAR: &[char] = &[
    '{', '}', '[', ']', '"', ',', ':', '\\', '-', '+', '.', 'e', 'E', '0', '1', '9', 't', 'n', 'u',
    ' ', '\n', '\t', '\u{1}', 'µ',
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn documents_agree(value in any_json(), pretty in any::<bool>()) {
        let text = if pretty {
            serde_json::to_string_pretty(&value).unwrap()
        } else {
            serde_json::to_string(&value).unwrap()
        };
        assert_agrees(&text);
    }

    #[test]
    fn damaged_documents_agree(
        value in any_json(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0..3u8, prop::sample::select(GRAMMAR)), 1..4),
    ) {
        let mut chars: Vec<char> = serde_json::to_string(&value).unwrap().chars().collect();
        for (at, how, c) in edits {
            let at = at.index(chars.len() + 1);
            match how {
                0 => chars.insert(at, c),
                1 if at < chars.len() => { chars.remove(at); }
                _ if at < chars.len() => chars[at] = c,
                _ => chars.push(c),
            }
        }
        assert_agrees(&chars.into_iter().collect::<String>());
    }

    #[test]
    fn grammar_soup_agrees(chars in prop::collection::vec(prop::sample::select(GRAMMAR), 0..24)) {
        assert_agrees(&chars.into_iter().collect::<String>());
    }
}
