//! What each workflow decision is told about a case: the same case, message and customer
//! seen as SLA facts, a case to route, a rule event and escalation triggers.

use super::CaseEdit;
use sb_domain::{Case, Customer, Message, Tier, Timestamp};
use sb_workflow::escalation::EscalationFacts;
use sb_workflow::routing::RouteCase;
use sb_workflow::rules::{EventKind, RuleEvent, RuleFacts};
use sb_workflow::sla::CaseFacts;

/// Tag naming the product a case is about (`product:router-x`), set by rules or agents.
pub const PRODUCT_TAG: &str = "product:";
/// Tag naming how critical that product is (`criticality:high`).
pub const CRITICALITY_TAG: &str = "criticality:";

/// The products a case is about, from its `product:` tags.
pub fn products(tags: &[String]) -> Vec<String> {
    tags.iter()
        .filter_map(|t| t.strip_prefix(PRODUCT_TAG))
        .map(str::to_owned)
        .collect()
}

fn tagged<'a>(edit: &'a CaseEdit<'_>, prefix: &str) -> Option<&'a str> {
    edit.change.tags.iter().find_map(|t| t.strip_prefix(prefix))
}

fn tier(customer: Option<&Customer>) -> Tier {
    customer.map_or(Tier::Standard, |c| c.tier)
}

pub fn sla_facts(edit: &CaseEdit<'_>, message: &Message, customer: Option<&Customer>) -> CaseFacts {
    CaseFacts {
        intent: message.enrichment.as_ref().map(|e| e.intent.clone()),
        priority: edit.change.priority,
        platform: edit.work.case.source,
        channel: edit.work.case.channel.clone(),
        product_criticality: tagged(edit, CRITICALITY_TAG).map(str::to_owned),
        tier: tier(customer),
    }
}

pub fn route_case(
    edit: &CaseEdit<'_>,
    message: &Message,
    customer: Option<&Customer>,
    at: Timestamp,
) -> RouteCase {
    let case = &edit.work.case;
    let e = message.enrichment.as_ref();
    RouteCase {
        case_id: case.id.to_string(),
        language: case
            .language
            .clone()
            .or_else(|| e.map(|e| e.language.clone()))
            .filter(|l| l != "und"),
        region: case.region.clone().or_else(|| message.region.clone()),
        intent: e.map(|e| e.intent.clone()),
        tier: tier(customer),
        priority: edit.change.priority,
        platform: case.source,
        product: tagged(edit, PRODUCT_TAG).map(str::to_owned),
        at,
        preferred_agent: None,
        high_value: customer.is_some_and(|c| c.tier == Tier::Vip),
    }
}

/// A case waiting for an agent, as routing sees it without its messages.
pub fn waiting_route_case(case: &Case) -> RouteCase {
    RouteCase {
        case_id: case.id.to_string(),
        language: case.language.clone(),
        region: case.region.clone(),
        intent: None,
        tier: Tier::Standard,
        priority: case.priority,
        platform: case.source,
        product: products(&case.tags).into_iter().next(),
        at: case.opened_at,
        preferred_agent: None,
        high_value: false,
    }
}

fn base_facts(edit: &CaseEdit<'_>, queue: Option<&str>) -> RuleFacts {
    case_facts(
        &edit.work.case,
        edit.change.priority,
        edit.change.status,
        &edit.change.tags,
        queue,
    )
}

fn case_facts(
    case: &Case,
    priority: sb_domain::CasePriority,
    status: sb_domain::CaseStatus,
    tags: &[String],
    queue: Option<&str>,
) -> RuleFacts {
    RuleFacts {
        priority: Some(priority),
        status: Some(status),
        language: case.language.clone(),
        region: case.region.clone(),
        platform: Some(case.source),
        channel: Some(case.channel.clone()),
        tags: tags.to_vec(),
        queue: queue.map(str::to_owned),
        message_count: u64::try_from(case.message_count).ok(),
        sentiment: case.last_sentiment,
        ..RuleFacts::default()
    }
}

/// Adds what one message says to the facts about its case.
fn with_message(mut facts: RuleFacts, message: &Message, customer: Option<&Customer>) -> RuleFacts {
    if let Some(e) = &message.enrichment {
        facts.intent = Some(e.intent.clone());
        facts.sentiment = Some(e.sentiment_compound);
        facts.urgency = Some(e.urgency.clone());
        facts.watch_terms = e.watch.iter().map(|w| w.term.to_lowercase()).collect();
        if facts.language.is_none() && e.language != "und" {
            facts.language = Some(e.language.clone());
        }
    }
    facts.text = Some(message.text.to_lowercase());
    facts.tier = Some(tier(customer));
    facts.customer_vip = Some(tier(customer) == Tier::Vip);
    facts.author_followers = message.author.followers;
    facts.hour = u8::try_from(
        jiff::Timestamp::from_millisecond(message.created_at.millis())
            .map_or(0, |t| t.to_zoned(jiff::tz::TimeZone::UTC).hour()),
    )
    .ok();
    facts
}

/// A stored message replayed against rules, with its case as it stands now.
pub fn replayed_event(
    kind: EventKind,
    case: &Case,
    message: &Message,
    customer: Option<&Customer>,
    queue: Option<&str>,
) -> RuleEvent {
    let facts = case_facts(case, case.priority, case.status, &case.tags, queue);
    RuleEvent {
        kind,
        case_id: Some(case.id.to_string()),
        facts: with_message(facts, message, customer),
    }
}

pub fn rule_event(
    kind: EventKind,
    edit: &CaseEdit<'_>,
    message: &Message,
    customer: Option<&Customer>,
    queue: Option<&str>,
) -> RuleEvent {
    RuleEvent {
        kind,
        case_id: Some(edit.work.case.id.to_string()),
        facts: with_message(base_facts(edit, queue), message, customer),
    }
}

/// A rule event about the case alone (SLA warnings and breaches).
pub fn case_rule_event(kind: EventKind, edit: &CaseEdit<'_>, queue: Option<&str>) -> RuleEvent {
    RuleEvent {
        kind,
        case_id: Some(edit.work.case.id.to_string()),
        facts: base_facts(edit, queue),
    }
}

pub fn escalation_facts(
    edit: &CaseEdit<'_>,
    message: Option<&Message>,
    customer: Option<&Customer>,
) -> EscalationFacts {
    EscalationFacts {
        text_lower: message.map(|m| m.text.to_lowercase()).unwrap_or_default(),
        urgency: message
            .and_then(|m| m.enrichment.as_ref())
            .map(|e| e.urgency.clone()),
        vip: customer.is_some_and(|c| c.tier == Tier::Vip),
        sla_breached: edit.sla_breached(),
        sentiment: message
            .and_then(|m| m.enrichment.as_ref())
            .map(|e| e.sentiment_compound)
            .or(edit.work.case.last_sentiment),
        followers: message.and_then(|m| m.author.followers),
    }
}
