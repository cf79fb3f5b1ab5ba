//! `switchboard nlp` as an integration script uses it: JSONL in, JSONL out, one line per
//! input line in the same order, bad lines answered in place, and a topic model trained from
//! an operator's CSV.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use std::io::Write;
use std::process::{Command, Output, Stdio};

fn switchboard(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(args)
        .env("SWITCHBOARD_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    // Write from a thread so a large input cannot deadlock against a full stdout pipe.
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

fn lines(o: &Output) -> Vec<Value> {
    String::from_utf8(o.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_complaint_with_a_card_number_is_analysed_and_redacted() {
    let text = "Third time asking: card 4111 1111 1111 1111 was charged twice. Terrible service!";
    let input = serde_json::json!({"id": "m-1", "text": text}).to_string() + "\n";
    let out = switchboard(&["nlp", "analyze"], input.as_bytes());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = &lines(&out)[0];
    assert_eq!(v["id"], "m-1");
    assert_eq!(v["language"], "en");
    assert_eq!(v["sentiment"]["label"], "negative");
    assert!(v["sentiment"]["compound"].as_f64().unwrap() < -0.05);
    assert_eq!(v["intent"]["label"], "complaint");
    let confidence = v["intent"]["confidence"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&confidence));
    assert!(["normal", "high", "critical"].contains(&v["urgency"].as_str().unwrap()));
    let toxicity = v["toxicity"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&toxicity));
    let pii = v["pii"].as_array().unwrap();
    assert_eq!(pii.len(), 1);
    assert_eq!(pii[0]["kind"], "payment_card");
    let (s, e) = (
        pii[0]["start"].as_u64().unwrap() as usize,
        pii[0]["end"].as_u64().unwrap() as usize,
    );
    assert_eq!(&text[s..e], "4111 1111 1111 1111");
    assert_eq!(
        v["redacted"],
        "Third time asking: card [CARD] was charged twice. Terrible service!"
    );
}

#[test]
fn bad_lines_are_answered_in_place_and_the_run_goes_on() {
    let mut input = Vec::new();
    input.extend_from_slice(b"{\"id\":1,\"text\":\"Thanks, the new app is great!\"}\n");
    input.extend_from_slice(b"this is not json\n");
    input.extend_from_slice(b"{\"id\":\"x\",\"text\":\"\xff\xfe broken\"}\n");
    input.extend_from_slice(b"{\"text\":\"no id\"}\n");
    input.extend_from_slice(b"\n");
    input.extend_from_slice(b"{\"id\":\"empty\",\"text\":\"\"}\n");
    input.extend_from_slice(b"{\"id\":\"emoji\",\"text\":\"\xf0\x9f\x98\xa2\xf0\x9f\x98\xa2\"}");
    let out = switchboard(&["nlp", "analyze"], &input);
    assert!(out.status.success());
    let v = lines(&out);
    assert_eq!(
        v.len(),
        6,
        "blank lines are skipped, every other line answered"
    );
    assert_eq!(v[0]["id"], 1);
    assert_eq!(v[0]["sentiment"]["label"], "positive");
    assert!(v[1]["error"].as_str().unwrap().contains("JSON"));
    assert_eq!(v[1]["line"], 2);
    assert!(v[2]["error"].as_str().unwrap().contains("UTF-8"));
    assert!(v[3]["error"].as_str().unwrap().contains("id"));
    assert_eq!(v[4]["id"], "empty");
    assert_eq!(v[4]["sentiment"]["label"], "neutral");
    assert_eq!(v[4]["language"], "und");
    assert_eq!(v[4]["urgency"], "low");
    assert_eq!(v[5]["id"], "emoji");
    assert_eq!(v[5]["sentiment"]["label"], "negative");
}

#[test]
fn a_short_reply_takes_the_language_the_caller_knows() {
    let input = b"{\"id\":\"a\",\"text\":\"ok merci\",\"language\":\"fr\"}\n{\"id\":\"b\",\"text\":\"ok merci\"}\n";
    let out = switchboard(&["nlp", "analyze"], input);
    assert!(out.status.success());
    let v = lines(&out);
    assert_eq!(v[0]["language"], "fr");
    assert_eq!(v[0]["language_confidence"], 0.0);
    assert_eq!(v[1]["language"], "und");
}

#[test]
fn a_megabyte_of_text_is_one_answer() {
    let text = "my parcel is late again, call me on +44 20 7946 0958. ".repeat(20_000);
    assert!(text.len() > 1_000_000);
    let input = serde_json::json!({"id": "big", "text": text}).to_string() + "\n";
    let out = switchboard(&["nlp", "analyze"], input.as_bytes());
    assert!(out.status.success());
    let v = lines(&out);
    assert_eq!(v.len(), 1);
    assert_eq!(v[0]["pii"].as_array().unwrap().len(), 20_000);
    assert_eq!(v[0]["sentiment"]["label"], "negative");
}

#[test]
fn an_operator_trains_a_topic_model_and_analyze_uses_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("topics.csv");
    let mut csv = String::from("text,label\n");
    for i in 0..20 {
        csv.push_str(&format!("where is my parcel number {i},delivery\n"));
        csv.push_str(&format!("the courier lost package {i},delivery\n"));
        csv.push_str(&format!("I was charged twice for order {i},billing\n"));
        csv.push_str(&format!("refund the extra fee on invoice {i},billing\n"));
    }
    std::fs::write(&data, csv).unwrap();
    let model = dir.path().join("topics.sbm");
    let report = train_report(&data, &model, &["--bits", "14"]);
    assert!(
        report.contains("held-out") && report.contains("accuracy"),
        "{report}"
    );
    assert!(model.exists());

    let input = b"{\"id\":\"t\",\"text\":\"my parcel never came, the courier lost it\"}\n";
    let out = switchboard(
        &["nlp", "analyze", "--topic-model", model.to_str().unwrap()],
        input,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(lines(&out)[0]["topic"]["label"], "delivery");

    let out = switchboard(
        &[
            "nlp",
            "eval",
            "--model",
            model.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
        ],
        b"",
    );
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("accuracy 1.0000"));
}

#[test]
fn rejected_predictions_count_as_the_fallback_label_in_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("topics.jsonl");
    let mut jsonl = String::new();
    for i in 0..10 {
        jsonl.push_str(&format!(
            "{{\"text\":\"parcel {i} lost\",\"label\":\"delivery\"}}\n"
        ));
        jsonl.push_str(&format!(
            "{{\"text\":\"charged twice {i}\",\"label\":\"billing\"}}\n"
        ));
    }
    std::fs::write(&data, jsonl).unwrap();
    let model = dir.path().join("m.sbm");
    // No prediction is this sure: every held-out example is rejected.
    let report = train_report(
        &data,
        &model,
        &[
            "--bits",
            "12",
            "--holdout",
            "0.5",
            "--reject-below",
            "1.01",
            "--reject-label",
            "other",
        ],
    );
    assert!(report.contains("examples 10  accuracy 0.0000"), "{report}");
    assert!(report.lines().any(|l| l.starts_with("other ")), "{report}");
}

/// `switchboard nlp train --task topic` on `data`, writing `model`, with `extra` arguments.
fn train_cmd(data: &std::path::Path, model: &std::path::Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "nlp",
        "train",
        "--task",
        "topic",
        "--data",
        data.to_str().unwrap(),
        "--out",
        model.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    switchboard(&args, b"")
}

/// [`train_cmd`] that must succeed; answers the report (stdout).
fn train_report(data: &std::path::Path, model: &std::path::Path, extra: &[&str]) -> String {
    let out = train_cmd(data, model, extra);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The `accuracy` figure of a report.
fn accuracy(report: &str) -> f64 {
    report
        .split("accuracy ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no accuracy in {report}"))
}

#[test]
fn an_automatic_reject_threshold_is_chosen_on_the_held_out_predictions() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("topics.jsonl");
    let mut jsonl = String::new();
    for i in 0..12 {
        for (text, label) in [
            (format!("parcel {i} lost by the courier"), "delivery"),
            (format!("charged twice on invoice {i}"), "billing"),
            (format!("lovely weather on day {i}"), "other"),
            (format!("courier invoice weather {i}"), "other"),
        ] {
            jsonl.push_str(&format!("{{\"text\":\"{text}\",\"label\":\"{label}\"}}\n"));
        }
    }
    std::fs::write(&data, jsonl).unwrap();
    let model = dir.path().join("m.sbm");
    let held_out = ["--bits", "12", "--holdout", "0.5"];
    let plain = train_report(
        &data,
        &model,
        &[&held_out[..], &["--reject-below", "0"]].concat(),
    );
    let auto = train_report(
        &data,
        &model,
        &[
            &held_out[..],
            &["--reject-below", "auto", "--reject-label", "other"],
        ]
        .concat(),
    );
    let chosen: f32 = auto
        .lines()
        .find_map(|l| l.strip_prefix("reject threshold "))
        .and_then(|l| l.split(',').next())
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("no threshold line in {auto}"));
    assert!((0.0..1.0).contains(&chosen), "{chosen}");
    // No threshold (0) is among those tried, so the chosen one does at least as well on
    // the same held-out split.
    assert!(accuracy(&auto) >= accuracy(&plain), "{auto}\n{plain}");

    // Nothing held out, nothing to choose on; a threshold that is no number.
    for (extra, says) in [
        (
            vec!["--reject-below", "auto", "--holdout", "0"],
            "needs held-out",
        ),
        (
            vec!["--reject-below", "lots"],
            "neither a probability nor `auto`",
        ),
    ] {
        let out = train_cmd(&data, &model, &extra);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{err}");
    }
}

#[test]
fn bad_training_input_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("bad.csv");
    std::fs::write(&data, "foo,bar\n1,2\n").unwrap();
    let out = train_cmd(&data, &dir.path().join("m.sbm"), &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("switchboard: ") && err.contains("text"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}

#[test]
fn an_intent_model_trained_on_corrections_answers_in_place_of_the_rules() {
    let dir = tempfile::tempdir().unwrap();
    // As `GET /api/v1/labels/intent` exports the agents' corrections.
    let items = ["kettle", "toaster", "blender", "lamp", "heater", "fridge"];
    let mut jsonl = String::new();
    for (i, item) in items.iter().cycle().take(24).enumerate() {
        for (text, label) in [
            (format!("the {item} whistles a little tune"), "complaint"),
            (
                format!("the lid of the {item} no longer shuts"),
                "complaint",
            ),
            (format!("do you deliver the {item} to store {i}"), "inquiry"),
            (format!("the {item} looks lovely in our kitchen"), "praise"),
            (format!("watching the match next to the {item}"), "other"),
        ] {
            jsonl.push_str(
                &serde_json::json!({"text": text, "label": label, "message_id": format!("m{i}")})
                    .to_string(),
            );
            jsonl.push('\n');
        }
    }
    let data = dir.path().join("intent.jsonl");
    std::fs::write(&data, jsonl).unwrap();
    let model = dir.path().join("intent.sbm");
    let (data_arg, model_arg) = (data.to_str().unwrap(), model.to_str().unwrap());
    let out = switchboard(
        &[
            "nlp", "train", "--task", "intent", "--data", data_arg, "--out", model_arg, "--bits",
            "14",
        ],
        b"",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let input = b"{\"id\":\"d\",\"text\":\"the kettle whistles a little tune\"}\n";
    // Out of the box, neither the rules nor the complaint model know this is a fault (this
    // operator's kettles should be silent).
    let rules = &lines(&switchboard(&["nlp", "analyze"], input))[0];
    assert_eq!(rules["intent"]["label"], "other", "{rules}");
    let out = switchboard(&["nlp", "analyze", "--intent-model", model_arg], input);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = &lines(&out)[0];
    assert_eq!(v["intent"]["label"], "complaint", "{v}");
    assert!(v["intent"]["confidence"].as_f64().unwrap() > 0.25, "{v}");
    // The complaint counts where the intent matters, e.g. for urgency.
    assert_eq!(v["urgency"], "normal", "{v}");
    assert_eq!(rules["urgency"], "low", "{rules}");

    // A model whose labels are not the four intents is refused with one line.
    let topics = dir.path().join("topics.csv");
    let mut csv = String::from("text,label\n");
    for i in 0..20 {
        csv.push_str(&format!(
            "where is parcel {i},delivery\ncharged twice {i},billing\n"
        ));
    }
    std::fs::write(&topics, csv).unwrap();
    let topic_model = dir.path().join("topics.sbm");
    train_report(&topics, &topic_model, &["--bits", "12"]);
    let out = switchboard(
        &[
            "nlp",
            "analyze",
            "--intent-model",
            topic_model.to_str().unwrap(),
        ],
        input,
    );
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("topics.sbm") && err.contains("complaint, inquiry, praise or other"),
        "{err}"
    );

    // The server's configuration takes the same model, and refuses the same way at start
    // (`rebuild` loads the analyzer as `serve` does, and ends).
    let rebuild = |intent_model: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .arg("rebuild")
            .env("SWITCHBOARD_LOG", "warn")
            .env("SWITCHBOARD_DATA_DIR", dir.path().join("data"))
            .env("SWITCHBOARD_NLP_INTENT_MODEL", intent_model)
            .output()
            .unwrap()
    };
    let out = rebuild(&model);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = rebuild(&topic_model);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("`billing`") || err.contains("`delivery`"),
        "{err}"
    );
}
