//! Batched writes. A group commit or a pipeline step writes hundreds of rows; each goes out as
//! multi-row statements of up to `shapes::MAX_ROWS` rows, so a batch costs a handful of round
//! trips to SQLite rather than one per row. Each statement shape is prepared once per
//! connection (see `crate::shapes`).

use crate::rows::json_text;
use crate::shapes::padded;
use crate::{MessageRecord, Result};
use sb_domain::Timestamp;
use sb_domain::case::{CasePlan, CaseTouch, MessagePlacement, NewCase, NewCustomer};
use sqlx::query_builder::Separated;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use std::collections::{HashMap, HashSet};

/// Statements the writer keeps prepared: every shape (`shapes::SHAPES`) of every multi-row
/// write, and the single statements beside them, with room to spare.
pub const WRITER_STATEMENT_CACHE: usize = 256;

/// Pushes `VALUES` for `rows` and then rows of `columns` NULLs up to `shape` (see
/// `shapes::padded`). An INSERT reads them through `SELECT * FROM (…) WHERE column1 IS NOT
/// NULL`, an UPDATE joins on the first column: either way the padding touches nothing.
fn push_padded<T>(
    q: &mut QueryBuilder<Sqlite>,
    rows: &[T],
    shape: usize,
    columns: usize,
    mut push: impl FnMut(&mut Separated<'_, Sqlite, &'static str>, &T),
) {
    let padding = std::iter::repeat_n(None, shape.saturating_sub(rows.len()));
    q.push_values(
        rows.iter().map(Some).chain(padding),
        |mut b, row| match row {
            Some(r) => push(&mut b, r),
            None => {
                for _ in 0..columns {
                    b.push("NULL");
                }
            }
        },
    );
}

/// Closes the `SELECT * FROM (VALUES …` an INSERT of padded rows opens.
const SKIP_PADDING: &str = ") WHERE column1 IS NOT NULL";

/// `full`, or nothing for a message whose content is held in a partition.
fn unless_held<'a>(held: Option<&str>, full: &'a str) -> &'a str {
    if held.is_some() { "" } else { full }
}

/// Inserts the messages that are new; returns the ids of those inserted. A message `held`
/// names a region for has its content in that region's partition already: its central row
/// is stored without it, naming the partition.
pub async fn insert_messages(
    conn: &mut SqliteConnection,
    batch: &[MessageRecord],
    held: &[Option<String>],
) -> Result<HashSet<String>> {
    let mut inserted = HashSet::with_capacity(batch.len());
    for (range, shape) in padded(batch.len()) {
        let rows: Vec<(&MessageRecord, Option<&str>)> = batch[range.clone()]
            .iter()
            .zip(held[range].iter().map(Option::as_deref))
            .collect();
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO messages (id, source, external_id, channel, kind, visibility, \
             author_handle, author_name, author_followers, author_verified, text, created_at, \
             received_at, region, in_reply_to, metrics, raw, placed_in) SELECT * FROM (",
        );
        push_padded(&mut q, &rows, shape, 18, |b, &(r, held)| {
            let m = &r.message;
            b.push_bind(r.id.as_str())
                .push_bind(m.source.as_str())
                .push_bind(m.external_id.as_str())
                .push_bind(m.channel.as_str())
                .push_bind(m.kind.as_str())
                .push_bind(m.visibility.as_str())
                .push_bind(unless_held(held, &m.author.handle))
                .push_bind(m.author.name.as_deref().filter(|_| held.is_none()))
                .push_bind(m.author.followers.and_then(|f| i64::try_from(f).ok()))
                .push_bind(m.author.verified)
                .push_bind(unless_held(held, &m.text))
                .push_bind(m.created_at.unwrap_or(r.received_at).millis())
                .push_bind(r.received_at.millis())
                .push_bind(m.region.as_deref())
                .push_bind(m.in_reply_to.as_deref())
                .push_bind(m.metrics.to_string())
                .push_bind(match held {
                    Some(_) => "{}".to_owned(),
                    None => m.raw.to_string(),
                })
                .push_bind(held);
        });
        q.push(SKIP_PADDING);
        q.push(" ON CONFLICT (source, external_id) DO NOTHING");
        let n = q.build().execute(&mut *conn).await?.rows_affected();
        if n == rows.len() as u64 {
            inserted.extend(rows.iter().map(|(r, _)| r.id.to_string()));
            continue;
        }
        // Some were redeliveries: find which of our ids made it in. Rows stream back one by
        // one, so the common all-new case above avoids reading any.
        let mut q = QueryBuilder::<Sqlite>::new("SELECT id FROM messages WHERE id IN (");
        let mut ids = q.separated(", ");
        for (r, _) in &rows {
            ids.push_bind(r.id.as_str());
        }
        for _ in rows.len()..shape {
            ids.push("NULL");
        }
        q.push(")");
        let ids: Vec<String> = q.build_query_scalar().fetch_all(&mut *conn).await?;
        inserted.extend(ids);
    }
    Ok(inserted)
}

/// Marks messages processed with their enrichment, customer and case. Returns how many rows
/// changed: fewer than given means another worker got there first.
pub async fn place_messages(
    conn: &mut SqliteConnection,
    placements: &[MessagePlacement],
    now: Timestamp,
) -> Result<u64> {
    let mut changed = 0;
    for (range, shape) in padded(placements.len()) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "WITH v (id, language, language_confidence, sentiment_compound, sentiment_label, \
             customer_id, case_id, intent, intent_confidence, urgency, urgency_reasons, emotion, \
             toxicity, data_class, pii, watch, topic) AS (",
        );
        push_padded(&mut q, &placements[range], shape, 17, |b, p| {
            let e = &p.enrichment;
            b.push_bind(p.message_id.as_str())
                .push_bind(e.language.as_str())
                .push_bind(e.language_confidence)
                .push_bind(e.sentiment_compound)
                .push_bind(e.sentiment_label.as_str())
                .push_bind(p.customer_id.as_str())
                .push_bind(p.case_id.as_str())
                .push_bind(e.intent.as_str())
                .push_bind(e.intent_confidence)
                .push_bind(e.urgency.as_str())
                .push_bind(json_text(&e.urgency_reasons))
                .push_bind(e.emotion.as_str())
                .push_bind(e.toxicity)
                .push_bind(e.data_class.as_str())
                .push_bind(json_text(&e.pii))
                .push_bind(json_text(&e.watch))
                .push_bind(e.topic.as_deref());
        });
        q.push(
            ") UPDATE messages SET stage = 'processed', language = v.language, \
             language_confidence = v.language_confidence, sentiment_compound = v.sentiment_compound, \
             sentiment_label = v.sentiment_label, customer_id = v.customer_id, case_id = v.case_id, \
             intent = v.intent, intent_confidence = v.intent_confidence, urgency = v.urgency, \
             urgency_reasons = v.urgency_reasons, emotion = v.emotion, toxicity = v.toxicity, \
             data_class = v.data_class, pii = v.pii, watch = v.watch, topic = v.topic, \
             processed_at = ",
        );
        q.push_bind(now.millis());
        q.push(" FROM v WHERE messages.id = v.id AND messages.stage = 'received'");
        changed += q.build().execute(&mut *conn).await?.rows_affected();
    }
    Ok(changed)
}

/// Creates customers with their first identity. Returns how many identities were linked:
/// fewer than given means another worker created one of these customers first.
pub async fn insert_customers(
    conn: &mut SqliteConnection,
    customers: &[NewCustomer],
) -> Result<u64> {
    let mut linked = 0;
    for (range, shape) in padded(customers.len()) {
        let rows = &customers[range];
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO customers (id, display_name, region, language, tier, lifetime_value, \
             created_at) SELECT * FROM (",
        );
        push_padded(&mut q, rows, shape, 7, |b, c| {
            b.push_bind(c.id.as_str())
                .push_bind(c.display_name.as_deref())
                .push_bind(c.region.as_deref())
                .push_bind(c.language.as_deref())
                .push_bind("standard")
                .push_bind(0.0)
                .push_bind(c.created_at.millis());
        });
        q.push(SKIP_PADDING);
        q.build().execute(&mut *conn).await?;
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO identities (key, platform, handle, customer_id, created_at) \
             SELECT * FROM (",
        );
        push_padded(&mut q, rows, shape, 5, |b, c| {
            b.push_bind(c.identity_key.as_str())
                .push_bind(c.platform.as_str())
                .push_bind(c.handle.as_str())
                .push_bind(c.id.as_str())
                .push_bind(c.created_at.millis());
        });
        q.push(SKIP_PADDING);
        q.push(" ON CONFLICT (key) DO NOTHING");
        linked += q.build().execute(&mut *conn).await?.rows_affected();
    }
    Ok(linked)
}

/// Opens cases; each starts with the sentiment of its first message in the plan.
pub async fn insert_cases(
    conn: &mut SqliteConnection,
    plan: &CasePlan,
    now: Timestamp,
) -> Result<()> {
    let mut first_sentiment: HashMap<&str, f64> = HashMap::new();
    for p in &plan.placements {
        first_sentiment
            .entry(p.case_id.as_str())
            .or_insert(p.enrichment.sentiment_compound);
    }
    for (range, shape) in padded(plan.new_cases.len()) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO cases (id, customer_id, source, channel, status, priority, queue_id, \
             subject, language, region, message_count, last_sentiment, opened_at, updated_at, \
             last_message_at) SELECT * FROM (",
        );
        push_padded(
            &mut q,
            &plan.new_cases[range],
            shape,
            15,
            |b, c: &NewCase| {
                b.push_bind(c.id.as_str())
                    .push_bind(c.customer_id.as_str())
                    .push_bind(c.source.as_str())
                    .push_bind(c.channel.as_str())
                    .push_bind("new")
                    .push_bind(c.priority.as_str())
                    .push_bind(c.queue_id.as_str())
                    .push_bind(c.subject.as_str())
                    .push_bind(c.language.as_deref())
                    .push_bind(c.region.as_deref())
                    .push_bind(1_i64)
                    .push_bind(first_sentiment.get(c.id.as_str()).copied())
                    .push_bind(c.opened_at.millis())
                    .push_bind(now.millis())
                    .push_bind(c.opened_at.millis());
            },
        );
        q.push(SKIP_PADDING);
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}

struct Touch<'a> {
    id: &'a str,
    n: i64,
    at: i64,
    priority: &'static str,
    sentiment: f64,
}

/// Several messages of one batch may touch the same case; each case is updated once, with
/// the same result as applying the touches in order: every message counts, the latest time
/// wins, and priority and sentiment are those of the last touch.
fn fold_touches(touches: &[CaseTouch]) -> Vec<Touch<'_>> {
    let mut rows: Vec<Touch<'_>> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for t in touches {
        let at = t.at.millis();
        match index.get(t.case_id.as_str()) {
            Some(&i) => {
                let r = &mut rows[i];
                r.n += 1;
                r.at = r.at.max(at);
                r.priority = t.priority.as_str();
                r.sentiment = t.sentiment;
            }
            None => {
                index.insert(t.case_id.as_str(), rows.len());
                rows.push(Touch {
                    id: t.case_id.as_str(),
                    n: 1,
                    at,
                    priority: t.priority.as_str(),
                    sentiment: t.sentiment,
                });
            }
        }
    }
    rows
}

/// A customer answering a case that waited on them puts it back in the team's court.
pub async fn touch_cases(
    conn: &mut SqliteConnection,
    touches: &[CaseTouch],
    now: Timestamp,
) -> Result<()> {
    let rows = fold_touches(touches);
    for (range, shape) in padded(rows.len()) {
        let mut q = QueryBuilder::<Sqlite>::new("WITH v (id, n, at, priority, sentiment) AS (");
        push_padded(&mut q, &rows[range], shape, 5, |b, t| {
            b.push_bind(t.id)
                .push_bind(t.n)
                .push_bind(t.at)
                .push_bind(t.priority)
                .push_bind(t.sentiment);
        });
        q.push(
            ") UPDATE cases SET message_count = message_count + v.n, \
             last_message_at = MAX(last_message_at, v.at), priority = v.priority, \
             last_sentiment = v.sentiment, updated_at = ",
        );
        q.push_bind(now.millis());
        q.push(" FROM v WHERE cases.id = v.id");
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// What the case workflow owes each placed message, committed with the placement.
pub async fn insert_case_work(
    conn: &mut SqliteConnection,
    placements: &[MessagePlacement],
) -> Result<()> {
    for (range, shape) in padded(placements.len()) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO case_work (case_id, message_id, opened, at) SELECT * FROM (",
        );
        push_padded(&mut q, &placements[range], shape, 4, |b, p| {
            b.push_bind(p.case_id.as_str())
                .push_bind(p.message_id.as_str())
                .push_bind(p.opened)
                .push_bind(p.at.millis());
        });
        q.push(SKIP_PADDING);
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}
