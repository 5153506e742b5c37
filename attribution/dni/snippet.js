/*! Callpath DNI snippet (docs/dni.md).
 * data-callpath-numbers="2125550100,..." on the script tag: replace only these (recommended);
 *   without it, any US/NANP number written with separators, parentheses or +1 is replaced.
 * Consent: window.callpathConsent = false (any time) or data-callpath-consent="false": no
 *   visitor id is stored (a stored one is deleted); the per-tab session id is still kept.
 * data-callpath-ignore on an element: leave it and its content alone.
 * Callpath.refresh() -> Promise<number|null>, Callpath.number(), Callpath.sessionId().
 * Fail safe: if the API errs, is slow (1.5 s) or has no number, the page keeps its numbers.
 */
(function () {
  "use strict";
  var KEY = __CALLPATH_KEY__;
  var API = __CALLPATH_API__;
  if (window.Callpath || !window.fetch || !window.AbortController || !window.WeakMap) return;

  var TIMEOUT = 1500, HEARTBEAT = 60000, VID = "callpath_vid", SID = "callpath_sid";
  var SKIP = "[data-callpath-ignore],script,style,textarea,input,select,noscript,template," +
    "[contenteditable=''],[contenteditable=true]";
  // NANP: [+]1, area code (maybe in parentheses), exchange, line; separated by space, '.' or a
  // dash. The leading group keeps it from matching inside a longer run of digits or letters.
  var SEP = "[\\s.\\-\\u2010-\\u2015]?";
  var PHONE = new RegExp("(^|[^\\w+])((?:\\+?1" + SEP + ")?(?:\\(\\d{3}\\)|\\d{3})" + SEP +
    "\\d{3}" + SEP + "\\d{4})(?!\\d)", "g");

  var script = document.currentScript; // null only where the tag was not run the usual way
  try { script = script || document.querySelector('script[src*="/dni/v1/' + KEY + '.js"]'); }
  catch (e) { /* a key that is no valid selector text: no attributes, then */ }
  var attr = function (name) { return script ? script.getAttribute(name) : null; };
  var list = attr("data-callpath-numbers"); // 10-digit numbers to replace, or any if none
  var listed = list ? list.split(/[,;]/).map(national).filter(Boolean) : null;

  var current = null; // {e164, display} shown now, or null
  var originals = new WeakMap(); // text node or <a> -> [original text/href, what we wrote]
  var timer = null, lastSent = 0, pending = null, stopped = false, lastUrl = location.href;
  var touched = false, nextDelay = HEARTBEAT; // touched: a number was shown at least once

  function national(s) {
    var d = String(s).replace(/\D/g, "");
    if (d.length === 11 && d[0] === "1") d = d.slice(1);
    return d.length === 10 ? d : "";
  }

  function wanted(digits, loose) {
    var n = national(digits);
    if (!n) return false;
    if (listed) return listed.indexOf(n) >= 0;
    return loose && /^[2-9]\d\d[2-9]\d{6}$/.test(n);
  }

  // The tracking number in the original's format: digits replaced in place.
  function render(original) {
    var e = current.e164;
    if (!/^\+1\d{10}$/.test(e)) return current.display; // not NANP: no common format
    var digits = original.replace(/\D/g, "").length === 11 ? e.slice(1) : e.slice(2);
    var i = 0;
    return original.replace(/\d/g, function () { return digits[i++]; });
  }

  function swapText(text) {
    return text.replace(PHONE, function (all, lead, phone) {
      // Without a list, a bare run of 10 digits is too likely an order or account number.
      return wanted(phone, /\D/.test(phone)) ? lead + render(phone) : all;
    });
  }

  function swapHref(href) {
    var m = /^(\s*tel:)([^;?]*)(.*)$/i.exec(href);
    if (!m) return href;
    var phone = m[2];
    try { phone = decodeURIComponent(phone); } catch (e) { /* as it is */ }
    if (!wanted(phone, true)) return href;
    var plain = phone !== m[2] || !/^\+1/.test(current.e164); // was %-encoded, or not NANP
    return m[1] + (plain ? current.e164 : render(phone)) + m[3];
  }

  // A node's text or href from its original: the tracking number if any, else the original.
  // A value the page wrote since our last write is the new original.
  function apply(node, read, write, swap) {
    var now = read(node), seen = originals.get(node);
    var original = seen && seen[1] === now ? seen[0] : now;
    var next = current ? swap(original) : original;
    if (next === now) {
      if (seen && next === original) originals.delete(node);
      return;
    }
    originals.set(node, [original, next]);
    write(node, next);
  }

  var readText = function (n) { return n.data; };
  var writeText = function (n, v) { n.data = v; };
  var readHref = function (n) { return n.getAttribute("href") || ""; };
  var writeHref = function (n, v) { n.setAttribute("href", v); };

  function isTel(el) {
    return el.tagName === "A" && /^\s*tel:/i.test(el.getAttribute("href") || "");
  }

  function swapTree(root) {
    if (!root) return;
    var el = root.nodeType === 1 ? root : root.parentElement;
    if (!el || el.closest(SKIP)) return;
    if (root.nodeType === 3) return apply(root, readText, writeText, swapText);
    if (isTel(el)) apply(el, readHref, writeHref, swapHref);
    var walker = document.createTreeWalker(root, 5, { // SHOW_ELEMENT | SHOW_TEXT
      acceptNode: function (n) {
        if (n.nodeType === 3) return /\d/.test(n.data) ? 1 : 3; // ACCEPT : SKIP
        return n.matches(SKIP) ? 2 : isTel(n) ? 1 : 3; // REJECT (the whole subtree) : ...
      },
    });
    for (var n = walker.nextNode(); n; n = walker.nextNode()) {
      if (n.nodeType === 3) apply(n, readText, writeText, swapText);
      else apply(n, readHref, writeHref, swapHref);
    }
  }

  function swapAll() { swapTree(document.documentElement); }

  new MutationObserver(function (records) {
    if (!touched) return;
    try {
      records.forEach(function (r) {
        if (r.type === "childList") r.addedNodes.forEach(swapTree);
        else swapTree(r.target); // text changed, or an href
      });
    } catch (e) { /* never break the page */ }
  }).observe(document.documentElement, {
    childList: true, subtree: true, characterData: true, attributes: true,
    attributeFilter: ["href"],
  });

  function show(number) {
    var was = current;
    current = number && number.e164 ? number : null;
    if (current) touched = true;
    if ((was && was.e164) !== (current && current.e164)) swapAll();
  }

  // Storage may throw (private modes, blocked cookies, sandboxed frames): never fatal.
  function get(store, name) {
    try { return window[store].getItem(name); } catch (e) { return null; }
  }
  function put(store, name, value) {
    try {
      if (value == null) window[store].removeItem(name);
      else window[store].setItem(name, value);
      return true;
    } catch (e) { return false; }
  }

  function consented() {
    return window.callpathConsent !== false && attr("data-callpath-consent") !== "false";
  }

  function visitorId() {
    if (!consented()) {
      put("localStorage", VID, null);
      setCookie("", -1);
      return null;
    }
    var id = get("localStorage", VID) || readCookie();
    return /^[\w.-]{8,64}$/.test(id || "") ? id : null;
  }

  function keepVisitor(id) {
    if (!id || !consented()) return;
    if (!put("localStorage", VID, id)) setCookie(id, 365 * 86400);
  }

  function readCookie() {
    var m = document.cookie.match(new RegExp("(?:^|; )" + VID + "=([^;]*)"));
    return m ? m[1] : null;
  }
  function setCookie(value, maxAge) {
    if (maxAge < 0 && !readCookie()) return;
    document.cookie = VID + "=" + value + "; max-age=" + maxAge + "; path=/; SameSite=Lax" +
      (location.protocol === "https:" ? "; Secure" : "");
  }

  // The tab's {id, number, expires}: a reload shows the number at once, then confirms it.
  function session() {
    try { return JSON.parse(get("sessionStorage", SID)) || {}; } catch (e) { return {}; }
  }

  function post() {
    var s, stop, ctrl = new AbortController();
    lastSent = Date.now();
    return Promise.resolve().then(function () {
      s = session();
      var body = { key: KEY, url: location.href, referrer: document.referrer };
      var vid = visitorId();
      if (s.id) body.session_id = s.id;
      if (vid) body.visitor_id = vid;
      stop = setTimeout(function () { ctrl.abort(); }, TIMEOUT);
      // text/plain keeps it a CORS "simple request": no preflight round trip.
      return fetch(API + "/dni/v1/sessions", {
        method: "POST", body: JSON.stringify(body), keepalive: true, credentials: "omit",
        headers: { "Content-Type": "text/plain;charset=UTF-8" }, signal: ctrl.signal,
      });
    }).then(function (r) {
      clearTimeout(stop);
      if (r.status === 429) {
        nextDelay = Math.max(parseInt(r.headers.get("Retry-After"), 10) || 60, 1) * 1000;
        return null;
      }
      if (r.status === 403 || r.status === 404) { // wrong origin or key: asking again won't help
        stopped = true;
        console.warn("Callpath: API said " + r.status + "; check the key and allowed origins");
        return null;
      }
      if (r.status === 400 && s.id) put("sessionStorage", SID, null);
      return r.ok ? r.json() : null;
    }).then(function (a) {
      if (!a || !a.session_id) return lapse();
      // A 201 for a session_id we sent means it had expired: this is the new one.
      put("sessionStorage", SID, JSON.stringify({
        id: a.session_id, number: a.number, expires: Date.parse(a.expires_at) || 0,
      }));
      keepVisitor(a.visitor_id);
      show(a.number);
      return current;
    }).catch(function () {
      clearTimeout(stop);
      return lapse(); // timeout, network or CORS error
    });
  }

  // No answer: the session's number stays until its lease ends, then the page's own is back.
  function lapse() {
    if (!(session().expires > Date.now())) show(null);
    return current;
  }

  function run() {
    if (stopped) return Promise.resolve(current);
    if (!pending) {
      pending = post().then(function (n) {
        pending = null;
        schedule(nextDelay);
        nextDelay = HEARTBEAT;
        return n;
      });
    }
    return pending;
  }

  // Heartbeats only while the tab is visible: a hidden tab's session may lapse, and the tab
  // asks again (renewing or starting a session) as soon as it is visible.
  function schedule(delay) {
    clearTimeout(timer);
    if (stopped || document.visibilityState === "hidden") return;
    timer = setTimeout(run, delay);
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") clearTimeout(timer);
    else if (Date.now() - lastSent > 5000) run();
    else schedule(HEARTBEAT);
  });

  function safe(f) { try { f(); } catch (e) { /* never break the page */ } }

  // SPA navigation: a new URL is a new page view for the session (renewed, same number).
  function navigated() {
    if (location.href === lastUrl) return;
    lastUrl = location.href;
    setTimeout(function () { run(); safe(swapAll); }, 0);
  }
  ["pushState", "replaceState"].forEach(function (name) {
    var original = history[name];
    if (typeof original !== "function") return;
    history[name] = function () {
      var result = original.apply(this, arguments);
      safe(navigated);
      return result;
    };
  });
  window.addEventListener("popstate", navigated);

  window.Callpath = {
    refresh: function () { return run().then(function (n) { safe(swapAll); return n; }); },
    number: function () { return current; },
    sessionId: function () { return session().id || null; },
  };

  safe(function () {
    var cached = session();
    if (cached.number && cached.expires > Date.now()) show(cached.number);
  });
  document.addEventListener("DOMContentLoaded", function () { if (current) safe(swapAll); });
  run();
})();
