//! Whatever arrives at a webhook endpoint, the parsers answer with events or an error and
//! never panic; every message they do return is one the ingest path accepts.

use sb_domain::NewMessage;
use serde_json::{Value, json};
use switchboard_connectors::{InboundEvent, Parsed, PayloadError, linkedin, meta, tiktok, x};

type Parser = fn(&[u8]) -> Result<Parsed, PayloadError>;

const FIXTURES: [(&str, Parser); 11] = [
    ("meta_messenger_message_text.json", meta::parse),
    ("meta_messenger_postback.json", meta::parse),
    ("meta_page_feed_comment_add.json", meta::parse),
    ("meta_instagram_comment.json", meta::parse),
    ("meta_instagram_message.json", meta::parse),
    ("x_aaa_tweet_create_events.json", x::parse),
    ("x_aaa_direct_message_events.json", x::parse),
    ("linkedin_comment.json", linkedin::parse),
    ("linkedin_mention.json", linkedin::parse),
    ("tiktok_comment.json", tiktok::parse),
    ("tiktok_reply.json", tiktok::parse),
];

/// Every parser, for inputs that belong to none of them.
const PARSERS: [Parser; 4] = [meta::parse, x::parse, linkedin::parse, tiktok::parse];

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every message must survive ingest; that is the contract callers rely on.
fn assert_sound(what: &str, result: Result<Parsed, PayloadError>) {
    if let Ok(parsed) = result {
        for e in parsed.events {
            if let InboundEvent::Message { message, .. } = e
                && let Err(err) = NewMessage::parse(message)
            {
                panic!("{what}: returned a message ingest refuses: {err:?}");
            }
        }
    }
}

/// A small deterministic generator, so a failure reproduces.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn every_truncation_of_every_fixture_is_an_error() {
    for (name, parse) in FIXTURES {
        let body = fixture(name);
        let json_len = body.trim_ascii_end().len();
        assert!(parse(&body).is_ok(), "{name} itself must parse");
        for cut in 0..json_len {
            match parse(&body[..cut]) {
                Err(PayloadError::Json(_)) => {}
                other => panic!("{name} cut at {cut}: expected a JSON error, got {other:?}"),
            }
        }
    }
}

#[test]
fn random_garbage_and_random_byte_flips_never_panic() {
    let mut rng = XorShift(0x5eed_cafe_f00d_d00d);
    for (name, parse) in FIXTURES {
        let body = fixture(name);
        for round in 0..2_000 {
            let mut b = body.clone();
            for _ in 0..=rng.below(4) {
                let i = rng.below(b.len());
                b[i] = rng.next() as u8;
            }
            assert_sound(&format!("{name} flip round {round}"), parse(&b));
        }
    }
    for round in 0..2_000 {
        let len = rng.below(256);
        let b: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        for parse in PARSERS {
            assert!(parse(&b).is_err(), "garbage round {round}");
        }
    }
}

/// Replaces the node at `path` (indexes into objects and arrays) with `with`.
fn replaced(v: &Value, path: &[usize], with: &Value) -> Value {
    let Some((&i, rest)) = path.split_first() else {
        return with.clone();
    };
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .enumerate()
                .map(|(j, (k, x))| {
                    (
                        k.clone(),
                        if i == j {
                            replaced(x, rest, with)
                        } else {
                            x.clone()
                        },
                    )
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(
            a.iter()
                .enumerate()
                .map(|(j, x)| {
                    if i == j {
                        replaced(x, rest, with)
                    } else {
                        x.clone()
                    }
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

fn paths(v: &Value, prefix: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
    out.push(prefix.clone());
    let children: Vec<&Value> = match v {
        Value::Object(m) => m.values().collect(),
        Value::Array(a) => a.iter().collect(),
        _ => vec![],
    };
    for (i, c) in children.into_iter().enumerate() {
        prefix.push(i);
        paths(c, prefix, out);
        prefix.pop();
    }
}

#[test]
fn any_field_of_the_wrong_type_is_skipped_or_refused_never_a_panic() {
    let wrong = [
        Value::Null,
        json!(-1),
        json!(1.5),
        json!(u64::MAX),
        json!(""),
        json!("\u{0}\n"),
        json!("x".repeat(70_000)),
        json!([]),
        json!([null]),
        json!({}),
        json!(true),
    ];
    let mut tried = 0;
    for (name, parse) in FIXTURES {
        let doc: Value = serde_json::from_slice(&fixture(name)).unwrap();
        let mut all = Vec::new();
        paths(&doc, &mut Vec::new(), &mut all);
        for path in &all {
            for w in &wrong {
                let body = replaced(&doc, path, w).to_string();
                assert_sound(&format!("{name} at {path:?} = {w}"), parse(body.as_bytes()));
                tried += 1;
            }
        }
    }
    assert!(tried > 1_000, "only {tried} variants tried");
}

#[test]
fn deeply_nested_bodies_are_refused_not_a_stack_overflow() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    for parse in PARSERS {
        assert!(parse(deep.as_bytes()).is_err());
    }
    let deep_obj = format!(
        "{{\"object\":\"page\",\"entry\":{}{}}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    assert!(meta::parse(deep_obj.as_bytes()).is_err());
}

#[test]
fn a_tiktok_content_string_is_as_hostile_as_a_body() {
    // `content` is JSON inside a string: a second parse the outer checks never see.
    let hostile = [
        "[".repeat(100_000),
        format!("{{\"comment_id\":{}}}", "[".repeat(10_000)),
        "{\"comment_id\": \"1\", \"text\": \"\\ud800\"}".to_owned(),
        "\u{0}".to_owned(),
        "null".to_owned(),
    ];
    for content in hostile {
        let body = json!({"event": "comment.update", "user_openid": "a", "content": content});
        let parsed = tiktok::parse(body.to_string().as_bytes());
        assert!(
            matches!(&parsed, Ok(p) if p.events.is_empty()),
            "{parsed:?}"
        );
    }
}
