//! Shared helpers for the black-box tests of `embolint check`: start the
//! real binary, read its JSON verdicts, and build plans from the SPEC's
//! example. Each test file includes this with `mod check_support;` and uses
//! only part of it.
#![allow(dead_code)]

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Every rule id of the shipped rule set (SPEC §2's table has 18 rows;
/// `sedation-protocol` is new with the clinical revision, and `plan-revision`
/// joined the table then).
pub const SPEC_RULE_IDS: [&str; 18] = [
    "spinal-mapping-required",
    "spinal-feeder-excluded",
    "artery-dose-max",
    "session-dose-max",
    "session-dose-min",
    "artery-count",
    "session-spacing",
    "particle-size-min",
    "particle-size-protocol",
    "embolic-agent",
    "unknown-drug",
    "sedation-dose-max",
    "sedation-protocol",
    "post-procedure-care",
    "follow-up",
    "eligibility",
    "course-length",
    "plan-revision",
];

/// A path inside the repository.
pub fn repo(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// The real binary, with colour and the caller's environment kept out.
pub fn embolint() -> assert_cmd::Command {
    let mut command = assert_cmd::Command::new(env!("CARGO_BIN_EXE_embolint"));
    command.env_remove("RUST_LOG").env("NO_COLOR", "1");
    command
}

/// What a finished run of the binary gave.
pub struct Run {
    /// The process's exit code (`None` if killed by a signal).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// One JSON verdict per non-empty line of standard output.
    pub fn verdicts(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("not a JSON verdict line ({e}): {line}"))
            })
            .collect()
    }

    /// The only verdict of a one-plan run.
    pub fn verdict(&self) -> Value {
        let mut all = self.verdicts();
        assert_eq!(all.len(), 1, "expected one verdict, got:\n{}\n{}", self.stdout, self.stderr);
        all.remove(0)
    }
}

/// Runs the binary with `args` (and `stdin`, if given) and collects the result.
pub fn run<I, S>(args: I, stdin: Option<Vec<u8>>) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut command = embolint();
    command.args(args);
    if let Some(bytes) = stdin {
        command.write_stdin(bytes);
    }
    let output = command.output().expect("the embolint binary starts");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `embolint check --format json PATH...`.
pub fn check_json<P: AsRef<Path>>(paths: &[P]) -> Run {
    let mut args: Vec<std::ffi::OsString> = vec!["check".into(), "--format".into(), "json".into()];
    args.extend(paths.iter().map(|p| p.as_ref().as_os_str().to_owned()));
    run(args, None)
}

/// One line of an `expected.jsonl`.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Expected {
    pub file: String,
    pub verdict: String,
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
    pub infos: Vec<String>,
}

impl Expected {
    /// The exit code of `check` on this plan alone.
    pub fn exit_code(&self) -> i32 {
        match self.verdict.as_str() {
            "pass" => 0,
            "fail" => 1,
            "invalid" => 2,
            other => panic!("unknown verdict {other} in expected.jsonl"),
        }
    }
}

/// Reads a folder's `expected.jsonl`.
pub fn read_expected(folder: &Path) -> Vec<Expected> {
    let text = std::fs::read_to_string(folder.join("expected.jsonl")).unwrap();
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// The sorted, distinct rule ids of a verdict's findings of one severity
/// that count (an acknowledged finding is listed but does not count).
pub fn rule_ids(verdict: &Value, severity: &str) -> Vec<String> {
    let ids: BTreeSet<String> = findings(verdict)
        .iter()
        .filter(|f| f["severity"] == severity && f.get("acknowledged").is_none())
        .map(|f| f["rule"].as_str().unwrap_or_default().to_string())
        .collect();
    ids.into_iter().collect()
}

/// A verdict's findings.
pub fn findings(verdict: &Value) -> Vec<Value> {
    verdict["findings"].as_array().cloned().unwrap_or_default()
}

/// The findings of one rule.
pub fn findings_of(verdict: &Value, rule: &str) -> Vec<Value> {
    findings(verdict).into_iter().filter(|f| f["rule"] == rule).collect()
}

/// How a verdict differs from what is expected, or `None` when it matches.
pub fn mismatch(expected: &Expected, verdict: &Value, code: Option<i32>) -> Option<String> {
    let want = (
        expected.verdict.as_str(),
        sorted(&expected.errors),
        sorted(&expected.warnings),
        sorted(&expected.infos),
        Some(expected.exit_code()),
    );
    let have = (
        verdict["verdict"].as_str().unwrap_or("<none>"),
        rule_ids(verdict, "error"),
        rule_ids(verdict, "warning"),
        rule_ids(verdict, "info"),
        code,
    );
    (want != have).then(|| {
        format!(
            "{}: expected {want:?}, got {have:?}\n    findings: {}",
            expected.file,
            serde_json::to_string(&verdict["findings"]).unwrap_or_default()
        )
    })
}

fn sorted(ids: &[String]) -> Vec<String> {
    let set: BTreeSet<String> = ids.iter().cloned().collect();
    set.into_iter().collect()
}

/// The SPEC §1 example plan (valid; passes with the `course-length` info).
pub fn spec_example() -> Value {
    let text = std::fs::read_to_string(repo("tests/fixtures/public/spec-example.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Writes a plan into `dir` and returns its path.
pub fn write_plan(dir: &Path, name: &str, plan: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(plan).unwrap()).unwrap();
    path
}

/// Replaces `"@@NAME@@"` placeholders (strings in a JSON text) by number
/// literals written exactly as given, so that a test controls every digit.
pub fn with_literals(plan: &Value, literals: &[(&str, &str)]) -> String {
    let mut text = serde_json::to_string_pretty(plan).unwrap();
    for (name, literal) in literals {
        let placeholder = format!("\"@@{name}@@\"");
        assert!(text.contains(&placeholder), "no placeholder {placeholder}");
        text = text.replace(&placeholder, literal);
    }
    text
}
