// The self-report page: works out the fingerprints (hashes) of the files a
// person chooses, on their device, with Haven's own Go code compiled to
// WebAssembly (hash.wasm, cmd/hashwasm), and puts only the hashes in the
// form. The file picker is outside the form and has no name: the browser
// never sends a file. File names are shown in the table and never leave
// the page.
//
// Each line of the hashes field is one file (see selfreport.ParseFiles):
//   image,<md5>,<sha1>,<pdq>,<quality>
//   video,<md5>,<sha1>,<quality>:<pdq>:<second>;…   (a frame a second)
//   file,<md5>,<sha1>
(function () {
  'use strict';
  var box = document.getElementById('sr-picker');
  var field = document.getElementById('sr-hashes');
  if (!box || !field) { return; }
  var picker = document.getElementById('sr-files');
  var status = document.getElementById('sr-status');
  var table = document.getElementById('sr-table');
  var rows = document.getElementById('sr-rows');
  var send = document.getElementById('sr-send');
  var msg = box.dataset;
  var maxFrames = 3600;
  var frameSide = 512;

  function say(text) { status.textContent = text; }

  function addRow(name, kind, pdq, md5) {
    var tr = document.createElement('tr');
    [name, kind, pdq || '—', md5].forEach(function (text, i) {
      var td = document.createElement('td');
      td.textContent = text;
      if (i >= 2) { td.className = 'mono sr-hash'; }
      tr.appendChild(td);
    });
    rows.appendChild(tr);
    table.hidden = false;
  }

  function addLine(line) {
    field.value = field.value ? field.value.replace(/\n*$/, '\n') + line : line;
  }

  // frames draws a frame a second of a video the browser can play and
  // hashes each with havenHashPixels.
  function frames(file) {
    return new Promise(function (resolve) {
      var url = URL.createObjectURL(file);
      var video = document.createElement('video');
      var canvas = document.createElement('canvas');
      var ctx = canvas.getContext('2d', { willReadFrequently: true });
      var out = [];
      var t = 0;
      function finish() { URL.revokeObjectURL(url); resolve(out); }
      video.muted = true;
      video.preload = 'auto';
      video.addEventListener('error', finish);
      video.addEventListener('loadedmetadata', function () {
        var scale = Math.min(1, frameSide / Math.max(video.videoWidth, video.videoHeight));
        canvas.width = Math.max(1, Math.round(video.videoWidth * scale));
        canvas.height = Math.max(1, Math.round(video.videoHeight * scale));
        video.currentTime = 0;
      });
      video.addEventListener('seeked', function () {
        ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
        var px = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
        var r = window.havenHashPixels(canvas.width, canvas.height, px);
        if (!r.error) { out.push(r.quality + ':' + r.pdq + ':' + t.toFixed(3)); }
        t += 1;
        if (t < video.duration && out.length < maxFrames) { video.currentTime = t; } else { finish(); }
      });
      video.src = url;
    });
  }

  function hashOne(file) {
    return file.arrayBuffer().then(function (buf) {
      var r = window.havenHashFile(new Uint8Array(buf));
      if (r.pdq) {
        addRow(file.name, msg.picture, r.pdq, r.md5);
        addLine(['image', r.md5, r.sha1, r.pdq, r.quality].join(','));
        return;
      }
      if (file.type.indexOf('video/') === 0) {
        return frames(file).then(function (fs) {
          if (fs.length) {
            addRow(file.name, msg.video, fs.length + ' × PDQ', r.md5);
            addLine(['video', r.md5, r.sha1, fs.join(';')].join(','));
          } else {
            addRow(file.name, msg.other, '', r.md5);
            addLine(['file', r.md5, r.sha1].join(','));
          }
        });
      }
      addRow(file.name, msg.other, '', r.md5);
      addLine(['file', r.md5, r.sha1].join(','));
    });
  }

  function hashAll() {
    var files = Array.prototype.slice.call(picker.files || []);
    if (!files.length) { return; }
    picker.disabled = true;
    if (send) { send.disabled = true; }
    say(msg.working);
    var chain = Promise.resolve();
    files.forEach(function (f) {
      chain = chain.then(function () { return hashOne(f); }).catch(function () { say(msg.failed); });
    });
    chain.then(function () {
      picker.value = '';
      picker.disabled = false;
      if (send) { send.disabled = false; }
      say(msg.done);
    });
  }

  if (!window.WebAssembly || !window.Go) { say(msg.noscript); return; }
  var go = new window.Go();
  WebAssembly.instantiateStreaming(fetch(msg.wasm), go.importObject).then(function (res) {
    go.run(res.instance);
    if (!window.havenHashReady) { throw new Error('not ready'); }
    picker.disabled = false;
    picker.addEventListener('change', hashAll);
    say(msg.ready);
  }).catch(function () { say(msg.noscript); });
}());
