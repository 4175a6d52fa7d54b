// theme-init.js runs before first paint (a classic, blocking script: the CSP
// forbids inline code) so a chosen theme or wall mode never flashes.
(function () {
  try {
    var root = document.documentElement;
    var theme = localStorage.getItem('sessionhub.theme');
    if (theme === 'light' || theme === 'dark') root.setAttribute('data-theme', theme);
    var wall = new URLSearchParams(location.search).get('wall');
    if (wall === '1' || (wall === null && localStorage.getItem('sessionhub.wall') === '1')) {
      root.setAttribute('data-wall', '');
    }
  } catch (e) { /* storage may be disabled: fall back to the defaults */ }
})();
