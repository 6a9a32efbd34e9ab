//! Configuration: wheelhouse.toml, XDG paths, environment, validation with file:line:col.

use crate::model::{HostSpec, TlsFiles};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

/// An error in a file the operator wrote: names the file, line and column (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    pub path: PathBuf,
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.path.display(),
            self.line,
            self.col,
            self.message
        )
    }
}

impl std::error::Error for FileError {}

impl FileError {
    /// An error at byte offset `span.start` of `source` (the whole file's text).
    pub fn at(path: &Path, source: &str, span: Range<usize>, message: impl Into<String>) -> Self {
        let (line, col) = line_col(source, span.start);
        FileError {
            path: path.to_owned(),
            line,
            col,
            message: message.into(),
        }
    }

    /// A TOML parse or type error, located by its span (line 1 when toml gives none).
    pub fn from_toml(path: &Path, source: &str, err: &toml::de::Error) -> Self {
        let span = err.span().unwrap_or(0..0);
        FileError::at(path, source, span, err.message().trim().to_owned())
    }

    /// An error about the file as a whole (unreadable, missing).
    pub fn whole(path: &Path, message: impl Into<String>) -> Self {
        FileError {
            path: path.to_owned(),
            line: 1,
            col: 1,
            message: message.into(),
        }
    }
}

#[cfg(test)]
impl FileError {
    /// For tests: the error is at `line:col` of `file`, says so first, and mentions `needle`.
    pub(crate) fn assert_at(&self, file: &str, line: usize, col: usize, needle: &str) {
        assert_eq!((self.line, self.col), (line, col), "{self}");
        assert!(self.message.contains(needle), "{self}");
        let prefix = format!("{file}:{line}:{col}:");
        assert!(self.to_string().starts_with(&prefix), "{self}");
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = source.get(..offset).unwrap_or(source);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

/// Reads a file the operator named, or says which file could not be read.
pub fn read_file(path: &Path) -> Result<String, FileError> {
    std::fs::read_to_string(path).map_err(|e| FileError::whole(path, format!("cannot read: {e}")))
}

/// Default etcd key prefix.
pub const DEFAULT_PREFIX: &str = "/wheelhouse";

/// etcd endpoints and auth, the way etcdctl takes them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EtcdConfig {
    pub endpoints: Vec<String>,
    pub user: Option<String>,
    pub password: Option<String>,
    pub ca_cert: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

/// The cockpit's settings, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub refresh: Duration,
    pub theme: String,
    pub keymap: String,
    pub prefix: String,
    pub etcd: Option<EtcdConfig>,
    pub hosts: Vec<HostSpec>,
    /// The most instances one app may ask for; larger counts are refused as typos.
    pub max_instances: u32,
    /// Slow links (SSH): at most a frame a second, coarse ages, and `LOW_BANDWIDTH_REFRESH`
    /// unless `refresh` is set.
    pub low_bandwidth: bool,
    /// The file it came from, if any.
    pub path: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            refresh: Duration::from_secs(2),
            theme: "default".into(),
            keymap: "default".into(),
            prefix: DEFAULT_PREFIX.into(),
            etcd: None,
            hosts: Vec::new(),
            max_instances: crate::model::app::DEFAULT_MAX_INSTANCES,
            low_bandwidth: false,
            path: None,
        }
    }
}

/// The file as written; spans locate validation errors.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    refresh: Option<Spanned<String>>,
    theme: Option<String>,
    keymap: Option<String>,
    prefix: Option<Spanned<String>>,
    max_instances: Option<Spanned<i64>>,
    #[serde(default)]
    low_bandwidth: bool,
    etcd: Option<RawEtcd>,
    #[serde(default)]
    hosts: Vec<Spanned<RawHost>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEtcd {
    endpoints: Spanned<Vec<String>>,
    user: Option<String>,
    password: Option<String>,
    ca_cert: Option<PathBuf>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHost {
    name: Spanned<String>,
    engine: Spanned<String>,
    address: Option<String>,
    zone: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    tls: Option<TlsFiles>,
}

/// The poll interval in low-bandwidth mode when none is given.
pub const LOW_BANDWIDTH_REFRESH: Duration = Duration::from_secs(10);

impl Config {
    /// Turns low-bandwidth mode on; the refresh rises to `LOW_BANDWIDTH_REFRESH` unless the
    /// operator set one (`refresh_set`), which is kept.
    pub fn set_low_bandwidth(&mut self, refresh_set: bool) {
        self.low_bandwidth = true;
        if !refresh_set {
            self.refresh = self.refresh.max(LOW_BANDWIDTH_REFRESH);
        }
    }

    /// Parses and validates a config file's text; errors name `path:line:col`.
    pub fn parse(path: &Path, source: &str) -> Result<Config, FileError> {
        let raw: RawConfig =
            toml::from_str(source).map_err(|e| FileError::from_toml(path, source, &e))?;
        let err = |span: Range<usize>, msg: String| FileError::at(path, source, span, msg);
        let mut config = Config {
            path: Some(path.to_owned()),
            ..Config::default()
        };
        if raw.low_bandwidth {
            config.set_low_bandwidth(raw.refresh.is_some());
        }
        if let Some(refresh) = raw.refresh {
            config.refresh = parse_duration(refresh.get_ref())
                .filter(|d| *d >= Duration::from_millis(100) && *d <= Duration::from_secs(3600))
                .ok_or_else(|| {
                    err(
                        refresh.span(),
                        format!(
                            "refresh {:?} is not a duration between 100ms and 1h (e.g. \"2s\", \"500ms\")",
                            refresh.get_ref()
                        ),
                    )
                })?;
        }
        if let Some(theme) = raw.theme {
            config.theme = theme;
        }
        if let Some(keymap) = raw.keymap {
            config.keymap = keymap;
        }
        if let Some(prefix) = raw.prefix {
            let value = prefix.get_ref().trim_end_matches('/');
            if !value.starts_with('/') {
                return Err(err(prefix.span(), "prefix must start with '/'".into()));
            }
            config.prefix = value.to_owned();
        }
        if let Some(max) = raw.max_instances {
            config.max_instances = u32::try_from(*max.get_ref())
                .ok()
                .filter(|&m| m >= 1)
                .ok_or_else(|| {
                    err(
                        max.span(),
                        format!(
                            "max_instances {} must be a whole number from 1 to {}",
                            max.get_ref(),
                            u32::MAX
                        ),
                    )
                })?;
        }
        if let Some(etcd) = raw.etcd {
            if etcd.endpoints.get_ref().is_empty() {
                return Err(err(
                    etcd.endpoints.span(),
                    "etcd.endpoints needs at least one endpoint".into(),
                ));
            }
            if etcd.user.is_some() != etcd.password.is_some() {
                return Err(err(
                    etcd.endpoints.span(),
                    "etcd: user and password go together".into(),
                ));
            }
            config.etcd = Some(EtcdConfig {
                endpoints: etcd.endpoints.into_inner(),
                user: etcd.user,
                password: etcd.password,
                ca_cert: etcd.ca_cert,
                cert: etcd.cert,
                key: etcd.key,
            });
        }
        for host in raw.hosts {
            let host = host.into_inner();
            let name = host.name.get_ref();
            if !valid_name(name) {
                return Err(err(
                    host.name.span(),
                    format!("host name {name:?} must be letters, digits, '-', '_' or '.'"),
                ));
            }
            if config.hosts.iter().any(|h| &h.name == name) {
                return Err(err(
                    host.name.span(),
                    format!("host {name:?} is listed twice"),
                ));
            }
            let engine = host.engine.get_ref();
            if let Err(why) = check_engine_url(engine) {
                return Err(err(host.engine.span(), why));
            }
            config.hosts.push(HostSpec {
                name: name.clone(),
                engine: engine.clone(),
                address: host.address,
                zone: host.zone,
                labels: host.labels,
                tls: host.tls,
            });
        }
        Ok(config)
    }

    /// Loads `explicit` if given (it must exist), else the XDG config file if present, else
    /// defaults. With no hosts configured, `DOCKER_HOST` alone is a one-host inventory.
    pub fn load(explicit: Option<&Path>) -> Result<Config, FileError> {
        let path = match explicit {
            Some(p) => Some(p.to_owned()),
            None => default_path().filter(|p| p.exists()),
        };
        let mut config = match path {
            Some(path) => Config::parse(&path, &read_file(&path)?)?,
            None => Config::default(),
        };
        if config.hosts.is_empty()
            && let Some(host) = crate::docker::host_from_env()
        {
            config.hosts.push(host);
        }
        Ok(config)
    }
}

/// `$XDG_CONFIG_HOME/wheelhouse/wheelhouse.toml` (or the platform's equivalent).
pub fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "wheelhouse")
        .map(|d| d.config_dir().join("wheelhouse.toml"))
}

/// Where the log file goes: the XDG state (or cache) dir.
pub fn log_dir() -> PathBuf {
    directories::ProjectDirs::from("", "", "wheelhouse")
        .map(|d| d.state_dir().unwrap_or_else(|| d.cache_dir()).to_path_buf())
        .unwrap_or_else(std::env::temp_dir)
}

pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Accepts the URL schemes docker itself takes for DOCKER_HOST.
pub fn check_engine_url(url: &str) -> Result<(), String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("engine {url:?} needs a scheme: unix://, tcp:// or ssh://"))?;
    match scheme {
        "unix" | "tcp" | "ssh" | "http" | "https" if !rest.is_empty() => Ok(()),
        "unix" | "tcp" | "ssh" | "http" | "https" => Err(format!("engine {url:?} has no address")),
        other => Err(format!(
            "engine scheme {other:?} is not supported (use unix://, tcp:// or ssh://)"
        )),
    }
}

/// "500ms", "2s", "1m", or a bare number of seconds.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let seconds = match unit.trim() {
        "ms" => number / 1000.0,
        "" | "s" => number,
        "m" => number * 60.0,
        "h" => number * 3600.0,
        _ => return None,
    };
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds))
}

#[doc(hidden)]
pub mod expect;
#[cfg(test)]
mod tests;
