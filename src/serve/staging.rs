//! How a plan received over HTTP enters the recorder: it is written into
//! the inbox, durably, under a name of its own, and from there judged,
//! recorded and placed by the daemon's loop exactly like a dropped plan.
//! So every guarantee of the folder (one record per plan, across kill -9;
//! recovery; fatal fsync errors) holds for it unchanged.
//!
//! A plan sent with an idempotency key is staged under a name made from the
//! key (`api-k-HEX.json`, the key's bytes in hex): the name is in its
//! decision record (`watch.inbox_name`), so the key is kept durably with
//! the record it produced, and a retry finds that record, or the plan still
//! waiting in the inbox, by name alone — also after a crash.

use super::index::KEYED_PREFIX;
use crate::watch::folder::Folder;
use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};

/// Temporary files of staging start with this (a dot: never a plan).
pub const TEMP_PREFIX: &str = ".embolint-api-";

/// Longest idempotency key accepted, in bytes (its hex must fit a name).
pub const MAX_KEY_BYTES: usize = 100;

/// The inbox name of a plan sent with idempotency key `key`; `None` when
/// the key is empty, too long or not visible ASCII.
pub fn keyed_name(key: &str) -> Option<String> {
    let fits = !key.is_empty() && key.len() <= MAX_KEY_BYTES;
    if !fits || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return None;
    }
    let hex: String = key.bytes().map(|b| format!("{b:02x}")).collect();
    Some(format!("{KEYED_PREFIX}{hex}.json"))
}

/// The inbox name of a plan sent without a key.
pub fn fresh_name() -> String {
    format!("api-{}.json", uuid::Uuid::new_v4().simple())
}

/// What staging found.
#[derive(Debug, PartialEq, Eq)]
pub enum Staged {
    /// Written into the inbox now.
    Created,
    /// A plan with this name was already in the inbox (a retry of a
    /// request still being judged), with these bytes.
    AlreadyThere(Vec<u8>),
}

/// Writes `bytes` into the inbox as `name`: to a temporary file, synced,
/// and renamed into place without replacing anything. The rename is made
/// durable by the loop before the plan's record is written.
pub fn stage(inbox: &Folder, name: &str, bytes: &[u8], limit: u64) -> io::Result<Staged> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let temp = OsString::from(format!("{TEMP_PREFIX}{}-{n}.tmp", std::process::id()));
    let mut file = inbox.create_new(&temp, 0o644)?;
    let written = file.write_all(bytes).and_then(|()| file.sync_data());
    if let Err(error) = written {
        let _ = inbox.remove_file(&temp);
        return Err(error);
    }
    match inbox.rename_no_replace(&temp, inbox, name.as_ref()) {
        // The inbox itself is synced by the loop, once per batch, before
        // the batch's records are written (see `Intake::staged`).
        Ok(()) => Ok(Staged::Created),
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
            inbox.remove_file(&temp)?;
            let mut there = Vec::new();
            let file = inbox.open_read(name.as_ref())?;
            file.take(limit.saturating_add(1)).read_to_end(&mut there)?;
            Ok(Staged::AlreadyThere(there))
        }
        Err(error) => {
            let _ = inbox.remove_file(&temp);
            Err(error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_names_one_plan_and_odd_keys_are_refused() {
        assert_eq!(keyed_name("ab").as_deref(), Some("api-k-6162.json"));
        assert_eq!(keyed_name(""), None);
        assert_eq!(keyed_name("a b"), None);
        assert_eq!(keyed_name(&"k".repeat(MAX_KEY_BYTES + 1)), None);
    }
}
