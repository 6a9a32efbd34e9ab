//! Whose logs: a container named (or id-prefixed) on whichever host has it, or every
//! instance of an app (`wheelhouse.app`) over all hosts, instances joining and leaving as
//! the engines list them. Each container's stream runs in its own task; all feed one
//! channel, which a reader merges (`logs::Merger`).

use super::logs::{LogEvent, LogOptions, stream_container};
use crate::domain::HostSpec;
use crate::domain::logs::LogSource;
use crate::domain::sanitize::clean;
use crate::logs::Assembler;
use crate::plan::labels;
use bollard::Docker;
use bollard::models::{ContainerSummary, ContainerSummaryStateEnum};
use bollard::query_parameters::ListContainersOptions;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::Sender;
use tokio::task::JoinSet;

/// How often an app's instances are listed again while following.
pub const INSTANCE_POLL: Duration = Duration::from_secs(2);
const LIST_TIMEOUT: Duration = Duration::from_secs(8);

/// A connected engine.
#[derive(Clone)]
pub struct Engine {
    pub host: Arc<str>,
    pub docker: Docker,
}

/// One container whose logs are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub id: String,
    pub source: LogSource,
    pub running: bool,
}

/// What a name given by the reader stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Container(Found),
    App(String),
}

/// Why a name stands for nothing, or for too much.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FindError {
    #[error("no container or app named {name:?}{}", unasked(.unreachable))]
    Unknown {
        name: String,
        unreachable: Vec<String>,
    },
    #[error("{name:?} names {} containers: {}; give a longer id", .candidates.len(), .candidates.join(", "))]
    Ambiguous {
        name: String,
        candidates: Vec<String>,
    },
}

fn unasked(hosts: &[String]) -> String {
    if hosts.is_empty() {
        String::new()
    } else {
        format!(" (not asked, unreachable: {})", hosts.join(", "))
    }
}

/// Connects every host's engine; the ones that fail, with why.
pub async fn connect_all(hosts: &[HostSpec]) -> (Vec<Engine>, Vec<(String, String)>) {
    let tries = hosts.iter().map(|spec| async move {
        let name = spec.name.clone();
        match super::connect(spec).await {
            Ok(docker) => Ok(Engine {
                host: Arc::from(clean(&name).as_ref()),
                docker,
            }),
            Err(e) => Err((name, e.to_string())),
        }
    });
    let mut engines = Vec::new();
    let mut failed = Vec::new();
    for result in futures::future::join_all(tries).await {
        match result {
            Ok(engine) => engines.push(engine),
            Err(why) => failed.push(why),
        }
    }
    (engines, failed)
}

/// The container or app `name` stands for: a container's exact name first, then an app
/// (`wheelhouse.app` label), then a container id prefix.
pub async fn find(engines: &[Engine], name: &str) -> Result<Target, FindError> {
    let mut unreachable = Vec::new();
    let mut everything = Vec::new();
    for (engine, listed) in list_all(engines, None, true).await {
        match listed {
            Ok(list) => everything.extend(list.into_iter().map(|c| (engine.host.clone(), c))),
            Err(_) => unreachable.push(engine.host.to_string()),
        }
    }
    let by_name: Vec<_> = everything
        .iter()
        .filter(|(_, c)| container_name(c) == name)
        .collect();
    let by_app = everything
        .iter()
        .any(|(_, c)| label(c, labels::APP) == Some(name));
    let by_id: Vec<_> = everything
        .iter()
        .filter(|(_, c)| c.id.as_deref().is_some_and(|id| id.starts_with(name)))
        .collect();
    let chosen = match (by_name.as_slice(), by_app) {
        ([one], _) => *one,
        ([], true) => return Ok(Target::App(name.to_owned())),
        ([], false) if by_id.len() == 1 && !name.is_empty() => by_id[0],
        _ => {
            let candidates: Vec<_> = if by_name.is_empty() { by_id } else { by_name };
            if candidates.is_empty() || name.is_empty() {
                return Err(FindError::Unknown {
                    name: clean(name).into_owned(),
                    unreachable,
                });
            }
            return Err(FindError::Ambiguous {
                name: clean(name).into_owned(),
                candidates: candidates.iter().map(|(h, c)| describe(h, c)).collect(),
            });
        }
    };
    let (host, summary) = chosen;
    found(host, summary)
        .map(Target::Container)
        .ok_or_else(|| FindError::Unknown {
            name: clean(name).into_owned(),
            unreachable,
        })
}

/// Streams `target` into `tx` on `engines`: a container's lines until it ends, or every
/// instance of an app (`follow_app`).
pub async fn stream_target(
    engines: Vec<Engine>,
    target: Target,
    options: LogOptions,
    tx: Sender<LogEvent>,
) {
    match target {
        Target::Container(found) => {
            let Some(engine) = engines.iter().find(|e| e.host == found.source.host) else {
                return;
            };
            let assembler = Assembler::new(found.source, options.max_line);
            stream_container(&engine.docker, &found.id, assembler, options, &tx).await;
        }
        Target::App(app) => follow_app(engines, app, options, tx).await,
    }
}

/// Streams every instance of `app` into `tx`: the ones listed now (with `options`' since
/// and tail), and, when following, each one that appears later (from its first line) and
/// each one that runs again (from where it stopped). Ends when every stream has ended
/// (not following) or the receiver is dropped.
pub async fn follow_app(
    engines: Vec<Engine>,
    app: String,
    options: LogOptions,
    tx: Sender<LogEvent>,
) {
    let mut tasks: JoinSet<(String, Assembler)> = JoinSet::new();
    let mut active: HashSet<String> = HashSet::new();
    let mut stopped: HashMap<String, Assembler> = HashMap::new();
    let mut first = true;
    loop {
        for (engine, listed) in list_all(&engines, Some(&app), !options.follow).await {
            let Ok(list) = listed else { continue };
            for summary in list {
                let Some(found) = found(&engine.host, &summary) else {
                    continue;
                };
                if active.contains(&found.id) || (options.follow && !found.running) {
                    continue;
                }
                let resumed = stopped.remove(&found.id);
                let assembler = resumed
                    .unwrap_or_else(|| Assembler::new(found.source.clone(), options.max_line));
                // Instances that appear while following are read from their first line.
                let options = if first {
                    options
                } else {
                    LogOptions {
                        since: None,
                        tail: None,
                        ..options
                    }
                };
                if options.follow
                    && tx
                        .send(LogEvent::Joined(found.source.clone()))
                        .await
                        .is_err()
                {
                    return;
                }
                active.insert(found.id.clone());
                let (docker, tx) = (engine.docker.clone(), tx.clone());
                tasks.spawn(async move {
                    let assembler =
                        stream_container(&docker, &found.id, assembler, options, &tx).await;
                    (found.id, assembler)
                });
            }
        }
        first = false;
        let poll = tokio::time::sleep(INSTANCE_POLL);
        tokio::pin!(poll);
        loop {
            if tasks.is_empty() && !options.follow {
                return;
            }
            tokio::select! {
                ended = tasks.join_next(), if !tasks.is_empty() => {
                    let Some(Ok((id, assembler))) = ended else { continue };
                    active.remove(&id);
                    if options.follow && tx.send(LogEvent::Left(assembler.source().clone())).await.is_err() {
                        return;
                    }
                    stopped.insert(id, assembler);
                }
                () = &mut poll, if options.follow => break,
                () = tx.closed() => return,
            }
        }
    }
}

/// Each engine's containers (of `app`, if given; stopped ones too if `all`).
async fn list_all<'a>(
    engines: &'a [Engine],
    app: Option<&str>,
    all: bool,
) -> Vec<(&'a Engine, Result<Vec<ContainerSummary>, String>)> {
    let filters = app
        .map(|app| HashMap::from([("label".to_owned(), vec![format!("{}={app}", labels::APP)])]));
    let asks = engines.iter().map(|engine| {
        let options = ListContainersOptions {
            all,
            filters: filters.clone(),
            ..Default::default()
        };
        async move {
            let answer =
                tokio::time::timeout(LIST_TIMEOUT, engine.docker.list_containers(Some(options)))
                    .await;
            let listed = match answer {
                Ok(Ok(list)) => Ok(list),
                Ok(Err(e)) => Err(super::describe(&e)),
                Err(_) => Err("timeout".to_owned()),
            };
            (engine, listed)
        }
    });
    futures::future::join_all(asks).await
}

/// The container as a log source: tagged `app.instance` when it is an app's instance.
fn found(host: &Arc<str>, summary: &ContainerSummary) -> Option<Found> {
    let id = summary.id.clone()?;
    let name = container_name(summary);
    let tag = match (
        label(summary, labels::APP),
        label(summary, labels::INSTANCE),
    ) {
        (Some(app), Some(instance)) => format!("{app}.{instance}"),
        _ => name.clone(),
    };
    let running = summary.state == Some(ContainerSummaryStateEnum::RUNNING);
    Some(Found {
        id,
        source: LogSource {
            tag: Arc::from(clean(&tag).as_ref()),
            container: Arc::from(clean(&name).as_ref()),
            host: host.clone(),
        },
        running,
    })
}

/// The container's own name, or its short id.
fn container_name(summary: &ContainerSummary) -> String {
    let id = summary.id.as_deref().unwrap_or_default();
    super::containers::container_name(summary.names.as_deref().unwrap_or_default(), id)
}

fn label<'a>(summary: &'a ContainerSummary, key: &str) -> Option<&'a str> {
    summary.labels.as_ref()?.get(key).map(String::as_str)
}

/// "web-1 (0123456789ab) on lab-1", for a list of candidates.
fn describe(host: &str, summary: &ContainerSummary) -> String {
    let id: String = summary
        .id
        .as_deref()
        .unwrap_or_default()
        .chars()
        .take(12)
        .collect();
    let name = container_name(summary);
    clean(&format!("{name} ({id}) on {host}")).into_owned()
}
