//! Reading a `timestamp,value` series from CSV, with errors that name the line.

use crate::time::parse_timestamp;
use std::io::Read;

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("line {line}: {message}")]
    Csv { line: u64, message: String },
    #[error("the header has no `{0}` column (expected `timestamp,value`)")]
    MissingColumn(&'static str),
    #[error(
        "line {line}: `{text}` is not a timestamp (RFC 3339, `YYYY-MM-DD HH:MM:SS` or Unix seconds)"
    )]
    Timestamp { line: u64, text: String },
    #[error("line {line}: `{text}` is not a finite number")]
    Value { line: u64, text: String },
    #[error("{0}")]
    Corpus(String),
}

/// A series in arrival order.
#[derive(Clone, Debug, Default)]
pub struct Series {
    pub timestamps: Vec<i64>,
    pub values: Vec<f64>,
    /// The timestamp text as read, so output can echo it unchanged.
    pub raw_timestamps: Vec<String>,
}

impl Series {
    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn read(input: impl Read) -> Result<Self, InputError> {
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(input);
        let csv_err = |e: csv::Error| InputError::Csv {
            line: e.position().map_or(0, |p| p.line()),
            message: e.to_string(),
        };
        let header = reader.headers().map_err(csv_err)?.clone();
        let column = |name: &'static str| {
            header
                .iter()
                .position(|h| h.eq_ignore_ascii_case(name))
                .ok_or(InputError::MissingColumn(name))
        };
        let (t_col, v_col) = (column("timestamp")?, column("value")?);
        let mut series = Series::default();
        for record in reader.records() {
            let record = record.map_err(csv_err)?;
            let line = record.position().map_or(0, |p| p.line());
            let t_text = record.get(t_col).unwrap_or_default();
            let v_text = record.get(v_col).unwrap_or_default();
            let ts = parse_timestamp(t_text).ok_or_else(|| InputError::Timestamp {
                line,
                text: t_text.to_string(),
            })?;
            let value = v_text
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| InputError::Value {
                    line,
                    text: v_text.to_string(),
                })?;
            series.timestamps.push(ts);
            series.values.push(value);
            series.raw_timestamps.push(t_text.to_string());
        }
        Ok(series)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nab_file_reads() {
        let s = Series::read(
            "timestamp,value\n2015-02-26 21:42:53,104\n2015-02-26 21:47:53,100\n".as_bytes(),
        )
        .unwrap();
        assert_eq!(s.values, vec![104.0, 100.0]);
        assert_eq!(s.raw_timestamps[1], "2015-02-26 21:47:53");
    }

    #[test]
    fn bad_lines_are_named() {
        let e = Series::read("timestamp,value\n2015-02-26 21:42:53,abc\n".as_bytes()).unwrap_err();
        assert_eq!(e.to_string(), "line 2: `abc` is not a finite number");
        let e = Series::read("timestamp,value\nnope,1\n".as_bytes()).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("line 2: `nope` is not a timestamp")
        );
        let e = Series::read("time,count\n".as_bytes()).unwrap_err();
        assert!(matches!(e, InputError::MissingColumn("timestamp")));
        let e = Series::read("timestamp,value\n2015-02-26 21:42:53\n".as_bytes()).unwrap_err();
        assert!(e.to_string().starts_with("line 2:"), "{e}");
    }
}
