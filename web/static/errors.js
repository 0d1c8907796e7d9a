// After a refused form, move focus (and so the view, on a phone) to the summary of what to fix,
// and let its links focus the field they name. Without JavaScript the summary is still the
// first thing under the heading the page opens at.
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector("[data-focus-on-load]");
  if (!summary) {
    return;
  }
  summary.focus();
  summary.scrollIntoView({ block: "start" });
  summary.querySelectorAll("a[href^='#']").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var target = document.getElementById(link.getAttribute("href").slice(1));
      if (!target) {
        return;
      }
      event.preventDefault();
      var field = target.matches("input, select, textarea") ? target : target.querySelector("input, select");
      target.scrollIntoView({ block: "center" });
      (field || target).focus();
    });
  });
});
