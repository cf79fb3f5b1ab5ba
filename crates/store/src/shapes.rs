//! How a batch of rows is cut into multi-row statements.
//!
//! Each multi-row statement is prepared once per connection and kept, and its shape (how many
//! rows it carries) is part of its text. Cut into chunks of `MAX_ROWS` and one remainder of
//! any size, every write had up to `MAX_ROWS` shapes, and a prepared 64-row INSERT holds about
//! as much memory as the 64 one-row ones together: the SQLite writer kept some 55 MB of them.
//! Here every statement has a power of two rows, so each write has `SHAPES` of them:
//! [`padded`] keeps one statement per `MAX_ROWS` rows and pads the last with rows of NULLs
//! that the statement skips (the SQLite store's hot writes), [`chunks`] cuts the remainder by
//! its binary digits instead (a 45-row remainder is 32 + 8 + 4 + 1), for statements shared
//! with PostgreSQL, where a padding row would need a type for each NULL.

/// Largest statement, in rows; a placement binds 17 values and a new message 18, well under
/// SQLite's limit of 32,766 and PostgreSQL's of 65,535.
pub const MAX_ROWS: usize = 64;

/// Row counts a multi-row statement is ever prepared with (1, 2, 4 … `MAX_ROWS`).
pub const SHAPES: usize = MAX_ROWS.trailing_zeros() as usize + 1;

/// `0..n` as consecutive ranges: full chunks of `MAX_ROWS`, then the remainder as powers of
/// two, largest first.
pub fn chunks(n: usize) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::with_capacity(n / MAX_ROWS + SHAPES);
    let mut start = 0;
    while n - start >= MAX_ROWS {
        out.push(start..start + MAX_ROWS);
        start += MAX_ROWS;
    }
    let mut size = MAX_ROWS / 2;
    while size > 0 {
        if n - start >= size {
            out.push(start..start + size);
            start += size;
        }
        size /= 2;
    }
    out
}

/// `0..n` as consecutive ranges of at most `MAX_ROWS` rows, each with the shape its statement
/// is prepared with: `MAX_ROWS` for a full chunk, the next power of two for the remainder. A
/// statement pads its rows up to the shape with rows of NULLs that it filters out, so a batch
/// takes as few statements as [`chunks`] would with one remainder, and each write still has
/// only `SHAPES` of them.
pub fn padded(n: usize) -> Vec<(std::ops::Range<usize>, usize)> {
    (0..n)
        .step_by(MAX_ROWS)
        .map(|start| {
            let end = (start + MAX_ROWS).min(n);
            (start..end, (end - start).next_power_of_two())
        })
        .collect()
}

/// `rows` cut as [`chunks`] cuts its length.
pub fn slices<T>(rows: &[T]) -> impl Iterator<Item = &[T]> {
    chunks(rows.len()).into_iter().map(move |r| &rows[r])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_every_row_once_in_few_shapes() {
        let mut shapes = std::collections::BTreeSet::new();
        for n in 0..=1100 {
            let c = chunks(n);
            let mut next = 0;
            for r in &c {
                assert_eq!(r.start, next, "{n}: {c:?}");
                assert!(
                    r.len().is_power_of_two() && r.len() <= MAX_ROWS,
                    "{n}: {r:?}"
                );
                shapes.insert(r.len());
                next = r.end;
            }
            assert_eq!(next, n);
            let rest = n % MAX_ROWS;
            assert_eq!(c.len(), n / MAX_ROWS + rest.count_ones() as usize, "{n}");
        }
        assert_eq!(shapes.len(), SHAPES);
        assert_eq!(
            chunks(45).iter().map(|r| r.len()).collect::<Vec<_>>(),
            [32, 8, 4, 1]
        );
        assert_eq!(
            slices(&[1, 2, 3]).collect::<Vec<_>>(),
            [&[1, 2][..], &[3][..]]
        );
    }

    #[test]
    fn padded_chunks_cover_every_row_once_in_few_statements_and_shapes() {
        let mut shapes = std::collections::BTreeSet::new();
        for n in 0..=1100 {
            let c = padded(n);
            let mut next = 0;
            for (r, shape) in &c {
                assert_eq!(r.start, next, "{n}: {c:?}");
                assert!(!r.is_empty() && r.len() <= *shape, "{n}: {c:?}");
                assert!(shape.is_power_of_two() && *shape <= MAX_ROWS, "{n}: {c:?}");
                assert!(*shape < 2 * r.len(), "{n}: more padding than rows: {c:?}");
                shapes.insert(*shape);
                next = r.end;
            }
            assert_eq!(next, n);
            assert_eq!(c.len(), n.div_ceil(MAX_ROWS), "{n}");
        }
        assert_eq!(shapes.len(), SHAPES);
        assert_eq!(padded(100), [(0..64, 64), (64..100, 64)]);
        assert_eq!(padded(5), [(0..5, 8)]);
    }
}
