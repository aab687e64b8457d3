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
    json: bool,
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
    let edited = edited.transpose()?;
    if report.broken.is_none()
        && let Some(path) = &heads
    {
        std::fs::write(path, log::heads_text(&report.heads))
            .map_err(|e| Usage(format!("--heads: cannot write {}: {e}", path.display())))?;
    }
    if json {
        println!("{}", verify_json(&report, edited.as_deref()));
    } else {
        print_verify(&report, edited.as_deref());
    }
    if report.broken.is_some() {
        return Err(CheckFailed("the log is not intact".to_owned()).into());
    }
    if !report.differences.is_empty() {
        return Err(CheckFailed(format!(
            "{} streams lost events since the expected heads",
            report.differences.len()
        ))
        .into());
    }
    match edited {
        Some(edited) if !edited.is_empty() => Err(CheckFailed(format!(
            "{} projection rows differ from the log (`latchkey rebuild-projections --swap` \
             rewrites them from it)",
            edited.len()
        ))
        .into()),
        _ => Ok(()),
    }
}

/// `verify`'s verdict as text.
fn print_verify(report: &log::VerifyReport, edited: Option<&[String]>) {
    if let Some(link) = &report.broken {
        println!(
            "broken at position {} ({} version {}): {}",
            link.position, link.stream, link.version, link.reason
        );
        return;
    }
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
    for difference in &report.differences {
        println!("since the expected heads: {difference}");
    }
    match edited {
        Some([]) => println!("projections: every row is what the log says"),
        Some(edited) => {
            for row in edited {
                println!("projection differs from the log: {row}");
            }
        }
        None => {}
    }
}

/// `verify --json`: one object (docs/CLI.md).
fn verify_json(report: &log::VerifyReport, edited: Option<&[String]>) -> serde_json::Value {
    serde_json::json!({
        "intact": report.broken.is_none() && report.differences.is_empty(),
        "events": report.events,
        "streams": report.streams,
        "heads_digest": report.broken.is_none().then(|| log::heads_digest(&report.heads)),
        "broken": report.broken.as_ref().map(|link| serde_json::json!({
            "position": link.position,
            "stream": link.stream,
            "version": link.version,
            "reason": link.reason,
        })),
        "archived": report.archived.iter().map(|part| serde_json::json!({
            "name": part.name,
            "first_position": part.first_position,
            "last_position": part.last_position,
            "events": part.events,
        })).collect::<Vec<_>>(),
        "kept_heads": report.kept_heads,
        "lost_since_expected_heads": report.differences,
        "projections_differing": edited,
    })
}

/// `latchkey archive --out <file>`.
pub(super) async fn archive(config: &Config, out: &Path, json: bool) -> anyhow::Result<()> {
    let opened = open_store(config, Migrations::Check).await?;
    let report = log::archive(&*opened.store, out).await;
    opened.store.close().await;
    let report = report?;
    if json {
        let part = report.as_ref().map(|part| {
            serde_json::json!({
                "name": part.name,
                "first_position": part.first_position,
                "last_position": part.last_position,
                "events": part.events,
                "file": out.display().to_string(),
            })
        });
        println!("{}", serde_json::json!({ "archived": part }));
        return Ok(());
    }
    match report {
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
pub(super) async fn rebuild(config: &Config, swap: bool, json: bool) -> anyhow::Result<()> {
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
    if json {
        println!(
            "{}",
            serde_json::json!({
                "events": report.events,
                "rows": report.rows,
                "seconds": started.elapsed().as_secs_f64(),
                "identical": report.differences.is_empty(),
                "differences": report.differences,
                "swapped": report.swapped,
            })
        );
    } else {
        print_rebuild(&report, started.elapsed().as_secs_f64(), rate);
    }
    if report.swapped || report.differences.is_empty() {
        Ok(())
    } else {
        Err(CheckFailed(format!(
            "{} projections differ from the log; `--swap` replaces them",
            report.differences.len()
        ))
        .into())
    }
}

/// `rebuild-projections`' outcome as text.
fn print_rebuild(report: &log::RebuildReport, seconds: f64, rate: f64) {
    println!(
        "replayed {} events into {} rows in {:.1}s ({rate:.0} events/s)",
        report.events, report.rows, seconds
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
    }
}
