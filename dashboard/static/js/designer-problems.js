/* The card's problems (from wecom/cards.py, via the preview endpoint) shown at their fields, plus a
 * summary with links to each field.
 *
 *   DesignerProblems.show(fieldsContainer, summaryElement, errors, warnings)
 *       errors, warnings: [{path, message}]
 *
 * Warnings are where WeCom truncates a text or falls back to a default: a yellow note at the field
 * and a list under the summary. They are not problems: the card stays usable (Save and Send are
 * the caller's, counted from errors only).
 *
 * An error whose field is not on screen (a hidden field, a missing block) goes to the nearest
 * enclosing element that carries a data-path: "button_list[2].url" -> "button_list[2]" -> ...
 * The summary names each field as the form does (DesignerProblems.fieldLabel, a mirror of
 * dashboard/cards/spec.field_label, built from the designer spec in #designer-data).
 */
(function () {
  'use strict';

  let formNodes = null;

  /* Every form node of every card type by its path pattern ("checkbox.option_list[].text"). */
  function nodesByPattern() {
    if (formNodes) return formNodes;
    formNodes = new Map();
    const data = document.getElementById('designer-data');
    const spec = data ? JSON.parse(data.textContent).spec : {types: {}};
    const walk = (nodes, prefix) => (nodes || []).forEach((node) => {
      const pattern = prefix + node.name;
      formNodes.set(pattern, node);
      walk(node.fields, pattern + (node.kind === 'list' ? '[].' : '.'));
    });
    Object.values(spec.types).forEach((type) => walk(type.blocks, ''));
    return formNodes;
  }

  /* "checkbox.option_list[2].text" -> "Vote · Option 3 · Text" (section · item · field, the form's
   * own words); an unknown path comes back as given. */
  function fieldLabel(path) {
    if (!/^\w+(\[\d+\])?(\.\w+(\[\d+\])?)*$/.test(path || '')) return path;
    const nodes = nodesByPattern();
    const words = [];
    const parts = [];
    for (const [, key, index] of path.matchAll(/(\w+)(?:\[(\d+)\])?/g)) {
      parts.push(key);
      const node = nodes.get(parts.join('.'));
      if (!node || (index !== undefined && node.kind !== 'list')) return path;
      if (index === undefined || parts.length === 1) words.push(node.label);
      if (index !== undefined) {
        const noun = node.item_label || _('item');
        words.push(`${noun[0].toUpperCase()}${noun.slice(1)} ${Number(index) + 1}`);
        parts[parts.length - 1] = `${key}[]`;
      }
    }
    return words.join(' · ');
  }

  function parentPath(path) {
    const cut = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
    return cut > 0 ? path.slice(0, cut) : '';
  }

  function findTarget(container, path) {
    for (let p = path || ''; p; p = parentPath(p)) {
      const el = container.querySelector(`[data-path="${CSS.escape(p)}"]`);
      if (el) return el;
    }
    return null;
  }

  /* A note at a field: an error (red; marks the field invalid elsewhere) or a warning (a yellow
   * note, styled apart: it marks no field invalid). */
  function fieldNote(item, className, pathKey) {
    const el = document.createElement('div');
    el.className = className;
    el.dataset[pathKey] = item.path;
    el.textContent = item.message;
    return el;
  }

  function note(error) {
    return fieldNote(error, 'designer-error invalid-feedback d-block', 'errorPath');
  }

  function warningNote(warning) {
    return fieldNote(warning, 'designer-warning small text-warning-emphasis bg-warning-subtle rounded px-2 py-1 mt-1',
                     'warningPath');
  }

  function place(target, message) {
    if (target.matches('input, select, textarea')) {
      target.closest('.designer-field').append(message);
      return;
    }
    message.classList.add(...(message.matches('.designer-warning') ? ['mx-3', 'mt-2'] : ['px-3', 'pt-2']));
    const anchor = target.matches('section') ? target.querySelector('.card-header') : target.firstElementChild;
    if (anchor) anchor.after(message); else target.prepend(message);
  }

  function markFields(container, errors, warnings) {
    container.querySelectorAll('.designer-error, .designer-warning').forEach((el) => el.remove());
    container.querySelectorAll('.is-invalid').forEach((el) => el.classList.remove('is-invalid'));
    container.querySelectorAll('.designer-invalid').forEach((el) => el.classList.remove('designer-invalid'));
    errors.forEach((error) => {
      const target = findTarget(container, error.path);
      if (!target) return;
      target.classList.add(target.matches('input, select, textarea') ? 'is-invalid' : 'designer-invalid');
      place(target, note(error));
    });
    warnings.forEach((warning) => {
      const target = findTarget(container, warning.path);
      if (target) place(target, warningNote(warning));
    });
  }

  function goTo(container, path) {
    const target = findTarget(container, path);
    if (!target) return;
    target.scrollIntoView({block: 'center'});
    const input = target.matches('input, select, textarea') ? target : target.querySelector('input, select, textarea');
    if (input) input.focus({preventScroll: true});
  }

  /* One link per problem or warning, to its field. */
  function linkList(container, items, linkClass) {
    const list = document.createElement('ul');
    list.className = 'mb-0 ps-3';
    items.forEach((item) => {
      const link = document.createElement('a');
      link.href = '#';
      link.className = linkClass;
      link.textContent = fieldLabel(item.path) || _('card');
      link.addEventListener('click', (event) => {
        event.preventDefault();
        goTo(container, item.path);
      });
      const entry = document.createElement('li');
      entry.append(link, document.createTextNode(': ' + item.message));
      list.append(entry);
    });
    return list;
  }

  function warningSummary(container, warnings) {
    const alert = document.createElement('div');
    alert.className = 'alert alert-warning py-2 small designer-warnings';
    const head = document.createElement('div');
    head.className = 'fw-semibold';
    head.textContent = warnings.length > 1
      ? _('%(n)s warnings — WeCom shortens or changes these fields; the card can still be used.', {n: warnings.length})
      : _('%(n)s warning — WeCom shortens or changes this field; the card can still be used.', {n: warnings.length});
    alert.append(head, linkList(container, warnings, 'link-warning'));
    return alert;
  }

  function summary(container, box, errors, warnings) {
    const alert = document.createElement('div');
    const extra = warnings.length ? [warningSummary(container, warnings)] : [];
    if (!errors.length) {
      alert.className = 'alert alert-success py-2 small';
      alert.textContent = _('No problems: this card can be used in a campaign.');
      box.replaceChildren(alert, ...extra);
      return;
    }
    alert.className = 'alert alert-danger py-2 small';
    const head = document.createElement('div');
    head.className = 'fw-semibold';
    head.textContent = errors.length > 1
      ? _("%(n)s problems — can't be used in a campaign until fixed (you can still save a draft).", {n: errors.length})
      : _("%(n)s problem — can't be used in a campaign until fixed (you can still save a draft).", {n: errors.length});
    alert.append(head, linkList(container, errors, 'link-danger'));
    box.replaceChildren(alert, ...extra);
  }

  function show(container, box, errors, warnings) {
    markFields(container, errors, warnings || []);
    summary(container, box, errors, warnings || []);
  }

  window.DesignerProblems = {show, findTarget, fieldLabel};
}());
