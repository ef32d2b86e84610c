// Progressive enhancement for every page. Loaded as an ES module from base.html
// (/static/js/app.js), so it runs only in browsers NHS.UK frontend supports, after the
// document is parsed. No inline scripts: the Content-Security-Policy forbids them.
import { initAll } from '../nhsuk/nhsuk-frontend.min.js'

// What the NHS.UK page template's inline snippet would do: tell the CSS and the
// components that JavaScript (ES modules) is available.
document.body.classList.add('js-enabled', 'nhsuk-frontend-supported')

initAll()

// <form data-confirm="Are you sure?"> asks before it is sent. Without JavaScript the
// form is simply sent; the server must not rely on this question having been asked.
document.addEventListener('submit', (event) => {
  const form = event.target
  if (!(form instanceof HTMLFormElement)) return
  const message = form.dataset.confirm
  if (message && !window.confirm(message)) {
    event.preventDefault()
    event.stopImmediatePropagation()
  }
}, true)
