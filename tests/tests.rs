//! The integration tests: one test binary, one module per area, so the
//! suite links once. Every module that starts the daemon runs the real
//! binary (`CARGO_BIN_EXE_embolint`) on a fresh temporary folder through
//! the helpers in [`util`]; the one-shot `check` tests go through
//! [`check_support`].
//!
//! Run one area with a filter: `cargo test --test tests watch_crash::`.

mod check_support;
mod util;

mod audit_chain;
mod audit_pseudonyms;
mod audit_restart;
mod check_acknowledgements;
mod check_cli;
mod check_examples;
mod check_formats;
mod check_history;
mod check_scenarios;
mod check_snapshots;
mod check_suggestions;
mod cli_options;
mod clinical_history;
mod clinical_revision;
mod crash_loop;
mod faults_storage;
mod fortress;
mod fuzz_regressions;
mod history_crash;
mod history_lookup_cost;
mod history_outage;
mod history_watch;
mod hostile_input;
mod hostile_names;
mod properties;
mod replay;
mod serve_api;
mod serve_cds;
mod serve_crash;
mod watch_backlog;
mod watch_bad_files;
mod watch_burst;
mod watch_crash;
mod watch_links;
mod watch_live;
mod watch_perf_bounds;
mod watch_perf_startup;
mod watch_readable_verdict;
mod watch_reload;
mod watch_rename_latency;
mod watch_root;
mod watch_signals;
