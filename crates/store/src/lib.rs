//! Storage. The `Store` trait is everything the product asks of a database; the SQLite
//! implementation serves the embedded default, and a PostgreSQL implementation slots in behind
//! the same trait (and the same contract tests in `tests/contract.rs`).
//!
//! The store carries out decisions; it does not make them. Case planning, routing and triage
//! are pure functions in the domain crate.

mod board;
mod disruptions;
mod feedback;
mod governance;
mod labels;
mod leases;
mod merges;
pub mod postgres;
pub mod reports;
mod residency;
mod rows;
pub mod settings;
mod shapes;
mod shared;
mod silences;
pub mod sqlite;
mod templates;
mod views;
mod watchterms;
mod workflow;

use async_trait::async_trait;
use sb_domain::case::{CaseContext, CasePlan, PlanMessage};
use sb_domain::{
    AfterAttempt, Alert, AlertId, Case, CaseId, CasePriority, CaseStatus, Customer, CustomerId,
    DeliveryAttempt, Incident, IncidentId, Message, MessageId, MessageRevision, NewMessage,
    NewOutboxItem, OutboxId, OutboxItem, OutboxStatus, Platform, Queue, QueueId, Revised, Revision,
    TargetState, Tier, Timestamp,
};
use sb_domain::{Enrichment, FactKind, OpsFact};
use std::sync::Arc;

pub use board::{
    Bucketed, DASHBOARD_CASES, DashboardData, InboxFilter, InboxRow, OPEN_STATUSES, SentimentBand,
};
pub use disruptions::{
    AudienceCandidate, AudienceQuery, ChurnHistory, DisruptionRecipient, ListeningStore, Reach,
    Release, StoredDisruption,
};
pub use feedback::{
    AnswerOutcome, FeedbackStore, FeedbackTally, QaRecorded, QaReview, QaScoring, Survey,
    SurveyResponse, hash_survey_token, survey_token,
};
pub use labels::{LabelCorrection, LabelCount, LabelPosition, LabelStore};
pub use leases::LeaseStore;
pub use merges::{
    CaseMerge, CaseSplit, CustomerMerge, CustomerMergePlan, CustomerMerged, IdentitySuggestion,
    MergeUndo, MovedRecords, NewSuggestion, OverriddenConsent, Returned,
};
pub use postgres::PgStore;
pub use reports::ReportStore;
pub use residency::{Partition, valid_region};
pub use settings::{SettingsDocument, SettingsSave, SettingsStore};
pub use silences::{SilenceStore, StoredSilence};
pub use sqlite::SqliteStore;
pub use views::{SavedView, ViewStore};
pub use watchterms::{StoredWatchTerm, WatchTermStore, watch_term_key};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration {version} failed: {source}")]
    Migration { version: i64, source: sqlx::Error },
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    /// Another worker already processed part of the batch; reload and plan again.
    #[error("the batch changed underneath the plan")]
    Stale,
    #[error("unsupported database URL `{0}`")]
    UnsupportedUrl(String),
    /// The regions' partitions as configured do not fit the data (see `residency`).
    #[error("data residency: {0}")]
    Residency(String),
    /// The change was made but a follow-up step (e.g. compacting the files) did not finish;
    /// running the operation again completes it.
    #[error("not finished: {0}")]
    Incomplete(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A message to append, with the id and arrival time the ingest edge gave it.
#[derive(Clone, Debug)]
pub struct MessageRecord {
    pub id: MessageId,
    pub received_at: Timestamp,
    pub message: NewMessage,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TargetStats {
    pub target: String,
    pub pending: i64,
    pub dead: i64,
    pub attempts: i64,
    pub failures: i64,
    pub last_attempt_at: Option<Timestamp>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InboundStats {
    pub source: String,
    pub last_received_at: Option<Timestamp>,
    pub recent: i64,
}

/// A reply as written by an agent or automation: what it says, where it goes, and whether it
/// waits for approval (`status`: `pending_approval`, `queued`, `rejected`). `doc` holds the
/// rest as JSON (texts of every version, requirements, decisions, outbox items).
#[derive(Clone, Debug, PartialEq)]
pub struct StoredReply {
    pub id: String,
    pub case_id: CaseId,
    pub author: String,
    pub automated: bool,
    pub status: String,
    pub doc: serde_json::Value,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Guards concurrent decisions, like a case's version.
    pub version: i64,
}

/// What `save_case_work` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaseSave {
    Saved,
    /// Someone saved the case since it was read: read it again and decide again.
    Changed,
    /// Another process already carried out the work items: nothing is left to do.
    AlreadyDone,
}

/// What `link_identity` did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdentityLink {
    Linked,
    AlreadyLinked,
    /// The handle belongs to this other customer.
    Elsewhere(CustomerId),
    NoSuchCustomer,
}

/// The outcome of appending one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Appended {
    pub id: MessageId,
    pub duplicate: bool,
}

#[derive(Clone, Debug, Default)]
pub struct CaseFilter {
    pub status: Option<CaseStatus>,
    pub queue_id: Option<QueueId>,
    pub priority: Option<CasePriority>,
    pub customer_id: Option<CustomerId>,
    /// The agent the cases are assigned to.
    pub assignee: Option<String>,
    /// The platform the case came in on.
    pub source: Option<Platform>,
    /// The case's language.
    pub language: Option<String>,
    /// Cases with at least one message of this intent.
    pub intent: Option<String>,
}

/// Which messages a list shows; every field narrows it.
#[derive(Clone, Debug, Default)]
pub struct MessageFilter {
    pub source: Option<Platform>,
    /// `received` (not processed yet) or `processed`.
    pub stage: Option<String>,
    pub language: Option<String>,
    pub sentiment: Option<sb_domain::SentimentLabel>,
    pub intent: Option<String>,
    pub urgency: Option<String>,
}

/// Newest first; `before` is the cursor (the last id of the previous page).
#[derive(Clone, Debug)]
pub struct Page {
    pub before: Option<String>,
    pub limit: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub messages: i64,
    pub unprocessed: i64,
    pub customers: i64,
    pub cases: i64,
    pub open_cases: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub role: String,
    /// Permissions the key is narrowed to; `None` is everything its role allows.
    pub scopes: Option<Vec<String>>,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    /// The key that replaced this one; this one keeps working until `expires_at`.
    pub rotated_to: Option<String>,
    /// The regions whose customers the key may read; `None` is every region.
    pub regions: Option<Vec<String>>,
}

/// A key to store: only its hash, never the key itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewApiKey {
    pub name: String,
    pub key_hash: String,
    pub role: String,
    pub scopes: Option<Vec<String>>,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub regions: Option<Vec<String>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub login: String,
    pub password_hash: String,
    pub role: String,
    pub disabled_at: Option<Timestamp>,
    /// The regions whose customers the user may read; `None` is every region.
    pub regions: Option<Vec<String>>,
}

/// A browser session, found by the hash of its cookie.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub token_hash: String,
    pub login: String,
    pub csrf: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// A customer's choice about automated outreach on one channel (G6).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Consent {
    pub customer_id: CustomerId,
    /// The platform, e.g. `x`, `email`.
    pub channel: String,
    pub opted_out: bool,
    /// Where the choice came from, e.g. `customer reply STOP`, `agent on phone`.
    pub source: Option<String>,
    pub updated_at: Timestamp,
}

/// What an erasure did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Erasure {
    Done(ErasureCounts),
    /// The customer is under legal hold (its reason); nothing was changed.
    Held(String),
    Unknown,
}

/// How many records an erasure changed, by kind: what the audit entry of the erasure keeps.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ErasureCounts {
    pub messages: u64,
    pub identities: u64,
    pub cases: u64,
    pub case_events: u64,
    pub replies: u64,
    pub outbox: u64,
    pub audit_details: u64,
    /// Disruption messages (F2) whose text and address were blanked.
    pub disruption_messages: u64,
}

/// What a revision changes on a message that currently has `text` and `removed_at`: the
/// text to store afterwards (`None` when the change is already reflected).
pub(crate) fn revised_text<'a>(
    text: &'a str,
    removed: bool,
    revision: &'a Revision,
) -> Option<&'a str> {
    match revision {
        Revision::Edit { text: new } if new != text => Some(new),
        Revision::Remove if !removed => Some(text),
        _ => None,
    }
}

/// How old content held for an arrival must be, with no central row naming it, to be taken
/// for what a crash left behind: far longer than storing any batch takes.
pub const STRAY_ARRIVAL_GRACE: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// The arrivals of `batch` whose content was held in a partition (`held`) but which were
/// not stored (not in `inserted`): redeliveries of a stored message, whose held copy goes.
pub(crate) fn unstored_arrivals<'a>(
    batch: &'a [MessageRecord],
    held: &[Option<String>],
    inserted: &std::collections::HashSet<String>,
) -> Vec<&'a str> {
    batch
        .iter()
        .zip(held)
        .filter(|(r, h)| h.is_some() && !inserted.contains(r.id.as_str()))
        .map(|(r, _)| r.id.as_str())
        .collect()
}

/// SHA-256 of an API key, as stored.
pub fn hash_api_key(key: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(key.as_bytes()))
}

#[async_trait]
pub trait Store:
    GovernanceStore
    + TemplateStore
    + FeedbackStore
    + MergeStore
    + ListeningStore
    + SilenceStore
    + ViewStore
    + WatchTermStore
    + LabelStore
    + SettingsStore
    + LeaseStore
    + BoardStore
    + ReportStore
    + Send
    + Sync
    + 'static
{
    /// Answers when the database does.
    async fn ping(&self) -> Result<()>;

    // ---- ingest -------------------------------------------------------------------------
    /// Appends a batch in one committed transaction (group commit). A message whose
    /// `source` + `external_id` is already stored — or appears earlier in the batch — is a
    /// duplicate: nothing is written for it and the existing id is returned.
    async fn append_messages(&self, batch: &[MessageRecord]) -> Result<Vec<Appended>>;

    // ---- pipeline -----------------------------------------------------------------------
    /// Ids of messages the pipeline has not finished, in arrival order: those that arrived
    /// after `after` and before `received_before`.
    async fn unprocessed_messages(
        &self,
        after: Option<&MessageId>,
        received_before: Timestamp,
        limit: u32,
    ) -> Result<Vec<MessageId>>;
    /// The earliest `created_at` among the messages the pipeline has not finished that
    /// arrived from `received_since` on (looking at the oldest `scan` unfinished ones by
    /// arrival), or `None` when none is waiting: listening holds back the judgement of an
    /// ended bucket while messages received for it are still on their way.
    async fn earliest_unprocessed(
        &self,
        received_since: Timestamp,
        scan: u32,
    ) -> Result<Option<Timestamp>>;
    /// The given messages that are still unprocessed, in arrival order.
    async fn messages_for_processing(&self, ids: &[MessageId]) -> Result<Vec<Message>>;
    /// The given messages that are processed, in arrival order (for listening to what other
    /// processes processed).
    async fn processed_messages_among(&self, ids: &[MessageId]) -> Result<Vec<Message>>;
    /// What the store knows that bears on planning this batch.
    async fn case_context(&self, batch: &[PlanMessage]) -> Result<CaseContext>;
    /// Carries out a plan atomically. Fails with `Stale`, changing nothing, if any placed
    /// message was already processed.
    async fn apply_case_plan(&self, plan: &CasePlan, now: Timestamp) -> Result<()>;
    async fn default_queue(&self) -> Result<Queue>;
    /// Moves the personal content of the given processed messages into their region's
    /// partition, where their region has one (G5); returns how many moved. Safe to repeat.
    async fn place_messages(&self, ids: &[MessageId], now: Timestamp) -> Result<u64>;
    /// As `place_messages`, for up to `limit` processed messages not yet placed whose region
    /// has a partition: the catch-up after a crash or after a partition is added. Once no
    /// message is left, it places what is written about placed cases and customers (history,
    /// replies, survey comments, merge records, audit details…) that is still held here.
    async fn place_pending(&self, limit: u32, now: Timestamp) -> Result<u64>;
    /// Moves the documents marked for a partition when they were written (a note on a placed
    /// case, …) and not moved yet; returns how many rows moved. Safe to repeat.
    async fn place_documents(&self) -> Result<u64>;
    /// Removes message content held in a partition that no central row names as held there
    /// — an arrival whose central row was never stored (a crash between the two commits; its
    /// sender got no answer), or a copy a crash left while a message moved — once older than
    /// `STRAY_ARRIVAL_GRACE`; returns how many went.
    async fn drop_stray_arrivals(&self, now: Timestamp) -> Result<u64>;
    /// With regional partitions on SQLite: empties the central write-ahead log if no reader
    /// holds it at this moment (it never waits for one, so ingest is not held up), so the
    /// first central copy of content moved into a partition since does not linger in it.
    /// Returns whether the log was emptied; elsewhere does nothing and returns false.
    async fn empty_central_log(&self) -> Result<bool>;

    // ---- read models --------------------------------------------------------------------
    async fn message(&self, id: &MessageId) -> Result<Option<Message>>;
    /// Those of the given messages that exist (any number of ids), in arrival order.
    async fn messages_among(&self, ids: &[MessageId]) -> Result<Vec<Message>>;
    /// Records an edit or removal the platform reported for `source` + `external_id`, keeping
    /// the earlier text as a revision. Redelivered changes leave everything as it is.
    async fn revise_message(
        &self,
        source: Platform,
        external_id: &str,
        revision: &Revision,
        at: Timestamp,
    ) -> Result<Revised>;
    /// The recorded changes to a message, oldest first.
    async fn message_revisions(&self, id: &MessageId) -> Result<Vec<MessageRevision>>;
    async fn case(&self, id: &CaseId) -> Result<Option<Case>>;
    async fn case_messages(&self, id: &CaseId) -> Result<Vec<Message>>;
    /// Messages in arrival order, newest first; `page.before` is a message id.
    async fn list_messages(&self, filter: &MessageFilter, page: &Page) -> Result<Vec<Message>>;
    async fn list_cases(&self, filter: &CaseFilter, page: &Page) -> Result<Vec<Case>>;
    async fn customer(&self, id: &CustomerId) -> Result<Option<Customer>>;
    /// Those of the given customers that exist (any number of ids), in no particular order.
    async fn customers_among(&self, ids: &[CustomerId]) -> Result<Vec<Customer>>;
    /// The customer who holds this handle on this platform (compared as `Identity::key`
    /// does, whether the identity is held centrally or, placed, under its pseudonym).
    async fn customer_with_identity(
        &self,
        platform: Platform,
        handle: &str,
    ) -> Result<Option<CustomerId>>;
    async fn queues(&self) -> Result<Vec<Queue>>;
    async fn counts(&self) -> Result<Counts>;

    // ---- customers ------------------------------------------------------------------------
    /// Creates (or updates) a customer known under `platform:handle`, with a tier and value;
    /// used by imports from a CRM and by the demo. `region` is where their data is held
    /// (G5): a customer who has a region keeps it, one without takes this one. When that
    /// region has a partition, their name and handle, and their processed messages, are
    /// placed in it as soon as the write commits.
    #[allow(clippy::too_many_arguments)]
    async fn upsert_customer(
        &self,
        platform: sb_domain::Platform,
        handle: &str,
        display_name: Option<&str>,
        tier: Tier,
        lifetime_value: f64,
        now: Timestamp,
        region: Option<&str>,
    ) -> Result<CustomerId>;

    /// Links `platform:handle` to an existing customer, so their messages there join the
    /// same profile and, within a session, the same case. A handle that belongs to another
    /// customer is not moved: merging profiles is a separate, audited act.
    async fn link_identity(
        &self,
        customer: &CustomerId,
        platform: Platform,
        handle: &str,
        now: Timestamp,
    ) -> Result<IdentityLink>;

    // ---- listening ------------------------------------------------------------------------
    /// Records an alert; returns false (and stores nothing) when the same series, kind and
    /// bucket already has one, e.g. raised by another process.
    /// Stores items to send. An item whose `dedup_key` is already stored is not added again;
    /// each answer is the item's id and whether it was already there.
    async fn enqueue(
        &self,
        items: &[NewOutboxItem],
        now: Timestamp,
    ) -> Result<Vec<(OutboxId, bool)>>;
    /// Leases up to `limit` due items of targets that are not paused until `now + lease_ms`,
    /// counting one more attempt on each. Another dispatcher sees an item again only once its
    /// lease has run out (its holder crashed).
    async fn claim_outbox(
        &self,
        now: Timestamp,
        limit: u32,
        lease_ms: i64,
    ) -> Result<Vec<OutboxItem>>;
    /// Logs how an attempt ended and moves the item on; an item no longer pending is left
    /// as it is (another attempt already finished it).
    async fn finish_attempt(
        &self,
        id: &OutboxId,
        attempt: &DeliveryAttempt,
        after: &AfterAttempt,
    ) -> Result<()>;
    /// Newest first, optionally of one status.
    async fn list_outbox(
        &self,
        status: Option<OutboxStatus>,
        page: &Page,
    ) -> Result<Vec<OutboxItem>>;
    async fn outbox_item(&self, id: &OutboxId) -> Result<Option<OutboxItem>>;
    /// Items about one subject (a case, an alert, an incident), oldest first.
    async fn outbox_for_subject(&self, subject: &str) -> Result<Vec<OutboxItem>>;
    /// Items whose delivery the target answered with this id (a posted reply's platform id).
    async fn outbox_by_remote_id(&self, remote_id: &str) -> Result<Vec<OutboxItem>>;
    /// Per target: queue depth, dead letters, and attempts and failures since `since`.
    async fn outbox_stats(&self, since: Timestamp) -> Result<Vec<TargetStats>>;
    /// Per platform: the latest message received and how many arrived since `since`.
    async fn inbound_stats(&self, since: Timestamp) -> Result<Vec<InboundStats>>;
    /// Processed messages in id order after `after`, for rebuilding what is derived from them.
    async fn processed_messages(
        &self,
        after: Option<&MessageId>,
        limit: u32,
    ) -> Result<Vec<Message>>;
    /// Replaces the stored understanding of processed messages (a re-analysis with new
    /// models or terms). Answers how many changed.
    async fn update_enrichments(&self, batch: &[(MessageId, Enrichment)]) -> Result<u64>;
    /// Recomputes every case's message count, last sentiment and last message time from its
    /// messages. Answers how many cases it corrected.
    async fn recompute_case_aggregates(&self) -> Result<u64>;
    /// The message as it arrived, with every platform field (account, author id, …).
    async fn message_raw(&self, id: &MessageId) -> Result<Option<serde_json::Value>>;
    /// The delivery log of one item, oldest attempt first.
    async fn delivery_log(&self, id: &OutboxId) -> Result<Vec<DeliveryAttempt>>;
    async fn set_target_state(&self, state: &TargetState) -> Result<()>;
    async fn target_states(&self) -> Result<Vec<TargetState>>;

    async fn insert_alert(&self, alert: &Alert) -> Result<bool>;
    /// Alerts, newest first; `before` is the previous page's last id.
    async fn list_alerts(&self, page: &Page) -> Result<Vec<Alert>>;
    async fn alert(&self, id: &AlertId) -> Result<Option<Alert>>;
    /// Ends every open alert of a rule episode; false when none was open (already resolved,
    /// or resolved by another process).
    async fn resolve_alert(&self, dedup_key: &str, at: Timestamp) -> Result<bool>;

    // ---- operational status feed --------------------------------------------------------
    /// Stores reported facts; a fact older (by source time) than the one held for its kind,
    /// subject and region is ignored. Answers, per fact, whether it was stored.
    async fn upsert_facts(&self, facts: &[OpsFact]) -> Result<Vec<bool>>;
    /// The held facts, optionally of one kind, subject or region, by kind, subject, region.
    async fn facts(
        &self,
        kind: Option<FactKind>,
        subject: Option<&str>,
        region: Option<&str>,
    ) -> Result<Vec<OpsFact>>;

    // ---- incidents -----------------------------------------------------------------------
    async fn insert_incident(&self, incident: &Incident, now: Timestamp) -> Result<()>;
    /// The incident and its version, for `update_incident`.
    async fn incident(&self, id: &IncidentId) -> Result<Option<(Incident, i64)>>;
    /// Saves a changed incident if nobody saved it since `version` was read; false otherwise
    /// (read it again and reapply the change).
    async fn update_incident(
        &self,
        incident: &Incident,
        version: i64,
        now: Timestamp,
    ) -> Result<bool>;
    /// Newest first.
    async fn list_incidents(&self, page: &Page) -> Result<Vec<Incident>>;

    // ---- case workflow --------------------------------------------------------------------
    /// A case with its workflow state and version.
    async fn case_work(&self, id: &CaseId) -> Result<Option<sb_domain::CaseWork>>;
    /// Those of the given cases that exist (any number of ids), in no particular order.
    async fn case_works(&self, ids: &[CaseId]) -> Result<Vec<sb_domain::CaseWork>>;
    /// Saves a change if the case is still at the version it names and every work item it
    /// completes is still owed; otherwise saves nothing and says which did not hold.
    async fn save_case_work(&self, change: &sb_domain::CaseChange) -> Result<CaseSave>;
    /// Saves each change as `save_case_work` would; answers what each did, in order. A
    /// change that is not saved leaves nothing behind. SQLite saves them in one transaction;
    /// PostgreSQL, where other processes write the same cases, each in its own.
    async fn save_case_works(&self, changes: &[sb_domain::CaseChange]) -> Result<Vec<CaseSave>>;
    /// Leases up to `limit` messages placed in cases that the workflow has not handled,
    /// oldest first, until `now + lease_ms`; another process sees them again only once the
    /// lease has run out (its holder crashed).
    async fn claim_case_work(
        &self,
        now: Timestamp,
        limit: u32,
        lease_ms: i64,
    ) -> Result<Vec<sb_domain::CaseWorkItem>>;
    /// How many placed messages the workflow still owes work for.
    async fn pending_case_work(&self) -> Result<i64>;
    /// Cases with an SLA clock that warns or breaches at or before `now`, most overdue first.
    async fn due_cases(&self, now: Timestamp, limit: u32) -> Result<Vec<CaseId>>;
    /// A case's history, oldest first.
    async fn case_events(&self, id: &CaseId) -> Result<Vec<sb_domain::CaseEvent>>;
    /// Events of one kind across all cases after `after_seq`, oldest first.
    async fn case_events_of_kind(
        &self,
        kind: &str,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<(CaseId, sb_domain::CaseEvent)>>;
    /// Open cases per assigned agent.
    async fn agent_loads(&self) -> Result<Vec<(String, i64)>>;
    async fn set_presence(&self, agent: &str, presence: &str, at: Timestamp) -> Result<()>;
    /// Every agent's last reported presence.
    async fn presences(&self) -> Result<Vec<(String, String)>>;
    /// Open, unassigned cases in queue order: priority, then longest waiting.
    async fn waiting_cases(&self, limit: u32) -> Result<Vec<Case>>;
    /// Creates the named queues that do not exist yet; answers every queue.
    async fn ensure_queues(&self, names: &[String]) -> Result<Vec<Queue>>;
    async fn insert_reply(&self, reply: &StoredReply) -> Result<()>;
    async fn reply(&self, id: &str) -> Result<Option<StoredReply>>;
    /// Saves a reply if it is still at `reply.version`; false otherwise.
    async fn update_reply(&self, reply: &StoredReply, now: Timestamp) -> Result<bool>;
    /// Replies oldest first, of one case and/or one status.
    /// The latest automated replies, newest first (the circuit breaker's window).
    async fn recent_automated_replies(&self, limit: u32) -> Result<Vec<StoredReply>>;
    async fn list_replies(
        &self,
        case_id: Option<&CaseId>,
        status: Option<&str>,
        limit: u32,
    ) -> Result<Vec<StoredReply>>;
}

/// Governance (G1–G4): keys, users and sessions, the audit chain, legal holds, erasure and
/// retention. Every `Store` is one; callers name this trait to use these methods.
#[async_trait]
pub trait GovernanceStore: Send + Sync {
    // ---- access ---------------------------------------------------------------------------
    async fn create_api_key(&self, key: &NewApiKey) -> Result<String>;
    async fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>>;
    async fn api_key(&self, id: &str) -> Result<Option<ApiKey>>;
    async fn api_keys(&self) -> Result<Vec<ApiKey>>;
    /// Stores `next` and lets the live key `id` expire at `old_expires_at` (or earlier, if it
    /// already expired sooner); `None` when `id` is unknown, revoked or already rotated.
    async fn rotate_api_key(
        &self,
        id: &str,
        next: &NewApiKey,
        old_expires_at: Timestamp,
    ) -> Result<Option<String>>;
    async fn revoke_api_key(&self, id: &str, now: Timestamp) -> Result<bool>;
    /// Creates or updates a user (enabling it again), ending its sessions.
    async fn upsert_user(
        &self,
        login: &str,
        password_hash: &str,
        role: &str,
        now: Timestamp,
    ) -> Result<()>;
    async fn disable_user(&self, login: &str, now: Timestamp) -> Result<bool>;
    /// Scopes a user to regions (`None`: every region); false for an unknown user.
    async fn set_user_regions(&self, login: &str, regions: Option<&[String]>) -> Result<bool>;
    async fn user(&self, login: &str) -> Result<Option<User>>;
    async fn users(&self) -> Result<Vec<User>>;
    async fn create_session(&self, session: &Session) -> Result<()>;
    async fn session(&self, token_hash: &str) -> Result<Option<Session>>;
    async fn delete_session(&self, token_hash: &str) -> Result<()>;

    // ---- audit ----------------------------------------------------------------------------
    /// Appends to the audit chain, in order; returns the sequence numbers given.
    async fn append_audit(&self, records: Vec<sb_governance::AuditRecord>) -> Result<Vec<i64>>;
    /// The latest `retention.run` entries, newest first.
    async fn retention_runs(&self, limit: u32) -> Result<Vec<sb_governance::AuditEntry>>;
    /// Entries after `after_seq` in chain order (only `customer`'s, when given).
    async fn audit_entries(
        &self,
        customer: Option<&CustomerId>,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<sb_governance::AuditEntry>>;
    /// The last appended entry's sequence number and hash (0 and the genesis hash when none).
    async fn audit_head(&self) -> Result<(i64, String)>;

    // ---- privacy --------------------------------------------------------------------------
    /// Sets (`Some(reason)`) or lifts (`None`) a legal hold; false for an unknown customer.
    async fn set_legal_hold(&self, customer: &CustomerId, reason: Option<&str>) -> Result<bool>;
    /// `None` for an unknown customer, else the hold's reason if any.
    async fn legal_hold(&self, customer: &CustomerId) -> Result<Option<Option<String>>>;
    async fn customer_messages(&self, customer: &CustomerId) -> Result<Vec<Message>>;
    async fn set_consent(&self, consent: &Consent) -> Result<()>;
    async fn consents(&self, customer: &CustomerId) -> Result<Vec<Consent>>;
    async fn erase_customer(&self, customer: &CustomerId, now: Timestamp) -> Result<Erasure>;
    /// Removes what erased rows left behind in the files (free pages, the write-ahead log).
    async fn compact(&self) -> Result<()>;
    /// Erases the content of up to `limit` messages of data class `class` older than `cutoff`.
    async fn apply_retention(
        &self,
        class: &str,
        region: Option<&str>,
        cutoff: Timestamp,
        now: Timestamp,
        limit: u32,
    ) -> Result<u64>;
}

/// One stored version of a reply template (D6): its key and number, its lifecycle state, and
/// the version itself as a JSON document whose shape the workflow crate owns.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredTemplate {
    pub key: String,
    pub version: u32,
    /// `draft`, `pending_approval`, `approved` or `retired`.
    pub state: String,
    pub doc: serde_json::Value,
}

/// Reply templates (D6) and what reply suggestions (B8) learn from. Every `Store` is one;
/// callers name this trait to use these methods.
#[async_trait]
pub trait TemplateStore: Send + Sync {
    /// Stores a new version of `key` under the next number (1 for a new key) and answers it;
    /// the document's `version` field is set to that number. Writers racing on one key each
    /// get their own number.
    async fn insert_template_version(
        &self,
        key: &str,
        state: &str,
        doc: &serde_json::Value,
    ) -> Result<u32>;
    /// Every version of `key`, newest first.
    async fn template_versions(&self, key: &str) -> Result<Vec<StoredTemplate>>;
    /// Every version of every key, by key, newest first within a key.
    async fn all_template_versions(&self) -> Result<Vec<StoredTemplate>>;
    /// Saves `template`'s state and document if the stored version is still in
    /// `expected_state`; false otherwise (someone moved it meanwhile: read it again).
    async fn update_template_version(
        &self,
        template: &StoredTemplate,
        expected_state: &str,
    ) -> Result<bool>;
    /// Replies people wrote (not automation) that went to the customer (`queued` or
    /// `sent`), newest first, at most `limit`.
    async fn past_replies(&self, limit: u32) -> Result<Vec<StoredReply>>;
}

/// Merging and splitting cases (D1), and the duplicate-customer review queue with customer
/// merges that can be undone (C2). Every `Store` is one; callers name this trait to use these
/// methods. Each change is one transaction: it happens whole or not at all.
#[async_trait]
pub trait MergeStore: Send + Sync {
    // ---- cases ------------------------------------------------------------------------------
    /// Moves every message of `merge.source` to `merge.target` and saves both changes, if
    /// both cases are still at the versions they name and the source still holds exactly
    /// `merge.messages`; otherwise saves nothing (`Changed`). Both cases' message count, last
    /// message time and last sentiment are recomputed.
    async fn merge_cases(&self, merge: &CaseMerge) -> Result<CaseSave>;
    /// Opens `split.new_case` with `split.messages`, taken from `split.source`, if the source
    /// is still at its version, still holds every one of them and keeps at least one;
    /// otherwise saves nothing (`Changed`).
    async fn split_case(&self, split: &CaseSplit) -> Result<CaseSave>;

    // ---- duplicate customers --------------------------------------------------------------
    /// Every customer that can take part in a merge, with identities: not erased, and not
    /// absorbed by a merge still in force.
    async fn mergeable_customers(&self) -> Result<Vec<Customer>>;
    /// Every pair that has a suggestion, whatever became of it, as `(customer_a, customer_b)`.
    async fn suggestion_pairs(&self) -> Result<Vec<(CustomerId, CustomerId)>>;
    /// Stores pending suggestions; a pair that already has one keeps it. Answers how many
    /// were new.
    async fn add_suggestions(&self, new: &[NewSuggestion], at: Timestamp) -> Result<u64>;
    /// Suggestions newest first, optionally of one status; `page.before` is a suggestion id.
    async fn suggestions(
        &self,
        status: Option<&str>,
        page: &Page,
    ) -> Result<Vec<IdentitySuggestion>>;
    async fn suggestion(&self, id: &str) -> Result<Option<IdentitySuggestion>>;
    /// Marks a pending suggestion rejected; false when it is not pending (any more).
    async fn reject_suggestion(&self, id: &str, by: &str, at: Timestamp) -> Result<bool>;
    /// Moves the absorbed customer's identities, messages, cases and consents to the
    /// survivor, fills the survivor's empty name, region and language from it, marks the
    /// pair's suggestion merged and keeps the record — all or nothing.
    async fn merge_customers(&self, plan: &CustomerMergePlan) -> Result<CustomerMerged>;
    async fn customer_merge(&self, id: &str) -> Result<Option<CustomerMerge>>;
    /// Gives the absorbed customer back what the merge moved, and what arrived since under
    /// `absorbed_identities` (see `MergeUndo`).
    async fn undo_customer_merge(
        &self,
        id: &str,
        absorbed_identities: &[String],
        by: &str,
        at: Timestamp,
    ) -> Result<MergeUndo>;
}

/// The web UI's read models (I2): the inbox page and the supervisor dashboard. Every `Store`
/// is one; callers name this trait to use these methods.
#[async_trait]
pub trait BoardStore: Send + Sync {
    /// Cases matching `filter`, newest first; `page.before` is a case id.
    async fn inbox(&self, filter: &InboxFilter, page: &Page) -> Result<Vec<InboxRow>>;
    /// Messages since `since` by platform, intent and sentiment in `bucket_ms` buckets, the
    /// cases opened since with their first response and SLA clocks, and the open backlog.
    async fn dashboard(&self, since: Timestamp, bucket_ms: i64) -> Result<DashboardData>;
}

/// Opens the store named by a URL: `sqlite://PATH` or `postgres://…`.
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    open_partitioned(url, &[]).await
}

/// As `open`, with storage of their own for the message content of the given regions (G5).
pub async fn open_partitioned(url: &str, partitions: &[Partition]) -> Result<Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Arc::new(PgStore::open_partitioned(url, partitions).await?));
    }
    if let Some(path) = url.strip_prefix("sqlite://") {
        return Ok(Arc::new(
            SqliteStore::open_partitioned(std::path::Path::new(path), partitions).await?,
        ));
    }
    Err(StoreError::UnsupportedUrl(url.to_owned()))
}
