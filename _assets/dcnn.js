/* DCNN Book: small page behaviours (added to every page by _config.yml html_js_files). */
(function () {
  "use strict";
  // The widget manager (_static/widgets/embed-amd.js, vendored by `make book`) loads its icon
  // fonts from _static/widgets/, not from the page's folder: its webpack bundles take their
  // public path from this global and from the RequireJS address of their module, which the
  // `paths` below map (a `require` object defined before require.js is its configuration).
  var me = document.currentScript && document.currentScript.src;
  if (me) {
    var widgets = me.replace(/dcnn\.js(\?.*)?$/, "widgets/");
    window.__jupyter_widgets_assets_path__ = widgets;
    if (typeof window.require === "undefined") {
      var dir = widgets.replace(/\/$/, "");   // every bundled @jupyter-widgets module "lives" there
      window.require = {paths: {"@jupyter-widgets/html-manager/dist": dir, "@jupyter-widgets": dir}};
    }
  }

  // Click-to-zoom: any figure in a cell output (or a figure directive) opens larger in an
  // overlay, scrollable when it is larger than the window; a click or Escape closes it.
  var ZOOMABLE = "div.cell_output img, figure img, img.dcnn-zoomable";

  function close(overlay) {
    overlay.remove();
    document.body.classList.remove("dcnn-zoom-open");
  }

  function open(img) {
    var overlay = document.createElement("div");
    overlay.className = "dcnn-zoom";
    overlay.setAttribute("role", "dialog");
    overlay.setAttribute("aria-label", (img.alt || "figure") + " (enlarged; click or press Escape to close)");
    var big = document.createElement("img");
    big.src = img.currentSrc || img.src;
    big.alt = img.alt || "";
    // At least twice the size shown in the page, at most the window, never below natural size.
    var shown = img.getBoundingClientRect().width;
    var target = Math.max(img.naturalWidth, Math.min(window.innerWidth * 0.96, shown * 2));
    big.style.width = Math.round(target) + "px";
    overlay.appendChild(big);
    overlay.addEventListener("click", function () { close(overlay); });
    document.addEventListener("keydown", function onKey(e) {
      if (e.key === "Escape") { close(overlay); document.removeEventListener("keydown", onKey); }
    });
    document.body.appendChild(overlay);
    document.body.classList.add("dcnn-zoom-open");
  }

  document.addEventListener("click", function (e) {
    var img = e.target.closest && e.target.closest(ZOOMABLE);
    if (!img || e.defaultPrevented || img.closest("a")) { return; }
    open(img);
  });
})();
