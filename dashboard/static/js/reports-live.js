/* Report pages: while a campaign is live, fetch its figures every few seconds and put the freshly
   rendered figures, charts and tables in place (no full reload); confirm before a reminder. */
(function () {
  "use strict";

  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });

  var status = document.getElementById("live-status");
  var target = document.getElementById("report-live");
  if (!status || !target || status.dataset.live !== "1") return;
  var INTERVAL = 3000;
  var stamp = status.querySelector("[data-updated]");

  function poll() {
    if (document.hidden) {  // a background tab waits until it is looked at again
      window.setTimeout(poll, INTERVAL);
      return;
    }
    fetch(status.dataset.liveUrl, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
      .then(function (data) {
        target.innerHTML = data.html;  // rendered by the server from the same templates
        target.dataset.responders = data.report.responders;
        if (stamp) stamp.textContent = _("Updated %(time)s.", {time: new Date().toLocaleTimeString(document.documentElement.lang || undefined)});
        if (data.live) {
          window.setTimeout(poll, INTERVAL);
        } else {
          status.dataset.live = "0";
          status.textContent = _("No longer live: the figures are final unless late answers arrive.");
        }
      })
      .catch(function () { window.setTimeout(poll, INTERVAL * 5); });
  }

  window.setTimeout(poll, INTERVAL);
})();
