//! Orders (F6) on every back end: an order is stored with its attribution and replaced by a
//! later report; the attribution sums count orders, value and outcomes per platform, per
//! campaign and in all, over the orders placed in the period only.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sb_domain::Timestamp;
use switchboard_store::reports::{OrderRecord, OrderSums};

mod common;
use common::backends;

fn order(
    id: &str,
    platform: Option<&str>,
    campaign: Option<&str>,
    value: f64,
    outcome: &str,
    at: i64,
) -> OrderRecord {
    OrderRecord {
        order_id: id.into(),
        case_id: None,
        customer_id: None,
        platform: platform.map(str::to_owned),
        campaign: campaign.map(str::to_owned),
        value: Some(value),
        currency: Some("EUR".into()),
        outcome: outcome.into(),
        tags: "[]".into(),
        placed_at: at,
        updated_at: at,
    }
}

#[tokio::test]
async fn orders_are_replaced_by_later_reports_and_summed_per_group() {
    for (name, store, _dir) in backends().await {
        assert!(
            store
                .put_order(&order("A", Some("x"), Some("spring"), 40.0, "placed", 100))
                .await
                .unwrap(),
            "{name}"
        );
        assert!(
            !store
                .put_order(&order(
                    "A",
                    Some("x"),
                    Some("spring"),
                    40.0,
                    "fulfilment_error",
                    100
                ))
                .await
                .unwrap(),
            "{name}"
        );
        store
            .put_order(&order(
                "B",
                Some("instagram"),
                Some("spring"),
                60.0,
                "returned",
                200,
            ))
            .await
            .unwrap();
        store
            .put_order(&order("C", None, None, 25.0, "fulfilled", 300))
            .await
            .unwrap();
        store
            .put_order(&order("D", Some("x"), None, 10.0, "placed", 5_000))
            .await
            .unwrap();
        let a = store.order("A").await.unwrap().unwrap();
        assert_eq!(a.outcome, "fulfilment_error", "{name}");
        assert!(store.order("Z").await.unwrap().is_none());

        let (from, to) = (Timestamp(0), Timestamp(1_000));
        let sums = store.order_sums(from, to, "platform").await.unwrap();
        let groups: Vec<(&str, i64, i64, i64)> = sums
            .iter()
            .map(|s| (s.grp.as_str(), s.orders, s.errors, s.returned))
            .collect();
        assert_eq!(
            groups,
            vec![("instagram", 1, 0, 1), ("none", 1, 0, 0), ("x", 1, 1, 0)],
            "{name}"
        );
        let campaigns = store.order_sums(from, to, "campaign").await.unwrap();
        assert_eq!(campaigns[1].grp, "spring", "{name}");
        assert_eq!(campaigns[1].value, 100.0);
        let all = store.order_sums(from, to, "all").await.unwrap();
        assert_eq!(
            all,
            vec![OrderSums {
                grp: "all".into(),
                orders: 3,
                value: 125.0,
                fulfilled: 1,
                returned: 1,
                errors: 1,
                cancelled: 0
            }],
            "{name}"
        );
    }
}
