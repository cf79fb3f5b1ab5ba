use super::*;

const FIRST: &[u8] = include_bytes!("../../fixtures/email_first.eml");
const REPLY: &[u8] = include_bytes!("../../fixtures/email_reply.eml");

fn message(raw: &[u8]) -> (String, Value) {
    match parse(raw).unwrap() {
        InboundEvent::Message { account, message } => (account, message),
        other => panic!("expected a message, got {other:?}"),
    }
}

#[test]
fn a_first_mail_becomes_a_message_keyed_by_its_message_id() {
    let (account, m) = message(FIRST);
    assert_eq!(account, "support@shop.example");
    assert_eq!(m["source"], "email");
    assert_eq!(m["external_id"], "first.4711@mail.example.org");
    assert_eq!(m["author"]["handle"], "renee.martin@example.org");
    assert_eq!(m["author"]["name"], "Renée Martin");
    assert_eq!(m["channel"], "support@shop.example");
    assert_eq!(m["kind"], "email");
    assert_eq!(m["visibility"], "private");
    assert_eq!(m["created_at"], "2026-11-23T08:15:00.000Z");
    // The decoded subject leads, then the plain-text part, decoded from quoted-printable.
    assert_eq!(
        m["text"],
        "Commande en retard – remboursement\n\nBonjour, ma commande 12345 n’est toujours pas arrivée.\nJe veux un remboursement."
    );
    assert!(m.get("in_reply_to").is_none());
    assert_eq!(m["email"]["references"], json!([]));
}

#[test]
fn a_reply_keeps_its_thread_and_drops_the_quoted_history() {
    let (_, m) = message(REPLY);
    assert_eq!(m["external_id"], "second.4712@mail.example.org");
    assert_eq!(m["in_reply_to"], "agent.reply.1@shop.example");
    assert_eq!(
        m["email"]["references"],
        json!(["first.4711@mail.example.org", "agent.reply.1@shop.example"])
    );
    assert_eq!(m["email"]["subject"], "Re: Commande en retard");
    assert_eq!(
        m["text"],
        "That is not good enough, I want my money back today."
    );
}

#[test]
fn a_mail_without_message_id_is_keyed_by_its_content() {
    let raw = b"From: a@example.org\r\nTo: help@shop.example\r\nSubject: Hello\r\n\r\nWhere is my parcel?\r\n";
    let (_, a) = message(raw);
    let (_, b) = message(raw);
    let key = a["external_id"].as_str().unwrap();
    assert!(key.starts_with("sha256:") && key.len() == 7 + 64, "{key}");
    assert_eq!(a["external_id"], b["external_id"]);
    let (_, other) = message(
        b"From: a@example.org\r\nTo: help@shop.example\r\nSubject: Hello\r\n\r\nAnd now?\r\n",
    );
    assert_ne!(other["external_id"], a["external_id"]);
}

#[test]
fn unusable_mail_is_an_error() {
    for raw in [
        &b""[..],
        b"   \r\n",
        b"To: help@shop.example\r\nSubject: no sender\r\n\r\nhi\r\n",
        b"From: not-an-address\r\nSubject: x\r\n\r\nhi\r\n",
        b"From: a@example.org\r\n\r\n\r\n",
    ] {
        assert!(parse(raw).is_err(), "{:?}", String::from_utf8_lossy(raw));
    }
}

#[test]
fn a_huge_body_is_cut_at_the_ingest_limit() {
    let mut raw = b"From: a@example.org\r\nTo: help@shop.example\r\nMessage-ID: <big@x>\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n".to_vec();
    for _ in 0..40_000 {
        raw.extend_from_slice("é ".as_bytes());
    }
    let (_, m) = message(&raw);
    let text = m["text"].as_str().unwrap();
    assert!(text.len() <= MAX_TEXT_BYTES && text.len() > MAX_TEXT_BYTES - 4);
}

#[test]
fn quoted_history_in_other_clients_is_cut() {
    assert_eq!(
        strip_quoted("Yes.\n-----Original Message-----\nFrom: us"),
        "Yes."
    );
    assert_eq!(
        strip_quoted("Oui.\n\nLe lundi, Support a écrit :\n> x"),
        "Oui."
    );
    assert_eq!(strip_quoted("Sí.\nEl lunes, Soporte escribió:\n> x"), "Sí.");
    assert_eq!(
        strip_quoted("Ja.\nAm Montag schrieb Support wrote:\n"),
        "Ja."
    );
    assert_eq!(strip_quoted("> only quote"), "");
}
