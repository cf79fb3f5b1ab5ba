//! Conditions: which ops apply to which kind of field, how a written condition is checked
//! and compiled, and how a compiled one is tested against an event.
//!
//! Missing facts: a condition on a field the event does not carry is false, except
//! `not_set` and the negations `ne`, `not_in` and `not_contains`, which stay the exact
//! opposites of `eq`, `in` and `contains`. So "tier ne vip" holds when the tier is unknown.

use super::field::{Field, Kind, NO_CODE, View};
use super::terms::{Scan, TermIndex};
use super::{ConditionConfig, RuleError, RuleValue};

pub(super) const KNOWN_EVENTS: &str =
    "case.opened, message.received, case.updated, sla.warned, sla.breached, reply.sent";
pub(super) const KNOWN_OPS: &str = "eq, ne, in, not_in, lt, le, gt, ge, contains, \
    contains_any, not_contains, is_set, not_set";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    In,
    NotIn,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
    ContainsAny,
    NotContains,
    IsSet,
    NotSet,
}

impl Op {
    const ALL: [Op; 13] = [
        Self::Eq,
        Self::Ne,
        Self::In,
        Self::NotIn,
        Self::Lt,
        Self::Le,
        Self::Gt,
        Self::Ge,
        Self::Contains,
        Self::ContainsAny,
        Self::NotContains,
        Self::IsSet,
        Self::NotSet,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::Eq => "eq",
            Self::Ne => "ne",
            Self::In => "in",
            Self::NotIn => "not_in",
            Self::Lt => "lt",
            Self::Le => "le",
            Self::Gt => "gt",
            Self::Ge => "ge",
            Self::Contains => "contains",
            Self::ContainsAny => "contains_any",
            Self::NotContains => "not_contains",
            Self::IsSet => "is_set",
            Self::NotSet => "not_set",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.name() == s)
    }

    fn applies_to(self, kind: Kind) -> bool {
        use Kind::*;
        match self {
            Self::IsSet | Self::NotSet => true,
            Self::Eq | Self::Ne => kind != Set,
            Self::In | Self::NotIn => matches!(kind, Ranked | Choice | Keyword | Count),
            Self::Lt | Self::Le | Self::Gt | Self::Ge => matches!(kind, Ranked | Number | Count),
            Self::Contains | Self::ContainsAny | Self::NotContains => matches!(kind, Text | Set),
        }
    }

    fn cmp(self) -> Option<Cmp> {
        Some(match self {
            Self::Eq => Cmp::Eq,
            Self::Ne => Cmp::Ne,
            Self::Lt => Cmp::Lt,
            Self::Le => Cmp::Le,
            Self::Gt => Cmp::Gt,
            Self::Ge => Cmp::Ge,
            _ => return None,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    fn holds<T: PartialOrd>(self, fact: T, value: T) -> bool {
        match self {
            Self::Eq => fact == value,
            Self::Ne => fact != value,
            Self::Lt => fact < value,
            Self::Le => fact <= value,
            Self::Gt => fact > value,
            Self::Ge => fact >= value,
        }
    }

    /// Only `ne` holds against a missing fact (see the module note).
    fn on_missing(self) -> bool {
        self == Self::Ne
    }
}

/// A compiled test, shaped so that the common ones are a lookup and a compare or two;
/// `negate` marks `ne` / `not_in` / `not_contains`.
#[derive(Clone, Debug)]
enum Test {
    /// `is_set` (true) or `not_set` (false).
    Presence(bool),
    /// Any op on a ranked or choice field: bit `code` of `accept` says whether the value
    /// passes, `missing` what a missing value gives.
    Code {
        accept: u32,
        missing: bool,
    },
    /// Lowercased; `eq` / `ne` compile to a one-value list.
    Keyword {
        values: Box<[String]>,
        negate: bool,
    },
    Number {
        cmp: Cmp,
        value: f64,
    },
    /// Every comparison on a count is an inclusive range, negated for `ne`.
    Count {
        lo: i64,
        hi: i64,
        negate: bool,
    },
    CountIn {
        values: Box<[i64]>,
        negate: bool,
    },
    Flag {
        value: bool,
        negate: bool,
    },
    TextEq {
        value: String,
        negate: bool,
    },
    /// Ids of lowercased substrings in the rule set's [`TermIndex`]; `contains` compiles
    /// to a one-term list.
    TextContains {
        terms: Box<[u32]>,
        negate: bool,
    },
    /// Lowercased members; `contains` compiles to a one-value list.
    SetContains {
        values: Box<[String]>,
        negate: bool,
    },
}

/// A compiled condition: a field and a test on it.
#[derive(Clone, Debug)]
pub(super) struct Cond {
    field: Field,
    /// `field.slot()`, kept to hand.
    slot: usize,
    test: Test,
}

impl Cond {
    pub(super) fn holds(&self, facts: &View<'_>, scan: &mut Scan<'_>) -> bool {
        let slot = self.slot;
        match &self.test {
            Test::Presence(want) => facts.is_present(self.field) == *want,
            Test::Code { accept, missing } => match facts.codes[slot] {
                NO_CODE => *missing,
                c => (accept >> c) & 1 == 1,
            },
            Test::Keyword { values, negate } => match facts.words[slot] {
                Some(s) => values.iter().any(|v| v.eq_ignore_ascii_case(s)) != *negate,
                None => *negate,
            },
            Test::Number { cmp, value } => match facts.sentiment {
                Some(x) => cmp.holds(x, *value),
                None => cmp.on_missing(),
            },
            Test::Count { lo, hi, negate } => match facts.counts[slot] {
                Some(n) => (*lo <= n && n <= *hi) != *negate,
                None => *negate,
            },
            Test::CountIn { values, negate } => match facts.counts[slot] {
                Some(n) => values.contains(&n) != *negate,
                None => *negate,
            },
            Test::Flag { value, negate } => match facts.vip {
                Some(b) => (b == *value) != *negate,
                None => *negate,
            },
            Test::TextEq { value, negate } => match facts.words[slot] {
                Some(t) => (t == value) != *negate,
                None => *negate,
            },
            Test::TextContains { terms, negate } => match facts.words[slot] {
                Some(t) => terms.iter().any(|&id| scan.contains(t, id)) != *negate,
                None => *negate,
            },
            Test::SetContains { values, negate } => {
                let hit = facts.sets[slot]
                    .iter()
                    .any(|m| values.iter().any(|v| v.eq_ignore_ascii_case(m)));
                hit != *negate
            }
        }
    }

    /// A rough relative cost, so a rule tries its cheap conditions before looking at text.
    pub(super) fn cost(&self) -> usize {
        match &self.test {
            Test::Presence(_)
            | Test::Code { .. }
            | Test::Number { .. }
            | Test::Count { .. }
            | Test::Flag { .. } => 0,
            Test::CountIn { values, .. } => 1 + values.len() / 8,
            Test::Keyword { values, .. } => 2 + values.len(),
            Test::TextEq { .. } => 4,
            Test::SetContains { values, .. } => 4 + values.len(),
            Test::TextContains { terms, .. } => 16 + terms.len(),
        }
    }
}

pub(super) fn compile(
    rule: &str,
    cfg: &ConditionConfig,
    terms: &mut TermIndex,
) -> Result<Cond, RuleError> {
    let field = Field::parse(cfg.field.trim()).ok_or_else(|| RuleError::UnknownField {
        rule: rule.into(),
        field: cfg.field.clone(),
    })?;
    let op = Op::parse(cfg.op.trim()).ok_or_else(|| RuleError::UnknownOp {
        rule: rule.into(),
        field: field.name().into(),
        op: cfg.op.clone(),
    })?;
    let kind = field.kind();
    if !op.applies_to(kind) {
        return Err(RuleError::OpNotApplicable {
            rule: rule.into(),
            field: field.name().into(),
            op: op.name().into(),
            kind: kind.describe(),
        });
    }
    let bad = |detail: String| RuleError::BadValue {
        rule: rule.into(),
        field: field.name().into(),
        op: op.name().into(),
        detail,
    };
    let test = match (op, &cfg.value) {
        (Op::IsSet | Op::NotSet, None) => Test::Presence(op == Op::IsSet),
        (Op::IsSet | Op::NotSet, Some(_)) => return Err(bad("takes no value".into())),
        (_, None) => return Err(bad("needs a value".into())),
        (_, Some(value)) => build(field, op, value, terms).map_err(bad)?,
    };
    Ok(Cond {
        field,
        slot: field.slot(),
        test,
    })
}

/// Builds the test for an op that takes a value; the op is known to apply to the field.
fn build(field: Field, op: Op, value: &RuleValue, index: &mut TermIndex) -> Result<Test, String> {
    let negate = matches!(op, Op::Ne | Op::NotIn | Op::NotContains);
    let is_list_op = matches!(op, Op::In | Op::NotIn | Op::ContainsAny);
    match field.kind() {
        Kind::Ranked | Kind::Choice => {
            let all = (1u32 << field.code_count()) - 1;
            let (accept, missing) = match op.cmp() {
                Some(cmp) => {
                    let v = field.parse_code(text(value)?)?;
                    let accept = (0..field.code_count())
                        .filter(|&c| cmp.holds(c, v))
                        .fold(0, |m, c| m | 1 << c);
                    (accept, cmp.on_missing())
                }
                None => {
                    let mut listed = 0u32;
                    for v in list(value)? {
                        listed |= 1 << field.parse_code(text(v)?)?;
                    }
                    if negate {
                        (all & !listed, true)
                    } else {
                        (listed, false)
                    }
                }
            };
            Ok(Test::Code { accept, missing })
        }
        Kind::Keyword => {
            let values = if is_list_op {
                list(value)?.iter().map(word).collect::<Result<_, _>>()?
            } else {
                vec![word(value)?]
            };
            Ok(Test::Keyword {
                values: values.into(),
                negate,
            })
        }
        Kind::Number => {
            let value = match value {
                RuleValue::Number(n) => *n,
                RuleValue::Whole(n) => *n as f64,
                _ => return Err(format!("expects a number, got {}", describe(value))),
            };
            if !(-1.0..=1.0).contains(&value) {
                return Err(format!("sentiment runs from -1 to 1, got {value}"));
            }
            let cmp = op.cmp().ok_or("expects a comparison")?;
            Ok(Test::Number { cmp, value })
        }
        Kind::Count => {
            let one = |v: &RuleValue| -> Result<i64, String> {
                let RuleValue::Whole(n) = v else {
                    return Err(format!("expects a whole number, got {}", describe(v)));
                };
                let (lo, hi) = field.count_range();
                if !(lo..=hi).contains(n) {
                    return Err(format!("{n} is out of range ({lo} to {hi})"));
                }
                Ok(*n)
            };
            match op.cmp() {
                Some(cmp) => {
                    let v = one(value)?;
                    let (lo, hi) = match cmp {
                        Cmp::Eq | Cmp::Ne => (v, v),
                        Cmp::Lt => (i64::MIN, v - 1),
                        Cmp::Le => (i64::MIN, v),
                        // Nothing is above the largest count: an empty range.
                        Cmp::Gt => v.checked_add(1).map_or((1, 0), |lo| (lo, i64::MAX)),
                        Cmp::Ge => (v, i64::MAX),
                    };
                    Ok(Test::Count {
                        lo,
                        hi,
                        negate: cmp == Cmp::Ne,
                    })
                }
                None => Ok(Test::CountIn {
                    values: list(value)?.iter().map(one).collect::<Result<_, _>>()?,
                    negate,
                }),
            }
        }
        Kind::Flag => match value {
            RuleValue::Flag(b) => Ok(Test::Flag { value: *b, negate }),
            _ => Err(format!("expects true or false, got {}", describe(value))),
        },
        Kind::Text | Kind::Set => {
            if matches!(op, Op::Eq | Op::Ne) {
                return Ok(Test::TextEq {
                    value: text(value)?.to_lowercase(),
                    negate,
                });
            }
            let terms: Box<[String]> = match value {
                // `not_contains` reads naturally with one term or several.
                RuleValue::List(_) if is_list_op || op == Op::NotContains => {
                    list(value)?.iter().map(term).collect::<Result<_, _>>()?
                }
                _ if is_list_op => {
                    return Err(format!("expects a list, got {}", describe(value)));
                }
                _ => Box::new([term(value)?]),
            };
            if field.kind() == Kind::Text {
                let terms = terms.into_vec().into_iter().map(|t| index.intern(t));
                Ok(Test::TextContains {
                    terms: terms.collect(),
                    negate,
                })
            } else {
                Ok(Test::SetContains {
                    values: terms,
                    negate,
                })
            }
        }
    }
}

fn describe(value: &RuleValue) -> String {
    match value {
        RuleValue::Flag(b) => format!("`{b}`"),
        RuleValue::Whole(n) => format!("`{n}`"),
        RuleValue::Number(n) => format!("`{n}`"),
        RuleValue::Text(s) => format!("\"{s}\""),
        RuleValue::List(_) => "a list".into(),
    }
}

fn text(value: &RuleValue) -> Result<&str, String> {
    match value {
        RuleValue::Text(s) => Ok(s),
        _ => Err(format!("expects a string, got {}", describe(value))),
    }
}

/// A non-empty list; an empty one would make the condition constant.
fn list(value: &RuleValue) -> Result<&[RuleValue], String> {
    match value {
        RuleValue::List(items) if items.is_empty() => Err("the list is empty".into()),
        RuleValue::List(items) => Ok(items),
        _ => Err(format!("expects a list, got {}", describe(value))),
    }
}

fn word(value: &RuleValue) -> Result<String, String> {
    match text(value)?.trim() {
        "" => Err("a value is empty".into()),
        s => Ok(s.to_lowercase()),
    }
}

/// A search term or set member, lowercased once here because the text is lowercased by
/// the caller. An empty term would match every text.
fn term(value: &RuleValue) -> Result<String, String> {
    match text(value)? {
        s if s.trim().is_empty() => Err("a term is empty".into()),
        s => Ok(s.to_lowercase()),
    }
}
