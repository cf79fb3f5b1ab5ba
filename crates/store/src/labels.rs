//! Agents' corrections of what the understanding stage said about a message (B3): the intent,
//! sentiment, emotion, urgency or topic it should have had, or a label for a task of the
//! operator's own. One label per message and task, the latest correction winning. They are
//! the labelled examples of the next `switchboard nlp train`; the text is not copied here but
//! read from the message when exported, so an erasure takes it out of the examples too. The
//! same SQL on both back ends.

use crate::Result;
use async_trait::async_trait;
use sb_domain::{MessageId, Timestamp};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelCorrection {
    pub message_id: MessageId,
    /// `intent`, `sentiment`, `emotion`, `urgency`, `topic`, or an operator's own task.
    pub task: String,
    pub label: String,
    /// What the product had said, when it says anything for this task.
    pub previous: Option<String>,
    /// The actor that corrected it (`user:<login>` or `key:<id>`).
    pub corrected_by: String,
    pub corrected_at: Timestamp,
}

/// How many corrections a task has with one label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelCount {
    pub task: String,
    pub label: String,
    pub examples: u64,
}

/// Where a correction stands in a task's export order: its time, then its message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelPosition {
    pub corrected_at: Timestamp,
    pub message_id: MessageId,
}

impl LabelPosition {
    pub fn of(c: &LabelCorrection) -> Self {
        Self {
            corrected_at: c.corrected_at,
            message_id: c.message_id.clone(),
        }
    }

    /// As a cursor: `<milliseconds>.<message id>`.
    pub fn to_cursor(&self) -> String {
        format!(
            "{}.{}",
            self.corrected_at.millis(),
            self.message_id.as_str()
        )
    }

    /// Reads a cursor `to_cursor` wrote; none for anything else.
    pub fn parse_cursor(s: &str) -> Option<Self> {
        let (at, id) = s.split_once('.')?;
        if at.is_empty() || !at.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(Self {
            corrected_at: Timestamp(at.parse().ok()?),
            message_id: MessageId::parse(id)?,
        })
    }
}

#[async_trait]
pub trait LabelStore: Send + Sync {
    /// Records the correction, replacing an earlier one of the same message and task.
    async fn put_label(&self, c: &LabelCorrection) -> Result<()>;
    /// Removes the message's correction for the task; false when it had none.
    async fn remove_label(&self, message: &MessageId, task: &str) -> Result<bool>;
    /// The message's corrections, by task.
    async fn labels_of(&self, message: &MessageId) -> Result<Vec<LabelCorrection>>;
    /// The corrections of each of the messages (any number), by message and task.
    async fn labels_of_messages(&self, messages: &[MessageId]) -> Result<Vec<LabelCorrection>>;
    /// The task's corrections, oldest first (by time, then message), at most `limit`; with
    /// `after`, only those that come after that position (the last of the previous page).
    async fn labels_for_task(
        &self,
        task: &str,
        after: Option<&LabelPosition>,
        limit: u32,
    ) -> Result<Vec<LabelCorrection>>;
    /// Corrections per task and label, by task and label.
    async fn label_counts(&self) -> Result<Vec<LabelCount>>;
}

#[derive(sqlx::FromRow)]
pub(crate) struct LabelRow {
    message_id: String,
    task: String,
    label: String,
    previous: Option<String>,
    corrected_by: String,
    corrected_at: i64,
}

impl LabelRow {
    pub(crate) fn into_correction(self) -> LabelCorrection {
        LabelCorrection {
            message_id: MessageId::from_stored(self.message_id),
            task: self.task,
            label: self.label,
            previous: self.previous,
            corrected_by: self.corrected_by,
            corrected_at: Timestamp(self.corrected_at),
        }
    }
}

pub(crate) fn corrections(rows: Vec<LabelRow>) -> Vec<LabelCorrection> {
    rows.into_iter().map(LabelRow::into_correction).collect()
}

pub(crate) const LABEL_SELECT: &str =
    "SELECT message_id, task, label, previous, corrected_by, corrected_at FROM label_corrections";

macro_rules! label_store_impl {
    ($ty:ty, $w:ident, $r:ident) => {
        #[async_trait::async_trait]
        impl crate::LabelStore for $ty {
            async fn put_label(&self, c: &crate::LabelCorrection) -> crate::Result<()> {
                sqlx::query(
                    "INSERT INTO label_corrections \
                     (message_id, task, label, previous, corrected_by, corrected_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (message_id, task) DO UPDATE SET label = excluded.label, \
                     previous = excluded.previous, corrected_by = excluded.corrected_by, \
                     corrected_at = excluded.corrected_at",
                )
                .bind(c.message_id.as_str())
                .bind(&c.task)
                .bind(&c.label)
                .bind(&c.previous)
                .bind(&c.corrected_by)
                .bind(c.corrected_at.millis())
                .execute(&self.$w)
                .await?;
                Ok(())
            }

            async fn remove_label(
                &self,
                message: &sb_domain::MessageId,
                task: &str,
            ) -> crate::Result<bool> {
                let done = sqlx::query(
                    "DELETE FROM label_corrections WHERE message_id = $1 AND task = $2",
                )
                .bind(message.as_str())
                .bind(task)
                .execute(&self.$w)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn labels_of(
                &self,
                message: &sb_domain::MessageId,
            ) -> crate::Result<Vec<crate::LabelCorrection>> {
                let sql = format!(
                    "{} WHERE message_id = $1 ORDER BY task",
                    crate::labels::LABEL_SELECT
                );
                let rows: Vec<crate::labels::LabelRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(message.as_str())
                    .fetch_all(&self.$r)
                    .await?;
                Ok(crate::labels::corrections(rows))
            }

            async fn labels_of_messages(
                &self,
                messages: &[sb_domain::MessageId],
            ) -> crate::Result<Vec<crate::LabelCorrection>> {
                let mut out = Vec::new();
                for chunk in messages.chunks(500) {
                    let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
                    let sql = format!(
                        "{} WHERE message_id IN ({}) ORDER BY message_id, task",
                        crate::labels::LABEL_SELECT,
                        marks.join(", ")
                    );
                    let mut q =
                        sqlx::query_as::<_, crate::labels::LabelRow>(sqlx::AssertSqlSafe(sql));
                    for m in chunk {
                        q = q.bind(m.as_str());
                    }
                    out.extend(crate::labels::corrections(q.fetch_all(&self.$r).await?));
                }
                out.sort_by(|x, y| {
                    (x.message_id.as_str(), &x.task).cmp(&(y.message_id.as_str(), &y.task))
                });
                Ok(out)
            }

            async fn labels_for_task(
                &self,
                task: &str,
                after: Option<&crate::LabelPosition>,
                limit: u32,
            ) -> crate::Result<Vec<crate::LabelCorrection>> {
                // Without a position, one before every correction.
                let (at, id) = after.map_or((i64::MIN, ""), |p| {
                    (p.corrected_at.millis(), p.message_id.as_str())
                });
                let sql = format!(
                    "{} WHERE task = $1 AND (corrected_at > $2 \
                     OR (corrected_at = $2 AND message_id > $3)) \
                     ORDER BY corrected_at, message_id LIMIT $4",
                    crate::labels::LABEL_SELECT
                );
                let rows: Vec<crate::labels::LabelRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(task)
                    .bind(at)
                    .bind(id)
                    .bind(i64::from(limit))
                    .fetch_all(&self.$r)
                    .await?;
                Ok(crate::labels::corrections(rows))
            }

            async fn label_counts(&self) -> crate::Result<Vec<crate::LabelCount>> {
                let rows: Vec<(String, String, i64)> = sqlx::query_as(
                    "SELECT task, label, COUNT(*) FROM label_corrections \
                     GROUP BY task, label ORDER BY task, label",
                )
                .fetch_all(&self.$r)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(task, label, n)| crate::LabelCount {
                        task,
                        label,
                        examples: u64::try_from(n).unwrap_or(0),
                    })
                    .collect())
            }
        }
    };
}

pub(crate) use label_store_impl;
