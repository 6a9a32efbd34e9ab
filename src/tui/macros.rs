//! Keyboard macros, kept at the loop level on raw key presses: `Q<letter>` records the keys
//! that follow until `Q` again, `@<letter>` replays them. A replay resolves each key against
//! the keymap section the cockpit is in at that moment and sends the action through
//! `update`, so it can do exactly what the keys could; a refused mutation (read-only)
//! stops it with a message.
//!
//! A key bound to a named macro (`run_macro.NAME` in the keymap) replays that macro's
//! steps the same way: keys through the keymap, actions as they are, each asked of the
//! gate first (`update::gate`, as `update` asks it for a typed key).
//!
//! When `Q` and `@` are macro keys:
//! - never while a dialog, a prompt or help is open (they are then typed or answer it);
//! - only where the keymap binds nothing to them, so a keymap may take them back;
//! - the key after them is the register (a–z); anything else is refused with a message.
//!   No timing is involved: `q` (quit) and `Q` never mean each other.
use super::keymap::{Key, Keymap, Pending, Resolved, Section, Step};
use crate::tui::screen::Screen;
use crate::tui::update::{Msg, gate};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::HashMap;

/// A replay under way: what messages call it, whether its keys are recorded (a register
/// replay's keys were not typed, so a recording would miss them), how deep it is nested.
struct Run<'a> {
    label: &'a str,
    record: bool,
    depth: usize,
}

/// Named macros may run others (by key); deeper than this is taken for a loop.
const MAX_DEPTH: usize = 8;

/// The key that starts and stops a recording.
pub const RECORD: char = 'Q';
/// The key that replays a register.
pub const REPLAY: char = '@';

/// Applies a message to the screen (and carries out its effects): the loop's `update` step.
pub type Apply<'a> = dyn FnMut(&mut Screen, Msg) + 'a;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Held {
    /// `Q`: the next key names the register to record into.
    Record,
    /// `@`: the next key names the register to replay.
    Replay,
}

/// Registers, the recording under way, and a `Q` or `@` waiting for its register.
#[derive(Debug, Default, Clone)]
pub struct Macros {
    registers: HashMap<char, Vec<KeyEvent>>,
    recording: Option<(char, Vec<KeyEvent>)>,
    held: Option<Held>,
    /// The keys of a keymap sequence typed so far (`g` of `g g`).
    sequence: Pending,
}

fn plain_char(key: &KeyEvent) -> Option<char> {
    match key.code {
        KeyCode::Char(c)
            if !key
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
        {
            Some(c)
        }
        _ => None,
    }
}

fn register(key: &KeyEvent) -> Option<char> {
    plain_char(key).filter(char::is_ascii_lowercase)
}

/// An Alt+character no binding claims, taken as Esc then the character. A terminal sends
/// Alt+x as ESC x, so Esc typed quickly before a key (or both in one SSH packet) arrives
/// as Alt+key; without this, `Esc q` would do nothing at all.
fn split_escape(screen: &Screen, keymap: &Keymap, key: KeyEvent) -> Option<(KeyEvent, KeyEvent)> {
    let KeyCode::Char(_) = key.code else {
        return None;
    };
    // Only what the terminal sends as ESC + character: Alt, perhaps with Shift. Ctrl+Alt
    // (AltGr on some consoles) is a chord of its own.
    if key.modifiers - KeyModifiers::SHIFT != KeyModifiers::ALT {
        return None;
    }
    let (resolved, pending) =
        keymap.resolve_binding(Section::for_ui(&screen.ui), Pending::default(), key);
    if resolved.is_some() || !pending.is_empty() {
        return None;
    }
    let esc = KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE);
    Some((
        esc,
        KeyEvent::new(key.code, key.modifiers - KeyModifiers::ALT),
    ))
}

/// Macro keys are only taken outside dialogs, prompts and help.
fn free(screen: &Screen) -> bool {
    !screen.ui.help
        && !matches!(
            Section::for_ui(&screen.ui),
            Section::Prompt | Section::Confirm
        )
}

/// `key` is the macro key `c`, here: free, and bound to nothing in the keymap.
fn macro_key(screen: &Screen, keymap: &Keymap, key: &KeyEvent, c: char) -> bool {
    free(screen)
        && plain_char(key) == Some(c)
        && keymap
            .resolve_binding(Section::for_ui(&screen.ui), Pending::default(), *key)
            .0
            .is_none()
}

impl Macros {
    /// The register being recorded into, for the status line.
    pub fn recording(&self) -> Option<char> {
        self.recording.as_ref().map(|(r, _)| *r)
    }

    /// The keys stored in a register.
    pub fn register(&self, name: char) -> Option<&[KeyEvent]> {
        self.registers.get(&name).map(Vec::as_slice)
    }

    /// One key press, typed or from a script.
    pub fn press(
        &mut self,
        screen: &mut Screen,
        keymap: &Keymap,
        key: KeyEvent,
        apply: &mut Apply<'_>,
    ) {
        if let Some((esc, plain)) = split_escape(screen, keymap, key) {
            self.press(screen, keymap, esc, apply);
            self.press(screen, keymap, plain, apply);
            return;
        }
        if let Some(held) = self.held.take() {
            let Some(r) = register(&key) else {
                let (k, what) = match held {
                    Held::Record => (RECORD, "record"),
                    Held::Replay => (REPLAY, "replay"),
                };
                let note = format!("{k} then a letter a–z names the macro to {what}");
                apply(screen, Msg::Notice(note));
                return;
            };
            match held {
                Held::Record => {
                    self.recording = Some((r, Vec::new()));
                    let note = format!("recording @{r} ({RECORD} stops)");
                    apply(screen, Msg::Notice(note));
                }
                Held::Replay => self.replay(screen, keymap, r, apply),
            }
            return;
        }
        if macro_key(screen, keymap, &key, RECORD) {
            match self.recording.take() {
                Some((r, keys)) => {
                    let note = format!("macro @{r} recorded ({} keys)", keys.len());
                    self.registers.insert(r, keys);
                    apply(screen, Msg::Notice(note));
                }
                None => self.held = Some(Held::Record),
            }
            return;
        }
        if macro_key(screen, keymap, &key, REPLAY) {
            self.held = Some(Held::Replay);
            return;
        }
        self.dispatch(screen, keymap, key, apply);
    }

    /// The key's action in the current section, recorded if a recording is under way.
    fn dispatch(
        &mut self,
        screen: &mut Screen,
        keymap: &Keymap,
        key: KeyEvent,
        apply: &mut Apply<'_>,
    ) {
        if let Some((_, keys)) = &mut self.recording {
            keys.push(key);
        }
        let section = Section::for_ui(&screen.ui);
        let (resolved, sequence) =
            keymap.resolve_binding(section, std::mem::take(&mut self.sequence), key);
        self.sequence = sequence;
        match resolved {
            Some(Resolved::Action(action)) => apply(screen, Msg::Action(action)),
            // Help closes on any key, bound or not.
            None if screen.ui.help && self.sequence.is_empty() => {
                apply(screen, Msg::Action(crate::tui::action::Action::Back))
            }
            Some(Resolved::Macro(named)) => {
                let label = format!("macro {}", named.name);
                let run = Run {
                    label: &label,
                    record: false,
                    depth: 1,
                };
                self.run(screen, keymap, run, &named.steps, apply);
            }
            None => {}
        }
    }

    /// Replays a register key by key; a refused mutation stops it there.
    fn replay(&mut self, screen: &mut Screen, keymap: &Keymap, r: char, apply: &mut Apply<'_>) {
        let Some(keys) = self.registers.get(&r) else {
            apply(
                screen,
                Msg::Notice(format!("no macro @{r}: record one with {RECORD}{r}")),
            );
            return;
        };
        let steps: Vec<Step> = keys
            .iter()
            .map(|k| Step::Key(Key::from_event(*k)))
            .collect();
        let label = format!("macro @{r}");
        let run = Run {
            label: &label,
            record: true,
            depth: 1,
        };
        self.run(screen, keymap, run, &steps, apply);
    }

    /// Plays macro steps: keys resolved in the section the cockpit is in at each one,
    /// actions as they are. A refused mutation stops it with a message naming it.
    /// Returns whether it ran to the end.
    fn run(
        &mut self,
        screen: &mut Screen,
        keymap: &Keymap,
        Run {
            label,
            record,
            depth,
        }: Run<'_>,
        steps: &[Step],
        apply: &mut Apply<'_>,
    ) -> bool {
        if depth > MAX_DEPTH {
            let note = format!("{label} stopped: macros nested deeper than {MAX_DEPTH}");
            apply(screen, Msg::Notice(note));
            return false;
        }
        let mut sequence = Pending::default();
        for step in steps {
            let resolved = match step {
                Step::Action(action) => Resolved::Action(action.clone()),
                Step::Key(key) => {
                    if record && let Some((_, recording)) = &mut self.recording {
                        recording.push(key.event());
                    }
                    let section = Section::for_ui(&screen.ui);
                    let (resolved, rest) = keymap.resolve_binding(section, sequence, key.event());
                    sequence = rest;
                    let Some(resolved) = resolved else {
                        continue;
                    };
                    resolved
                }
            };
            match resolved {
                Resolved::Action(action) => {
                    if let Err(refusal) = gate(screen, &action) {
                        let note = format!("{label} stopped: {}", refusal.reason);
                        crate::tui::update::refuse(screen, refusal);
                        apply(screen, Msg::Notice(note));
                        return false;
                    }
                    apply(screen, Msg::Action(action));
                }
                Resolved::Macro(named) => {
                    let inner = format!("macro {}", named.name);
                    let run = Run {
                        label: &inner,
                        record: false,
                        depth: depth + 1,
                    };
                    if !self.run(screen, keymap, run, &named.steps, apply) {
                        return false;
                    }
                }
            }
            if screen.quit {
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests;
