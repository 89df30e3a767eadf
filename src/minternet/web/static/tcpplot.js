import { t, tMsg, onLang } from './i18n.js';
// The TCP panel: the time-sequence graph (segments, retransmissions, ACK, receive window, SACK,
// losses), cwnd and RTT of the connection the selected packet belongs to, from the server's
// /tcpplot.json (observe/tcpplot.py, the same series as `minternet plot`). A line marks the playhead.

// Every word the panel shows, in one place (for the page's message catalogue).
// Its words come from the live view's catalogue (i18n.json, keys tp.*).
export const TEXT = new Proxy({}, { get: (_, k) => t(`tp.${String(k)}`) });
const C = { data: '#1f5fbf', retransmission: '#d62728', ack: '#2ca02c', window: '#8c6d00', sack: '#9467bd',
  lost: '#111', cwnd: '#1f5fbf', ssthresh: '#ff7f0e', rtt: '#17becf', srtt: '#1f5fbf', head: '#333' };
const SVGNS = 'http://www.w3.org/2000/svg';
const W = 640, L = 56, R = 10, PW = W - L - R;
const PANELS = [{ top: 24, h: 170 }, { top: 226, h: 60 }, { top: 314, h: 50 }];
const H = 392;

function el(name, attrs, parent, text) {
  const e = document.createElementNS(SVGNS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}

function ticks(lo, hi, n) {
  if (hi <= lo) hi = lo + 1;
  const raw = (hi - lo) / n, mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * step; v += step) out.push(v);
  return out;
}
function num(v) { return Math.abs(v) >= 1e6 ? `${+(v / 1e6).toFixed(2)}M` : Math.abs(v) >= 1e3 ? `${+(v / 1e3).toFixed(1)}k` : `${+v.toFixed(2)}`; }

export class TcpPlot {
  constructor(root) {
    this.root = root;
    this.series = null;
    this.key = null;      // {i} or {conn}: what to ask the server for
    this.timer = null;
    this.T = 0;
    root.innerHTML = '';
    const head = document.createElement('div'); head.className = 'tp-head'; root.appendChild(head);
    this.title = document.createElement('span'); this.title.className = 'tp-title'; head.appendChild(this.title);
    this.pick = document.createElement('select'); this.pick.id = 'tpConn'; this.pick.setAttribute('aria-label', TEXT.conn);
    head.appendChild(this.pick);
    this.pick.addEventListener('change', () => this.show({ conn: this.pick.value }));
    const close = document.createElement('button'); close.id = 'tpClose'; close.textContent = TEXT.close;
    close.addEventListener('click', () => { this.root.hidden = true; this.key = null; });
    head.appendChild(close);
    this.svg = el('svg', { id: 'tpSvg', viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'xMidYMid meet' }, root);
    this.note = document.createElement('div'); this.note.className = 'note'; root.appendChild(this.note);
    this.note.textContent = TEXT.hint;
    onLang(() => {  // the page's switch: the panel's words follow
      this.pick.setAttribute('aria-label', TEXT.conn); close.textContent = TEXT.close;
      if (!this.series) this.note.textContent = TEXT.hint; else this.draw();
    });
  }

  // A row of the event list was selected: plot its connection if it is TCP.
  select(e) {
    if (!e) return;
    if (e.layer === 'tcp') {
      const m = /^(\S+:\d+) > (\S+:\d+)/.exec(e.summary || '');
      if (m) this.show({ conn: `${m[1]}-${m[2]}` });
    } else if (e.proto === 'tcp' || e.proto === 'http') {
      this.show({ i: e.i });
    }
  }

  show(key) { this.key = key; this.root.hidden = false; this.fetch(); }

  // New events arrived: fetch again, at most once a second, while the panel is open.
  refresh() {
    if (!this.key || this.root.hidden || this.timer) return;
    this.timer = setTimeout(() => { this.timer = null; this.fetch(); }, 1000);
  }

  async fetch() {
    const key = this.key;
    if (!key) return;
    const q = key.i !== undefined ? `i=${key.i}` : `conn=${encodeURIComponent(key.conn)}`;
    let r;
    try { r = await fetch(`/tcpplot.json?${q}`); } catch (err) { this.note.textContent = String(err); return; }
    if (!r.ok) {
      let msg; try { msg = tMsg((await r.json()).error); } catch (err) { msg = `HTTP ${r.status}`; }
      this.note.textContent = msg; return;
    }
    const s = await r.json();
    this.key = { conn: s.conn };  // follow the connection, whatever the list shows next
    this.series = s;
    this.note.textContent = '';
    this.draw();
  }

  draw() {
    const s = this.series, svg = this.svg;
    svg.innerHTML = '';
    svg.dataset.conn = s.conn;
    this.title.textContent = `${TEXT.title} ${s.sender} → ${s.receiver} (${TEXT.seenAt} ${s.vantage})`;
    this.pick.innerHTML = '';
    for (const c of s.connections) this.pick.add(new Option(c, c));
    this.pick.value = s.conn;
    const times = [...s.segments.map((x) => x.t), ...s.acks.map((a) => a.t), ...s.lost.map((x) => x.t)];
    let t0 = Math.min(...times), t1 = Math.max(...times);
    if (!Number.isFinite(t0)) { t0 = 0; t1 = 1; }
    if (t1 <= t0) t1 = t0 + 1;
    const X = (t) => L + (t - t0) / (t1 - t0) * PW;
    const dataMax = Math.max(1, ...s.segments.map((x) => x.end), ...s.acks.map((a) => a.ack));
    const winMax = Math.max(0, ...s.acks.map((a) => a.ack + a.window));
    const cwMax = Math.max(1, ...s.cc.map((c) => c.cwnd)) * 1.15;
    const rttMax = Math.max(1, ...s.rtt.map((r) => r.rtt_ms), ...s.cc.map((c) => c.srtt_ms)) * 1.15;
    const ranges = [Math.max(dataMax, Math.min(winMax, 3 * dataMax)) * 1.05, cwMax, rttMax];  // a far window is cut
    const labels = [TEXT.seq, TEXT.cwnd, TEXT.rtt];
    const Ys = PANELS.map((p, k) => (v) => p.top + p.h - v / ranges[k] * p.h);
    PANELS.forEach((p, k) => {
      el('rect', { x: L, y: p.top, width: PW, height: p.h, fill: '#fff', stroke: '#aaa' }, svg);
      el('clipPath', { id: `tpc${k}` }, svg).appendChild(el('rect', { x: L, y: p.top, width: PW, height: p.h }));
      for (const v of ticks(0, ranges[k], k ? 2 : 5)) {
        const y = Ys[k](v);
        el('line', { x1: L, x2: L + PW, y1: y, y2: y, stroke: '#eee' }, svg);
        el('text', { x: L - 4, y: y + 3, 'text-anchor': 'end', class: 'tp-tick' }, svg, num(v));
      }
      el('text', { x: 4, y: p.top - 6, class: 'tp-axis' }, svg, labels[k]);
      for (const v of ticks(t0 / 1e9, t1 / 1e9, 6)) {
        const x = X(v * 1e9);
        el('line', { x1: x, x2: x, y1: p.top, y2: p.top + p.h, stroke: '#eee' }, svg);
        if (k === PANELS.length - 1) el('text', { x, y: p.top + p.h + 12, 'text-anchor': 'middle', class: 'tp-tick' }, svg, `${+v.toFixed(3)}`);
      }
    });
    const last = PANELS[PANELS.length - 1];
    el('text', { x: L + PW, y: last.top + last.h + 24, 'text-anchor': 'end', class: 'tp-axis' }, svg, TEXT.time);
    const g = (k) => el('g', { 'clip-path': `url(#tpc${k})` }, svg);
    const step = (pts, Y) => {
      const out = [];
      pts.forEach(([t, v], j) => { if (j) out.push(`${X(t)},${Y(pts[j - 1][1])}`); out.push(`${X(t)},${Y(v)}`); });
      if (pts.length) out.push(`${X(t1)},${Y(pts[pts.length - 1][1])}`);
      return out.join(' ');
    };
    const line = (parent, cls, pts, Y, colour, dash) => el('polyline', { class: cls, fill: 'none', stroke: colour,
      'stroke-width': 1.3, 'stroke-dasharray': dash || '', points: step(pts, Y), 'data-count': pts.length }, parent);
    // 1. time-sequence
    const g0 = g(0), Y0 = Ys[0];
    line(g0, 'tp-window', s.acks.map((a) => [a.t, a.ack + a.window]), Y0, C.window);
    line(g0, 'tp-ack', s.acks.map((a) => [a.t, a.ack]), Y0, C.ack);
    let d = '';
    let n = 0;
    for (const a of s.acks) for (const [l, r] of a.sack) { d += `M${X(a.t) + 1},${Y0(l)}V${Y0(r)}`; n++; }
    el('path', { class: 'tp-sack', d, stroke: C.sack, 'stroke-width': 2, 'data-count': n }, g0);
    for (const kind of ['data', 'retransmission']) {
      const segs = s.segments.filter((x) => x.retransmission === (kind === 'retransmission'));
      d = segs.map((x) => `M${X(x.t)},${Y0(x.seq)}V${Y0(x.end)}`).join('');
      el('path', { class: `tp-${kind}`, d, stroke: C[kind], 'stroke-width': kind === 'data' ? 1.5 : 2.2, 'data-count': segs.length }, g0);
    }
    d = s.lost.map((x) => { const y = Y0((x.seq + x.end) / 2), xx = X(x.t); return `M${xx - 3},${y - 3}l6,6m0,-6l-6,6`; }).join('');
    el('path', { class: 'tp-lost', d, stroke: C.lost, 'stroke-width': 1.5, 'data-count': s.lost.length }, g0);
    // 2. cwnd, 3. RTT
    line(g(1), 'tp-cwnd', s.cc.map((c) => [c.t, c.cwnd]), Ys[1], C.cwnd);
    line(g(1), 'tp-ssthresh', s.cc.filter((c) => c.ssthresh !== null).map((c) => [c.t, c.ssthresh]), Ys[1], C.ssthresh, '5 3');
    const g2 = g(2);
    line(g2, 'tp-srtt', s.cc.filter((c) => c.srtt_ms > 0).map((c) => [c.t, c.srtt_ms]), Ys[2], C.srtt);
    const gr = el('g', { class: 'tp-rtt', 'data-count': s.rtt.length }, g2);
    for (const r of s.rtt) el('circle', { cx: X(r.t), cy: Ys[2](r.rtt_ms), r: 1.8, fill: C.rtt }, gr);
    // legend
    let lx = L;
    for (const [k, text] of [['data', TEXT.data], ['retransmission', TEXT.retransmission], ['ack', TEXT.ack],
      ['window', TEXT.window], ['sack', TEXT.sack], ['lost', TEXT.lost]]) {
      el('line', { x1: lx, x2: lx + 12, y1: 8, y2: 8, stroke: C[k], 'stroke-width': 3 }, svg);
      el('text', { x: lx + 15, y: 11, class: 'tp-legend' }, svg, text);
      lx += 22 + 5.5 * text.length;
    }
    el('text', { x: L + PW, y: PANELS[1].top - 6, 'text-anchor': 'end', class: 'tp-legend', fill: C.ssthresh }, svg, `-- ${TEXT.ssthresh}`);
    el('text', { x: L + PW, y: PANELS[2].top - 6, 'text-anchor': 'end', class: 'tp-legend' }, svg, `• ${TEXT.sample}, — ${TEXT.srtt}`);
    this.X = X;
    this.head = el('line', { id: 'tpHead', y1: PANELS[0].top, y2: last.top + last.h, stroke: C.head, 'stroke-dasharray': '2 2' }, svg);
    this.tick(this.T);
  }

  // The playhead moved.
  tick(T) {
    this.T = T;
    if (!this.head || this.root.hidden) return;
    const x = Math.max(L, Math.min(L + PW, this.X(T)));
    this.head.setAttribute('x1', x); this.head.setAttribute('x2', x);
  }
}
