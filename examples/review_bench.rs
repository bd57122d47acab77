//! Times `embolint log` and the review page over a root with a million
//! decisions: builds the root once (the daemon's own judging, records and
//! chained log writer, without its folder protocol), builds its decision
//! index once, then answers the questions people ask of it.
//!
//! ```text
//! cargo build --release && cargo run --release --example review_bench -- \
//!     [--count N] [--dir DIR] [--keep] [--runs R] [--pages]
//! ```
//!
//! `embolint log` is timed through the library, exactly as the command runs
//! (index opened and caught up with the log, query, text or JSON written to
//! memory), and as the release binary (`target/release/embolint`, process
//! start included). With `--pages`, the review page is timed over HTTP
//! against the release binary's `serve` on the same root (`serve` keeps
//! its own index of the log in memory at start-up: mind the size of the
//! root). Each figure is the median of `--runs`
//! answers (default 21), with the fastest and the slowest.
//!
//! The decisions span the two years before today (`checked_at` set by the
//! bench), a quarter as many patients as decisions; every 5th plan fails
//! (pirarubicin above the per-artery cap), every 100th is invalid. Only the
//! last batch's plans are written to the outcome folders (the page shows a
//! decision's plan from there); the index never reads them.

use embolint::audit::decision_index::{self, Filter};
use embolint::check::{check, PlanFile};
use embolint::commands::log::{log, LogOptions};
use embolint::commands::Format;
use embolint::history::History;
use embolint::rules::RuleSet;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[path = "shared/archive.rs"]
mod archive;
use archive::Archive;

/// The passing plan of the daemon tests.
const PASS_PLAN: &str = include_str!("../tests/fixtures/watch/pass.json");

fn main() -> Result<(), String> {
    let mut count = 1_000_000usize;
    let mut runs = 21usize;
    let mut dir: Option<PathBuf> = None;
    let mut keep = false;
    let mut pages = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--count" => count = args.next().and_then(|n| n.parse().ok()).ok_or("--count N")?,
            "--runs" => runs = args.next().and_then(|n| n.parse().ok()).ok_or("--runs R")?,
            "--dir" => dir = Some(args.next().ok_or("--dir DIR")?.into()),
            "--keep" => keep = true,
            "--pages" => pages = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let time_pages = pages;
    let temp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let base = dir.unwrap_or_else(|| temp.path().to_path_buf());
    let root = base.join("root");
    let rules = RuleSet::builtin().map_err(|e| e.to_string())?;
    let patients = (count / 4).max(1);

    if root.join("log/decisions.jsonl").is_file() {
        eprintln!("using the root already at {}", root.display());
    } else {
        let started = Instant::now();
        let [passed, failed, invalid] = build_root(&root, count, patients, &rules)?;
        let bytes = std::fs::metadata(root.join("log/decisions.jsonl")).map_or(0, |m| m.len());
        println!(
            "built a root of {count} decisions ({passed} pass, {failed} fail, {invalid} invalid; \
             log {:.0} MiB) in {:.1} s",
            bytes as f64 / 1048576.0,
            started.elapsed().as_secs_f64()
        );
    }

    // The index, built once from the whole log (what the first `log` or
    // the first page after an upgrade does).
    let started = Instant::now();
    let (mut index, persistent) =
        decision_index::open_for_root(&root).map_err(|e| e.to_string())?;
    let added = index.catch_up().map_err(|e| e.to_string())?;
    drop(index);
    let index_bytes = std::fs::metadata(root.join("state").join(decision_index::FILE_NAME))
        .map_or(0, |m| m.len());
    println!(
        "decision index: {added} lines indexed in {:.1} s ({}; {:.0} MiB)",
        started.elapsed().as_secs_f64(),
        if persistent { "persistent" } else { "IN MEMORY: state/ not writable" },
        index_bytes as f64 / 1048576.0
    );

    let today = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let week_ago = (today - jiff::Span::new().days(7)).to_string();
    let month_ago = (today - jiff::Span::new().days(30)).to_string();
    // A patient whose plans pass (every 5th plan fails).
    let patient = format!("P{}", patients / 2 + 1);
    let questions: Vec<(String, Filter, Option<usize>)> = vec![
        (
            format!("log --patient {patient}"),
            Filter { patient: Some(patient.clone()), ..Filter::default() },
            None,
        ),
        (
            format!("log --verdict fail --since {week_ago}"),
            Filter {
                verdict: Some("fail".into()),
                since: Some(week_ago.clone()),
                ..Filter::default()
            },
            None,
        ),
        (
            format!("log --rule artery-dose-max --since {month_ago} --until {week_ago}"),
            Filter {
                rule: Some("artery-dose-max".into()),
                since: Some(month_ago.clone()),
                until: Some(week_ago.clone()),
                ..Filter::default()
            },
            None,
        ),
        ("log --verdict invalid --limit 50".into(), verdict_filter("invalid"), Some(50)),
        ("log --limit 50".into(), Filter::default(), Some(50)),
    ];
    println!(
        "\n`embolint log` in-process (index opened and caught up, answer written), {runs} runs:"
    );
    for (what, filter, limit) in &questions {
        for format in [Format::Text, Format::Json] {
            let options = LogOptions {
                root: root.clone(),
                filter: filter.clone(),
                limit: *limit,
                format,
                color: false,
            };
            let mut lines = 0;
            let times = timed(runs, || {
                let mut out = Vec::new();
                let mut err = Vec::new();
                log(&options, &mut out, &mut err).map_err(|e| e.to_string())?;
                lines = out.iter().filter(|b| **b == b'\n').count();
                Ok(())
            })?;
            let format = if matches!(format, Format::Json) { " --format json" } else { "" };
            println!("  {what}{format}: {} ({lines} lines)", figures(&times));
        }
    }

    let binary = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("embolint")))
        .filter(|b| b.is_file());
    let Some(binary) = binary else {
        println!("\ntarget/release/embolint not found: run `cargo build --release` for the rest");
        return finish(temp, keep, &root);
    };
    println!("\n`embolint log` as a process ({}), {runs} runs:", binary.display());
    for (what, _, _) in &questions {
        let args: Vec<&str> = what.split(' ').skip(1).collect();
        let times = timed(runs, || {
            let output = Command::new(&binary)
                .arg("log")
                .arg("--root")
                .arg(&root)
                .args(&args)
                .stdout(Stdio::null())
                .output()
                .map_err(|e| e.to_string())?;
            if output.status.success() {
                Ok(())
            } else {
                Err(String::from_utf8_lossy(&output.stderr).into_owned())
            }
        })?;
        println!("  {what}: {}", figures(&times));
    }

    // A passing decision (the last one is invalid).
    let last = count.saturating_sub(1);
    if !time_pages {
        println!("\nreview pages not timed (--pages starts `embolint serve` on this root)");
        return finish(temp, keep, &root);
    }
    let pages = vec![
        "/".to_string(),
        format!("/?verdict=fail&since={week_ago}"),
        format!("/?patient={patient}"),
        format!("/?rule=artery-dose-max&since={month_ago}"),
        format!("/?before={}", count / 2),
        format!("/decisions/{last}"),
        format!("/patients/{patient}"),
        "/rules".to_string(),
        "/rules/artery-dose-max".to_string(),
    ];
    let port = free_port()?;
    let started = Instant::now();
    let serve = Serve(
        Command::new(&binary)
            .args(["serve", "--root"])
            .arg(&root)
            .args(["--listen", &format!("127.0.0.1:{port}"), "--log-level", "warn"])
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| e.to_string())?,
    );
    let base = format!("http://127.0.0.1:{port}");
    let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(600)).build();
    while agent.get(&format!("{base}/readyz")).call().is_err() {
        if started.elapsed() > Duration::from_secs(1200) {
            return Err("embolint serve did not become ready in 20 minutes".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    println!(
        "\n`embolint serve` ready on {count} decisions after {:.1} s; review pages over HTTP, {runs} runs:",
        started.elapsed().as_secs_f64()
    );
    for page in &pages {
        let mut bytes = 0;
        let times = timed(runs, || {
            let response =
                agent.get(&format!("{base}{page}")).call().map_err(|e| format!("{page}: {e}"))?;
            bytes = response.into_string().map_err(|e| e.to_string())?.len();
            Ok(())
        })?;
        println!("  GET {page}: {} ({} KiB)", figures(&times), bytes / 1024);
    }
    drop(serve);
    finish(temp, keep, &root)
}

fn verdict_filter(verdict: &str) -> Filter {
    Filter { verdict: Some(verdict.into()), ..Filter::default() }
}

fn finish(temp: tempfile::TempDir, keep: bool, root: &Path) -> Result<(), String> {
    if keep {
        let _ = temp.keep();
        eprintln!("root kept at {}", root.display());
    }
    Ok(())
}

/// The serve process, stopped when dropped.
struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.0.id().to_string()).status();
        let _ = self.0.wait();
    }
}

fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

/// `runs` timings of `work`, sorted.
fn timed(runs: usize, mut work: impl FnMut() -> Result<(), String>) -> Result<Vec<f64>, String> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        work()?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    Ok(times)
}

/// "median 3.1 ms (2.9–4.0)".
fn figures(sorted: &[f64]) -> String {
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or(0.0);
    let first = sorted.first().copied().unwrap_or(0.0);
    let last = sorted.last().copied().unwrap_or(0.0);
    format!("median {median:.2} ms ({first:.2}–{last:.2})")
}

/// Plan `i`: patient `P(i % patients)`, one session (each patient's
/// sessions 45 days apart); every 5th with 5 mg
/// of pirarubicin in each artery (above the cap: fails), every 100th not a
/// plan at all.
fn plan_text(template: &Value, i: usize, patients: usize) -> Vec<u8> {
    if i % 100 == 99 {
        return format!("{{\"format\": \"embolint.plan/1\", \"plan_id\": \"A{i}\"}}").into_bytes();
    }
    let mut plan = template.clone();
    plan["plan_id"] = format!("A{i}").into();
    plan["patient"]["id"] = format!("P{}", i % patients).into();
    let date = jiff::civil::date(2025, 1, 6) + jiff::Span::new().days(45 * (i / patients) as i64);
    plan["sessions"][0]["date"] = date.to_string().into();
    plan["spinal_artery_mapping"]["date"] = date.to_string().into();
    if i % 5 == 0 {
        if let Some(arteries) = plan["sessions"][0]["arteries"].as_array_mut() {
            for artery in arteries.iter_mut() {
                let drugs = artery.get_mut("drugs").and_then(Value::as_array_mut);
                for drug in drugs.into_iter().flatten() {
                    if drug["name"] == "pirarubicin" {
                        drug["dose"]["value"] = 5.into();
                    }
                }
            }
        }
    }
    serde_json::to_vec(&plan).unwrap_or_default()
}

/// Writes `count` decisions under `root` as the daemon would, checked at
/// times spread evenly over the two years before now. Returns how many
/// passed, failed and were invalid.
fn build_root(
    root: &Path,
    count: usize,
    patients: usize,
    rules: &RuleSet,
) -> Result<[usize; 3], String> {
    let mut archive = Archive::create(root)?;
    let mut template: Value = serde_json::from_str(PASS_PLAN).map_err(|e| e.to_string())?;
    if let Some(plan) = template.as_object_mut() {
        plan.remove("prior_sessions");
    }
    let history = History::open(&root.join("state/history.sqlite")).map_err(|e| e.to_string())?;
    history.begin().map_err(|e| e.to_string())?;
    let now = jiff::Timestamp::now();
    let span_ms = 730 * 24 * 3600 * 1000i64;
    let step_ms = span_ms / i64::try_from(count.max(1)).unwrap_or(1);
    for i in 0..count {
        let name = format!("plan-{i:07}.json");
        let bytes = plan_text(&template, i, patients);
        let mut checked =
            check(PlanFile::new(&name, &bytes), rules, None).map_err(|e| e.to_string())?;
        let back = jiff::Span::new().milliseconds(span_ms - step_ms * i as i64);
        checked.verdict.checked_at = now.checked_sub(back).map_err(|e| e.to_string())?;
        let placement = archive.record(&name, &checked)?;
        if let Some(rows) = &placement.history {
            history.put(rows).map_err(|e| e.to_string())?;
        }
        if i + archive::BATCH >= count {
            std::fs::write(root.join(&placement.moved_to), &bytes).map_err(|e| e.to_string())?;
        }
        if (i + 1) % 100_000 == 0 {
            eprintln!("  {} decisions written", i + 1);
        }
    }
    history.commit().map_err(|e| e.to_string())?;
    archive.finish()
}
