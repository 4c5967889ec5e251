// The calculator's form (service/console/templates/calculator.html): a field left empty or
// undecided is not sent, so the address to share carries only what was filled in. Without
// this script the form works the same, with a longer address.
"use strict";
(function () {
  var form = document.getElementById("calculator-form");
  if (!form) {
    return;
  }
  form.addEventListener("submit", function () {
    var fields = form.querySelectorAll("input[name], select[name]");
    for (var i = 0; i < fields.length; i++) {
      var field = fields[i];
      var unchosen = field.type === "radio" && !field.checked;
      // county stays even when empty, so that the answer names it as missing
      if (field.name !== "county" && !unchosen && field.value === "") {
        var same = form.querySelectorAll("[name='" + field.name + "']");
        for (var j = 0; j < same.length; j++) {
          same[j].disabled = true;
        }
      }
    }
  });
  // the browser's back button brings the form back as it was left: enabled
  window.addEventListener("pageshow", function () {
    var fields = form.querySelectorAll("[disabled]");
    for (var i = 0; i < fields.length; i++) {
      fields[i].disabled = false;
    }
  });
})();
