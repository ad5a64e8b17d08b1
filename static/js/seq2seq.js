/* Unrolled Seq2Seq view: keep the current step's column in sight inside the sideways-scrolling step table.
 * sim.js moves the step (it rewrites #sim's data-t); this only watches that attribute and scrolls the table,
 * instantly, so nothing animates. */
(function () {
  'use strict';

  function reveal() {
    var cell = document.querySelector('table.s2x thead th.is-current');
    var scroller = cell && cell.closest('.scroller');
    if (!scroller) { return; }
    var left = cell.getBoundingClientRect().left - scroller.getBoundingClientRect().left + scroller.scrollLeft;
    var right = left + cell.offsetWidth;
    if (left < scroller.scrollLeft || right > scroller.scrollLeft + scroller.clientWidth) {
      scroller.scrollLeft = Math.max(0, right - scroller.clientWidth + 8);
    }
  }

  var watcher = new MutationObserver(reveal);

  function watch() {
    var sim = document.getElementById('sim');
    watcher.disconnect();
    if (sim && sim.querySelector('table.s2x')) {
      watcher.observe(sim, { attributes: true, attributeFilter: ['data-t'] });
      reveal();
    }
  }

  document.addEventListener('DOMContentLoaded', watch);
  document.addEventListener('htmx:after:swap', watch);
}());
