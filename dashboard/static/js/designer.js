/* The card designer page: live preview, problems at their fields, import / export, autosave and the
 * unsaved-changes warning (card, name and the after-click fields, which the one Save keeps together;
 * an unsaved starter copy has no autosave: drafts belong to a saved card). "Send this card" saves,
 * then opens a new campaign; it is disabled while the card has problems. The form itself is built by designer-fields.js; the card is rendered by
 * card-render.js; the JSON comes from the server's payload builder (POST preview).
 */
(function () {
  'use strict';

  const PREVIEW_DELAY = 250;
  const AUTOSAVE_DELAY = 3000;
  const $ = (id) => document.getElementById(id);
  const data = JSON.parse($('designer-data').textContent);
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const els = {
    fields: $('designer-fields'), preview: $('card-preview'), payload: $('payload-json'),
    problems: $('problems'), note: $('client-note'), hidden: $('template_card'), name: $('name'),
    status: $('save-status'), form: $('card-form'), send: $('send-button'), sendWrap: $('send-wrap'),
  };
  const state = {card: data.card, dirty: data.unsaved, errors: [], warnings: [], previewTimer: null, autosaveTimer: null, request: null};

  function post(url, body) {
    return fetch(url, {
      method: 'POST', credentials: 'same-origin', body: JSON.stringify(body),
      headers: {'Content-Type': 'application/json', 'X-CSRFToken': csrf, Accept: 'application/json'},
    }).then((response) => response.json().then((json) => ({ok: response.ok, json})));
  }

  function typeSpec() {
    return data.spec.types[state.card.card_type];
  }

  function renderForm(focusPath) {
    DesignerFields.render(els.fields, typeSpec().blocks, state.card, {onChange, focusPath});
    showErrors(state.errors);
  }

  function renderCard() {
    CardRender.render(els.preview, state.card, {interactive: false});
    const notes = [typeSpec().client_note];
    const rows = Array.isArray(state.card.horizontal_content_list) ? state.card.horizontal_content_list : [];
    if (rows.some((row) => row && row.type === 2)) notes.push(data.spec.attachment_note);
    els.note.textContent = notes.join(' ');
  }

  function sync() {
    els.hidden.value = JSON.stringify(state.card);
  }

  function setStatus(text) {
    els.status.textContent = text;
  }

  function onChange(opts) {
    if (opts && opts.structural) renderForm(opts.focus);
    else DesignerFields.refreshRefs(els.fields);
    state.dirty = true;
    sync();
    renderCard();
    schedulePreview();
    scheduleAutosave();
  }

  /* --- preview and problems ----------------------------------------------------------------- */

  function schedulePreview(delay) {
    clearTimeout(state.previewTimer);
    state.previewTimer = setTimeout(runPreview, delay === undefined ? PREVIEW_DELAY : delay);
  }

  function runPreview() {
    const sent = JSON.stringify(state.card);
    state.request = sent;
    els.payload.setAttribute('aria-busy', 'true');
    post(data.urls.preview, {template_card: sent}).then(({ok, json}) => {
      if (state.request !== sent) return; // a newer edit is on its way
      els.payload.removeAttribute('aria-busy');
      if (!ok) {
        setStatus(_('Preview failed: %(errors)s', {errors: (json.errors || []).map((e) => e.message).join(' ')}));
        return;
      }
      showPreview(json);
    }).catch(() => setStatus(_('Preview failed: the server did not answer. Your work is still here.')));
  }

  function showPreview(json) {
    els.payload.textContent = JSON.stringify(json.payload, null, 2);
    state.errors = json.errors;
    state.warnings = json.warnings || [];
    showErrors(json.errors);
  }

  function showErrors(errors) {
    DesignerProblems.show(els.fields, els.problems, errors, state.warnings);
    showSendable(errors.length);
  }

  function showSendable(problems) {
    els.send.disabled = problems > 0;
    els.sendWrap.tabIndex = problems > 0 ? 0 : -1;
    els.sendWrap.title = problems > 0
      ? _('Fix the card\'s problems first (%(num)s): a card with problems can\'t be sent.', {num: problems})
      : els.sendWrap.dataset.readyTitle;
  }

  /* --- autosave, restore, leaving -------------------------------------------------------------- */

  function scheduleAutosave() {
    if (!data.urls.autosave) return;
    clearTimeout(state.autosaveTimer);
    state.autosaveTimer = setTimeout(() => {
      post(data.urls.autosave, {template_card: JSON.stringify(state.card), name: els.name.value})
        .then(({ok, json}) => setStatus(ok ? _('Draft autosaved at %(time)s.', {time: new Date(json.saved_at).toLocaleTimeString()}) : _('Autosave failed.')))
        .catch(() => setStatus(_('Autosave failed: the server did not answer.')));
    }, AUTOSAVE_DELAY);
  }

  function setupDraftBanner() {
    const banner = $('draft-banner');
    if (!data.draft) return;
    $('draft-time').textContent = new Date(data.draft.saved_at).toLocaleString();
    banner.hidden = false;
    $('draft-restore').addEventListener('click', () => {
      state.card = data.draft.template_card;
      els.name.value = data.draft.name || els.name.value;
      banner.hidden = true;
      onChange({structural: true});
    });
    $('draft-discard').addEventListener('click', () => {
      post(data.urls.discard, {}).then(() => { banner.hidden = true; });
    });
  }

  window.addEventListener('beforeunload', (event) => {
    if (!state.dirty) return;
    event.preventDefault();
    event.returnValue = '';
  });

  els.form.addEventListener('submit', () => {
    sync();
    state.dirty = false;
    clearTimeout(state.autosaveTimer);
  });

  els.name.addEventListener('input', () => {
    state.dirty = true;
    scheduleAutosave();
  });

  document.querySelectorAll('#after-click [form="card-form"]').forEach((input) => {
    input.addEventListener('input', () => { state.dirty = true; });
  });

  /* --- import and export ---------------------------------------------------------------------- */

  function runImport() {
    const errorsBox = $('import-errors');
    errorsBox.replaceChildren();
    post(data.urls.import, {text: $('import-text').value}).then(({ok, json}) => {
      if (!ok) {
        (json.errors || []).forEach((error) => {
          const item = document.createElement('li');
          item.textContent = (error.path ? error.path + ': ' : '') + error.message;
          errorsBox.append(item);
        });
        return;
      }
      state.card = json.template_card;
      els.fields.designerStash = {};
      const notes = $('import-notes');
      notes.textContent = [_('Imported.')].concat(json.notes).join(' ');
      notes.hidden = false;
      bootstrap.Modal.getOrCreateInstance($('import-modal')).hide();
      state.warnings = json.warnings || [];
      state.errors = json.errors; // shown at once; the payload pane follows from the form's card
      onChange({structural: true});
    });
  }

  function copyText(text, button) {
    const done = () => {
      const label = button.dataset.label || (button.dataset.label = button.textContent);
      button.textContent = _('Copied');
      setTimeout(() => { button.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, () => fallbackCopy(text, done));
    } else fallbackCopy(text, done);
  }

  function fallbackCopy(text, done) {
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.className = 'visually-hidden';
    document.body.append(area);
    area.select();
    document.execCommand('copy');
    area.remove();
    done();
  }

  function download() {
    const blob = new Blob([JSON.stringify(state.card, null, 2)], {type: 'application/json'});
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = (els.name.value || 'card').replace(/[^\w.-]+/g, '-') + '.json';
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  }

  $('import-run').addEventListener('click', runImport);
  $('export-copy').addEventListener('click', (e) => copyText(JSON.stringify(state.card, null, 2), e.currentTarget));
  $('export-download').addEventListener('click', download);
  $('payload-copy').addEventListener('click', (e) => copyText(els.payload.textContent, e.currentTarget));

  renderForm();
  sync();
  renderCard();
  setupDraftBanner();
  schedulePreview(0);
}());
