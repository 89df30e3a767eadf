// The layer view: every field of every layer, and the bytes in hex with the selected field lit.
// Field names stay as Wireshark shows them; the words around them follow the page's language.
import { t, eventWords, reasonWords, layerWords } from './i18n.js';

function esc(s) {
  return String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
}

export function showDetail(box, d) {
  const time = (d.t / 1e9).toFixed(6);
  const what = d.event === 'drop' ? eventWords(d) : `${eventWords(d)}${d.reason ? ' (' + reasonWords(d.reason) + ')' : ''}`;
  let html = `<h3>#${d.i} ${esc(t('detail.seconds', { t: time }))} ${esc(d.node)}${d.iface ? ':' + esc(d.iface) : ''} ${esc(what)}`
    + `</h3><div class="summary">${esc(d.summary)}</div>`;
  if (d.error) html += `<div class="note">${esc(t('detail.stopped', { error: d.error }))}</div>`;
  d.layers.forEach((layer, li) => {
    html += `<details class="layer" open data-layer="${esc(layer.name)}"><summary data-start="${layer.start}" data-end="${layer.end}"`
      + ` title="${esc(t('detail.bytes', { a: layer.start, b: layer.end - 1 }))}">${esc(layerWords(layer.name))}</summary>`;
    layer.fields.forEach((f, fi) => {
      html += `<div class="field" data-l="${li}" data-f="${fi}" data-start="${f.start}" data-end="${f.end}">`
        + `<span class="k">${esc(f.name)}</span><span class="v">${esc(f.value)}</span></div>`;
    });
    html += '</details>';
  });
  if (d.hex) {
    let hex = '';
    for (let off = 0; off < d.hex.length / 2; off += 16) {
      hex += off.toString(16).padStart(4, '0') + '  ';
      let ascii = '';
      const end = Math.min(off + 16, d.hex.length / 2);
      for (let k = off; k < end; k++) {
        const byte = parseInt(d.hex.substr(k * 2, 2), 16);
        hex += `<b data-o="${k}">${d.hex.substr(k * 2, 2)}</b>` + (k % 8 === 7 ? '  ' : ' ');
        ascii += byte >= 32 && byte < 127 ? esc(String.fromCharCode(byte)) : '.';
      }
      hex += '   '.repeat(off + 16 - end) + (end - off < 8 ? ' ' : '') + ' ' + ascii + '\n';
    }
    html += `<div id="hex">${hex}</div>`;
  } else if (!d.layers.length) {
    html += `<p class="note">${esc(t('detail.nopacket'))}</p>`;
  }
  box.innerHTML = html;
  // Pointing at a layer's name lights all its bytes; clicking a field lights just that field's.
  box.querySelectorAll('.layer summary').forEach((el) => el.addEventListener('mouseenter', () => {
    if (!box.querySelector('.field.selected')) highlight(box, Number(el.dataset.start), Number(el.dataset.end));
  }));
  box.querySelectorAll('.field').forEach((el) => el.addEventListener('click', () => {
    box.querySelectorAll('.field.selected').forEach((x) => x.classList.remove('selected'));
    el.classList.add('selected');
    highlight(box, Number(el.dataset.start), Number(el.dataset.end));
  }));
}

export function highlight(box, start, end) {
  box.querySelectorAll('#hex b.hl').forEach((b) => b.classList.remove('hl'));
  for (let o = start; o < end; o++) {
    const b = box.querySelector(`#hex b[data-o="${o}"]`);
    if (b) b.classList.add('hl');
  }
}
