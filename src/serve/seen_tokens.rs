//! The CDS Hooks JWT ids (`jti`) already accepted, kept on disk until their
//! token expires, so that a token replayed after a restart is refused as
//! surely as one replayed a second later.
//!
//! The file (`state/cds-jti.jsonl`) holds one `{"jti": ..., "exp": ...}`
//! line per token accepted. A token's line is appended and synced before
//! the token is let through: after a crash, every token that was let
//! through is in the file. A line torn by a crash belongs to a token that
//! was never let through, and is ignored. Expired ids are dropped when the
//! file is opened and whenever the file holds twice as many lines as ids
//! still in force (it is then written anew, synced, and renamed over the
//! old one).

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// The file's name under `state/`.
pub const FILE_NAME: &str = "cds-jti.jsonl";

/// Seconds a token's id is kept after its expiry (beyond the 5 s leeway
/// with which an expired token is still accepted).
pub const KEPT_AFTER_EXPIRY_SECS: u64 = 60;

/// Fewest lines before the file is written anew without its expired ids.
const COMPACT_FROM_LINES: usize = 1024;

/// The ids seen, and where they are kept.
pub struct SeenTokens {
    /// Each id still in force, with its token's expiry (seconds since 1970).
    seen: HashMap<String, u64>,
    /// The file, opened for appending; `None` until [`SeenTokens::open`]
    /// (ids are then kept in memory only).
    file: Option<(PathBuf, File)>,
    /// Lines in the file now.
    lines: usize,
}

/// One line of the file.
#[derive(serde::Serialize, serde::Deserialize)]
struct Line {
    /// The token's id.
    jti: String,
    /// Its expiry.
    exp: u64,
}

impl SeenTokens {
    /// Ids kept in memory only (until [`SeenTokens::open`] is called).
    pub fn in_memory() -> SeenTokens {
        SeenTokens { seen: HashMap::new(), file: None, lines: 0 }
    }

    /// Reads the ids kept in `state/` that are still in force at `now`,
    /// and from then on keeps every new one there.
    pub fn open(state: &Path, now: u64) -> io::Result<SeenTokens> {
        let path = state.join(FILE_NAME);
        let mut seen = HashMap::new();
        match File::open(&path) {
            Ok(file) => {
                for line in BufReader::new(file).split(b'\n') {
                    // A torn or foreign line names no token let through.
                    let Ok(line) = serde_json::from_slice::<Line>(&line?) else { continue };
                    if in_force(line.exp, now) {
                        seen.insert(line.jti, line.exp);
                    }
                }
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(error) => return Err(error),
        }
        let mut tokens = SeenTokens { seen, file: None, lines: 0 };
        tokens.rewrite(&path)?;
        Ok(tokens)
    }

    /// Takes `jti` (of a token expiring at `exp`) as used now: `Ok(false)`
    /// when it was used before (a replay). When it is new, it is on disk
    /// (synced) before this returns `Ok(true)`; an error means it could not
    /// be kept, and the token must not be let through.
    pub fn first_use(&mut self, jti: &str, exp: u64, now: u64) -> io::Result<bool> {
        if self.seen.get(jti).is_some_and(|&kept| in_force(kept, now)) {
            return Ok(false);
        }
        if let Some((_, file)) = &mut self.file {
            let mut line = serde_json::to_vec(&Line { jti: jti.to_string(), exp })?;
            line.push(b'\n');
            file.write_all(&line)?;
            file.sync_data()?;
            self.lines += 1;
        }
        self.seen.insert(jti.to_string(), exp);
        if self.lines >= COMPACT_FROM_LINES {
            self.seen.retain(|_, exp| in_force(*exp, now));
            if self.lines > 2 * self.seen.len() {
                if let Some((path, _)) = self.file.take() {
                    self.rewrite(&path)?;
                }
            }
        }
        Ok(true)
    }

    /// Writes the ids in force anew at `path` (a synced temporary file
    /// renamed over it, then the folder synced) and appends from then on.
    fn rewrite(&mut self, path: &Path) -> io::Result<()> {
        let temp = path.with_extension("jsonl.tmp");
        let mut text = Vec::new();
        for (jti, exp) in &self.seen {
            text.extend(serde_json::to_vec(&Line { jti: jti.clone(), exp: *exp })?);
            text.push(b'\n');
        }
        let mut file = File::create(&temp)?;
        file.write_all(&text)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)?;
        if let Some(dir) = path.parent() {
            File::open(dir)?.sync_all()?;
        }
        let file = OpenOptions::new().append(true).open(path)?;
        self.lines = self.seen.len();
        self.file = Some((path.to_path_buf(), file));
        Ok(())
    }
}

/// Whether a token expiring at `exp` could still be accepted at `now`, so
/// its id must still be refused a second time.
fn in_force(exp: u64, now: u64) -> bool {
    exp.saturating_add(KEPT_AFTER_EXPIRY_SECS) >= now
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_kept_on_disk_is_refused_after_reopening_until_it_expires() {
        let state = tempfile::tempdir().unwrap();
        let mut tokens = SeenTokens::open(state.path(), 1000).unwrap();
        assert!(tokens.first_use("a", 1100, 1000).unwrap());
        assert!(!tokens.first_use("a", 1100, 1001).unwrap());
        drop(tokens);
        let mut reopened = SeenTokens::open(state.path(), 1050).unwrap();
        assert!(!reopened.first_use("a", 1100, 1050).unwrap(), "replayed after a restart");
        let later = 1100 + KEPT_AFTER_EXPIRY_SECS + 1;
        let mut expired = SeenTokens::open(state.path(), later).unwrap();
        assert!(expired.seen.is_empty(), "expired ids are dropped from the file");
        assert!(expired.first_use("b", later + 100, later).unwrap());
    }

    #[test]
    fn a_torn_last_line_is_ignored_and_the_ids_before_it_are_kept() {
        let state = tempfile::tempdir().unwrap();
        let line = "{\"jti\":\"a\",\"exp\":2000}\n{\"jti\":\"b\",\"ex";
        std::fs::write(state.path().join(FILE_NAME), line).unwrap();
        let mut tokens = SeenTokens::open(state.path(), 1000).unwrap();
        assert!(!tokens.first_use("a", 2000, 1000).unwrap());
        assert!(tokens.first_use("b", 2000, 1000).unwrap());
    }

    #[test]
    fn the_file_is_written_anew_without_expired_ids_once_it_holds_twice_as_many_lines() {
        let state = tempfile::tempdir().unwrap();
        let mut tokens = SeenTokens::open(state.path(), 0).unwrap();
        for n in 0..COMPACT_FROM_LINES {
            // Each token expires at once; the clock moves past all of them.
            assert!(tokens.first_use(&format!("t{n}"), 1, 1).unwrap());
        }
        assert!(tokens.first_use("fresh", 10_000, 1000).unwrap());
        let text = std::fs::read_to_string(state.path().join(FILE_NAME)).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.contains("fresh"));
        assert!(!tokens.first_use("fresh", 10_000, 1001).unwrap());
    }
}
