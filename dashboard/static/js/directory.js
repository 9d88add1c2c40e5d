/* The directory's state, polled while a read runs: progress bar, counts, and (on the waiting page)
   going on once the first read is done. */
(function () {
  "use strict";

  var box = document.getElementById("directory-status");
  if (!box) return;
  var waiting = document.getElementById("directory-reading");
  var bar = box.querySelector(".progress-bar");
  var track = box.querySelector(".progress");
  var started = Date.now();

  function toggle(root, name, shown) {
    root.querySelectorAll('[data-show="' + name + '"]').forEach(function (el) {
      el.classList.toggle("d-none", !shown);
    });
  }

  function show(s) {
    var percent = s.progress.total ? Math.round(100 * s.progress.done / s.progress.total) : 0;
    bar.style.width = percent + "%";
    track.setAttribute("aria-valuenow", percent);
    track.classList.toggle("d-none", !s.reading);
    toggle(box, "reading", s.reading);
    box.querySelectorAll("[data-field]").forEach(function (el) {
      var field = el.dataset.field;
      if (field === "progress_text") {
        el.textContent = s.progress.total ? _("%(done)s of %(total)s parts read")
          .replace("%(done)s", s.progress.done).replace("%(total)s", s.progress.total) : "";
      } else if (s[field] !== undefined && s[field] !== null) {
        el.textContent = typeof s[field] === "number" ? s[field].toLocaleString() : s[field];
      }
    });
  }

  function done(s) {
    if (waiting && s.read_at && !s.reading) {
      window.location.assign(waiting.dataset.next);
      return true;
    }
    if (waiting && waiting.dataset.failed) return true;  // the error and the retry button are shown
    if (waiting && s.error && !s.reading && s.error_at > waiting.dataset.since) {
      window.location.assign(waiting.dataset.failedUrl);  // this read failed: say why
      return true;
    }
    return !waiting && !s.reading;
  }

  function poll() {
    fetch(box.dataset.statusUrl, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (s) {
        show(s);
        if (waiting) toggle(waiting, "slow", !s.reading && Date.now() - started > 15000);
        if (!done(s)) window.setTimeout(poll, 700);
        else if (!waiting && box.dataset.reading === "1") window.location.reload();
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }

  if (waiting || box.dataset.reading === "1") poll();
})();
