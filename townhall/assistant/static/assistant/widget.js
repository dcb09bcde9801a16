/* Townhall chat widget: one script tag on any council page.
 *
 *   <script src="https://townhall.example/static/assistant/widget.js"
 *           data-townhall="https://townhall.example" defer></script>
 *
 * Vanilla JS, no framework, no CDN, no inline handlers or styles (works under a strict CSP:
 * the page's connect-src must allow the Townhall origin, https: and wss:). It talks over
 * the WebSocket /ws/assistant/ and falls back to HTTP (POST /api/assistant/messages, and
 * polling GET /api/assistant/events with the key in X-Conversation) when sockets are
 * blocked. Optional attributes: data-title (the panel's heading), data-transport="http"
 * (never try the socket).
 */
(function () {
  "use strict";
  if (window.TownhallChat) return;

  var script = document.currentScript || document.querySelector("script[data-townhall]");
  if (!script) return;
  var scriptUrl = new URL(script.src, window.location.href);
  var base = (script.getAttribute("data-townhall") || scriptUrl.origin).replace(/\/+$/, "");
  var STORE = "townhall-chat:" + base;

  var STRINGS = {
    en: {
      launcher: "Ask a question",
      title: "Ask the council",
      close: "Close chat",
      log: "Conversation",
      input: "Your message",
      send: "Send",
      photo: "Add a photo",
      photoRemove: "Remove photo %s",
      photoAdded: "Photo added: %s",
      photoUploading: "Sending your photo…",
      you: "You said:",
      bot: "Assistant:",
      agent: "Member of staff:",
      system: "Update:",
      sources: "Where this answer comes from",
      wasHelpful: "Was this helpful?",
      yes: "Yes",
      no: "No",
      thanks: "Thank you for your feedback.",
      suggestions: "Suggested replies",
      waiting: "The assistant is answering…",
      welcome: "Hello. Ask me about bins, reporting a problem, permits or a request you made.",
      queued: "Waiting for a member of staff. You can keep typing.",
      agentJoined: "A member of staff has joined",
      botBack: "You are chatting with the assistant again.",
      closed: "This chat has ended. Type a message to start a new one.",
      offline: "The connection was lost. Trying again…",
      error: "Sorry, something went wrong. Please try again.",
      tooFast: "You are sending messages too quickly. Please wait a moment.",
      tooLong: "That message is too long. Please shorten it.",
      empty: "Type a message first.",
      photoError: "Your photo could not be added.",
    },
    es: {
      launcher: "Haga una pregunta",
      title: "Pregunte al ayuntamiento",
      close: "Cerrar el chat",
      log: "Conversación",
      input: "Su mensaje",
      send: "Enviar",
      photo: "Añadir una foto",
      photoRemove: "Quitar la foto %s",
      photoAdded: "Foto añadida: %s",
      photoUploading: "Enviando su foto…",
      you: "Usted dijo:",
      bot: "Asistente:",
      agent: "Personal municipal:",
      system: "Aviso:",
      sources: "De dónde viene esta respuesta",
      wasHelpful: "¿Le fue útil?",
      yes: "Sí",
      no: "No",
      thanks: "Gracias por su opinión.",
      suggestions: "Respuestas sugeridas",
      waiting: "El asistente está respondiendo…",
      welcome: "Hola. Pregúnteme sobre la basura, cómo informar de un problema, permisos o una solicitud que hizo.",
      queued: "Esperando a una persona del personal. Puede seguir escribiendo.",
      agentJoined: "Una persona del personal se ha unido",
      botBack: "Vuelve a hablar con el asistente.",
      closed: "Este chat ha terminado. Escriba un mensaje para empezar otro.",
      offline: "Se perdió la conexión. Volviendo a intentar…",
      error: "Lo sentimos, algo salió mal. Inténtelo de nuevo.",
      tooFast: "Está enviando mensajes demasiado rápido. Espere un momento.",
      tooLong: "Ese mensaje es demasiado largo. Acórtelo, por favor.",
      empty: "Escriba un mensaje primero.",
      photoError: "No se pudo añadir su foto.",
    },
  };
  var lang = (document.documentElement.lang || "en").slice(0, 2).toLowerCase();
  if (!STRINGS[lang]) lang = "en";
  var t = STRINGS[lang];
  var ERROR_TEXT = { rate_limited: t.tooFast, too_big: t.tooLong, empty: t.empty };

  /* --- state -------------------------------------------------------------------------- */
  var state = load();
  var seen = {}; // turn ids already shown
  var pending = {}; // request id -> true, while waiting for the reply
  var photos = []; // [{token, name}]
  var socket = null;
  var socketReady = false;
  var socketFailures = 0;
  var useHttp = script.getAttribute("data-transport") === "http" || !("WebSocket" in window);
  var outbox = [];
  var pollTimer = null;
  var transport = null; // GET /api/assistant/transport, once
  var counter = 0;
  var lastAfter = 0;
  var drawn = false;

  function load() {
    try {
      return JSON.parse(window.sessionStorage.getItem(STORE) || "{}") || {};
    } catch (e) {
      return {};
    }
  }
  function save() {
    try {
      window.sessionStorage.setItem(STORE, JSON.stringify(state));
    } catch (e) {
      /* private mode: the chat lasts as long as the page */
    }
  }

  /* --- elements ----------------------------------------------------------------------- */
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      node.setAttribute(name, attrs[name]);
    });
    if (text) node.textContent = text;
    return node;
  }

  if (!document.querySelector('link[data-townhall-chat]')) {
    document.head.appendChild(
      el("link", {
        rel: "stylesheet",
        href: scriptUrl.href.replace(/widget\.js(\?.*)?$/, "widget.css"),
        "data-townhall-chat": "",
      })
    );
  }

  var root = el("div", { class: "th-chat", lang: lang });
  var launcher = el("button", {
    type: "button",
    class: "th-chat__launcher",
    "aria-expanded": "false",
    "aria-controls": "th-chat-panel",
  });
  launcher.appendChild(el("span", { class: "th-chat__launcher-icon", "aria-hidden": "true" }));
  launcher.appendChild(el("span", {}, t.launcher));
  var panel = el("div", {
    id: "th-chat-panel",
    class: "th-chat__panel",
    role: "dialog",
    "aria-labelledby": "th-chat-title",
  });
  panel.hidden = true;
  var header = el("div", { class: "th-chat__header" });
  header.appendChild(
    el("h2", { id: "th-chat-title", class: "th-chat__title" }, script.getAttribute("data-title") || t.title)
  );
  var closeButton = el("button", { type: "button", class: "th-chat__close", "aria-label": t.close });
  closeButton.appendChild(el("span", { "aria-hidden": "true" }, "×"));
  header.appendChild(closeButton);
  var status = el("p", { class: "th-chat__status", role: "status" });
  var log = el("div", {
    class: "th-chat__log",
    role: "log",
    "aria-live": "polite",
    "aria-label": t.log,
    tabindex: "0",
  });
  var form = el("form", { class: "th-chat__form", novalidate: "" });
  var chips = el("ul", { class: "th-chat__photos" });
  var inputLabel = el("label", { for: "th-chat-input", class: "th-chat__label" }, t.input);
  var input = el("input", {
    id: "th-chat-input",
    class: "th-chat__input",
    type: "text",
    autocomplete: "off",
    maxlength: "2000",
  });
  var row = el("div", { class: "th-chat__row" });
  var fileLabel = el("label", { for: "th-chat-photo", class: "th-chat__file-label" }, t.photo);
  var file = el("input", {
    id: "th-chat-photo",
    class: "th-chat__file",
    type: "file",
    accept: "image/jpeg,image/png,image/webp,image/heic",
  });
  var sendButton = el("button", { type: "submit", class: "th-chat__send" }, t.send);
  row.appendChild(file);
  row.appendChild(fileLabel);
  row.appendChild(sendButton);
  form.appendChild(chips);
  form.appendChild(inputLabel);
  form.appendChild(input);
  form.appendChild(row);
  panel.appendChild(header);
  panel.appendChild(status);
  panel.appendChild(log);
  panel.appendChild(form);
  root.appendChild(panel);
  root.appendChild(launcher);

  /* --- drawing ------------------------------------------------------------------------ */
  function safeUrl(url) {
    try {
      var parsed = new URL(url, base + "/");
      return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
    } catch (e) {
      return null;
    }
  }

  function scrollDown() {
    log.scrollTop = log.scrollHeight;
  }

  function retireQuickReplies() {
    Array.prototype.forEach.call(log.querySelectorAll(".th-chat__quick"), function (group) {
      group.parentNode.removeChild(group);
    });
  }

  function draw(message) {
    if (message.turn != null) {
      if (seen[message.turn]) return;
      seen[message.turn] = true;
    }
    var role = message.role || "bot";
    var item = el("div", { class: "th-chat__msg th-chat__msg--" + role });
    var who = { resident: t.you, bot: t.bot, agent: t.agent, system: t.system }[role] || t.bot;
    item.appendChild(el("span", { class: "th-chat__visually-hidden" }, who + " "));
    item.appendChild(el("p", { class: "th-chat__text" }, message.text || ""));
    var sources = (message.sources || []).filter(function (s) {
      return s && s.title && safeUrl(s.url);
    });
    if (sources.length) {
      var nav = el("div", { class: "th-chat__sources" });
      nav.appendChild(el("p", { class: "th-chat__sources-title" }, t.sources));
      var list = el("ul", {});
      sources.forEach(function (source) {
        var li = el("li", {});
        li.appendChild(el("a", { href: safeUrl(source.url), class: "th-chat__link" }, source.title));
        list.appendChild(li);
      });
      nav.appendChild(list);
      item.appendChild(nav);
    }
    if (role === "bot" && message.turn != null) item.appendChild(rating(message.turn));
    var quick = message.quick_replies || [];
    if (quick.length) {
      retireQuickReplies();
      var group = el("div", { class: "th-chat__quick", role: "group", "aria-label": t.suggestions });
      quick.forEach(function (q) {
        var button = el("button", { type: "button", class: "th-chat__quick-reply" }, q.label || q.text);
        button.addEventListener("click", function () {
          send(q.text || q.label);
          input.focus();
        });
        group.appendChild(button);
      });
      item.appendChild(group);
    }
    log.appendChild(item);
    scrollDown();
  }

  function rating(turn) {
    // Visible words, not pictures: "Was this helpful? Yes / No" (the buttons' names are
    // what they show, in a group named by the question).
    var id = "th-chat-rate-" + turn;
    var box = el("div", { class: "th-chat__rating", role: "group", "aria-labelledby": id });
    box.appendChild(el("span", { id: id, class: "th-chat__rating-question" }, t.wasHelpful));
    [
      [true, t.yes],
      [false, t.no],
    ].forEach(function (choice) {
      var button = el("button", { type: "button", class: "th-chat__rate", "aria-pressed": "false" }, choice[1]);
      button.addEventListener("click", function () {
        Array.prototype.forEach.call(box.querySelectorAll("button"), function (b) {
          b.setAttribute("aria-pressed", b === button ? "true" : "false");
        });
        rate(turn, choice[0]);
        say(t.thanks);
      });
      box.appendChild(button);
    });
    return box;
  }

  function say(text) {
    status.textContent = "";
    window.setTimeout(function () {
      status.textContent = text;
    }, 50);
  }

  function showStatus(value, quiet) {
    if (!value || value === state.status) return;
    var previous = state.status;
    state.status = value;
    save();
    var text = {
      queued: t.queued,
      agent: t.agentJoined,
      closed: t.closed,
      bot: previous === "agent" || previous === "queued" ? t.botBack : "",
    }[value];
    if (text && !quiet) draw({ role: "system", text: text });
    if (value === "closed") {
      state.key = null;
      save();
    }
  }

  function typing(on) {
    log.setAttribute("aria-busy", on ? "true" : "false");
    var dots = log.querySelector(".th-chat__typing");
    if (on && !dots) {
      log.appendChild(el("p", { class: "th-chat__typing" }, t.waiting));
      scrollDown();
    } else if (!on && dots) {
      dots.parentNode.removeChild(dots);
    }
  }

  /* --- events from the server ---------------------------------------------------------- */
  function handle(data) {
    if (!data || typeof data !== "object") return;
    if (data.id && pending[data.id]) {
      delete pending[data.id];
      if (!Object.keys(pending).length) typing(false);
    }
    if (data.conversation && data.type !== "error") {
      state.key = data.conversation;
      save();
    }
    if (data.type === "reply") drawn = true; // everything said so far is on screen
    if (data.type === "reply" || data.type === "message" || data.type === "joined") {
      (data.messages || (data.text ? [data] : [])).forEach(function (m) {
        if (m.role === "resident" && data.type !== "joined") return; // our own words
        draw(m);
        if ((m.role === "agent" || m.role === "system") && m.turn > lastAfter) lastAfter = m.turn;
      });
      showStatus(data.status);
    } else if (data.type === "status") {
      showStatus(data.status);
    } else if (data.type === "agent_joined" || data.type === "closed") {
      // The console's live chat: its own words ("Ana has joined the chat.") replace ours.
      if (data.text) draw({ role: "system", text: data.text });
      if (data.turn > lastAfter) lastAfter = data.turn;
      showStatus(data.type === "closed" ? "closed" : "agent", data.type === "agent_joined");
    } else if (data.type === "error") {
      if (data.code === "unknown_conversation") {
        state.key = null;
        save();
        return;
      }
      draw({ role: "system", text: ERROR_TEXT[data.code] || t.error });
    }
    if (state.key && useHttp) startPolling();
  }

  /* --- WebSocket ------------------------------------------------------------------------ */
  function connect() {
    if (useHttp || socket) return;
    var url = base.replace(/^http/, "ws") + "/ws/assistant/";
    var opened = false;
    try {
      socket = new window.WebSocket(url);
    } catch (e) {
      fallBack();
      return;
    }
    var timer = window.setTimeout(function () {
      if (!opened) fallBack();
    }, 5000);
    socket.addEventListener("open", function () {
      opened = true;
      socketReady = true;
      socketFailures = 0;
      window.clearTimeout(timer);
      if (state.key) {
        socket.send(JSON.stringify({ type: "join", conversation: state.key, after: drawn ? lastAfter : 0, history: !drawn }));
        drawn = true;
      }
      while (outbox.length) socket.send(outbox.shift());
    });
    socket.addEventListener("message", function (event) {
      try {
        handle(JSON.parse(event.data));
      } catch (e) {
        /* not ours */
      }
    });
    socket.addEventListener("close", function () {
      window.clearTimeout(timer);
      var wasOpen = opened;
      socket = null;
      socketReady = false;
      if (!wasOpen || ++socketFailures > 3) {
        fallBack();
        return;
      }
      say(t.offline);
      window.setTimeout(connect, 1000 * socketFailures);
    });
  }

  function fallBack() {
    if (useHttp) return;
    useHttp = true;
    if (socket) {
      try {
        socket.close();
      } catch (e) {
        /* already gone */
      }
    }
    socket = null;
    var queued = outbox.splice(0);
    queued.forEach(function (raw) {
      postMessage(JSON.parse(raw));
    });
    if (state.key) startPolling();
  }

  /* --- HTTP fallback --------------------------------------------------------------------- */
  function settings() {
    if (!transport) {
      transport = fetch(base + "/api/assistant/transport", { credentials: "include" }).then(function (r) {
        if (!r.ok) throw new Error("transport " + r.status);
        return r.json();
      });
      transport.catch(function () {
        transport = null;
      });
    }
    return transport;
  }

  function postMessage(payload) {
    settings()
      .then(function (conf) {
        return fetch(base + "/api/assistant/messages", {
          method: "POST",
          credentials: "include",
          headers: { "Content-Type": "application/json", "X-CSRFToken": conf.csrf_token },
          body: JSON.stringify(payload),
        });
      })
      .then(function (response) {
        return response.json().then(function (data) {
          if (response.ok) {
            data.type = "reply";
            data.id = payload.id;
          } else {
            data = { type: "error", id: payload.id, code: response.status === 429 ? "rate_limited" : response.status === 413 ? "too_big" : "unavailable" };
          }
          handle(data);
        });
      })
      .catch(function () {
        handle({ type: "error", id: payload.id, code: "unavailable" });
      });
  }

  function poll() {
    if (!state.key) return;
    fetch(base + "/api/assistant/events?after=" + lastAfter + (drawn ? "" : "&history=1"), {
      credentials: "include",
      headers: { "X-Conversation": state.key },
    })
      .then(function (response) {
        if (response.status === 404) return { type: "error", code: "unknown_conversation" };
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (!data) return;
        if (data.type !== "error") {
          data.type = "joined";
          drawn = true;
        }
        handle(data);
      })
      .catch(function () {
        /* try again at the next tick */
      });
  }

  function startPolling() {
    if (pollTimer || !useHttp) return;
    settings()
      .then(function (conf) {
        if (pollTimer) return;
        poll();
        pollTimer = window.setInterval(function () {
          if (!panel.hidden) poll();
        }, Math.max(1, conf.poll_seconds || 3) * 1000);
      })
      .catch(function () {
        /* no server: nothing to poll */
      });
  }

  /* --- sending ----------------------------------------------------------------------------- */
  function send(text) {
    text = (text || "").trim();
    if (!text && !photos.length) {
      say(t.empty);
      return;
    }
    var id = "m" + ++counter;
    var payload = {
      type: "message",
      id: id,
      conversation: state.key || null,
      text: text,
      language: lang,
      photos: photos.map(function (p) {
        return p.token;
      }),
    };
    draw({ role: "resident", text: text || photos.map(function (p) { return p.name; }).join(", ") });
    retireQuickReplies();
    photos = [];
    chips.textContent = "";
    pending[id] = true;
    typing(true);
    if (useHttp) {
      postMessage(payload);
      return;
    }
    var raw = JSON.stringify(payload);
    if (socketReady) socket.send(raw);
    else {
      outbox.push(raw);
      connect();
    }
  }

  function rate(turn, helpful) {
    var payload = { type: "rating", conversation: state.key, turn: turn, helpful: helpful };
    if (!useHttp && socketReady) {
      socket.send(JSON.stringify(payload));
      return;
    }
    settings().then(function (conf) {
      return fetch(base + "/api/assistant/ratings", {
        method: "POST",
        credentials: "include",
        headers: { "Content-Type": "application/json", "X-CSRFToken": conf.csrf_token },
        body: JSON.stringify(payload),
      });
    }).catch(function () {
      /* a lost thumbs-up is not worth an error */
    });
  }

  function upload() {
    var chosen = file.files && file.files[0];
    if (!chosen) return;
    say(t.photoUploading);
    settings()
      .then(function (conf) {
        var body = new FormData();
        body.append("photo", chosen, chosen.name);
        return fetch(base + "/api/assistant/photos", {
          method: "POST",
          credentials: "include",
          headers: { "X-CSRFToken": conf.csrf_token },
          body: body,
        });
      })
      .then(function (response) {
        return response.json().then(function (data) {
          if (!response.ok || !data.photo) throw new Error((data.error && data.error.message) || t.photoError);
          photos.push({ token: data.photo, name: data.name || chosen.name });
          drawChips();
          say(t.photoAdded.replace("%s", data.name || chosen.name));
        });
      })
      .catch(function (error) {
        say(error && error.message ? error.message : t.photoError);
      })
      .then(function () {
        file.value = "";
      });
  }

  function drawChips() {
    chips.textContent = "";
    photos.forEach(function (photo, index) {
      var li = el("li", { class: "th-chat__photo" });
      li.appendChild(el("span", {}, photo.name));
      var remove = el("button", {
        type: "button",
        class: "th-chat__photo-remove",
        "aria-label": t.photoRemove.replace("%s", photo.name),
      });
      remove.appendChild(el("span", { "aria-hidden": "true" }, "×"));
      remove.addEventListener("click", function () {
        photos.splice(index, 1);
        drawChips();
        input.focus();
      });
      li.appendChild(remove);
      chips.appendChild(li);
    });
  }

  /* --- opening and closing ---------------------------------------------------------------- */
  function open(focus) {
    panel.hidden = false;
    root.classList.add("th-chat--open");
    launcher.setAttribute("aria-expanded", "true");
    state.open = true;
    save();
    if (!log.childNodes.length && !state.key) draw({ role: "system", text: t.welcome });
    if (useHttp) {
      if (state.key) startPolling();
    } else if (state.key) connect();
    if (focus !== false) input.focus();
  }

  function close() {
    panel.hidden = true;
    root.classList.remove("th-chat--open");
    launcher.setAttribute("aria-expanded", "false");
    state.open = false;
    save();
    launcher.focus();
  }

  launcher.addEventListener("click", function () {
    if (panel.hidden) open();
    else close();
  });
  closeButton.addEventListener("click", close);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    if (text.length > 2000) {
      say(t.tooLong);
      return;
    }
    input.value = "";
    send(text);
  });
  file.addEventListener("change", upload);

  function mount() {
    document.body.appendChild(root);
    document.body.classList.add("th-chat-page");
    if (state.open) open(false);
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);

  window.TownhallChat = {
    open: open,
    close: close,
    send: send,
    transport: function () {
      return useHttp ? "http" : socketReady ? "websocket" : "connecting";
    },
  };
})();
