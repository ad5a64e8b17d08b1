/* Unrolled: the timeline (step, play/pause, scrub), keyboard shortcuts, the URL as the view state, the gate dialog.
 *
 * Every step was rendered once by the server; a step only switches classes on elements carrying data-t
 * (is-past / is-current / is-future), so it needs no request. The cell view is the exception: it is fetched
 * from /fragment/cell for the new step while it is on screen (the neighbouring steps are fetched ahead). The
 * step is written into the URL with history.replaceState (keeping htmx's history state), so reload and shared
 * links restore the same view. Nothing runs while paused: the only timer is the play timer, cleared on pause,
 * at the end, and on swaps.
 */
(function () {
  'use strict';

  var timer = null;

  function sim() { return document.getElementById('sim'); }
  function stepCount(s) { return parseInt(s.dataset.steps || '0', 10); }
  function currentStep(s) { return parseInt(s.dataset.t || '0', 10); }

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

  function cellVisible() {
    var host = document.getElementById('cellview');
    if (!host) { return null; }
    var dialog = host.closest('dialog');
    return (!dialog || dialog.open) ? host : null;
  }

  // Cell-view fragments by URL (as promises), so neighbouring steps are fetched ahead and a step shows at once.
  var fragments = new Map();
  var cellToken = 0;

  function loadFragment(url) {
    if (!fragments.has(url)) {
      fragments.set(url, fetch(url, { headers: { 'HX-Request': 'true' } }).then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.text();
      }));
      if (fragments.size > 64) { fragments.delete(fragments.keys().next().value); }
    }
    return fragments.get(url);
  }

  function fragmentUrl(host, t) {
    var url = new URL(location.href);
    if (t === 0) { url.searchParams.delete('t'); } else { url.searchParams.set('t', String(t)); }
    return host.dataset.src + url.search;
  }

  function refreshCell() {
    var host = cellVisible();
    var s = sim();
    if (!host || !s) { return; }
    var t = currentStep(s);
    var url = fragmentUrl(host, t);
    var token = ++cellToken;
    loadFragment(url).then(function (html) {
      if (token === cellToken) { host.innerHTML = html; }
    }).catch(function () { fragments.delete(url); });
    [t + 1, t - 1].forEach(function (k) {
      if (k >= 0 && k < stepCount(s)) { loadFragment(fragmentUrl(host, k)).catch(function () {}); }
    });
  }

  function setStep(t) {
    var s = sim();
    if (!s) { return; }
    var n = stepCount(s);
    if (!n) { return; }
    t = Math.max(0, Math.min(n - 1, t));
    s.dataset.t = String(t);
    var marked = s.querySelectorAll('[data-t]');
    for (var i = 0; i < marked.length; i++) {
      var k = parseInt(marked[i].dataset.t, 10);
      marked[i].classList.toggle('is-past', k < t);
      marked[i].classList.toggle('is-current', k === t);
      marked[i].classList.toggle('is-future', k > t);
    }
    var labels = JSON.parse(s.dataset.labels || '[]');
    var slider = document.getElementById('scrub');
    if (slider) { slider.value = String(t); slider.setAttribute('aria-valuetext', labels[t] || ''); }
    var out = document.getElementById('step-label');
    if (out) { out.textContent = labels[t] || ''; }
    var stepFields = document.querySelectorAll('form input[type="hidden"][name="t"]');
    for (var j = 0; j < stepFields.length; j++) { stepFields[j].value = String(t); }
    setParam('t', t === 0 ? null : String(t));
    refreshCell();
  }

  function playButton() { return document.querySelector('#sim [data-step="play"]'); }

  function pause() {
    if (timer !== null) { clearInterval(timer); timer = null; }
    var b = playButton();
    if (b) { b.textContent = '▶ Play'; }
  }

  function play() {
    var s = sim();
    if (!s || !stepCount(s)) { return; }
    if (currentStep(s) >= stepCount(s) - 1) { setStep(0); }
    var speed = document.getElementById('speed');
    var perSecond = speed ? parseFloat(speed.value) : 2;
    timer = setInterval(function () {
      var cur = sim();
      if (!cur || currentStep(cur) >= stepCount(cur) - 1) { pause(); return; }
      setStep(currentStep(cur) + 1);
      if (currentStep(cur) >= stepCount(cur) - 1) { pause(); }
    }, 1000 / perSecond);
    var b = playButton();
    if (b) { b.textContent = '‖ Pause'; }
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
  }

  function openDialog(opener) {
    var dialog = document.getElementById('cell-dialog');
    if (!dialog || dialog.open) { return; }
    dialog.returnFocusTo = opener || document.activeElement;
    dialog.showModal();
    setParam('panel', 'cell');
    refreshCell();
  }

  function init() {
    var dialog = document.getElementById('cell-dialog');
    if (dialog && dialog.dataset.open === '1' && !dialog.open) {
      dialog.showModal();
    }
  }

  document.addEventListener('click', function (e) {
    var stepper = e.target.closest('[data-step]');
    if (stepper) { act(stepper.dataset.step); return; }
    if (e.target.closest('#open-cell')) { openDialog(e.target.closest('#open-cell')); return; }
    if (e.target.closest('#close-cell')) { document.getElementById('cell-dialog').close(); return; }
    // A click on a timestep's column in a picture jumps there (the slider is the keyboard way).
    var column = e.target.closest('#sim svg g.col[data-t]');
    if (column) { pause(); setStep(parseInt(column.dataset.t, 10)); }
  });

  document.addEventListener('close', function (e) {
    if (e.target.id !== 'cell-dialog') { return; }
    setParam('panel', null);
    var back = e.target.returnFocusTo || document.getElementById('open-cell');
    if (back && back.isConnected) { back.focus(); }
  }, true);

  document.addEventListener('input', function (e) {
    if (e.target.id === 'scrub') { pause(); setStep(parseInt(e.target.value, 10)); }
  });

  function setFormValue(name, value) {
    var form = document.getElementById('model');
    if (form && form.elements[name]) { form.elements[name].value = value; }
  }

  function selectUnit(unit) {
    var squares = document.querySelectorAll('#sim rect.sq');
    for (var i = 0; i < squares.length; i++) { squares[i].classList.toggle('sel', squares[i].dataset.u === unit); }
  }

  document.addEventListener('change', function (e) {
    var target = e.target;
    if (target.id === 'speed' && timer !== null) { pause(); play(); return; }
    if (target.dataset.param === 'unit') {
      setParam('unit', target.value);
      setFormValue('unit', target.value);
      selectUnit(target.value);
      refreshCell();
    } else if (target.dataset.param === 'where') {
      var parts = target.value.split(':');
      setParam('layer', parts[0] === '0' ? null : parts[0]);
      setParam('dir', parts[1] === '0' ? null : parts[1]);
      setFormValue('layer', parts[0]);
      setFormValue('dir', parts[1]);
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
    // The slider steps itself (arrows, Home, End fire 'input'); scroll regions keep their arrows for scrolling.
    if (typing || (onSlider && e.key !== ' ') || (target.classList && target.classList.contains('scroller'))) { return; }
    var t = currentStep(s);
    if (e.key === 'ArrowRight') { pause(); setStep(t + 1); }
    else if (e.key === 'ArrowLeft') { pause(); setStep(t - 1); }
    else if (e.key === 'Home') { pause(); setStep(0); }
    else if (e.key === 'End') { pause(); setStep(stepCount(s) - 1); }
    else if (e.key === ' ' && tag !== 'BUTTON' && tag !== 'SUMMARY' && tag !== 'A') { togglePlay(); }
    else { return; }
    e.preventDefault();
  });

  // After htmx swaps in a new model (or restores history), start from a quiet, consistent state.
  document.addEventListener('htmx:after:swap', function () { pause(); init(); });
  document.addEventListener('htmx:after:history:update', syncLinks);
  document.addEventListener('DOMContentLoaded', init);
}());
