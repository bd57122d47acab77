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
//!   JSON Pointer).
//! - [`rules`]: the rule set (a TOML data file) and one small typed
//!   implementation per rule kind.
//! - [`verdict`]: findings, rule outcomes and the verdict record.
//! - [`report`]: the verdict as text for people.
//! - [`check`]: bytes in, verdict out; shared by `check` and the daemon.
//! - [`history`]: sessions of plans already passed.

pub mod check;
pub mod decimal;
pub mod history;
pub mod names;
pub mod plan;
pub mod report;
pub mod rules;
pub mod verdict;
pub mod watch;
