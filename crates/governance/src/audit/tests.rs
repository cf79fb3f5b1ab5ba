#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use serde_json::json;

fn record(i: i64) -> AuditRecord {
    AuditRecord {
        at_ms: 1_700_000_000_000 + i * 1_000,
        actor: format!("user:agent{}", i % 7),
        role: Some("agent".into()),
        action: "PATCH /api/v1/cases/{id}".into(),
        subject: Some(format!("case:{i}")),
        customer_id: (i % 3 == 0).then(|| format!("cust-{i}")),
        origin: Some("10.0.0.7".into()),
        outcome: 200,
        detail: (i % 2 == 0).then(
            || json!({"before": {"state": "open"}, "after": {"state": "pending", "note": i}}),
        ),
    }
}

/// Appends records the way a store would: each sealed onto the previous hash.
struct Appender {
    seq: i64,
    prev: String,
    until: i64,
}

impl Iterator for Appender {
    type Item = AuditEntry;
    fn next(&mut self) -> Option<AuditEntry> {
        if self.seq >= self.until {
            return None;
        }
        self.seq += 1;
        let entry = seal(self.seq, &self.prev, record(self.seq));
        self.prev = entry.hash.clone();
        Some(entry)
    }
}

fn appender(n: i64) -> Appender {
    Appender {
        seq: 0,
        prev: GENESIS.to_owned(),
        until: n,
    }
}

fn chain(n: i64) -> Vec<AuditEntry> {
    appender(n).collect()
}

fn head_of(entries: &[AuditEntry]) -> (i64, String) {
    let last = entries.last().unwrap();
    (last.seq, last.hash.clone())
}

fn broke(entries: Vec<AuditEntry>) -> ChainBreak {
    verify(entries, None).unwrap_err()
}

#[test]
fn an_untouched_trail_of_a_thousand_entries_verifies() {
    let entries = chain(1000);
    let (seq, hash) = head_of(&entries);
    assert_eq!(verify(entries, Some((seq, &hash))), Ok(1000));
}

#[test]
fn a_trail_streamed_from_the_store_verifies_without_being_collected() {
    // The appender produces entries one at a time; verify never sees a slice.
    assert_eq!(verify(appender(20_000), None), Ok(20_000));
}

#[test]
fn changing_any_sealed_field_of_an_entry_is_reported_as_an_edit_at_that_entry() {
    type Edit = fn(&mut AuditEntry);
    let edits: [(&str, Edit); 13] = [
        ("action", |e| {
            e.record.action = "DELETE /api/v1/cases/{id}".into()
        }),
        ("actor", |e| e.record.actor = "user:mallory".into()),
        ("at_ms", |e| e.record.at_ms += 1),
        ("customer_id", |e| {
            e.record.customer_id = Some("cust-other".into())
        }),
        ("outcome", |e| e.record.outcome = 403),
        ("role", |e| e.record.role = None),
        ("subject", |e| e.record.subject = Some("case:other".into())),
        ("origin", |e| e.record.origin = Some("203.0.113.9".into())),
        ("seq", |e| e.seq += 100),
        ("prev_hash", |e| e.prev_hash = GENESIS.into()),
        ("hash", |e| e.hash = GENESIS.into()),
        ("detail and digest together", |e| {
            e.record.detail = Some(json!({"after": "forged"}));
            e.detail_digest = detail_digest(e.record.detail.as_ref());
        }),
        ("an empty string for a missing role", |e| {
            e.record.role = Some(String::new())
        }),
    ];
    for (field, edit) in edits {
        let mut entries = chain(50);
        edit(&mut entries[16]);
        let brk = broke(entries);
        assert_eq!(brk.reason, BreakReason::Edited, "editing {field}");
        assert_eq!(brk.position, 16, "editing {field}");
    }
}

#[test]
fn rewriting_the_detail_but_keeping_the_sealed_digest_is_caught() {
    let mut entries = chain(10);
    entries[3].record.detail =
        Some(json!({"before": {"state": "open"}, "after": {"state": "closed"}}));
    let brk = broke(entries);
    assert_eq!((brk.seq, brk.reason), (4, BreakReason::DetailEdited));
}

#[test]
fn a_privacy_erasure_drops_the_detail_and_the_chain_still_verifies() {
    let mut entries = chain(10);
    for e in entries.iter_mut().filter(|e| e.record.detail.is_some()) {
        erase_detail(e);
    }
    assert!(entries.iter().all(|e| e.record.detail.is_none()));
    assert!(entries[1].detail_digest.len() == 64);
    let (seq, hash) = head_of(&entries);
    assert_eq!(verify(entries, Some((seq, &hash))), Ok(10));
}

#[test]
fn entries_survive_a_round_trip_through_json_storage_including_erased_ones() {
    let mut entries = chain(10);
    erase_detail(&mut entries[1]);
    let stored: Vec<String> = entries
        .iter()
        .map(|e| serde_json::to_string(e).unwrap())
        .collect();
    let loaded: Vec<AuditEntry> = stored
        .iter()
        .map(|s| serde_json::from_str(s).unwrap())
        .collect();
    assert_eq!(loaded, entries);
    assert_eq!(verify(loaded, None), Ok(10));
}

#[test]
fn the_detail_digest_does_not_depend_on_key_order_or_whitespace() {
    let a: Value = serde_json::from_str(r#"{"b": [1, {"y": 2, "x": 1}], "a": "é"}"#).unwrap();
    let b: Value = serde_json::from_str(r#"{"a":"é","b":[1,{"x":1,"y":2}]}"#).unwrap();
    assert_eq!(detail_digest(Some(&a)), detail_digest(Some(&b)));
    assert_ne!(
        detail_digest(Some(&a)),
        detail_digest(Some(&json!({"a": "é"})))
    );
    assert_eq!(detail_digest(None), "");
}

#[test]
fn deleting_an_entry_in_the_middle_shows_as_missing_at_the_entry_after_it() {
    let mut entries = chain(30);
    entries.remove(11);
    let brk = broke(entries);
    assert_eq!(brk.seq, 13);
    assert_eq!(brk.position, 11);
    assert_eq!(brk.reason, BreakReason::Missing { expected_seq: 12 });
}

#[test]
fn deleting_the_first_entry_shows_entry_one_as_missing() {
    let mut entries = chain(5);
    entries.remove(0);
    let brk = broke(entries);
    assert_eq!((brk.seq, brk.position), (2, 0));
    assert_eq!(brk.reason, BreakReason::Missing { expected_seq: 1 });
}

#[test]
fn a_forged_entry_reusing_the_previous_number_is_caught_where_it_was_inserted() {
    let mut entries = chain(10);
    // Correct self-hash and a link to its predecessor, but it repeats entry 5's number.
    let forged = seal(5, &entries[4].hash, record(99));
    entries.insert(5, forged);
    let brk = broke(entries);
    assert_eq!((brk.seq, brk.position), (5, 5));
    assert_eq!(brk.reason, BreakReason::OutOfOrder { expected_seq: 6 });
}

#[test]
fn a_forged_entry_with_the_right_number_but_no_true_link_is_caught_where_it_was_inserted() {
    let mut entries = chain(10);
    let forged = seal(6, &entries[3].hash, record(99));
    entries.insert(5, forged);
    let brk = broke(entries);
    assert_eq!((brk.seq, brk.position), (6, 5));
    assert_eq!(brk.reason, BreakReason::LinkBroken);
}

#[test]
fn a_perfectly_forged_entry_is_caught_at_the_genuine_entry_it_displaced() {
    let mut entries = chain(10);
    let forged = seal(6, &entries[4].hash, record(99));
    entries.insert(5, forged);
    let brk = broke(entries);
    assert_eq!((brk.seq, brk.position), (6, 6));
    assert_eq!(brk.reason, BreakReason::OutOfOrder { expected_seq: 7 });
}

#[test]
fn swapping_two_entries_breaks_at_the_first_swapped_position() {
    let mut entries = chain(20);
    entries.swap(7, 12);
    let brk = broke(entries);
    assert_eq!((brk.seq, brk.position), (13, 7));
    assert_eq!(brk.reason, BreakReason::Missing { expected_seq: 8 });

    let mut adjacent = chain(20);
    adjacent.swap(7, 8);
    assert_eq!(broke(adjacent).position, 7);
}

#[test]
fn cutting_off_the_tail_is_caught_only_against_the_recorded_head() {
    let mut entries = chain(40);
    let (seq, hash) = head_of(&entries);
    entries.truncate(35);
    assert_eq!(verify(entries.clone(), None), Ok(35));
    let brk = verify(entries, Some((seq, &hash))).unwrap_err();
    assert_eq!((brk.seq, brk.position), (35, 35));
    assert_eq!(brk.reason, BreakReason::HeadMismatch);
}

#[test]
fn rewriting_the_tail_after_a_cut_is_caught_against_the_recorded_head() {
    let entries = chain(10);
    let (seq, hash) = head_of(&entries);
    let mut rewritten = entries[..8].to_vec();
    let nine = seal(9, &rewritten[7].hash, record(90));
    let ten = seal(10, &nine.hash, record(100));
    rewritten.extend([nine, ten]);
    let brk = verify(rewritten, Some((seq, &hash))).unwrap_err();
    assert_eq!((brk.seq, brk.reason), (10, BreakReason::HeadMismatch));
}

#[test]
fn entries_appended_after_the_head_was_read_are_accepted() {
    let entries = chain(12);
    let hash = entries[9].hash.clone();
    assert_eq!(verify(entries, Some((10, &hash))), Ok(12));
}

#[test]
fn an_empty_trail_verifies_unless_the_store_recorded_appends() {
    assert_eq!(verify(Vec::new(), None), Ok(0));
    assert_eq!(verify(Vec::new(), Some((0, GENESIS))), Ok(0));
    let brk = verify(Vec::new(), Some((3, "abc"))).unwrap_err();
    assert_eq!(
        brk,
        ChainBreak {
            seq: 0,
            position: 0,
            reason: BreakReason::HeadMismatch
        }
    );
    assert_eq!(
        brk.to_string(),
        "the chain is empty, but the store recorded entries in it"
    );
}

#[test]
fn a_break_reads_as_one_line_naming_the_entry() {
    let brk = ChainBreak {
        seq: 17,
        position: 16,
        reason: BreakReason::Edited,
    };
    assert_eq!(
        brk.to_string(),
        "entry 17: its content was edited after it was written"
    );
    let reasons = [
        BreakReason::DetailEdited,
        BreakReason::Missing { expected_seq: 16 },
        BreakReason::OutOfOrder { expected_seq: 16 },
        BreakReason::LinkBroken,
        BreakReason::HeadMismatch,
    ];
    for reason in reasons {
        let line = ChainBreak {
            seq: 17,
            position: 16,
            reason,
        }
        .to_string();
        assert!(
            line.starts_with("entry 17: ") && !line.contains('\n'),
            "{line}"
        );
    }
}
