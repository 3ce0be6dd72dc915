() => {
  if (window.__ndReader) return;
  window.__ndReader = true;
  document.addEventListener('click', (event) => {
    const link = event.target.closest && event.target.closest('a[href*="#nd-read/"]');
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    const box = document.querySelector('#nd-read-request textarea, #nd-read-request input');
    if (!box) return;
    box.value = link.getAttribute('href').split('#nd-read/')[1] + '|' + Date.now();
    box.dispatchEvent(new Event('input', {bubbles: true}));
  }, true);
}
