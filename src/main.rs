//! The `embolint` command: parses the command line, calls the library, and
//! maps the outcome to an exit code. All logic lives in the library.

use clap::{Parser, Subcommand, ValueEnum};
use embolint::check::{self as checker, oversized_verdict, read_plan_file, PlanBytes, PlanFile};
use embolint::history::History;
use embolint::report;
use embolint::rules::RuleSet;
use embolint::verdict::{Outcome, Verdict};
use embolint::watch::forget::{self, DirectError, ForgetAnswer, ForgetOutcome, ForgetRequest};
use embolint::watch::layout::Layout;
use embolint::watch::pseudonym;
use embolint::watch::verify::{self, Anchor};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Exit code: embolint itself could not run (bad rule file, unreadable path,
/// a mistake on the command line).
const EXIT_CANNOT_RUN: u8 = 3;

/// embolint checks planned intra-arterial chemoembolization of bone
/// metastases against the treatment protocol (Chiras et al.) and gives each
/// plan a verdict: pass, fail or invalid, with every finding explained.
#[derive(Debug, Parser)]
#[command(name = "embolint", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check plan files once and print their verdicts.
    ///
    /// Exit status: 0 every plan passes; 1 at least one fails; 2 at least one
    /// is invalid (2 wins over 1); 3 embolint could not run (bad rule file,
    /// unreadable path, a folder with no plans).
    Check(CheckArgs),
    /// List the rule set: every rule with its severity, limits and citation.
    Rules(RulesArgs),
    /// Serve a watched folder: check each plan dropped into ROOT/inbox.
    Watch(embolint::watch::WatchArgs),
    /// Show a patient's recorded sessions (plans that passed), or withdraw a
    /// cancelled plan from the history.
    ///
    /// Exit status: 0 done; 1 --forget found no such plan (nothing changed);
    /// 3 embolint could not run (no database, a damaged or locked one, no
    /// answer from the running daemon in time).
    History(HistoryArgs),
    /// Check the decision log's hash chain, and name the first record that
    /// was edited, deleted, moved, inserted or cut off.
    ///
    /// Exit status: 0 the chain is intact (and the anchor, if given, holds);
    /// 1 it is broken, or its last record is incomplete; 3 the log cannot be
    /// read.
    VerifyLog(VerifyLogArgs),
    /// Print the pseudonym that the daemon's operational logs give a
    /// patient id (`patient_ids_in_logs = "pseudonymised"`, the default), to
    /// find that patient's log lines.
    ///
    /// Exit status: 0 printed, one line per id; 3 no key (no pseudonym_key
    /// in the config, and the daemon has not yet made ROOT/state/pseudonym.key).
    Pseudonym(PseudonymArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    /// For people: readable lines and a summary.
    Text,
    /// For software: JSON (JSON Lines, one object per plan, when checking several).
    Json,
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// Plan files to check; a folder stands for the `*.json` files in it,
    /// and `-` reads one plan from standard input.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// A rule file (TOML) to use instead of the built-in protocol rules.
    #[arg(long, value_name = "FILE")]
    rules: Option<PathBuf>,
    /// A history database (the daemon's ROOT/state/history.sqlite), opened
    /// read-only: session spacing is then also checked against the sessions
    /// of the patient's other plans that passed.
    #[arg(long, value_name = "DB")]
    history: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct HistoryArgs {
    /// The patient whose recorded sessions are listed.
    #[arg(
        value_name = "PATIENT_ID",
        required_unless_present_any = ["forget", "rebuild"],
        conflicts_with_all = ["forget", "rebuild"]
    )]
    patient_id: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// The daemon's root folder; its history is ROOT/state/history.sqlite.
    #[arg(
        long,
        value_name = "DIR",
        conflicts_with = "history",
        required_unless_present = "history"
    )]
    root: Option<PathBuf>,
    /// A history database file.
    #[arg(long, value_name = "DB")]
    history: Option<PathBuf>,
    /// Withdraw a cancelled plan from the root's history, so later plans of
    /// its patient are no longer judged against it. The withdrawal is written
    /// to the decision log with --by and the time. Needs --root: a running
    /// `embolint watch` carries it out between plans; with none running it
    /// is done at once.
    #[arg(long, value_name = "PLAN_ID", requires_all = ["by", "root"])]
    forget: Option<String>,
    /// Rebuild a lost or damaged ROOT/state/history.sqlite from the decision
    /// log (with `embolint watch` stopped, and the old database moved away).
    #[arg(long, requires = "root", conflicts_with = "forget")]
    rebuild: bool,
    /// Who withdraws the plan (your name, for the audit trail).
    #[arg(long, value_name = "NAME", requires = "forget")]
    by: Option<String>,
    /// Seconds to wait for a running `embolint watch` to carry out --forget;
    /// past that the request stays queued and is carried out later.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    wait_secs: u64,
}

#[derive(Debug, clap::Args)]
struct VerifyLogArgs {
    /// The daemon's root folder (its log is ROOT/log/decisions.jsonl), or a
    /// decision log file itself (an archived one).
    #[arg(value_name = "ROOT")]
    root: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// A line noted from an earlier check (SEQ:SHA256, as printed): the log
    /// must still hold it unchanged. Catches records removed from the end
    /// and a log rewritten whole, which the chain alone cannot.
    #[arg(long, value_name = "SEQ:SHA256")]
    anchor: Option<Anchor>,
}

#[derive(Debug, clap::Args)]
struct PseudonymArgs {
    /// The patient ids, as plans give them.
    #[arg(required = true, value_name = "PATIENT_ID")]
    patient_ids: Vec<String>,
    /// The daemon's root folder (its key is ROOT/state/pseudonym.key).
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// The daemon's configuration file, when it sets pseudonym_key (or root).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct RulesArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// A rule file (TOML) to list instead of the built-in protocol rules.
    #[arg(long, value_name = "FILE")]
    rules: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(error),
    };
    match cli.command {
        Command::Check(args) => check(args),
        Command::Rules(args) => rules(args),
        Command::Watch(args) => embolint::watch::run(args),
        Command::History(args) => history(args),
        Command::VerifyLog(args) => verify_log(args),
        Command::Pseudonym(args) => pseudonym(args),
    }
}

/// Prints clap's message. `--help` and `--version` exit 0; a mistake on the
/// command line exits 3, never 2, which would read as "a plan is invalid".
fn usage_error(error: clap::Error) -> ExitCode {
    let _ = error.print();
    if error.use_stderr() {
        ExitCode::from(EXIT_CANNOT_RUN)
    } else {
        ExitCode::SUCCESS
    }
}

/// Loads `--rules FILE`, or the built-in rule set.
fn load_rules(path: Option<&Path>) -> Result<RuleSet, ExitCode> {
    let loaded = match path {
        Some(path) => RuleSet::load(path),
        None => RuleSet::builtin(),
    };
    loaded.map_err(|e| {
        eprintln!("embolint: {e}");
        ExitCode::from(EXIT_CANNOT_RUN)
    })
}

fn check(args: CheckArgs) -> ExitCode {
    let rules = match load_rules(args.rules.as_deref()) {
        Ok(rules) => rules,
        Err(code) => return code,
    };
    let history = match args.history.as_deref().map(History::open_read_only).transpose() {
        Ok(history) => history,
        Err(e) => {
            eprintln!("embolint: {e}");
            return ExitCode::from(EXIT_CANNOT_RUN);
        }
    };
    let mut cannot_run = false;
    let mut files = Vec::new();
    for path in &args.paths {
        match expand(path) {
            Ok(found) => files.extend(found),
            Err(message) => {
                eprintln!("embolint: {message}");
                cannot_run = true;
            }
        }
    }
    let color = matches!(args.format, Format::Text)
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none();
    let mut stdout = std::io::stdout().lock();
    let mut verdicts = Vec::new();
    let mut unreadable = 0;
    for file in &files {
        let verdict = match judge(file, &rules, history.as_ref()) {
            Ok(verdict) => verdict,
            Err(message) => {
                eprintln!("embolint: {message}");
                unreadable += 1;
                continue;
            }
        };
        let written = match args.format {
            Format::Json => serde_json::to_string(&verdict)
                .map_err(std::io::Error::other)
                .and_then(|line| writeln!(stdout, "{line}")),
            Format::Text => write!(stdout, "{}", report::render_verdict(&verdict, color)),
        };
        if written.is_err() {
            // Standard output is gone (a closed pipe): nothing more can be said.
            return ExitCode::from(EXIT_CANNOT_RUN);
        }
        verdicts.push(verdict);
    }
    if matches!(args.format, Format::Text) && files.len() > 1 {
        let _ = writeln!(stdout, "{}", report::render_totals(&verdicts, unreadable));
    }
    if cannot_run || unreadable > 0 {
        return ExitCode::from(EXIT_CANNOT_RUN);
    }
    exit_code(&verdicts)
}

/// 2 if any plan is invalid, else 1 if any fails, else 0.
fn exit_code(verdicts: &[Verdict]) -> ExitCode {
    let any = |o| verdicts.iter().any(|v: &Verdict| v.verdict == o);
    if any(Outcome::Invalid) {
        ExitCode::from(2)
    } else if any(Outcome::Fail) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// A path as given, or the sorted `*.json` files of a folder.
fn expand(path: &Path) -> Result<Vec<PathBuf>, String> {
    if path.as_os_str() == "-" || !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let entries = std::fs::read_dir(path)
        .map_err(|e| format!("cannot read the folder {}: {e}", path.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read the folder {}: {e}", path.display()))?;
        let candidate = entry.path();
        if candidate.extension().is_some_and(|ext| ext == "json") && !candidate.is_dir() {
            files.push(candidate);
        }
    }
    if files.is_empty() {
        return Err(format!("the folder {} has no .json plan files", path.display()));
    }
    files.sort();
    Ok(files)
}

/// Reads and checks one plan file (or standard input for `-`).
fn judge(path: &Path, rules: &RuleSet, history: Option<&History>) -> Result<Verdict, String> {
    let limit = embolint::check::DEFAULT_MAX_PLAN_BYTES;
    let name = if path.as_os_str() == "-" { "-".to_string() } else { path.display().to_string() };
    let read = if path.as_os_str() == "-" {
        PlanBytes::read_from(std::io::stdin().lock(), 0, limit)
            .map_err(|e| format!("cannot read standard input: {e}"))?
    } else {
        read_plan_file(path, limit).map_err(|e| format!("cannot read {name}: {e}"))?
    };
    let bytes = match read {
        PlanBytes::Read(bytes) => bytes,
        PlanBytes::TooLarge { size, limit, first_bytes_sha256 } => {
            return Ok(oversized_verdict(&name, size, limit, &first_bytes_sha256, rules));
        }
    };
    checker::check(PlanFile::new(&name, &bytes), rules, history)
        .map(|checked| checked.verdict)
        .map_err(|e| format!("cannot check {name} against the history: {e}"))
}

fn history(args: HistoryArgs) -> ExitCode {
    if let (true, Some(root)) = (args.rebuild, &args.root) {
        return rebuild(root);
    }
    if let (Some(plan_id), Some(root)) = (&args.forget, &args.root) {
        let by = args.by.clone().unwrap_or_default();
        return forget(root, plan_id, by, &args);
    }
    let from_root = args.root.as_ref().map(|root| Layout::new(root).history());
    let (Some(path), Some(patient_id)) = (args.history.clone().or(from_root), &args.patient_id)
    else {
        eprintln!("embolint history: give PATIENT_ID and --root DIR or --history DB");
        return ExitCode::from(EXIT_CANNOT_RUN);
    };
    let history = match History::open_read_only(&path) {
        Ok(history) => history,
        Err(e) => {
            eprintln!("embolint: {e}");
            return ExitCode::from(EXIT_CANNOT_RUN);
        }
    };
    let sessions = match history.sessions_of(patient_id) {
        Ok(sessions) => sessions,
        Err(e) => {
            eprintln!("embolint: {e}");
            return ExitCode::from(EXIT_CANNOT_RUN);
        }
    };
    let text = match args.format {
        Format::Json => serde_json::to_string_pretty(&sessions).map(|json| json + "\n"),
        Format::Text => Ok(report::render_history(patient_id, &sessions)),
    };
    print_or_fail(text, "the history")
}

/// `history --forget`: done at once when no daemon serves the root, else
/// asked of the daemon, whose answer is awaited.
fn forget(root: &Path, plan_id: &str, by: String, args: &HistoryArgs) -> ExitCode {
    let request =
        ForgetRequest { plan_id: plan_id.to_string(), by, requested_at: jiff::Timestamp::now() };
    let answer = match forget::forget_directly(root, &request) {
        Ok(answer) => answer,
        Err(DirectError::DaemonRunning) => match ask_daemon(root, &request, args.wait_secs) {
            Ok(answer) => answer,
            Err(message) => {
                eprintln!("embolint: {message}");
                return ExitCode::from(EXIT_CANNOT_RUN);
            }
        },
        Err(DirectError::Failed(message)) => {
            eprintln!("embolint: cannot withdraw plan {plan_id}: {message}");
            return ExitCode::from(EXIT_CANNOT_RUN);
        }
    };
    let text = match args.format {
        Format::Json => serde_json::to_string_pretty(&answer).map(|json| json + "\n"),
        Format::Text => Ok(format!("{}\n", answer.message)),
    };
    let printed = print_or_fail(text, "the answer");
    match answer.outcome {
        ForgetOutcome::Withdrawn => printed,
        ForgetOutcome::NotRecorded => ExitCode::from(1),
        ForgetOutcome::Refused => ExitCode::from(EXIT_CANNOT_RUN),
    }
}

/// `history --rebuild`: the history again, from the decision log.
fn rebuild(root: &Path) -> ExitCode {
    let rebuilt = match embolint::watch::rebuild::rebuild(root) {
        Ok(rebuilt) => rebuilt,
        Err(message) => {
            eprintln!("embolint: cannot rebuild the history: {message}");
            return ExitCode::from(EXIT_CANNOT_RUN);
        }
    };
    println!(
        "rebuilt {} from the decision log: {} passed plans and {} withdrawals replayed; it holds \
         {} plans of {} patients",
        Layout::new(root).history().display(),
        rebuilt.passed_records,
        rebuilt.withdrawals,
        rebuilt.plans,
        rebuilt.patients
    );
    if rebuilt.passed_without_rows > 0 {
        eprintln!(
            "embolint: warning: {} passed records carry no history rows (written by an embolint \
             that kept no history); their sessions are not in the rebuilt history",
            rebuilt.passed_without_rows
        );
    }
    if rebuilt.unreadable_lines > 0 {
        eprintln!(
            "embolint: warning: {} lines of the decision log could not be read (a line torn by a \
             crash is one); check the log",
            rebuilt.unreadable_lines
        );
    }
    ExitCode::SUCCESS
}

/// Leaves a request for the running daemon and waits for its answer.
fn ask_daemon(
    root: &Path,
    request: &ForgetRequest,
    wait_secs: u64,
) -> Result<ForgetAnswer, String> {
    let layout = Layout::new(root);
    let id = forget::submit(&layout, request)
        .map_err(|e| format!("cannot leave the request in {}: {e}", layout.requests().display()))?;
    let patience = std::time::Duration::from_secs(wait_secs);
    match forget::wait_for_answer(&layout, &id, patience) {
        Ok(Some(answer)) => Ok(answer),
        Ok(None) => Err(format!(
            "embolint watch has not answered within {wait_secs} s (is the history unavailable? \
             see its log). The request stays queued as {}/{id}.request and is carried out as \
             soon as it can be; do not ask again",
            layout.requests().display()
        )),
        Err(e) => Err(format!("cannot read the answer to request {id}: {e}")),
    }
}

/// Prints `text` to standard output; exit 0, or 3 if it cannot be made.
fn print_or_fail(text: serde_json::Result<String>, what: &str) -> ExitCode {
    match text {
        Ok(text) => {
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("embolint: cannot write {what}: {e}");
            ExitCode::from(EXIT_CANNOT_RUN)
        }
    }
}

/// `verify-log`: the chain of ROOT's decision log (or of a log file).
fn verify_log(args: VerifyLogArgs) -> ExitCode {
    let path =
        if args.root.is_file() { args.root.clone() } else { Layout::new(&args.root).decisions() };
    let report = match verify::verify(&path, args.anchor.as_ref()) {
        Ok(report) => report,
        Err(e) => {
            eprintln!(
                "embolint: cannot read the decision log {}: {e} (give the root folder that \
                 embolint watch serves, or a decision log file)",
                path.display()
            );
            return ExitCode::from(EXIT_CANNOT_RUN);
        }
    };
    let text = match args.format {
        Format::Json => serde_json::to_string_pretty(&report).map(|json| json + "\n"),
        Format::Text => Ok(verify::render(&report)),
    };
    let printed = print_or_fail(text, "the report");
    if report.intact {
        printed
    } else {
        ExitCode::from(1)
    }
}

/// `pseudonym`: the operational logs' name for each patient id, with the
/// key the daemon uses (the config's, else the root's key file).
fn pseudonym(args: PseudonymArgs) -> ExitCode {
    let watch = embolint::watch::WatchArgs {
        root: args.root.clone(),
        config: args.config.clone(),
        ..Default::default()
    };
    let key = embolint::watch::config::Settings::resolve(&watch)
        .map_err(|e| e.to_string())
        .and_then(|settings| match settings.pseudonym_key {
            Some(key) => Ok(key),
            None => pseudonym::key_file(&Layout::new(&settings.root).state, false),
        });
    let key = match key {
        Ok(key) => key,
        Err(message) => {
            eprintln!("embolint: {message}");
            return ExitCode::from(EXIT_CANNOT_RUN);
        }
    };
    let text: String = args.patient_ids.iter().map(|id| key.pseudonym(id) + "\n").collect();
    print_or_fail(Ok(text), "the pseudonyms")
}

fn rules(args: RulesArgs) -> ExitCode {
    let rules = match load_rules(args.rules.as_deref()) {
        Ok(rules) => rules,
        Err(code) => return code,
    };
    let text = match args.format {
        Format::Json => serde_json::to_string_pretty(&rules).map(|json| json + "\n"),
        Format::Text => Ok(report::render_rules(&rules)),
    };
    match text {
        Ok(text) => {
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("embolint: cannot write the rule list: {e}");
            ExitCode::from(EXIT_CANNOT_RUN)
        }
    }
}
