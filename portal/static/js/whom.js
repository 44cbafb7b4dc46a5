// 誰に連絡？: results as you type. Without this script the form still submits
// normally and the page renders the same results on the server.
(function () {
  "use strict";

  var form = document.querySelector("[data-whom-form]");
  if (!form || !window.fetch || !window.URLSearchParams) return;
  var input = form.querySelector('input[name="q"]');
  var region = document.getElementById(form.getAttribute("data-results-region"));
  var resultsUrl = form.getAttribute("data-results-url");
  if (!input || !region || !resultsUrl) return;

  var DELAY_MS = 150;
  var timer = null;
  var controller = null;
  var shown = input.value; // the query whose results are on the page

  function pageUrl(q) {
    return form.action + (q ? "?" + new URLSearchParams({ q: q }).toString() : "");
  }

  function update() {
    var q = input.value;
    if (q === shown) return;
    if (controller) controller.abort(); // an older, slower answer must not win
    controller = window.AbortController ? new AbortController() : null;
    var mine = controller;
    region.setAttribute("aria-busy", "true");
    fetch(resultsUrl + "?" + new URLSearchParams({ q: q }).toString(), {
      credentials: "same-origin",
      headers: { Accept: "text/html" },
      signal: mine ? mine.signal : undefined,
    })
      .then(function (response) {
        // Signed out meanwhile (redirected to the login page) or an error:
        // let the browser load the page itself, which shows what happened.
        if (response.redirected || !response.ok) {
          window.location.assign(pageUrl(q));
          return null;
        }
        return response.text();
      })
      .then(function (html) {
        if (html === null || (mine && mine.signal.aborted)) return;
        region.innerHTML = html;
        region.removeAttribute("aria-busy");
        shown = q;
        if (window.history && window.history.replaceState) {
          window.history.replaceState(null, "", pageUrl(q));
        }
        document.title = document.title.replace(/^.*?誰に連絡？/, (q ? "「" + q.trim() + "」 - " : "") + "誰に連絡？");
      })
      .catch(function (error) {
        if (error && error.name === "AbortError") return;
        region.removeAttribute("aria-busy");
      });
  }

  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(update, DELAY_MS);
  });
  // Submitting (Enter or the button) still loads the page normally; just
  // drop any pending as-you-type request first.
  form.addEventListener("submit", function () {
    window.clearTimeout(timer);
    if (controller) controller.abort();
  });
})();
