// The lab's masking page. The analyst drags rectangles over the child on
// the reduced picture; each is drawn filled on a canvas laid over it, and
// written to the form field "masks" as "x,y,w,h" in the picture's own
// pixels (whatever size it is shown at), separated by semicolons. The
// server applies the masks itself. Without this script the field can be
// filled by hand.
(function () {
  "use strict";
  var img = document.getElementById("lab-work");
  var canvas = document.getElementById("lab-canvas");
  var field = document.getElementById("masks");
  var undo = document.getElementById("lab-undo");
  if (!img || !canvas || !field) {
    return;
  }
  var rects = [];
  var start = null;
  var current = null;

  function parse() {
    rects = [];
    field.value.split(";").forEach(function (part) {
      var n = part.split(",").map(function (v) { return parseInt(v, 10); });
      if (n.length === 4 && n.every(function (v) { return !isNaN(v); })) {
        rects.push({ x: n[0], y: n[1], w: n[2], h: n[3] });
      }
    });
  }

  function write() {
    field.value = rects.map(function (r) { return [r.x, r.y, r.w, r.h].join(","); }).join(";");
  }

  // scale is picture pixels per displayed pixel.
  function scale() {
    return img.clientWidth > 0 ? img.naturalWidth / img.clientWidth : 1;
  }

  function fit() {
    canvas.width = img.clientWidth;
    canvas.height = img.clientHeight;
    canvas.style.width = img.clientWidth + "px";
    canvas.style.height = img.clientHeight + "px";
    draw();
  }

  function draw() {
    var ctx = canvas.getContext("2d");
    var k = scale();
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.fillStyle = "#000";
    rects.forEach(function (r) { ctx.fillRect(r.x / k, r.y / k, r.w / k, r.h / k); });
    if (current) {
      ctx.strokeStyle = "#e00";
      ctx.lineWidth = 2;
      ctx.strokeRect(current.x, current.y, current.w, current.h);
    }
  }

  function point(ev) {
    var box = canvas.getBoundingClientRect();
    return {
      x: Math.min(Math.max(ev.clientX - box.left, 0), canvas.width),
      y: Math.min(Math.max(ev.clientY - box.top, 0), canvas.height)
    };
  }

  function span(a, b) {
    return { x: Math.min(a.x, b.x), y: Math.min(a.y, b.y), w: Math.abs(a.x - b.x), h: Math.abs(a.y - b.y) };
  }

  canvas.addEventListener("pointerdown", function (ev) {
    start = point(ev);
    current = { x: start.x, y: start.y, w: 0, h: 0 };
    if (canvas.setPointerCapture && ev.pointerId !== undefined) {
      try { canvas.setPointerCapture(ev.pointerId); } catch (e) { /* synthetic events have none */ }
    }
    ev.preventDefault();
  });
  canvas.addEventListener("pointermove", function (ev) {
    if (!start) {
      return;
    }
    current = span(start, point(ev));
    draw();
  });
  canvas.addEventListener("pointerup", function (ev) {
    if (!start) {
      return;
    }
    var r = span(start, point(ev));
    start = null;
    current = null;
    if (r.w >= 2 && r.h >= 2) {
      // Round outwards, so the mask covers at least what was drawn.
      var k = scale();
      var x0 = Math.floor(r.x * k), y0 = Math.floor(r.y * k);
      var x1 = Math.min(Math.ceil((r.x + r.w) * k), img.naturalWidth);
      var y1 = Math.min(Math.ceil((r.y + r.h) * k), img.naturalHeight);
      rects.push({ x: x0, y: y0, w: x1 - x0, h: y1 - y0 });
      write();
    }
    draw();
  });
  field.addEventListener("change", function () { parse(); draw(); });
  if (undo) {
    undo.addEventListener("click", function () {
      rects.pop();
      write();
      draw();
    });
  }
  parse();
  if (img.complete && img.naturalWidth > 0) {
    fit();
  } else {
    img.addEventListener("load", fit);
  }
  window.addEventListener("resize", fit);
}());
