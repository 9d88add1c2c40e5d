/* The reply rule editor: byte counters that count as WeCom does (UTF-8: a Chinese character is 3
   bytes, an emoji 4), the fields of each reply's type, and rows shown one by one with add and remove.
   Without this script every row is on the page and the server leaves the empty ones out; with it,
   empty rows wait hidden at the end of their list and the rows are renumbered in the order shown,
   so the replies are saved in the order people see them. Each article's picture address gets the
   designer's picture tools (designer-images.js: upload, drop, the image library); the hidden rows
   are on the page from the start, so every article has them before it is shown. */
(function () {
  "use strict";

  var form = document.getElementById("rule-form");
  if (!form) return;
  var encoder = new TextEncoder();
  // A row's fields are named list-index-field (triggers-0-text, replies-1-articles-2-title).
  var NAMES = {triggers: /^(triggers)-\d+/, replies: /^(replies)-\d+/, articles: /^(replies-\d+-articles)-\d+/};
  var TEXT_FIELDS = "input[type=text], input[type=url], textarea";

  function counter(field) {
    var max = Number(field.dataset.bytes);
    var note = document.createElement("div");
    note.className = "form-text text-end";
    note.setAttribute("aria-live", "polite");
    field.insertAdjacentElement("afterend", note);
    function update() {
      var size = encoder.encode(field.value).length;
      note.textContent = _("%(n)s / %(max)s bytes", {n: size.toLocaleString(), max: max.toLocaleString()});
      note.classList.toggle("text-danger", size > max);
    }
    field.addEventListener("input", update);
    update();
  }

  function rowsOf(list) {
    return Array.prototype.slice.call(list.querySelector(":scope > [data-rows]").children);
  }

  function shownRows(list) {
    return rowsOf(list).filter(function (row) { return !row.classList.contains("d-none"); });
  }

  function isEmpty(row) {
    if (row.querySelector(".is-invalid")) return false;  // a row with a problem stays in sight
    var typed = Array.prototype.some.call(row.querySelectorAll(TEXT_FIELDS), function (el) { return el.value.trim(); });
    var chosen = Array.prototype.some.call(row.querySelectorAll("select"), function (el) {
      return el.options.length && el.options[0].value === "" && el.value;  // a card chosen
    });
    return !typed && !chosen;
  }

  function renumber(list) {
    var names = NAMES[list.dataset.list];
    rowsOf(list).forEach(function (row, index) {
      row.querySelectorAll("[name], [id], label[for]").forEach(function (el) {
        ["name", "id", "for"].forEach(function (attr) {
          var value = el.getAttribute(attr);
          if (value) el.setAttribute(attr, value.replace(names, "$1-" + index));
        });
      });
    });
  }

  function refresh(list) {
    var shown = shownRows(list);
    list.querySelector(":scope > [data-add]").classList.toggle("d-none", shown.length === rowsOf(list).length);
    shown.forEach(function (row) {  // a row's own button comes before those of rows inside it
      row.querySelector("[data-remove]").classList.toggle("d-none", shown.length < 2);
    });
  }

  function setUp(list) {
    var rows = rowsOf(list);
    var filled = rows.filter(function (row) { return !isEmpty(row); });
    var shown = filled.length ? filled : rows.slice(0, 1);
    rows.forEach(function (row) {
      var hidden = shown.indexOf(row) < 0;
      row.classList.toggle("d-none", hidden);
      if (hidden) row.parentNode.appendChild(row);
    });
    renumber(list);
    refresh(list);
  }

  function showKind(reply) {
    var kind = reply.querySelector("[data-reply-type]").value;
    reply.querySelectorAll("[data-kind]").forEach(function (part) {
      part.classList.toggle("d-none", part.dataset.kind !== kind);
    });
  }

  function clear(row) {
    row.querySelectorAll(TEXT_FIELDS).forEach(function (el) {
      el.value = "";
      el.dispatchEvent(new Event("input"));  // byte counters and picture thumbnails follow
    });
    row.querySelectorAll("select").forEach(function (el) { el.selectedIndex = 0; });
    row.querySelectorAll(".is-invalid").forEach(function (el) { el.classList.remove("is-invalid"); });
    row.querySelectorAll(".invalid-feedback").forEach(function (el) { el.remove(); });
    row.querySelectorAll("[data-list]").forEach(setUp);
    if (row.hasAttribute("data-reply")) showKind(row);
  }

  function add(list) {
    var next = rowsOf(list).filter(function (row) { return row.classList.contains("d-none"); })[0];
    if (!next) return;
    next.classList.remove("d-none");
    refresh(list);
    var field = next.querySelector(TEXT_FIELDS);
    if (field) field.focus();
  }

  function remove(row) {
    var list = row.parentNode.closest("[data-list]");
    clear(row);
    if (shownRows(list).length > 1) {
      row.classList.add("d-none");
      row.parentNode.appendChild(row);
      renumber(list);
    }
    refresh(list);
  }

  function pictureTools(wrap) {
    if (window.DesignerImages) window.DesignerImages.attach(wrap, wrap.querySelector("input"));
  }

  form.querySelectorAll("[data-bytes]").forEach(counter);
  form.querySelectorAll("[data-picture]").forEach(pictureTools);
  form.querySelectorAll("[data-list]").forEach(setUp);  // replies before their articles: document order
  form.querySelectorAll("[data-reply]").forEach(showKind);
  form.querySelectorAll("[data-no-script]").forEach(function (el) { el.classList.add("d-none"); });

  form.addEventListener("change", function (event) {
    if (event.target.matches("[data-reply-type]")) showKind(event.target.closest("[data-reply]"));
  });
  form.addEventListener("click", function (event) {
    var button = event.target.closest("[data-add], [data-remove]");
    if (!button) return;
    if (button.hasAttribute("data-add")) add(button.closest("[data-list]"));
    else remove(button.closest("[data-row]"));
  });

  document.querySelectorAll("form[data-confirm]").forEach(function (confirmed) {
    confirmed.addEventListener("submit", function (event) {
      if (!window.confirm(confirmed.dataset.confirm)) event.preventDefault();
    });
  });
})();
