/* Unrolled training view: follow a run's Server-Sent Events (GET /api/v1/training/{id}/events) and redraw the
 * server-rendered curves (GET /train/live) at most every 0.4 s (every 2 s when reduced motion is asked for).
 * The status line is a polite live region: it speaks at each quarter of the run and at the end, not per step.
 * Stop posts the form in the background; the stream then ends by itself after the current step.
 */
(function () {
  'use strict';

  var source = null;
  var timer = null;
  var spokenQuarter = 0;

  function run() { return document.getElementById('training'); }
  function slow() { return window.matchMedia('(prefers-reduced-motion: reduce)').matches; }

  function say(text) {
    var status = document.getElementById('train-status');
    if (status && text) { status.textContent = text; }
  }

  function refresh(then) {
    var r = run();
    if (!r) { return; }
    var embed = r.dataset.embed ? '&embed=1' : '';  // an embedded page links to the other views' embed forms
    fetch('/train/live?job=' + encodeURIComponent(r.dataset.job) + embed).then(function (response) {
      return response.ok ? response.text() : Promise.reject(new Error(String(response.status)));
    }).then(function (html) {
      var host = document.getElementById('train-live');
      if (host) { host.innerHTML = html; }
      if (then) { then(); }
    }).catch(function () {});
  }

  function schedule() {
    if (timer !== null) { return; }
    timer = setTimeout(function () { timer = null; refresh(); }, slow() ? 2000 : 400);
  }

  function finish() {
    if (source) { source.close(); source = null; }
    if (timer !== null) { clearTimeout(timer); timer = null; }
    var r = run();
    if (r) { r.dataset.state = 'done'; }
    var stop = document.getElementById('stop-form');
    if (stop) { stop.hidden = true; }
    refresh(function () {
      var summary = document.querySelector('#train-live .train-summary');
      if (summary) { say(summary.textContent); }
    });
  }

  function connect() {
    var r = run();
    // A queued run's stream waits for its first step, then goes on like a running one's.
    if (!r || (r.dataset.state !== 'running' && r.dataset.state !== 'queued') || !window.EventSource) { return; }
    var total = parseInt(r.dataset.steps || '1', 10);
    source = new EventSource('/api/v1/training/' + encodeURIComponent(r.dataset.job) + '/events');
    source.addEventListener('progress', function (e) {
      var p = JSON.parse(e.data);
      if (r.dataset.state === 'queued') {  // a worker has claimed the run: its first step is in
        r.dataset.state = 'running';
        say('The run has started.');
      }
      schedule();
      var quarter = Math.floor(4 * p.step / total);
      if (quarter > spokenQuarter && !p.done) {
        spokenQuarter = quarter;
        say('Step ' + p.step + ' of ' + total + ': loss ' + Number(p.loss).toPrecision(4) + '.');
      }
    });
    source.addEventListener('end', finish);
    source.addEventListener('error', function () {
      // The server closes the stream after 'end'; anything else (a lost run) also ends the live view.
      if (source && source.readyState === EventSource.CLOSED) { finish(); }
    });
  }

  document.addEventListener('submit', function (e) {
    var form = e.target;
    if (form.id !== 'stop-form') { return; }
    e.preventDefault();
    var button = form.querySelector('button');
    if (button) { button.disabled = true; }
    say('Stopping after the current step…');
    fetch(form.action, { method: 'POST', body: new URLSearchParams(new FormData(form)), redirect: 'manual' });
  });

  document.addEventListener('DOMContentLoaded', connect);
}());
