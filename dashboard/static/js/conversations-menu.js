/* The app menu's editor (自定义菜单): rows appear as they are used (Add, Remove), each row shows the
 * fields its type needs, byte counters follow the typing ("12 / 16 bytes", in UTF-8 as WeCom counts),
 * and the preview draws WeCom's menu bar with a group's pop-up list, names cut with … where WeCom's
 * app cuts them. Without this script the form still works: 3 buttons × 5 sub-buttons, all shown,
 * empty rows left out by the server. */
(function () {
  'use strict';

  const form = document.getElementById('menu-form');
  const dataNode = document.getElementById('menu-editor-data');
  if (!form || !dataNode) return;
  const { limits, needs, columns } = JSON.parse(dataNode.textContent);
  const TEXT = ['name', 'key', 'url', 'appid', 'pagepath'];
  const DEFAULT_TYPE = 'click';
  // Characters WeCom's app draws two columns wide: CJK, kana, hangul, full-width forms, emoji.
  const WIDE = /[\u1100-\u115f\u2e80-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{1f300}-\u{1faff}\u{20000}-\u{3fffd}]/u;
  const box = form.querySelector('[data-buttons]');
  const addButton = form.querySelector('[data-add-button]');
  const bar = document.querySelector('#menu-preview [data-bar]');
  let open = -1; // the preview's open pop-up: its button's place on the bar

  const bytes = (value) => new TextEncoder().encode(value || '').length;
  const buttons = () => Array.from(box.querySelectorAll(':scope > [data-button]'));
  const subs = (row) => Array.from(row.querySelectorAll('[data-sub]'));
  const own = (row, name) => row.querySelector('[data-own]').querySelector(`[data-name="${name}"]`);
  const filled = (row) => TEXT.some((name) => own(row, name).value.trim() !== '');
  const used = (row) => filled(row) || subs(row).some(filled);
  const isGroup = (row) => own(row, 'type').value === '';
  const controls = (row) => Array.from(row.querySelectorAll('input:not([type=hidden]), select'));
  const flagged = (row) => row.querySelector('.is-invalid, [data-problem]') !== null;

  /* --- which rows and fields show ------------------------------------------------------------ */

  // Rows 0 .. the last one used (or flagged) show, at least one: the shown rows stay contiguous.
  function showUsed(rows, isUsed) {
    let last = 0;
    rows.forEach((row, index) => { if (isUsed(row) || flagged(row)) last = index; });
    rows.forEach((row, index) => { row.hidden = index > last; });
  }

  function syncFields(row) {
    const wanted = needs[own(row, 'type').value] || [];
    row.querySelector('[data-own]').querySelectorAll('[data-field]').forEach((field) => {
      field.hidden = !wanted.includes(field.dataset.field);
    });
    const fieldset = row.querySelector('[data-subs]');
    if (fieldset) fieldset.hidden = !(isGroup(row) || subs(row).some(filled));
  }

  function syncAdders() {
    const full = !buttons().some((row) => row.hidden);
    addButton.disabled = full;
    addButton.title = full ? _('WeCom allows at most %(max)s buttons.', { max: limits.max_buttons }) : '';
    buttons().forEach((row) => {
      const adder = row.querySelector('[data-add-sub]');
      adder.disabled = !subs(row).some((sub) => sub.hidden);
      adder.title = adder.disabled
        ? _('WeCom allows at most %(max)s sub-buttons.', { max: limits.max_sub_buttons }) : '';
    });
  }

  /* --- add and remove ------------------------------------------------------------------------ */

  function add(rows) {
    const next = rows.find((row) => row.hidden);
    if (!next) return;
    next.hidden = false;
    refresh();
    own(next, 'name').focus();
  }

  // Removing a row moves the rows after it up by one (the server reads rows in their order).
  function remove(rows, row) {
    for (let i = rows.indexOf(row); i < rows.length - 1; i += 1) copy(rows[i + 1], rows[i]);
    clear(rows[rows.length - 1]);
    const shown = rows.filter((r) => !r.hidden);
    if (shown.length > 1) shown[shown.length - 1].hidden = true;
    rows.forEach((r) => {
      r.querySelectorAll('.is-invalid').forEach((node) => node.classList.remove('is-invalid'));
      r.querySelectorAll('[data-problem]').forEach((node) => node.remove());
    });
  }

  function copy(from, to) {
    const source = controls(from);
    controls(to).forEach((control, index) => { control.value = source[index].value; });
    const hidden = subs(from).map((sub) => sub.hidden);
    subs(to).forEach((sub, index) => { sub.hidden = hidden[index]; });
  }

  function clear(row) {
    controls(row).forEach((control) => { control.value = control.tagName === 'SELECT' ? DEFAULT_TYPE : ''; });
    subs(row).forEach((sub, index) => { sub.hidden = index > 0; });
  }

  /* --- byte counters ------------------------------------------------------------------------- */

  function count(input) {
    const counter = form.querySelector(`[data-counter="${input.id}"]`);
    if (!counter) return;
    const n = bytes(input.value), max = Number(input.dataset.bytes);
    counter.textContent = _('%(n)s / %(max)s bytes', { n, max });
    counter.classList.toggle('text-danger', n > max);
  }

  /* --- the preview ---------------------------------------------------------------------------- */

  function cut(name, width) {
    let used = 0, out = '';
    for (const ch of name) {
      used += WIDE.test(ch) ? 2 : 1;
      if (used > width) return `${out}…`;
      out += ch;
    }
    return out;
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function onBar() {
    return buttons().filter((row) => !row.hidden && used(row));
  }

  function drawPreview() {
    const rows = onBar();
    bar.replaceChildren(el('span', 'menu-kbd d-flex align-items-center justify-content-center text-secondary', '⌨'));
    if (!rows.length) {
      bar.append(el('span', 'small text-secondary align-self-center px-2', _('No buttons yet')));
      return;
    }
    if (open >= rows.length || (open >= 0 && !isGroup(rows[open]) && !subs(rows[open]).some(filled))) open = -1;
    rows.forEach((row, index) => bar.append(cell(row, index)));
  }

  function cell(row, index) {
    const name = own(row, 'name').value.trim();
    const items = subs(row).filter(filled).map((sub) => own(sub, 'name').value.trim());
    const group = isGroup(row) || items.length > 0;
    const node = el('div', 'menu-cell position-relative');
    const item = el('button', 'menu-item px-1', (group ? '≡ ' : '') + (cut(name, columns.top) || '—'));
    item.type = 'button';
    item.title = name;
    if (group) {
      item.setAttribute('aria-expanded', String(open === index));
      item.addEventListener('click', () => { open = open === index ? -1 : index; drawPreview(); });
    }
    node.append(item);
    if (group && open === index && items.length) {
      const list = el('ul', 'menu-pop list-unstyled mb-0 shadow-sm');
      items.forEach((text) => {
        const entry = el('li', '', cut(text, columns.sub) || '—');
        entry.title = text;
        list.append(entry);
      });
      node.append(list);
    }
    return node;
  }

  /* --- wiring -------------------------------------------------------------------------------- */

  function refresh() {
    buttons().forEach((row) => { syncFields(row); subs(row).forEach(syncFields); });
    form.querySelectorAll('input[data-bytes]').forEach(count);
    syncAdders();
    drawPreview();
  }

  form.addEventListener('input', refresh);
  form.addEventListener('change', (event) => { if (event.target.dataset.name === 'type') refresh(); });
  form.addEventListener('focusin', (event) => {
    const row = event.target.closest('[data-button]');
    const place = row ? onBar().indexOf(row) : -1;
    if (place >= 0 && place !== open && (isGroup(row) || subs(row).some(filled))) {
      open = place;
      drawPreview();
    }
  });
  addButton.addEventListener('click', () => add(buttons()));
  buttons().forEach((row) => {
    row.querySelector('[data-add-sub]').addEventListener('click', () => add(subs(row)));
    row.querySelectorAll('[data-remove]').forEach((button) => {
      const sub = button.closest('[data-sub]');
      button.addEventListener('click', () => {
        if (sub) remove(subs(row), sub);
        else remove(buttons(), row);
        refresh();
      });
    });
  });
  document.querySelectorAll('form[data-confirm]').forEach((confirmed) => {
    confirmed.addEventListener('submit', (event) => {
      if (!window.confirm(confirmed.dataset.confirm)) event.preventDefault();
    });
  });

  showUsed(buttons(), used);
  buttons().forEach((row) => showUsed(subs(row), filled));
  form.querySelectorAll('[data-remove], [data-add-sub], [data-add-button]').forEach((node) => { node.hidden = false; });
  refresh();
})();
