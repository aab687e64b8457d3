// In a popup that a platform opened: tell the opener how it ended, then close. The message goes
// only to the session's return_url origin; without one, or outside a popup, nothing happens and
// the page's links work as they are.
(function () {
  "use strict";
  var outcome = document.getElementById("outcome");
  if (!outcome || !outcome.dataset.origin || !window.opener) {
    return;
  }
  window.opener.postMessage(
    {
      source: "latchkey",
      connection_id: outcome.dataset.connectionId,
      status: outcome.dataset.status
    },
    outcome.dataset.origin
  );
  window.close();
})();
