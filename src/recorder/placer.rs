//! The recorder's second thread: it places recorded batches (their verdict
//! files, the moves of their plans, the syncs: [`batch::place`]) while the
//! loop reads and judges the next batch, so a burst keeps both cores busy.
//!
//! It is handed one batch at a time, only once the batch's records are
//! synced and its history rows committed, and it touches nothing but the
//! root's folders. The recorder waits for the batch's fates before it
//! records the next batch, so the log's final batch is still the only one
//! that can be unfinished after a crash (see [`super::recovery`]).

use super::batch::{self, Judged, Placed};
use crate::watch::fatal::{storage, Fatal};
use crate::watch::layout::Folders;
use std::io;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

/// A placed batch: its plans and what became of each one, in order.
pub type PlacedBatch = (Vec<Judged>, Vec<Placed>);

/// The thread that places batches, and the two ends that talk to it.
pub struct Placer {
    /// Where batches are handed over; dropped to end the thread.
    batches: Option<SyncSender<Vec<Judged>>>,
    /// Where the placed batches (or the error that stops the daemon) come back.
    placed: Receiver<Result<PlacedBatch, Fatal>>,
    /// The thread, joined on drop (a batch in hand is placed first).
    thread: Option<JoinHandle<()>>,
}

impl Placer {
    /// Starts the thread, which places batches in `folders`.
    pub fn start(folders: Arc<Folders>) -> io::Result<Placer> {
        let (batches, to_place) = mpsc::sync_channel::<Vec<Judged>>(1);
        let (done, placed) = mpsc::sync_channel(1);
        let thread = std::thread::Builder::new().name("placer".into()).spawn(move || {
            for judged in to_place {
                let outcome = batch::place(&folders, &judged).map(|fates| (judged, fates));
                let failed = outcome.is_err();
                if done.send(outcome).is_err() || failed {
                    return;
                }
            }
        })?;
        Ok(Placer { batches: Some(batches), placed, thread: Some(thread) })
    }

    /// Hands over a recorded batch to be placed.
    pub fn hand_over(&self, judged: Vec<Judged>) -> Result<(), Fatal> {
        let sent = self.batches.as_ref().map(|batches| batches.send(judged));
        match sent {
            Some(Ok(())) => Ok(()),
            _ => Err(stopped()),
        }
    }

    /// Waits for the batch handed over last and returns it with its fates.
    pub fn wait(&self) -> Result<PlacedBatch, Fatal> {
        self.placed.recv().map_err(|_| stopped())?
    }
}

impl Drop for Placer {
    fn drop(&mut self) {
        self.batches = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The thread ended without an answer (it stopped on an earlier error, or
/// failed): recorded plans may not have been placed; a restart finishes them.
fn stopped() -> Fatal {
    let error = io::Error::other("the thread that places verdict files and plans stopped");
    storage("placing a recorded batch")(error)
}
