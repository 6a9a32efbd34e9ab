//! Carrying out what `update` asks of the loop: commands and reads off the loop (answered
//! on its channel), audits of refusals, theme switches and reloads, screen exports.

use super::inbound::Answers;
use super::logs::{self, LogRequest, LogTask};
use crate::agent::client as agent;
use crate::agent::summary::SeriesPoint;
use crate::config::Config;
use crate::domain::HostSpec;
use crate::metrics::Point;
use crate::ops::{self, Command, Ops, Refusal};
use crate::store::EtcdLink;
use crate::tui::export;
use crate::tui::screen::Screen;
use crate::tui::screen::charts::Query;
use crate::tui::theme::Theme;
use crate::tui::update::{Effect, Msg};
use std::path::Path;
use std::time::SystemTime;
use tokio::sync::mpsc;

/// What carrying out effects needs besides the screen.
pub struct Io<'a> {
    pub config: &'a Config,
    /// The feed's etcd client.
    pub etcd: Option<EtcdLink>,
    pub answers: &'a Answers,
    /// Where refused changes go to be audited; None without etcd.
    pub auditor: Option<&'a mpsc::Sender<Refusal>>,
    /// The logs view's stream, while it is open.
    pub logs: Option<LogTask>,
    /// The clients for every read of the agents' history, so their connections are kept.
    pub agents: agent::Clients,
}

impl Io<'_> {
    /// Carries out an IO effect; hands back the ones that need the screen (theme, export,
    /// saving logs).
    pub fn apply(&mut self, effect: Effect, screen: &Screen) -> Option<Effect> {
        match effect {
            Effect::Execute(command) => self.execute(command, screen),
            Effect::ReadImages => self.read_images(screen),
            Effect::ReadHistory(app) => self.read_history(app, screen),
            Effect::AuditRefusal(refusal) => self.audit_refusal(refusal),
            Effect::ReadSeries {
                host,
                base,
                queries,
            } => self.read_series(host, base, queries, screen),
            Effect::StreamLogs {
                target,
                since,
                stream,
                tail,
            } => {
                let request = LogRequest {
                    hosts: host_specs(screen),
                    target,
                    since,
                    tail,
                    stream,
                };
                // The stream before stops as its handle is dropped.
                self.logs = Some(logs::start(request, self.answers.clone()));
            }
            Effect::StopLogs => self.logs = None,
            Effect::SwitchTheme(_) | Effect::ExportScreen(_) | Effect::SaveLogs(_) => {
                return Some(effect);
            }
        }
        None
    }

    fn ops(&self, screen: &Screen) -> Ops {
        Ops {
            etcd: self.etcd.clone(),
            prefix: self.config.prefix.clone(),
            max_instances: self.config.max_instances,
            hosts: host_specs(screen),
        }
    }

    /// The image tags the engines hold, read off the loop: answered with `Msg::Images`.
    fn read_images(&self, screen: &Screen) {
        let answers = self.answers.clone();
        let hosts = host_specs(screen);
        tokio::spawn(async move {
            let tags = ops::image_tags(&hosts).await.map_err(|e| e.to_string());
            answers.send(Msg::Images(tags)).await;
        });
    }

    /// An app's earlier specs, read off the loop: answered with `Msg::History`.
    fn read_history(&self, app: String, screen: &Screen) {
        let ops = self.ops(screen);
        let answers = self.answers.clone();
        tokio::spawn(async move {
            let result = ops::history(&ops, &app).await.map_err(|e| e.to_string());
            answers.send(Msg::History { app, result }).await;
        });
    }

    /// The open host's series from its agent, read off the loop: answered with
    /// `Msg::Series` (each query with its points, or why the agent could not say).
    fn read_series(&self, host: String, base: String, queries: Vec<Query>, screen: &Screen) {
        let answers = self.answers.clone();
        let tls = (screen.cluster.host(&host)).and_then(|h| h.spec.tls.as_ref());
        let http = self.agents.for_agent(&base, tls).map_err(|e| e.to_string());
        tokio::spawn(async move {
            let now_ms = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
            let reads = queries.into_iter().map(|q| {
                let (http, base) = (&http, &base);
                async move {
                    let since = now_ms.saturating_sub(q.span_ms);
                    let points = match http {
                        Ok(http) => {
                            agent::series(http, base, &q.target, &q.metric, since, q.step_ms)
                                .await
                                .map(|reply| to_points(reply.points))
                                .map_err(|e| e.to_string())
                        }
                        Err(e) => Err(e.clone()),
                    };
                    (q, points)
                }
            });
            let read = futures::future::join_all(reads).await;
            let msg = Msg::Series {
                host,
                at_ms: now_ms,
                answers: read,
            };
            answers.send(msg).await;
        });
    }

    /// Hands a refused change to the auditor, which writes it off the loop on its one
    /// client, coalescing repeats (best effort, as every audit record; without etcd there
    /// is no trail).
    fn audit_refusal(&self, refusal: Refusal) {
        if let Some(auditor) = self.auditor
            && auditor.try_send(refusal).is_err()
        {
            tracing::warn!("refusals come faster than they are audited: one is not recorded");
        }
    }

    /// Runs a confirmed command off the loop, as this screen's principal: its result comes
    /// back as `Msg::Done`.
    fn execute(&self, command: Command, screen: &Screen) {
        let answers = self.answers.clone();
        let (ops, principal) = (self.ops(screen), screen.principal.clone());
        tokio::spawn(async move {
            let result = (ops::execute(&ops, &principal, command).await).map_err(|e| e.to_string());
            answers.send(Msg::Done(result)).await;
        });
    }
}

fn to_points(points: Vec<SeriesPoint>) -> Vec<Point> {
    (points.into_iter())
        .map(|p| Point {
            unix_ms: p.unix_ms,
            value: p.value,
        })
        .collect()
}

/// The hosts in the screen's picture, as the engines are reached.
fn host_specs(screen: &Screen) -> Vec<HostSpec> {
    (screen.cluster.hosts.iter())
        .map(|h| h.spec.clone())
        .collect()
}

/// Writes the logs view's lines as plain text (`[TIME ][TAG | ][stderr] TEXT`) to `path`,
/// or into the XDG data dir.
pub fn save_logs(screen: &Screen, path: Option<String>) -> Msg {
    let Some(pane) = &screen.logs else {
        return Msg::Notice("no logs open to save".to_owned());
    };
    let app = match &screen.ui.view {
        crate::tui::screen::View::Logs(nav) => screen.cluster.apps.contains_key(&nav.target),
        _ => false,
    };
    let path = path.map_or_else(
        || {
            let stamp = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            export::default_dir().join(format!("wheelhouse-logs-{stamp}.txt"))
        },
        std::path::PathBuf::from,
    );
    let mut text = Vec::new();
    for line in pane.buffer.lines() {
        line.write_plain(true, app, &mut text);
    }
    let written = path
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::write(&path, &text));
    let (count, shown) = (pane.buffer.len(), path.display());
    Msg::Notice(match written {
        Ok(()) => format!("{count} lines saved to {shown}"),
        Err(e) => format!("logs not saved to {shown}: {e}"),
    })
}

/// A theme loaded from a file is reloaded when the file changes; a broken edit keeps the
/// old theme and says why in the status line.
pub struct ThemeFile {
    modified: Option<SystemTime>,
}

impl ThemeFile {
    pub fn new(theme: &Theme) -> Self {
        ThemeFile {
            modified: theme.source_path().and_then(modified),
        }
    }

    pub fn reload_if_changed(&mut self, screen: &Screen) -> Vec<Msg> {
        let now = screen.theme.source_path().and_then(modified);
        if now == self.modified {
            return Vec::new();
        }
        self.modified = now;
        match screen.theme.reload() {
            None => Vec::new(),
            Some(Ok(fresh)) => in_force(fresh, screen).into(),
            Some(Err(e)) => vec![Msg::Notice(format!("theme not reloaded: {e}"))],
        }
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// What `update` must hear of a theme coming into force: the theme, and help measured
/// again in it.
fn in_force(theme: Theme, screen: &Screen) -> [Msg; 2] {
    let (width, height) = (screen.ui.geometry.width, screen.ui.geometry.height);
    let geometry = crate::tui::measure(width, height, &screen.keymap, &theme);
    [Msg::Theme(Box::new(theme)), Msg::Resize(geometry)]
}

/// `:theme NAME`: a built-in name or a file, mapped to the terminal's colours like the first.
pub fn switch_theme(name: &str, file: &mut ThemeFile, screen: &Screen) -> Vec<Msg> {
    match Theme::load(name) {
        Ok(fresh) => {
            let fresh = fresh.for_depth(screen.theme.depth());
            *file = ThemeFile::new(&fresh);
            let mut msgs = Vec::from(in_force(fresh, screen));
            msgs.push(Msg::Notice(format!("theme {name}")));
            msgs
        }
        Err(e) => vec![Msg::Notice(format!("theme not changed: {e}"))],
    }
}

/// Draws the screen once more, off screen, and writes that frame as text, SVG and PNG.
pub fn export_screen(screen: &Screen, dir: &Path) -> Msg {
    let (width, height) = (screen.ui.geometry.width, screen.ui.geometry.height);
    // A TestBackend cannot fail: its error type is Infallible.
    let backend = ratatui::backend::TestBackend::new(width, height);
    let Ok(mut terminal) = ratatui::Terminal::new(backend);
    let Ok(_) = terminal.draw(|frame| crate::tui::draw(frame, screen));
    let stamp = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let defaults = export::Defaults::for_theme(&screen.theme);
    let written = export::write_all(
        terminal.backend().buffer(),
        &defaults,
        dir,
        &format!("wheelhouse-{stamp}"),
    );
    match written {
        Ok(files) => {
            let names: Vec<String> = (files.iter())
                .filter_map(|f| f.file_name())
                .map(|f| f.to_string_lossy().into_owned())
                .collect();
            let dir = dir.display();
            Msg::Notice(format!("screen saved in {dir}: {}", names.join(" ")))
        }
        Err(e) => Msg::Notice(format!("screen not saved in {}: {e}", dir.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::logs::{LogLine, LogSource, Stream};
    use crate::tui::screen::{LogsNav, LogsPane, View};
    use std::sync::Arc;
    use std::time::Instant;

    #[test]
    fn saving_logs_writes_the_kept_lines_as_plain_text_or_says_why_not() {
        let mut screen = Screen::new(Instant::now());
        screen.ui.view = View::Logs(Box::new(LogsNav::new("web-1", "web-1", View::Grid)));
        let mut pane = LogsPane::new(10, 1);
        for (stream, text) in [(Stream::Stdout, "up"), (Stream::Stderr, "boom")] {
            pane.buffer.push(LogLine {
                unix_nanos: 1_714_564_800_000_000_000,
                stream,
                source: LogSource {
                    tag: Arc::from("web-1"),
                    container: Arc::from("web-1"),
                    host: Arc::from("h1"),
                },
                text: text.to_owned(),
            });
        }
        screen.logs = Some(Box::new(pane));
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("deeper/web.log");
        let notice = |msg: Msg| match msg {
            Msg::Notice(text) => text,
            other => panic!("{other:?}"),
        };
        let said = notice(save_logs(&screen, Some(path.display().to_string())));
        assert!(said.starts_with("2 lines saved to"), "{said}");
        let stamp = "2024-05-01T12:00:00.000000000Z";
        assert_eq!(
            std::fs::read_to_string(&path).expect("written"),
            format!("{stamp} up\n{stamp} [stderr] boom\n")
        );
        let into_a_file = path.join("below-a-file.log").display().to_string();
        let said = notice(save_logs(&screen, Some(into_a_file)));
        assert!(said.starts_with("logs not saved to"), "{said}");
    }
}
