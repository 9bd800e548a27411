// Hookflow workflow editor behaviour (loaded by the editor page only).
//
// Like app.js, everything hangs off data-attributes through event
// delegation, so panels and canvases swapped in by htmx need no re-binding:
//
//   .flow-insert-menu[popover]    the + menu of the canvas (opened by its
//                                 button's popovertarget): anchored under the +
//   [data-node-card]              canvas card: marks itself selected when clicked
//   [data-var-picker="input-id"]  button opening the variable list
//                                 (#var-picker) for that input
//   [data-var-value="{{…}}"]      variable option: inserted at the cursor of
//                                 the input the list was opened for
//   [data-var-close]              closes the variable list
//   select[data-body-type="id"]   Body type select: JSON turns on the live
//                                 JSON check (data-json-validate) of the textarea
//   form[data-unsaved]            a side panel with changes not saved yet: set
//                                 on input, or by the server on a form it
//                                 re-rendered from posted state
//   [data-leaves-panel]           control that replaces the panel (close, move,
//                                 + menu option; canvas cards too): asks before
//                                 dropping unsaved changes
//   [data-focus-after-swap]       canvas card that takes focus once swapped in
//                                 (after a delete: the step in its place)
//   #test-unsaved, [data-unsaved-flag]  the Test bar's note and field that
//                                 say the side panel has unsaved changes
//   [data-focus-if-inside]        in a box swapped while the admin may be
//                                 elsewhere: gets focus only when focus was
//                                 in the box
//
// Focus never drops to the page body after a swap: after a 422 the first
// field marked aria-invalid gets it; else an element with autofocus in the
// swapped content; else a card marked data-focus-after-swap; after a card
// or a + menu was used, the panel's title (on phones the panel scrolls
// into view); else, when the swap removed the focused control (Save,
// Delete, a row's button), the control with the same id or data-testid in
// the new panel, or the panel's title.
//
// The + menus and the variable list close when focus leaves them by the
// keyboard (Tab, Shift+Tab); arrows, Home and End move within them.
(function () {
  "use strict";

  // ----- + insert menus -----
  // The menus are popovers opened by their + button (popovertarget): the
  // browser handles opening, Escape and clicks outside. Here they are
  // anchored under the + on wide screens and get focus on their first item.
  function anchorMenu(menu, button) {
    if (!button || !window.matchMedia("(min-width: 48rem)").matches) {
      menu.classList.remove("is-anchored");
      return;
    }
    var r = button.getBoundingClientRect();
    var w = menu.offsetWidth;
    var h = menu.offsetHeight;
    var left = Math.min(Math.max(8, r.left + r.width / 2 - w / 2), window.innerWidth - w - 8);
    var top = r.bottom + 6;
    if (top + h > window.innerHeight - 8) top = Math.max(8, r.top - h - 6);
    menu.style.left = left + "px";
    menu.style.top = top + "px";
    menu.classList.add("is-anchored");
  }

  document.addEventListener(
    "toggle",
    function (event) {
      var menu = event.target;
      if (!menu.matches || !menu.matches(".flow-insert-menu")) return;
      var button = document.querySelector('[popovertarget="' + menu.id + '"]');
      var open = event.newState === "open";
      if (button) {
        button.classList.toggle("is-open", open);
        button.setAttribute("aria-expanded", open ? "true" : "false");
      }
      if (!open) return;
      anchorMenu(menu, button);
      var first = menu.querySelector(".flow-insert-option");
      if (first) first.focus({ preventScroll: true });
    },
    true
  );

  // Arrows, Home and End move between the options of an open + menu.
  function moveWithin(event, options) {
    if (!options.length) return;
    var i = options.indexOf(document.activeElement);
    var j;
    switch (event.key) {
      case "ArrowDown":
        j = i < 0 ? 0 : (i + 1) % options.length;
        break;
      case "ArrowUp":
        j = i <= 0 ? options.length - 1 : i - 1;
        break;
      case "Home":
        j = 0;
        break;
      case "End":
        j = options.length - 1;
        break;
      default:
        return;
    }
    event.preventDefault();
    options[j].focus();
  }

  document.addEventListener("keydown", function (event) {
    var menu = event.target.closest && event.target.closest(".flow-insert-menu");
    if (!menu) return;
    moveWithin(event, Array.prototype.slice.call(menu.querySelectorAll(".flow-insert-option:not([disabled])")));
  });

  // Focus leaving by the keyboard closes a menu or the variable list. A
  // pointer press outside is the popover's own light dismiss (and a press
  // on the + that opened it must not close it first and reopen it).
  var pointerDown = false;
  document.addEventListener("pointerdown", function () {
    pointerDown = true;
  }, true);
  document.addEventListener("pointerup", function () {
    window.setTimeout(function () {
      pointerDown = false;
    }, 0);
  }, true);

  document.addEventListener("focusout", function (event) {
    if (pointerDown) return;
    var to = event.relatedTarget;
    // Focus leaving the window (another tab) closes nothing.
    if (!to && !document.hasFocus()) return;
    var menu = event.target.closest && event.target.closest(".flow-insert-menu");
    if (menu && !(to && menu.contains(to)) && menu.matches(":popover-open")) {
      menu.hidePopover();
    }
    var list = picker();
    if (list && !list.hidden && list.contains(event.target) && !(to && list.contains(to))) {
      closePicker(false);
    }
  });

  // An anchored menu would drift away from its + when the page scrolls.
  function closeAnchoredMenus() {
    document.querySelectorAll(".flow-insert-menu.is-anchored").forEach(function (m) {
      if (m.matches && m.hidePopover && m.matches(":popover-open")) m.hidePopover();
    });
  }
  window.addEventListener("scroll", closeAnchoredMenus, true);
  window.addEventListener("resize", closeAnchoredMenus);

  // ----- variable picker -----
  var pickerInput = null;
  var pickerButton = null;

  function picker() {
    return document.getElementById("var-picker");
  }

  function closePicker(restoreFocus) {
    var list = picker();
    if (list) list.hidden = true;
    if (pickerButton) {
      pickerButton.setAttribute("aria-expanded", "false");
      if (restoreFocus && document.contains(pickerButton)) pickerButton.focus();
    }
    pickerButton = null;
    pickerInput = null;
  }

  function openPicker(button) {
    var list = picker();
    var input = document.getElementById(button.getAttribute("data-var-picker"));
    if (!list || !input) return;
    if (pickerButton === button && !list.hidden) {
      closePicker(true);
      return;
    }
    closePicker(false);
    // The list lives once per panel; it moves right under the input and
    // button that opened it.
    var wrap = button.closest(".var-input") || button;
    wrap.insertAdjacentElement("afterend", list);
    list.hidden = false;
    pickerButton = button;
    pickerInput = input;
    button.setAttribute("aria-expanded", "true");
    var first = list.querySelector("[data-var-value]");
    if (first) first.focus();
  }

  // insertAtCursor puts text at the input's selection (or its end) and
  // tells listeners (live JSON check) that the value changed.
  function insertAtCursor(input, text) {
    var value = input.value;
    var start = typeof input.selectionStart === "number" ? input.selectionStart : value.length;
    var end = typeof input.selectionEnd === "number" ? input.selectionEnd : value.length;
    input.value = value.slice(0, start) + text + value.slice(end);
    var caret = start + text.length;
    input.focus();
    try {
      input.setSelectionRange(caret, caret);
    } catch (e) {
      // number inputs have no selection; nothing to do
    }
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }

  document.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-var-picker]");
    if (opener) {
      event.preventDefault();
      openPicker(opener);
      return;
    }
    var option = event.target.closest("[data-var-value]");
    if (option && pickerInput) {
      event.preventDefault();
      var input = pickerInput;
      var text = option.getAttribute("data-var-value");
      closePicker(false);
      insertAtCursor(input, text);
      return;
    }
    if (event.target.closest("[data-var-close]")) {
      event.preventDefault();
      closePicker(true);
      return;
    }
    var list = picker();
    if (list && !list.hidden && !list.contains(event.target)) closePicker(false);

    // Canvas cards: show the selection at once (the panel loads via htmx).
    var card = event.target.closest("[data-node-card]");
    if (card) {
      document.querySelectorAll("[data-node-card].is-selected").forEach(function (c) {
        c.classList.remove("is-selected");
        c.removeAttribute("aria-current");
      });
      card.classList.add("is-selected");
      card.setAttribute("aria-current", "true");
    }
  });

  // The list works with the keyboard: arrows move between options, Escape
  // closes it (or an open + menu) and returns focus.
  document.addEventListener("keydown", function (event) {
    var list = picker();
    if (event.key === "Escape") {
      if (list && !list.hidden) {
        event.preventDefault();
        closePicker(true);
      }
      return;
    }
    if ((event.key === "ArrowDown" || event.key === "ArrowUp") && list && !list.hidden && list.contains(document.activeElement)) {
      var options = Array.prototype.slice.call(list.querySelectorAll("[data-var-value]"));
      var i = options.indexOf(document.activeElement);
      if (!options.length) return;
      event.preventDefault();
      i = event.key === "ArrowDown" ? Math.min(options.length - 1, i + 1) : Math.max(0, i - 1);
      options[i].focus();
    }
  });

  // ----- unsaved changes -----
  function panelForm(el) {
    return el && el.closest ? el.closest("#side-panel form") : null;
  }

  function markUnsaved(event) {
    var form = panelForm(event.target);
    if (form && !event.target.closest("#var-picker")) form.setAttribute("data-unsaved", "");
  }
  document.addEventListener("input", markUnsaved);
  document.addEventListener("change", markUnsaved);

  function unsavedForm() {
    return document.querySelector("#side-panel form[data-unsaved]");
  }

  // The Test bar runs the revision as saved: while the panel holds
  // unsaved changes it says so, and tells the server (which repeats it
  // beside the result).
  function updateTestNote() {
    var unsaved = !!unsavedForm();
    var note = document.getElementById("test-unsaved");
    if (note) note.hidden = !unsaved;
    var flag = document.querySelector("[data-unsaved-flag]");
    if (flag) flag.value = unsaved ? "1" : "";
  }
  document.addEventListener("input", updateTestNote);
  document.addEventListener("change", updateTestNote);
  document.addEventListener("htmx:afterSettle", updateTestNote);
  document.addEventListener("submit", updateTestNote, true);
  updateTestNote();

  // Capture phase: runs before htmx's own click handling, so a cancel
  // stops the request.
  document.addEventListener(
    "click",
    function (event) {
      var leave = event.target.closest("[data-leaves-panel], [data-node-card]");
      if (!leave || leave.disabled || event.defaultPrevented) return;
      var form = unsavedForm();
      if (!form) return;
      // A control with its own confirmation (app.js asked first, and the
      // click was not cancelled) says that unsaved changes are lost.
      if (!leave.hasAttribute("data-confirm") && !window.confirm("The side panel has changes that are not saved. Discard them?")) {
        event.preventDefault();
        event.stopPropagation();
        return;
      }
      form.removeAttribute("data-unsaved");
      updateTestNote();
    },
    true
  );

  // Leaving the page any other way (a link, the header's navigation, a
  // reload, Back, a redirect after an htmx request) asks the browser's own
  // question while the panel has unsaved changes. Submitting the unsaved
  // form itself without htmx is not leaving.
  var submitting = null;
  document.addEventListener("submit", function (event) {
    if (!event.defaultPrevented && event.target === unsavedForm()) submitting = event.target;
  });
  window.addEventListener("beforeunload", function (event) {
    var form = unsavedForm();
    if (!form || form === submitting) return;
    event.preventDefault();
    event.returnValue = ""; // older browsers need a value to ask
  });

  // ----- body type -----
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.matches || !select.matches("select[data-body-type]")) return;
    var area = document.getElementById(select.getAttribute("data-body-type"));
    if (!area) return;
    if (select.value === "json") {
      area.setAttribute("data-json-validate", "");
      area.dispatchEvent(new Event("input", { bubbles: true }));
    } else {
      area.removeAttribute("data-json-validate");
      area.removeAttribute("aria-invalid");
      var ids = (area.getAttribute("aria-describedby") || "").split(/\s+/);
      ids.forEach(function (id) {
        var el = id && document.getElementById(id);
        if (el && el.classList.contains("field-error")) el.textContent = "";
      });
    }
  });

  // ----- focus after panel swaps -----
  // What had focus before a swap, and whether it was inside the swap's
  // target: htmx fires afterSwap once per swapped element (out-of-band ones
  // too), so the work is done once, on the first.
  var swapping = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var active = document.activeElement;
    var target = event.detail && event.detail.target;
    swapping = {
      active: active,
      id: active && active.id,
      testid: active && active.getAttribute && active.getAttribute("data-testid"),
      inside: !!(target && target.contains && active && active !== document.body && target.contains(active)),
    };
  });

  function focusLost(st) {
    var active = document.activeElement;
    return !active || active === document.body || !active.isConnected || (st.active && !st.active.isConnected && active === st.active);
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    var st = swapping;
    swapping = null;
    var target = event.detail && event.detail.target;
    if (!st || !target || !target.querySelector) return;
    // A box that changes while the admin may be elsewhere (the listen box,
    // polled every second) moves focus only when focus was inside it: to
    // its [data-focus-if-inside] element.
    var keep = target.querySelector("[data-focus-if-inside]");
    if (keep && target.id !== "side-panel") {
      if (st.inside) keep.focus();
      return;
    }
    // A form that failed validation: focus its first invalid field.
    var xhr = event.detail.xhr;
    if (xhr && xhr.status === 422) {
      var bad = target.querySelector('[aria-invalid="true"]:not(fieldset)');
      if (bad) {
        bad.focus();
        return;
      }
    }
    var auto = target.querySelector("[autofocus]");
    if (auto) {
      auto.focus();
      return;
    }
    var card = document.querySelector("[data-focus-after-swap]");
    if (card) {
      card.removeAttribute("data-focus-after-swap");
      card.focus();
      return;
    }
    if (target.id !== "side-panel") return;
    var title = target.querySelector("#panel-title");
    var elt = event.detail.requestConfig && event.detail.requestConfig.elt;
    var fromCanvas = elt && elt.closest && (elt.closest("[data-node-card]") || elt.closest(".flow-insert-menu"));
    if (fromCanvas) {
      if (title) title.focus({ preventScroll: true });
      if (window.matchMedia("(max-width: 63.99rem)").matches) {
        target.scrollIntoView({ block: "start", behavior: "smooth" });
      }
      return;
    }
    if (!focusLost(st)) return;
    var again = null;
    if (st.id) again = document.getElementById(st.id);
    if (!again && st.testid) again = target.querySelector('[data-testid="' + st.testid.replace(/["\\]/g, "") + '"]');
    if (again && !again.disabled && target.contains(again)) {
      again.focus({ preventScroll: true });
    } else if (title) {
      title.focus({ preventScroll: true });
    }
  });
})();
