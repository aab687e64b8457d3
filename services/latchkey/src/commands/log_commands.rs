//! The output of the log's commands: `verify` (and `--projections`), `archive`,
//! `rebuild-projections`. The work itself is `log`'s.

use std::path::{Path, PathBuf};

use latchkey_store::Migrations;

use super::log;
use super::{CheckFailed, Usage};
use crate::app::open_store;
use crate::config::Config;

/// `latchkey verify`: every chain, against the expected heads when given, and the projections
/// when asked.
pub(super) async fn verify(
    config: &Config,
    heads: Option<PathBuf>,
    expect_heads: Option<PathBuf>,
    projections: bool,
) -> anyhow::Result<()> {
    let expected = match &expect_heads {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                Usage(format!(
                    "--expect-heads: cannot read {}: {e}",
                    path.display()
                ))
            })?;
            Some(
                log::parse_heads(&text)
                    .map_err(|e| Usage(format!("--expect-heads: {}: {e}", path.display())))?,
            )
        }
    };
    let opened = open_store(config, Migrations::Check).await?;
    let bar = indicatif::ProgressBar::new_spinner();
    let report = log::verify(&*opened.store, expected, |n| {
        bar.set_message(format!("{n} events"))
    })
    .await;
    bar.finish_and_clear();
    let edited = match (&report, projections) {
        (Ok(r), true) if r.broken.is_none() => Some(log::check_projections(&opened.store).await),
        _ => None,
    };
    opened.store.close().await;
    let report = report?;
    match report.broken {
        None => {
            println!(
                "intact: {} events in {} streams; heads digest {}",
                report.events,
                report.streams,
                log::heads_digest(&report.heads)
            );
            if let (Some(first), Some(last)) = (report.archived.first(), report.archived.last()) {
                println!(
                    "archived: positions {} to {} ({} parts, {} events); chains \
                         checked from the {} stream heads they kept",
                    first.first_position,
                    last.last_position,
                    report.archived.len(),
                    report.archived.iter().map(|p| p.events).sum::<u64>(),
                    report.kept_heads
                );
            }
            if let Some(path) = &heads {
                std::fs::write(path, log::heads_text(&report.heads))
                    .map_err(|e| Usage(format!("--heads: cannot write {}: {e}", path.display())))?;
            }
            if !report.differences.is_empty() {
                for difference in &report.differences {
                    println!("since the expected heads: {difference}");
                }
                return Err(CheckFailed(format!(
                    "{} streams lost events since the expected heads",
                    report.differences.len()
                ))
                .into());
            }
            match edited {
                Some(edited) => projections_verdict(edited?),
                None => Ok(()),
            }
        }
        Some(link) => {
            println!(
                "broken at position {} ({} version {}): {}",
                link.position, link.stream, link.version, link.reason
            );
            Err(CheckFailed("the log is not intact".to_owned()).into())
        }
    }
}

/// `latchkey archive --out <file>`.
pub(super) async fn archive(config: &Config, out: &Path) -> anyhow::Result<()> {
    let opened = open_store(config, Migrations::Check).await?;
    let report = log::archive(&*opened.store, out).await;
    opened.store.close().await;
    match report? {
        Some(part) => println!(
            "archived {}: positions {} to {}, {} events, to {}",
            part.name,
            part.first_position,
            part.last_position,
            part.events,
            out.display()
        ),
        None => println!("nothing to archive"),
    }
    Ok(())
}

/// `latchkey rebuild-projections [--swap]`.
pub(super) async fn rebuild(config: &Config, swap: bool) -> anyhow::Result<()> {
    let opened = open_store(config, Migrations::Check).await?;
    let bar = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} events ({per_sec}, {eta} left)",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let started = std::time::Instant::now();
    let report = log::rebuild(&opened.store, swap, |done, total| {
        bar.set_length(u64::try_from(total).unwrap_or(0));
        bar.set_position(done);
    })
    .await;
    bar.finish_and_clear();
    opened.store.close().await;
    let report = report?;
    let rate = report.events as f64 / started.elapsed().as_secs_f64().max(0.001);
    println!(
        "replayed {} events into {} rows in {:.1}s ({rate:.0} events/s)",
        report.events,
        report.rows,
        started.elapsed().as_secs_f64()
    );
    if report.differences.is_empty() {
        println!("identical");
    } else {
        println!(
            "{} differences, first: {}",
            report.differences.len(),
            report
                .differences
                .iter()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if report.swapped {
        println!("swapped in");
        Ok(())
    } else if report.differences.is_empty() {
        Ok(())
    } else {
        Err(CheckFailed(format!(
            "{} projections differ from the log; `--swap` replaces them",
            report.differences.len()
        ))
        .into())
    }
}

/// Prints each projection row that is not what the log says; fails when there is one.
fn projections_verdict(edited: Vec<String>) -> anyhow::Result<()> {
    for row in &edited {
        println!("projection differs from the log: {row}");
    }
    if edited.is_empty() {
        println!("projections: every row is what the log says");
        Ok(())
    } else {
        Err(CheckFailed(format!(
            "{} projection rows differ from the log (`latchkey rebuild-projections --swap` \
             rewrites them from it)",
            edited.len()
        ))
        .into())
    }
}
