//! The command line's reference, generated from its clap definition: `docs/CLI.md` holds it
//! between markers and a test keeps the two the same.

use clap::{Arg, Command};

/// The whole command tree, as clap sees it.
pub fn command() -> Command {
    <super::Cli as clap::CommandFactory>::command()
}

/// Every command that runs something (no subcommands of its own), with its path from the root:
/// `["keys", "list"]`.
pub fn leaves() -> Vec<(Vec<String>, Command)> {
    fn walk(path: &[String], command: &Command, out: &mut Vec<(Vec<String>, Command)>) {
        for sub in command.get_subcommands().filter(|c| c.get_name() != "help") {
            let mut here = path.to_vec();
            here.push(sub.get_name().to_owned());
            if sub.has_subcommands() {
                walk(&here, sub, out);
            } else {
                out.push((here, sub.clone()));
            }
        }
    }
    let mut root = command();
    root.build();
    let mut out = Vec::new();
    walk(&[], &root, &mut out);
    out
}

/// The reference as Markdown: per command, what it does and each of its flags.
pub fn markdown() -> String {
    let mut text = String::new();
    for (path, command) in leaves() {
        text.push_str(&format!("### `latchkey {}`\n\n", path.join(" ")));
        if let Some(about) = command.get_long_about().or(command.get_about()) {
            text.push_str(&format!("{}\n\n", one_line(&about.to_string())));
        }
        let args: Vec<&Arg> = command
            .get_arguments()
            .filter(|a| !a.is_hide_set() && a.get_id() != "help" && a.get_id() != "version")
            .collect();
        if args.is_empty() {
            continue;
        }
        text.push_str("| Argument | Environment | Default | Meaning |\n|---|---|---|---|\n");
        for arg in args {
            text.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                name(arg),
                arg.get_env()
                    .map(|e| format!("`{}`", e.to_string_lossy()))
                    .unwrap_or_default(),
                arg.get_default_values()
                    .iter()
                    .map(|v| format!("`{}`", v.to_string_lossy()))
                    .collect::<Vec<_>>()
                    .join(", "),
                arg.get_long_help()
                    .or(arg.get_help())
                    .map(|h| one_line(&h.to_string()).replace('|', "\\|"))
                    .unwrap_or_default(),
            ));
        }
        text.push('\n');
    }
    text
}

/// How an argument is written: `--flag <VALUE>` or `<POSITIONAL>`.
fn name(arg: &Arg) -> String {
    let value = arg
        .get_value_names()
        .and_then(|names| names.first())
        .map(|v| v.to_string())
        .unwrap_or_else(|| arg.get_id().as_str().to_uppercase());
    match arg.get_long() {
        None => format!("`<{value}>`"),
        Some(long) if arg.get_action().takes_values() => format!("`--{long} <{value}>`"),
        Some(long) => format!("`--{long}`"),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
