#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::audit::{AuditRecord, seal};
use serde_json::json;

fn trail(n: i64) -> Vec<AuditEntry> {
    let mut prev = GENESIS.to_owned();
    (1..=n)
        .map(|seq| {
            let entry = seal(
                seq,
                &prev,
                AuditRecord {
                    at_ms: 1_700_000_000_000 + seq,
                    actor: "user:alice".into(),
                    role: Some("supervisor".into()),
                    action: "privacy.export".into(),
                    subject: Some(format!("case:{seq}")),
                    customer_id: Some(format!("cust-{}", seq % 2)),
                    origin: None,
                    outcome: 0,
                    detail: Some(json!({"after": {"state": "closed", "n": seq}})),
                },
            );
            prev = entry.hash.clone();
            entry
        })
        .collect()
}

fn export(entries: Vec<AuditEntry>, signer: &ExportSigner) -> String {
    let mut out = Vec::new();
    write_signed_export(&mut out, entries, signer).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn a_regulator_can_check_an_export_against_our_published_key() {
    let (signer, _) = ExportSigner::generate().unwrap();
    let text = export(trail(8), &signer);
    assert_eq!(text.lines().count(), 9);
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["signature"]["algorithm"], "ed25519");
    assert_eq!(last["signature"]["entries"], 8);
    assert_eq!(
        verify_export(&text, Some(&signer.public_key_hex())).unwrap(),
        8
    );
    assert_eq!(verify_export(&text, None).unwrap(), 8);
}

#[test]
fn a_stored_key_signs_exactly_like_the_key_it_was_generated_as() {
    let (signer, pkcs8) = ExportSigner::generate().unwrap();
    let reloaded = ExportSigner::from_pkcs8(&pkcs8).unwrap();
    assert_eq!(reloaded.public_key_hex(), signer.public_key_hex());
    let text = export(trail(3), &reloaded);
    assert_eq!(
        verify_export(&text, Some(&signer.public_key_hex())).unwrap(),
        3
    );
}

#[test]
fn a_key_file_that_is_not_pkcs8_is_refused() {
    assert!(matches!(
        ExportSigner::from_pkcs8(b"not a key"),
        Err(SigningError::BadKey(_))
    ));
}

#[test]
fn an_empty_export_is_signed_with_the_genesis_head() {
    let (signer, _) = ExportSigner::generate().unwrap();
    let text = export(Vec::new(), &signer);
    assert_eq!(text.lines().count(), 1);
    assert!(text.contains(GENESIS));
    assert_eq!(
        verify_export(&text, Some(&signer.public_key_hex())).unwrap(),
        0
    );
}

#[test]
fn one_customers_entries_export_and_verify_without_the_rest_of_the_trail() {
    let (signer, _) = ExportSigner::generate().unwrap();
    let segment: Vec<_> = trail(10)
        .into_iter()
        .filter(|e| e.record.customer_id.as_deref() == Some("cust-1"))
        .collect();
    let text = export(segment, &signer);
    assert_eq!(
        verify_export(&text, Some(&signer.public_key_hex())).unwrap(),
        5
    );
}

#[test]
fn changing_any_byte_of_an_entry_line_is_detected() {
    let (signer, _) = ExportSigner::generate().unwrap();
    let text = export(trail(4), &signer);
    let start = text.find('\n').unwrap() + 1;
    let end = start + text[start..].find('\n').unwrap();
    for i in start..end {
        let mut bytes = text.clone().into_bytes();
        bytes[i] ^= 0x01;
        let tampered = String::from_utf8(bytes).unwrap();
        let result = verify_export(&tampered, Some(&signer.public_key_hex()));
        assert!(
            matches!(result, Err(SigningError::DigestMismatch)),
            "byte {i}: {result:?}"
        );
    }
}

#[test]
fn an_export_checked_against_another_key_is_refused() {
    let (signer, _) = ExportSigner::generate().unwrap();
    let (other, _) = ExportSigner::generate().unwrap();
    let text = export(trail(3), &signer);
    let result = verify_export(&text, Some(&other.public_key_hex()));
    assert!(
        matches!(result, Err(SigningError::WrongKey { .. })),
        "{result:?}"
    );
}

#[test]
fn an_edited_export_resigned_by_someone_else_is_refused_when_our_key_is_pinned() {
    let (ours, _) = ExportSigner::generate().unwrap();
    let (theirs, _) = ExportSigner::generate().unwrap();
    let forged = export(trail(3), &theirs);
    assert!(verify_export(&forged, None).is_ok());
    let result = verify_export(&forged, Some(&ours.public_key_hex()));
    assert!(
        matches!(result, Err(SigningError::WrongKey { .. })),
        "{result:?}"
    );
}

#[test]
fn a_digest_rewritten_to_match_edited_entries_breaks_the_signature() {
    let (signer, _) = ExportSigner::generate().unwrap();
    let text = export(trail(3), &signer);
    let (body, sig_line) = text.trim_end().rsplit_once('\n').unwrap();
    let body = format!("{}\n", body.replace("user:alice", "user:bobby"));
    let mut sig: serde_json::Value = serde_json::from_str(sig_line).unwrap();
    sig["signature"]["sha256"] = json!(hex::encode(Sha256::digest(body.as_bytes())));
    let tampered = format!("{body}{sig}\n");
    let result = verify_export(&tampered, Some(&signer.public_key_hex()));
    assert!(
        matches!(result, Err(SigningError::BadSignature)),
        "{result:?}"
    );
}

#[test]
fn a_truncated_export_is_refused() {
    let (signer, _) = ExportSigner::generate().unwrap();
    let text = export(trail(5), &signer);
    let lines: Vec<&str> = text.lines().collect();

    let without_last_entry = format!("{}\n{}\n", lines[..4].join("\n"), lines[5]);
    let result = verify_export(&without_last_entry, None);
    assert!(
        matches!(result, Err(SigningError::DigestMismatch)),
        "{result:?}"
    );

    let without_signature = format!("{}\n", lines[..5].join("\n"));
    let result = verify_export(&without_signature, None);
    assert!(
        matches!(result, Err(SigningError::Malformed { line: 5, .. })),
        "{result:?}"
    );

    let cut_mid_line = &text[..text.len() - 20];
    let result = verify_export(cut_mid_line, None);
    assert!(
        matches!(result, Err(SigningError::Malformed { line: 6, .. })),
        "{result:?}"
    );

    assert!(verify_export("", None).is_err());
}

#[test]
fn an_honestly_signed_export_of_a_tampered_trail_is_still_refused() {
    let (signer, _) = ExportSigner::generate().unwrap();
    let mut entries = trail(4);
    entries[2].record.outcome = 500;
    let result = verify_export(&export(entries, &signer), None);
    let Err(SigningError::Chain(why)) = result else {
        panic!("{result:?}")
    };
    assert!(
        why.starts_with("line 3, entry 3: its content was edited"),
        "{why}"
    );

    let mut entries = trail(4);
    entries.swap(1, 2);
    let result = verify_export(&export(entries, &signer), None);
    assert!(matches!(result, Err(SigningError::Chain(_))), "{result:?}");
}

#[test]
fn writing_to_a_failing_sink_reports_the_io_error() {
    struct Broken;
    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk full"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let (signer, _) = ExportSigner::generate().unwrap();
    let result = write_signed_export(Broken, trail(1), &signer);
    assert!(matches!(result, Err(SigningError::Io(_))), "{result:?}");
}
