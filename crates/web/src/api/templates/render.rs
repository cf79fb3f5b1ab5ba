//! Rendering a template for a case: the approved version that suits the customer, filled in
//! with what the case knows and what the caller adds. Shared by `POST /cases/{id}/render` and
//! replies sent from a template, so an agent sends exactly what they previewed — including,
//! when the template runs an experiment, the variant the case gets.

use super::{case_locale, case_variables, checked_locale, problem, versions_of};
use crate::AppState;
use crate::problem::Problem;
use sb_domain::Case;
use sb_workflow::templates::{Variables, select};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A template to render for a case, and values the case cannot know (an order number).
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct TemplateChoice {
    pub key: String,
    /// Preferred tone; `neutral`, then any tone in the customer's language otherwise.
    pub tone: Option<String>,
    /// Overrides the customer's language.
    pub locale: Option<String>,
    /// `{"order.id": "O-77"}` or `{"order": {"id": "O-77"}}`; these win over the case's own.
    #[schema(value_type = Option<Object>)]
    pub variables: Option<serde_json::Map<String, Value>>,
}

/// An approved version rendered for a case: the text to review and send.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Rendered {
    pub text: String,
    pub key: String,
    pub version: u32,
    /// The version's locale: the customer's, or a fallback (`pt-BR` → `pt` → default).
    pub locale: String,
    pub tone: String,
    /// Set when the chosen template runs an experiment (H4): the variant this case gets,
    /// whose template was rendered in place of the one chosen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub experiment: Option<ExperimentArm>,
}

/// The experiment and variant a case got.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ExperimentArm {
    pub name: String,
    pub variant: String,
}

/// The variant of the running experiment on `key` that `case` gets, with its template.
fn experiment_arm(state: &AppState, key: &str, case: &Case) -> Option<(ExperimentArm, String)> {
    let wf = state.casework.workflow();
    let e = wf.experiments.on_template(key)?;
    let v = variant_for(e, case.id.as_str())?;
    Some((
        ExperimentArm {
            name: e.name.clone(),
            variant: v.name.clone(),
        },
        v.template.clone(),
    ))
}

/// The variant of experiment `e` that the case `case_id` draws: the same every time, spread
/// over the variants by their weights. Replies and disruption messages draw alike.
pub(crate) fn variant_for<'e>(
    e: &'e sb_workflow::experiments::ExperimentConfig,
    case_id: &str,
) -> Option<&'e sb_workflow::experiments::VariantConfig> {
    let weights: Vec<(&str, u32)> = e
        .variants
        .iter()
        .map(|v| (v.name.as_str(), v.weight))
        .collect();
    let pick = sb_analytics::experiments::assign(&e.name, case_id, &weights)?;
    e.variants.iter().find(|v| v.name == pick)
}

/// Renders the approved version of `choice.key` that suits the case's customer. For a caller
/// who may not read personal data (`personal` false), names, handles and the subject come out
/// as `[redacted]`.
pub(crate) async fn render_for_case(
    state: &AppState,
    case: &Case,
    choice: &TemplateChoice,
    personal: bool,
) -> Result<Rendered, Problem> {
    let arm = experiment_arm(state, choice.key.trim(), case);
    let key = arm
        .as_ref()
        .map_or(choice.key.trim(), |(_, template)| template.as_str());
    let versions = versions_of(state, key).await?;
    let customer = state.store.customer(&case.customer_id).await?;
    let locale = match choice.locale.as_deref().filter(|l| !l.trim().is_empty()) {
        Some(l) => checked_locale(l)?,
        None => case_locale(case, customer.as_ref()),
    };
    let default_locale = &state.casework.workflow().default_locale;
    let chosen = select(
        &versions,
        key,
        &locale,
        choice.tone.as_deref(),
        default_locale,
    )
    .map_err(problem)?;
    let mut vars = case_variables(state, case, customer.as_ref(), personal).await?;
    if let Some(given) = &choice.variables {
        vars.merge(Variables::from_json("", &Value::Object(given.clone())));
    }
    Ok(Rendered {
        text: chosen.render(&vars).map_err(problem)?,
        key: chosen.key.clone(),
        version: chosen.version,
        locale: chosen.locale.clone(),
        tone: chosen.tone.clone(),
        experiment: arm.map(|(a, _)| a),
    })
}
