//! The rule set judging plans now, and its replacement when the rule file
//! changes. A new rule file that cannot be read is refused with a clear log
//! line, and the rules in force stay (SPEC §4).

use crate::check::sha256_hex;
use crate::rules::RuleSet;
use std::path::{Path, PathBuf};

/// The rule set in force and where it came from.
#[derive(Debug)]
pub struct RulesInForce {
    /// The rules judging plans.
    pub set: RuleSet,
    /// The rule file, or `None` for the built-in rules.
    pub path: Option<PathBuf>,
    /// sha256 of the file content in force (or last refused), so an
    /// unchanged file is not re-parsed and a refused one is refused once.
    seen_sha256: String,
    /// The text of the rule file in force, kept so a copy can be archived.
    text: String,
    /// Where a copy of every rule file put in force is kept
    /// (`state/rules/SHA256.toml`), once the daemon has its root.
    archive: Option<PathBuf>,
}

/// Stands for the content of a rule file that could not be read.
const UNREADABLE: &str = "unreadable";

/// How a look at the rule file ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Reload {
    /// The content is what was already in force (or already refused).
    Unchanged,
    /// New rules are in force.
    Replaced,
    /// The new content was refused; the old rules stay.
    Refused,
}

impl RulesInForce {
    /// Loads the rules at start-up; an unusable rule file stops the start.
    pub fn load(path: Option<&Path>) -> Result<RulesInForce, String> {
        match path {
            None => {
                let set = RuleSet::builtin().map_err(|e| e.to_string())?;
                let seen_sha256 = set.sha256.clone();
                let text = crate::rules::BUILTIN_RULES.to_string();
                Ok(RulesInForce { set, path: None, seen_sha256, text, archive: None })
            }
            Some(path) => {
                let (text, sha) = read(path)?;
                let set = RuleSet::from_toml(&text, &path.display().to_string())
                    .map_err(|e| e.to_string())?;
                Ok(RulesInForce {
                    set,
                    path: Some(path.to_path_buf()),
                    seen_sha256: sha,
                    text,
                    archive: None,
                })
            }
        }
    }

    /// Re-reads the rule file (if it changed) and puts it in force when it
    /// can be read. Logs what happened.
    pub fn reload(&mut self) -> Reload {
        let Some(path) = self.path.clone() else {
            return Reload::Unchanged;
        };
        let (text, sha) = match read(&path) {
            Ok(read) => read,
            Err(message) if self.seen_sha256 != UNREADABLE => {
                self.seen_sha256 = UNREADABLE.into();
                return self.refuse(&path, UNREADABLE, &message);
            }
            Err(_) => return Reload::Unchanged,
        };
        if sha == self.seen_sha256 {
            return Reload::Unchanged;
        }
        self.seen_sha256 = sha.clone();
        match RuleSet::from_toml(&text, &path.display().to_string()) {
            Ok(set) => {
                if let Err(e) = self.archived(&text, &set.sha256) {
                    let message = format!("a copy for the auditor cannot be kept: {e}");
                    return self.refuse(&path, &sha, &message);
                }
                self.text = text;
                tracing::info!(
                    rules = %path.display(),
                    rule_set = %set.id,
                    version = %set.version,
                    sha256 = %set.sha256,
                    "new rule file in force: the next plans are judged by it"
                );
                self.set = set;
                Reload::Replaced
            }
            Err(error) => self.refuse(&path, &sha, &error.to_string()),
        }
    }

    /// Switches to another rule file (the config named a new one); on
    /// failure the rules in force stay.
    pub fn switch_to(&mut self, path: Option<&Path>) -> Reload {
        if path == self.path.as_deref() {
            return self.reload();
        }
        let loaded = RulesInForce::load(path).and_then(|new| {
            self.archived(&new.text, &new.set.sha256)
                .map(|()| new)
                .map_err(|e| format!("a copy for the auditor cannot be kept: {e}"))
        });
        match loaded {
            Ok(new) => {
                *self = RulesInForce { archive: self.archive.take(), ..new };
                tracing::info!(
                    rules = %self.origin(),
                    rule_set = %self.set.id,
                    version = %self.set.version,
                    sha256 = %self.set.sha256,
                    "the config names another rule file; it is now in force"
                );
                Reload::Replaced
            }
            Err(message) => {
                let shown = path.map_or("built-in rules".into(), |p| p.display().to_string());
                tracing::error!(
                    rules = %shown,
                    in_force = %self.origin(),
                    "rule file refused, the rules in force stay: {message}"
                );
                Reload::Refused
            }
        }
    }

    /// The rule file's path, or "built-in rules".
    pub fn origin(&self) -> String {
        self.path.as_ref().map_or("built-in rules".into(), |p| p.display().to_string())
    }

    /// Logs a refusal (once per content) and keeps the rules in force.
    /// Keeps a copy of every rule file put in force in `dir`
    /// (`state/rules/`), starting with the one in force now, so an auditor
    /// can read, years later, the rules a record's `rule_set.sha256` names.
    pub fn keep_copies_in(&mut self, dir: PathBuf) -> std::io::Result<()> {
        self.archive = Some(dir);
        self.archived(&self.text, &self.set.sha256)
    }

    /// Writes `text` as `SHA256.toml` in the archive, unless it is there
    /// already: to a temporary name, synced, then renamed, so a copy is
    /// whole or absent.
    fn archived(&self, text: &str, sha256: &str) -> std::io::Result<()> {
        let Some(dir) = &self.archive else { return Ok(()) };
        let copy = dir.join(format!("{sha256}.toml"));
        if copy.is_file() {
            return Ok(());
        }
        std::fs::create_dir_all(dir)?;
        let temp = dir.join(format!(".{sha256}.toml.tmp"));
        let mut file = std::fs::File::create(&temp)?;
        std::io::Write::write_all(&mut file, text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temp, &copy)?;
        std::fs::File::open(dir)?.sync_all()
    }

    fn refuse(&mut self, path: &Path, sha: &str, message: &str) -> Reload {
        tracing::error!(
            rules = %path.display(),
            refused_sha256 = %sha,
            in_force = %self.set.id,
            in_force_version = %self.set.version,
            in_force_sha256 = %self.set.sha256,
            "new rule file refused, the rules in force stay until it is fixed: {message}"
        );
        Reload::Refused
    }
}

/// Reads a rule file as UTF-8 text, with the sha256 of its bytes.
fn read(path: &Path) -> Result<(String, String), String> {
    let bytes = std::fs::read(path)
        .map_err(|e| format!("cannot read rule file {}: {e}", path.display()))?;
    let sha = sha256_hex(&bytes);
    let text = String::from_utf8(bytes)
        .map_err(|_| format!("rule file {} is not UTF-8 text", path.display()))?;
    Ok((text, sha))
}
