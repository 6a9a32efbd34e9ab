//! Configuration: wheelhouse.toml, XDG paths, environment, validation with file:line:col.

use crate::domain::{Bounds, FileError, read_file};
use crate::domain::{HostSpec, TlsFiles};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

/// Default etcd key prefix.
pub const DEFAULT_PREFIX: &str = "/wheelhouse";

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
    /// How many lines the logs view keeps (`[logs] lines`); older ones are dropped.
    pub log_lines: usize,
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
            max_instances: crate::domain::app::DEFAULT_MAX_INSTANCES,
            low_bandwidth: false,
            log_lines: crate::logs::DEFAULT_BUFFER_LINES,
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
    logs: Option<RawLogs>,
    #[serde(default)]
    hosts: Vec<Spanned<RawHost>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEtcd {
    endpoints: Spanned<Vec<Spanned<String>>>,
    user: Option<String>,
    password: Option<String>,
    ca_cert: Option<PathBuf>,
    cert: Option<Spanned<PathBuf>>,
    key: Option<Spanned<PathBuf>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLogs {
    lines: Option<Spanned<i64>>,
}

/// The most lines the logs view may keep: a line can be 16 KiB, so this bounds memory.
pub const MAX_LOG_LINES: usize = 1_000_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHost {
    name: Spanned<String>,
    engine: Spanned<String>,
    address: Option<Spanned<String>>,
    zone: Option<Spanned<String>>,
    labels: Option<Spanned<BTreeMap<String, String>>>,
    tls: Option<TlsFiles>,
}

/// How often engines may be polled (`refresh` in the file, `--refresh`).
pub const REFRESH: Bounds = Bounds::new(Duration::from_millis(100), Duration::from_secs(3600));

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
            config.refresh = REFRESH
                .parse("refresh", refresh.get_ref())
                .map_err(|m| err(refresh.span(), m))?;
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
        if let Some(lines) = raw.logs.and_then(|l| l.lines) {
            config.log_lines = usize::try_from(*lines.get_ref())
                .ok()
                .filter(|n| (1..=MAX_LOG_LINES).contains(n))
                .ok_or_else(|| {
                    let n = lines.get_ref();
                    let why = format!("logs.lines {n} must be a number from 1 to {MAX_LOG_LINES}");
                    err(lines.span(), why)
                })?;
        }
        if let Some(etcd) = raw.etcd {
            config.etcd = Some(etcd.check(&err)?);
        }
        for host in raw.hosts {
            let host = host.into_inner();
            let name = host.name.get_ref();
            if config.hosts.iter().any(|h| &h.name == name) {
                return Err(err(
                    host.name.span(),
                    format!("host {name:?} is listed twice"),
                ));
            }
            let spec = HostSpec {
                name: name.clone(),
                engine: host.engine.get_ref().clone(),
                address: host.address.as_ref().map(|a| a.get_ref().clone()),
                zone: host.zone.as_ref().map(|z| z.get_ref().clone()),
                labels: host
                    .labels
                    .as_ref()
                    .map(|l| l.get_ref().clone())
                    .unwrap_or_default(),
                tls: host.tls,
            };
            if let Err((field, why)) = check_host_spec(&spec) {
                let span = match field {
                    HostField::Name => Some(host.name.span()),
                    HostField::Engine => Some(host.engine.span()),
                    HostField::Address => host.address.map(|a| a.span()),
                    HostField::Zone => host.zone.map(|z| z.span()),
                    HostField::Labels => host.labels.map(|l| l.span()),
                };
                return Err(err(span.unwrap_or_else(|| host.name.span()), why));
            }
            config.hosts.push(spec);
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
            && let Some(host) = docker_env::host_from_env()
        {
            config.hosts.push(host);
        }
        Ok(config)
    }
}

impl RawEtcd {
    /// The same checks the store makes before it connects, located in the file.
    fn check(
        self,
        err: &impl Fn(Range<usize>, String) -> FileError,
    ) -> Result<EtcdConfig, FileError> {
        let whole = self.endpoints.span();
        let list = self.endpoints.into_inner();
        let texts: Vec<String> = list.iter().map(|e| e.get_ref().clone()).collect();
        let tls = self.ca_cert.is_some() || self.cert.is_some() || self.key.is_some();
        endpoints(&texts, tls)
            .map_err(|(i, m)| err(list.get(i).map_or(whole.clone(), Spanned::span), m))?;
        if self.user.is_some() != self.password.is_some() {
            return Err(err(whole, "etcd: user and password go together".into()));
        }
        if let Some(one) = match (&self.cert, &self.key) {
            (Some(cert), None) => Some(cert),
            (None, Some(key)) => Some(key),
            _ => None,
        } {
            return Err(err(one.span(), "etcd: cert and key go together".into()));
        }
        Ok(EtcdConfig {
            endpoints: texts,
            user: self.user,
            password: self.password,
            ca_cert: self.ca_cert,
            cert: self.cert.map(Spanned::into_inner),
            key: self.key.map(Spanned::into_inner),
        })
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

mod docker_env;
mod etcd;
mod host;

pub use etcd::{EtcdConfig, endpoint, endpoints};
pub use host::{HostField, check_host_spec};
#[cfg(test)]
mod tests;
