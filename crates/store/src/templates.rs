//! Store methods of reply templates (D6) and reply suggestions (B8), the same SQL on both back
//! ends: versions of a template numbered per key, state changes guarded by the state the
//! writer read, and the replies people sent, for suggestions to learn from.
//!
//! A new version takes the next number with `INSERT … ON CONFLICT DO NOTHING`: when another
//! writer took that number first, nothing is written and the next number is tried. That needs
//! no lock and no back-end specific SQL, and every racing writer ends with its own number.

/// How often a writer tries the next number before giving up: each round at least one of the
/// racing writers wins, so this bounds how many may race on one key.
pub(crate) const NUMBERING_ATTEMPTS: usize = 64;

#[derive(sqlx::FromRow)]
pub(crate) struct TemplateRow {
    key: String,
    version: i64,
    state: String,
    doc: String,
}

impl TemplateRow {
    pub(crate) fn into_stored(self) -> crate::Result<crate::StoredTemplate> {
        let corrupt =
            |what: String| crate::StoreError::Corrupt(format!("template {}: {what}", self.key));
        let version = u32::try_from(self.version)
            .map_err(|_| corrupt(format!("version {} out of range", self.version)))?;
        let doc = serde_json::from_str(&self.doc).map_err(|e| corrupt(e.to_string()))?;
        Ok(crate::StoredTemplate {
            key: self.key,
            version,
            state: self.state,
            doc,
        })
    }
}

macro_rules! template_store_impl {
    ($ty:ty, $w:ident, $r:ident) => {
        #[async_trait::async_trait]
        impl crate::TemplateStore for $ty {
            async fn insert_template_version(
                &self,
                key: &str,
                state: &str,
                doc: &serde_json::Value,
            ) -> crate::Result<u32> {
                for _ in 0..crate::templates::NUMBERING_ATTEMPTS {
                    // Read on the writer: a reader's snapshot may not show the latest number yet.
                    let (latest,): (Option<i64>,) = sqlx::query_as(
                        "SELECT MAX(version) FROM template_versions WHERE key = $1",
                    )
                    .bind(key)
                    .fetch_one(&self.$w)
                    .await?;
                    let next = latest.unwrap_or(0) + 1;
                    let number = u32::try_from(next).map_err(|_| {
                        crate::StoreError::Corrupt(format!("template {key}: too many versions"))
                    })?;
                    let mut doc = doc.clone();
                    if let Some(fields) = doc.as_object_mut() {
                        fields.insert("version".into(), serde_json::json!(number));
                    }
                    let stored = sqlx::query(
                        "INSERT INTO template_versions (key, version, state, doc) \
                         VALUES ($1, $2, $3, $4) ON CONFLICT (key, version) DO NOTHING",
                    )
                    .bind(key)
                    .bind(next)
                    .bind(state)
                    .bind(doc.to_string())
                    .execute(&self.$w)
                    .await?;
                    if stored.rows_affected() == 1 {
                        return Ok(number);
                    }
                }
                Err(crate::StoreError::Stale)
            }

            async fn template_versions(
                &self,
                key: &str,
            ) -> crate::Result<Vec<crate::StoredTemplate>> {
                let rows: Vec<crate::templates::TemplateRow> = sqlx::query_as(
                    "SELECT key, version, state, doc FROM template_versions WHERE key = $1 \
                     ORDER BY version DESC",
                )
                .bind(key)
                .fetch_all(&self.$r)
                .await?;
                rows.into_iter()
                    .map(crate::templates::TemplateRow::into_stored)
                    .collect()
            }

            async fn all_template_versions(&self) -> crate::Result<Vec<crate::StoredTemplate>> {
                let rows: Vec<crate::templates::TemplateRow> = sqlx::query_as(
                    "SELECT key, version, state, doc FROM template_versions \
                     ORDER BY key, version DESC",
                )
                .fetch_all(&self.$r)
                .await?;
                rows.into_iter()
                    .map(crate::templates::TemplateRow::into_stored)
                    .collect()
            }

            async fn update_template_version(
                &self,
                t: &crate::StoredTemplate,
                expected_state: &str,
            ) -> crate::Result<bool> {
                let saved = sqlx::query(
                    "UPDATE template_versions SET state = $1, doc = $2 \
                     WHERE key = $3 AND version = $4 AND state = $5",
                )
                .bind(t.state.as_str())
                .bind(t.doc.to_string())
                .bind(t.key.as_str())
                .bind(i64::from(t.version))
                .bind(expected_state)
                .execute(&self.$w)
                .await?;
                Ok(saved.rows_affected() == 1)
            }

            async fn past_replies(&self, limit: u32) -> crate::Result<Vec<crate::StoredReply>> {
                let cols = self.partitions.reply_columns();
                let rows: Vec<crate::rows::ReplyRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {cols} FROM replies WHERE automated = $1 AND status IN ('queued', 'sent') \
                     ORDER BY created_at DESC, id DESC LIMIT $2"
                )))
                .bind(false)
                .bind(i64::from(limit))
                .fetch_all(&self.$r)
                .await?;
                rows.into_iter()
                    .map(crate::rows::ReplyRow::into_domain)
                    .collect()
            }
        }
    };
}

pub(crate) use template_store_impl;
