//! The operational status feed (F1): what operations systems report about the world —
//! stock per product, the state of a service, delivery delays — per region, each fact with the
//! time its source observed it. What customers are told is checked against these facts, and a
//! fact too old to trust is marked stale rather than silently used.

use crate::Timestamp;
use crate::error::{ErrorCode, FieldError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FactKind {
    /// `{"available": units, "restock_at"?: RFC 3339}` for a product.
    Inventory,
    /// `{"status": "operational" | "degraded" | "outage", "detail"?}` for a service.
    ServiceStatus,
    /// `{"delay_hours": hours, "expected_delivery"?: RFC 3339}` for a carrier, lane or product.
    DeliveryDelay,
}

impl FactKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Inventory => "inventory",
            Self::ServiceStatus => "service_status",
            Self::DeliveryDelay => "delivery_delay",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "inventory" => Some(Self::Inventory),
            "service_status" => Some(Self::ServiceStatus),
            "delivery_delay" => Some(Self::DeliveryDelay),
            _ => None,
        }
    }
}

/// One fact, the latest known per kind, subject and region.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct OpsFact {
    pub kind: FactKind,
    /// The product, service or lane it is about, e.g. `X200`, `checkout`, `dhl-de`.
    pub subject: String,
    /// A region code, or `*` for everywhere.
    pub region: String,
    #[schema(value_type = Object)]
    pub value: Value,
    /// The system that reported it, e.g. `erp`, `statuspage`.
    pub source: String,
    /// When the source observed it.
    #[schema(value_type = String, format = DateTime)]
    pub source_time: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub received_at: Timestamp,
}

fn field(at: &str, name: &str, detail: impl Into<String>) -> FieldError {
    FieldError::new(ErrorCode::InvalidField, format!("{at}.{name}"), detail)
}

fn text(v: &Value, at: &str, name: &str, max: usize) -> Result<String, FieldError> {
    match v.get(name).and_then(Value::as_str).map(str::trim) {
        Some(s) if !s.is_empty() && s.len() <= max => Ok(s.to_owned()),
        Some(_) => Err(field(at, name, format!("must be 1 to {max} characters"))),
        None => Err(FieldError::new(
            ErrorCode::MissingField,
            format!("{at}.{name}"),
            format!("`{name}` is required"),
        )),
    }
}

fn when(v: &Value, at: &str, name: &str) -> Result<Option<Timestamp>, FieldError> {
    match v.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Timestamp::parse_rfc3339(s)
            .map(Some)
            .ok_or_else(|| field(at, name, "must be an RFC 3339 time")),
        Some(_) => Err(field(at, name, "must be an RFC 3339 time")),
    }
}

impl OpsFact {
    /// Reads and checks one reported fact (`at` names it in errors, e.g. `facts[3]`).
    pub fn parse(v: &Value, at: &str, received_at: Timestamp) -> Result<Self, FieldError> {
        if !v.is_object() {
            return Err(FieldError::new(
                ErrorCode::InvalidBody,
                at.to_owned(),
                "each fact must be an object",
            ));
        }
        let kind_text = text(v, at, "kind", 40)?;
        let kind = FactKind::parse(&kind_text).ok_or_else(|| {
            field(
                at,
                "kind",
                "must be inventory, service_status or delivery_delay",
            )
        })?;
        let subject = text(v, at, "subject", 200)?;
        let region = match v.get("region") {
            None | Some(Value::Null) => "*".to_owned(),
            Some(_) => text(v, at, "region", 64)?,
        };
        let source = text(v, at, "source", 100)?;
        let source_time = when(v, at, "source_time")?.ok_or_else(|| {
            FieldError::new(
                ErrorCode::MissingField,
                format!("{at}.source_time"),
                "`source_time` is required: when the source observed the fact",
            )
        })?;
        if source_time.millis() > received_at.millis() + 5 * 60_000 {
            return Err(field(
                at,
                "source_time",
                "is more than 5 minutes in the future",
            ));
        }
        let value = v.get("value").cloned().unwrap_or(Value::Null);
        let vat = format!("{at}.value");
        match kind {
            FactKind::Inventory => {
                if value.get("available").and_then(Value::as_u64).is_none() {
                    return Err(field(&vat, "available", "must be a whole number of units"));
                }
                when(&value, &vat, "restock_at")?;
            }
            FactKind::ServiceStatus => {
                let s = value.get("status").and_then(Value::as_str).unwrap_or("");
                if !matches!(s, "operational" | "degraded" | "outage") {
                    return Err(field(
                        &vat,
                        "status",
                        "must be operational, degraded or outage",
                    ));
                }
            }
            FactKind::DeliveryDelay => {
                let h = value.get("delay_hours").and_then(Value::as_f64);
                if !h.is_some_and(|h| h.is_finite() && h >= 0.0) {
                    return Err(field(
                        &vat,
                        "delay_hours",
                        "must be a number of hours, 0 or more",
                    ));
                }
                when(&value, &vat, "expected_delivery")?;
            }
        }
        Ok(Self {
            kind,
            subject,
            region,
            value,
            source,
            source_time,
            received_at,
        })
    }

    /// Seconds between the source's observation and `now`.
    pub fn age_secs(&self, now: Timestamp) -> i64 {
        (now.millis() - self.source_time.millis()).max(0) / 1000
    }

    /// Too old to state as fact to a customer.
    pub fn is_stale(&self, now: Timestamp, stale_after_secs: i64) -> bool {
        self.age_secs(now) > stale_after_secs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: Timestamp = Timestamp(1_800_000_000_000);

    #[test]
    fn each_kind_is_checked() {
        let ok = [
            json!({"kind": "inventory", "subject": "X200", "region": "eu-west", "source": "erp",
                   "source_time": "2027-01-15T08:00:00Z", "value": {"available": 0, "restock_at": "2027-01-20T00:00:00Z"}}),
            json!({"kind": "service_status", "subject": "checkout", "source": "statuspage",
                   "source_time": "2027-01-15T08:00:00Z", "value": {"status": "outage"}}),
            json!({"kind": "delivery_delay", "subject": "dhl-de", "region": "de", "source": "tms",
                   "source_time": "2027-01-15T08:00:00Z", "value": {"delay_hours": 48}}),
        ];
        for v in ok {
            OpsFact::parse(&v, "facts[0]", NOW).unwrap();
        }
        let f = OpsFact::parse(
            &json!({"kind": "service_status", "subject": "checkout", "source": "sp",
                    "source_time": "2027-01-15T08:00:00Z", "value": {"status": "degraded"}}),
            "facts[0]",
            NOW,
        )
        .unwrap();
        assert_eq!(f.region, "*");
        let bad = [
            (
                json!({"kind": "weather", "subject": "x", "source": "s", "source_time": "2027-01-15T08:00:00Z"}),
                "facts[1].kind",
            ),
            (
                json!({"kind": "inventory", "subject": "X200", "source": "erp", "source_time": "2027-01-15T08:00:00Z", "value": {"available": -1}}),
                "facts[1].value.available",
            ),
            (
                json!({"kind": "inventory", "subject": "X200", "source": "erp", "value": {"available": 1}}),
                "facts[1].source_time",
            ),
            (
                json!({"kind": "service_status", "subject": "api", "source": "s", "source_time": "2027-01-15T08:00:00Z", "value": {"status": "fine"}}),
                "facts[1].value.status",
            ),
            (
                json!({"kind": "delivery_delay", "subject": "l", "source": "s", "source_time": "yesterday", "value": {"delay_hours": 1}}),
                "facts[1].source_time",
            ),
            (
                json!({"kind": "inventory", "subject": "X200", "source": "erp", "source_time": "2030-01-01T00:00:00Z", "value": {"available": 1}}),
                "facts[1].source_time",
            ),
            (
                json!({"kind": "inventory", "source": "erp", "source_time": "2027-01-15T08:00:00Z", "value": {"available": 1}}),
                "facts[1].subject",
            ),
            (json!(7), "facts[1]"),
        ];
        for (v, at) in bad {
            let e = OpsFact::parse(&v, "facts[1]", NOW).unwrap_err();
            assert_eq!(e.field.as_deref(), Some(at), "{v}");
        }
    }

    #[test]
    fn age_and_staleness_come_from_the_source_time() {
        let f = OpsFact::parse(
            &json!({"kind": "inventory", "subject": "X200", "source": "erp",
                    "source_time": Timestamp(NOW.millis() - 1_200_000).to_rfc3339(), "value": {"available": 3}}),
            "f",
            NOW,
        )
        .unwrap();
        assert_eq!(f.age_secs(NOW), 1_200);
        assert!(f.is_stale(NOW, 900));
        assert!(!f.is_stale(NOW, 1_800));
    }
}
