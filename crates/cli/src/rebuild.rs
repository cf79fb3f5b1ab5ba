//! `switchboard rebuild` (J5): derives again, from the stored messages, what is derived from
//! them — each message's understanding, with the NLP configuration in force now (new terms,
//! watchlist or topic model), and each case's message count, last sentiment and last message
//! time. Safe to run while the product runs, and to run twice.

use crate::config::Config;
use std::time::Instant;

const BATCH: u32 = 512;

pub async fn run(cfg: &Config) -> anyhow::Result<()> {
    let store = crate::app::open_store(cfg).await?;
    let analyzer = crate::nlp::analyzer_from(&cfg.nlp)?;
    let started = Instant::now();
    let (mut seen, mut changed) = (0u64, 0u64);
    let mut after = None;
    loop {
        let page = store.processed_messages(after.as_ref(), BATCH).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id.clone());
        let batch: Vec<_> = page
            .iter()
            .filter_map(|m| {
                // A message too short to tell keeps the language it was taken to be in (its
                // customer's, when the pipeline knew it).
                let known = m.enrichment.as_ref().map(|e| e.language.as_str());
                let fallback = known.filter(|l| *l != "und");
                let fresh = sb_pipeline::stages::enrich_text(&analyzer, &m.text, fallback);
                (m.enrichment.as_ref() != Some(&fresh)).then(|| (m.id.clone(), fresh))
            })
            .collect();
        seen += page.len() as u64;
        if !batch.is_empty() {
            changed += store.update_enrichments(&batch).await?;
        }
    }
    let cases = store.recompute_case_aggregates().await?;
    println!(
        "re-analysed {seen} messages ({changed} changed), corrected {cases} cases in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
