// Every form page: the live character counter under limited fields, and the
// error summary (focused on load; its links move the focus to the field).
(function () {
  "use strict";

  // Code points, as the server counts them (an emoji is one character, not two).
  function length(text) {
    return Array.from(text.replace(/\r\n?/g, "\n")).length;
  }

  function format(n) {
    return n.toLocaleString("ja-JP");
  }

  function setUpCounter(box) {
    var input = document.getElementById(box.getAttribute("data-count-for"));
    if (!input) return;
    var limit = parseInt(input.getAttribute("data-limit"), 10);
    var text = box.querySelector("[data-count-text]");
    var live = document.querySelector('[data-count-live-for="' + input.id + '"]');
    var timer = null;

    function message(n) {
      if (n > limit) return format(n - limit) + "文字多すぎます（" + format(n) + " / " + format(limit) + "文字）";
      return "あと" + format(limit - n) + "文字（" + format(n) + " / " + format(limit) + "文字）";
    }

    function update(announce) {
      var n = length(input.value);
      var over = n > limit;
      text.textContent = message(n);
      box.classList.toggle("field__limit--over", over);
      if (announce && live) {
        // Screen readers hear the count once typing pauses, not on every key.
        clearTimeout(timer);
        timer = setTimeout(function () { live.textContent = message(n); }, 1000);
      }
    }

    input.addEventListener("input", function () { update(true); });
    update(false);
  }

  function setUpSummary(summary) {
    summary.focus();
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a[href^='#']");
      if (!link) return;
      var target = document.getElementById(link.getAttribute("href").slice(1));
      if (!target) return;
      event.preventDefault();
      var field = target.closest(".field") || target;
      field.scrollIntoView({ block: "start" });
      target.focus({ preventScroll: true });
    });
  }

  var boxes = document.querySelectorAll("[data-count-for]");
  for (var i = 0; i < boxes.length; i++) setUpCounter(boxes[i]);
  var summary = document.querySelector("[data-error-summary]");
  if (summary) setUpSummary(summary);
})();
