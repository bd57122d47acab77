//! The daemon's settings: built-in defaults, then the config file, then
//! command-line flags, each overriding the one before.
//!
//! `config/embolint.toml` in the repository documents every key with its
//! default. An unknown key is refused (a typo such as `setle_millis` must not
//! silently leave the default in force).

use super::pseudonym::{PatientIdsInLogs, PseudonymKey};
use super::WatchArgs;
use crate::history::HistoryUrl;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Default period of the safety-net re-scan of the inbox, in seconds.
pub const DEFAULT_RESCAN_INTERVAL_SECS: u64 = 30;
/// Default time a file must stay unchanged before it is read, in ms.
pub const DEFAULT_SETTLE_MILLIS: u64 = 1000;
/// Default size limit of a plan file: 1 MiB (SPEC §4).
pub const DEFAULT_MAX_PLAN_BYTES: u64 = crate::check::DEFAULT_MAX_PLAN_BYTES;
/// Default number of plans whose decisions share one disk sync.
pub const DEFAULT_BATCH_SIZE: usize = 64;

/// How operational log lines are written to stderr.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One human-readable line per event.
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// The settings in force, after defaults, file and flags are merged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// The served folder; plans arrive in `root/inbox`.
    pub root: PathBuf,
    /// The rule file; `None` means the built-in rule set.
    pub rules: Option<PathBuf>,
    /// The config file these settings came from, if any (re-read on change).
    pub config: Option<PathBuf>,
    /// Period of the full re-scan that catches anything events missed.
    pub rescan_interval: Duration,
    /// How long a file must stay unchanged (size, times, inode) before it is
    /// read, so a plan is never judged half-written.
    pub settle: Duration,
    /// Files larger than this are invalid, and never read whole.
    pub max_plan_bytes: u64,
    /// Most plans judged before their decision records share one disk sync.
    pub batch_size: usize,
    /// Text or JSON log lines.
    pub log_format: LogFormat,
    /// Log filter from the config file (`--log-level` and `RUST_LOG` win).
    pub log_level: Option<String>,
    /// Whether operational log lines name patients by pseudonym (the
    /// default) or by their id; the decision log always keeps the id.
    pub patient_ids_in_logs: PatientIdsInLogs,
    /// The pseudonyms' secret key; `None`: the one in `state/pseudonym.key`.
    pub pseudonym_key: Option<PseudonymKey>,
    /// A patient history shared with other daemons, on PostgreSQL; `None`:
    /// the root's own `state/history.sqlite`.
    pub history_url: Option<HistoryUrl>,
}

/// The config file as written: every key optional, none unknown.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    root: Option<PathBuf>,
    rules: Option<PathBuf>,
    rescan_interval_secs: Option<u64>,
    settle_millis: Option<u64>,
    max_plan_bytes: Option<u64>,
    batch_size: Option<usize>,
    log_format: Option<LogFormat>,
    log_level: Option<String>,
    patient_ids_in_logs: Option<PatientIdsInLogs>,
    pseudonym_key: Option<String>,
    history_url: Option<String>,
}

/// A config that cannot be used, with what to change.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read at all.
    #[error("cannot read the config file {path}: {source}")]
    Read {
        /// The file named by `--config`.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The config file is not valid TOML for embolint.
    #[error("config file {path}: {message}")]
    Parse {
        /// The file named by `--config`.
        path: PathBuf,
        /// The TOML parser's explanation, with line and column.
        message: String,
    },
    /// A setting is out of its allowed range, or missing.
    #[error("{0}")]
    Invalid(String),
}

/// The system-wide config file, used when neither `--config` nor
/// `EMBOLINT_CONFIG` names one and it exists.
pub const SYSTEM_CONFIG: &str = "/etc/embolint/embolint.toml";

/// Where the config file in force was named.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigOrigin {
    /// `--config FILE`.
    Flag,
    /// The `EMBOLINT_CONFIG` environment variable.
    Environment,
    /// [`SYSTEM_CONFIG`], found on disk.
    System,
}

impl ConfigOrigin {
    /// How `embolint config` names it.
    pub fn describe(self) -> &'static str {
        match self {
            ConfigOrigin::Flag => "--config",
            ConfigOrigin::Environment => "EMBOLINT_CONFIG",
            ConfigOrigin::System => "the system-wide config",
        }
    }
}

/// The config file to read: `--config`, else `EMBOLINT_CONFIG` (when set
/// and not empty), else `system` when it exists, else none (the built-in
/// defaults). A file named by the flag or the variable must then be
/// readable: a typo there is an error, never a silent fall back.
pub fn discover(
    flag: Option<PathBuf>,
    environment: Option<std::ffi::OsString>,
    system: &Path,
) -> Option<(PathBuf, ConfigOrigin)> {
    if let Some(path) = flag {
        return Some((path, ConfigOrigin::Flag));
    }
    if let Some(path) = environment.filter(|value| !value.is_empty()) {
        return Some((PathBuf::from(path), ConfigOrigin::Environment));
    }
    system.is_file().then(|| (system.to_path_buf(), ConfigOrigin::System))
}

/// One setting as `embolint config` shows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Shown {
    /// The key, as the config file names it.
    pub key: &'static str,
    /// Its value in force (a secret is only said to be set).
    pub value: String,
    /// Where the value came from: a flag, the config file, or the default.
    pub source: String,
}

impl Settings {
    /// Every setting in force with where it came from, for `embolint
    /// config`. `origin` says how the config file (if any) was found.
    pub fn explain(
        args: &WatchArgs,
        origin: Option<ConfigOrigin>,
    ) -> Result<Vec<Shown>, ConfigError> {
        let settings = Settings::resolve(args)?;
        let file = match &args.config {
            Some(path) => read_config_file(path)?,
            None => ConfigFile::default(),
        };
        let from_file = match (&args.config, origin) {
            (Some(path), Some(origin)) => {
                format!("config file {} (named by {})", path.display(), origin.describe())
            }
            (Some(path), None) => format!("config file {}", path.display()),
            (None, _) => String::new(),
        };
        let source = |flag: bool, in_file: bool| {
            if flag {
                "command line".to_string()
            } else if in_file {
                from_file.clone()
            } else {
                "built-in default".to_string()
            }
        };
        let shown = |key, value: String, source: String| Shown { key, value, source };
        Ok(vec![
            shown(
                "root",
                settings.root.display().to_string(),
                source(args.root.is_some(), file.root.is_some()),
            ),
            shown(
                "rules",
                settings
                    .rules
                    .as_ref()
                    .map_or("built-in rules".into(), |p| p.display().to_string()),
                source(args.rules.is_some(), file.rules.is_some()),
            ),
            shown(
                "rescan_interval_secs",
                settings.rescan_interval.as_secs().to_string(),
                source(args.rescan_interval_secs.is_some(), file.rescan_interval_secs.is_some()),
            ),
            shown(
                "settle_millis",
                settings.settle.as_millis().to_string(),
                source(args.settle_millis.is_some(), file.settle_millis.is_some()),
            ),
            shown(
                "max_plan_bytes",
                settings.max_plan_bytes.to_string(),
                source(args.max_plan_bytes.is_some(), file.max_plan_bytes.is_some()),
            ),
            shown(
                "batch_size",
                settings.batch_size.to_string(),
                source(args.batch_size.is_some(), file.batch_size.is_some()),
            ),
            shown(
                "log_format",
                format!("{:?}", settings.log_format).to_lowercase(),
                source(args.log_format.is_some(), file.log_format.is_some()),
            ),
            log_level_shown(args, &file, &from_file),
            shown(
                "patient_ids_in_logs",
                format!("{:?}", settings.patient_ids_in_logs).to_lowercase(),
                source(false, file.patient_ids_in_logs.is_some()),
            ),
            shown(
                "pseudonym_key",
                if settings.pseudonym_key.is_some() {
                    "set (not shown)".into()
                } else {
                    "not set: the root's state/pseudonym.key".into()
                },
                source(false, file.pseudonym_key.is_some()),
            ),
            shown(
                "history_url",
                match &settings.history_url {
                    Some(url) => url.shown(),
                    None => "not set: the root's state/history.sqlite".into(),
                },
                source(args.history_url.is_some(), file.history_url.is_some()),
            ),
        ])
    }

    /// Merges defaults, the config file named by `args.config` (if any) and
    /// the flags in `args`.
    pub fn resolve(args: &WatchArgs) -> Result<Settings, ConfigError> {
        let file = match &args.config {
            Some(path) => read_config_file(path)?,
            None => ConfigFile::default(),
        };
        let base = args.config.as_deref().and_then(Path::parent).unwrap_or(Path::new(""));
        let settings = Settings {
            root: args.root.clone().or_else(|| file.root.map(|p| base.join(p))).ok_or_else(
                || {
                    ConfigError::Invalid(
                        "no root folder: give --root DIR or `root = \"DIR\"` in the config file"
                            .into(),
                    )
                },
            )?,
            rules: args.rules.clone().or_else(|| file.rules.map(|p| base.join(p))),
            config: args.config.clone(),
            rescan_interval: Duration::from_secs(
                args.rescan_interval_secs
                    .or(file.rescan_interval_secs)
                    .unwrap_or(DEFAULT_RESCAN_INTERVAL_SECS),
            ),
            settle: Duration::from_millis(
                args.settle_millis.or(file.settle_millis).unwrap_or(DEFAULT_SETTLE_MILLIS),
            ),
            max_plan_bytes: args
                .max_plan_bytes
                .or(file.max_plan_bytes)
                .unwrap_or(DEFAULT_MAX_PLAN_BYTES),
            batch_size: args.batch_size.or(file.batch_size).unwrap_or(DEFAULT_BATCH_SIZE),
            log_format: args.log_format.or(file.log_format).unwrap_or_default(),
            log_level: file.log_level,
            patient_ids_in_logs: file.patient_ids_in_logs.unwrap_or_default(),
            pseudonym_key: file
                .pseudonym_key
                .as_deref()
                .map(PseudonymKey::new)
                .transpose()
                .map_err(ConfigError::Invalid)?,
            history_url: args
                .history_url
                .as_deref()
                .or(file.history_url.as_deref())
                .map(HistoryUrl::new)
                .transpose()
                .map_err(ConfigError::Invalid)?,
        };
        settings.validate()?;
        Ok(settings)
    }

    /// Refuses settings outside the ranges the daemon is built for.
    fn validate(&self) -> Result<(), ConfigError> {
        let secs = self.rescan_interval.as_secs();
        if !(1..=86_400).contains(&secs) {
            return Err(ConfigError::Invalid(format!(
                "rescan_interval_secs is {secs}: give a number of seconds from 1 to 86400"
            )));
        }
        let settle = self.settle.as_millis();
        if settle > 600_000 {
            return Err(ConfigError::Invalid(format!(
                "settle_millis is {settle}: give at most 600000 (ten minutes)"
            )));
        }
        if !(1..=1 << 30).contains(&self.max_plan_bytes) {
            return Err(ConfigError::Invalid(format!(
                "max_plan_bytes is {}: give a size from 1 to 1073741824 bytes",
                self.max_plan_bytes
            )));
        }
        if !(1..=4096).contains(&self.batch_size) {
            return Err(ConfigError::Invalid(format!(
                "batch_size is {}: give a number from 1 to 4096",
                self.batch_size
            )));
        }
        Ok(())
    }
}

/// The log level in force and where it came from: `--log-level`, then
/// `RUST_LOG`, then the config file, then `info` (as the daemon reads it).
fn log_level_shown(args: &WatchArgs, file: &ConfigFile, from_file: &str) -> Shown {
    let environment = std::env::var("RUST_LOG").ok().filter(|v| !v.trim().is_empty());
    let (value, source) = if let Some(level) = &args.log_level {
        (level.clone(), "command line".to_string())
    } else if let Some(level) = environment {
        (level, "RUST_LOG".to_string())
    } else if let Some(level) = &file.log_level {
        (level.clone(), from_file.to_string())
    } else {
        ("info".to_string(), "built-in default".to_string())
    };
    Shown { key: "log_level", value, source }
}

/// Reads and parses one config file.
fn read_config_file(path: &Path) -> Result<ConfigFile, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
    toml::from_str(&text)
        .map_err(|e| ConfigError::Parse { path: path.to_path_buf(), message: e.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;
    /// The options of `watch` from command-line words, as `embolint watch`
    /// would read them (the flags these tests use).
    fn args(list: &[&str]) -> WatchArgs {
        let mut args = WatchArgs::default();
        for pair in list.chunks(2) {
            let (flag, value) = (pair[0], pair.get(1).copied().unwrap_or_default());
            match flag {
                "--root" => args.root = Some(value.into()),
                "--config" => args.config = Some(value.into()),
                "--batch-size" => args.batch_size = value.parse().ok(),
                other => panic!("flag {other} not known to these tests"),
            }
        }
        args
    }

    #[test]
    fn defaults_need_only_a_root() {
        let settings = Settings::resolve(&args(&["--root", "/srv/x"])).unwrap();
        assert_eq!(settings.root, PathBuf::from("/srv/x"));
        assert_eq!(settings.rules, None);
        assert_eq!(settings.max_plan_bytes, 1 << 20);
        assert_eq!(settings.rescan_interval, Duration::from_secs(30));
        assert_eq!(settings.log_format, LogFormat::Text);
        assert_eq!(settings.patient_ids_in_logs, PatientIdsInLogs::Pseudonymised);
        assert_eq!(settings.pseudonym_key, None);
    }

    #[test]
    fn patient_ids_may_be_logged_in_clear_and_a_short_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("embolint.toml");
        let key = "0123456789abcdef0123456789abcdef";
        std::fs::write(
            &path,
            format!("patient_ids_in_logs = \"clear\"\npseudonym_key = \"{key}\"\n"),
        )
        .unwrap();
        let config = path.to_str().unwrap();
        let settings = Settings::resolve(&args(&["--root", "/x", "--config", config])).unwrap();
        assert_eq!(settings.patient_ids_in_logs, PatientIdsInLogs::Clear);
        assert_eq!(settings.pseudonym_key, Some(PseudonymKey::new(key).unwrap()));
        assert!(!format!("{settings:?}").contains(key), "the key is never shown");
        std::fs::write(&path, "pseudonym_key = \"secret\"\n").unwrap();
        let error = Settings::resolve(&args(&["--root", "/x", "--config", config])).unwrap_err();
        assert!(error.to_string().contains("pseudonym_key has 6 characters"), "{error}");
        std::fs::write(&path, "patient_ids_in_logs = \"hashed\"\n").unwrap();
        let error = Settings::resolve(&args(&["--root", "/x", "--config", config])).unwrap_err();
        assert!(error.to_string().contains("pseudonymised"), "{error}");
    }

    #[test]
    fn flags_override_the_file_and_file_paths_are_relative_to_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("embolint.toml");
        std::fs::write(
            &path,
            "root = \"served\"\nrules = \"site.toml\"\nsettle_millis = 50\nbatch_size = 8\n",
        )
        .unwrap();
        let config = path.to_str().unwrap();
        let settings =
            Settings::resolve(&args(&["--config", config, "--batch-size", "3"])).unwrap();
        assert_eq!(settings.root, dir.path().join("served"));
        assert_eq!(settings.rules, Some(dir.path().join("site.toml")));
        assert_eq!(settings.settle, Duration::from_millis(50));
        assert_eq!(settings.batch_size, 3);
    }

    #[test]
    fn the_shipped_config_file_states_the_built_in_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("embolint.toml");
        std::fs::write(&path, include_str!("../../config/embolint.toml")).unwrap();
        let from_file =
            Settings::resolve(&args(&["--root", "/x", "--config", path.to_str().unwrap()]))
                .unwrap();
        let built_in = Settings::resolve(&args(&["--root", "/x"])).unwrap();
        assert_eq!(Settings { config: None, log_level: None, ..from_file.clone() }, built_in);
        assert_eq!(from_file.log_level.as_deref(), Some("info"));
    }

    #[test]
    fn a_misspelt_key_is_refused_with_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("embolint.toml");
        std::fs::write(&path, "setle_millis = 50\n").unwrap();
        let error = Settings::resolve(&args(&["--root", "/x", "--config", path.to_str().unwrap()]))
            .unwrap_err();
        assert!(error.to_string().contains("setle_millis"), "{error}");
    }

    #[test]
    fn the_config_is_the_flags_then_the_environments_then_the_system_file() {
        let dir = tempfile::tempdir().unwrap();
        let system = dir.path().join("embolint.toml");
        let missing = dir.path().join("absent.toml");
        let flag = Some(PathBuf::from("/a.toml"));
        let env = Some(std::ffi::OsString::from("/b.toml"));
        assert_eq!(
            discover(flag.clone(), env.clone(), &system),
            Some((PathBuf::from("/a.toml"), ConfigOrigin::Flag))
        );
        assert_eq!(
            discover(None, env.clone(), &system),
            Some((PathBuf::from("/b.toml"), ConfigOrigin::Environment))
        );
        assert_eq!(discover(None, Some("".into()), &missing), None, "empty means unset");
        assert_eq!(discover(None, None, &missing), None, "no system file: built-in defaults");
        std::fs::write(&system, "").unwrap();
        assert_eq!(discover(None, None, &system), Some((system.clone(), ConfigOrigin::System)));
    }

    #[test]
    fn a_shared_history_url_is_taken_from_the_file_and_never_shown_with_its_password() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("embolint.toml");
        std::fs::write(&path, "history_url = \"postgres://emb:s3cret@db:5432/history\"\n").unwrap();
        let list = ["--root", "/x", "--config", path.to_str().unwrap()];
        let settings = Settings::resolve(&args(&list)).unwrap();
        let url = settings.history_url.clone().unwrap();
        assert_eq!(url.secret(), "postgres://emb:s3cret@db:5432/history");
        assert!(!format!("{settings:?}").contains("s3cret"), "never in a log line");
        let shown = Settings::explain(&args(&list), None).unwrap();
        let line = shown.iter().find(|s| s.key == "history_url").unwrap();
        assert_eq!(line.value, "postgres://emb@db:5432/history");
        std::fs::write(&path, "history_url = \"/var/lib/h.sqlite\"\n").unwrap();
        let error = Settings::resolve(&args(&list)).unwrap_err();
        assert!(error.to_string().contains("must be a PostgreSQL URL"), "{error}");
    }

    #[test]
    fn out_of_range_values_are_refused() {
        let error = Settings::resolve(&args(&["--root", "/x", "--batch-size", "0"])).unwrap_err();
        assert!(error.to_string().contains("batch_size is 0"), "{error}");
    }
}
