/** The page's icon (a conveyor belt's three boxes), served as /dashboard/assets/icon.svg so no /favicon.ico 404s. */
export const DASHBOARD_ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#2456c7"/><rect x="5" y="11" width="6" height="8" fill="#fff"/><rect x="13" y="11" width="6" height="8" fill="#fff"/><rect x="21" y="11" width="6" height="8" fill="#fff"/><rect x="4" y="21" width="24" height="2" fill="#fff"/></svg>
`;

/**
 * The dashboard's stylesheet, served as /dashboard/assets/app.css. A TS string rather than a .css file so the
 * bundled API (scripts/bundle.mjs → dist/main.js) carries it with no asset copying. The page uses classes
 * only, never `style` attributes, so the CSP needs no 'unsafe-inline'.
 */
export const DASHBOARD_CSS = `:root {
  color-scheme: light dark;
  --bg: #f6f7f9;
  --panel: #ffffff;
  --text: #1c2330;
  --muted: #5b6474;
  --line: #d9dde4;
  --accent: #2456c7;
  --danger: #b42318;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  font-size: 15px;
}
@media (prefers-color-scheme: dark) {
  :root { --bg: #14171c; --panel: #1d2129; --text: #e6e9ef; --muted: #a0a8b8; --line: #343a46; --accent: #7aa2ff; --danger: #ff7b72; }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); }
header.top { display: flex; align-items: center; gap: 1rem; padding: 0.6rem 1.2rem; background: var(--panel); border-bottom: 1px solid var(--line); }
header.top h1 { font-size: 1.15rem; margin: 0; flex: 1; }
header.top .who { color: var(--muted); font-size: 0.9rem; }
main { padding: 1rem 1.2rem; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 1rem; }
.signin { max-width: 32rem; margin: 3rem auto; }
.signin p { color: var(--muted); }
.layout { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 1rem; align-items: start; }
.layout.no-detail { grid-template-columns: minmax(0, 1fr); }
@media (max-width: 1000px) { .layout { grid-template-columns: minmax(0, 1fr); } }
form.filters { display: flex; flex-wrap: wrap; gap: 0.6rem 1rem; align-items: flex-end; margin-bottom: 0.8rem; }
.field { display: flex; flex-direction: column; gap: 0.2rem; }
.field label { font-size: 0.8rem; color: var(--muted); }
input, select, button { font: inherit; color: inherit; }
input, select { padding: 0.3rem 0.45rem; border: 1px solid var(--line); border-radius: 4px; background: var(--bg); }
input.wide { min-width: 19rem; }
button { padding: 0.35rem 0.8rem; border: 1px solid var(--line); border-radius: 4px; background: var(--bg); cursor: pointer; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button.danger { border-color: var(--danger); color: var(--danger); }
button:disabled { opacity: 0.5; cursor: not-allowed; }
button:focus-visible, input:focus-visible, select:focus-visible { outline: 2px solid var(--accent); outline-offset: 1px; }
button.link { border: none; background: none; padding: 0; color: var(--accent); text-decoration: underline; font-family: ui-monospace, monospace; font-size: 0.85rem; }
.table-wrap { overflow-x: auto; }
.section-title { font-size: 1.05rem; margin: 0 0 0.8rem; }
table { width: 100%; border-collapse: collapse; }
caption { text-align: left; color: var(--muted); font-size: 0.85rem; padding-bottom: 0.4rem; }
th, td { text-align: left; padding: 0.4rem 0.5rem; border-bottom: 1px solid var(--line); font-size: 0.9rem; white-space: nowrap; }
th { font-size: 0.8rem; color: var(--muted); font-weight: 600; }
tr.selected td { background: color-mix(in srgb, var(--accent) 12%, transparent); }
.badge { display: inline-block; padding: 0.05rem 0.5rem; border-radius: 999px; font-size: 0.78rem; font-weight: 600; border: 1px solid transparent; }
.badge-queued { background: #e8eefc; color: #1e3a8a; }
.badge-running { background: #dbeafe; color: #1d4ed8; }
.badge-retrying { background: #fef3c7; color: #92400e; }
.badge-succeeded { background: #dcfce7; color: #166534; }
.badge-failed { background: #fee2e2; color: #991b1b; }
.badge-canceled { background: #e5e7eb; color: #374151; }
.pager { display: flex; gap: 0.6rem; align-items: center; margin-top: 0.8rem; }
.muted { color: var(--muted); }
.message { min-height: 1.3rem; margin: 0.5rem 0; }
.message.error { color: var(--danger); }
.detail h2 { margin: 0 0 0.6rem; font-size: 1.05rem; display: flex; gap: 0.6rem; align-items: center; flex-wrap: wrap; }
.detail h2 code { font-size: 0.85rem; }
.detail h3 { font-size: 0.9rem; margin: 1rem 0 0.4rem; color: var(--muted); }
.actions { display: flex; gap: 0.5rem; flex-wrap: wrap; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 0.8rem; margin: 0.8rem 0; font-size: 0.88rem; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
progress { width: 100%; height: 0.8rem; }
pre { background: var(--bg); border: 1px solid var(--line); border-radius: 4px; padding: 0.5rem; overflow: auto; max-height: 16rem; font-size: 0.82rem; margin: 0; white-space: pre-wrap; word-break: break-word; }
pre.error { border-color: var(--danger); }
ol.timeline { list-style: none; margin: 0; padding: 0; border-left: 2px solid var(--line); }
ol.timeline li { padding: 0.25rem 0 0.25rem 0.8rem; font-size: 0.86rem; }
ol.timeline time { color: var(--muted); font-family: ui-monospace, monospace; font-size: 0.8rem; margin-right: 0.5rem; }
ol.timeline .data { color: var(--muted); font-family: ui-monospace, monospace; font-size: 0.78rem; margin-left: 0.4rem; word-break: break-all; }
ul.artifacts { margin: 0; padding-left: 1.1rem; }
[hidden] { display: none !important; }
`;
