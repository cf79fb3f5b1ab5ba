//! Swear words and insults: how many of them a text uses is a feature of the shipped
//! emotion and offensive models (`FeatureSpec::abuse`). A model learns each word of its
//! training texts on its own; the count tells it, beside those, that a rare swear word or
//! insult weighs like the common ones. The list is English and free of slurs.

use std::collections::HashSet;
use std::hash::BuildHasherDefault;
use std::sync::OnceLock;

use super::clusters::Identity;
use super::features::word_hash;

/// Folded words (lower case, no accents).
pub const WORDS: &[&str] = &[
    "fuck",
    "fucks",
    "fucking",
    "fuckin",
    "fucked",
    "fucker",
    "fuckers",
    "fking",
    "fkn",
    "fck",
    "fcking",
    "fuk",
    "fuking",
    "motherfucker",
    "motherfuckers",
    "mf",
    "mofo",
    "stfu",
    "gtfo",
    "wtf",
    "ffs",
    "shit",
    "shits",
    "shitty",
    "shitting",
    "bullshit",
    "horseshit",
    "shithole",
    "shithead",
    "dipshit",
    "batshit",
    "ass",
    "asses",
    "asshole",
    "assholes",
    "arse",
    "arsehole",
    "dumbass",
    "jackass",
    "smartass",
    "bitch",
    "bitches",
    "bitching",
    "bitchy",
    "damn",
    "dammit",
    "goddamn",
    "crap",
    "crappy",
    "piss",
    "pissed",
    "pissing",
    "dick",
    "dicks",
    "dickhead",
    "cock",
    "cocksucker",
    "prick",
    "pricks",
    "twat",
    "cunt",
    "cunts",
    "wanker",
    "wankers",
    "tosser",
    "bollocks",
    "bugger",
    "douche",
    "douchebag",
    "scumbag",
    "scumbags",
    "scum",
    "slut",
    "sluts",
    "whore",
    "whores",
    "hoe",
    "hoes",
    "skank",
    "bastard",
    "bastards",
    "idiot",
    "idiots",
    "idiotic",
    "stupid",
    "stupidity",
    "moron",
    "morons",
    "moronic",
    "dumb",
    "dumber",
    "dumbest",
    "imbecile",
    "imbeciles",
    "cretin",
    "fool",
    "fools",
    "foolish",
    "clown",
    "clowns",
    "loser",
    "losers",
    "pathetic",
    "jerk",
    "jerks",
    "creep",
    "creeps",
    "pig",
    "pigs",
    "trash",
    "garbage",
    "disgusting",
    "disgrace",
    "disgraceful",
    "vile",
    "lunatic",
    "lunatics",
    "nutjob",
    "psycho",
    "maniac",
    "traitor",
    "traitors",
    "liar",
    "liars",
    "hypocrite",
    "hypocrites",
    "coward",
    "cowards",
    "thug",
    "thugs",
    "racist",
    "racists",
    "bigot",
    "bigots",
    "nazi",
    "nazis",
    "fascist",
    "fascists",
    "libtard",
    "libtards",
    "snowflake",
    "snowflakes",
    "hell",
    "sucks",
    "suck",
    "sucker",
    "freak",
    "freaks",
    "evil",
    "corrupt",
    "crook",
    "crooks",
    "thief",
    "thieves",
];

type Set = HashSet<u64, BuildHasherDefault<Identity>>;

/// Whether the folded word whose [`word_hash`] this is is on the list.
pub fn contains_hash(hash: u64) -> bool {
    static SET: OnceLock<Set> = OnceLock::new();
    SET.get_or_init(|| WORDS.iter().map(|w| word_hash(w)).collect())
        .contains(&hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_words_are_found_by_their_hash_and_others_are_not() {
        for w in ["idiot", "fucking", "bullshit", "liars"] {
            assert!(contains_hash(word_hash(w)), "{w}");
        }
        for w in ["Idiot", "parcel", "thanks", ""] {
            assert!(!contains_hash(word_hash(w)), "{w}");
        }
        assert!(
            WORDS
                .iter()
                .all(|w| w.chars().all(|c| c.is_ascii_lowercase()))
        );
    }
}
