//! `wheelhouse`: the CLI picks a mode; everything else lives in the library.

mod allocator;
mod cli;

use clap::{Args, CommandFactory, Parser, Subcommand};
use cli::{env_bool, parse};
use color_eyre::eyre::{WrapErr, eyre};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;
use wheelhouse::agentd::{self, AgentArgs};
use wheelhouse::config::{self, Config};
use wheelhouse::controller::{self, ControllerOptions};
use wheelhouse::ctl::{self, CtlCommand, emit, quiet_on_closed_pipe, say_error};
use wheelhouse::domain::Bounds;
use wheelhouse::domain::sanitize;
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
    #[command(flatten)]
    cockpit: CockpitArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

/// The theme and keymap files (the cockpit's, and what `check` checks).
#[derive(Args, Clone, Default)]
struct Look {
    /// Theme: a built-in name or a path to a theme file.
    #[arg(long)]
    theme: Option<String>,
    /// Keymap: a built-in name or a path to a keymap file.
    #[arg(long)]
    keymap: Option<String>,
}

/// The flags of a mode with a screen: the cockpit, the wallboard and the demo.
#[derive(Args, Clone, Default)]
struct CockpitArgs {
    #[command(flatten)]
    look: Look,
    /// How often engines are polled, e.g. "2s" or "500ms".
    #[arg(long, value_parser = |t: &str| config::REFRESH.parse("", t))]
    refresh: Option<Duration>,
    /// For slow links (SSH): at most a frame a second, coarse ages, refresh 10s unless set.
    #[arg(long)]
    low_bandwidth: bool,
    /// Log file (default: wheelhouse.log in the XDG state dir). Filter with WHEELHOUSE_LOG.
    #[arg(long)]
    log_file: Option<PathBuf>,
    /// Refuse every action that would change the cluster (keys, macros, `:` commands).
    /// WHEELHOUSE_READONLY takes 1/0, true/false, yes/no, on/off.
    #[arg(long, env = "WHEELHOUSE_READONLY", value_parser = env_bool)]
    readonly: bool,
    /// A key script to play at start (`-` reads it from stdin): keys as keymaps spell
    /// them, `type TEXT`, `wait 2s`, `wait app NAME healthy N [within 2m]`,
    /// `wait host NAME online`, `quit`, one a line, # comments. A wait gives up after 5m.
    #[arg(long, value_name = "FILE")]
    keys: Option<String>,
    /// Leave the cockpit once the key script is over.
    #[arg(long, requires = "keys")]
    exit_after_keys: bool,
}

impl CockpitArgs {
    /// These flags where given after the subcommand, else `outer`'s (given before it).
    fn or(&self, outer: &CockpitArgs) -> CockpitArgs {
        CockpitArgs {
            look: Look {
                theme: self.look.theme.clone().or(outer.look.theme.clone()),
                keymap: self.look.keymap.clone().or(outer.look.keymap.clone()),
            },
            refresh: self.refresh.or(outer.refresh),
            low_bandwidth: self.low_bandwidth || outer.low_bandwidth,
            log_file: self.log_file.clone().or(outer.log_file.clone()),
            readonly: self.readonly || outer.readonly,
            keys: self.keys.clone().or(outer.keys.clone()),
            exit_after_keys: self.exit_after_keys || outer.exit_after_keys,
        }
    }
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
        /// How many dockerd hosts a new lab gets.
        #[arg(long, default_value_t = 3)]
        hosts: usize,
        /// Lab directory (default: the XDG state dir's wheelhouse/lab).
        #[arg(long)]
        dir: Option<PathBuf>,
        #[command(flatten)]
        cockpit: CockpitArgs,
    },
    /// Check the config, theme and keymap files, print a summary and exit.
    Check {
        #[command(flatten)]
        look: Look,
    },
    /// The cockpit for a wall screen: read-only (no key, macro, script or command can
    /// change the cluster), large cells, pages cycling, an alerts banner and a clock.
    Wallboard {
        /// How long each page (hosts, apps, alerts) shows, e.g. "10s"; 0s keeps the hosts.
        #[arg(long, value_parser = |t: &str| PAGE_INTERVAL.parse("", t), default_value = "10s")]
        page_interval: Duration,
        #[command(flatten)]
        cockpit: CockpitArgs,
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
        /// How often engines are polled, e.g. "2s" or "500ms".
        #[arg(long, value_parser = |t: &str| config::REFRESH.parse("", t))]
        refresh: Option<Duration>,
        /// Log file (default: stderr). Filter with WHEELHOUSE_LOG.
        #[arg(long)]
        log_file: Option<PathBuf>,
    },
    /// The host agent: reads every container's cgroup each second, keeps an hour of
    /// history, serves it read-only over HTTP (/v1/summary, /v1/series/.., /metrics) on
    /// the host's address, and registers at /agents/<host> in etcd.
    Agent(AgentArgs),
    /// The cockpit's actions without a screen, for scripts: every verb below.
    /// Exits 0 on success, 1 on a conflict or failure, 2 on bad input.
    Ctl {
        /// Refuse every verb that would change the cluster (it is audited as refused).
        /// WHEELHOUSE_READONLY takes 1/0, true/false, yes/no, on/off.
        #[arg(long, env = "WHEELHOUSE_READONLY", value_parser = env_bool)]
        readonly: bool,
        #[command(subcommand)]
        command: CtlCommand,
    },
    /// Print shell completions.
    Completions {
        /// The shell to write completions for.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), or write one page per command into --dir.
    Man {
        /// Write wheelhouse.1, wheelhouse-ctl.1, wheelhouse-ctl-status.1, ... here.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Turn a `tmux capture-pane -e` capture into STEM.txt, .svg and .png (for
    /// scripts/screenshots, which captures real runs).
    #[command(hide = true)]
    ExportAnsi {
        /// The capture.
        input: PathBuf,
        /// Where the files go.
        dir: PathBuf,
        /// Their name without extension.
        stem: String,
        /// Columns of the capture.
        #[arg(long, default_value_t = 120)]
        width: u16,
        /// Rows of the capture.
        #[arg(long, default_value_t = 32)]
        height: u16,
        #[command(flatten)]
        look: Look,
    },
}

/// `wallboard --page-interval`: 0s keeps the hosts page.
const PAGE_INTERVAL: Bounds = Bounds::new(Duration::ZERO, Duration::from_secs(3600));
/// `controller --grace`: how long an engine may fail before its host is dead.
const GRACE: Bounds = Bounds::new(Duration::from_secs(1), Duration::from_secs(3600));
/// `controller --lease-ttl`: etcd leases count whole seconds.
const LEASE_TTL: Bounds = Bounds::new(Duration::from_secs(1), Duration::from_secs(3600));

fn main() -> ExitCode {
    let cli = parse();
    if let Err(e) = color_eyre::install() {
        say_error(&e.to_string());
    }
    quiet_on_closed_pipe();
    if let Some(Command::Ctl { readonly, command }) = &cli.command {
        return run_ctl(&cli, *readonly || cli.cockpit.readonly, command);
    }
    match main_with(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            say_error(&format!("{e:#}"));
            // A lab part that is down is a finding, like a failed ctl check, not bad input.
            match e.downcast_ref::<lab::LabError>() {
                Some(lab::LabError::PartsDead { .. }) => ExitCode::from(1),
                _ => ExitCode::from(2),
            }
        }
    }
}

fn main_with(cli: &Cli) -> color_eyre::Result<()> {
    let outer = &cli.cockpit;
    let look_only = |look: &Look| CockpitArgs {
        look: look.clone(),
        ..CockpitArgs::default()
    };
    match &cli.command {
        Some(Command::ExportAnsi {
            input,
            dir,
            stem,
            width,
            height,
            look,
        }) => {
            let (_, theme, _) = load(cli.config.as_deref(), &look_only(look).or(outer))?;
            let defaults = export::Defaults::for_theme(&theme);
            let files = export::export_ansi_file(input, *width, *height, &defaults, dir, stem)
                .wrap_err_with(|| format!("cannot export {}", input.display()))?;
            let list: String = files
                .iter()
                .map(|file| format!("{}\n", file.display()))
                .collect();
            emit(sanitize::clean_lines(&list).as_bytes())?;
            Ok(())
        }
        Some(Command::Completions { shell }) => {
            let mut out = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "wheelhouse", &mut out);
            Ok(emit(&out)?)
        }
        Some(Command::Man { dir }) => man(dir.as_deref()),
        Some(Command::Lab { command }) => lab::run_cli(command.clone()),
        // Handled before, for its own exit codes.
        Some(Command::Ctl { .. }) => Ok(()),
        Some(Command::Controller {
            id,
            grace,
            lease_ttl,
            refresh,
            log_file,
        }) => {
            let mut config = Config::load(cli.config.as_deref())?;
            if let Some(refresh) = refresh.or(outer.refresh) {
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
            let _log = match log_file.as_ref().or(outer.log_file.as_ref()) {
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
        Some(Command::Agent(args)) => {
            let config = Config::load(cli.config.as_deref())?;
            let host = &args.host;
            let log = (args.log_file.clone().or(outer.log_file.clone()))
                .unwrap_or_else(|| config::log_dir().join(format!("agent-{host}.log")));
            let _log = init_logging(Some(log))?;
            let runtime =
                tokio::runtime::Runtime::new().wrap_err("cannot start the async runtime")?;
            let result = runtime.block_on(agentd::run(config, args.options()));
            runtime.shutdown_timeout(Duration::from_millis(500));
            result
        }
        Some(Command::Demo {
            hosts,
            dir,
            cockpit: args,
        }) => {
            let dir = dir.clone().unwrap_or_else(lab::default_dir);
            // A lab whose processes died (a reboot) gets them back with their data.
            let mut lab = match lab::Lab::open(&dir) {
                Ok(mut lab) => {
                    let restarted = lab.repair()?;
                    if !restarted.is_empty() {
                        eprintln!("restarted {} with their data", restarted.join(", "));
                    }
                    lab
                }
                Err(_) => {
                    eprintln!("starting a lab of {hosts} hosts in {} ...", dir.display());
                    let opts = lab::LabOptions {
                        agent: Some(
                            std::env::current_exe().wrap_err("cannot find this program's path")?,
                        ),
                        ..lab::LabOptions::new(*hosts, dir.clone())
                    };
                    lab::Lab::up(&opts)?
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
            cockpit(&args.or(outer), Some(config_path), None)
        }
        Some(Command::Check { look }) => {
            let (config, _, _) = load(cli.config.as_deref(), &look_only(look).or(outer))?;
            Ok(emit(check_summary(&config).as_bytes())?)
        }
        Some(Command::Wallboard {
            page_interval,
            cockpit: args,
        }) => cockpit(&args.or(outer), cli.config.clone(), Some(*page_interval)),
        None => cockpit(outer, cli.config.clone(), None),
    }
}

/// What `check` prints: the config's source, hosts, theme, keymap and etcd, cleaned.
fn check_summary(config: &Config) -> String {
    let source = config
        .path
        .as_ref()
        .map_or("defaults".to_owned(), |p| p.display().to_string());
    let mut out = format!(
        "{source}: ok, {} host(s), theme {}, keymap {}\n",
        config.hosts.len(),
        config.theme,
        config.keymap
    );
    for host in &config.hosts {
        out.push_str(&format!("  {} {}\n", host.name, host.engine));
    }
    match &config.etcd {
        Some(etcd) => out.push_str(&format!("  etcd {}\n", etcd.endpoints.join(","))),
        None => out.push_str("  etcd: not configured\n"),
    }
    sanitize::clean_lines(&out).into_owned()
}

/// The man page on stdout, or one page per command (subcommands too) written into `dir`.
fn man(dir: Option<&Path>) -> color_eyre::Result<()> {
    let command = Cli::command();
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir)
            .wrap_err_with(|| format!("cannot create {}", dir.display()))?;
        clap_mangen::generate_to(command, dir)
            .wrap_err_with(|| format!("cannot write man pages into {}", dir.display()))?;
        return Ok(());
    }
    let mut out = Vec::new();
    clap_mangen::Man::new(command)
        .render(&mut out)
        .wrap_err("cannot render the man page")?;
    Ok(emit(&out)?)
}

/// `ctl`: exit 0, 1 (conflict, failure) or 2 (bad input, bad config). What a verb printed
/// goes out even when it then fails (`status` shows the engines when etcd is down).
fn run_ctl(cli: &Cli, readonly: bool, command: &CtlCommand) -> ExitCode {
    init_stderr_logging("wheelhouse=warn");
    let config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(e) => {
            say_error(&e.to_string());
            return ExitCode::from(2);
        }
    };
    let mut out = String::new();
    let result = ctl::run(command, &config, readonly, &mut out);
    if let Err(e) = emit(sanitize::clean_lines(&out).as_bytes()) {
        say_error(&format!("cannot write the output: {e}"));
        return ExitCode::FAILURE;
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if !matches!(e, ctl::CtlError::Said(_)) {
                say_error(&e.to_string());
            }
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
        .with_ansi(colour_on_stderr(|k| std::env::var_os(k)))
        .fmt_fields(ctl::CleanFields::default())
        .with_env_filter(filter)
        .try_init();
}

/// Whether log lines on stderr may be coloured: only on a terminal, and not under NO_COLOR
/// (set to anything but empty).
fn colour_on_stderr(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> bool {
    let no_colour = var("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_colour && std::io::stderr().is_terminal()
}

/// Config, theme and keymap with the command line's overrides; any error names its file.
fn load(
    config_path: Option<&Path>,
    args: &CockpitArgs,
) -> color_eyre::Result<(Config, Theme, Keymap)> {
    let mut config = Config::load(config_path)?;
    if let Some(theme) = &args.look.theme {
        config.theme.clone_from(theme);
    }
    if let Some(keymap) = &args.look.keymap {
        config.keymap.clone_from(keymap);
    }
    if args.low_bandwidth && !config.low_bandwidth {
        // Only a refresh the config file set (so not the default) counts as chosen here.
        let refresh_set = config.refresh != Config::default().refresh;
        config.set_low_bandwidth(refresh_set);
    }
    if let Some(refresh) = args.refresh {
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
    args: &CockpitArgs,
    config_path: Option<PathBuf>,
    wallboard: Option<Duration>,
) -> color_eyre::Result<()> {
    let (config, theme, keymap) = load(config_path.as_deref(), args)?;
    let script = args.keys.as_deref().map(script::load).transpose()?;
    let _log = init_logging(args.log_file.clone())?;
    tracing::info!(
        hosts = config.hosts.len(),
        etcd = config.etcd.is_some(),
        "cockpit starting"
    );
    // The screen runs on this thread (block_on) and one worker serves the feed: at 1,000
    // simulated engines a second worker made the cockpit no quicker and held 12 MiB more.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .wrap_err("cannot start the async runtime")?;
    let result = runtime.block_on(run(Cockpit {
        config,
        theme,
        keymap,
        readonly: args.readonly,
        script,
        exit_after_keys: args.exit_after_keys,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn every_command(command: &clap::Command, out: &mut Vec<clap::Command>) {
        out.push(command.clone());
        for sub in command.get_subcommands() {
            every_command(sub, out);
        }
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_argument_and_command_has_help() {
        let mut commands = Vec::new();
        every_command(&Cli::command(), &mut commands);
        for command in &commands {
            assert!(
                command.get_about().is_some() || command.get_name() == "wheelhouse",
                "{} has no help",
                command.get_name()
            );
            for arg in command.get_arguments() {
                let id = arg.get_id().as_str();
                if id == "help" || id == "version" {
                    continue;
                }
                assert!(
                    arg.get_help().is_some(),
                    "{} {id} has no help",
                    command.get_name()
                );
            }
        }
    }

    #[test]
    fn no_colour_under_no_color_or_off_a_terminal() {
        let set = |_: &str| Some(std::ffi::OsString::from("1"));
        assert!(!colour_on_stderr(set));
        // Under `cargo test` stderr is captured, not a terminal.
        assert!(!colour_on_stderr(|_| None) || std::io::stderr().is_terminal());
    }
}
