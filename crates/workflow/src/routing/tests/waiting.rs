//! Cases that wait for an agent, and who gets them as capacity frees.

use super::*;

fn waiting(id: &str, priority: CasePriority, since: &str) -> WaitingCase {
    WaitingCase {
        case: RouteCase {
            priority,
            ..case(id)
        },
        queue: "support".into(),
        since: at(since),
    }
}

#[test]
fn the_wait_list_puts_urgent_first_then_the_longest_waiting() {
    let mut list = WaitList::new();
    list.push(waiting(
        "normal-old",
        CasePriority::Normal,
        "2026-11-23T08:00:00Z",
    ));
    list.push(waiting(
        "urgent-new",
        CasePriority::Urgent,
        "2026-11-23T08:30:00Z",
    ));
    list.push(waiting(
        "normal-new",
        CasePriority::Normal,
        "2026-11-23T08:20:00Z",
    ));
    list.push(waiting(
        "low-oldest",
        CasePriority::Low,
        "2026-11-23T07:00:00Z",
    ));
    list.push(waiting(
        "urgent-old",
        CasePriority::Urgent,
        "2026-11-23T08:10:00Z",
    ));
    let order: Vec<_> = list
        .iter_queue("support")
        .map(|w| w.case.case_id.as_str())
        .collect();
    assert_eq!(
        order,
        [
            "urgent-old",
            "urgent-new",
            "normal-old",
            "normal-new",
            "low-oldest"
        ]
    );
    assert_eq!(list.len(), 5);

    // Re-pushing a case moves it (its priority was raised), it is not waiting twice.
    list.push(waiting(
        "low-oldest",
        CasePriority::High,
        "2026-11-23T07:00:00Z",
    ));
    assert_eq!(list.len(), 5);
    assert_eq!(
        list.iter_queue("support").nth(2).unwrap().case.case_id,
        "low-oldest"
    );

    assert_eq!(
        list.remove("urgent-old").unwrap().case.case_id,
        "urgent-old"
    );
    assert!(list.remove("urgent-old").is_none());
    assert!(list.get("urgent-new").is_some());
    assert_eq!(list.len(), 4);
    assert_eq!(list.iter_queue("elsewhere").count(), 0);
}

#[test]
fn when_an_agent_frees_capacity_the_most_urgent_waiting_case_is_assigned() {
    let r = router(
        r#"
        [[queues]]
        name = "support"
        [[agents]]
        id = "ana"
        name = "Ana"
        queues = ["support"]
        capacity = 2
        "#,
    );
    let mut state = RoutingState::new();
    online(&mut state, &["ana"]);
    state.set_load("ana", 2);
    let mut list = WaitList::new();
    list.push(waiting(
        "normal",
        CasePriority::Normal,
        "2026-11-23T08:00:00Z",
    ));
    list.push(waiting(
        "urgent",
        CasePriority::Urgent,
        "2026-11-23T08:30:00Z",
    ));
    list.push(waiting("high", CasePriority::High, "2026-11-23T08:40:00Z"));
    let now = at("2026-11-23T09:00:00Z");

    // Ana is full: nothing moves.
    assert!(r.drain(&mut list, &mut state, now).is_empty());
    assert_eq!(list.len(), 3);

    state.released("ana");
    let assigned = r.drain(&mut list, &mut state, now);
    assert_eq!(
        assigned,
        [Assignment {
            case_id: "urgent".into(),
            queue: "support".into(),
            agent_id: "ana".into(),
            reason: PickReason::LeastLoaded,
            waited_ms: 30 * 60 * 1000,
        }]
    );
    assert_eq!(state.load("ana"), 2);
    assert_eq!(list.len(), 2);

    state.released("ana");
    state.released("ana");
    let assigned: Vec<_> = r
        .drain(&mut list, &mut state, now)
        .into_iter()
        .map(|a| a.case_id)
        .collect();
    assert_eq!(assigned, ["high", "normal"]);
    assert!(list.is_empty());
}

#[test]
fn draining_serves_each_queue_and_a_shared_agent_takes_the_most_urgent_case_first() {
    let r = router(
        r#"
        [[queues]]
        name = "de"
        [[queues]]
        name = "en"
        [[agents]]
        id = "mia"
        name = "Mia"
        queues = ["de", "en"]
        capacity = 1
        [[agents]]
        id = "tom"
        name = "Tom"
        queues = ["en"]
        capacity = 1
        "#,
    );
    let mut state = RoutingState::new();
    online(&mut state, &["mia", "tom"]);
    let mut list = WaitList::new();
    list.push(WaitingCase {
        queue: "de".into(),
        ..waiting("de-normal", CasePriority::Normal, "2026-11-23T08:00:00Z")
    });
    list.push(WaitingCase {
        queue: "en".into(),
        ..waiting("en-urgent", CasePriority::Urgent, "2026-11-23T08:50:00Z")
    });
    list.push(WaitingCase {
        queue: "en".into(),
        ..waiting("en-low", CasePriority::Low, "2026-11-23T07:00:00Z")
    });
    list.push(WaitingCase {
        queue: "gone".into(),
        ..waiting("orphan", CasePriority::Urgent, "2026-11-23T07:00:00Z")
    });
    let assigned: Vec<_> = r
        .drain(&mut list, &mut state, at("2026-11-23T09:00:00Z"))
        .into_iter()
        .map(|a| (a.case_id, a.agent_id))
        .collect();
    // The urgent English case goes first, to Mia (first in rotation). That fills her, so the
    // German case, whose only agent she is, waits; Tom takes the low-priority English one.
    assert_eq!(
        assigned,
        [
            ("en-urgent".to_owned(), "mia".to_owned()),
            ("en-low".to_owned(), "tom".to_owned()),
        ]
    );
    let left: Vec<_> = ["de", "gone"]
        .iter()
        .flat_map(|q| list.iter_queue(q))
        .map(|w| w.case.case_id.as_str())
        .collect();
    assert_eq!(left, ["de-normal", "orphan"]);
}
