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
//! - [`decimal`]: exact decimal numbers, so a dose at its limit passes.
//! - [`names`]: how drug, agent and artery names are compared.
//! - [`plan`]: the plan model and its strict reader (every problem, with its
//!   JSON Pointer); [`plan::json`] reads the file in one pass into a tree
//!   that borrows from it, kept in a per-thread arena, and is held to
//!   serde_json by a differential property test.
//! - [`rules`]: the rule set (a TOML data file) and one small typed
//!   implementation per rule kind.
//! - [`verdict`]: findings, rule outcomes and the verdict record.
//! - [`report`]: the verdict as text for people.
//! - [`check`]: bytes in, verdict out; shared by `check` and the daemon
//!   (which passes the sha256 it computed while reading the file).
//! - [`history`]: the patient history: sessions of plans already passed,
//!   in SQLite, per patient.
//! - [`commands`]: each command of `embolint` without the command line:
//!   options as plain values in, text to the writers it is given, a status
//!   or an error out.
//! - [`watch`]: the daemon — the watched folder's protocol, safe reading of
//!   dropped files, crash recovery, history withdrawals, reloads, signals
//!   and pseudonymised logs.
//! - [`serve`]: `embolint serve` — the HTTP API and the CDS Hooks
//!   `order-sign` service, a second intake of the daemon's one recorder
//!   (plans are staged into the inbox and recorded by the watch loop; see
//!   [`watch::intake`]).
//! - [`audit`]: the audit trail — the decision log and its hash chain,
//!   `embolint verify-log`, and the patient history rebuilt from the log.
//!
//! `src/main.rs` only parses the command line and maps the way a command
//! ended to an exit code, in one place. Black-box tests of the real binary are in `tests/`; the example
//! plans in `examples/plans/`; the load generator in `examples/loadgen/`;
//! fuzz targets in `fuzz/`.

pub mod audit;
pub mod check;
pub mod commands;
pub mod decimal;
pub mod formats;
pub mod history;
pub mod names;
pub mod plan;
pub mod report;
pub mod rules;
pub mod serve;
pub mod verdict;
pub mod watch;
