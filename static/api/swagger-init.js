// Starts Swagger UI on /api/docs/. A static file, not an inline script, so the page keeps
// the project's Content-Security-Policy (script-src 'self').
(function () {
  "use strict";
  var node = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: node.getAttribute("data-schema-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "StandaloneLayout",
    // Session sign-in: send the CSRF cookie's value back for unsafe methods.
    requestInterceptor: function (request) {
      var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
      if (match) { request.headers["X-CSRFToken"] = match[1]; }
      return request;
    },
  });
}());
