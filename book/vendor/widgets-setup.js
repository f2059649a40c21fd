// Set up the page for the ipywidgets embedder (html-manager), loaded right after
// require.js and before embed-amd.js on pages that show widgets.
(function () {
  "use strict";
  // 1. The embedder finds its fonts next to its own module URL, which RequireJS
  //    resolves against the page's folder; point it to the copy served with the site.
  var here = document.currentScript && document.currentScript.src;
  if (here && window.require && window.require.config) {
    var vendor = here.slice(0, here.lastIndexOf("/") + 1);
    window.require.config({
      paths: { "@jupyter-widgets/html-manager/dist": vendor + "html-manager" },
    });
  }

  // 2. Widgets typeset their labels with the MathJax 2 call
  //    MathJax.Hub.Queue(["Typeset", MathJax.Hub, element]); the site uses MathJax 3.
  function shimMathJax() {
    var mj = window.MathJax;
    if (!mj || mj.Hub || !mj.startup || !mj.startup.promise) return;
    mj.Hub = {
      Queue: function () {
        var elements = [];
        for (var i = 0; i < arguments.length; i++) {
          var call = arguments[i];
          if (Array.isArray(call) && call[0] === "Typeset" && call[2]) elements.push(call[2]);
        }
        if (!elements.length) return;
        mj.startup.promise = mj.startup.promise.then(function () {
          return mj.typesetPromise(elements);
        });
      },
    };
  }
  shimMathJax();
  document.addEventListener("DOMContentLoaded", shimMathJax);
  window.addEventListener("load", shimMathJax);
})();
