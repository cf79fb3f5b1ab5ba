#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn key(byte: u8) -> String {
    BASE64.encode([byte; KEY_LEN])
}

fn ring(spec: &str) -> KeyRing {
    KeyRing::parse(spec).unwrap()
}

const TOKEN: &str = "EAAG-meta-page-token-ünïcode";

#[test]
fn a_platform_token_sealed_at_rest_opens_to_the_same_token() {
    let keys = ring(&format!("k1:{}", key(1)));
    let sealed = keys.seal(TOKEN).unwrap();
    assert!(sealed.starts_with("enc:v1:k1:"));
    assert!(is_sealed(&sealed));
    assert!(!sealed.contains("meta-page-token"));
    assert_eq!(keys.open(&sealed).unwrap(), TOKEN);
    assert_eq!(keys.open(&keys.seal("").unwrap()).unwrap(), "");
}

#[test]
fn sealing_the_same_secret_twice_gives_different_values() {
    let keys = ring(&format!("k1:{}", key(1)));
    assert_ne!(keys.seal(TOKEN).unwrap(), keys.seal(TOKEN).unwrap());
}

#[test]
fn a_value_altered_in_the_database_does_not_open() {
    let keys = ring(&format!("k1:{}", key(1)));
    let sealed = keys.seal(TOKEN).unwrap();
    let payload_start = "enc:v1:k1:".len();
    let mut payload = BASE64.decode(&sealed[payload_start..]).unwrap();
    for i in 0..payload.len() {
        payload[i] ^= 0x80;
        let altered = format!("enc:v1:k1:{}", BASE64.encode(&payload));
        let result = keys.open(&altered);
        assert!(
            matches!(result, Err(SecretError::Tampered { .. })),
            "byte {i}: {result:?}"
        );
        payload[i] ^= 0x80;
    }
}

#[test]
fn a_value_relabelled_to_another_key_id_does_not_open() {
    // Same key bytes under two ids: only the bound id opens it.
    let keys = ring(&format!("a:{},b:{}", key(1), key(1)));
    let sealed = keys.seal(TOKEN).unwrap();
    let relabelled = sealed.replacen("enc:v1:a:", "enc:v1:b:", 1);
    let result = keys.open(&relabelled);
    assert!(
        matches!(result, Err(SecretError::Tampered { ref id }) if id == "b"),
        "{result:?}"
    );
}

#[test]
fn after_rotation_old_values_still_open_and_reseal_under_the_new_key() {
    let old = ring(&format!("old:{}", key(1)));
    let sealed_before = old.seal(TOKEN).unwrap();

    let rotated = ring(&format!("new:{}, old:{}", key(2), key(1)));
    assert_eq!(rotated.primary_id(), "new");
    assert_eq!(rotated.open(&sealed_before).unwrap(), TOKEN);
    let resealed = rotated.reseal(&sealed_before).unwrap();
    assert!(resealed.starts_with("enc:v1:new:"), "{resealed}");
    assert_eq!(rotated.open(&resealed).unwrap(), TOKEN);

    // Once the old key is retired, only resealed values open.
    let retired = ring(&format!("new:{}", key(2)));
    assert_eq!(retired.open(&resealed).unwrap(), TOKEN);
    let result = retired.open(&sealed_before);
    assert!(
        matches!(result, Err(SecretError::UnknownKey { ref id }) if id == "old"),
        "{result:?}"
    );
    assert!(result.unwrap_err().to_string().contains("\"old\""));
}

#[test]
fn plaintext_and_garbled_values_are_told_apart_from_sealed_ones() {
    let keys = ring(&format!("k1:{}", key(1)));
    assert!(!is_sealed(TOKEN));
    assert!(matches!(keys.open(TOKEN), Err(SecretError::NotSealed)));
    assert!(matches!(
        keys.open("enc:v1:k1"),
        Err(SecretError::Malformed)
    ));
    assert!(matches!(
        keys.open("enc:v1:k1:***"),
        Err(SecretError::Malformed)
    ));
    assert!(matches!(
        keys.open("enc:v1:k1:AAAA"),
        Err(SecretError::Malformed)
    ));
}

#[test]
fn generated_keys_make_a_working_ring() {
    let a = KeyRing::generate_key().unwrap();
    let b = KeyRing::generate_key().unwrap();
    assert_ne!(a, b);
    assert_eq!(BASE64.decode(&a).unwrap().len(), KEY_LEN);
    let keys = ring(&format!("gen:{a}"));
    assert_eq!(keys.open(&keys.seal(TOKEN).unwrap()).unwrap(), TOKEN);
}

#[test]
fn a_broken_key_ring_spec_is_refused_with_a_clear_reason_and_no_key_material() {
    let good = key(1);
    type Expect = fn(&SecretError) -> bool;
    let cases: [(String, Expect); 8] = [
        (String::new(), |e| matches!(e, SecretError::EmptyRing)),
        (" , ".into(), |e| matches!(e, SecretError::EmptyRing)),
        (good.clone(), |e| {
            matches!(e, SecretError::MissingId { position: 1 })
        }),
        (format!(":{good}"), |e| {
            matches!(e, SecretError::BadKeyId { position: 1 })
        }),
        (format!("a:{good},b c:{good}"), |e| {
            matches!(e, SecretError::BadKeyId { position: 2 })
        }),
        (format!("a:{good},a:{good}"), |e| {
            matches!(e, SecretError::DuplicateKeyId { .. })
        }),
        ("a:not*base64".into(), |e| {
            matches!(e, SecretError::KeyNotBase64 { .. })
        }),
        (format!("a:{}", BASE64.encode([1u8; 16])), |e| {
            matches!(e, SecretError::WrongKeyLength { len: 16, .. })
        }),
    ];
    for (spec, expected) in cases {
        let err = KeyRing::parse(&spec).unwrap_err();
        assert!(expected(&err), "{spec:?}: {err:?}");
        assert!(!err.to_string().contains(&good), "{err}");
    }
}

#[test]
fn a_key_ring_never_prints_its_keys() {
    let keys = ring(&format!("k1:{},k0:{}", key(1), key(0)));
    let shown = format!("{keys:?}");
    assert!(shown.contains("k1") && shown.contains("k0"));
    assert!(!shown.contains(&key(1)));
}
