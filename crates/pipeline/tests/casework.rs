//! The case workflow as a care team lives it, on a real SQLite store with an injected clock:
//! a German VIP complaint at 23:00 Berlin time goes to the German night queue, warns at 45
//! minutes, breaches at 60 and escalates to the supervisor; time spent pending does not
//! count; a human reply answers the customer and a bot's does not; a resolved case reopens
//! on a new message; an agent coming online takes the waiting case; work is done once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sb_domain::{
    Author, CaseId, CaseStatus, Clock, ManualClock, MessageId, MessageKind, NewMessage, Platform,
    Tier, Timestamp, Visibility,
};
use sb_store::{MessageRecord, SqliteStore, Store};
use sb_workflow::{Workflow, WorkflowConfig};
use std::sync::Arc;
use switchboard_pipeline::{CaseWorkflow, Pipeline, PipelineConfig, PipelineEvents};

const CONFIG: &str = r#"
[[sla]]
name = "vip"
when = { tiers = ["vip"] }
first_response_mins = 60
next_response_mins = 30
resolution_mins = 1440
warn_at = 0.75

[[sla]]
name = "standard"
first_response_mins = 240

[[queues]]
name = "de-night"
when = { languages = ["de"], time_zone = "Europe/Berlin", hours = ["22:00-06:00"] }

[[queues]]
name = "de-day"
when = { languages = ["de"] }

[[queues]]
name = "general"

[[agents]]
id = "lena"
name = "Lena"
queues = ["de-night"]
languages = ["de"]
capacity = 1

[[escalations]]
name = "breach to supervisor"
to = "supervisor"
deadline_mins = 15
when = { sla_breached = true }

[[rules]]
name = "refund requests"
on = ["case.opened", "message.received"]
when = [{ field = "text", op = "contains_any", value = ["erstattung", "refund"] }]
then = [{ action = "tag", value = "refund" }]
"#;

/// 2026-11-23 23:00 in Berlin (UTC+1).
fn berlin_2300() -> Timestamp {
    Timestamp::parse_rfc3339("2026-11-23T22:00:00Z").unwrap()
}

const MIN: i64 = 60_000;

struct Rig {
    store: Arc<dyn Store>,
    clock: Arc<ManualClock>,
    pipeline: Pipeline,
    flow: Arc<CaseWorkflow>,
    _dir: tempfile::TempDir,
}

async fn rig() -> Rig {
    rig_with(CONFIG).await
}

async fn rig_with(config: &str) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("t.db")).await.unwrap());
    let clock = Arc::new(ManualClock::at(berlin_2300()));
    let cfg: WorkflowConfig = toml::from_str(config).unwrap();
    let wf = Arc::new(Workflow::compile(&cfg).unwrap());
    let events = PipelineEvents::default();
    let table: toml::Table = toml::from_str(config).unwrap();
    let flow = Arc::new(
        CaseWorkflow::new(store.clone(), wf, clock.clone(), events.clone())
            .editable(cfg, sb_workflow::config::routing_document(&table))
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
    store
        .upsert_customer(
            Platform::X,
            "@klaus_vip",
            Some("Klaus"),
            Tier::Vip,
            12_000.0,
            clock.now(),
            None,
        )
        .await
        .unwrap();
    Rig {
        store,
        clock,
        pipeline,
        flow,
        _dir: dir,
    }
}

impl Rig {
    async fn customer_writes(&self, external_id: &str, text: &str) -> CaseId {
        let now = self.clock.now();
        let id = MessageId::generate();
        self.store
            .append_messages(&[MessageRecord {
                id: id.clone(),
                received_at: now,
                message: NewMessage {
                    source: Platform::X,
                    external_id: external_id.into(),
                    author: Author {
                        handle: "@klaus_vip".into(),
                        name: Some("Klaus".into()),
                        followers: Some(120),
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

    /// Stores a message from `author` on X without running the pipeline.
    async fn append(&self, external_id: &str, author: &str, text: &str) -> MessageId {
        let id = MessageId::generate();
        let mut m = NewMessage::parse(serde_json::json!({
            "source": "x", "external_id": external_id, "author": author,
            "channel": "x:@acme", "text": text,
        }))
        .unwrap();
        m.created_at = Some(self.clock.now());
        self.store
            .append_messages(&[MessageRecord {
                id: id.clone(),
                received_at: self.clock.now(),
                message: m,
            }])
            .await
            .unwrap();
        id
    }

    async fn at(&self, minutes_after_2300: i64) {
        self.clock
            .set(berlin_2300().plus_millis(minutes_after_2300 * MIN));
        self.flow.sweep(self.clock.now()).await.unwrap();
    }

    async fn events(&self, case: &CaseId, kind: &str) -> Vec<Timestamp> {
        self.store
            .case_events(case)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.kind == kind)
            .map(|e| e.at)
            .collect()
    }
}

const COMPLAINT: &str = "Meine Bestellung ist seit zwei Wochen verspätet und niemand antwortet mir. \
    Ich will eine Erstattung, das ist wirklich eine Frechheit!";

fn after(min: i64) -> Timestamp {
    berlin_2300().plus_millis(min * MIN)
}

#[tokio::test]
async fn a_german_vip_complaint_at_23_00_goes_to_the_night_queue_warns_breaches_and_escalates() {
    let r = rig().await;
    let case = r.customer_writes("t1", COMPLAINT).await;
    let c = r.store.case(&case).await.unwrap().unwrap();
    let queues = r.store.queues().await.unwrap();
    let night = queues.iter().find(|q| q.name == "de-night").unwrap();
    assert_eq!(
        c.queue_id.as_ref(),
        Some(&night.id),
        "routed to the night desk"
    );
    assert_eq!(c.language.as_deref(), Some("de"));
    assert!(c.tags.contains(&"refund".to_owned()), "the rule tagged it");
    assert_eq!(c.assignee, None, "Lena is offline: the case waits");

    r.at(44).await;
    assert!(r.events(&case, "sla.warn").await.is_empty());
    r.at(46).await;
    assert_eq!(r.events(&case, "sla.warn").await, vec![after(45)]);
    r.at(59).await;
    assert!(r.events(&case, "sla.breach").await.is_empty());
    r.at(61).await;
    assert_eq!(r.events(&case, "sla.breach").await, vec![after(60)]);
    let escalated = r.store.case_events(&case).await.unwrap();
    let esc = escalated.iter().find(|e| e.kind == "escalated").unwrap();
    assert_eq!(esc.data["to"], "supervisor");
    let c = r.store.case(&case).await.unwrap().unwrap();
    assert_eq!(c.status, CaseStatus::Escalated);

    // The supervisor did not acknowledge within 15 minutes: the escalation breaches too.
    r.at(80).await;
    assert_eq!(r.events(&case, "escalation.breach").await.len(), 1);
    // Sweeping again changes nothing.
    r.at(90).await;
    assert_eq!(r.events(&case, "sla.breach").await.len(), 1);
    assert_eq!(r.events(&case, "escalation.breach").await.len(), 1);
}

#[tokio::test]
async fn time_waiting_on_the_customer_does_not_count() {
    let r = rig().await;
    let case = r.customer_writes("t1", COMPLAINT).await;
    r.clock.set(after(10));
    r.flow
        .update(&case, "agent-key", false, |e| {
            e.set_status(CaseStatus::Pending, after(10));
            Ok(())
        })
        .await
        .unwrap();
    r.at(30).await;
    // The customer answers at 23:30: the case is open again and the clock resumes.
    let again = r
        .customer_writes("t2", "Hier ist meine Bestellnummer 12345.")
        .await;
    assert_eq!(again, case);
    assert_eq!(
        r.store.case(&case).await.unwrap().unwrap().status,
        CaseStatus::Open
    );
    r.at(64).await;
    assert!(
        r.events(&case, "sla.warn").await.is_empty(),
        "20 paused minutes"
    );
    r.at(66).await;
    assert_eq!(r.events(&case, "sla.warn").await, vec![after(65)]);
    r.at(81).await;
    assert_eq!(r.events(&case, "sla.breach").await, vec![after(80)]);
    assert_eq!(
        r.events(&case, "sla.pause").await.len(),
        2,
        "both clocks paused"
    );
}

#[tokio::test]
async fn only_a_human_reply_answers_the_customer_and_a_resolved_case_reopens() {
    let r = rig().await;
    let case = r.customer_writes("t1", COMPLAINT).await;
    r.clock.set(after(5));
    r.flow
        .update(&case, "bot", false, |e| {
            e.replied(false, true, after(5));
            Ok(())
        })
        .await
        .unwrap();
    assert!(r.events(&case, "sla.fulfil").await.is_empty());
    r.clock.set(after(20));
    r.flow
        .update(&case, "agent-key", false, |e| {
            e.replied(true, true, after(20));
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(r.events(&case, "sla.fulfil").await, vec![after(20)]);
    let work = r.store.case_work(&case).await.unwrap().unwrap();
    assert_eq!(work.first_response_at, Some(after(20)));
    r.at(120).await;
    assert!(r.events(&case, "sla.breach").await.is_empty());

    r.clock.set(after(130));
    r.flow
        .update(&case, "agent-key", false, |e| {
            e.set_status(CaseStatus::Resolved, after(130));
            Ok(())
        })
        .await
        .unwrap();
    r.clock.set(after(200));
    let again = r
        .customer_writes("t3", "Es ist immer noch nicht angekommen.")
        .await;
    assert_eq!(again, case, "the resolved case reopens");
    let work = r.store.case_work(&case).await.unwrap().unwrap();
    assert_eq!(work.case.status, CaseStatus::Open);
    assert_eq!(work.first_resolved_at, Some(after(130)), "history is kept");
    assert_eq!(r.events(&case, "reopened").await, vec![after(200)]);
    // The next response is now owed within 30 minutes.
    r.at(231).await;
    assert_eq!(r.events(&case, "sla.breach").await, vec![after(230)]);
}

#[tokio::test]
async fn an_agent_coming_online_takes_the_waiting_case_up_to_their_capacity() {
    let r = rig().await;
    let first = r.customer_writes("t1", COMPLAINT).await;
    assert_eq!(r.store.case(&first).await.unwrap().unwrap().assignee, None);
    r.store
        .set_presence("lena", "online", r.clock.now())
        .await
        .unwrap();
    assert_eq!(r.flow.assign_waiting().await.unwrap(), 1);
    assert_eq!(
        r.store
            .case(&first)
            .await
            .unwrap()
            .unwrap()
            .assignee
            .as_deref(),
        Some("lena")
    );
    // Another German customer at night: Lena is at capacity (1), so it waits.
    r.store
        .upsert_customer(
            Platform::X,
            "@anna",
            None,
            Tier::Standard,
            0.0,
            r.clock.now(),
            None,
        )
        .await
        .unwrap();
    let second = {
        let id = r
            .append(
                "t9",
                "@anna",
                "Mein Paket ist nicht angekommen, bitte helfen Sie mir schnell.",
            )
            .await;
        r.pipeline.drain().await.unwrap();
        r.store
            .message(&id)
            .await
            .unwrap()
            .unwrap()
            .case_id
            .unwrap()
    };
    assert_eq!(r.store.case(&second).await.unwrap().unwrap().assignee, None);
    // Lena resolves the first: capacity frees and the waiting case is hers.
    r.flow
        .update(&first, "lena", false, |e| {
            e.set_status(CaseStatus::Resolved, r.clock.now());
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(r.flow.assign_waiting().await.unwrap(), 1);
    assert_eq!(
        r.store
            .case(&second)
            .await
            .unwrap()
            .unwrap()
            .assignee
            .as_deref(),
        Some("lena")
    );
}

#[tokio::test]
async fn cases_opened_together_are_shared_by_load_and_stop_at_capacity() {
    let r = rig_with(
        r#"
[[queues]]
name = "general"
strategy = "least_loaded"

[[agents]]
id = "ana"
name = "Ana"
queues = ["general"]
capacity = 2

[[agents]]
id = "ben"
name = "Ben"
queues = ["general"]
capacity = 2
"#,
    )
    .await;
    for agent in ["ana", "ben"] {
        r.store
            .set_presence(agent, "online", r.clock.now())
            .await
            .unwrap();
    }
    // Five customers write before the pipeline runs: their cases are worked in one batch.
    let mut ids = Vec::new();
    for i in 0..5 {
        let (ext, author) = (format!("b{i}"), format!("@customer{i}"));
        ids.push(
            r.append(&ext, &author, "My parcel has not arrived, please help.")
                .await,
        );
    }
    r.pipeline.drain().await.unwrap();
    let mut assignees = Vec::new();
    for id in &ids {
        let case = r.store.message(id).await.unwrap().unwrap().case_id.unwrap();
        assignees.push(r.store.case(&case).await.unwrap().unwrap().assignee);
    }
    let held = |agent: &str| {
        assignees
            .iter()
            .filter(|a| a.as_deref() == Some(agent))
            .count()
    };
    assert_eq!((held("ana"), held("ben")), (2, 2), "{assignees:?}");
    assert_eq!(assignees.iter().filter(|a| a.is_none()).count(), 1);
    assert_eq!(r.store.pending_case_work().await.unwrap(), 0);
}

#[tokio::test]
async fn a_case_that_cannot_be_read_holds_up_only_its_own_work() {
    let r = rig().await;
    let broken = r.customer_writes("t1", COMPLAINT).await;
    // Its SLA state is damaged on disk: valid JSON, but not an SLA state.
    let pool = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}",
        r._dir.path().join("t.db").display()
    ))
    .await
    .unwrap();
    sqlx::query("UPDATE cases SET sla = '{\"bogus\": 1}' WHERE id = ?")
        .bind(broken.as_str())
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    // Klaus writes again into the broken case, and two others open cases, all in one step.
    r.append("t2", "@klaus_vip", "Noch immer nichts.").await;
    let others = [
        r.append("o1", "@ola", "Where is my parcel?").await,
        r.append("o2", "@piet", "My parcel is late.").await,
    ];
    r.pipeline.drain().await.unwrap();
    for id in &others {
        let case = r.store.message(id).await.unwrap().unwrap().case_id.unwrap();
        assert_eq!(r.events(&case, "sla.policy").await.len(), 1, "{case}");
    }
    // Only the broken case's work is still owed; once its lease runs out it is tried again
    // and reported again.
    assert_eq!(r.store.pending_case_work().await.unwrap(), 1);
    r.clock.set(r.clock.now().plus_millis(31_000));
    assert!(r.flow.run_pending().await.is_err());
    assert_eq!(r.store.pending_case_work().await.unwrap(), 1);
}

#[tokio::test]
async fn workflow_effects_happen_once_however_often_the_work_is_run() {
    let r = rig().await;
    let case = r.customer_writes("t1", COMPLAINT).await;
    // The pipeline already ran the workflow; running it again, concurrently, does nothing.
    let (a, b) = tokio::join!(r.flow.run_pending(), r.flow.run_pending());
    assert_eq!(a.unwrap() + b.unwrap(), 0);
    assert_eq!(r.store.pending_case_work().await.unwrap(), 0);
    assert_eq!(r.events(&case, "sla.activate").await.len(), 2);
    assert_eq!(r.events(&case, "tagged").await.len(), 1);
    assert_eq!(r.events(&case, "queued").await.len(), 1);
    let (a, b) = tokio::join!(r.flow.sweep(after(61)), r.flow.sweep(after(61)));
    a.unwrap();
    b.unwrap();
    assert_eq!(r.events(&case, "sla.breach").await.len(), 1);
    assert_eq!(r.events(&case, "escalated").await.len(), 1);
}

/// A workflow from `CONFIG` with `from` replaced by `to`, as after an operator's edit and a
/// restart, working the same store and clock.
async fn changed_flow(r: &Rig, from: &str, to: &str) -> Arc<CaseWorkflow> {
    let cfg: WorkflowConfig = toml::from_str(&CONFIG.replace(from, to)).unwrap();
    let wf = Arc::new(Workflow::compile(&cfg).unwrap());
    Arc::new(
        CaseWorkflow::new(
            r.store.clone(),
            wf,
            r.clock.clone(),
            PipelineEvents::default(),
        )
        .with_queues()
        .await
        .unwrap(),
    )
}

#[tokio::test]
async fn tightening_the_vip_target_recomputes_the_open_case_keeping_its_elapsed_time() {
    let r = rig().await;
    let case = r.customer_writes("t1", COMPLAINT).await;
    r.at(10).await;
    // The operator halves the VIP first-response target (60 → 30 minutes) and restarts.
    let flow = changed_flow(&r, "first_response_mins = 60", "first_response_mins = 30").await;
    assert!(flow.recompute_policies().await.unwrap() >= 1);
    let policy = r.store.case_events(&case).await.unwrap();
    let moved: Vec<_> = policy.iter().filter(|e| e.kind == "sla.policy").collect();
    assert_eq!(
        moved.len(),
        2,
        "opened under vip, then recomputed: {moved:?}"
    );
    assert_eq!(moved[1].data["reason"], "configuration changed");
    assert_eq!(moved[1].data["from"], "vip");
    // The 10 minutes already elapsed count: it warns at 22.5 and breaches at 30, not 45/60.
    r.clock.set(after(23));
    flow.sweep(r.clock.now()).await.unwrap();
    assert_eq!(
        r.events(&case, "sla.warn").await,
        vec![berlin_2300().plus_millis(45 * MIN / 2)]
    );
    r.clock.set(after(31));
    flow.sweep(r.clock.now()).await.unwrap();
    assert_eq!(r.events(&case, "sla.breach").await, vec![after(30)]);
    // Recomputing again with nothing changed writes nothing.
    flow.recompute_policies().await.unwrap();
    let again = r.store.case_events(&case).await.unwrap();
    assert_eq!(again.iter().filter(|e| e.kind == "sla.policy").count(), 2);
}

#[tokio::test]
async fn raising_the_priority_puts_the_case_under_the_urgent_policy() {
    let r = rig().await;
    // An urgent policy placed first; a standard customer's case starts under `standard`.
    let flow = changed_flow(
        &r,
        "[[sla]]\nname = \"vip\"",
        "[[sla]]\nname = \"urgent\"\nwhen = { priorities = [\"urgent\"] }\nfirst_response_mins = 15\n\n[[sla]]\nname = \"vip\"",
    )
    .await;
    r.store
        .upsert_customer(
            Platform::X,
            "@klaus_vip",
            Some("Klaus"),
            Tier::Standard,
            0.0,
            r.clock.now(),
            None,
        )
        .await
        .unwrap();
    let pipeline = Pipeline::new(
        r.store.clone(),
        r.clock.clone(),
        PipelineEvents::default(),
        PipelineConfig::default(),
    )
    .with_casework(flow.clone());
    let r = Rig {
        pipeline,
        flow,
        ..r
    };
    let case = r.customer_writes("t1", "Wo bleibt meine Bestellung?").await;
    let sla = |work: sb_domain::CaseWork| work.sla.unwrap()["policy"].as_str().unwrap().to_owned();
    assert_eq!(
        sla(r.store.case_work(&case).await.unwrap().unwrap()),
        "standard"
    );
    r.clock.set(after(5));
    r.flow
        .update(&case, "agent-key", false, |e| {
            e.set_priority(sb_domain::CasePriority::Urgent, after(5));
            Ok(())
        })
        .await
        .unwrap();
    r.flow
        .rematch_sla(&case, "agent-key", "case changed")
        .await
        .unwrap();
    assert_eq!(
        sla(r.store.case_work(&case).await.unwrap().unwrap()),
        "urgent"
    );
    // Five minutes already ran: the 15-minute target breaches at 15, not 20.
    r.at(16).await;
    assert_eq!(r.events(&case, "sla.breach").await, vec![after(15)]);
}

/// Routing an operator saves in one process: in force there at once, followed by another
/// process on the same database when it looks, open cases moved to the new SLA targets, and
/// a stored version that does not compile leaves the routing in force alone.
#[tokio::test]
async fn routing_saved_in_one_process_is_followed_by_another_and_open_cases_take_its_targets() {
    let r = rig().await;
    let case = r.customer_writes("t1", COMPLAINT).await;
    let cfg: WorkflowConfig = toml::from_str(CONFIG).unwrap();
    let table: toml::Table = toml::from_str(CONFIG).unwrap();
    let file = sb_workflow::config::routing_document(&table);
    let other = CaseWorkflow::new(
        r.store.clone(),
        Arc::new(Workflow::compile(&cfg).unwrap()),
        r.clock.clone(),
        PipelineEvents::default(),
    )
    .editable(cfg, file.clone())
    .with_queues()
    .await
    .unwrap();

    assert!(file.contains("first_response_mins = 60"), "{file}");
    let faster = format!(
        "{}\n[[queues]]\nname = \"vip-desk\"\n",
        file.replace("first_response_mins = 60", "first_response_mins = 30")
    );
    assert_eq!(
        r.flow.save_routing(0, &faster, "user:sup").await.unwrap(),
        1
    );
    assert!(r.flow.workflow().router.queues().any(|q| q == "vip-desk"));
    assert_eq!(other.routing_version(), 0, "not looked yet");
    assert!(other.reload_routing().await.unwrap());
    assert_eq!(other.routing_version(), 1);
    assert!(other.workflow().router.queues().any(|q| q == "vip-desk"));
    assert!(!other.reload_routing().await.unwrap(), "nothing new");

    // The open VIP case moves to the 30-minute target in the background, and breaches there.
    // Its first `sla.policy` event is from when it opened; the move adds a second.
    for _ in 0..500 {
        if r.events(&case, "sla.policy").await.len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(
        r.events(&case, "sla.policy").await.len(),
        2,
        "opened, then re-evaluated"
    );
    r.at(29).await;
    assert!(r.events(&case, "sla.breach").await.is_empty());
    r.at(31).await;
    assert_eq!(r.events(&case, "sla.breach").await, vec![after(30)]);

    // A version that does not compile here (written by another release, say) is skipped.
    r.store
        .save_settings_document(
            sb_store::settings::ROUTING,
            1,
            "[[agents]]\nid = \"x\"\nname = \"X\"\nqueues = [\"nowhere\"]\n",
            "user:other",
            r.clock.now(),
        )
        .await
        .unwrap();
    assert!(!other.reload_routing().await.unwrap());
    assert_eq!(other.routing_version(), 1);
    let in_force = other.routing_in_force().await.unwrap();
    assert_eq!(
        (in_force.version, in_force.saved_by.as_deref()),
        (1, Some("user:sup"))
    );
    assert!(in_force.document.contains("vip-desk"));
    // A save from the version in force is now stale: someone saved after it.
    assert!(matches!(
        r.flow.save_routing(1, &faster, "user:sup").await,
        Err(switchboard_pipeline::RoutingApplyError::Stale { latest: 2 })
    ));
}
