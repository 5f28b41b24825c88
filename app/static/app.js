// Zhijia: small progressive enhancements only; every page works without this file.
(function () {
  "use strict";
  // A refused form: its error summary takes the focus, and each of its links moves the focus to the field.
  var summary = document.getElementById("error-summary");
  if (summary) {
    summary.focus();
    summary.addEventListener("click", function (event) {
      var link = event.target.closest && event.target.closest("a[href^='#']");
      var field = link && document.getElementById(link.getAttribute("href").slice(1));
      if (field) {
        event.preventDefault();
        field.focus();
        field.scrollIntoView({ block: "center" });
      }
    });
  }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    // Avoid double submission on slow networks.
    var buttons = form.querySelectorAll("button[type=submit]");
    window.setTimeout(function () {
      buttons.forEach(function (b) { b.disabled = true; });
    }, 0);
  });

  // Offline at the venue: the service worker keeps 我的预约, its tickets and check-in pages on this device.
  if ("serviceWorker" in navigator) {
    // Read before registering: on a first visit this page was loaded without the worker, which kept nothing.
    var uncontrolled = !navigator.serviceWorker.controller;
    var post = function (message) {
      navigator.serviceWorker.ready.then(function (registration) {
        if (registration.active) { registration.active.postMessage(message); }
      });
    };
    navigator.serviceWorker.register("/sw.js").then(function () {
      var urls = Array.prototype.map.call(document.querySelectorAll("a[data-offline]"), function (a) {
        return a.getAttribute("href");
      });
      // This page too, if the worker did not see it load; the worker keeps it only if it keeps such pages.
      if (uncontrolled) { urls.push(location.pathname); }
      if (urls.length) { post({ type: "keep", urls: urls }); }
    }).catch(function () { /* no offline support here: the pages still work online */ });
    document.addEventListener("submit", function (event) {
      if (event.target.hasAttribute && event.target.hasAttribute("data-logout")) { post({ type: "forget" }); }
    });
  }
})();
