// The impact preview's progress while it computes, then the page again with the result; and a
// re-match run's progress, live. Polls the console's own JSON; no inline script (CSP).
(function () {
  "use strict";
  function config(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }
  function poll(url, seen, every) {
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (answer) { return answer.json(); })
      .then(function (body) { if (seen(body)) { setTimeout(function () { poll(url, seen, every); }, every); } })
      .catch(function () { setTimeout(function () { poll(url, seen, every); }, every * 4); });
  }
  var job = config("preview-job");
  if (job) {
    poll(job.status, function (body) {
      var bar = document.getElementById("preview-bar");
      if (body.total) { bar.max = body.total; bar.value = body.done; }
      document.getElementById("preview-count").textContent = body.done + " / " + (body.total || "…");
      if (body.state === "done" || body.state === "refused") { window.location.replace(job.page); return false; }
      if (body.state !== "running") { document.getElementById("preview-failed").hidden = false; return false; }
      return true;
    }, 300);
  }
  var run = config("run-source");
  if (run) {
    poll(run.state, function (body) {
      if (body.state === "unknown") { return false; }
      document.getElementById("run-state").textContent = body.state;
      document.getElementById("run-done").textContent = body.firms_done;
      document.getElementById("run-total").textContent = body.firms_total === null ? "?" : body.firms_total;
      document.getElementById("run-changed").textContent = body.firms_changed;
      document.getElementById("run-events").textContent = body.events;
      var bar = document.getElementById("run-bar");
      bar.max = body.firms_total || 1; bar.value = body.firms_done;
      return body.state !== "done";
    }, 500);
  }
})();
