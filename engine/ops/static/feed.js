// The live feed: new alerts arrive over Server-Sent Events as rendered table rows and
// take their place by priority. On a dropped connection the browser reconnects by
// itself and sends the id of the last alert it saw (Last-Event-ID), so none is missed.
(function () {
  "use strict";
  const body = document.getElementById("feed");
  const live = document.getElementById("live");
  if (!body || !window.EventSource) { return; }

  function place(row) {
    if (document.getElementById(row.id)) { return; }  // seen already
    const p = parseFloat(row.dataset.priority), seq = parseInt(row.dataset.seq, 10);
    for (const other of body.rows) {
      const q = parseFloat(other.dataset.priority), s = parseInt(other.dataset.seq, 10);
      if (p > q || (p === q && seq > s)) { body.insertBefore(row, other); return; }
    }
    body.appendChild(row);
  }

  const source = new EventSource(body.dataset.stream);
  source.addEventListener("open", function () { live.textContent = "live"; live.className = "live on"; });
  source.addEventListener("error", function () { live.textContent = "reconnecting…"; live.className = "live off"; });
  source.addEventListener("alert", function (e) {
    const holder = document.createElement("tbody");
    holder.innerHTML = e.data;
    const row = holder.querySelector("tr");
    if (!row) { return; }
    row.classList.add("new");
    place(row);
    const empty = document.getElementById("empty");
    if (empty) { empty.remove(); }
  });
})();
