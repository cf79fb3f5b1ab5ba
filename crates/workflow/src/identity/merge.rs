//! Merging two customer profiles into one and undoing it exactly. The record of a merge
//! keeps both profiles as they were, the match result that justified it (with every field's
//! weight) and who did it when, so an unmerge restores the originals byte for byte and an
//! auditor can see why they were joined. It never decides whether to merge.

use super::{MatchResult, Profile};
use sb_domain::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

/// Everything needed to explain and undo one merge.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MergeRecord {
    /// The surviving profile as it was before the merge.
    pub survivor: Profile,
    /// The absorbed profile as it was before the merge.
    pub absorbed: Profile,
    /// The comparison behind the merge, per-field weights included.
    pub result: MatchResult,
    /// Who merged: an agent id, or the rule that linked automatically.
    pub by: String,
    pub at: Timestamp,
}

/// The two profiles of an undone merge, and what changed on the merged profile meanwhile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Unmerged {
    /// Exactly the survivor as it was before the merge.
    pub survivor: Profile,
    /// Exactly the absorbed profile as it was before the merge.
    pub absorbed: Profile,
    /// Items the merged profile gained after the merge (not in the merge's result). The
    /// caller attaches them to the survivor, which kept the merged profile's id. Only list
    /// items and a changed location are filled; `id` is empty.
    pub added_since: Profile,
    /// Items the merge brought in that have been removed since (an agent deleted a wrong
    /// phone, say). Restoring the originals brings them back; the caller may remove them
    /// again. Same shape as `added_since`; `location` holds the merged location when it
    /// was changed or cleared.
    pub removed_since: Profile,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MergeError {
    #[error("unmerge: profile {current:?} is not the survivor {survivor:?} of this merge")]
    WrongProfile { current: String, survivor: String },
}

/// Combines two profiles into the survivor: every list is the union of both (survivor's
/// items first, then the absorbed profile's new ones, duplicates dropped, order kept), per
/// platform for handles and ids; the survivor's id and location win, the absorbed
/// profile's location fills a gap. Returns the merged profile and the record that undoes it.
pub fn merge(
    survivor: &Profile,
    absorbed: &Profile,
    result: MatchResult,
    by: &str,
    at: Timestamp,
) -> (Profile, MergeRecord) {
    let record = MergeRecord {
        survivor: survivor.clone(),
        absorbed: absorbed.clone(),
        result,
        by: by.to_owned(),
        at,
    };
    (combine(survivor, absorbed), record)
}

/// Undoes a merge: the two profiles exactly as they were before it, plus what the merged
/// profile gained (`added_since`) and lost (`removed_since`) after it, found by comparing
/// `current` (the merged profile as it is now) with the merge's result, which is rebuilt
/// from the record — merging is deterministic. Errors when `current` is not the survivor.
pub fn unmerge(record: &MergeRecord, current: &Profile) -> Result<Unmerged, MergeError> {
    if current.id != record.survivor.id {
        return Err(MergeError::WrongProfile {
            current: current.id.clone(),
            survivor: record.survivor.id.clone(),
        });
    }
    let merged = combine(&record.survivor, &record.absorbed);
    Ok(Unmerged {
        survivor: record.survivor.clone(),
        absorbed: record.absorbed.clone(),
        added_since: difference(current, &merged),
        removed_since: difference(&merged, current),
    })
}

fn combine(survivor: &Profile, absorbed: &Profile) -> Profile {
    Profile {
        id: survivor.id.clone(),
        names: union(&survivor.names, &absorbed.names),
        handles: union_map(&survivor.handles, &absorbed.handles),
        verified_emails: union(&survivor.verified_emails, &absorbed.verified_emails),
        phones: union(&survivor.phones, &absorbed.phones),
        order_ids: union(&survivor.order_ids, &absorbed.order_ids),
        location: survivor
            .location
            .clone()
            .or_else(|| absorbed.location.clone()),
        platform_ids: union_map(&survivor.platform_ids, &absorbed.platform_ids),
    }
}

/// What `a` holds that `base` does not, as a profile of items only.
fn difference(a: &Profile, base: &Profile) -> Profile {
    Profile {
        id: String::new(),
        names: minus(&a.names, &base.names),
        handles: minus_map(&a.handles, &base.handles),
        verified_emails: minus(&a.verified_emails, &base.verified_emails),
        phones: minus(&a.phones, &base.phones),
        order_ids: minus(&a.order_ids, &base.order_ids),
        location: if a.location == base.location {
            None
        } else {
            a.location.clone()
        },
        platform_ids: minus_map(&a.platform_ids, &base.platform_ids),
    }
}

fn union(a: &[String], b: &[String]) -> Vec<String> {
    let mut seen = HashSet::new();
    a.iter()
        .chain(b)
        .filter(|v| seen.insert(v.as_str()))
        .cloned()
        .collect()
}

fn union_map(
    a: &BTreeMap<String, Vec<String>>,
    b: &BTreeMap<String, Vec<String>>,
) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for (k, v) in a.iter().chain(b) {
        let merged = union(out.get(k).map(Vec::as_slice).unwrap_or_default(), v);
        out.insert(k.clone(), merged);
    }
    out
}

fn minus(a: &[String], b: &[String]) -> Vec<String> {
    let mut seen: HashSet<&str> = b.iter().map(String::as_str).collect();
    a.iter()
        .filter(|v| seen.insert(v.as_str()))
        .cloned()
        .collect()
}

fn minus_map(
    a: &BTreeMap<String, Vec<String>>,
    b: &BTreeMap<String, Vec<String>>,
) -> BTreeMap<String, Vec<String>> {
    a.iter()
        .map(|(k, v)| {
            (
                k.clone(),
                minus(v, b.get(k).map(Vec::as_slice).unwrap_or_default()),
            )
        })
        .filter(|(_, v)| !v.is_empty())
        .collect()
}
