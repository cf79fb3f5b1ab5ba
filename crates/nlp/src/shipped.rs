//! Models compiled into the binary. Each is reproducible with the `switchboard nlp train`
//! command in docs/EVALUATION.md and listed in NOTICE with its data's license. A missing or
//! empty file means "no model": the stage falls back to its rules.

use crate::model::LinearModel;

static EMOTION: &[u8] = include_bytes!("../models/emotion.sbm");
static OFFENSIVE: &[u8] = include_bytes!("../models/offensive.sbm");
static COMPLAINT: &[u8] = include_bytes!("../models/complaint.sbm");

fn load(bytes: &[u8]) -> Option<LinearModel> {
    if bytes.is_empty() {
        return None;
    }
    LinearModel::from_bytes(bytes).ok()
}

pub fn emotion() -> Option<LinearModel> {
    load(EMOTION)
}

pub fn offensive() -> Option<LinearModel> {
    load(OFFENSIVE)
}

pub fn complaint() -> Option<LinearModel> {
    load(COMPLAINT)
}
