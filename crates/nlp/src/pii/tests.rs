use super::*;

fn kinds(text: &str) -> Vec<(PiiKind, &str)> {
    find_pii(text)
        .into_iter()
        .map(|s| (s.kind, &text[s.start..s.end]))
        .collect()
}

#[test]
fn a_customer_shares_contact_details_and_they_are_redacted() {
    let text = "Mail me at jane.doe+care@example.co.uk or call +44 20 7946 0958.";
    assert_eq!(
        kinds(text),
        [
            (PiiKind::Email, "jane.doe+care@example.co.uk"),
            (PiiKind::Phone, "+44 20 7946 0958")
        ]
    );
    let spans = find_pii(text);
    assert_eq!(redact(text, &spans), "Mail me at [EMAIL] or call [PHONE].");
    assert_eq!(data_class(&spans), DataClass::Personal);
}

#[test]
fn only_luhn_valid_cards_are_cards() {
    assert_eq!(
        kinds("card 4111 1111 1111 1111 please"),
        [(PiiKind::PaymentCard, "4111 1111 1111 1111")]
    );
    assert_eq!(
        kinds("card 4111-1111-1111-1112 please")
            .iter()
            .filter(|k| k.0 == PiiKind::PaymentCard)
            .count(),
        0
    );
    assert_eq!(
        data_class(&find_pii("4111111111111111")),
        DataClass::Sensitive
    );
}

#[test]
fn only_checksum_valid_ibans_are_ibans() {
    assert_eq!(
        kinds("IBAN: DE89 3704 0044 0532 0130 00 thanks"),
        [(PiiKind::Iban, "DE89 3704 0044 0532 0130 00")]
    );
    assert_eq!(
        kinds("GB82WEST12345698765432"),
        [(PiiKind::Iban, "GB82WEST12345698765432")]
    );
    assert_eq!(kinds("DE89 3704 0044 0532 0130 01"), []);
}

#[test]
fn phones_in_several_national_formats() {
    for p in [
        "+1 (555) 123-4567",
        "(555) 123-4567",
        "555-123-4567",
        "06 12 34 56 78",
        "07700 900123",
        "+34 612 345 678",
        "0049 30 1234567",
        "030 1234567",
        "0151 12345678",
        "0221-9876543",
    ] {
        let text = format!("ring me on {p} today");
        assert_eq!(kinds(&text), [(PiiKind::Phone, p)], "{p}");
    }
}

#[test]
fn order_numbers_and_dates_are_not_pii() {
    for t in [
        "order 123456789 is late",
        "since 12/03/2024",
        "flight BA117 at 10:45",
        "ticket #4567890123",
        "in 2024 I paid 1,299.00",
        "order 123456782 is late",
        "parcel 0123 4 is lost",
        "RSSMRA85T10A562X is not a tax code",
    ] {
        assert!(kinds(t).is_empty(), "{t}: {:?}", kinds(t));
    }
}

#[test]
fn national_ids_with_check_digits() {
    assert_eq!(
        kinds("SSN 123-45-6789"),
        [(PiiKind::NationalId, "123-45-6789")]
    );
    assert!(kinds("SSN 000-45-6789").is_empty());
    assert_eq!(kinds("DNI 12345678Z"), [(PiiKind::NationalId, "12345678Z")]);
    assert!(kinds("DNI 12345678A").is_empty());
    assert_eq!(kinds("NIE X1234567L"), [(PiiKind::NationalId, "X1234567L")]);
    assert_eq!(
        kinds("NI AB 12 34 56 C"),
        [(PiiKind::NationalId, "AB 12 34 56 C")]
    );
    assert_eq!(
        kinds("CPF 529.982.247-25"),
        [(PiiKind::NationalId, "529.982.247-25")]
    );
    assert!(kinds("CPF 529.982.247-26").is_empty());
}

#[test]
fn european_national_ids_with_their_checks() {
    // Italian codice fiscale, upper or lower case, and with omocodia letters.
    assert_eq!(
        kinds("Codice fiscale RSSMRA85T10A562S"),
        [(PiiKind::NationalId, "RSSMRA85T10A562S")]
    );
    assert_eq!(
        kinds("cf: mrtmtt91d08f205j grazie"),
        [(PiiKind::NationalId, "mrtmtt91d08f205j")]
    );
    assert!(kinds("Codice fiscale RSSMRA85T10A562T").is_empty());
    // French NIR, with or without spaces; the key must match.
    assert_eq!(
        kinds("n° sécu 1 85 05 78 006 084 91"),
        [(PiiKind::NationalId, "1 85 05 78 006 084 91")]
    );
    assert_eq!(
        kinds("NIR 185057800608491."),
        [(PiiKind::NationalId, "185057800608491")]
    );
    assert!(kinds("NIR 1 85 05 78 006 084 92").is_empty());
    // Nine digits are an id only when named and checksum-valid.
    assert_eq!(kinds("NIF 123456789"), [(PiiKind::NationalId, "123456789")]);
    assert_eq!(
        kinds("contribuinte n.º 123456789"),
        [(PiiKind::NationalId, "123456789")]
    );
    assert_eq!(
        kinds("mijn BSN: 123456782"),
        [(PiiKind::NationalId, "123456782")]
    );
    assert!(kinds("NIF 123456788").is_empty());
    assert!(kinds("order 123456789").is_empty());
    assert!(kinds("BSNX 123456782").is_empty());
}

#[test]
fn postal_addresses_in_several_languages() {
    assert_eq!(
        kinds("deliver to 221B Baker Street, London NW1 6XE"),
        [
            (PiiKind::PostalAddress, "221B Baker Street"),
            (PiiKind::PostalAddress, "NW1 6XE")
        ]
    );
    assert_eq!(
        kinds("vivo en Calle Mayor 5, Madrid"),
        [(PiiKind::PostalAddress, "Calle Mayor 5")]
    );
    assert_eq!(
        kinds("Lieferung an Hauptstraße 12"),
        [(PiiKind::PostalAddress, "Hauptstraße 12")]
    );
    assert_eq!(
        kinds("j'habite 12 rue de la Paix"),
        [(PiiKind::PostalAddress, "12 rue de la Paix")]
    );
    assert!(kinds("the street was closed for 3 hours").is_empty());
    // The postcode and town after a street address are part of it.
    for (text, address) in [
        (
            "Adresse: Hauptstraße 5, 10115 Berlin.",
            "Hauptstraße 5, 10115 Berlin",
        ),
        (
            "vivo en Calle Mayor 10, 28013 Madrid",
            "Calle Mayor 10, 28013 Madrid",
        ),
        (
            "morada Rua Augusta 100, 1100-053 Lisboa",
            "Rua Augusta 100, 1100-053 Lisboa",
        ),
        ("via Roma 1, 00184 Roma", "via Roma 1, 00184 Roma"),
        (
            "Kerkstraat 12, 1012 AB Amsterdam",
            "Kerkstraat 12, 1012 AB Amsterdam",
        ),
        (
            "12 rue de la Paix 75002 Paris",
            "12 rue de la Paix 75002 Paris",
        ),
    ] {
        assert_eq!(kinds(text), [(PiiKind::PostalAddress, address)], "{text}");
    }
    // A number after an address that is not followed by a town stays out of it.
    assert_eq!(
        kinds("Hauptstraße 5, 10115 boxes"),
        [(PiiKind::PostalAddress, "Hauptstraße 5")]
    );
}

#[test]
fn offsets_survive_multibyte_text() {
    let text = "😡😡 écrivez à jose@example.fr";
    let spans = find_pii(text);
    // Offsets count bytes, so the emoji and accents before the address shift them.
    assert_eq!(spans.len(), 1);
    assert!(text.is_char_boundary(spans[0].start) && text.is_char_boundary(spans[0].end));
}
