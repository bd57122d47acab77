//! The `embolint` command: parses the command line, calls the library, and
//! maps the outcome to an exit code. All logic lives in the library.

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use embolint::audit::seal::FirstKey;
use embolint::audit::verify::Anchor;
use embolint::commands::{self, check::CheckOptions, history::ForgetOptions, Error, Status};
use embolint::history::{HistoryUrl, Location};
use embolint::watch::config::ConfigOrigin;
use embolint::watch::layout::Layout;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

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
    Watch(WatchFlags),
    /// Do everything `watch` does, and answer HTTP: a JSON API for planning
    /// software and an HL7 CDS Hooks order-sign service, both recorded in
    /// the same decision log.
    ///
    /// Exit status: 0 stopped cleanly (SIGTERM/SIGINT); 3 cannot start (a
    /// non-loopback address without --token-file, among others); 4 stopped
    /// on an error that made going on unsafe.
    Serve(ServeFlags),
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
    /// Judge the plans already judged again, under another rule set: what
    /// would this rule change have done to our past plans?
    ///
    /// Every plan the decision log recorded that is still in its outcome
    /// folder unchanged (its sha256 as recorded) is judged again, in the
    /// log's order, with the patient history as it stood when it was
    /// judged. Nothing under DIR is written. Prints a summary line, the
    /// findings per rule before and after, the plans whose verdict or
    /// findings change, and the plans that could not be replayed (missing
    /// or altered).
    ///
    /// Exit status: 0 no verdict changes; 1 at least one verdict changes;
    /// 3 embolint could not run (bad rule file, no decision log).
    Replay(ReplayArgs),
    /// List the decisions of a root, newest first: one line per decision
    /// (time in UTC, verdict, file, plan, patient, the rules that fired),
    /// or the decision records themselves as JSON Lines.
    ///
    /// Decisions are looked up in the decision index
    /// (ROOT/state/decisions-index.sqlite), which is brought up to date with
    /// the log first; nothing else under ROOT is written, and it works while
    /// the daemon runs. Patient ids are compared as the history compares
    /// them (case and spacing aside).
    ///
    /// Exit status: 0 listed (also when no decision matches: it says so);
    /// 3 embolint could not run (no decision log under ROOT, an unreadable
    /// index).
    Log(LogArgs),
    /// Show the settings `watch` would run with, and where each comes from:
    /// the command line, the config file, or the built-in default.
    ///
    /// The config file is --config FILE, else the EMBOLINT_CONFIG
    /// environment variable, else /etc/embolint/embolint.toml if it exists.
    /// Exit status: 0 shown; 3 the settings cannot be used (the message says
    /// why).
    Config(ConfigArgs),
    /// Print the pseudonym that the daemon's operational logs give a
    /// patient id (`patient_ids_in_logs = "pseudonymised"`, the default), to
    /// find that patient's log lines.
    ///
    /// Exit status: 0 printed, one line per id; 3 no key (no pseudonym_key
    /// in the config, and the daemon has not yet made ROOT/state/pseudonym.key).
    Pseudonym(PseudonymArgs),
    /// Print the completion script of a shell (bash, zsh, fish, elvish,
    /// powershell), e.g. `embolint completions bash >
    /// /usr/share/bash-completion/completions/embolint`.
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
    /// Write the manual pages (roff): embolint.1 and one page per command
    /// (embolint-check.1, ...), into DIR.
    ///
    /// Exit status: 0 written; 3 DIR cannot be written.
    Man {
        /// The folder to write the pages into (it must exist).
        #[arg(long, value_name = "DIR")]
        out_dir: PathBuf,
    },
}

/// Options of `embolint watch`. Each flag overrides the config file, which
/// overrides the built-in default.
#[derive(Clone, Debug, Default, clap::Args)]
struct WatchFlags {
    /// The root folder to serve: plans are dropped into ROOT/inbox. It must
    /// exist, unless --init is given.
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Create the root folder if it does not exist (never its parents).
    /// Without it a missing root is refused, so that a typo or an unmounted
    /// share is never served as an empty inbox.
    #[arg(long)]
    init: bool,
    /// A configuration file (TOML); the built-in defaults apply without one.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// A rule file replacing the built-in rule set.
    #[arg(long, value_name = "FILE")]
    rules: Option<PathBuf>,
    /// Log lines as human-readable text or as JSON objects [default: text].
    #[arg(long, value_enum, value_name = "FORMAT")]
    log_format: Option<LogFormatFlag>,
    /// Log level or filter (error, warn, info, debug, trace); overrides
    /// RUST_LOG and the config file [default: info].
    #[arg(long, value_name = "LEVEL")]
    log_level: Option<String>,
    /// Seconds between full re-scans of the inbox (a safety net for missed
    /// file-system events) [default: 30].
    #[arg(long, value_name = "SECONDS")]
    rescan_interval_secs: Option<u64>,
    /// Milliseconds a file must stay unchanged before it is read [default: 1000].
    #[arg(long, value_name = "MS")]
    settle_millis: Option<u64>,
    /// Largest plan file read, in bytes; larger files are invalid [default: 1048576].
    #[arg(long, value_name = "BYTES")]
    max_plan_bytes: Option<u64>,
    /// Most plans whose decision records share one disk sync [default: 64].
    #[arg(long, value_name = "N")]
    batch_size: Option<usize>,
    /// Keep the patient history in a PostgreSQL database shared with other
    /// daemons (postgres://USER:PASSWORD@HOST:PORT/DATABASE) instead of
    /// ROOT/state/history.sqlite. Prefer `history_url` in the config file:
    /// a password on the command line is visible to every local user.
    #[arg(long, value_name = "URL")]
    history_url: Option<String>,
}

/// Options of `embolint serve`: those of `watch`, and the HTTP side.
#[derive(Clone, Debug, clap::Args)]
struct ServeFlags {
    /// Everything `watch` takes.
    #[command(flatten)]
    watch: WatchFlags,
    /// The address and port to answer HTTP on (an IP address, or
    /// localhost:PORT). A loopback address needs no credentials; any other
    /// needs --token-file.
    #[arg(
        long,
        value_name = "ADDR",
        default_value = embolint::serve::DEFAULT_LISTEN,
        value_parser = embolint::serve::listen_address
    )]
    listen: std::net::SocketAddr,
    /// A file holding the bearer token every /v1/ request must carry
    /// (`Authorization: Bearer TOKEN`). Required off loopback.
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// The CDS clients allowed to call the CDS Hooks service: a JSON file
    /// `{"clients": [{"iss": ISSUER, "keys": [JWK, ...]}]}`. With it, every
    /// CDS Hooks request needs a JWT signed by a key of its issuer.
    #[arg(long, value_name = "FILE")]
    cds_jwks: Option<PathBuf>,
    /// The service's address as its clients see it (behind a TLS reverse
    /// proxy: https://...); CDS Hooks JWTs must name
    /// URL/cds-services/embolint-order-sign as their audience
    /// [default: http://ADDR].
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// Seconds a client may take to send a request's head or body.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    read_timeout_secs: u64,
    /// Most requests handled at once; more wait their turn.
    #[arg(long, value_name = "N", default_value_t = 256)]
    max_requests: usize,
    /// The web origin (https://ehr.example.org) of a browser-based CDS
    /// client allowed to call the CDS Hooks service from its page (CORS).
    /// Give it once per origin. Without it no CORS headers are sent, and a
    /// browser refuses such calls; server-side clients need none.
    #[arg(long = "cds-allow-origin", value_name = "ORIGIN")]
    cds_allow_origins: Vec<String>,
}

/// How the daemon writes its log lines.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormatFlag {
    /// One human-readable line per event.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

impl From<WatchFlags> for embolint::watch::WatchArgs {
    fn from(flags: WatchFlags) -> Self {
        use embolint::watch::config::LogFormat;
        embolint::watch::WatchArgs {
            root: flags.root,
            init: flags.init,
            config: find_config(flags.config).map(|(path, _)| path),
            rules: flags.rules,
            log_format: flags.log_format.map(|format| match format {
                LogFormatFlag::Text => LogFormat::Text,
                LogFormatFlag::Json => LogFormat::Json,
            }),
            log_level: flags.log_level,
            rescan_interval_secs: flags.rescan_interval_secs,
            settle_millis: flags.settle_millis,
            max_plan_bytes: flags.max_plan_bytes,
            batch_size: flags.batch_size,
            history_url: flags.history_url,
        }
    }
}

impl From<ServeFlags> for embolint::serve::ServeArgs {
    fn from(flags: ServeFlags) -> Self {
        embolint::serve::ServeArgs {
            watch: flags.watch.into(),
            listen: flags.listen,
            token_file: flags.token_file,
            cds_jwks: flags.cds_jwks,
            public_url: flags.public_url,
            read_timeout_secs: flags.read_timeout_secs,
            max_requests: flags.max_requests,
            cds_allow_origins: flags.cds_allow_origins,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    /// Readable text, for people.
    Text,
    /// JSON, for software.
    Json,
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// Plan files to check; a folder stands for the `*.json` files in it,
    /// and `-` reads one plan from standard input.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Output format: text for people (a report per plan and a summary),
    /// JSON Lines for software (one verdict object per plan), or, for other
    /// tools, JUnit XML, SARIF or TAP (one document for all the plans).
    #[arg(long, value_enum, default_value = "text")]
    format: CheckFormat,
    /// A rule file (TOML) to use instead of the built-in protocol rules.
    #[arg(long, value_name = "FILE")]
    rules: Option<PathBuf>,
    /// A history database (the daemon's ROOT/state/history.sqlite, or a
    /// shared history's postgres://USER:PASSWORD@HOST:PORT/DATABASE), opened
    /// read-only: session spacing is then also checked against the sessions
    /// of the patient's other plans that passed.
    #[arg(long, value_name = "DB")]
    history: Option<PathBuf>,
    /// Exit 1 also when a plan passes with a warning (for pipelines that
    /// must stop on anything unusual). The verdict itself stays `pass`.
    #[arg(long)]
    fail_on_warn: bool,
    /// When to colour the text report: auto (on a terminal, unless the
    /// NO_COLOR environment variable is set), always or never.
    #[arg(long, value_enum, value_name = "WHEN", default_value = "auto")]
    color: ColorChoice,
}

/// How `check` writes its verdicts.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum CheckFormat {
    /// Readable text, for people.
    Text,
    /// JSON Lines, for software.
    Json,
    /// JUnit XML, for CI dashboards.
    Junit,
    /// SARIF 2.1.0, for code-scanning viewers.
    Sarif,
    /// TAP version 14, for test harnesses.
    Tap,
}

impl From<CheckFormat> for commands::check::CheckFormat {
    fn from(format: CheckFormat) -> Self {
        match format {
            CheckFormat::Text => Self::Text,
            CheckFormat::Json => Self::Json,
            CheckFormat::Junit => Self::Junit,
            CheckFormat::Sarif => Self::Sarif,
            CheckFormat::Tap => Self::Tap,
        }
    }
}

/// How `rules` writes the rule set.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum RulesFormat {
    /// Readable text, for people.
    Text,
    /// JSON, for software.
    Json,
    /// A Markdown page, for documentation.
    Markdown,
}

impl From<RulesFormat> for commands::rules::RulesFormat {
    fn from(format: RulesFormat) -> Self {
        match format {
            RulesFormat::Text => Self::Text,
            RulesFormat::Json => Self::Json,
            RulesFormat::Markdown => Self::Markdown,
        }
    }
}

/// When the text report is coloured.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set (to anything but "").
    Auto,
    /// Always, even into a pipe or a file.
    Always,
    /// Never.
    Never,
}

#[derive(Debug, clap::Args)]
struct HistoryArgs {
    /// The patient whose recorded sessions are listed.
    #[arg(
        value_name = "PATIENT_ID",
        required_unless_present_any = ["forget", "rebuild", "migrate_to"],
        conflicts_with_all = ["forget", "rebuild", "migrate_to"]
    )]
    patient_id: Option<String>,
    /// Output format: text for people, or JSON for software (the sessions as a
    /// JSON array; with --forget, the answer as one JSON object).
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// The daemon's root folder; its history is ROOT/state/history.sqlite
    /// (unless it is served with a shared history: then give --history-url).
    #[arg(
        long,
        value_name = "DIR",
        conflicts_with = "history",
        required_unless_present_any = ["history", "history_url"]
    )]
    root: Option<PathBuf>,
    /// A history database file.
    #[arg(long, value_name = "DB", conflicts_with = "history_url")]
    history: Option<PathBuf>,
    /// The shared history (postgres://USER:PASSWORD@HOST:PORT/DATABASE):
    /// the patient's sessions are read from it; with --forget and no daemon
    /// running, the withdrawal is made in it.
    #[arg(long, value_name = "URL")]
    history_url: Option<String>,
    /// Copy ROOT/state/history.sqlite into the shared history at URL, once
    /// (with `embolint watch` stopped). Refused when that database already
    /// holds a history. Afterwards serve the root with history_url = URL.
    #[arg(long, value_name = "URL", requires = "root", conflicts_with_all = ["forget", "rebuild"])]
    migrate_to: Option<String>,
    /// Withdraw a cancelled plan from the root's history, so later plans of
    /// its patient are no longer judged against it. The withdrawal is written
    /// to the decision log with --by and the time. Needs --root: a running
    /// `embolint watch` carries it out between plans; with none running it
    /// is done at once.
    #[arg(long, value_name = "PLAN_ID", requires_all = ["by", "reason", "root"])]
    forget: Option<String>,
    /// Rebuild a lost or damaged ROOT/state/history.sqlite from the decision
    /// log (with `embolint watch` stopped, and the old database moved away).
    #[arg(long, requires = "root", conflicts_with = "forget")]
    rebuild: bool,
    /// Who withdraws the plan (your name, for the audit trail).
    #[arg(long, value_name = "NAME", requires = "forget")]
    by: Option<String>,
    /// Why the plan is withdrawn (cancelled, wrong patient, ...), for the
    /// audit trail.
    #[arg(long, value_name = "TEXT", requires = "forget")]
    reason: Option<String>,
    /// Seconds to wait for a running `embolint watch` to carry out --forget;
    /// past that the request stays queued and is carried out later.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    wait_secs: u64,
}

#[derive(Debug, clap::Args)]
struct VerifyLogArgs {
    /// The daemon's root folder (its log is ROOT/log/decisions.jsonl), or a
    /// decision log file itself (an archived one).
    #[arg(value_name = "ROOT_OR_LOG", required_unless_present = "root", conflicts_with = "root")]
    target: Option<PathBuf>,
    /// The daemon's root folder, as every other command takes it.
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Output format: text for people, or JSON for software (one report
    /// object: intact, records, the first break, the anchor).
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// A line noted from an earlier check (SEQ:SHA256, as printed): the log
    /// must still hold it unchanged. Catches records removed from the end
    /// and a log rewritten whole, which the chain alone cannot.
    #[arg(long, value_name = "SEQ:SHA256")]
    anchor: Option<Anchor>,
    /// The auditor's first key of the log's seal (SEQ:KEY, or the file the
    /// daemon wrote it to, state/audit.first-key.SEQ): every line from SEQ
    /// on must carry the MAC of its key, and the log must reach as far as
    /// the daemon's key state (ROOT/state/audit.key) says.
    #[arg(long, value_name = "KEY_OR_FILE", value_parser = FirstKey::from_arg)]
    first_key: Option<FirstKey>,
    /// The key state to check the log's end against, for a log file given
    /// by path (an archive: keep its state/audit.key with it).
    #[arg(long, value_name = "FILE")]
    key_state: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct ReplayArgs {
    /// The rule file (TOML) to judge the past plans under.
    #[arg(long, value_name = "FILE")]
    rules: PathBuf,
    /// The daemon's root folder: its decision log and outcome folders are
    /// read, never written.
    #[arg(long, value_name = "DIR")]
    root: PathBuf,
    /// Output format: text for people (a summary line first), or JSON for
    /// software (one object).
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(Debug, clap::Args)]
struct LogArgs {
    /// The daemon's root folder: its decision log is read, never written.
    #[arg(long, value_name = "DIR")]
    root: PathBuf,
    /// Only decisions with this verdict.
    #[arg(long, value_enum)]
    verdict: Option<VerdictChoice>,
    /// Only decisions where this rule has findings (a rule id, as
    /// `embolint rules` lists them). When none match and no rule has that
    /// name, a note says so: check its spelling.
    #[arg(long, value_name = "RULE_ID")]
    rule: Option<String>,
    /// Only decisions about this patient.
    #[arg(long, value_name = "PATIENT_ID")]
    patient: Option<String>,
    /// Only decisions made on this day or later (YYYY-MM-DD, UTC).
    #[arg(long, value_name = "DATE", value_parser = iso_date)]
    since: Option<String>,
    /// Only decisions made on this day or earlier (YYYY-MM-DD, UTC).
    #[arg(long, value_name = "DATE", value_parser = iso_date)]
    until: Option<String>,
    /// At most this many decisions (the newest), 1 or more [default: all].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    limit: Option<u64>,
    /// Output format: text for people (one aligned line per decision), or
    /// JSON Lines for software (each decision record as the log holds it).
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// When to colour the verdicts: auto (on a terminal, unless NO_COLOR is
    /// set), always, never.
    #[arg(long, value_enum, default_value = "auto")]
    color: ColorChoice,
}

/// A verdict, for `log --verdict`.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum VerdictChoice {
    /// No error finding that counts.
    Pass,
    /// At least one error finding that is not acknowledged.
    Fail,
    /// Not a readable plan.
    Invalid,
}

/// A date as `YYYY-MM-DD`.
fn iso_date(text: &str) -> Result<String, String> {
    text.parse::<jiff::civil::Date>()
        .map(|date| date.to_string())
        .map_err(|_| format!("{text:?} is not a date written YYYY-MM-DD"))
}

#[derive(Debug, clap::Args)]
struct ConfigArgs {
    /// The same options as `watch`.
    #[command(flatten)]
    watch: WatchFlags,
    /// Output format: text for people (one aligned line per setting), or
    /// JSON for software (an array of {key, value, source}).
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
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
    /// Output format: text for people, JSON for software (the whole rule set
    /// as one object: id, version, sha256, names and every rule), or a
    /// Markdown page for documentation.
    #[arg(long, value_enum, default_value = "text")]
    format: RulesFormat,
    /// A rule file (TOML) to list instead of the built-in protocol rules.
    #[arg(long, value_name = "FILE")]
    rules: Option<PathBuf>,
}

fn main() -> ExitCode {
    let parsed = Cli::command()
        .version(version())
        .try_get_matches()
        .and_then(|matches| Cli::from_arg_matches(&matches));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(error) => return usage_error(error),
    };
    let ended = match cli.command {
        Command::Watch(flags) => {
            embolint::watch::run(flags.into()).map(|()| Status::Success).map_err(Error::from)
        }
        Command::Serve(flags) => {
            embolint::serve::run(flags.into()).map(|()| Status::Success).map_err(Error::from)
        }
        Command::Config(args) => {
            let origin = find_config(args.watch.config.clone()).map(|(_, origin)| origin);
            let watch = args.watch.into();
            commands::config::show(&watch, origin, args.format.into(), &mut std::io::stdout())
        }
        Command::Check(args) => check(args),
        Command::Rules(args) => {
            commands::rules::list(args.rules.as_deref(), args.format.into(), &mut std::io::stdout())
        }
        Command::History(args) => history(args),
        Command::VerifyLog(args) => commands::verify_log::verify_log(
            &commands::verify_log::VerifyOptions {
                target: args.target.or(args.root).unwrap_or_default(),
                anchor: args.anchor,
                first_key: args.first_key,
                key_state: args.key_state,
            },
            args.format.into(),
            &mut std::io::stdout(),
        ),
        Command::Replay(args) => commands::replay::replay(
            &args.rules,
            &args.root,
            args.format.into(),
            &mut std::io::stdout(),
        ),
        Command::Log(args) => log(args),
        Command::Completions { shell } => completions(shell),
        Command::Man { out_dir } => man_pages(&out_dir),
        Command::Pseudonym(args) => commands::pseudonym::print(
            &args.patient_ids,
            args.root,
            find_config(args.config).map(|(path, _)| path),
            &mut std::io::stdout(),
        ),
    };
    exit_code(ended)
}

/// `completions`: the shell's completion script, on standard output.
fn completions(shell: clap_complete::Shell) -> Result<Status, Error> {
    let mut command = Cli::command();
    // Into memory first: the generator panics on a write error (a closed
    // pipe), which must end as an exit status, not a crash.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "embolint", &mut script);
    std::io::Write::write_all(&mut std::io::stdout(), &script)?;
    Ok(Status::Success)
}

/// `man`: embolint.1 and a page per command, written into `dir`.
fn man_pages(dir: &std::path::Path) -> Result<Status, Error> {
    let command = Cli::command().version(version());
    let cannot = |e: std::io::Error| {
        Error::CannotRun(format!("cannot write the manual pages into {}: {e}", dir.display()))
    };
    clap_mangen::generate_to(command, dir).map_err(cannot)?;
    Ok(Status::Success)
}

/// The one place where the way a command ended becomes an exit status:
/// 0, 1 or 2 for what the command found; 3 when embolint could not run,
/// after saying why on standard error.
fn exit_code(ended: Result<Status, Error>) -> ExitCode {
    match ended {
        Ok(status) => ExitCode::from(status.exit_code()),
        Err(error) => {
            if let Some(message) = error.unsaid() {
                eprintln!("{message}");
            }
            ExitCode::from(error.exit_code())
        }
    }
}

/// The config file: --config, else EMBOLINT_CONFIG, else the system-wide
/// file when it exists.
fn find_config(flag: Option<PathBuf>) -> Option<(PathBuf, ConfigOrigin)> {
    let system = std::path::Path::new(embolint::watch::config::SYSTEM_CONFIG);
    embolint::watch::config::discover(flag, std::env::var_os("EMBOLINT_CONFIG"), system)
}

/// What `--version` says: the release, the commit it was built from, and
/// the rule set built into it (which judges plans when no --rules is
/// given).
fn version() -> String {
    let rules = match embolint::rules::RuleSet::builtin() {
        Ok(rules) => format!("built-in rules {} {}", rules.id, rules.version),
        Err(e) => format!("built-in rules unreadable: {e}"),
    };
    format!("{} (commit {}; {rules})", env!("CARGO_PKG_VERSION"), embolint::verdict::COMMIT)
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

impl From<Format> for commands::Format {
    fn from(format: Format) -> Self {
        match format {
            Format::Text => commands::Format::Text,
            Format::Json => commands::Format::Json,
        }
    }
}

fn check(args: CheckArgs) -> Result<Status, Error> {
    // NO_COLOR set to anything but the empty string turns colour off
    // (no-color.org); an explicit --color always wins over it.
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
    let color = matches!(args.format, CheckFormat::Text)
        && match args.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => std::io::stdout().is_terminal() && !no_color,
        };
    let options = CheckOptions {
        paths: args.paths,
        format: args.format.into(),
        rules: args.rules,
        history: args.history,
        color,
        fail_on_warn: args.fail_on_warn,
    };
    commands::check::check(&options, &mut std::io::stdout().lock(), &mut std::io::stderr())
}

/// Whether to colour text for a terminal: `--color`, else a terminal
/// without NO_COLOR (set to anything but the empty string; no-color.org).
fn use_color(choice: ColorChoice) -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => std::io::stdout().is_terminal() && !no_color,
    }
}

fn log(args: LogArgs) -> Result<Status, Error> {
    let verdict = args.verdict.map(|v| match v {
        VerdictChoice::Pass => "pass",
        VerdictChoice::Fail => "fail",
        VerdictChoice::Invalid => "invalid",
    });
    let options = commands::log::LogOptions {
        root: args.root,
        filter: embolint::audit::decision_index::Filter {
            verdict: verdict.map(str::to_string),
            rule: args.rule,
            patient: args.patient,
            since: args.since,
            until: args.until,
            before: None,
        },
        limit: args.limit.map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
        format: args.format.into(),
        color: matches!(args.format, Format::Text) && use_color(args.color),
    };
    commands::log::log(&options, &mut std::io::stdout().lock(), &mut std::io::stderr())
}

fn history(args: HistoryArgs) -> Result<Status, Error> {
    let out = &mut std::io::stdout().lock();
    let format = args.format.into();
    let url = |text: &str| HistoryUrl::new(text).map_err(Error::CannotRun);
    let history_url = args.history_url.as_deref().map(url).transpose()?;
    if let (Some(root), Some(target)) = (&args.root, &args.migrate_to) {
        return commands::history::migrate_to(root, &url(target)?, out);
    }
    match (args.root, args.history, args.patient_id, args.forget) {
        (Some(root), _, _, _) if args.rebuild => {
            commands::history::rebuild(&root, out, &mut std::io::stderr())
        }
        (Some(root), _, _, Some(plan_id)) => {
            let options = ForgetOptions {
                plan_id,
                by: args.by.unwrap_or_default(),
                reason: args.reason.unwrap_or_default(),
                wait: Duration::from_secs(args.wait_secs),
                history_url,
            };
            commands::history::forget(&root, &options, format, out)
        }
        (root, database, Some(patient_id), None) => {
            let shared = root
                .as_ref()
                .and_then(|root| embolint::history::site::shared_marker(&Layout::new(root).state));
            if let (Some(shown), None) = (shared, &history_url) {
                return Err(Error::CannotRun(format!(
                    "this root keeps its patient history in the shared database {shown}: give \
                     its URL with --history-url"
                )));
            }
            let file = database.or(root.map(|root| Layout::new(&root).history()));
            let location = match (history_url, file) {
                (Some(url), _) => Location::Postgres(url),
                (None, Some(file)) => Location::File(file),
                (None, None) => {
                    return Err(Error::CannotRun(
                        "give PATIENT_ID and --root DIR, --history DB or --history-url URL"
                            .to_string(),
                    ))
                }
            };
            commands::history::show(&location, &patient_id, format, out)
        }
        _ => Err(Error::CannotRun("give PATIENT_ID and --root DIR or --history DB".to_string())),
    }
}
