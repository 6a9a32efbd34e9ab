//! The event loop: the one owner of its Screen. Everything it hears comes in on one
//! channel (`inbound`); only `update` changes the screen; effects go out (`effects`).

mod effects;
mod inbound;
mod latency;
mod logs;

use super::keymap::Keymap;
use super::macros::Macros;
use super::script::{Next, Player, Script};
use super::terminal::TerminalGuard;
use super::theme::Theme;
use super::widgets::status_bar::coarse_age;
use crate::config::Config;
use crate::feed::{Feed, Stats};
use crate::ops::{self, Mode, Principal};
use crate::tui::clock::local_zone;
use crate::tui::screen::Screen;
use crate::tui::screen::wallboard::{Wallboard, clock_text};
use crate::tui::update::{Effect, Msg, update};
use effects::{Io, ThemeFile};
use inbound::{Inbound, Inbox};
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// Frames are drawn at most this often; a burst of data events is one frame.
const FRAME: Duration = Duration::from_millis(50);
/// The same on a slow link (`low_bandwidth`).
const SLOW_FRAME: Duration = Duration::from_secs(1);
/// When only the cluster's picture changed: at a thousand hosts it changes all the time,
/// and four frames a second keep the grid live at a fifth of the cost.
const PICTURE_FRAME: Duration = Duration::from_millis(250);
/// On a slow link, ages other than the data age (etcd unreachable, hosts offline) are
/// brought up to date at least this often when nothing else happens.
const SLOW_CLOCK: Duration = Duration::from_secs(60);
/// How many queued messages one pass takes before drawing again.
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
        theme,
        keymap,
        readonly,
        script,
        exit_after_keys,
        wallboard,
    } = cockpit;
    let now = Instant::now();
    // The process's one feed: supervisors and watchers for this screen (and any other).
    let feed = Feed::start(&config, Stats::With);
    let Some(pictures) = feed.snapshots().await else {
        return Err(color_eyre::eyre::eyre!("the cluster feed stopped at start"));
    };
    let mut screen = Screen::new(now);
    screen.cluster = Arc::clone(&pictures.borrow());
    // The wallboard's guarantee rests on the gate (`ops::authorize`), like `--readonly`'s.
    let mode = match (wallboard, readonly) {
        (Some(_), _) => Mode::Wallboard,
        (None, true) => Mode::ReadOnly,
        (None, false) => Mode::ReadWrite,
    };
    screen.principal = Principal::local(mode);
    screen.wallboard = wallboard.map(|interval| Wallboard::new(interval, now));
    screen.keymap = Arc::new(keymap);
    let mut theme_file = ThemeFile::new(&theme);
    screen.theme = theme;
    screen.max_instances = config.max_instances;
    screen.low_bandwidth = config.low_bandwidth;
    screen.log_lines = config.log_lines;
    let mut macros = Macros::default();
    let mut player = script.map(Player::new);
    // Set when a script wait gives up under --exit-after-keys: the exit is then an error.
    let mut script_failed = None;
    let frame = if config.low_bandwidth {
        SLOW_FRAME
    } else {
        FRAME
    };
    if screen.cluster.hosts.is_empty() && config.etcd.is_none() {
        screen.ui.message =
            Some("no hosts: set DOCKER_HOST, pass --config, or run `wheelhouse lab up`".to_owned());
    }
    let auditor = (feed.etcd())
        .map(|etcd| ops::spawn_auditor(etcd, config.prefix.clone(), screen.principal.clone()));

    let mut guard = TerminalGuard::enter()?;
    if let Ok(size) = guard.terminal.size() {
        let geometry = measure(&screen, size.width, size.height);
        update(&mut screen, Msg::Resize(geometry));
    }
    let mut inbox = Inbox::start(pictures)?;
    let answers = inbox.answers();
    let mut io = Io {
        config: &config,
        etcd: feed.etcd(),
        answers: &answers,
        auditor: auditor.as_ref(),
        logs: None,
        agents: crate::agent::client::Clients::default(),
    };
    let mut last_draw = Instant::now() - frame;
    // For the scale figures: the first complete grid, and each key's time to its frame.
    let mut first_grid = latency::FirstGrid::default();
    let mut keys = latency::KeyLatency::default();

    // Whether something other than a new picture or the clock waits to be drawn.
    let mut urgent = false;
    let limit = |urgent: bool| {
        if urgent {
            frame
        } else {
            frame.max(PICTURE_FRAME)
        }
    };
    'run: loop {
        let wait_frame = tokio::time::sleep_until((last_draw + limit(urgent)).into());
        let first = tokio::select! {
            inbound = inbox.rx.recv() => inbound.unwrap_or(Inbound::Stop),
            _ = wait_frame, if screen.dirty => Inbound::Clock(Instant::now()),
        };
        let received = Instant::now();
        // Take what else is queued so a burst costs one frame, not one per message.
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match inbox.rx.try_recv() {
                Ok(inbound) => batch.push(inbound),
                Err(_) => break,
            }
        }
        // A key is answered with a frame at once: under a stream of data (a logs view
        // following a flood) the frame limit would otherwise add up to a frame's wait.
        let keyed = !screen.low_bandwidth && batch.iter().any(|i| matches!(i, Inbound::Key(_)));
        urgent |=
            (batch.iter()).any(|i| !matches!(i, Inbound::Msg(Msg::Cluster(_)) | Inbound::Clock(_)));
        if screen.low_bandwidth && !batch.iter().any(|i| matches!(i, Inbound::Clock(_))) {
            // Ticks are held back on a slow link: bring the clock up to date before data
            // is stamped with it.
            update(&mut screen, Msg::Tick(Instant::now()));
        }
        // Theme and export effects need the screen's state: done once the batch is through.
        let mut later = Vec::new();
        let mut apply = |screen: &mut Screen, msg: Msg| {
            for effect in update(screen, msg) {
                later.extend(io.apply(effect, screen));
            }
        };
        for inbound in batch {
            match inbound {
                Inbound::Msg(msg) => apply(&mut screen, msg),
                // Typed keys and script keys take the same path: macros, then the keymap.
                Inbound::Key(key) => {
                    let keymap = Arc::clone(&screen.keymap);
                    macros.press(&mut screen, &keymap, key, &mut apply);
                }
                Inbound::Resized { width, height } => {
                    let geometry = measure(&screen, width, height);
                    apply(&mut screen, Msg::Resize(geometry));
                }
                Inbound::Clock(now) => {
                    if clock_shows(&screen, now) {
                        apply(&mut screen, Msg::Tick(now));
                    }
                    for msg in theme_file.reload_if_changed(&screen) {
                        apply(&mut screen, msg);
                    }
                    if screen.wallboard.is_some() {
                        let at = SystemTime::now();
                        let clock = clock_text(at, &local_zone(at));
                        apply(&mut screen, Msg::WallClock { now, clock });
                    }
                }
                Inbound::Stop => break 'run,
            }
        }
        if let Some(playing) = &mut player
            && let Some(ended) = play(
                playing,
                &mut screen,
                &mut macros,
                Instant::now(),
                &mut apply,
            )
        {
            player = None;
            if let Err(why) = ended {
                tracing::warn!("{why}");
                apply(&mut screen, Msg::Notice(why.clone()));
                script_failed = exit_after_keys.then_some(why);
            }
            if exit_after_keys {
                apply(&mut screen, Msg::Leave);
            }
        }
        for effect in later {
            let msgs = match effect {
                Effect::ExportScreen(dir) => {
                    let dir = dir.map_or_else(super::export::default_dir, std::path::PathBuf::from);
                    vec![effects::export_screen(&screen, &dir)]
                }
                Effect::SwitchTheme(name) => effects::switch_theme(&name, &mut theme_file, &screen),
                Effect::SaveLogs(path) => vec![effects::save_logs(&screen, path)],
                _ => continue,
            };
            // Notices and a new theme change the screen only: they have no effects.
            for msg in msgs {
                let _ = update(&mut screen, msg);
            }
        }
        if screen.quit {
            break;
        }
        if screen.dirty && (keyed || last_draw.elapsed() >= limit(urgent)) {
            draw(&mut guard, &screen)?;
            screen.dirty = false;
            urgent = false;
            last_draw = Instant::now();
            if keyed {
                keys.record(received.elapsed());
            }
            first_grid.drawn(&screen.cluster, now);
        }
    }
    drop(inbox);
    drop(guard);
    if let Some((n, p50, p99, max)) = keys.summary() {
        tracing::info!(n, ?p50, ?p99, ?max, "keypress to frame");
    }
    match script_failed {
        Some(why) => Err(color_eyre::eyre::eyre!(why)),
        None => Ok(()),
    }
}

/// The layout `update` pages by at this size, help measured in the screen's keymap and theme.
fn measure(screen: &Screen, width: u16, height: u16) -> crate::tui::layout::Geometry {
    super::measure(width, height, &screen.keymap, &screen.theme)
}

/// Whether a tick at `now` would change the screen. Every tick does, except on a slow link,
/// where the data age is shown in steps (`coarse_age`): there a tick passes only when the
/// step changes, or `SLOW_CLOCK` after the last one.
fn clock_shows(screen: &Screen, now: Instant) -> bool {
    if !screen.low_bandwidth || now.saturating_duration_since(screen.now) >= SLOW_CLOCK {
        return true;
    }
    screen.cluster.last_data.is_some_and(|t| {
        coarse_age(now.saturating_duration_since(t))
            != coarse_age(screen.now.saturating_duration_since(t))
    })
}

/// Plays script steps until one waits. Returns None while the script goes on, then how it
/// ended.
fn play(
    player: &mut Player,
    screen: &mut Screen,
    macros: &mut Macros,
    now: Instant,
    apply: &mut super::macros::Apply<'_>,
) -> Option<Result<(), String>> {
    loop {
        match player.next(screen, now) {
            Next::Key(key) => {
                let keymap = Arc::clone(&screen.keymap);
                macros.press(screen, &keymap, key, apply);
            }
            Next::Wait => return None,
            Next::Quit => {
                apply(screen, Msg::Leave);
                return Some(Ok(()));
            }
            Next::Done => return Some(Ok(())),
            Next::Failed(why) => return Some(Err(why)),
        }
        if screen.quit {
            return Some(Ok(()));
        }
    }
}

/// One frame inside synchronized output, so terminals (and SSH links) show it whole.
fn draw(guard: &mut TerminalGuard, screen: &Screen) -> std::io::Result<()> {
    let terminal = &mut guard.terminal;
    crossterm::queue!(
        terminal.backend_mut(),
        crossterm::terminal::BeginSynchronizedUpdate
    )?;
    terminal.draw(|frame| super::draw(frame, screen))?;
    crossterm::queue!(
        terminal.backend_mut(),
        crossterm::terminal::EndSynchronizedUpdate
    )?;
    terminal.backend_mut().flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_a_slow_link_ticks_pass_only_when_the_shown_age_changes() {
        let start = Instant::now();
        let mut screen = Screen::new(start);
        screen.cluster_mut().last_data = Some(start);
        let at = |s| start + Duration::from_secs(s);
        assert!(clock_shows(&screen, at(1)), "every tick counts by default");
        screen.low_bandwidth = true;
        assert!(!clock_shows(&screen, at(1)));
        assert!(!clock_shows(&screen, at(9)), "still <10s");
        assert!(clock_shows(&screen, at(10)), "now <1m");
        screen.now = at(10);
        assert!(!clock_shows(&screen, at(59)));
        assert!(clock_shows(&screen, at(60)), "now 1m");
        screen.now = at(60);
        screen.cluster_mut().last_data = None;
        assert!(!clock_shows(&screen, at(119)));
        assert!(clock_shows(&screen, at(120)), "other ages once a minute");
    }
}
