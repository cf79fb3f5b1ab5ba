//! NAB's "windowed Gaussian" baseline detector, reimplemented from its published definition
//! so that our scorer can be checked end to end: run it over the same files, score it, and
//! compare with the per-file figures NAB published for it. It is not used for alerting.
//!
//! Definition: the score of a point is `1 − Q(|z|)`, two-sided: a value far below the
//! window's mean scores as high as one far above it. Mean and (population) standard
//! deviation are those of the window before the point joins it. The window grows to 6400
//! points, then slides forward 100 points at a time. A zero standard deviation is replaced
//! by 1e-6.
//!
//! NAB's published results were computed from result files that hold each score with 12
//! significant digits (Python 2's `str(float)`), so 0.9999999999996 was scored as 1.0.
//! [`as_published`] applies the same rounding; without it the counts at threshold 1.0 differ.

const WINDOW: usize = 6400;
const STEP: usize = 100;

/// `1 − Q`, where a value below the mean is mirrored above it first, as NAB computes it.
fn gaussian_score(x: f64, mean: f64, std: f64) -> f64 {
    1.0 - tail_probability(x, mean, std)
}

/// Q-function: the probability of a sample above `x`, after mirroring.
fn tail_probability(x: f64, mean: f64, std: f64) -> f64 {
    if x < mean {
        return tail_probability(2.0 * mean - x, mean, std);
    }
    let z = (x - mean) / std;
    0.5 * libm::erfc(z / std::f64::consts::SQRT_2)
}

fn mean_std(window: &[f64]) -> (f64, f64) {
    let n = window.len() as f64;
    let mean = window.iter().sum::<f64>() / n;
    let var = window.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    let std = var.sqrt();
    (mean, if std == 0.0 { 1e-6 } else { std })
}

/// A score as NAB's result files hold it: 12 significant digits.
pub fn as_published(score: f64) -> f64 {
    format!("{score:.11e}").parse().unwrap_or(score)
}

/// Scores a whole series, point by point.
pub fn windowed_gaussian(values: &[f64]) -> Vec<f64> {
    let mut window: Vec<f64> = Vec::with_capacity(WINDOW);
    let mut pending: Vec<f64> = Vec::with_capacity(STEP);
    let (mut mean, mut std) = (0.0, 1.0);
    let mut out = Vec::with_capacity(values.len());
    for &v in values {
        out.push(if window.is_empty() {
            0.0
        } else {
            gaussian_score(v, mean, std)
        });
        if window.len() < WINDOW {
            window.push(v);
            (mean, std) = mean_std(&window);
        } else {
            pending.push(v);
            if pending.len() == STEP {
                window.drain(..STEP);
                window.append(&mut pending);
                (mean, std) = mean_std(&window);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_point_scores_zero_and_outliers_score_one() {
        let mut values = vec![10.0, 11.0, 9.0, 10.0, 10.0, 11.0, 9.0, 10.0];
        values.push(1000.0);
        let s = windowed_gaussian(&values);
        assert_eq!(s[0], 0.0);
        assert_eq!(s[8], 1.0);
        // At the mean: 1 − Q(0) = 0.5; a dip as far below as the spike is above scores alike.
        assert!(s[3] > 0.3 && s[3] < 0.7, "{}", s[3]);
        let dip = windowed_gaussian(&[10.0, 11.0, 9.0, 10.0, -1000.0]);
        assert_eq!(dip[4], 1.0);
    }

    #[test]
    fn published_scores_keep_twelve_significant_digits() {
        assert_eq!(as_published(0.999_999_999_999_6), 1.0);
        assert_eq!(as_published(0.999_999_999_99), 0.999_999_999_99);
        assert_eq!(as_published(0.123_456_789_012_34), 0.123_456_789_012);
        assert_eq!(as_published(0.0), 0.0);
    }
}
