//! The recorder's second thread: it places recorded batches (their verdict
//! files, the moves of their plans, the syncs: [`batch::place`]) while the
//! loop reads and judges the next batch, so a burst keeps both cores busy.
//!
//! A batch is handed over before its records are written: the thread writes
//! and syncs its temporary verdict files meanwhile
//! ([`batch::write_sidecars`]), says so, and waits for the go-ahead, given
//! once the records are synced too, before it names or moves anything. A
//! batch called off instead (the shared history refused it, so nothing was
//! recorded) has its temporary files removed and nothing placed. It
//! touches nothing but the root's folders. The recorder waits for the
//! batch's fates before it records the next batch, so the log's final
//! batch is still the only one that can be unfinished after a crash (see
//! [`super::recovery`]).

use super::batch::{self, Judged, Placed};
use super::intake::Intake;
use crate::watch::fatal::{storage, Fatal};
use crate::watch::layout::Folders;
use std::io;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

/// A batch of judged plans, shared by the loop (which writes their
/// records) and the placer.
pub type Batch = Arc<Vec<Judged>>;

/// A placed batch: its plans and what became of each one, in order.
pub type PlacedBatch = (Batch, Vec<Placed>);

/// The thread that places batches, and the two ends that talk to it.
pub struct Placer {
    /// Where batches are handed over; dropped to end the thread.
    batches: Option<SyncSender<Batch>>,
    /// Where the batch handed over is told its records are synced (`true`)
    /// or that it is called off (`false`); dropped (a failed log sync stops
    /// the daemon) to end the thread unplaced.
    go: Option<SyncSender<bool>>,
    /// Where the thread says the batch's temporary verdict files are
    /// written and synced (or why they could not be).
    synced: Receiver<Result<(), Fatal>>,
    /// Where the placed batches (or the error that stops the daemon) come back.
    placed: Receiver<Result<PlacedBatch, Fatal>>,
    /// The thread, joined on drop (a batch in hand is placed first).
    thread: Option<JoinHandle<()>>,
}

impl Placer {
    /// Starts the thread, which places batches in `folders` and tells
    /// `follower` (another intake) as soon as each is placed, so that it
    /// answers for the batch's plans while the loop judges the next.
    pub fn start(folders: Arc<Folders>, follower: Option<Arc<dyn Intake>>) -> io::Result<Placer> {
        let (batches, to_place) = mpsc::sync_channel::<Batch>(1);
        let (go, go_ahead) = mpsc::sync_channel::<bool>(1);
        let (tell_synced, synced) = mpsc::sync_channel(1);
        let (done, placed) = mpsc::sync_channel(1);
        let thread = std::thread::Builder::new().name("placer".into()).spawn(move || {
            for judged in to_place {
                let temps = match batch::write_sidecars(&folders, &judged) {
                    Ok(temps) => temps,
                    Err(fatal) => {
                        let _ = tell_synced.send(Err(fatal));
                        return;
                    }
                };
                // Nothing is placed unless the records are durable (a
                // start-up removes the temporary files otherwise).
                if tell_synced.send(Ok(())).is_err() {
                    return;
                }
                match go_ahead.recv() {
                    Ok(true) => {}
                    Ok(false) => {
                        batch::remove_sidecars(&folders, &judged, temps);
                        continue;
                    }
                    Err(_) => return,
                }
                let outcome = batch::place(&folders, &judged, temps).map(|fates| (judged, fates));
                if let (Ok(_), Some(follower)) = (&outcome, &follower) {
                    // The log ends in this batch's records, synced: the
                    // loop writes nothing more before it has the fates.
                    follower.appended();
                }
                let failed = outcome.is_err();
                if done.send(outcome).is_err() || failed {
                    return;
                }
            }
        })?;
        let (batches, go) = (Some(batches), Some(go));
        Ok(Placer { batches, go, synced, placed, thread: Some(thread) })
    }

    /// Hands over a batch whose records are about to be written: its
    /// temporary verdict files are written and synced meanwhile (see
    /// [`Placer::sidecars_synced`]); nothing is placed before
    /// [`Placer::go`].
    pub fn hand_over(&self, judged: Batch) -> Result<(), Fatal> {
        let sent = self.batches.as_ref().map(|batches| batches.send(judged));
        match sent {
            Some(Ok(())) => Ok(()),
            _ => Err(stopped()),
        }
    }

    /// Waits until the temporary verdict files of the batch handed over are
    /// written and synced.
    pub fn sidecars_synced(&self) -> Result<(), Fatal> {
        self.synced.recv().map_err(|_| stopped())?
    }

    /// Tells the thread the records of the batch handed over are synced:
    /// it may be placed.
    pub fn go(&self) -> Result<(), Fatal> {
        self.tell(true)
    }

    /// Calls off the batch handed over, whose records were not written: its
    /// temporary verdict files are removed and nothing of it is placed (no
    /// [`Placer::wait`] for it).
    pub fn call_off(&self) -> Result<(), Fatal> {
        self.sidecars_synced()?;
        self.tell(false)
    }

    fn tell(&self, place: bool) -> Result<(), Fatal> {
        match self.go.as_ref().map(|go| go.send(place)) {
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
        self.go = None;
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
