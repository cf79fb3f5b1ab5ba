//! What a case offers a template: the customer, the case and the operational status feed, as
//! dotted variable names (listed in `docs/WORKFLOW.md`), and the customer's locale to pick the
//! version by. Reads only.

use crate::AppState;
use crate::problem::Problem;
use sb_domain::{Case, Customer, FactKind, OpsFact, Timestamp};
use sb_workflow::templates::Variables;
use serde_json::Value;

/// The locale to pick a version for: the customer's language (or the case's), with the
/// customer's country when the language names none — a Portuguese speaker in region `BR` is
/// `pt-BR`, so a Brazilian text wins over the Portuguese one once there is one. Empty when the
/// language is unknown: the workflow's default locale then applies.
pub(crate) fn case_locale(case: &Case, customer: Option<&Customer>) -> String {
    let known = |l: &Option<String>| {
        l.as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty() && *l != "und")
            .map(str::to_owned)
    };
    let Some(language) = customer
        .and_then(|c| known(&c.language))
        .or_else(|| known(&case.language))
    else {
        return String::new();
    };
    if language.contains(['-', '_']) {
        return language;
    }
    let region = customer
        .and_then(|c| c.region.as_deref())
        .or(case.region.as_deref())
        .map(str::trim)
        .filter(|r| r.len() == 2 && r.chars().all(|c| c.is_ascii_alphabetic()));
    match region {
        Some(country) => format!("{language}-{}", country.to_ascii_uppercase()),
        None => language,
    }
}

/// `customer.name`, `customer.first_name`, `customer.handle`, `case.id`, `case.subject`,
/// `case.priority`, `case.status`, `case.channel`, and `status.<subject>` for each fresh
/// operational fact that applies to the customer's region. Without `personal`, names, handles
/// and the subject are `[redacted]`.
pub(crate) async fn case_variables(
    state: &AppState,
    case: &Case,
    customer: Option<&Customer>,
    personal: bool,
) -> Result<Variables, Problem> {
    let private = |s: &str| {
        if personal {
            s.to_owned()
        } else {
            crate::redact::HIDDEN.to_owned()
        }
    };
    let mut vars = Variables::new();
    if let Some(c) = customer {
        if let Some(name) = c.display_name.as_deref().map(str::trim) {
            vars.set("customer.name", private(name));
            if let Some(first) = name.split_whitespace().next() {
                vars.set("customer.first_name", private(first));
            }
        }
        // The handle the customer wrote from on this case, where they have several.
        let identity = c
            .identities
            .iter()
            .find(|i| i.platform == case.source)
            .or(c.identities.first());
        if let Some(i) = identity {
            vars.set("customer.handle", private(&i.handle));
        }
    }
    vars.set("case.id", case.id.as_str())
        .set("case.subject", private(&case.subject))
        .set("case.priority", case.priority.as_str())
        .set("case.status", case.status.as_str())
        .set("case.channel", case.source.as_str());
    let region = case
        .region
        .as_deref()
        .or(customer.and_then(|c| c.region.as_deref()));
    let facts = state.store.facts(None, None, None).await?;
    vars.merge(status_variables(
        &facts,
        region,
        state.casework.now(),
        state.status_stale_after_secs,
    ));
    Ok(vars)
}

/// `status.<subject>` is a fact's headline value — a service's `status`, a product's
/// `available` units, a lane's `delay_hours` — and `status.<subject>.<field>` each of its
/// fields. A fact for the customer's region wins over one for everywhere (`*`). Stale facts are
/// left out: a template stating them would tell the customer something nobody knows to be
/// true any more, so the variable is missing and the agent is asked for it.
pub(crate) fn status_variables(
    facts: &[OpsFact],
    region: Option<&str>,
    now: Timestamp,
    stale_after_secs: i64,
) -> Variables {
    let mut usable: Vec<&OpsFact> = facts
        .iter()
        .filter(|f| f.region == "*" || region.is_some_and(|r| r.eq_ignore_ascii_case(&f.region)))
        .filter(|f| !f.is_stale(now, stale_after_secs))
        .collect();
    // Everywhere first, so that a regional fact, set later, replaces it.
    usable.sort_by_key(|f| f.region != "*");
    let mut vars = Variables::new();
    for f in usable {
        let name = format!("status.{}", f.subject);
        vars.extend_json(&name, &f.value);
        let headline = match f.kind {
            FactKind::ServiceStatus => "status",
            FactKind::Inventory => "available",
            FactKind::DeliveryDelay => "delay_hours",
        };
        match &f.value[headline] {
            Value::String(s) => {
                vars.set(name, s.clone());
            }
            n @ Value::Number(_) => {
                vars.set(name, n.to_string());
            }
            _ => {}
        }
    }
    vars
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fact(kind: FactKind, subject: &str, region: &str, value: Value, at: i64) -> OpsFact {
        OpsFact {
            kind,
            subject: subject.into(),
            region: region.into(),
            value,
            source: "erp".into(),
            source_time: Timestamp(at),
            received_at: Timestamp(at),
        }
    }

    #[test]
    fn the_regional_fact_wins_and_stale_ones_are_left_out() {
        let now = Timestamp(10_000_000);
        let facts = [
            fact(
                FactKind::DeliveryDelay,
                "correios",
                "BR",
                json!({"delay_hours": 48}),
                now.0,
            ),
            fact(
                FactKind::DeliveryDelay,
                "correios",
                "*",
                json!({"delay_hours": 6, "expected_delivery": "2026-01-02T00:00:00Z"}),
                now.0,
            ),
            fact(
                FactKind::ServiceStatus,
                "checkout",
                "*",
                json!({"status": "degraded"}),
                now.0 - 7_200_000,
            ),
            fact(
                FactKind::Inventory,
                "X200",
                "DE",
                json!({"available": 0}),
                now.0,
            ),
        ];
        let vars = status_variables(&facts, Some("br"), now, 3_600);
        assert_eq!(vars.get("status.correios"), Some("48"));
        assert_eq!(vars.get("status.correios.delay_hours"), Some("48"));
        assert_eq!(
            vars.get("status.correios.expected_delivery"),
            Some("2026-01-02T00:00:00Z"),
            "fields only the everywhere fact has stay"
        );
        assert_eq!(vars.get("status.checkout"), None, "stale");
        assert_eq!(vars.get("status.X200"), None, "another region");
        let germany = status_variables(&facts, Some("DE"), now, 3_600);
        assert_eq!(germany.get("status.X200"), Some("0"));
        assert_eq!(germany.get("status.correios"), Some("6"));
    }
}
