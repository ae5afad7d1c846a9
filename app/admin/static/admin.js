// Account form: show the shopper code only for shoppers and the regions only for managers.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("[data-role-form]");
  if (!form) return;
  const role = form.querySelector("select[name=role]");
  const update = () => {
    form.querySelectorAll("[data-for-role]").forEach((el) => {
      el.hidden = el.dataset.forRole !== role.value;
    });
  };
  role.addEventListener("change", update);
  update();
});

// Destructive buttons ask first: forms with data-confirm="question" submit only when confirmed.
document.addEventListener("submit", (event) => {
  const question = event.target.dataset && event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});
