//! embolint: a safety checker for planned intra-arterial chemoembolization
//! of bone metastases.
//!
//! A plan (JSON, `embolint.plan/1`) is read strictly, checked against the
//! protocol's rule set, and given a verdict — pass, fail or invalid — with
//! every finding explained. The contract is `SPEC.md`; the protocol is
//! Chiras et al.'s chemoembolization of spinal and iliac/sacral bone
//! metastases.
//!
//! # Layout
//! The safety path, in the order a plan takes it:
//! - [`plan`]: the plan model (it owns its text) and its strict reader:
//!   every problem, with its JSON Pointer. [`plan::json`] has serde_json
//!   read the file into a tree that keeps duplicate keys and each number's
//!   text; [`plan::FIELD_NAMES`] lists the format's fields once.
//! - [`plan::SessionArtery`]: one artery of a session, however many
//!   entries the plan writes it in — what every rule about arteries reads.
//! - [`names`]: how drug, agent and artery names are compared;
//!   [`levels`]: the vertebral levels and sides a text names (`T 10`,
//!   `right L01`), how spinal feeders written in other words are caught.
//! - [`rules`]: the rule set (a TOML data file), one small typed
//!   implementation per rule kind, and [`rules::RuleSet::resolve`], the one
//!   step that resolves a plan's names into a plan only that set can judge;
//!   [`rules::acknowledgement`]: which findings a plan's acknowledgements
//!   cover, and the two rules that judge the acknowledgements.
//! - [`check`]: bytes in, verdict out ([`check::check`]), for `check` and
//!   the daemon alike; it gives the rules what the history holds.
//! - [`verdict`]: findings, rule outcomes and the verdict record;
//!   [`report`]: the verdict as text for people.
//!
//! Around it:
//! - [`decimal`]: exact decimal numbers, so a dose at its limit passes;
//!   [`digest`]: the sha256 that names files.
//! - [`history`]: the patient history: sessions of plans already passed,
//!   in SQLite, per patient.
//! - [`commands`]: each command of `embolint` without the command line:
//!   options as plain values in, text to the writers it is given, a status
//!   or an error out.
//! - [`recorder`]: the one writer of a root's decision log, patient history
//!   and outcome folders — safe reading of inbox files, judging, decision
//!   records with group commit, crash recovery, history withdrawals. Every
//!   intake feeds it.
//! - [`watch`]: the daemon — the watched folder's protocol (an intake of
//!   the recorder, and the loop that runs it), reloads, signals and
//!   pseudonymised logs.
//! - [`serve`]: `embolint serve` — the HTTP API and the CDS Hooks
//!   `order-sign` service, a second intake of the same recorder (plans are
//!   staged into the inbox and recorded with the folder's; see
//!   [`recorder::intake`]).
//! - [`audit`]: the audit trail — the decision log and its hash chain,
//!   `embolint verify-log`, the patient history rebuilt from the log, and
//!   `embolint replay`, the archived plans judged again under new rules.
//!
//! - [`formats`]: verdicts as JUnit XML, SARIF and TAP for other tools.
//!
//! `src/main.rs` only parses the command line and maps the way a command
//! ended to an exit code, in one place. Black-box tests of the real binary
//! are in `tests/`; the example
//! plans in `examples/plans/`; the load generator in `examples/loadgen/`;
//! fuzz targets in `fuzz/`.

pub mod audit;
pub mod check;
pub mod commands;
pub mod decimal;
pub mod digest;
pub mod formats;
pub mod history;
pub mod levels;
pub mod names;
pub mod plan;
pub mod recorder;
pub mod report;
pub mod rules;
pub mod serve;
pub mod verdict;
pub mod watch;
