// The live view: draws the network, animates each frame along its link in virtual time, lists
// the events, and sends the user's commands to the server over one WebSocket.
import { VirtualList } from './list.js';
import { showDetail } from './detail.js';
import { t, tMsg, applyDom, onLang, setLang, lang, eventWords, reasonWords } from './i18n.js';
import { Tour } from './tour.js';

const TOUR = location.pathname.replace(/\/+$/, '') === '/tour';  // the guided tour's page
let tour = null;
import { TcpPlot } from './tcpplot.js';

const PROTOS = ['arp', 'icmp', 'udp', 'dns', 'tcp', 'http', 'other'];
const COLOURS = { arp: '#d4a000', icmp: '#2f80ed', udp: '#9b51e0', dns: '#27ae60', tcp: '#eb5757', http: '#f2994a' };
const SVGNS = 'http://www.w3.org/2000/svg';
const $ = (id) => document.getElementById(id);

const st = {
  events: [],        // every event the server sent, by index
  flights: [],       // frames on links: {t0, t1, link, dir, proto, i}, in order of t0
  drops: [],         // drop events, in time order
  maxFlight: 0,      // the longest flight, to bound the search for the ones in the air
  topo: null, nodes: new Map(), links: [],
  T: 0,              // the playhead, ns of virtual time
  serverNow: 0, serverPlaying: false, speed: 0.1,
  wantPlay: false, following: true, mode: 'live',
  filter: { protos: new Set(PROTOS), host: '', kind: '' },
  selected: -1, features: {}, req: 0,
};
window.mv = st;  // for the tests and for the curious, in the console

let ws;
function send(msg) { if (ws && ws.readyState === 1) ws.send(JSON.stringify(msg)); }

function status(text, error = false) {
  const el = $('status'); el.textContent = text; el.classList.toggle('error', error);
}

// -- the network ------------------------------------------------------------------------------------
function el(name, attrs, parent) {
  const e = document.createElementNS(SVGNS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

function drawTopology(topo) {
  st.topo = topo;
  $('netname').textContent = topo.name;
  st.nodes = new Map(topo.nodes.map((n) => [n.name, n]));
  st.links = topo.links;
  const gl = $('links'), gn = $('nodes');
  gl.innerHTML = ''; gn.innerHTML = '';
  for (const l of topo.links) {
    const a = st.nodes.get(l.a), b = st.nodes.get(l.b);
    const g = el('g', { class: `link${l.up ? '' : ' down'}`, 'data-link': l.i }, gl);
    el('line', { class: 'wire', x1: a.x, y1: a.y, x2: b.x, y2: b.y }, g);
    el('line', { class: 'hit', x1: a.x, y1: a.y, x2: b.x, y2: b.y }, g);
    const lab = el('text', { x: (a.x + b.x) / 2 + 4, y: (a.y + b.y) / 2 - 4 }, g);
    lab.textContent = linkLabel(l) + (l.up ? '' : t('down.suffix'));
    const title = el('title', {}, g); title.textContent = `${l.name}: ${linkDescribe(l)}`;
    g.addEventListener('click', () => { $('linkSel').value = String(l.i); markSelection(); });
  }
  for (const n of topo.nodes) {
    const g = el('g', { class: `node ${n.kind}${n.up ? '' : ' down'}`, 'data-node': n.name,
      transform: `translate(${n.x},${n.y})` }, gn);
    if (n.kind === 'router') el('circle', { class: 'shape', r: 16 }, g);
    else if (n.kind === 'switch') el('rect', { class: 'shape', x: -14, y: -10, width: 28, height: 20 }, g);
    else el('rect', { class: 'shape', x: -18, y: -12, width: 36, height: 24, rx: 5 }, g);
    const label = el('text', { y: 4 }, g); label.textContent = n.kind === 'router' ? 'R' : n.kind === 'switch' ? 'SW' : 'H';
    const name = el('text', { y: 28 }, g); name.textContent = n.name + (n.up ? '' : t('down.suffix'));
    if (topo.addresses) n.addresses.slice(0, 3).forEach((a, k) => { const t = el('text', { class: 'addr', y: 39 + 10 * k }, g); t.textContent = a; });
    const title = el('title', {}, g); title.textContent = `${n.name} (${t('kind.' + n.kind)})\n${n.addresses.join('\n')}`;
    g.addEventListener('click', () => {
      $('nodeSel').value = n.name;
      markSelection();
    });
  }
  fillSelect($('runHost'), topo.nodes.filter((n) => n.kind !== 'switch').map((n) => [n.name, n.name]), true);
  fillSelect($('nodeSel'), topo.nodes.map((n) => [n.name, `${n.name}${n.up ? '' : t('down.suffix')}`]), true);
  fillSelect($('linkSel'), topo.links.map((l) => [String(l.i), `${l.name}${l.up ? '' : t('down.suffix')}`]), true);
  const hf = $('hostFilter'); const keep = hf.value;
  hf.innerHTML = '';
  hf.add(new Option(t('filter.allNodes'), ''));
  for (const n of topo.nodes) hf.add(new Option(n.name, n.name));
  hf.value = keep;
  markSelection();
}

// A link's label on the map: its delay, and its loss when there is any (each way when they differ).
function linkLabel(l) {
  const one = (k) => `${l.delay[k] / 1e6} ms` + (l.loss[k] ? `, ${t('link.loss', { pct: +(l.loss[k] * 100).toPrecision(6) })}` : '');
  return one(0) + (l.delay[1] !== l.delay[0] || l.loss[1] !== l.loss[0] ? ` / ${one(1)}` : '');
}

function linkDescribe(l) {
  const words = (parts) => parts.map(([k, v]) => (k === 'delay' || k === 'rate' ? v : t(`param.${k}`, { v }))).join(', ');
  const [ab, ba] = l.params.map(words);
  return ab + (ab !== ba ? ` / ${t('link.back')}: ${ba}` : '');
}

function fillSelect(sel, options, keep) {
  const old = sel.value;
  sel.innerHTML = '';
  for (const [v, text] of options) sel.add(new Option(text, v));
  if (keep && [...sel.options].some((o) => o.value === old)) sel.value = old;
}

function markSelection() {
  document.querySelectorAll('.node').forEach((g) => g.classList.toggle('selected', g.dataset.node === $('nodeSel').value));
  document.querySelectorAll('.link').forEach((g) => g.classList.toggle('selected', g.dataset.link === $('linkSel').value));
}

// -- events ---------------------------------------------------------------------------------------
function protoOf(e) { return COLOURS[e.proto] ? e.proto : 'other'; }

// Each hop makes several events (frame sent, received, IP forward...): the kind filter keeps one level.
const KINDS = {
  link: (e) => e.layer === 'link' || e.layer === 'arp',
  ip: (e) => !['link', 'arp'].includes(e.layer),
  drop: (e) => e.event === 'drop',
  app: (e) => e.layer === 'app',
};

function passes(e) {
  return st.filter.protos.has(protoOf(e)) && (!st.filter.host || e.node === st.filter.host)
    && (!st.filter.kind || KINDS[st.filter.kind](e));
}

function addEvents(list) {
  let grew = false;
  for (const e of list) {
    if (e.i < st.events.length) {  // already have it; a late update (a frame found lost) may change it
      st.events[e.i] = e;
      continue;
    }
    st.events.push(e);
    if (e.fl && (e.event === 'send' || e.event === 'recv')) {
      // [link, direction, arrival] from the send; a replayed trace without switch sends gives
      // [link, direction, arrival, departure] on the arrival instead.
      const t0 = e.fl.length > 3 ? e.fl[3] : e.t;
      const f = { t0, t1: Math.max(e.fl[2], t0 + 1), link: e.fl[0], dir: e.fl[1], proto: protoOf(e), i: e.i };
      const last = st.flights[st.flights.length - 1];
      if (!last || last.t0 <= t0) st.flights.push(f);
      else st.flights.splice(firstFlightFrom(t0 + 1), 0, f);  // keep them in order of departure
      st.maxFlight = Math.max(st.maxFlight, f.t1 - f.t0);
    }
    if (e.event === 'drop') st.drops.push(e);
    if (passes(e)) { list_.append(e.i); grew = true; }
  }
  if (grew) list_.grew();
  if (list.length) tcpPlot.refresh();
  showCount();
}

function showCount() { $('count').textContent = t('count', { n: list_.items.length, total: st.events.length }); }

function applyFilters() {
  const items = [];
  for (const e of st.events) if (passes(e)) items.push(e.i);
  list_.setItems(items);
  showCount();
}

function fmt(t) { return (t / 1e9).toFixed(6); }

function renderRow(row, i) {
  const e = st.events[i];
  row.className = `row p-${protoOf(e)}${e.event === 'drop' ? ' drop' : ''}${i === st.selected ? ' selected' : ''}${e.t > st.T ? ' future' : ''}`;
  row.dataset.i = i;
  row.title = e.summary;  // the whole line, where the column cuts it short
  const where = e.node + (e.iface ? ':' + e.iface : '');
  const what = eventWords(e);
  row.innerHTML = '';
  for (const [cls, text] of [['t', fmt(e.t)], ['n', where], ['e', what], ['s', e.summary + (e.lost ? t('row.lost', { reason: reasonWords(e.lost) }) : '')]]) {
    const s = document.createElement('span'); s.className = cls; s.textContent = text; row.appendChild(s);
  }
}

const list_ = new VirtualList($('list'), $('spacer'), renderRow, (i) => select(i));

const tcpPlot = new TcpPlot($('tcpplot'));
window.tcpPlot = tcpPlot;  // for the tests

function select(i) {
  st.selected = i;
  tcpPlot.select(st.events[i]);
  list_.draw();
  list_.scrollTo(i);
  send({ cmd: 'detail', i });
}
st.select = select;  // the tour and the tests choose an event as a click would

// -- the animation --------------------------------------------------------------------------------
const pool = [];
function dot(k) {
  if (!pool[k]) {
    const c = el('circle', { class: 'packet', r: 6 }, $('packets'));
    c.addEventListener('click', () => select(Number(c.dataset.i)));
    pool[k] = c;
  }
  return pool[k];
}

function firstFlightFrom(t) {  // binary search over t0
  let lo = 0, hi = st.flights.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (st.flights[mid].t0 < t) lo = mid + 1; else hi = mid; }
  return lo;
}

function inFlight(T) {
  for (let j = firstFlightFrom(T - st.maxFlight); j < st.flights.length; j++) {
    const f = st.flights[j];
    if (f.t0 > T) break;
    if (T < f.t1) return true;
  }
  return false;
}

function nextEventAfter(T) {  // events are in time order within a stage
  let lo = 0, hi = st.events.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (st.events[mid].t <= T) lo = mid + 1; else hi = mid; }
  return lo < st.events.length ? st.events[lo].t : Infinity;
}

// Forget every event (the tour's next stage brings its own).
function resetEvents() {
  st.events = []; st.flights = []; st.drops = []; st.maxFlight = 0; st.selected = -1; st.focusI = -1;
  list_.follow = false;
  list_.setItems([]);
  showCount();
}

function drawPackets() {
  const T = st.T;
  let k = 0;
  for (let j = firstFlightFrom(T - st.maxFlight); j < st.flights.length && k < 600; j++) {
    const f = st.flights[j];
    if (f.t0 > T) break;
    if (T >= f.t1 || st.events[f.i].lost) continue;
    const l = st.links[f.link]; if (!l) continue;
    const a = st.nodes.get(f.dir === 0 ? l.a : l.b), b = st.nodes.get(f.dir === 0 ? l.b : l.a);
    const x = (T - f.t0) / (f.t1 - f.t0);
    const c = dot(k++);
    c.setAttribute('cx', a.x + (b.x - a.x) * x);
    c.setAttribute('cy', a.y + (b.y - a.y) * x);
    c.setAttribute('fill', COLOURS[f.proto] || '#888');
    c.dataset.i = f.i; c.dataset.proto = f.proto;
    c.classList.toggle('focus', f.i === st.focusI);
    c.setAttribute('r', f.i === st.focusI ? 9 : 6);
    c.style.display = '';
  }
  for (let j = k; j < pool.length; j++) pool[j].style.display = 'none';
  $('packets').dataset.count = k;
}

function drawDrops() {
  // A drop stays on screen for a moment of wall time (or 2 ms of virtual time when paused).
  const window_ = Math.max(0.8 * st.speed * 1e9, 2e6);
  const g = $('drops'); g.innerHTML = '';
  let n = 0;
  for (let j = st.drops.length - 1; j >= 0 && n < 50; j--) {
    const e = st.drops[j];
    if (e.t > st.T) continue;
    if (st.T - e.t > window_) break;
    const node = st.nodes.get(e.node); if (!node) continue;
    let x = node.x, y = node.y;
    if (e.fl) {  // lost on a link: mark it a little way along that link
      const l = st.links[e.fl[0]];
      const other = st.nodes.get(e.fl[1] === 0 ? l.b : l.a);
      if (other) { x += (other.x - x) * 0.3; y += (other.y - y) * 0.3; }
    }
    const m = el('g', { class: 'drop', 'data-i': e.i, transform: `translate(${x},${y})` }, g);
    el('path', { d: 'M-7,-7L7,7M7,-7L-7,7' }, m);
    const label = el('text', { x: 9, y: -8 }, m); label.textContent = reasonWords(e.reason || 'drop');
    n++;
  }
  g.dataset.count = n;
}

let lastFrame = performance.now();
let lastRowT = -1;
function frame(now) {
  const dt = Math.min((now - lastFrame) / 1000, 0.25);
  lastFrame = now;
  if (st.wantPlay && st.mode === 'tour') {
    let to = Math.min(st.T + dt * st.speed * 1e9, st.serverNow);
    if (!inFlight(st.T)) to = Math.max(to, Math.min(nextEventAfter(st.T), st.serverNow));  // skip the quiet gaps
    st.T = tour.clamp(st.T, to);
  } else if (st.wantPlay) {
    st.T = Math.min(st.T + dt * st.speed * 1e9, st.serverNow);
    // Play on the server only once the playhead has caught up with what was already recorded.
    if (st.T >= st.serverNow && !st.serverPlaying && st.mode === 'live') { st.serverPlaying = true; send({ cmd: 'play' }); }
    if (st.mode === 'replay' && !st.serverPlaying && st.T >= st.serverNow) { st.serverPlaying = true; send({ cmd: 'play' }); }
  } else if (st.following) {
    st.T = st.serverNow;
  }
  $('clock').textContent = t('clock', { t: fmt(st.T) }) + (st.T < st.serverNow ? t('clock.recorded', { t: fmt(st.serverNow) }) : '');
  drawPackets();
  drawDrops();
  tcpPlot.tick(st.T);
  if (Math.abs(st.T - lastRowT) > 1e5) { lastRowT = st.T; list_.draw(); }
  requestAnimationFrame(frame);
}

// -- controls -------------------------------------------------------------------------------------
function setPlaying(on) {
  st.wantPlay = on;
  $('play').textContent = t(on ? 'btn.pause' : 'btn.play');
  if (!on) { st.following = false; if (st.serverPlaying) { st.serverPlaying = false; send({ cmd: 'pause' }); } }
  else if (st.T >= st.serverNow && st.mode !== 'tour') { st.serverPlaying = true; send({ cmd: 'play' }); }
}

function stepForward() {
  setPlaying(false);
  const next = st.events.find((e) => e.t > st.T);
  if (next) st.T = next.t;
  else { st.pendingStep = true; send({ cmd: 'step' }); }
}

function stepBack() {
  setPlaying(false);
  let prev = 0;
  for (const e of st.events) { if (e.t >= st.T) break; prev = e.t; }
  st.T = prev;
}

function jump() {
  const text = $('jumpTo').value.trim();
  const m = /^([0-9]*\.?[0-9]+)\s*(s|ms|us|µs|ns)?$/.exec(text);
  const scale = { s: 1e9, ms: 1e6, us: 1e3, 'µs': 1e3, ns: 1 };
  if (!m) { status(t('jump.bad', { text }), true); return; }
  const when = Math.round(parseFloat(m[1]) * scale[m[2] || 's']);
  setPlaying(false);
  if (when > st.serverNow) { send({ cmd: 'run_to', t: when }); st.jumpTarget = when; }
  st.T = Math.min(when, st.serverNow);
}

function speedFromSlider() {
  st.speed = 10 ** Number($('speed').value);
  $('speedText').textContent = st.speed >= 1 ? `${st.speed.toFixed(1)}x` : `1/${(1 / st.speed).toFixed(0)}x`;
  send({ cmd: 'speed', value: st.speed });
}

function wire() {
  $('play').addEventListener('click', () => setPlaying(!st.wantPlay));
  $('step').addEventListener('click', stepForward);
  $('back').addEventListener('click', stepBack);
  $('jump').addEventListener('click', jump);
  $('jumpTo').addEventListener('keydown', (e) => { if (e.key === 'Enter') jump(); });
  $('live').addEventListener('click', () => { st.following = true; st.T = st.serverNow; list_.follow = true; list_.grew(); });
  $('speed').addEventListener('input', speedFromSlider);
  $('runGo').addEventListener('click', () => send({ cmd: 'run', app: $('runApp').value, host: $('runHost').value, target: $('runTarget').value }));
  $('nodeDown').addEventListener('click', () => send({ cmd: 'node', name: $('nodeSel').value, up: false }));
  $('nodeUp').addEventListener('click', () => send({ cmd: 'node', name: $('nodeSel').value, up: true }));
  $('linkDown').addEventListener('click', () => send({ cmd: 'link', link: Number($('linkSel').value), up: false }));
  $('linkUp').addEventListener('click', () => send({ cmd: 'link', link: Number($('linkSel').value), up: true }));
  $('linkSet').addEventListener('click', () => send({ cmd: 'set_link', link: Number($('linkSel').value), loss: $('linkLoss').value, delay: $('linkDelay').value }));
  // A sensible target for each program, unless the user typed one of their own.
  const TARGETS = { ping: 'server', traceroute: 'server', transfer: 'server', dig: 'www.example.com', curl: 'www.example.com/' };
  $('runApp').addEventListener('change', () => {
    if (Object.values(TARGETS).includes($('runTarget').value) || !$('runTarget').value) {
      $('runTarget').value = TARGETS[$('runApp').value] || '';
    }
  });
  $('nodeSel').addEventListener('change', markSelection);
  $('linkSel').addEventListener('change', markSelection);
  $('hostFilter').addEventListener('change', () => { st.filter.host = $('hostFilter').value; applyFilters(); });
  $('kindFilter').addEventListener('change', () => { st.filter.kind = $('kindFilter').value; applyFilters(); });
  $('expDiagram').addEventListener('click', () => window.open('/export/diagram.svg', '_blank'));
  document.addEventListener('keydown', (e) => {
    // Space plays and pauses, the arrows step; not while typing in a field.
    if (e.target.closest('input, select, textarea') || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === ' ' && e.target.closest('button')) return;  // the focused button's own click
    if (e.key === ' ') { e.preventDefault(); setPlaying(!st.wantPlay); }
    else if (e.key === 'ArrowRight') { e.preventDefault(); stepForward(); }
    else if (e.key === 'ArrowLeft') { e.preventDefault(); stepBack(); }
  });
  const pf = $('protoFilters');
  for (const p of PROTOS) {
    const label = document.createElement('label');
    label.innerHTML = `<input type="checkbox" checked data-proto="${p}"> <span class="sw" style="background:${COLOURS[p] || '#888'}"></span><span class="pn"></span>`;
    label.dataset.i18nTitle = 'filter.proto.title';
    label.querySelector('input').addEventListener('change', (e) => {
      if (e.target.checked) st.filter.protos.add(p); else st.filter.protos.delete(p);
      applyFilters();
    });
    pf.appendChild(label);
  }
  $('legend').innerHTML = PROTOS.filter((p) => COLOURS[p]).map((p) => `<span><span class="sw" style="background:${COLOURS[p]}"></span>${p.toUpperCase()}</span>`).join('')
    + '<span class="note" data-i18n="legend.note"></span>';
  const langSel = $('lang');
  langSel.value = lang;
  langSel.addEventListener('change', () => setLang(langSel.value));
  onLang(relabel);
  relabel();
}

// Everything the page wrote in words, again in the language just chosen.
function relabel() {
  applyDom();
  $('lang').value = lang;
  document.querySelectorAll('#protoFilters label').forEach((l) => {
    const p = l.querySelector('input').dataset.proto;
    l.querySelector('.pn').textContent = p === 'other' ? t('proto.other') : p.toUpperCase();
  });
  $('play').textContent = t(st.wantPlay ? 'btn.pause' : 'btn.play');
  $('mode').textContent = t(`mode.${st.mode}`);
  tourLink();
  if (st.topo) drawTopology(st.topo);
  if (st.features.actions !== undefined) applyFeatures(st.features);
  if (st.detail) showDetail($('detail'), st.detail);
  if (st.lastStatus) status(tMsg(st.lastStatus), st.lastStatus.error);
  showCount();
  list_.draw();
}

// The Tour button goes to the tour, and in the tour back to the live view, in the same language.
function tourLink() {
  const a = $('tourLink');
  a.href = `${TOUR ? '/' : '/tour'}?lang=${lang}`;
  a.dataset.i18n = TOUR ? 'btn.liveview' : 'btn.tour';
  a.dataset.i18nTitle = TOUR ? 'btn.liveview.title' : 'btn.tour.title';
  a.textContent = t(a.dataset.i18n); a.title = t(a.dataset.i18nTitle);
}

function applyFeatures(f) {
  st.features = f;
  for (const id of ['runBox', 'nodeBox', 'linkBox']) $(id).disabled = !f.actions;
  const curl = $('runApp').querySelector('option[value="curl"]');
  curl.disabled = !f.curl;
  curl.textContent = f.curl ? 'curl' : t('curl.missing');
  $('expDiagram').disabled = !f.diagram;
  $('diagramNote').textContent = f.diagram ? '' : t('diagram.missing');
  if (!f.actions) $('actions').title = t('actions.replay');
}

// -- the connection -------------------------------------------------------------------------------
function connect() {
  ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${TOUR ? '/tour' : ''}/ws`);
  ws.onmessage = (m) => {
    const msg = JSON.parse(m.data);
    switch (msg.type) {
      case 'hello':
        st.mode = msg.mode; $('mode').textContent = t(`mode.${msg.mode}`);
        document.body.classList.toggle('tour', msg.mode === 'tour');
        if (msg.mode === 'tour' && !tour) tour = new Tour({ st, reset: resetEvents, addEvents, select, setPlaying, send });
        drawTopology(msg.topology); applyFeatures(msg.features); st.serverNow = msg.now;
        speedFromSlider();
        // The server sends the stage on show to a page that joins; with none yet, the tour starts.
        if (tour && !tour.stage && !msg.features.stage) tour.start();
        break;
      case 'events':
        addEvents(msg.events); st.serverNow = msg.now;
        if (st.jumpTarget !== undefined && st.serverNow >= st.jumpTarget) { st.T = st.jumpTarget; st.jumpTarget = undefined; }
        break;
      case 'state':
        st.serverNow = msg.now; st.serverPlaying = msg.playing;
        // The server answers a step with its events, then this state: the playhead goes there.
        if (st.pendingStep) { st.pendingStep = false; st.T = st.serverNow; }
        if (st.mode === 'replay' && !msg.playing && st.wantPlay && st.T >= st.serverNow) setPlaying(false);
        break;
      case 'topology': drawTopology(msg.topology); break;
      case 'tour': if (tour) tour.load(msg); break;
      case 'detail': st.detail = msg; showDetail($('detail'), msg); break;
      case 'status': st.lastStatus = msg; status(tMsg(msg)); break;
      case 'error':
        st.lastStatus = { ...msg, error: true };
        status(tMsg(msg), true);
        if (msg.stopped) setPlaying(false);  // or the page would ask to play again at once
        break;
      default: break;
    }
  };
  ws.onclose = () => { st.lastStatus = { key: 'ws.closed', error: true }; status(t('ws.closed'), true); };
}

wire();
connect();
requestAnimationFrame(frame);
