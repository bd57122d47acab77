//! Engine benchmark: parse + check of one plan, without any file I/O.
//!
//! `cargo bench --bench engine` measures four plans (targets from the
//! performance issues): (a) the SPEC example and (b) a plan of 3 sessions ×
//! 6 arteries, each within 60 µs; (c) an invalid plan with 20 problems; (d)
//! a plan of about 900 KB, under 10 ms.
//!
//! `parse+check` is [`check`] without a history, the plan's sha256 given,
//! as the daemon gives it after hashing the file while reading it. The
//! group `sha256` measures that hashing on its own; `embolint check` pays
//! both (it leaves the hashing to [`check`]).
//!
//! Times on a shared machine are noisy. For before/after comparisons, count
//! instructions instead: with `EMBOLINT_BENCH_CALLS=N` the benchmark binary
//! (its path is printed by `cargo bench --bench engine --no-run`) checks each
//! plan whose name contains the first argument N times, without criterion:
//!
//! ```text
//! EMBOLINT_BENCH_CALLS=20 valgrind --tool=callgrind \
//!     --toggle-collect='embolint::check::check' target/release/deps/engine-HASH b-3
//! ```
//!
//! and the instructions per check are callgrind's total divided by N.

use criterion::{criterion_group, Criterion, Throughput};
use embolint::check::{check, sha256_hex, PlanFile};
use embolint::rules::RuleSet;
use serde_json::{json, Value};
use std::hint::black_box;

const SPEC_EXAMPLE: &str = include_str!("../tests/fixtures/public/spec-example.json");

fn spec_example() -> Value {
    serde_json::from_str(SPEC_EXAMPLE).unwrap_or(Value::Null)
}

fn artery(n: usize) -> Value {
    json!({
        "name": format!("artery {n}"),
        "origin": format!("right L{} lumbar", n % 5 + 1),
        "diameter_mm": 2.5,
        "shares_origin_with_spinal_artery": false,
        "embolic": { "agent": "PVA", "particle_size_um": [300, 600] },
        "drugs": [
            { "name": "pirarubicin", "dose": { "value": 3, "unit": "mg" } },
            { "name": "carboplatin", "dose": { "value": 50, "unit": "mg" } }
        ]
    })
}

/// The SPEC example with `sessions` sessions of `arteries` arteries each.
fn plan_with(sessions: usize, arteries: usize) -> Value {
    let mut plan = spec_example();
    let template = plan["sessions"][0].clone();
    let planned: Vec<Value> = (0..sessions)
        .map(|i| {
            let mut session = template.clone();
            session["number"] = json!(i + 2);
            session["date"] = json!(format!("2027-{:02}-05", i * 2 + 1));
            session["arteries"] = Value::Array((0..arteries).map(artery).collect());
            session
        })
        .collect();
    plan["sessions"] = Value::Array(planned);
    plan
}

/// The SPEC example with 20 distinct mistakes (typos, units, types).
fn invalid_plan() -> Value {
    let mut plan = plan_with(2, 5);
    for s in 0..2 {
        for a in 0..5 {
            let artery = &mut plan["sessions"][s]["arteries"][a];
            artery["diamter_mm"] = json!(2.5);
            artery["drugs"][0]["dose"]["unit"] = json!("mg/kg");
        }
    }
    plan
}

fn bytes(plan: &Value) -> Vec<u8> {
    serde_json::to_vec_pretty(plan).unwrap_or_default()
}

/// Writes the bytes of one benchmark plan.
type WritePlan = fn() -> Vec<u8>;

/// The four plans: each name with the function that writes the plan.
const CASES: [(&str, WritePlan); 4] = [
    ("a-spec-example", || SPEC_EXAMPLE.as_bytes().to_vec()),
    ("b-3-sessions-6-arteries", || bytes(&plan_with(3, 6))),
    ("c-invalid-20-problems", || bytes(&invalid_plan())),
    ("d-900kb-plan", || bytes(&plan_with(2, 640))),
];

fn engine(c: &mut Criterion) {
    let Ok(rules) = RuleSet::builtin() else {
        eprintln!("the built-in rule set does not load");
        return;
    };
    let cases = CASES.map(|(name, write)| (name, write()));
    let mut group = c.benchmark_group("parse+check");
    for (name, plan) in &cases {
        let sha256 = sha256_hex(plan);
        let file = PlanFile { name, bytes: plan, sha256: Some(&sha256) };
        let problems = check(file, &rules, None).map_or(0, |c| c.verdict.findings.len());
        eprintln!("{name}: {} bytes, {problems} findings", plan.len());
        group.throughput(Throughput::Bytes(plan.len() as u64));
        group.bench_function(*name, |b| b.iter(|| check(black_box(file), &rules, None)));
    }
    group.finish();
    let mut group = c.benchmark_group("sha256");
    for (name, plan) in &cases {
        group.throughput(Throughput::Bytes(plan.len() as u64));
        group.bench_function(*name, |b| b.iter(|| sha256_hex(black_box(plan))));
    }
    group.finish();
}

/// Checks the plans whose name contains `filter`, `calls` times each: a
/// fixed amount of work for an instruction count.
fn check_repeatedly(calls: usize, filter: &str) {
    let Ok(rules) = RuleSet::builtin() else {
        eprintln!("the built-in rule set does not load");
        return;
    };
    for (name, write) in CASES.iter().filter(|(name, _)| name.contains(filter)) {
        let plan = write();
        let sha256 = sha256_hex(&plan);
        let file = PlanFile { name, bytes: &plan, sha256: Some(&sha256) };
        for _ in 0..calls {
            let _ = black_box(check(black_box(file), &rules, None));
        }
        eprintln!("{name}: checked {calls} times");
    }
}

criterion_group!(benches, engine);

fn main() {
    let calls = std::env::var("EMBOLINT_BENCH_CALLS").ok().and_then(|n| n.parse().ok());
    match calls {
        Some(calls) => check_repeatedly(calls, &std::env::args().nth(1).unwrap_or_default()),
        None => {
            benches();
            Criterion::default().configure_from_args().final_summary();
        }
    }
}
