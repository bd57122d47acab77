//! The review page's style sheet: plain, high-contrast, printable. Served
//! from the service itself (`/review.css`), as the page's
//! Content-Security-Policy allows nothing inline and nothing from
//! elsewhere.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// The style sheet.
pub const CSS: &str = r#"
:root { --ink: #1a1a1a; --muted: #4a4a4a; --line: #c8c8c8; --pass: #0b6b2b; --fail: #a4141b;
        --invalid: #7a4a00; --link: #0b4f9c; --shade: #f2d7a6; --planned: #0b4f9c; }
* { box-sizing: border-box; }
body { font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
       background: #fff; margin: 0 auto; max-width: 78rem; padding: 0 1rem 2rem; }
a { color: var(--link); }
a:focus, button:focus, input:focus, select:focus, summary:focus {
  outline: 3px solid #f0a000; outline-offset: 2px; }
.skip, .visually-hidden { position: absolute; left: -10000px; }
.skip:focus { position: static; }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 1.5rem;
         border-bottom: 2px solid var(--ink); margin-bottom: 1rem; }
.brand { font-weight: 700; margin: .6rem 0; }
nav ul { list-style: none; display: flex; gap: 1rem; margin: 0; padding: 0; }
h1 { font-size: 1.6rem; margin: .8rem 0; }
h2 { font-size: 1.25rem; margin: 1.6rem 0 .5rem; border-bottom: 1px solid var(--line); }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
th, td { text-align: left; vertical-align: top; padding: .3rem .5rem; border-bottom: 1px solid var(--line); }
th { background: #f0f0f0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.verdict { font-weight: 700; text-transform: uppercase; letter-spacing: .03em; }
.verdict-pass { color: var(--pass); }
.verdict-fail { color: var(--fail); }
.verdict-invalid { color: var(--invalid); }
.sev-error { color: var(--fail); font-weight: 700; }
.sev-warning { color: var(--invalid); font-weight: 700; }
.over { color: var(--fail); font-weight: 700; }
.problem { color: var(--fail); font-weight: 700; }
form.filters { display: flex; flex-wrap: wrap; gap: .75rem 1rem; align-items: flex-end;
               background: #f6f6f6; padding: .75rem; border: 1px solid var(--line); }
form.filters label, form label { display: block; font-size: .9rem; color: var(--muted); }
input, select, button { font: inherit; padding: .25rem .4rem; }
button { background: var(--ink); color: #fff; border: 0; padding: .35rem .9rem; cursor: pointer; }
blockquote { margin: .5rem 0; padding: .3rem .9rem; border-left: 4px solid var(--line); color: var(--muted); }
pre { background: #f6f6f6; padding: .75rem; overflow-x: auto; white-space: pre-wrap; word-break: break-word; }
dl.plan { margin: 0 0 0 .5rem; }
dl.plan dt { font-weight: 600; margin-top: .25rem; }
dl.plan dd { margin: 0 0 0 1.2rem; }
ol.plan { margin: 0; padding-left: 1.5rem; }
.pointer { font-family: ui-monospace, monospace; font-size: .9rem; }
:target { background: #fff3c4; }
svg { max-width: 100%; height: auto; }
svg text { font: 12px system-ui, sans-serif; fill: var(--ink); }
.window { fill: var(--shade); }
.axis { stroke: var(--ink); stroke-width: 1; }
.past { fill: var(--ink); }
.planned { fill: #fff; stroke: var(--planned); stroke-width: 3; }
.refused { fill: #fff; stroke: var(--fail); stroke-width: 2; stroke-dasharray: 3 2; }
.too-close, .refused.too-close { fill: var(--fail); stroke: var(--fail); }
.bar { fill: var(--link); }
td.date { white-space: nowrap; }
dl.summary { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1.2rem; }
dl.summary dt { font-weight: 600; }
dl.summary dd { margin: 0; }
.legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 1rem; font-size: .9rem; color: var(--muted); }
.pager { display: flex; gap: 1rem; }
.downloads a { margin-right: 1rem; }
@media print {
  header nav, form, .skip, .pager, .downloads, footer { display: none; }
  body { max-width: none; font-size: 11pt; }
  a { color: var(--ink); text-decoration: none; }
  details > * { display: block; }
  table, svg { break-inside: avoid; }
}
"#;

/// `GET /review.css`.
pub async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        CSS,
    )
        .into_response()
}
