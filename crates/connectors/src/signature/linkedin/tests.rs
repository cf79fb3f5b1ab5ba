use super::*;

const SECRET: &str = "li_client_secret_not_real";
const BODY: &[u8] = include_bytes!("../../../fixtures/linkedin_comment.json");
/// Computed independently of this crate (Python's `hmac`): the tag over `hmacsha256=<body>`,
/// the documented reading.
const PREFIXED_TAG: &str = "87adb94f0784c951716c9c7b9d429dfdc1e5e3ab8df0e14f5cea6a37177b7983";
/// The same, over the raw body alone: the other reading.
const RAW_TAG: &str = "d3b08b7a597944031d6c4e1864ec03e2288d4141acd3a9b44836f02bc0bd1b6a";
/// The challenge code from LinkedIn's documentation, answered with `SECRET` (Python's `hmac`).
const CHALLENGE: &str = "890e4665-4dfe-4ab1-b689-ed553bceeed0";
const CHALLENGE_RESPONSE: &str = "f0e183005a78dde21f65d38cdafbd952f6840081f6fc10f44d58846529398471";

#[test]
fn a_genuine_delivery_is_accepted_under_either_reading_of_the_documentation() {
    for header in [
        PREFIXED_TAG.to_owned(),
        format!("hmacsha256={PREFIXED_TAG}"),
        format!(" HMACSHA256={} ", PREFIXED_TAG.to_ascii_uppercase()),
        RAW_TAG.to_owned(),
        format!("hmacsha256={RAW_TAG}"),
    ] {
        assert_eq!(verify_linkedin(SECRET, BODY, &header), Ok(()), "{header}");
    }
}

#[test]
fn signing_gives_the_independent_vector() {
    assert_eq!(sign_linkedin(SECRET, BODY).as_deref(), Ok(PREFIXED_TAG));
    assert_eq!(sign_linkedin("", BODY), Err(SignatureError::NoSecret));
}

#[test]
fn a_changed_body_or_another_secret_is_refused() {
    let mut body = BODY.to_vec();
    body[60] ^= 1;
    assert_eq!(
        verify_linkedin(SECRET, &body, PREFIXED_TAG),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify_linkedin("another_secret", BODY, PREFIXED_TAG),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify_linkedin("", BODY, PREFIXED_TAG),
        Err(SignatureError::NoSecret)
    );
}

#[test]
fn malformed_headers_are_refused_with_a_reason() {
    let cases = [
        ("", SignatureError::Missing),
        ("  ", SignatureError::Missing),
        (
            "sha256=87adb94f",
            SignatureError::Malformed("expected `hmacsha256=<hex>` or bare hex"),
        ),
        ("zz", SignatureError::Malformed("the signature must be hex")),
        (
            "hmacsha256=87adb94f",
            SignatureError::Malformed("the signature must be 32 bytes"),
        ),
        (
            "hmacsha256=",
            SignatureError::Malformed("the signature must be 32 bytes"),
        ),
    ];
    for (header, want) in cases {
        assert_eq!(
            verify_linkedin(SECRET, BODY, header),
            Err(want),
            "{header:?}"
        );
    }
}

#[test]
fn the_validation_challenge_is_answered_with_the_hex_hmac_of_the_code() {
    assert_eq!(
        linkedin_challenge_response(SECRET, CHALLENGE).as_deref(),
        Ok(CHALLENGE_RESPONSE)
    );
    assert_eq!(
        linkedin_challenge_response("", CHALLENGE),
        Err(SignatureError::NoSecret)
    );
    assert_eq!(
        linkedin_challenge_response(SECRET, ""),
        Err(SignatureError::Missing)
    );
}

#[test]
fn the_challenge_endpoint_cannot_be_used_to_sign_a_forged_delivery() {
    // Asking our endpoint to "validate" a body would hand out a valid `X-LI-Signature` for it.
    let forged = r#"{"type":"ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS","notifications":[]}"#;
    for code in [
        forged.to_owned(),
        format!("hmacsha256={forged}"),
        "890e4665-4dfe-4ab1-b689-ed553bceeed".to_owned(),
        "890e4665x4dfe-4ab1-b689-ed553bceeed0".to_owned(),
        "890e4665-4dfe-4ab1-b689-ed553bceeedg".to_owned(),
    ] {
        assert_eq!(
            linkedin_challenge_response(SECRET, &code),
            Err(SignatureError::Malformed(
                "the challengeCode must be a UUID"
            )),
            "{code}"
        );
    }
    assert!(linkedin_challenge_response(SECRET, &CHALLENGE.to_ascii_uppercase()).is_ok());
}
