//! The anchor of the decision log: forward-secure MACs (Schneier and
//! Kelsey, "Secure audit logs to support computer forensics", 1999).
//!
//! The hash chain (see `chain`) shows that lines were changed, unless
//! whoever changed them also rewrote every line after, with new hashes —
//! which anyone who can write the file can do. The seal closes that:
//! - every line carries `mac`, right after `prev_sha256`: HMAC-SHA256,
//!   under the key of its `seq`, of the line as it reads without `mac`;
//! - the key of line n+1 is SHA-256 of a fixed label and the key of line n
//!   ([`Key::next`]): one-way, so a key gives every later key and no
//!   earlier one;
//! - the daemon keeps only the key of the next line, in `state/audit.key`
//!   ([`KeyState`]), overwritten in place and synced after each append: the
//!   keys of the lines written are gone from the machine;
//! - the first key is written once, when sealing starts, to
//!   `state/audit.first-key.SEQ` ([`FirstKey`]), for the operator to hand
//!   to the auditor and remove from the machine.
//!
//! So someone who later gains the daemon's rights (or root) can cut, add or
//! rewrite lines, but cannot give a line already written a MAC the
//! auditor's first key accepts; cutting lines off the end leaves a key
//! state that has moved past the log's end, and the key state cannot be
//! moved back. What the seal cannot do: vouch for lines written after the
//! attacker got in (they hold the current key), or survive a first key
//! that never left the machine.

use crate::check::sha256_hex;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The key state file in `state/`: the key of the next line.
pub const KEY_STATE_FILE: &str = "audit.key";

/// The first key file in `state/`, followed by `.SEQ`, the seq it seals
/// from. To be moved to the auditor.
pub const FIRST_KEY_PREFIX: &str = "audit.first-key.";

/// The label hashed with a key to get the next one.
const EVOLVE_LABEL: &[u8] = b"embolint.audit.key-evolution/1";

/// One key of the sequence: 32 secret bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Key([u8; 32]);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key([hidden])")
    }
}

impl Key {
    /// A new random key (32 bytes from the system).
    pub fn random() -> io::Result<Key> {
        let mut bytes = [0u8; 32];
        File::open("/dev/urandom")?.read_exact(&mut bytes)?;
        Ok(Key(bytes))
    }

    /// The key of the next line: SHA-256(label ‖ this key).
    pub fn next(&self) -> Key {
        let mut hasher = Sha256::new();
        hasher.update(EVOLVE_LABEL);
        hasher.update(self.0);
        Key(hasher.finalize().into())
    }

    /// The key `steps` lines further on.
    pub fn forward(&self, steps: u64) -> Key {
        let mut key = self.clone();
        for _ in 0..steps {
            key = key.next();
        }
        key
    }

    /// HMAC-SHA256 of `bytes` under this key, in lowercase hex.
    pub fn mac(&self, bytes: &[u8]) -> String {
        // HMAC takes a key of any length; 32 bytes cannot be refused.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.0) else {
            return String::new();
        };
        mac.update(bytes);
        hex(&mac.finalize().into_bytes())
    }

    /// The key as 64 hex digits.
    pub fn hex(&self) -> String {
        hex(&self.0)
    }

    /// A key from 64 hex digits.
    pub fn from_hex(text: &str) -> Option<Key> {
        let text = text.trim();
        if text.len() != 64 {
            return None;
        }
        let mut bytes = [0u8; 32];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(Key(bytes))
    }
}

/// Bytes as lowercase hex.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The auditor's first key: the key of line `seq`, the first sealed line.
/// Written and read as `SEQ:HEX`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FirstKey {
    /// The first line it seals.
    pub seq: u64,
    /// Its key.
    pub key: Key,
}

impl std::str::FromStr for FirstKey {
    type Err = String;

    fn from_str(text: &str) -> Result<FirstKey, String> {
        let bad = || {
            "a first key is SEQ:KEY (a line number and 64 hex digits), as the daemon wrote it \
             to state/audit.first-key.SEQ"
                .to_string()
        };
        let (seq, key) = text.trim().split_once(':').ok_or_else(bad)?;
        let seq: u64 = seq.parse().map_err(|_| bad())?;
        let key = Key::from_hex(key).ok_or_else(bad)?;
        if seq == 0 {
            return Err(bad());
        }
        Ok(FirstKey { seq, key })
    }
}

impl FirstKey {
    /// A first key given on the command line: `SEQ:KEY` itself, or a file
    /// holding it.
    pub fn from_arg(arg: &str) -> Result<FirstKey, String> {
        if let Ok(key) = arg.parse() {
            return Ok(key);
        }
        let text = std::fs::read_to_string(arg)
            .map_err(|e| format!("cannot read the first key {arg}: {e}"))?;
        text.parse().map_err(|e| format!("{arg}: {e}"))
    }
}

/// Where the daemon's key stands: the key of the next line, and the hash
/// of the line before it (the log's last line when it was saved).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyState {
    /// The seq of the next line.
    pub seq: u64,
    /// Its key.
    pub key: Key,
    /// sha256 of the line before (`GENESIS` when none).
    pub head_sha256: String,
}

/// The key state file's first word.
const STATE_MAGIC: &str = "embolint.audit-key/1";

impl KeyState {
    /// The file's bytes: always the same length, so an update overwrites
    /// the old key in place.
    fn to_bytes(&self) -> Vec<u8> {
        format!("{STATE_MAGIC} {:020} {} {}\n", self.seq, self.key.hex(), self.head_sha256)
            .into_bytes()
    }

    /// Reads a key state; `Ok(None)` when there is no file.
    pub fn read(path: &Path) -> io::Result<Option<KeyState>> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let bad = || {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} is not an embolint key state", path.display()),
            )
        };
        let mut words = text.split_whitespace();
        if words.next() != Some(STATE_MAGIC) {
            return Err(bad());
        }
        let seq = words.next().and_then(|w| w.parse().ok()).ok_or_else(bad)?;
        let key = words.next().and_then(Key::from_hex).ok_or_else(bad)?;
        let head_sha256 = words.next().filter(|h| h.len() == 64).ok_or_else(bad)?.to_string();
        Ok(Some(KeyState { seq, key, head_sha256 }))
    }
}

/// Seals one chained line (it starts `{"seq":N,"prev_sha256":"…"`): puts
/// `"mac"` after `prev_sha256`. `None` when the line does not start so.
pub fn seal_line(line: &[u8], key: &Key) -> Option<Vec<u8>> {
    let at = chain_prefix_len(line)?;
    let mac = key.mac(line);
    let mut sealed = Vec::with_capacity(line.len() + 80);
    sealed.extend_from_slice(line.get(..at)?);
    sealed.extend_from_slice(format!(",\"mac\":\"{mac}\"").as_bytes());
    sealed.extend_from_slice(line.get(at..)?);
    Some(sealed)
}

/// A sealed line taken apart: the line as it was MAC'd, and its MAC.
/// `None` when the line carries no `mac` right after `prev_sha256`.
pub fn unseal(line: &[u8]) -> Option<(Vec<u8>, &str)> {
    let at = chain_prefix_len(line)?;
    let rest = line.get(at..)?.strip_prefix(b",\"mac\":\"")?;
    let mac = std::str::from_utf8(rest.get(..64)?).ok()?;
    let after = rest.get(64..)?.strip_prefix(b"\"")?;
    if !mac.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut bare = line.get(..at)?.to_vec();
    bare.extend_from_slice(after);
    Some((bare, mac))
}

/// The length of `{"seq":N,"prev_sha256":"<64 hex>"` at the start of a
/// line, if it starts so.
fn chain_prefix_len(line: &[u8]) -> Option<usize> {
    let rest = line.strip_prefix(b"{\"seq\":")?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let rest = rest.get(digits..)?.strip_prefix(b",\"prev_sha256\":\"")?;
    rest.get(64..)?.strip_prefix(b"\"")?;
    Some(7 + digits + 16 + 64 + 1)
}

/// Whether a line carries a MAC.
pub fn is_sealed(line: &[u8]) -> bool {
    unseal(line).is_some()
}

/// The daemon's side: the key state file, held open, and the key of the
/// next line.
#[derive(Debug)]
pub struct Sealer {
    /// `state/audit.key`, open for overwriting in place.
    file: File,
    /// For messages.
    path: PathBuf,
    /// The key of the next line.
    state: KeyState,
}

impl Sealer {
    /// The key of the next line.
    pub fn state(&self) -> &KeyState {
        &self.state
    }

    /// Opens the key state in `state_dir` as it is (it exists).
    pub fn open(state_dir: &Path, state: KeyState) -> io::Result<Sealer> {
        let path = state_dir.join(KEY_STATE_FILE);
        let file = OpenOptions::new().write(true).custom_flags(libc::O_NOFOLLOW).open(&path)?;
        Ok(Sealer { file, path, state })
    }

    /// Starts sealing at line `seq` (after the line hashing to
    /// `head_sha256`) with a new random key: writes the first key to
    /// `state/audit.first-key.SEQ` for the auditor and the key state, both
    /// synced. Returns the first key file.
    ///
    /// A first key file already there for the same `seq` is replaced: it is
    /// left by a start that stopped before its key state was in place (no
    /// line was ever sealed with it), or by an earlier sealing from the same
    /// line, whose key the auditor already holds.
    pub fn start(state_dir: &Path, seq: u64, head_sha256: &str) -> io::Result<(Sealer, PathBuf)> {
        let key = Key::random()?;
        let first = state_dir.join(format!("{FIRST_KEY_PREFIX}{seq}"));
        let first_text = format!("{seq}:{}\n", key.hex());
        write_synced(state_dir, &first, first_text.as_bytes(), 0o400)?;
        let state = KeyState { seq, key, head_sha256: head_sha256.to_string() };
        write_synced(state_dir, &state_dir.join(KEY_STATE_FILE), &state.to_bytes(), 0o600)?;
        let sealer = Sealer::open(state_dir, state)?;
        Ok((sealer, first))
    }

    /// Moves the key on past the lines just written and synced (the next
    /// line is `seq`, after the line hashing to `head_sha256`): the old key
    /// is overwritten in place and the file synced, so it is gone.
    pub fn advance(&mut self, seq: u64, head_sha256: &str) -> io::Result<()> {
        let steps = seq.checked_sub(self.state.seq).ok_or_else(|| {
            io::Error::other(format!("the audit key cannot move back (to seq {seq})"))
        })?;
        let next = KeyState {
            seq,
            key: self.state.key.forward(steps),
            head_sha256: head_sha256.to_string(),
        };
        self.file.write_all_at(&next.to_bytes(), 0)?;
        self.file.sync_data()?;
        self.state = next;
        Ok(())
    }

    /// The key state file, for messages.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Writes `bytes` to `path` in `dir` whole or not at all: a temporary file,
/// synced, renamed into place, the folder synced.
fn write_synced(dir: &Path, path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temp = dir.join(format!(".{name}.tmp"));
    let _ = std::fs::remove_file(&temp);
    let mut out = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&temp)?;
    out.write_all(bytes)?;
    out.sync_all()?;
    std::fs::rename(&temp, path)?;
    File::open(dir)?.sync_all()
}

/// The first key files still in `state_dir` (they should have been moved
/// to the auditor).
pub fn first_keys_left(state_dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(state_dir) else { return Vec::new() };
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(FIRST_KEY_PREFIX))
        .map(|e| e.path())
        .collect();
    found.sort();
    found
}

/// Checks lines (without newlines) that the log holds past the key state's
/// point, which the daemon wrote and synced before it could move the key:
/// each must carry the MAC of its key. Returns the first that does not.
pub fn check_past_state(state: &KeyState, lines: &[Vec<u8>]) -> Result<(), u64> {
    let mut key = state.key.clone();
    for (i, line) in lines.iter().enumerate() {
        let seq = state.seq + i as u64;
        match unseal(line) {
            Some((bare, mac)) if key.mac(&bare) == mac => {}
            _ => return Err(seq),
        }
        key = key.next();
    }
    Ok(())
}

/// The sha256 of a line, as the chain and the key state name it.
pub fn line_sha256(line: &[u8]) -> String {
    sha256_hex(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_line_unseals_to_the_line_that_was_maced() {
        let key = Key::from_hex(&"ab".repeat(32)).unwrap();
        let line = format!(r#"{{"seq":7,"prev_sha256":"{}","verdict":"pass"}}"#, "0".repeat(64));
        let sealed = seal_line(line.as_bytes(), &key).unwrap();
        let text = String::from_utf8(sealed.clone()).unwrap();
        assert!(
            text.starts_with(&format!(r#"{{"seq":7,"prev_sha256":"{}","mac":""#, "0".repeat(64)))
        );
        let (bare, mac) = unseal(&sealed).unwrap();
        assert_eq!(bare, line.as_bytes());
        assert_eq!(mac, key.mac(line.as_bytes()));
        assert!(serde_json::from_slice::<serde_json::Value>(&sealed).is_ok());
    }

    #[test]
    fn keys_evolve_one_way_and_forward_is_repeated_next() {
        let key = Key::from_hex(&"01".repeat(32)).unwrap();
        assert_eq!(key.forward(3), key.next().next().next());
        assert_ne!(key.next(), key);
        assert_eq!(format!("{key:?}"), "Key([hidden])");
    }

    #[test]
    fn a_first_key_reads_as_seq_colon_hex() {
        let text = format!("12:{}\n", "cd".repeat(32));
        let first: FirstKey = text.parse().unwrap();
        assert_eq!(first.seq, 12);
        assert!("0:00".parse::<FirstKey>().is_err());
    }

    #[test]
    fn the_key_state_is_overwritten_in_place_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let (mut sealer, first) = Sealer::start(dir.path(), 1, &"0".repeat(64)).unwrap();
        let first: FirstKey = std::fs::read_to_string(&first).unwrap().parse().unwrap();
        sealer.advance(4, &"1".repeat(64)).unwrap();
        let state = KeyState::read(&dir.path().join(KEY_STATE_FILE)).unwrap().unwrap();
        assert_eq!(state.seq, 4);
        assert_eq!(state.key, first.key.forward(3));
        assert!(sealer.advance(2, &"1".repeat(64)).is_err(), "never back");
    }

    #[test]
    fn a_start_that_stopped_before_its_key_state_can_be_started_again() {
        // Regression (crash loop): a kill between writing the first key and
        // the key state left a first key file that made every restart fail.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(format!("{FIRST_KEY_PREFIX}1")), "stale").unwrap();
        let (sealer, first) = Sealer::start(dir.path(), 1, &"0".repeat(64)).unwrap();
        let first: FirstKey = std::fs::read_to_string(first).unwrap().parse().unwrap();
        assert_eq!(first.key, sealer.state().key);
    }
}
