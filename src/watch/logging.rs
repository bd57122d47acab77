//! Operational logs through `tracing` to stderr, as text or JSON lines.
//!
//! The level comes from `--log-level`, else `RUST_LOG`, else the config
//! file's `log_level`, else `info`. Only the config file's level can change
//! while running (the other two were fixed by whoever started the daemon).

use super::config::LogFormat;
use std::io::IsTerminal;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, reload, EnvFilter, Registry};

/// The level used when nothing else names one.
const DEFAULT_LEVEL: &str = "info";

/// Lets a reloaded config change the log level.
pub struct LogControl {
    /// `None` when the subscriber could not be installed (another one was).
    handle: Option<reload::Handle<EnvFilter, Registry>>,
    /// The level was fixed by `--log-level` or `RUST_LOG`.
    fixed: bool,
    /// The filter in force, to log only real changes.
    current: String,
}

/// Installs the global subscriber. `flag` is `--log-level`; `config` the
/// config file's `log_level`. Returns an error message for a bad filter.
pub fn init(
    format: LogFormat,
    flag: Option<&str>,
    config: Option<&str>,
) -> Result<LogControl, String> {
    let env = std::env::var("RUST_LOG").ok().filter(|v| !v.trim().is_empty());
    let fixed = flag.is_some() || env.is_some();
    let directive = flag.map(str::to_string).or(env).or(config.map(str::to_string));
    let directive = directive.unwrap_or_else(|| DEFAULT_LEVEL.into());
    let filter = parse(&directive)?;
    let (filter, handle) = reload::Layer::new(filter);
    let (text, json) = match format {
        LogFormat::Text => {
            let ansi = std::io::stderr().is_terminal();
            let writer = Stderr { to_journal: stderr_is_the_journal() };
            (Some(fmt::layer().with_writer(writer).with_ansi(ansi)), None)
        }
        LogFormat::Json => (None, Some(fmt::layer().json().with_writer(std::io::stderr))),
    };
    let installed = tracing_subscriber::registry().with(filter).with(text).with(json).try_init();
    Ok(LogControl { handle: installed.is_ok().then_some(handle), fixed, current: directive })
}

/// Whether standard error is systemd's journal: `JOURNAL_STREAM` names
/// the device and inode of the stream systemd connected, and it is ours.
fn stderr_is_the_journal() -> bool {
    use std::os::unix::fs::MetadataExt;
    let Some(stream) = std::env::var("JOURNAL_STREAM").ok() else { return false };
    let Some((device, inode)) = stream.split_once(':') else { return false };
    // fstat of our own standard error: no path, nothing to race.
    let Ok(stderr) = std::fs::metadata("/dev/stderr") else { return false };
    device.parse() == Ok(stderr.dev()) && inode.parse() == Ok(stderr.ino())
}

/// Standard error, each event prefixed with its syslog priority (`<3>`
/// for an error) when it goes to the journal, so that `journalctl -p err`
/// finds the daemon's errors.
#[derive(Clone, Copy)]
struct Stderr {
    /// Standard error is systemd's journal.
    to_journal: bool,
}

impl<'a> fmt::MakeWriter<'a> for Stderr {
    type Writer = Prefixed;

    fn make_writer(&'a self) -> Prefixed {
        Prefixed { prefix: None }
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> Prefixed {
        let priority = match *meta.level() {
            tracing::Level::ERROR => "<3>",
            tracing::Level::WARN => "<4>",
            tracing::Level::INFO => "<6>",
            tracing::Level::DEBUG | tracing::Level::TRACE => "<7>",
        };
        Prefixed { prefix: self.to_journal.then_some(priority) }
    }
}

/// One event's writer: the priority first, then the formatted line.
struct Prefixed {
    /// Still to write before the event; `None` once written, or off.
    prefix: Option<&'static str>,
}

impl std::io::Write for Prefixed {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut stderr = std::io::stderr().lock();
        if let Some(prefix) = self.prefix.take() {
            stderr.write_all(prefix.as_bytes())?;
        }
        stderr.write(bytes)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl LogControl {
    /// Applies a reloaded config's `log_level`, unless a flag or `RUST_LOG`
    /// fixed the level. Returns an error message for a bad filter.
    pub fn set_config_level(&mut self, level: Option<&str>) -> Result<(), String> {
        let wanted = level.unwrap_or(DEFAULT_LEVEL);
        if self.fixed || wanted == self.current {
            return Ok(());
        }
        let filter = parse(wanted)?;
        if let Some(handle) = &self.handle {
            handle.reload(filter).map_err(|e| e.to_string())?;
        }
        self.current = wanted.to_string();
        tracing::info!(level = %wanted, "log level changed by the config file");
        Ok(())
    }
}

/// The levels a directive may name (case does not matter).
const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];

/// Parses a level or filter directive (`info`, `embolint=debug`, a list
/// of them separated by commas).
///
/// `tracing`'s own syntax takes any other bare word as the name of a
/// module to log: `warning` would silently log nothing at all, errors
/// included. So each part must be a level, or `TARGET=LEVEL`.
fn parse(directive: &str) -> Result<EnvFilter, String> {
    let refuse = |why: String| {
        format!(
            "log level {directive:?} is not understood ({why}): use one of error, warn, info, debug, trace or off (or TARGET=LEVEL filters, separated by commas)"
        )
    };
    for part in directive.split(',').map(str::trim).filter(|part| !part.is_empty()) {
        let level = part.rsplit_once('=').map_or(part, |(_, level)| level);
        if !LEVELS.iter().any(|known| known.eq_ignore_ascii_case(level.trim())) {
            return Err(refuse(format!("{level:?} is not a level")));
        }
    }
    EnvFilter::try_new(directive).map_err(|e| refuse(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn levels_and_target_filters_are_taken() {
        for directive in ["info", "WARN", "error", "off", "embolint=debug", "info,embolint=trace"] {
            assert!(parse(directive).is_ok(), "{directive}");
        }
    }

    #[test]
    fn a_misspelt_level_is_refused_rather_than_taken_for_a_module_name() {
        for directive in ["warning", "information", "err", "embolint=loud", "info,verbose"] {
            let message = parse(directive).err().unwrap_or_default();
            assert!(message.contains("is not a level"), "{directive}: {message}");
            assert!(message.contains("error, warn, info"), "{message}");
        }
    }
}
