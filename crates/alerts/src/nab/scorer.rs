//! NAB scoring (Lavin & Ahmad 2015), ported from `nab/sweeper.py` of the reference
//! implementation: per-point weights from the scaled sigmoid, a probationary period, only
//! the earliest detection in a window counting, one threshold shared by the whole corpus and
//! optimised per profile, and the null/perfect normalisation.

/// The cost matrix of one NAB profile.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Profile {
    pub name: &'static str,
    pub tp_weight: f64,
    pub fn_weight: f64,
    pub fp_weight: f64,
}

pub const STANDARD: Profile = Profile {
    name: "standard",
    tp_weight: 1.0,
    fn_weight: 1.0,
    fp_weight: 0.11,
};
pub const REWARD_LOW_FP: Profile = Profile {
    name: "reward_low_FP_rate",
    tp_weight: 1.0,
    fn_weight: 1.0,
    fp_weight: 0.22,
};
pub const REWARD_LOW_FN: Profile = Profile {
    name: "reward_low_FN_rate",
    tp_weight: 1.0,
    fn_weight: 2.0,
    fp_weight: 0.11,
};
pub const PROFILES: [Profile; 3] = [STANDARD, REWARD_LOW_FP, REWARD_LOW_FN];

/// `2/(1+e^{5y}) − 1`, flattened to −1 far behind a window, as NAB defines it.
pub fn scaled_sigmoid(y: f64) -> f64 {
    if y > 3.0 {
        -1.0
    } else {
        2.0 / (1.0 + (5.0 * y).exp()) - 1.0
    }
}

/// Points at the start of a file that are never scored: the detector learns there.
pub fn probation_len(rows: usize) -> usize {
    // NAB: min(floor(0.15·N), 0.15·5000).
    (rows * 15 / 100).min(750)
}

/// One scorable point of one file, before a profile weights it.
#[derive(Clone, Copy, Debug)]
struct Point {
    score: f64,
    /// Global window id when the point lies inside a window.
    window: Option<usize>,
    /// Scaled-sigmoid value: positive inside a window, negative (or −1) outside.
    sigmoid: f64,
}

/// A labelled file: detector scores and inclusive window index ranges, in row order.
#[derive(Clone, Debug)]
pub struct ScoredFile {
    pub name: String,
    pub scores: Vec<f64>,
    pub windows: Vec<(usize, usize)>,
}

/// The score of one file, or of the corpus, at one threshold.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tally {
    pub raw: f64,
    /// Windows with at least one scored point.
    pub windows: usize,
    pub detected_windows: usize,
    /// Scored points, as NAB counts them: detections inside / outside windows, and points
    /// below the threshold outside / inside windows.
    pub tp: usize,
    pub fp: usize,
    pub tn: usize,
    pub fn_points: usize,
}

impl Tally {
    /// `100 · (raw − null) / (perfect − null)`.
    pub fn normalised(&self, profile: &Profile) -> f64 {
        let null = -profile.fn_weight * self.windows as f64;
        let perfect = profile.tp_weight * self.windows as f64;
        if perfect == null {
            return 0.0;
        }
        100.0 * (self.raw - null) / (perfect - null)
    }
}

/// Sums files' tallies into a corpus total.
impl std::ops::AddAssign<&Tally> for Tally {
    fn add_assign(&mut self, t: &Tally) {
        self.raw += t.raw;
        self.windows += t.windows;
        self.detected_windows += t.detected_windows;
        self.tp += t.tp;
        self.fp += t.fp;
        self.tn += t.tn;
        self.fn_points += t.fn_points;
    }
}

/// The outcome of optimising one profile over a corpus.
#[derive(Clone, Debug)]
pub struct ProfileResult {
    pub profile: Profile,
    pub threshold: f64,
    pub total: Tally,
    pub per_file: Vec<(String, Tally)>,
}

/// Weights each point of a file as sweeper.py's `calcSweepScore` does.
fn prepare(file: &ScoredFile, window_base: usize) -> Vec<Point> {
    let n = file.scores.len();
    let probation = probation_len(n);
    let mut out = Vec::with_capacity(n.saturating_sub(probation));
    let mut next = 0;
    let mut current: Option<(usize, usize, f64)> = None; // (id, right, width)
    let mut previous: Option<(usize, f64)> = None; // (right, width)
    for (i, &score) in file.scores.iter().enumerate() {
        if current.is_none()
            && let Some(&(left, right)) = file.windows.get(next)
            && i == left
        {
            current = Some((window_base + next, right, (right - left + 1) as f64));
            next += 1;
        }
        let (window, sigmoid) = match current {
            // −1 at the left edge, −1/width at the right edge.
            Some((id, right, width)) => {
                (Some(id), scaled_sigmoid(-((right - i + 1) as f64) / width))
            }
            None => match previous {
                None => (None, -1.0),
                Some((right, width)) => {
                    let past = (i - right) as f64 / (width - 1.0).max(1.0);
                    (None, scaled_sigmoid(past))
                }
            },
        };
        if i >= probation {
            out.push(Point {
                score,
                window,
                sigmoid,
            });
        }
        if let Some((_, right, width)) = current
            && i == right
        {
            previous = Some((right, width));
            current = None;
        }
    }
    out
}

fn weigh(point: &Point, profile: &Profile) -> f64 {
    if point.window.is_some() {
        point.sigmoid * profile.tp_weight / scaled_sigmoid(-1.0)
    } else {
        point.sigmoid * profile.fp_weight
    }
}

/// Scores every file at `threshold` (a point is a detection when `score >= threshold`).
pub fn score_at(files: &[ScoredFile], profile: &Profile, threshold: f64) -> Vec<(String, Tally)> {
    let mut base = 0;
    let mut out = Vec::with_capacity(files.len());
    for file in files {
        let points = prepare(file, base);
        let mut best: Vec<Option<f64>> = vec![None; file.windows.len()];
        let mut seen = vec![false; file.windows.len()];
        let mut tally = Tally::default();
        for p in &points {
            if let Some(w) = p.window {
                seen[w - base] = true;
            }
            if p.score < threshold {
                match p.window {
                    Some(_) => tally.fn_points += 1,
                    None => tally.tn += 1,
                }
                continue;
            }
            let weight = weigh(p, profile);
            match p.window {
                Some(w) => {
                    tally.tp += 1;
                    let slot = &mut best[w - base];
                    // Points arrive in order, so the first detection is the earliest.
                    if slot.is_none() {
                        *slot = Some(weight);
                    }
                }
                None => {
                    tally.fp += 1;
                    tally.raw += weight;
                }
            }
        }
        // Windows entirely inside the probationary period are not scored.
        tally.windows = seen.iter().filter(|s| **s).count();
        for w in best.iter().flatten() {
            tally.raw += w;
            tally.detected_windows += 1;
        }
        tally.raw -= profile.fn_weight * (tally.windows - tally.detected_windows) as f64;
        out.push((file.name.clone(), tally));
        base += file.windows.len();
    }
    out
}

/// Finds the one threshold that maximises the corpus total, trying every distinct score
/// (and "no detections") exactly as sweeper.py's `calcScoreByThreshold` does.
pub fn optimise(files: &[ScoredFile], profile: &Profile) -> ProfileResult {
    let mut points = Vec::new();
    let mut base = 0;
    for file in files {
        points.extend(prepare(file, base));
        base += file.windows.len();
    }
    let windows_total = {
        let mut seen = vec![false; base];
        for p in &points {
            if let Some(w) = p.window {
                seen[w] = true;
            }
        }
        seen
    };
    let window_count = windows_total.iter().filter(|s| **s).count();
    points.sort_by(|a, b| b.score.total_cmp(&a.score));

    let mut best_weight: Vec<Option<f64>> = vec![None; base];
    let mut raw = -profile.fn_weight * window_count as f64;
    let mut best = (f64::INFINITY, raw);
    let mut i = 0;
    while i < points.len() {
        let threshold = points[i].score;
        while i < points.len() && points[i].score == threshold {
            let p = &points[i];
            let weight = weigh(p, profile);
            match p.window {
                Some(w) => {
                    // Weights rise towards a window's left edge, so the best weight seen
                    // is the earliest detection's.
                    match best_weight[w] {
                        None => {
                            raw += weight + profile.fn_weight;
                            best_weight[w] = Some(weight);
                        }
                        Some(old) if weight > old => {
                            raw += weight - old;
                            best_weight[w] = Some(weight);
                        }
                        Some(_) => {}
                    }
                }
                None => raw += weight,
            }
            i += 1;
        }
        if raw > best.1 {
            best = (threshold, raw);
        }
    }
    let per_file = score_at(files, profile, best.0);
    let mut total = Tally::default();
    for (_, t) in &per_file {
        total += t;
    }
    ProfileResult {
        profile: *profile,
        threshold: best.0,
        total,
        per_file,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(scores: Vec<f64>, windows: Vec<(usize, usize)>) -> ScoredFile {
        ScoredFile {
            name: "f".into(),
            scores,
            windows,
        }
    }

    #[test]
    fn sigmoid_matches_the_published_shape() {
        assert!((scaled_sigmoid(0.0)).abs() < 1e-12);
        assert!((scaled_sigmoid(-1.0) - 0.986_614_298_151_430_3).abs() < 1e-12);
        assert_eq!(scaled_sigmoid(3.5), -1.0);
        assert!(scaled_sigmoid(1.0) < -0.98);
    }

    #[test]
    fn probation_is_fifteen_percent_capped_at_750() {
        assert_eq!(probation_len(100), 15);
        assert_eq!(probation_len(15_902), 750);
        assert_eq!(probation_len(19), 2);
    }

    #[test]
    fn detection_at_the_left_edge_earns_the_full_true_positive_weight() {
        // 100 rows, probation 15, one window of 10 rows at 50..=59.
        let mut scores = vec![0.0; 100];
        scores[50] = 1.0;
        scores[55] = 1.0;
        let f = file(scores, vec![(50, 59)]);
        let t = &score_at(&[f], &STANDARD, 0.5)[0].1;
        assert!((t.raw - 1.0).abs() < 1e-12, "{t:?}");
        assert_eq!((t.tp, t.fp, t.detected_windows), (2, 0, 1));
        // 85 scored points: 10 in the window, 75 outside.
        assert_eq!((t.fn_points, t.tn), (8, 75));
        assert!((t.normalised(&STANDARD) - 100.0).abs() < 1e-9);
    }

    #[test]
    fn a_late_detection_earns_less_than_an_early_one() {
        let mut scores = vec![0.0; 100];
        scores[59] = 1.0; // right edge: y = −1/10
        let f = file(scores, vec![(50, 59)]);
        let t = &score_at(&[f], &STANDARD, 0.5)[0].1;
        let expected = scaled_sigmoid(-0.1) / scaled_sigmoid(-1.0);
        assert!((t.raw - expected).abs() < 1e-12);
    }

    #[test]
    fn false_positives_cost_more_far_from_a_window() {
        let mut scores = vec![0.0; 100];
        scores[20] = 1.0; // before any window: −fp
        scores[61] = 1.0; // two rows past a 10-row window: y = 2/9
        let f = file(scores, vec![(50, 59)]);
        let t = &score_at(&[f], &STANDARD, 0.5)[0].1;
        let expected = -0.11 + 0.11 * scaled_sigmoid(2.0 / 9.0) - 1.0;
        assert!((t.raw - expected).abs() < 1e-12, "{t:?}");
        assert_eq!(t.fp, 2);
    }

    #[test]
    fn detections_inside_probation_are_ignored() {
        let mut scores = vec![0.0; 100];
        scores[3] = 1.0;
        let f = file(scores, vec![(50, 59)]);
        let t = &score_at(&[f], &STANDARD, 0.5)[0].1;
        assert_eq!(t.raw, -1.0);
        assert_eq!(t.fp, 0);
        assert_eq!(t.normalised(&STANDARD), 0.0);
    }

    #[test]
    fn the_optimiser_picks_the_threshold_that_separates_the_window() {
        let mut scores = vec![0.1; 100];
        scores[30] = 0.6; // a false positive just below the true one
        scores[52] = 0.8;
        let f = file(scores, vec![(50, 59)]);
        let r = optimise(&[f], &STANDARD);
        assert_eq!(r.threshold, 0.8);
        assert_eq!(r.total.fp, 0);
        assert_eq!(r.total.detected_windows, 1);
    }

    #[test]
    fn one_threshold_is_shared_by_every_file() {
        let mut a = vec![0.0; 100];
        a[52] = 0.9;
        let mut b = vec![0.0; 100];
        b[52] = 0.4;
        b[80] = 0.5; // a false positive above b's true one
        let files = [file(a, vec![(50, 59)]), file(b, vec![(50, 59)])];
        let r = optimise(&files, &STANDARD);
        // At 0.4 file b pays one false positive but detects its window: best overall.
        assert_eq!(r.threshold, 0.4);
        assert_eq!(r.total.detected_windows, 2);
        assert_eq!(r.total.windows, 2);
        let swept = score_at(&files, &STANDARD, r.threshold);
        let sum: f64 = swept.iter().map(|(_, t)| t.raw).sum();
        assert!((sum - r.total.raw).abs() < 1e-12);
    }

    #[test]
    fn each_profile_finds_its_own_threshold() {
        // Ten false alarms at 0.5 before the window, and the window's detection at its left
        // edge at 0.45. Standard: 0.99 − 10·0.11 beats missing the window (−1); with
        // false positives costing 0.22 the detector is better left silent.
        let mut scores = vec![0.0; 100];
        for s in &mut scores[20..30] {
            *s = 0.5;
        }
        scores[50] = 0.45;
        let f = file(scores, vec![(50, 59)]);
        let standard = optimise(std::slice::from_ref(&f), &STANDARD);
        assert_eq!(standard.threshold, 0.45);
        assert!((standard.total.raw - (1.0 - 1.1)).abs() < 1e-12);
        let low_fp = optimise(&[f], &REWARD_LOW_FP);
        assert_eq!(low_fp.threshold, f64::INFINITY);
        assert_eq!(low_fp.total.raw, -1.0);
    }

    #[test]
    fn a_detector_that_only_cries_wolf_is_best_left_silent() {
        let mut scores = vec![1.0; 100];
        for s in &mut scores[50..60] {
            *s = 0.0;
        }
        let f = file(scores, vec![(50, 59)]);
        let r = optimise(&[f], &STANDARD);
        assert_eq!(r.threshold, f64::INFINITY);
        assert_eq!(r.total.raw, -1.0);
        assert_eq!(r.total.normalised(&STANDARD), 0.0);
    }
}
