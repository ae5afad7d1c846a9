// Progress of an export job (templates/jobs.html): poll the job's JSON state and move the bar until it ends.
(function () {
  "use strict";
  const box = document.getElementById("job");
  if (!box) return;
  const bar = document.getElementById("job-progress");
  const text = document.getElementById("job-text");
  const link = document.getElementById("job-download");
  const error = document.getElementById("job-error");
  const url = box.dataset.statusUrl;
  const lang = document.documentElement.lang || undefined;
  const number = (n) => Number(n).toLocaleString(lang);

  function show(state) {
    bar.value = state.percent;
    const key = state.expired ? "expired" : state.status;
    const template = text.dataset[key] || "";
    text.textContent = template.replace("{done}", number(state.progress)).replace("{total}", number(state.total));
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
