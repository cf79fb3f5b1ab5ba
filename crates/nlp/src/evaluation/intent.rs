//! Intent rows: complaints out of the box and trained (10-fold), BANKING77 and CLINC150
//! (with out-of-scope detection). Training only ever sees train splits; CLINC150's threshold
//! is tuned on its validation split.

use super::{Row, macro_f1_config, read, read_labelled, report_for, train_config};
use crate::model::{Dataset, LabelledText, LinearModel, Outcome, Reject, Report};
use crate::{Analyzer, IntentLabel};
use std::path::Path;

pub(super) fn complaints(dir: &Path) -> Vec<Row> {
    let ootb = Row::new(
        "complaint vs not, out of the box",
        "complaints (3,449, all rows)",
        "macro-F1",
    )
    .target(0.70)
    .published("VADER-only 0.629");
    let cv = Row::new(
        "complaint vs not, trained",
        "complaints, 10-fold CV",
        "macro-F1",
    )
    .target(0.80)
    .published("0.79 (2019), 0.87 (transformers)");
    let path = dir.join("complaints_twitter/complaints-data.csv");
    let rows = match crate::model::data::read_csv_columns(&path, 2, 3) {
        Ok(r) => r,
        Err(e) => return vec![ootb.ours(Err(e.clone())), cv.ours(Err(e))],
    };
    let an = Analyzer::new();
    let report = report_for(
        &["0", "1"],
        rows.iter().map(|r| {
            let complaint = an.analyze(&r.text).intent.label == IntentLabel::Complaint;
            (
                r.label.clone(),
                if complaint { "1" } else { "0" }.to_owned(),
            )
        }),
    );
    let ootb = ootb.ours(Ok(report.macro_f1()));
    let cfg = macro_f1_config();
    let set = Dataset::new(&rows, cfg.spec);
    let mut report = Report::new(set.labels.clone());
    for (tr, te) in set.folds(10, cfg.seed) {
        let m = set.train("complaint", &tr, &cfg, &mut |_, _| {});
        set.evaluate(&m, None, &te, &mut report);
    }
    vec![ootb, cv.ours(Ok(report.macro_f1()))]
}

/// Train on one labelled file and report accuracy on another.
fn train_and_test(
    train_rows: &[LabelledText],
    test_rows: &[LabelledText],
    task: &str,
) -> (LinearModel, Report, Dataset) {
    let cfg = train_config();
    let mut all = train_rows.to_vec();
    all.extend_from_slice(test_rows);
    // Labels come from both files so unseen test labels count as errors, but only the
    // training indices are ever fitted.
    let set = Dataset::new(&all, cfg.spec);
    let tr: Vec<usize> = (0..train_rows.len()).collect();
    let te: Vec<usize> = (train_rows.len()..all.len()).collect();
    let m = set.train(task, &tr, &cfg, &mut |_, _| {});
    let mut report = Report::new(set.labels.clone());
    set.evaluate(&m, None, &te, &mut report);
    (m, report, set)
}

pub(super) fn banking77(dir: &Path) -> Row {
    let row = Row::new("fine intent, trained", "BANKING77 test (3,080)", "accuracy")
        .target(0.90)
        .published("BERT 0.937, USE+ConveRT 0.934");
    let load = |f: &str| read_labelled(&dir.join(format!("banking77/{f}")));
    match (load("train.csv"), load("test.csv")) {
        (Ok(train), Ok(test)) => {
            row.ours(Ok(train_and_test(&train, &test, "banking77").1.accuracy()))
        }
        (Err(e), _) | (_, Err(e)) => row.ours(Err(e)),
    }
}

fn clinc_split(v: &serde_json::Value, key: &str) -> Vec<LabelledText> {
    v.get(key)
        .and_then(|x| x.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|pair| {
                    Some(LabelledText {
                        text: pair.get(0)?.as_str()?.to_owned(),
                        label: pair.get(1)?.as_str()?.to_owned(),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn clinc150(dir: &Path) -> Vec<Row> {
    let acc = Row::new(
        "intent + out of scope, trained",
        "CLINC150 in-scope test (4,500)",
        "accuracy (oos-train + threshold)",
    )
    .target(0.90)
    .published("BERT 0.962, fastText 0.886 (oos-threshold)");
    let oos = Row::new(
        "intent + out of scope, trained",
        "CLINC150 oos_test (1,000)",
        "OOS recall (oos-train + threshold)",
    )
    .target(0.50)
    .published("BERT 0.523, fastText 0.283 (oos-threshold)");
    let parsed = read(&dir.join("clinc150/data_full.json")).and_then(|raw| {
        serde_json::from_str::<serde_json::Value>(&raw).map_err(|e| format!("data_full.json: {e}"))
    });
    let v = match parsed {
        Ok(v) => v,
        Err(e) => return vec![acc.ours(Err(e.clone())), oos.ours(Err(e))],
    };
    let (train, val, oos_val) = (
        clinc_split(&v, "train"),
        clinc_split(&v, "val"),
        clinc_split(&v, "oos_val"),
    );
    let (test, oos_test) = (clinc_split(&v, "test"), clinc_split(&v, "oos_test"));
    // Every labelled training query is used: the 15,000 in-scope ones and the 100 labelled
    // out of scope, which become a 151st class ("oos-train" in Larson et al.); a query is then
    // out of scope when predicted so or below the threshold.
    let mut train = train;
    train.extend(clinc_split(&v, "oos_train"));
    let cfg = train_config();
    let set = Dataset::new(&train, cfg.spec);
    let all: Vec<usize> = (0..set.len()).collect();
    let m = set.train("clinc150", &all, &cfg, &mut |_, _| {});
    // The threshold is tuned on validation only: the one with the best accuracy over all
    // validation queries, out-of-scope counted as a 151st class.
    let outcomes = |rows: &[LabelledText]| -> Vec<Outcome> {
        rows.iter()
            .map(|r| {
                let p = m.predict(&r.text);
                let label = m.labels.get(p.class);
                Outcome {
                    confidence: p.confidence,
                    right: label == Some(&r.label),
                    gold_is_fallback: r.label == "oos",
                }
            })
            .collect()
    };
    let (test_in, test_out) = (outcomes(&test), outcomes(&oos_test));
    let mut val_all = outcomes(&val);
    val_all.extend(outcomes(&oos_val));
    let reject = Reject {
        threshold: Reject::best_threshold(&val_all),
        fallback: "oos".into(),
    };
    // Share of `outcomes` answered right under threshold `t`.
    let score = |t: f32, outcomes: &[Outcome]| {
        let right = outcomes.iter().filter(|o| o.right_under(t)).count();
        right as f64 / outcomes.len().max(1) as f64
    };
    let (a, o) = (
        score(reject.threshold, &test_in),
        score(reject.threshold, &test_out),
    );
    let plain = score(0.0, &test_in);
    let no_threshold = Row::new(
        "intent, trained",
        "CLINC150 in-scope test (4,500)",
        "accuracy (oos-train, no threshold)",
    )
    .published("BERT 0.969, fastText 0.890 (oos-train)");
    let threshold = Row::new(
        "intent + out of scope, trained",
        "CLINC150 val",
        "tuned confidence threshold",
    );
    vec![
        no_threshold.ours(Ok(plain)),
        threshold.ours(Ok(f64::from(reject.threshold))),
        acc.ours(Ok(a)),
        oos.ours(Ok(o)),
    ]
}
