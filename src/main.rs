//! `wheelhouse`: the CLI picks a mode; everything else lives in the library.

use clap::{CommandFactory, Parser, Subcommand};
use color_eyre::eyre::{WrapErr, eyre};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use wheelhouse::config::{self, Bounds, Config};
use wheelhouse::controller::{self, ControllerOptions};
use wheelhouse::ctl::{self, CtlCommand};
use wheelhouse::lab::{self, LabCommand};
use wheelhouse::tui::export;
use wheelhouse::tui::keymap::Keymap;
use wheelhouse::tui::run::{Cockpit, run};
use wheelhouse::tui::script;
use wheelhouse::tui::theme::{ColorDepth, Theme};

/// A terminal cockpit for clusters of Docker hosts coordinated through etcd.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    /// Config file (default: $XDG_CONFIG_HOME/wheelhouse/wheelhouse.toml).
    #[arg(long, short, global = true, env = "WHEELHOUSE_CONFIG")]
    config: Option<PathBuf>,
    /// Theme: a built-in name or a path to a theme file.
    #[arg(long, global = true)]
    theme: Option<String>,
    /// Keymap: a built-in name or a path to a keymap file.
    #[arg(long, global = true)]
    keymap: Option<String>,
    /// How often engines are polled, e.g. "2s" or "500ms".
    #[arg(long, global = true, value_parser = |t: &str| config::REFRESH.parse("", t))]
    refresh: Option<Duration>,
    /// For slow links (SSH): at most a frame a second, coarse ages, refresh 10s unless set.
    #[arg(long, global = true)]
    low_bandwidth: bool,
    /// Log file (default: wheelhouse.log in the XDG state dir). Filter with WHEELHOUSE_LOG.
    #[arg(long, global = true)]
    log_file: Option<PathBuf>,
    /// Refuse every action that would change the cluster (cockpit keys and ctl verbs).
    #[arg(long, global = true, env = "WHEELHOUSE_READONLY")]
    readonly: bool,
    /// A key script to play at start (`-` reads it from stdin): keys as keymaps spell
    /// them, `type TEXT`, `wait 2s`, `wait app NAME healthy N [within 2m]`,
    /// `wait host NAME online`, `quit`, one a line, # comments. A wait gives up after 5m.
    #[arg(long, global = true, value_name = "FILE")]
    keys: Option<String>,
    /// Leave the cockpit once the key script is over.
    #[arg(long, global = true, requires = "keys")]
    exit_after_keys: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// A local lab on this machine: one etcd and N real dockerd hosts.
    Lab {
        #[command(subcommand)]
        command: LabCommand,
    },
    /// Lab (started if not running) with demo containers, and the cockpit on it.
    Demo {
        #[arg(long, default_value_t = 3)]
        hosts: usize,
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Check the config, theme and keymap files, print a summary and exit.
    Check,
    /// The cockpit for a wall screen: read-only (no key, macro, script or command can
    /// change the cluster), large cells, pages cycling, an alerts banner and a clock.
    Wallboard {
        /// How long each page (hosts, apps, alerts) shows, e.g. "10s"; 0s keeps the hosts.
        #[arg(long, value_parser = |t: &str| PAGE_INTERVAL.parse("", t), default_value = "10s")]
        page_interval: Duration,
    },
    /// The headless control loop: placement, self-healing, service registration. Run two
    /// or more; etcd elects one leader. Logs go to stderr unless --log-file is given.
    Controller {
        /// This controller's name in the election (default: <hostname>-<pid>).
        #[arg(long)]
        id: Option<String>,
        /// How long an engine may fail its ping before its host is dead, e.g. "10s".
        #[arg(long, value_parser = |t: &str| GRACE.parse("", t))]
        grace: Option<Duration>,
        /// The leader's lease; a dead leader is replaced within about this long, e.g. "5s".
        #[arg(long, value_parser = |t: &str| LEASE_TTL.parse("", t))]
        lease_ttl: Option<Duration>,
    },
    /// The cockpit's actions without a screen: apply, get, delete, scale, status, audit.
    /// Exits 0 on success, 1 on a conflict or failure, 2 on bad input.
    Ctl {
        #[command(subcommand)]
        command: CtlCommand,
    },
    /// Print shell completions.
    Completions { shell: clap_complete::Shell },
    /// Turn a `tmux capture-pane -e` capture into STEM.txt, .svg and .png (for
    /// scripts/screenshots, which captures real runs).
    #[command(hide = true)]
    ExportAnsi {
        input: PathBuf,
        dir: PathBuf,
        stem: String,
        #[arg(long, default_value_t = 120)]
        width: u16,
        #[arg(long, default_value_t = 32)]
        height: u16,
    },
}

/// `wallboard --page-interval`: 0s keeps the hosts page.
const PAGE_INTERVAL: Bounds = Bounds::new(Duration::ZERO, Duration::from_secs(3600));
/// `controller --grace`: how long an engine may fail before its host is dead.
const GRACE: Bounds = Bounds::new(Duration::from_secs(1), Duration::from_secs(3600));
/// `controller --lease-ttl`: etcd leases count whole seconds.
const LEASE_TTL: Bounds = Bounds::new(Duration::from_secs(1), Duration::from_secs(3600));

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(e) = color_eyre::install() {
        eprintln!("wheelhouse: {e}");
    }
    if let Some(Command::Ctl { command }) = &cli.command {
        return run_ctl(&cli, command);
    }
    match main_with(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wheelhouse: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn main_with(cli: Cli) -> color_eyre::Result<()> {
    match &cli.command {
        Some(Command::ExportAnsi {
            input,
            dir,
            stem,
            width,
            height,
        }) => {
            let (_, theme, _) = load(&cli, cli.config.clone())?;
            let defaults = export::Defaults::for_theme(&theme);
            let files = export::export_ansi_file(input, *width, *height, &defaults, dir, stem)
                .wrap_err_with(|| format!("cannot export {}", input.display()))?;
            for file in files {
                println!("{}", file.display());
            }
            Ok(())
        }
        Some(Command::Completions { shell }) => {
            clap_complete::generate(
                *shell,
                &mut Cli::command(),
                "wheelhouse",
                &mut std::io::stdout(),
            );
            Ok(())
        }
        Some(Command::Lab { command }) => lab::run_cli(command.clone()),
        // Handled before, for its own exit codes.
        Some(Command::Ctl { .. }) => Ok(()),
        Some(Command::Controller {
            id,
            grace,
            lease_ttl,
        }) => {
            let mut config = Config::load(cli.config.as_deref())?;
            if let Some(refresh) = cli.refresh {
                config.refresh = refresh;
            }
            let mut opts = ControllerOptions::default();
            if let Some(id) = id {
                opts.id.clone_from(id);
            }
            if let Some(grace) = grace {
                opts.grace = *grace;
            }
            if let Some(ttl) = lease_ttl {
                opts.lease_ttl = *ttl;
            }
            let _log = match &cli.log_file {
                Some(path) => Some(init_logging(Some(path.clone()))?),
                None => {
                    init_stderr_logging("wheelhouse=info");
                    None
                }
            };
            let runtime =
                tokio::runtime::Runtime::new().wrap_err("cannot start the async runtime")?;
            let result = runtime.block_on(controller::run(config, opts));
            runtime.shutdown_timeout(Duration::from_millis(500));
            result
        }
        Some(Command::Demo { hosts, dir }) => {
            let dir = dir.clone().unwrap_or_else(lab::default_dir);
            // A lab whose processes died (a reboot) is started afresh; `up` clears it.
            let mut lab = match lab::Lab::open(&dir) {
                Ok(lab) if lab.is_running() => lab,
                _ => {
                    eprintln!("starting a lab of {hosts} hosts in {} ...", dir.display());
                    lab::Lab::up(&lab::LabOptions::new(*hosts, dir.clone()))?
                }
            };
            lab::demo::start_demo_containers(&lab)?;
            let exe = std::env::current_exe().wrap_err("cannot find this program's path")?;
            match lab::demo::ensure_controller(&mut lab, &exe)? {
                lab::demo::ControllerRun::Lab(pid) => eprintln!(
                    "controller: pid {pid}, log {}",
                    lab.dir().join("controller.log").display()
                ),
                lab::demo::ControllerRun::Elsewhere(id) => eprintln!("controller: {id} leads"),
            }
            if lab::demo::ensure_demo_app(&lab)? {
                eprintln!("app web created from examples/web.toml");
            }
            let config_path = lab.config_path();
            cockpit(&cli, Some(config_path), None)
        }
        Some(Command::Check) => {
            let (config, _, _) = load(&cli, cli.config.clone())?;
            let source = config
                .path
                .as_ref()
                .map_or("defaults".to_owned(), |p| p.display().to_string());
            println!(
                "{source}: ok, {} host(s), theme {}, keymap {}",
                config.hosts.len(),
                config.theme,
                config.keymap
            );
            for host in &config.hosts {
                println!("  {} {}", host.name, host.engine);
            }
            match &config.etcd {
                Some(etcd) => println!("  etcd {}", etcd.endpoints.join(",")),
                None => println!("  etcd: not configured"),
            }
            Ok(())
        }
        Some(Command::Wallboard { page_interval }) => {
            cockpit(&cli, cli.config.clone(), Some(*page_interval))
        }
        None => cockpit(&cli, cli.config.clone(), None),
    }
}

/// `ctl`: exit 0, 1 (conflict, failure) or 2 (bad input, bad config).
fn run_ctl(cli: &Cli, command: &CtlCommand) -> ExitCode {
    init_stderr_logging("wheelhouse=warn");
    let mut config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("wheelhouse: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(refresh) = cli.refresh {
        config.refresh = refresh;
    }
    match ctl::run(command, &config, cli.readonly) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wheelhouse: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// Headless modes have no screen to protect: logs (at `default` unless WHEELHOUSE_LOG says
/// otherwise) go to stderr.
fn init_stderr_logging(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("WHEELHOUSE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Only fails if a subscriber is already set, which then does the job.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .try_init();
}

/// Config, theme and keymap with the command line's overrides; any error names its file.
fn load(cli: &Cli, config_path: Option<PathBuf>) -> color_eyre::Result<(Config, Theme, Keymap)> {
    let mut config = Config::load(config_path.as_deref())?;
    if let Some(theme) = &cli.theme {
        config.theme.clone_from(theme);
    }
    if let Some(keymap) = &cli.keymap {
        config.keymap.clone_from(keymap);
    }
    if cli.low_bandwidth && !config.low_bandwidth {
        // Only a refresh the config file set (so not the default) counts as chosen here.
        let refresh_set = config.refresh != Config::default().refresh;
        config.set_low_bandwidth(refresh_set);
    }
    if let Some(refresh) = cli.refresh {
        config.refresh = refresh;
    }
    let theme =
        Theme::load(&config.theme)?.for_depth(ColorDepth::detect(|k| std::env::var(k).ok()));
    let keymap = Keymap::load(&config.keymap)?;
    Ok((config, theme, keymap))
}

/// Everything that can be wrong with the files (the key script too) is checked before the
/// terminal is touched. `wallboard` is its page interval in wallboard mode.
fn cockpit(
    cli: &Cli,
    config_path: Option<PathBuf>,
    wallboard: Option<Duration>,
) -> color_eyre::Result<()> {
    let (config, theme, keymap) = load(cli, config_path)?;
    let script = cli.keys.as_deref().map(script::load).transpose()?;
    let _log = init_logging(cli.log_file.clone())?;
    tracing::info!(
        hosts = config.hosts.len(),
        etcd = config.etcd.is_some(),
        "cockpit starting"
    );
    let runtime = tokio::runtime::Runtime::new().wrap_err("cannot start the async runtime")?;
    let result = runtime.block_on(run(Cockpit {
        config,
        theme,
        keymap,
        readonly: cli.readonly,
        script,
        exit_after_keys: cli.exit_after_keys,
        wallboard,
    }));
    // Supervisors may be mid-request; do not wait on them after the operator quit.
    runtime.shutdown_timeout(Duration::from_millis(200));
    result
}

/// Logs go to a file: the screen belongs to the TUI.
fn init_logging(
    path: Option<PathBuf>,
) -> color_eyre::Result<tracing_appender::non_blocking::WorkerGuard> {
    let path = path.unwrap_or_else(|| config::log_dir().join("wheelhouse.log"));
    let dir = path
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    std::fs::create_dir_all(&dir).wrap_err_with(|| format!("cannot create {}", dir.display()))?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .wrap_err_with(|| format!("cannot open log file {}", path.display()))?;
    let (writer, guard) = tracing_appender::non_blocking(file);
    let filter = tracing_subscriber::EnvFilter::try_from_env("WHEELHOUSE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("wheelhouse=info"));
    tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init()
        .map_err(|e| eyre!("cannot set up logging: {e}"))?;
    Ok(guard)
}
