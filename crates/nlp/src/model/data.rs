//! Readers for operator-labelled data: CSV with a `text` and a `label` column, JSONL objects
//! with `text` and `label`, or TweetEval-style `*_text.txt` with a sibling `*_labels.txt`.

use std::path::Path;

#[derive(Clone, Debug, PartialEq)]
pub struct LabelledText {
    pub text: String,
    pub label: String,
}

/// Read a labelled file, choosing the format from its name. Errors name the line at fault.
pub fn read_labelled(path: &Path) -> Result<Vec<LabelledText>, String> {
    let name = path.to_string_lossy();
    if name.ends_with("_text.txt") {
        return read_line_pairs(path);
    }
    let raw = std::fs::read(path).map_err(|e| format!("cannot read {name}: {e}"))?;
    if name.ends_with(".jsonl") || name.ends_with(".json") {
        read_jsonl(&raw)
    } else {
        read_csv(&raw)
    }
}

/// Read a header-less CSV, taking text and label from 1-based column numbers.
pub fn read_csv_columns(
    path: &Path,
    text_col: usize,
    label_col: usize,
) -> Result<Vec<LabelledText>, String> {
    let raw = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let (Some(ti), Some(li)) = (text_col.checked_sub(1), label_col.checked_sub(1)) else {
        return Err("column numbers start at 1".into());
    };
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(raw.as_slice());
    let mut out = Vec::new();
    for (n, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| format!("CSV row {}: {e}", n + 1))?;
        match (rec.get(ti), rec.get(li)) {
            (Some(t), Some(l)) => out.push(LabelledText {
                text: t.to_owned(),
                label: l.trim().to_owned(),
            }),
            _ => {
                return Err(format!(
                    "CSV row {}: fewer than {} columns",
                    n + 1,
                    ti.max(li) + 1
                ));
            }
        }
    }
    Ok(out)
}

fn read_jsonl(raw: &[u8]) -> Result<Vec<LabelledText>, String> {
    let mut out = Vec::new();
    for (n, line) in raw.split(|&b| b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let v: serde_json::Value =
            serde_json::from_slice(line).map_err(|e| format!("line {}: {e}", n + 1))?;
        let field = |k: &str| match v.get(k) {
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(serde_json::Value::Number(x)) => Some(x.to_string()),
            _ => None,
        };
        match (field("text"), field("label")) {
            (Some(text), Some(label)) => out.push(LabelledText { text, label }),
            _ => return Err(format!("line {}: needs \"text\" and \"label\"", n + 1)),
        }
    }
    Ok(out)
}

fn read_csv(raw: &[u8]) -> Result<Vec<LabelledText>, String> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(raw);
    let headers = rdr
        .headers()
        .map_err(|e| format!("CSV header: {e}"))?
        .clone();
    let find = |names: &[&str]| {
        headers
            .iter()
            .position(|h| names.contains(&h.trim().to_ascii_lowercase().as_str()))
    };
    let (Some(ti), Some(li)) = (
        find(&["text", "message", "utterance"]),
        find(&["label", "category", "intent", "topic"]),
    ) else {
        return Err("CSV needs a header with `text` and `label` columns".into());
    };
    let mut out = Vec::new();
    for (n, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| format!("CSV row {}: {e}", n + 2))?;
        match (rec.get(ti), rec.get(li)) {
            (Some(t), Some(l)) => out.push(LabelledText {
                text: t.to_owned(),
                label: l.trim().to_owned(),
            }),
            _ => return Err(format!("CSV row {}: missing text or label", n + 2)),
        }
    }
    Ok(out)
}

/// TweetEval layout: one text per line, labels as integers in `*_labels.txt`, names in
/// `mapping.txt` when present.
fn read_line_pairs(path: &Path) -> Result<Vec<LabelledText>, String> {
    let name = path.to_string_lossy();
    let labels_path = name.replace("_text.txt", "_labels.txt");
    let read = |p: &str| std::fs::read_to_string(p).map_err(|e| format!("cannot read {p}: {e}"));
    let texts = read(&name)?;
    let labels = read(&labels_path)?;
    let mapping = path
        .parent()
        .map(|d| d.join("mapping.txt"))
        .and_then(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_default();
    let names: Vec<(&str, &str)> = mapping
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(a, b)| (a.trim(), b.trim()))
        .collect();
    let texts: Vec<&str> = texts.lines().collect();
    let labels: Vec<&str> = labels.lines().collect();
    if texts.len() != labels.len() {
        return Err(format!(
            "{name} has {} lines but {labels_path} has {}",
            texts.len(),
            labels.len()
        ));
    }
    Ok(texts
        .iter()
        .zip(&labels)
        .map(|(t, l)| {
            let l = l.trim();
            let label = names.iter().find(|(id, _)| *id == l).map_or(l, |(_, n)| n);
            LabelledText {
                text: (*t).to_owned(),
                label: label.to_owned(),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_and_jsonl_read_the_same_examples() {
        let csv = b"label,text\nbilling,\"charged twice, why?\"\ndelivery,where is it\n";
        let jsonl = b"{\"text\":\"charged twice, why?\",\"label\":\"billing\"}\n\n{\"text\":\"where is it\",\"label\":\"delivery\"}\n";
        assert_eq!(read_csv(csv).unwrap(), read_jsonl(jsonl).unwrap());
    }

    #[test]
    fn a_bad_line_is_named() {
        let err = read_jsonl(b"{\"text\":\"a\",\"label\":\"b\"}\n{oops\n").unwrap_err();
        assert!(err.starts_with("line 2"), "{err}");
        assert!(read_csv(b"foo,bar\n1,2\n").is_err());
    }
}
