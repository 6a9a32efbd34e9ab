//! Marathon-style placement constraints, written as arrays: `["rack", "MAX_PER", "2"]`.
//!
//! The field is `hostname`, `zone` or a host label key. In JSON a constraint keeps the
//! array form the operator wrote, so etcd holds what the TOML said.

use regex::Regex;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct Constraint {
    pub field: String,
    pub op: ConstraintOp,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ConstraintOp {
    /// At most one instance per value of the field.
    Unique,
    /// Only hosts whose field equals the value; with no value, all instances share the
    /// value of wherever the first one runs.
    Cluster(Option<String>),
    /// Spread evenly: a new instance goes to a value holding the fewest instances.
    GroupBy,
    /// The field must be present and match the regular expression (whole value).
    Like(Pattern),
    /// The field must be absent or not match the regular expression.
    Unlike(Pattern),
    /// At most this many instances per value of the field (at least 1).
    MaxPer(u32),
}

impl ConstraintOp {
    /// The operator's Marathon name.
    pub fn name(&self) -> &'static str {
        match self {
            ConstraintOp::Unique => "UNIQUE",
            ConstraintOp::Cluster(_) => "CLUSTER",
            ConstraintOp::GroupBy => "GROUP_BY",
            ConstraintOp::Like(_) => "LIKE",
            ConstraintOp::Unlike(_) => "UNLIKE",
            ConstraintOp::MaxPer(_) => "MAX_PER",
        }
    }
}

/// A constraint that cannot be read; `part` is the index of the array element at fault
/// (so the TOML parser can point at it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConstraintError {
    pub part: usize,
    pub message: String,
}

impl fmt::Display for ConstraintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Constraint {
    /// Reads `[field, OPERATOR, value?]`; the operator is case-insensitive.
    pub fn parse<S: AsRef<str>>(parts: &[S]) -> Result<Constraint, ConstraintError> {
        let err = |part: usize, message: String| ConstraintError { part, message };
        let field = parts.first().map(AsRef::as_ref).unwrap_or_default();
        if field.trim().is_empty() {
            return Err(err(
                0,
                "constraint needs a field: hostname, zone or a label".into(),
            ));
        }
        let Some(op) = parts.get(1).map(AsRef::as_ref) else {
            return Err(err(
                0,
                format!("constraint on {field:?} needs an operator: {OPERATORS}"),
            ));
        };
        let value = parts.get(2).map(AsRef::as_ref);
        let upper = op.to_ascii_uppercase();
        let takes_value = match upper.as_str() {
            "UNIQUE" | "GROUP_BY" => Some(false),
            "LIKE" | "UNLIKE" | "MAX_PER" => Some(true),
            "CLUSTER" => None,
            _ => {
                return Err(err(
                    1,
                    format!("unknown constraint operator {op:?}; use one of {OPERATORS}"),
                ));
            }
        };
        let arity_ok = match takes_value {
            Some(true) => parts.len() == 3,
            Some(false) => parts.len() == 2,
            None => parts.len() <= 3,
        };
        if !arity_ok {
            let want = match takes_value {
                Some(true) => "exactly one value",
                Some(false) => "no value",
                None => "at most one value",
            };
            return Err(err(
                parts.len().min(3) - 1,
                format!("{upper} takes {want}, e.g. {}", example(&upper)),
            ));
        }
        let op = match (upper.as_str(), value) {
            ("UNIQUE", _) => ConstraintOp::Unique,
            ("GROUP_BY", _) => ConstraintOp::GroupBy,
            ("CLUSTER", v) => ConstraintOp::Cluster(v.map(str::to_owned)),
            ("LIKE", Some(v)) => ConstraintOp::Like(Pattern::new(v).map_err(|m| err(2, m))?),
            ("UNLIKE", Some(v)) => ConstraintOp::Unlike(Pattern::new(v).map_err(|m| err(2, m))?),
            (_, v) => {
                let v = v.unwrap_or_default();
                match v.trim().parse::<u32>() {
                    Ok(n) if n >= 1 => ConstraintOp::MaxPer(n),
                    _ => {
                        return Err(err(
                            2,
                            format!("MAX_PER needs a whole number of at least 1, got {v:?}"),
                        ));
                    }
                }
            }
        };
        Ok(Constraint {
            field: field.to_owned(),
            op,
        })
    }

    /// The array form: `["rack", "MAX_PER", "2"]`.
    pub fn to_parts(&self) -> Vec<String> {
        let mut parts = vec![self.field.clone(), self.op.name().to_owned()];
        match &self.op {
            ConstraintOp::Cluster(Some(v)) => parts.push(v.clone()),
            ConstraintOp::Like(p) | ConstraintOp::Unlike(p) => parts.push(p.as_str().to_owned()),
            ConstraintOp::MaxPer(n) => parts.push(n.to_string()),
            ConstraintOp::Unique | ConstraintOp::GroupBy | ConstraintOp::Cluster(None) => {}
        }
        parts
    }
}

const OPERATORS: &str = "UNIQUE, CLUSTER, GROUP_BY, LIKE, UNLIKE, MAX_PER";

fn example(op: &str) -> &'static str {
    match op {
        "UNIQUE" => r#"["rack", "UNIQUE"]"#,
        "GROUP_BY" => r#"["zone", "GROUP_BY"]"#,
        "LIKE" => r#"["disk", "LIKE", "ssd|nvme"]"#,
        "UNLIKE" => r#"["rack", "UNLIKE", "r9"]"#,
        "MAX_PER" => r#"["hostname", "MAX_PER", "2"]"#,
        _ => r#"["zone", "CLUSTER", "a"]"#,
    }
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_parts().join(" "))
    }
}

impl TryFrom<Vec<String>> for Constraint {
    type Error = ConstraintError;
    fn try_from(parts: Vec<String>) -> Result<Self, Self::Error> {
        Constraint::parse(&parts)
    }
}

impl From<Constraint> for Vec<String> {
    fn from(c: Constraint) -> Self {
        c.to_parts()
    }
}

/// A LIKE / UNLIKE regular expression, matched against the whole value (as Marathon does).
#[derive(Debug, Clone)]
pub struct Pattern {
    source: String,
    regex: Regex,
}

impl Pattern {
    /// Compiles `source`, anchored at both ends; the error says what is wrong with it.
    pub fn new(source: &str) -> Result<Pattern, String> {
        if source.len() > 256 {
            return Err("pattern is longer than 256 characters".into());
        }
        let regex = regex::RegexBuilder::new(&format!("^(?:{source})$"))
            .size_limit(1 << 20)
            .build()
            .map_err(|e| {
                let detail = match &e {
                    regex::Error::Syntax(text) => text
                        .lines()
                        .last()
                        .unwrap_or_default()
                        .trim()
                        .trim_start_matches("error: ")
                        .to_owned(),
                    other => other.to_string(),
                };
                format!("pattern {source:?} is not a regular expression: {detail}")
            })?;
        Ok(Pattern {
            source: source.to_owned(),
            regex,
        })
    }

    pub fn is_match(&self, value: &str) -> bool {
        self.regex.is_match(value)
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

/// Shell-style glob over app names: `*` any run, `?` one character.
pub fn glob_match(glob: &str, name: &str) -> bool {
    let (g, n): (Vec<char>, Vec<char>) = (glob.chars().collect(), name.chars().collect());
    // Greedy match with backtracking to the last '*': linear enough for short names.
    let (mut gi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match g.get(gi) {
            Some('*') => {
                star = Some((gi, ni));
                gi += 1;
            }
            Some(&c) if c == '?' || c == n[ni] => {
                gi += 1;
                ni += 1;
            }
            _ => match star {
                Some((sg, sn)) => {
                    gi = sg + 1;
                    ni = sn + 1;
                    star = Some((sg, sn + 1));
                }
                None => return false,
            },
        }
    }
    g[gi..].iter().all(|&c| c == '*')
}
