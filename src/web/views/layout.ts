/**
 * The page frame every response shares: language, title, one stylesheet from /static (the CSP
 * allows no inline style or script), a skip link, and the dashboard navigation when the viewer is
 * an operator. Action pages (opened from a mail) get no navigation: their reader may not be one.
 */
import { html, raw, type SafeHtml } from '../../domain/mail/html';

export const STYLESHEET_PATH = '/static/app.css';

export interface LayoutOptions {
  title: string;
  /** A local path the page moves on to at once (meta refresh: no script needed). */
  refreshTo?: string;
  /** Show the dashboard navigation; `current` marks the active item. */
  nav?: {
    current?: NavKey;
    outbox: boolean;
    schedules?: boolean;
    identity?: string;
    canLogOut: boolean;
    /** The viewer is a configured person: link their "waiting on me" page. */
    me?: boolean;
  };
}

export type NavKey = 'open' | 'me' | 'history' | 'schedules' | 'outbox';

function navigation(nav: NonNullable<LayoutOptions['nav']>): SafeHtml {
  const item = (key: NavKey, href: string, label: string) =>
    html`<li><a href="${href}" ${nav.current === key ? raw(' aria-current="page"') : ''}>${label}</a></li>`;
  return html`<nav aria-label="Main">
    <ul>
      ${item('open', '/', 'Open runs')} ${nav.me ? item('me', '/me', 'Waiting on me') : ''}
      ${item('history', '/history', 'History')} ${nav.schedules ? item('schedules', '/schedules', 'Schedules') : ''}
      ${nav.outbox ? item('outbox', '/outbox', 'Outbox') : ''}
    </ul>
    ${
      nav.canLogOut
        ? html`<form method="post" action="/logout" class="logout">
            <span>${nav.identity ?? ''}</span> <button type="submit" class="secondary">Log out</button>
          </form>`
        : ''
    }
  </nav>`;
}

export function layout(options: LayoutOptions, body: SafeHtml): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        ${options.refreshTo ? html`<meta http-equiv="refresh" content="0;url=${options.refreshTo}" />` : ''}
        <title>${options.title} · airgap-orchestrator</title>
        <link rel="stylesheet" href="${STYLESHEET_PATH}" />
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header>
          <p class="brand">airgap-orchestrator</p>
          ${options.nav ? navigation(options.nav) : ''}
        </header>
        <main id="main">${body}</main>
      </body>
    </html> `.value;
}

/** The stylesheet: system fonts, dark text on white (contrast above 7:1), visible focus. */
export const STYLESHEET = `
*, *::before, *::after { box-sizing: border-box; }
html { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; font-size: 100%; line-height: 1.5; color: #1a1a1a; background: #ffffff; }
body { margin: 0; }
a { color: #0645ad; }
a:visited { color: #4b2c8a; }
a:focus-visible, button:focus-visible, input:focus-visible, textarea:focus-visible, select:focus-visible { outline: 3px solid #b35900; outline-offset: 2px; }
.skip { position: absolute; left: -9999px; }
.skip:focus { left: 1rem; top: 1rem; background: #ffffff; padding: 0.5rem; z-index: 1; }
header { background: #1f2d3d; color: #ffffff; padding: 0.5rem 1.5rem; display: flex; flex-wrap: wrap; align-items: center; gap: 1.5rem; }
header a, header a:visited { color: #ffffff; }
.brand { font-weight: 700; margin: 0; }
nav { display: flex; flex-wrap: wrap; align-items: center; gap: 1.5rem; flex: 1; }
nav ul { list-style: none; display: flex; gap: 1.25rem; margin: 0; padding: 0; }
nav a[aria-current="page"] { font-weight: 700; text-decoration-thickness: 3px; }
.logout { margin-left: auto; display: flex; align-items: center; gap: 0.5rem; }
main { max-width: 72rem; margin: 0 auto; padding: 1.5rem; }
h1 { font-size: 1.75rem; margin: 0.5rem 0 1rem; }
h2 { font-size: 1.3rem; margin: 2rem 0 0.75rem; }
.context { color: #404040; margin-top: 0; }
.hint { color: #404040; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.35rem 1.25rem; margin: 0 0 1.5rem; }
dl.facts dt { font-weight: 700; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
code, .mono { font-family: ui-monospace, Consolas, Menlo, monospace; font-size: 0.95em; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; margin: 0 0 1.5rem; }
caption { text-align: left; font-weight: 700; padding: 0.25rem 0; }
th, td { text-align: left; vertical-align: top; padding: 0.5rem 0.75rem; border-bottom: 1px solid #c8c8c8; }
thead th { border-bottom: 2px solid #1a1a1a; }
form.action { border: 1px solid #8c8c8c; border-radius: 6px; padding: 1.25rem; max-width: 40rem; margin: 1.5rem 0; }
label { display: block; font-weight: 700; margin: 0 0 0.35rem; }
.field { margin: 0 0 1rem; }
.field .help { margin: 0.25rem 0 0; color: #404040; font-size: 0.95rem; }
input[type="text"], input[type="password"], input[type="date"], input[type="search"], textarea, select { font: inherit; padding: 0.5rem; border: 1px solid #595959; border-radius: 4px; width: 100%; max-width: 36rem; color: #1a1a1a; background: #ffffff; }
textarea { min-height: 5rem; }
button { font: inherit; font-weight: 700; padding: 0.6rem 1.2rem; border-radius: 4px; border: 2px solid #0b4f94; background: #0b5cab; color: #ffffff; cursor: pointer; }
button.danger { background: #a4161a; border-color: #7a1013; }
button.secondary { background: #ffffff; color: #1a1a1a; border-color: #595959; padding: 0.3rem 0.8rem; }
.message { border-left: 6px solid #0b5cab; background: #eef4fb; padding: 0.75rem 1rem; margin: 0 0 1.5rem; }
.message.ok { border-color: #1e7b34; background: #edf7ef; }
.message.warning { border-color: #b35900; background: #fdf3e7; }
.message.error { border-color: #a4161a; background: #fbeaea; }
.filters { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-end; margin: 0 0 1.5rem; }
.filters .field { margin: 0; min-width: 10rem; }
pre.mail { white-space: pre-wrap; overflow-wrap: anywhere; background: #f5f5f5; border: 1px solid #c8c8c8; padding: 1rem; font-family: ui-monospace, Consolas, Menlo, monospace; font-size: 0.9rem; }
iframe.mail { width: 100%; min-height: 36rem; border: 1px solid #c8c8c8; background: #ffffff; }
ol.timeline { padding-left: 1.5rem; }
ol.timeline li { margin: 0 0 0.6rem; }
.badge { display: inline-block; border: 2px solid; border-radius: 1rem; padding: 0 0.6rem; font-weight: 700; white-space: nowrap; font-size: 0.95rem; }
.badge-ok { color: #14532d; background: #dcfce7; border-color: #1e7b34; }
.badge-wait { color: #713f12; background: #fef3c7; border-color: #b35900; }
.badge-active { color: #0b3a6e; background: #e0ecfa; border-color: #0b5cab; }
.badge-fail { color: #7a1013; background: #fde2e2; border-color: #a4161a; }
.badge-neutral { color: #333333; background: #eeeeee; border-color: #737373; }
tr.problem td { background: #fbeaea; }
.problem-reason { color: #7a1013; font-weight: 700; }
figure.picture { margin: 0 0 1.5rem; }
figure.picture svg { max-width: 100%; height: auto; }
figure.picture figcaption { color: #404040; }
svg text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
.sheet h1 { margin-top: 0; }
.sheet .digest { font-family: ui-monospace, Consolas, Menlo, monospace; font-size: 1.1rem; letter-spacing: 0.05em; }
.sheet .check { display: inline-block; width: 1.2rem; height: 1.2rem; border: 2px solid #1a1a1a; vertical-align: middle; margin-right: 0.4rem; }
.sheet .print-hint { color: #404040; }
@media print {
  header, .skip, .print-hint, nav { display: none !important; }
  main { max-width: none; padding: 0; }
  html { font-size: 11pt; }
  a { color: #000000; text-decoration: none; }
  table, tr, .sheet section { page-break-inside: avoid; break-inside: avoid; }
  th, td { border-bottom: 1px solid #000000; }
  @page { margin: 15mm; }
}
`;
