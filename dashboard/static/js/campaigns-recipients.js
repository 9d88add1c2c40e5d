/* Recipients page: the people picker (Tom Select over the directory's search, chips for what is
 * chosen), the live count of people, a pasted list or a CSV read at once (the good lines become
 * chips, the others are listed, names several members share are offered to pick from), and the
 * confirmation asked only when @all is ticked. The form still posts its own fields.
 */
(function () {
  'use strict';

  const COUNT_DELAY = 150;
  const $ = (id) => document.getElementById(id);
  const form = $('recipients-form');
  if (!form) return;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const kinds = {user: _('Person'), department: _('Department'), tag: _('Tag')};
  let countTimer = null;

  function post(url, body) {
    return fetch(url, {
      method: 'POST', credentials: 'same-origin', body,
      headers: {'X-CSRFToken': csrf, Accept: 'application/json'},
    }).then((response) => {
      if (!response.ok) throw new Error(String(response.status));
      return response.json();
    });
  }

  function search(query, callback) {
    const url = form.dataset.searchUrl + '?q=' + encodeURIComponent(query);
    fetch(url, {credentials: 'same-origin', headers: {Accept: 'application/json'}})
      .then((response) => response.json())
      .then((json) => callback(json.items))
      .catch(() => callback());
  }

  const render = {
    option: (item, escape) => '<div class="picker-option"><span class="picker-kind picker-kind-'
      + escape(item.kind) + '">' + escape(kinds[item.kind] || '') + '</span> <span class="picker-label">'
      + escape(item.label) + '</span>' + (item.detail ? ' <small class="picker-detail">' + escape(item.detail)
      + '</small>' : '') + '</div>',
    item: (item, escape) => '<div class="picker-chip picker-kind-' + escape(item.kind) + '" title="'
      + escape(item.detail || kinds[item.kind] || '') + '">' + escape(item.label) + '</div>',
    no_results: (data, escape) => '<div class="no-results">' + escape(_('Nothing found')) + '</div>',
    loading: (data, escape) => '<div class="p-2 text-secondary">' + escape(_('Searching…')) + '</div>',
  };

  function picker(select) {
    return new TomSelect(select, {
      plugins: {remove_button: {title: _('Remove')}},
      valueField: 'value', labelField: 'label', searchField: ['label', 'keys', 'detail'],
      dataAttr: 'data-data', create: false, maxOptions: 50, hideSelected: true,
      preload: 'focus', shouldLoad: () => true, load: search, render,
      placeholder: select.dataset.placeholder, clearAfterSelect: true,
      onChange: scheduleCount,
    });
  }

  const chosen = picker($('chosen'));
  picker($('excluded'));

  function scheduleCount() {
    clearTimeout(countTimer);
    countTimer = setTimeout(updateCount, COUNT_DELAY);
  }

  function updateCount() {
    const data = new FormData(form);
    data.delete('upload');
    data.delete('pasted');
    post(form.dataset.countUrl, data)
      .then((json) => { $('picker-count').textContent = json.text; })
      .catch(() => { $('picker-count').textContent = ''; });
  }

  function choose(items) {  // in one batch: a file of a thousand people stays quick
    chosen.addOptions(items);
    chosen.addItems(items.map((item) => item.value), true);
    scheduleCount();
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function ambiguousBlock(entry) {
    const block = element('div', 'picker-ambiguous border rounded p-2 mb-2');
    block.append(element('p', 'mb-1', _('Line %(line)s: several members are called “%(name)s”. Pick one:',
                                        {line: entry.line, name: entry.name})));
    const buttons = element('div', 'd-flex flex-wrap gap-2');
    entry.choices.forEach((item) => {
      const button = element('button', 'btn btn-sm btn-outline-primary text-start');
      button.type = 'button';
      button.append(element('span', '', item.label), element('small', 'd-block text-secondary', item.detail));
      button.addEventListener('click', () => { choose([item]); block.remove(); });
      buttons.append(button);
    });
    block.append(buttons);
    return block;
  }

  function showImport(answer) {
    const report = $('import-report');
    report.replaceChildren();
    choose(answer.kept);
    const added = _('%(n)s added to the list.', {n: answer.kept.length});
    report.append(element('p', 'small mb-1 text-success', added));
    if (answer.problems.length) {
      report.append(element('p', 'small mb-1 text-danger', _('Left out:')));
      const list = element('ul', 'small text-danger picker-problems');
      answer.problems.forEach((text) => list.append(element('li', '', text)));
      report.append(list);
    }
    answer.ambiguous.forEach((entry) => report.append(ambiguousBlock(entry)));
  }

  function readImport(field, value) {
    const data = new FormData();
    data.append(field, value);
    return post(form.dataset.parseUrl, data).then((answer) => { showImport(answer); return true; }, () => {
      $('import-report').replaceChildren(element('p', 'small text-danger', _('Could not read it; try again.')));
      return false;
    });
  }

  const upload = $('upload');
  upload.addEventListener('change', () => {
    if (upload.files.length) readImport('upload', upload.files[0]);
  });
  $('add-pasted').addEventListener('click', () => {
    const pasted = $('pasted');
    if (!pasted.value.trim()) return;
    readImport('pasted', pasted.value).then((read) => { if (read) pasted.value = ''; });
  });

  const everyone = $('everyone');
  const confirmBox = $('confirm-everyone');
  const syncEveryone = () => { confirmBox.hidden = !everyone.checked; };
  everyone.addEventListener('change', () => { syncEveryone(); scheduleCount(); });
  $('audience').addEventListener('change', scheduleCount);
  syncEveryone();
  updateCount();
})();
