// The live calls page: one card per call, updated from Server-Sent Events. Text goes in with
// textContent only (captions are what callers said; never markup).
"use strict";

(() => {
  const list = document.getElementById("live-calls");
  const status = document.getElementById("live-status");
  const ended = new Set();

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function time(iso) {
    const at = new Date(iso);
    return at.toISOString().slice(0, 16).replace("T", " ") + " UTC";
  }

  function render(call) {
    const card = element("article", "card live-call" + (call.ended ? " ended" : ""));
    card.id = "live-" + call.id;
    card.dataset.call = String(call.id);
    card.append(element("h2", "", `${call.channel} call from ${call.caller_id || "an unknown caller"}`));
    const meta = element("p", "meta", `started ${time(call.started_at)} · `);
    meta.append(element("span", "state state-" + call.state, call.state));
    if (call.ended && call.conversation_id) {
      meta.append(" · ");
      const link = element("a", "", "transcript");
      link.href = `/desk/calls/${call.conversation_id}`;
      meta.append(link);
    }
    card.append(meta);
    const captions = element("ol", "captions");
    for (const line of call.lines) {
      const item = element("li", line.speaker);
      item.append(element("b", "", line.speaker + ":"), " " + line.text);
      if (line.interrupted) item.append(" ", element("em", "cut", `(cut off; heard: “${line.heard || ""}”)`));
      captions.append(item);
    }
    card.append(captions);
    card.append(element("p", "hearing", call.hearing ? "… " + call.hearing : ""));
    return card;
  }

  function show(call) {
    if (call.ended) ended.add(call.id);
    const card = render(call);
    const old = document.getElementById(card.id);
    if (old) old.replaceWith(card);
    else list.prepend(card);
    const running = list.querySelectorAll(".live-call:not(.ended)").length;
    status.textContent = running ? `${running} call(s) now.` : "No call right now.";
  }

  const events = new EventSource("/desk/live/events");
  events.addEventListener("snapshot", (message) => {
    const calls = JSON.parse(message.data).calls;
    for (const card of list.querySelectorAll(".live-call:not(.ended)")) card.remove();
    for (const call of calls) show(call);
    if (!calls.length) status.textContent = "No call right now.";
  });
  events.addEventListener("call", (message) => show(JSON.parse(message.data)));
  events.onerror = () => {
    status.textContent = "Connection lost; reconnecting (sign in again if it persists).";
  };
})();
