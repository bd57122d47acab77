//! The audit trail: what an auditor reads, checks and rebuilds from, apart
//! from the daemon that writes it.
//!
//! # Layout
//! - [`decision_log`]: `log/decisions.jsonl` — one decision record per
//!   judged plan and one line per event, written in batches and synced
//!   before a plan leaves the inbox; the final batch read back for recovery.
//! - [`decision_index`]: `state/decisions-index.sqlite`, where `embolint
//!   log` and the review page look decisions up without reading the log;
//!   kept in step with it, and holding nothing it does not.
//! - [`chain`]: the hash chain (`seq`, `prev_sha256`) that makes every line
//!   of that log tamper-evident.
//! - [`seal`]: the chain's anchor — forward-secure MACs on every line,
//!   under a key that evolves one way and whose first value the auditor
//!   keeps off the machine.
//! - [`verify`]: `embolint verify-log`, which checks the chain and names the
//!   first broken line.
//! - [`rebuild`]: `embolint history --rebuild`, a lost or damaged patient
//!   history rebuilt from the log alone.
//! - [`replay`]: `embolint replay`, the archived plans judged again under
//!   another rule set, with the history rebuilt from the log as it goes.

pub mod chain;
pub mod decision_index;
pub mod decision_log;
pub mod rebuild;
pub mod replay;
pub mod seal;
pub mod verify;
