//! What a clinician reads about an invalid plan, pinned inline: one
//! snapshot per kind of problem, each line `"pointer": message`. A change
//! to any of these sentences is a reviewed diff of this file.

use super::*;

/// Every problem of an invalid plan, one `"pointer": message` per line.
fn lines(result: Result<Plan, ParseFailure>) -> String {
    let failure = result.expect_err("the plan should be invalid");
    let lines: Vec<String> =
        failure.problems.iter().map(|p| format!("{:?}: {}", p.path, p.message)).collect();
    lines.join("\n")
}

/// The problems of `text`.
fn shown(text: &str) -> String {
    lines(parse(text))
}

/// The problems of `bytes`, which need not be text.
fn shown_bytes(bytes: &[u8]) -> String {
    lines(parse_plan(bytes, &names()))
}

/// A missing comma: serde_json's reason in plain words, with line and column.
#[test]
fn a_file_that_is_not_json() {
    insta::assert_snapshot!(shown_bytes(b"{\n  \"format\": \"embolint.plan/1\"\n  \"plan_id\": \"P\"\n}"), @r##""": the file is not valid JSON: expected `,` or `}` at line 3, column 3"##);
}

/// A trailing comma.
#[test]
fn a_comma_before_a_closing_bracket() {
    insta::assert_snapshot!(shown_bytes(b"{\"sessions\": [1, 2,]}"), @r##""": the file is not valid JSON: there is a comma before a closing bracket; remove it at line 1, column 20"##);
}

/// A file cut short.
#[test]
fn a_file_ending_inside_an_object() {
    insta::assert_snapshot!(shown_bytes(b"{\"format\": \"embolint.plan/1\", \"patient\": {"), @r##""": the file is not valid JSON: the file ends before an object `{` is closed with `}` at line 1, column 42"##);
}

/// Deep nesting is refused before it can overflow the stack.
#[test]
fn a_file_nested_too_deep() {
    insta::assert_snapshot!(shown_bytes("[".repeat(200).as_bytes()), @r##""": the file is nested more than 128 levels deep (at line 1, column 128); a plan needs only a few levels"##);
}

/// Bytes that are not UTF-8.
#[test]
fn a_file_that_is_not_utf8() {
    insta::assert_snapshot!(shown_bytes(b"{\"plan_id\": \"\xff\"}"), @r##""": the file is not UTF-8 text: invalid byte at offset 13; save it as UTF-8"##);
}

/// An empty file.
#[test]
fn an_empty_file() {
    insta::assert_snapshot!(shown_bytes(b"  \n"), @r##""": the file is empty; a plan is one JSON object, {"format": ...}"##);
}

/// A number beyond floating point.
#[test]
fn a_number_too_large_for_json() {
    insta::assert_snapshot!(shown_bytes(b"{\"age_years\": 1e400}"), @r##""": the file is not valid JSON: a number is far too large; numbers in a plan must be below 1000000000 at line 1, column 19"##);
}

/// The top level is not an object.
#[test]
fn a_list_instead_of_a_plan() {
    insta::assert_snapshot!(shown_bytes(b"[]"), @r##""": expected a plan: one JSON object, {"format": "embolint.plan/1", ...}, found a list"##);
}

/// Another format version.
#[test]
fn another_format_version() {
    insta::assert_snapshot!(shown(&edited(&[("embolint.plan/1", "embolint.plan/2")])), @r##""/format": unsupported format "embolint.plan/2"; this embolint reads "embolint.plan/1""##);
}

/// A typo gets a suggestion.
#[test]
fn a_misspelt_field() {
    insta::assert_snapshot!(shown(&edited(&[(r#""diameter_mm": 2.5"#, r#""diamter_mm": 2.5"#)])), @r##""/sessions/0/arteries/0/diamter_mm": unknown field `diamter_mm`; did you mean `diameter_mm`?"##);
}

/// A field far from any gets the list of fields.
#[test]
fn an_unknown_field_far_from_any() {
    insta::assert_snapshot!(shown(&edited(&[(r#""lytic": true"#, r#""lytic": true, "colour": "red""#)])), @r##""/indication/colour": unknown field `colour`; remove it or correct its spelling (fields here: primary_cancer, lesion_region, lesion_levels, lytic, failed_treatments, cementoplasty_contraindicated, mdt_decision)"##);
}

/// A duplicate key.
#[test]
fn a_duplicate_field() {
    insta::assert_snapshot!(shown(&edited(&[(r#""diameter_mm": 4.5,"#, r#""diameter_mm": 4.5, "diameter_mm": 3,"#)])), @r##""/sessions/0/arteries/2/diameter_mm": `diameter_mm` appears twice; keep one"##);
}

/// A wrong type quotes what was found.
#[test]
fn a_number_written_as_text() {
    insta::assert_snapshot!(shown(&edited(&[(r#""value": 1.5"#, r#""value": "1.5""#)])), @r##""/sessions/0/sedation/0/rate/value": expected a number, found a string "1.5""##);
}

/// mg/m2 is a way of dosing, not a unit.
#[test]
fn a_dose_per_body_surface() {
    insta::assert_snapshot!(shown(&edited(&[(r#""value": 3, "unit": "mg""#, r#""value": 3, "unit": "mg/m2""#)])), @r##""/sessions/0/arteries/0/drugs/0/dose/unit": unknown unit `mg/m2`; use mg, g, µg or mcg"##);
}

/// A unit in capitals gets the accepted spelling.
#[test]
fn a_unit_in_capitals() {
    insta::assert_snapshot!(shown(&edited(&[(r#""value": 3, "unit": "mg""#, r#""value": 3, "unit": "MG""#)])), @r##""/sessions/0/arteries/0/drugs/0/dose/unit": unknown unit `MG`; did you mean `mg`? Use mg, g, µg or mcg"##);
}

/// A unit of the wrong kind.
#[test]
fn a_rate_where_a_mass_is_needed() {
    insta::assert_snapshot!(shown(&edited(&[(r#""value": 3, "unit": "mg""#, r#""value": 3, "unit": "mg/h""#)])), @r##""/sessions/0/arteries/0/drugs/0/dose/unit": `mg/h` is a rate (mass per time), but a mass is needed here; use mg, g, µg or mcg"##);
}

/// Numbers are read exactly, within bounds.
#[test]
fn too_many_significant_digits() {
    insta::assert_snapshot!(shown(&edited(&[(r#""value": 3, "unit": "mg""#, r#""value": 3.0000000000000004, "unit": "mg""#)])), @r##""/sessions/0/arteries/0/drugs/0/dose/value": `3.0000000000000004` has 17 significant digits; at most 15 are allowed"##);
}

/// A date that is not in the calendar.
#[test]
fn a_date_that_does_not_exist() {
    insta::assert_snapshot!(shown(&edited(&[("2026-11-05", "2026-11-31")])), @r##""/sessions/0/date": "2026-11-31" is not a calendar date; check the day and month"##);
}

/// A date not written YYYY-MM-DD.
#[test]
fn a_date_in_another_layout() {
    insta::assert_snapshot!(shown(&edited(&[("2026-11-05", "05/11/2026")])), @r##""/sessions/0/date": "05/11/2026" is not a date written YYYY-MM-DD (for example "2026-11-05")"##);
}

/// An enumerated word gets a suggestion.
#[test]
fn a_misspelt_lesion_region() {
    insta::assert_snapshot!(shown(&edited(&[(r#""lesion_region": "spine""#, r#""lesion_region": "Spne""#)])), @r##""/indication/lesion_region": unknown lesion region `Spne`; did you mean `spine`? Use spine, sacrum, iliac or other"##);
}

/// PVA, under any of its names, needs its particle sizes.
#[test]
fn pva_without_particle_sizes() {
    insta::assert_snapshot!(shown(&edited(&[(r#""agent": "PVA", "particle_size_um": [300, 600]"#, r#""agent": "polyvinyl alcohol""#)])), @r##""/sessions/0/arteries/0/embolic/particle_size_um": missing `particle_size_um`: polyvinyl alcohol particles need their size range [min, max] in µm, for example [300, 600]"##);
}

/// A sedative has a rate or a bolus, not both.
#[test]
fn a_sedative_with_rate_and_bolus() {
    insta::assert_snapshot!(shown(&edited(&[(r#""rate": { "value": 1.5, "unit": "mg/h" }"#, r#""rate": { "value": 1.5, "unit": "mg/h" }, "bolus": { "value": 1, "unit": "mg" }"#)])), @r##""/sessions/0/sedation/0": give either `rate` or `bolus`, not both"##);
}

/// A plan plans at least one session.
#[test]
fn no_session_planned() {
    insta::assert_snapshot!(shown(r#"{"format": "embolint.plan/1", "plan_id": "P", "patient": {"id": "X"}, "indication": {"lesion_region": "iliac"}, "sessions": []}"#), @r##""/sessions": no session is planned; add at least one session to `sessions`"##);
}

/// Every problem at once, each at its pointer.
#[test]
fn missing_fields_everywhere() {
    insta::assert_snapshot!(shown(r#"{"format": "embolint.plan/1", "patient": {}, "indication": {}, "sessions": [{"arteries": [{"name": " "}]}]}"#), @r##"
    "/plan_id": missing required field `plan_id`
    "/patient/id": missing required field `id`
    "/indication/lesion_region": missing required field `lesion_region`
    "/sessions/0/date": missing required field `date`
    "/sessions/0/arteries/0/name": the text is empty or only spaces; write a value
    "/sessions/0/arteries/0/diameter_mm": missing required field `diameter_mm`
    "/sessions/0/arteries/0/shares_origin_with_spinal_artery": missing required field `shares_origin_with_spinal_artery`
    "##);
}
