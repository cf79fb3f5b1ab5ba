//! Identifiers. Each is a ULID with a short prefix naming what it identifies, so an id pasted
//! into a ticket or a log line says what it is, and ids sort by creation time.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($name:ident, $prefix:literal) => {
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// A new, time-ordered id.
            pub fn generate() -> Self {
                Self(format!("{}{}", $prefix, ulid::Ulid::generate()))
            }

            /// The first id that `generate` could give at `t` or later: ids sort by time, so
            /// this is a cursor for "everything since `t`".
            pub fn first_at(t: crate::Timestamp) -> Self {
                let ms = u64::try_from(t.millis()).unwrap_or(0);
                Self(format!("{}{}", $prefix, ulid::Ulid::from_parts(ms, 0)))
            }

            /// Accepts only a well-formed id of this kind.
            pub fn parse(s: &str) -> Option<Self> {
                let rest = s.strip_prefix($prefix)?;
                ulid::Ulid::from_string(rest).ok()?;
                Some(Self(s.to_owned()))
            }

            /// Wraps a value read back from the store, which only ever holds ids it generated.
            pub fn from_stored(s: String) -> Self {
                Self(s)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(MessageId, "msg_");
id_type!(CustomerId, "cus_");
id_type!(CaseId, "case_");
id_type!(QueueId, "q_");
id_type!(OutboxId, "out_");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_reject_the_wrong_kind() {
        let id = CaseId::generate();
        assert_eq!(CaseId::parse(id.as_str()), Some(id.clone()));
        assert_eq!(MessageId::parse(id.as_str()), None);
        assert_eq!(CaseId::parse("case_not-a-ulid"), None);
    }

    #[test]
    fn ids_sort_by_creation() {
        let a = MessageId::generate();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = MessageId::generate();
        assert!(a < b);
    }
}
id_type!(AlertId, "alt_");
id_type!(IncidentId, "inc_");
id_type!(DisruptionId, "dis_");
