// A virtualised list: however many events there are, the DOM holds only the rows in view.
export const ROW = 20;

export class VirtualList {
  constructor(box, spacer, render, onClick) {
    this.box = box; this.spacer = spacer; this.render = render; this.onClick = onClick;
    this.items = [];          // event indexes that pass the filters, in order
    this.rows = new Map();    // position in items -> row element
    this.follow = true;       // keep the last row in view while new events arrive
    this.selected = -1;
    box.addEventListener('scroll', () => {
      this.follow = box.scrollTop + box.clientHeight >= box.scrollHeight - ROW;
      this.draw();
    });
    spacer.addEventListener('click', (e) => {
      const row = e.target.closest('.row');
      if (row) this.onClick(Number(row.dataset.i));
    });
  }
  setItems(items) { this.items = items; this.refresh(); }
  append(idx) { this.items.push(idx); }
  refresh() {
    this.spacer.style.height = `${this.items.length * ROW}px`;
    for (const el of this.rows.values()) el.remove();
    this.rows.clear();
    if (this.follow) this.box.scrollTop = this.box.scrollHeight;
    this.draw();
  }
  grew() {
    this.spacer.style.height = `${this.items.length * ROW}px`;
    if (this.follow) this.box.scrollTop = this.box.scrollHeight;
    this.draw();
  }
  scrollTo(i) {
    const pos = this.position(i);
    if (pos < 0) return;
    const top = pos * ROW;
    if (top < this.box.scrollTop || top > this.box.scrollTop + this.box.clientHeight - ROW) {
      this.follow = false;
      this.box.scrollTop = Math.max(0, top - this.box.clientHeight / 2);
    }
    this.draw();
  }
  position(i) {  // binary search: items are sorted
    let lo = 0, hi = this.items.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.items[mid] === i) return mid;
      if (this.items[mid] < i) lo = mid + 1; else hi = mid - 1;
    }
    return -1;
  }
  draw() {
    const first = Math.max(0, Math.floor(this.box.scrollTop / ROW) - 5);
    const last = Math.min(this.items.length, Math.ceil((this.box.scrollTop + this.box.clientHeight) / ROW) + 5);
    for (const [pos, el] of this.rows) {
      if (pos < first || pos >= last) { el.remove(); this.rows.delete(pos); }
    }
    for (let pos = first; pos < last; pos++) {
      let el = this.rows.get(pos);
      if (!el) {
        el = document.createElement('div');
        el.style.top = `${pos * ROW}px`;
        this.spacer.appendChild(el);
        this.rows.set(pos, el);
      }
      this.render(el, this.items[pos]);
    }
  }
}
