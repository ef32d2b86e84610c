// Tables that scroll inside their own box on a phone (static/css/app.css, "Phones") can
// be scrolled from the keyboard: while a table is wider than its box it takes focus
// (tabindex="0"), so arrow keys scroll it (WCAG 2.1.1; axe's scrollable-region-focusable).
// A table that fits is left alone, so it adds no extra Tab stop.
const SELECTOR = '.nhsuk-table'

function update (table) {
  const scrolls = table.scrollWidth > table.clientWidth + 1
  if (scrolls && !table.hasAttribute('tabindex')) {
    table.setAttribute('tabindex', '0')
    table.dataset.appScrolls = 'true'
  } else if (!scrolls && table.dataset.appScrolls) {
    table.removeAttribute('tabindex')
    delete table.dataset.appScrolls
  }
}

const tables = document.querySelectorAll(SELECTOR)
tables.forEach(update)
if ('ResizeObserver' in window) {
  const observer = new ResizeObserver((entries) => entries.forEach((e) => update(e.target)))
  tables.forEach((table) => observer.observe(table))
}
