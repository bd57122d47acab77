//! The sha256 that names a file in verdicts, decision records and rule
//! sets.

use sha2::{Digest, Sha256};

/// Lower-case hex sha256 of `bytes`.
///
/// ```
/// assert_eq!(
///     embolint::digest::sha256_hex(b""),
///     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
/// );
/// ```
pub fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}
