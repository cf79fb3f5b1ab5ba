//! Experiments (H4), the statistics: stable random assignment of a unit (a case, a customer)
//! to a variant, and the two-proportion z-test that says whether two variants' outcome rates
//! (CSAT 4–5, replied, resolved, reopened) differ, with its p-value and the confidence interval
//! of the difference. Definitions in docs/METRICS.md (*Experiments*).

/// Picks a variant for `unit` in `experiment`, by weight: the same unit always gets the same
/// variant, and units spread over variants in proportion to their weights. The draw is a
/// 64-bit FNV-1a hash of `experiment` and `unit`, so it needs no stored state and no
/// random source, and different experiments draw independently.
pub fn assign<'a>(experiment: &str, unit: &str, variants: &[(&'a str, u32)]) -> Option<&'a str> {
    let total: u64 = variants.iter().map(|(_, w)| u64::from(*w)).sum();
    if total == 0 {
        return None;
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in experiment.bytes().chain([0]).chain(unit.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    // Finalise (splitmix64) so nearby inputs land far apart.
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^= h >> 31;
    let mut pick = h % total;
    for (name, w) in variants {
        let w = u64::from(*w);
        if pick < w {
            return Some(name);
        }
        pick -= w;
    }
    None
}

/// One variant's outcome: how many units had it, of how many.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arm {
    pub successes: u64,
    pub trials: u64,
}

/// Variant B against variant A.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Comparison {
    pub rate_a: f64,
    pub rate_b: f64,
    /// `rate_b − rate_a`.
    pub difference: f64,
    /// The z statistic under the pooled null hypothesis (equal rates).
    pub z: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// The confidence interval of the difference (unpooled standard error).
    pub ci_low: f64,
    pub ci_high: f64,
    pub confidence: f64,
    /// `p_value < 1 − confidence`.
    pub significant: bool,
}

/// The two-proportion z-test. `None` when an arm has no trials, successes exceed trials, the
/// confidence is not strictly between 0 and 1, or both arms are all-success or all-failure
/// (no variance to test).
pub fn two_proportion(a: Arm, b: Arm, confidence: f64) -> Option<Comparison> {
    if a.trials == 0 || b.trials == 0 || a.successes > a.trials || b.successes > b.trials {
        return None;
    }
    if !(confidence > 0.0 && confidence < 1.0) {
        return None;
    }
    let (na, nb) = (a.trials as f64, b.trials as f64);
    let (pa, pb) = (a.successes as f64 / na, b.successes as f64 / nb);
    let pooled = (a.successes + b.successes) as f64 / (na + nb);
    let se_pooled = (pooled * (1.0 - pooled) * (1.0 / na + 1.0 / nb)).sqrt();
    if se_pooled == 0.0 {
        return None;
    }
    let diff = pb - pa;
    let z = diff / se_pooled;
    let p_value = (2.0 * (1.0 - normal_cdf(z.abs()))).clamp(0.0, 1.0);
    let se = (pa * (1.0 - pa) / na + pb * (1.0 - pb) / nb).sqrt();
    let crit = normal_quantile(0.5 + confidence / 2.0);
    Some(Comparison {
        rate_a: pa,
        rate_b: pb,
        difference: diff,
        z,
        p_value,
        ci_low: diff - crit * se,
        ci_high: diff + crit * se,
        confidence,
        significant: p_value < 1.0 - confidence,
    })
}

/// What happened on a case after it first got a variant (outcomes, docs/METRICS.md).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CaseOutcome {
    /// The customer wrote in the case afterwards.
    pub replied: bool,
    /// The case was resolved (or closed) afterwards.
    pub resolved: bool,
    /// Resolved afterwards, then reopened.
    pub reopened: bool,
    /// A satisfaction answer afterwards: whether its CSAT was 4 or 5; `None` without one.
    pub satisfied: Option<bool>,
}

fn is_done(status: &str) -> bool {
    matches!(status, "resolved" | "closed")
}

/// The outcome of a case assigned at `assigned_at` (ms), from its events `(kind, at, data)`
/// and the times its customer's messages arrived.
pub fn outcome(
    assigned_at: i64,
    events: &[(&str, i64, &serde_json::Value)],
    customer_messages: &[i64],
) -> CaseOutcome {
    let mut o = CaseOutcome {
        replied: customer_messages.iter().any(|&t| t > assigned_at),
        ..CaseOutcome::default()
    };
    for (kind, at, data) in events {
        if *at < assigned_at {
            continue;
        }
        match *kind {
            "status_changed" => {
                let from = data["from"].as_str().unwrap_or_default();
                let to = data["to"].as_str().unwrap_or_default();
                if is_done(to) && !is_done(from) {
                    o.resolved = true;
                } else if o.resolved && is_done(from) && !is_done(to) {
                    o.reopened = true;
                }
            }
            "survey.answered" if o.satisfied.is_none() => {
                if let Some(csat) = data["csat"].as_u64() {
                    o.satisfied = Some(csat >= 4);
                }
            }
            _ => {}
        }
    }
    o
}

/// The outcomes the report compares, by name.
pub const OUTCOMES: [&str; 4] = ["replied", "resolved", "reopened", "csat"];

/// One variant's cases and outcome counts: `arms[i]` is the outcome `OUTCOMES[i]`. Replied,
/// resolved and reopened count over every case of the variant; CSAT over the cases whose
/// customer answered a survey.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VariantTally {
    pub cases: u64,
    pub arms: [Arm; 4],
}

pub fn tally<'a>(outcomes: impl IntoIterator<Item = &'a CaseOutcome>) -> VariantTally {
    let mut t = VariantTally {
        cases: 0,
        arms: [Arm {
            successes: 0,
            trials: 0,
        }; 4],
    };
    for o in outcomes {
        t.cases += 1;
        for (i, hit) in [o.replied, o.resolved, o.reopened].into_iter().enumerate() {
            t.arms[i].trials += 1;
            t.arms[i].successes += u64::from(hit);
        }
        if let Some(s) = o.satisfied {
            t.arms[3].trials += 1;
            t.arms[3].successes += u64::from(s);
        }
    }
    t
}

/// Φ(x), the standard normal distribution function, from the complementary error function
/// (Numerical Recipes' `erfc` approximation, relative error below 1.2 × 10⁻⁷).
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// Φ⁻¹(p) for 0 < p < 1, by bisection on [`normal_cdf`] (60 halvings: exact to the precision
/// of the distribution function, and fast enough for one call per report).
pub fn normal_quantile(p: f64) -> f64 {
    let (mut lo, mut hi) = (-40.0_f64, 40.0_f64);
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if normal_cdf(mid) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn near(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() < tol
    }

    #[test]
    fn the_normal_distribution_matches_its_tables() {
        assert!(near(normal_cdf(0.0), 0.5, 1e-7));
        assert!(near(normal_cdf(1.959_964), 0.975, 1e-6));
        assert!(near(normal_cdf(-1.0), 0.158_655_25, 1e-6));
        assert!(near(normal_quantile(0.975), 1.959_964, 1e-5));
        assert!(near(normal_quantile(0.95), 1.644_854, 1e-5));
    }

    #[test]
    fn a_template_that_lifts_csat_from_20_to_25_percent_is_significant() {
        // 200 of 1,000 satisfied with template A, 250 of 1,000 with B, worked by hand:
        // pooled 0.225, SE 0.018675, z 2.6774, p 0.00742; unpooled SE 0.018641, 95 % CI
        // 0.05 ± 1.959964 × 0.018641.
        let c = two_proportion(
            Arm {
                successes: 200,
                trials: 1_000,
            },
            Arm {
                successes: 250,
                trials: 1_000,
            },
            0.95,
        )
        .unwrap();
        assert!(near(c.difference, 0.05, 1e-12));
        assert!(near(c.z, 2.6774, 1e-3), "{c:?}");
        assert!(near(c.p_value, 0.00742, 1e-4), "{c:?}");
        assert!(near(c.ci_low, 0.013_464, 1e-4), "{c:?}");
        assert!(near(c.ci_high, 0.086_536, 1e-4), "{c:?}");
        assert!(c.significant);
    }

    #[test]
    fn a_small_difference_on_few_cases_is_not_significant() {
        let c = two_proportion(
            Arm {
                successes: 10,
                trials: 40,
            },
            Arm {
                successes: 12,
                trials: 40,
            },
            0.95,
        )
        .unwrap();
        assert!(c.p_value > 0.5);
        assert!(c.ci_low < 0.0 && c.ci_high > 0.0);
        assert!(!c.significant);
        assert!(
            two_proportion(
                Arm {
                    successes: 1,
                    trials: 0
                },
                Arm {
                    successes: 1,
                    trials: 2
                },
                0.95
            )
            .is_none()
        );
        assert!(
            two_proportion(
                Arm {
                    successes: 5,
                    trials: 5
                },
                Arm {
                    successes: 9,
                    trials: 9
                },
                0.95
            )
            .is_none()
        );
        assert!(
            two_proportion(
                Arm {
                    successes: 1,
                    trials: 5
                },
                Arm {
                    successes: 2,
                    trials: 9
                },
                1.0
            )
            .is_none()
        );
    }

    #[test]
    fn outcomes_count_only_what_happened_after_the_assignment() {
        use serde_json::json;
        let resolved = json!({"from": "open", "to": "resolved"});
        let reopened = json!({"from": "resolved", "to": "open"});
        let happy = json!({"csat": 5});
        let grumpy = json!({"csat": 2});
        // Resolved before the variant was sent: not its outcome. After: resolved, reopened,
        // and the first answer counts.
        let events = [
            ("status_changed", 50, &resolved),
            ("status_changed", 150, &reopened),
            ("status_changed", 200, &resolved),
            ("survey.answered", 210, &grumpy),
            ("survey.answered", 220, &happy),
            ("status_changed", 300, &reopened),
        ];
        let o = outcome(100, &events, &[90, 120]);
        assert_eq!(
            o,
            CaseOutcome {
                replied: true,
                resolved: true,
                reopened: true,
                satisfied: Some(false),
            }
        );
        let quiet = outcome(100, &events[..2], &[90]);
        assert_eq!(
            quiet,
            CaseOutcome::default(),
            "a reopen before any resolution after"
        );
        let t = tally(&[o, quiet]);
        assert_eq!(t.cases, 2);
        assert_eq!((t.arms[0].successes, t.arms[0].trials), (1, 2));
        assert_eq!(
            (t.arms[3].successes, t.arms[3].trials),
            (0, 1),
            "CSAT over answers only"
        );
    }

    #[test]
    fn assignment_is_stable_and_follows_the_weights() {
        let variants = [("a", 1), ("b", 3)];
        let mut b = 0;
        for i in 0..10_000 {
            let unit = format!("case_{i}");
            let v = assign("welcome-template", &unit, &variants).unwrap();
            assert_eq!(
                Some(v),
                assign("welcome-template", &unit, &variants),
                "stable"
            );
            b += usize::from(v == "b");
        }
        assert!(
            (7_300..7_700).contains(&b),
            "about three in four get b: {b}"
        );
        assert_eq!(assign("x", "y", &[("a", 0)]), None);
    }
}
