//! NAB's labelling rule (`nab/labeler.py`): each anomaly label sits at the centre of a window;
//! a file's windows together cover 10% of its rows; overlapping windows merge.

/// Inclusive row ranges for labels given as timestamps (ms) of rows of `timestamps`.
pub fn windows_from_labels(timestamps: &[i64], labels: &[i64]) -> Vec<(usize, usize)> {
    let n = timestamps.len();
    if n == 0 || labels.is_empty() {
        return Vec::new();
    }
    // Python's int() truncates; the half-width is an integer division, as in NAB.
    let length = (0.10 * n as f64 / labels.len() as f64) as usize;
    let half = length / 2;
    let mut windows: Vec<(usize, usize)> = labels
        .iter()
        .map(|label| {
            let i = timestamps.partition_point(|t| t < label).min(n - 1);
            (i.saturating_sub(half), (i + half).min(n - 1))
        })
        .collect();
    windows.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(windows.len());
    for (start, end) in windows {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_label_gets_a_tenth_of_the_file_centred_on_it() {
        let ts: Vec<i64> = (0..200).collect();
        // 10% of 200 = 20 rows, half-width 10.
        assert_eq!(windows_from_labels(&ts, &[100]), vec![(90, 110)]);
    }

    #[test]
    fn labels_share_the_tenth_and_overlapping_windows_merge() {
        let ts: Vec<i64> = (0..400).collect();
        // 40 rows / 2 labels = 20 each, half-width 10; 100 and 115 overlap.
        assert_eq!(windows_from_labels(&ts, &[100, 115]), vec![(90, 125)]);
        assert_eq!(
            windows_from_labels(&ts, &[300, 100]),
            vec![(90, 110), (290, 310)]
        );
    }

    #[test]
    fn windows_stop_at_the_ends_of_the_file() {
        let ts: Vec<i64> = (0..100).collect();
        assert_eq!(windows_from_labels(&ts, &[2]), vec![(0, 7)]);
        assert_eq!(windows_from_labels(&ts, &[98]), vec![(93, 99)]);
    }
}
