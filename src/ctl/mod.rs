//! `wheelhouse ctl <verb>`: the cockpit's actions without a screen, for scripts.
//!
//! Mutating verbs build the same `ops::Command` a key's dialog would and run it through the
//! same gate, `ops::execute`. Exit codes: 0 ok, 1 conflict or runtime failure, 2 bad input
//! or refused (nothing was written).

mod logs;
mod output;
mod rollout;
mod spec_toml;
mod status;
mod trace;

pub use output::{CleanFields, Format, OutputArg, emit, quiet_on_closed_pipe, say_error};
pub use spec_toml::to_toml;

use output::{json, table};

use crate::cluster::app_statuses;
use crate::config::{Config, EtcdConfig};
use crate::domain::app::{AppSpec, parse_instances};
use crate::domain::read_file;
use crate::domain::sanitize::clean;
use crate::ops::{self, Command, Kind, Mode, Ops, OpsError, Principal};
use crate::store::{self, EtcdLink, StoreError};
use clap::Subcommand;
use etcd_client::Client;
use std::path::PathBuf;

#[derive(Debug, Clone, Subcommand)]
pub enum CtlCommand {
    /// Create or update an app from a TOML spec file (errors name file:line:col).
    Apply {
        /// The spec file (TOML).
        #[arg(short = 'f', long = "file")]
        file: PathBuf,
    },
    /// Print an app's spec as TOML, with its revision.
    Get {
        /// The app's name.
        app: String,
        #[command(flatten)]
        output: OutputArg,
    },
    /// Delete an app's spec (the controller stops its containers).
    Delete {
        /// The app's name.
        app: String,
    },
    /// Set an app's instance count.
    Scale {
        /// The app's name.
        app: String,
        /// A whole number from 0 to the configured max_instances.
        #[arg(allow_hyphen_values = true)]
        count: String,
    },
    /// Apps (desired / running / healthy / hosts) and hosts online.
    Status {
        #[command(flatten)]
        output: OutputArg,
    },
    /// Roll an app out to a new image (the controller replaces its instances under the
    /// spec's update policy). Refused while a rollout of the app runs, unless it is paused.
    Rollout {
        /// The app's name.
        app: String,
        /// The new image, as engines name it (wheelhouse never pulls).
        image: String,
    },
    /// Put back an earlier spec: the previous revision, or the one `ctl history` lists as
    /// N. During a rollout (without --revision), turns it around.
    Rollback {
        /// The app's name.
        app: String,
        /// The history revision to put back (see `ctl history`).
        #[arg(long)]
        revision: Option<i64>,
    },
    /// Rolling restart: every instance replaced by a fresh one of the same spec.
    Restart {
        /// The app's name.
        app: String,
    },
    /// Where the app's rollout stands: phase, counts, failures.
    RolloutStatus {
        /// The app's name.
        app: String,
        #[command(flatten)]
        output: OutputArg,
        /// Remove the app's rollout record if it cannot be read (it blocks every rollout
        /// of the app); a readable record is left alone.
        #[arg(long, conflicts_with = "format")]
        reset: bool,
    },
    /// Pause the app's rollout.
    Pause {
        /// The app's name.
        app: String,
    },
    /// Resume the app's paused rollout.
    Resume {
        /// The app's name.
        app: String,
    },
    /// Let the app's canary rollout go on to every instance.
    Promote {
        /// The app's name.
        app: String,
    },
    /// The app's earlier specs, newest first (the revisions rollback takes).
    History {
        /// The app's name.
        app: String,
        #[command(flatten)]
        output: OutputArg,
    },
    /// A container's output (name or id prefix, on any host), or every instance of an app
    /// merged in time order, each line prefixed with its instance; stderr lines marked.
    Logs(logs::LogsArgs),
    /// The app between its callers and its dependencies: instances (host, container,
    /// health, endpoint) and each hop's registered endpoints; the worst hop named first.
    Trace {
        /// The app's name.
        app: String,
        #[command(flatten)]
        output: OutputArg,
    },
    /// The newest audit records: who did what, from where, with what result.
    Audit {
        /// How many records, newest first.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[command(flatten)]
        output: OutputArg,
    },
}

/// Why a verb failed; the exit code says whose fault it was.
#[derive(Debug, thiserror::Error)]
pub enum CtlError {
    /// The request is wrong (bad file, count or name, read-only): nothing was tried.
    #[error("{0}")]
    BadInput(String),
    /// A conflict, an unreachable etcd, an engine failure.
    #[error("{0}")]
    Failed(String),
    /// Bad input already said on stderr: before its audit record, which may wait on etcd.
    #[error("{0}")]
    Said(String),
}

impl CtlError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CtlError::BadInput(_) | CtlError::Said(_) => 2,
            CtlError::Failed(_) => 1,
        }
    }
}

impl From<StoreError> for CtlError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { .. } | StoreError::Invalid { .. } => {
                CtlError::BadInput(e.to_string())
            }
            other => CtlError::Failed(other.to_string()),
        }
    }
}

impl From<ops::OpsError> for CtlError {
    fn from(e: ops::OpsError) -> Self {
        if e.is_bad_input() {
            CtlError::BadInput(e.to_string())
        } else {
            CtlError::Failed(e.to_string())
        }
    }
}

/// Runs one verb; what it prints goes into `out` (also when it then fails).
pub fn run(
    command: &CtlCommand,
    config: &Config,
    readonly: bool,
    out: &mut String,
) -> Result<(), CtlError> {
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| CtlError::Failed(format!("cannot start the async runtime: {e}")))?;
    let mode = if readonly {
        Mode::ReadOnly
    } else {
        Mode::ReadWrite
    };
    let principal = Principal::local(mode);
    let result = runtime.block_on(run_async(command, config, &principal, out));
    // Engine supervisors (status) may be mid-request: do not wait on them.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    result
}

async fn run_async(
    command: &CtlCommand,
    config: &Config,
    principal: &Principal,
    out: &mut String,
) -> Result<(), CtlError> {
    let command = match command {
        CtlCommand::Apply { file } => match read_spec(file, config) {
            Ok(spec) => Command::Apply {
                spec: Box::new(spec),
            },
            Err(why) => {
                let target = file.display().to_string();
                return Err(refused(config, principal, Kind::Apply, &target, &why).await);
            }
        },
        CtlCommand::Scale { app, count } => match parse_instances(count, config.max_instances) {
            Ok(count) => Command::Scale {
                app: app.clone(),
                count,
                seen: None,
            },
            Err(why) => {
                let why = format!("cannot scale {app}: {why}");
                return Err(refused(config, principal, Kind::Scale, app, &why).await);
            }
        },
        CtlCommand::Delete { app } => Command::Delete { app: app.clone() },
        CtlCommand::Rollout { app, image } => Command::Rollout {
            app: app.clone(),
            image: image.clone(),
        },
        CtlCommand::Rollback { app, revision } => Command::Rollback {
            app: app.clone(),
            revision: *revision,
        },
        CtlCommand::Restart { app } => Command::Restart { app: app.clone() },
        CtlCommand::Pause { app } => Command::Pause { app: app.clone() },
        CtlCommand::Resume { app } => Command::Resume { app: app.clone() },
        CtlCommand::Promote { app } => Command::Promote { app: app.clone() },
        CtlCommand::RolloutStatus {
            app, reset: true, ..
        } => Command::ResetRollout { app: app.clone() },
        CtlCommand::RolloutStatus {
            app,
            output,
            reset: false,
        } => return rollout::status(config, app, *output, out).await,
        CtlCommand::Get { app, output } => return get(config, app, *output, out).await,
        CtlCommand::Status { output } => return status(config, *output, out).await,
        CtlCommand::Trace { app, output } => return trace::trace(config, app, *output, out).await,
        CtlCommand::History { app, output } => {
            etcd_config(config)?;
            return rollout::history(app, &ops_for(config), *output, out).await;
        }
        CtlCommand::Audit { limit, output } => return audit(config, *limit, *output, out).await,
        CtlCommand::Logs(args) => return logs::run(config, args).await,
    };
    mutate(config, principal, command, out).await
}

/// The app's stored spec and revision; an app that is not there is the caller's mistake.
async fn stored_app(
    client: &mut Client,
    config: &Config,
    app: &str,
) -> Result<(AppSpec, i64), CtlError> {
    store::get_app(client, &config.prefix, app)
        .await?
        .ok_or_else(|| CtlError::BadInput(format!("no app named {app:?}")))
}

async fn get(
    config: &Config,
    app: &str,
    output: OutputArg,
    out: &mut String,
) -> Result<(), CtlError> {
    let mut client = connect(config).await?;
    let (spec, revision) = stored_app(&mut client, config, app).await?;
    let placement = store::list_placement(&mut client, &config.prefix).await?;
    let unplaced = placement.get(app);
    if output.json() {
        let value = serde_json::json!({
            "name": app,
            "revision": revision,
            "spec": spec,
            "unplaced": unplaced,
        });
        out.push_str(&json(&value));
    } else {
        out.push_str(&format!("# {app}, revision {revision}\n"));
        if let Some(u) = unplaced {
            out.push_str(&format!("# {}\n", clean(&u.summary())));
        }
        out.push_str(&to_toml(&spec));
    }
    Ok(())
}

/// The newest `limit` records. Records older than a field show "-" there: their result
/// is the prose of then.
async fn audit(
    config: &Config,
    limit: usize,
    output: OutputArg,
    out: &mut String,
) -> Result<(), CtlError> {
    let mut client = connect(config).await?;
    let entries = store::list_audit(&mut client, &config.prefix, limit).await?;
    if output.json() {
        out.push_str(&json(&entries));
        return Ok(());
    }
    let rows = entries
        .into_iter()
        .map(|e| {
            let outcome = e.outcome.map_or("-", |o| o.as_str()).to_owned();
            let reason = e.reason.map_or("-", |r| r.as_str()).to_owned();
            let revision = e.revision.map_or("-".to_owned(), |r| r.to_string());
            vec![
                e.time, e.who, e.from, e.command, e.target, e.detail, outcome, reason, revision,
                e.result,
            ]
        })
        .collect();
    let header = [
        "TIME", "WHO", "FROM", "ACTION", "TARGET", "DETAIL", "OUTCOME", "REASON", "REVISION",
        "RESULT",
    ];
    out.push_str(&table(&header, rows));
    Ok(())
}

/// The spec in `file`, checked as `apply` checks it; the error names file:line:col.
fn read_spec(file: &std::path::Path, config: &Config) -> Result<AppSpec, String> {
    let source = read_file(file).map_err(|e| e.to_string())?;
    AppSpec::from_toml_max(file, &source, config.max_instances).map_err(|e| e.to_string())
}

/// Says at once why a change was refused before it became a command (a bad file or
/// count), then audits it (best effort, and bounded: etcd may not answer).
async fn refused(
    config: &Config,
    principal: &Principal,
    kind: Kind,
    target: &str,
    reason: &str,
) -> CtlError {
    say_error(reason);
    ops::record_refusal(&ops_for(config), principal, kind, target, reason).await;
    CtlError::Said(reason.to_owned())
}

fn ops_for(config: &Config) -> Ops {
    Ops {
        etcd: config.etcd.clone().map(EtcdLink::new),
        prefix: config.prefix.clone(),
        max_instances: config.max_instances,
        hosts: config.hosts.clone(),
    }
}

/// A change, through the one gate: `ops::execute` authorizes, writes and audits it.
async fn mutate(
    config: &Config,
    principal: &Principal,
    command: Command,
    out: &mut String,
) -> Result<(), CtlError> {
    match ops::execute(&ops_for(config), principal, command).await {
        Ok(outcome) => {
            out.push_str(&format!("{outcome}\n"));
            Ok(())
        }
        Err(OpsError::NoEtcd) => Err(no_etcd(config)),
        Err(e) => Err(e.into()),
    }
}

async fn status(config: &Config, output: OutputArg, out: &mut String) -> Result<(), CtlError> {
    // Nothing to ask: say so before printing an empty picture.
    if config.etcd.is_none() && config.hosts.is_empty() {
        etcd_config(config)?;
    }
    // Without etcd the engines still say what runs; the error is reported after the table.
    let (cluster, etcd_error) = status::gather(config).await;
    let apps = app_statuses(&cluster);
    let etcd_error = etcd_error.map(|e| format!("{e} (desired counts unknown)"));
    if output.json() {
        out.push_str(&json(&status::json(&apps, &cluster, etcd_error.as_deref())));
    } else {
        out.push_str(&status::text(&apps, &cluster));
    }
    match etcd_error {
        Some(e) => Err(CtlError::Failed(e)),
        None => Ok(()),
    }
}

fn etcd_config(config: &Config) -> Result<&EtcdConfig, CtlError> {
    config.etcd.as_ref().ok_or_else(|| no_etcd(config))
}

fn no_etcd(config: &Config) -> CtlError {
    let file = config
        .path
        .as_ref()
        .map_or("the config file".to_owned(), |p| p.display().to_string());
    CtlError::BadInput(format!(
        "etcd is not configured: add [etcd] endpoints to {file} (or pass --config)"
    ))
}

async fn connect(config: &Config) -> Result<Client, CtlError> {
    Ok(store::connect(etcd_config(config)?).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_tell_bad_input_from_failure() {
        assert_eq!(CtlError::BadInput("x".into()).exit_code(), 2);
        assert_eq!(CtlError::Failed("x".into()).exit_code(), 1);
        let unknown = CtlError::from(StoreError::NotFound {
            kind: "app",
            name: "nope".into(),
        });
        assert_eq!(unknown.exit_code(), 2);
        let conflict = CtlError::from(StoreError::Conflict {
            key: "/wheelhouse/apps/web".into(),
            expected: 3,
            found: 4,
        });
        assert_eq!(conflict.exit_code(), 1);
    }
}
