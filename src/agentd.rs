//! The `wheelhouse agent` process: finds its host in the config, connects to the host's
//! engine, starts the agent (sampler and API) on the host's address, registers it at
//! `/agents/<host>` under its own lease (again whenever the lease is lost), and on
//! SIGTERM or Ctrl-C revokes the lease and stops. Every few seconds it reads the apps'
//! dependencies and endpoints from etcd for the agent's probes. It sits above `agent`,
//! `docker` and `store`, which do not reach each other.

use crate::agent::{self, DEFAULT_PORT, ServerFiles};
use crate::config::{Config, EtcdConfig};
use crate::domain::app::Probe;
use crate::domain::probe::{CatalogApp, ProbeAddress, ProbeCatalog};
use crate::store::{self, AgentRecord, StoreError};
use color_eyre::eyre::{WrapErr, eyre};
use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::watch;

/// The agent's lease: its record vanishes this long after it died.
const LEASE_TTL: Duration = Duration::from_secs(10);
/// After a failed registration, the next try comes this much later.
const RETRY: Duration = Duration::from_secs(2);
/// How often the probes' catalog (apps, dependencies, endpoints) is read again: one
/// read of the apps and one per depended-on app each time.
const CATALOG_EVERY: Duration = Duration::from_secs(5);

/// `wheelhouse agent`'s flags.
#[derive(Debug, Clone, clap::Args)]
pub struct AgentArgs {
    /// This host's name, as the config's [[hosts]] entry names it.
    #[arg(long)]
    pub host: String,
    /// Where the API listens (default: the host's address from the config, port 9101).
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<SocketAddr>,
    /// Serve with mutual TLS: the CA that signs clients' certificates (as dockerd's
    /// --tlscacert). Needs --tlscert and --tlskey.
    #[arg(long, requires_all = ["tlscert", "tlskey"])]
    pub tlscacert: Option<PathBuf>,
    /// The server certificate (as dockerd's --tlscert).
    #[arg(long, requires = "tlscacert")]
    pub tlscert: Option<PathBuf>,
    /// The server key (as dockerd's --tlskey).
    #[arg(long, requires = "tlscacert")]
    pub tlskey: Option<PathBuf>,
    /// Log file (default: agent-<host>.log in the XDG state dir). Filter with
    /// WHEELHOUSE_LOG.
    #[arg(long)]
    pub log_file: Option<PathBuf>,
}

impl AgentArgs {
    pub fn options(&self) -> AgentOptions {
        let tls = match (&self.tlscacert, &self.tlscert, &self.tlskey) {
            (Some(ca), Some(cert), Some(key)) => Some(ServerFiles {
                ca: ca.clone(),
                cert: cert.clone(),
                key: key.clone(),
            }),
            _ => None,
        };
        AgentOptions {
            host: self.host.clone(),
            listen: self.listen,
            tls,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentOptions {
    /// The host this agent runs on, as the config names it.
    pub host: String,
    /// Where the API listens; default the host's address on `DEFAULT_PORT`.
    pub listen: Option<SocketAddr>,
    /// Mutual TLS for the API (the engine's server files).
    pub tls: Option<ServerFiles>,
}

/// The address to serve on: `--listen`, else the host's address from the config (an IP:
/// the agent binds exactly there, not every interface).
fn listen_address(config: &Config, opts: &AgentOptions) -> color_eyre::Result<SocketAddr> {
    if let Some(listen) = opts.listen {
        return Ok(listen);
    }
    let spec = config.hosts.iter().find(|h| h.name == opts.host);
    let address = spec.and_then(|h| h.address.as_deref()).ok_or_else(|| {
        eyre!(
            "host {:?} has no address in the config; give --listen ADDRESS:PORT",
            opts.host
        )
    })?;
    let ip: IpAddr = address.parse().map_err(|_| {
        eyre!(
            "host {:?} has address {address:?}, not an IP; give --listen ADDRESS:PORT",
            opts.host
        )
    })?;
    Ok(SocketAddr::new(ip, DEFAULT_PORT))
}

/// Runs the agent until SIGTERM or Ctrl-C.
pub async fn run(config: Config, opts: AgentOptions) -> color_eyre::Result<()> {
    let spec = config
        .hosts
        .iter()
        .find(|h| h.name == opts.host)
        .ok_or_else(|| {
            let known: Vec<&str> = config.hosts.iter().map(|h| h.name.as_str()).collect();
            eyre!(
                "no host {:?} in the config (hosts: {})",
                opts.host,
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            )
        })?;
    let listen = listen_address(&config, &opts)?;
    let docker = crate::docker::client(spec)
        .wrap_err_with(|| format!("cannot reach the engine of {}", opts.host))?;
    let (catalog_tx, catalog) = watch::channel(None);
    let running = agent::start(&opts.host, docker, listen, opts.tls.as_ref(), catalog)
        .await
        .map_err(|e| eyre!(e))?;
    let reader = (config.etcd.clone()).map(|etcd| {
        let (prefix, max) = (config.prefix.clone(), config.max_instances);
        tokio::spawn(read_catalog_forever(etcd, prefix, max, catalog_tx))
    });
    tracing::info!(
        host = opts.host,
        url = running.url,
        source = running.source,
        "agent serving"
    );
    let record = AgentRecord {
        address: running.url.clone(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        started_at_ms: running.started_at_ms,
        cgroup: running.source.to_owned(),
    };
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .wrap_err("cannot listen for SIGTERM")?;
    let stop = async {
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    };
    match &config.etcd {
        None => {
            tracing::warn!("no [etcd] in the config: the agent is not registered");
            stop.await;
        }
        Some(etcd) => stay_registered(etcd, &config.prefix, &opts.host, &record, stop).await,
    }
    if let Some(reader) = reader {
        reader.abort();
    }
    drop(running);
    tracing::info!(host = opts.host, "agent stopped");
    Ok(())
}

/// Keeps `/agents/<host>` registered until `stop`: connects, registers, registers again
/// when the lease is lost; on `stop` revokes the lease it holds.
async fn stay_registered(
    etcd: &crate::config::EtcdConfig,
    prefix: &str,
    host: &str,
    record: &AgentRecord,
    stop: impl Future<Output = ()>,
) {
    let mut stop = std::pin::pin!(stop);
    loop {
        let register = async {
            let client = store::connect(etcd).await?;
            store::register_agent(&client, prefix, host, record, LEASE_TTL).await
        };
        let registered = tokio::select! {
            () = &mut stop => return,
            registered = register => registered,
        };
        match registered {
            Ok(mut lease) => {
                tracing::info!(host, "registered at {}{host}", store::agents_dir(prefix));
                tokio::select! {
                    () = &mut stop => {
                        lease.revoke().await;
                        return;
                    }
                    why = lease.lost() => {
                        tracing::warn!(host, "registration lost ({why}); registering again");
                    }
                }
            }
            Err(e) => {
                tracing::warn!(host, "cannot register: {e}");
                tokio::select! {
                    () = &mut stop => return,
                    () = tokio::time::sleep(RETRY) => {}
                }
            }
        }
    }
}

/// Keeps `tx` holding the catalog as etcd last told it; a failed read keeps the last one
/// (the probes then say what they find) and connects again next time.
async fn read_catalog_forever(
    etcd: EtcdConfig,
    prefix: String,
    max_instances: u32,
    tx: watch::Sender<Option<ProbeCatalog>>,
) {
    let mut client = None;
    let mut failing = false;
    loop {
        let read = async {
            let c = match &mut client {
                Some(c) => c,
                None => client.insert(store::connect(&etcd).await?),
            };
            read_catalog(c, &prefix, max_instances).await
        };
        match read.await {
            Ok(catalog) => {
                failing = false;
                tx.send_replace(Some(catalog));
            }
            Err(e) => {
                if !failing {
                    tracing::warn!("cannot read the apps for probes: {e}");
                }
                failing = true;
                client = None;
            }
        }
        tokio::time::sleep(CATALOG_EVERY).await;
    }
}

/// Every app with its dependencies and HTTP health path; the endpoints of those some app
/// depends on.
async fn read_catalog(
    client: &mut etcd_client::Client,
    prefix: &str,
    max_instances: u32,
) -> Result<ProbeCatalog, StoreError> {
    let listing = store::list_apps(client, prefix, max_instances).await?;
    let needed: BTreeSet<&String> = (listing.apps.iter())
        .flat_map(|(spec, _)| &spec.depends_on)
        .collect();
    let mut catalog = ProbeCatalog::default();
    for (spec, _) in &listing.apps {
        let endpoints = if needed.contains(&spec.name) {
            store::list_endpoints(client, prefix, &spec.name).await?
        } else {
            Default::default()
        };
        let http_path = match spec.health.as_ref().map(|h| &h.probe) {
            Some(Probe::Http(path)) => Some(path.clone()),
            _ => None,
        };
        let endpoints = (endpoints.into_iter())
            .map(|(instance, e)| {
                let address = ProbeAddress {
                    address: e.address,
                    port: e.port,
                };
                (instance, address)
            })
            .collect();
        let app = CatalogApp {
            depends_on: spec.depends_on.clone(),
            http_path,
            endpoints,
        };
        catalog.apps.insert(spec.name.clone(), app);
    }
    Ok(catalog)
}
