import { createHash } from 'node:crypto';

/**
 * The API docs page: one HTML document with its style and a small renderer of the merged
 * OpenAPI document inline. Nothing is loaded from elsewhere (clusters often have no internet);
 * the page's own Content-Security-Policy allows exactly these inline blocks by hash.
 */
const STYLE = `
:root { color-scheme: light dark; --fg: #1d232a; --muted: #5b6670; --line: #d8dee4; --bg: #fff; --code: #f3f5f7; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e9ec; --muted: #9aa5ae; --line: #33404b; --bg: #14191e; --code: #1d252c; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { padding: 24px 32px 8px; border-bottom: 1px solid var(--line); }
header h1 { margin: 0 0 4px; font-size: 24px; }
header p { margin: 4px 0 12px; color: var(--muted); }
main { padding: 8px 32px 48px; max-width: 1100px; }
h2 { margin: 32px 0 8px; font-size: 19px; text-transform: capitalize; }
details.op { border: 1px solid var(--line); border-radius: 6px; margin: 8px 0; }
details.op > summary { cursor: pointer; padding: 8px 12px; display: flex; gap: 12px; align-items: baseline; list-style: none; }
details.op[open] > summary { border-bottom: 1px solid var(--line); }
.method { font: 600 12px/1 ui-monospace, monospace; text-transform: uppercase; padding: 4px 6px; border-radius: 4px; color: #fff; min-width: 60px; text-align: center; }
.get { background: #1f6feb; } .post { background: #1a7f37; } .put { background: #9a6700; } .patch { background: #8250df; } .delete { background: #cf222e; } .head, .options, .trace { background: #57606a; }
.path { font: 14px ui-monospace, monospace; }
.summary { color: var(--muted); }
.lock { margin-left: auto; font-size: 12px; color: var(--muted); white-space: nowrap; }
.body { padding: 8px 16px 16px; }
h4 { margin: 16px 0 6px; font-size: 14px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
code, .schema { font: 13px/1.45 ui-monospace, monospace; }
.schema { background: var(--code); border-radius: 4px; padding: 8px 12px; overflow-x: auto; white-space: pre; }
.muted { color: var(--muted); }
.warn { color: #cf222e; }
`;

const SCRIPT = `
(function () {
  'use strict';
  var root = document.getElementById('api');
  var meta = document.getElementById('meta');
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function refName(ref) { return String(ref).split('/').pop(); }
  function resolve(doc, schema) {
    var seen = 0;
    while (schema && schema.$ref && seen < 20) {
      var parts = String(schema.$ref).replace(/^#\\//, '').split('/');
      var target = doc;
      for (var i = 0; i < parts.length && target; i++) target = target[parts[i]];
      schema = target; seen++;
    }
    return schema || {};
  }
  function typeOf(schema) {
    if (schema.$ref) return refName(schema.$ref);
    var type = Array.isArray(schema.type) ? schema.type.join(' | ') : schema.type;
    if (type === 'array' && schema.items) return typeOf(schema.items) + '[]';
    if (schema.enum) return (type ? type + ' ' : '') + '(' + schema.enum.map(function (v) { return JSON.stringify(v); }).join(', ') + ')';
    if (schema.format) return (type ? type + ' ' : '') + '<' + schema.format + '>';
    return type || (schema.oneOf ? 'oneOf' : schema.anyOf ? 'anyOf' : schema.allOf ? 'allOf' : 'any');
  }
  function constraints(schema) {
    var out = [];
    ['minLength', 'maxLength', 'minimum', 'maximum', 'minItems', 'maxItems', 'pattern', 'default'].forEach(function (k) {
      if (schema[k] !== undefined) out.push(k + '=' + JSON.stringify(schema[k]));
    });
    return out.length ? '  (' + out.join(', ') + ')' : '';
  }
  function lines(doc, schema, indent, depth, out) {
    var pad = new Array(indent + 1).join('  ');
    var s = resolve(doc, schema);
    var variants = s.oneOf || s.anyOf || s.allOf;
    if (variants && depth < 6) {
      out.push(pad + (s.oneOf ? 'one of:' : s.anyOf ? 'any of:' : 'all of:'));
      variants.forEach(function (v) { out.push(pad + '- ' + typeOf(v)); lines(doc, v, indent + 1, depth + 1, out); });
      return;
    }
    if (s.properties && depth < 6) {
      var required = s.required || [];
      Object.keys(s.properties).forEach(function (name) {
        var p = s.properties[name];
        var rp = resolve(doc, p);
        out.push(pad + name + (required.indexOf(name) >= 0 ? '' : '?') + ': ' + typeOf(p) + constraints(rp) + (rp.description ? '  // ' + rp.description : ''));
        var inner = rp.type === 'array' ? resolve(doc, rp.items || {}) : rp;
        if (inner.properties || inner.oneOf || inner.anyOf || inner.allOf) lines(doc, inner, indent + 1, depth + 1, out);
      });
      if (s.additionalProperties === false) out.push(pad + '(no other fields)');
      return;
    }
    if (s.type === 'array' && s.items && depth < 6) { lines(doc, s.items, indent, depth + 1, out); return; }
    if (indent === 0) out.push(typeOf(schema) + constraints(s));
  }
  function schemaBlock(doc, schema) {
    var out = [];
    if (schema.$ref) out.push(refName(schema.$ref) + ':');
    lines(doc, schema, schema.$ref ? 1 : 0, 0, out);
    return el('div', 'schema', out.join('\\n'));
  }
  function content(doc, body, parent) {
    var types = body && body.content ? Object.keys(body.content) : [];
    types.forEach(function (type) {
      var media = body.content[type];
      if (types.length > 1 || type !== 'application/json') parent.appendChild(el('div', 'muted', type));
      if (media && media.schema) parent.appendChild(schemaBlock(doc, media.schema));
    });
  }
  function operation(doc, path, method, op) {
    var box = el('details', 'op');
    var head = el('summary');
    head.appendChild(el('span', 'method ' + method, method));
    head.appendChild(el('span', 'path', path));
    head.appendChild(el('span', 'summary', op.summary || ''));
    if (op.security && op.security.length) head.appendChild(el('span', 'lock', 'bearer token'));
    box.appendChild(head);
    var body = el('div', 'body');
    if (op.description) body.appendChild(el('p', null, op.description));
    var params = (op.parameters || []).map(function (p) { return resolve(doc, p); });
    if (params.length) {
      body.appendChild(el('h4', null, 'Parameters'));
      var table = el('table');
      var hr = el('tr');
      ['name', 'in', 'type', 'required', 'description'].forEach(function (h) { hr.appendChild(el('th', null, h)); });
      table.appendChild(hr);
      params.forEach(function (p) {
        var row = el('tr');
        row.appendChild(el('td', 'path', p.name));
        row.appendChild(el('td', null, p.in));
        row.appendChild(el('td', null, p.schema ? typeOf(p.schema) + constraints(resolve(doc, p.schema)) : ''));
        row.appendChild(el('td', null, p.required ? 'yes' : 'no'));
        row.appendChild(el('td', null, p.description || (p.schema && resolve(doc, p.schema).description) || ''));
        table.appendChild(row);
      });
      body.appendChild(table);
    }
    if (op.requestBody) {
      body.appendChild(el('h4', null, 'Request body'));
      content(doc, resolve(doc, op.requestBody), body);
    }
    var responses = op.responses || {};
    if (Object.keys(responses).length) {
      body.appendChild(el('h4', null, 'Responses'));
      Object.keys(responses).forEach(function (status) {
        var r = resolve(doc, responses[status]);
        var line = el('div');
        line.appendChild(el('code', null, status));
        line.appendChild(document.createTextNode(' ' + (r.description || '')));
        body.appendChild(line);
        content(doc, r, body);
      });
    }
    box.appendChild(body);
    return box;
  }
  function render(doc) {
    var services = doc['x-galion-services'] || {};
    var missing = Object.keys(services).filter(function (k) { return services[k] !== 'included'; });
    meta.textContent = (doc.info && doc.info.description ? doc.info.description + ' ' : '') + 'OpenAPI ' + doc.openapi + ', version ' + (doc.info ? doc.info.version : '') + '.';
    if (missing.length) meta.appendChild(el('span', 'warn', ' Not available right now: ' + missing.join(', ') + '.'));
    var groups = {};
    var order = (doc.tags || []).map(function (t) { return t.name; });
    Object.keys(doc.paths || {}).forEach(function (path) {
      var item = doc.paths[path];
      ['get', 'post', 'put', 'patch', 'delete', 'head', 'options', 'trace'].forEach(function (method) {
        var op = item[method];
        if (!op) return;
        var tag = (op.tags && op.tags[0]) || 'other';
        if (order.indexOf(tag) < 0) order.push(tag);
        (groups[tag] = groups[tag] || []).push(operation(doc, path, method, op));
      });
    });
    root.textContent = '';
    order.forEach(function (tag) {
      if (!groups[tag]) return;
      var section = el('section');
      section.appendChild(el('h2', null, tag));
      groups[tag].forEach(function (node) { section.appendChild(node); });
      root.appendChild(section);
    });
  }
  fetch('/api/v1/openapi.json', { headers: { accept: 'application/json' } })
    .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
    .then(render)
    .catch(function (e) { root.textContent = ''; root.appendChild(el('p', 'warn', 'Could not load the API description: ' + e.message)); });
})();
`;

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

export const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Galion API</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>Galion API</h1>
<p id="meta">Loading the API description…</p>
<p class="muted">Machine-readable: <a href="/api/v1/openapi.json">/api/v1/openapi.json</a> (OpenAPI 3.1). Routes marked “bearer token” need <code>Authorization: Bearer &lt;access token&gt;</code> from <code>POST /api/v1/auth/login</code>.</p>
</header>
<main id="api"></main>
<script>${SCRIPT}</script>
</body>
</html>
`;

/** Allows this page's inline style and script (by hash), requests to this origin, nothing else. */
export const DOCS_CSP = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
