// One tap inserts a library comment into the decision box (appended on a new line).
document.querySelectorAll('[data-insert]').forEach((button) => {
  button.addEventListener('click', () => {
    const box = document.getElementById('comment');
    box.value = box.value ? `${box.value.replace(/\s+$/, '')}\n${button.dataset.insert}` : button.dataset.insert;
    box.focus();
  });
});
