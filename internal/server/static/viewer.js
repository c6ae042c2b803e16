// The safe viewer's revealed original (SECURITY.md 31–32). The page works
// without this script: the original is blurred by CSS unless its box is
// ticked. With it, the original also blurs again (class viewer-blurred)
// when the window loses focus, the tab is hidden or after a minute without
// activity; and while it is shown unblurred, the page tells the server
// every 15 seconds, and when it stops, so that exposure time is metered.
(function () {
  "use strict";
  var box = document.getElementById("original");
  if (!box) {
    return;
  }
  var media = box.querySelector(".viewer-media");
  var toggle = box.querySelector(".viewer-toggle");
  if (!media || !toggle) {
    return;
  }
  var url = box.getAttribute("data-heartbeat");
  var grant = box.getAttribute("data-grant");
  var csrf = box.getAttribute("data-csrf");
  var ttl = parseInt(box.getAttribute("data-ttl") || "0", 10);
  var IDLE = 60 * 1000;
  var BEAT = 15 * 1000;
  var shown = false;
  var expired = false;
  var beatTimer = null;
  var idleTimer = null;

  function send(state, leaving) {
    var body = new URLSearchParams();
    body.set("csrf", csrf);
    body.set("grant", grant);
    body.set("state", state);
    if (leaving && navigator.sendBeacon) {
      navigator.sendBeacon(url, body);
      return;
    }
    fetch(url, { method: "POST", body: body, credentials: "same-origin", keepalive: true }).then(function (r) {
      if (r.status === 409 || r.status === 404) {
        expire();
      }
    }).catch(function () {});
  }

  // cover blurs the original and, if it was shown, reports the stop.
  function cover(leaving) {
    media.classList.add("viewer-blurred");
    if (typeof media.pause === "function") {
      media.pause();
    }
    toggle.checked = false;
    clearTimeout(idleTimer);
    clearInterval(beatTimer);
    if (shown) {
      shown = false;
      send("stop", leaving);
    }
  }

  function poke() {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(function () { cover(false); }, IDLE);
  }

  function show() {
    if (expired) {
      toggle.checked = false;
      return;
    }
    media.classList.remove("viewer-blurred");
    shown = true;
    send("visible", false);
    clearInterval(beatTimer);
    beatTimer = setInterval(function () {
      if (shown && document.visibilityState === "visible") {
        send("visible", false);
      }
    }, BEAT);
    poke();
  }

  function expire() {
    expired = true;
    cover(false);
    toggle.disabled = true;
    var note = box.querySelector(".viewer-expired");
    if (note) {
      note.hidden = false;
    }
  }

  media.classList.add("viewer-blurred");
  toggle.checked = false;
  toggle.addEventListener("change", function () {
    if (toggle.checked) {
      show();
    } else {
      cover(false);
    }
  });
  window.addEventListener("blur", function () { cover(false); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState !== "visible") {
      cover(false);
    }
  });
  window.addEventListener("pagehide", function () { cover(true); });
  ["mousemove", "keydown", "pointerdown", "wheel", "touchstart", "scroll"].forEach(function (type) {
    window.addEventListener(type, function () {
      if (shown) {
        poke();
      }
    }, { passive: true });
  });
  // A video playing is watched, not idle.
  media.addEventListener("timeupdate", function () {
    if (shown && !media.paused) {
      poke();
    }
  });
  if (ttl > 0) {
    setTimeout(expire, ttl * 1000);
  } else {
    expire();
  }
})();
