// Runs before first paint (a blocking classic script; the CSP forbids inline ones) so a dark theme never flashes white.
(function () {
  try {
    var m = localStorage.getItem('octopus.theme');
    var dark = m === 'dark' || (m !== 'light' && window.matchMedia('(prefers-color-scheme: dark)').matches);
    document.documentElement.setAttribute('data-theme', dark ? 'dark' : 'light');
  } catch (e) {
    /* storage blocked: the app applies the theme when it starts */
  }
})();
