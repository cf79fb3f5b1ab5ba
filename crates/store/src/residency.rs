//! Data residency (G5): regional partitions for message content.
//!
//! A region configured with a partition gets storage of its own — a separate SQLite file
//! attached to every connection, or a PostgreSQL schema — and the personal content of its
//! customers' messages (text, author handle and name, the raw delivery, the text of earlier
//! revisions), their cases' subjects and their display names live there, not in the central
//! tables. The central `messages` row keeps what
//! reports and routing need (labels, scores, ids, timestamps) and names the partition in
//! `placed_in`; readers fill the content back in from it.
//!
//! A message is placed once the pipeline has processed it: its region is its customer's
//! region, or the delivery's when the customer has none. Placement copies the content into
//! the partition and commits, then blanks the central columns and commits; both steps can be
//! repeated, so a crash between them loses nothing and the next pass finishes the move.
//!
//! What agents and automation write about a placed case or customer — its history (notes,
//! handovers, reasons), replies, deliveries and the other `Document`s — is held in the
//! partition from its write (`Holding`): the partition gets the document whole and the
//! central row is written already blanked, with `placed_in` set. On PostgreSQL that is one
//! transaction; on SQLite, whose files commit apart, the partition commits first on the one
//! writer connection and the central rows after, so a crash leaves at worst a stray that
//! the start's sweep drops. What was written before its owner was placed is marked
//! `place_to` and moved the same two-step way (and by
//! every sweep, for what a crash left behind). The central row keeps the document with its
//! personal strings blanked, so reports still see kinds, labels and times.
//!
//! A placed customer's handles (identities) move too. Their central row is what ingest
//! finds the customer by, so it stays, keyed by a pseudonym — HMAC-SHA256 of the plain key
//! under a secret held in the partition — with the handle itself in the partition.

use crate::rows::{CASE_COLUMNS, MESSAGE_COLUMNS, OUTBOX_COLUMNS, REPLY_COLUMNS};
use crate::{Result, StoreError};
use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::Arc;

/// One region with storage of its own. `path` is where SQLite keeps the region's file
/// (default: `region-<name>.db` beside the main file); PostgreSQL ignores it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partition {
    pub region: String,
    pub path: Option<PathBuf>,
}

impl Partition {
    pub fn new(region: impl Into<String>) -> Self {
        Self {
            region: region.into(),
            path: None,
        }
    }
}

impl Partition {
    /// The SQLite file holding this region's content for the main database file `main`:
    /// `path` if given, else `region-<name>.db` beside `main`.
    pub fn sqlite_file(&self, main: &std::path::Path) -> PathBuf {
        self.path.clone().unwrap_or_else(|| {
            main.parent()
                .unwrap_or(std::path::Path::new(""))
                .join(format!("region-{}.db", self.region))
        })
    }
}

/// Whether `region` can name a partition: 1–32 lowercase letters, digits or `-`, starting
/// with a letter.
pub fn valid_region(region: &str) -> bool {
    (1..=32).contains(&region.len())
        && region.starts_with(|c: char| c.is_ascii_lowercase())
        && region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// The partitions a store was opened with: region name → schema name in SQL.
#[derive(Clone, Debug, Default)]
pub(crate) struct Partitions {
    regions: Arc<[(String, String)]>,
    /// Each region's secret for the central keys of its identities (`pseudonym`), read
    /// from the partition when the store opens.
    secrets: Arc<[(String, Vec<u8>)]>,
}

/// `valid_region`, as the error the store answers a bad region with.
pub(crate) fn check_region(region: &str) -> Result<()> {
    if valid_region(region) {
        return Ok(());
    }
    Err(StoreError::Residency(format!(
        "region `{region}`: use 1-32 lowercase letters, digits and -, starting with a letter"
    )))
}

/// How a central identity key that is a pseudonym begins; a plain key begins with its
/// platform's name.
const PSEUDONYM: char = '#';

impl Partitions {
    /// Checks the regions and names their schemas `<prefix>region_<name>`.
    pub(crate) fn new(partitions: &[Partition], prefix: &str) -> Result<Self> {
        let mut regions: Vec<(String, String)> = Vec::with_capacity(partitions.len());
        for p in partitions {
            check_region(&p.region)?;
            let schema = format!("{prefix}region_{}", p.region.replace('-', "_"));
            if regions.iter().any(|(_, s)| *s == schema) {
                return Err(StoreError::Residency(format!(
                    "region `{}` is given twice",
                    p.region
                )));
            }
            regions.push((p.region.clone(), schema));
        }
        Ok(Self {
            regions: regions.into(),
            secrets: Arc::new([]),
        })
    }

    /// The same partitions, with each region's identity secret (`secrets`).
    pub(crate) fn with_secrets(self, secrets: Vec<(String, Vec<u8>)>) -> Self {
        Self {
            secrets: secrets.into(),
            ..self
        }
    }

    /// The central key of an identity placed in `region`, for its plain key
    /// (`platform:handle`): a keyed hash under the region's secret, which is held in the
    /// partition, so the central tables alone cannot tell whose handle it is.
    pub(crate) fn pseudonym(&self, region: &str, key: &str) -> Result<String> {
        use hmac::Mac;
        let (_, secret) = self
            .secrets
            .iter()
            .find(|(r, _)| r == region)
            .ok_or_else(|| {
                StoreError::Residency(format!(
                    "identities are held in the partition of region `{region}`, which is not configured"
                ))
            })?;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret)
            .map_err(|e| StoreError::Corrupt(format!("identity secret of `{region}`: {e}")))?;
        mac.update(key.as_bytes());
        Ok(format!(
            "{PSEUDONYM}{}",
            hex::encode(mac.finalize().into_bytes())
        ))
    }

    /// Every central key an identity with the plain key `key` may be stored under: the key
    /// itself, and its pseudonym in each partition. A key that is a pseudonym already (as
    /// a merge record may hold) is only itself.
    pub(crate) fn identity_keys(&self, key: &str) -> Result<Vec<String>> {
        let mut keys = vec![key.to_owned()];
        if !key.starts_with(PSEUDONYM) {
            for (region, _) in self.secrets.iter() {
                keys.push(self.pseudonym(region, key)?);
            }
        }
        Ok(keys)
    }

    /// The central keys to look up for the plain identity keys `keys`, and the plain key
    /// each pseudonym stands for.
    pub(crate) fn lookup_keys<'k>(
        &self,
        keys: impl IntoIterator<Item = &'k str>,
    ) -> Result<(Vec<String>, std::collections::HashMap<String, String>)> {
        let mut all = Vec::new();
        let mut plain = std::collections::HashMap::new();
        for key in keys {
            for (i, k) in self.identity_keys(key)?.into_iter().enumerate() {
                if i > 0 {
                    plain.insert(k.clone(), key.to_owned());
                }
                all.push(k);
            }
        }
        Ok((all, plain))
    }

    /// SQL for an identity's handle wherever it is held; `row` is `identities` or its alias.
    pub(crate) fn handle_sql(&self, row: &str) -> String {
        self.held_by_sql(row, "identity_content", &[("key", "key")], "handle")
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.regions.is_empty()
    }

    /// The schema holding `region`'s content, if it has a partition.
    pub(crate) fn schema(&self, region: &str) -> Option<&str> {
        self.regions
            .iter()
            .find(|(r, _)| r == region)
            .map(|(_, s)| s.as_str())
    }

    pub(crate) fn schemas(&self) -> impl Iterator<Item = &str> {
        self.regions.iter().map(|(_, s)| s.as_str())
    }

    /// Each region with its schema.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.regions.iter().map(|(r, s)| (r.as_str(), s.as_str()))
    }

    pub(crate) fn regions(&self) -> impl Iterator<Item = &str> {
        self.regions.iter().map(|(r, _)| r.as_str())
    }

    /// Refuses a store whose data was placed in a region no longer configured: its content
    /// would read as blank.
    pub(crate) fn check_placed(&self, placed: &[String]) -> Result<()> {
        let missing: Vec<&str> = placed
            .iter()
            .map(String::as_str)
            .filter(|r| self.schema(r).is_none())
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(StoreError::Residency(format!(
            "content is held in the partitions of {}, which are not configured (privacy.partitions)",
            missing
                .iter()
                .map(|r| format!("`{r}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )))
    }

    /// SQL for `row`'s `column` wherever it is held: the central row, or the partition the
    /// row's `placed_in` names (`table` there, keyed by the same id). Content erased from the
    /// partition reads as the central row's blank.
    fn held_sql(&self, row: &str, table: &str, column: &str) -> String {
        self.held_by_sql(row, table, &[("id", "id")], column)
    }

    /// As `held_sql`, for a partition table keyed by the columns `key`: pairs of a partition
    /// column and the central column it matches.
    fn held_by_sql(&self, row: &str, table: &str, key: &[(&str, &str)], column: &str) -> String {
        if self.is_empty() {
            return format!("{row}.{column}");
        }
        let matches = key
            .iter()
            .map(|(p, c)| format!("p.{p} = {row}.{c}"))
            .collect::<Vec<_>>()
            .join(" AND ");
        let mut sql = format!("CASE WHEN {row}.placed_in IS NULL THEN {row}.{column}");
        for (region, schema) in self.regions.iter() {
            sql.push_str(&format!(
                " WHEN {row}.placed_in = '{region}' THEN \
                 COALESCE((SELECT p.{column} FROM {schema}.{table} p WHERE {matches}), {row}.{column})"
            ));
        }
        sql.push_str(&format!(" ELSE {row}.{column} END"));
        sql
    }

    /// SQL for a message's `column` (`text`, `author_handle`, `author_name`, `raw`); `row`
    /// is the `messages` table or its alias.
    pub(crate) fn column_sql(&self, row: &str, column: &str) -> String {
        self.held_sql(row, "message_content", column)
    }

    /// SQL for a case's subject; `row` is the `cases` table or its alias.
    pub(crate) fn subject_sql(&self, row: &str) -> String {
        self.held_sql(row, "case_content", "subject")
    }

    /// SQL for a customer's display name; `row` is the `customers` table or its alias.
    pub(crate) fn display_name_sql(&self, row: &str) -> String {
        self.held_sql(row, "customer_content", "display_name")
    }

    /// SQL for a document's `column` wherever it is held (e.g. `Document::CaseEvent`'s `data`);
    /// `row` is its central table or that table's alias.
    pub(crate) fn document_sql(&self, row: &str, doc: Document, column: &str) -> String {
        self.held_by_sql(
            row,
            doc.content_table(),
            &[
                (doc.owner().column(), doc.owner_column()),
                (doc.key(), doc.key()),
            ],
            column,
        )
    }

    /// `REPLY_COLUMNS` for a query `FROM replies`, the document read from wherever it is held.
    pub(crate) fn reply_columns(&self) -> Cow<'static, str> {
        self.columns(REPLY_COLUMNS, &["doc"], |_| {
            self.document_sql("replies", Document::Reply, "doc")
        })
    }

    /// `OUTBOX_COLUMNS` for a query `FROM outbox`, the payload read from wherever it is held.
    pub(crate) fn outbox_columns(&self) -> Cow<'static, str> {
        self.columns(OUTBOX_COLUMNS, &["payload"], |_| {
            self.document_sql("outbox", Document::Outbox, "payload")
        })
    }

    /// `MESSAGE_COLUMNS` for a query `FROM messages`, the content read from wherever it is held.
    pub(crate) fn message_columns(&self) -> Cow<'static, str> {
        self.columns(
            MESSAGE_COLUMNS,
            &["author_handle", "author_name", "text"],
            |c| self.column_sql("messages", c),
        )
    }

    /// `CASE_COLUMNS` for a query `FROM cases`, the subject read from wherever it is held.
    pub(crate) fn case_columns(&self) -> Cow<'static, str> {
        self.columns(CASE_COLUMNS, &["subject"], |_| self.subject_sql("cases"))
    }

    fn columns(
        &self,
        all: &'static str,
        held: &[&str],
        sql: impl Fn(&str) -> String,
    ) -> Cow<'static, str> {
        if self.is_empty() {
            return Cow::Borrowed(all);
        }
        let cols: Vec<String> = all
            .split(',')
            .map(str::trim)
            .map(|c| {
                if held.contains(&c) {
                    format!("{} AS {c}", sql(c))
                } else {
                    c.to_owned()
                }
            })
            .collect();
        Cow::Owned(cols.join(", "))
    }

    /// The schema of a message placed in `region`; a region no longer configured cannot be
    /// read, and says so rather than showing empty text.
    pub(crate) fn placed(&self, region: &str) -> Result<&str> {
        self.schema(region).ok_or_else(|| {
            StoreError::Residency(format!(
                "content is held in the partition of region `{region}`, which is not configured"
            ))
        })
    }
}

/// What a partition holds, by kind: its tables and their key column.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Held {
    Message,
    Case,
    Customer,
    /// A case's history and replies, keyed by the case.
    CaseDocuments,
}

/// Who a document is about: once they are placed, so is the document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Owner {
    Case,
    Customer,
}

impl Owner {
    pub(crate) fn table(self) -> &'static str {
        match self {
            Self::Case => "cases",
            Self::Customer => "customers",
        }
    }

    /// The owner's id column: in a partition's table, and in `messages`.
    pub(crate) fn column(self) -> &'static str {
        match self {
            Self::Case => "case_id",
            Self::Customer => "customer_id",
        }
    }
}

/// How the central copy of a held column is blanked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Blank {
    /// JSON with its personal strings emptied (`sb_governance::personal::scrub`): kinds,
    /// labels and times stay for reports.
    Json,
    /// Free text: emptied.
    Text,
    /// Removed (NULL), as erasure removes it: an audit entry's detail, whose digest stays in
    /// the hash chain.
    Null,
}

impl Blank {
    /// The central copy of `full`.
    pub(crate) fn apply(self, full: Option<&str>) -> std::result::Result<Option<String>, String> {
        match (self, full) {
            (_, None) | (Self::Null, _) => Ok(None),
            (Self::Text, Some(_)) => Ok(Some(String::new())),
            (Self::Json, Some(text)) => {
                let mut doc: serde_json::Value =
                    serde_json::from_str(text).map_err(|e| e.to_string())?;
                sb_governance::personal::scrub(&mut doc);
                Ok(Some(doc.to_string()))
            }
        }
    }
}

/// What agents, automation and customers write about a case or a customer beyond the
/// messages. Once its owner is placed, the whole document lives in the owner's partition and
/// the central row keeps it blanked (`Blank`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Document {
    CaseEvent,
    Reply,
    /// A delivery about a case (a reply on its way to the platform): the dispatcher reads
    /// its payload from wherever it is held when it claims it.
    Outbox,
    /// The comment of a satisfaction survey answer.
    SurveyAnswer,
    /// A disruption message drafted for a customer: its text and platform payload.
    DisruptionMessage,
    /// The before/after detail of an audit entry about a customer.
    AuditDetail,
    /// A customer merge's record of the absorbed profile, held with the survivor.
    MergeRecord,
}

impl Document {
    pub(crate) const ALL: [Self; 7] = [
        Self::CaseEvent,
        Self::Reply,
        Self::Outbox,
        Self::SurveyAnswer,
        Self::DisruptionMessage,
        Self::AuditDetail,
        Self::MergeRecord,
    ];

    /// The central table.
    pub(crate) fn table(self) -> &'static str {
        match self {
            Self::CaseEvent => "case_events",
            Self::Reply => "replies",
            Self::Outbox => "outbox",
            Self::SurveyAnswer => "survey_answers",
            Self::DisruptionMessage => "disruption_recipients",
            Self::AuditDetail => "audit_log",
            Self::MergeRecord => "customer_merges",
        }
    }

    pub(crate) fn owner(self) -> Owner {
        match self {
            Self::DisruptionMessage | Self::AuditDetail | Self::MergeRecord => Owner::Customer,
            _ => Owner::Case,
        }
    }

    /// Whom a central row may be about, in the owner column: a delivery is about a case,
    /// or about a customer with none (a disruption message). Placing either places it.
    pub(crate) fn owners(self) -> &'static [Owner] {
        match self {
            Self::Outbox => &[Owner::Case, Owner::Customer],
            Self::DisruptionMessage | Self::AuditDetail | Self::MergeRecord => &[Owner::Customer],
            _ => &[Owner::Case],
        }
    }

    /// The central column naming the owner.
    pub(crate) fn owner_column(self) -> &'static str {
        match self {
            Self::Outbox => "subject",
            Self::MergeRecord => "survivor",
            _ => self.owner().column(),
        }
    }

    /// The row's own key; in a partition the key is the owner and this.
    pub(crate) fn key(self) -> &'static str {
        match self {
            Self::CaseEvent | Self::AuditDetail => "seq",
            Self::Reply | Self::Outbox | Self::MergeRecord => "id",
            Self::SurveyAnswer => "survey_id",
            Self::DisruptionMessage => "disruption_id",
        }
    }

    /// The columns held, named the same in the partition.
    pub(crate) fn columns(self) -> &'static [(&'static str, Blank)] {
        match self {
            Self::CaseEvent => &[("data", Blank::Json)],
            Self::Reply => &[("doc", Blank::Json)],
            Self::Outbox => &[("payload", Blank::Json)],
            Self::SurveyAnswer => &[("comment", Blank::Text)],
            Self::DisruptionMessage => &[("text", Blank::Text), ("payload", Blank::Json)],
            Self::AuditDetail => &[("detail", Blank::Null)],
            Self::MergeRecord => &[("record", Blank::Json)],
        }
    }

    /// The central copy of the held columns `full` (in `columns` order).
    pub(crate) fn blank(self, full: &[Option<String>]) -> Result<Vec<Option<String>>> {
        self.columns()
            .iter()
            .zip(full)
            .map(|((column, blank), value)| {
                blank.apply(value.as_deref()).map_err(|e| {
                    StoreError::Corrupt(format!("{}.{column} is not JSON: {e}", self.table()))
                })
            })
            .collect()
    }

    /// The partition's table.
    pub(crate) fn content_table(self) -> &'static str {
        match self {
            Self::CaseEvent => "case_event_content",
            Self::Reply => "reply_content",
            Self::Outbox => "outbox_content",
            Self::SurveyAnswer => "survey_comment_content",
            Self::DisruptionMessage => "disruption_message_content",
            Self::AuditDetail => "audit_detail_content",
            Self::MergeRecord => "merge_record_content",
        }
    }

    /// SQL true of a central row that is neither placed nor marked, and may move.
    pub(crate) fn movable(self) -> &'static str {
        match self {
            Self::AuditDetail => "placed_in IS NULL AND place_to IS NULL AND detail IS NOT NULL",
            _ => "placed_in IS NULL AND place_to IS NULL",
        }
    }

    /// The partition table holding this document.
    fn create_sql(self, schema: &str) -> String {
        let key_type = if self.key() == "seq" {
            "BIGINT"
        } else {
            "TEXT"
        };
        let columns: String = self
            .columns()
            .iter()
            .map(|(c, _)| format!("{c} TEXT, "))
            .collect();
        format!(
            "CREATE TABLE IF NOT EXISTS {schema}.{table} ({owner} TEXT NOT NULL, \
             {key} {key_type} NOT NULL, {columns}PRIMARY KEY ({owner}, {key}))",
            table = self.content_table(),
            owner = self.owner().column(),
            key = self.key(),
        )
    }
}

impl Held {
    /// Each partition table holding this kind, with the column naming the row.
    pub(crate) fn tables(self) -> Vec<(&'static str, &'static str)> {
        let documents = |owner: Owner| {
            Document::ALL
                .into_iter()
                .filter(move |d| d.owner() == owner)
                .map(move |d| (d.content_table(), owner.column()))
        };
        match self {
            Self::Message => vec![
                ("message_content", "id"),
                ("message_revisions", "message_id"),
            ],
            Self::Case => vec![("case_content", "id")],
            // A delivery about the customer themselves (a disruption message to a customer
            // with no case) is keyed by the customer where a case's would be by the case.
            Self::Customer => [("customer_content", "id"), ("outbox_content", "case_id")]
                .into_iter()
                .chain(documents(Owner::Customer))
                .collect(),
            Self::CaseDocuments => documents(Owner::Case).collect(),
        }
    }
}

/// The database type behind a store, for helpers that take its transactions.
pub(crate) trait Backend {
    type Db: sqlx::Database;
    /// Whether a partition is a database file of its own, which a transaction commits
    /// apart from the central file (SQLite: atomic per file only), rather than a schema the
    /// central tables' transaction covers (PostgreSQL).
    const PARTITIONS_APART: bool;
    /// The `n`th (from 1) `seq` the next rows inserted into the table `$1` will get,
    /// `$2` being `n`. SQLite reads it from `AUTOINCREMENT`'s counter, which is right while
    /// the one writer connection is held; PostgreSQL draws it from the sequence.
    const NEXT_SEQ: &'static str;
    /// A statement, taking an identity's key as `$1`, that serialises upserts of that
    /// identity across processes for the rest of the transaction; `None` where the one writer
    /// connection serialises them already (SQLite).
    const IDENTITY_LOCK: Option<&'static str>;
}

impl Backend for crate::SqliteStore {
    type Db = sqlx::Sqlite;
    const PARTITIONS_APART: bool = true;
    const NEXT_SEQ: &'static str =
        "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = $1), 0) + $2";
    const IDENTITY_LOCK: Option<&'static str> = None;
}

impl Backend for crate::PgStore {
    type Db = sqlx::Postgres;
    const PARTITIONS_APART: bool = false;
    const NEXT_SEQ: &'static str =
        "SELECT nextval(pg_get_serial_sequence($1, 'seq')) + 0 * CAST($2 AS BIGINT)";
    const IDENTITY_LOCK: Option<&'static str> = Some("SELECT pg_advisory_xact_lock(hashtext($1))");
}

impl Partitions {
    /// Holds one `doc` row of an owner placed in `region`, when it is: the holding, and the
    /// central columns (blanked if held, else `full` as it is).
    pub(crate) fn hold_row(
        &self,
        doc: Document,
        region: Option<&str>,
        owner: &str,
        key: DocKey,
        full: Vec<Option<String>>,
    ) -> Result<(Vec<Holding>, Vec<Option<String>>)> {
        let Some(region) = region else {
            return Ok((Vec::new(), full));
        };
        let mut held = Holding::new(doc, self.placed(region)?);
        let central = held.hold(owner, key, full)?;
        Ok((vec![held], central))
    }
}

/// A customer written with a region that has a partition, whose handle is not known yet:
/// created held there from the start (`upsert_customer`).
#[derive(Clone, Debug)]
pub(crate) struct HeldCustomer {
    pub(crate) id: sb_domain::CustomerId,
    pub(crate) region: String,
    pub(crate) schema: String,
    /// The handle's central key.
    pub(crate) pseudonym: String,
    pub(crate) platform: sb_domain::Platform,
    pub(crate) handle: String,
    pub(crate) display_name: Option<String>,
}

/// A new case event as it is to be stored (`hold_case_events`).
#[derive(Clone, Debug, Default)]
pub(crate) struct EventRow {
    /// Given when any event of the write is held, so its held copy can be keyed by it.
    pub(crate) seq: Option<i64>,
    /// The data for the central row: blanked when held.
    pub(crate) data: String,
    pub(crate) held: bool,
}

/// A delivery ready to queue (`hold_outbox_item`): its id, the payload for the central row
/// (blanked when held) and the region holding it.
#[derive(Clone, Debug)]
pub(crate) struct QueuedItem {
    pub(crate) id: sb_domain::OutboxId,
    pub(crate) payload: Option<String>,
    pub(crate) region: Option<String>,
}

/// A document row's own key (`Document::key`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum DocKey {
    Seq(i64),
    Id(String),
}

/// One document row a write holds in its owner's partition from the start.
#[derive(Clone, Debug)]
pub(crate) struct HeldRow {
    pub(crate) owner: String,
    pub(crate) key: DocKey,
    /// The held columns (`Document::columns`), in full.
    pub(crate) full: Vec<Option<String>>,
}

/// Document rows a write holds in a region's partition (`schema`): the partition gets them in
/// full and the central rows are written already blanked (`Document::blank`), with
/// `placed_in` set, so the central tables never see their personal content.
#[derive(Clone, Debug)]
pub(crate) struct Holding {
    pub(crate) doc: Document,
    pub(crate) schema: String,
    pub(crate) rows: Vec<HeldRow>,
}

impl Holding {
    pub(crate) fn new(doc: Document, schema: &str) -> Self {
        Self {
            doc,
            schema: schema.to_owned(),
            rows: Vec::new(),
        }
    }

    /// Holds a row; returns its central columns (blanked).
    pub(crate) fn hold(
        &mut self,
        owner: &str,
        key: DocKey,
        full: Vec<Option<String>>,
    ) -> Result<Vec<Option<String>>> {
        let blank = self.doc.blank(&full)?;
        self.rows.push(HeldRow {
            owner: owner.to_owned(),
            key,
            full,
        });
        Ok(blank)
    }

    /// The same holding with only the rows `keep` accepts.
    pub(crate) fn only(&self, keep: impl Fn(&HeldRow) -> bool) -> Self {
        Self {
            rows: self.rows.iter().filter(|r| keep(r)).cloned().collect(),
            ..self.clone()
        }
    }
}

/// The tables of one partition, created when the store opens.
pub(crate) fn partition_tables(schema: &str) -> Vec<String> {
    [
        format!(
            "CREATE TABLE IF NOT EXISTS {schema}.message_content (\
                id TEXT PRIMARY KEY, \
                author_handle TEXT NOT NULL, \
                author_name TEXT, \
                text TEXT NOT NULL, \
                raw TEXT NOT NULL, \
                placed_at BIGINT NOT NULL)"
        ),
        format!(
            "CREATE TABLE IF NOT EXISTS {schema}.message_revisions (\
                message_id TEXT NOT NULL, \
                revision INTEGER NOT NULL, \
                previous_text TEXT NOT NULL, \
                PRIMARY KEY (message_id, revision))"
        ),
        format!(
            "CREATE TABLE IF NOT EXISTS {schema}.case_content (\
                id TEXT PRIMARY KEY, \
                subject TEXT NOT NULL)"
        ),
        format!(
            "CREATE TABLE IF NOT EXISTS {schema}.customer_content (\
                id TEXT PRIMARY KEY, \
                display_name TEXT)"
        ),
        // A placed identity's handle, under the central row's key (its pseudonym).
        format!(
            "CREATE TABLE IF NOT EXISTS {schema}.identity_content (\
                key TEXT PRIMARY KEY, \
                platform TEXT NOT NULL, \
                handle TEXT NOT NULL)"
        ),
        // Secrets of this partition; `identity` keys its identities' pseudonyms.
        format!(
            "CREATE TABLE IF NOT EXISTS {schema}.partition_secrets (\
                name TEXT PRIMARY KEY, \
                secret TEXT NOT NULL)"
        ),
    ]
    .into_iter()
    .chain(Document::ALL.map(|d| d.create_sql(schema)))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_names_are_checked_and_mapped_to_schemas() {
        assert!(valid_region("eu"));
        assert!(valid_region("eu-west-1"));
        for bad in ["", "EU", "1eu", "eu;drop", "eu west", &"a".repeat(33)] {
            assert!(!valid_region(bad), "{bad:?}");
        }
        let p = Partitions::new(&[Partition::new("eu-west"), Partition::new("uk")], "t1_").unwrap();
        assert_eq!(p.schema("eu-west"), Some("t1_region_eu_west"));
        assert_eq!(p.schema("us"), None);
        assert!(p.placed("us").is_err());
        assert!(Partitions::new(&[Partition::new("uk"), Partition::new("uk")], "").is_err());
        assert_eq!(Partitions::default().column_sql("m", "text"), "m.text");
        assert_eq!(Partitions::default().message_columns(), MESSAGE_COLUMNS);
        let cols = p.case_columns();
        assert!(cols.contains(", tags, CASE WHEN cases.placed_in IS NULL THEN cases.subject"));
        assert!(cols.contains(" END AS subject, language,"));
        assert_eq!(cols.matches(" AS subject").count(), 1);
        let sql = p.column_sql("m", "text");
        assert!(sql.contains(
            "WHEN m.placed_in = 'uk' THEN COALESCE((SELECT p.text FROM t1_region_uk.message_content p"
        ));
        assert!(Partitions::new(&[Partition::new("Uk")], "").is_err());
        let data = p.document_sql("e", Document::CaseEvent, "data");
        assert!(data.contains(
            "FROM t1_region_uk.case_event_content p WHERE p.case_id = e.case_id AND p.seq = e.seq"
        ));
        assert_eq!(
            Partitions::default().document_sql("r", Document::Reply, "doc"),
            "r.doc"
        );
    }
}
