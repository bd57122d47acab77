//! Patient ids in the operational logs (stderr): pseudonymised by default,
//! or in clear (`patient_ids_in_logs` in the config).
//!
//! Operational logs travel further than the decision log (journald, log
//! collectors, support tickets), so by default a log line names a patient
//! by a pseudonym: `pt-` and the first 16 hex digits of
//! HMAC-SHA256(key, patient id). The same patient always gets the same
//! pseudonym under one key, so a patient's lines can still be followed
//! and found (`embolint pseudonym PATIENT_ID`), but the id cannot be read
//! back without the key. The decision log keeps patient ids in clear: it
//! is the audit record.
//!
//! The key is `pseudonym_key` from the config, or else a random key made
//! once and kept in `state/pseudonym.key` (mode 0600), so pseudonyms stay
//! the same across restarts. Whoever holds the key can find which
//! pseudonym belongs to a patient by trying ids: it must stay private.

use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use std::borrow::Cow;
use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::RwLock;

/// The key file's name in `state/`.
pub const KEY_FILE: &str = "pseudonym.key";
/// Fewest characters of a key: shorter keys can be guessed.
pub const MIN_KEY_CHARS: usize = 32;
/// Patient ids shorter than this are not looked for inside other text
/// (file names, plan ids), where they would match by chance.
const MIN_MASKED_CHARS: usize = 4;
/// What a log shows where no choice was put in force (a safe default).
const HIDDEN: &str = "[patient id hidden]";

/// How patient ids appear in the operational logs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PatientIdsInLogs {
    /// As `pt-` and 16 hex digits of a keyed hash (the default).
    #[default]
    Pseudonymised,
    /// As they are.
    Clear,
}

impl PatientIdsInLogs {
    /// The name used in the config file.
    pub fn as_str(self) -> &'static str {
        match self {
            PatientIdsInLogs::Pseudonymised => "pseudonymised",
            PatientIdsInLogs::Clear => "clear",
        }
    }
}

/// The secret key of the pseudonyms. It is never shown: not by `Debug`
/// (the settings are logged when reloaded), not in any message.
#[derive(Clone, PartialEq, Eq)]
pub struct PseudonymKey(String);

impl std::fmt::Debug for PseudonymKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PseudonymKey([hidden])")
    }
}

impl PseudonymKey {
    /// A key from its text (surrounding white space ignored); refused when
    /// shorter than [`MIN_KEY_CHARS`].
    pub fn new(text: &str) -> Result<PseudonymKey, String> {
        let text = text.trim();
        let chars = text.chars().count();
        if chars < MIN_KEY_CHARS {
            return Err(format!(
                "pseudonym_key has {chars} characters: give at least {MIN_KEY_CHARS} random \
                 characters (for example the output of `openssl rand -hex 32`), or leave it out \
                 to let embolint make one"
            ));
        }
        Ok(PseudonymKey(text.to_string()))
    }

    /// The pseudonym of `patient_id`: `pt-` and the first 16 hex digits of
    /// HMAC-SHA256(key, patient id).
    pub fn pseudonym(&self, patient_id: &str) -> String {
        // HMAC takes a key of any length, so this cannot fail.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(self.0.as_bytes()) else {
            return HIDDEN.to_string();
        };
        mac.update(patient_id.as_bytes());
        let digest = mac.finalize().into_bytes();
        let mut text = String::from("pt-");
        for byte in digest.iter().take(8) {
            text.push_str(&format!("{byte:02x}"));
        }
        text
    }
}

/// What the logs show of patient ids; process-wide, as the logs are.
enum Shown {
    /// Nothing was put in force: ids are hidden entirely.
    Hidden,
    /// In clear.
    Clear,
    /// As pseudonyms under this key.
    Pseudonymised(PseudonymKey),
}

/// The choice in force.
static SHOWN: RwLock<Shown> = RwLock::new(Shown::Hidden);

/// How a log line names `patient_id`: its pseudonym, the id itself, or,
/// before a choice is in force, a placeholder.
pub fn in_log(patient_id: &str) -> String {
    match SHOWN.read() {
        Ok(shown) => shown.name(patient_id),
        Err(_) => HIDDEN.to_string(),
    }
}

/// `text` (a file name, a plan id) with every occurrence of `patient_id`
/// replaced by what [`in_log`] shows, unless ids are logged in clear.
pub fn mask<'a>(text: &'a str, patient_id: Option<&str>) -> Cow<'a, str> {
    match SHOWN.read() {
        Ok(shown) => shown.mask(text, patient_id),
        Err(_) => Cow::Owned(HIDDEN.to_string()),
    }
}

impl Shown {
    /// How a log line names `patient_id`.
    fn name(&self, patient_id: &str) -> String {
        match self {
            Shown::Hidden => HIDDEN.to_string(),
            Shown::Clear => patient_id.to_string(),
            Shown::Pseudonymised(key) => key.pseudonym(patient_id),
        }
    }

    /// `text` with `patient_id` replaced by its name in logs.
    fn mask<'a>(&self, text: &'a str, patient_id: Option<&str>) -> Cow<'a, str> {
        let Some(id) = patient_id.filter(|id| id.chars().count() >= MIN_MASKED_CHARS) else {
            return Cow::Borrowed(text);
        };
        if matches!(self, Shown::Clear) || !text.contains(id) {
            return Cow::Borrowed(text);
        }
        Cow::Owned(text.replace(id, &self.name(id)))
    }
}

/// Puts a choice in force: for pseudonyms, with `key`, or else the key in
/// `state/pseudonym.key`, made now if there is none.
pub fn put_in_force(
    mode: PatientIdsInLogs,
    key: Option<&PseudonymKey>,
    state: &Path,
) -> Result<(), String> {
    let shown = match (mode, key) {
        (PatientIdsInLogs::Clear, _) => Shown::Clear,
        (PatientIdsInLogs::Pseudonymised, Some(key)) => Shown::Pseudonymised(key.clone()),
        (PatientIdsInLogs::Pseudonymised, None) => Shown::Pseudonymised(key_file(state, true)?),
    };
    let mut in_force = SHOWN.write().map_err(|_| "the log settings are unusable".to_string())?;
    *in_force = shown;
    Ok(())
}

/// The key kept in `state/pseudonym.key`, made first when `create` and
/// there is none. A key file others could read is made private again,
/// with a warning (the key may have been seen).
pub fn key_file(state: &Path, create: bool) -> Result<PseudonymKey, String> {
    let path = state.join(KEY_FILE);
    let shown = path.display();
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound && create => {
            make_key_file(state).map_err(|e| format!("cannot make the key {shown}: {e}"))?;
            fs::read_to_string(&path).map_err(|e| format!("cannot read the key {shown}: {e}"))?
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(format!(
                "there is no pseudonym key {shown} yet (embolint watch makes it when it first \
                 starts on this root), and no pseudonym_key in the config"
            ))
        }
        Err(e) => return Err(format!("cannot read the pseudonym key {shown}: {e}")),
    };
    keep_private(&path)?;
    PseudonymKey::new(&text).map_err(|_| {
        format!(
            "the pseudonym key {shown} is damaged (too short). Restore it from a backup to keep \
             the pseudonyms of earlier logs, or remove it to have a new one made"
        )
    })
}

/// Makes sure only the owner can read the key file.
fn keep_private(path: &Path) -> Result<(), String> {
    let mode = fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?.mode();
    if mode & 0o077 != 0 {
        fs::set_permissions(path, Permissions::from_mode(0o600))
            .map_err(|e| format!("cannot make {} private: {e}", path.display()))?;
        tracing::warn!(
            key = %path.display(),
            "the pseudonym key could be read by other users (mode {:o}); it is now readable by \
             its owner only. If others may have read it, their copy lets them tell which \
             pseudonym belongs to which patient",
            mode & 0o777
        );
    }
    Ok(())
}

/// Makes a random key (32 bytes from the system, as 64 hex digits) in a
/// private temporary file, synced, then links it into place: a crash
/// leaves no half-written key, and an existing key is never replaced.
fn make_key_file(state: &Path) -> io::Result<()> {
    let mut bytes = [0u8; 32];
    File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    let mut text: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    text.push('\n');
    let temp = state.join(format!(".{KEY_FILE}.tmp"));
    let _ = fs::remove_file(&temp);
    let mut file = OpenOptions::new().write(true).create_new(true).mode(0o600).open(&temp)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    let linked = match fs::hard_link(&temp, state.join(KEY_FILE)) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    };
    fs::remove_file(&temp)?;
    linked?;
    File::open(state)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pseudonym_is_the_start_of_the_keyed_hash() {
        // RFC 4231, test case 2 (key "Jefe"), taken without the length rule.
        let key = PseudonymKey("Jefe".into());
        assert_eq!(key.pseudonym("what do ya want for nothing?"), "pt-5bdcc146bf60754e");
    }

    #[test]
    fn ids_are_named_and_masked_inside_other_text_as_chosen() {
        let key = PseudonymKey::new(&"k".repeat(40)).unwrap();
        let pseudonym = key.pseudonym("PAT-0007");
        let shown = Shown::Pseudonymised(key);
        assert_eq!(shown.name("PAT-0007"), pseudonym);
        let masked = shown.mask("PAT-0007-spine.json", Some("PAT-0007"));
        assert_eq!(masked, format!("{pseudonym}-spine.json"));
        assert_eq!(shown.mask("plan-7.json", Some("7")), "plan-7.json", "too short to look for");
        assert_eq!(Shown::Clear.mask("PAT-0007.json", Some("PAT-0007")), "PAT-0007.json");
        assert_eq!(Shown::Clear.name("PAT-0007"), "PAT-0007");
        assert_eq!(Shown::Hidden.mask("PAT-0007.json", Some("PAT-0007")), format!("{HIDDEN}.json"));
    }

    #[test]
    fn short_keys_are_refused_and_keys_are_never_shown() {
        assert!(PseudonymKey::new("too short").unwrap_err().contains("9 characters"));
        let key = PseudonymKey::new(&"k".repeat(40)).unwrap();
        assert_eq!(format!("{key:?}"), "PseudonymKey([hidden])");
    }

    #[test]
    fn the_key_file_is_made_once_privately_and_read_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        assert!(key_file(dir.path(), false).unwrap_err().contains("no pseudonym key"));
        let made = key_file(dir.path(), true).unwrap();
        let mode = fs::metadata(dir.path().join(KEY_FILE)).unwrap().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(key_file(dir.path(), true).unwrap(), made);
        assert_eq!(key_file(dir.path(), false).unwrap(), made);
        let entries = fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(entries, 1, "no temporary file is left");
    }

    #[test]
    fn a_key_file_others_can_read_is_made_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE);
        fs::write(&path, "a".repeat(64)).unwrap();
        fs::set_permissions(&path, Permissions::from_mode(0o644)).unwrap();
        key_file(dir.path(), false).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o777, 0o600);
    }

    #[test]
    fn a_damaged_key_file_is_refused_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE);
        fs::write(&path, "").unwrap();
        assert!(key_file(dir.path(), true).unwrap_err().contains("damaged"));
        assert_eq!(fs::read(&path).unwrap(), b"");
    }
}
