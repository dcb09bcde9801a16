// The live-chat pages: a WebSocket tells the page something changed, and htmx fetches the
// fragment again at once (the fragments also poll every few seconds, so the page keeps
// working when WebSockets are blocked). No conversation data travels over the socket.
(function () {
  "use strict";
  var anchor = document.querySelector("[data-live-socket]");
  if (!anchor || !window.WebSocket) { return; }
  var delay = 1000;
  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    var socket = new WebSocket(scheme + "//" + window.location.host + anchor.getAttribute("data-live-socket"));
    socket.onopen = function () {
      delay = 1000;
      var id = anchor.getAttribute("data-conversation");
      if (id) { socket.send(JSON.stringify({ watch: Number(id) })); }
    };
    socket.onmessage = function () {
      var region = document.querySelector("#live-turns, #live-queue");
      if (region && window.htmx) { window.htmx.trigger(region, "live-refresh"); }
    };
    socket.onclose = function (event) {
      if (event.code === 4403) { return; }
      delay = Math.min(delay * 2, 30000);
      window.setTimeout(connect, delay);
    };
  }
  connect();
})();
