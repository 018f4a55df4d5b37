// Served as /ui/static/console.css: the Content-Security-Policy allows styles from 'self' only (no inline).
export const consoleCss = `
:root { color-scheme: light; --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; --bg: #f6f8fa;
  --accent: #0969da; --bad: #cf222e; --good: #1a7f37; --warn: #9a6700; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); }
header { display: flex; flex-wrap: wrap; gap: .5rem 1.25rem; align-items: center; padding: .6rem 1rem;
  background: #24292f; color: #fff; }
header a { color: #fff; text-decoration: none; }
header .brand { font-weight: 700; }
header form { margin-left: auto; display: flex; gap: .5rem; align-items: center; }
header .who { color: #d0d7de; font-size: .9em; }
main { padding: 1rem; max-width: 1240px; margin: 0 auto; }
h1 { font-size: 1.35rem; margin: .2rem 0 .8rem; overflow-wrap: anywhere; }
h2 { font-size: 1.1rem; margin: 1.4rem 0 .5rem; }
a { color: var(--accent); }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .86em; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .35rem .5rem; border-bottom: 1px solid var(--line); }
th { background: var(--bg); font-weight: 600; }
.counts { display: flex; flex-wrap: wrap; gap: .5rem; margin: .4rem 0 1rem; }
.counts a { padding: .2rem .6rem; border: 1px solid var(--line); border-radius: 1rem; text-decoration: none; }
.filters { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; margin-bottom: 1rem; }
.filters label { display: flex; flex-direction: column; font-size: .85em; color: var(--muted); }
input, select, textarea, button { font: inherit; padding: .35rem .5rem; border: 1px solid var(--line); border-radius: 6px; }
textarea { width: 100%; min-height: 4.5rem; }
button { background: #fff; cursor: pointer; }
button.approve { background: var(--good); color: #fff; border-color: var(--good); }
button.reject { background: var(--bad); color: #fff; border-color: var(--bad); }
.badge { display: inline-block; padding: 0 .45rem; border-radius: .6rem; font-size: .82em; border: 1px solid var(--line); }
.sev-critical, .sev-high { background: #ffebe9; color: var(--bad); border-color: #ff8182; }
.sev-medium { background: #fff8c5; color: var(--warn); border-color: #d4a72c; }
.st-open { background: #ddf4ff; color: var(--accent); }
.st-approved { background: #dafbe1; color: var(--good); }
.st-rejected { background: #ffebe9; color: var(--bad); }
.root { color: var(--bad); font-weight: 700; }
.removed { background: #ffebe9; }
.added { background: #dafbe1; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(280px, 1fr)); gap: .75rem; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: .75rem; }
.card h3 { margin: 0 0 .4rem; font-size: 1rem; }
.review { border: 1px solid var(--line); border-radius: 8px; padding: .75rem; background: var(--bg); margin-top: 1rem; }
.review .buttons { display: flex; gap: .6rem; margin-top: .5rem; }
.error { color: var(--bad); font-weight: 600; }
.notice { padding: .6rem .8rem; border-radius: 6px; background: #fff8c5; }
.login { max-width: 22rem; margin: 3rem auto; display: flex; flex-direction: column; gap: .6rem; }
.login label { display: flex; flex-direction: column; gap: .2rem; }
.timeline { list-style: none; padding: 0; border-left: 3px solid var(--line); margin-left: .4rem; }
.timeline li { margin: 0 0 .8rem; padding-left: .8rem; }
.muted { color: var(--muted); }
@media (max-width: 700px) {
  main { padding: .6rem; }
  table.stack thead { display: none; }
  table.stack, table.stack tbody, table.stack tr, table.stack td { display: block; width: 100%; }
  table.stack tr { border: 1px solid var(--line); border-radius: 8px; margin-bottom: .6rem; padding: .3rem; }
  table.stack td { border: 0; padding: .15rem .3rem; }
  table.stack td[data-label]::before { content: attr(data-label) ": "; color: var(--muted); font-size: .85em; }
  table.diff, table.diff tbody, table.diff tr, table.diff td, table.diff th { display: block; width: 100%; }
  table.diff thead { display: none; }
  table.diff tr { border-bottom: 1px solid var(--line); padding: .3rem 0; }
  table.diff th { background: none; border: 0; padding: .1rem 0; }
  table.diff td { border: 0; padding: .1rem 0; }
  table.diff td[data-label]::before { content: attr(data-label) ": "; color: var(--muted); font-size: .85em; }
}
`;
