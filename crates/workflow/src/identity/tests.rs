//! Identity scenarios as a care team meets them: the same customer writing from several
//! platforms, namesakes, shared inboxes, and merges an agent regrets.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use sb_domain::Timestamp;

fn profile(id: &str) -> Profile {
    Profile {
        id: id.to_owned(),
        ..Profile::default()
    }
}

fn with_handle(mut p: Profile, platform: &str, handle: &str) -> Profile {
    p.handles
        .entry(platform.to_owned())
        .or_default()
        .push(handle.to_owned());
    p
}

fn with_id(mut p: Profile, platform: &str, id: &str) -> Profile {
    p.platform_ids
        .entry(platform.to_owned())
        .or_default()
        .push(id.to_owned());
    p
}

fn named(mut p: Profile, name: &str, location: Option<&str>) -> Profile {
    p.names.push(name.to_owned());
    p.location = location.map(str::to_owned);
    p
}

fn field<'a>(r: &'a MatchResult, name: &str) -> &'a FieldWeight {
    r.fields.iter().find(|f| f.field == name).unwrap()
}

fn log2_ratio(p: f64, q: f64) -> f64 {
    (p / q).log2()
}

// ---- deterministic links ----------------------------------------------------------------

#[test]
fn same_verified_email_on_x_and_facebook_links_with_full_confidence() {
    let mut x = with_handle(profile("cust-x"), "x", "@ana_p");
    x.verified_emails.push("Ana.Pereira@example.pt".into());
    let mut fb = with_handle(profile("cust-fb"), "facebook", "ana.pereira.77");
    fb.verified_emails
        .push("ana.pereira+shop@example.pt".into());

    let r = Matcher::default().compare(&x, &fb);
    assert_eq!(r.decision, Decision::Link);
    assert_eq!(r.confidence, 1.0);
    assert_eq!(
        r.deterministic.as_deref(),
        Some("verified_email a***@example.pt")
    );
    assert_eq!(r.blocked, None);
    // The address itself never reaches the audit trail.
    assert!(!serde_json::to_string(&r).unwrap().contains("pereira@"));
}

#[test]
fn one_phone_written_two_ways_links_via_phone() {
    let mut a = profile("a");
    a.phones.push("+49 30 1234567".into());
    let mut b = profile("b");
    b.phones.push("not a number".into());
    b.phones.push("0049301234567".into());

    let r = Matcher::default().compare(&a, &b);
    assert_eq!(r.decision, Decision::Link);
    assert_eq!(r.deterministic.as_deref(), Some("phone +49******567"));
    assert_eq!(r.confidence, 1.0);
}

#[test]
fn national_phone_numbers_match_only_with_a_configured_country_code() {
    let mut a = profile("a");
    a.phones.push("030 1234567".into());
    let mut b = profile("b");
    b.phones.push("+49 30 1234567".into());

    let r = Matcher::default().compare(&a, &b);
    assert_eq!(r.deterministic, None);
    assert_eq!(r.decision, Decision::Distinct);

    let berlin = MatchConfig {
        default_country_code: Some("+49".into()),
        ..MatchConfig::default()
    };
    let m = Matcher::compile(&berlin).unwrap();
    assert_eq!(m.default_country_code(), Some("49"));
    assert_eq!(m.compare(&a, &b).decision, Decision::Link);
}

#[test]
fn an_order_id_retyped_by_the_customer_links() {
    let mut shop = profile("shop");
    shop.order_ids.push("#A-1001".into());
    let mut dm = profile("dm");
    dm.order_ids.push(" a-1001".into());

    let r = Matcher::default().compare(&shop, &dm);
    assert_eq!(r.decision, Decision::Link);
    assert_eq!(r.deterministic.as_deref(), Some("order_id **1001"));
}

#[test]
fn unverified_looking_or_malformed_keys_do_not_link() {
    let mut a = profile("a");
    a.verified_emails.push("ana".into());
    a.phones.push("12345".into());
    a.order_ids.push("  ".into());
    let b = a.clone();
    let r = Matcher::default().compare(
        &a,
        &Profile {
            id: "b".into(),
            ..b
        },
    );
    assert_eq!(r.deterministic, None);
    assert_eq!(r.decision, Decision::Distinct);
}

// ---- probabilistic links ----------------------------------------------------------------

#[test]
fn same_name_handle_and_city_on_two_platforms_links() {
    let x = with_handle(
        named(profile("x"), "Ana Pereira", Some("Lisbon")),
        "x",
        "@ana_pereira",
    );
    let ig = with_handle(
        named(profile("ig"), "ANA PEREIRA", Some("lisbon")),
        "instagram",
        "@anapereira",
    );

    let r = Matcher::default().compare(&x, &ig);
    assert_eq!(r.decision, Decision::Link);
    assert_eq!(r.deterministic, None);
    assert_eq!(r.blocked, None);
    let expected = log2_ratio(0.95, 0.01) + log2_ratio(0.90, 0.005) + log2_ratio(0.90, 0.05);
    assert!((r.weight - expected).abs() < 1e-5, "{}", r.weight);
    for f in &r.fields {
        assert_eq!(f.agreement, "agree", "{f:?}");
    }
    assert!(
        r.confidence > 0.999 && r.confidence < 1.0,
        "{}",
        r.confidence
    );
}

#[test]
fn near_spellings_agree_partially_and_still_link() {
    let x = with_handle(
        named(profile("x"), "Ana Pereira", Some("Lisbon")),
        "x",
        "@ana_pereira",
    );
    let ig = with_handle(
        named(profile("ig"), "Pereira, Ána", Some("Lisboa")),
        "instagram",
        "anapereira84",
    );

    let r = Matcher::default().compare(&x, &ig);
    assert_eq!(field(&r, "name").agreement, "agree");
    assert_eq!(field(&r, "handle").agreement, "partial 0.97");
    assert!(
        field(&r, "location").agreement.starts_with("partial 0.9"),
        "{:?}",
        r.fields
    );
    let handle = field(&r, "handle").weight;
    assert!(handle > 0.0 && handle < log2_ratio(0.90, 0.005));
    assert_eq!(r.decision, Decision::Link, "{r:?}");
}

#[test]
fn same_name_in_the_same_city_without_handles_goes_to_review() {
    let a = named(profile("a"), "Ana Pereira", Some("Lisbon"));
    let b = named(profile("b"), "Ana Pereira", Some("Lisbon, Portugal"));
    let r = Matcher::default().compare(&a, &b);
    assert_eq!(r.decision, Decision::Review, "{r:?}");
    assert_eq!(field(&r, "handle").agreement, "missing");
    assert_eq!(field(&r, "handle").weight, 0.0);
}

#[test]
fn namesakes_in_different_cities_stay_distinct() {
    let a = named(profile("a"), "Ana Pereira", Some("Lisbon"));
    let b = named(profile("b"), "Ana Pereira", Some("Porto"));
    let r = Matcher::default().compare(&a, &b);
    assert_eq!(field(&r, "location").agreement, "disagree");
    assert_eq!(r.decision, Decision::Distinct, "{r:?}");
    assert!(r.confidence < 0.1);

    // A different person altogether is far below review.
    let c = with_handle(
        named(profile("c"), "Miguel Sousa", Some("Faro")),
        "x",
        "@msousa",
    );
    let d = with_handle(
        named(profile("d"), "Ana Pereira", Some("Lisbon")),
        "instagram",
        "@ana_p",
    );
    let r = Matcher::default().compare(&c, &d);
    assert_eq!(r.decision, Decision::Distinct);
    assert!(r.weight < -8.0, "{}", r.weight);
}

#[test]
fn an_empty_profile_gives_no_evidence_either_way() {
    let r = Matcher::default().compare(&profile("a"), &profile("b"));
    assert_eq!(r.weight, 0.0);
    assert_eq!(r.decision, Decision::Distinct);
    assert!(r.fields.iter().all(|f| f.agreement == "missing"));
    assert!(
        (r.confidence - 0.01).abs() < 1e-6,
        "the prior alone: {}",
        r.confidence
    );
}

#[test]
fn comparing_either_way_round_gives_the_same_answer() {
    let a = with_id(
        with_handle(
            named(profile("a"), "Ana Pereira", Some("Lisbon")),
            "x",
            "@ana_p",
        ),
        "x",
        "1",
    );
    let b = with_handle(
        named(profile("b"), "Pereira Ana", Some("Lisboa")),
        "x",
        "@anapereira",
    );
    let (ab, ba) = (
        Matcher::default().compare(&a, &b),
        Matcher::default().compare(&b, &a),
    );
    assert_eq!(ab, ba);
    assert!(ab.blocked.is_some());
}

// ---- blocking --------------------------------------------------------------------------

#[test]
fn two_x_accounts_sharing_an_email_are_reviewed_never_auto_linked() {
    let mut a = with_id(with_handle(profile("a"), "x", "@ana_work"), "x", "1001");
    a.verified_emails.push("ana@example.pt".into());
    let mut b = with_id(with_handle(profile("b"), "x", "@ana_home"), "x", "2002");
    b.verified_emails.push("ana@example.pt".into());

    let r = Matcher::default().compare(&a, &b);
    assert_eq!(r.decision, Decision::Review);
    assert_eq!(r.blocked.as_deref(), Some("different ids on platform x"));
    assert!(r.deterministic.is_some());
    assert!(r.confidence < 1.0);
}

#[test]
fn strong_probabilistic_evidence_is_also_held_back_by_different_handles() {
    let a = with_handle(
        named(profile("a"), "Ana Pereira", Some("Lisbon")),
        "X",
        "@ana_pereira",
    );
    let a = with_handle(a, "instagram", "@ana.pereira");
    let b = with_handle(
        named(profile("b"), "Ana Pereira", Some("Lisbon")),
        "x",
        "@anapereira",
    );
    let r = Matcher::default().compare(&a, &b);
    assert!(r.weight >= 12.0);
    assert_eq!(r.decision, Decision::Review);
    assert_eq!(
        r.blocked.as_deref(),
        Some("different handles on platform x")
    );
}

#[test]
fn a_renamed_handle_with_the_same_platform_id_is_not_blocked() {
    let mut a = with_id(with_handle(profile("a"), "x", "@ana_old"), "x", "1001");
    a.verified_emails.push("ana@example.pt".into());
    let mut b = with_id(with_handle(profile("b"), "x", "@ana_new"), "x", "1001");
    b.verified_emails.push("ana@example.pt".into());
    let r = Matcher::default().compare(&a, &b);
    assert_eq!(r.blocked, None);
    assert_eq!(r.decision, Decision::Link);

    // Same handle modulo case and "@": the same account.
    let c = with_handle(profile("c"), "instagram", "@Ana.P");
    let d = with_handle(profile("d"), "instagram", "ana.p");
    assert_eq!(Matcher::default().compare(&c, &d).blocked, None);
}

#[test]
fn every_conflicting_platform_is_named() {
    let a = with_id(with_handle(profile("a"), "x", "@a1"), "facebook", "11");
    let b = with_id(with_handle(profile("b"), "x", "@b1"), "facebook", "22");
    let r = Matcher::default().compare(&a, &b);
    assert_eq!(
        r.blocked.as_deref(),
        Some("different ids on platform facebook; different handles on platform x")
    );
}

// ---- merge and unmerge -----------------------------------------------------------------

fn ana_on_x() -> Profile {
    let mut p = with_id(
        with_handle(
            named(profile("cust-1"), "Ana Pereira", Some("Lisbon")),
            "x",
            "@ana_pereira",
        ),
        "x",
        "1001",
    );
    p.verified_emails.push("ana@example.pt".into());
    p.phones.push("+351 912 345 678".into());
    p
}

fn ana_on_instagram() -> Profile {
    let mut p = with_handle(
        named(profile("cust-2"), "Ana P.", None),
        "instagram",
        "@anapereira",
    );
    p.names.push("Ana Pereira".into());
    p.verified_emails.push("ana@example.pt".into());
    p.order_ids.push("A-1001".into());
    p.handles
        .get_mut("instagram")
        .unwrap()
        .push("@anapereira".into());
    p
}

#[test]
fn merge_unions_every_list_and_survivor_fields_win() {
    let (s, a) = (ana_on_x(), ana_on_instagram());
    let result = Matcher::default().compare(&s, &a);
    let (merged, record) = merge(
        &s,
        &a,
        result.clone(),
        "agent:rita",
        Timestamp(1_700_000_000_000),
    );

    assert_eq!(merged.id, "cust-1");
    assert_eq!(merged.names, ["Ana Pereira", "Ana P."]);
    assert_eq!(merged.verified_emails, ["ana@example.pt"]);
    assert_eq!(merged.phones, ["+351 912 345 678"]);
    assert_eq!(merged.order_ids, ["A-1001"]);
    assert_eq!(merged.handles["x"], ["@ana_pereira"]);
    assert_eq!(
        merged.handles["instagram"],
        ["@anapereira"],
        "duplicates dropped"
    );
    assert_eq!(merged.platform_ids["x"], ["1001"]);
    assert_eq!(merged.location.as_deref(), Some("Lisbon"));
    assert_eq!(record.result, result);
    assert_eq!(record.by, "agent:rita");

    // The absorbed profile's location fills a gap, never overrides.
    let (merged, _) = merge(&a, &s, result, "auto", Timestamp(1));
    assert_eq!(merged.id, "cust-2");
    assert_eq!(merged.location.as_deref(), Some("Lisbon"));
}

#[test]
fn unmerge_restores_both_profiles_exactly_and_reports_later_changes() {
    let (s, a) = (ana_on_x(), ana_on_instagram());
    let result = Matcher::default().compare(&s, &a);
    let (mut merged, record) = merge(&s, &a, result, "agent:rita", Timestamp(1_700_000_000_000));

    // Life goes on after the merge: a new phone, a new TikTok handle, a wrong order removed.
    merged.phones.push("+351 933 000 111".into());
    merged
        .handles
        .entry("tiktok".into())
        .or_default()
        .push("@ana.tt".into());
    merged.order_ids.clear();
    merged.location = Some("Porto".into());

    let undone = unmerge(&record, &merged).unwrap();
    assert_eq!(undone.survivor, s);
    assert_eq!(undone.absorbed, a);
    assert_eq!(undone.added_since.phones, ["+351 933 000 111"]);
    assert_eq!(undone.added_since.handles.len(), 1);
    assert_eq!(undone.added_since.handles["tiktok"], ["@ana.tt"]);
    assert_eq!(undone.added_since.location.as_deref(), Some("Porto"));
    assert!(undone.added_since.names.is_empty() && undone.added_since.id.is_empty());
    assert_eq!(undone.removed_since.order_ids, ["A-1001"]);
    assert_eq!(undone.removed_since.location.as_deref(), Some("Lisbon"));
    assert!(undone.removed_since.phones.is_empty());
}

#[test]
fn unmerge_right_after_merge_reports_nothing_changed() {
    let (s, a) = (ana_on_x(), ana_on_instagram());
    let (merged, record) = merge(
        &s,
        &a,
        Matcher::default().compare(&s, &a),
        "auto",
        Timestamp(5),
    );
    let undone = unmerge(&record, &merged).unwrap();
    assert_eq!((undone.survivor, undone.absorbed), (s, a));
    assert_eq!(undone.added_since, Profile::default());
    assert_eq!(undone.removed_since, Profile::default());
}

#[test]
fn the_merge_record_survives_storage_with_its_field_weights() {
    let (s, a) = (ana_on_x(), ana_on_instagram());
    let (_, record) = merge(
        &s,
        &a,
        Matcher::default().compare(&s, &a),
        "auto",
        Timestamp(5),
    );
    let json = serde_json::to_string(&record).unwrap();
    assert!(
        json.contains("\"field\":\"name\"") && json.contains("\"decision\":\"link\""),
        "{json}"
    );
    let back: MergeRecord = serde_json::from_str(&json).unwrap();
    assert_eq!(back, record);
}

#[test]
fn unmerging_the_wrong_profile_is_refused() {
    let (s, a) = (ana_on_x(), ana_on_instagram());
    let (_, record) = merge(
        &s,
        &a,
        Matcher::default().compare(&s, &a),
        "auto",
        Timestamp(5),
    );
    let err = unmerge(&record, &a).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unmerge: profile \"cust-2\" is not the survivor \"cust-1\" of this merge"
    );
}

// ---- candidates ------------------------------------------------------------------------

#[test]
fn candidates_come_from_shared_blocking_keys_only() {
    let matcher = Matcher::compile(&MatchConfig {
        default_country_code: Some("351".into()),
        ..MatchConfig::default()
    })
    .unwrap();
    let mut index = matcher.candidate_index();
    assert!(index.is_empty());

    let mut by_phone = profile("by-phone");
    by_phone.phones.push("912 345 678".into());
    let by_name = named(profile("by-name"), "Ana Pereira", Some("Lisbon"));
    let by_handle = with_handle(profile("by-handle"), "instagram", "anapereira84");
    let elsewhere = named(profile("elsewhere"), "Ana Pereira", Some("Porto"));
    let stranger = with_handle(
        named(profile("stranger"), "Rui Costa", Some("Lisbon")),
        "x",
        "@rui",
    );
    for p in [&by_phone, &by_name, &by_handle, &elsewhere, &stranger] {
        index.insert(p);
    }
    assert_eq!(index.len(), 5);

    let mut newcomer = with_handle(
        named(profile("new"), "Ana Pereira", Some("Lisbon, Portugal")),
        "x",
        "@ana_pereira",
    );
    newcomer.phones.push("+351 912 345 678".into());
    let mut found = index.candidates(&newcomer);
    found.sort();
    assert_eq!(found, ["by-handle", "by-name", "by-phone"]);

    // A filed profile is never its own candidate; removal and re-filing take effect.
    index.insert(&newcomer);
    assert!(!index.candidates(&newcomer).contains(&"new".to_owned()));
    index.remove("by-phone");
    index.remove("no-such-id");
    let moved = named(profile("by-name"), "Ana Pereira", Some("Faro"));
    index.insert(&moved);
    assert_eq!(index.candidates(&newcomer), ["by-handle"]);
    assert_eq!(index.len(), 5);
}

#[test]
fn candidates_sharing_more_keys_come_first() {
    let mut index = CandidateIndex::new();
    let mut strong = with_handle(
        named(profile("strong"), "Ana Pereira", Some("Lisbon")),
        "x",
        "@ana_pereira",
    );
    strong.verified_emails.push("ana@example.pt".into());
    let weak = named(profile("weak"), "Ana Pereira", Some("Lisbon"));
    index.insert(&weak);
    index.insert(&strong);
    let mut probe = with_handle(
        named(profile("probe"), "Ana Pereira", Some("Lisbon")),
        "fb",
        "ana.pereira",
    );
    probe.verified_emails.push("ana@example.pt".into());
    assert_eq!(index.candidates(&probe), ["strong", "weak"]);
}

// ---- configuration ---------------------------------------------------------------------

fn config(toml_text: &str) -> MatchConfig {
    toml::from_str(toml_text).unwrap()
}

fn compile_err(toml_text: &str) -> String {
    Matcher::compile(&config(toml_text))
        .unwrap_err()
        .to_string()
}

#[test]
fn an_empty_config_section_gives_the_documented_defaults() {
    let c = config("");
    assert_eq!(c, MatchConfig::default());
    assert_eq!((c.link_above, c.review_above, c.prior), (12.0, 4.0, 0.01));
    let a = named(profile("a"), "Ana Pereira", Some("Lisbon"));
    let b = named(profile("b"), "Ana Pereira", Some("Lisbon"));
    assert_eq!(
        Matcher::compile(&c).unwrap().compare(&a, &b),
        Matcher::default().compare(&a, &b)
    );
}

#[test]
fn one_field_can_be_retuned_and_the_rest_keep_defaults() {
    let c = config(
        r#"
        link_above = 10.0
        default_country_code = "351"
        [fields.name]
        m = 0.95
        u = 0.1
        partial_from = 0.9
        "#,
    );
    assert_eq!(c.fields.handle, FieldWeights::default().handle);
    let m = Matcher::compile(&c).unwrap();
    let a = named(profile("a"), "Ana Pereira", None);
    let r = m.compare(
        &a,
        &Profile {
            id: "b".into(),
            ..a.clone()
        },
    );
    assert!((field(&r, "name").weight - log2_ratio(0.95, 0.1)).abs() < 1e-6);
    // A commoner name model no longer sends a bare name match to review.
    assert_eq!(r.decision, Decision::Distinct);
}

#[test]
fn bad_configs_fail_with_a_message_naming_the_setting() {
    assert_eq!(
        compile_err("link_above = 4.0\nreview_above = 4.0"),
        "identity matching: link_above (4) must be greater than review_above (4)"
    );
    assert_eq!(
        compile_err("[fields.handle]\nm = 1.0\nu = 0.01"),
        "identity matching: fields.handle.m = 1 must lie strictly between 0 and 1"
    );
    assert_eq!(
        compile_err("[fields.location]\nm = 0.9\nu = 0.0"),
        "identity matching: fields.location.u = 0 must lie strictly between 0 and 1"
    );
    assert!(
        compile_err("[fields.name]\nm = 0.2\nu = 0.3")
            .contains("fields.name has m = 0.2 not above u = 0.3")
    );
    assert!(
        compile_err("[fields.name]\nm = 0.9\nu = 0.1\npartial_from = 1.0")
            .contains("fields.name.partial_from")
    );
    assert!(compile_err("prior = 0.0").contains("prior = 0"));
    assert!(compile_err("default_country_code = \"049\"").contains("default_country_code \"049\""));
    assert!(compile_err("link_above = nan").contains("link_above must be a finite number"));
    // NaN probabilities are refused too, not silently compared false.
    let mut c = MatchConfig::default();
    c.fields.name.m = f64::NAN;
    assert!(
        Matcher::compile(&c)
            .unwrap_err()
            .to_string()
            .contains("fields.name.m")
    );
}

#[test]
fn unknown_settings_are_rejected_when_read() {
    assert!(toml::from_str::<MatchConfig>("link_abov = 3.0").is_err());
    assert!(toml::from_str::<MatchConfig>("[fields.email]\nm = 0.9\nu = 0.1").is_err());
    assert!(
        toml::from_str::<MatchConfig>("[fields.name]\nm = 0.9").is_err(),
        "u is required"
    );
}
