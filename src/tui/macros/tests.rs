use super::*;
use crate::cluster::AppRecord;
use crate::cluster::{Host, HostSource, HostState};
use crate::domain::app::AppSpec;
use crate::tui::screen::Focus;
use crate::tui::update::update;
use std::time::Instant;

fn screen() -> Screen {
    let spec = crate::tui::update::tests::support::host_spec;
    let hosts = (1..=6)
        .map(|i| {
            let mut h = Host::new(spec(&format!("lab-{i}")), HostSource::Config);
            h.state = HostState::Online;
            h
        })
        .collect();
    let mut m = Screen::with_hosts(Instant::now(), hosts);
    m.ui.geometry = crate::tui::geometry(200, 50);
    m.cluster_mut().apps.insert(
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
fn press(macros: &mut Macros, m: &mut Screen, keys: &[KeyEvent]) {
    let keymap = Keymap::default_keymap();
    for key in keys {
        macros.press(m, &keymap, *key, &mut |m, msg| {
            update(m, msg);
        });
    }
}

fn message(m: &Screen) -> &str {
    m.ui.message.as_deref().unwrap_or("")
}

#[test]
fn shift_q_letter_records_until_shift_q_and_at_letter_replays() {
    let (mut macros, mut m) = (Macros::default(), screen());
    press(&mut macros, &mut m, &[ch('Q'), ch('a')]);
    assert_eq!(macros.recording(), Some('a'));
    assert!(message(&m).contains("recording @a"), "{}", message(&m));
    assert!(!m.quit, "q followed by a letter does not quit");
    press(&mut macros, &mut m, &[ch('l'), ch('l'), ch('Q')]);
    assert_eq!(macros.recording(), None);
    assert_eq!(macros.register('a'), Some(&[ch('l'), ch('l')][..]));
    assert_eq!(message(&m), "macro @a recorded (2 keys)");
    assert_eq!(m.ui.selected, 2, "recorded keys act as they are typed");
    press(&mut macros, &mut m, &[ch('@'), ch('a')]);
    assert_eq!(m.ui.selected, 4, "the replay moved two more cells");
    press(&mut macros, &mut m, &[ch('@'), ch('z')]);
    assert_eq!(message(&m), "no macro @z: record one with Qz");
}

#[test]
fn q_quits_at_once_and_never_starts_a_recording() {
    // A `q` and then a letter, however quickly typed, is quit: recording has its own key.
    let (mut macros, mut m) = (Macros::default(), screen());
    press(&mut macros, &mut m, &[ch('q')]);
    assert!(m.quit, "q quits at once, with no hold");
    let (mut macros, mut m) = (Macros::default(), screen());
    press(&mut macros, &mut m, &[ch('q'), ch('a')]);
    assert!(m.quit);
    assert_eq!(macros.recording(), None);
}

#[test]
fn shift_q_then_a_non_letter_says_what_it_wants() {
    let (mut macros, mut m) = (Macros::default(), screen());
    press(&mut macros, &mut m, &[ch('Q'), ch('1')]);
    assert_eq!(macros.recording(), None);
    assert_eq!(message(&m), "Q then a letter a–z names the macro to record");
    assert!(!m.quit);
    press(&mut macros, &mut m, &[ch('l')]);
    assert_eq!(m.ui.selected, 1, "the next key acts as usual");
}

#[test]
fn a_replay_stops_at_a_refused_mutation_in_read_only_mode() {
    let (mut macros, mut m) = (Macros::default(), screen());
    m.principal.mode = crate::ops::Mode::ReadOnly;
    // Record: focus the apps panel, then `+` (refused as typed, too), then `j`.
    press(
        &mut macros,
        &mut m,
        &[ch('Q'), ch('a'), tab(), ch('+'), ch('j'), ch('Q')],
    );
    assert_eq!(macros.register('a').map(<[_]>::len), Some(3));
    assert_eq!(m.cluster.apps["web"].spec.instances, 1);
    press(
        &mut macros,
        &mut m,
        &[KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)],
    );
    assert_eq!(m.ui.focus, Focus::Grid);
    let selected = m.ui.selected;
    press(&mut macros, &mut m, &[ch('@'), ch('a')]);
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
    let (mut macros, mut m) = (Macros::default(), screen());
    press(&mut macros, &mut m, &[tab(), ch('s')]);
    assert!(m.ui.dialog.is_some(), "the scale prompt is open");
    press(&mut macros, &mut m, &[ch('q'), ch('a'), ch('@'), ch('b')]);
    assert_eq!(macros.recording(), None);
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
fn press_named(macros: &mut Macros, m: &mut Screen, keys: &[KeyEvent]) {
    let keymap =
        Keymap::parse(std::path::Path::new("named.toml"), NAMED).unwrap_or_else(|e| panic!("{e}"));
    for key in keys {
        macros.press(m, &keymap, *key, &mut |m, msg| {
            update(m, msg);
        });
    }
}

#[test]
fn a_key_bound_to_a_named_macro_plays_its_keys_and_actions() {
    let (mut macros, mut m) = (Macros::default(), screen());
    press_named(&mut macros, &mut m, &[ctrl('t')]);
    assert_eq!(m.ui.selected, 2, "a key step and an action step");
    // Recorded into a register, the macro's key replays the macro.
    press_named(&mut macros, &mut m, &[ch('Q'), ch('b'), ctrl('t'), ch('Q')]);
    assert_eq!(macros.register('b'), Some(&[ctrl('t')][..]));
    assert_eq!(m.ui.selected, 4);
    press_named(&mut macros, &mut m, &[ch('@'), ch('b')]);
    assert_eq!(m.ui.selected, 5, "stopped at the last of the 6 cells");
}

#[test]
fn a_named_macro_stops_at_a_refused_mutation_in_read_only_mode() {
    let (mut macros, mut m) = (Macros::default(), screen());
    m.principal.mode = crate::ops::Mode::ReadOnly;
    press_named(&mut macros, &mut m, &[ctrl('g')]);
    assert_eq!(m.ui.focus, Focus::Apps, "the step before the refusal ran");
    assert!(
        message(&m).starts_with("macro grow stopped: read-only: one more instance is refused"),
        "{}",
        message(&m)
    );
    assert_eq!(m.cluster.apps["web"].spec.instances, 1);
    assert_eq!(m.ui.dialog, None);
}

#[test]
fn a_named_macro_that_runs_itself_stops() {
    let (mut macros, mut m) = (Macros::default(), screen());
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
    let (mut macros, mut m) = (Macros::default(), screen());
    m.ui.help = true;
    let alt_q = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::ALT);
    press(&mut macros, &mut m, &[alt_q]);
    assert!(!m.ui.help, "the Esc half closes help");
    assert!(m.quit, "then the q half quits");
}

#[test]
fn any_key_closes_help_even_one_the_keymap_binds_to_nothing() {
    let (mut macros, mut m) = (Macros::default(), screen());
    for key in [
        ch('x'),
        ch('Q'),
        ch('@'),
        KeyEvent::new(KeyCode::F(7), KeyModifiers::NONE),
    ] {
        m.ui.help = true;
        press(&mut macros, &mut m, &[key]);
        assert!(!m.ui.help, "{key:?} closes help");
        assert_eq!(macros.recording(), None);
        assert!(!m.quit);
    }
}

#[test]
fn ctrl_alt_keys_are_not_split() {
    // Split, an unbound ctrl-alt-c would be Esc then ctrl-c: quit.
    let (mut macros, mut m) = (Macros::default(), screen());
    let ctrl_alt_c = KeyEvent::new(
        KeyCode::Char('c'),
        KeyModifiers::CONTROL | KeyModifiers::ALT,
    );
    press(&mut macros, &mut m, &[ctrl_alt_c]);
    assert!(!m.quit);
    let shift_alt_g = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::ALT | KeyModifiers::SHIFT);
    m.ui.help = true;
    press(&mut macros, &mut m, &[shift_alt_g]);
    assert!(!m.ui.help, "alt-shift-G is Esc then G: the Esc closes help");
}
