// Hookflow workflow editor behaviour (loaded by the editor page only).
//
// Like app.js, everything hangs off data-attributes through event
// delegation, so panels and canvases swapped in by htmx need no re-binding:
//
//   details[data-flow-insert]     the + menu of the canvas: one open at a
//                                 time, closed by Escape or a click outside
//   [data-node-card]              canvas card: marks itself selected when clicked
//   [data-var-picker="input-id"]  button opening the variable list
//                                 (#var-picker) for that input
//   [data-var-value="{{…}}"]      variable option: inserted at the cursor of
//                                 the input the list was opened for
//   [data-var-close]              closes the variable list
//   select[data-body-type="id"]   Body type select: JSON turns on the live
//                                 JSON check (data-json-validate) of the textarea
//
// After htmx swaps a panel into #side-panel because a card or a + menu was
// used, focus moves to the panel's title (and on phones the panel scrolls
// into view); an element with autofocus in swapped content gets focus, and
// after a 422 the first field marked aria-invalid does.
(function () {
  "use strict";

  // ----- + insert menus -----
  function closeInsertMenus(except) {
    document.querySelectorAll("details[data-flow-insert][open]").forEach(function (d) {
      if (d !== except) d.removeAttribute("open");
    });
  }

  document.addEventListener(
    "toggle",
    function (event) {
      var d = event.target;
      if (!d.matches || !d.matches("details[data-flow-insert]") || !d.open) return;
      closeInsertMenus(d);
      var first = d.querySelector(".flow-insert-option");
      if (first) first.focus();
    },
    true
  );

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

    // A click outside an open + menu closes it.
    if (!event.target.closest("details[data-flow-insert]")) closeInsertMenus(null);

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
        return;
      }
      var open = document.querySelector("details[data-flow-insert][open]");
      if (open) {
        event.preventDefault();
        open.removeAttribute("open");
        var summary = open.querySelector("summary");
        if (summary) summary.focus();
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
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!target) return;
    // A form that failed validation: focus its first invalid field.
    var xhr = event.detail.xhr;
    if (xhr && xhr.status === 422 && target.querySelector) {
      var bad = target.querySelector('[aria-invalid="true"]:not(fieldset)');
      if (bad) {
        bad.focus();
        return;
      }
    }
    var auto = target.querySelector ? target.querySelector("[autofocus]") : null;
    if (auto) {
      auto.focus();
      return;
    }
    if (target.id !== "side-panel") return;
    var elt = event.detail.requestConfig && event.detail.requestConfig.elt;
    var fromCanvas = elt && elt.closest && (elt.closest("[data-node-card]") || elt.closest("[data-flow-insert]"));
    if (!fromCanvas) return;
    var title = target.querySelector("#panel-title");
    if (title) title.focus({ preventScroll: true });
    if (window.matchMedia("(max-width: 63.99rem)").matches) {
      target.scrollIntoView({ block: "start", behavior: "smooth" });
    }
  });
})();
