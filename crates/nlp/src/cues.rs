//! Word lists shared by the rule-based stages. Written from customer-care practice (what
//! agents escalate and why), never derived from the benchmark data, which is only measured.
//! All entries are folded (lower case, no accents); phrases are matched on word boundaries.
//! Every list is counted in one pass per message ([`CueCounts`]).

use crate::lexicon::PhraseBook;
use std::sync::OnceLock;

/// The phrase lists below, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cue {
    Complaint,
    Praise,
    Safety,
    Legal,
    Regulator,
    Breach,
    Churn,
    Repeated,
    Profanity,
    Spam,
    Anger,
    Sadness,
    Joy,
    Optimism,
}

impl Cue {
    const ALL: [Cue; 14] = [
        Cue::Complaint,
        Cue::Praise,
        Cue::Safety,
        Cue::Legal,
        Cue::Regulator,
        Cue::Breach,
        Cue::Churn,
        Cue::Repeated,
        Cue::Profanity,
        Cue::Spam,
        Cue::Anger,
        Cue::Sadness,
        Cue::Joy,
        Cue::Optimism,
    ];

    fn phrases(self) -> &'static [&'static str] {
        match self {
            Cue::Complaint => COMPLAINT,
            Cue::Praise => PRAISE,
            Cue::Safety => SAFETY,
            Cue::Legal => LEGAL,
            Cue::Regulator => REGULATOR,
            Cue::Breach => BREACH,
            Cue::Churn => CHURN,
            Cue::Repeated => REPEATED,
            Cue::Profanity => PROFANITY,
            Cue::Spam => SPAM,
            Cue::Anger => ANGER,
            Cue::Sadness => SADNESS,
            Cue::Joy => JOY,
            Cue::Optimism => OPTIMISM,
        }
    }
}

/// How often each list's phrases occur in one message.
#[derive(Clone, Debug, Default)]
pub struct CueCounts(Vec<usize>);

impl CueCounts {
    /// Counts every list over a message's folded words.
    pub fn of(words: &[&str]) -> Self {
        static BOOK: OnceLock<PhraseBook> = OnceLock::new();
        let book = BOOK.get_or_init(|| PhraseBook::new(&Cue::ALL.map(Cue::phrases)));
        Self(book.counts(words))
    }

    pub fn count(&self, cue: Cue) -> usize {
        self.0.get(cue as usize).copied().unwrap_or(0)
    }

    pub fn any(&self, cue: Cue) -> bool {
        self.count(cue) > 0
    }
}

/// Signs the customer reports something wrong with a product or service.
pub const COMPLAINT: &[&str] = &[
    "worst",
    "terrible",
    "awful",
    "horrible",
    "useless",
    "ridiculous",
    "unacceptable",
    "disappointed",
    "disappointing",
    "frustrated",
    "frustrating",
    "annoyed",
    "annoying",
    "fix",
    "broken",
    "broke",
    "issue",
    "issues",
    "problem",
    "problems",
    "error",
    "failed",
    "fails",
    "crash",
    "crashed",
    "crashing",
    "outage",
    "delayed",
    "delay",
    "late",
    "waiting",
    "still",
    "again",
    "refund",
    "charged",
    "overcharged",
    "lost",
    "missing",
    "wrong",
    "damaged",
    "rude",
    "poor",
    "slow",
    "stuck",
    "nobody",
    "no one",
    "not working",
    "doesn't work",
    "don't work",
    "won't",
    "can't",
    "cannot",
    "isn't",
    "hasn't",
    "haven't",
    "didn't",
    "never",
    "complaint",
    "scam",
    "on hold",
    "cancelled",
    "canceled",
    "sort it",
    "sort this",
    "fed up",
    "joke",
    "pathetic",
    "shocking",
    "appalling",
    "disgrace",
    "disgusting",
    "fail",
    "sucks",
    "waste",
    "hours",
    "days",
    "weeks",
];

/// Words that open a question.
pub const QUESTION_OPENERS: &[&str] = &[
    "how", "what", "when", "where", "which", "who", "why", "can", "could", "do", "does", "is",
    "are", "will", "would", "should", "any", "anyone", "is there", "cual", "como", "donde",
    "cuando", "quand", "comment", "ou", "wie", "wo", "wann", "quando", "onde", "come",
];

/// Thanks and praise.
pub const PRAISE: &[&str] = &[
    "thanks",
    "thank you",
    "thank",
    "thx",
    "love",
    "great",
    "amazing",
    "awesome",
    "best",
    "excellent",
    "brilliant",
    "fantastic",
    "kudos",
    "appreciate",
    "appreciated",
    "shoutout",
    "perfect",
    "wonderful",
    "gracias",
    "merci",
    "danke",
    "obrigado",
    "obrigada",
    "grazie",
    "bedankt",
];

/// Danger to people or property: always critical.
pub const SAFETY: &[&str] = &[
    "caught fire",
    "on fire",
    "fire hazard",
    "flames",
    "smoke",
    "exploded",
    "explosion",
    "burned me",
    "burnt",
    "burns",
    "injury",
    "injured",
    "hurt",
    "hospital",
    "ambulance",
    "poisoning",
    "poisoned",
    "allergic reaction",
    "choking",
    "electric shock",
    "unsafe",
    "dangerous",
    "hazard",
    "carbon monoxide",
    "gas leak",
    "incendio",
    "herido",
    "blesse",
    "verletzt",
    "ferido",
];

/// Legal threats: always critical.
pub const LEGAL: &[&str] = &[
    "lawyer",
    "lawyers",
    "attorney",
    "solicitor",
    "sue",
    "suing",
    "lawsuit",
    "legal action",
    "class action",
    "see you in court",
    "take you to court",
    "small claims",
    "abogado",
    "demanda",
    "avocat",
    "plainte",
    "anwalt",
    "klage",
    "advogado",
    "processo",
    "avvocato",
];

/// Regulators and consumer bodies: always critical.
pub const REGULATOR: &[&str] = &[
    "ombudsman",
    "regulator",
    "fca",
    "ftc",
    "cfpb",
    "fcc",
    "bbb",
    "trading standards",
    "ofcom",
    "ofgem",
    "ico",
    "cnil",
    "gdpr",
    "data protection authority",
    "consumer protection",
    "attorney general",
    "bafin",
    "ocu",
    "procon",
    "agcom",
];

/// Security incidents: always critical.
pub const BREACH: &[&str] = &[
    "data breach",
    "breach",
    "hacked",
    "leaked",
    "identity theft",
    "stolen identity",
    "unauthorized",
    "unauthorised",
    "fraudulent",
    "fraud",
    "phishing",
    "someone accessed my account",
    "account compromised",
    "compromised",
];

/// The customer is about to leave.
pub const CHURN: &[&str] = &[
    "cancel",
    "cancelling",
    "canceling",
    "cancel my",
    "close my account",
    "closing my account",
    "switching to",
    "switch to",
    "moving to",
    "leaving",
    "taking my business",
    "never again",
    "never buying",
    "never using",
    "last time",
    "unsubscribe",
    "darme de baja",
    "resilier",
    "kundigen",
    "cancelar",
];

/// The customer has tried before.
pub const REPEATED: &[&str] = &[
    "again",
    "still",
    "third time",
    "3rd time",
    "second time",
    "2nd time",
    "fourth time",
    "several times",
    "multiple times",
    "many times",
    "keep calling",
    "keep asking",
    "no response",
    "no reply",
    "nobody answers",
    "no one answers",
    "ignored",
    "for days",
    "for weeks",
    "for hours",
    "still waiting",
    "yet again",
    "otra vez",
    "encore",
    "schon wieder",
    "de novo",
];

/// Insults and slurs-free profanity, for a toxicity floor when no model is loaded.
pub const PROFANITY: &[&str] = &[
    "fuck", "fucking", "fucked", "shit", "shitty", "bullshit", "bitch", "bastard", "asshole",
    "idiot", "idiots", "stupid", "moron", "morons", "dumb", "crap", "damn", "wtf", "stfu",
    "scumbag", "scum", "jerk", "pathetic", "loser", "losers", "piss", "pissed",
];

/// Spam and promotion.
pub const SPAM: &[&str] = &[
    "free",
    "click",
    "click here",
    "win",
    "winner",
    "giveaway",
    "promo",
    "crypto",
    "bitcoin",
    "airdrop",
    "follow back",
    "follow me",
    "dm me",
    "earn",
    "investment",
    "forex",
    "limited offer",
    "buy now",
    "discount code",
    "check my profile",
    "link in bio",
];

/// Emotion cues for the rule fallback when no emotion model is loaded.
pub const ANGER: &[&str] = &[
    "angry",
    "furious",
    "livid",
    "mad",
    "outraged",
    "rage",
    "hate",
    "sick of",
    "fed up",
    "pissed",
    "disgusting",
    "unacceptable",
    "ridiculous",
];
pub const SADNESS: &[&str] = &[
    "sad",
    "upset",
    "heartbroken",
    "depressed",
    "crying",
    "cry",
    "unhappy",
    "miss",
    "lonely",
    "disappointed",
    "sorry",
    "lost",
];
pub const JOY: &[&str] = &[
    "happy",
    "love",
    "great",
    "amazing",
    "awesome",
    "glad",
    "delighted",
    "excited",
    "fun",
    "lol",
    "haha",
    "yay",
    "thanks",
];
pub const OPTIMISM: &[&str] = &[
    "hope",
    "hopefully",
    "looking forward",
    "can't wait",
    "soon",
    "optimistic",
    "believe",
    "confident",
    "better",
    "will be",
];
