//! The Apps panel and the dialogs in front of every cluster change: focus, app selection,
//! the scale prompt, y/n confirmation, and asking the gate before any of them.

use super::{Effect, step};
use crate::cluster::{EtcdState, active_rollout, app_statuses};
use crate::domain::app::{parse_instances, validate_instances};
use crate::ops::Refusal;
use crate::ops::{Ask, Command, Kind, authorize};
use crate::plan::rollout::Phase;
use crate::store::AuditReason;
use crate::tui::action::Action;
use crate::tui::screen::{Dialog, Focus, Screen, View, selected_index};
use crate::tui::theme::Theme;

/// The longest text the scale prompt takes; more is a typo, not a count.
const PROMPT_MAX: usize = 12;

/// Asks the gate (`ops::authorize`) whether this screen's principal may go ahead with
/// `action`, before any prompt or y/n, so a refused key is refused at once (`ops::execute`
/// asks again for the command itself). Err is the refusal to show and audit.
pub fn gate(screen: &Screen, action: &Action) -> Result<(), Refusal> {
    let (verb, target, what, kind) = match action {
        Action::Run(command) => {
            let kind = command.kind();
            let target = command.target().name().to_owned();
            (kind.name(), target, kind.name().to_owned(), Some(kind))
        }
        Action::ExportTo(dir) => ("export", dir.clone(), format!("export to {dir}"), None),
        Action::SaveLogs(path) => ("save", path.clone(), format!("save logs to {path}"), None),
        Action::LogsSave => ("save", "-".to_owned(), "save logs".to_owned(), None),
        Action::SetTheme(path) if !Theme::builtin_names().contains(&path.as_str()) => {
            ("theme", path.clone(), format!("theme file {path}"), None)
        }
        key => match key.leads_to() {
            Some(kind) => {
                let what = key.description().to_owned();
                let target = aimed_at(screen);
                // `p` resumes a paused rollout: the refusal names what it would have done.
                let kind = match kind {
                    Kind::Pause if paused(screen, &target) => Kind::Resume,
                    kind => kind,
                };
                (kind.name(), target, what, Some(kind))
            }
            None => return Ok(()),
        },
    };
    let ask = match kind {
        Some(kind) => Ask::Change { kind, what: &what },
        None => Ask::ServerFiles { what: &what },
    };
    authorize(&screen.principal, ask).map_err(|reason| Refusal {
        verb: verb.to_owned(),
        target,
        reason,
        cause: AuditReason::ReadOnly,
    })
}

/// Whether `app`'s rollout is paused.
fn paused(screen: &Screen, app: &str) -> bool {
    active_rollout(&screen.cluster, app)
        .is_some_and(|r| matches!(r.state.phase, Phase::Paused { .. }))
}

/// What a key acts on: the selected app, else the host in view, else "-".
fn aimed_at(screen: &Screen) -> String {
    let in_view = match &screen.ui.view {
        View::Host(host) => Some(host.clone()),
        View::Trace(nav) => Some(nav.app.clone()),
        View::Instances(nav) => Some(nav.app.clone()),
        View::Logs(nav) => Some(nav.title.clone()),
        View::Grid => None,
    };
    (screen.ui.selected_app.clone().or(in_view)).unwrap_or_else(|| "-".to_owned())
}

/// Tab: grid -> apps -> grid, in the grid view only.
pub(super) fn focus_next(screen: &mut Screen) {
    if screen.ui.view != View::Grid {
        return;
    }
    screen.ui.focus = match screen.ui.focus {
        Focus::Grid => Focus::Apps,
        Focus::Apps => Focus::Grid,
    };
    if screen.ui.focus == Focus::Apps {
        // Pin the shown selection to a name, so rows coming and going do not move it.
        let statuses = app_statuses(&screen.cluster);
        let i = selected_index(&statuses, screen.ui.selected_app.as_deref());
        screen.ui.selected_app = i.map(|i| statuses[i].name.clone());
    }
}

pub(super) fn move_app_selection(screen: &mut Screen, action: &Action) {
    let statuses = app_statuses(&screen.cluster);
    let Some(current) = selected_index(&statuses, screen.ui.selected_app.as_deref()) else {
        return;
    };
    let page = screen.ui.geometry.apps_rows;
    let next = match action {
        // One column: left and right mean nothing here.
        Action::MoveLeft | Action::MoveRight => current,
        other => step(current, statuses.len(), 1, page, other),
    };
    screen.ui.selected_app = Some(statuses[next].name.clone());
}

/// `s`, `+`, `-` on the selected app: a prompt, or straight to y/n.
pub(super) fn start_scale(screen: &mut Screen, action: &Action) {
    if let Err(why) = etcd_ready(screen) {
        screen.ui.message = Some(why);
        return;
    }
    let statuses = app_statuses(&screen.cluster);
    let Some(i) = selected_index(&statuses, screen.ui.selected_app.as_deref()) else {
        screen.ui.message = Some("no apps yet: wheelhouse ctl apply -f app.toml".to_owned());
        return;
    };
    let name = statuses[i].name.clone();
    let Some(record) = screen.cluster.apps.get(&name) else {
        screen.ui.message = Some(format!(
            "{name} has containers but no spec in etcd: apply one first"
        ));
        return;
    };
    let (current, seen) = (record.spec.instances, record.revision);
    screen.ui.selected_app = Some(name.clone());
    let count = match action {
        Action::ScaleUp => validate_instances(i64::from(current) + 1, screen.max_instances)
            .map_err(|why| format!("cannot scale {name}: {why}")),
        Action::ScaleDown if current == 0 => Err(format!("{name} has 0 instances already")),
        Action::ScaleDown => Ok(current - 1),
        _ => {
            screen.ui.dialog = Some(Dialog::ScalePrompt {
                app: name,
                current,
                seen,
                input: String::new(),
                error: None,
            });
            return;
        }
    };
    match count {
        Ok(count) => ask(
            screen,
            Command::Scale {
                app: name,
                count,
                seen: Some(seen),
            },
        ),
        Err(why) => {
            screen.ui.message = Some(why.clone());
            screen.refused.push(Refusal {
                verb: Kind::Scale.name().to_owned(),
                target: name,
                reason: why,
                cause: AuditReason::Invalid,
            });
        }
    }
}

/// Shows why a change was refused and queues the refusal for the audit trail.
pub fn refuse(screen: &mut Screen, refusal: Refusal) {
    screen.ui.message = Some(refusal.reason.clone());
    screen.refused.push(refusal);
}

/// Every change asks y/n first.
pub(super) fn ask(screen: &mut Screen, command: Command) {
    let question = question(screen, &command);
    ask_with(screen, command, question);
}

/// `ask` with a question of the caller's (one that says more than the command can).
/// Dialogs (the history list, the image prompt) produce commands after the key was let
/// through, so they ask the gate here too.
pub(super) fn ask_with(screen: &mut Screen, command: Command, question: String) {
    let action = Action::Run(command);
    if let Err(refusal) = gate(screen, &action) {
        refuse(screen, refusal);
        return;
    }
    if let Err(why) = etcd_ready(screen) {
        screen.ui.message = Some(why);
        return;
    }
    screen.ui.dialog = Some(Dialog::Confirm { question, action });
}

/// `q` (or `:q`): quits at once unless a change this screen asked for has not been
/// answered yet, or a rollout is under way; then it asks, saying what goes on without it.
pub(super) fn quit(screen: &mut Screen) {
    let rollouts: Vec<&str> = (screen.cluster.rollouts.values())
        .filter(|r| !r.state.phase.is_done())
        .map(|r| r.app())
        .collect();
    let question = match (screen.in_flight, rollouts.as_slice()) {
        _ if screen.principal.is_read_only() => None,
        (0, []) => None,
        (0, [app]) => Some(format!(
            "the rollout of {app} keeps running in the controller: quit?"
        )),
        (0, apps) => Some(format!(
            "the rollouts of {} keep running in the controller: quit?",
            apps.join(", ")
        )),
        (n, _) => Some(format!(
            "{n} change(s) you confirmed not yet written to etcd; quitting now may lose them: \
             quit?"
        )),
    };
    match question {
        None => screen.quit = true,
        Some(question) => {
            screen.ui.dialog = Some(Dialog::Confirm {
                question,
                action: Action::Quit,
            })
        }
    }
}

/// Keys while a dialog is open: it takes them all.
pub(super) fn on_dialog(screen: &mut Screen, action: Action) -> Vec<Effect> {
    let Some(dialog) = screen.ui.dialog.take() else {
        return Vec::new();
    };
    match (dialog, action) {
        (Dialog::Confirm { question, .. }, Action::Cancel) => {
            screen.ui.message = Some(format!("cancelled: {}", question.trim_end_matches('?')));
        }
        (
            Dialog::Confirm {
                action: Action::Quit,
                ..
            },
            Action::Confirm,
        ) => screen.quit = true,
        (
            Dialog::Confirm {
                action: Action::Run(command),
                ..
            },
            Action::Confirm,
        ) => {
            screen.in_flight += 1;
            screen.ui.message = Some(progress(&command));
            return vec![Effect::Execute(command)];
        }
        // Only a quit or a command is ever asked.
        (Dialog::Confirm { .. }, Action::Confirm) => {}
        (Dialog::ScalePrompt { .. }, Action::Cancel) => {
            screen.ui.message = Some("scale cancelled".to_owned());
        }
        (
            Dialog::ScalePrompt {
                app,
                current,
                seen,
                input,
                ..
            },
            Action::Confirm,
        ) => match parse_instances(&input, screen.max_instances) {
            Ok(count) if count == current => {
                screen.ui.message = Some(format!("{app} has {count} instances already"));
            }
            Ok(count) => ask(
                screen,
                Command::Scale {
                    app,
                    count,
                    seen: Some(seen),
                },
            ),
            Err(why) => {
                // A bad count is refused input: audited, and the prompt stays to fix it.
                screen.refused.push(Refusal {
                    verb: Kind::Scale.name().to_owned(),
                    target: app.clone(),
                    reason: format!("cannot scale {app}: {why}"),
                    cause: AuditReason::Invalid,
                });
                screen.ui.dialog = Some(Dialog::ScalePrompt {
                    app,
                    current,
                    seen,
                    input,
                    error: Some(why),
                });
            }
        },
        (mut dialog, edit) => {
            if let Dialog::ScalePrompt { input, error, .. } = &mut dialog {
                match edit {
                    Action::Input(c) if !c.is_control() && input.chars().count() < PROMPT_MAX => {
                        input.push(c);
                        *error = None;
                    }
                    Action::Erase => {
                        input.pop();
                        *error = None;
                    }
                    _ => {}
                }
            }
            // Anything else leaves the dialog as it was.
            screen.ui.dialog = Some(dialog);
        }
    }
    Vec::new()
}

/// Mutations need etcd; refuse early rather than after a y/n.
pub(super) fn etcd_ready(screen: &Screen) -> Result<(), String> {
    match &screen.cluster.etcd {
        EtcdState::Disabled => {
            Err("etcd is not configured: apps live in etcd ([etcd] in wheelhouse.toml)".to_owned())
        }
        EtcdState::Unreachable { error, .. } => Err(format!(
            "{} ({error}): changes are refused until it is back",
            super::ETCD_UNREACHABLE
        )),
        EtcdState::Connecting | EtcdState::Connected { .. } => Ok(()),
    }
}

/// "scale web 4 → 32?"
fn question(screen: &Screen, command: &Command) -> String {
    match command {
        Command::Scale { app, count, .. } => match screen.cluster.apps.get(app) {
            Some(r) => format!("scale {app} {} → {count}?", r.spec.instances),
            None => format!("scale {app} to {count}?"),
        },
        Command::Apply { spec } => format!(
            "apply {} ({}, {} instances)?",
            spec.name, spec.image, spec.instances
        ),
        Command::Delete { app } => format!("delete {app} and stop its containers?"),
        other => super::rollout::question(screen, other)
            .unwrap_or_else(|| format!("{}?", other.kind().help())),
    }
}

/// What the status line says while a command runs.
fn progress(command: &Command) -> String {
    match command {
        Command::Scale { app, count, .. } => format!("scaling {app} to {count} …"),
        Command::Apply { spec } => format!("applying {} …", spec.name),
        Command::Delete { app } => format!("deleting {app} …"),
        other => {
            super::rollout::progress(other).unwrap_or_else(|| format!("{} …", other.kind().help()))
        }
    }
}

#[cfg(test)]
mod tests;
