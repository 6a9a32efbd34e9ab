//! `wheelhouse ctl <verb>`: the cockpit's actions without a screen, for scripts.
//!
//! Mutating verbs build the same `Action` a key would, pass the same read-only gate
//! (`update::authorize`) and run through the same `ops::execute`. Exit codes: 0 ok,
//! 1 conflict or runtime failure, 2 bad input (nothing was written).

mod rollout;
mod spec_toml;
mod status;

pub use spec_toml::to_toml;

use crate::action::Action;
use crate::config::{Config, EtcdConfig, read_file};
use crate::model::app::{AppSpec, parse_instances};
use crate::model::app_statuses;
use crate::ops::{self, Ops};
use crate::plan::rollout::Command;
use crate::store::{self, StoreError};
use crate::update::authorize;
use clap::Subcommand;
use etcd_client::Client;
use std::path::PathBuf;

#[derive(Debug, Clone, Subcommand)]
pub enum CtlCommand {
    /// Create or update an app from a TOML spec file (errors name file:line:col).
    Apply {
        #[arg(short = 'f', long = "file")]
        file: PathBuf,
    },
    /// Print an app's spec as TOML, with its revision.
    Get { app: String },
    /// Delete an app's spec (the controller stops its containers).
    Delete { app: String },
    /// Set an app's instance count.
    Scale {
        app: String,
        /// A whole number from 0 to the configured max_instances.
        #[arg(allow_hyphen_values = true)]
        count: String,
    },
    /// Apps (desired / running / healthy / hosts) and hosts online.
    Status,
    /// Roll an app out to a new image (the controller replaces its instances under the
    /// spec's update policy). Refused while a rollout of the app runs, unless it is paused.
    Rollout { app: String, image: String },
    /// Put back an earlier spec: the previous revision, or the one `ctl history` lists as
    /// N. During a rollout (without --revision), turns it around.
    Rollback {
        app: String,
        #[arg(long)]
        revision: Option<i64>,
    },
    /// Rolling restart: every instance replaced by a fresh one of the same spec.
    Restart { app: String },
    /// Where the app's rollout stands: phase, counts, failures.
    RolloutStatus {
        app: String,
        /// Remove the app's rollout record if it cannot be read (it blocks every rollout
        /// of the app); a readable record is left alone.
        #[arg(long)]
        reset: bool,
    },
    /// Pause the app's rollout.
    Pause { app: String },
    /// Resume the app's paused rollout.
    Resume { app: String },
    /// Let the app's canary rollout go on to every instance.
    Promote { app: String },
    /// The app's earlier specs, newest first (the revisions rollback takes).
    History { app: String },
    /// The newest audit records: who did what, from where, with what result.
    Audit {
        #[arg(long, default_value_t = 20)]
        limit: usize,
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
}

impl CtlError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CtlError::BadInput(_) => 2,
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

/// Runs one verb and prints its result to stdout.
pub fn run(command: &CtlCommand, config: &Config, readonly: bool) -> Result<(), CtlError> {
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| CtlError::Failed(format!("cannot start the async runtime: {e}")))?;
    let result = runtime.block_on(run_async(command, config, readonly));
    // Engine supervisors (status) may be mid-request: do not wait on them.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    result
}

async fn run_async(command: &CtlCommand, config: &Config, readonly: bool) -> Result<(), CtlError> {
    match command {
        CtlCommand::Apply { file } => {
            let source = read_file(file).map_err(|e| CtlError::BadInput(e.to_string()))?;
            let spec = AppSpec::from_toml_max(file, &source, config.max_instances)
                .map_err(|e| CtlError::BadInput(e.to_string()))?;
            mutate(
                config,
                readonly,
                Action::Apply {
                    spec: Box::new(spec),
                },
            )
            .await
        }
        CtlCommand::Scale { app, count } => {
            let count = parse_instances(count, config.max_instances)
                .map_err(|why| CtlError::BadInput(format!("cannot scale {app}: {why}")))?;
            let action = Action::Scale {
                app: app.clone(),
                count,
                seen: None,
            };
            mutate(config, readonly, action).await
        }
        CtlCommand::Delete { app } => {
            mutate(config, readonly, Action::Delete { app: app.clone() }).await
        }
        CtlCommand::Get { app } => {
            let mut client = connect(config).await?;
            let (spec, revision) = store::get_app(&mut client, &config.prefix, app)
                .await?
                .ok_or_else(|| CtlError::BadInput(format!("no app named {app:?}")))?;
            println!("# {app}, revision {revision}");
            if let Some(u) = store::list_placement(&mut client, &config.prefix)
                .await?
                .get(app)
            {
                println!("# {}", u.summary());
            }
            print!("{}", to_toml(&spec));
            Ok(())
        }
        CtlCommand::Status => status(config).await,
        CtlCommand::Rollout { app, image } => {
            let action = Action::Rollout {
                app: app.clone(),
                image: image.clone(),
            };
            mutate(config, readonly, action).await
        }
        CtlCommand::Rollback { app, revision } => {
            let action = Action::Rollback {
                app: app.clone(),
                revision: *revision,
            };
            mutate(config, readonly, action).await
        }
        CtlCommand::Restart { app } => {
            mutate(config, readonly, Action::Restart { app: app.clone() }).await
        }
        CtlCommand::Pause { app } => send(config, readonly, app, Command::Pause).await,
        CtlCommand::Resume { app } => send(config, readonly, app, Command::Resume).await,
        CtlCommand::Promote { app } => send(config, readonly, app, Command::Promote).await,
        CtlCommand::RolloutStatus { app, reset: false } => rollout::status(config, app).await,
        CtlCommand::RolloutStatus { app, reset: true } => {
            mutate(config, readonly, Action::ResetRollout { app: app.clone() }).await
        }
        CtlCommand::History { app } => rollout::history(app, &ops_for(config)?).await,
        CtlCommand::Audit { limit } => {
            let mut client = connect(config).await?;
            let entries = store::list_audit(&mut client, &config.prefix, *limit).await?;
            let rows = entries
                .into_iter()
                .map(|e| {
                    vec![
                        e.time, e.who, e.from, e.action, e.target, e.detail, e.result,
                    ]
                })
                .collect();
            let header = [
                "TIME", "WHO", "FROM", "ACTION", "TARGET", "DETAIL", "RESULT",
            ];
            print!("{}", table(&header, rows));
            Ok(())
        }
    }
}

async fn send(
    config: &Config,
    readonly: bool,
    app: &str,
    command: Command,
) -> Result<(), CtlError> {
    let action = Action::RolloutCommand {
        app: app.to_owned(),
        command,
    };
    mutate(config, readonly, action).await
}

fn ops_for(config: &Config) -> Result<Ops, CtlError> {
    Ok(Ops {
        etcd: etcd_config(config)?.clone(),
        prefix: config.prefix.clone(),
        max_instances: config.max_instances,
        hosts: config.hosts.clone(),
    })
}

/// The cockpit's path for a change: the read-only gate, then `ops::execute`.
async fn mutate(config: &Config, readonly: bool, action: Action) -> Result<(), CtlError> {
    authorize(readonly, &action).map_err(CtlError::BadInput)?;
    let ops = ops_for(config)?;
    let outcome = ops::execute(&ops, &action).await?;
    println!("{outcome}");
    Ok(())
}

async fn status(config: &Config) -> Result<(), CtlError> {
    // Without etcd the engines still say what runs; the error is reported after the table.
    let (mut client, etcd_error) = match connect(config).await {
        Ok(client) => (Some(client), None),
        Err(e) => (None, Some(e)),
    };
    let model = status::gather(config, client.as_mut()).await?;
    let rows = app_statuses(&model)
        .into_iter()
        .map(|s| {
            let hosts = if s.hosts.is_empty() {
                "-".to_owned()
            } else {
                s.hosts.join(",")
            };
            vec![
                s.name,
                s.image,
                s.desired.map_or("-".to_owned(), |d| d.to_string()),
                s.running.to_string(),
                s.healthy.to_string(),
                hosts,
            ]
        })
        .collect::<Vec<_>>();
    if rows.is_empty() {
        println!("no apps");
    } else {
        let header = ["APP", "IMAGE", "DESIRED", "RUNNING", "HEALTHY", "HOSTS"];
        print!("{}", table(&header, rows));
    }
    for line in status::host_lines(&model) {
        println!("{line}");
    }
    for line in status::problem_lines(&model) {
        println!("{line}");
    }
    match etcd_error {
        Some(e) => Err(CtlError::Failed(format!("{e} (desired counts unknown)"))),
        None => Ok(()),
    }
}

fn etcd_config(config: &Config) -> Result<&EtcdConfig, CtlError> {
    config.etcd.as_ref().ok_or_else(|| {
        let file = config
            .path
            .as_ref()
            .map_or("the config file".to_owned(), |p| p.display().to_string());
        CtlError::BadInput(format!(
            "etcd is not configured: add [etcd] endpoints to {file} (or pass --config)"
        ))
    })
}

async fn connect(config: &Config) -> Result<Client, CtlError> {
    Ok(store::connect(etcd_config(config)?).await?)
}

/// Left-aligned columns, two spaces apart, the last one unpadded.
fn table(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let header = header.iter().map(|h| (*h).to_owned()).collect();
    let mut out = String::new();
    for row in std::iter::once(header).chain(rows) {
        let last = row.len().saturating_sub(1);
        for (i, cell) in row.iter().enumerate() {
            if i == last {
                out.push_str(cell);
            } else {
                let pad = widths[i].saturating_sub(cell.chars().count()) + 2;
                out.push_str(cell);
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_columns() {
        let rows = vec![
            vec!["web".to_owned(), "5".to_owned(), "lab-1".to_owned()],
            vec!["checkout".to_owned(), "12".to_owned(), "-".to_owned()],
        ];
        assert_eq!(
            table(&["APP", "N", "HOSTS"], rows),
            "APP       N   HOSTS\nweb       5   lab-1\ncheckout  12  -\n"
        );
    }

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
