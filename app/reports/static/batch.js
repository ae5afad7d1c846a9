// Batch export progress: poll the job's JSON status and move the progress bar until it is done.
(function () {
  "use strict";
  const box = document.getElementById("batch-job");
  if (!box) return;
  const bar = document.getElementById("batch-progress");
  const text = document.getElementById("batch-text");
  const link = document.getElementById("batch-download");
  const error = document.getElementById("batch-error");
  const url = box.dataset.statusUrl;

  function show(state) {
    bar.value = state.percent;
    const template = text.dataset[state.status] || "";
    text.textContent = template.replace("{done}", state.progress).replace("{total}", state.total);
    box.dataset.status = state.status;
    if (state.download_url) { link.href = state.download_url; link.hidden = false; }
    if (state.error) { error.textContent = state.error; error.hidden = false; }
  }

  async function poll() {
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok) throw new Error(response.status);
      const state = await response.json();
      show(state);
      if (state.status === "done" || state.status === "failed") return;
    } catch (e) {
      text.textContent = text.dataset.offline;
    }
    setTimeout(poll, 1000);
  }
  if (box.dataset.status !== "done" && box.dataset.status !== "failed") poll();
})();
