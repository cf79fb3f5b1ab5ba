//! Service KPIs (H1) on hand-built case histories: a real SQLite store, the real pipeline and
//! case workflow, an injected clock, the rollup stage folding the stored case events, and the
//! report read from the rollups only. One scenario per definition of docs/METRICS.md.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sb_analytics::kpi::{Hours, KpiRow, assemble};
use sb_domain::{
    Author, CaseId, CaseStatus, Clock, ManualClock, MessageId, MessageKind, NewCaseEvent,
    NewMessage, Platform, Tier, Timestamp, Visibility,
};
use sb_store::reports::{KpiQuery, PeriodUnit};
use sb_store::{MessageRecord, PgStore, SqliteStore, Store};
use sb_workflow::{Workflow, WorkflowConfig};
use std::sync::Arc;
use switchboard_pipeline::{CaseWorkflow, Pipeline, PipelineConfig, PipelineEvents, Rollups};

/// Office hours 09:00–17:00 UTC on weekdays; first response within an hour of business time,
/// next response within 30 minutes, resolution within 8 hours. Resolved cases close a day
/// later.
const CONFIG: &str = r#"
close_after_days = 1

[[calendars]]
name = "office"
time_zone = "UTC"
[calendars.hours]
mon = ["09:00-17:00"]
tue = ["09:00-17:00"]
wed = ["09:00-17:00"]
thu = ["09:00-17:00"]
fri = ["09:00-17:00"]

[[sla]]
name = "standard"
calendar = "office"
first_response_mins = 60
next_response_mins = 30
resolution_mins = 480

[[queues]]
name = "general"

[[agents]]
id = "lena"
name = "Lena"
team = "berlin"
queues = ["general"]

[[agents]]
id = "omar"
name = "Omar"
team = "lisbon"
queues = ["general"]
"#;

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;

/// Monday 2026-11-23, 09:00 UTC.
fn monday_0900() -> Timestamp {
    Timestamp::parse_rfc3339("2026-11-23T09:00:00Z").unwrap()
}

fn at(minutes: i64) -> Timestamp {
    monday_0900().plus_millis(minutes * MIN)
}

struct Rig {
    store: Arc<dyn Store>,
    clock: Arc<ManualClock>,
    pipeline: Pipeline,
    flow: Arc<CaseWorkflow>,
    rollups: Rollups,
    _dir: tempfile::TempDir,
}

/// A rig on SQLite, and one on PostgreSQL (a schema of its own) when
/// `SWITCHBOARD_TEST_PG_URL` names a server.
async fn rigs() -> Vec<Rig> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Arc::new(SqliteStore::open(&dir.path().join("t.db")).await.unwrap());
    let mut out = vec![rig(sqlite, dir).await];
    if let Ok(url) = std::env::var("SWITCHBOARD_TEST_PG_URL") {
        let schema = format!("t_{}", ulid::Ulid::generate().to_string().to_lowercase());
        let pg = Arc::new(PgStore::open_in_schema(&url, &schema).await.unwrap());
        out.push(rig(pg, tempfile::tempdir().unwrap()).await);
    }
    out
}

async fn rig(store: Arc<dyn Store>, dir: tempfile::TempDir) -> Rig {
    let clock = Arc::new(ManualClock::at(monday_0900()));
    let cfg: WorkflowConfig = toml::from_str(CONFIG).unwrap();
    let wf = Arc::new(Workflow::compile(&cfg).unwrap());
    let events = PipelineEvents::default();
    let flow = Arc::new(
        CaseWorkflow::new(store.clone(), wf.clone(), clock.clone(), events.clone())
            .with_queues()
            .await
            .unwrap(),
    );
    let pipeline = Pipeline::new(
        store.clone(),
        clock.clone(),
        events,
        PipelineConfig::default(),
    )
    .with_casework(flow.clone());
    let rollups = Rollups::new(store.clone(), clock.clone(), &wf);
    Rig {
        store,
        clock,
        pipeline,
        flow,
        rollups,
        _dir: dir,
    }
}

impl Rig {
    /// `handle` writes at minute `m` (of Monday 09:00); answers the case it lands in.
    async fn writes(&self, handle: &str, m: i64, text: &str) -> CaseId {
        self.clock.set(at(m));
        let now = self.clock.now();
        let id = MessageId::generate();
        self.store
            .append_messages(&[MessageRecord {
                id: id.clone(),
                received_at: now,
                message: NewMessage {
                    source: Platform::X,
                    external_id: format!("{handle}-{m}"),
                    author: Author {
                        handle: handle.into(),
                        name: None,
                        followers: Some(10),
                        verified: false,
                    },
                    text: text.into(),
                    created_at: Some(now),
                    channel: "x:@acme".into(),
                    kind: MessageKind::Dm,
                    visibility: Visibility::Private,
                    region: Some("de".into()),
                    in_reply_to: None,
                    metrics: serde_json::json!({}),
                    raw: serde_json::json!({}),
                },
            }])
            .await
            .unwrap();
        self.pipeline.drain().await.unwrap();
        self.store
            .message(&id)
            .await
            .unwrap()
            .unwrap()
            .case_id
            .unwrap()
    }

    async fn change(
        &self,
        case: &CaseId,
        actor: &str,
        m: i64,
        f: impl Fn(&mut switchboard_pipeline::casework::CaseEdit<'_>, Timestamp),
    ) {
        self.clock.set(at(m));
        self.flow
            .update(case, actor, false, |e| {
                f(e, at(m));
                Ok(())
            })
            .await
            .unwrap();
    }

    /// A reply as the replies API records it: the clocks hear of it, and the history says so.
    async fn reply(&self, case: &CaseId, agent: &str, m: i64, human: bool) {
        self.change(case, agent, m, |e, t| {
            e.replied(human, true, t);
            e.event("reply", t, serde_json::json!({ "automated": !human }));
        })
        .await;
    }

    async fn assign(&self, case: &CaseId, agent: &str, m: i64) {
        self.change(case, "supervisor", m, |e, t| {
            e.assign(Some(agent), "manual", t);
        })
        .await;
    }

    async fn resolve(&self, case: &CaseId, agent: &str, m: i64) {
        self.change(case, agent, m, |e, t| {
            e.set_status(CaseStatus::Resolved, t);
        })
        .await;
    }

    /// Time passes to minute `m`: clocks fire and resolved cases close.
    async fn sweep(&self, m: i64) {
        self.clock.set(at(m));
        self.flow.sweep(self.clock.now()).await.unwrap();
    }

    async fn answer_survey(
        &self,
        case: &CaseId,
        m: i64,
        csat: u8,
        nps: Option<u8>,
        ces: Option<u8>,
    ) {
        self.change(case, "customer", m, |e, t| {
            e.change.events.push(NewCaseEvent {
                kind: "survey.answered".into(),
                actor: "customer".into(),
                at: t,
                data: serde_json::json!({ "csat": csat, "nps": nps, "ces": ces }),
                dedup: None,
            });
        })
        .await;
    }

    /// Folds everything stored so far.
    async fn fold(&self) {
        self.rollups
            .settle(500, std::time::Duration::from_millis(10))
            .await
            .unwrap();
        assert_eq!(self.store.rollup_lag(1).await.unwrap(), (0, 0));
    }

    async fn report(
        &self,
        dim: &str,
        unit: PeriodUnit,
        hours: Hours,
        cost: Option<f64>,
    ) -> Vec<KpiRow> {
        self.fold().await;
        let day0 = monday_0900().millis().div_euclid(86_400_000);
        let q = KpiQuery {
            dim: dim.into(),
            from_day: day0 - 7,
            to_day: day0 + 30,
            unit,
        };
        let sums = self.store.kpi_sums(&q).await.unwrap();
        let backlog = self.store.kpi_backlog_changes(dim, q.to_day).await.unwrap();
        assemble(&q, &sums, &backlog, hours, cost)
    }

    /// The whole history as one row (one month, everything).
    async fn total(&self, hours: Hours) -> KpiRow {
        let rows = self
            .report("all", PeriodUnit::Month, hours, Some(30.0))
            .await;
        assert_eq!(rows.len(), 1, "{rows:?}");
        rows.into_iter().next().unwrap()
    }
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-6)
}

#[tokio::test]
async fn first_response_time_is_the_first_human_reply_in_calendar_and_business_time() {
    for r in rigs().await {
        // Monday 09:00: a bot answers at once, Lena at 09:45.
        let a = r.writes("@anna", 0, "My parcel is late").await;
        r.reply(&a, "bot", 1, false).await;
        r.reply(&a, "lena", 45, true).await;
        // Monday 16:30: answered on Tuesday 09:40 — 17h10 on the clock, 70 office minutes.
        let b = r.writes("@bert", 450, "Where is my refund?").await;
        r.reply(&b, "lena", 24 * 60 + 40, true).await;

        let cal = r.total(Hours::Calendar).await;
        assert_eq!(cal.figures.first_response.count, 2);
        assert!(close(
            cal.figures.first_response.mean_ms,
            ((45 * MIN) + (17 * HOUR + 10 * MIN)) as f64 / 2.0
        ));
        let bus = r.total(Hours::Business).await;
        assert_eq!(bus.figures.first_response.count, 2);
        assert!(close(
            bus.figures.first_response.mean_ms,
            ((45 + 70) * MIN) as f64 / 2.0
        ));
        // SLA attainment: 45 ≤ 60 met, 70 > 60 missed.
        assert_eq!(bus.figures.sla.first_response.fulfilled, 2);
        assert_eq!(bus.figures.sla.first_response.met, 1);
        assert!(close(bus.figures.sla.first_response.pct, 50.0));
        assert_eq!(
            bus.figures.sla.breaches, 1,
            "Bert's first response breached"
        );
        assert_eq!(
            cal.figures.human_replies, 2,
            "the bot's reply is not counted"
        );
    }
}

#[tokio::test]
async fn next_response_time_runs_from_the_customer_message_after_an_answer() {
    for r in rigs().await {
        let a = r.writes("@anna", 0, "My parcel is late").await;
        r.reply(&a, "lena", 10, true).await;
        r.writes("@anna", 60, "Any news?").await;
        r.reply(&a, "lena", 80, true).await;
        r.writes("@anna", 120, "Still nothing").await;
        r.reply(&a, "lena", 165, true).await;

        let row = r.total(Hours::Calendar).await;
        assert_eq!(row.figures.next_response.count, 2);
        assert!(close(
            row.figures.next_response.mean_ms,
            (65 * MIN) as f64 / 2.0
        ));
        let bus = r.total(Hours::Business).await;
        assert_eq!(bus.figures.sla.next_response.fulfilled, 2);
        assert_eq!(bus.figures.sla.next_response.met, 1, "45 minutes > 30");
        assert!(close(bus.figures.sla.next_response.pct, 50.0));
    }
}

#[tokio::test]
async fn first_and_full_resolution_differ_when_a_resolved_case_reopens() {
    for r in rigs().await {
        let a = r.writes("@anna", 0, "My parcel is late").await;
        r.reply(&a, "lena", 10, true).await;
        r.resolve(&a, "lena", 120).await;
        // The customer comes back an hour later; the case reopens and is resolved again.
        r.writes("@anna", 180, "It still has not arrived").await;
        r.resolve(&a, "lena", 240).await;

        let before_close = r.total(Hours::Calendar).await;
        assert_eq!(before_close.figures.first_resolution.count, 1);
        assert!(close(
            before_close.figures.first_resolution.mean_ms,
            (2 * HOUR) as f64
        ));
        assert_eq!(
            before_close.figures.full_resolution.count, 0,
            "full resolution is known once the case closes"
        );
        assert_eq!(before_close.figures.resolutions, 2);
        assert_eq!(before_close.figures.reopened, 1);

        r.sweep(240 + 25 * 60).await;
        let row = r.total(Hours::Calendar).await;
        assert_eq!(row.figures.full_resolution.count, 1);
        assert!(close(
            row.figures.full_resolution.mean_ms,
            (4 * HOUR) as f64
        ));
        let bus = r.total(Hours::Business).await;
        assert!(close(
            bus.figures.first_resolution.mean_ms,
            (2 * HOUR) as f64
        ));
        // The resolution clock stops while the case is resolved: 2 h + 1 h of business time.
        assert!(
            close(bus.figures.full_resolution.mean_ms, (3 * HOUR) as f64),
            "{:?}",
            bus.figures.full_resolution
        );
        assert_eq!(bus.figures.sla.resolution.fulfilled, 2);
        assert!(close(bus.figures.sla.resolution.pct, 100.0));
    }
}

#[tokio::test]
async fn backlog_is_the_cases_still_unresolved_at_the_end_of_each_day() {
    for r in rigs().await {
        let a = r.writes("@anna", 0, "Late parcel").await;
        let b = r.writes("@bert", 30, "Wrong size").await;
        let _c = r.writes("@cleo", 60, "Broken lid").await;
        r.resolve(&a, "lena", 120).await;
        // Tuesday: Bert's case is resolved too.
        r.resolve(&b, "lena", 24 * 60 + 30).await;

        let days = r
            .report("all", PeriodUnit::Day, Hours::Calendar, None)
            .await;
        let monday = days
            .iter()
            .find(|d| d.period_start == "2026-11-23")
            .unwrap();
        let tuesday = days
            .iter()
            .find(|d| d.period_start == "2026-11-24")
            .unwrap();
        assert_eq!(monday.figures.cases_opened, 3);
        assert_eq!(monday.figures.resolutions, 1);
        assert_eq!(monday.figures.backlog, 2);
        assert_eq!(tuesday.figures.cases_opened, 0);
        assert_eq!(tuesday.figures.backlog, 1);
    }
}

#[tokio::test]
async fn handle_time_runs_from_assignment_to_resolution_and_prices_a_resolution() {
    for r in rigs().await {
        let a = r.writes("@anna", 0, "Late parcel").await;
        r.assign(&a, "lena", 10).await;
        r.reply(&a, "lena", 20, true).await;
        r.resolve(&a, "lena", 70).await;
        let b = r.writes("@bert", 100, "Wrong size").await;
        r.assign(&b, "lena", 100).await;
        r.resolve(&b, "lena", 130).await;

        let row = r.total(Hours::Calendar).await;
        assert_eq!(row.figures.handle_time.count, 2);
        assert!(close(row.figures.handle_time.mean_ms, (45 * MIN) as f64));
        // 90 handled minutes at 30 an hour over 2 resolutions.
        assert!(close(row.figures.cost_per_resolution, 22.5));
        let bus = r.total(Hours::Business).await;
        assert_eq!(
            bus.figures.handle_time.count, 0,
            "handle time is calendar time only"
        );
    }
}

#[tokio::test]
async fn first_contact_resolution_counts_closed_cases_resolved_once_with_one_reply() {
    for r in rigs().await {
        // Anna: one reply, resolved, never reopened — first contact.
        let a = r.writes("@anna", 0, "Late parcel").await;
        r.reply(&a, "lena", 10, true).await;
        r.resolve(&a, "lena", 20).await;
        // Bert: two replies — not first contact.
        let b = r.writes("@bert", 0, "Wrong size").await;
        r.reply(&b, "lena", 10, true).await;
        r.reply(&b, "lena", 30, true).await;
        r.resolve(&b, "lena", 40).await;
        // Cleo: reopened — not first contact.
        let c = r.writes("@cleo", 0, "Broken lid").await;
        r.reply(&c, "lena", 10, true).await;
        r.resolve(&c, "lena", 20).await;
        r.writes("@cleo", 60, "Still broken").await;
        r.resolve(&c, "lena", 90).await;
        // Dana: resolved but not yet closed — not counted either way.
        r.sweep(20 + 24 * 60 + 80).await;
        let d = r.writes("@dana", 20 + 24 * 60 + 80, "Hello?").await;
        r.reply(&d, "lena", 20 + 24 * 60 + 90, true).await;
        r.resolve(&d, "lena", 20 + 24 * 60 + 100).await;

        let row = r.total(Hours::Calendar).await;
        assert_eq!(row.figures.closed, 3);
        assert!(close(row.figures.fcr_pct, 100.0 / 3.0));
    }
}

#[tokio::test]
async fn csat_nps_and_ces_come_from_the_answered_surveys() {
    for r in rigs().await {
        let answers = [
            (5, Some(10), Some(7)),
            (4, Some(9), Some(6)),
            (2, Some(6), Some(2)),
            (3, None, None),
        ];
        for (i, (csat, nps, ces)) in answers.into_iter().enumerate() {
            let handle = format!("@customer{i}");
            let case = r.writes(&handle, 0, "Question").await;
            r.resolve(&case, "lena", 30).await;
            r.answer_survey(&case, 60, csat, nps, ces).await;
        }
        let row = r.total(Hours::Calendar).await;
        assert_eq!(row.figures.survey_responses, 4);
        assert!(close(row.figures.csat_pct, 50.0));
        assert_eq!(row.figures.nps_responses, 3);
        assert!(close(row.figures.nps, 100.0 / 3.0));
        assert_eq!(row.figures.ces_responses, 3);
        assert!(close(row.figures.ces, 5.0));
    }
}

#[tokio::test]
async fn figures_group_by_agent_team_platform_and_tier() {
    for r in rigs().await {
        r.store
            .upsert_customer(Platform::X, "@vip", None, Tier::Vip, 5_000.0, at(0), None)
            .await
            .unwrap();
        let a = r.writes("@anna", 0, "Late parcel").await;
        let v = r.writes("@vip", 0, "Late parcel").await;
        r.assign(&a, "lena", 5).await;
        r.assign(&v, "omar", 5).await;
        r.reply(&a, "lena", 20, true).await;
        r.reply(&v, "omar", 40, true).await;

        let teams = r
            .report("team", PeriodUnit::Week, Hours::Calendar, None)
            .await;
        let groups: Vec<(&str, i64)> = teams
            .iter()
            .map(|t| (t.group.as_str(), t.figures.first_response.count))
            .collect();
        assert_eq!(groups, vec![("berlin", 1), ("lisbon", 1)]);
        assert_eq!(
            teams[0].period_start, "2026-11-23",
            "ISO weeks start on Monday"
        );
        let tiers = r
            .report("tier", PeriodUnit::Day, Hours::Calendar, None)
            .await;
        let vip = tiers.iter().find(|t| t.group == "vip").unwrap();
        assert!(close(vip.figures.first_response.mean_ms, (40 * MIN) as f64));
        let platforms = r
            .report("platform", PeriodUnit::Day, Hours::Calendar, None)
            .await;
        assert_eq!(platforms.len(), 1);
        assert_eq!(platforms[0].group, "x");
        assert_eq!(platforms[0].figures.cases_opened, 2);
    }
}

#[tokio::test]
async fn folding_in_small_batches_or_twice_gives_the_same_figures() {
    for r in rigs().await {
        let a = r.writes("@anna", 0, "Late parcel").await;
        r.reply(&a, "lena", 10, true).await;
        r.writes("@anna", 30, "Any news?").await;
        r.reply(&a, "lena", 50, true).await;
        r.resolve(&a, "lena", 60).await;
        r.sweep(60 + 25 * 60).await;

        let one_by_one = r.rollups.clone().with_batch(1);
        let f = one_by_one
            .settle(500, std::time::Duration::from_millis(10))
            .await
            .unwrap();
        assert!(f.case_events > 5, "every event folded: {f:?}");
        let small = r.total(Hours::Calendar).await;
        // Nothing is left to fold, and folding again adds nothing.
        assert_eq!(r.rollups.catch_up().await.unwrap().case_events, 0);
        let again = r.total(Hours::Calendar).await;
        assert_eq!(small, again);
        assert_eq!(small.figures.cases_opened, 1);
        assert_eq!(small.figures.first_response.count, 1);
        assert_eq!(small.figures.full_resolution.count, 1);
        let marks = r.store.rollup_marks().await.unwrap();
        let folded: i64 = marks
            .iter()
            .filter(|m| m.name == "kpi" || m.name == "cases")
            .map(|m| m.folded)
            .sum();
        assert_eq!(folded as usize, f.case_events, "{marks:?}");
    }
}

#[tokio::test]
async fn two_workers_folding_at_once_fold_each_fact_once() {
    for r in rigs().await {
        for i in 0..6 {
            let case = r.writes(&format!("@c{i}"), i, "Late parcel").await;
            r.reply(&case, "lena", 10 + i, true).await;
            r.resolve(&case, "lena", 20 + i).await;
        }
        let a = r.rollups.clone().with_batch(3);
        let b = r.rollups.clone().with_batch(2);
        let pause = std::time::Duration::from_millis(10);
        let (fa, fb) = tokio::join!(a.settle(500, pause), b.settle(500, pause));
        let (fa, fb) = (fa.unwrap(), fb.unwrap());
        let row = r.total(Hours::Calendar).await;
        assert_eq!(row.figures.cases_opened, 6, "{fa:?} {fb:?}");
        assert_eq!(row.figures.first_response.count, 6);
        assert_eq!(row.figures.resolutions, 6);
        assert_eq!(row.figures.backlog, 0);
    }
}

#[tokio::test]
async fn a_finished_week_is_written_once_as_csv_and_html() {
    for r in rigs().await {
        let a = r.writes("@anna", 0, "Late parcel").await;
        r.reply(&a, "lena", 30, true).await;
        r.fold().await;
        let out = tempfile::tempdir().unwrap();
        let weekly = switchboard_pipeline::weekly::WeeklyReports::new(
            r.store.clone(),
            r.clock.clone(),
            out.path().join("weekly"),
        );
        // Tuesday of the next week: the week of 23 November is over and gets its report.
        r.clock.set(at(8 * 24 * 60));
        let path = weekly.write_due().await.unwrap().unwrap();
        assert!(path.ends_with("kpi-week-2026-11-23.csv"), "{path:?}");
        let csv = std::fs::read_to_string(&path).unwrap();
        assert!(csv.starts_with("section,period_start,group,cases_opened"));
        assert!(
            csv.contains("day,2026-11-23,all,1,0,0,1,1,1,"),
            "opened 1, backlog 1, one reply, one first response: {csv}"
        );
        let html = std::fs::read_to_string(path.with_extension("html")).unwrap();
        assert!(html.contains("Weekly report, week of 2026-11-23"));
        assert!(
            html.contains("<td>30.0</td>"),
            "first response mean, minutes: {html}"
        );
        assert!(weekly.write_due().await.unwrap().is_none(), "written once");
    }
}

#[tokio::test]
async fn cohorts_count_each_customer_once_per_month_however_the_messages_are_folded() {
    // November 2026 and December 2026, as months since January 1970.
    let (nov, dec) = (56 * 12 + 10, 56 * 12 + 11);
    for r in rigs().await {
        // Anna writes twice in November and once in December; Ben once in November.
        r.writes("@anna", 0, "Late parcel").await;
        r.writes("@anna", 60, "Any news?").await;
        r.writes("@ben", 90, "Where is my order?").await;
        r.writes("@anna", 10 * 24 * 60, "Thanks, it came").await;
        r.rollups
            .clone()
            .with_batch(1)
            .settle(500, std::time::Duration::from_millis(10))
            .await
            .unwrap();
        assert_eq!(r.rollups.catch_up().await.unwrap().messages, 0);
        let cells = r.store.cohort_cells(nov, dec).await.unwrap();
        assert_eq!(cells, vec![(nov, nov, 2), (nov, dec, 1)]);
        assert!(r.store.cohort_cells(dec, dec).await.unwrap().is_empty());
    }
}
