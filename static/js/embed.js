/* Unrolled: the embedding protocol, both sides, and the Embed/share panel.
 *
 * Inside a frame: report the page's height to the parent on load and whenever it changes (ResizeObserver),
 * as Canvas's {subject: 'lti.frameResize', height: N}; Moodle and Open edX pages can listen for the same
 * message. The message holds only a number, so any parent may read it ('*').
 * A frame is often narrower than the page it came from, so it also scrolls each sideways-scrolling region to
 * keep the current step's column in view, on load and whenever the step changes.
 * Hosting frames (a lesson step): resize iframes marked data-autoheight when they report from our origin.
 * Share panel: when opened, rebuild the iframe snippet and the direct link from the current location (the
 * step may have moved since the page was served), and copy either on request.
 * Nothing here touches cookies or storage.
 */
(function () {
  'use strict';

  var MIN_HEIGHT = 200;
  var MAX_HEIGHT = 20000;
  var lastSent = -1;

  function framed() {
    try { return window.parent !== window; } catch (e) { return true; }
  }

  function contentHeight() {
    // The body's own box, not the viewport: a frame that grows must be able to shrink again too.
    return Math.ceil(document.body.getBoundingClientRect().height);
  }

  function reportHeight() {
    var h = contentHeight();
    if (h === lastSent || h <= 0) { return; }
    lastSent = h;
    window.parent.postMessage({ subject: 'lti.frameResize', height: h }, '*');
  }

  function revealCurrentStep() {
    var regions = document.querySelectorAll('.scroller');
    for (var i = 0; i < regions.length; i++) {
      var current = regions[i].querySelector('.is-current');
      if (!current) { continue; }
      var box = regions[i].getBoundingClientRect();
      var r = current.getBoundingClientRect();
      if (r.left < box.left) { regions[i].scrollLeft += r.left - box.left - 16; }
      else if (r.right > box.right) { regions[i].scrollLeft += r.right - box.right + 16; }
    }
  }

  function startReporting() {
    if (!framed()) { return; }
    revealCurrentStep();
    new MutationObserver(revealCurrentStep).observe(document.body,
      { attributes: true, subtree: true, attributeFilter: ['data-t'] });
    reportHeight();
    if (typeof ResizeObserver === 'function') {
      new ResizeObserver(reportHeight).observe(document.body);
    } else {
      window.addEventListener('resize', reportHeight);
    }
    window.addEventListener('load', reportHeight);
  }

  window.addEventListener('message', function (e) {
    if (e.origin !== location.origin || !e.data || e.data.subject !== 'lti.frameResize') { return; }
    var frames = document.querySelectorAll('iframe[data-autoheight]');
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].contentWindow === e.source) {
        var h = Math.max(MIN_HEIGHT, Math.min(MAX_HEIGHT, Math.round(Number(e.data.height) || 0)));
        frames[i].setAttribute('height', String(h + 2));
      }
    }
  });

  function embedUrl() {
    var path = location.pathname === '/' ? '' : location.pathname;
    return location.origin + '/embed' + path + location.search;
  }

  function escapeAttr(s) {
    return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  }

  function refreshShare(panel) {
    var title = panel.dataset.embedTitle || 'Unrolled';
    var snippet = panel.querySelector('.share-snippet');
    var link = panel.querySelector('.share-link');
    if (snippet) {
      snippet.value = '<iframe src="' + escapeAttr(embedUrl()) + '" title="' + escapeAttr(title) +
        '" width="100%" height="720" loading="lazy" style="border:1px solid #ccc;max-width:1200px"></iframe>';
    }
    if (link) { link.value = location.href; }
  }

  function copyFrom(button) {
    var field = document.getElementById(button.dataset.copy);
    var status = button.closest('.share').querySelector('.share-status');
    if (!field) { return; }
    function done(ok) { if (status) { status.textContent = ok ? 'Copied.' : 'Select the text and copy it (Ctrl+C).'; } }
    field.focus();
    field.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(function () { done(true); }, function () { done(false); });
    } else {
      var ok = false;
      try { ok = document.execCommand('copy'); } catch (err) { ok = false; }
      done(ok);
    }
  }

  document.addEventListener('toggle', function (e) {
    if (e.target.classList && e.target.classList.contains('share') && e.target.open) { refreshShare(e.target); }
  }, true);

  document.addEventListener('click', function (e) {
    if (!e.target.closest) { return; }
    var button = e.target.closest('.share-copy');
    if (button) { copyFrom(button); return; }
    // Refresh as the panel opens (Enter and Space on a summary click it too); 'toggle' fires only later.
    var summary = e.target.closest('.share > summary');
    if (summary) { refreshShare(summary.parentElement); }
  });

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', startReporting);
  } else {
    startReporting();
  }
}());
