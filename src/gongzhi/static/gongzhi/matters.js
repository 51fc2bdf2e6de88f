/* gongzhi: the matter pages' small behaviours. No inline handlers (strict CSP). */
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // Plain http (a village office intranet): the old way.
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } finally { document.body.removeChild(area); }
    return Promise.resolve();
  }

  ready(function () {
    // Buttons marked data-copy="text" copy it and say so.
    document.addEventListener("click", function (event) {
      var button = event.target.closest && event.target.closest("[data-copy]");
      if (!button) return;
      event.preventDefault();
      var done = button.getAttribute("data-copied") || "";
      var label = button.textContent;
      copyText(button.getAttribute("data-copy")).then(function () {
        button.textContent = done;
        setTimeout(function () { button.textContent = label; }, 2000);
      });
    });
    document.querySelectorAll("[data-copy]").forEach(function (b) { b.hidden = false; });

    // A checkbox marked data-check-all="name" ticks every checkbox of that name.
    document.addEventListener("change", function (event) {
      var box = event.target;
      if (!box.matches || !box.matches("[data-check-all]")) return;
      var name = box.getAttribute("data-check-all");
      document.querySelectorAll('input[type="checkbox"][name="' + name + '"]').forEach(function (b) {
        b.checked = box.checked;
      });
    });

    // File inputs get a button and a list of the chosen names in the page's language.
    document.querySelectorAll("[data-file-button]").forEach(function (button) {
      var input = document.getElementById(button.getAttribute("for"));
      var field = button.closest(".file-field");
      if (!input || !field) return;
      button.hidden = false;
      field.classList.add("has-picker");
      var names = button.querySelector(".file-names");
      input.addEventListener("change", function () {
        var list = Array.prototype.map.call(input.files || [], function (f) { return f.name; });
        names.textContent = list.length ? button.getAttribute("data-some") + list.join("、")
                                        : button.getAttribute("data-none");
      });
    });

    // Choosing a registered person fills nothing else in, but closes the result list.
    document.addEventListener("change", function (event) {
      var radio = event.target;
      if (!radio.matches || !radio.matches('input[name="reporter_person"]')) return;
      var chosen = document.getElementById("chosen-person");
      if (chosen) chosen.textContent = radio.getAttribute("data-label") || "";
    });
  });
})();
