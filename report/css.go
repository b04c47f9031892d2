package report

// Styles of the self-contained HTML reports: what the drift and diagnose
// pages share, then each page's own rules.

// baseCSS styles the page frame, header, tables, cards and plots of every
// report.
const baseCSS = `
:root { --ink: #1b1f24; --muted: #57606a; --line: #d0d7de; --bg: #f6f8fa;
  --bad: #b42318; --bad-bg: #fdecea; --ok: #116329; --ok-bg: #e6f4ea; --warn: #8a4b00; --warn-bg: #fff4e0; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", "Liberation Sans", "DejaVu Sans", sans-serif;
  color: var(--ink); background: var(--bg); }
.page { max-width: 1240px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 26px; margin: 0 0 8px; }
h2 { font-size: 19px; margin: 28px 0 10px; }
h3 { font-size: 17px; margin: 0; overflow-wrap: anywhere; }
header.top { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 18px 22px; }
dl.sources { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0 0 12px; }
dl.sources dt { color: var(--muted); }
dl.sources dd { margin: 0; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 14px; overflow-wrap: anywhere; }
.verdict { display: flex; flex-wrap: wrap; align-items: center; gap: 10px 18px; margin: 0; font-size: 16px; }
.badge { display: inline-block; padding: 1px 9px; border-radius: 10px; font-size: 13px; font-weight: 600; white-space: nowrap; }
.badge.ok { color: var(--ok); background: var(--ok-bg); }
.big { font-size: 17px; padding: 3px 12px; }
table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid var(--line); font-size: 14px; }
th, td { padding: 6px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: #eef1f4; font-weight: 600; }
td a { color: inherit; font-weight: 600; overflow-wrap: anywhere; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 16px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; }
.card header { display: flex; justify-content: space-between; align-items: baseline; gap: 10px; }
.card svg { display: block; max-width: 100%; height: auto; }
.card dl.nums { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 4px 14px; margin: 8px 0 0; font-size: 14px; }
.card dl.nums div { min-width: 0; }
.card dl.nums dt { color: var(--muted); font-size: 12px; }
.card dl.nums dd { margin: 0; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
.ng-plot text { font-size: 12px; fill: #3d444d; }
.ng-plot .ng-legend text { font-size: 13px; fill: var(--ink); }
.ng-plot .ng-grid { stroke: #e4e8ec; stroke-width: 1; }
.ng-plot .ng-axisline { stroke: #8c959f; stroke-width: 1; }
.ng-plot .ng-note { fill: var(--muted); font-size: 14px; }
.ng-plot .ng-note.ng-outside { font-size: 11.5px; }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 13px; }
@media print { body { background: #fff; } .card { break-inside: avoid; } }
`

// driftCSS is the drift report's own rules.
const driftCSS = `
.verdict strong.drift { color: var(--bad); }
.verdict strong.ok { color: var(--ok); }
.badge.drift { color: #fff; background: var(--bad); }
.badge.error { color: var(--warn); background: var(--warn-bg); }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.drift td { background: var(--bad-bg); }
.msg { color: var(--warn); }
.card.drift { border-left: 5px solid var(--bad); }
.card.error { border-left: 5px solid #d08700; }
.card h3 .seg { font-weight: 400; color: var(--muted); font-size: 14px; }
.card .sub { color: var(--muted); margin: 2px 0 6px; font-size: 13px; }
.card p.msg { margin: 10px 0 0; padding: 8px 10px; background: var(--warn-bg); border-radius: 6px; overflow-wrap: anywhere; }
.badge.missing { color: #fff; background: var(--bad); }
.badge.skipped { color: var(--muted); background: #eaeef2; }
tr.missing td { background: var(--bad-bg); }
tr.skipped td { color: var(--muted); }
.card.missing { border-left: 5px solid var(--bad); }
.card.missing p.msg { color: var(--bad); background: var(--bad-bg); }
.card.skipped { border-left: 5px solid #afb8c1; }
.card p.skip { margin: 6px 0; color: var(--muted); overflow-wrap: anywhere; }
.card dl.nums div.wide { grid-column: 1 / -1; }
p.problem { margin: 12px 0 0; padding: 8px 12px; color: var(--bad); background: var(--bad-bg); border-radius: 6px; overflow-wrap: anywhere; }
.muted { color: var(--muted); }
.bound { color: var(--muted); font-size: 12px; }
td a { overflow-wrap: break-word; }
.nw { white-space: nowrap; }
`

// diagnoseCSS is the diagnosis report's own rules.
const diagnoseCSS = `
.badge.bad { color: #fff; background: var(--bad); }
.badge.warn { color: var(--warn); background: var(--warn-bg); }
tr.bad td { background: var(--bad-bg); }
.card.bad { border-left: 5px solid var(--bad); }
.card.warn { border-left: 5px solid #d08700; }
.card p { margin: 8px 0 0; overflow-wrap: anywhere; }
.card p.fix { padding: 8px 10px; background: var(--warn-bg); border-radius: 6px; }
.card.bad p.fix { background: var(--bad-bg); }
.card figure { margin: 10px 0 0; }
.card figcaption { color: var(--muted); font-size: 13px; }
.card dl.nums { margin: 10px 0 0; }
.card dl.nums dt { overflow-wrap: anywhere; }
`
