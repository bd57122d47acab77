//! One test per class of invalid plan: the example edited in a few places,
//! and the exact pointers and messages a clinician reads.

use super::*;

#[test]
fn the_format_must_be_exactly_version_one() {
    let missing = edited(&[(r#""format": "embolint.plan/1","#, "")]);
    assert_eq!(
        problem(&missing),
        pair("/format", "missing required field `format`; add \"format\": \"embolint.plan/1\"")
    );
    let other = edited(&[("embolint.plan/1", "embolint.plan/2")]);
    assert_eq!(
        problem(&other),
        pair(
            "/format",
            "unsupported format \"embolint.plan/2\"; this embolint reads \"embolint.plan/1\""
        )
    );
}

#[test]
fn a_duplicate_key_deep_inside_is_reported_with_its_pointer() {
    let text = edited(&[(r#""diameter_mm": 4.5,"#, r#""diameter_mm": 4.5, "diameter_mm": 3,"#)]);
    assert_eq!(
        problem(&text),
        pair("/sessions/0/arteries/2/diameter_mm", "`diameter_mm` appears twice; keep one")
    );
}

#[test]
fn a_typo_is_reported_with_a_suggestion() {
    let text = edited(&[(r#""diameter_mm": 2.5"#, r#""diamter_mm": 2.5"#)]);
    assert_eq!(
        problem(&text),
        pair(
            "/sessions/0/arteries/0/diamter_mm",
            "unknown field `diamter_mm`; did you mean `diameter_mm`?"
        )
    );
    let text =
        edited(&[(r#""plan_id": "PLN-2026-0042""#, r#""plan_id": "PLN-2026-0042", "a/b~": 1"#)]);
    assert_eq!(problem(&text).0, "/a~1b~0");
}

#[test]
fn a_field_name_without_its_unit_suffix_is_a_typo() {
    // The case of the public example `invalid-typo.json`.
    let text = edited(&[(r#""diameter_mm": 2.5"#, r#""diameter": 2.5"#)]);
    assert_eq!(
        problem(&text),
        pair(
            "/sessions/0/arteries/0/diameter",
            "unknown field `diameter`; did you mean `diameter_mm`?"
        )
    );
}

#[test]
fn a_dose_per_body_surface_is_not_an_accepted_unit() {
    // The case of the public example `invalid-unit.json`: the second
    // artery's carboplatin in mg/m².
    let (head, tail) = EXAMPLE.split_at(EXAMPLE.find("right L3 lumbar artery").unwrap());
    let tail = tail.replacen(r#""value": 50, "unit": "mg""#, r#""value": 50, "unit": "mg/m2""#, 1);
    let text = format!("{head}{tail}");
    assert_eq!(
        problem(&text),
        pair(
            "/sessions/0/arteries/1/drugs/1/dose/unit",
            "unknown unit `mg/m2`; use mg, g, µg or mcg"
        )
    );
}

#[test]
fn missing_required_fields_are_reported_where_they_belong() {
    let text = edited(&[
        (r#""id": "PAT-0007", "#, ""),
        (r#""shares_origin_with_spinal_artery": true"#, r#""origin2": 1"#),
    ]);
    let all = problems(&text);
    assert!(all.contains(&pair("/patient/id", "missing required field `id`")), "{all:#?}");
    assert!(all.contains(&pair(
        "/sessions/0/arteries/3/shares_origin_with_spinal_artery",
        "missing required field `shares_origin_with_spinal_artery`"
    )));
    let no_sessions = r#"{"format": "embolint.plan/1", "plan_id": "P", "patient": {"id": "X"}, "indication": {}}"#;
    assert_eq!(
        problems(no_sessions),
        [
            pair("/indication/lesion_region", "missing required field `lesion_region`"),
            pair("/sessions", "missing required field `sessions`")
        ]
    );
}

#[test]
fn wrong_types_quote_what_was_found() {
    let text = edited(&[
        (r#""diameter_mm": 2.5"#, r#""diameter_mm": "2.5""#),
        (r#""lytic": true"#, r#""lytic": "yes""#),
    ]);
    assert_eq!(
        problems(&text),
        [
            pair("/indication/lytic", "expected true or false, found a string \"yes\""),
            pair("/sessions/0/arteries/0/diameter_mm", "expected a number, found a string \"2.5\""),
        ]
    );
    let text = edited(&[(r#""origin": "aorta""#, r#""origin": null"#)]);
    assert_eq!(
        problem(&text),
        pair("/sessions/0/arteries/2/origin", "expected a string, found null")
    );
}

#[test]
fn blank_strings_are_refused_anywhere() {
    let text = edited(&[
        (r#"["L3", "L4"]"#, r#"["L3", " "]"#),
        (r#""sex": "M""#, r#""sex": """#),
        (r#""route": "IV""#, "\"route\": \"\\t\""),
    ]);
    let paths: Vec<String> = problems(&text).into_iter().map(|(path, _)| path).collect();
    assert_eq!(
        paths,
        ["/patient/sex", "/indication/lesion_levels/1", "/sessions/0/post_procedure/0/route"]
    );
}

#[test]
fn numbers_out_of_bounds_or_range_are_refused() {
    let text = edited(&[
        (r#""age_years": 56"#, r#""age_years": -1"#),
        (r#""diameter_mm": 2.5"#, r#""diameter_mm": 0"#),
        (r#""diameter_mm": 4.5"#, r#""diameter_mm": 4.0000000000000001"#),
        ("[300, 600]", "[600, 300]"),
        ("[150, 300]", "[0, 300, 600]"),
    ]);
    assert_eq!(
        problems(&text),
        [
            pair("/patient/age_years", "the age cannot be negative; found -1"),
            pair(
                "/sessions/0/arteries/0/diameter_mm",
                "the diameter must be greater than 0 mm; found 0"
            ),
            pair(
                "/sessions/0/arteries/0/embolic/particle_size_um",
                "the smallest size (600 µm) is larger than the largest (300 µm); write [min, max]"
            ),
            pair(
                "/sessions/0/arteries/1/embolic/particle_size_um",
                "expected exactly two sizes [min, max] in µm, found 3"
            ),
            pair(
                "/sessions/0/arteries/2/diameter_mm",
                "`4.0000000000000001` has 17 significant digits; at most 15 are allowed"
            ),
        ]
    );
    let zero = edited(&[("[150, 300]", "[0, 300]")]);
    assert_eq!(
        problem(&zero),
        pair(
            "/sessions/0/arteries/1/embolic/particle_size_um/0",
            "a particle size must be greater than 0 µm; found 0"
        )
    );
}

#[test]
fn session_numbers_and_follow_up_days_are_positive_whole_numbers() {
    assert_eq!(
        parse(&edited(&[(r#""number": 2"#, r#""number": 2.0"#)])).unwrap().sessions[0].number,
        Some(2)
    );
    let text = edited(&[(r#""number": 2"#, r#""number": 0"#), ("[7, 28]", "[7.5, -1, 28]")]);
    let all = problems(&text);
    let paths: Vec<&str> = all.iter().map(|(path, _)| path.as_str()).collect();
    assert_eq!(
        paths,
        ["/sessions/0/number", "/sessions/0/follow_up_days/0", "/sessions/0/follow_up_days/1"]
    );
    assert_eq!(all[1].1, "expected a whole number of 1 or more, found 7.5");
}

#[test]
fn dates_must_be_real_calendar_dates() {
    let leap = edited(&[("2026-11-05", "2028-02-29")]);
    assert_eq!(parse(&leap).unwrap().sessions[0].date.to_string(), "2028-02-29");
    let text = edited(&[("2026-11-05", "2026-02-30"), ("2026-10-05", "2026-10-5")]);
    assert_eq!(
        problems(&text),
        [
            pair(
                "/prior_sessions/0/date",
                "\"2026-10-5\" is not a date written YYYY-MM-DD (for example \"2026-11-05\")"
            ),
            pair(
                "/sessions/0/date",
                "\"2026-02-30\" is not a calendar date; check the day and month"
            ),
        ]
    );
}

#[test]
fn the_lesion_region_is_one_of_four_words() {
    let text = edited(&[(r#""lesion_region": "spine""#, r#""lesion_region": "Spine""#)]);
    assert_eq!(
        problem(&text),
        pair("/indication/lesion_region", "unknown lesion region `Spine`; did you mean `spine`? Use spine, sacrum, iliac or other")
    );
    let text = edited(&[(r#""lesion_region": "spine""#, r#""lesion_region": "femur""#)]);
    assert_eq!(
        problem(&text).1,
        "unknown lesion region `femur`; use spine, sacrum, iliac or other"
    );
}

#[test]
fn at_least_one_session_is_planned() {
    let start = EXAMPLE.find(r#""sessions": ["#).unwrap();
    let text = format!("{}\"sessions\": []}}", &EXAMPLE[..start]);
    assert_eq!(
        problem(&text),
        pair("/sessions", "no session is planned; add at least one session to `sessions`")
    );
}

#[test]
fn quantities_need_a_value_and_a_unit_of_the_right_kind() {
    let text = edited(&[
        (r#""dose": { "value": 3, "unit": "mg" }"#, r#""dose": 3"#),
        (r#"{ "value": 50, "unit": "mg" }"#, r#"{ "value": 50 }"#),
        (r#""value": 10, "unit": "mg""#, r#""value": 10, "unit": "mg/h""#),
        (r#""value": 1.5, "unit": "mg/h""#, r#""value": 1.5, "unit": "mg""#),
        (r#""value": 1, "unit": "mg""#, r#""value": -1, "unit": "MG""#),
    ]);
    assert_eq!(
        problems(&text),
        [
            pair("/sessions/0/arteries/0/drugs/0/dose", "expected a quantity such as {\"value\": 3, \"unit\": \"mg\"}, found a number 3"),
            pair("/sessions/0/arteries/0/drugs/1/dose/unit", "missing required field `unit`"),
            pair("/sessions/0/arteries/2/drugs/0/dose/unit", "`mg/h` is a rate (mass per time), but a mass is needed here; use mg, g, µg or mcg"),
            pair("/sessions/0/sedation/0/rate/unit", "`mg` is a mass, but a rate (mass per time) is needed here; use mg/h, µg/h, mcg/h, mg/min, µg/min or mcg/min"),
            pair("/sessions/0/sedation/1/bolus/value", "a dose cannot be negative; found -1"),
            pair("/sessions/0/sedation/1/bolus/unit", "unknown unit `MG`; did you mean `mg`? Use mg, g, µg or mcg"),
        ]
    );
}

#[test]
fn a_sedative_has_exactly_one_of_rate_and_bolus() {
    let both = edited(&[(
        r#""bolus": { "value": 1, "unit": "mg" }"#,
        r#""bolus": { "value": 1, "unit": "mg" }, "rate": { "value": 1, "unit": "mg/h" }"#,
    )]);
    assert_eq!(
        problem(&both),
        pair("/sessions/0/sedation/1", "give either `rate` or `bolus`, not both")
    );
    let neither = edited(&[(r#", "bolus": { "value": 1, "unit": "mg" }"#, "")]);
    assert_eq!(
        problem(&neither),
        pair(
            "/sessions/0/sedation/1",
            "missing the dose: give `rate` (e.g. mg/h) or `bolus` (e.g. mg)"
        )
    );
}

#[test]
fn pva_needs_its_particle_size_whatever_its_name() {
    let text = edited(&[(
        r#""agent": "PVA", "particle_size_um": [300, 600]"#,
        r#""agent": "Polyvinyl  Alcohol""#,
    )]);
    assert_eq!(
        problem(&text),
        pair(
            "/sessions/0/arteries/0/embolic/particle_size_um",
            "missing `particle_size_um`: Polyvinyl  Alcohol particles need their size range [min, max] in µm, for example [300, 600]"
        )
    );
    let gelfoam =
        edited(&[(r#""agent": "PVA", "particle_size_um": [300, 600]"#, r#""agent": "gelfoam""#)]);
    assert_eq!(
        parse(&gelfoam).unwrap().sessions[0].arteries[0].embolic.as_ref().unwrap().particle_size_um,
        None
    );
}

#[test]
fn indication_lists_and_flags_have_their_types() {
    let text = edited(&[
        (r#""chemotherapy", "radiotherapy""#, r#""chemotherapy", 2"#),
        (r#""mdt_decision": true"#, r#""mdt_decision": 1"#),
    ]);
    assert_eq!(
        problems(&text),
        [
            pair("/indication/failed_treatments/1", "expected a string, found a number 2"),
            pair("/indication/mdt_decision", "expected true or false, found a number 1"),
        ]
    );
    let text = edited(&[(
        r#""failed_treatments": ["chemotherapy", "radiotherapy", "surgery"]"#,
        r#""failed_treatments": "chemotherapy""#,
    )]);
    assert_eq!(problem(&text).1, "expected a list of strings, found a string \"chemotherapy\"");
}

#[test]
fn the_spinal_mapping_needs_a_date_and_origins() {
    let empty = edited(&[(r#"["left T9 intercostal", "right L1 lumbar"]"#, "[]")]);
    assert_eq!(parse(&empty).unwrap().spinal_artery_mapping.unwrap().origins, vec![]);
    let text = edited(&[
        (r#""date": "2026-11-02","#, r#""date": "2026-11-02""#),
        (r#""origins": ["left T9 intercostal", "right L1 lumbar"]"#, ""),
    ]);
    assert_eq!(
        problem(&text),
        pair("/spinal_artery_mapping/origins", "missing required field `origins`")
    );
}

#[test]
fn prior_sessions_need_a_date_and_a_non_empty_plan_id() {
    let text = edited(&[(
        r#"{ "date": "2026-10-05", "plan_id": "PLN-2026-0031" }"#,
        r#"{ "plan_id": "" }"#,
    )]);
    assert_eq!(
        problems(&text),
        [
            pair("/prior_sessions/0/date", "missing required field `date`"),
            pair("/prior_sessions/0/plan_id", "the text is empty or only spaces; write a value")
        ]
    );
}

#[test]
fn drugs_need_a_name_and_a_dose() {
    let text = edited(&[(
        r#"{ "name": "pirarubicin", "dose": { "value": 3, "unit": "mg" } }"#,
        r#"{ "name": "pirarubicin" }"#,
    )]);
    assert_eq!(
        problem(&text),
        pair("/sessions/0/arteries/0/drugs/0/dose", "missing required field `dose`")
    );
    let text = edited(&[(r#""drugs": ["#, r#""drugs": {}, "x": ["#)]);
    assert!(problems(&text).contains(&pair(
        "/sessions/0/arteries/0/drugs",
        "expected a list of drugs, found an object"
    )));
}

#[test]
fn many_problems_are_reported_at_once_with_their_pointers() {
    let text = edited(&[
        (r#""sex": "M""#, r#""sex": "M", "sex": "F""#),
        (r#""lesion_region": "spine""#, r#""lesion_region": "spinal""#),
        (r#""diameter_mm": 2.5"#, r#""diameter": 2.5"#),
        (r#""unit": "g""#, r#""unit": "mg/m2""#),
        (r#""follow_up_days": [7, 28]"#, r#""follow_up_days": [7, 0]"#),
    ]);
    let paths: Vec<String> = problems(&text).into_iter().map(|(path, _)| path).collect();
    assert_eq!(
        paths,
        [
            "/patient/sex",
            "/indication/lesion_region",
            "/sessions/0/arteries/0/diameter",
            "/sessions/0/arteries/2/drugs/1/dose/unit",
            "/sessions/0/follow_up_days/1",
        ]
    );
}
