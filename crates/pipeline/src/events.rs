//! Live events for the API's event stream (SSE) and the UI: what the pipeline just did.

use serde::Serialize;
use tokio::sync::broadcast;

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type")]
pub enum PipelineEvent {
    #[serde(rename = "case.opened")]
    CaseOpened {
        case_id: String,
        customer_id: String,
        priority: String,
    },
    #[serde(rename = "case.updated")]
    CaseUpdated { case_id: String, priority: String },
    #[serde(rename = "message.processed")]
    MessageProcessed { message_id: String, case_id: String },
    #[serde(rename = "alert.raised")]
    AlertRaised {
        alert_id: String,
        series: String,
        kind: String,
        score: f64,
    },
    /// A connector's credentials were refused: sending to it is paused until it is resumed.
    #[serde(rename = "connector.paused")]
    ConnectorPaused { target: String, reason: String },
}

impl PipelineEvent {
    pub fn name(&self) -> &'static str {
        match self {
            Self::CaseOpened { .. } => "case.opened",
            Self::CaseUpdated { .. } => "case.updated",
            Self::MessageProcessed { .. } => "message.processed",
            Self::AlertRaised { .. } => "alert.raised",
            Self::ConnectorPaused { .. } => "connector.paused",
        }
    }
}

/// A fan-out of pipeline events to whoever listens; slow listeners miss events rather than
/// slowing the pipeline.
#[derive(Clone)]
pub struct PipelineEvents(broadcast::Sender<PipelineEvent>);

impl Default for PipelineEvents {
    fn default() -> Self {
        Self(broadcast::channel(4096).0)
    }
}

impl PipelineEvents {
    pub fn subscribe(&self) -> broadcast::Receiver<PipelineEvent> {
        self.0.subscribe()
    }

    pub fn emit(&self, e: PipelineEvent) {
        let _ = self.0.send(e);
    }
}
