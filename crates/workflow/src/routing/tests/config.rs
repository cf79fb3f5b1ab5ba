//! What the config file accepts and the one-line errors it gives otherwise.

use super::*;

#[test]
fn names_round_trip_through_their_strings() {
    for p in [Presence::Online, Presence::Away, Presence::Offline] {
        assert_eq!(Presence::parse(p.as_str()), Some(p));
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            format!("\"{}\"", p.as_str())
        );
    }
    for s in [
        Strategy::RoundRobin,
        Strategy::LeastLoaded,
        Strategy::SkillsBased,
    ] {
        assert_eq!(Strategy::parse(s.as_str()), Some(s));
    }
    for r in [
        PickReason::Sticky,
        PickReason::Skills,
        PickReason::LeastLoaded,
        PickReason::RoundRobin,
    ] {
        assert_eq!(PickReason::parse(r.as_str()), Some(r));
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            format!("\"{}\"", r.as_str())
        );
    }
    assert_eq!(Presence::parse("busy"), None);
    assert_eq!(Strategy::default(), Strategy::LeastLoaded);
}

const ONE_AGENT: &str = r#"
[[agents]]
id = "ana"
name = "Ana"
queues = ["support"]
"#;

fn queue_with(extra: &str) -> String {
    format!("[[queues]]\nname = \"support\"\n{extra}\n{ONE_AGENT}")
}

#[test]
fn configuration_mistakes_are_refused_with_the_item_named() {
    let cases: Vec<(String, &str)> = vec![
        (
            format!("[[queues]]\nname = \"other\"\n{ONE_AGENT}"),
            "routing agent `ana` lists unknown queue `support`",
        ),
        (
            format!("{}\n{ONE_AGENT}", queue_with("")),
            "routing agent `ana` is defined twice",
        ),
        (
            format!("[[queues]]\nname = \"support\"\n{}", queue_with("")),
            "routing queue `support` is defined twice",
        ),
        (
            queue_with("when = { time_zone = \"Europe/Berlinn\", hours = [\"22:00-06:00\"] }"),
            "routing queue `support` has unknown time zone `Europe/Berlinn`",
        ),
        (
            queue_with("when = { hours = [\"22:00-06:00\"] }"),
            "routing queue `support` has hours but no time_zone to read them in",
        ),
        (
            queue_with("when = { time_zone = \"Europe/Berlin\" }"),
            "routing queue `support` has a time_zone but no hours",
        ),
        (
            queue_with("required_skills = [\"product\"]"),
            "routing queue `support` requires skill `product`: expected language:, region:, product: or tier:<standard|premium|vip> with a value",
        ),
        (
            queue_with("team = \"night\""),
            "routing queue `support` names team `night`, but no agent is in that team",
        ),
        (
            format!("{}capacity = 0\n", queue_with("")),
            "routing agent `ana` has capacity 0; an agent must be able to hold at least one case",
        ),
        (
            "[[queues]]\nname = \"support\"\n[[agents]]\nid = \"ana\"\nname = \"Ana\"\n".into(),
            "routing agent `ana` works no queue: list queues or join a team that works one",
        ),
        (
            "[[queues]]\nname = \" \"\n".into(),
            "a routing queue has an empty name",
        ),
        (
            "[[queues]]\nname = \"q\"\n[[agents]]\nid = \"\"\nname = \"Ana\"\nqueues = [\"q\"]\n"
                .into(),
            "a routing agent has an empty id",
        ),
    ];
    for (config, message) in cases {
        assert_eq!(
            compile_err(&config).to_string(),
            message,
            "config:\n{config}"
        );
    }
}

#[test]
fn malformed_hours_and_skills_are_refused() {
    for hours in [
        "22-06",
        "22:00",
        "25:00-06:00",
        "22:60-06:00",
        "24:00-06:00",
        "08:00-08:00",
        "8:0-9:00",
    ] {
        let config = queue_with(&format!(
            "when = {{ time_zone = \"Europe/Berlin\", hours = [\"{hours}\"] }}"
        ));
        let err = compile_err(&config);
        assert!(
            matches!(&err, RoutingError::BadHours { queue, hours: h, .. } if queue == "support" && h == hours),
            "{hours}: {err}"
        );
    }
    for skill in ["tier:gold", "mood:happy", "language:"] {
        let err = compile_err(&queue_with(&format!("required_skills = [\"{skill}\"]")));
        assert_eq!(
            err,
            RoutingError::BadSkill {
                queue: "support".into(),
                skill: skill.into()
            }
        );
    }
}

#[test]
fn a_whole_day_window_and_several_windows_are_accepted() {
    let r = router(&queue_with(
        "when = { time_zone = \"UTC\", hours = [\"00:00-24:00\"] }",
    ));
    assert_eq!(r.queue_for(&case("c1")), Some("support"));
    let r = router(&queue_with(
        "when = { time_zone = \"America/New_York\", hours = [\"07:00-08:00\", \"12:00-13:30\"] }",
    ));
    // 09:00 UTC is 04:00 in New York; 17:15 UTC is 12:15.
    assert_eq!(r.queue_for(&case("c1")), None);
    let lunch = RouteCase {
        at: at("2026-11-23T17:15:00Z"),
        ..case("c2")
    };
    assert_eq!(r.queue_for(&lunch), Some("support"));
}

#[test]
fn unknown_fields_in_the_config_file_are_refused() {
    let typo = queue_with("stickyy = true");
    let err = toml::from_str::<RoutingConfig>(&typo).unwrap_err();
    assert!(err.to_string().contains("unknown field `stickyy`"), "{err}");
    let typo = queue_with("when = { language = [\"de\"] }");
    assert!(toml::from_str::<RoutingConfig>(&typo).is_err());
    let typo = format!("{}skils = [\"de\"]\n", queue_with(""));
    assert!(toml::from_str::<RoutingConfig>(&typo).is_err());
}
