// The guided tour (minternet web --tour, or the Tour button): the demo's stages played on the map,
// as Packet Tracer's simulation mode does. The server sends one stage at a time (its recorded
// events, the packets it marks, its narration in both languages); the page plays the stage and
// stops on each marked packet, mid-link, with its narration beside the map and its layers open,
// until "next". "back" goes to the previous packet (or the previous stage's last), "replay" plays
// the stage again from its start.
import { t, lang, onLang } from './i18n.js';

const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));

export class Tour {
  // app: { st, reset(), addEvents(list), select(i), setPlaying(on), send(msg) }
  constructor(app) {
    this.app = app;
    this.stage = null;   // the server's tour message for the stage on show
    this.k = -1;         // the marked packet we stopped at (-1: not yet at the first)
    this.ended = false;  // played to the stage's end
    this.afterLoad = null;
    $('tourPanel').hidden = false;
    $('tourNext').addEventListener('click', () => this.next());
    $('tourBack').addEventListener('click', () => this.back());
    $('tourReplay').addEventListener('click', () => this.replay());
    $('tourStage').addEventListener('change', () => this.go(Number($('tourStage').value)));
    onLang(() => this.render());
  }

  start() { this.go(1); }

  go(n, then = null) { this.afterLoad = then; this.app.send({ cmd: 'tour', n }); }

  // A stage arrived: its events replace the page's, and it plays to its first marked packet.
  load(msg) {
    const { st } = this.app;
    this.stage = msg;
    this.app.reset();
    this.app.addEvents(msg.events);
    st.serverNow = msg.end;
    st.following = false;
    const then = this.afterLoad; this.afterLoad = null;
    if (then === 'last' && msg.focuses.length) { this.show(msg.focuses.length - 1); return; }
    this.replay();
  }

  // When the dot of marked packet k is halfway along its link (or its event's time, if it has no frame).
  when(k) {
    const f = this.stage.focuses[k];
    const e = this.app.st.events[f.show];
    return e.fl && e.fl.length === 3 ? Math.round((e.t + e.fl[2]) / 2) : e.t;
  }

  // The playhead stops at the next marked packet; returns the time it may go to this frame.
  clamp(from, to) {
    if (!this.stage || this.ended) return to;
    const k = this.k + 1;
    if (k < this.stage.focuses.length) {
      const at = this.when(k);
      if (to >= at) { this.show(k); return at; }
    } else if (to >= this.stage.end) {
      this.ended = true; this.app.setPlaying(false); this.render(); return this.stage.end;
    }
    return to;
  }

  show(k) {
    const { st } = this.app;
    this.k = k;
    this.ended = false;
    this.app.setPlaying(false);
    st.T = this.when(k);
    st.focusI = this.stage.focuses[k].show;
    this.app.select(this.stage.focuses[k].show);  // its layers open in the detail view
    this.render();
  }

  next() {
    if (!this.stage) return;
    if (this.ended || (this.k >= this.stage.focuses.length - 1 && this.app.st.T >= this.stage.end)) {
      if (this.stage.n < this.stage.count) this.go(this.stage.n + 1);
      return;
    }
    this.app.st.focusI = -1;
    this.render(true);
    this.app.setPlaying(true);
  }

  back() {
    if (!this.stage) return;
    if (this.k > 0) this.show(this.k - 1);
    else if (this.stage.n > 1) this.go(this.stage.n - 1, 'last');
    else this.replay();
  }

  replay() {
    const { st } = this.app;
    this.k = -1; this.ended = false; st.focusI = -1;
    st.T = this.stage.start;
    this.render(true);
    this.app.setPlaying(true);
  }

  render(playing = false) {
    const s = this.stage;
    if (!s) return;
    const sel = $('tourStage');
    sel.innerHTML = '';
    s.titles.forEach((title, j) => sel.add(new Option(`${j + 1}. ${title[lang] || title.en}`, String(j + 1))));
    sel.value = String(s.n);
    $('tourProgress').textContent = t('tour.progress', { n: s.n, count: s.count });
    let html = '';
    if (s.intro && this.k < 0) html += `<p class="intro">${esc(s.intro[lang] || s.intro.en)}</p>`;
    if (this.k >= 0 && !this.ended) {
      const f = s.focuses[this.k];
      html += `<p class="focus" data-k="${this.k}">${esc(f.text[lang] || f.text.en)}</p>`;
      html += `<p class="note">${esc(t('tour.packet', { k: this.k + 1, count: s.focuses.length }))}</p>`;
    } else if (this.ended) {
      html += `<p class="note">${esc(t(s.n < s.count ? 'tour.ended' : 'tour.last'))}</p>`;
    } else if (playing || this.app.st.wantPlay) {
      html += `<p class="note">${esc(t(s.focuses.length ? 'tour.playing' : 'tour.nofocus'))}</p>`;
    }
    $('tourText').innerHTML = html;
    const lines = s.lines[lang];
    $('tourLines').hidden = !lines;
    if (lines) $('tourLinesText').textContent = lines.join('\n').replace(/^\n+/, '');
    $('tourBack').disabled = s.n === 1 && this.k <= 0;
    $('tourNext').disabled = s.n === s.count && this.ended;
  }
}
