// Easydown dashboard: copy buttons and single-submit forms. Everything works without it, only less smoothly.
(function () {
  "use strict";

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // Older browsers and plain-http hosts: copy through a temporary selection.
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      var ok = document.execCommand("copy");
      document.body.removeChild(area);
      if (ok) { resolve(); } else { reject(new Error("copy failed")); }
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) { return; }
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) { return; }
    var text = source.matches("input, textarea") ? source.value : source.textContent;
    var status = document.querySelector(button.getAttribute("data-copy-status") || "#nothing");
    var label = button.textContent;
    copyText(text.trim()).then(function () {
      button.textContent = "Copied";
      if (status) { status.textContent = "Copied to the clipboard."; }
      setTimeout(function () { button.textContent = label; }, 2000);
    }, function () {
      if (source.select) {
        source.select();
      } else {
        window.getSelection().selectAllChildren(source);
      }
      if (status) { status.textContent = "Press Ctrl+C (⌘C) to copy the selected text."; }
    });
  });

  // A double click on a submit button sends the form once.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("form[data-once]")) { return; }
    if (form.dataset.sent) { event.preventDefault(); return; }
    form.dataset.sent = "1";
    form.querySelectorAll("button[type=submit], input[type=submit]").forEach(function (b) {
      setTimeout(function () { b.disabled = true; }, 0);  // after the browser has read the pressed button
    });
  });
})();
