// Hookflow list and execution pages: behaviour beyond app.js.
//
//   data-poll         on an element with hx-trigger="every Ns, poll-now": its
//                     polling requests are skipped while the tab is hidden,
//                     and it refreshes at once when the tab shows again
//   time[data-local]  a <time datetime="…"> shown in the browser's time zone
//                     (the server renders UTC; the UTC text stays as title)
//   data-replace-url  on a page a form post rendered (a validation error, a
//                     token shown once): the address becomes this URL, so a
//                     reload loads the page instead of posting the form again
(function () {
  "use strict";

  var replace = document.querySelector("[data-replace-url]");
  if (replace && window.history && window.history.replaceState) {
    window.history.replaceState(null, "", replace.getAttribute("data-replace-url"));
  }

  // Skip polls while nobody can see the page.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail && event.detail.elt;
    if (document.hidden && elt && elt.hasAttribute && elt.hasAttribute("data-poll")) {
      event.preventDefault();
    }
  });

  // Catch up as soon as the page is visible again.
  document.addEventListener("visibilitychange", function () {
    if (document.hidden || !window.htmx) return;
    document.querySelectorAll("[data-poll]").forEach(function (el) {
      window.htmx.trigger(el, "poll-now");
    });
  });

  function localTimes(root) {
    if (!root || !root.querySelectorAll) return;
    root.querySelectorAll("time[data-local]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (isNaN(d.getTime())) return;
      if (!el.title) el.title = el.textContent.trim();
      el.textContent = d.toLocaleString(undefined, {
        year: "numeric",
        month: "short",
        day: "numeric",
        hour: "2-digit",
        minute: "2-digit",
        second: "2-digit",
        timeZoneName: "short",
      });
    });
  }

  localTimes(document.body);
  document.addEventListener("htmx:load", function (event) {
    localTimes(event.detail && event.detail.elt);
  });
})();
