/* The sandbox inbox: one employee's conversation with the app, as WeCom shows it. Cards are drawn
 * by CardRender and their clicks posted as WeCom callbacks; the app's text and news, the
 * employee's own messages (the composer: text, a place, a picture) and menu taps, with the app's
 * passive replies, are drawn in time order; the published menu sits at the bottom.
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

  /* --- the conversation ------------------------------------------------------------------- */

  function openLink(url) {
    if (url && /^https?:\/\//i.test(url)) window.open(url, '_blank', 'noopener');
  }

  function picture(url, cls) {
    const img = h('img', cls);
    img.alt = '';
    img.loading = 'lazy';
    img.referrerPolicy = 'no-referrer';
    img.src = url;
    return img;
  }

  /* A row of the conversation: the app's avatar on the left, or the employee's on the right. */
  function row(side, initial, content) {
    const el = h('div', 'sandbox-row' + (side === 'me' ? ' sandbox-row-me' : ''));
    const avatar = side === 'me' ? h('div', 'sandbox-me-avatar', initial) : h('div', 'wc-avatar');
    avatar.setAttribute('aria-hidden', 'true');
    el.append(avatar, content);
    return el;
  }

  function textBubble(text) {
    return h('div', 'sandbox-bubble', text);
  }

  function newsBubble(articles) {
    const box = h('div', 'sandbox-news');
    articles.forEach((a, index) => {
      const link = h('a', index ? 'sandbox-news-item' : 'sandbox-news-lead');
      link.href = /^https?:\/\//i.test(a.url || '') ? a.url : '#';
      link.target = '_blank';
      link.rel = 'noopener noreferrer';
      if (index) {
        link.append(h('span', '', a.title));
        if (a.picurl) link.appendChild(picture(a.picurl));
      } else {
        if (a.picurl) link.appendChild(picture(a.picurl));
        else box.classList.add('sandbox-news-lead-only');
        link.appendChild(h('div', 'sandbox-news-lead-title', a.title));
      }
      box.appendChild(link);
      if (!index && a.description && articles.length === 1) box.appendChild(h('div', 'sandbox-news-desc', a.description));
    });
    return box;
  }

  /* What the app said: a text or news message, or a passive reply. */
  function appBubble(message) {
    if (message.recalled) return h('div', 'sandbox-recalled', _('The app recalled this message.'));
    const content = message.type === 'news' ? newsBubble(message.articles || []) : textBubble(message.content);
    return row('app', '', content);
  }

  /* What the employee sent: a text, a place or a picture; menu taps as a line in the middle. */
  function ownContent(message, initial) {
    if (message.side === 'event') {
      if (message.type === 'enter_agent') return null;
      const text = message.type === 'click' ? _('Menu: %(key)s', {key: message.key})
        : _('Menu link: %(key)s', {key: message.key});
      return h('div', 'sandbox-event', text);
    }
    let bubble;
    if (message.type === 'location') {
      bubble = h('div', 'sandbox-bubble');
      bubble.append(h('div', 'sandbox-place-label', message.label),
        h('div', 'sandbox-place-where', message.latitude + ', ' + message.longitude));
    } else if (message.type === 'image') {
      bubble = h('div', 'sandbox-bubble sandbox-bubble-picture');
      bubble.appendChild(picture(message.picurl));
    } else {
      bubble = textBubble(message.content);
    }
    return row('me', initial, bubble);
  }

  function ownNote(message) {
    const note = h('div', 'sandbox-note' + (message.side === 'event' ? ' sandbox-note-event' : ''));
    if (message.status === 'failed' || message.problem) note.classList.add('text-danger');
    if (message.status === 'failed') note.textContent = _('Not delivered: %(why)s', {why: message.problem || ''});
    else if (message.problem) note.textContent = message.problem;
    else if (message.status !== 'delivered') note.textContent = (STATUS[message.status] || [message.status])[0] + '…';
    return note;
  }

  function renderMessage(message, initial) {
    const item = h('article', 'sandbox-message');
    item.dataset.entry = message.id;
    item.dataset.testid = message.side === 'app' ? 'app-message' : 'own-message';
    item.appendChild(h('div', 'sandbox-time', message.time));
    if (message.side === 'app') {
      item.appendChild(appBubble(message));
      return item;
    }
    const own = ownContent(message, initial);
    if (own) item.appendChild(own);
    item.appendChild(ownNote(message));
    if (message.reply) {
      const reply = appBubble(message.reply);
      reply.classList.add('mt-2');
      reply.dataset.testid = 'reply';
      item.appendChild(reply);
    }
    return item;
  }

  class Inbox {
    constructor(root) {
      this.root = root;
      this.feedUrl = root.dataset.feedUrl;
      this.actUrl = root.dataset.actUrl;
      this.sayUrl = root.dataset.sayUrl;
      this.initial = root.dataset.initial;
      this.csrf = root.dataset.csrf;
      this.entries = new Map(); // entry key -> {el, sig, card}
      this.echoes = new Map(); // own messages posted but not yet in the feed: key -> message
      this.notes = new Map(); // card id -> {text, error}: what this page did last
      this.callbacks = new Map(); // callback id -> {el, sig}
      this.list = document.getElementById('callbacks');
      this.idle = document.getElementById('worker-idle');
      this.menu = new Menu(this);
      this.composer = new Composer(this);
      this.timer = null;
      this.fastUntil = 0;
      this.inFlight = false;
      this.again = false;
    }

    start() {
      this.post({kind: 'enter_agent'}).catch(() => { /* the app decides; nothing to show */ });
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

    soon() {
      this.fastUntil = Date.now() + FAST_FOR_MS;
      this.poll();
    }

    /* POST to the app as the employee (a message, a place, a picture, a menu tap, entering). */
    post(data) {
      return fetch(this.sayUrl, {
        method: 'POST', credentials: 'same-origin',
        headers: {'Content-Type': 'application/json', 'X-CSRFToken': this.csrf, Accept: 'application/json'},
        body: JSON.stringify(data),
      }).then((r) => r.json().catch(() => ({})).then((answer) => {
        if (!r.ok) throw new Error(answer.error || _('The sandbox answered HTTP %(status)s.', {status: r.status}));
        if (answer.message) this.echoes.set(answer.message.id, answer.message);
        this.soon();
        return answer;
      }));
    }

    update(feed) {
      (feed.messages || []).forEach((m) => this.echoes.delete(m.id));
      this.updateConversation(feed.cards, (feed.messages || []).concat(Array.from(this.echoes.values())));
      this.updateCallbacks(feed.callbacks);
      this.menu.update(feed.menu || []);
      if (this.idle) this.idle.hidden = !feed.worker_idle;
    }

    updateConversation(cards, messages) {
      const atBottom = this.root.scrollHeight - this.root.scrollTop - this.root.clientHeight < 40;
      const shown = messages.filter((m) => m.type !== 'enter_agent' || m.reply); // entering: only its welcome
      const items = cards.map((card) => ({key: 'card-' + card.id, at: card.at, card}))
        .concat(shown.map((message) => ({key: message.id, at: message.at, message})))
        .sort((a, b) => a.at - b.at);
      Array.from(this.root.children).forEach((el) => { if (!el.dataset.entry) el.remove(); });
      if (!items.length) {
        this.root.appendChild(h('p', 'sandbox-empty', _('Nothing here yet. Send a campaign to this employee, or write to the app below.')));
      }
      let grew = false;
      let lastTime = null;
      items.forEach((item, index) => {
        const entry = this.entry(item);
        if (!entry.placed) grew = entry.placed = true;
        const time = entry.el.querySelector(':scope > .sandbox-time');
        if (time) time.hidden = time.textContent === lastTime;
        lastTime = time ? time.textContent : lastTime;
        if (this.root.children[index] !== entry.el) this.root.insertBefore(entry.el, this.root.children[index] || null);
      });
      const keys = new Set(items.map((item) => item.key));
      this.entries.forEach((entry, key) => {
        if (!keys.has(key)) {
          entry.el.remove();
          this.entries.delete(key);
        }
      });
      if (grew && atBottom) this.root.scrollTop = this.root.scrollHeight;
    }

    /* The element of one item, drawn again only when it changed (a card: its version). */
    entry(item) {
      let entry = this.entries.get(item.key);
      const sig = item.card ? item.card.version + ':' + item.card.recalled : JSON.stringify(item.message);
      if (!entry || entry.sig !== sig) {
        const el = item.card ? this.renderCard(item.card) : renderMessage(item.message, this.initial);
        if (entry) entry.el.replaceWith(el);
        entry = {el, sig, placed: Boolean(entry)};
        this.entries.set(item.key, entry);
      }
      if (item.card) this.renderStatus(entry.el.querySelector('.sandbox-status'), item.card);
      return entry;
    }

    renderCard(card) {
      const item = h('article', 'sandbox-message');
      item.dataset.entry = 'card-' + card.id;
      item.dataset.cardId = card.id;
      item.dataset.testid = 'inbox-card';
      item.appendChild(h('div', 'sandbox-time', card.time));
      if (card.recalled) {
        item.appendChild(h('div', 'sandbox-recalled', _('The app recalled this message.')));
      } else {
        const body = h('div');
        item.appendChild(row('app', '', body));
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
        if (action.url && /^https?:\/\//i.test(action.url)) openLink(action.url);
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
        this.soon();
      })).catch((err) => this.note(card, err.message, true));
    }

    note(card, text, error) {
      this.notes.set(card.id, {text, error});
      const entry = this.entries.get('card-' + card.id);
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

  /* --- the composer: text (Enter sends), the sample place and picture ---------------------- */

  class Composer {
    constructor(inbox) {
      this.inbox = inbox;
      this.form = document.getElementById('composer');
      this.text = document.getElementById('composer-text');
      this.error = document.getElementById('composer-error');
      if (!this.form) return;
      this.form.addEventListener('submit', (e) => {
        e.preventDefault();
        this.sendText();
      });
      this.text.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
          e.preventDefault();
          this.sendText();
        }
      });
      this.text.addEventListener('input', () => this.fit());
      this.form.querySelectorAll('[data-send]').forEach((button) => {
        button.addEventListener('click', () => this.send({kind: button.dataset.send}));
      });
    }

    fit() {
      this.text.style.height = 'auto';
      this.text.style.height = Math.min(this.text.scrollHeight + 2, 96) + 'px';
    }

    sendText() {
      const text = this.text.value;
      if (!text.trim()) return;
      this.send({kind: 'text', text}).then((answer) => {
        if (!answer) return;
        this.text.value = '';
        this.fit();
      });
    }

    send(data) {
      this.inbox.root.scrollTop = this.inbox.root.scrollHeight; // the new message shows at the bottom
      return this.inbox.post(data).catch((err) => this.fail(err.message));
    }

    fail(text) {
      this.error.textContent = text;
      this.error.hidden = false;
      clearTimeout(this.errorTimer);
      this.errorTimer = setTimeout(() => { this.error.hidden = true; }, 6000);
      return null;
    }
  }

  /* --- the app's menu, drawn like WeCom's: up to 3 buttons, groups pop up ------------------- */

  class Menu {
    constructor(inbox) {
      this.inbox = inbox;
      this.bar = document.getElementById('chat-menu');
      this.buttons = document.getElementById('chat-menu-buttons');
      this.composer = document.getElementById('composer');
      this.sig = null;
      this.drawn = false;
      if (!this.bar) return;
      document.querySelectorAll('[data-switch]').forEach((button) => {
        button.addEventListener('click', () => this.show(button.dataset.switch === 'menu', true));
      });
      document.addEventListener('click', (e) => { if (!this.bar.contains(e.target)) this.closePops(); });
    }

    update(buttons) {
      if (!this.bar) return;
      const sig = JSON.stringify(buttons);
      if (sig === this.sig) return;
      this.sig = sig;
      this.buttons.replaceChildren(...buttons.map((button, i) => this.item(button, [i])));
      this.composer.querySelector('[data-switch=menu]').hidden = !buttons.length;
      if (!buttons.length) this.show(false);
      else if (!this.drawn) this.show(true); // like WeCom: an app with a menu opens on it
      this.drawn = this.drawn || buttons.length > 0;
    }

    show(menu, focus) {
      this.bar.hidden = !menu;
      this.composer.hidden = menu;
      this.closePops();
      if (!menu && focus) document.getElementById('composer-text').focus({preventScroll: true});
    }

    item(button, path) {
      const item = h('div', 'sandbox-menu-item');
      const subs = Array.isArray(button.sub_button) ? button.sub_button : null;
      const top = h('button', 'sandbox-menu-button', (subs ? '≡ ' : '') + button.name);
      top.type = 'button';
      item.appendChild(top);
      if (!subs) {
        top.addEventListener('click', () => this.press(button, path));
        return item;
      }
      const pop = h('div', 'sandbox-menu-pop');
      pop.hidden = true;
      subs.forEach((sub, j) => {
        const entry = h('button', 'sandbox-menu-button', sub.name);
        entry.type = 'button';
        entry.addEventListener('click', () => this.press(sub, path.concat([j])));
        pop.appendChild(entry);
      });
      top.setAttribute('aria-expanded', 'false');
      top.addEventListener('click', () => {
        const open = pop.hidden;
        this.closePops();
        pop.hidden = !open;
        top.setAttribute('aria-expanded', String(open));
      });
      item.appendChild(pop);
      return item;
    }

    closePops() {
      if (!this.bar) return;
      this.bar.querySelectorAll('.sandbox-menu-pop').forEach((pop) => { pop.hidden = true; });
      this.bar.querySelectorAll('[aria-expanded]').forEach((b) => b.setAttribute('aria-expanded', 'false'));
    }

    /* A button does what it does in WeCom, and its event goes to the app as WeCom posts it. */
    press(button, path) {
      this.closePops();
      if (button.type === 'view') openLink(button.url);
      if (button.type === 'view_miniprogram') this.inbox.composer.fail(_('Mini-program links open only in the WeCom client.'));
      this.inbox.post({kind: 'menu', button: path}).catch((err) => this.inbox.composer.fail(err.message));
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
    item.append(head, h('div', 'small', cb.chat ? cb.title : cb.title + ' — ' + describe(cb)));
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
