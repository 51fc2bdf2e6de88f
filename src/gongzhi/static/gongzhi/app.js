/* gongzhi: small behaviours the pages need. No inline handlers anywhere (strict CSP). */
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  ready(function () {
    document.documentElement.classList.add("js");

    // Selects marked data-autosubmit submit their form when changed (the language switch).
    document.addEventListener("change", function (event) {
      var el = event.target;
      if (el.matches && el.matches("select[data-autosubmit]") && el.form) {
        if (el.form.requestSubmit) el.form.requestSubmit();
        else el.form.submit();
      }
    });

    // Buttons marked data-print print the page (the grid book, a household archive).
    document.addEventListener("click", function (event) {
      var button = event.target.closest && event.target.closest("[data-print]");
      if (button) {
        event.preventDefault();
        window.print();
      }
    });

    // The main navigation collapses behind a menu button on narrow screens.
    var topbar = document.getElementById("topbar");
    var toggle = topbar && topbar.querySelector(".nav-toggle");
    var nav = document.getElementById("site-nav");
    if (toggle && nav) {
      toggle.hidden = false;
      topbar.classList.add("nav-collapsible");
      toggle.addEventListener("click", function () {
        var open = toggle.getAttribute("aria-expanded") !== "true";
        toggle.setAttribute("aria-expanded", open ? "true" : "false");
        nav.classList.toggle("open", open);
      });
      document.addEventListener("keydown", function (event) {
        if (event.key === "Escape" && nav.classList.contains("open")) {
          nav.classList.remove("open");
          toggle.setAttribute("aria-expanded", "false");
          toggle.focus();
        }
      });
    }

    // The user menu and the navigation's group menus (each a <details>) close when clicking
    // elsewhere or pressing Escape; opening one closes the others.
    var MENUS = "details.user-menu[open], details.nav-group[open]";
    document.addEventListener("click", function (event) {
      document.querySelectorAll(MENUS).forEach(function (menu) {
        if (!menu.contains(event.target)) menu.removeAttribute("open");
      });
    });
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") return;
      document.querySelectorAll(MENUS).forEach(function (menu) {
        menu.removeAttribute("open");
        var summary = menu.querySelector("summary");
        if (summary) summary.focus();
      });
    });

    // htmx does not swap error responses: say so instead of doing nothing.
    var toast = document.getElementById("htmx-error");
    var timer = null;
    document.body.addEventListener("htmx:responseError", function (event) {
      if (!toast) return;
      var status = event.detail && event.detail.xhr ? event.detail.xhr.status : 0;
      toast.textContent = (status === 403 ? toast.dataset.forbidden : toast.dataset.message) || "";
      toast.hidden = false;
      clearTimeout(timer);
      timer = setTimeout(function () { toast.hidden = true; }, 6000);
    });
    document.body.addEventListener("htmx:sendError", function () {
      if (!toast) return;
      toast.textContent = toast.dataset.message || "";
      toast.hidden = false;
    });
  });
})();
