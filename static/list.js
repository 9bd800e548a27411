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
//   data-poll-pause="selector"  on a data-poll element: no refresh while the
//                     selector matches (rows being selected stay put); the
//                     [data-live-text] line says so
//   data-announce="label"  inside a polled element: when a refresh changes
//                     its text, "label: text" is spoken through #announcer
//   details[id]       inside a polled element: stays open across refreshes
//                     (focus comes back by id through htmx itself)
//   data-select-all="name"      checkbox ticking every checkbox called name
//   data-select-count="name"    says how many of them are ticked
//   data-needs-selection="name" button enabled once one of them is ticked
(function () {
  "use strict";

  // announce speaks a short message through the layout's polite region.
  function announce(message) {
    var region = document.getElementById("announcer");
    if (!region) return;
    region.textContent = "";
    window.setTimeout(function () {
      region.textContent = message;
    }, 50);
  }

  function pausedBy(el) {
    var sel = el.getAttribute && el.getAttribute("data-poll-pause");
    if (!sel) return false;
    try {
      return !!document.querySelector(sel);
    } catch (e) {
      return false;
    }
  }

  // The live line of a polled list says when refreshing is paused.
  function updateLive() {
    var poll = document.querySelector("[data-poll][data-poll-pause]");
    var paused = !!poll && pausedBy(poll);
    document.querySelectorAll("[data-live-text]").forEach(function (el) {
      if (!el.hasAttribute("data-live-on")) el.setAttribute("data-live-on", el.textContent.trim());
      el.textContent = paused ? "Live updates paused while executions are selected" : el.getAttribute("data-live-on");
    });
  }

  var replace = document.querySelector("[data-replace-url]");
  if (replace && window.history && window.history.replaceState) {
    window.history.replaceState(null, "", replace.getAttribute("data-replace-url"));
  }

  // Skip polls while nobody can see the page, or while what it shows is
  // being worked on (a selection).
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail && event.detail.elt;
    if (elt && elt.hasAttribute && elt.hasAttribute("data-poll") && (document.hidden || pausedBy(elt))) {
      event.preventDefault();
    }
  });

  // A refresh keeps open disclosure widgets open and speaks what changed
  // in [data-announce] elements (a status).
  var pollState = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var elt = event.detail && event.detail.elt;
    if (!elt || !elt.hasAttribute || !elt.hasAttribute("data-poll")) return;
    var open = [];
    elt.querySelectorAll("details[open][id]").forEach(function (d) {
      open.push(d.id);
    });
    var said = {};
    elt.querySelectorAll("[data-announce]").forEach(function (el) {
      said[el.getAttribute("data-announce")] = el.textContent.trim();
    });
    pollState = { open: open, said: said };
  });
  document.addEventListener("htmx:afterSwap", function () {
    if (!pollState) return;
    var st = pollState;
    pollState = null;
    st.open.forEach(function (id) {
      var d = document.getElementById(id);
      if (d && d.tagName === "DETAILS") d.open = true;
    });
    var changes = [];
    document.querySelectorAll("[data-announce]").forEach(function (el) {
      var label = el.getAttribute("data-announce");
      var now = el.textContent.trim();
      if (Object.prototype.hasOwnProperty.call(st.said, label) && st.said[label] !== now) changes.push(label + ": " + now);
    });
    if (changes.length) announce(changes.join(". "));
  });

  // ----- selection -----
  function boxes(name) {
    return Array.prototype.slice.call(document.querySelectorAll('input[type="checkbox"][name="' + name + '"]'));
  }

  function syncSelection(name) {
    var all = boxes(name);
    var n = all.filter(function (b) {
      return b.checked;
    }).length;
    document.querySelectorAll('[data-select-all="' + name + '"]').forEach(function (box) {
      box.checked = n > 0 && n === all.length;
      box.indeterminate = n > 0 && n < all.length;
    });
    document.querySelectorAll('[data-select-count="' + name + '"]').forEach(function (el) {
      el.textContent = n === 0 ? "No executions selected." : n === 1 ? "1 execution selected." : n + " executions selected.";
    });
    document.querySelectorAll('[data-needs-selection="' + name + '"]').forEach(function (b) {
      b.disabled = n === 0;
    });
    updateLive();
  }

  document.addEventListener("change", function (event) {
    var t = event.target;
    if (!t.matches || !t.matches('input[type="checkbox"]')) return;
    var name = t.getAttribute("data-select-all");
    if (name) {
      boxes(name).forEach(function (b) {
        b.checked = t.checked;
      });
      syncSelection(name);
      return;
    }
    if (t.name && document.querySelector('[data-select-count="' + t.name + '"], [data-select-all="' + t.name + '"]')) {
      syncSelection(t.name);
    }
  });

  function syncAll() {
    var seen = {};
    document.querySelectorAll("[data-select-count]").forEach(function (el) {
      var name = el.getAttribute("data-select-count");
      if (!seen[name]) {
        seen[name] = true;
        syncSelection(name);
      }
    });
  }

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
  syncAll();
  document.addEventListener("htmx:load", function (event) {
    localTimes(event.detail && event.detail.elt);
    syncAll();
  });
})();
