(width) => {
  // What does not fit a page at this size: the page scrolling sideways, and boxes that cut their content off.
  // A box marked .table-scroll scrolls on purpose (a wide table with its first column pinned); form fields,
  // visually hidden text and the insides of SVG charts are not looked at. `width` is the window's: a phone zooms
  // out to fit a page wider than itself, and then window.innerWidth is the page's width.
  const problems = [];
  const root = document.documentElement;
  if (root.scrollWidth > width || window.innerWidth > width) {
    const widest = [...document.body.querySelectorAll('*')]
      .filter((el) => el.getBoundingClientRect().right > width + 1 && !el.closest('.table-scroll'))
      .filter((el) => ![...el.children].some((c) => c.getBoundingClientRect().right > width + 1))
      .slice(0, 3).map(describe);
    problems.push(`page ${root.scrollWidth} px wide in a ${width} px window: ${widest.join(', ')}`);
  }
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('svg, .visually-hidden, [hidden], input, select, textarea, .table-scroll')) continue;
    if (el.clientWidth <= 1 || !el.getClientRects().length) continue;
    const style = getComputedStyle(el);
    if (!['hidden', 'clip', 'auto', 'scroll'].includes(style.overflowX)) continue;
    if (el.scrollWidth > el.clientWidth + 1) {
      const how = ['auto', 'scroll'].includes(style.overflowX) ? 'scrolls (not marked .table-scroll)' : 'clips';
      problems.push(`${describe(el)} ${how}: ${el.scrollWidth} px of content in ${el.clientWidth} px`);
    }
  }
  // On a laptop a table fits its page: its box scrolls only on a phone.
  if (width >= 1000) {
    for (const box of document.querySelectorAll('.table-scroll')) {
      if (box.scrollWidth > box.clientWidth + 1) {
        problems.push(`${describe(box)} scrolls at ${width} px: ${box.scrollWidth} px of table in ${box.clientWidth} px`);
      }
    }
  }
  return problems;

  function describe(el) {
    const name = el.tagName.toLowerCase() + (el.id ? `#${el.id}` : '')
      + [...el.classList].map((c) => `.${c}`).join('');
    const text = (el.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 40);
    return text ? `${name} "${text}"` : name;
  }
}
