/* Pictures in the designer: an Upload button, a drop zone and "Choose from library" beside every
 * image URL field (issue 21). WeCom takes only image URLs in cards, and its media/uploadimg hosts a
 * JPG or PNG of at most 2 MB for good; the server (POST /images/upload) checks the bytes and
 * uploads, and /images/list offers what was uploaded before.
 *
 *   DesignerImages.isImagePath("card_image.url")      true for the fields that take a picture
 *   DesignerImages.attach(wrap, input)                 the tools, in the field's wrapper
 *
 * The URL lands in the field through the same `input` event as typing, so the card, the preview
 * and the JSON follow at once. Only the size is checked here (before anything leaves the browser);
 * the type, by the file's bytes, is the server's to check.
 *
 * It needs none of the designer's other scripts: only the page's picker (images/_picker.html: the
 * modal, with the upload and list URLs and the CSRF token in its data attributes), Bootstrap and
 * i18n.js, so the reply rules' editor gives its news articles' pictures the same tools.
 */
(function () {
  'use strict';

  const MAX_BYTES = 2 * 1024 * 1024; // WeCom's limit for media/uploadimg
  const CARD_RATIO = {min: 1.3, max: 2.25}; // card_image.aspect_ratio: 1.3 <= r < 2.25
  const ICON_SQUARE = {min: 0.8, max: 1.25}; // the source icon is shown square
  const SEARCH_DELAY = 250;
  const IMAGE_PATH = /(^|\.)(icon_url|image_url)$|^card_image\.url$/;
  const picker = {target: null, timer: null, request: 0};

  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    Object.entries(props || {}).forEach(([key, value]) => {
      if (value === undefined || value === null || value === false) return;
      if (key === 'class') el.className = value;
      else if (key === 'text') el.textContent = value;
      else el.setAttribute(key, value === true ? '' : value);
    });
    children.filter(Boolean).forEach((child) => el.append(child));
    return el;
  }

  function modal() {
    return document.getElementById('image-picker');
  }

  function csrf() {
    return modal().dataset.csrfToken || '';
  }

  function isImagePath(path) {
    return IMAGE_PATH.test(path || '');
  }

  function sizeText(bytes) {
    return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;
  }

  /* A URL the thumbnail may show: the field may hold anything while someone types. */
  function showable(url) {
    return /^(https?:)?\/\//.test(url) || /^\/[^/]/.test(url);
  }

  /* --- the field's tools ------------------------------------------------------------------- */

  function attach(wrap, input) {
    const path = input.dataset.path || ''; // the designer's card path; a rule's picurl has none
    const file = h('input', {type: 'file', accept: 'image/png,image/jpeg', hidden: true, tabindex: '-1', 'aria-hidden': 'true'});
    const upload = h('button', {type: 'button', class: 'btn btn-sm btn-outline-primary designer-image-upload', text: _('Upload a picture')});
    const choose = h('button', {type: 'button', class: 'btn btn-sm btn-outline-secondary designer-image-choose', text: _('Choose from library')});
    const thumb = h('img', {class: 'designer-image-thumb', alt: '', referrerpolicy: 'no-referrer', hidden: true});
    const busy = h('span', {class: 'designer-image-busy small text-secondary', role: 'status', hidden: true},
      h('span', {class: 'spinner-border spinner-border-sm me-1', 'aria-hidden': 'true'}), document.createTextNode(_('Uploading…')));
    const error = h('div', {class: 'designer-image-error text-danger small mt-1', role: 'alert', hidden: true});
    const note = h('div', {class: 'designer-image-note small text-warning-emphasis bg-warning-subtle rounded px-2 py-1 mt-1', hidden: true});
    const field = {wrap, input, path, file, upload, choose, thumb, busy, error, note};
    wrap.classList.add('designer-image-field');
    if (path) wrap.dataset.imagePath = path;
    input.after(h('div', {class: 'designer-image-tools d-flex flex-wrap align-items-center gap-2 mt-1'},
      thumb, upload, choose, h('span', {class: 'designer-image-hint small text-secondary', text: _('or drop a picture here')}), busy, file),
    error, note);
    upload.addEventListener('click', () => file.click());
    file.addEventListener('change', () => {
      if (file.files.length) send(field, file.files[0]);
      file.value = '';
    });
    choose.addEventListener('click', () => openPicker(field));
    input.addEventListener('input', () => forget(field));
    dropZone(field);
    showThumb(field);
  }

  function dropZone(field) {
    const {wrap} = field;
    const carriesFiles = (event) => event.dataTransfer && Array.from(event.dataTransfer.types || []).includes('Files');
    wrap.addEventListener('dragover', (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = 'copy';
      wrap.classList.add('designer-image-drop');
    });
    wrap.addEventListener('dragleave', (event) => {
      if (!wrap.contains(event.relatedTarget)) wrap.classList.remove('designer-image-drop');
    });
    wrap.addEventListener('drop', (event) => {
      wrap.classList.remove('designer-image-drop');
      const files = event.dataTransfer ? event.dataTransfer.files : null;
      if (!files || !files.length) return;
      event.preventDefault();
      send(field, files[0]);
    });
  }

  /* A typed (or cleared) URL is another picture: the last upload's error and shape note no
   * longer apply. use() shows the new picture's note after its own input event. */
  function forget(field) {
    showError(field, '');
    field.note.hidden = true;
    showThumb(field);
  }

  function showThumb(field) {
    const url = field.input.value.trim();
    field.thumb.hidden = !showable(url);
    if (showable(url) && field.thumb.getAttribute('src') !== url) field.thumb.src = url;
  }

  function setBusy(field, busy) {
    field.busy.hidden = !busy;
    field.upload.disabled = busy;
    field.choose.disabled = busy;
    field.wrap.setAttribute('aria-busy', busy ? 'true' : 'false');
  }

  function showError(field, message) {
    field.error.textContent = message || '';
    field.error.hidden = !message;
  }

  /* --- uploading --------------------------------------------------------------------------- */

  function send(field, file) {
    showError(field, '');
    field.note.hidden = true;
    if (file.size > MAX_BYTES) {
      showError(field, _('This picture is %(size)s: WeCom takes pictures of at most 2 MB. Make it smaller and try again.', {size: sizeText(file.size)}));
      return;
    }
    const body = new FormData();
    body.append('file', file, file.name);
    setBusy(field, true);
    fetch(modal().dataset.uploadUrl, {
      method: 'POST', credentials: 'same-origin', body,
      headers: {'X-CSRFToken': csrf(), Accept: 'application/json'},
    }).then((response) => response.json().catch(() => ({}))
      .then((json) => ({ok: response.ok, status: response.status, json})))
      .then(({ok, status, json}) => {
        if (!ok || !json.url) {
          showError(field, json.error || _('The upload failed (HTTP %(status)s). Nothing was changed.', {status}));
          return;
        }
        use(field, json);
      })
      .catch(() => showError(field, _('The upload failed: the server did not answer. Nothing was changed.')))
      .finally(() => setBusy(field, false));
  }

  /* Fill the field as typing would (the card, the preview and the JSON follow), then say whether
   * the picture's shape fits where WeCom shows it. */
  function use(field, image) {
    field.input.value = image.url;
    field.input.dispatchEvent(new Event('input', {bubbles: true}));
    showShapeNote(field, image.width, image.height);
  }

  /* --- the shape: card images between 1.3 and 2.25, a square icon -------------------------- */

  function showShapeNote(field, width, height) {
    field.note.replaceChildren();
    field.note.hidden = true;
    if (!(width > 0 && height > 0)) return;
    const ratio = width / height;
    const shown = ratio.toFixed(2);
    if (/^card_image\.url$/.test(field.path) && (ratio < CARD_RATIO.min || ratio >= CARD_RATIO.max)) {
      field.note.append(document.createTextNode(_('This picture is %(width)s×%(height)s (ratio %(ratio)s); WeCom shows card images between 1.3 and 2.25 — it will be cropped.',
        {width, height, ratio: shown})));
      offerRatio(field, Math.min(Math.max(ratio, CARD_RATIO.min), CARD_RATIO.max - 0.01));
      field.note.hidden = false;
    } else if (/(^|\.)icon_url$/.test(field.path) && (ratio < ICON_SQUARE.min || ratio > ICON_SQUARE.max)) {
      field.note.textContent = _('This picture is %(width)s×%(height)s; the source icon is shown square, so it will be cropped. A square picture looks best.',
        {width, height});
      field.note.hidden = false;
    }
  }

  /* A button that sets card_image.aspect_ratio (the field beside the URL) to the nearest ratio
   * WeCom accepts, again through the same input event as typing. */
  function offerRatio(field, ratio) {
    const target = field.wrap.parentElement.querySelector(
      `[data-path="${CSS.escape(field.path.replace(/url$/, 'aspect_ratio'))}"]`);
    if (!target) return;
    const value = ratio.toFixed(2);
    const button = h('button', {type: 'button', class: 'btn btn-sm btn-warning ms-2 py-0 designer-image-ratio',
      text: _('Set the aspect ratio to %(ratio)s', {ratio: value})});
    button.addEventListener('click', () => {
      target.value = value;
      target.dispatchEvent(new Event('input', {bubbles: true}));
      button.replaceWith(document.createTextNode(' ' + _('Aspect ratio set to %(ratio)s.', {ratio: value})));
    });
    field.note.append(button);
  }

  /* --- the library picker ------------------------------------------------------------------ */

  function openPicker(field) {
    const box = modal();
    picker.target = field;
    box.querySelector('#image-picker-search').value = '';
    loadLibrary('');
    bootstrap.Modal.getOrCreateInstance(box).show();
  }

  function loadLibrary(query) {
    const box = modal();
    const list = box.querySelector('#image-picker-list');
    const status = box.querySelector('#image-picker-status');
    const request = (picker.request += 1);
    status.textContent = _('Loading…');
    const url = `${box.dataset.listUrl}?q=${encodeURIComponent(query)}`;
    fetch(url, {credentials: 'same-origin', headers: {Accept: 'application/json'}})
      .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
      .then((json) => {
        if (request !== picker.request) return; // a newer search is on its way
        const items = json.items || [];
        list.replaceChildren(...items.map(libraryItem));
        if (items.length) status.textContent = '';
        else status.textContent = query ? _('No picture matches “%(query)s”.', {query}) : _('No pictures yet: upload one first.');
      })
      .catch(() => {
        if (request === picker.request) status.textContent = _('The library could not be loaded. Try again.');
      });
  }

  function libraryItem(image) {
    const button = h('button', {type: 'button', class: 'designer-library-item btn btn-outline-secondary text-start w-100 h-100'},
      h('img', {src: image.url, alt: '', loading: 'lazy', referrerpolicy: 'no-referrer', class: 'designer-library-thumb'}),
      h('span', {class: 'd-block small text-truncate fw-semibold mt-1', text: image.name}),
      h('span', {class: 'd-block small text-secondary', text: `${image.width}×${image.height} · ${sizeText(image.bytes)}`}));
    button.title = image.name;
    button.addEventListener('click', () => {
      const field = picker.target;
      bootstrap.Modal.getOrCreateInstance(modal()).hide();
      if (!field || !field.input.isConnected) return;
      showError(field, '');
      use(field, image);
      field.input.focus({preventScroll: true});
    });
    return h('div', {class: 'col-6 col-sm-4'}, button);
  }

  function setupPicker() {
    const box = modal();
    if (!box) return;
    box.querySelector('#image-picker-search').addEventListener('input', (event) => {
      clearTimeout(picker.timer);
      picker.timer = setTimeout(() => loadLibrary(event.target.value.trim()), SEARCH_DELAY);
    });
    box.addEventListener('shown.bs.modal', () => box.querySelector('#image-picker-search').focus());
  }

  setupPicker();
  window.DesignerImages = {isImagePath, attach};
}());
