/**
 * The dashboard's script, served as /dashboard/assets/app.js: a plain browser script (no build step, no
 * framework, nothing from a CDN). It is a client of the public /v1 API with the API key the operator pastes,
 * so every tenant and scope check is the API's own. Data goes into the page through textContent only, never
 * as HTML. A String.raw template so the source is served byte for byte; it must hold no backtick and no
 * dollar-brace.
 */
export const DASHBOARD_JS = String.raw`(function () {
  'use strict';
  var KEY_STORAGE = 'conveyor.dashboard.apiKey';
  var TERMINAL = ['succeeded', 'failed', 'canceled'];
  var CANCELABLE = ['queued', 'running', 'retrying'];
  var RETRYABLE = ['failed', 'canceled'];
  var POLL_MS = 2000;
  var LIST_FIELDS = 'id,type,status,attempts,maxAttempts,createdAt,updatedAt';

  var $ = function (id) { return document.getElementById(id); };
  var state = {
    key: sessionStorage.getItem(KEY_STORAGE),
    cursors: [null],
    page: 0,
    job: null,
    etag: null,
    timer: null,
    generation: 0
  };

  /** An API answer that is not what we asked for, with the problem+json detail when there is one. */
  function ApiError(status, problem) {
    this.status = status;
    this.code = problem && problem.code;
    this.message = problem && (problem.detail || problem.title) ? (problem.detail || problem.title) : 'HTTP ' + status;
  }

  async function api(method, path, extraHeaders) {
    var headers = { authorization: 'Bearer ' + state.key, accept: 'application/json' };
    if (extraHeaders) for (var h in extraHeaders) headers[h] = extraHeaders[h];
    var res = await fetch(path, { method: method, headers: headers, cache: 'no-store' });
    if (res.status === 304) return { res: res, body: null };
    var text = await res.text();
    var body = null;
    try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
    if (res.status === 401 && state.key) {
      signOut('The API key was rejected (unknown or revoked). Sign in again.');
      throw new ApiError(401, body);
    }
    if (!res.ok) throw new ApiError(res.status, body);
    return { res: res, body: body };
  }

  function say(id, text, isError) {
    var el = $(id);
    el.textContent = text || '';
    el.classList.toggle('error', Boolean(isError));
  }

  function pad(n) { return (n < 10 ? '0' : '') + n; }

  /** Local time, compact and sortable; the exact UTC instant is in the element's title. */
  function when(iso) {
    if (!iso) return '—';
    var d = new Date(iso);
    if (isNaN(d.getTime())) return iso;
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' +
      pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
  }

  function timeCell(iso) {
    var td = text('td', when(iso));
    td.title = iso || '';
    return td;
  }

  function badge(el, status) {
    el.className = 'badge badge-' + status;
    el.textContent = status;
  }

  function text(tag, content, className) {
    var el = document.createElement(tag);
    el.textContent = content;
    if (className) el.className = className;
    return el;
  }

  // ---- sign-in -------------------------------------------------------------------------------------

  function showApp(signedIn) {
    $('signin').hidden = signedIn;
    $('app').hidden = !signedIn;
    $('sign-out').hidden = !signedIn;
    $('who').hidden = !signedIn;
    if (signedIn) $('who').textContent = 'Key ' + state.key.slice(0, 12) + '…';
  }

  function signOut(message) {
    sessionStorage.removeItem(KEY_STORAGE);
    state.key = null;
    closeDetail();
    $('jobs-body').textContent = '';
    showApp(false);
    say('signin-error', message || '', Boolean(message));
    $('api-key').focus();
  }

  $('signin-form').addEventListener('submit', async function (event) {
    event.preventDefault();
    var key = $('api-key').value.trim();
    if (!key) return;
    state.key = key;
    say('signin-error', 'Checking…');
    try {
      await api('GET', '/v1/jobs?limit=1&fields=id');
    } catch (e) {
      state.key = null;
      say('signin-error', e.status === 403 ? 'This key lacks the jobs:read scope.' : 'Sign-in failed: ' + e.message, true);
      return;
    }
    sessionStorage.setItem(KEY_STORAGE, key);
    $('api-key').value = '';
    say('signin-error', '');
    showApp(true);
    search();
  });

  $('sign-out').addEventListener('click', function () { signOut(); });

  // ---- list ----------------------------------------------------------------------------------------

  function listQuery(cursor) {
    var form = $('filters');
    var q = new URLSearchParams();
    var ids = form.elements.ids.value.split(',').map(function (s) { return s.trim(); }).filter(Boolean);
    if (ids.length) q.set('ids', ids.join(','));
    if (form.elements.status.value) q.set('status', form.elements.status.value);
    if (form.elements.type.value) q.set('type', form.elements.type.value);
    ['createdAfter', 'createdBefore'].forEach(function (name) {
      var v = form.elements[name].value;
      if (!v) return;
      var d = new Date(v);
      if (!isNaN(d.getTime())) q.set(name, d.toISOString());
    });
    q.set('limit', form.elements.limit.value);
    q.set('fields', LIST_FIELDS);
    if (cursor) q.set('cursor', cursor);
    return '/v1/jobs?' + q.toString();
  }

  function renderRows(jobs) {
    var body = $('jobs-body');
    body.textContent = '';
    jobs.forEach(function (job) {
      var tr = document.createElement('tr');
      tr.dataset.id = job.id;
      if (state.job && state.job.id === job.id) tr.classList.add('selected');
      var idCell = document.createElement('td');
      var open = text('button', job.id, 'link');
      open.type = 'button';
      open.setAttribute('aria-label', 'Open job ' + job.id);
      open.addEventListener('click', function () { openJob(job.id); });
      idCell.appendChild(open);
      tr.appendChild(idCell);
      tr.appendChild(text('td', job.type));
      var statusCell = document.createElement('td');
      var b = document.createElement('span');
      badge(b, job.status);
      statusCell.appendChild(b);
      tr.appendChild(statusCell);
      tr.appendChild(text('td', job.attempts + ' / ' + job.maxAttempts));
      tr.appendChild(timeCell(job.createdAt));
      tr.appendChild(timeCell(job.updatedAt));
      body.appendChild(tr);
    });
  }

  async function loadPage() {
    say('list-message', 'Loading…');
    $('jobs-section').setAttribute('aria-busy', 'true');
    try {
      var out = await api('GET', listQuery(state.cursors[state.page]));
      var data = out.body.data;
      renderRows(data);
      if (out.body.nextCursor) state.cursors[state.page + 1] = out.body.nextCursor;
      else state.cursors.length = state.page + 1;
      $('next-page').disabled = !out.body.nextCursor;
      $('prev-page').disabled = state.page === 0;
      $('page-label').textContent = 'Page ' + (state.page + 1);
      say('list-message', data.length ? data.length + ' job' + (data.length === 1 ? '' : 's') + ' on this page' : 'No jobs match.');
    } catch (e) {
      if (state.key) say('list-message', 'Search failed: ' + e.message, true);
    } finally {
      $('jobs-section').setAttribute('aria-busy', 'false');
    }
  }

  function search() {
    state.cursors = [null];
    state.page = 0;
    return loadPage();
  }

  $('filters').addEventListener('submit', function (event) { event.preventDefault(); search(); });
  $('filters').addEventListener('reset', function () { setTimeout(search, 0); });
  $('next-page').addEventListener('click', function () { state.page += 1; loadPage(); });
  $('prev-page').addEventListener('click', function () { if (state.page > 0) { state.page -= 1; loadPage(); } });

  // ---- detail --------------------------------------------------------------------------------------

  function json(value) {
    return value === null || value === undefined ? '—' : JSON.stringify(value, null, 2);
  }

  function renderJob(job) {
    state.job = job;
    $('d-id').textContent = job.id;
    badge($('d-status'), job.status);
    ['type', 'queue', 'priority'].forEach(function (f) { $('d-' + f).textContent = String(job[f]); });
    $('d-attempts').textContent = job.attempts + ' of ' + job.maxAttempts;
    ['runAt', 'createdAt', 'startedAt', 'finishedAt'].forEach(function (f) {
      var el = $('d-' + f);
      el.textContent = when(job[f]);
      el.title = job[f] || '';
    });
    $('d-progress').value = job.progress;
    $('d-progress-text').textContent = job.progress + '%';
    $('d-error-block').hidden = !job.error;
    $('d-error').textContent = job.error ? job.error.code + ': ' + job.error.message : '';
    $('d-payload').textContent = json(job.payload);
    $('d-result').textContent = json(job.result);
    $('cancel').disabled = CANCELABLE.indexOf(job.status) < 0;
    $('retry').disabled = RETRYABLE.indexOf(job.status) < 0;
    var row = document.querySelector('#jobs-body tr[data-id="' + job.id + '"]');
    if (row) {
      var b = row.querySelector('.badge');
      if (b) badge(b, job.status);
      row.children[3].textContent = job.attempts + ' / ' + job.maxAttempts;
      row.children[5].textContent = when(job.updatedAt);
    }
    document.querySelectorAll('#jobs-body tr').forEach(function (tr) {
      tr.classList.toggle('selected', tr.dataset.id === job.id);
    });
  }

  function renderEvents(events) {
    var list = $('d-events');
    list.textContent = '';
    events.forEach(function (ev) {
      var li = document.createElement('li');
      var t = text('time', when(ev.at));
      t.dateTime = ev.at;
      li.appendChild(t);
      li.appendChild(text('strong', ev.type));
      var keys = ev.data ? Object.keys(ev.data) : [];
      if (keys.length) li.appendChild(text('span', JSON.stringify(ev.data), 'data'));
      list.appendChild(li);
    });
    if (!events.length) list.appendChild(text('li', 'No events yet.', 'muted'));
  }

  async function download(artifact) {
    try {
      var res = await fetch(artifact.url, { headers: { authorization: 'Bearer ' + state.key } });
      if (!res.ok) throw new ApiError(res.status, null);
      var url = URL.createObjectURL(await res.blob());
      var a = document.createElement('a');
      a.href = url;
      a.download = artifact.name;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
    } catch (e) {
      say('detail-message', 'Download failed: ' + e.message, true);
    }
  }

  function renderArtifacts(artifacts) {
    var list = $('d-artifacts');
    list.textContent = '';
    artifacts.forEach(function (a) {
      var li = document.createElement('li');
      var button = text('button', a.name, 'link');
      button.type = 'button';
      button.setAttribute('aria-label', 'Download ' + a.name);
      button.addEventListener('click', function () { download(a); });
      li.appendChild(button);
      li.appendChild(text('span', ' ' + a.contentType + ', ' + a.bytes + ' bytes', 'muted'));
      list.appendChild(li);
    });
    if (!artifacts.length) list.appendChild(text('li', 'None.', 'muted'));
  }

  async function loadExtras(id, generation) {
    var results = await Promise.all([
      api('GET', '/v1/jobs/' + encodeURIComponent(id) + '/events'),
      api('GET', '/v1/jobs/' + encodeURIComponent(id) + '/artifacts')
    ]);
    if (generation !== state.generation) return;
    renderEvents(results[0].body.data);
    renderArtifacts(results[1].body.data);
  }

  function stopPolling() {
    if (state.timer) clearTimeout(state.timer);
    state.timer = null;
  }

  /** While the job is not finished: ask again every POLL_MS, cheaply (If-None-Match answers 304 when unchanged). */
  function schedulePoll(generation) {
    stopPolling();
    if (!state.job || TERMINAL.indexOf(state.job.status) >= 0) return;
    state.timer = setTimeout(async function () {
      if (generation !== state.generation) return;
      try {
        var out = await api('GET', '/v1/jobs/' + encodeURIComponent(state.job.id), state.etag ? { 'if-none-match': state.etag } : null);
        if (generation !== state.generation) return;
        if (out.body) {
          state.etag = out.res.headers.get('etag');
          // A note left by Cancel or Retry describes the state it answered; a newer state supersedes it.
          if (out.body.status !== state.job.status) say('detail-message', '');
          renderJob(out.body);
          await loadExtras(out.body.id, generation);
        }
      } catch (e) {
        if (generation === state.generation && state.key) say('detail-message', 'Refresh failed: ' + e.message, true);
      }
      if (generation === state.generation) schedulePoll(generation);
    }, POLL_MS);
  }

  async function openJob(id) {
    state.generation += 1;
    var generation = state.generation;
    stopPolling();
    say('detail-message', 'Loading…');
    // Nothing of the previously shown job may stay on screen next to this one's id.
    $('d-events').textContent = '';
    $('d-artifacts').textContent = '';
    $('detail').setAttribute('aria-busy', 'true');
    $('detail').hidden = false;
    $('app').classList.remove('no-detail');
    try {
      var out = await api('GET', '/v1/jobs/' + encodeURIComponent(id));
      if (generation !== state.generation) return;
      state.etag = out.res.headers.get('etag');
      renderJob(out.body);
      await loadExtras(id, generation);
      if (generation !== state.generation) return;
      say('detail-message', '');
      schedulePoll(generation);
    } catch (e) {
      if (generation === state.generation) say('detail-message', 'Could not load the job: ' + e.message, true);
    } finally {
      if (generation === state.generation) $('detail').setAttribute('aria-busy', 'false');
    }
  }

  function closeDetail() {
    state.generation += 1;
    stopPolling();
    state.job = null;
    $('detail').hidden = true;
    $('app').classList.add('no-detail');
    document.querySelectorAll('#jobs-body tr.selected').forEach(function (tr) { tr.classList.remove('selected'); });
  }

  async function act(action, done) {
    if (!state.job) return;
    var id = state.job.id;
    var generation = state.generation;
    $('cancel').disabled = true;
    $('retry').disabled = true;
    try {
      var out = await api('POST', '/v1/jobs/' + encodeURIComponent(id) + '/' + action);
      if (generation !== state.generation) return;
      say('detail-message', done);
      state.etag = null;
      renderJob(out.body);
      await loadExtras(id, generation);
      schedulePoll(generation);
    } catch (e) {
      if (generation !== state.generation) return;
      say('detail-message', (e.status === 403 ? 'This key lacks the jobs:write scope.' : action + ' failed: ' + e.message), true);
      if (state.job) renderJob(state.job);
    }
  }

  $('cancel').addEventListener('click', function () { act('cancel', 'Cancel requested.'); });
  $('retry').addEventListener('click', function () { act('retry', 'Queued again.'); });
  $('refresh').addEventListener('click', function () { if (state.job) openJob(state.job.id); });
  $('close-detail').addEventListener('click', closeDetail);

  // ---- start ---------------------------------------------------------------------------------------

  if (state.key) {
    showApp(true);
    search();
  } else {
    showApp(false);
  }
})();
`;
