// Mixers: keep the number of ticks on a match card within K and say how many are left.
(function () {
  "use strict";
  document.querySelectorAll("form.mixer-picks").forEach(function (form) {
    var max = parseInt(form.getAttribute("data-max"), 10) || 0;
    var label = form.getAttribute("data-count-label") || "";
    var boxes = form.querySelectorAll('input[type="checkbox"][name="badge"]');
    var out = form.querySelector(".mixer-count");
    function update() {
      var n = 0;
      boxes.forEach(function (box) { if (box.checked) { n += 1; } });
      boxes.forEach(function (box) { box.disabled = !box.checked && n >= max; });
      if (out) { out.textContent = label + " " + n + " / " + max; }
    }
    boxes.forEach(function (box) { box.addEventListener("change", update); });
    update();
  });
})();
