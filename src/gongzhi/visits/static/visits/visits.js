/* gongzhi 入户走访: small behaviours of the visit form. No inline handlers (strict CSP). */
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  ready(function () {
    // "无人在家" and the people met exclude each other.
    document.addEventListener("change", function (event) {
      var box = event.target;
      if (!box.matches) return;
      var form = box.form;
      if (!form) return;
      if (box.matches('input[name="nobody_home"]')) {
        form.querySelectorAll('input[name="met"]').forEach(function (m) {
          if (box.checked) m.checked = false;
          m.disabled = box.checked;
        });
      } else if (box.matches('input[name="met"]') && box.checked) {
        var nobody = form.querySelector('input[name="nobody_home"]');
        if (nobody) nobody.checked = false;
      }
    });
    var nobody = document.querySelector('input[name="nobody_home"]:checked');
    if (nobody) {
      document.querySelectorAll('input[name="met"]').forEach(function (m) { m.disabled = true; });
    }

    // Chosen photos are listed by name, in the page's language.
    document.querySelectorAll("[data-file-names]").forEach(function (out) {
      var input = document.getElementById(out.getAttribute("data-file-names"));
      if (!input) return;
      input.addEventListener("change", function () {
        var names = Array.prototype.map.call(input.files || [], function (f) { return f.name; });
        out.textContent = names.length ? out.getAttribute("data-some") + names.join("、") : "";
      });
    });
  });
})();
