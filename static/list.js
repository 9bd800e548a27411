// Hookflow list and execution pages: behaviour beyond app.js.
//
//   data-poll         on an element with hx-trigger="every Ns, poll-now" and
//                     hx-swap="none": its polling requests are skipped while
//                     the tab is hidden, and it refreshes at once when the tab
//                     shows again. The reply (a fragment or a whole page) holds
//                     the element again by its id; the page is patched to it in
//                     place ("morphed"): only nodes that differ change, so the
//                     focused element, open disclosures, ticked boxes and the
//                     scroll position stay as they are (issue 15, point 1).
//                     Elements with an id are matched by id, others by place.
//                     A reply without data-poll on it stops the polling.
//   data-new-rows="execution"  on a polled list's <tbody>: rows (tr[id]) that
//                     a refresh adds above the previous first one are counted
//                     and announced ("2 new executions") in #announcer
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
  // being worked on (a selection); stop them once a refresh took data-poll
  // away (an execution that finished).
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail && event.detail.elt;
    if (!elt || !elt.hasAttribute) return;
    if (elt.hasAttribute("data-poll") ? document.hidden || pausedBy(elt) : elt.__live) {
      event.preventDefault();
    }
  });

  // ----- morph: patch the page to a fresh rendering, in place -----

  // ownAttr reports attributes whose state belongs to the browser or to
  // these scripts, not to the server's rendering.
  function ownAttr(el, name) {
    return (el.tagName === "DETAILS" && name === "open") || name === "data-live-on" || (name === "title" && el.hasAttribute("data-local"));
  }

  function morphAttrs(from, to) {
    for (var i = from.attributes.length - 1; i >= 0; i--) {
      var name = from.attributes[i].name;
      if (!to.hasAttribute(name) && !ownAttr(from, name)) from.removeAttribute(name);
    }
    for (var j = 0; j < to.attributes.length; j++) {
      var a = to.attributes[j];
      if (!ownAttr(from, a.name) && from.getAttribute(a.name) !== a.value) from.setAttribute(a.name, a.value);
    }
  }

  function childByID(parent, id) {
    for (var c = parent.firstElementChild; c; c = c.nextElementSibling) {
      if (c.id === id) return c;
    }
    return null;
  }

  // morph makes from (in the page) look like to (parsed from the reply).
  function morph(from, to) {
    if (from.nodeType !== 1) {
      if (from.nodeValue !== to.nodeValue) from.nodeValue = to.nodeValue;
      return;
    }
    // A time shown in the browser's zone keeps its text while it is the
    // same time.
    if (from.hasAttribute("data-local") && from.getAttribute("datetime") === to.getAttribute("datetime")) return;
    morphAttrs(from, to);
    var cur = from.firstChild;
    for (var n = to.firstChild; n; n = n.nextSibling) {
      var match = null;
      if (n.nodeType === 1 && n.id) {
        match = childByID(from, n.id);
      } else if (cur && cur.nodeType === n.nodeType && cur.nodeName === n.nodeName && !(cur.nodeType === 1 && cur.id)) {
        match = cur;
      }
      if (!match) {
        from.insertBefore(document.importNode(n, true), cur);
        continue;
      }
      if (match === cur) {
        cur = cur.nextSibling;
      } else {
        from.insertBefore(match, cur);
      }
      morph(match, n);
    }
    // What the reply no longer has goes, unless it holds the focus (it
    // goes with a later refresh, once the focus has moved on).
    while (cur) {
      var next = cur.nextSibling;
      if (!(cur.nodeType === 1 && cur.contains(document.activeElement))) from.removeChild(cur);
      cur = next;
    }
  }

  function rowIDs(elt) {
    var ids = [];
    elt.querySelectorAll("[data-new-rows] > tr[id]").forEach(function (tr) {
      ids.push(tr.id);
    });
    return ids;
  }

  // newRows counts the rows above the previous first row that were not
  // there before.
  function newRows(before, after) {
    if (!before.length) return 0;
    var seen = {};
    before.forEach(function (id) {
      seen[id] = true;
    });
    var n = 0;
    for (var i = 0; i < after.length && after[i] !== before[0]; i++) {
      if (!seen[after[i]]) n++;
    }
    return n;
  }

  // refresh patches a polled element to its fresh rendering and speaks
  // what changed: new rows, and [data-announce] texts (a status).
  function refresh(elt, html) {
    var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(elt.id);
    if (!fresh) return;
    var said = {};
    elt.querySelectorAll("[data-announce]").forEach(function (el) {
      said[el.getAttribute("data-announce")] = el.textContent.trim();
    });
    var before = rowIDs(elt);
    var tbody = elt.querySelector("[data-new-rows]");
    var what = tbody ? tbody.getAttribute("data-new-rows") : "";
    morph(elt, fresh);
    if (window.htmx) window.htmx.process(elt);
    localTimes(elt);
    syncAll();
    var changes = [];
    var added = newRows(before, rowIDs(elt));
    if (added > 0 && what) changes.push(added + " new " + what + (added === 1 ? "" : "s"));
    elt.querySelectorAll("[data-announce]").forEach(function (el) {
      var label = el.getAttribute("data-announce");
      var now = el.textContent.trim();
      if (Object.prototype.hasOwnProperty.call(said, label) && said[label] !== now) changes.push(label + ": " + now);
    });
    if (changes.length) announce(changes.join(". "));
    elt.dispatchEvent(new CustomEvent("live:refreshed", { bubbles: true }));
  }

  document.addEventListener("htmx:afterRequest", function (event) {
    var d = event.detail;
    var elt = d && d.elt;
    if (!elt || !elt.hasAttribute || !elt.hasAttribute("data-poll") || !elt.id) return;
    elt.__live = true;
    if (!d.successful || !d.xhr || d.xhr.status !== 200) return;
    refresh(elt, d.xhr.responseText);
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
