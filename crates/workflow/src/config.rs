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

/// The parts of the workflow operators change at run time (`/api/v1/workflow/routing`):
/// business calendars, SLA policies, queues, agents and their skills, case rules and the
/// escalation matrix. Written as TOML with the same keys as in `[workflow]`; the rest of
/// `[workflow]` (approvals, guardrails, matching, surveys with their secret, quality review,
/// experiments) stays in the configuration file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingConfig {
    #[serde(default)]
    pub calendars: Vec<CalendarConfig>,
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
}

/// The keys of `[workflow]` a routing document holds, in the order it is written.
pub const ROUTING_KEYS: [&str; 6] = [
    "calendars",
    "sla",
    "queues",
    "agents",
    "rules",
    "escalations",
];

/// Longest routing document accepted, in bytes.
pub const MAX_ROUTING_DOCUMENT: usize = 512 * 1024;

/// Why a routing document was refused: it does not parse, or the workflow it makes does not
/// compile. The message names the line or the part.
#[derive(Debug, thiserror::Error)]
pub enum RoutingError {
    #[error("the document is longer than {MAX_ROUTING_DOCUMENT} bytes")]
    TooLong,
    #[error("{0}")]
    Syntax(String),
    #[error(transparent)]
    Workflow(#[from] WorkflowError),
}

impl RoutingConfig {
    /// Reads a routing document: TOML with only the routing keys of `[workflow]`.
    pub fn from_toml(text: &str) -> Result<Self, RoutingError> {
        if text.len() > MAX_ROUTING_DOCUMENT {
            return Err(RoutingError::TooLong);
        }
        toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            let msg = e.message().trim().to_owned();
            RoutingError::Syntax(match line {
                Some(l) => format!("line {l}: {msg}"),
                None => msg,
            })
        })
    }
}

/// The routing parts of a `[workflow]` table, written as a routing document: what the
/// configuration file puts in force until an operator saves a document of their own.
pub fn routing_document(workflow: &toml::Table) -> String {
    let mut picked = toml::Table::new();
    for key in ROUTING_KEYS {
        if let Some(v) = workflow.get(key) {
            picked.insert(key.to_owned(), v.clone());
        }
    }
    toml::to_string(&picked).unwrap_or_default()
}

/// `document` with the agent `agent["id"]` added, or replaced where it was. The document is
/// written out again from its parsed form, so comments in it are not kept.
pub fn with_agent(document: &str, agent: toml::Table) -> Result<String, RoutingError> {
    let mut table = parse_document(document)?;
    let id = agent.get("id").cloned();
    let agents = table
        .entry("agents")
        .or_insert_with(|| toml::Value::Array(Vec::new()));
    let Some(list) = agents.as_array_mut() else {
        return Err(RoutingError::Syntax(
            "`agents` is not a list of tables".into(),
        ));
    };
    match list.iter_mut().find(|a| a.get("id") == id.as_ref()) {
        Some(slot) => *slot = toml::Value::Table(agent),
        None => list.push(toml::Value::Table(agent)),
    }
    Ok(toml::to_string(&table).unwrap_or_default())
}

/// `document` without the agent `id`; `None` when it has no such agent.
pub fn without_agent(document: &str, id: &str) -> Result<Option<String>, RoutingError> {
    let mut table = parse_document(document)?;
    let Some(list) = table.get_mut("agents").and_then(toml::Value::as_array_mut) else {
        return Ok(None);
    };
    let before = list.len();
    list.retain(|a| a.get("id").and_then(toml::Value::as_str) != Some(id));
    if list.len() == before {
        return Ok(None);
    }
    Ok(Some(toml::to_string(&table).unwrap_or_default()))
}

fn parse_document(document: &str) -> Result<toml::Table, RoutingError> {
    RoutingConfig::from_toml(document)?;
    toml::from_str(document).map_err(|e| RoutingError::Syntax(e.message().trim().to_owned()))
}

impl WorkflowConfig {
    /// This configuration with its routing parts replaced by `routing`.
    pub fn with_routing(&self, routing: RoutingConfig) -> Self {
        Self {
            calendars: routing.calendars,
            sla: routing.sla,
            queues: routing.queues,
            agents: routing.agents,
            rules: routing.rules,
            escalations: routing.escalations,
            ..self.clone()
        }
    }

    /// The workflow this configuration makes with `document` as its routing parts, checked.
    pub fn compile_with_routing(&self, document: &str) -> Result<Workflow, RoutingError> {
        let routing = RoutingConfig::from_toml(document)?;
        Ok(Workflow::compile(&self.with_routing(routing))?)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(base: &WorkflowConfig, doc: &str) -> RoutingError {
        match base.compile_with_routing(doc) {
            Ok(_) => panic!("accepted: {doc}"),
            Err(e) => e,
        }
    }

    const FILE: &str = r#"
close_after_days = 2
[[queues]]
name = "billing"
[[agents]]
id = "a1"
name = "Ana"
queues = ["billing"]
[surveys]
enabled = false
"#;

    #[test]
    fn the_file_routing_document_holds_only_routing_parts_and_compiles_back() {
        let table: toml::Table = toml::from_str(FILE).unwrap();
        let doc = routing_document(&table);
        assert!(doc.contains("billing") && doc.contains("a1"), "{doc}");
        assert!(
            !doc.contains("close_after_days") && !doc.contains("surveys"),
            "{doc}"
        );
        let base: WorkflowConfig = toml::from_str(FILE).unwrap();
        let wf = base.compile_with_routing(&doc).unwrap();
        assert_eq!(wf.router.queues().collect::<Vec<_>>(), vec!["billing"]);
        assert_eq!(
            wf.close_after_ms,
            2 * 86_400_000,
            "the file's other parts stay"
        );
    }

    #[test]
    fn a_document_replaces_the_routing_parts_and_keeps_the_rest() {
        let base: WorkflowConfig = toml::from_str(FILE).unwrap();
        let doc = "[[queues]]\nname = \"vip\"\n[[queues]]\nname = \"returns\"\n";
        let wf = base.compile_with_routing(doc).unwrap();
        let mut queues: Vec<&str> = wf.router.queues().collect();
        queues.sort_unstable();
        assert_eq!(queues, vec!["returns", "vip"]);
        assert_eq!(wf.router.agents().count(), 0);
        assert_eq!(wf.close_after_ms, 2 * 86_400_000);
    }

    #[test]
    fn an_agent_is_added_replaced_and_removed_in_a_document() {
        let table: toml::Table = toml::from_str(FILE).unwrap();
        let doc = routing_document(&table);
        let mut bo = toml::Table::new();
        bo.insert("id".into(), "bo".into());
        bo.insert("name".into(), "Bo".into());
        bo.insert("queues".into(), toml::Value::Array(vec!["billing".into()]));
        let doc = with_agent(&doc, bo.clone()).unwrap();
        let base: WorkflowConfig = toml::from_str(FILE).unwrap();
        let wf = base.compile_with_routing(&doc).unwrap();
        let ids: Vec<&str> = wf.router.agents().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["a1", "bo"]);
        bo.insert("capacity".into(), 9.into());
        let doc = with_agent(&doc, bo).unwrap();
        let wf = base.compile_with_routing(&doc).unwrap();
        assert_eq!(wf.router.agents().count(), 2, "replaced, not added");
        assert_eq!(wf.router.agent("bo").unwrap().capacity, 9);
        let doc = without_agent(&doc, "a1").unwrap().unwrap();
        let wf = base.compile_with_routing(&doc).unwrap();
        let ids: Vec<&str> = wf.router.agents().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["bo"]);
        assert_eq!(without_agent(&doc, "nobody").unwrap(), None);
        assert_eq!(without_agent("", "bo").unwrap(), None);
    }

    #[test]
    fn bad_documents_are_refused_with_the_line_or_the_part() {
        let base = WorkflowConfig::default();
        let e = refused(&base, "[[queues]]\nname = \"a\"\nsurveys = 1\n");
        assert!(matches!(e, RoutingError::Syntax(_)), "{e}");
        assert!(e.to_string().starts_with("line 3:"), "{e}");
        let e = refused(&base, "close_after_days = 3\n");
        assert!(e.to_string().contains("close_after_days"), "{e}");
        let e = refused(
            &base,
            "[[agents]]\nid = \"a\"\nname = \"A\"\nqueues = [\"nowhere\"]\n",
        );
        assert!(matches!(e, RoutingError::Workflow(_)), "{e}");
        assert!(e.to_string().starts_with("workflow."), "{e}");
        let long = format!("# {}\n", "x".repeat(MAX_ROUTING_DOCUMENT));
        assert!(matches!(
            base.compile_with_routing(&long),
            Err(RoutingError::TooLong)
        ));
    }
}
