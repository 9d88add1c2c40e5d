/* The sandbox inbox: one employee's cards drawn by CardRender, clicks posted as WeCom callbacks.
 *
 * The page polls its feed URL; a card is drawn again only when its version changes (a passive
 * reply or an update_template_card call), so choices being made are not lost. Only textContent
 * and DOM properties are used.
 */
(function () {
  'use strict';

  const POLL_MS = 1500;
  const FAST_POLL_MS = 400; // for a few seconds after a click, to show the callback's fate soon
  const FAST_FOR_MS = 8000;
  const STATUS = {
    queued: [_('Queued'), 'text-bg-secondary'],
    sending: [_('Sending'), 'text-bg-info'],
    retrying: [_('Retrying'), 'text-bg-warning'],
    delivered: [_('Delivered'), 'text-bg-success'],
    failed: [_('Failed'), 'text-bg-danger'],
  };

  function h(tag, cls, text) {
    const el = document.createElement(tag);
    if (cls) el.className = cls;
    if (text !== undefined && text !== null && text !== '') el.textContent = String(text);
    return el;
  }

  function badge(status) {
    const [label, cls] = STATUS[status] || [status, 'text-bg-secondary'];
    return h('span', 'badge ' + cls, label);
  }

  /* --- the employee picker ---------------------------------------------------------------- */

  function setUpSearch() {
    const search = document.getElementById('people-search');
    const list = document.getElementById('people-list');
    if (!search || !list) return;
    const none = document.getElementById('people-none');
    search.addEventListener('input', () => {
      const words = search.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
      let shown = 0;
      list.querySelectorAll('[data-search]').forEach((item) => {
        const hit = words.every((w) => item.dataset.search.indexOf(w) >= 0);
        item.hidden = !hit;
        if (hit) shown += 1;
      });
      none.hidden = shown > 0;
    });
    search.addEventListener('keydown', (e) => {
      if (e.key !== 'Enter') return;
      const first = list.querySelector('[data-search]:not([hidden])');
      if (first) window.location.href = first.href;
    });
    const active = list.querySelector('.active');
    if (active) active.scrollIntoView({block: 'nearest'});
  }

  /* --- the inbox -------------------------------------------------------------------------- */

  class Inbox {
    constructor(root) {
      this.root = root;
      this.feedUrl = root.dataset.feedUrl;
      this.actUrl = root.dataset.actUrl;
      this.csrf = root.dataset.csrf;
      this.cards = new Map(); // card id -> {el, version, recalled}
      this.notes = new Map(); // card id -> {text, error}: what this page did last
      this.callbacks = new Map(); // callback id -> {el, sig}
      this.list = document.getElementById('callbacks');
      this.idle = document.getElementById('worker-idle');
      this.timer = null;
      this.fastUntil = 0;
      this.inFlight = false;
      this.again = false;
    }

    start() {
      this.poll();
    }

    poll() {
      clearTimeout(this.timer);
      if (this.inFlight) { // one request at a time; ask for another right after this one
        this.again = true;
        return;
      }
      this.inFlight = true;
      fetch(this.feedUrl, {headers: {Accept: 'application/json'}, credentials: 'same-origin'})
        .then((r) => {
          if (!r.ok) throw new Error('HTTP ' + r.status);
          return r.json();
        })
        .then((feed) => this.update(feed))
        .catch(() => { /* the next poll tries again */ })
        .finally(() => {
          this.inFlight = false;
          const wait = this.again ? 0 : Date.now() < this.fastUntil ? FAST_POLL_MS : POLL_MS;
          this.again = false;
          this.timer = setTimeout(() => this.poll(), wait);
        });
    }

    update(feed) {
      this.updateCards(feed.cards);
      this.updateCallbacks(feed.callbacks);
      if (this.idle) this.idle.hidden = !feed.worker_idle;
    }

    updateCards(cards) {
      Array.from(this.root.children).forEach((el) => { if (!el.dataset.cardId) el.remove(); });
      if (!cards.length) {
        this.root.appendChild(h('p', 'sandbox-empty', _('No cards yet. Send a campaign to this employee and it appears here.')));
      }
      const ids = new Set(cards.map((c) => c.id));
      cards.forEach((card, index) => {
        let entry = this.cards.get(card.id);
        if (!entry || entry.version !== card.version || entry.recalled !== card.recalled) {
          const el = this.renderCard(card);
          if (entry) entry.el.replaceWith(el);
          entry = {el, version: card.version, recalled: card.recalled};
          this.cards.set(card.id, entry);
        }
        this.renderStatus(entry.el.querySelector('.sandbox-status'), card);
        if (this.root.children[index] !== entry.el) this.root.insertBefore(entry.el, this.root.children[index] || null);
      });
      this.cards.forEach((entry, id) => {
        if (!ids.has(id)) {
          entry.el.remove();
          this.cards.delete(id);
        }
      });
    }

    renderCard(card) {
      const item = h('article', 'sandbox-message');
      item.dataset.cardId = card.id;
      item.dataset.testid = 'inbox-card';
      item.appendChild(h('div', 'sandbox-time', card.time));
      if (card.recalled) {
        item.appendChild(h('div', 'sandbox-recalled', _('The app recalled this message.')));
      } else {
        const row = h('div', 'wc-phone-chat');
        const avatar = h('div', 'wc-avatar');
        avatar.setAttribute('aria-hidden', 'true');
        const body = h('div');
        row.append(avatar, body);
        item.appendChild(row);
        window.CardRender.render(body, card.card, {interactive: true, onAction: (action) => this.act(card, action)});
      }
      item.appendChild(h('div', 'sandbox-status small'));
      return item;
    }

    renderStatus(el, card) {
      const note = this.notes.get(card.id);
      const last = card.last_callback;
      el.replaceChildren();
      el.classList.toggle('text-danger', Boolean(note && note.error));
      if (note) {
        el.textContent = note.text;
      } else if (last) {
        el.append(badge(last.status), ' ', describe(last), ' · ', lastAttempt(last));
      }
    }

    act(card, action) {
      if (action.kind === 'link') {
        if (action.url && /^https?:\/\//i.test(action.url)) window.open(action.url, '_blank', 'noopener');
        else this.note(card, _('Mini-program links open only in the WeCom client.'), true);
        return;
      }
      this.note(card, _('Posting the callback to the app…'), false);
      const url = this.actUrl.replace(/\/0\/act$/, '/' + card.id + '/act');
      fetch(url, {
        method: 'POST', credentials: 'same-origin',
        headers: {'Content-Type': 'application/json', 'X-CSRFToken': this.csrf, Accept: 'application/json'},
        body: JSON.stringify(action),
      }).then((r) => r.json().catch(() => ({})).then((data) => {
        if (!r.ok) throw new Error(data.error || _('The sandbox answered HTTP %(status)s.', {status: r.status}));
        this.notes.delete(card.id);
        this.fastUntil = Date.now() + FAST_FOR_MS;
        this.poll();
      })).catch((err) => this.note(card, err.message, true));
    }

    note(card, text, error) {
      this.notes.set(card.id, {text, error});
      const entry = this.cards.get(card.id);
      if (entry) this.renderStatus(entry.el.querySelector('.sandbox-status'), card);
      if (error) setTimeout(() => this.notes.delete(card.id), 6000);
    }

    updateCallbacks(callbacks) {
      if (!this.list) return;
      if (!callbacks.length) return;
      Array.from(this.list.children).forEach((el) => { if (!el.dataset.callbackId) el.remove(); });
      callbacks.forEach((cb, index) => {
        const sig = JSON.stringify([cb.status, cb.attempts, cb.reply]);
        let entry = this.callbacks.get(cb.id);
        if (!entry || entry.sig !== sig) {
          const el = renderCallback(cb, entry && entry.el.querySelector('details[open]'));
          if (entry) entry.el.replaceWith(el);
          entry = {el, sig};
          this.callbacks.set(cb.id, entry);
        }
        if (this.list.children[index] !== entry.el) this.list.insertBefore(entry.el, this.list.children[index] || null);
      });
    }
  }

  function describe(cb) {
    if (cb.event === 'template_card_menu_event') return _('Menu “%(key)s”', {key: cb.event_key});
    const picks = Object.values(cb.selected || {}).map((ids) => ids.join(', '));
    if (!picks.length) return '“' + cb.event_key + '”';
    return _('“%(key)s” with %(picks)s', {key: cb.event_key, picks: picks.join('; ')});
  }

  function attemptText(a) {
    const parts = [a.duplicate ? _('copy') : '#' + a.number];
    parts.push(a.http ? 'HTTP ' + a.http : _('no HTTP answer'));
    if (a.seconds !== undefined) parts.push(a.seconds.toFixed(2) + ' s');
    if (a.note) parts.push(a.note);
    if (a.reply) parts.push(a.reply);
    return parts.join(' · ');
  }

  function lastAttempt(cb) {
    if (!cb.attempts.length) return cb.status === 'queued' ? _('waiting for the worker') : '';
    const real = cb.attempts.filter((a) => !a.duplicate);
    const a = real[real.length - 1];
    const text = a.reply || a.note || ('HTTP ' + a.http);
    return real.length > 1 ? _('%(text)s (%(n)s attempts)', {text, n: real.length}) : text;
  }

  function renderCallback(cb, wasOpen) {
    const item = h('li', 'list-group-item sandbox-callback');
    item.dataset.callbackId = cb.id;
    const head = h('div', 'd-flex align-items-center gap-2');
    head.append(h('span', 'fw-semibold', '#' + cb.id), h('span', 'small text-secondary me-auto', cb.time), badge(cb.status));
    item.append(head, h('div', 'small', cb.title + ' — ' + describe(cb)));
    if (cb.attempts.length) {
      const attempts = h('ol', 'sandbox-attempts small');
      cb.attempts.forEach((a) => {
        const li = h('li', a.ok ? '' : 'text-danger', attemptText(a));
        attempts.appendChild(li);
      });
      item.appendChild(attempts);
    }
    const details = h('details', 'small');
    details.open = Boolean(wasOpen);
    details.append(h('summary', '', _('Event XML (before encryption)')), h('pre', 'sandbox-xml', cb.xml));
    item.appendChild(details);
    return item;
  }

  document.addEventListener('DOMContentLoaded', () => {
    setUpSearch();
    const root = document.getElementById('inbox');
    if (root && window.CardRender) new Inbox(root).start();
  });
}());
