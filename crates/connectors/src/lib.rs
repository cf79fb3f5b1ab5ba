//! Switchboard platform connectors, inbound side: proving a webhook delivery came from the
//! platform (`signature`) and turning each platform's payload into messages the ingest path
//! accepts (`meta`, `x`, `linkedin`, `tiktok`, `generic`, `email`). `docs/CONNECTORS.md`
//! explains how to add a platform.
//!
//! Everything here is a pure function over bytes and JSON: no IO, no HTTP framework, no
//! clock. The web layer owns routes, status codes and storage; this crate owns the
//! platforms' formats.

pub mod email;
mod event;
pub mod generic;
pub mod linkedin;
pub mod meta;
pub mod signature;
pub mod tiktok;
pub mod x;

pub use event::{InboundEvent, Parsed, PayloadError, Skipped};

pub use signature::linkedin::{linkedin_challenge_response, sign_linkedin, verify_linkedin};
pub use signature::tiktok::{TIKTOK_TOLERANCE_S, sign_tiktok, verify_tiktok};
pub use signature::{
    GENERIC_TOLERANCE_S, HandshakeError, SignatureError, meta_handshake, sign_generic, sign_meta,
    verify_generic, verify_meta, verify_x, x_crc_response,
};
