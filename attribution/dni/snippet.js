/*! Callpath DNI snippet (docs/dni.md).
 */
// data-callpath-numbers="2125550100,..." on the script tag: replace only these (recommended);
//   without it, any US/NANP number written with separators, parentheses or +1 is replaced.
// data-callpath-ignore on an element: leave it and its content alone.
// data-callpath-consent="required": store nothing on the device until consent (see below).
// Callpath.refresh() -> Promise<number|null>, Callpath.number(), Callpath.sessionId(),
//   Callpath.consent(true|false).
// Fail safe: if the API errs, is slow (1.5 s) or has no number, the page keeps its numbers.
// (The served copy drops these comment lines and indentation: snippet_view.py.)
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

  // null only where the tag was not run the usual way
  var script = document.currentScript;
  try { script = script || document.querySelector('script[src*="/dni/v1/' + KEY + '.js"]'); }
  catch (e) { /* a key that is no valid selector text: no attributes, then */ }
  var attr = function (name) { return script ? script.getAttribute(name) : null; };
  // 10-digit numbers to replace, or any if none
  var list = attr("data-callpath-numbers");
  var listed = list ? list.split(/[,;]/).map(national).filter(Boolean) : null;

  // Consent. With data-callpath-consent="required" (or the older "false") nothing is read
  // from or written to the device (cookie, localStorage, sessionStorage) until a signal
  // grants consent; without the attribute consent is assumed until a signal denies it. The
  // latest signal wins: window.callpathConsent = true|false, Callpath.consent(true|false), a
  // "callpath:consent" event on window (detail true|false), and, with "required", Google
  // Consent Mode's analytics_storage (or data-callpath-consent-google) in the dataLayer.
  // Without consent the page keeps its numbers; with data-callpath-consent-swap="anonymous"
  // (the default without "required") numbers are swapped with a session held in page memory
  // only and sent with consent: false, so the server stores no visitor id either.
  var mode = attr("data-callpath-consent"), swapping = attr("data-callpath-consent-swap");
  var required = mode === "required" || mode === "false";
  var anonymous = swapping ? swapping === "anonymous" : mode !== "required";
  var GKEY = attr("data-callpath-consent-google") || "analytics_storage";
  // the latest signal (true/false), and Google's ("granted"...)
  var said = null, google = null;
  // the session {id, number, expires}; in sessionStorage too, with consent
  var memo = {};

  // {e164, display} shown now, or null
  var current = null;
  // text node or <a> -> [original text/href, what we wrote]
  var originals = new WeakMap();
  var timer = null, lastSent = 0, pending = null, stopped = false, lastUrl = location.href;
  // touched: a number was shown at least once
  var touched = false, nextDelay = HEARTBEAT;

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
    // not NANP: no common format
    if (!/^\+1\d{10}$/.test(e)) return current.display;
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
    // was %-encoded, or not NANP
    var plain = phone !== m[2] || !/^\+1/.test(current.e164);
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
    // SHOW_ELEMENT | SHOW_TEXT
    var walker = document.createTreeWalker(root, 5, {
      acceptNode: function (n) {
        // ACCEPT : SKIP
        if (n.nodeType === 3) return /\d/.test(n.data) ? 1 : 3;
        // REJECT (the whole subtree) : ...
        return n.matches(SKIP) ? 2 : isTel(n) ? 1 : 3;
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
        // text changed, or an href
        else swapTree(r.target);
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

  function consented() { return said === null ? !required : said; }

  // A signal. Denied: every stored id is removed (again, harmlessly, if none is stored).
  function consent(value) {
    var was = consented();
    said = value === true || value === "granted";
    if (!said) forget();
    if (said === was) return;
    // from now on the session is the tab's
    if (said) keep(memo.id ? memo : session());
    else if (!anonymous) { memo = {}; show(null); }
    // tell the server (after a request in flight)
    Promise.resolve(pending).then(run);
  }

  function forget() {
    put("localStorage", VID, null);
    put("sessionStorage", SID, null);
    setCookie("", -1);
  }

  // Google Consent Mode: gtag("consent", "default"|"update", {analytics_storage: ...}) pushes
  // its arguments to the dataLayer; the latest entry naming GKEY is Google's current state.
  function readGoogle() {
    var state = null;
    (window.dataLayer || []).forEach(function (e) {
      if (e && e[0] === "consent" && e[2] && e[2][GKEY]) state = e[2][GKEY];
    });
    if (state && state !== google) consent(google = state);
  }

  function visitorId() {
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
  function keep(s) {
    memo = s;
    if (consented()) put("sessionStorage", SID, s.id ? JSON.stringify(s) : null);
  }

  function post() {
    var s, stop, ctrl = new AbortController();
    lastSent = Date.now();
    return Promise.resolve().then(function () {
      s = memo;
      var body = { key: KEY, url: location.href, referrer: document.referrer };
      var vid = consented() ? visitorId() : (body.consent = false, null);
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
      // wrong origin or key: asking again won't help
      if (r.status === 403 || r.status === 404) {
        stopped = true;
        console.warn("Callpath: API said " + r.status + "; check the key and allowed origins");
        return null;
      }
      if (r.status === 400 && s.id) keep({});
      return r.ok ? r.json() : null;
    }).then(function (a) {
      if (!a || !a.session_id) return lapse();
      // A 201 for a session_id we sent means it had expired: this is the new one.
      keep({ id: a.session_id, number: a.number, expires: Date.parse(a.expires_at) || 0 });
      keepVisitor(a.visitor_id);
      show(a.number);
      return current;
    }).catch(function () {
      clearTimeout(stop);
      // timeout, network or CORS error
      return lapse();
    });
  }

  // No answer: the session's number stays until its lease ends, then the page's own is back.
  function lapse() {
    if (!(memo.expires > Date.now())) show(null);
    return current;
  }

  function run() {
    if (required) safe(readGoogle);
    // nothing to ask yet; look for Google's signal later
    if (!anonymous && !consented()) {
      if (required) schedule(HEARTBEAT);
      return Promise.resolve(current);
    }
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
    sessionId: function () { return memo.id || null; },
    consent: consent,
  };

  safe(function () {
    var initial = window.callpathConsent;
    if (typeof initial === "boolean") consent(initial);
    // Setting window.callpathConsent later is a signal too (unless the page declared it with
    // var, which makes it impossible to redefine: then only its value at load counts).
    Object.defineProperty(window, "callpathConsent", {
      configurable: true, get: consented, set: consent,
    });
  });
  window.addEventListener("callpath:consent", function (e) { consent(e.detail); });
  // wrap dataLayer.push: Google's updates count at once
  if (required) safe(function () {
    var dl = window.dataLayer = window.dataLayer || [], push = dl.push;
    dl.push = function () {
      var result = push.apply(dl, arguments);
      safe(readGoogle);
      return result;
    };
    readGoogle();
  });
  safe(function () {
    if (consented()) memo = session();
    if (memo.number && memo.expires > Date.now()) show(memo.number);
  });
  document.addEventListener("DOMContentLoaded", function () { if (current) safe(swapAll); });
  run();
})();
