use super::*;
use crate::model::app::AppSpec;
use crate::model::{AppRecord, Focus, Host, HostSource, HostState};
use crate::update::update;

fn model() -> Model {
    let spec = crate::update::tests::support::host_spec;
    let hosts = (1..=6)
        .map(|i| {
            let mut h = Host::new(spec(&format!("lab-{i}")), HostSource::Config);
            h.state = HostState::Online;
            h
        })
        .collect();
    let mut m = Model::with_hosts(Instant::now(), hosts);
    m.ui.width = 200;
    m.ui.height = 50;
    m.apps.insert(
        "web".into(),
        AppRecord {
            spec: AppSpec::new("web", "wheelhouse/demo:1"),
            revision: 1,
        },
    );
    m
}

fn ch(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

fn tab() -> KeyEvent {
    KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE)
}

/// Presses keys the way the loop does, applying messages through `update`.
fn press(macros: &mut Macros, m: &mut Model, keys: &[KeyEvent], now: Instant) {
    let keymap = Keymap::default_keymap();
    for key in keys {
        macros.press(m, &keymap, *key, now, &mut |m, msg| {
            update(m, msg);
        });
    }
}

fn message(m: &Model) -> &str {
    m.ui.message.as_deref().unwrap_or("")
}

#[test]
fn q_letter_records_until_q_and_at_letter_replays() {
    let (mut macros, mut m, now) = (Macros::default(), model(), Instant::now());
    press(&mut macros, &mut m, &[ch('q'), ch('a')], now);
    assert_eq!(macros.recording(), Some('a'));
    assert!(message(&m).contains("recording @a"), "{}", message(&m));
    assert!(!m.quit, "q followed by a letter does not quit");
    press(&mut macros, &mut m, &[ch('l'), ch('l'), ch('q')], now);
    assert_eq!(macros.recording(), None);
    assert_eq!(macros.register('a'), Some(&[ch('l'), ch('l')][..]));
    assert_eq!(message(&m), "macro @a recorded (2 keys)");
    assert_eq!(m.ui.selected, 2, "recorded keys act as they are typed");
    press(&mut macros, &mut m, &[ch('@'), ch('a')], now);
    assert_eq!(m.ui.selected, 4, "the replay moved two more cells");
    press(&mut macros, &mut m, &[ch('@'), ch('z')], now);
    assert_eq!(message(&m), "no macro @z: record one with qz");
}

#[test]
fn a_lone_q_still_quits_after_the_hold_or_before_another_key() {
    let keymap = Keymap::default_keymap();
    let (mut macros, mut m, now) = (Macros::default(), model(), Instant::now());
    press(&mut macros, &mut m, &[ch('q')], now);
    assert!(!m.quit && macros.holding());
    let mut apply = |m: &mut Model, msg| {
        update(m, msg);
    };
    macros.tick(&mut m, &keymap, now + HOLD / 2, &mut apply);
    assert!(!m.quit, "still waiting for a register letter");
    macros.tick(&mut m, &keymap, now + HOLD, &mut apply);
    assert!(m.quit, "a lone q quits once the hold is over");

    let (mut macros, mut m) = (Macros::default(), model());
    press(
        &mut macros,
        &mut m,
        &[ch('q'), KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)],
        now,
    );
    assert!(m.quit, "q then a non-letter quits at once");
    assert_eq!(macros.recording(), None);
}

#[test]
fn a_replay_stops_at_a_refused_mutation_in_read_only_mode() {
    let (mut macros, mut m, now) = (Macros::default(), model(), Instant::now());
    m.readonly = true;
    // Record: focus the apps panel, then `+` (refused as typed, too), then `j`.
    press(
        &mut macros,
        &mut m,
        &[ch('q'), ch('a'), tab(), ch('+'), ch('j'), ch('q')],
        now,
    );
    assert_eq!(macros.register('a').map(<[_]>::len), Some(3));
    assert_eq!(m.apps["web"].spec.instances, 1);
    press(
        &mut macros,
        &mut m,
        &[KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)],
        now,
    );
    assert_eq!(m.ui.focus, Focus::Grid);
    let selected = m.ui.selected;
    press(&mut macros, &mut m, &[ch('@'), ch('a')], now);
    assert_eq!(m.ui.focus, Focus::Apps, "keys before the refusal ran");
    assert!(
        message(&m).starts_with("macro @a stopped: read-only: one more instance is refused"),
        "{}",
        message(&m)
    );
    assert_eq!(m.ui.dialog, None, "nothing asked to change the cluster");
    assert_eq!(
        m.ui.selected, selected,
        "keys after the refusal did not run"
    );
}

#[test]
fn q_and_at_are_typed_into_prompts_not_taken_as_macro_keys() {
    let (mut macros, mut m, now) = (Macros::default(), model(), Instant::now());
    press(&mut macros, &mut m, &[tab(), ch('s')], now);
    assert!(m.ui.dialog.is_some(), "the scale prompt is open");
    press(
        &mut macros,
        &mut m,
        &[ch('q'), ch('a'), ch('@'), ch('b')],
        now,
    );
    assert_eq!(macros.recording(), None);
    assert!(!macros.holding());
    assert!(!m.quit);
    assert!(m.ui.dialog.is_some(), "the prompt is still open");
}

const NAMED: &str = r#"
[grid]
run_macro.down2 = ["ctrl-t"]
run_macro.grow = ["ctrl-g"]
run_macro.again = ["ctrl-l"]

[macros]
down2 = ["l", "move_right"]
grow = ["focus_next", "+", "l"]
again = ["ctrl-l"]
"#;

fn ctrl(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
}

/// `press` with a keymap file's macros.
fn press_named(macros: &mut Macros, m: &mut Model, keys: &[KeyEvent]) {
    let keymap =
        Keymap::parse(std::path::Path::new("named.toml"), NAMED).unwrap_or_else(|e| panic!("{e}"));
    for key in keys {
        macros.press(m, &keymap, *key, Instant::now(), &mut |m, msg| {
            update(m, msg);
        });
    }
}

#[test]
fn a_key_bound_to_a_named_macro_plays_its_keys_and_actions() {
    let (mut macros, mut m) = (Macros::default(), model());
    press_named(&mut macros, &mut m, &[ctrl('t')]);
    assert_eq!(m.ui.selected, 2, "a key step and an action step");
    // Recorded into a register, the macro's key replays the macro.
    press_named(&mut macros, &mut m, &[ch('q'), ch('b'), ctrl('t'), ch('q')]);
    assert_eq!(macros.register('b'), Some(&[ctrl('t')][..]));
    assert_eq!(m.ui.selected, 4);
    press_named(&mut macros, &mut m, &[ch('@'), ch('b')]);
    assert_eq!(m.ui.selected, 5, "stopped at the last of the 6 cells");
}

#[test]
fn a_named_macro_stops_at_a_refused_mutation_in_read_only_mode() {
    let (mut macros, mut m) = (Macros::default(), model());
    m.readonly = true;
    press_named(&mut macros, &mut m, &[ctrl('g')]);
    assert_eq!(m.ui.focus, Focus::Apps, "the step before the refusal ran");
    assert!(
        message(&m).starts_with("macro grow stopped: read-only: one more instance is refused"),
        "{}",
        message(&m)
    );
    assert_eq!(m.apps["web"].spec.instances, 1);
    assert_eq!(m.ui.dialog, None);
}

#[test]
fn a_named_macro_that_runs_itself_stops() {
    let (mut macros, mut m) = (Macros::default(), model());
    press_named(&mut macros, &mut m, &[ctrl('l')]);
    assert!(
        message(&m).contains("macro again stopped: macros nested deeper than"),
        "{}",
        message(&m)
    );
}

#[test]
fn an_unbound_alt_key_is_esc_then_the_key() {
    // tmux or an SSH link delivers a quick `Esc q` as one ESC q read: Alt+q.
    let (mut macros, mut m, now) = (Macros::default(), model(), Instant::now());
    m.ui.help = true;
    let alt_q = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::ALT);
    press(&mut macros, &mut m, &[alt_q], now);
    assert!(!m.ui.help, "the Esc half closes help");
    assert!(!m.quit, "the q half is held for a register letter");
    macros.tick(
        &mut m,
        &Keymap::default_keymap(),
        now + HOLD,
        &mut |m, msg| {
            update(m, msg);
        },
    );
    assert!(m.quit, "then quits");
}

#[test]
fn ctrl_alt_keys_are_not_split() {
    // Split, an unbound ctrl-alt-c would be Esc then ctrl-c: quit.
    let (mut macros, mut m, now) = (Macros::default(), model(), Instant::now());
    let ctrl_alt_c = KeyEvent::new(
        KeyCode::Char('c'),
        KeyModifiers::CONTROL | KeyModifiers::ALT,
    );
    press(&mut macros, &mut m, &[ctrl_alt_c], now);
    assert!(!m.quit);
    let shift_alt_g = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::ALT | KeyModifiers::SHIFT);
    m.ui.help = true;
    press(&mut macros, &mut m, &[shift_alt_g], now);
    assert!(!m.ui.help, "alt-shift-G is Esc then G: the Esc closes help");
}
