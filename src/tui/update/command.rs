//! The `:` command line and the `/` filter prompt. A line is parsed into the same Action a
//! key produces (a change is `Action::Run` of an `ops::Command`), then handled like one,
//! so changes still ask y/n and the gate still refuses what the principal may not do.

use super::filter::{CONTAINER_STATES, Filter, HEALTH_NAMES, STATE_NAMES, Scope};
use crate::cluster::app_statuses;
use crate::domain::app::parse_instances;
use crate::ops::Command;
use crate::plan::labels;
use crate::tui::action::Action;
use crate::tui::screen::{CommandLine, LineKind, Screen, View, selected_index};
use crate::tui::theme::Theme;
use std::collections::BTreeSet;

/// The longest line the prompt takes.
const LINE_MAX: usize = 300;

/// The commands that take words, with what they take. Every bindable action is a command
/// too, by its keymap name (`:scale_up`, `:toggle_help`): `words` lists both.
const COMMANDS: &[(&str, &str)] = &[
    ("export", "[DIR]"),
    ("filter", "TEXT"),
    ("help", ""),
    ("history", "[APP]"),
    ("host", "NAME"),
    ("instances", "[APP]"),
    ("logs", "[CONTAINER|APP]"),
    ("pause", "[APP]"),
    ("promote", "[APP]"),
    ("q", ""),
    ("quit", ""),
    ("restart", "[APP]"),
    ("resume", "[APP]"),
    ("rollback", "[APP [REVISION]]"),
    ("rollout", "[APP IMAGE]"),
    ("save", "PATH"),
    ("scale", "APP COUNT"),
    ("theme", "NAME"),
    ("trace", "[APP]"),
];

/// Every word the `:` line takes first: the commands above and every bindable action.
pub fn words() -> Vec<String> {
    let commands = COMMANDS.iter().map(|(name, _)| (*name).to_owned());
    let actions = Action::ALL.iter().map(|a| a.name().to_owned());
    commands.chain(actions).collect()
}

/// `scale web 5` (with or without the leading `:`) as the Action its keys would produce.
pub fn parse_command(line: &str, screen: &Screen) -> Result<Action, String> {
    let line = line.trim().trim_start_matches(':');
    let words: Vec<&str> = line.split_whitespace().collect();
    let Some((&command, args)) = words.split_first() else {
        return Err(
            "empty command: tab lists them (:scale, :rollout, :host, :help, :q …)".to_owned(),
        );
    };
    let usage = COMMANDS
        .iter()
        .find(|(name, _)| *name == command)
        .map_or("", |(_, usage)| usage);
    let arity = |min: usize, max: usize| {
        if (min..=max).contains(&args.len()) {
            Ok(())
        } else {
            Err(format!("usage: :{command} {usage}"))
        }
    };
    // An app named after the command, or the one selected in the Apps panel.
    let app = |args: &[&str]| -> Result<String, String> {
        match args.first() {
            Some(app) => known_app(command, app, screen).map(|()| (*app).to_owned()),
            None => selected_app(screen)
                .ok_or_else(|| format!("{command}: no app selected: :{command} APP")),
        }
    };
    let leader = |command: fn(String) -> Command| -> Result<Action, String> {
        arity(0, 1)?;
        Ok(Action::Run(command(app(args)?)))
    };
    match command {
        "q" | "quit" => arity(0, 0).map(|()| Action::Quit),
        "help" => arity(0, 0).map(|()| Action::ToggleHelp),
        "scale" => {
            arity(2, 2)?;
            let record = screen
                .cluster
                .apps
                .get(args[0])
                .ok_or_else(|| no_app("scale", args[0], screen))?;
            // The one reading of a count, shared with `ctl scale` and the `s` prompt.
            let count = parse_instances(args[1], screen.max_instances)
                .map_err(|why| format!("scale: {why}"))?;
            Ok(Action::Run(Command::Scale {
                app: args[0].to_owned(),
                count,
                seen: Some(record.revision),
            }))
        }
        "rollout" if args.is_empty() => Ok(Action::RolloutPrompt),
        "rollout" => {
            arity(2, 2)?;
            known_app("rollout", args[0], screen)?;
            Ok(Action::Run(Command::Rollout {
                app: args[0].to_owned(),
                image: args[1].to_owned(),
            }))
        }
        "rollback" => {
            arity(0, 2)?;
            let revision = match args.get(1) {
                None => None,
                Some(r) => Some(
                    r.parse::<i64>()
                        .map_err(|_| "rollback: revision must be a number".to_owned())?,
                ),
            };
            Ok(Action::Run(Command::Rollback {
                app: app(args)?,
                revision,
            }))
        }
        // Without an app these are the Apps panel's keys, on its selected app.
        "restart" if args.is_empty() => Ok(Action::RollingRestart),
        "restart" => {
            arity(1, 1)?;
            Ok(Action::Run(Command::Restart { app: app(args)? }))
        }
        "pause" => leader(|app| Command::Pause { app }),
        "resume" => leader(|app| Command::Resume { app }),
        "promote" if args.is_empty() => Ok(Action::Promote),
        "promote" => leader(|app| Command::Promote { app }),
        "trace" if args.is_empty() => Ok(Action::ShowTrace),
        "instances" if args.is_empty() => Ok(Action::ShowInstances),
        "trace" | "instances" => {
            arity(1, 1)?;
            let app = app(args)?;
            if !crate::cluster::Trace::of(&screen.cluster, &app).known {
                return Err(format!("{command}: no app named {app}"));
            }
            Ok(match command {
                "trace" => Action::OpenTrace(app),
                _ => Action::OpenInstances(app),
            })
        }
        "logs" if args.is_empty() => Ok(Action::ShowLogs),
        "logs" => {
            arity(1, 1)?;
            known_source(args[0], screen)?;
            Ok(Action::OpenLogs(args[0].to_owned()))
        }
        "save" => {
            arity(1, 1)?;
            if !matches!(screen.ui.view, View::Logs(_)) {
                return Err("save: open the logs of a container or an app first".to_owned());
            }
            Ok(Action::SaveLogs(args[0].to_owned()))
        }
        "history" if args.is_empty() => Ok(Action::ShowHistory),
        "history" => {
            arity(1, 1)?;
            Ok(Action::OpenHistory(app(args)?))
        }
        "host" => {
            arity(1, 1)?;
            if screen.cluster.host(args[0]).is_none() {
                return Err(format!("host: no host named {}", args[0]));
            }
            Ok(Action::OpenHost(args[0].to_owned()))
        }
        "export" => {
            arity(0, 1)?;
            Ok(match args.first() {
                Some(dir) => Action::ExportTo((*dir).to_owned()),
                None => Action::ExportScreen,
            })
        }
        "theme" => {
            arity(1, 1)?;
            Ok(Action::SetTheme(args[0].to_owned()))
        }
        "filter" => {
            let text = args.join(" ");
            Filter::parse(&text, screen.ui.filter_scope())?;
            Ok(Action::SetFilter(text))
        }
        other => match Action::ALL.iter().find(|a| a.name() == other) {
            Some(action) => arity(0, 0).map(|()| action.clone()),
            None => Err(unknown(other)),
        },
    }
}

fn unknown(command: &str) -> String {
    let words = words();
    let names: Vec<&str> = words.iter().map(String::as_str).collect();
    match nearest(command, &names) {
        Some(near) => format!("unknown command :{command} — did you mean :{near}?"),
        None => format!("unknown command :{command} (tab lists them)"),
    }
}

/// The app selected in the Apps panel (the first when none was picked).
fn selected_app(screen: &Screen) -> Option<String> {
    let statuses = app_statuses(&screen.cluster);
    selected_index(&statuses, screen.ui.selected_app.as_deref()).map(|i| statuses[i].name.clone())
}

/// An app, or a container by name or id prefix on some host of the picture.
fn known_source(name: &str, screen: &Screen) -> Result<(), String> {
    let containers = screen.cluster.hosts.iter().flat_map(|h| &h.containers);
    let mut containers = containers.map(|c| (c.name.as_str(), c.id.as_str()));
    if screen.cluster.apps.contains_key(name)
        || containers.any(|(n, id)| n == name || id.starts_with(name))
    {
        return Ok(());
    }
    Err(format!("logs: no container or app named {name}"))
}

fn known_app(command: &str, app: &str, screen: &Screen) -> Result<(), String> {
    if screen.cluster.apps.contains_key(app) {
        Ok(())
    } else {
        Err(no_app(command, app, screen))
    }
}

fn no_app(command: &str, app: &str, screen: &Screen) -> String {
    let names: Vec<&str> = screen.cluster.apps.keys().map(String::as_str).collect();
    match nearest(app, &names) {
        Some(near) => format!("{command}: no app named {app} — did you mean {near}?"),
        None => format!("{command}: no app named {app}"),
    }
}

/// The closest name within two edits (or that starts with `word`), if any.
fn nearest<'a>(word: &str, names: &[&'a str]) -> Option<&'a str> {
    let starts = names.iter().find(|n| n.len() > 1 && n.starts_with(word));
    if let Some(n) = starts.filter(|_| !word.is_empty()) {
        return Some(n);
    }
    names
        .iter()
        .map(|n| (distance(word, n), *n))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

/// Levenshtein distance over chars.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            let next = (row[j + 1] + 1).min(row[j] + 1).min(prev + cost);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// Tab on a line: the line with its last word completed as far as the choices agree, and
/// the choices when there is more than one.
pub fn complete(line: &str, kind: LineKind, screen: &Screen) -> (String, Vec<String>) {
    let start = line.rfind(char::is_whitespace).map_or(0, |i| i + 1);
    let (head, word) = line.split_at(start);
    let position = head.split_whitespace().count();
    let command = head.split_whitespace().next().unwrap_or("");
    let pool: Vec<String> = match (kind, position, command) {
        (LineKind::Command, 0, _) => words(),
        (
            LineKind::Command,
            1,
            "scale" | "rollout" | "rollback" | "restart" | "pause" | "resume" | "promote"
            | "history" | "trace" | "logs" | "instances",
        ) => app_names(screen),
        (LineKind::Command, 1, "host") => screen
            .cluster
            .hosts
            .iter()
            .map(|h| h.name().into())
            .collect(),
        (LineKind::Command, 1, "theme") => Theme::builtin_names()
            .iter()
            .map(|n| (*n).to_owned())
            .collect(),
        (LineKind::Command, 2, "rollout") => images(screen),
        (LineKind::Command, _, "filter") | (LineKind::Filter, _, _) => filter_words(screen),
        _ => Vec::new(),
    };
    let choices: Vec<String> = pool
        .into_iter()
        .filter(|c| c.starts_with(word))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    match choices.as_slice() {
        [] => (line.to_owned(), Vec::new()),
        [one] => (format!("{head}{one} "), Vec::new()),
        many => {
            let common = many.iter().fold(many[0].clone(), |acc, c| {
                let n = acc
                    .chars()
                    .zip(c.chars())
                    .take_while(|(a, b)| a == b)
                    .map(|(a, _)| a.len_utf8())
                    .sum();
                acc[..n].to_owned()
            });
            (format!("{head}{common}"), choices)
        }
    }
}

fn app_names(screen: &Screen) -> Vec<String> {
    app_statuses(&screen.cluster)
        .into_iter()
        .map(|s| s.name)
        .collect()
}

/// Images the screen knows of: the specs' and the running containers'.
fn images(screen: &Screen) -> Vec<String> {
    let specs = screen.cluster.apps.values().map(|r| r.spec.image.clone());
    let running = screen
        .cluster
        .hosts
        .iter()
        .flat_map(|h| h.containers.iter().map(|c| c.image.clone()));
    specs.chain(running).collect()
}

fn filter_words(screen: &Screen) -> Vec<String> {
    if let View::Host(name) = &screen.ui.view {
        return container_filter_words(screen, name);
    }
    let mut words: Vec<String> = STATE_NAMES.iter().map(|s| format!("state={s}")).collect();
    for host in &screen.cluster.hosts {
        words.push(host.name().to_owned());
        words.extend(host.spec.zone.iter().map(|z| format!("zone={z}")));
        words.extend(host.spec.labels.iter().map(|(k, v)| format!("{k}={v}")));
    }
    words
}

fn container_filter_words(screen: &Screen, host: &str) -> Vec<String> {
    let states = CONTAINER_STATES.iter().map(|s| format!("state={s}"));
    let health = HEALTH_NAMES.iter().map(|h| format!("health={h}"));
    let mut words: Vec<String> = states.chain(health).collect();
    for c in screen
        .cluster
        .host(host)
        .map(|h| h.containers.as_slice())
        .unwrap_or_default()
    {
        words.push(c.name.clone());
        words.extend(c.labels.get(labels::APP).map(|app| format!("app={app}")));
    }
    words
}

/// `:` or `/`: opens the line (the filter prompt starts from the filter in force).
pub(super) fn open(screen: &mut Screen, kind: LineKind) {
    let input = match kind {
        LineKind::Command => String::new(),
        LineKind::Filter => match &screen.logs {
            Some(pane) => pane.search.clone(),
            None => (screen.ui.active_filter())
                .map(|f| f.text().to_owned())
                .unwrap_or_default(),
        },
    };
    screen.ui.command = Some(CommandLine::new(kind, input));
}

/// Keys while the line is open: it takes them all.
pub(super) fn on_key(screen: &mut Screen, action: Action) -> Vec<super::Effect> {
    let Some(mut line) = screen.ui.command.take() else {
        return Vec::new();
    };
    match action {
        Action::Cancel => {
            if line.kind == LineKind::Filter {
                set_filter(screen, "");
            }
            return Vec::new();
        }
        Action::Confirm => return enter(screen, line),
        Action::Input(c) if !c.is_control() && line.input.chars().count() < LINE_MAX => {
            line.input.push(c);
            edited(screen, &mut line);
        }
        Action::Erase => {
            line.input.pop();
            edited(screen, &mut line);
        }
        Action::FocusNext => {
            let (input, choices) = complete(&line.input, line.kind, screen);
            line.input = input;
            line.choices = choices;
            edited(screen, &mut line);
        }
        Action::MoveUp => recall(screen, &mut line, true),
        Action::MoveDown => recall(screen, &mut line, false),
        // Anything else leaves the line as it was.
        _ => {}
    }
    screen.ui.command = Some(line);
    Vec::new()
}

/// After an edit: a filter applies as it is typed (while it parses); a search too.
fn edited(screen: &mut Screen, line: &mut CommandLine) {
    line.recall = None;
    let searches = matches!(screen.ui.view, View::Logs(_));
    if line.kind == LineKind::Filter
        && (searches || Filter::parse(&line.input, screen.ui.filter_scope()).is_ok())
    {
        set_filter(screen, &line.input);
    }
}

fn enter(screen: &mut Screen, line: CommandLine) -> Vec<super::Effect> {
    let text = line.input.trim().to_owned();
    if !text.is_empty() && screen.ui.command_history.last() != Some(&(line.kind, text.clone())) {
        screen.ui.command_history.push((line.kind, text.clone()));
    }
    match line.kind {
        LineKind::Filter => {
            set_filter(screen, &text);
            Vec::new()
        }
        LineKind::Command if text.is_empty() => Vec::new(),
        LineKind::Command => match parse_command(&text, screen) {
            Ok(action) => super::on_action(screen, action),
            Err(why) => {
                screen.ui.message = Some(why);
                Vec::new()
            }
        },
    }
}

/// Up: the previous line of this kind; down: the next, then an empty line.
fn recall(screen: &Screen, line: &mut CommandLine, older: bool) {
    let mine: Vec<(usize, &String)> = (screen.ui.command_history.iter().enumerate())
        .filter(|(_, (kind, _))| *kind == line.kind)
        .map(|(i, (_, text))| (i, text))
        .collect();
    let at = line
        .recall
        .and_then(|r| mine.iter().position(|(i, _)| *i == r));
    let next = match (at, older) {
        (None, true) => mine.len().checked_sub(1),
        (None, false) => None,
        (Some(p), true) => Some(p.saturating_sub(1)),
        (Some(p), false) => Some(p + 1).filter(|&n| n < mine.len()),
    };
    match next.and_then(|p| mine.get(p)) {
        Some((i, text)) => {
            line.recall = Some(*i);
            line.input = (*text).clone();
        }
        None if !older => {
            line.recall = None;
            line.input.clear();
        }
        None => {}
    }
    line.choices.clear();
}

/// `:filter`, `/` and esc: narrows the grid and the apps (blank text clears), keeping the
/// selection on a host the filter lets through.
pub(super) fn set_filter(screen: &mut Screen, text: &str) {
    if let View::Logs(_) = &screen.ui.view {
        return super::logs::set_search(screen, text);
    }
    if let View::Host(name) = &screen.ui.view {
        let name = name.clone();
        return set_container_filter(screen, &name, text);
    }
    match Filter::parse(text, Scope::Hosts) {
        Ok(filter) => {
            screen.ui.filter = filter;
            let shown = screen.grid_hosts();
            if let Some(slot) = screen.grid_slot(&shown) {
                screen.ui.selected = shown[slot];
            }
            let apps = shown_apps(screen);
            let selected = screen.ui.selected_app.as_ref();
            if !selected.is_some_and(|a| apps.contains(a)) {
                screen.ui.selected_app = apps.into_iter().next();
            }
        }
        Err(why) => screen.ui.message = Some(why),
    }
}

/// In a host's view the filter narrows its containers; the selection stays in the list.
fn set_container_filter(screen: &mut Screen, host: &str, text: &str) {
    match Filter::parse(text, Scope::Containers) {
        Ok(filter) => {
            screen.ui.container_filter = filter;
            let shown = screen
                .cluster
                .host(host)
                .map_or(0, |h| screen.shown_containers(h).len());
            screen.ui.selected_row = screen.ui.selected_row.min(shown.saturating_sub(1));
        }
        Err(why) => screen.ui.message = Some(why),
    }
}

/// The Apps panel's rows under the filter, by name.
fn shown_apps(screen: &Screen) -> Vec<String> {
    (app_statuses(&screen.cluster).into_iter())
        .map(|s| s.name)
        .filter(|name| screen.shows_app(name))
        .collect()
}

/// Moving in the Apps panel while a filter is set: over the rows it shows.
pub(super) fn move_shown_app(screen: &mut Screen, action: &Action) {
    let apps = shown_apps(screen);
    let selected = screen.ui.selected_app.as_deref();
    let Some(current) = (apps.iter().position(|a| Some(a.as_str()) == selected))
        .or_else(|| (!apps.is_empty()).then_some(0))
    else {
        return;
    };
    let page = screen.ui.geometry.apps_rows;
    let next = match action {
        Action::MoveLeft | Action::MoveRight => current,
        other => super::step(current, apps.len(), 1, page, other),
    };
    screen.ui.selected_app = apps.get(next).cloned();
}

/// `:host NAME`: that host's view, with it selected in the grid.
pub(super) fn open_host(screen: &mut Screen, name: &str) {
    match screen.cluster.host_index(name) {
        Some(i) => {
            screen.ui.selected = i;
            screen.ui.show_host(name);
            screen.ui.focus = crate::tui::screen::Focus::Grid;
        }
        None => screen.ui.message = Some(format!("no host named {name}")),
    }
}

#[cfg(test)]
mod tests;
