// Prefill the timezone field with the browser's own IANA zone. Without JavaScript the field
// keeps the server's default, which the visitor can change by hand.
document.addEventListener("DOMContentLoaded", function () {
  var zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (e) {
    return;
  }
  document.querySelectorAll("input[data-browser-tz]").forEach(function (field) {
    if (zone && field.value === field.getAttribute("data-browser-tz")) {
      field.value = zone;
    }
  });
});
