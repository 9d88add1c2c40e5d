/* Settings, "Send me a test card": while steps are waiting, ask the server every 2 s (for at most
   10 minutes) and put the checklist it renders in place. It keeps asking in a background tab: the
   admin is on the phone, and the server updates the card when it sees the click. */
(function () {
  "use strict";

  var list = document.getElementById("live-test-steps");
  var note = document.getElementById("live-test-note");
  if (!list || list.dataset.done === "1") return;
  var INTERVAL = 2000;
  var deadline = Date.now() + 10 * 60 * 1000;

  function poll() {
    if (Date.now() > deadline) {
      note.textContent = _("Stopped checking after 10 minutes. Reload the page to check again.");
      return;
    }
    fetch(list.dataset.url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
      .then(function (data) {
        list.innerHTML = data.html;  // rendered by the server from the page's own template
        note.textContent = _("Checked at %(time)s.", {time: new Date().toLocaleTimeString(document.documentElement.lang || undefined)});
        if (data.done) {
          list.dataset.done = "1";
        } else {
          window.setTimeout(poll, INTERVAL);
        }
      })
      .catch(function () { window.setTimeout(poll, INTERVAL * 5); });
  }

  window.setTimeout(poll, INTERVAL);
})();
