/* Unrolled: the timeline (steps and sub-steps, play/pause, scrub), keyboard shortcuts, the URL as the view state,
 * and the cell opened in place from the overview.
 *
 * Every step was rendered once by the server; a step only switches classes on elements carrying data-t
 * (is-past / is-current / is-future), so it needs no request. The cell view is the exception: it is fetched
 * from /fragment/cell for the new step (the neighbouring steps are fetched ahead). Its sub-steps are all in the
 * fragment too: moving between them switches sub-done / sub-now / sub-todo on elements carrying data-s, and CSS
 * animates what the current sub-step computes (nothing moves under prefers-reduced-motion).
 * The step, sub-step and open cell are written into the URL with history.replaceState (keeping htmx's history
 * state), so reload and shared links restore the same view. Nothing runs while paused: the only timer is the
 * play timer, cleared on pause, at the end, and on swaps.
 */
(function () {
  'use strict';

  var timer = null;
  var ZOOM_MS = 320;

  function sim() { return document.getElementById('sim'); }
  function stepCount(s) { return parseInt(s.dataset.steps || '0', 10); }
  function currentStep(s) { return parseInt(s.dataset.t || '0', 10); }
  function calm() { return window.matchMedia('(prefers-reduced-motion: reduce)').matches; }

  function syncLinks() {
    var links = document.querySelectorAll('a[data-keep-query]');
    var here = new URL(location.href);
    here.searchParams.delete('panel');
    for (var i = 0; i < links.length; i++) {
      var link = new URL(links[i].href);
      links[i].href = link.pathname + here.search;
    }
  }

  function setParam(name, value) {
    var url = new URL(location.href);
    if (value === null || value === '') { url.searchParams.delete(name); } else { url.searchParams.set(name, value); }
    history.replaceState(history.state, '', url.pathname + url.search);
    syncLinks();
  }

  function detail() { return document.getElementById('detail'); }

  function cellVisible() {
    var host = document.getElementById('cellview');
    if (!host) { return null; }
    var panel = host.closest('#detail');
    return (!panel || !panel.hidden) ? host : null;
  }

  // ---- sub-steps: 1..n within the shown cell; none in the URL means the last (the whole step done)

  function cellRoot() { return document.querySelector('#cellview .cellview'); }
  function substepCount() { var c = cellRoot(); return c ? parseInt(c.dataset.substeps || '0', 10) : 0; }
  function currentSubstep() {
    var n = substepCount();
    var raw = parseInt(new URL(location.href).searchParams.get('s') || '', 10);
    return (raw >= 1 && raw <= n) ? raw : n;
  }

  function applySubstep(k) {
    var root = cellRoot();
    if (!root) { return; }
    root.dataset.substep = String(k);
    var marked = root.querySelectorAll('g.substep[data-s], .substeps li[data-s]');
    for (var i = 0; i < marked.length; i++) {
      var s = parseInt(marked[i].dataset.s, 10);
      marked[i].classList.toggle('sub-done', s < k);
      marked[i].classList.toggle('sub-now', s === k);
      marked[i].classList.toggle('sub-todo', s > k);
      if (s === k) { marked[i].setAttribute('aria-current', 'step'); } else { marked[i].removeAttribute('aria-current'); }
    }
  }

  function setSubstep(k) {
    var n = substepCount();
    if (!n) { return; }
    k = Math.max(1, Math.min(n, k));
    applySubstep(k);  // the view first; the URL after (replaceState costs a few ms)
    setParam('s', k === n ? null : String(k));
  }

  // Walk (t, s) in order: the sub-steps of a step, then the first of the next step.
  function moveSubstep(delta) {
    var s = sim();
    if (!s) { return false; }
    // From the overview: open the current step's cell at its first sub-step.
    if (!cellVisible()) { setParam('s', '1'); openDetail(null); return true; }
    var n = substepCount();
    if (!n) { return false; }
    var k = currentSubstep() + delta;
    var t = currentStep(s);
    if (k > n) {
      if (t >= stepCount(s) - 1) { return false; }
      setParam('s', '1');
      setStep(t + 1);
      return true;
    }
    if (k < 1) {
      if (t <= 0) { return false; }
      setParam('s', null);
      setStep(t - 1);
      return true;
    }
    setSubstep(k);
    return true;
  }

  // ---- the cell view's fragments, by URL (as promises), so neighbouring steps are fetched ahead

  var fragments = new Map();
  var cellToken = 0;

  // Each fragment is parsed once, when it arrives (a step fetched ahead is parsed ahead, off the key press), into
  // nodes kept in a DocumentFragment. Showing a step moves its nodes into the page and the shown step's nodes
  // back into the cache, so a step costs neither parsing nor copying.
  function loadFragment(url) {
    if (!fragments.has(url)) {
      fragments.set(url, fetch(url, { headers: { 'HX-Request': 'true' } }).then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.text();
      }).then(function (html) {
        var nodes = document.createRange().createContextualFragment(html);
        var root = nodes.querySelector('.cellview');
        if (root) { root.dataset.src = url; }
        return nodes;
      }));
      if (fragments.size > 64) { fragments.delete(fragments.keys().next().value); }
    }
    return fragments.get(url);
  }

  // The sub-step is applied in the browser, so one fragment serves every sub-step of its step.
  function fragmentUrl(host, t) {
    var url = new URL(location.href);
    ['s', 'panel', 'rolled'].forEach(function (name) { url.searchParams.delete(name); });  // the same cell
    if (t === 0) { url.searchParams.delete('t'); } else { url.searchParams.set('t', String(t)); }
    return host.dataset.src + url.search;
  }

  function refreshCell() {
    var host = document.getElementById('cellview');
    var s = sim();
    if (!host || !s) { return Promise.resolve(); }
    var t = currentStep(s);
    var url = fragmentUrl(host, t);
    var token = ++cellToken;
    [t + 1, t - 1].forEach(function (k) {
      if (k >= 0 && k < stepCount(s)) { loadFragment(fragmentUrl(host, k)).catch(function () {}); }
    });
    var shown = host.querySelector('.cellview');
    if (shown && shown.dataset.t === String(t) && shown.dataset.src === url) { return Promise.resolve(); }
    return loadFragment(url).then(function (nodes) {
      if (token !== cellToken || !nodes.childNodes.length) { return; }  // superseded, or already shown
      var leaving = cellRoot();
      var kept = document.createDocumentFragment();
      kept.append.apply(kept, Array.prototype.slice.call(host.childNodes));
      if (leaving && leaving.dataset.src) { fragments.set(leaving.dataset.src, Promise.resolve(kept)); }
      host.append(nodes);
      applySubstep(currentSubstep());
      var heading = document.querySelector('#detail-h .cur-t');
      if (heading) { heading.textContent = String(t); }
    }).catch(function () { fragments.delete(url); });
  }

  // ---- whole steps

  function setStep(t) {
    var s = sim();
    if (!s) { return; }
    var n = stepCount(s);
    if (!n) { return; }
    t = Math.max(0, Math.min(n - 1, t));
    s.dataset.t = String(t);
    var marked = s.querySelectorAll('[data-t]');
    for (var i = 0; i < marked.length; i++) {
      var el = marked[i];
      if (el.closest('#cellview')) { continue; }
      var k = parseInt(el.dataset.t, 10);
      el.classList.toggle('is-past', k < t);
      el.classList.toggle('is-current', k === t);
      el.classList.toggle('is-future', k > t);
      if (el.getAttribute('role') === 'button') { el.setAttribute('tabindex', k === t ? '0' : '-1'); }
    }
    var labels = JSON.parse(s.dataset.labels || '[]');
    var slider = document.getElementById('scrub');
    if (slider) { slider.value = String(t); slider.setAttribute('aria-valuetext', labels[t] || ''); }
    var out = document.getElementById('step-label');
    if (out) { out.textContent = labels[t] || ''; }
    var names = document.querySelectorAll('.cur-t');
    for (var m = 0; m < names.length; m++) { names[m].textContent = String(t); }
    var stepFields = document.querySelectorAll('form input[type="hidden"][name="t"]');
    for (var j = 0; j < stepFields.length; j++) { stepFields[j].value = String(t); }
    setParam('t', t === 0 ? null : String(t));
    if (cellVisible()) { refreshCell(); }
    requestAnimationFrame(function () { keepInView(t); });
  }

  // The current column stays in sight: the picture scrolls sideways (only) when the step leaves its window.
  function keepInView(t) {
    var column = columnBox(t);
    var scroller = column && column.closest('.scroller');
    if (!scroller || scroller.closest('[hidden]')) { return; }
    var a = column.getBoundingClientRect();
    var b = scroller.getBoundingClientRect();
    var margin = Math.min(48, b.width / 8);
    var dx = a.left < b.left ? a.left - b.left - margin : (a.right > b.right ? a.right - b.right + margin : 0);
    if (dx) { scroller.scrollBy({ left: dx, behavior: calm() ? 'auto' : 'smooth' }); }
  }

  // ---- play

  function playButton() { return document.querySelector('#sim [data-step="play"]'); }
  function playsSubsteps() {
    var mode = document.getElementById('play-mode');
    return mode && mode.value === 'substeps';
  }

  function pause() {
    if (timer !== null) { clearInterval(timer); timer = null; }
    var b = playButton();
    if (b) { b.textContent = '▶ Play'; b.setAttribute('aria-pressed', 'false'); }
  }

  function play() {
    var s = sim();
    if (!s || !stepCount(s)) { return; }
    var bySubstep = playsSubsteps();
    if (currentStep(s) >= stepCount(s) - 1 && (!bySubstep || currentSubstep() >= substepCount())) {
      if (bySubstep) { setParam('s', '1'); }
      setStep(0);
    }
    var speed = document.getElementById('speed');
    var perSecond = speed ? parseFloat(speed.value) : 2;
    timer = setInterval(function () {
      var cur = sim();
      if (!cur) { pause(); return; }
      if (bySubstep) {
        if (!moveSubstep(1)) { pause(); }
        return;
      }
      if (currentStep(cur) >= stepCount(cur) - 1) { pause(); return; }
      setStep(currentStep(cur) + 1);
      if (currentStep(cur) >= stepCount(cur) - 1) { pause(); }
    }, 1000 / perSecond);
    var b = playButton();
    if (b) { b.textContent = '‖ Pause'; b.setAttribute('aria-pressed', 'true'); }
  }

  function togglePlay() { if (timer === null) { play(); } else { pause(); } }

  function act(what) {
    var s = sim();
    if (!s) { return; }
    var t = currentStep(s);
    if (what === 'play') { togglePlay(); return; }
    pause();
    if (what === 'start') { setStep(0); }
    else if (what === 'end') { setStep(stepCount(s) - 1); }
    else if (what === 'prev') { setStep(t - 1); }
    else if (what === 'next') { setStep(t + 1); }
    else if (what === 'sub-prev') { moveSubstep(-1); }
    else if (what === 'sub-next') { moveSubstep(1); }
  }

  // ---- the cell, opened in place: the detail grows out of the chosen column (and shrinks back into it)

  // A column of the overview: its highlight rectangle is the button that opens its cell.
  function columnBox(t) {
    return document.querySelector('#overview rect.hl[data-t="' + t + '"]');
  }

  function zoom(panel, from, opening) {
    if (!from || calm() || !panel.animate) { return null; }
    var a = from.getBoundingClientRect();
    var b = panel.getBoundingClientRect();
    if (!a.width || !b.width) { return null; }
    var shrunk = 'translate(' + (a.left - b.left) + 'px,' + (a.top - b.top) + 'px) scale(' +
      (a.width / b.width) + ',' + (a.height / b.height) + ')';
    var frames = [{ transform: shrunk, opacity: 0.2 }, { transform: 'none', opacity: 1 }];
    return panel.animate(opening ? frames : frames.reverse(), { duration: ZOOM_MS, easing: 'ease-out' });
  }

  function openDetail(opener) {
    var panel = detail();
    var overview = document.getElementById('overview');
    if (!panel || !overview || !panel.hidden) { return; }
    var s = sim();
    var t = s ? currentStep(s) : 0;
    var from = columnBox(t);
    panel.returnFocusTo = opener || from || document.getElementById('open-cell');
    var rect = from ? from.getBoundingClientRect() : null;
    setParam('panel', 'cell');
    refreshCell().then(function () {
      overview.hidden = true;
      panel.hidden = false;
      if (rect) { zoom(panel, { getBoundingClientRect: function () { return rect; } }, true); }
      var heading = document.getElementById('detail-h');
      if (heading) { heading.focus({ preventScroll: true }); }
      panel.scrollIntoView({ block: 'nearest' });
    });
  }

  function closeDetail() {
    var panel = detail();
    var overview = document.getElementById('overview');
    if (!panel || !overview || panel.hidden) { return; }
    setParam('panel', null);
    setParam('s', null);
    var back = panel.returnFocusTo;
    var s = sim();
    var column = columnBox(s ? currentStep(s) : 0);
    if (!back || !back.isConnected || (back.matches && back.matches('rect.hl'))) { back = column || document.getElementById('open-cell'); }
    function finish() {
      panel.hidden = true;
      overview.hidden = false;
      if (back) { back.focus({ preventScroll: false }); }
    }
    // Shrink towards where the column will be: measure it with the overview shown for a moment.
    overview.hidden = false;
    var target = column ? column.getBoundingClientRect() : null;
    overview.hidden = true;
    var anim = target ? zoom(panel, { getBoundingClientRect: function () { return target; } }, false) : null;
    if (anim) { anim.onfinish = finish; } else { finish(); }
  }

  // ---- rolled up (one cell and its loop) or unrolled: unrolling slides every column out of the first

  function showRolled(rolled) {
    var fig = document.getElementById('rolled');
    var pic = document.getElementById('unrolled-picture');
    if (!fig || !pic) { return; }
    fig.hidden = !rolled;
    pic.hidden = rolled;
    setParam('rolled', rolled ? '1' : null);
    document.getElementById('show-rolled').setAttribute('aria-pressed', String(rolled));
    document.getElementById('show-unrolled').setAttribute('aria-pressed', String(!rolled));
    if (rolled || calm()) { return; }
    var columns = pic.querySelectorAll('g.col');
    if (!columns.length || !columns[0].animate) { return; }
    var first = parseFloat(columns[0].querySelector('rect.hl').getAttribute('x'));
    for (var i = 0; i < columns.length; i++) {
      var dx = parseFloat(columns[i].querySelector('rect.hl').getAttribute('x')) - first;
      columns[i].animate([{ transform: 'translateX(' + (-dx) + 'px)', opacity: 0.15 }, { transform: 'none' }],
        { duration: 450, delay: Math.min(i * 35, 600), easing: 'ease-out', fill: 'backwards' });
    }
  }

  function init() {
    applySubstep(currentSubstep());
    var s = sim();
    if (s) { keepInView(currentStep(s)); }
    // A cell the server drew with the page is the fragment of its step: keep it rather than fetch it again.
    var host = document.getElementById('cellview');
    var drawn = cellRoot();
    if (s && host && drawn && !drawn.dataset.src && drawn.dataset.t === String(currentStep(s))) {
      drawn.dataset.src = fragmentUrl(host, currentStep(s));
    }
    if (s && cellVisible()) { refreshCell(); }
  }

  document.addEventListener('click', function (e) {
    var stepper = e.target.closest('[data-step]');
    if (stepper) { act(stepper.dataset.step); return; }
    var sub = e.target.closest('a[data-substep]');
    if (sub) { e.preventDefault(); pause(); setSubstep(parseInt(sub.dataset.substep, 10)); return; }
    if (e.target.closest('#open-cell')) { openDetail(e.target.closest('#open-cell')); return; }
    if (e.target.closest('#show-rolled')) { showRolled(true); return; }
    if (e.target.closest('#show-unrolled')) { showRolled(false); return; }
    if (e.target.closest('#close-cell')) { closeDetail(); return; }
    // A click on a timestep's column: go to that step and open its cell in place (on a square: at its unit).
    var column = e.target.closest('#sim svg g.col[data-t]');
    if (column) {
      pause();
      var sq = squareAt(e);
      if (sq && column.closest('#overview')) { chooseUnit(String(sq.unit), sq.where); }
      setStep(parseInt(column.dataset.t, 10));
      if (column.closest('#overview')) { openDetail(columnBox(parseInt(column.dataset.t, 10))); }
    }
  });

  // The readout under the cell drawing says what the pointer or the keyboard focus is on, with its value.
  function readOut(e) {
    var part = e.target.closest && e.target.closest('.celldiagram [data-readout]');
    var out = part && document.querySelector('#cellview .readout');
    if (!out) { return; }
    // Every part (an operation or a wire) carries its label typeset with subscripts, escaped by the server.
    out.innerHTML = part.getAttribute('data-readout') || '';
  }
  document.addEventListener('focusin', readOut);
  document.addEventListener('mouseover', readOut);

  // ---- the squares of the unrolled picture: each grid is a few paths, so the unit under the pointer is found
  // from its position, and its value read from the picture's numbers table (the page holds each number once).

  function squareAt(e) {
    var grid = e.target.closest && e.target.closest('svg.unrolled g.grid');
    var svg = grid && grid.ownerSVGElement;
    var ctm = svg && svg.getScreenCTM();
    if (!ctm) { return null; }
    var p = new DOMPoint(e.clientX, e.clientY).matrixTransform(ctm.inverse());
    var d = grid.dataset;
    var pitch = parseFloat(d.pitch);
    var across = (p.x - parseFloat(d.x)) / pitch;
    var down = (p.y - parseFloat(d.y)) / pitch;
    var col = Math.floor(across);
    var row = Math.floor(down);
    var j = row * parseInt(d.perRow, 10) + col;
    var inside = (across - col) * pitch <= parseFloat(d.size) && (down - row) * pitch <= parseFloat(d.size);
    if (col < 0 || row < 0 || col >= parseInt(d.perRow, 10) || j >= parseInt(d.n, 10) || !inside) { return null; }
    var t = parseInt(grid.closest('g.col').dataset.t, 10);
    var table = document.getElementById(svg.dataset.sid + '-numbers');
    var cell = table && table.tBodies[0].rows[t] && table.tBodies[0].rows[t].cells[parseInt(d.col, 10)];
    var value = cell ? cell.textContent.split(',')[j] : '';
    var unit = j + parseInt(d.first || '0', 10); // a wide model's grid starts at its page's first unit
    return { unit: unit, where: d.where, text: d.name + '[' + unit + '] at t=' + t + ': ' + (value || '').trim(),
      readout: document.getElementById(svg.dataset.sid + '-readout') };
  }

  // Fetch a column's cell ahead, as soon as the pointer or the focus reaches the column.
  function prefetchColumn(e) {
    var column = e.target.closest && e.target.closest('#overview svg g.col[data-t]');
    var host = document.getElementById('cellview');
    if (column && host) { loadFragment(fragmentUrl(host, parseInt(column.dataset.t, 10))).catch(function () {}); }
  }
  document.addEventListener('pointerover', prefetchColumn);
  document.addEventListener('focusin', prefetchColumn);

  document.addEventListener('pointermove', function (e) {
    var sq = squareAt(e);
    if (sq && sq.readout) { sq.readout.textContent = sq.text; }
  });

  document.addEventListener('input', function (e) {
    if (e.target.id === 'scrub') { pause(); setStep(parseInt(e.target.value, 10)); }
  });

  function setFormValue(name, value) {
    var form = document.getElementById('model');
    if (form && form.elements[name]) { form.elements[name].value = value; }
  }

  // Outline the chosen unit in every grid of the picture (grids narrower than the unit have none).
  function selectUnit(unit) {
    var grids = document.querySelectorAll('#sim svg.unrolled g.grid');
    var j = parseInt(unit, 10);
    for (var i = 0; i < grids.length; i++) {
      var d = grids[i].dataset;
      var mark = grids[i].querySelector('.selmark');
      var k = j - parseInt(d.first || '0', 10);
      var shown = k >= 0 && k < parseInt(d.n, 10);
      mark.classList.toggle('off', !shown);
      if (!shown) { continue; }
      var perRow = parseInt(d.perRow, 10);
      mark.setAttribute('x', String(parseFloat(d.x) + (k % perRow) * parseFloat(d.pitch)));
      mark.setAttribute('y', String(parseFloat(d.y) + Math.floor(k / perRow) * parseFloat(d.pitch)));
    }
  }

  // The unit and the layer ("layer:direction") the cell view shows: URL, model form, pickers and outline agree.
  function showUnit(unit) {
    setParam('unit', unit);
    setFormValue('unit', unit);
    var picker = document.getElementById('cv-unit');
    if (picker) { picker.value = unit; }
    selectUnit(unit);
  }

  function showLayer(where) {
    var parts = where.split(':');
    setParam('layer', parts[0] === '0' ? null : parts[0]);
    setParam('dir', parts[1] === '0' ? null : parts[1]);
    setFormValue('layer', parts[0]);
    setFormValue('dir', parts[1]);
    var picker = document.getElementById('cv-where');
    if (picker) { picker.value = where; }
  }

  // From a square of the picture: its unit and its row's layer.
  function chooseUnit(unit, where) {
    showUnit(unit);
    showLayer(where);
  }

  document.addEventListener('change', function (e) {
    var target = e.target;
    if ((target.id === 'speed' || target.id === 'play-mode') && timer !== null) { pause(); play(); return; }
    if (target.dataset.param === 'unit') {
      showUnit(target.value);
      refreshCell();
    } else if (target.dataset.param === 'where') {
      showLayer(target.value);
      refreshCell();
    }
  });

  document.addEventListener('keydown', function (e) {
    if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey) { return; }
    var s = sim();
    if (!s || !stepCount(s)) { return; }
    var target = e.target;
    var tag = target.tagName;
    var onSlider = target.id === 'scrub';
    var typing = (tag === 'INPUT' && !onSlider) || tag === 'SELECT' || tag === 'TEXTAREA' || target.isContentEditable;
    if (e.key === 'Escape' && detail() && !detail().hidden && !typing) { closeDetail(); e.preventDefault(); return; }
    // The slider steps itself (arrows, Home, End fire 'input'); scroll regions keep their arrows for scrolling.
    if (typing || (onSlider && e.key !== ' ') || (target.classList && target.classList.contains('scroller'))) { return; }
    var t = currentStep(s);
    var onColumn = target.matches && target.matches('#overview rect.hl');
    if (onColumn && (e.key === 'Enter' || e.key === ' ')) { pause(); setStep(parseInt(target.dataset.t, 10)); openDetail(target); }
    else if (e.key === 'ArrowRight') { pause(); setStep(t + 1); }
    else if (e.key === 'ArrowLeft') { pause(); setStep(t - 1); }
    else if (e.key === 'Home') { pause(); setStep(0); }
    else if (e.key === 'End') { pause(); setStep(stepCount(s) - 1); }
    else if (e.key === '.') { pause(); moveSubstep(1); }
    else if (e.key === ',') { pause(); moveSubstep(-1); }
    else if (e.key === ' ' && tag !== 'BUTTON' && tag !== 'SUMMARY' && tag !== 'A') { togglePlay(); }
    else { return; }
    e.preventDefault();
    // Roving focus: a focused column follows the step, so the arrows walk the picture.
    if (onColumn && (e.key === 'ArrowRight' || e.key === 'ArrowLeft' || e.key === 'Home' || e.key === 'End')) {
      var column = columnBox(currentStep(s));
      if (column) { column.focus(); }
    }
  });

  // After htmx swaps in a new model (or restores history), start from a quiet, consistent state.
  document.addEventListener('htmx:after:swap', function () { pause(); init(); });
  document.addEventListener('htmx:after:history:update', syncLinks);
  document.addEventListener('DOMContentLoaded', init);
}());
