// 引継ぎ: choosing a recipient shows whom to call there (the cards are in the page already).
(function () {
  var select = document.getElementById("recipient");
  if (!select) return;
  var cards = document.querySelectorAll("[data-recipient]");
  function show() {
    for (var i = 0; i < cards.length; i++) {
      cards[i].hidden = cards[i].getAttribute("data-recipient") !== select.value;
    }
  }
  select.addEventListener("change", show);
  show();
})();
