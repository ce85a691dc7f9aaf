// Records every error the page meets into <html data-errors="[…]">, so a headless browser's
// DOM dump shows them: script errors, failed resource loads (capture phase), rejected promises,
// Content-Security-Policy violations and console.error calls.
(function () {
  "use strict";
  var errors = [];
  var root = document.documentElement;
  function record(text) {
    errors.push(String(text));
    root.setAttribute("data-errors", JSON.stringify(errors));
  }
  root.setAttribute("data-errors", "[]");
  window.addEventListener("error", function (e) {
    if (e.target && e.target !== window && e.target.tagName) {
      record("resource: " + e.target.tagName + " " + (e.target.src || e.target.href || ""));
    } else {
      record("error: " + e.message + " at " + (e.filename || "") + ":" + (e.lineno || 0));
    }
  }, true);
  window.addEventListener("unhandledrejection", function (e) {
    record("unhandledrejection: " + (e.reason && e.reason.stack ? e.reason.stack : e.reason));
  });
  document.addEventListener("securitypolicyviolation", function (e) {
    record("csp: " + e.violatedDirective + " " + e.blockedURI);
  });
  var original = console.error;
  console.error = function () {
    record("console.error: " + Array.prototype.join.call(arguments, " "));
    return original.apply(console, arguments);
  };
})();
