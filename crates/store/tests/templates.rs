//! Reply templates and what suggestions learn from, on every back end (D6, B8): each edit of a
//! template is a new version under the next number, even when two writers save at once; a
//! version moves on only from the state its writer read; and the replies people sent are
//! there to learn from, newest first, while automation and unsent drafts are not.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sb_domain::{CaseId, Timestamp};
use serde_json::{Value, json};
use switchboard_store::{StoredReply, StoredTemplate};

/// SQLite always; PostgreSQL when `SWITCHBOARD_TEST_PG_URL` names a database. Each call gets
/// empty stores: a fresh file (`t.db` in the returned directory), and a fresh schema.
mod common;
use common::backends;

fn draft(key: &str, locale: &str, body: &str, by: &str) -> Value {
    json!({
        "key": key, "version": 0, "locale": locale, "tone": "neutral", "body": body,
        "state": "draft", "created_by": by, "approved_by": null,
        "created_at": 1_000, "approved_at": null,
    })
}

fn numbers(versions: &[StoredTemplate]) -> Vec<(String, u32)> {
    versions
        .iter()
        .map(|v| (v.key.clone(), v.version))
        .collect()
}

#[tokio::test]
async fn each_edit_of_a_template_is_a_new_version_under_the_next_number() {
    for (name, store, _dir) in backends().await {
        let key = "delivery_delay";
        for (i, body) in ["Sorry for the wait.", "Sorry, {{customer.name}}.", "v3"]
            .iter()
            .enumerate()
        {
            let n = store
                .insert_template_version(key, "draft", &draft(key, "en", body, "user:ana"))
                .await
                .unwrap();
            assert_eq!(n as usize, i + 1, "{name}");
        }
        let first_of_other_key = store
            .insert_template_version("welcome", "draft", &draft("welcome", "pt", "Olá!", "u"))
            .await
            .unwrap();
        assert_eq!(first_of_other_key, 1, "{name}: numbering is per key");

        let versions = store.template_versions(key).await.unwrap();
        assert_eq!(
            numbers(&versions),
            [(key.into(), 3), (key.into(), 2), (key.into(), 1)],
            "{name}: newest first"
        );
        assert_eq!(
            versions[1].doc["body"], "Sorry, {{customer.name}}.",
            "{name}"
        );
        assert_eq!(
            versions[1].doc["version"], 2,
            "{name}: the document knows its number"
        );
        assert_eq!(versions[1].state, "draft", "{name}");

        assert_eq!(
            numbers(&store.all_template_versions().await.unwrap()),
            [
                (key.into(), 3),
                (key.into(), 2),
                (key.into(), 1),
                ("welcome".into(), 1)
            ],
            "{name}: by key, newest first"
        );
        assert!(store.template_versions("nothing").await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn two_editors_saving_at_once_never_get_the_same_version_number() {
    for (name, store, _dir) in backends().await {
        let key = "outage_update";
        let writers = (0..12).map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let doc = draft(key, "en", &format!("edit {i}"), &format!("user:{i}"));
                store
                    .insert_template_version(key, "draft", &doc)
                    .await
                    .unwrap()
            })
        });
        let mut given: Vec<u32> = futures_util::future::join_all(writers)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        given.sort_unstable();
        assert_eq!(given, (1..=12).collect::<Vec<u32>>(), "{name}");

        let stored = store.template_versions(key).await.unwrap();
        assert_eq!(stored.len(), 12, "{name}");
        for v in &stored {
            assert_eq!(
                v.doc["version"], v.version,
                "{name}: row and document agree"
            );
        }
        let mut bodies: Vec<&str> = stored
            .iter()
            .filter_map(|v| v.doc["body"].as_str())
            .collect();
        bodies.sort_unstable();
        bodies.dedup();
        assert_eq!(bodies.len(), 12, "{name}: no edit was lost");
    }
}

#[tokio::test]
async fn a_version_moves_on_only_from_the_state_its_writer_read() {
    for (name, store, _dir) in backends().await {
        let key = "refund_policy";
        let n = store
            .insert_template_version(key, "draft", &draft(key, "en", "Refunds take 5 days.", "a"))
            .await
            .unwrap();
        let read = store.template_versions(key).await.unwrap().remove(0);

        let mut submitted = read.clone();
        submitted.state = "pending_approval".into();
        submitted.doc["state"] = json!("pending_approval");
        assert!(
            store
                .update_template_version(&submitted, "draft")
                .await
                .unwrap(),
            "{name}"
        );

        // A second writer read the draft too and withdraws it: too late, nothing changes.
        let mut retired = read.clone();
        retired.state = "retired".into();
        assert!(
            !store
                .update_template_version(&retired, "draft")
                .await
                .unwrap(),
            "{name}"
        );
        let now = store.template_versions(key).await.unwrap().remove(0);
        assert_eq!(
            (now.version, now.state.as_str()),
            (n, "pending_approval"),
            "{name}"
        );
        assert_eq!(now.doc["state"], "pending_approval", "{name}");

        let mut missing = submitted.clone();
        missing.version = 99;
        assert!(
            !store
                .update_template_version(&missing, "pending_approval")
                .await
                .unwrap(),
            "{name}: an unknown version is not created"
        );
        assert_eq!(store.template_versions(key).await.unwrap().len(), 1);
    }
}

fn reply(case: &CaseId, text: &str, automated: bool, status: &str, at: i64) -> StoredReply {
    StoredReply {
        id: format!("rp_{}", ulid::Ulid::generate()),
        case_id: case.clone(),
        author: if automated { "bot" } else { "user:sam" }.into(),
        automated,
        status: status.into(),
        doc: json!({ "text": text, "versions": [{ "text": text }] }),
        created_at: Timestamp(at),
        updated_at: Timestamp(at),
        version: 0,
    }
}

#[tokio::test]
async fn past_replies_are_what_people_sent_newest_first() {
    for (name, store, _dir) in backends().await {
        let parcel = CaseId::generate();
        let refund = CaseId::generate();
        for r in [
            reply(
                &parcel,
                "Your parcel left the depot.",
                false,
                "queued",
                1_000,
            ),
            reply(&parcel, "Thanks for reaching out!", true, "queued", 2_000),
            reply(&refund, "The refund is on its way.", false, "sent", 3_000),
            reply(
                &refund,
                "Here is 50% off.",
                false,
                "pending_approval",
                4_000,
            ),
            reply(&refund, "We cannot refund that.", false, "rejected", 5_000),
            reply(&parcel, "It arrives tomorrow.", false, "queued", 6_000),
        ] {
            store.insert_reply(&r).await.unwrap();
        }
        let past = store.past_replies(10).await.unwrap();
        let seen: Vec<(&str, &CaseId)> = past
            .iter()
            .map(|r| (r.doc["text"].as_str().unwrap(), &r.case_id))
            .collect();
        assert_eq!(
            seen,
            [
                ("It arrives tomorrow.", &parcel),
                ("The refund is on its way.", &refund),
                ("Your parcel left the depot.", &parcel),
            ],
            "{name}: automation, waiting and rejected replies are left out"
        );
        assert!(past.iter().all(|r| !r.automated && r.author == "user:sam"));
        let newest = store.past_replies(2).await.unwrap();
        assert_eq!(newest.len(), 2, "{name}");
        assert_eq!(newest[0].created_at, Timestamp(6_000), "{name}");
    }
}
