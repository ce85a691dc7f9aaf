//! HTML of `kblame report`: one self-contained page (no network: scripts and styles inline)
//! with the report's verdict, coverage and workloads table on top and a zoomable timeline of
//! workload → revision → pod lanes below, drawn in the browser from the embedded JSON.
//!
//! Everything from the trace reaches the page either as escaped text or inside the JSON data
//! block with every `<` written `\u003c`, so no name, message or value can become markup or
//! end the script (issue 14, item 4).

use std::io::{self, Write};

use jiff::civil::Date;

use super::day_of;
use super::report::{change_headline, coverage_line, object_name, verdict_line, verdict_text};
use super::value::one_line;
use crate::query::report::{Report, WorkloadReport};
use crate::query::report_timeline::ReportTimeline;

/// Records `window.onerror`, rejections and `console.error` into `data-errors` (for tests).
const ERRORS_JS: &str = include_str!("report_html/errors.js");
/// The timeline: virtualised lanes, zoom, pan, brush, deep links.
const APP_JS: &str = include_str!("report_html/app.js");
/// The page's style.
const STYLE: &str = include_str!("report_html/style.css");

/// No network at all: the page works from a CI artifact opened offline, and a value that
/// slipped into markup could load nothing.
const CSP: &str = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
                   img-src data:; base-uri 'none'; form-action 'none'";

/// Writes the report and its timeline as one HTML page.
pub fn html<W: Write>(report: &Report, timeline: &ReportTimeline, out: &mut W) -> io::Result<()> {
    let day = report.trace.start.map(day_of);
    writeln!(out, "<!DOCTYPE html>")?;
    writeln!(out, "<html lang=\"en\"><head><meta charset=\"utf-8\">")?;
    writeln!(
        out,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">"
    )?;
    writeln!(
        out,
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    )?;
    writeln!(
        out,
        "<title>kblame report — {}: {}</title>",
        report.verdict,
        escape(&report.trace.name)
    )?;
    writeln!(out, "<script>{ERRORS_JS}</script>")?;
    writeln!(out, "<style>{STYLE}</style>")?;
    writeln!(out, "</head><body data-verdict=\"{}\">", report.verdict)?;
    header(report, day, out)?;
    writeln!(out, "{}", TIMELINE_SHELL)?;
    write!(out, "<script type=\"application/json\" id=\"kblame-data\">")?;
    let json = serde_json::to_string(timeline).map_err(io::Error::other)?;
    out.write_all(script_safe(&json).as_bytes())?;
    writeln!(out, "</script>")?;
    writeln!(out, "<script>{APP_JS}</script>")?;
    writeln!(out, "</body></html>")
}

/// JSON that cannot end its `<script>` element or open a comment in it: every `<` (only ever
/// inside a string) becomes `\u003c`, which `JSON.parse` reads back.
pub fn script_safe(json: &str) -> String {
    json.replace('<', "\\u003c")
}

/// Text as HTML: `&`, `<`, `>`, `"` and `'` as entities (safe in text and quoted attributes).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The timeline's fixed parts; the script fills them.
const TIMELINE_SHELL: &str = r#"<section id="timeline" aria-label="timeline">
<div class="toolbar">
<button type="button" data-act="zoom-in" title="zoom in (+)">+</button><button type="button" data-act="zoom-out" title="zoom out (−)">−</button><button type="button" data-act="left" title="pan left (←)">◀</button><button type="button" data-act="right" title="pan right (→)">▶</button><button type="button" data-act="fit" title="show the whole window (0)">fit</button><button type="button" data-act="expand" title="expand every lane">expand all</button><button type="button" data-act="collapse" title="collapse every lane">collapse all</button>
<input type="search" id="filter" placeholder="filter lanes by name" aria-label="filter lanes by name">
<span id="range" class="range"></span>
<div id="legend" class="legend"></div>
</div>
<div class="overview-row"><div class="corner">overview · drag to zoom</div><canvas id="overview" height="36"></canvas></div>
<div class="axis-row"><div class="corner" id="axis-day"></div><div id="axis" class="axis"></div></div>
<div id="lanes" class="lanes" tabindex="0"><div id="spacer" class="spacer"><div id="gaps" class="gaps"></div><div id="rows"></div></div></div>
<div id="tip" class="tip" hidden></div>
<aside id="detail" class="detail" hidden><button type="button" class="close" data-act="close" title="close">×</button><div id="detail-body"></div></aside>
<noscript>The timeline needs JavaScript; the report above does not.</noscript>
</section>"#;

fn header<W: Write>(report: &Report, day: Option<Date>, out: &mut W) -> io::Result<()> {
    writeln!(out, "<header id=\"report\">")?;
    // What the trace cannot show comes before any verdict: a gap or a cut makes it partial.
    for warning in &report.trace.warnings {
        writeln!(
            out,
            "<p class=\"warning\"><b>warning:</b> {}</p>",
            escape(warning)
        )?;
    }
    writeln!(
        out,
        "<h1 class=\"verdict {}\">kblame report — {}</h1>",
        report.verdict,
        escape(&verdict_line(report))
    )?;
    writeln!(
        out,
        "<p class=\"coverage\">{}</p>",
        escape(&coverage_line(report, day))
    )?;
    if !report.workloads.is_empty() {
        table(report, day, out)?;
    }
    for warning in &report.warnings {
        writeln!(
            out,
            "<p class=\"warning\"><b>warning:</b> {}</p>",
            escape(warning)
        )?;
    }
    writeln!(out, "</header>")
}

fn table<W: Write>(report: &Report, day: Option<Date>, out: &mut W) -> io::Result<()> {
    writeln!(out, "<table class=\"workloads\"><thead><tr><th>namespace</th><th>workload</th><th>verdict</th><th>blamed change</th><th>failing pods</th></tr></thead><tbody>")?;
    for w in &report.workloads {
        let o = &w.object;
        let link = format!("#obj={}/{}/{}", o.kind, o.namespace, o.name);
        writeln!(
            out,
            "<tr class=\"{}\"><td>{}</td><td><a href=\"{}\">{}/{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            w.status,
            escape(&o.namespace),
            escape(&link_target(&link)),
            escape(&o.kind.to_lowercase()),
            escape(&o.name),
            escape(&status_words(w)),
            blamed_cell(w, day),
            escape(&pods_cell(w))
        )?;
    }
    writeln!(out, "</tbody></table>")?;
    for w in report.workloads.iter().filter(|w| w.status != "ok") {
        writeln!(
            out,
            "<p class=\"why {}\"><b>{}</b> — {}</p>",
            w.status,
            escape(&object_name(w)),
            escape(&verdict_text(w))
        )?;
    }
    Ok(())
}

/// A deep link's target with the characters that mean something in a URL fragment escaped.
fn link_target(link: &str) -> String {
    let mut out = String::with_capacity(link.len());
    for c in link.chars() {
        match c {
            c if c.is_ascii_alphanumeric() || "#=/-._~:".contains(c) => out.push(c),
            c => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
        }
    }
    out
}

/// `failed`, `progressing (failing)`, `complete`.
fn status_words(w: &WorkloadReport) -> String {
    match w.status {
        "failing" => format!("{} (failing)", w.verdict),
        _ => w.verdict.to_string(),
    }
}

/// The blamed change: headline, then each field old → new, all escaped.
fn blamed_cell(w: &WorkloadReport, day: Option<Date>) -> String {
    let Some(change) = &w.blamed_change else {
        return "—".to_string();
    };
    let mut cell = escape(&change_headline(change, day));
    for field in change.fields.iter().take(3) {
        cell.push_str(&format!(
            "<br><code>{}</code> {} → {}",
            escape(&field.path.to_string()),
            escape(&one_line(&field.from)),
            escape(&one_line(&field.to))
        ));
    }
    if change.fields.len() > 3 {
        cell.push_str(&format!("<br>… {} more fields", change.fields.len() - 3));
    }
    cell
}

/// `revision 2: 1 × CrashLoopBackOff`, or `0`.
fn pods_cell(w: &WorkloadReport) -> String {
    let groups: Vec<String> = w
        .pod_groups
        .iter()
        .map(|g| {
            let revision = g
                .revision
                .map(|n| format!("revision {n}: "))
                .unwrap_or_default();
            format!("{revision}{} × {}", g.pods.len(), g.reason)
        })
        .collect();
    match groups.is_empty() {
        true => "0".to_string(),
        false => groups.join("; "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_in_a_script_cannot_end_it() {
        let json = r#"{"name":"</script><img src=x onerror=alert(1)><!--"}"#;
        let safe = script_safe(json);
        assert!(!safe.contains('<'), "{safe}");
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap_or_default();
        assert_eq!(back["name"], "</script><img src=x onerror=alert(1)><!--");
    }

    #[test]
    fn text_is_escaped_for_elements_and_attributes() {
        assert_eq!(
            escape(r#"<img src=x onerror="alert('1')">&"#),
            "&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt;&amp;"
        );
    }

    #[test]
    fn a_deep_link_escapes_what_a_fragment_would_misread() {
        assert_eq!(
            link_target("#obj=Deployment/shop/we b\"<"),
            "#obj=Deployment/shop/we%20b%22%3C"
        );
    }
}
