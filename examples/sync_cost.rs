//! What making a batch's files durable costs, with `syncfs` (what the
//! daemon does: one sync of the file system holding the root) against one
//! `fdatasync` per file (syncing exactly what changed), on a quiet disk and
//! on a disk that another program keeps writing to.
//!
//! A batch of N plans leaves 3 N files to make durable before the plans are
//! moved: each plan (written by the planning software, perhaps never
//! synced) and its two temporary verdict files. This benchmark writes such
//! files in a fresh folder and times only their sync, N = 1 (a plan dropped
//! alone) and N = 64 (a full batch in a burst). With `--busy`, a second
//! thread writes a large file in the same folder without syncing it (an
//! export, a backup, images saved to the same share): `syncfs` then waits
//! for that program's data too, `fdatasync` does not.
//!
//! ```text
//! cargo run --release --example sync_cost                # quiet disk
//! cargo run --release --example sync_cost -- --busy      # another writer
//! cargo run --release --example sync_cost -- --dir /srv/plans --batches 100
//! ```
//!
//! The folder must be on the file system to measure (the system's temporary
//! folder by default); the files are removed at the end. What the figures
//! led to (the daemon keeps `syncfs`): docs/performance.md, "What a sync
//! costs".

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Bytes of a plan, a JSON verdict and a text verdict, as the examples'.
const SIZES: [usize; 3] = [3_800, 4_100, 500];

/// What the benchmark was asked.
struct Options {
    dir: PathBuf,
    batches: usize,
    busy: bool,
}

fn main() {
    let options = match parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("sync_cost: {message}");
            eprintln!("usage: sync_cost [--dir DIR] [--batches N] [--busy]");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(&options) {
        eprintln!("sync_cost: {e}");
        std::process::exit(1);
    }
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options { dir: std::env::temp_dir(), batches: 40, busy: false };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--dir" => options.dir = args.next().ok_or("--dir needs a folder")?.into(),
            "--batches" => {
                let value = args.next().ok_or("--batches needs a number")?;
                options.batches = value.parse().map_err(|_| format!("not a number: {value}"))?;
            }
            "--busy" => options.busy = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(options)
}

fn run(options: &Options) -> std::io::Result<()> {
    let work = tempfile::Builder::new().prefix("embolint-sync-cost-").tempdir_in(&options.dir)?;
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicU64::new(0));
    let writer = options.busy.then(|| {
        let (path, stop, written) = (work.path().join("busy.bin"), stop.clone(), written.clone());
        std::thread::spawn(move || busy_writer(&path, &stop, &written))
    });
    if writer.is_some() {
        // Let the other program's dirty data build up first.
        std::thread::sleep(Duration::from_secs(2));
    }
    println!(
        "sync_cost · {} · {} batches each · {}",
        work.path().display(),
        options.batches,
        if options.busy { "another program writing to the same disk" } else { "quiet disk" }
    );
    let root = File::open(work.path())?;
    let mut serial = 0u64;
    for plans in [1usize, 64] {
        for method in [Method::Syncfs, Method::FdatasyncEach] {
            let mut times = Vec::with_capacity(options.batches);
            for _ in 0..options.batches {
                let files = write_batch(work.path(), plans, &mut serial)?;
                let start = Instant::now();
                method.sync(&root, &files)?;
                times.push(start.elapsed());
                for path in files {
                    std::fs::remove_file(path)?;
                }
            }
            times.sort();
            println!(
                "  {plans:>2} plan(s), {:>3} files · {:<15} p50 {:>9.3} ms · p99 {:>9.3} ms · max {:>9.3} ms",
                plans * SIZES.len(),
                method.name(),
                ms(percentile(&times, 50)),
                ms(percentile(&times, 99)),
                ms(times.last().copied().unwrap_or_default()),
            );
        }
    }
    stop.store(true, Ordering::SeqCst);
    if let Some(writer) = writer {
        let _ = writer.join();
        println!(
            "  the other program wrote {} MiB meanwhile",
            written.load(Ordering::SeqCst) / (1024 * 1024)
        );
    }
    Ok(())
}

/// How a batch's files are made durable.
#[derive(Clone, Copy)]
enum Method {
    /// One `syncfs` of the file system holding the folder.
    Syncfs,
    /// One `fdatasync` per file.
    FdatasyncEach,
}

impl Method {
    fn name(self) -> &'static str {
        match self {
            Method::Syncfs => "syncfs",
            Method::FdatasyncEach => "fdatasync each",
        }
    }

    fn sync(self, root: &File, files: &[PathBuf]) -> std::io::Result<()> {
        match self {
            Method::Syncfs => {
                // SAFETY: syncfs on a descriptor we own.
                if unsafe { libc::syncfs(root.as_raw_fd()) } != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            }
            Method::FdatasyncEach => files
                .iter()
                .try_for_each(|path| OpenOptions::new().write(true).open(path)?.sync_data()),
        }
    }
}

/// Writes the files of a batch of `plans` plans, not synced.
fn write_batch(dir: &Path, plans: usize, serial: &mut u64) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::with_capacity(plans * SIZES.len());
    for _ in 0..plans {
        for size in SIZES {
            *serial += 1;
            let path = dir.join(format!("f{serial}"));
            File::create(&path)?.write_all(&vec![b'x'; size])?;
            files.push(path);
        }
    }
    Ok(files)
}

/// Writes 8 MiB chunks to `path` without syncing until `stop`, starting over
/// at 1 GiB, counting the bytes in `written`.
fn busy_writer(path: &Path, stop: &AtomicBool, written: &AtomicU64) {
    let chunk = vec![0x5a_u8; 8 * 1024 * 1024];
    while !stop.load(Ordering::SeqCst) {
        let Ok(mut file) = File::create(path) else { return };
        for _ in 0..128 {
            if stop.load(Ordering::SeqCst) || file.write_all(&chunk).is_err() {
                return;
            }
            written.fetch_add(chunk.len() as u64, Ordering::SeqCst);
        }
    }
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    let index = (sorted.len() * p / 100).min(sorted.len().saturating_sub(1));
    sorted.get(index).copied().unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
