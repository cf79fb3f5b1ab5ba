//! Approval scenarios: what waits for whom, and who may release it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn reply(text: &str) -> ReplyFacts<'_> {
    ReplyFacts {
        text,
        ..ReplyFacts::default()
    }
}

fn reasons(reqs: &[Requirement]) -> Vec<ApprovalReason> {
    reqs.iter().map(|r| r.reason).collect()
}

fn policy(toml_text: &str) -> Result<ApprovalPolicy, ApprovalError> {
    let config: ApprovalConfig = toml::from_str(toml_text).unwrap();
    ApprovalPolicy::compile(&config)
}

#[test]
fn built_in_lists_compile() {
    ApprovalPolicy::compile(&ApprovalConfig::default()).unwrap();
    let empty_section = policy("").unwrap();
    assert_eq!(empty_section.compensation_role, "supervisor");
    assert_eq!(empty_section.public_update_role, "operations");
    assert!(!ApprovalPolicy::default().compensation.set.is_empty());
}

#[test]
fn a_refund_offer_waits_for_a_supervisor() {
    let reqs = ApprovalPolicy::default().requirements(&reply(
        "Sorry! I've issued a full REFUND and a 10€ voucher.",
    ));
    assert_eq!(
        reqs,
        [Requirement {
            reason: ApprovalReason::Compensation,
            role: "supervisor".to_string(),
            detail: "mentions `refund*`, `voucher*`".to_string(),
        }]
    );
}

#[test]
fn compensation_is_recognised_in_other_languages() {
    let policy = ApprovalPolicy::default();
    for text in [
        "Wir haben die Erstattung veranlasst.",
        "Sie erhalten einen Gutschein über 20 €.",
        "Le remboursement sera effectué demain.",
        "Te hemos hecho el reembolso.",
        "Abbiamo disposto il rimborso.",
        "De terugbetaling is onderweg.",
        "Vamos reembolsar o valor.",
    ] {
        assert_eq!(
            reasons(&policy.requirements(&reply(text))),
            [ApprovalReason::Compensation],
            "{text}"
        );
    }
}

#[test]
fn everyday_replies_need_no_approval() {
    let policy = ApprovalPolicy::default();
    for text in [
        "Your parcel left the depot this morning.",
        "We charged the credit card on file.",
        "Thanks for the exceptional feedback!",
        "Your creditworthiness is not affected.",
    ] {
        assert!(policy.requirements(&reply(text)).is_empty(), "{text}");
    }
}

#[test]
fn exceptions_regulated_topics_public_updates_and_rules_each_add_a_reason() {
    let policy = policy(
        r#"
        regulated_topics = ["insurance claim*", "medication"]
        regulated_role = "Compliance"
        "#,
    )
    .unwrap();
    let facts = ReplyFacts {
        text: "As a one-time courtesy we'll waive the fee on your insurance claims. Refund follows.",
        public: true,
        operational_update: true,
        required_by_rule: Some(" "),
    };
    let reqs = policy.requirements(&facts);
    assert_eq!(
        reasons(&reqs),
        [
            ApprovalReason::Compensation,
            ApprovalReason::Exception,
            ApprovalReason::RegulatedTopic,
            ApprovalReason::PublicOperationalUpdate,
            ApprovalReason::Rule,
        ]
    );
    assert_eq!(
        reqs[1].detail,
        "mentions `as a one-time courtesy`, `one-time courtesy`, `waive*`"
    );
    assert_eq!(reqs[2].role, "compliance");
    assert_eq!(reqs[3].role, "operations");
    assert_eq!(
        reqs[4].role, "supervisor",
        "a blank rule role falls back to supervisor"
    );
}

#[test]
fn private_operational_updates_do_not_wait() {
    let facts = ReplyFacts {
        text: "Trains are running again.",
        public: false,
        operational_update: true,
        required_by_rule: None,
    };
    assert!(ApprovalPolicy::default().requirements(&facts).is_empty());
}

fn compensation() -> Vec<Requirement> {
    ApprovalPolicy::default().requirements(&reply("Here is a refund."))
}

#[test]
fn supervisor_approves_an_agents_refund() {
    let reqs = compensation();
    let status = decide(
        ApprovalStatus::Pending,
        &reqs,
        "ana",
        "bo",
        "Supervisor",
        &Decision::Approve,
    );
    assert_eq!(status, Ok(ApprovalStatus::Approved));
    assert!(status.unwrap().releases());
    let edited = Decision::EditAndApprove {
        text: "Here is a partial refund.".to_string(),
    };
    assert_eq!(
        decide(
            ApprovalStatus::Pending,
            &reqs,
            "ana",
            "root",
            "admin",
            &edited
        ),
        Ok(ApprovalStatus::EditedAndApproved)
    );
}

#[test]
fn the_wrong_role_is_told_who_may_decide() {
    let mut reqs = compensation();
    reqs.extend(ApprovalPolicy::default().requirements(&ReplyFacts {
        text: "Lines reopened.",
        public: true,
        operational_update: true,
        required_by_rule: None,
    }));
    let err = decide(
        ApprovalStatus::Pending,
        &reqs,
        "ana",
        "cy",
        "agent",
        &Decision::Approve,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "role `agent` cannot decide on this reply; it needs `supervisor` or `operations`"
    );
    // Any one of the required roles settles the reply.
    assert_eq!(
        decide(
            ApprovalStatus::Pending,
            &reqs,
            "ana",
            "ops",
            "operations",
            &Decision::Approve
        ),
        Ok(ApprovalStatus::Approved)
    );
}

#[test]
fn supervisors_cover_agent_level_rules() {
    let reqs = ApprovalPolicy::default().requirements(&ReplyFacts {
        text: "Hello",
        required_by_rule: Some("agent"),
        ..ReplyFacts::default()
    });
    assert_eq!(
        decide(
            ApprovalStatus::Pending,
            &reqs,
            "ana",
            "bo",
            "supervisor",
            &Decision::Approve
        ),
        Ok(ApprovalStatus::Approved)
    );
    assert!(!role_qualifies("agent", "supervisor"));
    assert!(!role_qualifies("operations", "agent"));
}

#[test]
fn nobody_approves_their_own_reply_but_they_may_withdraw_it() {
    let reqs = compensation();
    let err = decide(
        ApprovalStatus::Pending,
        &reqs,
        "bo",
        "bo",
        "supervisor",
        &Decision::Approve,
    );
    assert_eq!(
        err,
        Err(ApprovalError::OwnReply {
            decider: "bo".to_string()
        })
    );
    let edit = Decision::EditAndApprove {
        text: "x".to_string(),
    };
    assert!(decide(ApprovalStatus::Pending, &reqs, "bo", "bo", "admin", &edit).is_err());
    let withdraw = Decision::Reject {
        reason: "wrong customer".to_string(),
    };
    assert_eq!(
        decide(
            ApprovalStatus::Pending,
            &reqs,
            "bo",
            "bo",
            "supervisor",
            &withdraw
        ),
        Ok(ApprovalStatus::Rejected)
    );
}

#[test]
fn rejections_need_a_reason_and_edits_need_text() {
    let reqs = compensation();
    let reject = Decision::Reject {
        reason: "  ".to_string(),
    };
    assert_eq!(
        decide(
            ApprovalStatus::Pending,
            &reqs,
            "ana",
            "bo",
            "supervisor",
            &reject
        ),
        Err(ApprovalError::EmptyReason)
    );
    let edit = Decision::EditAndApprove {
        text: "\n".to_string(),
    };
    assert_eq!(
        decide(
            ApprovalStatus::Pending,
            &reqs,
            "ana",
            "bo",
            "supervisor",
            &edit
        ),
        Err(ApprovalError::EmptyEdit)
    );
}

#[test]
fn a_reply_is_decided_once() {
    let reqs = compensation();
    for status in [
        ApprovalStatus::Approved,
        ApprovalStatus::Rejected,
        ApprovalStatus::EditedAndApproved,
    ] {
        let err = decide(status, &reqs, "ana", "bo", "supervisor", &Decision::Approve).unwrap_err();
        assert_eq!(err, ApprovalError::AlreadyDecided { status });
    }
    assert_eq!(
        ApprovalError::AlreadyDecided {
            status: ApprovalStatus::EditedAndApproved
        }
        .to_string(),
        "this reply was already decided (edited_and_approved)"
    );
    assert_eq!(
        decide(
            ApprovalStatus::Pending,
            &[],
            "ana",
            "bo",
            "admin",
            &Decision::Approve
        ),
        Err(ApprovalError::NothingToApprove)
    );
}

#[test]
fn statuses_reasons_and_decisions_round_trip() {
    for s in [
        ApprovalStatus::Pending,
        ApprovalStatus::Approved,
        ApprovalStatus::Rejected,
        ApprovalStatus::EditedAndApproved,
    ] {
        assert_eq!(ApprovalStatus::parse(s.as_str()), Some(s));
        assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
    }
    for r in [
        ApprovalReason::Compensation,
        ApprovalReason::Exception,
        ApprovalReason::RegulatedTopic,
        ApprovalReason::PublicOperationalUpdate,
        ApprovalReason::Rule,
    ] {
        assert_eq!(ApprovalReason::parse(r.as_str()), Some(r));
    }
    assert_eq!(ApprovalStatus::parse("maybe"), None);
    let d = Decision::Reject {
        reason: "tone".to_string(),
    };
    let json = serde_json::to_string(&d).unwrap();
    assert_eq!(json, r#"{"decision":"reject","reason":"tone"}"#);
    assert_eq!(serde_json::from_str::<Decision>(&json).unwrap(), d);
}

#[test]
fn bad_config_is_named() {
    assert_eq!(
        policy(r#"exception_terms = ["waive", "  "]"#)
            .unwrap_err()
            .to_string(),
        "approvals: exception_terms term \"  \" has no words"
    );
    assert_eq!(
        policy(r#"public_update_role = "ops team""#)
            .unwrap_err()
            .to_string(),
        "approvals: `public_update_role` must be a single role name, got \"ops team\""
    );
    assert!(policy(r#"regulated_role = """#).is_err());
    let unknown: Result<ApprovalConfig, _> = toml::from_str("approver = \"x\"");
    assert!(unknown.unwrap_err().to_string().contains("approver"));
}
