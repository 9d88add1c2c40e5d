/* Campaign pages: a live progress bar polled from the progress endpoint, and confirm dialogs. */
(function () {
  "use strict";

  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });

  var box = document.getElementById("progress");
  if (!box) return;
  var bar = box.querySelector(".progress-bar");
  var track = box.querySelector(".progress");
  var badge = document.getElementById("campaign-status");
  var wasFinished = box.dataset.finished === "1";

  function setPercent(percent) {
    bar.style.width = percent + "%";
    bar.textContent = percent + "%";
    track.setAttribute("aria-valuenow", percent);
  }

  function show(p) {
    setPercent(p.percent);
    box.querySelectorAll("[data-field]").forEach(function (el) {
      var value = p[el.dataset.field];
      if (value !== undefined) el.textContent = typeof value === "number" ? value.toLocaleString() : value;
    });
    if (badge && badge.dataset.status !== p.status) {
      badge.dataset.status = p.status;
      badge.textContent = p.status_label;
    }
    bar.classList.toggle("progress-bar-animated", p.status === "sending");
    bar.classList.toggle("progress-bar-striped", p.status === "sending");
    bar.classList.toggle("bg-success", p.status === "sent");
  }

  function poll() {
    fetch(box.dataset.progressUrl, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
      .then(function (p) {
        show(p);
        if (p.finished) {
          window.location.reload();  // once: the page then shows the actions for a finished campaign
        } else {
          window.setTimeout(poll, 1500);
        }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }

  setPercent(Number(bar.dataset.percent || 0));
  if (!wasFinished) window.setTimeout(poll, 1000);
})();
