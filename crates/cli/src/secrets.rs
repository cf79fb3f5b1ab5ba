//! `secrets`: sealing configuration secrets at rest. Platform tokens and webhook secrets may be
//! written into the configuration file (or environment) as `enc:v1:<key id>:<…>`, opened at
//! start-up with the key ring in `SWITCHBOARD_SECRETS_KEYS`. Rotation: put a new key first in
//! the ring (the old one stays after it), `secrets reseal` the file, restart processes one at a
//! time — every process opens both — then drop the old key.

use crate::config::SecretRing;
use anyhow::{Context, bail};
use clap::Subcommand;
use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Print a new random key as `ID:BASE64`, to put in SWITCHBOARD_SECRETS_KEYS.
    GenerateKey {
        #[arg(long)]
        id: String,
    },
    /// Seal the secret read from standard input with the ring's first key; print the value to
    /// put in the configuration.
    Seal,
    /// Rewrite a configuration file with every sealed value sealed again under the ring's first
    /// key (after a rotation).
    Reseal { file: PathBuf },
}

const SEALED_PREFIX: &str = "enc:v1:";

/// Byte ranges of every sealed value in `text`.
fn sealed_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some(i) = text[from..].find(SEALED_PREFIX) {
        let start = from + i;
        let len = text[start..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || "+/=:_-.".contains(c)))
            .unwrap_or(text.len() - start);
        spans.push((start, start + len));
        from = start + len;
    }
    spans
}

fn reseal_file(path: &Path) -> anyhow::Result<usize> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let spans = sealed_spans(&text);
    if spans.is_empty() {
        bail!("{} holds no sealed values", path.display());
    }
    let ring = SecretRing::from_env()?;
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for &(start, end) in &spans {
        out.push_str(&text[at..start]);
        let fresh = ring
            .reseal(&text[start..end])
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        out.push_str(&fresh);
        at = end;
    }
    out.push_str(&text[at..]);
    // Written beside the file and renamed over it, so a crash leaves the old file whole.
    let tmp = path.with_extension("reseal.tmp");
    std::fs::write(&tmp, out).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(spans.len())
}

pub fn run(command: SecretsCommand) -> anyhow::Result<()> {
    match command {
        SecretsCommand::GenerateKey { id } => {
            let key = sb_governance::KeyRing::generate_key()?;
            let spec = format!("{id}:{key}");
            sb_governance::KeyRing::parse(&spec).map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{spec}");
        }
        SecretsCommand::Seal => {
            let mut secret = String::new();
            std::io::stdin().read_to_string(&mut secret)?;
            let secret = secret.trim_end_matches(['\r', '\n']);
            if secret.is_empty() {
                bail!("nothing to seal: give the secret on standard input");
            }
            let ring = SecretRing::from_env()?;
            println!("{}", ring.seal(secret)?);
        }
        SecretsCommand::Reseal { file } => {
            let n = reseal_file(&file)?;
            println!("resealed {n} values in {}", file.display());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_are_found_inside_quotes_and_lines() {
        let text =
            "meta_app_secret = \"enc:v1:k1:QUJD+/=\"\ntoken = 'enc:v1:k2:WFla'\nplain = \"x\"";
        let spans = sealed_spans(text);
        let found: Vec<&str> = spans.iter().map(|&(s, e)| &text[s..e]).collect();
        assert_eq!(found, vec!["enc:v1:k1:QUJD+/=", "enc:v1:k2:WFla"]);
    }
}
