//! Storage of satisfaction surveys (D10) and quality reviews (D11), the same SQL on both back
//! ends. Surveys and reviews are never inserted from here: the case workflow saves a
//! `survey.sent` or `qa.sampled` case event with the resolution, and a trigger of migration
//! 0010 makes the row in that same transaction. This module reads them, records a customer's
//! answer at most once, and records a supervisor's review at most once.

use crate::Result;
use async_trait::async_trait;
use sb_domain::{CaseId, CustomerId, Timestamp};
use std::collections::HashMap;

/// A survey link as stored: never its token, only the token's SHA-256.
#[derive(Clone, Debug, PartialEq)]
pub struct Survey {
    pub id: String,
    pub case_id: CaseId,
    pub customer_id: CustomerId,
    /// Which resolution of the case earned it: 1 for the first.
    pub resolution: i64,
    pub token_hash: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub answer: Option<SurveyResponse>,
}

/// A customer's answer: CSAT 1–5, NPS 0–10, CES 1–7 (checked by the workflow crate).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SurveyResponse {
    pub csat: u8,
    pub nps: Option<u8>,
    pub ces: Option<u8>,
    pub comment: Option<String>,
    pub answered_at: Timestamp,
}

/// What `answer_survey` did.
#[derive(Clone, Debug, PartialEq)]
pub enum AnswerOutcome {
    /// Stored; the survey as it now stands.
    Recorded(Survey),
    AlreadyAnswered,
    Expired,
    Unknown,
}

/// Counts over the answers of a period; `sb_workflow::feedback::Tally` turns them into
/// CSAT, NPS and CES exactly as docs/METRICS.md defines them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FeedbackTally {
    pub responses: i64,
    pub satisfied: i64,
    pub nps_responses: i64,
    pub promoters: i64,
    pub detractors: i64,
    pub ces_responses: i64,
    pub ces_sum: i64,
}

/// A case drawn for quality review, and its review once done.
#[derive(Clone, Debug, PartialEq)]
pub struct QaReview {
    pub id: String,
    pub case_id: CaseId,
    /// Who handled the case: its assignee when resolved, else whoever resolved it.
    pub agent: Option<String>,
    /// `sample`, or `tag:<tag>` for a tag that always draws.
    pub reason: String,
    pub sampled_at: Timestamp,
    pub review: Option<QaScoring>,
}

/// A supervisor's review: the scorecard as scored (criteria, weights, scores) and its total.
#[derive(Clone, Debug, PartialEq)]
pub struct QaScoring {
    pub reviewer: String,
    pub scores: serde_json::Value,
    pub total: f64,
    pub comment: Option<String>,
    pub reviewed_at: Timestamp,
}

/// What `record_qa_review` did.
#[derive(Clone, Debug, PartialEq)]
pub enum QaRecorded {
    Recorded(QaReview),
    /// Someone reviewed it already; their review stands.
    AlreadyReviewed(QaReview),
    Unknown,
}

/// Surveys, their answers and quality reviews. Every `Store` is one.
#[async_trait]
pub trait FeedbackStore: Send + Sync {
    async fn survey_by_token_hash(&self, token_hash: &str) -> Result<Option<Survey>>;
    /// The case's surveys, oldest first.
    async fn case_surveys(&self, case_id: &CaseId) -> Result<Vec<Survey>>;
    /// Records the answer to the survey whose token hashes to `token_hash`, unless it was
    /// answered already or expired at `answer.answered_at`.
    async fn answer_survey(
        &self,
        token_hash: &str,
        answer: &SurveyResponse,
    ) -> Result<AnswerOutcome>;
    /// Counts over the answers given in `[since, until)`.
    async fn feedback_tally(&self, since: Timestamp, until: Timestamp) -> Result<FeedbackTally>;
    /// The latest CSAT answer of each of these cases that has one, by case id.
    async fn csat_for_cases(&self, case_ids: &[CaseId]) -> Result<HashMap<String, u8>>;
    /// Reviews still to do (oldest drawn first), or done ones (latest first).
    async fn qa_reviews(&self, done: bool, limit: u32) -> Result<Vec<QaReview>>;
    async fn qa_review(&self, id: &str) -> Result<Option<QaReview>>;
    async fn record_qa_review(&self, id: &str, scoring: &QaScoring) -> Result<QaRecorded>;
}

/// The token of a survey's link: HMAC-SHA-256 of its id under the configured link key, in
/// hex. Deriving it, rather than storing it, lets the server show the link again while the
/// database holds only its hash.
pub fn survey_token(link_key: &str, survey_id: &str) -> String {
    hex::encode(hmac_sha256(link_key.as_bytes(), survey_id.as_bytes()))
}

/// SHA-256 of a survey token, as stored and looked up.
pub fn hash_survey_token(token: &str) -> String {
    crate::hash_api_key(token)
}

/// RFC 2104 over SHA-256.
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    const BLOCK: usize = 64;
    let mut padded = [0u8; BLOCK];
    if key.len() > BLOCK {
        padded[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        padded[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(padded.map(|b| b ^ 0x36));
    inner.update(message);
    let mut outer = Sha256::new();
    outer.update(padded.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// `{comment}` is the answer's comment, read from wherever it is held.
pub(crate) const SURVEY_SQL: &str = "SELECT s.id, s.case_id, s.customer_id, s.resolution, \
    s.token_hash, s.created_at, s.expires_at, a.csat, a.nps, a.ces, {comment} AS comment, \
    a.answered_at FROM surveys s LEFT JOIN survey_answers a ON a.survey_id = s.id";

pub(crate) const QA_SQL: &str = "SELECT id, case_id, agent, reason, sampled_at, reviewer, \
    scores, total, comment, reviewed_at FROM qa_reviews";

#[derive(sqlx::FromRow)]
pub(crate) struct SurveyRow {
    id: String,
    case_id: String,
    customer_id: String,
    resolution: i64,
    token_hash: String,
    created_at: i64,
    expires_at: i64,
    csat: Option<i64>,
    nps: Option<i64>,
    ces: Option<i64>,
    comment: Option<String>,
    answered_at: Option<i64>,
}

fn score(v: Option<i64>) -> Option<u8> {
    v.and_then(|v| u8::try_from(v).ok())
}

impl SurveyRow {
    pub(crate) fn into_domain(self) -> Survey {
        let answer = match (score(self.csat), self.answered_at) {
            (Some(csat), Some(at)) => Some(SurveyResponse {
                csat,
                nps: score(self.nps),
                ces: score(self.ces),
                comment: self.comment,
                answered_at: Timestamp(at),
            }),
            _ => None,
        };
        Survey {
            id: self.id,
            case_id: CaseId::from_stored(self.case_id),
            customer_id: CustomerId::from_stored(self.customer_id),
            resolution: self.resolution,
            token_hash: self.token_hash,
            created_at: Timestamp(self.created_at),
            expires_at: Timestamp(self.expires_at),
            answer,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct QaRow {
    id: String,
    case_id: String,
    agent: Option<String>,
    reason: String,
    sampled_at: i64,
    reviewer: Option<String>,
    scores: Option<String>,
    total: Option<f64>,
    comment: Option<String>,
    reviewed_at: Option<i64>,
}

impl QaRow {
    pub(crate) fn into_domain(self) -> Result<QaReview> {
        let review = match (self.reviewer, self.reviewed_at) {
            (Some(reviewer), Some(at)) => {
                let scores =
                    serde_json::from_str(self.scores.as_deref().unwrap_or("[]")).map_err(|e| {
                        crate::StoreError::Corrupt(format!("QA review {} scores: {e}", self.id))
                    })?;
                Some(QaScoring {
                    reviewer,
                    scores,
                    total: self.total.unwrap_or(0.0),
                    comment: self.comment,
                    reviewed_at: Timestamp(at),
                })
            }
            _ => None,
        };
        Ok(QaReview {
            id: self.id,
            case_id: CaseId::from_stored(self.case_id),
            agent: self.agent,
            reason: self.reason,
            sampled_at: Timestamp(self.sampled_at),
            review,
        })
    }
}

/// Ids per `IN (…)` list: well below either back end's limit on bound values.
pub(crate) const IN_CHUNK: usize = 500;

pub(crate) fn placeholders(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

macro_rules! feedback_store_impl {
    ($ty:ty, $w:ident, $r:ident) => {
        impl $ty {
            async fn survey_where(
                &self,
                clause: &str,
                value: &str,
            ) -> crate::Result<Vec<crate::feedback::Survey>> {
                let comment = self.partitions.document_sql(
                    "a",
                    crate::residency::Document::SurveyAnswer,
                    "comment",
                );
                let sql = format!(
                    "{} WHERE {clause} = $1 ORDER BY s.resolution",
                    crate::feedback::SURVEY_SQL.replace("{comment}", &comment)
                );
                let rows: Vec<crate::feedback::SurveyRow> =
                    sqlx::query_as(sqlx::AssertSqlSafe(sql))
                        .bind(value)
                        .fetch_all(&self.$w)
                        .await?;
                Ok(rows
                    .into_iter()
                    .map(crate::feedback::SurveyRow::into_domain)
                    .collect())
            }
        }

        #[async_trait::async_trait]
        impl crate::feedback::FeedbackStore for $ty {
            async fn survey_by_token_hash(
                &self,
                token_hash: &str,
            ) -> crate::Result<Option<crate::feedback::Survey>> {
                Ok(self
                    .survey_where("s.token_hash", token_hash)
                    .await?
                    .into_iter()
                    .next())
            }

            async fn case_surveys(
                &self,
                case_id: &sb_domain::CaseId,
            ) -> crate::Result<Vec<crate::feedback::Survey>> {
                self.survey_where("s.case_id", case_id.as_str()).await
            }

            async fn answer_survey(
                &self,
                token_hash: &str,
                answer: &crate::feedback::SurveyResponse,
            ) -> crate::Result<crate::feedback::AnswerOutcome> {
                use crate::feedback::AnswerOutcome;
                let Some(mut survey) = self.survey_by_token_hash(token_hash).await? else {
                    return Ok(AnswerOutcome::Unknown);
                };
                if survey.answer.is_some() {
                    return Ok(AnswerOutcome::AlreadyAnswered);
                }
                if answer.answered_at >= survey.expires_at {
                    return Ok(AnswerOutcome::Expired);
                }
                // The comment of a placed case's customer is held in the case's partition from
                // the start. The primary key settles two answers racing each other: one row,
                // one winner.
                let mut conn = self.$w.acquire().await?;
                let region = self
                    .owner_region(&mut *conn, crate::residency::Owner::Case, survey.case_id.as_str())
                    .await?;
                let (holdings, central) = self.partitions.hold_row(
                    crate::residency::Document::SurveyAnswer,
                    region.as_deref(),
                    survey.case_id.as_str(),
                    crate::residency::DocKey::Id(survey.id.as_str().to_owned()),
                    vec![answer.comment.clone()],
                )?;
                // Another answer's held comment is never overwritten by this one's.
                let answered: Option<String> =
                    sqlx::query_scalar("SELECT survey_id FROM survey_answers WHERE survey_id = $1")
                        .bind(survey.id.as_str())
                        .fetch_optional(&mut *conn)
                        .await?;
                if answered.is_some() {
                    return Ok(AnswerOutcome::AlreadyAnswered);
                }
                self.hold_apart(&mut conn, &holdings).await?;
                let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                self.hold_within(&mut tx, &holdings).await?;
                let stored = sqlx::query(
                    "INSERT INTO survey_answers (survey_id, case_id, customer_id, csat, nps, ces, \
                     comment, answered_at, placed_in) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                     ON CONFLICT (survey_id) DO NOTHING",
                )
                .bind(survey.id.as_str())
                .bind(survey.case_id.as_str())
                .bind(survey.customer_id.as_str())
                .bind(i64::from(answer.csat))
                .bind(answer.nps.map(i64::from))
                .bind(answer.ces.map(i64::from))
                .bind(central.into_iter().flatten().next())
                .bind(answer.answered_at.millis())
                .bind(region.as_deref())
                .execute(&mut *tx)
                .await?;
                if stored.rows_affected() != 1 {
                    tx.rollback().await?;
                    return Ok(AnswerOutcome::AlreadyAnswered);
                }
                tx.commit().await?;
                survey.answer = Some(answer.clone());
                Ok(AnswerOutcome::Recorded(survey))
            }

            async fn feedback_tally(
                &self,
                since: sb_domain::Timestamp,
                until: sb_domain::Timestamp,
            ) -> crate::Result<crate::feedback::FeedbackTally> {
                let row: (i64, i64, i64, i64, i64, i64, i64) = sqlx::query_as(
                    "SELECT COUNT(*), \
                     CAST(COALESCE(SUM(CASE WHEN csat >= 4 THEN 1 ELSE 0 END), 0) AS BIGINT), \
                     CAST(COUNT(nps) AS BIGINT), \
                     CAST(COALESCE(SUM(CASE WHEN nps >= 9 THEN 1 ELSE 0 END), 0) AS BIGINT), \
                     CAST(COALESCE(SUM(CASE WHEN nps <= 6 THEN 1 ELSE 0 END), 0) AS BIGINT), \
                     CAST(COUNT(ces) AS BIGINT), \
                     CAST(COALESCE(SUM(ces), 0) AS BIGINT) \
                     FROM survey_answers WHERE answered_at >= $1 AND answered_at < $2",
                )
                .bind(since.millis())
                .bind(until.millis())
                .fetch_one(&self.$r)
                .await?;
                Ok(crate::feedback::FeedbackTally {
                    responses: row.0,
                    satisfied: row.1,
                    nps_responses: row.2,
                    promoters: row.3,
                    detractors: row.4,
                    ces_responses: row.5,
                    ces_sum: row.6,
                })
            }

            async fn csat_for_cases(
                &self,
                case_ids: &[sb_domain::CaseId],
            ) -> crate::Result<std::collections::HashMap<String, u8>> {
                let mut out = std::collections::HashMap::new();
                for chunk in case_ids.chunks(crate::feedback::IN_CHUNK) {
                    let sql = format!(
                        "SELECT case_id, csat FROM survey_answers WHERE case_id IN ({}) \
                         ORDER BY answered_at, survey_id",
                        crate::feedback::placeholders(chunk.len())
                    );
                    let mut q = sqlx::query_as::<_, (String, i64)>(sqlx::AssertSqlSafe(sql));
                    for id in chunk {
                        q = q.bind(id.as_str());
                    }
                    // Ordered oldest first, so the latest answer of a case is the one kept.
                    for (case, csat) in q.fetch_all(&self.$r).await? {
                        if let Ok(csat) = u8::try_from(csat) {
                            out.insert(case, csat);
                        }
                    }
                }
                Ok(out)
            }

            async fn qa_reviews(
                &self,
                done: bool,
                limit: u32,
            ) -> crate::Result<Vec<crate::feedback::QaReview>> {
                let filter = if done {
                    "WHERE reviewed_at IS NOT NULL ORDER BY reviewed_at DESC, id DESC"
                } else {
                    "WHERE reviewed_at IS NULL ORDER BY sampled_at, id"
                };
                let sql = format!("{} {filter} LIMIT $1", crate::feedback::QA_SQL);
                let rows: Vec<crate::feedback::QaRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(i64::from(limit))
                    .fetch_all(&self.$r)
                    .await?;
                rows.into_iter()
                    .map(crate::feedback::QaRow::into_domain)
                    .collect()
            }

            async fn qa_review(&self, id: &str) -> crate::Result<Option<crate::feedback::QaReview>> {
                let sql = format!("{} WHERE id = $1", crate::feedback::QA_SQL);
                let row: Option<crate::feedback::QaRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(id)
                    .fetch_optional(&self.$w)
                    .await?;
                row.map(crate::feedback::QaRow::into_domain).transpose()
            }

            async fn record_qa_review(
                &self,
                id: &str,
                s: &crate::feedback::QaScoring,
            ) -> crate::Result<crate::feedback::QaRecorded> {
                use crate::feedback::QaRecorded;
                let done = sqlx::query(
                    "UPDATE qa_reviews SET reviewer = $2, scores = $3, total = $4, comment = $5, \
                     reviewed_at = $6 WHERE id = $1 AND reviewed_at IS NULL",
                )
                .bind(id)
                .bind(s.reviewer.as_str())
                .bind(s.scores.to_string())
                .bind(s.total)
                .bind(s.comment.as_deref())
                .bind(s.reviewed_at.millis())
                .execute(&self.$w)
                .await?;
                let now = crate::feedback::FeedbackStore::qa_review(self, id).await?;
                Ok(match (done.rows_affected(), now) {
                    (_, None) => QaRecorded::Unknown,
                    (1, Some(r)) => QaRecorded::Recorded(r),
                    (_, Some(r)) => QaRecorded::AlreadyReviewed(r),
                })
            }
        }
    };
}

pub(crate) use feedback_store_impl;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_token_is_hmac_sha256_of_the_survey_id() {
        // RFC 4231, test case 2.
        assert_eq!(
            hex::encode(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // RFC 4231, test case 6: a key longer than the block is hashed first.
        assert_eq!(
            hex::encode(hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
        let a = survey_token("k".repeat(32).as_str(), "survey_1");
        assert_eq!(a.len(), 64);
        assert_ne!(a, survey_token("k".repeat(32).as_str(), "survey_2"));
        assert_ne!(a, survey_token("j".repeat(32).as_str(), "survey_1"));
        assert_ne!(hash_survey_token(&a), a);
    }
}
