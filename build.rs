//! Names the build: the git commit it was built from goes into
//! `embolint --version` and into every verdict's `checker`, so an auditor
//! can tell exactly which code judged a plan. Outside a git checkout (a
//! source tarball) the commit is "unknown"; nothing else depends on it.

use std::path::PathBuf;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    (output.status.success() && !text.trim().is_empty()).then(|| text.trim().to_string())
}

fn main() {
    // Rebuild the name when HEAD moves: a checkout, a commit, a pull.
    for what in ["HEAD", "refs/heads", "packed-refs"] {
        if let Some(path) = git(&["rev-parse", "--git-path", what]) {
            if PathBuf::from(&path).exists() {
                println!("cargo:rerun-if-changed={path}");
            }
        }
    }
    let commit = git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=EMBOLINT_COMMIT={commit}");
}
