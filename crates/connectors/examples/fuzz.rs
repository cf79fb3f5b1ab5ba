//! Long-running fuzzing of every inbound parser: `cargo run --release -p
//! switchboard-connectors --example fuzz -- SECONDS [SEED]`. Mutates the platform fixtures
//! (byte flips, truncations, splices, inserted JSON tokens, random bytes) and feeds each result
//! to the Meta, X, LinkedIn, TikTok, generic and e-mail parsers. A panic aborts the run with the input that
//! caused it written to `fuzz-crash.bin`; otherwise it prints how many inputs ran and for how
//! long.

use sb_domain::{NewMessage, Platform};
use std::time::{Duration, Instant};
use switchboard_connectors::{InboundEvent, email, generic, linkedin, meta, tiktok, x};

const FIXTURES: &[&[u8]] = &[
    include_bytes!("../fixtures/meta_messenger_message_text.json"),
    include_bytes!("../fixtures/meta_messenger_postback.json"),
    include_bytes!("../fixtures/meta_page_feed_comment_add.json"),
    include_bytes!("../fixtures/meta_instagram_comment.json"),
    include_bytes!("../fixtures/meta_instagram_message.json"),
    include_bytes!("../fixtures/x_aaa_tweet_create_events.json"),
    include_bytes!("../fixtures/x_aaa_direct_message_events.json"),
    include_bytes!("../fixtures/linkedin_comment.json"),
    include_bytes!("../fixtures/linkedin_mention.json"),
    include_bytes!("../fixtures/tiktok_comment.json"),
    include_bytes!("../fixtures/tiktok_reply.json"),
    include_bytes!("../fixtures/email_first.eml"),
    include_bytes!("../fixtures/email_reply.eml"),
];

const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "null",
    "true",
    "-1",
    "1e999",
    "\"\\u0000\"",
    // Escaped JSON, as inside TikTok's `content` string.
    "\\\"",
    "{\\\"comment_id\\\":",
    "\"\\ud800\"",
    "[[[[[[[[",
    "\r\n",
    "\r\n\r\n",
    "=?UTF-8?B?",
    "--b1",
    "Content-Type: ",
    "multipart/mixed; boundary=\"",
    "From: <>",
    "\u{feff}",
    "é",
    "😀",
];

struct Rng(u64);

impl Rng {
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

fn mutate(rng: &mut Rng) -> Vec<u8> {
    let mut b = FIXTURES[rng.below(FIXTURES.len())].to_vec();
    for _ in 0..=rng.below(6) {
        match rng.below(6) {
            0 if !b.is_empty() => {
                let i = rng.below(b.len());
                b[i] ^= 1 << rng.below(8);
            }
            1 => b.truncate(rng.below(b.len() + 1)),
            2 => {
                let other = FIXTURES[rng.below(FIXTURES.len())];
                let from = rng.below(other.len());
                let to = from + rng.below(other.len() - from + 1);
                let at = rng.below(b.len() + 1);
                b.splice(at..at, other[from..to].iter().copied());
            }
            3 => {
                let t = TOKENS[rng.below(TOKENS.len())].as_bytes();
                let at = rng.below(b.len() + 1);
                b.splice(at..at, t.iter().copied());
            }
            4 if !b.is_empty() => {
                let from = rng.below(b.len());
                let to = from + rng.below(b.len() - from + 1);
                b.drain(from..to);
            }
            _ => {
                let n = rng.below(64);
                b.extend((0..n).map(|_| rng.next() as u8));
            }
        }
    }
    b
}

fn check(input: &[u8]) {
    let sound = |events: Vec<InboundEvent>| {
        for e in events {
            if let InboundEvent::Message { message, .. } = e {
                assert!(
                    NewMessage::parse(message).is_ok(),
                    "a parser returned a message ingest refuses"
                );
            }
        }
    };
    if let Ok(p) = meta::parse(input) {
        sound(p.events);
    }
    if let Ok(p) = x::parse(input) {
        sound(p.events);
    }
    if let Ok(p) = linkedin::parse(input) {
        sound(p.events);
    }
    if let Ok(p) = tiktok::parse(input) {
        sound(p.events);
    }
    if let Ok(p) = generic::parse(Platform::Chat, input) {
        sound(p.events);
    }
    if let Ok(e) = email::parse(input) {
        sound(vec![e]);
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(10);
    let seed: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(0x5eed);
    let mut rng = Rng(seed | 1);
    let started = Instant::now();
    let limit = Duration::from_secs(seconds);
    let mut runs = 0u64;
    while started.elapsed() < limit {
        for _ in 0..1_000 {
            let input = mutate(&mut rng);
            if std::panic::catch_unwind(|| check(&input)).is_err() {
                let _ = std::fs::write("fuzz-crash.bin", &input);
                eprintln!("crash after {runs} inputs; input written to fuzz-crash.bin");
                std::process::exit(1);
            }
            runs += 1;
        }
    }
    println!(
        "{runs} inputs through 6 parsers in {:.1} s without a crash (seed {seed})",
        started.elapsed().as_secs_f64()
    );
}
