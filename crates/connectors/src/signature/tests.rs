use super::*;

const META_SECRET: &str = "test_app_secret_not_real";
const META_BODY: &[u8] = include_bytes!("../../fixtures/meta_page_feed_comment_add.json");
const META_HEADER: &str = "sha256=cd05aa2939cbb9f500feb093b0d6ee42c58ae0a5ae218d448b2a869a9af749ce";

const X_SECRET: &str = "z3ZX4v7mAAUGykl3EcmkqbartmuW8VFOOzCloLx9Q45P0hLrFu";
const X_BODY: &[u8] = include_bytes!("../../fixtures/x_aaa_direct_message_events.json");
const X_HEADER: &str = "sha256=VbdKkA1NGq0rA/s6dqg+fxcgz7ahGyR+xSGTOeQOBzk=";

#[test]
fn a_genuine_meta_delivery_is_accepted() {
    assert_eq!(verify_meta(META_SECRET, META_BODY, META_HEADER), Ok(()));
    // Upper-case hex and surrounding whitespace are still the same signature.
    let upper = format!(" sha256={} ", META_HEADER[7..].to_ascii_uppercase());
    assert_eq!(verify_meta(META_SECRET, META_BODY, &upper), Ok(()));
}

#[test]
fn a_meta_body_changed_in_transit_is_refused() {
    let mut body = META_BODY.to_vec();
    body[40] ^= 1;
    assert_eq!(
        verify_meta(META_SECRET, &body, META_HEADER),
        Err(SignatureError::Mismatch)
    );
    // Dropping the trailing newline changes the bytes too.
    assert_eq!(
        verify_meta(META_SECRET, &META_BODY[..META_BODY.len() - 1], META_HEADER),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn a_meta_delivery_signed_with_another_secret_is_refused() {
    assert_eq!(
        verify_meta("another_secret", META_BODY, META_HEADER),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify_meta("", META_BODY, META_HEADER),
        Err(SignatureError::NoSecret)
    );
}

#[test]
fn malformed_meta_headers_are_refused_with_a_reason() {
    let cases = [
        ("", SignatureError::Missing),
        ("   ", SignatureError::Missing),
        (
            "cd05aa29",
            SignatureError::Malformed("expected `sha256=<signature>`"),
        ),
        (
            "sha1=cd05aa2939cbb9f500feb093b0d6ee42c58ae0a5",
            SignatureError::Malformed("the algorithm must be sha256"),
        ),
        (
            "sha256=zz",
            SignatureError::Malformed("the signature must be hex"),
        ),
        (
            "sha256=cd05",
            SignatureError::Malformed("the signature must be 32 bytes"),
        ),
        (
            "sha256=",
            SignatureError::Malformed("the signature must be 32 bytes"),
        ),
        // The X encoding on the Meta header.
        (
            X_HEADER,
            SignatureError::Malformed("the signature must be hex"),
        ),
    ];
    for (header, want) in cases {
        assert_eq!(
            verify_meta(META_SECRET, META_BODY, header),
            Err(want),
            "{header:?}"
        );
    }
}

#[test]
fn a_genuine_x_delivery_is_accepted() {
    assert_eq!(verify_x(X_SECRET, X_BODY, X_HEADER), Ok(()));
}

#[test]
fn a_tampered_or_wrongly_signed_x_delivery_is_refused() {
    let mut body = X_BODY.to_vec();
    body[10] ^= 0x20;
    assert_eq!(
        verify_x(X_SECRET, &body, X_HEADER),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify_x("not_the_secret", X_BODY, X_HEADER),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify_x("", X_BODY, X_HEADER),
        Err(SignatureError::NoSecret)
    );
    // The Meta signature of another body: well-formed hex is not base64 of 32 bytes.
    assert!(matches!(
        verify_x(X_SECRET, X_BODY, META_HEADER),
        Err(SignatureError::Malformed(_))
    ));
    assert_eq!(verify_x(X_SECRET, X_BODY, ""), Err(SignatureError::Missing));
    assert!(matches!(
        verify_x(X_SECRET, X_BODY, "sha256=!!!"),
        Err(SignatureError::Malformed(_))
    ));
    assert!(matches!(
        verify_x(X_SECRET, X_BODY, "sha256=AAAA"),
        Err(SignatureError::Malformed(_))
    ));
}

#[test]
fn the_x_crc_answer_matches_the_published_vector() {
    assert_eq!(
        x_crc_response(X_SECRET, "9b4507b3-9040-4669-9ca3-6b94edb50553").as_deref(),
        Ok("sha256=Cytd4Sq+NvEcV3MMrXxWJGJx5A+y/lXzzU2Maartkx8=")
    );
    assert_eq!(x_crc_response("", "t"), Err(SignatureError::NoSecret));
}

#[test]
fn the_meta_handshake_echoes_the_challenge_only_for_our_token() {
    let token = "<YOUR_VERIFY_TOKEN>";
    assert_eq!(
        meta_handshake(Some("subscribe"), Some(token), Some("1158201444"), token).as_deref(),
        Ok("1158201444")
    );
    assert_eq!(
        meta_handshake(Some("subscribe"), Some("guess"), Some("1"), token),
        Err(HandshakeError::WrongToken)
    );
    assert_eq!(
        meta_handshake(Some("subscribe"), None, Some("1"), token),
        Err(HandshakeError::WrongToken)
    );
    assert_eq!(
        meta_handshake(Some("unsubscribe"), Some(token), Some("1"), token),
        Err(HandshakeError::WrongMode)
    );
    assert_eq!(
        meta_handshake(None, Some(token), Some("1"), token),
        Err(HandshakeError::WrongMode)
    );
    assert_eq!(
        meta_handshake(Some("subscribe"), Some(token), None, token),
        Err(HandshakeError::MissingChallenge)
    );
    // An unconfigured token must not match an empty one.
    assert_eq!(
        meta_handshake(Some("subscribe"), Some(""), Some("1"), ""),
        Err(HandshakeError::NoToken)
    );
}

#[test]
fn constant_time_equality_is_still_equality() {
    assert!(constant_time_eq(b"abc", b"abc"));
    assert!(constant_time_eq(b"", b""));
    assert!(!constant_time_eq(b"abc", b"abd"));
    assert!(!constant_time_eq(b"abc", b"abcd"));
    assert!(!constant_time_eq(b"abc\0", b"abc"));
}

const GENERIC_SECRET: &str = "generic_test_secret";
const GENERIC_BODY: &[u8] = br#"{"source":"chat"}"#;
const GENERIC_TS: i64 = 1_767_225_600;
/// Computed independently of this crate (Python's `hmac` over `1767225600.<body>`).
const GENERIC_HEADER: &str =
    "sha256=c5d59f1fe69e7673232ca25fc30003226375554db46abd4e12a8b272823d504f";

#[test]
fn a_generic_delivery_signs_timestamp_and_body() {
    assert_eq!(
        sign_generic(GENERIC_SECRET, GENERIC_TS, GENERIC_BODY).as_deref(),
        Ok(GENERIC_HEADER)
    );
    let ts = GENERIC_TS.to_string();
    assert_eq!(
        verify_generic(
            GENERIC_SECRET,
            &ts,
            GENERIC_BODY,
            GENERIC_HEADER,
            GENERIC_TS + 10
        ),
        Ok(GENERIC_TS)
    );
    // The same body under another timestamp is another signature.
    let later = (GENERIC_TS + 1).to_string();
    assert_eq!(
        verify_generic(
            GENERIC_SECRET,
            &later,
            GENERIC_BODY,
            GENERIC_HEADER,
            GENERIC_TS
        ),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn a_generic_delivery_outside_five_minutes_is_stale() {
    let ts = GENERIC_TS.to_string();
    for now in [GENERIC_TS + 301, GENERIC_TS - 301] {
        assert_eq!(
            verify_generic(GENERIC_SECRET, &ts, GENERIC_BODY, GENERIC_HEADER, now),
            Err(SignatureError::Stale)
        );
    }
    for now in [GENERIC_TS + 300, GENERIC_TS - 300] {
        assert!(verify_generic(GENERIC_SECRET, &ts, GENERIC_BODY, GENERIC_HEADER, now).is_ok());
    }
}

#[test]
fn a_generic_delivery_with_bad_headers_is_refused_before_the_clock_is_read() {
    let ts = GENERIC_TS.to_string();
    let cases = [
        ("", GENERIC_HEADER, SignatureError::Missing),
        (
            "yesterday",
            GENERIC_HEADER,
            SignatureError::Malformed("the timestamp must be unix seconds"),
        ),
        (ts.as_str(), "", SignatureError::Missing),
        (
            ts.as_str(),
            "sha256=zz",
            SignatureError::Malformed("the signature must be hex"),
        ),
    ];
    for (t, sig, want) in cases {
        assert_eq!(
            verify_generic(GENERIC_SECRET, t, GENERIC_BODY, sig, GENERIC_TS),
            Err(want)
        );
    }
    // A forged signature on an old timestamp says "mismatch", not "stale".
    let forged = format!("sha256={}", "00".repeat(32));
    assert_eq!(
        verify_generic(
            GENERIC_SECRET,
            &ts,
            GENERIC_BODY,
            &forged,
            GENERIC_TS + 9_999
        ),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify_generic("", &ts, GENERIC_BODY, GENERIC_HEADER, GENERIC_TS),
        Err(SignatureError::NoSecret)
    );
}

#[test]
fn signing_a_meta_body_gives_the_fixture_vector() {
    assert_eq!(
        sign_meta(META_SECRET, META_BODY).as_deref(),
        Ok(META_HEADER)
    );
    assert_eq!(sign_meta("", META_BODY), Err(SignatureError::NoSecret));
}
