/* The card's problems (from wecom/cards.py, via the preview endpoint) shown at their fields, plus a
 * summary with links to each field.
 *
 *   DesignerProblems.show(fieldsContainer, summaryElement, errors)   errors: [{path, message}]
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

  function note(error) {
    const el = document.createElement('div');
    el.className = 'designer-error invalid-feedback d-block';
    el.dataset.errorPath = error.path;
    el.textContent = error.message;
    return el;
  }

  function markFields(container, errors) {
    container.querySelectorAll('.designer-error').forEach((el) => el.remove());
    container.querySelectorAll('.is-invalid').forEach((el) => el.classList.remove('is-invalid'));
    container.querySelectorAll('.designer-invalid').forEach((el) => el.classList.remove('designer-invalid'));
    errors.forEach((error) => {
      const target = findTarget(container, error.path);
      if (!target) return;
      const message = note(error);
      if (target.matches('input, select, textarea')) {
        target.classList.add('is-invalid');
        target.closest('.designer-field').append(message);
        return;
      }
      target.classList.add('designer-invalid');
      message.classList.add('px-3', 'pt-2');
      const anchor = target.matches('section') ? target.querySelector('.card-header') : target.firstElementChild;
      if (anchor) anchor.after(message); else target.prepend(message);
    });
  }

  function goTo(container, path) {
    const target = findTarget(container, path);
    if (!target) return;
    target.scrollIntoView({block: 'center'});
    const input = target.matches('input, select, textarea') ? target : target.querySelector('input, select, textarea');
    if (input) input.focus({preventScroll: true});
  }

  function summary(container, box, errors) {
    const alert = document.createElement('div');
    if (!errors.length) {
      alert.className = 'alert alert-success py-2 small';
      alert.textContent = _('No problems: this card can be used in a campaign.');
      box.replaceChildren(alert);
      return;
    }
    alert.className = 'alert alert-danger py-2 small';
    const head = document.createElement('div');
    head.className = 'fw-semibold';
    head.textContent = errors.length > 1
      ? _("%(n)s problems — can't be used in a campaign until fixed (you can still save a draft).", {n: errors.length})
      : _("%(n)s problem — can't be used in a campaign until fixed (you can still save a draft).", {n: errors.length});
    const list = document.createElement('ul');
    list.className = 'mb-0 ps-3';
    errors.forEach((error) => {
      const link = document.createElement('a');
      link.href = '#';
      link.className = 'link-danger';
      link.textContent = fieldLabel(error.path) || _('card');
      link.addEventListener('click', (event) => {
        event.preventDefault();
        goTo(container, error.path);
      });
      const item = document.createElement('li');
      item.append(link, document.createTextNode(': ' + error.message));
      list.append(item);
    });
    alert.append(head, list);
    box.replaceChildren(alert);
  }

  function show(container, box, errors) {
    markFields(container, errors);
    summary(container, box, errors);
  }

  window.DesignerProblems = {show, findTarget, fieldLabel};
}());
