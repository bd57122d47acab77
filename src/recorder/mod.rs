//! The recorder: the one writer of the decision log, the patient history
//! and the outcome folders (moved here from the watch daemon; its own
//! interface follows).

pub mod batch;
pub mod claim;
pub mod failpoint;
pub mod forget;
pub mod intake;
pub mod judge;
pub mod outcome;
pub mod patient_history;
pub mod recovery;
pub mod unplaced;
