// The event form's "＋ 添加场次": adds an empty slot block on the page instead of a round trip to the server.
// Without this file the same button posts the form back and the server returns it with one more block.
(function () {
  "use strict";
  var list = document.querySelector("[data-slot-list]");
  var button = document.querySelector("[data-add-slot]");
  var template = document.querySelector("template[data-slot-template]");
  if (!list || !button || !template || !("content" in template)) { return; }
  var max = parseInt(list.getAttribute("data-max"), 10) || 500;

  function rows() { return list.querySelectorAll("[data-slot-row]"); }

  function renumber(block, index) {
    ["id", "name", "for", "aria-describedby"].forEach(function (attribute) {
      block.querySelectorAll("[" + attribute + "]").forEach(function (element) {
        element.setAttribute(attribute, element.getAttribute(attribute).split("__index__").join(String(index)));
      });
    });
  }

  function update() {
    button.hidden = rows().length >= max;
  }

  button.addEventListener("click", function (event) {
    event.preventDefault();
    if (rows().length >= max) { return; }
    var index = parseInt(list.getAttribute("data-next-index"), 10) || rows().length;
    var block = template.content.firstElementChild.cloneNode(true);
    renumber(block, index);
    var number = block.querySelector("[data-slot-number]");
    if (number) { number.textContent = String(rows().length + 1); }
    list.appendChild(block);
    list.setAttribute("data-next-index", String(index + 1));
    update();
    var first = block.querySelector("input:not([type=hidden]), select");
    if (first) { first.focus(); }
  });
  update();
})();
