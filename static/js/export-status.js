// "Your files": keeps each file's state up to date without reloading the page, and says
// (through a live region) when a file is ready. Loaded as an ES module by
// templates/carecoord/exports.html only; no inline scripts (the Content-Security-Policy
// forbids them). Without JavaScript the page has a "Refresh the page" link instead.
//
// Each waiting row names its status URL (the files API, /api/v1/exports/<id>/, which
// answers only for one's own files). Rows are asked every few seconds until no file is
// waiting, or for at most 15 minutes; then the refresh link comes back.

const EVERY_MS = 2500
const GIVE_UP_AFTER_MS = 15 * 60 * 1000
const WAITING = new Set(['queued', 'rendering'])

const table = document.getElementById('export-list')
const announcer = document.getElementById('export-status-announcer')
const refresh = document.querySelector('.js-export-refresh')

function tag (text, colour) {
  const strong = document.createElement('strong')
  strong.className = `nhsuk-tag nhsuk-tag--${colour}`
  strong.textContent = text
  return strong
}

function hidden (text) {
  const span = document.createElement('span')
  span.className = 'nhsuk-u-visually-hidden'
  span.textContent = text
  return span
}

function show (row, data) {
  const cell = row.querySelector('[data-export-cell]')
  const title = row.dataset.title
  cell.replaceChildren()
  if (data.status === 'ready' && data.download_url) {
    const link = document.createElement('a')
    link.href = data.download_url
    link.append('Download', hidden(` ${title}`), ' (PDF)')
    cell.append(tag('Ready', 'green'), ' ', link)
    announcer.textContent = `Your PDF is ready: ${title}.`
  } else if (data.status === 'ready') {
    // Ready, but no longer theirs to download (a share was withdrawn meanwhile).
    cell.append(tag('Ready', 'green'), ' Refresh the page to see if you can download it.')
  } else if (data.status === 'failed') {
    const template = document.getElementById('export-retry-template')
    const form = template.content.firstElementChild.cloneNode(true)
    form.action = row.dataset.retryUrl
    form.querySelector('.nhsuk-u-visually-hidden').textContent = ` to make ${title}`
    cell.append(tag('Failed', 'red'), form)
    announcer.textContent = `Your file could not be made: ${title}. You can try again.`
  } else if (data.status === 'rendering') {
    cell.append(tag('Being made', 'blue'))
  } else {
    cell.append(tag('Queued', 'grey'), ' It will be made shortly.')
  }
  row.dataset.exportStatus = data.status
}

async function check (row) {
  const response = await fetch(row.dataset.statusUrl, {
    credentials: 'same-origin',
    headers: { Accept: 'application/json' }
  })
  if (!response.ok) throw new Error(`status ${response.status}`)
  const data = await response.json()
  if (data.status !== row.dataset.exportStatus) show(row, data)
}

function waitingRows () {
  return [...table.querySelectorAll('tr[data-status-url]')]
    .filter((row) => WAITING.has(row.dataset.exportStatus))
}

if (table && announcer) {
  const started = Date.now()
  if (refresh && waitingRows().length) refresh.hidden = true
  const tick = async () => {
    const rows = waitingRows()
    if (!rows.length) return
    if (Date.now() - started > GIVE_UP_AFTER_MS) {
      if (refresh) refresh.hidden = false
      return
    }
    try {
      await Promise.all(rows.map(check))
    } catch {
      // Signed out, offline, or the file was deleted: stop, and offer the refresh link.
      if (refresh) refresh.hidden = false
      return
    }
    window.setTimeout(tick, EVERY_MS)
  }
  window.setTimeout(tick, EVERY_MS)
}
