/* After dynamic registration: tell the LMS window that opened us that we are done (LTI-DR's close message). */
(function () {
  'use strict';
  function close() {
    (window.opener || window.parent).postMessage({ subject: 'org.imsglobal.lti.close' }, '*');
  }
  var button = document.getElementById('registration-done');
  if (button) { button.addEventListener('click', close); }
})();
