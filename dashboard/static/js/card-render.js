/* Renders a WeCom template_card as the WeCom client shows it.
 *
 *   CardRender.render(element, templateCard, {interactive: false, onAction: fn})
 *
 * interactive: buttons, vote options, dropdowns, links and the card menu respond; onAction receives
 *   {kind: "button", key, selection}    a callback button (selection: the button_selection answer)
 *   {kind: "submit", key, selections}  the submit button of a vote / survey card
 *   {kind: "menu", key}                an action_menu item
 *   {kind: "link", url, appid, pagepath}
 * A web link shows where it goes on hover; {report_url} (each campaign's report, filled in by the
 * sender: dashboard/campaigns/links.py) as "(this campaign's report)".
 * Elements with a data-card-render attribute (holding the card JSON) are rendered on load.
 * Only textContent and DOM properties are used: no HTML from the card, no inline styles or scripts.
 */
(function () {
  'use strict';

  const SOURCE_COLORS = ['grey', 'black', 'red', 'green'];
  const NOTICE_TYPES = ['text_notice', 'news_notice'];

  function h(tag, cls, text) {
    const el = document.createElement(tag);
    if (cls) el.className = cls;
    if (text !== undefined && text !== null && text !== '') el.textContent = String(text);
    return el;
  }

  /* Where the WeCom client cuts a text, in characters: the max_chars of the card rules
   * (dashboard/wecom/card_rules.py, from WeCom's template_card documentation): main_title.title 36,
   * main_title.desc 44, emphasis_content.title 14 and .desc 22, sub_title_text 160,
   * vertical_content_list title 38 and desc 160, source.desc 20, horizontal_content_list value 30,
   * jump_list title 18. A longer text is shown as the client shows it, its first characters and
   * "…", with the whole text on hover. */
  const SHOWN_CHARS = {
    'wc-title': 36, 'wc-desc': 44, 'wc-emphasis-title': 14, 'wc-emphasis-desc': 22,
    'wc-subtitle': 160, 'wc-vertical-title': 38, 'wc-vertical-desc': 160, 'wc-source-desc': 20,
    'wc-v': 30, 'wc-jump': 18,
  };

  /* An element with text as the client shows it: cut at the field's limit with "…", full text as title. */
  function shown(tag, cls, text) {
    const el = h(tag, cls, text);
    const max = SHOWN_CHARS[cls.split(' ')[0]];
    const chars = Array.from(typeof text === 'string' ? text : '');
    if (max && chars.length > max) {
      el.textContent = chars.slice(0, max).join('') + '…';
      el.title = text;
    }
    return el;
  }

  function image(url, cls, ratio) {
    const box = h('div', 'wc-img ' + (cls || ''));
    if (ratio) box.style.aspectRatio = String(ratio);
    if (!url) {
      box.classList.add('wc-img-missing');
      return box;
    }
    const img = h('img');
    img.alt = '';
    img.loading = 'lazy';
    img.referrerPolicy = 'no-referrer';
    img.addEventListener('error', () => box.classList.add('wc-img-missing'));
    img.src = url;
    box.appendChild(img);
    return box;
  }

  const REPORT_URL = '{report_url}';

  /* Where a web link goes, as its hover text (after a cut text's full text, if any). */
  function pointTo(el, url) {
    if (typeof url !== 'string' || !url) return el;
    const where = url.indexOf(REPORT_URL) >= 0 ? _("(this campaign's report)") : url;
    el.dataset.linkTo = where;
    el.title = el.title ? el.title + ' → ' + where : where;
    return el;
  }

  function obj(value) {
    return value && typeof value === 'object' && !Array.isArray(value) ? value : null;
  }

  function list(value) {
    return Array.isArray(value) ? value.filter(obj) : [];
  }

  class Renderer {
    constructor(card, opts) {
      this.card = obj(card) || {};
      this.opts = opts;
      this.state = {checked: new Set(), selects: {}};
    }

    act(event) {
      if (this.opts.interactive && typeof this.opts.onAction === 'function') this.opts.onAction(event);
    }

    linkable(el, target) {
      if (!target || !target.type) return el;
      el.classList.add('wc-link');
      if (target.type === 1) pointTo(el, target.url);
      if (this.opts.interactive) {
        el.setAttribute('role', 'link');
        el.tabIndex = 0;
        el.addEventListener('click', (e) => {
          e.stopPropagation();
          this.act({kind: 'link', url: target.url, appid: target.appid, pagepath: target.pagepath});
        });
      }
      return el;
    }

    build() {
      const c = this.card;
      const root = h('div', 'wc-card');
      root.dataset.cardType = c.card_type || '';
      const parts = [
        this.source(), this.title(), this.emphasis(), this.quote(), this.subtitle(),
        this.cardImage(), this.imageTextArea(), this.vertical(), this.horizontal(), this.jumps(),
        this.buttonSelection(), this.checkbox(), this.selectList(), this.buttons(), this.submit(),
        this.footer(),
      ];
      parts.filter(Boolean).forEach((part) => root.appendChild(part));
      const action = obj(c.card_action);
      if (NOTICE_TYPES.indexOf(c.card_type) < 0 && action && action.type === 1) pointTo(root, action.url);
      if (NOTICE_TYPES.indexOf(c.card_type) < 0 && action && action.type && this.opts.interactive) {
        root.classList.add('wc-tappable');
        root.addEventListener('click', (e) => {
          if (e.target.closest('button, select, .wc-option, .wc-link')) return;
          this.act({kind: 'link', url: action.url, appid: action.appid, pagepath: action.pagepath});
        });
      }
      return root;
    }

    source() {
      const s = obj(this.card.source);
      const menu = obj(this.card.action_menu);
      if (!s && !menu) return null;
      const row = h('div', 'wc-source');
      if (s && s.icon_url) row.appendChild(image(s.icon_url, 'wc-source-icon'));
      const color = SOURCE_COLORS[s && s.desc_color] || 'grey';
      row.appendChild(shown('span', 'wc-source-desc wc-color-' + color, s && s.desc));
      if (menu) row.appendChild(this.menu(menu));
      return row;
    }

    menu(menu) {
      const wrap = h('div', 'wc-menu');
      const toggle = h('button', 'wc-menu-toggle', '⋯');
      toggle.type = 'button';
      toggle.setAttribute('aria-label', _('Card menu'));
      const sheet = h('div', 'wc-menu-sheet');
      sheet.hidden = true;
      if (menu.desc) sheet.appendChild(h('div', 'wc-menu-desc', menu.desc));
      list(menu.action_list).forEach((item) => {
        const choice = h('button', 'wc-menu-item', item.text);
        choice.type = 'button';
        choice.addEventListener('click', () => {
          sheet.hidden = true;
          this.act({kind: 'menu', key: item.key});
        });
        sheet.appendChild(choice);
      });
      toggle.addEventListener('click', () => { sheet.hidden = !sheet.hidden; });
      wrap.append(toggle, sheet);
      return wrap;
    }

    title() {
      const t = obj(this.card.main_title);
      if (!t || (!t.title && !t.desc)) return null;
      const box = h('div', 'wc-main');
      if (t.title) box.appendChild(shown('div', 'wc-title', t.title));
      if (t.desc) box.appendChild(shown('div', 'wc-desc', t.desc));
      return box;
    }

    emphasis() {
      const e = obj(this.card.emphasis_content);
      if (!e || (!e.title && !e.desc)) return null;
      const box = h('div', 'wc-emphasis');
      box.append(shown('div', 'wc-emphasis-title', e.title), shown('div', 'wc-emphasis-desc', e.desc));
      return box;
    }

    quote() {
      const q = obj(this.card.quote_area);
      if (!q || (!q.title && !q.quote_text)) return null;
      const box = this.linkable(h('div', 'wc-quote'), q);
      if (q.title) box.appendChild(h('div', 'wc-quote-title', q.title));
      if (q.quote_text) box.appendChild(h('div', 'wc-quote-text', q.quote_text));
      return box;
    }

    subtitle() {
      const text = this.card.sub_title_text;
      return typeof text === 'string' && text ? shown('div', 'wc-subtitle', text) : null;
    }

    cardImage() {
      const i = obj(this.card.card_image);
      if (!i) return null;
      const ratio = Number(i.aspect_ratio) > 0 ? Number(i.aspect_ratio) : 1.3;
      return image(i.url, 'wc-card-image', ratio);
    }

    imageTextArea() {
      const a = obj(this.card.image_text_area);
      if (!a) return null;
      const box = this.linkable(h('div', 'wc-ita'), a);
      const text = h('div', 'wc-ita-text');
      text.append(h('div', 'wc-ita-title', a.title), h('div', 'wc-ita-desc', a.desc));
      box.append(text, image(a.image_url, 'wc-ita-image'));
      return box;
    }

    vertical() {
      const rows = list(this.card.vertical_content_list);
      if (!rows.length) return null;
      const box = h('div', 'wc-vertical');
      rows.forEach((r) => {
        const row = h('div', 'wc-vertical-row');
        row.append(shown('div', 'wc-vertical-title', r.title), shown('div', 'wc-vertical-desc', r.desc));
        box.appendChild(row);
      });
      return box;
    }

    horizontal() {
      const rows = list(this.card.horizontal_content_list);
      if (!rows.length) return null;
      const box = h('div', 'wc-kv-list');
      rows.forEach((r) => {
        const row = h('div', 'wc-kv');
        row.appendChild(h('span', 'wc-k', r.keyname));
        const value = shown('span', 'wc-v', r.value);
        if (r.type === 1) this.linkable(value, {type: 1, url: r.url});
        if (r.type === 2) value.classList.add('wc-link', 'wc-attachment');
        if (r.type === 3) value.classList.add('wc-link', 'wc-member');
        row.appendChild(value);
        box.appendChild(row);
      });
      return box;
    }

    jumps() {
      const links = list(this.card.jump_list);
      if (!links.length) return null;
      const box = h('div', 'wc-jumps');
      links.forEach((j) => box.appendChild(this.linkable(shown('div', 'wc-jump', j.title), j)));
      return box;
    }

    dropdown(block, questionKey, fallbackLabel) {
      const options = list(block.option_list);
      const selected = options.some((o) => o.id === block.selected_id) ? block.selected_id
        : (options[0] && options[0].id);
      this.state.selects[questionKey] = selected;
      if (this.opts.interactive) {
        const select = h('select', 'wc-select');
        select.disabled = block.disable === true;
        options.forEach((o) => {
          const option = h('option', '', o.text || o.id);
          option.value = o.id;
          option.selected = o.id === selected;
          select.appendChild(option);
        });
        select.setAttribute('aria-label', block.title || fallbackLabel);
        select.addEventListener('change', () => { this.state.selects[questionKey] = select.value; });
        return select;
      }
      const chosen = options.find((o) => o.id === selected);
      return h('div', 'wc-select' + (block.disable ? ' wc-disabled' : ''), chosen ? (chosen.text || chosen.id) : '');
    }

    buttonSelection() {
      const s = obj(this.card.button_selection);
      if (!s) return null;
      const row = h('div', 'wc-selection');
      row.append(h('span', 'wc-selection-title', s.title), this.dropdown(s, s.question_key, 'Choice'));
      return row;
    }

    checkbox() {
      const box = obj(this.card.checkbox);
      if (!box) return null;
      const multiple = box.mode === 1;
      const wrap = h('div', 'wc-options ' + (multiple ? 'wc-multiple' : 'wc-single'));
      wrap.setAttribute('role', multiple ? 'group' : 'radiogroup');
      list(box.option_list).forEach((o) => {
        if (o.is_checked === true) this.state.checked.add(o.id);
      });
      const rows = list(box.option_list).map((o) => {
        const row = h('div', 'wc-option');
        row.setAttribute('role', multiple ? 'checkbox' : 'radio');
        row.appendChild(h('span', 'wc-tick'));
        row.appendChild(h('span', 'wc-option-text', o.text));
        row.dataset.id = o.id;
        return row;
      });
      const paint = () => rows.forEach((row) => {
        const on = this.state.checked.has(row.dataset.id);
        row.classList.toggle('wc-checked', on);
        row.setAttribute('aria-checked', String(on));
      });
      rows.forEach((row) => {
        if (this.opts.interactive && box.disable !== true) {
          row.tabIndex = 0;
          row.addEventListener('click', () => {
            const id = row.dataset.id;
            if (multiple) {
              if (this.state.checked.has(id)) this.state.checked.delete(id); else this.state.checked.add(id);
            } else {
              this.state.checked = new Set([id]);
            }
            paint();
          });
        }
        wrap.appendChild(row);
      });
      if (box.disable === true) wrap.classList.add('wc-disabled');
      paint();
      return wrap;
    }

    selectList() {
      const selectors = list(this.card.select_list);
      if (!selectors.length) return null;
      const box = h('div', 'wc-selects');
      selectors.forEach((s, i) => {
        const row = h('div', 'wc-select-row');
        if (s.title) row.appendChild(h('div', 'wc-select-title', s.title));
        row.appendChild(this.dropdown(s, s.question_key, _('Question %(n)s', {n: i + 1})));
        box.appendChild(row);
      });
      return box;
    }

    replaced() {
      const text = this.card.replace_text;
      if (typeof text !== 'string' || !text) return null;
      const button = h('button', 'wc-btn wc-btn-replaced', text);
      button.type = 'button';
      button.disabled = true;
      return button;
    }

    buttons() {
      const buttons = list(this.card.button_list);
      if (!buttons.length) return null;
      const replaced = this.replaced();
      if (replaced) {
        const single = h('div', 'wc-buttons wc-buttons-1');
        single.appendChild(replaced);
        return single;
      }
      const row = h('div', 'wc-buttons wc-buttons-' + Math.min(buttons.length, 3));
      if (buttons.length === 4) row.className = 'wc-buttons wc-buttons-2';
      buttons.forEach((b) => {
        const style = [1, 2, 3, 4].indexOf(b.style) >= 0 ? b.style : 1;
        const button = h('button', 'wc-btn wc-btn-' + style, b.text);
        button.type = 'button';
        if (b.type === 1) pointTo(button, b.url);
        button.addEventListener('click', () => {
          if (b.type === 1) {
            this.act({kind: 'link', url: b.url});
            return;
          }
          const s = obj(this.card.button_selection);
          const selection = s ? {question_key: s.question_key, option_id: this.state.selects[s.question_key]} : null;
          this.act({kind: 'button', key: b.key, selection});
        });
        row.appendChild(button);
      });
      return row;
    }

    submit() {
      const s = obj(this.card.submit_button);
      if (!s) return null;
      const replaced = this.replaced();
      const button = replaced || h('button', 'wc-btn wc-btn-1 wc-submit', s.text || '提交');
      button.type = 'button';
      if (!replaced) button.addEventListener('click', () => this.act({kind: 'submit', key: s.key, selections: this.selections()}));
      const row = h('div', 'wc-buttons wc-buttons-1');
      row.appendChild(button);
      return row;
    }

    selections() {
      const box = obj(this.card.checkbox);
      if (box) return [{question_key: box.question_key, option_ids: Array.from(this.state.checked)}];
      return list(this.card.select_list).map((s) => ({
        question_key: s.question_key, option_ids: [this.state.selects[s.question_key]].filter(Boolean),
      }));
    }

    footer() {
      const a = obj(this.card.card_action);
      if (!a || NOTICE_TYPES.indexOf(this.card.card_type) < 0) return null;
      return this.linkable(h('div', 'wc-footer', _('View details')), a);
    }
  }

  function render(el, card, options) {
    const opts = Object.assign({interactive: false, onAction: null}, options || {});
    const renderer = new Renderer(card, opts);
    el.classList.add('wc-render');
    el.replaceChildren(renderer.build());
    return renderer;
  }

  function renderAll(root) {
    (root || document).querySelectorAll('[data-card-render]').forEach((el) => {
      try {
        render(el, JSON.parse(el.dataset.cardRender));
      } catch (err) {
        el.textContent = _('This card cannot be shown.');
      }
    });
  }

  window.CardRender = {render, renderAll};
  document.addEventListener('DOMContentLoaded', () => renderAll(document));
}());
