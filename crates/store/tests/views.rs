//! Saved inbox views on every back end: names are unique per owner, an owner sees their own
//! views first and then those others shared, never another's private view, and only the owner
//! deletes one. Also the settings documents operators save (routing, retention): versioned
//! by kind, and a save from a stale version is refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sb_domain::Timestamp;
use serde_json::{Map, Value, json};
use switchboard_store::settings::{RETENTION, ROUTING};
use switchboard_store::{SavedView, SettingsSave};

mod common;
use common::backends;

fn view(id: &str, owner: &str, name: &str, shared: bool) -> SavedView {
    let filters: Map<String, Value> = json!({"intent": "complaint", "sentiment": "negative"})
        .as_object()
        .unwrap()
        .clone();
    SavedView {
        id: id.into(),
        owner: owner.into(),
        name: name.into(),
        filters,
        shared,
        created_at: Timestamp(1_000),
    }
}

#[tokio::test]
async fn views_are_private_or_shared_and_only_their_owner_deletes_them() {
    for (name, store, _dir) in backends().await {
        for v in [
            view("view_1", "user:ana", "Angry", false),
            view("view_2", "user:ana", "Billing", true),
            view("view_3", "user:ben", "VIPs", true),
            view("view_4", "user:ben", "Ben only", false),
        ] {
            assert!(store.insert_view(&v).await.unwrap(), "{name}");
        }
        assert!(
            !store
                .insert_view(&view("view_5", "user:ana", "Angry", true))
                .await
                .unwrap(),
            "{name}: one name per owner"
        );
        assert!(
            store
                .insert_view(&view("view_6", "user:ben", "Angry", false))
                .await
                .unwrap(),
            "{name}: another owner may use the name"
        );
        let ids = |v: Vec<SavedView>| v.into_iter().map(|s| s.id).collect::<Vec<_>>();
        assert_eq!(
            ids(store.views_for("user:ana", 100).await.unwrap()),
            ["view_1", "view_2", "view_3"],
            "{name}: ana's own by name, then ben's shared one"
        );
        assert_eq!(store.count_views("user:ana").await.unwrap(), 2, "{name}");
        assert_eq!(
            store.view("view_2").await.unwrap(),
            Some(view("view_2", "user:ana", "Billing", true)),
            "{name}: filters come back as saved"
        );
        assert!(
            !store.delete_view("view_3", "user:ana").await.unwrap(),
            "{name}: not the owner"
        );
        assert!(store.delete_view("view_3", "user:ben").await.unwrap());
        assert_eq!(
            ids(store.views_for("user:ana", 100).await.unwrap()),
            ["view_1", "view_2"],
            "{name}"
        );
    }
}

/// Settings documents: per kind, the first save is version 1, each save names the version it
/// was edited from, a save from a version that is no longer the latest changes nothing, and
/// every version stays readable.
#[tokio::test]
async fn settings_documents_are_versioned_by_kind_and_a_stale_save_changes_nothing() {
    for (name, store, _dir) in backends().await {
        assert_eq!(store.settings_version(ROUTING).await.unwrap(), 0, "{name}");
        assert!(
            store.settings_document(ROUTING).await.unwrap().is_none(),
            "{name}"
        );
        let first = store
            .save_settings_document(
                ROUTING,
                0,
                "[[queues]]\nname = \"a\"\n",
                "user:ana",
                Timestamp(1_000),
            )
            .await
            .unwrap();
        assert_eq!(first, SettingsSave::Saved { version: 1 }, "{name}");
        let stale = store
            .save_settings_document(
                ROUTING,
                0,
                "[[queues]]\nname = \"b\"\n",
                "user:bo",
                Timestamp(2_000),
            )
            .await
            .unwrap();
        assert_eq!(stale, SettingsSave::Stale { latest: 1 }, "{name}");
        let ahead = store
            .save_settings_document(ROUTING, 7, "", "user:bo", Timestamp(2_000))
            .await
            .unwrap();
        assert_eq!(ahead, SettingsSave::Stale { latest: 1 }, "{name}");
        let second = store
            .save_settings_document(
                ROUTING,
                1,
                "[[queues]]\nname = \"c\"\n",
                "user:bo",
                Timestamp(3_000),
            )
            .await
            .unwrap();
        assert_eq!(second, SettingsSave::Saved { version: 2 }, "{name}");
        let latest = store.settings_document(ROUTING).await.unwrap().unwrap();
        assert_eq!(
            (latest.version, latest.saved_by.as_str(), latest.saved_at),
            (2, "user:bo", Timestamp(3_000)),
            "{name}"
        );
        assert!(latest.document.contains("\"c\""), "{name}");
        assert_eq!(store.settings_version(ROUTING).await.unwrap(), 2, "{name}");
        let history = store.settings_history(ROUTING, 10).await.unwrap();
        let versions: Vec<i64> = history.iter().map(|d| d.version).collect();
        assert_eq!(versions, vec![2, 1], "{name}");
        assert!(history[1].document.contains("\"a\""), "{name}");
        // Kinds are versioned apart.
        assert_eq!(
            store.settings_version(RETENTION).await.unwrap(),
            0,
            "{name}"
        );
        let other = store
            .save_settings_document(RETENTION, 0, "[]", "user:ana", Timestamp(4_000))
            .await
            .unwrap();
        assert_eq!(other, SettingsSave::Saved { version: 1 }, "{name}");
        assert_eq!(store.settings_version(ROUTING).await.unwrap(), 2, "{name}");
    }
}

/// A lease is held by one process at a time: renewed by its holder, refused to others until
/// it expires or is given up.
#[tokio::test]
async fn a_lease_has_one_holder_until_it_expires_or_is_released() {
    for (name, store, _dir) in backends().await {
        assert!(
            store
                .try_lease("listening", "a", Timestamp(0), 10_000)
                .await
                .unwrap(),
            "{name}"
        );
        assert!(
            !store
                .try_lease("listening", "b", Timestamp(5_000), 10_000)
                .await
                .unwrap(),
            "{name}"
        );
        assert!(
            store
                .try_lease("listening", "a", Timestamp(9_000), 10_000)
                .await
                .unwrap(),
            "{name}: renewed"
        );
        assert!(
            !store
                .try_lease("listening", "b", Timestamp(15_000), 10_000)
                .await
                .unwrap(),
            "{name}: the renewal runs to 19 s"
        );
        assert!(
            store
                .try_lease("other", "b", Timestamp(15_000), 10_000)
                .await
                .unwrap(),
            "{name}: leases are by name"
        );
        assert!(
            store
                .try_lease("listening", "b", Timestamp(19_001), 10_000)
                .await
                .unwrap(),
            "{name}: expired"
        );
        assert!(
            !store
                .try_lease("listening", "a", Timestamp(20_000), 10_000)
                .await
                .unwrap(),
            "{name}"
        );
        store.release_lease("listening", "a").await.unwrap();
        assert!(
            !store
                .try_lease("listening", "a", Timestamp(20_000), 10_000)
                .await
                .unwrap(),
            "{name}: only the holder releases"
        );
        store.release_lease("listening", "b").await.unwrap();
        assert!(
            store
                .try_lease("listening", "a", Timestamp(20_000), 10_000)
                .await
                .unwrap(),
            "{name}"
        );
    }
}
