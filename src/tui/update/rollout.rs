//! Rollout keys: `u` (the image prompt), `p`, `b`, `H` (the history list), `r`, `P` in the
//! Apps panel and `R` in the host view. Each ends in the y/n dialog (`apps::ask`), so every
//! change is confirmed, asked of the gate and carried out by `ops::execute`.

use super::Effect;
use super::apps::{ask, ask_with, etcd_ready};
use crate::cluster::{AppRecord, active_rollout, app_statuses};
use crate::ops::HistoryEntry;
use crate::ops::{Command, busy_message};
use crate::plan::rollout::Phase;
use crate::tui::action::Action;
use crate::tui::screen::{HistoryList, ImagePrompt, Screen, View, selected_index};

/// The longest image reference the prompt takes (Docker's own limit is 255 for the name).
const IMAGE_MAX: usize = 255;

/// A key of the Apps panel that acts on the selected app.
/// Returns the reads the screen needs (image tags, history).
pub(super) fn on_app_key(screen: &mut Screen, action: &Action) -> Vec<Effect> {
    let (app, record) = match selected_spec(screen) {
        Ok(found) => found,
        Err(why) => {
            screen.ui.message = Some(why);
            return Vec::new();
        }
    };
    screen.ui.selected_app = Some(app.clone());
    let running = active_rollout(&screen.cluster, &app).cloned();
    let busy = running
        .as_ref()
        .map(|r| &r.state)
        .filter(|s| !matches!(s.phase, Phase::Paused { .. }));
    match action {
        Action::RolloutPrompt | Action::RollingRestart if busy.is_some() => {
            screen.ui.message = busy.map(busy_message);
        }
        Action::RolloutPrompt => {
            let prompt = ImagePrompt::new(app, record.spec.image, String::new(), false);
            screen.ui.image_prompt = Some(prompt);
            return vec![Effect::ReadImages];
        }
        Action::RollingRestart => ask(screen, Command::Restart { app }),
        Action::RollbackPrevious => return rollback(screen, app, None),
        Action::ShowHistory => {
            screen.ui.history = Some(HistoryList {
                app: app.clone(),
                entries: None,
                selected: 0,
            });
            return vec![Effect::ReadHistory(app)];
        }
        Action::PauseResume => match running {
            None => screen.ui.message = Some(format!("{app} has no rollout running")),
            Some(r) => match r.state.phase {
                Phase::Paused { .. } => ask(screen, Command::Resume { app }),
                _ => ask(screen, Command::Pause { app }),
            },
        },
        Action::Promote => match running {
            Some(r) if r.state.phase == Phase::Canary => ask(screen, Command::Promote { app }),
            Some(r) => {
                screen.ui.message = Some(format!(
                    "{app}'s rollout is not waiting for a promote (it is {})",
                    r.state.phase.name()
                ));
            }
            None => screen.ui.message = Some(format!("{app} has no rollout running")),
        },
        _ => {}
    }
    Vec::new()
}

/// `b`, `:rollback APP [REVISION]`: during a rollout, turning it around (its start is
/// known); otherwise the history is read first so the y/n says what the revision holds.
pub(super) fn rollback(screen: &mut Screen, app: String, revision: Option<i64>) -> Vec<Effect> {
    if revision.is_none()
        && let Some(running) = active_rollout(&screen.cluster, &app)
    {
        let back_to = running.from_spec.as_ref().map_or_else(
            || "where it started".to_owned(),
            |spec| format!("{}, {} instances", spec.image, spec.instances),
        );
        let question = format!("turn {app}'s rollout around, back to {back_to}?");
        ask_with(screen, Command::Rollback { app, revision }, question);
        return Vec::new();
    }
    if let Err(why) = etcd_ready(screen) {
        screen.ui.message = Some(why);
        return Vec::new();
    }
    screen.ui.message = Some(format!("reading {app}'s history …"));
    screen.ui.pending_rollback = Some((app.clone(), revision));
    vec![Effect::ReadHistory(app)]
}

/// The history a rollback waited for: y/n naming the revision's image and count, or why
/// there is nothing to roll back to.
fn ask_rollback(screen: &mut Screen, app: String, wanted: Option<i64>, entries: &[HistoryEntry]) {
    let entry = entries.iter().find(|e| match wanted {
        Some(r) => e.revision == r,
        None => !e.same_as_current,
    });
    match entry {
        Some(e) if e.same_as_current => {
            screen.ui.message = Some(format!(
                "revision {} runs what {app} runs now: nothing to roll back",
                e.revision
            ));
        }
        Some(e) => ask_with(
            screen,
            Command::Rollback {
                app: app.clone(),
                revision: Some(e.revision),
            },
            format!(
                "roll {app} back to revision {}: {}, {} instances?",
                e.revision, e.image, e.instances
            ),
        ),
        None => {
            screen.ui.message = Some(match wanted {
                Some(r) => format!("{app} has no revision {r} in its history"),
                None => format!("{app} has no earlier revision to roll back to"),
            })
        }
    }
}

/// The selected app and its spec, or what the operator is told instead.
fn selected_spec(screen: &Screen) -> Result<(String, AppRecord), String> {
    etcd_ready(screen)?;
    let statuses = app_statuses(&screen.cluster);
    let i = selected_index(&statuses, screen.ui.selected_app.as_deref())
        .ok_or("no apps yet: wheelhouse ctl apply -f app.toml")?;
    let name = statuses[i].name.clone();
    let record = screen
        .cluster
        .apps
        .get(&name)
        .cloned()
        .ok_or_else(|| format!("{name} has containers but no spec in etcd: apply one first"))?;
    Ok((name, record))
}

/// `R` in the host view: the selected container, through y/n.
pub(super) fn restart_one(screen: &mut Screen) {
    let View::Host(host) = screen.ui.view.clone() else {
        return;
    };
    let container = screen
        .cluster
        .host(&host)
        .and_then(|h| {
            screen
                .shown_containers(h)
                .get(screen.ui.selected_row)
                .copied()
        })
        .map(|c| c.name.clone());
    match container {
        Some(container) => ask(screen, Command::RestartContainer { host, container }),
        None => screen.ui.message = Some(format!("{host} has no container selected")),
    }
}

/// `:rollout APP IMAGE`: the image is checked against the hosts' tags like a typed one
/// before any y/n; the prompt shows it meanwhile, and keeps it with the reason if refused.
pub(super) fn check_rollout(screen: &mut Screen, app: String, image: String) -> Vec<Effect> {
    let Some(record) = screen.cluster.apps.get(&app) else {
        screen.ui.message = Some(format!("rollout: no app named {app}"));
        return Vec::new();
    };
    let current = record.spec.image.clone();
    screen.ui.image_prompt = Some(ImagePrompt::new(app, current, image, true));
    vec![Effect::ReadImages]
}

/// Keys while the image prompt is open: it takes them all.
pub(super) fn on_image_prompt(screen: &mut Screen, action: Action) -> Vec<Effect> {
    let Some(mut prompt) = screen.ui.image_prompt.take() else {
        return Vec::new();
    };
    match action {
        Action::Cancel => {
            screen.ui.message = Some(format!("rollout of {} cancelled", prompt.app));
            return Vec::new();
        }
        Action::Confirm => match check_image(&prompt) {
            Ok(image) => {
                ask(
                    screen,
                    Command::Rollout {
                        app: prompt.app,
                        image,
                    },
                );
                return Vec::new();
            }
            Err(why) => prompt.error = Some(why),
        },
        Action::Input(c) if !c.is_control() && prompt.input.chars().count() < IMAGE_MAX => {
            prompt.input.push(c);
            prompt.pick = None;
            prompt.error = None;
        }
        Action::Erase => {
            prompt.input.pop();
            prompt.pick = None;
            prompt.error = None;
        }
        Action::FocusNext | Action::MoveDown => cycle(&mut prompt, true),
        Action::MoveUp => cycle(&mut prompt, false),
        // Anything else leaves the prompt as it was.
        _ => {}
    }
    screen.ui.image_prompt = Some(prompt);
    Vec::new()
}

/// Sets the input to the next (or previous) tag the hosts hold.
fn cycle(prompt: &mut ImagePrompt, forward: bool) {
    let Some(Ok(choices)) = &prompt.choices else {
        return;
    };
    if choices.is_empty() {
        return;
    }
    let last = choices.len() - 1;
    let next = match (prompt.pick, forward) {
        (None, true) => 0,
        (None, false) => last,
        (Some(i), true) if i >= last => 0,
        (Some(i), true) => i + 1,
        (Some(0), false) => last,
        (Some(i), false) => i - 1,
    };
    prompt.input = choices[next].clone();
    prompt.pick = Some(next);
    prompt.error = None;
}

/// The typed image, or why it is refused before any y/n: empty, unchanged, or (once the
/// hosts have answered) on none of them.
fn check_image(prompt: &ImagePrompt) -> Result<String, String> {
    let image = prompt.input.trim();
    if image.is_empty() {
        return Err("type an image, or tab through the ones the hosts hold".to_owned());
    }
    if image.chars().any(char::is_whitespace) {
        return Err(format!("{image:?} is not an image reference"));
    }
    if image == prompt.current {
        return Err(format!("{} runs {image} already", prompt.app));
    }
    if let Some(Ok(choices)) = &prompt.choices
        && !choices.is_empty()
        && !choices
            .iter()
            .any(|c| c == image || *c == format!("{image}:latest"))
    {
        return Err(format!(
            "image {image} is on no host: tab lists the ones they hold"
        ));
    }
    Ok(image.to_owned())
}

/// The engines' tags, for an open prompt: the current image's repository first, then the
/// rest, each sorted; `<none>` tags left out.
pub(super) fn on_images(screen: &mut Screen, result: Result<Vec<String>, String>) {
    let Some(prompt) = screen.ui.image_prompt.as_mut() else {
        return;
    };
    let submit = std::mem::take(&mut prompt.submit);
    let repo = |image: &str| image.rsplit_once(':').map_or(image, |(r, _)| r).to_owned();
    let current_repo = repo(&prompt.current);
    prompt.choices = Some(result.map(|mut tags| {
        tags.retain(|t| !t.starts_with("<none>"));
        tags.sort_by_key(|t| (repo(t) != current_repo, t.clone()));
        tags.dedup();
        tags
    }));
    if submit {
        // As if enter was pressed now that the tags are known.
        on_image_prompt(screen, Action::Confirm);
    }
}

pub(super) fn on_history(
    screen: &mut Screen,
    app: String,
    result: Result<Vec<HistoryEntry>, String>,
) {
    if let Some((waiting, wanted)) = screen.ui.pending_rollback.take() {
        if waiting != app {
            screen.ui.pending_rollback = Some((waiting, wanted));
        } else {
            match &result {
                Ok(entries) => ask_rollback(screen, app.clone(), wanted, entries),
                Err(why) => {
                    screen.ui.message = Some(format!("{app}'s history could not be read: {why}"))
                }
            }
            return;
        }
    }
    if let Some(list) = screen.ui.history.as_mut()
        && list.app == app
    {
        list.entries = Some(result);
        list.selected = 0;
    }
}

/// Keys while the history list is open: it takes the Apps panel's keys. Returns the
/// action back when the list does not take it (quit, help); the app keys do nothing here.
pub(super) fn on_history_key(screen: &mut Screen, action: Action) -> Option<Action> {
    let list = screen.ui.history.as_mut()?;
    let count = match &list.entries {
        Some(Ok(entries)) => entries.len(),
        _ => 0,
    };
    match action {
        Action::Back => screen.ui.history = None,
        Action::MoveUp
        | Action::MoveDown
        | Action::PageUp
        | Action::PageDown
        | Action::First
        | Action::Last => {
            let page = screen.ui.geometry.apps_rows;
            list.selected = super::step(list.selected, count, 1, page, &action);
        }
        Action::Open => {
            let picked = match &list.entries {
                Some(Ok(entries)) => entries.get(list.selected).cloned(),
                _ => None,
            };
            let app = list.app.clone();
            match picked {
                None => screen.ui.message = Some(format!("{app}: no revision to pick")),
                Some(e) if e.same_as_current => {
                    screen.ui.message = Some(format!(
                        "revision {} runs what {app} runs now: nothing to roll back",
                        e.revision
                    ));
                }
                Some(e) => {
                    screen.ui.history = None;
                    ask_rollback(screen, app, Some(e.revision), &[e]);
                }
            }
        }
        Action::Quit | Action::ToggleHelp => return Some(action),
        _ => {}
    }
    None
}

/// The y/n question for a rollout command; None for other commands.
pub(super) fn question(screen: &Screen, command: &Command) -> Option<String> {
    Some(match command {
        Command::Rollout { app, image } => match screen.cluster.apps.get(app) {
            Some(r) => format!("roll {app} out: {} → {image}?", r.spec.image),
            None => format!("roll {app} out to {image}?"),
        },
        Command::Rollback {
            app,
            revision: None,
        } if active_rollout(&screen.cluster, app).is_some() => {
            format!("turn {app}'s rollout around, back to where it started?")
        }
        Command::Rollback {
            app,
            revision: None,
        } => format!("roll {app} back to its previous revision?"),
        Command::Rollback {
            app,
            revision: Some(r),
        } => format!("roll {app} back to revision {r}?"),
        Command::Restart { app } => {
            format!("restart every {app} instance (rolling, same spec)?")
        }
        Command::RestartContainer { host, container } => {
            format!("restart container {container} on {host}?")
        }
        Command::Pause { app } => format!("pause {app}'s rollout?"),
        Command::Resume { app } => format!("resume {app}'s rollout?"),
        Command::Promote { app } => format!("promote {app}'s canary to every instance?"),
        _ => return None,
    })
}

/// What the status line says while a rollout command runs; None for other commands.
pub(super) fn progress(command: &Command) -> Option<String> {
    Some(match command {
        Command::Rollout { app, image } => format!("rolling {app} out to {image} …"),
        Command::Rollback { app, .. } => format!("rolling {app} back …"),
        Command::Restart { app } => format!("restarting {app} …"),
        Command::RestartContainer { container, .. } => format!("restarting {container} …"),
        Command::Pause { app } => format!("pausing {app}'s rollout …"),
        Command::Resume { app } => format!("resuming {app}'s rollout …"),
        Command::Promote { app } => format!("promoting {app}'s rollout …"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
