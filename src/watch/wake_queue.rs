//! The queue between the threads that wake the daemon (file-system
//! watcher, signals) and its loop, bounded for file-system hints.
//!
//! A burst of 100,000 renames brings 100,000 hints, far faster than plans
//! are judged; queued whole they would cost memory in proportion to the
//! burst. Past [`MAX_QUEUED_HINTS`], the hints are dropped and replaced by
//! one [`Wake::HintsLost`]: the loop then treats the inbox as holding
//! plans it does not know of and lists it again once it has room for them
//! (hints only say where to look first; the listing is the truth). Signals,
//! settings and request wake-ups are never dropped.

use super::wake::Wake;
use crate::recorder::failpoint;
use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Most inbox hints queued at once (about 80 bytes each with the name).
pub const MAX_QUEUED_HINTS: usize = 16_384;

/// Wake-ups waiting for the loop.
#[derive(Debug)]
pub struct WakeQueue {
    /// The queue itself.
    queued: Mutex<Queued>,
    /// Signalled on every push.
    pushed: Condvar,
    /// Most hints queued: [`MAX_QUEUED_HINTS`] (smaller in tests, see
    /// [`failpoint::small_bounds`]).
    max_hints: usize,
}

/// What the mutex guards.
#[derive(Debug, Default)]
struct Queued {
    /// Wake-ups in arrival order.
    wakes: VecDeque<Wake>,
    /// How many of them are inbox hints.
    hints: usize,
    /// Hints were dropped and a [`Wake::HintsLost`] is queued: later hints
    /// are dropped too until the loop takes it.
    lost: bool,
}

impl WakeQueue {
    /// An empty queue.
    pub fn new() -> WakeQueue {
        let max_hints = if failpoint::small_bounds() {
            failpoint::SMALL_MAX_QUEUED_HINTS
        } else {
            MAX_QUEUED_HINTS
        };
        WakeQueue { queued: Mutex::default(), pushed: Condvar::new(), max_hints }
    }

    /// Queues a wake-up (from any thread); never blocks for long, never
    /// fails. An inbox hint past the bound is dropped, with the others
    /// queued, for one [`Wake::HintsLost`].
    pub fn push(&self, wake: Wake) {
        let mut queued = self.lock();
        match wake {
            Wake::Inbox { .. } if queued.lost => return,
            // The same hint as the last one queued (a rename within the
            // inbox brings two): one look answers both.
            Wake::Inbox { .. } if queued.wakes.back() == Some(&wake) => return,
            Wake::Inbox { .. } if queued.hints >= self.max_hints => {
                queued.wakes.retain(|w| !matches!(w, Wake::Inbox { .. }));
                queued.hints = 0;
                queued.lost = true;
                queued.wakes.push_back(Wake::HintsLost);
            }
            Wake::Inbox { .. } => {
                queued.hints += 1;
                queued.wakes.push_back(wake);
            }
            other => queued.wakes.push_back(other),
        }
        drop(queued);
        self.pushed.notify_one();
    }

    /// Takes the next wake-up, waiting up to `timeout` for one.
    pub fn wait(&self, timeout: Duration) -> Option<Wake> {
        let until = Instant::now().checked_add(timeout);
        let mut queued = self.lock();
        loop {
            if let Some(wake) = queued.take() {
                return Some(wake);
            }
            let left = until.map_or(Duration::MAX, |t| t.saturating_duration_since(Instant::now()));
            if left.is_zero() {
                return None;
            }
            queued =
                self.pushed.wait_timeout(queued, left).unwrap_or_else(PoisonError::into_inner).0;
        }
    }

    /// Takes the next wake-up if one is queued, without waiting.
    pub fn try_take(&self) -> Option<Wake> {
        self.lock().take()
    }

    /// The queue, even if a thread panicked holding it (its content is
    /// still a valid queue).
    fn lock(&self) -> MutexGuard<'_, Queued> {
        self.queued.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for WakeQueue {
    fn default() -> WakeQueue {
        WakeQueue::new()
    }
}

impl Queued {
    /// Pops the oldest wake-up, keeping the counts right.
    fn take(&mut self) -> Option<Wake> {
        let wake = self.wakes.pop_front()?;
        match wake {
            Wake::Inbox { .. } => self.hints = self.hints.saturating_sub(1),
            Wake::HintsLost => self.lost = false,
            _ => {}
        }
        if self.wakes.is_empty() && self.wakes.capacity() > MAX_QUEUED_HINTS {
            self.wakes.shrink_to_fit();
        }
        Some(wake)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hint(name: &str) -> Wake {
        Wake::Inbox { name: name.into(), writing: None, renamed_in: true }
    }

    #[test]
    fn wake_ups_come_out_in_order() {
        let queue = WakeQueue::new();
        queue.push(hint("a.json"));
        queue.push(Wake::Requests);
        assert!(matches!(queue.try_take(), Some(Wake::Inbox { .. })));
        assert!(matches!(queue.try_take(), Some(Wake::Requests)));
        assert!(queue.try_take().is_none());
        assert!(queue.wait(Duration::from_millis(10)).is_none());
    }

    #[test]
    fn a_hint_repeated_at_once_is_queued_once() {
        let queue = WakeQueue::new();
        queue.push(hint("a.json"));
        queue.push(hint("a.json"));
        queue.push(hint("b.json"));
        queue.push(hint("a.json"));
        let taken: Vec<Wake> = std::iter::from_fn(|| queue.try_take()).collect();
        assert_eq!(taken, [hint("a.json"), hint("b.json"), hint("a.json")]);
    }

    #[test]
    fn past_the_bound_hints_give_way_to_one_hints_lost_and_signals_stay() {
        let queue = WakeQueue::new();
        queue.push(Wake::Stop);
        for i in 0..MAX_QUEUED_HINTS + 100 {
            queue.push(hint(&format!("p{i}.json")));
        }
        queue.push(Wake::Reload);
        let taken: Vec<Wake> = std::iter::from_fn(|| queue.try_take()).collect();
        assert_eq!(taken.len(), 3, "{taken:?}");
        assert!(matches!(taken[0], Wake::Stop));
        assert!(matches!(taken[1], Wake::HintsLost));
        assert!(matches!(taken[2], Wake::Reload));
        // Once the loop took it, hints are queued again.
        queue.push(hint("later.json"));
        assert!(matches!(queue.try_take(), Some(Wake::Inbox { .. })));
    }

    #[test]
    fn a_waiting_loop_is_woken_by_another_thread() {
        let queue = std::sync::Arc::new(WakeQueue::new());
        let pusher = std::sync::Arc::clone(&queue);
        let thread = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            pusher.push(Wake::Stop);
        });
        assert!(matches!(queue.wait(Duration::from_secs(30)), Some(Wake::Stop)));
        thread.join().unwrap();
    }
}
