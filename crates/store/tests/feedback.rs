//! Surveys and quality review on every back end (D10, D11): a resolution saved with its
//! `survey.sent` and `qa.sampled` events has its survey and review rows, once, however often
//! the save is replayed; a customer answers once and never after the link expired; the tally
//! counts each figure's definition over a period; a case is reviewed once; erasure takes the
//! customer's comments with it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sb_domain::case::{PlanMessage, plan_batch};
use sb_domain::{CaseChange, CaseId, CaseStatus, MessageId, NewMessage, Timestamp};
use serde_json::json;
use switchboard_store::{
    AnswerOutcome, CaseSave, Erasure, FeedbackTally, MessageRecord, QaRecorded, QaScoring, Store,
    SurveyResponse, hash_survey_token,
};

/// SQLite always; PostgreSQL when `SWITCHBOARD_TEST_PG_URL` names a database. Each call gets
/// empty stores: a fresh file, and a fresh schema.
mod common;
use common::backends;

const DAY: i64 = 86_400_000;

/// A customer writes in; answers the case their message opened.
async fn case_of(store: &dyn Store, ext: &str, handle: &str) -> CaseId {
    let record = MessageRecord {
        id: MessageId::generate(),
        received_at: Timestamp(1_000),
        message: NewMessage::parse(json!({
            "source": "x", "external_id": ext, "author": handle,
            "text": "My parcel never arrived", "region": "eu",
        }))
        .unwrap(),
    };
    let ids: Vec<MessageId> = store
        .append_messages(&[record])
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect();
    let msgs = store.messages_for_processing(&ids).await.unwrap();
    let planned: Vec<PlanMessage> = msgs
        .iter()
        .map(|m| PlanMessage::from_message(m, sb_domain::Enrichment::default()))
        .collect();
    let ctx = store.case_context(&planned).await.unwrap();
    let q = store.default_queue().await.unwrap();
    let plan = plan_batch(&planned, ctx, &q.id, Timestamp(2_000));
    store
        .apply_case_plan(&plan, Timestamp(2_000))
        .await
        .unwrap();
    store
        .message(&ids[0])
        .await
        .unwrap()
        .unwrap()
        .case_id
        .unwrap()
}

/// The token a link would carry for `survey`, as the workflow derives it.
fn token(survey: &str) -> String {
    switchboard_store::survey_token("a-link-key-of-at-least-32-characters", survey)
}

/// Saves a resolution at `at` the way the case workflow does, with its survey (valid for
/// `days`) and QA events under the given dedup keys.
async fn resolve(
    store: &dyn Store,
    case: &CaseId,
    at: i64,
    survey: (&str, i64, &str),
    qa: Option<(&str, &str)>,
) -> CaseSave {
    let work = store.case_work(case).await.unwrap().unwrap();
    let mut c = CaseChange::from_work(&work, Timestamp(at));
    c.status = CaseStatus::Resolved;
    let (id, days, dedup) = survey;
    c.events.push(sb_domain::NewCaseEvent {
        kind: "survey.sent".into(),
        actor: "user:ana".into(),
        at: Timestamp(at),
        data: json!({"survey_id": id, "token_sha256": hash_survey_token(&token(id)), "valid_days": days}),
        dedup: Some(dedup.into()),
    });
    if let Some((review, dedup)) = qa {
        c.events.push(sb_domain::NewCaseEvent {
            kind: "qa.sampled".into(),
            actor: "system".into(),
            at: Timestamp(at),
            data: json!({"review_id": review, "reason": "sample", "agent": "ana"}),
            dedup: Some(dedup.into()),
        });
    }
    store.save_case_work(&c).await.unwrap()
}

fn answer(csat: u8, nps: Option<u8>, ces: Option<u8>, at: i64) -> SurveyResponse {
    SurveyResponse {
        csat,
        nps,
        ces,
        comment: Some("The courier was kind".into()),
        answered_at: Timestamp(at),
    }
}

#[tokio::test]
async fn a_resolution_makes_its_survey_and_review_once_however_often_it_is_saved() {
    for (name, store, _dir) in backends().await {
        let store = store.as_ref();
        let case = case_of(store, "m1", "@ana_customer").await;
        let customer = store.case(&case).await.unwrap().unwrap().customer_id;
        let first = resolve(
            store,
            &case,
            10_000,
            ("survey_a", 7, "survey:c:v0"),
            Some(("qa_a", "qa:c")),
        )
        .await;
        assert_eq!(first, CaseSave::Saved, "{name}");
        // The same events saved again (a replayed decision) are deduplicated with no rows.
        resolve(
            store,
            &case,
            11_000,
            ("survey_a2", 7, "survey:c:v0"),
            Some(("qa_b", "qa:c")),
        )
        .await;
        let surveys = store.case_surveys(&case).await.unwrap();
        assert_eq!(surveys.len(), 1, "{name}");
        let s = &surveys[0];
        assert_eq!(
            (s.id.as_str(), s.resolution, s.expires_at),
            ("survey_a", 1, Timestamp(10_000 + 7 * DAY)),
            "{name}"
        );
        assert_eq!(s.customer_id, customer, "{name}");
        assert_eq!(s.token_hash, hash_survey_token(&token("survey_a")));
        let pending = store.qa_reviews(false, 10).await.unwrap();
        assert_eq!(pending.len(), 1, "{name}");
        assert_eq!(
            (pending[0].id.as_str(), pending[0].agent.as_deref()),
            ("qa_a", Some("ana")),
            "{name}"
        );
        // A second resolution, after a reopen, earns a second survey.
        resolve(store, &case, 20_000, ("survey_b", 7, "survey:c:v2"), None).await;
        let surveys = store.case_surveys(&case).await.unwrap();
        let order: Vec<(&str, i64)> = surveys
            .iter()
            .map(|s| (s.id.as_str(), s.resolution))
            .collect();
        assert_eq!(order, vec![("survey_a", 1), ("survey_b", 2)], "{name}");
        let by_token = store
            .survey_by_token_hash(&hash_survey_token(&token("survey_b")))
            .await
            .unwrap();
        assert_eq!(by_token.map(|s| s.id).as_deref(), Some("survey_b"));
    }
}

#[tokio::test]
async fn a_customer_answers_once_and_never_after_the_link_closed() {
    for (name, store, _dir) in backends().await {
        let case = case_of(store.as_ref(), "m1", "@sam").await;
        resolve(store.as_ref(), &case, 10_000, ("s_open", 7, "d1"), None).await;
        let hash = hash_survey_token(&token("s_open"));
        let unknown = store
            .answer_survey(&hash_survey_token("nope"), &answer(5, None, None, 11_000))
            .await
            .unwrap();
        assert_eq!(unknown, AnswerOutcome::Unknown, "{name}");
        // Two answers racing: one is stored.
        let (happy, unhappy) = (
            answer(5, Some(10), Some(7), 11_000),
            answer(1, Some(0), Some(1), 11_000),
        );
        let (a, b) = tokio::join!(
            store.answer_survey(&hash, &happy),
            store.answer_survey(&hash, &unhappy),
        );
        let outcomes = [a.unwrap(), b.unwrap()];
        let recorded = outcomes
            .iter()
            .filter(|o| matches!(o, AnswerOutcome::Recorded(_)))
            .count();
        assert_eq!(recorded, 1, "{name}: {outcomes:?}");
        assert!(outcomes.contains(&AnswerOutcome::AlreadyAnswered), "{name}");
        let again = store
            .answer_survey(&hash, &answer(3, None, None, 12_000))
            .await
            .unwrap();
        assert_eq!(again, AnswerOutcome::AlreadyAnswered, "{name}");
        assert_eq!(
            store
                .feedback_tally(Timestamp(0), Timestamp(i64::MAX))
                .await
                .unwrap()
                .responses,
            1,
            "{name}"
        );

        // A link valid for 0 days closes the moment it is made; one for a day, a day later.
        resolve(store.as_ref(), &case, 30_000, ("s_zero", 0, "d2"), None).await;
        let zero = store
            .answer_survey(
                &hash_survey_token(&token("s_zero")),
                &answer(4, None, None, 30_000),
            )
            .await
            .unwrap();
        assert_eq!(zero, AnswerOutcome::Expired, "{name}");
        resolve(store.as_ref(), &case, 40_000, ("s_day", 1, "d3"), None).await;
        let late = store
            .answer_survey(
                &hash_survey_token(&token("s_day")),
                &answer(4, None, None, 40_000 + DAY),
            )
            .await
            .unwrap();
        assert_eq!(late, AnswerOutcome::Expired, "{name}");
        let in_time = store
            .answer_survey(
                &hash_survey_token(&token("s_day")),
                &answer(4, None, None, 40_000 + DAY - 1),
            )
            .await
            .unwrap();
        assert!(matches!(in_time, AnswerOutcome::Recorded(_)), "{name}");
    }
}

#[tokio::test]
async fn the_tally_counts_each_definition_within_the_period_and_the_latest_csat_wins() {
    for (name, store, _dir) in backends().await {
        let store = store.as_ref();
        let first = case_of(store, "m1", "@one").await;
        let second = case_of(store, "m2", "@two").await;
        let quiet = case_of(store, "m3", "@three").await;
        // (case, survey, csat, nps, ces, answered at)
        let answers = [
            (&first, "s1", 5, Some(10), Some(7), 100_000),
            (&second, "s2", 2, Some(6), Some(3), 110_000),
            (&first, "s3", 4, Some(9), None, 120_000),
            (&second, "s4", 3, None, Some(5), 130_000),
            // Outside the period asked for below.
            (&second, "s5", 1, Some(0), Some(1), 500_000),
        ];
        for (i, (case, survey, csat, nps, ces, at)) in answers.iter().enumerate() {
            resolve(store, case, 50_000, (survey, 7, &format!("d{i}")), None).await;
            let done = store
                .answer_survey(
                    &hash_survey_token(&token(survey)),
                    &answer(*csat, *nps, *ces, *at),
                )
                .await
                .unwrap();
            assert!(matches!(done, AnswerOutcome::Recorded(_)), "{name}");
        }
        let t = store
            .feedback_tally(Timestamp(100_000), Timestamp(500_000))
            .await
            .unwrap();
        assert_eq!(
            t,
            FeedbackTally {
                responses: 4,
                satisfied: 2,
                nps_responses: 3,
                promoters: 2,
                detractors: 1,
                ces_responses: 3,
                ces_sum: 15,
            },
            "{name}"
        );
        let latest = store
            .csat_for_cases(&[first.clone(), second.clone(), quiet])
            .await
            .unwrap();
        assert_eq!(latest.len(), 2, "{name}: a case without answers is absent");
        assert_eq!(latest[first.as_str()], 4, "{name}");
        assert_eq!(latest[second.as_str()], 1, "{name}");
    }
}

#[tokio::test]
async fn a_drawn_case_is_reviewed_once_and_the_first_review_stands() {
    for (name, store, _dir) in backends().await {
        let store = store.as_ref();
        let case = case_of(store, "m1", "@rev").await;
        resolve(
            store,
            &case,
            10_000,
            ("s1", 7, "d1"),
            Some(("qa_1", "qa:1")),
        )
        .await;
        let scoring = |who: &str, total: f64| QaScoring {
            reviewer: who.into(),
            scores: json!([{"criterion": "empathy", "weight": 2, "score": 3}]),
            total,
            comment: Some("Warm, but promised too much".into()),
            reviewed_at: Timestamp(20_000),
        };
        let first = store
            .record_qa_review("qa_1", &scoring("user:lea", 75.0))
            .await
            .unwrap();
        let QaRecorded::Recorded(r) = first else {
            panic!("{name}: {first:?}")
        };
        assert_eq!(r.review.as_ref().unwrap().total, 75.0, "{name}");
        let second = store
            .record_qa_review("qa_1", &scoring("user:max", 10.0))
            .await
            .unwrap();
        let QaRecorded::AlreadyReviewed(kept) = second else {
            panic!("{name}: {second:?}")
        };
        assert_eq!(kept.review.unwrap().reviewer, "user:lea", "{name}");
        assert_eq!(
            store
                .record_qa_review("qa_none", &scoring("user:lea", 1.0))
                .await
                .unwrap(),
            QaRecorded::Unknown
        );
        assert!(store.qa_reviews(false, 10).await.unwrap().is_empty());
        let done = store.qa_reviews(true, 10).await.unwrap();
        assert_eq!(done.len(), 1, "{name}");
        assert_eq!(done[0].review.as_ref().unwrap().scores[0]["score"], 3);
    }
}

#[tokio::test]
async fn erasure_takes_the_customers_comments_and_closes_their_links() {
    for (name, store, _dir) in backends().await {
        let store = store.as_ref();
        let case = case_of(store, "m1", "@erase_me").await;
        let customer = store.case(&case).await.unwrap().unwrap().customer_id;
        resolve(store, &case, 10_000, ("s1", 7, "d1"), None).await;
        resolve(store, &case, 10_000, ("s2", 7, "d2"), None).await;
        store
            .answer_survey(
                &hash_survey_token(&token("s1")),
                &answer(5, Some(9), None, 11_000),
            )
            .await
            .unwrap();
        let erased = store
            .erase_customer(&customer, Timestamp(12_000))
            .await
            .unwrap();
        assert!(matches!(erased, Erasure::Done(_)), "{name}");
        let surveys = store.case_surveys(&case).await.unwrap();
        let a = surveys[0].answer.as_ref().unwrap();
        assert_eq!((a.csat, a.comment.as_deref()), (5, None), "{name}");
        assert_eq!(surveys[1].expires_at, Timestamp(12_000), "{name}");
        let late = store
            .answer_survey(
                &hash_survey_token(&token("s2")),
                &answer(5, None, None, 13_000),
            )
            .await
            .unwrap();
        assert_eq!(late, AnswerOutcome::Expired, "{name}");
    }
}
