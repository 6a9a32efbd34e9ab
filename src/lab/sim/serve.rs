//! The simulator's process (`lab sim serve`, started by `lab sim`): a unix socket per
//! engine, one loopback HTTP port for every host's agent API and for `lab sim act`, the
//! fleet's clock and timeline, and its records in etcd. On SIGTERM it takes its records
//! out of etcd and its sockets off the disk.

use super::docker_api::{self, json, refused};
use super::fleet::{Engine, Fleet, Refusal};
use super::scenario::{Action, Scenario};
use super::streams::Body;
use super::{Ready, socket_path};
use crate::agent::now_ms;
use crate::config::EtcdConfig;
use crate::domain::{AgentRecord, HostSpec};
use crate::store;
use futures::StreamExt;
use http_body_util::{BodyExt, Limited};
use hyper::{Method, Request, Response};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, UnixListener};
use tokio::task::JoinSet;

/// What `lab sim serve` is told.
pub struct Options {
    pub dir: PathBuf,
    pub engines: usize,
    pub containers: usize,
    pub seed: u64,
    pub scenario: Option<PathBuf>,
    pub etcd: Option<String>,
    pub prefix: String,
    pub agents: bool,
}

/// How long a simulated agent's lease lives without keep-alives (as real agents').
const AGENT_TTL: Duration = Duration::from_secs(10);

pub async fn run(opts: Options) -> color_eyre::Result<()> {
    let scenario = match &opts.scenario {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| color_eyre::eyre::eyre!("{}: {e}", path.display()))?;
            Scenario::parse(path, &text, opts.engines)?
        }
        None => Scenario::default(),
    };
    let seed = scenario.seed.unwrap_or(opts.seed);
    let fleet = Arc::new(Fleet::new(
        opts.engines,
        opts.containers,
        seed,
        &scenario.loads,
        now_ms(),
    ));
    let mut tasks = JoinSet::new();
    for engine in &fleet.engines {
        let path = socket_path(&opts.dir, &engine.name);
        tasks.spawn(serve_engine(engine.clone(), path));
    }
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    tasks.spawn(serve_http(listener, fleet.clone()));
    tasks.spawn(clock(fleet.clone(), scenario.timeline));
    let registered = match &opts.etcd {
        Some(endpoint) => Some(register(&opts, &fleet, endpoint, port, &mut tasks).await?),
        None => None,
    };
    let ready = Ready {
        port,
        engines: opts.engines,
        containers: opts.containers,
        seed,
    };
    super::write_ready(&opts.dir, &ready)?;
    tracing::info!(engines = opts.engines, port, "simulated fleet ready");
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    tasks.abort_all();
    if let Some(mut client) = registered {
        let agents = store::agents_dir(&opts.prefix);
        for engine in &fleet.engines {
            let _ = client
                .delete(format!("{agents}{}", engine.name), None)
                .await;
            let _ = store::delete_host(&mut client, &opts.prefix, &engine.name).await;
        }
    }
    for engine in &fleet.engines {
        let _ = std::fs::remove_file(socket_path(&opts.dir, &engine.name));
    }
    Ok(())
}

/// Host records for every engine and, with agents, each host's agent under its own lease
/// (withdrawn while its engine has vanished, kept by a task in `tasks`).
async fn register(
    opts: &Options,
    fleet: &Arc<Fleet>,
    endpoint: &str,
    port: u16,
    tasks: &mut JoinSet<()>,
) -> color_eyre::Result<etcd_client::Client> {
    let config = EtcdConfig {
        endpoints: vec![endpoint.to_owned()],
        ..EtcdConfig::default()
    };
    let client = store::connect(&config).await?;
    let prefix = opts.prefix.as_str();
    let puts = fleet.engines.iter().map(|e| {
        let mut client = client.clone();
        let spec = host_spec(&opts.dir, e.index);
        async move { store::put_host(&mut client, prefix, &spec).await.map(drop) }
    });
    let results: Vec<_> = futures::stream::iter(puts)
        .buffer_unordered(32)
        .collect()
        .await;
    results.into_iter().collect::<Result<Vec<()>, _>>()?;
    if !opts.agents {
        return Ok(client);
    }
    let records = fleet.engines.iter().map(|e| {
        let record = agent_record(fleet, e, port);
        let client = client.clone();
        async move {
            let lease = store::register_agent(&client, prefix, &e.name, &record, AGENT_TTL).await;
            (e.clone(), record, lease)
        }
    });
    let done: Vec<_> = futures::stream::iter(records)
        .buffer_unordered(32)
        .collect()
        .await;
    for (engine, record, lease) in done {
        let agent = Agent {
            client: client.clone(),
            prefix: opts.prefix.clone(),
            engine,
            record,
        };
        tasks.spawn(agent.keep(lease?));
    }
    Ok(client)
}

/// One simulated host's agent registration.
struct Agent {
    client: etcd_client::Client,
    prefix: String,
    engine: Arc<Engine>,
    record: AgentRecord,
}

impl Agent {
    /// Holds the lease while the engine is up and takes the record out while it has
    /// vanished; a lost lease is registered again, as a real agent does.
    async fn keep(self, first: store::AgentLease) {
        let mut up = self.engine.up.subscribe();
        let mut lease = Some(first);
        loop {
            match lease.take() {
                Some(mut held) => {
                    let vanished = tokio::select! {
                        gone = up.wait_for(|up| !*up) => gone.is_ok(),
                        why = held.lost() => {
                            tracing::warn!(host = self.engine.name, "agent lease lost: {why}");
                            false
                        }
                    };
                    if vanished {
                        held.revoke().await;
                    }
                }
                None => {
                    if up.wait_for(|up| *up).await.is_err() {
                        return;
                    }
                    let name = &self.engine.name;
                    match store::register_agent(
                        &self.client,
                        &self.prefix,
                        name,
                        &self.record,
                        AGENT_TTL,
                    )
                    .await
                    {
                        Ok(held) => lease = Some(held),
                        Err(e) => {
                            tracing::warn!(host = name, "cannot register the agent: {e}");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                    }
                }
            }
        }
    }
}

fn agent_record(fleet: &Fleet, engine: &Engine, port: u16) -> AgentRecord {
    AgentRecord {
        address: format!("http://127.0.0.1:{port}/agents/{}", engine.name),
        version: super::fleet::VERSION.to_owned(),
        started_at_ms: fleet.started_ms,
        cgroup: "simulated".to_owned(),
    }
}

/// Host `index` as etcd and the config list it: its socket, zone and a disk label.
fn host_spec(dir: &Path, index: usize) -> HostSpec {
    let host = super::sim_host(dir, index);
    let disk = crate::lab::state::disk_label(index);
    HostSpec {
        name: host.name,
        engine: host.engine,
        address: Some(host.address),
        zone: Some(host.zone),
        labels: BTreeMap::from([("disk".to_owned(), disk.to_owned())]),
        tls: None,
    }
}

/// One tick a second for every engine, and the scenario's actions when they are due.
async fn clock(fleet: Arc<Fleet>, timeline: Vec<(Duration, super::scenario::Checked)>) {
    let start = tokio::time::Instant::now();
    let mut due = timeline.into_iter().peekable();
    let mut tick = tokio::time::interval_at(start + Duration::from_secs(1), Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        let second = start.elapsed().as_secs();
        let now = now_ms();
        for engine in &fleet.engines {
            engine.tick(second, now);
        }
        while let Some((_, action)) = due.next_if(|(at, _)| *at <= start.elapsed()) {
            tracing::info!(?action, "scenario action");
            fleet.act(&action, now);
        }
    }
}

/// The engine's socket while it is up; gone, with every open connection, while it has
/// vanished.
async fn serve_engine(engine: Arc<Engine>, path: PathBuf) {
    let mut up = engine.up.subscribe();
    loop {
        if !*up.borrow_and_update() {
            if up.changed().await.is_err() {
                return;
            }
            continue;
        }
        let _ = std::fs::remove_file(&path);
        let listener = match UnixListener::bind(&path) {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(path = %path.display(), "cannot bind: {e}");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let mut connections = JoinSet::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => if let Ok((stream, _)) = accepted {
                    let engine = engine.clone();
                    connections.spawn(connection(stream, move |req| {
                        let engine = engine.clone();
                        async move { docker_api::answer(&engine, req).await }
                    }));
                },
                changed = up.changed() => if changed.is_err() || !*up.borrow() {
                    break;
                },
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
        drop(listener);
        connections.abort_all();
        let _ = std::fs::remove_file(&path);
    }
}

async fn connection<S, F, Fut>(stream: S, answer: F)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    F: Fn(Request<hyper::body::Incoming>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    let service = hyper::service::service_fn(move |req| {
        let answering = answer(req);
        async move { Ok::<_, std::convert::Infallible>(answering.await) }
    });
    let io = hyper_util::rt::TokioIo::new(stream);
    if let Err(e) = hyper::server::conn::http1::Builder::new()
        .serve_connection(io, service)
        .await
    {
        tracing::debug!("connection ended: {e}");
    }
}

async fn serve_http(listener: TcpListener, fleet: Arc<Fleet>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let fleet = fleet.clone();
        tokio::spawn(connection(stream, move |req| {
            let fleet = fleet.clone();
            async move { http_answer(&fleet, req).await }
        }));
    }
}

/// `/agents/<host>/...` is that host's agent API; `POST /sim/act` changes hosts now;
/// `GET /sim/status` counts.
async fn http_answer(fleet: &Fleet, req: Request<hyper::body::Incoming>) -> Response<Body> {
    let path = req.uri().path().to_owned();
    let now = now_ms();
    if let Some(rest) = path.strip_prefix("/agents/") {
        let (host, api_path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let Some(engine) = fleet.engine(host).filter(|e| *e.up.borrow()) else {
            let message = format!("no simulated agent answers for {host:?}");
            return refused(&Refusal {
                status: 503,
                message,
            });
        };
        let summary = engine.summary(fleet.started_ms, now);
        let series = super::series::Lazy {
            engine,
            now_ms: now,
        };
        let reply = crate::agent::answer_from_summary(
            req.method(),
            api_path,
            req.uri().query(),
            summary,
            &series,
            now,
        );
        return docker_api::reply(reply.status.as_u16(), reply.content_type, reply.body);
    }
    match (req.method(), path.as_str()) {
        (&Method::GET, "/sim/status") => {
            let (mut all, mut running, mut up) = (0, 0, 0);
            // App instances count where their engine answers: what an operator can reach.
            let mut apps = BTreeMap::new();
            for e in &fleet.engines {
                let (a, r) = e.counts();
                all += a;
                running += r;
                if *e.up.borrow() {
                    up += 1;
                    e.count_apps(&mut apps);
                }
            }
            let status = serde_json::json!({
                "simulated": true, "engines": fleet.engines.len(), "engines_up": up,
                "containers": all, "running": running, "seed": fleet.seed, "apps": apps,
            });
            json(200, &status)
        }
        (&Method::POST, "/sim/act") => {
            let body = match Limited::new(req.into_body(), 64 << 10).collect().await {
                Ok(b) => b.to_bytes(),
                Err(e) => {
                    return refused(&Refusal {
                        status: 400,
                        message: e.to_string(),
                    });
                }
            };
            let checked = serde_json::from_slice::<Action>(&body)
                .map_err(|e| e.to_string())
                .and_then(|a| a.check(fleet.engines.len()));
            match checked {
                Ok(action) => {
                    fleet.act(&action, now);
                    json(200, &serde_json::json!({ "hosts": action.hosts.len() }))
                }
                Err(message) => refused(&Refusal {
                    status: 400,
                    message,
                }),
            }
        }
        _ => refused(&Refusal {
            status: 404,
            message: format!(
                "no such path {path:?}: try /agents/<host>/v1/summary, /sim/status or POST /sim/act"
            ),
        }),
    }
}
