// normguard dashboard: reads the service's JSON API (relative URLs, same
// origin) and draws everything as SVG. Every string from the API reaches
// the DOM through text nodes or setAttribute, never as markup.
'use strict';

(() => {
  const REFRESH_MS = 10000;
  const SVG_NS = 'http://www.w3.org/2000/svg';
  // The HTML report's colours: blue and orange stay apart for colour-blind
  // readers; drift is red and always said in words too.
  const COLOR = { ref: '#1f6fb4', cur: '#d35400', drift: '#b42318', point: '#1f6fb4', threshold: '#57606a' };

  const state = {
    model: '', // from the URL fragment; '' selects the first model
    stage: 'input',
    busy: false,
    again: false, // a refresh was asked for while one ran
    refreshes: 0,
    shownModels: '', // what the model list and the detail show, to skip
    shownDetail: '', // re-drawing (and losing focus) when nothing changed
  };

  // ---- DOM helpers: attributes by setAttribute, children as nodes or text.

  function h(tag, attrs, ...kids) {
    return build(document.createElement(tag), attrs, kids);
  }

  function s(tag, attrs, ...kids) {
    return build(document.createElementNS(SVG_NS, tag), attrs, kids);
  }

  function build(node, attrs, kids) {
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== undefined && v !== null && v !== false) node.setAttribute(k, String(v));
    }
    for (const kid of kids.flat(Infinity)) {
      if (kid === undefined || kid === null || kid === false) continue;
      node.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    }
    return node;
  }

  // ---- Formatting.

  const isNum = (x) => typeof x === 'number' && Number.isFinite(x);
  const str = (x) => (x === undefined || x === null ? '' : String(x));
  const f1 = (x) => x.toFixed(1);

  function num(x) {
    if (!isNum(x)) return '—';
    if (x === 0) return '0';
    const a = Math.abs(x);
    if (a < 1e-3 || a >= 1e6) return x.toExponential(2);
    return String(Number(x.toPrecision(3)));
  }

  const pct = (x) => (isNum(x) ? `${Number((x * 100).toPrecision(3))}%` : '—');

  function when(t) {
    const d = new Date(t);
    return Number.isNaN(d.getTime()) ? str(t) || '—' : `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  }

  // shortTime is "MM-DD HH:MM" (UTC) of a time in milliseconds.
  const shortTime = (ms) => new Date(ms).toISOString().slice(5, 16).replace('T', ' ');

  function shortDigest(d) {
    const m = /^sha256:([0-9a-f]{12})[0-9a-f]*$/.exec(str(d));
    if (m) return `sha256:${m[1]}…`;
    const t = str(d);
    return t.length > 20 ? `${t.slice(0, 19)}…` : t;
  }

  function shorten(t, n) {
    const r = Array.from(str(t));
    return r.length <= n ? r.join('') : `${r.slice(0, n - 1).join('')}…`;
  }

  // ---- The API.

  class APIError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function getJSON(url) {
    let res;
    try {
      res = await fetch(url, { headers: { Accept: 'application/json' }, cache: 'no-store' });
    } catch (e) {
      throw new APIError(0, 'network', `cannot reach the service (${e.message})`);
    }
    let body = null;
    try {
      body = await res.json();
    } catch (e) {
      // Not JSON; judged below.
    }
    if (!res.ok) {
      const err = body && typeof body === 'object' ? body.error : null;
      const message = err && err.message ? str(err.message) : `HTTP ${res.status} ${res.statusText}`;
      throw new APIError(res.status, err && err.code ? str(err.code) : `http_${res.status}`, message);
    }
    if (!body || typeof body !== 'object') {
      throw new APIError(res.status, 'bad_response', `${url} did not return a JSON object`);
    }
    return body;
  }

  const isNotFound = (e) => e instanceof APIError && e.status === 404;

  // ---- Selection in the URL fragment: #model=NAME&stage=output.

  function readHash() {
    const p = new URLSearchParams(location.hash.slice(1));
    state.model = p.get('model') || '';
    state.stage = p.get('stage') === 'output' ? 'output' : 'input';
    for (const b of document.querySelectorAll('.stage-btn')) {
      b.setAttribute('aria-pressed', String(b.dataset.stage === state.stage));
    }
  }

  function select(model, stage) {
    const p = new URLSearchParams();
    if (model) p.set('model', model);
    if (stage !== 'input') p.set('stage', stage);
    const next = `#${p}`;
    if (location.hash === next || (next === '#' && location.hash === '')) {
      refresh();
    } else {
      location.hash = next; // hashchange refreshes
    }
  }

  // ---- Refresh: one at a time; a request during one runs after it.

  async function refresh() {
    if (state.busy) {
      state.again = true;
      return;
    }
    state.busy = true;
    try {
      await load();
    } catch (e) {
      // A bug in drawing must not stop the refreshes; say it.
      showProblems([`The dashboard failed to draw: ${e.message}`]);
      document.body.dataset.state = 'error';
    } finally {
      state.busy = false;
      state.refreshes++;
      document.body.dataset.refreshes = String(state.refreshes);
      if (state.again) {
        state.again = false;
        refresh();
      }
    }
  }

  async function load() {
    const { model, stage } = state;
    let list;
    try {
      list = await getJSON('v1/models');
    } catch (e) {
      showProblems([`Cannot list the models: ${e.message}`]);
      setStatus(false);
      if (state.shownModels === '') {
        // Nothing shown yet: say so where the list goes. Later failures
        // keep the last list and detail on screen under the banner.
        document.getElementById('models').replaceChildren(h('p', { class: 'empty' }, 'The model list is unavailable.'));
      }
      return;
    }
    const models = (Array.isArray(list.models) ? list.models : []).filter((m) => m && typeof m === 'object');
    const problems = [];
    let selected = model;
    if (!models.some((m) => str(m.name) === model)) {
      if (model) problems.push(`There is no model named “${model}”; showing ${models.length ? 'the first one' : 'nothing'}.`);
      selected = models.length ? str(models[0].name) : '';
    }
    renderModels(models, selected);
    if (!selected) {
      renderNoModels();
      finish(problems);
      return;
    }
    const base = `v1/models/${encodeURIComponent(selected)}`;
    const q = `stage=${encodeURIComponent(stage)}`;
    const [drift, history] = await Promise.allSettled([getJSON(`${base}/drift?${q}&plots=1`), getJSON(`${base}/history?${q}`)]);
    if (state.model !== model || state.stage !== stage) return; // superseded; the next refresh is queued
    problems.push(...renderDetail(selected, stage, drift, history));
    const vectors = await getJSON(`${base}/vectors`).catch(() => null);
    if (state.model !== model || state.stage !== stage) return;
    renderVectors(vectors);
    finish(problems);
  }

  // ---- Vector columns: per producer, the verdicts against the embedding
  // contract and the distribution of vector norms (GET .../vectors); per
  // pair of producers, their drift.

  function renderVectors(v) {
    const main = document.getElementById('detail');
    const old = document.getElementById('vectors');
    const cols = v && Array.isArray(v.columns)
      ? v.columns.filter((c) => c && ((Array.isArray(c.producers) && c.producers.length) || (Array.isArray(c.refused_producers) && c.refused_producers.length)))
      : [];
    if (!cols.length) {
      if (old) old.remove();
      return;
    }
    const section = h('section', { id: 'vectors' }, h('h3', {}, 'Vector columns'), cols.map(vectorColumn));
    if (old) old.replaceWith(section);
    else main.append(section);
  }

  // refusedText lists a producer's refused vectors by reason (since the
  // server started), or '' when none were refused.
  function refusedText(refused) {
    if (!refused || typeof refused !== 'object') return '';
    const parts = Object.keys(refused).filter((k) => isNum(refused[k]) && refused[k] > 0).sort()
      .map((k) => `${num(refused[k])} ${k || 'unnamed'}`);
    return parts.length ? `refused since start: ${parts.join(', ')}` : '';
  }

  function vectorColumn(c) {
    const pairs = (Array.isArray(c.pairs) ? c.pairs : []).filter((p) => p && typeof p === 'object');
    const onlyRefused = (Array.isArray(c.refused_producers) ? c.refused_producers : []).filter((p) => p && typeof p === 'object');
    return h(
      'article',
      { class: 'card', 'data-vector': str(c.column) },
      h('header', {}, h('h3', {}, str(c.column))),
      onlyRefused.map((p) => h('div', { class: 'producer', 'data-producer': str(p.producer) },
        h('p', {}, h('strong', {}, str(p.producer) || '(other producers)'), ' · no vector kept · ',
          h('span', { class: 'badge drift' }, refusedText(p.refused) || 'refused')))),
      (Array.isArray(c.producers) ? c.producers : []).filter((p) => p && typeof p === 'object').map((p) => {
        const verdicts = (Array.isArray(p.verdicts) ? p.verdicts : []).filter((f) => f && typeof f === 'object');
        return h(
          'div',
          { class: 'producer', 'data-producer': str(p.producer) },
          h('p', {}, h('strong', {}, str(p.producer)), ` · ${num(p.rows)} vectors of ${num(p.dimension)} values · `,
            verdicts.length ? h('span', { class: 'badge drift' }, verdicts.map((f) => str(f.code)).join(', ')) : h('span', { class: 'badge ok' }, 'keeps the contract'),
            refusedText(p.refused) ? h('span', { class: 'badge drift' }, refusedText(p.refused)) : ''),
          verdicts.map((f) => h('p', { class: 'msg' }, `${str(f.code)}: ${str(f.message)} — ${str(f.fix)}`)),
          normPlot(str(p.producer), p.norms),
        );
      }),
      pairs.map((p) => h('p', { class: 'pair' }, `${str(p.a)} vs ${str(p.b)}: `,
        p.drift && typeof p.drift === 'object'
          ? `MMD² ${num(p.drift.mmd2)} (p ${num(p.drift.mmd_p_value)}), domain AUC ${num(p.drift.domain_auc)}, mean cosine distance ${num(p.drift.mean_cosine)} — ${p.drift.drift ? 'DRIFT' : 'no drift'}`
          : `not compared: ${str(p.skipped)}`)),
    );
  }

  // normPlot draws a producer's histogram of vector norms (log-spaced bins).
  function normPlot(name, norms) {
    const bins = norms && Array.isArray(norms.histogram) ? norms.histogram.filter((b) => b && isNum(b.count)) : [];
    const label = `Distribution of vector norms of ${name}`;
    const svg = plotRoot('plot norms', name, P.top + P.inner + 26, label, {});
    const used = bins.map((b, i) => [b, i]).filter(([b]) => b.count > 0);
    if (!used.length) return note(svg, 'no norm to draw');
    const lo = used[0][1];
    const hi = used[used.length - 1][1];
    const shown = bins.slice(lo, hi + 1);
    const max = Math.max(...shown.map((b) => b.count));
    const bw = (P.w - P.left - P.right) / shown.length;
    shown.forEach((b, i) => {
      const bh = (b.count / max) * P.inner;
      svg.append(s('rect', { x: P.left + i * bw, y: P.top + P.inner - bh, width: Math.max(bw - 1, 1), height: bh, fill: COLOR.cur },
        s('title', {}, `[${num(b.lo)}, ${num(b.hi)}): ${b.count}`)));
    });
    const y = P.top + P.inner + 16;
    svg.append(s('text', { x: P.left, y }, num(shown[0].lo)), s('text', { x: P.w - P.right, y, 'text-anchor': 'end' }, num(shown[shown.length - 1].hi)),
      s('text', { x: P.w / 2, y, 'text-anchor': 'middle', class: 'axis-label' }, 'L2 norm'));
    return svg;
  }

  function finish(problems) {
    showProblems(problems);
    setStatus(true);
    document.body.dataset.state = 'ready';
  }

  function setStatus(ok) {
    const t = new Date().toISOString().slice(11, 19);
    document.getElementById('status').textContent = ok
      ? `updated ${t} UTC · refreshes every ${REFRESH_MS / 1000} s`
      : `update failed at ${t} UTC · retrying every ${REFRESH_MS / 1000} s`;
    if (!ok) document.body.dataset.state = 'error';
  }

  function showProblems(problems) {
    const banner = document.getElementById('banner');
    banner.replaceChildren(...problems.map((p) => h('p', {}, p)));
    banner.hidden = problems.length === 0;
  }

  // ---- The model list.

  function renderModels(models, selected) {
    const key = JSON.stringify([models, selected]);
    if (key === state.shownModels) return;
    const box = document.getElementById('models');
    const active = document.activeElement;
    const focused = active && active.classList.contains('model-btn') ? active.dataset.model : null;
    box.replaceChildren(
      models.length
        ? h('ul', { class: 'models' }, models.map((m) => modelItem(m, str(m.name) === selected)))
        : h('p', { class: 'empty' }, 'No models yet.'),
    );
    state.shownModels = key; // only once drawn: a failed drawing is retried
    if (focused !== null) {
      for (const b of box.querySelectorAll('.model-btn')) if (b.dataset.model === focused) b.focus();
    }
  }

  function modelItem(m, selected) {
    const name = str(m.name);
    const versions = (Array.isArray(m.versions) ? m.versions : []).filter((v) => v && typeof v === 'object');
    return h(
      'li',
      { class: selected ? 'model selected' : 'model', 'data-model': name },
      h('button', { type: 'button', class: 'model-btn', 'data-model': name, 'aria-current': selected ? 'true' : null }, name),
      versions.length
        ? h('ul', { class: 'versions', 'aria-label': `versions of ${name}` }, versions.map((v) => versionItem(v, m.current)))
        : h('p', { class: 'muted' }, 'no versions'),
    );
  }

  function versionItem(v, current) {
    const isCurrent = v.current === true || (v.current === undefined && v.version === current);
    return h(
      'li',
      { class: isCurrent ? 'version current' : 'version', 'data-version': str(v.version) },
      h('span', { class: 'ver' }, str(v.version)),
      isCurrent ? h('span', { class: 'badge current' }, 'current') : null,
      h('code', { class: 'digest', title: str(v.digest) }, shortDigest(v.digest)),
      v.created ? h('time', { class: 'created', datetime: str(v.created) }, when(v.created)) : null,
    );
  }

  // ---- The selected model.

  function renderNoModels() {
    const key = 'no models';
    if (state.shownDetail === key) return;
    document.getElementById('detail').replaceChildren(
      h(
        'div',
        { class: 'empty', id: 'no-models' },
        h('h2', {}, 'No models yet'),
        h('p', {}, 'Upload an artifact with ', h('code', {}, 'PUT /v1/models/{name}/versions/{version}'), ' and it appears here.'),
      ),
    );
    state.shownDetail = key;
  }

  // renderDetail draws the model's drift and history and returns the
  // problems to show in the banner.
  function renderDetail(name, stage, driftRes, historyRes) {
    const problems = [];
    let windows = [];
    if (historyRes.status === 'fulfilled') {
      windows = (Array.isArray(historyRes.value.windows) ? historyRes.value.windows : []).filter((w) => w && typeof w === 'object');
    } else if (!isNotFound(historyRes.reason)) {
      problems.push(`Cannot load the history of ${name}: ${historyRes.reason.message}`);
    }
    const drift = driftRes.status === 'fulfilled' ? driftRes.value : null;
    const driftErr = driftRes.status === 'rejected' ? driftRes.reason : null;
    if (driftErr && !isNotFound(driftErr)) problems.push(`Cannot load the drift of ${name}: ${driftErr.message}`);

    const key = JSON.stringify([name, stage, drift, driftErr && [driftErr.status, driftErr.message], windows]);
    if (key === state.shownDetail) return problems;
    state.shownDetail = ''; // set again once drawn: a failed drawing is retried

    const title = h('h2', { class: 'model-title' }, name, h('span', { class: 'muted' }, ` · ${stage} features`));
    const main = document.getElementById('detail');
    if (!drift) {
      const body = isNotFound(driftErr)
        ? h(
            'div',
            { class: 'empty', id: 'no-observations' },
            h('p', {}, `No observations yet for ${name} (stage ${stage}).`),
            h('p', {}, 'Send the raw rows your model receives to ', h('code', { class: 'endpoint', 'data-stage': 'input' }, `POST /v1/models/${name}/observations`),
              ', or the normalized features it is fed to ', h('code', { class: 'endpoint', 'data-stage': 'output' }, `POST /v1/models/${name}/observations?stage=output`),
              ', as ', h('code', {}, '{"rows": [{"feature": value, ...}]}'), '; drift shows once a window has rows.'),
            h('p', { class: 'muted' }, `The service said: ${driftErr.message}`),
          )
        : h('p', { class: 'error-box' }, `Cannot load the drift of ${name}: ${driftErr.message}`);
      main.replaceChildren(title, body);
      state.shownDetail = key;
      return problems;
    }

    const features = (Array.isArray(drift.features) ? drift.features : []).filter((f) => f && typeof f === 'object');
    const plots = drift.plots && typeof drift.plots === 'object' ? drift.plots : {};
    const latest = new Map(); // feature name -> its entry in the newest window holding it
    for (const w of windows) for (const f of Array.isArray(w.features) ? w.features : []) if (f && typeof f === 'object') latest.set(str(f.name), f);

    const training = drift.training && typeof drift.training === 'object' ? drift.training : {};
    const plotOf = (f) => (Object.hasOwn(plots, str(f.name)) ? plots[str(f.name)] : null);
    main.replaceChildren(
      title,
      verdictLine(drift, features),
      anomalyBox(drift),
      ...(features.length
        ? [featureTable(features, latest, training), h('div', { class: 'cards' }, features.map((f, i) => card(f, i, plotOf(f), windows)))]
        : [h('p', { class: 'empty' }, 'The current window has no features.')]),
    );
    state.shownDetail = key;
    return problems;
  }

  // verdict is what a feature's row and card say: a skipped feature
  // (an identifier, a time column without an evenly covered cycle) was
  // not tested, so it is neither ok nor counted as judged.
  function verdict(f) {
    if (f.error) return 'error';
    if (f.skipped) return 'skipped';
    return f.drift === true ? 'drift' : 'ok';
  }

  function verdictLine(d, features) {
    const judged = features.filter((f) => !f.error && !f.skipped);
    const drifting = judged.filter((f) => f.drift === true).length;
    const skipped = features.filter((f) => !f.error && f.skipped).length;
    const w = d.window && typeof d.window === 'object' ? d.window : null;
    const missing = (Array.isArray(d.missing_features) ? d.missing_features : []).map(str);
    const line = h(
      'p',
      { class: 'verdict' },
      d.dataset_drift === true
        ? h('span', { class: 'badge drift big', id: 'dataset-verdict' }, 'DATA SET DRIFT')
        : h('span', { class: 'badge ok big', id: 'dataset-verdict' }, 'no data set drift'),
      h(
        'span',
        {},
        h('strong', { class: drifting ? 'drift' : 'ok' }, `${drifting} of ${judged.length}`),
        ` features drift: share ${num(d.drift_share)}, the data set drifts at ≥ ${num(d.drift_share_threshold)}`,
      ),
      skipped ? h('span', { class: 'muted', id: 'skipped-count' }, `${skipped} skipped (not judged)`) : null,
      w ? h('span', { class: 'muted' }, `window ${when(w.start)} – ${when(w.end)} · ${isNum(w.rows) ? w.rows : '?'} rows`) : null,
    );
    if (!missing.length) return line;
    // Features of the training profile the window lacks come first, as
    // problems: nothing about them was compared.
    return h(
      'div',
      {},
      line,
      h(
        'p',
        { class: 'error-box', id: 'missing-features' },
        h('span', { class: 'badge drift' }, 'MISSING'),
        ` ${missing.length} of the training features ${missing.length === 1 ? 'is' : 'are'} missing from the current window: `,
        missing.map((m, i) => [i ? ', ' : '', h('code', {}, m)]),
      ),
    );
  }

  // anomalyBox lists the window's data anomalies (the rules of
  // `normguard validate`, run on every window): column, code, what
  // changed and the fix; nothing when there are none.
  function anomalyBox(d) {
    const list = (Array.isArray(d.anomalies) ? d.anomalies : []).filter((a) => a && typeof a === 'object');
    if (!list.length) return null;
    return h(
      'div',
      { class: 'anomalies', id: 'anomalies' },
      h('h3', {}, `${list.length} data ${list.length === 1 ? 'anomaly' : 'anomalies'} in this window`),
      h(
        'ul',
        {},
        list.map((a) =>
          h(
            'li',
            { class: a.severity === 'error' ? 'error-box' : 'warn-box', 'data-code': str(a.code) },
            h('code', {}, str(a.column)),
            ' ',
            h('span', { class: `badge ${a.severity === 'error' ? 'drift' : 'skipped'}` }, str(a.code)),
            ' ',
            str(a.description),
            a.fix ? h('span', { class: 'muted' }, ` Fix: ${str(a.fix)}`) : null,
          ),
        ),
      ),
    );
  }

  // rateCell shows a window's rate with the training data's beneath it
  // (tr: the feature's entry of the drift JSON's "training", if any).
  function rateCell(live, tr, key) {
    const train = tr && isNum(tr[key]) ? tr[key] : null;
    return h(
      'td',
      { class: 'n', 'data-rate': key },
      pct(live),
      train === null ? null : h('div', { class: 'muted small training-rate', title: 'in the training data' }, `training ${pct(train)}`),
    );
  }

  function featureTable(features, latest, training) {
    const heads = ['Feature', 'Method', 'Statistic', 'p-value', 'Threshold', 'Effect (floor)', 'Verdict', 'Missing', 'Out\u00a0of range', 'Unseen'];
    const numeric = new Set([2, 3, 4, 7, 8, 9]);
    const table = h(
      'table',
      { class: 'features' },
      h('caption', {}, 'Current window; rates from the latest history window, the training data’s beneath'),
      h('thead', {}, h('tr', {}, heads.map((t, i) => h('th', { scope: 'col', class: numeric.has(i) ? 'n' : null }, t.includes(' ') ? t : h('span', { class: 'nowrap' }, t))))),
      h(
        'tbody',
        {},
        features.map((f, i) => {
          const v = verdict(f);
          const rates = latest.get(str(f.name)) || {};
          const rate = (k) => (isNum(f[k]) ? f[k] : rates[k]);
          const tr = Object.hasOwn(training, str(f.name)) ? training[str(f.name)] : null;
          const e = f.effect && typeof f.effect === 'object' ? f.effect : null;
          return h(
            'tr',
            { class: v, 'data-feature': str(f.name) },
            h(
              'th',
              { scope: 'row' },
              h('button', { type: 'button', class: 'link', 'data-card': `card-${i}` }, str(f.name)),
              f.error ? h('div', { class: 'msg' }, str(f.error)) : null,
              !f.error && f.skipped ? h('div', { class: 'muted small skip' }, `skipped — ${str(f.skipped)}`) : null,
            ),
            h('td', {}, str(f.method) || '—'),
            h('td', { class: 'n' }, num(f.statistic)),
            h('td', { class: 'n' }, num(f.p_value)),
            h('td', { class: 'n' }, num(f.threshold)),
            h('td', {}, e ? [`${num(e.value)} (> ${num(e.threshold)})`, h('div', { class: 'muted small' }, str(e.name))] : '—'),
            h('td', {}, h('span', { class: `badge ${v}` }, v)),
            rateCell(rate('missing_rate'), tr, 'missing_rate'),
            rateCell(rate('out_of_range_rate'), tr, 'out_of_range_rate'),
            h('td', { class: 'n' }, pct(rate('unseen_rate'))),
          );
        }),
      ),
    );
    return h('div', { class: 'table-wrap' }, table);
  }

  function card(f, i, plot, windows) {
    const v = verdict(f);
    const name = str(f.name);
    const count = (x) => (isNum(x) ? x : '?');
    return h(
      'article',
      { class: `card ${v}`, id: `card-${i}`, 'data-feature': name },
      h('header', {}, h('h3', {}, name), h('span', { class: `badge ${v}` }, v)),
      h('p', { class: 'sub' }, `${str(f.type) || '?'} · ${str(f.method) || '?'} · ${count(f.reference_count)} reference / ${count(f.current_count)} current values`),
      f.error ? h('p', { class: 'msg' }, `error: ${str(f.error)}`) : null,
      !f.error && f.skipped ? h('p', { class: 'muted skip' }, `skipped — ${str(f.skipped)}`) : null,
      h('div', { class: 'plots' }, distPlot(name, plot), historyPlot(f, windows)),
    );
  }

  // ---- Plots. Geometry in SVG user units; the SVGs scale to their box.

  const P = { w: 460, left: 50, right: 12, top: 30, inner: 150 };
  // P_FLOOR is the lowest decade of the p-value axis (1e-16, about the
  // smallest p-value float64 arithmetic tells from 0 next to 1).
  const P_FLOOR = -16;

  // niceTicks returns the multiples of a round step (1, 2, 2.5 or 5 times
  // a power of ten) within [lo, hi], for the smallest such step giving at
  // most max ticks, and the step (as report/html.go's niceTicks).
  function niceTicks(lo, hi, max) {
    if (!(hi > lo) || !Number.isFinite(hi - lo)) return [[], 0];
    const eps = 1e-9;
    for (let p = 10 ** Math.floor(Math.log10((hi - lo) / max)); ; p *= 10) {
      for (const m of [1, 2, 2.5, 5]) {
        const step = m * p;
        const first = Math.ceil(lo / step - eps);
        const last = Math.floor(hi / step + eps);
        if (last - first + 1 > max) continue;
        const ticks = [];
        for (let k = first; k <= last; k++) ticks.push(k * step || 0);
        return [ticks, step];
      }
    }
  }

  // tickLabel formats a tick with at most the decimals its step needs.
  function tickLabel(v, step) {
    if (v === 0) return '0';
    const a = Math.abs(v);
    if (a >= 1e7 || a < 1e-4) return String(Number(v.toPrecision(4)));
    let decimals = 0;
    for (let s = step; decimals < 8 && Math.abs(s - Math.round(s)) > 1e-9 * Math.max(1, s); s *= 10) decimals++;
    return String(Number(v.toFixed(decimals)));
  }

  function shareTicks(max) {
    if (!(max > 0) || max > 1) return [0.25, 4];
    for (let p = 1e-6; ; p *= 10) {
      for (const m of [1, 2, 5]) {
        const n = Math.ceil(max / (m * p) - 1e-9);
        if (n <= 5) return [m * p, Math.max(n, 1)];
      }
    }
  }

  function percentTick(v, step) {
    let decimals = 0;
    for (let x = step * 100; decimals < 6 && Math.abs(x - Math.round(x)) > 1e-9 * Math.max(1, x); x *= 10) decimals++;
    return `${(v * 100).toFixed(decimals)}%`;
  }

  function plotRoot(cls, name, height, label, extra) {
    return s(
      'svg',
      { class: cls, 'data-feature': name, ...extra, viewBox: `0 0 ${P.w} ${height}`, role: 'img', 'aria-label': label },
      s('title', {}, label),
    );
  }

  // note turns a plot into a one-line message.
  function note(svg, text) {
    svg.setAttribute('viewBox', `0 0 ${P.w} 40`);
    svg.append(s('text', { class: 'note', x: P.left, y: 24 }, text));
    return svg;
  }

  function yAxisLabel(text) {
    const cy = P.top + P.inner / 2;
    return s('text', { class: 'axis-label', x: 12, y: cy, transform: `rotate(-90 12 ${cy})`, 'text-anchor': 'middle' }, text);
  }

  // legend draws [swatch, label] pairs at the top right; a swatch is a
  // colour (a square) or an SVG element drawn centred on (0, 0).
  function legend(items) {
    let x = P.w - P.right - 95 * items.length;
    return s(
      'g',
      { class: 'legend' },
      items.map(([swatch, label]) => {
        const mark = typeof swatch === 'string'
          ? s('rect', { class: 'legend-swatch', x, y: 8, width: 12, height: 12, fill: swatch })
          : s('g', { class: 'legend-swatch', transform: `translate(${x + 6} 14)` }, swatch);
        const g = [mark, s('text', { x: x + 17, y: 18 }, label)];
        x += 95;
        return g;
      }),
    );
  }

  // distPlot draws the reference and current distributions: overlaid step
  // histograms over numeric bins (on a value axis with round ticks) or
  // grouped bars per category.
  function distPlot(name, p) {
    const ok = p && typeof p === 'object' && Array.isArray(p.ref) && Array.isArray(p.cur);
    const numeric = ok && Array.isArray(p.edges);
    const n = ok ? p.ref.length : 0;
    const valid =
      n > 0 &&
      p.cur.length === n &&
      (numeric ? p.edges.length === n + 1 && p.edges.every(isNum) : Array.isArray(p.labels) && p.labels.length === n);
    const kind = numeric ? 'numeric' : ok ? 'categorical' : 'none';
    const labels = valid && !numeric ? p.labels.map((l) => shorten(l, 14)) : [];
    const longest = Math.max(0, ...labels.map((l) => Array.from(l).length));
    const bottom = numeric || !valid ? 42 : Math.max(42, 26 + Math.round(4.6 * longest));
    const height = P.top + P.inner + bottom;
    const what = numeric ? 'histogram' : 'category shares';
    const svg = plotRoot('plot-dist', name, height, `${name}: reference and current ${what}`, { 'data-kind': kind });
    if (!valid) return note(svg, 'no distribution for this window');

    const [step, ticks] = shareTicks(Math.max(0, ...p.ref.concat(p.cur).filter(isNum)));
    const ymax = step * ticks;
    const axisY = P.top + P.inner;
    const innerW = P.w - P.left - P.right;
    const x = (i) => P.left + (innerW * i) / n;
    const y = (v) => P.top + P.inner * (1 - Math.min(isNum(v) && v > 0 ? v : 0, ymax) / ymax);

    for (let k = 0; k <= ticks; k++) {
      const yy = f1(y(step * k));
      svg.append(
        s('line', { class: 'grid', x1: P.left, x2: P.w - P.right, y1: yy, y2: yy }),
        s('text', { class: 'tick', x: P.left - 6, y: yy, 'text-anchor': 'end', 'dominant-baseline': 'middle' }, percentTick(step * k, step)),
      );
    }
    svg.append(yAxisLabel('share of values'));

    if (numeric) {
      // x is linear in the value, first edge to last: bins of any width
      // sit where their values are.
      const lo = p.edges[0];
      const hi = p.edges[n];
      const xv = (v) => (hi > lo ? P.left + (innerW * (v - lo)) / (hi - lo) : P.left + innerW / 2);
      for (const [shares, color, series] of [[p.ref, COLOR.ref, 'ref'], [p.cur, COLOR.cur, 'cur']]) {
        let d = `M${f1(xv(lo))} ${f1(axisY)}`;
        shares.forEach((v, i) => {
          d += `L${f1(xv(p.edges[i]))} ${f1(y(v))}L${f1(xv(p.edges[i + 1]))} ${f1(y(v))}`;
        });
        d += `L${f1(xv(hi))} ${f1(axisY)}Z`;
        const label = series === 'ref' ? 'reference' : 'current';
        svg.append(
          s('path', { class: `dist-${series}`, d, fill: color, 'fill-opacity': 0.25, stroke: color, 'stroke-width': 1.8, 'stroke-linejoin': 'round' },
            s('title', {}, `${label}: ${shares.map(pct).join(', ')}`)),
        );
      }
      const [xticks, xstep] = niceTicks(lo, hi, 6);
      for (const v of xticks) {
        const xx = xv(v);
        const anchor = xx - P.left < 14 ? 'start' : P.w - P.right - xx < 14 ? 'end' : 'middle';
        svg.append(
          s('line', { class: 'axis', x1: f1(xx), x2: f1(xx), y1: axisY, y2: axisY + 4 }),
          s('text', { class: 'tick xtick', x: f1(xx), y: axisY + 17, 'text-anchor': anchor }, tickLabel(v, xstep)),
        );
      }
      svg.append(s('text', { class: 'axis-label', x: P.left + innerW / 2, y: axisY + 36, 'text-anchor': 'middle' }, 'value'));
    } else {
      const gw = innerW / n;
      const bw = gw * 0.4;
      p.labels.forEach((label, i) => {
        [[p.ref[i], COLOR.ref, 'ref', 'reference'], [p.cur[i], COLOR.cur, 'cur', 'current']].forEach(([v, color, series, word], j) => {
          const top = y(v);
          svg.append(
            s('rect', { class: `bar-${series}`, x: f1(x(i) + gw * 0.1 + bw * j), y: f1(top), width: f1(bw), height: f1(axisY - top), fill: color },
              s('title', {}, `${str(label)}, ${word}: ${pct(v)}`)),
          );
        });
        const cx = f1(x(i) + gw / 2);
        svg.append(
          s('text', { class: 'tick', x: cx, y: axisY + 14, 'text-anchor': 'end', transform: `rotate(-40 ${cx} ${axisY + 14})` },
            s('title', {}, str(label)), labels[i]),
        );
      });
    }
    svg.append(
      s('line', { class: 'axis', x1: P.left, x2: P.w - P.right, y1: axisY, y2: axisY }),
      legend([[COLOR.ref, 'reference'], [COLOR.cur, 'current']]),
    );
    return svg;
  }

  // historyPlot draws, per history window, the number the verdict compares
  // with the threshold: the p-value (log scale, drift below the line) for
  // tests, the statistic (drift above the line) for distances.
  function historyPlot(f, windows) {
    const name = str(f.name);
    const entries = [];
    windows.forEach((w, i) => {
      const e = (Array.isArray(w.features) ? w.features : []).find((x) => x && str(x.name) === name);
      if (e) entries.push({ i, w, e });
    });
    const usesP = isNum(f.p_value) || entries.some(({ e }) => isNum(e.p_value));
    const metric = usesP ? 'p_value' : 'statistic';
    const word = usesP ? 'p-value' : 'statistic';
    let threshold = f.threshold;
    for (const { e } of entries) if (isNum(e.threshold)) threshold = e.threshold;

    const bottom = 42;
    const height = P.top + P.inner + bottom;
    const rule = usesP ? 'drift below the threshold' : 'drift above the threshold';
    const svg = plotRoot('plot-history', name, height, `${name}: ${word} per window (${rule})`, { 'data-metric': metric });
    const pts = entries.filter(({ e }) => isNum(e[metric]));
    if (pts.length === 0) return note(svg, windows.length ? `no ${word} in the past windows` : 'no past windows yet');

    // x: window end times when all parse, else window order.
    const times = pts.map(({ w }) => Date.parse(w.end));
    const byTime = times.every(isNum);
    const xs = byTime ? times : pts.map(({ i }) => i);
    const x0 = Math.min(...xs);
    const x1 = Math.max(...xs);
    const innerW = P.w - P.left - P.right - 10;
    const x = (v) => (x1 === x0 ? P.left + 5 + innerW / 2 : P.left + 5 + (innerW * (v - x0)) / (x1 - x0));

    const vals = pts.map(({ e }) => e[metric]);
    let y;
    let ticks;
    if (usesP) {
      // The axis reaches down to the smallest p-value drawn. A p-value of
      // 0 (it underflowed) or below 1e-16 sits on a floor at 1e-16, whose
      // tick reads "<1e-16".
      const positive = vals.concat(isNum(threshold) ? [threshold] : []).filter((v) => v > 0);
      const smallest = Math.floor(Math.log10(Math.min(...positive, 1)));
      const floored = vals.some((v) => !(v > 0) || Math.log10(v) < P_FLOOR);
      const lo = floored ? P_FLOOR : Math.max(P_FLOOR, Math.min(-2, smallest));
      const clampLog = (v) => (v > 0 ? Math.min(0, Math.max(lo, Math.log10(v))) : lo);
      y = (v) => P.top + (P.inner * -clampLog(v)) / -lo;
      const every = Math.ceil(-lo / 5);
      const label = (k) => (k === 0 ? '1' : k >= -2 ? String(10 ** k) : `1e${k}`);
      ticks = [];
      // Every `every` decades from 1 down, then the bottom one (a tick too
      // close above it is left out).
      for (let k = 0; k > lo; k -= every) if (k - lo >= every || k === 0) ticks.push([10 ** k, label(k)]);
      ticks.push([10 ** lo, floored ? `<${label(lo)}` : label(lo)]);
      svg.setAttribute('data-axis-min', floored ? `< 1e${lo}` : `1e${lo}`);
    } else {
      const all = vals.concat(isNum(threshold) ? [threshold] : []);
      const lo = Math.min(0, ...all);
      let hi = Math.max(...all);
      if (!(hi > lo)) hi = lo + 1;
      const raw = (hi - lo) / 4;
      const mag = 10 ** Math.floor(Math.log10(raw));
      const step = [1, 2, 5, 10].map((m) => m * mag).find((v) => v >= raw - 1e-12);
      const top = Math.ceil(hi / step - 1e-9) * step;
      const bottomV = Math.floor(lo / step + 1e-9) * step;
      y = (v) => P.top + (P.inner * (top - v)) / (top - bottomV);
      ticks = [];
      for (let v = bottomV; v <= top + step / 2; v += step) ticks.push([v, num(Number(v.toPrecision(6)))]);
    }

    const axisY = P.top + P.inner;
    for (const [v, label] of ticks) {
      const yy = f1(y(v));
      svg.append(
        s('line', { class: 'grid', x1: P.left, x2: P.w - P.right, y1: yy, y2: yy }),
        s('text', { class: 'tick', x: P.left - 6, y: yy, 'text-anchor': 'end', 'dominant-baseline': 'middle' }, label),
      );
    }
    svg.append(yAxisLabel(usesP ? 'p-value (log)' : 'statistic'));

    if (isNum(threshold)) {
      const ty = f1(y(threshold));
      svg.append(
        s('line', { class: 'threshold-line', x1: P.left, x2: P.w - P.right, y1: ty, y2: ty, stroke: COLOR.drift, 'stroke-dasharray': '6 4', 'stroke-width': 1.5 }),
        // Above the line, or below it when the line is at the top (the legend's place).
        s('text', { class: 'threshold-label', x: P.w - P.right, y: f1(y(threshold) < P.top + 12 ? y(threshold) + 13 : y(threshold) - 5), 'text-anchor': 'end' }, `threshold ${num(threshold)}`),
      );
    }

    // The line breaks where a window has no number for the feature.
    let d = '';
    let prev = -2;
    const idx = new Map(entries.map(({ i }, k) => [i, k]));
    pts.forEach(({ i, e }, k) => {
      const k0 = idx.get(i);
      d += `${k0 === prev + 1 ? 'L' : 'M'}${f1(x(xs[k]))} ${f1(y(e[metric]))}`;
      prev = k0;
    });
    svg.append(s('path', { class: 'history-line', d, fill: 'none', stroke: COLOR.point, 'stroke-width': 1.8, 'stroke-linejoin': 'round' }));
    pts.forEach(({ w, e }, k) => {
      const drifting = e.drift === true;
      const rows = isNum(w.rows) ? `, ${w.rows} rows` : '';
      const mark = pointMark(drifting, f1(x(xs[k])), f1(y(e[metric])), 'point');
      mark.append(s('title', {}, `${when(w.end)}: ${word} ${num(e[metric])}${drifting ? ', drift' : ''}${rows}`));
      svg.append(mark);
    });

    // First and last window on the x axis (and the middle one when room).
    const marks = pts.length > 2 ? [0, Math.floor((pts.length - 1) / 2), pts.length - 1] : [...pts.keys()];
    for (const k of new Set(marks)) {
      const anchor = pts.length === 1 ? 'middle' : k === 0 ? 'start' : k === pts.length - 1 ? 'end' : 'middle';
      svg.append(s('text', { class: 'tick', x: f1(x(xs[k])), y: axisY + 17, 'text-anchor': anchor }, byTime ? shortTime(xs[k]) : `#${pts[k].i + 1}`));
    }
    svg.append(
      s('line', { class: 'axis', x1: P.left, x2: P.w - P.right, y1: axisY, y2: axisY }),
      s('text', { class: 'axis-label', x: P.left + (P.w - P.left - P.right) / 2, y: axisY + 36, 'text-anchor': 'middle' }, byTime ? 'window end (UTC)' : 'window'),
      legend([[pointMark(false, 0, 0, 'legend-point'), 'no drift'], [pointMark(true, 0, 0, 'legend-point'), 'drift']]),
    );
    return svg;
  }

  // pointMark is a history point of class cls: hollow blue without drift,
  // filled red and larger with drift (told apart by fill as well as colour).
  function pointMark(drifting, cx, cy, cls) {
    return s('circle', {
      class: `${cls} ${drifting ? 'drift' : 'ok'}`,
      cx, cy, r: drifting ? 5 : 4,
      fill: drifting ? COLOR.drift : '#fff', stroke: drifting ? COLOR.drift : COLOR.point, 'stroke-width': 2,
    });
  }

  // ---- Start.

  function start() {
    readHash();
    document.getElementById('models').addEventListener('click', (ev) => {
      const b = ev.target.closest('.model-btn');
      if (b) select(b.dataset.model, state.stage);
    });
    for (const b of document.querySelectorAll('.stage-btn')) {
      b.addEventListener('click', () => select(state.model, b.dataset.stage));
    }
    document.getElementById('detail').addEventListener('click', (ev) => {
      const b = ev.target.closest('button[data-card]');
      const target = b && document.getElementById(b.dataset.card);
      if (target) target.scrollIntoView({ block: 'start' });
    });
    window.addEventListener('hashchange', () => {
      readHash();
      refresh();
    });
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) refresh();
    });
    setInterval(() => {
      if (!document.hidden) refresh();
    }, REFRESH_MS);
    refresh();
  }

  start();
})();
