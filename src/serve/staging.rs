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
use crate::recorder::outcome;
use crate::watch::folder::Folder;
use std::ffi::OsStr;
use std::io::{self, Read};
use std::sync::mpsc;
use tokio::sync::oneshot;

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

/// Stages the plans received over HTTP, in groups: the plans waiting are
/// written to temporary files, made durable with one sync of the file
/// system, and only then renamed into the inbox. So a name in the inbox
/// always has its bytes on disk (a power loss cannot leave an empty plan
/// there under a request's key), and a burst of requests pays one sync
/// instead of one `fdatasync` each (measured: docs/performance.md). The
/// names themselves are made durable by the daemon's loop, once per
/// batch, before the batch's records are written (`Intake::staged`).
pub struct Stager {
    jobs: mpsc::Sender<Job>,
}

/// One plan to stage, and whom to tell how it went.
struct Job {
    name: String,
    bytes: Vec<u8>,
    limit: u64,
    reply: oneshot::Sender<io::Result<Staged>>,
}

impl Stager {
    /// Starts the thread that stages plans into `inbox`.
    pub fn start(inbox: Folder) -> io::Result<Stager> {
        let (jobs, waiting) = mpsc::channel::<Job>();
        std::thread::Builder::new().name("stager".into()).spawn(move || {
            // Ends when the service, and with it the sender, is gone.
            while let Ok(first) = waiting.recv() {
                let mut group = vec![first];
                group.extend(waiting.try_iter());
                stage_group(&inbox, group);
            }
        })?;
        Ok(Stager { jobs })
    }

    /// Writes `bytes` into the inbox as `name` (see [`Stager`]), without
    /// replacing anything there.
    pub async fn stage(&self, name: String, bytes: Vec<u8>, limit: u64) -> io::Result<Staged> {
        let (reply, staged) = oneshot::channel();
        let job = Job { name, bytes, limit, reply };
        let gone = || io::Error::other("the thread that stages plans has stopped");
        self.jobs.send(job).map_err(|_| gone())?;
        staged.await.map_err(|_| gone())?
    }
}

/// Stages one group of plans: temporary files, one sync, the renames.
fn stage_group(inbox: &Folder, group: Vec<Job>) {
    let mut written = Vec::with_capacity(group.len());
    for job in group {
        match outcome::write_temp_named(inbox, TEMP_PREFIX, &job.bytes) {
            Ok(temp) => written.push((job, temp)),
            Err(error) => {
                let _ = job.reply.send(Err(error));
            }
        }
    }
    if written.is_empty() {
        return;
    }
    if let Err(error) = inbox.sync_file_system() {
        for (job, temp) in written {
            let _ = inbox.remove_file(&temp);
            let copy = io::Error::new(error.kind(), format!("syncing the staged plan: {error}"));
            let _ = job.reply.send(Err(copy));
        }
        return;
    }
    for (job, temp) in written {
        let staged = rename_into_place(inbox, &temp, &job.name, job.limit);
        let _ = job.reply.send(staged);
    }
}

/// Renames the synced temporary file to `name` without replacing anything;
/// when `name` is there already, reads it (at most `limit` + 1 bytes).
fn rename_into_place(inbox: &Folder, temp: &OsStr, name: &str, limit: u64) -> io::Result<Staged> {
    match inbox.rename_no_replace(temp, inbox, name.as_ref()) {
        Ok(()) => Ok(Staged::Created),
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
            inbox.remove_file(temp)?;
            let mut there = Vec::new();
            let file = inbox.open_read(name.as_ref())?;
            file.take(limit.saturating_add(1)).read_to_end(&mut there)?;
            Ok(Staged::AlreadyThere(there))
        }
        Err(error) => {
            let _ = inbox.remove_file(temp);
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

    #[test]
    fn plans_staged_at_once_each_land_whole_under_their_name_and_nothing_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let stager = std::sync::Arc::new(Stager::start(Folder::open(dir.path()).unwrap()).unwrap());
        let runtime = tokio::runtime::Builder::new_multi_thread().build().unwrap();
        let staged = runtime.block_on(async {
            let requests = (0..40).map(|i| {
                let stager = std::sync::Arc::clone(&stager);
                tokio::spawn(async move {
                    let bytes = format!("plan {i}").into_bytes();
                    stager.stage(format!("api-{i}.json"), bytes, 100).await.unwrap()
                })
            });
            let mut staged = Vec::new();
            for request in requests.collect::<Vec<_>>() {
                staged.push(request.await.unwrap());
            }
            staged
        });
        assert!(staged.iter().all(|s| *s == Staged::Created), "{staged:?}");
        for i in 0..40 {
            let there = std::fs::read(dir.path().join(format!("api-{i}.json"))).unwrap();
            assert_eq!(there, format!("plan {i}").into_bytes());
        }
        // A second plan under a name taken: the first stays, and is read back.
        let again = runtime.block_on(stager.stage("api-3.json".into(), b"other".to_vec(), 100));
        assert_eq!(again.unwrap(), Staged::AlreadyThere(b"plan 3".to_vec()));
        assert_eq!(std::fs::read(dir.path().join("api-3.json")).unwrap(), b"plan 3");
        let names: Vec<_> =
            std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 40, "no temporary file is left: {names:?}");
    }
}
