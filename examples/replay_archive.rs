//! Builds an archive as `embolint watch` leaves it — plans in their outcome
//! folders, a chained and sealed decision log, each plan judged against the
//! history of the plans before it — then times `embolint replay` over it.
//!
//! ```text
//! cargo run --release --example replay_archive -- [--count N] [--dir DIR] [--keep]
//! ```
//!
//! The archive is written directly in the daemon's format (the daemon's own
//! judging, records and log writer, without its folder protocol), so that
//! 100,000 plans take a minute to build rather than the daemon's half hour
//! of settle times. Verdict files beside the plans are not written: replay
//! never reads them. The replay is timed twice: under the rules that judged
//! the archive (no change expected) and with the small-artery pirarubicin
//! cap lowered from 3 mg to 2.5 mg (every tenth plan changes).

use embolint::audit::replay;
use embolint::check::{check, PlanFile};
use embolint::history::History;
use embolint::rules::RuleSet;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[path = "shared/archive.rs"]
mod archive;
use archive::Archive;

/// The passing plan of the daemon tests.
const PASS_PLAN: &str = include_str!("../tests/fixtures/watch/pass.json");
/// The shipped rule file.
const SHIPPED_RULES: &str = include_str!("../rules/chiras-bone-chemoembolization.toml");

fn main() -> Result<(), String> {
    let mut count = 100_000usize;
    let mut dir: Option<PathBuf> = None;
    let mut keep = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--count" => count = args.next().and_then(|n| n.parse().ok()).ok_or("--count N")?,
            "--dir" => dir = Some(args.next().ok_or("--dir DIR")?.into()),
            "--keep" => keep = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let temp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let base = dir.unwrap_or_else(|| temp.path().to_path_buf());
    let root = base.join("root");
    let rules = RuleSet::builtin().map_err(|e| e.to_string())?;

    let started = Instant::now();
    let [passed, failed, invalid] = build_archive(&root, count, &rules)?;
    eprintln!(
        "built an archive of {count} plans ({passed} passed, {failed} failed, {invalid} invalid) \
         in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let shipped = base.join("shipped.toml");
    std::fs::write(&shipped, SHIPPED_RULES).map_err(|e| e.to_string())?;
    let lowered = base.join("lowered.toml");
    let from = r#"small_caps = { pirarubicin = "3 mg""#;
    let text = SHIPPED_RULES.replace(from, r#"small_caps = { pirarubicin = "2.5 mg""#);
    std::fs::write(&lowered, text).map_err(|e| e.to_string())?;
    for (what, file) in [("the same rules", &shipped), ("the cap lowered to 2.5 mg", &lowered)] {
        let rules = RuleSet::load(file).map_err(|e| e.to_string())?;
        let started = Instant::now();
        let replayed = replay::replay(&root, &rules)?;
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "replay of {count} plans under {what}: {seconds:.2} s ({:.0} plans/s): {}",
            replayed.replayed as f64 / seconds,
            replay::summary_line(&replayed)
        );
    }
    if keep {
        let _ = temp.keep();
        eprintln!("archive kept at {}", root.display());
    }
    Ok(())
}

/// Plan `i` of the archive: a quarter as many patients as plans, each
/// patient's plans 45 days apart (every 50th only 10 days after the one
/// before, so spacing fails it), every 10th plan with 3 mg of pirarubicin
/// in its small arteries (2 mg otherwise), every 100th invalid.
fn plan_text(template: &Value, i: usize, patients: usize) -> Vec<u8> {
    if i % 100 == 99 {
        return format!("{{\"format\": \"embolint.plan/1\", \"plan_id\": \"A{i}\"}}").into_bytes();
    }
    let mut plan = template.clone();
    let round = i / patients;
    let mut days = 45 * round as i64;
    if i % 50 == 49 && round > 0 {
        days -= 35;
    }
    let date = jiff::civil::date(2026, 1, 5) + jiff::Span::new().days(days);
    plan["plan_id"] = format!("A{i}").into();
    plan["patient"]["id"] = format!("P{}", i % patients).into();
    plan["sessions"][0]["date"] = date.to_string().into();
    plan["spinal_artery_mapping"]["date"] = date.to_string().into();
    let mg = if i % 10 == 0 { 3 } else { 2 };
    if let Some(arteries) = plan["sessions"][0]["arteries"].as_array_mut() {
        for artery in arteries.iter_mut().filter(|a| a["diameter_mm"].as_f64() < Some(4.0)) {
            let drugs = artery.get_mut("drugs").and_then(Value::as_array_mut);
            for drug in drugs.into_iter().flatten() {
                if drug["name"] == "pirarubicin" {
                    drug["dose"]["value"] = mg.into();
                }
            }
        }
    }
    serde_json::to_vec(&plan).unwrap_or_default()
}

/// Writes `count` judged plans under `root` as the daemon would.
/// Returns how many plans passed, failed and were invalid.
fn build_archive(root: &Path, count: usize, rules: &RuleSet) -> Result<[usize; 3], String> {
    let mut archive = Archive::create(root)?;
    let history = History::open(Path::new(":memory:")).map_err(|e| e.to_string())?;
    history.begin().map_err(|e| e.to_string())?;
    let mut template: Value = serde_json::from_str(PASS_PLAN).map_err(|e| e.to_string())?;
    if let Some(plan) = template.as_object_mut() {
        plan.remove("prior_sessions");
    }
    let patients = (count / 4).max(1);
    for i in 0..count {
        let name = format!("plan-{i:06}.json");
        let bytes = plan_text(&template, i, patients);
        let checked = check(PlanFile::new(&name, &bytes), rules, Some(&history))
            .map_err(|e| e.to_string())?;
        let placement = archive.record(&name, &checked)?;
        if let Some(rows) = &placement.history {
            history.put(rows).map_err(|e| e.to_string())?;
        }
        std::fs::write(root.join(&placement.moved_to), &bytes).map_err(|e| e.to_string())?;
    }
    history.rollback();
    archive.finish()
}
