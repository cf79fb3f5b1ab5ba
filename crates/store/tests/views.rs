//! Saved inbox views on every back end: names are unique per owner, an owner sees their own
//! views first and then those others shared, never another's private view, and only the owner
//! deletes one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sb_domain::Timestamp;
use serde_json::{Map, Value, json};
use switchboard_store::SavedView;

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
