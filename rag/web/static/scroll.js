() => { setTimeout(() => {
  const first = document.querySelector('#nd-reader #nd-read-first');
  if (first) first.scrollIntoView({block: 'center'}); else document.querySelector('#nd-reader')?.scrollIntoView();
}, 150); }
