// Hookflow admin UI behaviour.
//
// The Content-Security-Policy forbids inline scripts and eval, so every
// behaviour here hangs off data-attributes through event delegation on the
// document: markup swapped in by htmx works without re-binding anything.
//
//   <meta name="csrf-token">        X-CSRF-Token header on every htmx request
//   data-copy="text"                button copies the text to the clipboard
//   data-copy-target="#id"          button copies an input's value or an element's text
//   data-confirm="message"          on a form or a submit button/link: window.confirm first
//   data-dismiss                    button that closes the enclosing .flash
//   data-json-validate              textarea: live JSON check, error shown in
//                                   data-json-error="#id" or the .field-error in aria-describedby
//   data-nav-toggle                 phone menu button (aria-controls the menu)
(function () {
  "use strict";

  var COPIED_MS = 2000; // how long "Copied" stays on a copy button
  var FLASH_MS = 6000; // how long success/info flashes stay

  // find returns the element for a selector, or null when it is missing or invalid.
  function find(selector) {
    if (!selector) return null;
    try {
      return document.querySelector(selector);
    } catch (e) {
      return null;
    }
  }

  // announce speaks a short message to screen readers through the layout's
  // #announcer live region (created here when a page lacks one).
  function announce(message) {
    var region = document.getElementById("announcer");
    if (!region) {
      region = document.createElement("div");
      region.id = "announcer";
      region.className = "visually-hidden";
      region.setAttribute("aria-live", "polite");
      region.setAttribute("aria-atomic", "true");
      document.body.appendChild(region);
    }
    // Clear first so the same message twice is still announced.
    region.textContent = "";
    window.setTimeout(function () {
      region.textContent = message;
    }, 50);
  }

  // (a) CSRF: htmx requests carry the token from the meta tag as a header.
  // Plain forms carry it in a hidden _csrf input rendered by the server.
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && meta.content) {
      event.detail.headers["X-CSRF-Token"] = meta.content;
    }
  });

  // (b) Copy buttons.
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () {
        return legacyCopy(text);
      });
    }
    return legacyCopy(text);
  }

  // legacyCopy selects the text in an off-screen textarea and asks the browser
  // to copy it: the only way on plain-HTTP origins, where navigator.clipboard
  // does not exist.
  function legacyCopy(text) {
    return new Promise(function (resolve, reject) {
      var previous = document.activeElement;
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.setAttribute("aria-hidden", "true");
      area.className = "copy-scratch";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try {
        ok = document.execCommand("copy");
      } catch (e) {
        ok = false;
      }
      document.body.removeChild(area);
      if (previous && previous.focus) previous.focus();
      if (ok) {
        resolve();
      } else {
        reject(new Error("copy failed"));
      }
    });
  }

  function textToCopy(button) {
    if (button.hasAttribute("data-copy")) return button.getAttribute("data-copy");
    var target = find(button.getAttribute("data-copy-target"));
    if (!target) return null;
    if ("value" in target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT")) {
      return target.value;
    }
    return target.textContent.trim();
  }

  // showCopied swaps the button's .copy-label text (or the whole text of a
  // text-only button) for a moment; icon buttons only get the is-copied class.
  function showCopied(button, label) {
    var slot = button.querySelector(".copy-label");
    if (!slot && button.children.length === 0) slot = button;
    if (button._copyTimer) {
      window.clearTimeout(button._copyTimer);
    } else if (slot) {
      button._copyOriginal = slot.textContent;
    }
    if (slot) slot.textContent = label;
    button.classList.add("is-copied");
    button._copyTimer = window.setTimeout(function () {
      if (slot) slot.textContent = button._copyOriginal;
      button.classList.remove("is-copied");
      button._copyTimer = null;
    }, COPIED_MS);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy], [data-copy-target]");
    if (!button) return;
    event.preventDefault();
    var text = textToCopy(button);
    if (text === null) return;
    copyText(text).then(
      function () {
        showCopied(button, "Copied");
        announce("Copied to clipboard");
      },
      function () {
        showCopied(button, "Copy failed");
        announce("Copy failed. Select the text and press Ctrl+C.");
      }
    );
  });

  // (c) Confirmation. Listeners run in the capture phase, before htmx's own
  // listeners on the element, so a cancel stops htmx requests too (hx-confirm
  // is the htmx-native alternative; do not use both on one element).
  document.addEventListener(
    "click",
    function (event) {
      var trigger = event.target.closest("button[data-confirm], input[type=submit][data-confirm], a[data-confirm]");
      if (!trigger || trigger.disabled) return;
      if (!window.confirm(trigger.getAttribute("data-confirm") || "Are you sure?")) {
        event.preventDefault();
        event.stopPropagation();
      }
    },
    true
  );

  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      if (!form.hasAttribute || !form.hasAttribute("data-confirm")) return;
      // A submit button with its own data-confirm was already asked on click.
      if (event.submitter && event.submitter.hasAttribute("data-confirm")) return;
      if (!window.confirm(form.getAttribute("data-confirm") || "Are you sure?")) {
        event.preventDefault();
        event.stopPropagation();
      }
    },
    true
  );

  // (d) Flash messages: success and info leave after FLASH_MS, errors stay
  // until dismissed. Hover or focus inside a message holds it (WCAG 2.2.1).
  function dismiss(flash) {
    if (!flash || flash.classList.contains("is-leaving")) return;
    flash.classList.add("is-leaving");
    var remove = function () {
      if (flash.parentNode) flash.parentNode.removeChild(flash);
    };
    flash.addEventListener("transitionend", remove, { once: true });
    window.setTimeout(remove, 400); // reduced motion: no transition fires
  }

  function scheduleDismiss(flash) {
    if (flash._dismissTimer || flash.getAttribute("data-flash") === "error") return;
    var tick = function () {
      if (flash.matches(":hover, :focus-within")) {
        flash._dismissTimer = window.setTimeout(tick, 1000);
        return;
      }
      dismiss(flash);
    };
    flash._dismissTimer = window.setTimeout(tick, FLASH_MS);
  }

  function scanFlashes(root) {
    if (!root || !root.querySelectorAll) return;
    if (root.matches && root.matches(".flash[data-flash]")) scheduleDismiss(root);
    root.querySelectorAll(".flash[data-flash]").forEach(scheduleDismiss);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-dismiss]");
    if (button) dismiss(button.closest(".flash"));
  });

  // (e) Live JSON validation for textareas.
  function jsonErrorSlot(field) {
    var slot = find(field.getAttribute("data-json-error"));
    if (slot) return slot;
    var ids = (field.getAttribute("aria-describedby") || "").split(/\s+/);
    for (var i = 0; i < ids.length; i++) {
      var el = ids[i] && document.getElementById(ids[i]);
      if (el && el.classList.contains("field-error")) return el;
    }
    return null;
  }

  // describeJSONError adds a line and column when the browser only gives an
  // offset ("... at position 42").
  function describeJSONError(text, err) {
    var message = err.message;
    var m = /position (\d+)/.exec(message);
    if (m && !/line \d+/.test(message)) {
      var before = text.slice(0, Number(m[1])).split("\n");
      message += " (line " + before.length + ", column " + (before[before.length - 1].length + 1) + ")";
    }
    return "Invalid JSON: " + message;
  }

  function validateJSON(field) {
    var text = field.value;
    var error = "";
    if (text.trim() !== "") {
      try {
        JSON.parse(text);
      } catch (err) {
        error = describeJSONError(text, err);
      }
    }
    var slot = jsonErrorSlot(field);
    if (slot) slot.textContent = error;
    if (error) {
      field.setAttribute("aria-invalid", "true");
    } else {
      field.removeAttribute("aria-invalid");
    }
  }

  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("[data-json-validate]")) {
      validateJSON(event.target);
    }
  });

  // Phone navigation: the menu button toggles .is-open on the header.
  function setNav(toggle, open) {
    var header = toggle && toggle.closest(".app-header");
    if (!header) return;
    header.classList.toggle("is-open", open);
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  }

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-nav-toggle]");
    if (toggle) {
      setNav(toggle, toggle.getAttribute("aria-expanded") !== "true");
      return;
    }
    // A click outside an open menu closes it.
    var open = document.querySelector(".app-header.is-open");
    if (open && !open.contains(event.target)) {
      setNav(open.querySelector("[data-nav-toggle]"), false);
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = document.querySelector(".app-header.is-open");
    if (!open) return;
    var toggle = open.querySelector("[data-nav-toggle]");
    if (!toggle) return;
    setNav(toggle, false);
    toggle.focus();
  });

  // Start: flashes rendered with the page, then whatever htmx swaps in
  // (htmx:load fires for new content, out-of-band swaps included).
  scanFlashes(document.body);
  document.addEventListener("htmx:load", function (event) {
    scanFlashes(event.detail && event.detail.elt);
  });
})();
