//! Writing a decision log as the daemon would — its records, its batches,
//! its chained and sealed log writer — without running the daemon, for the
//! benchmarks that need a large archive (`replay_archive`, `review_bench`).

use embolint::audit::decision_log::{record_line, DecisionLog, Placement};
use embolint::check::Checked;
use std::path::Path;

/// Records written to the log per append (one sync each), as a batch.
pub const BATCH: usize = 1000;

/// A root's decision log being written, a batch at a time.
pub struct Archive {
    /// The root's log.
    log: DecisionLog,
    /// The current batch's record lines, not yet appended.
    lines: Vec<u8>,
    /// Records in the current batch.
    in_batch: usize,
    /// The current batch's number.
    batch: u64,
    /// How many plans passed, failed and were invalid.
    outcomes: [usize; 3],
}

impl Archive {
    /// Creates the root's folders under `root` and opens its log.
    pub fn create(root: &Path) -> Result<Archive, String> {
        for folder in ["inbox", "passed", "failed", "invalid", "log", "state"] {
            std::fs::create_dir_all(root.join(folder)).map_err(|e| e.to_string())?;
        }
        let (mut log, _) =
            DecisionLog::open(&root.join("log/decisions.jsonl"), &root.join("state"))
                .map_err(|e| e.to_string())?;
        let batch = log.next_batch();
        Ok(Archive { log, lines: Vec::new(), in_batch: 0, batch, outcomes: [0; 3] })
    }

    /// Records `checked`, placed as `name` in its outcome folder, and
    /// returns its placement (where it went, and the history rows of a
    /// plan that passed, for the caller's history).
    pub fn record(&mut self, name: &str, checked: &Checked) -> Result<Placement, String> {
        let folder = checked.verdict.verdict.folder();
        let slot = ["passed", "failed", "invalid"].iter().position(|f| *f == folder).unwrap_or(2);
        if let Some(n) = self.outcomes.get_mut(slot) {
            *n += 1;
        }
        let moved_to = format!("{folder}/{name}");
        let placement = Placement {
            batch: self.batch,
            inbox_name: name.to_string(),
            inbox_name_hex: None,
            sidecar: format!("{moved_to}.verdict.json"),
            history: checked.to_record(format!("{} {moved_to}", checked.verdict.checked_at)),
            moved_to,
            elapsed_us: 0,
        };
        self.lines.extend(record_line(&checked.verdict, &placement).map_err(|e| e.to_string())?);
        self.in_batch += 1;
        if self.in_batch == BATCH {
            self.append()?;
        }
        Ok(placement)
    }

    /// Appends the last batch; returns how many plans passed, failed and
    /// were invalid.
    pub fn finish(mut self) -> Result<[usize; 3], String> {
        if self.in_batch > 0 {
            self.append()?;
        }
        Ok(self.outcomes)
    }

    /// Appends the current batch and starts the next.
    fn append(&mut self) -> Result<(), String> {
        self.log.append(&self.lines).map_err(|e| e.to_string())?;
        self.lines.clear();
        self.in_batch = 0;
        self.batch = self.log.next_batch();
        Ok(())
    }
}
