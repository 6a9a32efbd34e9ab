//! What can go wrong while running a lab, each case with enough detail to act on.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error("the lab must run as root (dockerd needs it); try: sudo wheelhouse lab up")]
    NotRoot,

    #[error("`{binary}` not found; install it with: apt-get install {package}")]
    MissingBinary {
        binary: &'static str,
        package: &'static str,
    },

    #[error(
        "socket path {} is {len} characters, over the limit of {limit}; choose a shorter lab --dir",
        path.display()
    )]
    SocketPathTooLong {
        path: PathBuf,
        len: usize,
        limit: usize,
    },

    #[error("a lab is already running in {}; stop it first with: wheelhouse lab down --dir {}", dir.display(), dir.display())]
    AlreadyRunning { dir: PathBuf },

    #[error("no lab in {} (no state file {}); start one with: wheelhouse lab up", dir.display(), state.display())]
    NoLab { dir: PathBuf, state: PathBuf },

    #[error("lab state file {} is unreadable: {message}", path.display())]
    State { path: PathBuf, message: String },

    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },

    /// A process that did not come up; `log_tail` holds the last lines of its log.
    #[error("{what} did not come up: {reason}\n--- last lines of {} ---\n{log_tail}", log.display())]
    NotUp {
        what: String,
        reason: String,
        log: PathBuf,
        log_tail: String,
    },

    #[error("{what}: {message}")]
    Engine { what: String, message: String },

    #[error("dead: {}; start them again with their data: wheelhouse lab up{dir_flag}", parts.join(", "))]
    PartsDead {
        parts: Vec<String>,
        dir_flag: String,
    },

    #[error("the lab has no host number {index} (it has {count})")]
    NoSuchHost { index: usize, count: usize },

    #[error("{0}")]
    Invalid(String),
}

impl LabError {
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        LabError::Io {
            what: what.into(),
            source,
        }
    }

    pub(crate) fn engine(what: impl Into<String>, message: impl Into<String>) -> Self {
        LabError::Engine {
            what: what.into(),
            message: message.into(),
        }
    }
}
