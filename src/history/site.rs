//! Which daemon wrote a row of the shared history: each root has an id of
//! its own, made once and kept in `ROOT/state/site-id`, so that the rows
//! and decision copies of one daemon can be told from another's (after a
//! crash, a daemon takes back only its own rows that its log never held).

use std::io::{self, Write};
use std::path::Path;

/// The file, under the root's `state/`, that holds the root's id.
pub const FILE: &str = "site-id";

/// The file, under the root's `state/`, that says this root's history is
/// shared on PostgreSQL (the URL without its password): so that a command
/// run without the URL never quietly uses an empty SQLite history instead.
pub const SHARED_MARKER: &str = "shared-history";

/// The root's id: read from `state/site-id`, or made (a random UUID) and
/// written there, synced, on first use.
pub fn id(state: &Path) -> io::Result<String> {
    let path = state.join(FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let id = text.trim();
            if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_graphic()) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "{} does not hold a site id: restore it from a backup (the shared \
                         history knows this root's rows by it)",
                        path.display()
                    ),
                ));
            }
            Ok(id.to_string())
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let id = uuid::Uuid::new_v4().to_string();
            write_synced(state, FILE, &id)?;
            Ok(id)
        }
        Err(e) => Err(e),
    }
}

/// Writes `text` to `state/name` through a temporary file, synced, so a
/// crash leaves the old content or the new one.
pub fn write_synced(state: &Path, name: &str, text: &str) -> io::Result<()> {
    let temp = state.join(format!(".{name}.tmp"));
    let mut file = std::fs::File::create(&temp)?;
    file.write_all(format!("{text}\n").as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&temp, state.join(name))?;
    std::fs::File::open(state)?.sync_all()
}

/// The shared history this root was last served with, if any (the URL
/// without its password).
pub fn shared_marker(state: &Path) -> Option<String> {
    std::fs::read_to_string(state.join(SHARED_MARKER)).ok().map(|t| t.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_root_keeps_the_id_it_was_given_first() {
        let dir = tempfile::tempdir().unwrap();
        let first = id(dir.path()).unwrap();
        assert_eq!(id(dir.path()).unwrap(), first);
        std::fs::write(dir.path().join(FILE), "\n").unwrap();
        assert!(id(dir.path()).is_err(), "an emptied id is not replaced silently");
    }
}
