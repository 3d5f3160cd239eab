// Live progress: polls the JSON endpoint named by #live's data-src and
// redraws the "In progress" table. Values go in with textContent only,
// never as HTML.
(function () {
  "use strict";
  const live = document.getElementById("live");
  if (!live) return;
  const body = document.querySelector("#progress tbody");
  const src = live.dataset.src;
  const every = parseInt(live.dataset.every, 10) || 1000;
  let wasRunning = false;

  function cell(tr, text) {
    const td = document.createElement("td");
    td.textContent = text;
    tr.appendChild(td);
  }

  function show(p) {
    body.replaceChildren();
    if (p.runs.length === 0) {
      const tr = document.createElement("tr");
      const td = document.createElement("td");
      td.colSpan = 11;
      td.textContent = "no run in progress";
      tr.appendChild(td);
      body.appendChild(tr);
      return;
    }
    for (const r of p.runs) {
      const tr = document.createElement("tr");
      tr.className = "running";
      tr.dataset.run = String(r.id);
      cell(tr, String(r.id));
      cell(tr, r.job);
      cell(tr, String(r.done));
      cell(tr, String(r.ok));
      cell(tr, String(r.failed));
      cell(tr, String(r.skipped));
      cell(tr, r.queued < 0 ? "?" : String(r.queued));
      cell(tr, r.rate.toFixed(1));
      cell(tr, r.eta || "?");
      let flight = r.in_flight < 0 ? "?" : String(r.in_flight);
      if (r.hosts) {
        flight += " (" + Object.keys(r.hosts).sort().map(function (h) { return h + ": " + r.hosts[h]; }).join(", ") + ")";
      }
      cell(tr, flight);
      cell(tr, r.source);
      body.appendChild(tr);
    }
  }

  async function poll() {
    try {
      const res = await fetch(src, { cache: "no-store", credentials: "same-origin" });
      if (res.ok) {
        const p = await res.json();
        show(p);
        // A run that just ended: reload once so the history shows it.
        if (wasRunning && p.runs.length === 0) location.reload();
        wasRunning = p.runs.length > 0;
      }
    } catch (e) {
      // The server stopped or restarts; try again on the next tick.
    }
    setTimeout(poll, every);
  }
  poll();
})();

// Compact tables: each cell is cut to one line; a click on a cell (not on
// a link in it) shows it whole, a second click cuts it again.
(function () {
  "use strict";
  const table = document.querySelector("table.compact");
  if (!table) return;
  table.addEventListener("click", function (e) {
    if (e.target.closest("a, input, button")) return;
    const td = e.target.closest("tbody td");
    if (td) td.classList.toggle("open");
  });
})();
