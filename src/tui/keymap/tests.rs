use super::*;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

fn press(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn ch(c: char) -> KeyEvent {
    press(KeyCode::Char(c))
}

fn user(source: &str) -> Result<Keymap, FileError> {
    Keymap::parse(Path::new("keys.toml"), source)
}

fn user_ok(source: &str) -> Keymap {
    user(source).unwrap_or_else(|e| panic!("{e}"))
}

/// The error's line and column, and that its message mentions `needle`.
fn error_at(source: &str, line: usize, col: usize, needle: &str) {
    let e = match user(source) {
        Ok(_) => panic!("accepted:\n{source}"),
        Err(e) => e,
    };
    assert_eq!((e.line, e.col), (line, col), "{e}");
    assert!(e.message.contains(needle), "{e}");
    assert_eq!(e.path, Path::new("keys.toml"));
}

#[test]
fn builtin_keymap_parses_and_binds_every_action() {
    let map = Keymap::builtin().unwrap_or_else(|e| panic!("{e}"));
    for action in Action::ALL {
        let bound = Section::ALL
            .iter()
            .any(|s| map.section_hints(*s).iter().any(|(_, a)| a == action));
        assert!(bound, "{} has no key", action.name());
    }
    assert!(Keymap::load("default").is_ok());
}

#[test]
fn resolves_view_section_before_global() {
    let map = Keymap::default_keymap();
    assert_eq!(map.resolve(Section::Grid, ch('q')), Some(Action::Quit));
    assert_eq!(map.resolve(Section::Host, ch('q')), Some(Action::Quit));
    assert_eq!(
        map.resolve(
            Section::Grid,
            KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)
        ),
        Some(Action::Quit)
    );
    assert_eq!(map.resolve(Section::Grid, ch('j')), Some(Action::MoveDown));
    assert_eq!(map.resolve(Section::Grid, ch('h')), Some(Action::MoveLeft));
    assert_eq!(map.resolve(Section::Host, ch('h')), Some(Action::Back));
    assert_eq!(
        map.resolve(Section::Host, press(KeyCode::Esc)),
        Some(Action::Back)
    );
    assert_eq!(
        map.resolve(Section::Grid, press(KeyCode::Enter)),
        Some(Action::Open)
    );
    assert_eq!(map.resolve(Section::Host, press(KeyCode::Enter)), None);
    // Terminals report "G" with SHIFT and "?" with or without it.
    let shift_g = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
    assert_eq!(map.resolve(Section::Grid, shift_g), Some(Action::Last));
    let shift_q = KeyEvent::new(KeyCode::Char('?'), KeyModifiers::SHIFT);
    assert_eq!(
        map.resolve(Section::Grid, shift_q),
        Some(Action::ToggleHelp)
    );
    assert_eq!(map.resolve(Section::Grid, ch('z')), None);
}

#[test]
fn key_releases_do_nothing() {
    let map = Keymap::default_keymap();
    let mut release = ch('q');
    release.kind = KeyEventKind::Release;
    assert_eq!(map.resolve(Section::Grid, release), None);
}

#[test]
fn user_file_overrides_only_the_actions_it_names() {
    let map = user_ok("[grid]\nmove_up = [\"w\"]\n");
    assert_eq!(map.resolve(Section::Grid, ch('w')), Some(Action::MoveUp));
    assert_eq!(map.resolve(Section::Grid, ch('k')), None);
    assert_eq!(map.resolve(Section::Grid, press(KeyCode::Up)), None);
    // Other actions and other sections keep the defaults.
    assert_eq!(map.resolve(Section::Grid, ch('j')), Some(Action::MoveDown));
    assert_eq!(map.resolve(Section::Host, ch('k')), Some(Action::MoveUp));
    assert_eq!(map.resolve(Section::Grid, ch('q')), Some(Action::Quit));
}

#[test]
fn an_empty_list_unbinds() {
    let map = user_ok("[grid]\nopen = []\n");
    assert_eq!(map.resolve(Section::Grid, press(KeyCode::Enter)), None);
    assert!(
        map.hints(Section::Grid)
            .iter()
            .all(|(_, a)| *a != Action::Open)
    );
}

#[test]
fn moving_a_key_to_another_action_works_when_both_are_rebound() {
    let map = user_ok("[grid]\nmove_up = [\"j\"]\nmove_down = [\"k\"]\n");
    assert_eq!(map.resolve(Section::Grid, ch('j')), Some(Action::MoveUp));
    assert_eq!(map.resolve(Section::Grid, ch('k')), Some(Action::MoveDown));
}

#[test]
fn a_view_key_shadows_the_same_global_key() {
    let map = user_ok("[global]\nquit = [\"k\"]\n");
    assert_eq!(map.resolve(Section::Grid, ch('k')), Some(Action::MoveUp));
    assert!(
        map.hints(Section::Grid)
            .iter()
            .all(|(_, a)| *a != Action::Quit)
    );
}

#[test]
fn hints_join_keys_and_include_global_ones() {
    let map = Keymap::default_keymap();
    let grid = map.hints(Section::Grid);
    assert!(
        grid.contains(&("up/k".to_owned(), Action::MoveUp)),
        "{grid:?}"
    );
    assert!(
        grid.contains(&("?/f1".to_owned(), Action::ToggleHelp)),
        "{grid:?}"
    );
    assert!(
        grid.contains(&("q/ctrl-c".to_owned(), Action::Quit)),
        "{grid:?}"
    );
    let host = map.hints(Section::Host);
    assert!(
        host.contains(&("backspace/h/left/esc".to_owned(), Action::Back)),
        "{host:?}"
    );
    assert!(host.iter().all(|(_, a)| *a != Action::Open), "{host:?}");
    let own = map.section_hints(Section::Host);
    assert!(
        own.contains(&("backspace/h/left".to_owned(), Action::Back)),
        "{own:?}"
    );
}

#[test]
fn a_key_bound_twice_in_one_file_is_an_error_at_the_second() {
    error_at(
        "[grid]\nmove_up = [\"x\"]\nmove_down = [\"y\", \"x\"]\n",
        3,
        19,
        "bound to both `move_up` and `move_down` in [grid]",
    );
}

#[test]
fn a_key_taken_from_a_default_binding_is_an_error_that_says_so() {
    error_at(
        "[grid]\nmove_up = [\"j\"]\n",
        2,
        12,
        "`move_down` has it in the default keymap",
    );
}

#[test]
fn the_same_key_in_two_sections_is_fine() {
    let map = user_ok("[grid]\nopen = [\"o\"]\n[host]\nback = [\"o\"]\n");
    assert_eq!(map.resolve(Section::Grid, ch('o')), Some(Action::Open));
    assert_eq!(map.resolve(Section::Host, ch('o')), Some(Action::Back));
}

#[test]
fn unknown_actions_sections_and_keys_are_errors_with_positions() {
    error_at("[grid]\n\nfly = [\"x\"]\n", 3, 1, "unknown action `fly`");
    error_at(
        "[sidebar]\nquit = [\"x\"]\n",
        1,
        2,
        "unknown section `sidebar`",
    );
    error_at(
        "[host]\nback = [\"esc\", \"pgup\"]\n",
        2,
        16,
        "unknown key `pgup`",
    );
    error_at("[host]\nback = \"esc\"\n", 2, 8, "must be a list of keys");
    error_at("[host]\nback = [\"esc\", 3]\n", 2, 16, "must be a string");
    error_at("grid = 1\n", 1, 8, "must be a table");
}

#[test]
fn broken_toml_is_an_error_with_its_line() {
    let e = match user("[global]\nquit = [\"q\"\n") {
        Ok(_) => panic!("accepted broken TOML"),
        Err(e) => e,
    };
    assert_eq!(e.line, 2, "{e}");
    assert!(e.to_string().starts_with("keys.toml:2:"), "{e}");
}

#[test]
fn load_reads_a_file_and_names_it_in_errors() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("mine.toml");
    std::fs::write(&path, "[global]\nquit = [\"x\"]\n").unwrap_or_else(|e| panic!("{e}"));
    let name = path.to_string_lossy().into_owned();
    let map = Keymap::load(&name).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(map.resolve(Section::Grid, ch('x')), Some(Action::Quit));
    assert_eq!(map.resolve(Section::Grid, ch('q')), None);

    std::fs::write(&path, "[global]\nquit = [\"nope\"]\n").unwrap_or_else(|e| panic!("{e}"));
    let e = Keymap::load(&name)
        .err()
        .unwrap_or_else(|| panic!("accepted a bad key"));
    assert_eq!(e.path, path);
    assert_eq!((e.line, e.col), (2, 9));

    let missing = dir.path().join("absent.toml");
    assert!(Keymap::load(&missing.to_string_lossy()).is_err());
}

#[test]
fn the_focused_panel_or_open_dialog_picks_the_section() {
    use crate::tui::screen::{Dialog, Focus, Ui};
    let mut ui = Ui::default();
    assert_eq!(Section::for_ui(&ui), Section::Grid);
    ui.focus = Focus::Apps;
    assert_eq!(Section::for_ui(&ui), Section::Apps);
    ui.dialog = Some(Dialog::Confirm {
        question: "scale web 1 → 2?".into(),
        action: Action::ScaleUp,
    });
    assert_eq!(Section::for_ui(&ui), Section::Confirm);
    ui.dialog = Some(Dialog::ScalePrompt {
        app: "web".into(),
        current: 1,
        seen: 3,
        input: String::new(),
        error: None,
    });
    assert_eq!(Section::for_ui(&ui), Section::Prompt);
    ui.dialog = None;
    ui.view = View::Host("h1".into());
    assert_eq!(Section::for_ui(&ui), Section::Host);
}

#[test]
fn apps_keys_scale_and_tab_switches_panels() {
    let map = Keymap::default_keymap();
    assert_eq!(
        map.resolve(Section::Grid, press(KeyCode::Tab)),
        Some(Action::FocusNext)
    );
    assert_eq!(
        map.resolve(Section::Apps, press(KeyCode::Tab)),
        Some(Action::FocusNext)
    );
    assert_eq!(
        map.resolve(Section::Apps, ch('s')),
        Some(Action::ScalePrompt)
    );
    assert_eq!(map.resolve(Section::Apps, ch('-')), Some(Action::ScaleDown));
    // Terminals send "+" with or without SHIFT.
    let plus = KeyEvent::new(KeyCode::Char('+'), KeyModifiers::SHIFT);
    assert_eq!(map.resolve(Section::Apps, plus), Some(Action::ScaleUp));
    assert_eq!(map.resolve(Section::Apps, ch('j')), Some(Action::MoveDown));
    assert_eq!(
        map.resolve(Section::Apps, ch('q')),
        Some(Action::Quit),
        "global keys reach panels"
    );
    assert_eq!(
        map.resolve(Section::Grid, ch('s')),
        None,
        "s scales only from the apps panel"
    );
    // The panel takes the grid's keys it does not bind, and its own win.
    let hints = map.hints(Section::Apps);
    for wanted in [
        ("up/k", Action::MoveUp),
        ("tab", Action::FocusNext),
        ("s", Action::ScalePrompt),
    ] {
        assert!(
            hints.contains(&(wanted.0.to_owned(), wanted.1)),
            "{hints:?}"
        );
    }
    let mine = user_ok("[apps]\nscale_up = [\"k\"]\n");
    assert_eq!(mine.resolve(Section::Apps, ch('k')), Some(Action::ScaleUp));
    assert_eq!(mine.resolve(Section::Grid, ch('k')), Some(Action::MoveUp));
    let hints = mine.hints(Section::Apps);
    assert!(
        hints.contains(&("up".to_owned(), Action::MoveUp)),
        "{hints:?}"
    );
}

#[test]
fn dialogs_take_every_key() {
    let map = Keymap::default_keymap();
    assert_eq!(
        map.resolve(Section::Prompt, ch('5')),
        Some(Action::Input('5'))
    );
    assert_eq!(
        map.resolve(Section::Prompt, ch('q')),
        Some(Action::Input('q')),
        "q is typed, not quit"
    );
    assert_eq!(
        map.resolve(Section::Prompt, press(KeyCode::Enter)),
        Some(Action::Confirm)
    );
    assert_eq!(
        map.resolve(Section::Prompt, press(KeyCode::Esc)),
        Some(Action::Cancel)
    );
    assert_eq!(
        map.resolve(Section::Prompt, press(KeyCode::Backspace)),
        Some(Action::Erase)
    );
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert_eq!(map.resolve(Section::Prompt, ctrl_c), Some(Action::Cancel));
    let alt_x = KeyEvent::new(KeyCode::Char('x'), KeyModifiers::ALT);
    assert_eq!(map.resolve(Section::Prompt, alt_x), None);

    assert_eq!(
        map.resolve(Section::Confirm, ch('y')),
        Some(Action::Confirm)
    );
    assert_eq!(map.resolve(Section::Confirm, ch('n')), Some(Action::Cancel));
    assert_eq!(
        map.resolve(Section::Confirm, press(KeyCode::Enter)),
        None,
        "y/n only"
    );
    assert_eq!(
        map.resolve(Section::Confirm, ch('q')),
        None,
        "no quitting past a question"
    );
    assert_eq!(
        map.resolve(Section::Confirm, ch('5')),
        None,
        "nothing is typed into y/n"
    );
    let hints = map.hints(Section::Confirm);
    assert!(
        hints.contains(&("y".to_owned(), Action::Confirm)),
        "{hints:?}"
    );
    assert!(hints.iter().all(|(_, a)| *a != Action::Quit), "{hints:?}");
}

/// Feeds key presses through `resolve_pending` as the loop does; the actions produced.
fn typed_keys(map: &Keymap, section: Section, keys: &[KeyEvent]) -> (Vec<Action>, Pending) {
    let mut pending = Pending::default();
    let mut actions = Vec::new();
    for &key in keys {
        let (action, next) = map.resolve_pending(section, pending, key);
        actions.extend(action);
        pending = next;
    }
    (actions, pending)
}

#[test]
fn a_sequence_waits_for_its_second_key() {
    let map = user_ok("[grid]\nfirst = [\"home\", \"g g\"]\n");
    let (actions, pending) = typed_keys(&map, Section::Grid, &[ch('g')]);
    assert!(actions.is_empty());
    assert!(!pending.is_empty());
    assert_eq!(pending.to_string(), "g");
    let (actions, pending) = typed_keys(&map, Section::Grid, &[ch('g'), ch('g')]);
    assert_eq!(actions, [Action::First]);
    assert!(pending.is_empty());
    // The apps panel falls back to [grid], sequences included.
    let (actions, _) = typed_keys(&map, Section::Apps, &[ch('g'), ch('g')]);
    assert_eq!(actions, [Action::First]);
    // Single-key resolve never completes a sequence.
    assert_eq!(map.resolve(Section::Grid, ch('g')), None);
}

#[test]
fn a_key_that_ends_no_sequence_counts_on_its_own() {
    let map = user_ok("[grid]\nfirst = [\"g g\"]\n");
    let (actions, pending) = typed_keys(&map, Section::Grid, &[ch('g'), ch('j')]);
    assert_eq!(actions, [Action::MoveDown]);
    assert!(pending.is_empty());
    // ... even when it begins a sequence itself.
    let (actions, pending) = typed_keys(&map, Section::Grid, &[ch('g'), ch('x'), ch('g')]);
    assert!(actions.is_empty());
    assert_eq!(pending.to_string(), "g");
    // Releases keep what is pending.
    let mut release = ch('g');
    release.kind = KeyEventKind::Release;
    let (_, pending) = typed_keys(&map, Section::Grid, &[ch('g'), release, ch('g')]);
    assert!(pending.is_empty());
}

#[test]
fn sequences_with_modifiers_and_in_global() {
    let map = Keymap::load("arrows").unwrap_or_else(|e| panic!("{e}"));
    let ctrl = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL);
    let (actions, _) = typed_keys(&map, Section::Host, &[ctrl('x'), ctrl('c')]);
    assert_eq!(actions, [Action::Quit]);
}

#[test]
fn a_prefix_that_is_also_a_binding_is_an_error() {
    // `g` is `first` in the default [grid]: `g g` could never be typed.
    error_at(
        "[grid]\nlast = [\"end\", \"g g\"]\n",
        2,
        16,
        "`g` (`first`) begins `g g` (`last`) in [grid]",
    );
    // Both in the file: reported at the later one.
    error_at(
        "[host]\nrestart_one = [\"x y\"]\nback = [\"x\"]\n",
        3,
        9,
        "`x` (`back`) begins `x y` (`restart_one`) in [host]",
    );
    // The same keys in different sections do not clash.
    let map = user_ok("[host]\nrestart_one = [\"g x\"]\nfirst = [\"home\"]\n");
    let (actions, _) = typed_keys(&map, Section::Host, &[ch('g'), ch('x')]);
    assert_eq!(actions, [Action::RestartOne]);
}

#[test]
fn hints_and_help_show_sequences_with_spaces() {
    let map = user_ok("[grid]\nfirst = [\"home\", \"g g\"]\n");
    let hint = map
        .section_hints(Section::Grid)
        .into_iter()
        .find(|(_, a)| *a == Action::First)
        .map(|(keys, _)| keys);
    assert_eq!(hint.as_deref(), Some("home/g g"));
}

#[test]
fn the_arrows_keymap_binds_every_action_without_brackets() {
    let map = Keymap::load("arrows").unwrap_or_else(|e| panic!("{e}"));
    for action in Action::ALL {
        let bound = Section::ALL
            .iter()
            .any(|s| map.section_hints(*s).iter().any(|(_, a)| a == action));
        assert!(bound, "{} has no key in arrows", action.name());
    }
    let f = |n| press(KeyCode::F(n));
    assert_eq!(map.resolve(Section::Grid, f(1)), Some(Action::ToggleHelp));
    assert_eq!(map.resolve(Section::Apps, f(5)), Some(Action::ScalePrompt));
    assert_eq!(
        map.resolve(Section::Apps, f(6)),
        Some(Action::RolloutPrompt)
    );
    assert_eq!(map.resolve(Section::Grid, f(10)), Some(Action::Quit));
    assert_eq!(
        map.resolve(Section::Grid, press(KeyCode::Up)),
        Some(Action::MoveUp)
    );
    // No letters: vim keys mean nothing here.
    assert_eq!(map.resolve(Section::Grid, ch('k')), None);
    assert_eq!(map.resolve(Section::Grid, ch('q')), None);
    for section in Section::ALL {
        for (keys, _) in map.section_hints(section) {
            assert!(!keys.contains('[') && !keys.contains(']'), "{keys}");
        }
    }
    assert_eq!(BUILTIN_NAMES, ["default", "arrows"]);
}

#[test]
fn colon_and_slash_open_the_line_which_then_takes_the_prompt_keys() {
    let map = Keymap::default_keymap();
    assert_eq!(
        map.resolve(Section::Grid, ch(':')),
        Some(Action::CommandLine)
    );
    assert_eq!(
        map.resolve(Section::Host, ch('/')),
        Some(Action::FilterPrompt)
    );
    let ui = Ui {
        command: Some(crate::tui::screen::CommandLine::new(
            crate::tui::screen::LineKind::Command,
            String::new(),
        )),
        ..Ui::default()
    };
    let section = Section::for_ui(&ui);
    assert_eq!(section, Section::Prompt);
    assert_eq!(map.resolve(section, ch('q')), Some(Action::Input('q')));
    assert_eq!(
        map.resolve(section, press(KeyCode::Tab)),
        Some(Action::FocusNext)
    );
}

/// Issue 9 item 7: an unknown action or section is echoed in a line, not whole.
#[test]
fn a_megabyte_unknown_name_is_echoed_short() {
    let name = "x".repeat(1 << 20);
    for source in [
        format!("[global]\n{name} = \"q\"\n"),
        format!("[\"{name}\"]\nquit = \"q\"\n"),
    ] {
        let e = user(&source).expect_err("unknown name");
        assert!(e.message.contains(&format!("`{}…`", &name[..60])), "{e}");
        assert!(e.message.len() < 4100, "{} bytes", e.message.len());
    }
}
