//! Candidate generation: which existing profiles are worth comparing with a new or changed
//! one. Comparing every pair is quadratic, so profiles are filed under cheap blocking keys
//! and only profiles sharing a key are proposed. It proposes; it never scores or decides.

use super::Profile;
use super::similarity::handle_stem;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Profiles filed under their blocking keys:
/// - `email:` each verified e-mail key, `phone:` each E.164 number, `order:` each order id;
/// - `name:` the first three characters of each normalised name with the first word of the
///   normalised location ("ana|lisbon"), only when the profile has a location — a name prefix
///   alone would put every "Ana" in one bucket;
/// - `handle:` each handle's stem (normalised, trailing digits dropped) of three characters
///   or more, on any platform, so "@ana_pereira" on X finds "anapereira84" on Instagram.
///
/// A profile without location and handles is found only through its deterministic keys.
#[derive(Clone, Debug, Default)]
pub struct CandidateIndex {
    default_country_code: Option<String>,
    by_key: HashMap<String, BTreeSet<String>>,
    keys_of: HashMap<String, BTreeSet<String>>,
}

impl CandidateIndex {
    /// An index that parses only international phone numbers; see
    /// [`Matcher::candidate_index`](super::Matcher::candidate_index) for one that also reads
    /// national numbers with the configured country code.
    pub fn new() -> Self {
        Self::default()
    }

    pub(crate) fn with_default_country_code(default_country_code: Option<String>) -> Self {
        Self {
            default_country_code,
            ..Self::default()
        }
    }

    /// Files the profile under its keys, replacing whatever was filed under its id before.
    pub fn insert(&mut self, p: &Profile) {
        self.remove(&p.id);
        let keys = self.blocking_keys(p);
        for key in &keys {
            self.by_key
                .entry(key.clone())
                .or_default()
                .insert(p.id.clone());
        }
        self.keys_of.insert(p.id.clone(), keys);
    }

    /// Forgets the profile (after it was absorbed or erased); unknown ids are ignored.
    pub fn remove(&mut self, id: &str) {
        let Some(keys) = self.keys_of.remove(id) else {
            return;
        };
        for key in keys {
            if let Some(ids) = self.by_key.get_mut(&key) {
                ids.remove(id);
                if ids.is_empty() {
                    self.by_key.remove(&key);
                }
            }
        }
    }

    /// Ids of filed profiles sharing at least one key with `p`, excluding `p.id`, each once:
    /// most shared keys first, then by id, so callers that cap the list keep the likeliest.
    pub fn candidates(&self, p: &Profile) -> Vec<String> {
        let mut shared: BTreeMap<&str, usize> = BTreeMap::new();
        for key in self.blocking_keys(p) {
            for id in self.by_key.get(&key).into_iter().flatten() {
                if *id != p.id {
                    *shared.entry(id.as_str()).or_default() += 1;
                }
            }
        }
        let mut ranked: Vec<(&str, usize)> = shared.into_iter().collect();
        ranked.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(y.0)));
        ranked.into_iter().map(|(id, _)| id.to_owned()).collect()
    }

    /// Number of profiles filed.
    pub fn len(&self) -> usize {
        self.keys_of.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys_of.is_empty()
    }

    fn blocking_keys(&self, p: &Profile) -> BTreeSet<String> {
        let mut keys = BTreeSet::new();
        keys.extend(p.email_keys().map(|e| format!("email:{e}")));
        keys.extend(
            p.phone_keys(self.default_country_code.as_deref())
                .map(|n| format!("phone:{n}")),
        );
        keys.extend(p.order_keys().map(|o| format!("order:{o}")));
        if let Some(place) = p.normalised_location()
            && let Some(first_word) = place.split(' ').next()
        {
            for name in p.normalised_names() {
                let prefix: String = name.chars().take(3).collect();
                keys.insert(format!("name:{prefix}|{first_word}"));
            }
        }
        for handle in p.normalised_handles() {
            let stem = handle_stem(&handle);
            if stem.chars().count() >= 3 {
                keys.insert(format!("handle:{stem}"));
            }
        }
        keys
    }
}
