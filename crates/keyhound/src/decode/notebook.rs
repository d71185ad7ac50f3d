//! Jupyter notebooks: the text of each cell's source and of each output, so that findings
//! point at `nb.ipynb#cell-N` (or `#cell-N/output-M`, both 1-based in file order) and the line
//! within that text rather than at an offset in the JSON. Images and other binary outputs are
//! left to the scan of the raw file.

use serde_json::Value;

use super::Cx;
use crate::matcher::Matcher;
use crate::scan::ContentResult;
use crate::source::blob::Origin;

/// Whether `path` names a notebook.
pub(super) fn is_notebook(path: &str) -> bool {
    path.len() >= 6
        && path.is_char_boundary(path.len() - 6)
        && path[path.len() - 6..].eq_ignore_ascii_case(".ipynb")
}

/// One piece of text from a notebook: the source of cell `cell` or its output `output` (both
/// 1-based), and the text.
#[derive(Debug, PartialEq)]
struct Part {
    cell: usize,
    output: Option<usize>,
    text: String,
}

/// Strings as notebooks store them: one string, or a list of lines to join.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Array(lines) => Some(lines.iter().filter_map(Value::as_str).collect()),
        _ => None,
    }
}

/// The texts of a notebook, or why it is not one.
fn parts(content: &[u8]) -> Result<Vec<Part>, String> {
    let doc: Value = serde_json::from_slice(content).map_err(|e| e.to_string())?;
    let cells = doc
        .get("cells")
        .and_then(Value::as_array)
        .ok_or("no `cells` list")?;
    let mut out = Vec::new();
    for (i, cell) in cells.iter().enumerate() {
        if let Some(source) = cell.get("source").and_then(text) {
            out.push(Part {
                cell: i + 1,
                output: None,
                text: source,
            });
        }
        let outputs = cell.get("outputs").and_then(Value::as_array);
        for (j, output) in outputs.into_iter().flatten().enumerate() {
            let data = output.get("data");
            // One text per output: what a reader sees (text/plain), else another text form.
            let shown = output.get("text").and_then(text).or_else(|| {
                let data = data?.as_object()?;
                data.get("text/plain").and_then(text).or_else(|| {
                    data.iter()
                        .filter(|(mime, _)| mime.starts_with("text/") || mime.ends_with("json"))
                        .find_map(|(_, v)| text(v).or_else(|| Some(v.to_string())))
                })
            });
            let traceback = output.get("traceback").and_then(|t| {
                let lines: Vec<&str> = t.as_array()?.iter().filter_map(Value::as_str).collect();
                Some(lines.join("\n"))
            });
            let joined: Vec<String> = shown.into_iter().chain(traceback).collect();
            if !joined.is_empty() {
                out.push(Part {
                    cell: i + 1,
                    output: Some(j + 1),
                    text: joined.join("\n"),
                });
            }
        }
    }
    Ok(out)
}

/// Scans the cells of the notebook `content` at `path`. False if it is not a notebook
/// (noted; the caller scans it as it is).
pub(super) fn scan(
    cx: &mut Cx<'_>,
    matcher: &mut Matcher<'_>,
    path: &Origin<'_>,
    content: &[u8],
    depth: usize,
    out: &mut ContentResult,
) -> bool {
    let parts = match parts(content) {
        Ok(p) => p,
        Err(e) => {
            cx.note(format!(
                "{path}: not a readable notebook ({e}); scanned as it is"
            ));
            return false;
        }
    };
    for part in parts {
        if !cx.spend(part.text.len() as u64, path) {
            break;
        }
        let cell = Origin::Cell {
            parent: path,
            cell: part.cell,
            output: part.output,
        };
        cx.blob(matcher, &cell, part.text.as_bytes(), depth + 1, out);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_and_outputs() {
        let nb = serde_json::json!({
            "cells": [
                {"cell_type": "markdown", "source": ["# Title\n", "text"]},
                {"cell_type": "code", "source": "import os\nprint(1)", "outputs": [
                    {"output_type": "stream", "name": "stdout", "text": ["a\n", "b\n"]},
                    {"output_type": "execute_result", "data": {
                        "text/plain": ["'x'"], "image/png": "iVBORw0KGgo="}},
                    {"output_type": "error", "traceback": ["Trace", "line"]}
                ]}
            ],
            "metadata": {}, "nbformat": 4, "nbformat_minor": 5
        });
        let p = parts(nb.to_string().as_bytes()).unwrap();
        let nb = Origin::File { path: "" };
        let suffixes: Vec<String> = p
            .iter()
            .map(|p| {
                let cell = Origin::Cell {
                    parent: &nb,
                    cell: p.cell,
                    output: p.output,
                };
                cell.to_string()
            })
            .collect();
        let got: Vec<(&str, &str)> = p
            .iter()
            .zip(&suffixes)
            .map(|(p, suffix)| (suffix.as_str(), p.text.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("#cell-1", "# Title\ntext"),
                ("#cell-2", "import os\nprint(1)"),
                ("#cell-2/output-1", "a\nb\n"),
                ("#cell-2/output-2", "'x'"),
                ("#cell-2/output-3", "Trace\nline"),
            ]
        );
        assert!(parts(b"{}").is_err());
        assert!(is_notebook("a/b.IPYNB") && !is_notebook("ipynb"));
    }
}
