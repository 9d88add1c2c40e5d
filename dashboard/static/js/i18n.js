// The scripts' messages in the page's language: dashboard/i18n.py writes the catalog into the page
// (<script type="application/json" id="i18n-catalog">); _("Sent %(n)s", {n: 3}) looks one up.
(function () {
  "use strict";
  const node = document.getElementById("i18n-catalog");
  const catalog = node ? JSON.parse(node.textContent) : {};
  window._ = function (message, values) {
    const text = catalog[message] || message;
    if (!values) return text;
    return text.replace(/%\((\w+)\)s/g, (all, name) => (name in values ? String(values[name]) : all));
  };
})();
