/** Catalog names and statuses are plain identifiers, but the page is HTML: escape on principle. */
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

const options = (values: readonly string[]) =>
  values.map((v) => `<option value="${escapeHtml(v)}">${escapeHtml(v)}</option>`).join('');

/**
 * The dashboard page: static HTML (the same for everyone, no data in it), its script and stylesheet loaded
 * from this origin with `version` (their content hash) in the URL. The script does everything else through
 * /v1 with the API key the operator signs in with.
 */
export const dashboardPage = (input: {
  version: string;
  jobTypes: readonly string[];
  statuses: readonly string[];
}) => `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="referrer" content="no-referrer" />
    <title>Conveyor dashboard</title>
    <link rel="icon" type="image/svg+xml" href="/dashboard/assets/icon.svg?v=${input.version}" />
    <link rel="stylesheet" href="/dashboard/assets/app.css?v=${input.version}" />
  </head>
  <body>
    <header class="top">
      <h1>Conveyor jobs</h1>
      <span class="who" id="who" hidden></span>
      <button type="button" id="sign-out" hidden>Sign out</button>
    </header>
    <main>
      <section class="panel signin" id="signin" aria-labelledby="signin-title">
        <h2 id="signin-title">Sign in</h2>
        <p>Paste an API key of the tenant to inspect. It stays in this tab (session storage) and is sent only to this API; cancel and retry need the <code>jobs:write</code> scope.</p>
        <form id="signin-form">
          <div class="field">
            <label for="api-key">API key</label>
            <input id="api-key" name="apiKey" type="password" class="wide" autocomplete="off" spellcheck="false" required />
          </div>
          <p class="message error" id="signin-error" role="alert"></p>
          <button type="submit" class="primary">Sign in</button>
        </form>
      </section>

      <div class="layout no-detail" id="app" hidden>
        <section class="panel" id="jobs-section" aria-labelledby="jobs-title">
          <h2 id="jobs-title" class="section-title">Jobs</h2>
          <form class="filters" id="filters" aria-label="Search jobs">
            <div class="field">
              <label for="f-id">Job id(s)</label>
              <input id="f-id" name="ids" class="wide" placeholder="uuid, comma separated" spellcheck="false" />
            </div>
            <div class="field">
              <label for="f-status">Status</label>
              <select id="f-status" name="status"><option value="">any</option>${options(input.statuses)}</select>
            </div>
            <div class="field">
              <label for="f-type">Type</label>
              <select id="f-type" name="type"><option value="">any</option>${options(input.jobTypes)}</select>
            </div>
            <div class="field">
              <label for="f-after">Created after</label>
              <input id="f-after" name="createdAfter" type="datetime-local" step="1" />
            </div>
            <div class="field">
              <label for="f-before">Created before</label>
              <input id="f-before" name="createdBefore" type="datetime-local" step="1" />
            </div>
            <div class="field">
              <label for="f-limit">Per page</label>
              <select id="f-limit" name="limit"><option>20</option><option>50</option><option>100</option></select>
            </div>
            <button type="submit" class="primary">Search</button>
            <button type="reset" id="reset">Reset</button>
          </form>
          <p class="message" id="list-message" role="status" aria-live="polite"></p>
          <div class="table-wrap">
          <table id="jobs">
            <caption id="jobs-caption">Newest first</caption>
            <thead>
              <tr><th scope="col">Id</th><th scope="col">Type</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Created</th><th scope="col">Updated</th></tr>
            </thead>
            <tbody id="jobs-body"></tbody>
          </table>
          </div>
          <nav class="pager" aria-label="Pages">
            <button type="button" id="prev-page" disabled>Newer</button>
            <span class="muted" id="page-label">Page 1</span>
            <button type="button" id="next-page" disabled>Older</button>
          </nav>
        </section>

        <section class="panel detail" id="detail" aria-labelledby="detail-title" hidden>
          <h2 id="detail-title">Job <code id="d-id"></code> <span class="badge" id="d-status"></span></h2>
          <div class="actions">
            <button type="button" class="danger" id="cancel">Cancel</button>
            <button type="button" id="retry">Retry</button>
            <button type="button" id="refresh">Refresh</button>
            <button type="button" id="close-detail">Close</button>
          </div>
          <p class="message" id="detail-message" role="status" aria-live="polite"></p>
          <dl class="facts">
            <dt>Type</dt><dd id="d-type"></dd>
            <dt>Queue</dt><dd id="d-queue"></dd>
            <dt>Attempts</dt><dd id="d-attempts"></dd>
            <dt>Priority</dt><dd id="d-priority"></dd>
            <dt>Run at</dt><dd id="d-runAt"></dd>
            <dt>Created</dt><dd id="d-createdAt"></dd>
            <dt>Started</dt><dd id="d-startedAt"></dd>
            <dt>Finished</dt><dd id="d-finishedAt"></dd>
          </dl>
          <label for="d-progress">Progress <span id="d-progress-text"></span></label>
          <progress id="d-progress" max="100" value="0"></progress>
          <div id="d-error-block" hidden>
            <h3>Error</h3>
            <pre class="error" id="d-error"></pre>
          </div>
          <h3 id="timeline-title">Timeline</h3>
          <ol class="timeline" id="d-events" aria-labelledby="timeline-title"></ol>
          <h3>Payload</h3>
          <pre id="d-payload"></pre>
          <h3>Result</h3>
          <pre id="d-result"></pre>
          <h3 id="artifacts-title">Artifacts</h3>
          <ul class="artifacts" id="d-artifacts" aria-labelledby="artifacts-title"></ul>
        </section>
      </div>
    </main>
    <script src="/dashboard/assets/app.js?v=${input.version}"></script>
  </body>
</html>
`;
