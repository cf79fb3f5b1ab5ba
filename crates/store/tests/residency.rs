//! Data residency (G5) on every back end: an EU customer's words are held in the EU partition
//! (a file of its own on SQLite, a schema of its own on PostgreSQL), not in the central
//! tables, and every reader, edit, search, erasure and retention run finds them there.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sb_domain::{
    AfterAttempt, CaseId, DeliveryAttempt, Enrichment, Identity, MessageId, NewMessage,
    NewOutboxItem, Platform, Revision, Tier, Timestamp,
};
use serde_json::{Value, json};
use std::path::Path;
use switchboard_store::{
    AudienceQuery, CaseFilter, CustomerMergePlan, CustomerMerged, InboxFilter, MessageRecord, Page,
    Partition, SqliteStore, Store, StoreError,
};

mod common;
use common::{Partitioned, append, disruption_recipient, partitioned, split_of};

/// Written only in the EU customer's message.
const WORDS: &str = "Wombat4417Residency";
/// The EU customer's display name holds this.
const NAME: &str = "Aardvark8128Name";
/// Written only in the US customer's message.
const US_WORDS: &str = "Heron9902Central";

fn message(ext: &str, author: Value, text: &str, region: &str) -> MessageRecord {
    record(json!({
        "source": "x", "external_id": ext, "author": author, "text": text, "region": region,
    }))
}

/// A delivery as the platform sent it, received at 1,000 ms.
fn record(delivery: Value) -> MessageRecord {
    MessageRecord {
        id: MessageId::generate(),
        received_at: Timestamp(1_000),
        message: NewMessage::parse(delivery).unwrap(),
    }
}

/// Runs the case stages the way the pipeline does; every message holds contact data.
async fn process(store: &dyn Store, ids: &[MessageId]) {
    let e = Enrichment {
        language: "en".into(),
        language_confidence: 1.0,
        data_class: "personal".into(),
        ..Enrichment::default()
    };
    common::process(store, ids, e).await;
}

/// Anna (EU) and Ben (US, no partition) each write once; both are processed.
async fn anna_and_ben(store: &dyn Store) -> (MessageId, MessageId) {
    let records = [
        message(
            "a1",
            json!({"handle": "@anna", "name": format!("Anna {NAME}")}),
            &format!("my parcel {WORDS} never came"),
            "eu",
        ),
        message(
            "b1",
            json!("@ben"),
            &format!("{US_WORDS} is late too"),
            "us",
        ),
    ];
    let ids: Vec<MessageId> = append(store, &records).await;
    process(store, &ids).await;
    (ids[0].clone(), ids[1].clone())
}

fn bytes_hold(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Which of `files` in `dir` hold `needle`.
fn files_holding(dir: &Path, files: &[&str], needle: &str) -> Vec<String> {
    files
        .iter()
        .filter(|f| {
            std::fs::read(dir.join(f))
                .map(|bytes| bytes_hold(&bytes, needle))
                .unwrap_or(false)
        })
        .map(|f| (*f).to_owned())
        .collect()
}

/// Counts the rows `sql` finds, binding `%needle%`, read straight from the storage at `url`.
async fn count_rows(url: &str, sql: String, needle: &str) -> i64 {
    let like = format!("%{needle}%");
    if url.starts_with("sqlite://") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(like)
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        n
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(like)
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        n
    }
}

/// Where the central tables and the EU partition are: a URL and a prefix for table names.
fn places(p: &Partitioned) -> ((String, String), (String, String)) {
    match &p.pg {
        None => (
            (
                format!("sqlite://{}", p.dir.path().join("t.db").display()),
                String::new(),
            ),
            (
                format!("sqlite://{}", p.dir.path().join("region-eu.db").display()),
                String::new(),
            ),
        ),
        Some((url, schema)) => (
            (url.clone(), format!("{schema}.")),
            (url.clone(), format!("{schema}_region_eu.")),
        ),
    }
}

/// Counts, read straight from the storage and not through the store: rows of the central
/// `messages` and `cases` that hold `needle`, and rows of the EU partition that do.
async fn where_held(p: &Partitioned, needle: &str) -> (i64, i64, i64) {
    let ((central, c), (eu, e)) = places(p);
    (
        count_rows(
            &central,
            format!(
                "SELECT COUNT(*) FROM {c}messages WHERE text LIKE $1 OR author_handle LIKE $1 \
                 OR author_name LIKE $1 OR raw LIKE $1"
            ),
            needle,
        )
        .await,
        count_rows(
            &central,
            format!("SELECT COUNT(*) FROM {c}cases WHERE subject LIKE $1"),
            needle,
        )
        .await,
        count_rows(
            &eu,
            format!("SELECT COUNT(*) FROM {e}message_content WHERE text LIKE $1 AND raw LIKE $1"),
            needle,
        )
        .await,
    )
}

/// Rows holding `needle` (bound as `$1`, a LIKE pattern): of the central `table` where
/// `central` holds, and of the EU partition's `content` where `held` holds.
async fn rows_held(
    p: &Partitioned,
    (table, central_where): (&str, &str),
    (content, held_where): (&str, &str),
    needle: &str,
) -> (i64, i64) {
    let ((central, c), (eu, e)) = places(p);
    (
        count_rows(
            &central,
            format!("SELECT COUNT(*) FROM {c}{table} WHERE {central_where}"),
            needle,
        )
        .await,
        count_rows(
            &eu,
            format!("SELECT COUNT(*) FROM {e}{content} WHERE {held_where}"),
            needle,
        )
        .await,
    )
}

/// Display names holding `needle`: central customers rows, and EU partition rows.
async fn names_held(p: &Partitioned, needle: &str) -> (i64, i64) {
    let name = "display_name LIKE $1";
    rows_held(p, ("customers", name), ("customer_content", name), needle).await
}

#[tokio::test]
async fn an_eu_customers_words_are_held_in_the_eu_partition_and_read_back_whole() {
    for p in partitioned(&["eu", "uk"]).await {
        let (store, name) = (p.store.as_ref(), p.name.as_str());
        let (anna, ben) = anna_and_ben(store).await;
        let before = store.message(&anna).await.unwrap().unwrap();
        let raw_before = store.message_raw(&anna).await.unwrap().unwrap();
        assert_eq!(
            where_held(&p, WORDS).await,
            (0, 0, 1),
            "{name}: the message is held in the partition from its arrival, and the case \
             subject cut from it is written there when the case opens"
        );
        assert_eq!(names_held(&p, NAME).await, (0, 1), "{name}: and her name");

        for (moved, why) in [
            (
                0,
                "no message is left to move: the EU one was held from arrival",
            ),
            (0, "placing again moves nothing"),
        ] {
            assert_eq!(
                store
                    .place_messages(&[anna.clone(), ben.clone()], Timestamp(3_000))
                    .await
                    .unwrap(),
                moved,
                "{name}: {why}"
            );
        }
        assert_eq!(
            where_held(&p, WORDS).await,
            (0, 0, 1),
            "{name}: only in the EU partition"
        );
        assert_eq!(where_held(&p, "@anna").await.0, 0, "{name}: the author too");
        assert_eq!(
            where_held(&p, US_WORDS).await.0,
            1,
            "{name}: US words stay central"
        );

        assert_eq!(names_held(&p, NAME).await, (0, 1), "{name}: the name too");
        assert_eq!(
            where_held(&p, NAME).await.0,
            0,
            "{name}: nor the author's name"
        );

        // Every reader gives back the message, its case and its delivery as they were.
        let after = store.message(&anna).await.unwrap().unwrap();
        assert_eq!(after, before, "{name}");
        assert_eq!(store.message_raw(&anna).await.unwrap().unwrap(), raw_before);
        let case_id: CaseId = after.case_id.clone().unwrap();
        let case = store.case(&case_id).await.unwrap().unwrap();
        assert!(case.subject.contains(WORDS), "{name}: {}", case.subject);
        assert_eq!(
            store.case_messages(&case_id).await.unwrap(),
            vec![before.clone()]
        );
        let customer = after.customer_id.clone().unwrap();
        assert_eq!(
            store.customer_messages(&customer).await.unwrap(),
            vec![before.clone()]
        );
        let profile = store.customer(&customer).await.unwrap().unwrap();
        assert_eq!(profile.display_name, Some(format!("Anna {NAME}")), "{name}");
        assert_eq!(profile.region.as_deref(), Some("eu"), "{name}");
        let page = Page {
            before: None,
            limit: 50,
        };
        let listed = store
            .list_cases(&CaseFilter::default(), &page)
            .await
            .unwrap();
        assert!(
            listed
                .iter()
                .any(|c| c.id == case_id && c.subject == case.subject),
            "{name}"
        );
        let inbox = store.inbox(&InboxFilter::default(), &page).await.unwrap();
        assert!(
            inbox
                .iter()
                .any(|r| r.case.id == case_id && r.case.subject == case.subject),
            "{name}"
        );
        let export = store
            .export_cases(Timestamp(0), Timestamp(i64::MAX), None, 50)
            .await
            .unwrap();
        assert!(
            export
                .iter()
                .any(|r| r.id == case_id.as_str() && r.subject == case.subject),
            "{name}"
        );

        // A search for the words reaches the partition; the answer carries the handle.
        let found = store
            .audience(&AudienceQuery {
                regions: vec![],
                about: vec![WORDS.to_lowercase()],
                limit: 10,
            })
            .await
            .unwrap();
        assert_eq!(found.len(), 1, "{name}");
        assert_eq!(found[0].reach.as_ref().unwrap().handle, "@anna", "{name}");
        // Listed, her message comes whole from the partition.
        let page = switchboard_store::Page {
            before: None,
            limit: 10,
        };
        let listed = store
            .list_messages(&switchboard_store::MessageFilter::default(), &page)
            .await
            .unwrap();
        let listed = listed.iter().find(|m| m.id == anna).unwrap();
        assert_eq!(
            (&listed.text, &listed.author.handle),
            (&before.text, &before.author.handle),
            "{name}"
        );
        // A lookup by the handle finds her though the handle is held under a pseudonym.
        assert_eq!(
            store
                .customer_with_identity(Platform::X, "@ANNA")
                .await
                .unwrap(),
            store.message(&anna).await.unwrap().unwrap().customer_id,
            "{name}"
        );

        // A new name from a CRM import is written where the name is held.
        store
            .upsert_customer(
                Platform::X,
                "@anna",
                Some("Anna Kiwi7077Renamed"),
                Tier::Vip,
                10.0,
                Timestamp(4_000),
                None,
            )
            .await
            .unwrap();
        let profile = store.customer(&customer).await.unwrap().unwrap();
        assert_eq!(
            (profile.display_name.as_deref(), profile.tier),
            (Some("Anna Kiwi7077Renamed"), Tier::Vip),
            "{name}"
        );
        assert_eq!(names_held(&p, "Kiwi7077").await, (0, 1), "{name}");

        if p.pg.is_none() {
            store.compact().await.unwrap();
            for marker in [WORDS, NAME, "Kiwi7077"] {
                assert_eq!(
                    files_holding(p.dir.path(), &["t.db", "t.db-wal"], marker),
                    Vec::<String>::new(),
                    "{name}: {marker} is not in the central file or its log"
                );
            }
            assert!(
                !files_holding(p.dir.path(), &["region-eu.db", "region-eu.db-wal"], WORDS)
                    .is_empty(),
                "{name}: in the EU file"
            );
            assert!(
                !files_holding(p.dir.path(), &["t.db", "t.db-wal"], US_WORDS).is_empty(),
                "{name}: the file check sees what is central"
            );
        }
    }
}

#[tokio::test]
async fn edits_of_a_placed_message_are_kept_in_its_partition() {
    for p in partitioned(&["eu"]).await {
        let (store, name) = (p.store.as_ref(), p.name.as_str());
        let (anna, _) = anna_and_ben(store).await;
        store
            .place_messages(std::slice::from_ref(&anna), Timestamp(3_000))
            .await
            .unwrap();
        let edit = Revision::Edit {
            text: "where is it? Kestrel5150Edit".into(),
        };
        store
            .revise_message(Platform::X, "a1", &edit, Timestamp(4_000))
            .await
            .unwrap();
        let m = store.message(&anna).await.unwrap().unwrap();
        assert_eq!(m.text, "where is it? Kestrel5150Edit", "{name}");
        let revisions = store.message_revisions(&anna).await.unwrap();
        assert_eq!(revisions.len(), 1, "{name}");
        assert!(revisions[0].previous_text.contains(WORDS), "{name}");
        assert_eq!(where_held(&p, "Kestrel5150Edit").await.0, 0, "{name}");
        assert_eq!(where_held(&p, WORDS).await.0, 0, "{name}");
    }
}

#[tokio::test]
async fn erasure_and_retention_remove_the_words_from_the_partition() {
    for p in partitioned(&["eu"]).await {
        let (store, name) = (p.store.as_ref(), p.name.as_str());
        let (anna, _) = anna_and_ben(store).await;
        store
            .place_messages(std::slice::from_ref(&anna), Timestamp(3_000))
            .await
            .unwrap();
        let (customer, _) = erase_customer_of(store, &anna).await;
        assert_eq!(where_held(&p, WORDS).await, (0, 0, 0), "{name}");
        assert_eq!(names_held(&p, NAME).await, (0, 0), "{name}");
        assert_eq!(
            store
                .customer(&customer)
                .await
                .unwrap()
                .unwrap()
                .display_name,
            None,
            "{name}"
        );
        let m = store.message(&anna).await.unwrap().unwrap();
        assert_eq!(
            (m.text.as_str(), m.author.handle.as_str()),
            ("", ""),
            "{name}"
        );

        // Retention: a second EU customer's message, placed, then past its policy.
        let late = store
            .append_messages(&[message(
                "c1",
                json!("@cleo"),
                &format!("{WORDS} again"),
                "eu",
            )])
            .await
            .unwrap()[0]
            .id
            .clone();
        process(store, std::slice::from_ref(&late)).await;
        store
            .place_messages(std::slice::from_ref(&late), Timestamp(3_000))
            .await
            .unwrap();
        assert_eq!(where_held(&p, WORDS).await.2, 1, "{name}");
        let erased = store
            .apply_retention(
                "personal",
                Some("eu"),
                Timestamp(10_000),
                Timestamp(10_000),
                100,
            )
            .await
            .unwrap();
        assert_eq!(erased, 1, "{name}");
        assert_eq!(where_held(&p, WORDS).await, (0, 0, 0), "{name}");

        if p.pg.is_none() {
            store.compact().await.unwrap();
            assert_eq!(
                files_holding(
                    p.dir.path(),
                    &["t.db", "t.db-wal", "region-eu.db", "region-eu.db-wal"],
                    WORDS
                ),
                Vec::<String>::new(),
                "{name}: nowhere, not even in free pages"
            );
        }
    }
}

#[tokio::test]
async fn catch_up_places_what_was_processed_before_the_partition_existed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let (anna, _) = anna_and_ben(&store).await;
    assert_eq!(
        store.place_pending(100, Timestamp(3_000)).await.unwrap(),
        0,
        "no partitions, nothing to place"
    );
    drop(store);

    // The operator configures an EU partition: the next start moves what is already there.
    let store = SqliteStore::open_partitioned(&path, &[Partition::new("eu")])
        .await
        .unwrap();
    assert_eq!(store.place_pending(100, Timestamp(3_000)).await.unwrap(), 1);
    assert_eq!(store.place_pending(100, Timestamp(3_000)).await.unwrap(), 0);
    let m = store.message(&anna).await.unwrap().unwrap();
    assert!(m.text.contains(WORDS));
    let central = format!("sqlite://{}", path.display());
    let named = "SELECT COUNT(*) FROM identities WHERE key LIKE $1 OR handle LIKE $1";
    assert_eq!(count_rows(&central, named.into(), "anna").await, 0);

    // A handle of a placed customer that an earlier version left central moves too.
    let anna_customer = m.customer_id.unwrap();
    execute(
        &central,
        "INSERT INTO identities (key, platform, handle, customer_id, created_at) \
         VALUES ('email:anna.old@example.org', 'email', 'anna.old@example.org', $1, 0)"
            .into(),
        anna_customer.as_str(),
    )
    .await;
    assert_eq!(count_rows(&central, named.into(), "anna.old").await, 1);
    assert_eq!(store.place_pending(100, Timestamp(3_000)).await.unwrap(), 1);
    assert_eq!(count_rows(&central, named.into(), "anna.old").await, 0);
    let profile = store.customer(&anna_customer).await.unwrap().unwrap();
    assert!(
        profile
            .identities
            .iter()
            .any(|i| i.handle == "anna.old@example.org"),
        "{:?}",
        profile.identities
    );
    drop(store);

    // Opened without it, the store refuses to start rather than show blank messages.
    let err = SqliteStore::open(&path).await.err().unwrap();
    assert!(
        matches!(&err, StoreError::Residency(why) if why.contains("`eu`")),
        "{err}"
    );

    // So does a store whose region file was lost: configured, but empty.
    for f in ["region-eu.db", "region-eu.db-wal", "region-eu.db-shm"] {
        let _ = std::fs::remove_file(dir.path().join(f));
    }
    let err = SqliteStore::open_partitioned(&path, &[Partition::new("eu")])
        .await
        .err()
        .unwrap();
    assert!(
        matches!(&err, StoreError::Residency(why) if why.contains("`eu` is empty")),
        "{err}"
    );
}

#[tokio::test]
async fn bad_region_names_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for bad in ["EU", "eu west", "../eu", "eu;x"] {
        let err = SqliteStore::open_partitioned(&dir.path().join("t.db"), &[Partition::new(bad)])
            .await
            .err()
            .unwrap();
        assert!(matches!(err, StoreError::Residency(_)), "{bad}: {err}");
    }
    assert!(
        !dir.path().join("region-eu west.db").exists(),
        "no file is made for a refused region"
    );
}

#[tokio::test]
async fn a_batch_is_placed_region_by_region() {
    for p in partitioned(&["eu", "uk"]).await {
        let (store, name) = (p.store.as_ref(), p.name.as_str());
        let records = [
            message("e1", json!("@eve"), &format!("{WORDS} one"), "eu"),
            message("u1", json!("@uma"), "Otter2240Uk two", "uk"),
            message("n1", json!("@ned"), &format!("{US_WORDS} three"), "us"),
            message("e2", json!("@eve"), &format!("{WORDS} four"), "eu"),
        ];
        let ids: Vec<MessageId> = append(store, &records).await;
        process(store, &ids).await;
        let mut read = Vec::new();
        for id in &ids {
            read.push(store.message(id).await.unwrap().unwrap());
        }
        assert_eq!(
            where_held(&p, WORDS).await,
            (0, 0, 2),
            "{name}: the two EU messages are held from their arrival, their case with them"
        );
        assert_eq!(
            store.place_messages(&ids, Timestamp(3_000)).await.unwrap(),
            0,
            "{name}: no message is left to move"
        );
        assert_eq!(where_held(&p, WORDS).await, (0, 0, 2), "{name}");
        assert_eq!(where_held(&p, "Otter2240Uk").await.0, 0, "{name}");
        assert_eq!(where_held(&p, US_WORDS).await.0, 1, "{name}");
        for (id, m) in ids.iter().zip(&read) {
            assert_eq!(&store.message(id).await.unwrap().unwrap(), m, "{name}");
        }
    }
}

#[tokio::test]
async fn a_merge_fills_and_undo_empties_a_name_held_in_the_partition() {
    for p in partitioned(&["eu"]).await {
        let (store, name) = (p.store.as_ref(), p.name.as_str());
        let records = [
            message("z1", json!("@zoe"), "hello, anyone there?", "eu"),
            message(
                "z2",
                json!({"handle": "@zed_other", "name": "Zed Gecko3390"}),
                "still waiting",
                "eu",
            ),
        ];
        let ids: Vec<MessageId> = append(store, &records).await;
        process(store, &ids).await;
        assert_eq!(
            store.place_messages(&ids, Timestamp(3_000)).await.unwrap(),
            0,
            "{name}: both were held from their arrival"
        );
        let profile_of = |i: usize| {
            let id = ids[i].clone();
            async move {
                let customer = customer_of(store, &id).await;
                store.customer(&customer).await.unwrap().unwrap()
            }
        };
        let (survivor, absorbed) = (profile_of(0).await, profile_of(1).await);
        assert_eq!(survivor.display_name, None, "{name}");
        assert_eq!(names_held(&p, "Gecko3390").await, (0, 1), "{name}");

        let plan = CustomerMergePlan {
            survivor: survivor.id.clone(),
            absorbed: absorbed.id.clone(),
            absorbed_identities: absorbed
                .identities
                .iter()
                .map(|i| Identity::key(i.platform, &i.handle))
                .collect(),
            suggestion: None,
            record: json!({ "names": ["Zed Gecko3390"], "handles": ["@zed_other"] }),
            result: json!({}),
            by: "user:sam".into(),
            at: Timestamp(4_000),
        };
        let merge = match store.merge_customers(&plan).await.unwrap() {
            CustomerMerged::Merged(m) => m,
            other => panic!("{name}: {other:?}"),
        };
        assert!(
            merge.moved.filled.iter().any(|f| f == "display_name"),
            "{name}: {:?}",
            merge.moved.filled
        );
        let merged = store.customer(&survivor.id).await.unwrap().unwrap();
        assert_eq!(
            merged.display_name.as_deref(),
            Some("Zed Gecko3390"),
            "{name}"
        );
        assert_eq!(
            names_held(&p, "Gecko3390").await,
            (0, 2),
            "{name}: filled in the partition, not centrally"
        );
        assert_eq!(
            documents_held(&p, MERGES, "Gecko3390").await,
            (0, 1),
            "{name}: the merge's record is held with the survivor"
        );
        assert_eq!(
            store
                .customer_merge(&merge.id)
                .await
                .unwrap()
                .unwrap()
                .record,
            plan.record,
            "{name}: read back whole"
        );
        if p.pg.is_none() {
            // Written there directly: the absorbed profile never reached a central file.
            assert_eq!(
                files_holding(p.dir.path(), &["t.db", "t.db-wal"], "Gecko3390"),
                Vec::<String>::new(),
                "{name}"
            );
        }

        store
            .undo_customer_merge(
                &merge.id,
                &plan.absorbed_identities,
                "user:sam",
                Timestamp(5_000),
            )
            .await
            .unwrap();
        assert_eq!(
            store
                .customer(&survivor.id)
                .await
                .unwrap()
                .unwrap()
                .display_name,
            None,
            "{name}"
        );
        assert_eq!(
            store
                .customer(&absorbed.id)
                .await
                .unwrap()
                .unwrap()
                .display_name
                .as_deref(),
            Some("Zed Gecko3390"),
            "{name}"
        );
        assert_eq!(names_held(&p, "Gecko3390").await, (0, 1), "{name}");
        let handles = |c: &sb_domain::Customer| -> Vec<String> {
            c.identities.iter().map(|i| i.handle.clone()).collect()
        };
        assert_eq!(
            handles(&store.customer(&absorbed.id).await.unwrap().unwrap()),
            vec!["@zed_other"],
            "{name}: the undo gives the placed handle back"
        );
        assert_eq!(
            handles(&store.customer(&survivor.id).await.unwrap().unwrap()),
            vec!["@zoe"],
            "{name}"
        );
        assert_eq!(
            handles_held(&p, "zed_other").await,
            (0, 1),
            "{name}: through merge and undo the handle stays in the partition"
        );
    }
}

/// Identity rows naming `needle` (in key or handle): central, and in the EU partition.
async fn handles_held(p: &Partitioned, needle: &str) -> (i64, i64) {
    let named = "key LIKE $1 OR handle LIKE $1";
    rows_held(
        p,
        ("identities", named),
        ("identity_content", named),
        needle,
    )
    .await
}

#[tokio::test]
async fn a_customer_imported_without_a_region_is_placed_with_their_first_message() {
    for p in partitioned(&["eu"]).await {
        let (store, name) = (p.store.as_ref(), p.name.as_str());
        let customer = store
            .upsert_customer(
                Platform::X,
                "@Numbat3131",
                Some("Nora Numbat3131"),
                Tier::Vip,
                100.0,
                Timestamp(500),
                None,
            )
            .await
            .unwrap();
        assert_eq!(names_held(&p, "Numbat3131").await, (1, 0), "{name}");
        assert_eq!(handles_held(&p, "umbat3131").await, (1, 0), "{name}");
        let ids: Vec<MessageId> = append(
            store,
            &[message(
                "n1",
                json!("@numbat3131"),
                "where is my order?",
                "eu",
            )],
        )
        .await;
        process(store, &ids).await;
        let m = store.message(&ids[0]).await.unwrap().unwrap();
        assert_eq!(m.customer_id.as_ref(), Some(&customer), "{name}");
        store.place_messages(&ids, Timestamp(3_000)).await.unwrap();
        let profile = store.customer(&customer).await.unwrap().unwrap();
        assert_eq!(
            (
                profile.region.as_deref(),
                profile.display_name.as_deref(),
                profile.tier
            ),
            (Some("eu"), Some("Nora Numbat3131"), Tier::Vip),
            "{name}: the region of their first message"
        );
        assert_eq!(names_held(&p, "Numbat3131").await, (0, 1), "{name}");
        assert_eq!(handles_held(&p, "umbat3131").await, (0, 1), "{name}");
    }
}

#[tokio::test]
async fn a_placed_customers_handles_are_held_in_the_partition_and_still_find_them() {
    for p in partitioned(&["eu"]).await {
        let (store, name) = (p.store.as_ref(), p.name.as_str());
        let records = [
            message("q1", json!("@Quokka5521"), "where is my order?", "eu"),
            message("r1", json!("@robin_us"), "and mine?", "us"),
        ];
        let ids: Vec<MessageId> = append(store, &records).await;
        process(store, &ids).await;
        assert_eq!(
            handles_held(&p, "uokka5521").await,
            (0, 1),
            "{name}: placed as the customer was created"
        );
        store.place_messages(&ids, Timestamp(3_000)).await.unwrap();
        assert_eq!(
            handles_held(&p, "uokka5521").await,
            (0, 1),
            "{name}: neither the handle nor the key that holds it stays central"
        );
        assert_eq!(
            handles_held(&p, "robin_us").await,
            (1, 0),
            "{name}: a customer of a region without a partition stays central"
        );
        let customer = customer_of(store, &ids[0]).await;
        let handles = || async {
            let c = store.customer(&customer).await.unwrap().unwrap();
            let mut h: Vec<String> = c
                .identities
                .iter()
                .map(|i| format!("{}:{}", i.platform.as_str(), i.handle))
                .collect();
            h.sort();
            h
        };
        assert_eq!(handles().await, vec!["x:@Quokka5521"], "{name}: read back");

        // The next message under the handle, in any case, finds the same customer.
        let again: Vec<MessageId> = append(
            store,
            &[message("q2", json!("@QUOKKA5521"), "any news?", "eu")],
        )
        .await;
        process(store, &again).await;
        let m = store.message(&again[0]).await.unwrap().unwrap();
        assert_eq!(m.customer_id.as_ref(), Some(&customer), "{name}");
        store
            .place_messages(&again, Timestamp(3_500))
            .await
            .unwrap();
        assert_eq!(handles_held(&p, "uokka5521").await, (0, 1), "{name}");
        assert_eq!(
            store
                .upsert_customer(
                    Platform::X,
                    "@quokka5521",
                    None,
                    Tier::Vip,
                    5.0,
                    Timestamp(3_600),
                    None
                )
                .await
                .unwrap(),
            customer,
            "{name}: an import finds them too"
        );

        // A handle linked later follows the customer; a placed one is not linked twice.
        use switchboard_store::IdentityLink;
        let link = |platform, handle: &'static str, to: sb_domain::CustomerId| async move {
            store
                .link_identity(&to, platform, handle, Timestamp(3_700))
                .await
                .unwrap()
        };
        assert_eq!(
            link(Platform::Email, "quokka5521@example.org", customer.clone()).await,
            IdentityLink::Linked,
            "{name}"
        );
        assert_eq!(handles_held(&p, "uokka5521").await, (0, 2), "{name}");
        assert_eq!(
            handles().await,
            vec!["email:quokka5521@example.org", "x:@Quokka5521"],
            "{name}"
        );
        assert_eq!(
            link(Platform::X, "@quokka5521", customer.clone()).await,
            IdentityLink::AlreadyLinked,
            "{name}"
        );
        let robin = customer_of(store, &ids[1]).await;
        assert_eq!(
            link(Platform::Email, "quokka5521@example.org", robin).await,
            IdentityLink::Elsewhere(customer.clone()),
            "{name}"
        );

        // SQLite: after compaction, which of the files hold any byte of the handle.
        let files_naming_them = || async {
            store.compact().await.unwrap();
            let files = ["t.db", "t.db-wal", "region-eu.db", "region-eu.db-wal"];
            files_holding(p.dir.path(), &files, "uokka5521")
        };
        if p.pg.is_none() {
            assert_eq!(
                files_naming_them().await,
                vec!["region-eu.db"],
                "{name}: of every file, only the EU one names them"
            );
        }

        // Their export names every handle; erasure removes them from the partition.
        let export = store.customer_messages(&customer).await.unwrap();
        assert_eq!(export.len(), 2, "{name}: both messages are theirs");
        let (_, counts) = erase_customer_of(store, &ids[0]).await;
        assert_eq!(counts.identities, 2, "{name}");
        assert_eq!(handles_held(&p, "uokka5521").await, (0, 0), "{name}");
        if p.pg.is_none() {
            assert_eq!(
                files_naming_them().await,
                Vec::<String>::new(),
                "{name}: no byte of any file names them after erasure"
            );
        }
    }
}

/// The customer who wrote `message`.
async fn customer_of(store: &dyn Store, message: &MessageId) -> sb_domain::CustomerId {
    store
        .message(message)
        .await
        .unwrap()
        .unwrap()
        .customer_id
        .unwrap()
}

/// The case `message` is in.
async fn case_of(store: &dyn Store, message: &MessageId) -> CaseId {
    store
        .message(message)
        .await
        .unwrap()
        .unwrap()
        .case_id
        .unwrap()
}

/// Erases the customer who wrote `message`; returns them and what the erasure counted.
async fn erase_customer_of(
    store: &dyn Store,
    message: &MessageId,
) -> (sb_domain::CustomerId, switchboard_store::ErasureCounts) {
    let customer = customer_of(store, message).await;
    match store
        .erase_customer(&customer, Timestamp(5_000))
        .await
        .unwrap()
    {
        switchboard_store::Erasure::Done(counts) => (customer, counts),
        other => panic!("{other:?}"),
    }
}

/// Rows holding `needle`: the central `table.column`, and the EU partition's `content`.
async fn documents_held(
    p: &Partitioned,
    (table, column, content): (&str, &str, &str),
    needle: &str,
) -> (i64, i64) {
    let like = format!("{column} LIKE $1");
    rows_held(p, (table, &like), (content, &like), needle).await
}

const EVENTS: (&str, &str, &str) = ("case_events", "data", "case_event_content");
const REPLIES: (&str, &str, &str) = ("replies", "doc", "reply_content");
const OUTBOX: (&str, &str, &str) = ("outbox", "payload", "outbox_content");

/// A reply an agent drafts on `case`, waiting for approval.
fn agent_reply(id: &str, case: &CaseId, doc: Value, at: i64) -> switchboard_store::StoredReply {
    switchboard_store::StoredReply {
        id: id.into(),
        case_id: case.clone(),
        author: "agent:rita".into(),
        automated: false,
        status: "pending_approval".into(),
        doc,
        created_at: Timestamp(at),
        updated_at: Timestamp(at),
        version: 0,
    }
}

/// Saves a note on `case` the way the case workflow does.
async fn note(store: &dyn Store, case: &CaseId, text: &str, at: i64) {
    let work = store.case_work(case).await.unwrap().unwrap();
    let mut change = sb_domain::CaseChange::from_work(&work, Timestamp(at));
    change.event("note", "agent:rita", Timestamp(at), json!({ "text": text }));
    assert_eq!(
        store.save_case_work(&change).await.unwrap(),
        switchboard_store::CaseSave::Saved
    );
}

#[tokio::test]
async fn what_agents_write_about_a_placed_case_is_held_in_its_partition() {
    for p in partitioned(&["eu"]).await {
        let (store, name) = (p.store.as_ref(), p.name.as_str());
        // Anna's region is not known when she first writes: her case opens centrally.
        let anna = append(
            store,
            &[record(json!({
                "source": "x", "external_id": "a1",
                "author": {"handle": "@anna", "name": format!("Anna {NAME}")},
                "text": format!("my parcel {WORDS} never came"),
            }))],
        )
        .await
        .remove(0);
        process(store, std::slice::from_ref(&anna)).await;
        let case = case_of(store, &anna).await;
        // Written before the case is placed: it follows the case when it moves.
        note(store, &case, "she lives at Ibis1101Before street", 2_000).await;
        assert_eq!(documents_held(&p, EVENTS, "Ibis1101").await, (1, 0));
        // Her region becomes known: she is placed, her case with her.
        store
            .upsert_customer(
                Platform::X,
                "@anna",
                None,
                Tier::Standard,
                0.0,
                Timestamp(2_500),
                Some("eu"),
            )
            .await
            .unwrap();
        assert_eq!(
            documents_held(&p, EVENTS, "Ibis1101").await,
            (0, 1),
            "{name}: a note written before placement moved with the case"
        );

        // Written after: held there from the write.
        note(store, &case, "called her on Lynx2202After", 4_000).await;
        let reply = agent_reply(
            "r-resid-1",
            &case,
            json!({ "text": "Hi Anna, Puma3303Reply", "to": { "handle": "@anna" } }),
            4_100,
        );
        store.insert_reply(&reply).await.unwrap();
        for (marker, found) in [
            ("Lynx2202", documents_held(&p, EVENTS, "Lynx2202").await),
            ("Puma3303", documents_held(&p, REPLIES, "Puma3303").await),
            ("@anna", documents_held(&p, REPLIES, "@anna").await),
        ] {
            assert_eq!(found, (0, 1), "{name}: {marker}");
        }

        // A new version of the reply is written where the reply is held.
        let mut edited = store.reply("r-resid-1").await.unwrap().unwrap();
        assert_eq!(edited.doc, reply.doc, "{name}: read back whole");
        edited.doc = json!({ "text": "Hi Anna, Puma3303Reply and Yak4404Edit", "to": { "handle": "@anna" } });
        assert!(store.update_reply(&edited, Timestamp(4_200)).await.unwrap());
        assert_eq!(
            documents_held(&p, REPLIES, "Yak4404").await,
            (0, 1),
            "{name}"
        );
        let listed = store.list_replies(Some(&case), None, 10).await.unwrap();
        assert_eq!(listed.len(), 1, "{name}");
        assert_eq!(listed[0].doc, edited.doc, "{name}");
        assert_eq!(listed[0].version, 1, "{name}");

        // Its deliveries follow it from the start: the dispatcher claims them whole.
        let sent = store
            .enqueue(
                &[
                    NewOutboxItem {
                        target: "x".into(),
                        dedup_key: "reply:r-resid-1".into(),
                        payload: json!({ "text": "Hi Anna, Zebu8808Sent", "to": "@anna" }),
                        subject: Some(case.as_str().to_owned()),
                    },
                    NewOutboxItem {
                        target: "x".into(),
                        dedup_key: "reply:r-resid-2".into(),
                        payload: json!({ "text": "Gnu9909Waiting" }),
                        subject: Some(case.as_str().to_owned()),
                    },
                ],
                Timestamp(4_300),
            )
            .await
            .unwrap();
        for marker in ["Zebu8808", "Gnu9909"] {
            assert_eq!(
                documents_held(&p, OUTBOX, marker).await,
                (0, 1),
                "{name}: {marker} is held in the partition while it waits"
            );
        }
        let claimed = store
            .claim_outbox(Timestamp(4_400), 10, 60_000)
            .await
            .unwrap();
        assert_eq!(
            claimed.len(),
            1,
            "{name}: one at a time per case and target"
        );
        assert_eq!(claimed[0].payload["text"], "Hi Anna, Zebu8808Sent");
        let attempt = DeliveryAttempt {
            attempt: 1,
            at: Timestamp(4_500),
            outcome: "delivered".into(),
            status_code: Some(200),
            error: None,
            duration_ms: 5,
        };
        store
            .finish_attempt(
                &sent[0].0,
                &attempt,
                &AfterAttempt::Delivered {
                    remote_id: Some("tw-1".into()),
                },
            )
            .await
            .unwrap();
        assert_eq!(
            documents_held(&p, OUTBOX, "Zebu8808").await,
            (0, 1),
            "{name}"
        );
        assert_eq!(
            documents_held(&p, OUTBOX, "Gnu9909").await,
            (0, 1),
            "{name}"
        );
        let read = store.outbox_item(&sent[0].0).await.unwrap().unwrap();
        assert_eq!(read.payload["text"], "Hi Anna, Zebu8808Sent", "{name}");
        let waiting = store
            .claim_outbox(Timestamp(4_600), 10, 60_000)
            .await
            .unwrap();
        assert_eq!(waiting.len(), 1, "{name}");
        assert_eq!(waiting[0].payload["text"], "Gnu9909Waiting", "{name}");

        // Every reader sees the history whole; the central rows keep kinds and times.
        let history = store.case_events(&case).await.unwrap();
        let notes: Vec<&str> = history
            .iter()
            .filter(|e| e.kind == "note")
            .map(|e| e.data["text"].as_str().unwrap())
            .collect();
        assert_eq!(
            notes,
            [
                "she lives at Ibis1101Before street",
                "called her on Lynx2202After"
            ],
            "{name}"
        );
        let of_kind = store.case_events_of_kind("note", 0, 10).await.unwrap();
        assert_eq!(of_kind.len(), 2, "{name}");
        assert_eq!(of_kind[1].1.data["text"], "called her on Lynx2202After");
        assert_eq!(
            documents_held(&p, EVENTS, "note").await.0,
            0,
            "{name}: the kind is a column, the data blanked"
        );
        assert_eq!(
            store.place_documents().await.unwrap(),
            0,
            "{name}: nothing left to move"
        );

        if p.pg.is_none() {
            store.compact().await.unwrap();
            for marker in ["Ibis1101", "Lynx2202", "Puma3303", "Yak4404", "Zebu8808"] {
                assert_eq!(
                    files_holding(p.dir.path(), &["t.db", "t.db-wal"], marker),
                    Vec::<String>::new(),
                    "{name}: {marker} is not in the central file or its log"
                );
            }
        }

        // Erasure removes them from the partition.
        let (_, counts) = erase_customer_of(store, &anna).await;
        assert_eq!(
            (counts.case_events, counts.replies, counts.outbox),
            (2, 1, 2),
            "{name}: what was held in the partition is counted"
        );
        for marker in ["Ibis1101", "Lynx2202"] {
            assert_eq!(documents_held(&p, EVENTS, marker).await, (0, 0), "{name}");
        }
        assert_eq!(
            documents_held(&p, REPLIES, "Puma3303").await,
            (0, 0),
            "{name}"
        );
        assert_eq!(
            documents_held(&p, OUTBOX, "Zebu8808").await,
            (0, 0),
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_case_split_from_a_placed_case_is_placed_too() {
    for p in partitioned(&["eu"]).await {
        let (store, name) = (p.store.as_ref(), p.name.as_str());
        let (anna, _) = anna_and_ben(store).await;
        let second = store
            .append_messages(&[message(
                "a2",
                json!("@anna"),
                "also Mole6606Split arrived broken",
                "eu",
            )])
            .await
            .unwrap()[0]
            .id
            .clone();
        process(store, std::slice::from_ref(&second)).await;
        store
            .place_messages(&[anna.clone(), second.clone()], Timestamp(3_000))
            .await
            .unwrap();
        let source = case_of(store, &second).await;
        let split = split_of(store, &source, std::slice::from_ref(&second), 4_000).await;
        let new_case = split.new_case.clone();
        assert_eq!(
            store.split_case(&split).await.unwrap(),
            switchboard_store::CaseSave::Saved,
            "{name}"
        );
        assert_eq!(
            where_held(&p, "Mole6606Split").await,
            (0, 0, 1),
            "{name}: the new case's subject is held in the partition"
        );
        assert_eq!(
            documents_held(&p, EVENTS, new_case.id.as_str()).await,
            (0, 1),
            "{name}: the split's history names the new case only in the partition"
        );
        let read = store.case(&new_case.id).await.unwrap().unwrap();
        assert_eq!(read.subject, new_case.subject, "{name}");
        assert_eq!(
            store.place_documents().await.unwrap(),
            0,
            "{name}: nothing to move"
        );
        if p.pg.is_none() {
            // The new case's subject was written where it belongs.
            assert_eq!(
                files_holding(p.dir.path(), &["t.db", "t.db-wal"], "Mole6606Split"),
                Vec::<String>::new(),
                "{name}"
            );
        }
        let history = store.case_events(&source).await.unwrap();
        assert!(
            history
                .iter()
                .any(|e| e.kind == "split_to" && e.data["to"] == new_case.id.as_str()),
            "{name}"
        );
    }
}

const MERGES: (&str, &str, &str) = ("customer_merges", "record", "merge_record_content");
const AUDIT: (&str, &str, &str) = ("audit_log", "detail", "audit_detail_content");
const SURVEYS: (&str, &str, &str) = ("survey_answers", "comment", "survey_comment_content");
const DISRUPTIONS: (&str, &str, &str) = (
    "disruption_recipients",
    "text",
    "disruption_message_content",
);

#[tokio::test]
async fn survey_comments_and_disruption_messages_follow_their_case_and_customer() {
    for p in partitioned(&["eu"]).await {
        let (store, name) = (p.store.as_ref(), p.name.as_str());
        let (anna, ben) = anna_and_ben(store).await;
        store
            .place_messages(&[anna.clone(), ben.clone()], Timestamp(3_000))
            .await
            .unwrap();
        let of = |id: MessageId| async move { store.message(&id).await.unwrap().unwrap() };
        let (a, b) = (of(anna.clone()).await, of(ben.clone()).await);
        let (anna_customer, ben_customer) = (a.customer_id.unwrap(), b.customer_id.unwrap());
        let case = a.case_id.unwrap();

        // A disruption message for each: Anna's (EU) moves to the partition, Ben's stays.
        let d = disruption("pending_approval", 4_000);
        let to_anna = disruption_recipient(
            &anna_customer,
            "Hi Anna, Wren1212Recall applies to you",
            None,
        );
        let to_ben =
            disruption_recipient(&ben_customer, "Hi Ben, Wren1212Recall applies to you", None);
        store
            .insert_disruption(&d, &[to_anna.clone(), to_ben.clone()])
            .await
            .unwrap();
        assert_eq!(
            documents_held(&p, DISRUPTIONS, "Wren1212").await,
            (1, 1),
            "{name}: Ben's central, Anna's in the EU partition"
        );
        assert_eq!(
            documents_held(
                &p,
                (
                    "disruption_recipients",
                    "payload",
                    "disruption_message_content"
                ),
                "Hi Anna"
            )
            .await,
            (0, 1),
            "{name}: the payload too"
        );
        let read = store.disruption_recipients(&d.id).await.unwrap();
        let texts: Vec<(&str, &Value)> =
            read.iter().map(|r| (r.text.as_str(), &r.payload)).collect();
        assert!(
            texts.contains(&(to_anna.text.as_str(), &to_anna.payload)),
            "{name}: {texts:?}"
        );
        assert!(
            texts.contains(&(to_ben.text.as_str(), &to_ben.payload)),
            "{name}"
        );
        let mine = store.customer_disruptions(&anna_customer).await.unwrap();
        assert_eq!(mine[0].1.text, to_anna.text, "{name}");

        // Approved, each message is queued for delivery: Anna's (about her, as she has no
        // case) held in her partition from the start, Ben's central.
        let mut approved = d.clone();
        approved.status = "approved".into();
        assert!(
            store
                .decide_disruption(
                    &approved,
                    1,
                    &[release(&d, &to_anna), release(&d, &to_ben)],
                    &[],
                    Timestamp(4_500)
                )
                .await
                .unwrap(),
            "{name}"
        );
        assert_eq!(
            documents_held(&p, OUTBOX, "Wren1212").await,
            (1, 1),
            "{name}"
        );
        let queued = store
            .claim_outbox(Timestamp(4_600), 10, 60_000)
            .await
            .unwrap();
        let mut texts: Vec<&str> = queued
            .iter()
            .map(|q| q.payload["text"].as_str().unwrap())
            .collect();
        texts.sort_unstable();
        assert_eq!(
            texts,
            [to_anna.text.as_str(), to_ben.text.as_str()],
            "{name}: claimed whole"
        );

        // Anna's case is resolved with a survey; her comment is held with the case.
        let work = store.case_work(&case).await.unwrap().unwrap();
        let mut resolve = sb_domain::CaseChange::from_work(&work, Timestamp(5_000));
        resolve.status = sb_domain::CaseStatus::Resolved;
        let token = switchboard_store::survey_token("a-link-key-of-at-least-32-characters", "sv1");
        resolve.events.push(sb_domain::NewCaseEvent {
            kind: "survey.sent".into(),
            actor: "system".into(),
            at: Timestamp(5_000),
            data: json!({ "survey_id": "sv1", "token_sha256": switchboard_store::hash_survey_token(&token), "valid_days": 7 }),
            dedup: Some("survey:sv1".into()),
        });
        assert_eq!(
            store.save_case_work(&resolve).await.unwrap(),
            switchboard_store::CaseSave::Saved
        );
        let answer = switchboard_store::SurveyResponse {
            csat: 2,
            nps: None,
            ces: None,
            comment: Some("the courier Toucan1313Comment was rude".into()),
            answered_at: Timestamp(6_000),
        };
        assert!(matches!(
            store
                .answer_survey(&switchboard_store::hash_survey_token(&token), &answer)
                .await
                .unwrap(),
            switchboard_store::AnswerOutcome::Recorded(_)
        ));
        assert_eq!(
            documents_held(&p, SURVEYS, "Toucan1313").await,
            (0, 1),
            "{name}"
        );
        let surveys = store.case_surveys(&case).await.unwrap();
        assert_eq!(
            surveys[0].answer.as_ref().unwrap().comment,
            answer.comment,
            "{name}: read back whole"
        );
        assert_eq!(surveys[0].answer.as_ref().unwrap().csat, 2, "{name}");

        // An audit entry about Anna keeps its before/after in the partition, its digest in the
        // chain; the chain verifies with the detail read back from there.
        let about = |customer: &sb_domain::CustomerId, who: &str| sb_governance::AuditRecord {
            at_ms: 6_500,
            actor: "user:sam".into(),
            role: Some("agent".into()),
            action: "PATCH /api/v1/customers/{id}".into(),
            subject: Some(format!("customer:{customer}")),
            customer_id: Some(customer.to_string()),
            origin: Some("10.0.0.7".into()),
            outcome: 200,
            detail: Some(
                json!({ "before": { "name": format!("{who} Jay1414Audit") }, "after": {} }),
            ),
        };
        store
            .append_audit(vec![
                about(&anna_customer, "Anna"),
                about(&ben_customer, "Ben"),
            ])
            .await
            .unwrap();
        assert_eq!(documents_held(&p, AUDIT, "Jay1414").await, (1, 1), "{name}");
        let entries = store
            .audit_entries(Some(&anna_customer), 0, 10)
            .await
            .unwrap();
        assert_eq!(
            entries[0].record.detail.as_ref().unwrap()["before"]["name"],
            "Anna Jay1414Audit",
            "{name}"
        );
        let (seq, hash) = store.audit_head().await.unwrap();
        let chain = store.audit_entries(None, 0, 100).await.unwrap();
        assert!(chain.iter().all(|e| e.record.detail.is_some()), "{name}");
        assert_eq!(
            sb_governance::audit::verify(chain, Some((seq, &hash))),
            Ok(2),
            "{name}"
        );

        // Erasure removes Anna's from the partition; Ben's is untouched.
        erase_customer_of(store, &anna).await;
        assert_eq!(documents_held(&p, AUDIT, "Jay1414").await, (1, 0), "{name}");
        assert_eq!(
            documents_held(&p, SURVEYS, "Toucan1313").await,
            (0, 0),
            "{name}"
        );
        assert_eq!(
            documents_held(&p, DISRUPTIONS, "Wren1212").await,
            (1, 0),
            "{name}"
        );
        assert_eq!(
            documents_held(&p, OUTBOX, "Wren1212").await,
            (1, 0),
            "{name}: her queued message too"
        );
    }
}

/// A disruption about a new incident, as stored when it is drafted (or decided).
fn disruption(status: &str, at: i64) -> switchboard_store::StoredDisruption {
    switchboard_store::StoredDisruption {
        id: sb_domain::DisruptionId::generate(),
        incident_id: sb_domain::IncidentId::generate(),
        status: status.into(),
        created_by: "key:ops".into(),
        created_at: Timestamp(at),
        updated_at: Timestamp(at),
        version: 1,
        doc: json!({ "template": "x200_recall", "decisions": [] }),
    }
}

/// The delivery an approval of `d` queues for `to`: about the customer (they have no case).
fn release(
    d: &switchboard_store::StoredDisruption,
    to: &switchboard_store::DisruptionRecipient,
) -> switchboard_store::Release {
    switchboard_store::Release {
        customer_id: to.customer_id.clone(),
        item: NewOutboxItem {
            target: "x".into(),
            dedup_key: format!("disruption:{}:{}", d.id, to.customer_id),
            payload: to.payload.clone(),
            subject: Some(to.customer_id.to_string()),
        },
    }
}

/// Runs `sql` straight on the storage at `url`, binding `value`.
async fn execute(url: &str, sql: String, value: &str) {
    if url.starts_with("sqlite://") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(value)
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(value)
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    }
}

#[tokio::test]
async fn a_note_a_crash_left_behind_is_moved_by_the_next_start() {
    for p in partitioned(&["eu"]).await {
        let (store, name) = (p.store.as_ref(), p.name.as_str());
        let (anna, _) = anna_and_ben(store).await;
        store
            .place_messages(std::slice::from_ref(&anna), Timestamp(3_000))
            .await
            .unwrap();
        let case = case_of(store, &anna).await;
        note(store, &case, "her flat is Newt1515Crash", 4_000).await;
        assert_eq!(documents_held(&p, EVENTS, "Newt1515").await, (0, 1));
        // As a crash after the note's commit and before its move leaves it: whole centrally,
        // marked, and (the copy step having run) perhaps already in the partition.
        let ((central, c), _) = places(&p);
        let full = json!({ "text": "her flat is Newt1515Crash" }).to_string();
        execute(
            &central,
            format!(
                "UPDATE {c}case_events SET data = $1, place_to = 'eu', placed_in = NULL \
                 WHERE kind = 'note'"
            ),
            &full,
        )
        .await;
        assert_eq!(
            documents_held(&p, EVENTS, "Newt1515").await,
            (1, 1),
            "{name}"
        );
        assert_eq!(
            store.case_events(&case).await.unwrap().last().unwrap().data["text"],
            "her flat is Newt1515Crash",
            "{name}: readable meanwhile"
        );
        // The start's catch-up finishes the move.
        assert_eq!(store.place_pending(100, Timestamp(5_000)).await.unwrap(), 1);
        assert_eq!(store.place_pending(100, Timestamp(5_000)).await.unwrap(), 0);
        assert_eq!(
            documents_held(&p, EVENTS, "Newt1515").await,
            (0, 1),
            "{name}"
        );
        assert_eq!(
            store.case_events(&case).await.unwrap().last().unwrap().data["text"],
            "her flat is Newt1515Crash",
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_message_is_held_in_its_partition_from_the_moment_it_is_stored() {
    for p in partitioned(&["eu"]).await {
        let (store, name) = (p.store.as_ref(), p.name.as_str());
        let first = || {
            message(
                "h1",
                json!({"handle": "@hedgehog_eu", "name": "Hedge Kiwi6160"}),
                &format!("{WORDS} first"),
                "eu",
            )
        };
        // A new author whose delivery names the EU, and one whose delivery names the US.
        let ids = append(
            store,
            &[
                first(),
                message("h2", json!("@heron_us"), &format!("{US_WORDS} first"), "us"),
            ],
        )
        .await;
        assert_eq!(
            where_held(&p, WORDS).await,
            (0, 0, 1),
            "{name}: in the partition before it is processed"
        );
        assert_eq!(where_held(&p, "Kiwi6160").await.0, 0, "{name}: the name");
        assert_eq!(
            where_held(&p, "hedgehog_eu").await.0,
            0,
            "{name}: the handle"
        );
        assert_eq!(
            where_held(&p, US_WORDS).await,
            (1, 0, 0),
            "{name}: a region without a partition keeps it central"
        );
        let read = store.messages_for_processing(&ids[..1]).await.unwrap();
        assert_eq!(read[0].text, format!("{WORDS} first"), "{name}: read whole");
        assert_eq!(read[0].author.handle, "@hedgehog_eu", "{name}");
        assert_eq!(read[0].author.name.as_deref(), Some("Hedge Kiwi6160"));

        process(store, &ids).await;
        store.place_messages(&ids, Timestamp(3_000)).await.unwrap();
        assert_eq!(
            where_held(&p, WORDS).await,
            (0, 0, 1),
            "{name}: and its case"
        );
        assert_eq!(names_held(&p, "Kiwi6160").await, (0, 1), "{name}");
        assert_eq!(handles_held(&p, "hedgehog_eu").await, (0, 1), "{name}");

        // Their next messages name no region, or another: their customer's region holds
        // them from arrival, the customer found under their handle's pseudonym.
        let next = append(
            store,
            &[
                record(json!({
                    "source": "x", "external_id": "h3", "author": "@Hedgehog_EU",
                    "text": format!("{WORDS} second"),
                })),
                message("h4", json!("@hedgehog_eu"), &format!("{WORDS} third"), "us"),
            ],
        )
        .await;
        assert_eq!(where_held(&p, WORDS).await, (0, 0, 3), "{name}: all three");
        process(store, &next).await;
        let customer = customer_of(store, &ids[0]).await;
        for id in &next {
            assert_eq!(customer_of(store, id).await, customer, "{name}");
            let m = store.message(id).await.unwrap().unwrap();
            assert!(m.text.starts_with(WORDS), "{name}: read whole");
        }

        // A redelivery is answered with the stored message and leaves no second copy.
        let again = store.append_messages(&[first()]).await.unwrap();
        assert!(again[0].duplicate, "{name}");
        assert_eq!(again[0].id, ids[0], "{name}");
        assert_eq!(where_held(&p, WORDS).await, (0, 0, 3), "{name}: one copy");

        // Content a crash left without a central row goes once older than the grace.
        let ((_, _), (eu, e)) = places(&p);
        let grace = switchboard_store::STRAY_ARRIVAL_GRACE.as_millis() as i64;
        for (id, at) in [("stray-old", 0), ("stray-new", grace)] {
            execute(
                &eu,
                format!(
                    "INSERT INTO {e}message_content (id, author_handle, author_name, text, raw, placed_at) \
                     VALUES ($1, '', NULL, 'Stray7007', '{{}}', {at})"
                ),
                id,
            )
            .await;
        }
        assert_eq!(
            store
                .drop_stray_arrivals(Timestamp(grace + 500))
                .await
                .unwrap(),
            1,
            "{name}: only the one older than the grace"
        );
        assert_eq!(
            count_rows(
                &eu,
                format!("SELECT COUNT(*) FROM {e}message_content WHERE text LIKE $1"),
                "Stray7007"
            )
            .await,
            1,
            "{name}"
        );
        assert_eq!(
            where_held(&p, WORDS).await,
            (0, 0, 3),
            "{name}: stored ones stay"
        );
    }
}

#[tokio::test]
async fn on_sqlite_the_central_log_is_emptied_of_what_moved() {
    for p in partitioned(&["eu"]).await {
        let (store, name) = (p.store.as_ref(), p.name.as_str());
        // Cleo's region is known only once her message is processed: its words are stored
        // centrally, then moved when she is given one.
        let cleo = append(
            store,
            &[record(json!({
                "source": "x", "external_id": "c1", "author": "@cleo",
                "text": "Pangolin6262 at the door",
            }))],
        )
        .await
        .remove(0);
        process(store, std::slice::from_ref(&cleo)).await;
        store
            .upsert_customer(
                Platform::X,
                "@cleo",
                None,
                Tier::Standard,
                0.0,
                Timestamp(3_500),
                Some("eu"),
            )
            .await
            .unwrap();
        assert_eq!(
            where_held(&p, "Pangolin6262").await,
            (0, 0, 1),
            "{name}: moved once her region was known"
        );
        if p.pg.is_some() {
            // The server's log is shared by every schema: nothing to empty here.
            assert!(!store.empty_central_log().await.unwrap(), "{name}");
            continue;
        }
        let central = ["t.db", "t.db-wal"];
        // Written centrally first, the words are still in the central log until it is emptied.
        assert_eq!(
            files_holding(p.dir.path(), &central, "Pangolin6262"),
            vec!["t.db-wal"],
            "{name}"
        );
        assert!(
            store.empty_central_log().await.unwrap(),
            "{name}: no reader held it"
        );
        assert_eq!(
            files_holding(p.dir.path(), &central, "Pangolin6262"),
            Vec::<String>::new(),
            "{name}: in no central file"
        );
        assert_eq!(
            files_holding(
                p.dir.path(),
                &["region-eu.db", "region-eu.db-wal"],
                "Pangolin6262"
            )
            .len(),
            1,
            "{name}: the partition holds it"
        );
    }
}

#[tokio::test]
async fn what_is_written_about_a_placed_case_never_reaches_a_central_file() {
    for p in partitioned(&["eu"]).await {
        let (store, name) = (p.store.as_ref(), p.name.as_str());
        let (anna, _) = anna_and_ben(store).await;
        let case = case_of(store, &anna).await;
        let customer = customer_of(store, &anna).await;
        note(store, &case, "her door code is Quagga5151", 4_000).await;
        let reply = agent_reply(
            "r-direct-1",
            &case,
            json!({ "text": "Hi Anna, Serval5252", "to": { "handle": "@anna" } }),
            4_100,
        );
        store.insert_reply(&reply).await.unwrap();
        let mut edited = reply.clone();
        edited.doc =
            json!({ "text": "Hi Anna, Serval5252 and Tapir5353", "to": { "handle": "@anna" } });
        assert!(store.update_reply(&edited, Timestamp(4_200)).await.unwrap());
        store
            .enqueue(
                &[NewOutboxItem {
                    target: "x".into(),
                    dedup_key: "reply:r-direct-1".into(),
                    payload: json!({ "text": "Hi Anna, Urial5454", "to": "@anna" }),
                    subject: Some(case.as_str().to_owned()),
                }],
                Timestamp(4_300),
            )
            .await
            .unwrap();
        store
            .append_audit(vec![sb_governance::AuditRecord {
                at_ms: 4_400,
                actor: "user:sam".into(),
                role: Some("agent".into()),
                action: "PATCH /api/v1/customers/{id}".into(),
                subject: Some(format!("customer:{customer}")),
                customer_id: Some(customer.to_string()),
                origin: None,
                outcome: 200,
                detail: Some(json!({ "before": { "name": "Anna Vicuna5555" }, "after": {} })),
            }])
            .await
            .unwrap();

        for (doc, marker) in [
            (EVENTS, "Quagga5151"),
            (REPLIES, "Tapir5353"),
            (OUTBOX, "Urial5454"),
            (AUDIT, "Vicuna5555"),
        ] {
            assert_eq!(
                documents_held(&p, doc, marker).await,
                (0, 1),
                "{name}: {marker}"
            );
        }
        assert_eq!(
            documents_held(&p, REPLIES, "Serval5252").await,
            (0, 1),
            "{name}: the first version was replaced where it is held"
        );
        assert_eq!(
            store.place_documents().await.unwrap(),
            0,
            "{name}: nothing to move"
        );
        // Read back whole.
        let history = store.case_events(&case).await.unwrap();
        assert_eq!(
            history.last().unwrap().data["text"],
            "her door code is Quagga5151"
        );
        assert_eq!(
            store.reply("r-direct-1").await.unwrap().unwrap().doc,
            edited.doc
        );
        let claimed = store
            .claim_outbox(Timestamp(4_500), 10, 60_000)
            .await
            .unwrap();
        assert_eq!(claimed[0].payload["text"], "Hi Anna, Urial5454", "{name}");
        let entries = store.audit_entries(Some(&customer), 0, 10).await.unwrap();
        assert_eq!(
            entries[0].record.detail.as_ref().unwrap()["before"]["name"],
            "Anna Vicuna5555",
            "{name}"
        );
        let (seq, hash) = store.audit_head().await.unwrap();
        let chain = store.audit_entries(None, 0, 100).await.unwrap();
        assert_eq!(
            sb_governance::audit::verify(chain, Some((seq, &hash))),
            Ok(1),
            "{name}"
        );

        if p.pg.is_none() {
            // Neither the central file nor its log ever saw them: no move, no emptying.
            for marker in [
                "Quagga5151",
                "Serval5252",
                "Tapir5353",
                "Urial5454",
                "Vicuna5555",
            ] {
                assert_eq!(
                    files_holding(p.dir.path(), &["t.db", "t.db-wal"], marker),
                    Vec::<String>::new(),
                    "{name}: {marker}"
                );
            }
        }
    }
}

#[tokio::test]
async fn a_write_that_does_not_happen_leaves_nothing_in_the_partition() {
    for p in partitioned(&["eu"]).await {
        let (store, name) = (p.store.as_ref(), p.name.as_str());
        let (anna, _) = anna_and_ben(store).await;
        let case = case_of(store, &anna).await;
        // A note saved on a case someone else changed first is not saved, nor held.
        let work = store.case_work(&case).await.unwrap().unwrap();
        let mut stale = sb_domain::CaseChange::from_work(&work, Timestamp(4_000));
        stale.event(
            "note",
            "agent:rita",
            Timestamp(4_000),
            json!({ "text": "Wolf6161Lost" }),
        );
        note(store, &case, "Xerus6262Kept", 4_100).await;
        assert_eq!(
            store.save_case_work(&stale).await.unwrap(),
            switchboard_store::CaseSave::Changed,
            "{name}"
        );
        assert_eq!(
            documents_held(&p, EVENTS, "Wolf6161").await,
            (0, 0),
            "{name}"
        );
        assert_eq!(
            documents_held(&p, EVENTS, "Xerus6262").await,
            (0, 1),
            "{name}"
        );

        // A reply saved over a newer version keeps the newer one where it is held.
        let reply = agent_reply("r-stale-1", &case, json!({ "text": "Yak6363First" }), 4_200);
        store.insert_reply(&reply).await.unwrap();
        let mut newer = reply.clone();
        newer.doc = json!({ "text": "Zorilla6464Newer" });
        assert!(store.update_reply(&newer, Timestamp(4_300)).await.unwrap());
        let mut stale = reply.clone();
        stale.doc = json!({ "text": "Addax6565Stale" });
        assert!(
            !store.update_reply(&stale, Timestamp(4_400)).await.unwrap(),
            "{name}"
        );
        assert_eq!(
            documents_held(&p, REPLIES, "Addax6565").await,
            (0, 0),
            "{name}"
        );
        assert_eq!(
            store.reply("r-stale-1").await.unwrap().unwrap().doc["text"],
            "Zorilla6464Newer",
            "{name}"
        );

        // Content a crash left held with no central row (the write's own commit lost) is
        // removed by the start's sweep; what a central row names stays.
        let (_, (eu, e)) = places(&p);
        execute(
            &eu,
            format!(
                "INSERT INTO {e}case_event_content (case_id, seq, data) VALUES ('{case}', 999999, $1)"
            ),
            &json!({ "text": "Bongo6666Stray" }).to_string(),
        )
        .await;
        execute(
            &eu,
            format!(
                "INSERT INTO {e}reply_content (case_id, id, doc) VALUES ('{case}', 'r-none', $1)"
            ),
            &json!({ "text": "Civet6767Stray" }).to_string(),
        )
        .await;
        assert_eq!(
            documents_held(&p, EVENTS, "Bongo6666").await,
            (0, 1),
            "{name}"
        );
        store.drop_stray_arrivals(Timestamp(5_000)).await.unwrap();
        assert_eq!(
            documents_held(&p, EVENTS, "Bongo6666").await,
            (0, 0),
            "{name}"
        );
        assert_eq!(
            documents_held(&p, REPLIES, "Civet6767").await,
            (0, 0),
            "{name}"
        );
        assert_eq!(
            documents_held(&p, EVENTS, "Xerus6262").await,
            (0, 1),
            "{name}"
        );
        assert_eq!(
            documents_held(&p, REPLIES, "Zorilla6464").await,
            (0, 1),
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_customer_imported_with_a_region_is_placed_as_soon_as_written() {
    for p in partitioned(&["eu"]).await {
        let (store, name) = (p.store.as_ref(), p.name.as_str());
        let ibis = store
            .upsert_customer(
                Platform::X,
                "@Ibis4040",
                Some("Ibis Vole5151"),
                Tier::Vip,
                100.0,
                Timestamp(500),
                Some("eu"),
            )
            .await
            .unwrap();
        assert_eq!(names_held(&p, "Vole5151").await, (0, 1), "{name}: the name");
        assert_eq!(
            handles_held(&p, "bis4040").await,
            (0, 1),
            "{name}: the handle"
        );
        let c = store.customer(&ibis).await.unwrap().unwrap();
        assert_eq!(c.display_name.as_deref(), Some("Ibis Vole5151"), "{name}");
        assert_eq!(c.region.as_deref(), Some("eu"), "{name}");
        assert_eq!(c.identities[0].handle, "@Ibis4040", "{name}");
        // A handle linked by hand to them is held there from the start too.
        assert_eq!(
            store
                .link_identity(&ibis, Platform::Instagram, "ibis.kite4141", Timestamp(520))
                .await
                .unwrap(),
            switchboard_store::IdentityLink::Linked,
            "{name}"
        );
        assert_eq!(handles_held(&p, "kite4141").await, (0, 1), "{name}");
        let c = store.customer(&ibis).await.unwrap().unwrap();
        assert_eq!(c.identities.len(), 2, "{name}");
        assert!(
            c.identities.iter().any(|i| i.handle == "ibis.kite4141"),
            "{name}: read back whole"
        );
        assert_eq!(
            store
                .link_identity(&ibis, Platform::Instagram, "ibis.kite4141", Timestamp(530))
                .await
                .unwrap(),
            switchboard_store::IdentityLink::AlreadyLinked,
            "{name}"
        );
        assert_eq!(handles_held(&p, "kite4141").await, (0, 1), "{name}: kept");
        assert_eq!(
            store.place_documents().await.unwrap(),
            0,
            "{name}: nothing to move"
        );
        if p.pg.is_none() {
            // Written where they belong: never in a central file or its log.
            for needle in ["Vole5151", "bis4040", "kite4141"] {
                assert_eq!(
                    files_holding(p.dir.path(), &["t.db", "t.db-wal"], needle),
                    Vec::<String>::new(),
                    "{name}: {needle}"
                );
            }
        }
        // The start's sweep keeps them.
        store
            .drop_stray_arrivals(Timestamp(9_000_000))
            .await
            .unwrap();
        assert_eq!(names_held(&p, "Vole5151").await, (0, 1), "{name}");
        assert_eq!(handles_held(&p, "kite4141").await, (0, 1), "{name}");

        // Their first message names no region: it is theirs, held in their partition from
        // its arrival.
        let ids = append(
            store,
            &[record(json!({
                "source": "x", "external_id": "i1", "author": "@ibis4040",
                "text": format!("{WORDS} hello"),
            }))],
        )
        .await;
        assert_eq!(where_held(&p, WORDS).await, (0, 0, 1), "{name}");
        process(store, &ids).await;
        assert_eq!(customer_of(store, &ids[0]).await, ibis, "{name}");

        let refused = store
            .upsert_customer(
                Platform::X,
                "@ibis4040",
                None,
                Tier::Vip,
                100.0,
                Timestamp(550),
                Some("EU!"),
            )
            .await;
        assert!(
            matches!(refused, Err(StoreError::Residency(_))),
            "{name}: {refused:?}"
        );

        // A customer known without a region, given one: they and what they wrote move.
        let ids = append(
            store,
            &[record(json!({
                "source": "x", "external_id": "j1", "author": "@jay_noregion",
                "text": "Jackal7272 where is it",
            }))],
        )
        .await;
        process(store, &ids).await;
        assert_eq!(where_held(&p, "Jackal7272").await, (1, 1, 0), "{name}");
        let jay = customer_of(store, &ids[0]).await;
        // A disruption message queued for them while they have no region stays central...
        let d = disruption("approved", 580);
        let to_jay = disruption_recipient(&jay, "Hi Jay, Kestrel7373Notice", None);
        store
            .insert_disruption(&d, std::slice::from_ref(&to_jay))
            .await
            .unwrap();
        assert!(
            store
                .decide_disruption(&d, 1, &[release(&d, &to_jay)], &[], Timestamp(590))
                .await
                .unwrap(),
            "{name}"
        );
        assert_eq!(
            documents_held(&p, OUTBOX, "Kestrel7373").await,
            (1, 0),
            "{name}"
        );
        let again = store
            .upsert_customer(
                Platform::X,
                "@jay_noregion",
                Some("Jay Marten8383"),
                Tier::Premium,
                10.0,
                Timestamp(600),
                Some("eu"),
            )
            .await
            .unwrap();
        assert_eq!(again, jay, "{name}");
        assert_eq!(
            where_held(&p, "Jackal7272").await,
            (0, 0, 1),
            "{name}: their message and its case moved"
        );
        assert_eq!(names_held(&p, "Marten8383").await, (0, 1), "{name}");
        assert_eq!(handles_held(&p, "jay_noregion").await, (0, 1), "{name}");
        // ...and follows them when they are placed.
        assert_eq!(
            documents_held(&p, OUTBOX, "Kestrel7373").await,
            (0, 1),
            "{name}: the queued message moved with them"
        );
        let queued = store
            .claim_outbox(Timestamp(700), 10, 60_000)
            .await
            .unwrap();
        assert_eq!(
            queued[0].payload["text"], "Hi Jay, Kestrel7373Notice",
            "{name}"
        );
    }
}

/// Stores `records` one group commit each, as deliveries arriving apart.
async fn append_apart(store: &dyn Store, records: &[MessageRecord]) -> Vec<MessageId> {
    let mut ids = Vec::with_capacity(records.len());
    for r in records {
        ids.extend(append(store, std::slice::from_ref(r)).await);
    }
    ids
}

#[tokio::test]
async fn a_message_held_in_another_region_than_its_customers_moves_to_theirs() {
    for p in partitioned(&["eu", "uk"]).await {
        let (store, name) = (p.store.as_ref(), p.name.as_str());
        // A new author writes twice, naming two regions, before either is processed: each
        // is held where its delivery says; the customer takes the first one's region.
        let ids = append_apart(
            store,
            &[
                message("m1", json!("@molly"), "Mole1111 first", "uk"),
                message("m2", json!("@molly"), "Mole2222 second", "eu"),
            ],
        )
        .await;
        let ((_, _), (eu, e)) = places(&p);
        let in_eu = || async {
            count_rows(
                &eu,
                format!("SELECT COUNT(*) FROM {e}message_content WHERE text LIKE $1"),
                "Mole%",
            )
            .await
        };
        assert_eq!(in_eu().await, 1, "{name}: held where its delivery said");
        process(store, &ids).await;
        let molly = customer_of(store, &ids[0]).await;
        assert_eq!(customer_of(store, &ids[1]).await, molly, "{name}");
        let region = store.customer(&molly).await.unwrap().unwrap().region;
        assert_eq!(region.as_deref(), Some("uk"), "{name}");
        store.place_messages(&ids, Timestamp(3_000)).await.unwrap();
        assert_eq!(in_eu().await, 0, "{name}: no longer in the EU partition");
        assert_eq!(where_held(&p, "Mole2222").await.0, 0, "{name}: nor central");
        let m = store.message(&ids[1]).await.unwrap().unwrap();
        assert_eq!(
            m.text, "Mole2222 second",
            "{name}: read whole from the UK one"
        );
        assert_eq!(m.author.handle, "@molly", "{name}");
    }
    for p in partitioned(&["eu"]).await {
        let (store, name) = (p.store.as_ref(), p.name.as_str());
        // Their customer is of the US, which has no partition: it comes back central.
        let ids = append_apart(
            store,
            &[
                message("n1", json!("@nina"), "Newt3333 first", "us"),
                message("n2", json!("@nina"), "Newt4444 second", "eu"),
            ],
        )
        .await;
        assert_eq!(where_held(&p, "Newt4444").await, (0, 0, 1), "{name}");
        process(store, &ids).await;
        store.place_messages(&ids, Timestamp(3_000)).await.unwrap();
        assert_eq!(
            where_held(&p, "Newt4444").await,
            (1, 0, 0),
            "{name}: central"
        );
        let m = store.message(&ids[1]).await.unwrap().unwrap();
        assert_eq!(m.text, "Newt4444 second", "{name}");
    }
}

#[tokio::test]
async fn erasure_finds_a_message_held_from_arrival_before_it_is_processed() {
    for p in partitioned(&["eu"]).await {
        let (store, name) = (p.store.as_ref(), p.name.as_str());
        let (anna, _) = anna_and_ben(store).await;
        store
            .place_messages(std::slice::from_ref(&anna), Timestamp(3_000))
            .await
            .unwrap();
        // Anna writes again; erasure comes before the pipeline does.
        let waiting = append(
            store,
            &[record(json!({
                "source": "x", "external_id": "a2", "author": "@ANNA",
                "text": "Walrus5656 one more thing",
            }))],
        )
        .await;
        assert_eq!(where_held(&p, "Walrus5656").await, (0, 0, 1), "{name}");
        let (_, counts) = erase_customer_of(store, &anna).await;
        assert!(counts.messages >= 2, "{name}: {counts:?}");
        assert_eq!(
            where_held(&p, "Walrus5656").await,
            (0, 0, 0),
            "{name}: gone from the partition too"
        );
        let m = store.message(&waiting[0]).await.unwrap().unwrap();
        assert!(!m.text.contains("Walrus5656"), "{name}");
    }
}

#[tokio::test]
async fn on_sqlite_a_start_restores_what_a_crash_between_the_two_files_lost() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let eu = [Partition::new("eu")];
    let store = SqliteStore::open_partitioned(&path, &eu).await.unwrap();
    let (anna, _) = anna_and_ben(&store).await;
    let case = case_of(&store, &anna).await;
    let customer = customer_of(&store, &anna).await;
    let subject = store.case(&case).await.unwrap().unwrap().subject;
    assert!(subject.contains(WORDS));
    drop(store);

    // The main file committed the plan, the partition's did not: the rows the plan wrote
    // there are gone.
    let file = format!("sqlite://{}", dir.path().join("region-eu.db").display());
    for table in ["case_content", "customer_content", "identity_content"] {
        execute(&file, format!("DELETE FROM {table} WHERE $1 = $1"), "").await;
    }

    let store = SqliteStore::open_partitioned(&path, &eu).await.unwrap();
    assert_eq!(store.case(&case).await.unwrap().unwrap().subject, subject);
    let c = store.customer(&customer).await.unwrap().unwrap();
    assert_eq!(c.display_name, Some(format!("Anna {NAME}")));
    assert_eq!(c.identities[0].handle, "@anna");
    let again = append(
        &store,
        &[message("a2", json!("@Anna"), "still nothing", "eu")],
    )
    .await;
    process(&store, &again).await;
    assert_eq!(
        customer_of(&store, &again[0]).await,
        customer,
        "found by her handle"
    );
    let central = format!("sqlite://{}", path.display());
    assert_eq!(
        count_rows(
            &central,
            "SELECT COUNT(*) FROM cases WHERE subject LIKE $1".into(),
            WORDS
        )
        .await,
        0,
        "nothing came back central"
    );
}
