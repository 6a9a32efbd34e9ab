use super::*;
use crate::tui::keymap::merge;
use crate::tui::keymap::{Keymap, Resolved, Section};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::path::Path;

fn parse(source: &str) -> Result<Keymap, FileError> {
    Keymap::parse(Path::new("keys.toml"), source)
}

fn error_at(source: &str, line: usize, col: usize, needle: &str) {
    match parse(source) {
        Ok(_) => panic!("accepted:\n{source}"),
        Err(e) => e.assert_at("keys.toml", line, col, needle),
    }
}

#[test]
fn macros_take_keys_sequences_and_action_names() {
    let map = parse("[macros]\nsmoke = [\"g\", \"enter\", \"ctrl-x x\", \"back\"]\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let smoke = &map.macros()[0];
    assert_eq!(smoke.name, "smoke");
    let key = |code, mods| Step::Key(Key::new(code, mods));
    assert_eq!(
        smoke.steps,
        vec![
            key(KeyCode::Char('g'), KeyModifiers::NONE),
            key(KeyCode::Enter, KeyModifiers::NONE),
            key(KeyCode::Char('x'), KeyModifiers::CONTROL),
            key(KeyCode::Char('x'), KeyModifiers::NONE),
            Step::Action(Action::Back),
        ]
    );
    assert_eq!(smoke.describe(), "g enter ctrl-x x back");
}

#[test]
fn no_action_name_is_also_a_key() {
    for action in Action::ALL {
        assert!(KeySeq::parse(action.name()).is_err(), "{}", action.name());
    }
}

#[test]
fn a_bound_macro_resolves_and_is_listed_for_help() {
    let map = parse("[apps]\nrun_macro.smoke = [\"ctrl-t\"]\n[macros]\nsmoke = [\"first\"]\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let ctrl_t = KeyEvent::new(KeyCode::Char('t'), KeyModifiers::CONTROL);
    let (resolved, _) = map.resolve_binding(Section::Apps, Default::default(), ctrl_t);
    assert!(matches!(resolved, Some(Resolved::Macro(m)) if m.name == "smoke"));
    assert_eq!(map.resolve(Section::Apps, ctrl_t), None, "not an action");
    assert_eq!(
        map.resolve_binding(Section::Grid, Default::default(), ctrl_t)
            .0,
        None
    );
    let hints = map.macro_hints(Section::Apps);
    assert_eq!(hints.len(), 1);
    assert_eq!(
        (hints[0].0.as_str(), hints[0].1.name.as_str()),
        ("ctrl-t", "smoke")
    );
    assert!(map.macro_hints(Section::Grid).is_empty());
    assert!(
        map.section_hints(Section::Apps)
            .iter()
            .all(|(keys, _)| keys != "ctrl-t"),
        "macros are not listed as actions"
    );
}

#[test]
fn a_user_file_redefines_a_macro_in_place_and_keeps_its_binding() {
    let base = "[grid]\nrun_macro.a = [\"ctrl-t\"]\n[macros]\na = [\"j\"]\nb = [\"k\"]\n";
    let base = parse(base).unwrap_or_else(|e| panic!("{e}"));
    let map = merge(&base, Path::new("user.toml"), "[macros]\na = [\"last\"]\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = map.macros().iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
    let hints = map.macro_hints(Section::Grid);
    assert_eq!(hints[0].1.steps, vec![Step::Action(Action::Last)]);
}

#[test]
fn macro_errors_name_file_line_and_column() {
    error_at(
        "[grid]\nrun_macro.nope = [\"ctrl-t\"]\n",
        2,
        11,
        "unknown macro `nope`",
    );
    error_at(
        "[macros]\nsmoke = [\"g\", \"pgup\"]\n",
        2,
        15,
        "unknown key `pgup`",
    );
    error_at(
        "[macros]\nsmoke = \"g\"\n",
        2,
        9,
        "must be a list of keys or actions",
    );
    error_at("[macros]\nsmoke = []\n", 2, 9, "macro `smoke` is empty");
    error_at("[macros]\nsmoke = [1]\n", 2, 10, "must be a string");
    error_at(
        "[macros]\nsmoke = [\"g\"]\n[grid]\nrun_macro.smoke = [\"ctrl-nope\"]\n",
        4,
        20,
        "unknown key",
    );
    error_at(
        "[macros]\nsmoke = [\"g\"]\n[grid]\nrun_macro.smoke = [\"j\"]\n",
        4,
        20,
        "bound to both `move_down` and `run_macro.smoke`",
    );
}
