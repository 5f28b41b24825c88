// Zhijia check-in at the door: camera scan (BarcodeDetector) or typed ticket code, phone search, and an
// offline queue in localStorage. Every scan gets an id on this device; the server answers a repeated id with the
// first result, so uploading the queue again never counts anyone twice.
(function () {
  "use strict";
  var root = document.getElementById("checkin");
  if (!root) { return; }

  var eventId = root.getAttribute("data-event");
  var scanUrl = root.getAttribute("data-scan-url");
  var searchUrl = root.getAttribute("data-search-url");
  var undoUrl = root.getAttribute("data-undo-url");
  var csrf = root.getAttribute("data-csrf");
  var msg = function (name) { return root.getAttribute("data-msg-" + name) || ""; };
  var storeKey = "zhijia.checkin.queue." + eventId;

  var resultBox = document.getElementById("result");
  var attended = document.getElementById("attended-count");
  var queueStatus = document.getElementById("queue-status");
  var codeForm = document.getElementById("code-form");
  var codeInput = codeForm ? codeForm.querySelector("input[name=code]") : null;
  var searchForm = document.getElementById("search-form");
  var searchResults = document.getElementById("search-results");
  var undoBox = document.getElementById("undo-box");
  var undoButton = document.getElementById("undo-button");
  // Outside the check-in window the answer offers to check the person in anyway, with a reason (audited).
  var overrideForm = document.getElementById("override-form");
  var overrideReason = overrideForm ? overrideForm.querySelector("input[name=override_reason]") : null;
  var overrideId = overrideForm ? overrideForm.querySelector("input[name=registration_id]") : null;
  var flushing = false;
  var lastUndoId = null;

  function newScanId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function loadQueue() {
    try {
      var items = JSON.parse(window.localStorage.getItem(storeKey) || "[]");
      return Array.isArray(items) ? items : [];
    } catch (e) {
      return [];
    }
  }

  function saveQueue(items) {
    try { window.localStorage.setItem(storeKey, JSON.stringify(items)); } catch (e) { /* storage full or off */ }
    showQueue(items.length);
  }

  function showQueue(count) {
    if (!queueStatus) { return; }
    if (count > 0) {
      queueStatus.textContent = msg("queued").replace("{n}", String(count));
      queueStatus.hidden = false;
    } else {
      queueStatus.textContent = "";
      queueStatus.hidden = true;
    }
  }

  function show(kind, message, name, slot) {
    resultBox.className = "checkin-result result-" + kind;
    resultBox.textContent = "";
    var p = document.createElement("p");
    p.className = "result-message";
    p.textContent = message;
    resultBox.appendChild(p);
    if (name) {
      var n = document.createElement("p");
      n.className = "result-name";
      n.textContent = name;
      resultBox.appendChild(n);
    }
    if (slot) {
      var s = document.createElement("p");
      s.className = "result-slot";
      s.textContent = slot;
      resultBox.appendChild(s);
    }
    resultBox.setAttribute("data-result", kind);
  }

  var recent = document.getElementById("recent-scans");

  // The last few answers stay listed below the big one, so a busy door can glance back.
  function remember(kind, message, name) {
    if (!recent) { return; }
    var li = document.createElement("li");
    li.className = "recent-" + kind;
    var when = new Date();
    li.textContent = ("0" + when.getHours()).slice(-2) + ":" + ("0" + when.getMinutes()).slice(-2) + " " +
      (name ? name + " · " : "") + message;
    recent.insertBefore(li, recent.firstChild);
    while (recent.children.length > 8) { recent.removeChild(recent.lastChild); }
    recent.hidden = false;
  }

  function showOutcome(data) {
    show(data.result, data.message, data.name, data.slot);
    remember(data.result, data.message, data.name);
    if (typeof data.attended === "number" && attended) { attended.textContent = String(data.attended); }
    if (overrideForm && overrideId) {
      overrideForm.hidden = !(data.can_override && data.registration_id);
      overrideId.value = data.can_override && data.registration_id ? String(data.registration_id) : "";
    }
    if (data.result === "welcome" && data.registration_id) {
      lastUndoId = data.registration_id;
      undoBox.hidden = false;
    } else {
      lastUndoId = null;
      undoBox.hidden = true;
    }
  }

  function post(url, payload) {
    return window.fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(payload)
    });
  }

  function isJson(response) {
    var type = response.headers.get("Content-Type") || "";
    return type.indexOf("application/json") !== -1 && !response.redirected;
  }

  // Upload queued scans oldest first; stop at the first network failure and try again later.
  function flush(latestId) {
    if (flushing) { return Promise.resolve(); }
    var queue = loadQueue();
    showQueue(queue.length);
    if (!queue.length) { return Promise.resolve(); }
    if (navigator.onLine === false) {
      if (latestId) { show("queued", msg("offline")); }
      return Promise.resolve();
    }
    flushing = true;
    var hadBacklog = queue.length > 1 || !latestId;
    function next() {
      var items = loadQueue();
      if (!items.length) {
        flushing = false;
        if (hadBacklog && !latestId) { show("welcome", msg("synced")); }
        return Promise.resolve();
      }
      var item = items[0];
      return post(scanUrl, item).then(function (response) {
        if (response.status >= 500 || response.status === 409 || response.status === 429) {
          flushing = false;
          if (latestId) { show("queued", msg("error")); }
          return null;
        }
        if (!isJson(response)) {
          flushing = false;
          show("invalid", msg("login"));
          return null;
        }
        return response.json().then(function (data) {
          saveQueue(loadQueue().filter(function (other) { return other.scan_id !== item.scan_id; }));
          // Every scan made on this page gets its answer shown (a second scan may arrive while the first
          // is still uploading); scans replayed from an earlier visit only update the count.
          if (liveScans[item.scan_id] || !latestId) { delete liveScans[item.scan_id]; showOutcome(data); }
          else if (typeof data.attended === "number" && attended) { attended.textContent = String(data.attended); }
          return next();
        });
      }, function () {
        flushing = false;
        if (latestId) { show("queued", msg("offline")); }
        return null;
      });
    }
    return next();
  }

  var liveScans = {};

  function submitScan(fields) {
    var item = { scan_id: newScanId(), scanned_at: new Date().toISOString() };
    liveScans[item.scan_id] = true;
    Object.keys(fields).forEach(function (key) { item[key] = fields[key]; });
    var queue = loadQueue();
    queue.push(item);
    saveQueue(queue);
    return flush(item.scan_id);
  }

  if (codeForm && codeInput) {
    codeForm.addEventListener("submit", function (event) {
      event.preventDefault();
      event.stopPropagation(); // handled here: app.js must not disable the button for the next scan
      var code = codeInput.value.trim();
      if (!code) { codeInput.focus(); return; }
      codeInput.value = "";
      submitScan({ code: code });
      codeInput.focus();
    });
  }

  if (overrideForm && overrideReason && overrideId) {
    overrideForm.addEventListener("submit", function (event) {
      event.preventDefault();
      event.stopPropagation();
      var reason = overrideReason.value.trim();
      var id = parseInt(overrideId.value, 10);
      if (!reason) { overrideReason.focus(); return; }
      if (!id) { return; }
      overrideReason.value = "";
      overrideForm.hidden = true;
      submitScan({ registration_id: id, override_reason: reason });
    });
  }

  if (undoButton) {
    undoButton.addEventListener("click", function () {
      if (!lastUndoId) { return; }
      var id = lastUndoId;
      post(undoUrl.replace("/0/", "/" + id + "/"), {}).then(function (response) {
        if (!isJson(response)) { show("invalid", msg("login")); return; }
        return response.json().then(function (data) {
          show(data.ok ? "cancelled" : "invalid", data.message);
          if (typeof data.attended === "number" && attended) { attended.textContent = String(data.attended); }
          undoBox.hidden = true;
          lastUndoId = null;
        });
      }, function () { show("queued", msg("offline")); });
    });
  }

  if (searchForm) {
    searchForm.hidden = false;
    searchForm.addEventListener("submit", function (event) {
      event.preventDefault();
      event.stopPropagation();
      var q = searchForm.querySelector("input[name=q]").value.trim();
      if (q.length < 2) { return; }
      post(searchUrl, { q: q }).then(function (response) {
        if (!isJson(response)) { show("invalid", msg("login")); return; }
        return response.json().then(function (data) {
          searchResults.textContent = "";
          if (!data.results || !data.results.length) {
            var none = document.createElement("li");
            none.textContent = msg("none");
            searchResults.appendChild(none);
            return;
          }
          data.results.forEach(function (r) {
            var li = document.createElement("li");
            var label = document.createElement("span");
            label.textContent = r.name + " " + r.phone + " · " + r.slot + " · " + r.status_label;
            var button = document.createElement("button");
            button.type = "button";
            button.className = "btn btn-primary";
            button.textContent = msg("checkin");
            button.addEventListener("click", function () {
              submitScan({ registration_id: r.registration_id });
              searchResults.textContent = "";
            });
            li.appendChild(label);
            li.appendChild(button);
            searchResults.appendChild(li);
          });
        });
      }, function () { show("queued", msg("offline")); });
    });
  }

  // Camera scanning where the browser has a barcode detector; otherwise typing the code is the way.
  var cameraBox = document.getElementById("camera-box");
  var cameraButton = document.getElementById("camera-button");
  var video = document.getElementById("camera-video");
  if (cameraBox && "BarcodeDetector" in window && navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    cameraBox.hidden = false;
    // The live camera scan replaces the photo fallback (kept for browsers without a barcode detector).
    var photoForm = document.getElementById("photo-form");
    if (photoForm) { photoForm.hidden = true; }
    var lastValue = "";
    var lastAt = 0;
    cameraButton.addEventListener("click", function () {
      var detector;
      try {
        detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      } catch (e) {
        show("invalid", msg("camera"));
        return;
      }
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false }).then(function (stream) {
        video.srcObject = stream;
        video.hidden = false;
        cameraButton.hidden = true;
        show("queued", msg("scanning"));
        return video.play().then(function () {
          function tick() {
            detector.detect(video).then(function (codes) {
              if (codes && codes.length) {
                var value = codes[0].rawValue;
                var now = Date.now();
                if (value && (value !== lastValue || now - lastAt > 4000)) {
                  lastValue = value;
                  lastAt = now;
                  submitScan({ code: value });
                }
              }
            }).catch(function () { /* a frame the detector could not read */ }).then(function () {
              window.setTimeout(tick, 350);
            });
          }
          tick();
        });
      }).catch(function () { show("invalid", msg("camera")); });
    });
  }

  window.addEventListener("online", function () { flush(null); });
  window.setInterval(function () { if (!flushing && loadQueue().length) { flush(null); } }, 10000);
  showQueue(loadQueue().length);
  if (loadQueue().length) { flush(null); }
})();
