//! Where the operator is in a trace: the app in the middle, the chain of apps followed to
//! reach it (the breadcrumb), the selected row, and the view to return to.

use super::View;
use crate::cluster::{Hop, Trace};

/// The trace view's state. The trace itself is computed from the picture each frame, so
/// its figures are always the latest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceNav {
    pub app: String,
    /// Index into the rows: callers, then instances, then dependencies.
    pub row: usize,
    /// The apps followed to get here, root first, each with the row selected there.
    pub trail: Vec<(String, usize)>,
    /// Where `back` at the root returns.
    pub from: View,
}

/// A row of the trace: which list, and the index in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceRow {
    Caller(usize),
    Instance(usize),
    Dependency(usize),
}

impl TraceNav {
    pub fn new(app: &str, from: View) -> TraceNav {
        TraceNav {
            app: app.to_owned(),
            row: 0,
            trail: Vec::new(),
            from,
        }
    }

    /// Follows a hop to `app`: the current app joins the breadcrumb.
    pub fn follow(&mut self, app: &str) {
        let here = std::mem::replace(&mut self.app, app.to_owned());
        self.trail.push((here, self.row));
        self.row = 0;
    }

    /// Back one step along the breadcrumb; false at the root.
    pub fn back(&mut self) -> bool {
        match self.trail.pop() {
            Some((app, row)) => {
                self.app = app;
                self.row = row;
                true
            }
            None => false,
        }
    }

    /// "a → b → c": the apps followed, then the one in view.
    pub fn breadcrumb(&self) -> String {
        let trail = self.trail.iter().map(|(app, _)| app.as_str());
        let apps: Vec<&str> = trail.chain([self.app.as_str()]).collect();
        apps.join(" → ")
    }
}

/// How many rows each list of `trace` has: callers, instances, dependencies.
pub fn trace_rows(trace: &Trace) -> [usize; 3] {
    [
        trace.callers.len(),
        trace.instances.len(),
        trace.dependencies.len(),
    ]
}

/// The row at flat index `row` (clamped to the last), None when the trace has no rows.
pub fn trace_row(trace: &Trace, row: usize) -> Option<TraceRow> {
    let [callers, instances, deps] = trace_rows(trace);
    let total = callers + instances + deps;
    let row = row.min(total.checked_sub(1)?);
    Some(if row < callers {
        TraceRow::Caller(row)
    } else if row < callers + instances {
        TraceRow::Instance(row - callers)
    } else {
        TraceRow::Dependency(row - callers - instances)
    })
}

/// The app a row leads to when followed: a caller's or a dependency's.
pub fn followed(trace: &Trace, row: usize) -> Option<&Hop> {
    match trace_row(trace, row)? {
        TraceRow::Caller(i) => trace.callers.get(i),
        TraceRow::Dependency(i) => trace.dependencies.get(i),
        TraceRow::Instance(_) => None,
    }
}
