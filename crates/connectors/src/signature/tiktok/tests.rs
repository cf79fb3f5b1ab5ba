use super::*;

const SECRET: &str = "tt_client_secret_not_real";
const BODY: &[u8] = include_bytes!("../../../fixtures/tiktok_comment.json");
const TS: i64 = 1_735_740_005;
/// Computed independently of this crate (Python's `hmac` over `1735740005.<body>`).
const TAG: &str = "67eb7b9ac42e8c847f78adeaf9857baba544c154166e1c9663f6b0f29f7b0fda";

fn header() -> String {
    format!("t={TS},s={TAG}")
}

#[test]
fn a_genuine_delivery_is_accepted_and_its_timestamp_returned() {
    assert_eq!(verify_tiktok(SECRET, BODY, &header(), TS + 3), Ok(TS));
    // Spacing, element order, upper-case hex and unknown elements do not matter.
    let loose = format!(" s={} , v=2, t={TS} ", TAG.to_ascii_uppercase());
    assert_eq!(verify_tiktok(SECRET, BODY, &loose, TS), Ok(TS));
}

#[test]
fn signing_gives_the_independent_vector() {
    assert_eq!(sign_tiktok(SECRET, TS, BODY), Ok(header()));
    assert_eq!(sign_tiktok("", TS, BODY), Err(SignatureError::NoSecret));
    // A second, short vector: the header layout of TikTok's own example.
    assert_eq!(
        sign_tiktok(SECRET, 1_633_174_587, br#"{"event":"comment.update"}"#).as_deref(),
        Ok("t=1633174587,s=2807edfc4d60d365176679a969f81154d97f5a7d3d33573174ae94fa90034f9e")
    );
}

#[test]
fn the_timestamp_is_signed_too() {
    let moved = format!("t={},s={TAG}", TS + 1);
    assert_eq!(
        verify_tiktok(SECRET, BODY, &moved, TS),
        Err(SignatureError::Mismatch)
    );
    let mut body = BODY.to_vec();
    body[5] ^= 1;
    assert_eq!(
        verify_tiktok(SECRET, &body, &header(), TS),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify_tiktok("other", BODY, &header(), TS),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn a_delivery_outside_five_minutes_is_stale_but_only_once_it_is_genuine() {
    for now in [TS + 301, TS - 301] {
        assert_eq!(
            verify_tiktok(SECRET, BODY, &header(), now),
            Err(SignatureError::Stale)
        );
    }
    for now in [TS + 300, TS - 300] {
        assert!(verify_tiktok(SECRET, BODY, &header(), now).is_ok());
    }
    let forged = format!("t={TS},s={}", "00".repeat(32));
    assert_eq!(
        verify_tiktok(SECRET, BODY, &forged, TS + 9_999),
        Err(SignatureError::Mismatch)
    );
    // An extreme timestamp cannot overflow the clock arithmetic.
    let extreme = sign_tiktok(SECRET, i64::MIN, BODY).unwrap();
    assert_eq!(
        verify_tiktok(SECRET, BODY, &extreme, i64::MAX),
        Err(SignatureError::Stale)
    );
}

#[test]
fn a_rotated_secret_matches_on_any_of_several_signatures() {
    let two = format!("t={TS},s={},s={TAG}", "11".repeat(32));
    assert_eq!(verify_tiktok(SECRET, BODY, &two, TS), Ok(TS));
    let short_and_good = format!("t={TS},s=abcd,s={TAG}");
    assert_eq!(verify_tiktok(SECRET, BODY, &short_and_good, TS), Ok(TS));
}

#[test]
fn malformed_headers_are_refused_with_a_reason() {
    let m = SignatureError::Malformed;
    let cases = [
        (String::new(), SignatureError::Missing),
        (" ".into(), SignatureError::Missing),
        (TAG.into(), m("expected `t=<timestamp>,s=<signature>`")),
        (format!("s={TAG}"), m("no `t` timestamp")),
        (format!("t={TS}"), m("no `s` signature")),
        (format!("t={TS},t={TS},s={TAG}"), m("more than one `t`")),
        (
            format!("t=yesterday,s={TAG}"),
            m("the timestamp must be unix seconds"),
        ),
        (format!("t={TS},s=zz"), m("the signature must be hex")),
        (
            format!("t={TS},s=abcd"),
            m("the signature must be 32 bytes"),
        ),
        (format!("sha256={TAG}"), m("no `t` timestamp")),
    ];
    for (h, want) in cases {
        assert_eq!(verify_tiktok(SECRET, BODY, &h, TS), Err(want), "{h:?}");
    }
    assert_eq!(
        verify_tiktok("", BODY, &header(), TS),
        Err(SignatureError::NoSecret)
    );
}
