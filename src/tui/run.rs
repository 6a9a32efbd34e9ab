//! The event loop: the one owner of the Model. IO tasks send values in; only this loop updates.

use super::export;
use super::keymap::Keymap;
use super::macros::Macros;
use super::script::{Next, Player, Script};
use super::terminal::TerminalGuard;
use super::theme::Theme;
use super::widgets::status_bar::coarse_age;
use crate::config::Config;
use crate::feed::{Feed, Stats, Subscription};
use crate::ops::Refusal;
use crate::ops::{self, Command, Mode, Ops, Outcome, Principal};
use crate::tui::clock::local_zone;
use crate::tui::model::Model;
use crate::tui::model::wallboard::{Wallboard, clock_text};
use crate::tui::update::{Effect, Msg, update};
use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::StreamExt;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::mpsc;

/// Frames are drawn at most this often; a burst of data events is one frame.
const FRAME: Duration = Duration::from_millis(50);
/// The same on a slow link (`low_bandwidth`).
const SLOW_FRAME: Duration = Duration::from_secs(1);
/// On a slow link, ages other than the data age (etcd unreachable, hosts offline) are
/// brought up to date at least this often when nothing else happens.
const SLOW_CLOCK: Duration = Duration::from_secs(60);
/// How many queued messages one pass applies before drawing again.
const BATCH: usize = 512;

pub struct Cockpit {
    pub config: Config,
    pub theme: Theme,
    pub keymap: Keymap,
    /// Refuse every key that would change the cluster.
    pub readonly: bool,
    /// A key script to play at start (`--keys`).
    pub script: Option<Script>,
    /// Leave once the script is over (`--exit-after-keys`).
    pub exit_after_keys: bool,
    /// Wallboard mode with this page interval: read-only whatever `readonly` says.
    pub wallboard: Option<Duration>,
}

/// Runs the interactive cockpit until the operator quits or the terminal goes away.
pub async fn run(cockpit: Cockpit) -> color_eyre::Result<()> {
    let Cockpit {
        config,
        mut theme,
        keymap,
        readonly,
        script,
        exit_after_keys,
        wallboard,
    } = cockpit;
    let mut theme_file = ThemeFile::new(&theme);
    let now = Instant::now();
    // The process's one feed: supervisors and watchers for this screen (and any other).
    let feed = Feed::start(&config, Stats::With);
    let Some(Subscription {
        cluster,
        events: mut cluster_rx,
    }) = feed.subscribe().await
    else {
        return Err(color_eyre::eyre::eyre!("the cluster feed stopped at start"));
    };
    let mut model = Model::new(now);
    model.cluster = (*cluster).clone();
    // The wallboard's guarantee rests on the gate (`ops::authorize`), like `--readonly`'s.
    let mode = match (wallboard, readonly) {
        (Some(_), _) => Mode::Wallboard,
        (None, true) => Mode::ReadOnly,
        (None, false) => Mode::ReadWrite,
    };
    model.principal = Principal::local(mode);
    model.wallboard = wallboard.map(|interval| Wallboard::new(interval, now));
    let mut macros = Macros::default();
    let mut player = script.map(Player::new);
    // Set when a script wait gives up under --exit-after-keys: the exit is then an error.
    let mut script_failed = None;
    model.max_instances = config.max_instances;
    model.low_bandwidth = config.low_bandwidth;
    let frame = if config.low_bandwidth {
        SLOW_FRAME
    } else {
        FRAME
    };
    let _ = update(&mut model, Msg::Theme(theme.thresholds));
    if model.cluster.hosts.is_empty() && config.etcd.is_none() {
        model.ui.message =
            Some("no hosts: set DOCKER_HOST, pass --config, or run `wheelhouse lab up`".to_owned());
    }

    let (done_tx, mut done_rx) = mpsc::channel::<Result<Outcome, String>>(16);
    // Answers to the screen's reads (image tags, history).
    let (answer_tx, mut answer_rx) = mpsc::channel::<Msg>(16);
    let auditor = config
        .etcd
        .clone()
        .map(|etcd| ops::spawn_auditor(etcd, config.prefix.clone(), model.principal.clone()));

    let mut guard = TerminalGuard::enter()?;
    if let Ok(size) = guard.terminal.size() {
        let geometry = super::measure(size.width, size.height, &keymap, &theme);
        update(&mut model, Msg::Resize(geometry));
    }
    let mut input = EventStream::new();
    let mut clock = tokio::time::interval(Duration::from_millis(250));
    // Every catchable signal that would end the process ends the loop instead, so the
    // guard gives the terminal back (raw mode off, main screen, cursor shown).
    let mut signals = Signals::install()?;
    let mut last_draw = Instant::now() - frame;

    loop {
        let mut msgs = Vec::new();
        let mut keys = Vec::new();
        let mut ticked = false;
        let wait_frame = tokio::time::sleep_until((last_draw + frame).into());
        tokio::select! {
            event = input.next() => match event {
                Some(Ok(Event::Key(key))) if key.kind != KeyEventKind::Release => keys.push(key),
                Some(Ok(Event::Resize(width, height))) => {
                    msgs.push(Msg::Resize(super::measure(width, height, &keymap, &theme)));
                }
                Some(Ok(_)) => {}
                // The terminal is gone (SSH dropped): nothing left to draw on.
                Some(Err(_)) | None => break,
            },
            Some(event) = cluster_rx.recv() => msgs.push(Msg::from(event)),
            Some(result) = done_rx.recv() => msgs.push(Msg::Done(result)),
            Some(answer) = answer_rx.recv() => msgs.push(answer),
            _ = clock.tick() => {
                let now = Instant::now();
                if clock_shows(&model, now) {
                    msgs.push(Msg::Tick(now));
                }
                ticked = true;
                msgs.extend(theme_file.reload_if_changed(&mut theme, &model, &keymap));
            }
            _ = wait_frame, if model.dirty => {}
            _ = signals.recv() => break,
        }
        // Drain what else is queued so a burst costs one frame, not one per event.
        while msgs.len() < BATCH {
            match cluster_rx.try_recv() {
                Ok(event) => msgs.push(Msg::from(event)),
                Err(_) => break,
            }
        }
        let stale = !msgs.iter().any(|m| matches!(m, Msg::Tick(_)));
        if model.low_bandwidth && stale && (!msgs.is_empty() || !keys.is_empty()) {
            // Ticks are held back on a slow link: bring the clock up to date before data
            // is stamped with it.
            msgs.insert(0, Msg::Tick(Instant::now()));
        }
        let io = Io {
            config: &config,
            done_tx: &done_tx,
            answer_tx: &answer_tx,
            auditor: auditor.as_ref(),
        };
        // Theme and export effects need the screen's state: done once the keys are through.
        let mut screen = Vec::new();
        let mut apply = |model: &mut Model, msg: Msg| {
            for effect in update(model, msg) {
                screen.extend(io.apply(effect, model));
            }
        };
        for msg in msgs {
            apply(&mut model, msg);
        }
        let now = Instant::now();
        // Typed keys and script keys take the same path: macros, then the keymap.
        for key in keys {
            macros.press(&mut model, &keymap, key, &mut apply);
        }
        if ticked && model.wallboard.is_some() {
            let at = SystemTime::now();
            let clock = clock_text(at, &local_zone(at));
            apply(&mut model, Msg::WallClock { now, clock });
        }
        if let Some(playing) = &mut player
            && let Some(ended) = play(playing, &mut model, &keymap, &mut macros, now, &mut apply)
        {
            player = None;
            if let Err(why) = ended {
                tracing::warn!("{why}");
                apply(&mut model, Msg::Notice(why.clone()));
                script_failed = exit_after_keys.then_some(why);
            }
            model.quit |= exit_after_keys;
        }
        for effect in screen {
            let notices = match effect {
                Effect::ExportScreen(dir) => {
                    let dir = dir.map_or_else(export::default_dir, std::path::PathBuf::from);
                    vec![export_screen(&model, &theme, &keymap, &dir)]
                }
                Effect::SwitchTheme(name) => {
                    switch_theme(&name, &mut theme, &mut theme_file, &model, &keymap)
                }
                _ => continue,
            };
            // Notices and a new theme change the screen only: they have no effects.
            for notice in notices {
                let _ = update(&mut model, notice);
            }
        }
        if model.quit {
            break;
        }
        if model.dirty && last_draw.elapsed() >= frame {
            draw(&mut guard, &model, &theme, &keymap)?;
            model.dirty = false;
            last_draw = Instant::now();
        }
    }
    drop(guard);
    match script_failed {
        Some(why) => Err(color_eyre::eyre::eyre!(why)),
        None => Ok(()),
    }
}

/// SIGHUP, SIGTERM, SIGINT and SIGQUIT: each would end the process and leave the terminal
/// raw on the alternate screen (raw mode stops ctrl-c from sending SIGINT, but `kill -INT`,
/// `timeout` and supervisors still do).
struct Signals(Vec<tokio::signal::unix::Signal>);

impl Signals {
    fn install() -> std::io::Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        let kinds = [
            SignalKind::hangup(),
            SignalKind::terminate(),
            SignalKind::interrupt(),
            SignalKind::quit(),
        ];
        kinds
            .into_iter()
            .map(signal)
            .collect::<Result<_, _>>()
            .map(Signals)
    }

    /// Waits for any of them.
    async fn recv(&mut self) {
        let waits = self.0.iter_mut().map(|s| Box::pin(s.recv()));
        futures::future::select_all(waits).await;
    }
}

/// Whether a tick at `now` would change the screen. Every tick does, except on a slow link,
/// where the data age is shown in steps (`coarse_age`): there a tick passes only when the
/// step changes, or `SLOW_CLOCK` after the last one.
fn clock_shows(model: &Model, now: Instant) -> bool {
    if !model.low_bandwidth || now.saturating_duration_since(model.now) >= SLOW_CLOCK {
        return true;
    }
    model.cluster.last_data.is_some_and(|t| {
        coarse_age(now.saturating_duration_since(t))
            != coarse_age(model.now.saturating_duration_since(t))
    })
}

/// Plays script steps until one waits. Returns None while the script goes on, then how it
/// ended.
fn play(
    player: &mut Player,
    model: &mut Model,
    keymap: &Keymap,
    macros: &mut Macros,
    now: Instant,
    apply: &mut super::macros::Apply<'_>,
) -> Option<Result<(), String>> {
    loop {
        match player.next(model, now) {
            Next::Key(key) => macros.press(model, keymap, key, apply),
            Next::Wait => return None,
            Next::Quit => {
                model.quit = true;
                return Some(Ok(()));
            }
            Next::Done => return Some(Ok(())),
            Next::Failed(why) => return Some(Err(why)),
        }
        if model.quit {
            return Some(Ok(()));
        }
    }
}

/// What carrying out effects needs besides the model.
struct Io<'a> {
    config: &'a Config,
    done_tx: &'a mpsc::Sender<Result<Outcome, String>>,
    answer_tx: &'a mpsc::Sender<Msg>,
    /// Where refused changes go to be audited; None without etcd.
    auditor: Option<&'a mpsc::Sender<Refusal>>,
}

impl Io<'_> {
    /// Carries out an IO effect; hands back the ones that need the screen (theme, export).
    fn apply(&self, effect: Effect, model: &Model) -> Option<Effect> {
        match effect {
            Effect::Execute(command) => self.execute(command, model),
            Effect::ReadImages => self.read_images(model),
            Effect::ReadHistory(app) => self.read_history(app, model),
            Effect::AuditRefusal(refusal) => self.audit_refusal(refusal),
            Effect::SwitchTheme(_) | Effect::ExportScreen(_) => return Some(effect),
        }
        None
    }

    fn ops(&self, model: &Model) -> Ops {
        Ops {
            etcd: self.config.etcd.clone(),
            prefix: self.config.prefix.clone(),
            max_instances: self.config.max_instances,
            hosts: model.cluster.hosts.iter().map(|h| h.spec.clone()).collect(),
        }
    }

    /// The image tags the engines hold, read off the loop: answered with `Msg::Images`.
    fn read_images(&self, model: &Model) {
        let answer_tx = self.answer_tx.clone();
        let hosts: Vec<_> = model.cluster.hosts.iter().map(|h| h.spec.clone()).collect();
        tokio::spawn(async move {
            let tags = ops::image_tags(&hosts).await.map_err(|e| e.to_string());
            let _ = answer_tx.send(Msg::Images(tags)).await;
        });
    }

    /// An app's earlier specs, read off the loop: answered with `Msg::History`.
    fn read_history(&self, app: String, model: &Model) {
        let ops = self.ops(model);
        let answer_tx = self.answer_tx.clone();
        tokio::spawn(async move {
            let result = ops::history(&ops, &app).await.map_err(|e| e.to_string());
            let _ = answer_tx.send(Msg::History { app, result }).await;
        });
    }

    /// Hands a refused change to the auditor, which writes it off the loop on its one
    /// client, coalescing repeats (best effort, as every audit record; without etcd there
    /// is no trail).
    fn audit_refusal(&self, refusal: Refusal) {
        if let Some(auditor) = self.auditor
            && auditor.try_send(refusal).is_err()
        {
            tracing::warn!("refusals come faster than they are audited: one is not recorded");
        }
    }

    /// Runs a confirmed command off the loop, as this screen's principal: its result comes
    /// back as `Msg::Done`.
    fn execute(&self, command: Command, model: &Model) {
        let done_tx = self.done_tx.clone();
        let (ops, principal) = (self.ops(model), model.principal.clone());
        tokio::spawn(async move {
            let result = (ops::execute(&ops, &principal, command).await).map_err(|e| e.to_string());
            // The cockpit may have quit meanwhile: nobody to tell.
            let _ = done_tx.send(result).await;
        });
    }
}

/// One frame inside synchronized output, so terminals (and SSH links) show it whole.
fn draw(
    guard: &mut TerminalGuard,
    model: &Model,
    theme: &Theme,
    keymap: &Keymap,
) -> std::io::Result<()> {
    let terminal = &mut guard.terminal;
    crossterm::queue!(
        terminal.backend_mut(),
        crossterm::terminal::BeginSynchronizedUpdate
    )?;
    terminal.draw(|frame| super::draw(frame, model, theme, keymap))?;
    crossterm::queue!(
        terminal.backend_mut(),
        crossterm::terminal::EndSynchronizedUpdate
    )?;
    terminal.backend_mut().flush()
}

/// A theme loaded from a file is reloaded when the file changes; a broken edit keeps the
/// old theme and says why in the status line.
struct ThemeFile {
    modified: Option<SystemTime>,
}

impl ThemeFile {
    fn new(theme: &Theme) -> Self {
        ThemeFile {
            modified: theme.source_path().and_then(modified),
        }
    }

    fn reload_if_changed(&mut self, theme: &mut Theme, model: &Model, keymap: &Keymap) -> Vec<Msg> {
        let now = theme.source_path().and_then(modified);
        if now == self.modified {
            return Vec::new();
        }
        self.modified = now;
        match theme.reload() {
            None => Vec::new(),
            Some(Ok(fresh)) => {
                *theme = fresh;
                in_force(theme, model, keymap).into()
            }
            Some(Err(e)) => vec![Msg::Notice(format!("theme not reloaded: {e}"))],
        }
    }
}

fn modified(path: &std::path::Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// What `update` must hear of a theme coming into force: its thresholds (`/state=warn`
/// filters by what the cells are coloured by), and help measured again in it.
fn in_force(theme: &Theme, model: &Model, keymap: &Keymap) -> [Msg; 2] {
    let (width, height) = (model.ui.geometry.width, model.ui.geometry.height);
    [
        Msg::Theme(theme.thresholds),
        Msg::Resize(super::measure(width, height, keymap, theme)),
    ]
}

/// `:theme NAME`: a built-in name or a file, mapped to the terminal's colours like the first.
fn switch_theme(
    name: &str,
    theme: &mut Theme,
    file: &mut ThemeFile,
    model: &Model,
    keymap: &Keymap,
) -> Vec<Msg> {
    match Theme::load(name) {
        Ok(fresh) => {
            *theme = fresh.for_depth(theme.depth());
            *file = ThemeFile::new(theme);
            let mut msgs = Vec::from(in_force(theme, model, keymap));
            msgs.push(Msg::Notice(format!("theme {name}")));
            msgs
        }
        Err(e) => vec![Msg::Notice(format!("theme not changed: {e}"))],
    }
}

/// Draws the model once more, off screen, and writes that frame as text, SVG and PNG.
fn export_screen(model: &Model, theme: &Theme, keymap: &Keymap, dir: &Path) -> Msg {
    // A TestBackend cannot fail: its error type is Infallible.
    let backend =
        ratatui::backend::TestBackend::new(model.ui.geometry.width, model.ui.geometry.height);
    let Ok(mut terminal) = ratatui::Terminal::new(backend);
    let Ok(_) = terminal.draw(|frame| super::draw(frame, model, theme, keymap));
    let stamp = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let defaults = export::Defaults::for_theme(theme);
    let written = export::write_all(
        terminal.backend().buffer(),
        &defaults,
        dir,
        &format!("wheelhouse-{stamp}"),
    );
    match written {
        Ok(files) => {
            let names: Vec<String> = (files.iter())
                .filter_map(|f| f.file_name())
                .map(|f| f.to_string_lossy().into_owned())
                .collect();
            let dir = dir.display();
            Msg::Notice(format!("screen saved in {dir}: {}", names.join(" ")))
        }
        Err(e) => Msg::Notice(format!("screen not saved in {}: {e}", dir.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_a_slow_link_ticks_pass_only_when_the_shown_age_changes() {
        let start = Instant::now();
        let mut model = Model::new(start);
        model.cluster.last_data = Some(start);
        let at = |s| start + Duration::from_secs(s);
        assert!(clock_shows(&model, at(1)), "every tick counts by default");
        model.low_bandwidth = true;
        assert!(!clock_shows(&model, at(1)));
        assert!(!clock_shows(&model, at(9)), "still <10s");
        assert!(clock_shows(&model, at(10)), "now <1m");
        model.now = at(10);
        assert!(!clock_shows(&model, at(59)));
        assert!(clock_shows(&model, at(60)), "now 1m");
        model.now = at(60);
        model.cluster.last_data = None;
        assert!(!clock_shows(&model, at(119)));
        assert!(clock_shows(&model, at(120)), "other ages once a minute");
    }
}
