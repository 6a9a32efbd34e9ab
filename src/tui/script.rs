//! Key scripts (`wheelhouse --keys FILE`): a pure parser, and a player the event loop asks
//! for the next key. Script keys go through the same macro and keymap handling as typed
//! keys, so a script can do exactly what an operator can, and nothing more.
//!
//! One item per line:
//!
//! ```text
//! # a comment (a line whose first non-blank character is #)
//! j                          a key, spelled as keymap files spell them: enter, esc, ctrl-c, +
//! type web                   types the characters (into a prompt); the rest of the line, verbatim
//! wait 2s                    waits that long
//! wait app web healthy 6     until web has at least 6 healthy instances
//! wait host lab-1 online     until lab-1 is online (or `offline`)
//! wait app web healthy 6 within 2m   the same, giving up after 2 minutes (default 5)
//! quit                       leaves the cockpit at once
//! ```
//!
//! A condition not met in time stops the script with a message naming its line; with
//! `--exit-after-keys` the cockpit then exits with an error, so a routine that scripts it
//! knows it failed.

use crate::cluster::HostState;
use crate::cluster::app_statuses;
use crate::domain::{Bounds, FileError, decode, read_file};
use crate::tui::screen::Screen;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::VecDeque;
use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

/// A condition a script waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wait {
    AppHealthy { app: String, count: u32 },
    Host { host: String, online: bool },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Key(KeyEvent),
    Type(String),
    /// `wait 2s`
    Pause(Duration),
    /// Until the condition holds; gives up after `within`, naming its `line`.
    Wait {
        until: Wait,
        within: Duration,
        line: usize,
    },
    Quit,
}

/// How long a condition wait holds on when the script does not say (`within`).
pub const DEFAULT_WITHIN: Duration = Duration::from_secs(300);
/// `wait DURATION` and `within DURATION`: up to a day.
pub const WAIT: Bounds = Bounds::new(Duration::ZERO, Duration::from_secs(24 * 3600));

/// A parsed script: its steps in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Script {
    pub steps: Vec<Step>,
}

/// Reads a script from a file, or from stdin when `name` is `-`.
pub fn load(name: &str) -> Result<Script, FileError> {
    if name == "-" {
        let path = Path::new("<stdin>");
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| FileError::whole(path, format!("cannot read: {e}")))?;
        return parse(path, &decode(path, bytes)?);
    }
    let path = Path::new(name);
    parse(path, &read_file(path)?)
}

/// Parses a whole script; the first error names its line and column.
pub fn parse(path: &Path, source: &str) -> Result<Script, FileError> {
    let mut steps = Vec::new();
    let mut offset = 0;
    for (number, raw) in (1..).zip(source.split_inclusive('\n')) {
        let line = raw.trim_end_matches(['\n', '\r']);
        if let Some(step) = parse_line(line, number)
            .map_err(|(at, msg)| FileError::at(path, source, offset + at..offset + at, msg))?
        {
            steps.push(step);
        }
        offset += raw.len();
    }
    Ok(Script { steps })
}

/// A word of a line with its byte offset in the line.
fn words(line: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in line.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push((s, &line[s..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, &line[s..]));
    }
    out
}

type LineError = (usize, String);

fn parse_line(line: &str, number: usize) -> Result<Option<Step>, LineError> {
    let words = words(line);
    let Some(&(at, first)) = words.first() else {
        return Ok(None);
    };
    if first.starts_with('#') {
        return Ok(None);
    }
    match first {
        "type" => {
            let text = line[at + 4..].strip_prefix([' ', '\t']).unwrap_or("");
            if text.is_empty() {
                return Err((at, "`type` needs the text to type, like `type web`".into()));
            }
            Ok(Some(Step::Type(text.to_owned())))
        }
        "wait" => parse_wait(&words[1..], at, number).map(Some),
        "quit" if words.len() == 1 => Ok(Some(Step::Quit)),
        _ => {
            if let Some(&(extra, _)) = words.get(1) {
                return Err((extra, "one key per line (or `type TEXT`)".into()));
            }
            key_event(first)
                .map(|k| Some(Step::Key(k)))
                .map_err(|e| (at, e))
        }
    }
}

const WAIT_FORMS: &str = "`wait 2s`, `wait app NAME healthy N` or `wait host NAME online|offline`, \
     the last two optionally ending in `within 2m`";

fn parse_wait(args: &[(usize, &str)], at: usize, line: usize) -> Result<Step, LineError> {
    match args {
        [(p, duration)] => {
            return WAIT
                .parse("wait", duration)
                .map(Step::Pause)
                .map_err(|m| (*p, m));
        }
        [_, (w, "within"), ..] => {
            let why = "`within` bounds a wait for an app or a host, not `wait DURATION`";
            return Err((*w, why.into()));
        }
        _ => {}
    }
    let (args, within) = match args {
        [rest @ .., (_, "within"), (p, limit)] => {
            let limit = WAIT.parse("within", limit).map_err(|m| (*p, m))?;
            (rest, limit)
        }
        _ => (args, DEFAULT_WITHIN),
    };
    let until = parse_condition(args, at)?;
    Ok(Step::Wait {
        until,
        within,
        line,
    })
}

fn parse_condition(args: &[(usize, &str)], at: usize) -> Result<Wait, LineError> {
    let texts: Vec<&str> = args.iter().map(|(_, w)| *w).collect();
    let pos = |i: usize| args.get(i).map_or(at, |(p, _)| *p);
    match texts.as_slice() {
        ["app", app, "healthy", count] => count
            .parse()
            .map(|count| Wait::AppHealthy {
                app: (*app).to_owned(),
                count,
            })
            .map_err(|_| (pos(3), format!("{count:?} is not an instance count"))),
        ["host", host, state @ ("online" | "offline")] => Ok(Wait::Host {
            host: (*host).to_owned(),
            online: *state == "online",
        }),
        ["host", _, other] => Err((pos(2), format!("{other:?}: expected online or offline"))),
        _ => Err((pos(0), format!("unknown wait: expected {WAIT_FORMS}"))),
    }
}

/// The terminal event a keymap key name stands for: scripts accept exactly what keymap
/// files accept, with the same messages.
pub fn key_event(text: &str) -> Result<KeyEvent, String> {
    crate::tui::keymap::Key::parse(text).map(crate::tui::keymap::Key::event)
}

/// Whether a condition holds: pure, from the screen.
pub fn satisfied(wait: &Wait, screen: &Screen) -> bool {
    match wait {
        Wait::AppHealthy { app, count } => app_statuses(&screen.cluster)
            .iter()
            .any(|s| s.name == *app && s.healthy >= *count),
        Wait::Host { host, online: true } => screen
            .cluster
            .host(host)
            .is_some_and(|h| h.state == HostState::Online),
        Wait::Host {
            host,
            online: false,
        } => screen
            .cluster
            .host(host)
            .is_some_and(|h| matches!(h.state, HostState::Offline { .. })),
    }
}

/// What a wait is waiting for, for the message when it gives up.
fn describe(wait: &Wait) -> String {
    match wait {
        Wait::AppHealthy { app, count } => format!("{app} to have {count} healthy instances"),
        Wait::Host { host, online: true } => format!("{host} to come online"),
        Wait::Host { host, .. } => format!("{host} to go offline"),
    }
}

/// What the loop does next for a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Press this key (through macros and the keymap, like a typed key).
    Key(KeyEvent),
    /// Nothing yet: ask again on the next tick.
    Wait,
    /// Leave the cockpit.
    Quit,
    /// The script is over.
    Done,
    /// A wait gave up: the script stops here, for this reason.
    Failed(String),
}

/// Plays a script one step at a time.
#[derive(Debug, Clone)]
pub struct Player {
    steps: VecDeque<Step>,
    /// When the current wait began.
    waiting: Option<Instant>,
}

impl Player {
    pub fn new(script: Script) -> Self {
        Player {
            steps: script.steps.into(),
            waiting: None,
        }
    }

    /// The next thing to do at `now`, given the screen as it is.
    pub fn next(&mut self, screen: &Screen, now: Instant) -> Next {
        loop {
            let Some(step) = self.steps.pop_front() else {
                return Next::Done;
            };
            match step {
                Step::Key(key) => return Next::Key(key),
                Step::Quit => return Next::Quit,
                Step::Type(text) => {
                    // One key per character, each typed like a key press.
                    for c in text.chars().rev() {
                        let key = KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
                        self.steps.push_front(Step::Key(key));
                    }
                }
                Step::Pause(length) => {
                    let started = *self.waiting.get_or_insert(now);
                    if now.saturating_duration_since(started) >= length {
                        self.waiting = None;
                        continue;
                    }
                    self.steps.push_front(Step::Pause(length));
                    return Next::Wait;
                }
                Step::Wait {
                    until,
                    within,
                    line,
                } => {
                    let started = *self.waiting.get_or_insert(now);
                    if satisfied(&until, screen) {
                        self.waiting = None;
                        continue;
                    }
                    if now.saturating_duration_since(started) >= within {
                        self.steps.clear();
                        return Next::Failed(format!(
                            "key script line {line}: gave up after {within:?} waiting for {}",
                            describe(&until)
                        ));
                    }
                    self.steps.push_front(Step::Wait {
                        until,
                        within,
                        line,
                    });
                    return Next::Wait;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
