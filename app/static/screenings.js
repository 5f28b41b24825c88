// Health-truck screenings: small progressive enhancements; every page works without this file.
(function () {
  "use strict";

  // Roster: the "not screened" reason list is only needed for "attended but not screened".
  function syncReason(select) {
    var field = document.getElementById(select.getAttribute("data-reason") + "-field");
    if (!field) { return; }
    var show = select.value === "not_screened";
    field.hidden = !show;
    if (!show) {
      var reason = document.getElementById(select.getAttribute("data-reason"));
      if (reason) { reason.value = ""; }
    }
  }
  document.querySelectorAll("select.js-outcome").forEach(function (select) {
    syncReason(select);
    select.addEventListener("change", function () { syncReason(select); });
  });

  // Event page of a visit: a day has dozens of time slots, each with its own booking form. Show the times as a
  // compact list and open one slot's form at a time.
  var panel = document.querySelector(".screening-packages[data-pick]");
  if (!panel) { return; }
  var pickLabel = panel.getAttribute("data-pick");
  var closeLabel = panel.getAttribute("data-close");
  var pairs = [];
  document.querySelectorAll("ul.slots > li.slot").forEach(function (item, index) {
    var form = item.querySelector("form.book-form");
    if (!form) { return; }
    form.id = form.id || "book-form-" + index;
    form.hidden = true;
    if (item.querySelector(".seats-none")) { return; }  // full or closed: nothing to pick
    var button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-block slot-pick";
    button.textContent = pickLabel;
    button.setAttribute("aria-expanded", "false");
    button.setAttribute("aria-controls", form.id);
    item.insertBefore(button, form);
    pairs.push([button, form]);
    button.addEventListener("click", function () {
      var opening = form.hidden;
      pairs.forEach(function (pair) {
        pair[1].hidden = true;
        pair[0].textContent = pickLabel;
        pair[0].setAttribute("aria-expanded", "false");
      });
      if (opening) {
        form.hidden = false;
        button.textContent = closeLabel;
        button.setAttribute("aria-expanded", "true");
        var first = form.querySelector("input:not([type=hidden]):not([disabled])");
        if (first) { first.focus(); }
      }
    });
  });
})();
