// Zhijia service worker: the app installs to the home screen, and the pages needed where there is no signal —
// an employee's bookings and tickets, an organizer's check-in page — open offline from the last time they were
// seen online. Everything else goes to the network; a page never seen offline gets a short offline notice.
// Personal pages are dropped from the device at logout (app.js sends "forget").
"use strict";

var SHELL_CACHE = "zhijia-shell-v1";
var PAGE_CACHE = "zhijia-pages-v1";
var SHELL = ["/static/app.css", "/static/app.js", "/static/checkin.js", "/static/icon.svg", "/static/offline.html"];
// Pages kept for offline use: 我的预约, a ticket, a check-in page.
var KEEP = [/^\/me\/bookings$/, /^\/me\/bookings\/\d+\/ticket$/, /\/checkin$/];

function kept(url) {
  return url.origin === self.location.origin && KEEP.some(function (pattern) { return pattern.test(url.pathname); });
}

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL_CACHE).then(function (cache) { return cache.addAll(SHELL); }));
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name !== SHELL_CACHE && name !== PAGE_CACHE;
      }).map(function (name) { return caches.delete(name); }));
    }).then(function () { return self.clients.claim(); })
  );
});

// Bumped by "forget": a page fetched before the logout and arriving after it is not kept.
var generation = 0;

function keepPage(request, response, fetchedIn) {
  // A redirect (to the login page) or an error is never kept; a kept page that now redirects is dropped.
  if (fetchedIn !== generation) { return Promise.resolve(); }
  return caches.open(PAGE_CACHE).then(function (cache) {
    if (response.ok && !response.redirected) { return cache.put(request, response); }
    return cache.delete(request);
  });
}

function fromNetworkKeeping(request) {
  var fetchedIn = generation;
  return fetch(request).then(function (response) {
    keepPage(new Request(request.url), response.clone(), fetchedIn);
    return response;
  }).catch(function () {
    return caches.match(request.url, { cacheName: PAGE_CACHE }).then(function (hit) {
      return hit || caches.match("/static/offline.html");
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.mode === "navigate") {
    if (kept(url)) {
      event.respondWith(fromNetworkKeeping(request));
    } else {
      event.respondWith(fetch(request).catch(function () { return caches.match("/static/offline.html"); }));
    }
    return;
  }
  if (url.pathname.indexOf("/static/") === 0) {
    // Stale while revalidate: fast and offline, refreshed in the background after a release.
    event.respondWith(caches.open(SHELL_CACHE).then(function (cache) {
      return cache.match(request).then(function (hit) {
        var refresh = fetch(request).then(function (response) {
          if (response.ok) { cache.put(request, response.clone()); }
          return response;
        });
        if (hit) { refresh.catch(function () {}); return hit; }
        return refresh;
      });
    }));
  }
});

self.addEventListener("message", function (event) {
  var data = event.data || {};
  var reply = function (value) { if (event.ports && event.ports[0]) { event.ports[0].postMessage(value); } };
  if (data.type === "keep" && Array.isArray(data.urls)) {
    // The page names the tickets to keep (its upcoming bookings), and itself when it loaded before this worker
    // controlled it (a first visit): fetch those that kept() allows now, while there is signal.
    var urls = data.urls.map(function (u) { return new URL(u, self.location.origin); }).filter(kept);
    var fetchedIn = generation;
    event.waitUntil(Promise.all(urls.map(function (url) {
      var request = new Request(url.href, { credentials: "same-origin" });
      return fetch(request).then(function (response) {
        return keepPage(request, response, fetchedIn);
      }).catch(function () {});
    })).then(function () { reply("kept"); }));
  } else if (data.type === "forget") {
    generation += 1;
    event.waitUntil(caches.delete(PAGE_CACHE).then(function () { reply("forgotten"); }));
  }
});
