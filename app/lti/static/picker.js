/* The deep-linking picker: choosing a page shows it in the preview frame at once (the "Show preview" button
 * does the same without JavaScript) and fills the title field until the teacher types their own title. */
(function () {
  'use strict';
  var frame = document.getElementById('preview-frame');
  var name = document.getElementById('preview-name');
  var title = document.getElementById('item-title');
  var typed = false;
  if (!frame) { return; }
  title.addEventListener('input', function () { typed = true; });
  document.querySelectorAll('input[name="choice"]').forEach(function (radio) {
    radio.addEventListener('change', function () {
      frame.src = radio.dataset.embed;
      name.textContent = radio.dataset.title;
      if (!typed) { title.value = radio.dataset.title; }
    });
  });
  var button = document.querySelector('.lti-preview-button');
  if (button) { button.hidden = true; }
})();
