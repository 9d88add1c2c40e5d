/* The designer's form: inputs for every field of every block, built from the server's field spec.
 *
 *   DesignerFields.render(container, blocks, card, {onChange(opts), focusPath})
 *   DesignerFields.refreshRefs(container)   after typing: "pre-selected" dropdowns follow the options
 *
 * The card object is the only state: inputs write into it, structural edits (add, remove, move,
 * include a block, change a type) mutate it and ask for a re-render through onChange({structural}).
 * Every input carries data-path="button_list[2].text" so designer-problems.js puts errors there.
 */
(function () {
  'use strict';

  let uid = 0;

  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    Object.entries(props || {}).forEach(([key, value]) => {
      if (value === undefined || value === null || value === false) return;
      if (key === 'class') el.className = value;
      else if (key === 'text') el.textContent = value;
      else if (key === 'data') Object.assign(el.dataset, value);
      else if (key in el && typeof value !== 'string') el[key] = value;
      else el.setAttribute(key, value === true ? '' : value);
    });
    children.flat().filter(Boolean).forEach((child) => el.append(child));
    return el;
  }

  const chars = (value) => Array.from(value || '').length;
  const bytes = (value) => new TextEncoder().encode(value || '').length;
  const isObj = (v) => v && typeof v === 'object' && !Array.isArray(v);

  /* --- generated keys: readable, unique within the card ------------------------------------ */

  function usedKeys(value, fields, used) {
    if (!isObj(value)) return used;
    fields.forEach((f) => {
      const v = value[f.name];
      if (f.generate && typeof v === 'string') used.add(v);
      if (f.kind === 'object') usedKeys(v, f.fields, used);
      if (f.kind === 'list' && Array.isArray(v)) v.forEach((item) => usedKeys(item, f.fields, used));
    });
    return used;
  }

  function uniqueKey(ctx, prefix) {
    const used = usedKeys(ctx.card, ctx.blocks, new Set(ctx.pending));
    let n = 1;
    while (used.has(`${prefix}_${n}`)) n += 1;
    ctx.pending.add(`${prefix}_${n}`);
    return `${prefix}_${n}`;
  }

  function blank(fields, ctx) {
    const value = {};
    fields.forEach((f) => {
      if (f.generate) value[f.name] = uniqueKey(ctx, f.generate);
      else if (f.kind === 'bool' && f.required) value[f.name] = false;
      else if (f.kind === 'int' && f.required && f.enum) value[f.name] = f.enum[0];
      else if (f.kind === 'object' && f.required) value[f.name] = blank(f.fields, ctx);
      else if (f.kind === 'list' && f.required) {
        const count = Math.max(f.start_items || 0, f.min_items || 1);
        value[f.name] = Array.from({length: count}, () => blank(f.fields, ctx));
      }
    });
    return value;
  }

  /* --- visibility: fields that matter only for another choice -------------------------------- */

  function visible(field, obj, fields) {
    if (!field.show_if || obj[field.name] !== undefined) return true;
    return Object.entries(field.show_if).every(([sibling, values]) => {
      const node = fields.find((f) => f.name === sibling);
      const current = obj[sibling] !== undefined ? obj[sibling] : node && node.default;
      return values.indexOf(current) >= 0;
    });
  }

  /* --- inputs ------------------------------------------------------------------------------ */

  function counter(field, value) {
    if (field.max_chars) return `${chars(value)}/${field.max_chars}`;
    if (field.max_bytes && field.max_bytes <= 128) return _('%(n)s/%(max)s bytes', {n: bytes(value), max: field.max_bytes});
    return '';
  }

  function over(field, value) {
    return (field.max_chars && chars(value) > field.max_chars) ||
      (field.max_bytes && bytes(value) > field.max_bytes);
  }

  function choiceLabel(field, value) {
    const choice = (field.choices || []).find((c) => c[0] === value);
    return choice ? choice[1] : String(value);
  }

  function selectInput(field, obj, ctx, id) {
    const current = obj[field.name];
    const select = h('select', {class: 'form-select form-select-sm', id});
    if (current === undefined && field.default === undefined) {
      select.append(h('option', {value: '', text: _('Choose…'), selected: true, disabled: true}));
    }
    const values = (field.enum || []).slice();
    if (current !== undefined && values.indexOf(current) < 0) values.push(current);
    values.forEach((value) => {
      const shown = current !== undefined ? current : field.default;
      const label = field.enum.indexOf(value) < 0 ? _('%(value)s (not allowed)', {value: JSON.stringify(value)}) : choiceLabel(field, value);
      select.append(h('option', {value: JSON.stringify(value), text: label, selected: value === shown}));
    });
    const shown = current !== undefined ? current : field.default;
    if (shown !== undefined) select.value = JSON.stringify(shown);
    select.addEventListener('change', () => {
      obj[field.name] = JSON.parse(select.value);
      ctx.onChange({structural: true, focus: select.dataset.path});
    });
    return select;
  }

  function optionRefInput(field, obj, ctx, id) {
    const select = h('select', {class: 'form-select form-select-sm', id, data: {widget: 'option-ref'}});
    select.refresh = () => {
      const options = Array.isArray(obj.option_list) ? obj.option_list.filter(isObj) : [];
      const current = obj[field.name];
      select.replaceChildren(h('option', {value: '', text: _('First option (default)')}));
      options.forEach((o) => select.append(h('option', {value: o.id || '', text: `${o.text || _('(no text)')} · ${o.id || ''}`})));
      if (current !== undefined && !options.some((o) => o.id === current)) {
        select.append(h('option', {value: current, text: _('%(id)s (no such option)', {id: current})}));
      }
      select.value = current === undefined ? '' : current;
    };
    select.refresh();
    select.addEventListener('change', () => {
      if (select.value === '') delete obj[field.name]; else obj[field.name] = select.value;
      ctx.onChange({});
    });
    return select;
  }

  function textInput(field, obj, ctx, id, count) {
    const multiline = field.widget === 'textarea';
    const input = h(multiline ? 'textarea' : 'input', {
      class: 'form-control form-control-sm' + (field.max_bytes ? ' font-monospace' : ''), id,
      rows: multiline ? 2 : undefined, type: multiline ? undefined : (field.kind === 'float' ? 'number' : 'text'),
      step: field.kind === 'float' ? '0.01' : undefined, autocomplete: 'off',
      placeholder: field.default !== undefined ? String(field.default) : undefined,
    });
    const value = obj[field.name];
    input.value = value === undefined || value === null ? '' : (typeof value === 'string' ? value : String(value));
    input.addEventListener('input', () => {
      const raw = input.value;
      if (raw === '') delete obj[field.name];
      else if (field.kind === 'float') obj[field.name] = Number.isNaN(Number(raw)) ? raw : Number(raw);
      else obj[field.name] = raw;
      count.textContent = counter(field, raw);
      count.classList.toggle('text-danger', Boolean(over(field, raw)));
      ctx.onChange({});
    });
    return input;
  }

  function scalarField(field, obj, path, ctx) {
    const id = `f${uid += 1}`;
    const image = window.DesignerImages && DesignerImages.isImagePath(path);
    const wide = field.widget === 'textarea' || field.kind === 'bool' || image;
    const wrap = h('div', {class: `designer-field ${wide ? 'col-12' : 'col-md-6'}`});
    if (field.kind === 'bool') {
      const box = h('input', {class: 'form-check-input', type: 'checkbox', id, checked: obj[field.name] === true});
      box.dataset.path = path;
      box.addEventListener('change', () => { obj[field.name] = box.checked; ctx.onChange({}); });
      wrap.append(h('div', {class: 'form-check'}, box, h('label', {class: 'form-check-label', for: id, text: field.label}, keyOf(field))));
      return wrap;
    }
    const count = h('span', {class: 'designer-counter small text-secondary', text: counter(field, obj[field.name])});
    if (over(field, obj[field.name])) count.classList.add('text-danger');
    let input;
    if (field.widget === 'option-ref') input = optionRefInput(field, obj, ctx, id);
    else if (field.kind === 'int' || field.enum) input = selectInput(field, obj, ctx, id);
    else input = textInput(field, obj, ctx, id, count);
    input.dataset.path = path;
    const label = h('label', {class: 'form-label small mb-1', for: id, text: field.label}, keyOf(field),
      field.required ? h('span', {class: 'text-danger', text: ' *', title: _('Required')}) : null);
    wrap.append(h('div', {class: 'd-flex justify-content-between align-items-end'}, label, count), input);
    if (image) DesignerImages.attach(wrap, input); // upload, drop, library: designer-images.js
    if (field.help) wrap.append(h('div', {class: 'form-text mt-0', text: field.help}));
    return wrap;
  }

  /* The field's JSON key beside its label (WeCom's docs name fields by both), in every language. */
  function keyOf(field) {
    return field.label ? h('code', {class: 'designer-key ms-1 small text-body-secondary fw-normal', text: field.name}) : null;
  }

  /* --- objects and lists ------------------------------------------------------------------- */

  function fieldsOf(fields, obj, path, ctx) {
    const row = h('div', {class: 'row g-2'});
    fields.filter((f) => visible(f, obj, fields)).forEach((f) => {
      const p = path ? `${path}.${f.name}` : f.name;
      if (f.kind === 'list') row.append(h('div', {class: 'col-12'}, listEditor(f, obj, p, ctx)));
      else if (f.kind === 'object') {
        if (!isObj(obj[f.name])) obj[f.name] = {};
        row.append(h('div', {class: 'col-12'}, fieldsOf(f.fields, obj[f.name], p, ctx)));
      } else {
        const helpShown = !f.help_if || visible({name: '', show_if: f.help_if}, obj, fields);
        row.append(scalarField(helpShown ? f : {...f, help: ''}, obj, p, ctx));
      }
    });
    return row;
  }

  function iconButton(label, symbol, disabled, onClick) {
    const button = h('button', {type: 'button', class: 'btn btn-sm btn-outline-secondary', title: label,
      'aria-label': label, disabled, text: symbol});
    button.addEventListener('click', onClick);
    return button;
  }

  function listEditor(field, obj, path, ctx, showLabel = true) {
    const items = Array.isArray(obj[field.name]) ? obj[field.name] : [];
    const min = field.min_items || 0;
    const max = field.max_items || Infinity;
    const noun = field.item_label || _('item');
    const nouns = field.items_label || _('items');
    const wrap = h('div', {class: 'designer-list', data: {path}});
    const full = items.length >= max;
    const head = h('div', {class: 'd-flex justify-content-between align-items-center mb-1'},
      h('span', {class: 'small fw-semibold', text: showLabel ? field.label : ''}, showLabel ? keyOf(field) : null),
      h('span', {class: `badge designer-list-counter ${items.length > max ? 'text-bg-danger' : 'text-bg-light border'}`,
        text: `${nouns} ${items.length}/${max === Infinity ? '∞' : max}`}));
    wrap.append(head);
    const change = (focus) => ctx.onChange({structural: true, focus});
    items.forEach((item, i) => {
      const itemPath = `${path}[${i}]`;
      const title = `${noun[0].toUpperCase()}${noun.slice(1)} ${i + 1}`;
      const controls = h('div', {class: 'btn-group btn-group-sm'},
        iconButton(_('Move %(noun)s %(n)s up', {noun, n: i + 1}), '↑', i === 0, () => {
          items.splice(i - 1, 0, items.splice(i, 1)[0]);
          change(`${path}[${i - 1}]`);
        }),
        iconButton(_('Move %(noun)s %(n)s down', {noun, n: i + 1}), '↓', i === items.length - 1, () => {
          items.splice(i + 1, 0, items.splice(i, 1)[0]);
          change(`${path}[${i + 1}]`);
        }),
        iconButton(_('Remove %(noun)s %(n)s', {noun, n: i + 1}), '✕', items.length <= min, () => {
          items.splice(i, 1);
          if (!items.length && !field.required) delete obj[field.name];
          change();
        }));
      const body = isObj(item) ? fieldsOf(field.fields, item, itemPath, ctx)
        : h('div', {class: 'text-danger small', text: _('Not an object: %(value)s', {value: JSON.stringify(item)})});
      wrap.append(h('div', {class: 'designer-item', data: {path: itemPath}},
        h('div', {class: 'd-flex justify-content-between align-items-center mb-1'},
          h('span', {class: 'small text-secondary', text: title}), controls), body));
    });
    const add = h('button', {type: 'button', class: 'btn btn-sm btn-outline-primary', disabled: full,
      text: _('+ Add %(noun)s', {noun}), title: full ? _('WeCom allows at most %(max)s %(nouns)s', {max, nouns}) : undefined});
    add.addEventListener('click', () => {
      if (!Array.isArray(obj[field.name])) obj[field.name] = [];
      ctx.pending = new Set();
      obj[field.name].push(blank(field.fields, ctx));
      change(`${path}[${obj[field.name].length - 1}]`);
    });
    wrap.append(h('div', {class: 'd-flex align-items-center gap-2'}, add,
      full ? h('span', {class: 'small text-secondary', text: _('Limit reached: at most %(max)s %(nouns)s.', {max, nouns})}) : null));
    return wrap;
  }

  function block(node, card, ctx) {
    const present = card[node.name] !== undefined;
    const section = h('section', {class: 'card shadow-sm mb-3 designer-block', id: `block-${node.name}`, data: {path: node.name}});
    const header = h('div', {class: 'card-header bg-white d-flex align-items-center gap-2'},
      h('h2', {class: 'h6 mb-0 flex-grow-1', text: node.label}, keyOf(node),
        node.required ? h('span', {class: 'badge text-bg-light border ms-2 fw-normal', text: _('required')}) : null));
    const canToggle = node.kind === 'object' && !(node.required && present);
    if (canToggle) {
      const id = `include-${node.name}`;
      const toggle = h('input', {class: 'form-check-input', type: 'checkbox', role: 'switch', id, checked: present});
      toggle.addEventListener('change', () => {
        if (toggle.checked) {
          ctx.pending = new Set();
          card[node.name] = ctx.stash[node.name] || blank(node.fields, ctx);
        } else {
          ctx.stash[node.name] = card[node.name];
          delete card[node.name];
        }
        ctx.onChange({structural: true, focus: id});
      });
      header.append(h('div', {class: 'form-check form-switch mb-0'}, toggle,
        h('label', {class: 'form-check-label small', for: id, text: _('Include')})));
    }
    section.append(header);
    const body = h('div', {class: 'card-body'});
    if (node.help) body.append(h('p', {class: 'form-text mt-0 mb-2', text: node.help}));
    if (node.kind === 'list') body.append(listEditor(node, card, node.name, ctx, false));
    else if (node.kind !== 'object') body.append(h('div', {class: 'row g-2'}, scalarField({...node, label: '', help: ''}, card, node.name, ctx)));
    else if (!present) section.classList.add('designer-block-off');
    else if (isObj(card[node.name])) body.append(fieldsOf(node.fields, card[node.name], node.name, ctx));
    else body.append(h('div', {class: 'text-danger small', text: _('Not an object: %(value)s', {value: JSON.stringify(card[node.name])})}));
    if (body.childElementCount) section.append(body);
    return section;
  }

  /* --- fields the form does not edit (imported extras, update-only fields, task_id) ---------- */

  function extras(value, fields, path, found) {
    if (!isObj(value)) return found;
    Object.keys(value).forEach((key) => {
      const p = path ? `${path}.${key}` : key;
      const f = fields.find((x) => x.name === key);
      if (!f) {
        if (!(path === '' && key === 'card_type')) found.push({path: p, value: value[key]});
      } else if (f.kind === 'object') extras(value[key], f.fields, p, found);
      else if (f.kind === 'list' && Array.isArray(value[key])) value[key].forEach((item, i) => extras(item, f.fields, `${p}[${i}]`, found));
    });
    return found;
  }

  function removeAt(card, path) {
    const parts = path.match(/[^.[\]]+/g);
    const last = parts.pop();
    const parent = parts.reduce((o, k) => (o == null ? o : o[k]), card);
    if (parent) delete parent[last];
  }

  function extrasBlock(card, blocks, ctx) {
    const found = extras(card, blocks, '', []);
    if (!found.length) return null;
    const section = h('section', {class: 'card shadow-sm mb-3 border-warning designer-extras', id: 'block-extras'});
    const rows = found.map((x) => h('li', {class: 'list-group-item d-flex gap-2 align-items-start', data: {path: x.path}},
      h('div', {class: 'flex-grow-1 small'}, h('code', {text: x.path}), h('div', {class: 'text-secondary text-break', text: JSON.stringify(x.value)})),
      iconButton(_('Remove %(path)s', {path: x.path}), '✕', false, () => { removeAt(card, x.path); ctx.onChange({structural: true}); })));
    section.append(h('div', {class: 'card-header bg-white'}, h('h2', {class: 'h6 mb-0', text: _('Other fields in this card')})),
      h('div', {class: 'card-body pb-0'}, h('p', {class: 'form-text mt-0', text: _('The form does not edit these fields. They are kept and sent as they are; remove the ones WeCom rejects.')})),
      h('ul', {class: 'list-group list-group-flush'}, rows));
    return section;
  }

  /* --- public ------------------------------------------------------------------------------ */

  function render(container, blocks, card, options) {
    const ctx = {card, blocks, onChange: options.onChange, pending: new Set(), stash: container.designerStash || {}};
    container.designerStash = ctx.stash;
    container.replaceChildren(...blocks.map((node) => block(node, card, ctx)));
    const other = extrasBlock(card, blocks, ctx);
    if (other) container.append(other);
    if (options.focusPath) {
      const target = container.querySelector(`[data-path="${CSS.escape(options.focusPath)}"]`) ||
        document.getElementById(options.focusPath);
      const input = target && (target.matches('input, select, textarea, button') ? target : target.querySelector('input, select, textarea'));
      if (input) input.focus({preventScroll: true});
    }
  }

  function refreshRefs(container) {
    container.querySelectorAll('[data-widget="option-ref"]').forEach((select) => select.refresh());
  }

  window.DesignerFields = {render, refreshRefs};
}());
