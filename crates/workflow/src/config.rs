//! The `[workflow]` section of the configuration file, compiled into one `Workflow`: the SLA
//! policies and their calendars, queues and agents, case rules, the escalation matrix,
//! approval policy, guardrails, identity matching, surveys, quality review and template experiments. Compiling checks every part, so a
//! mistake stops start-up with one line naming it instead of surfacing on a live case.

use crate::approvals::{ApprovalConfig, ApprovalPolicy};
use crate::calendar::CalendarConfig;
use crate::escalation::{EscalationConfig, EscalationMatrix};
use crate::experiments::{ExperimentConfig, Experiments};
use crate::feedback::qa::{QaConfig, QaPolicy};
use crate::feedback::{SurveyConfig, Surveys};
use crate::guardrails::{GuardrailConfig, Guardrails};
use crate::identity::{MatchConfig, Matcher};
use crate::routing::{AgentConfig, QueueConfig, Router};
use crate::rules::{RuleConfig, RuleSet};
use crate::sla::{SlaPolicies, SlaPolicyConfig};
use serde::Deserialize;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkflowConfig {
    #[serde(default)]
    pub calendars: Vec<CalendarConfig>,
    /// SLA policies, matched in order; the first whose conditions hold applies.
    #[serde(default)]
    pub sla: Vec<SlaPolicyConfig>,
    #[serde(default)]
    pub queues: Vec<QueueConfig>,
    #[serde(default)]
    pub agents: Vec<AgentConfig>,
    #[serde(default)]
    pub rules: Vec<RuleConfig>,
    #[serde(default)]
    pub escalations: Vec<EscalationConfig>,
    #[serde(default)]
    pub approvals: ApprovalConfig,
    #[serde(default)]
    pub guardrails: Vec<GuardrailConfig>,
    #[serde(default)]
    pub matching: MatchConfig,
    /// A resolved case closes this many days after it was resolved; until then a new
    /// message from the customer reopens it.
    #[serde(default = "default_close_after_days")]
    pub close_after_days: u32,
    /// The language templates fall back to.
    #[serde(default = "default_locale")]
    pub default_locale: String,
    /// When automated replies pause (D9).
    #[serde(default)]
    pub automation: crate::automation::AutomationConfig,
    /// Satisfaction surveys sent when a case is resolved (D10).
    #[serde(default)]
    pub surveys: SurveyConfig,
    /// Quality review: which resolved cases are drawn, and the scorecard (D11).
    #[serde(default)]
    pub qa: QaConfig,
    /// A/B experiments on reply templates (H4).
    #[serde(default)]
    pub experiments: Vec<ExperimentConfig>,
}

fn default_close_after_days() -> u32 {
    4
}

fn default_locale() -> String {
    "en".into()
}

impl Default for WorkflowConfig {
    fn default() -> Self {
        Self {
            calendars: Vec::new(),
            sla: Vec::new(),
            queues: Vec::new(),
            agents: Vec::new(),
            rules: Vec::new(),
            escalations: Vec::new(),
            approvals: ApprovalConfig::default(),
            guardrails: Vec::new(),
            matching: MatchConfig::default(),
            close_after_days: default_close_after_days(),
            default_locale: default_locale(),
            automation: crate::automation::AutomationConfig::default(),
            surveys: SurveyConfig::default(),
            qa: QaConfig::default(),
            experiments: Vec::new(),
        }
    }
}

/// Everything the case workflow decides with, compiled.
pub struct Workflow {
    pub sla: SlaPolicies,
    pub router: Router,
    pub rules: RuleSet,
    pub escalations: EscalationMatrix,
    pub approvals: ApprovalPolicy,
    pub guardrails: Guardrails,
    pub matcher: Matcher,
    pub close_after_ms: i64,
    pub default_locale: String,
    pub automation: crate::automation::AutomationConfig,
    pub surveys: Surveys,
    pub qa: QaPolicy,
    pub experiments: Experiments,
}

#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    #[error("workflow.sla: {0}")]
    Sla(#[from] crate::sla::SlaError),
    #[error("workflow.queues/agents: {0}")]
    Routing(#[from] crate::routing::RoutingError),
    #[error("workflow.rules: {0}")]
    Rules(#[from] crate::rules::RuleError),
    #[error("workflow.escalations: {0}")]
    Escalations(#[from] crate::escalation::EscalationError),
    #[error("workflow.approvals: {0}")]
    Approvals(#[from] crate::approvals::ApprovalError),
    #[error("workflow.guardrails: {0}")]
    Guardrails(#[from] crate::guardrails::GuardrailError),
    #[error("workflow.matching: {0}")]
    Matching(#[from] crate::identity::MatchError),
    #[error("workflow.automation: {0}")]
    Automation(#[from] crate::automation::AutomationError),
    #[error("workflow.surveys: {0}")]
    Surveys(#[from] crate::feedback::SurveyConfigError),
    #[error("workflow.qa: {0}")]
    Qa(#[from] crate::feedback::qa::QaConfigError),
    #[error("workflow.experiments: {0}")]
    Experiments(#[from] crate::experiments::ExperimentError),
}

impl Workflow {
    pub fn compile(c: &WorkflowConfig) -> Result<Self, WorkflowError> {
        c.automation.validate()?;
        Ok(Self {
            sla: SlaPolicies::compile(&c.sla, &c.calendars)?,
            router: Router::compile(&c.queues, &c.agents)?,
            rules: RuleSet::compile(&c.rules)?,
            escalations: EscalationMatrix::compile(&c.escalations)?,
            approvals: ApprovalPolicy::compile(&c.approvals)?,
            guardrails: Guardrails::compile(&c.guardrails)?,
            matcher: Matcher::compile(&c.matching)?,
            close_after_ms: i64::from(c.close_after_days) * 86_400_000,
            default_locale: c.default_locale.clone(),
            automation: c.automation.clone(),
            surveys: Surveys::compile(&c.surveys)?,
            qa: QaPolicy::compile(&c.qa)?,
            experiments: Experiments::compile(&c.experiments)?,
        })
    }
}

impl Default for Workflow {
    fn default() -> Self {
        Self {
            sla: SlaPolicies::default(),
            router: Router::default(),
            rules: RuleSet::default(),
            escalations: EscalationMatrix::default(),
            approvals: ApprovalPolicy::default(),
            guardrails: Guardrails::default(),
            matcher: Matcher::default(),
            close_after_ms: i64::from(default_close_after_days()) * 86_400_000,
            default_locale: default_locale(),
            automation: crate::automation::AutomationConfig::default(),
            surveys: Surveys::default(),
            qa: QaPolicy::default(),
            experiments: Experiments::default(),
        }
    }
}
