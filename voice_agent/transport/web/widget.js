/* Voice support button: embed with one tag, <script src="https://AGENT/widget.js"></script>.
 *
 * The button mounts into the first element with a data-voice-agent attribute, or floats in the
 * page's bottom-right corner. It calls the agent over WebRTC (signaling: POST /webrtc/offer on
 * the server this script came from) and shows the call's state, live captions of both sides
 * and each turn's latency, from events the agent sends over a data channel.
 * Styles live in a shadow root, so the shop's CSS and ours never meet.
 * The call's language: the mount element's or this script tag's data-lang attribute, else the
 * page's <html lang>; the agent answers in it when it offers it (else it listens for it).
 */
(function () {
  "use strict";
  if (window.__voiceAgentLoaded) return; // the tag was pasted twice
  window.__voiceAgentLoaded = true;

  var script = document.currentScript;
  var BASE = script && script.src ? new URL(".", script.src).href.replace(/\/$/, "") : "";
  var ICE_GATHER_MS = 1500;

  function callLanguage() {
    var host = document.querySelector("[data-voice-agent]");
    var tagged = (host && host.getAttribute("data-lang")) || (script && script.getAttribute("data-lang"));
    return tagged || document.documentElement.lang || "";
  }

  var STATES = {
    idle: "Press the button to talk to support",
    connecting: "Connecting…",
    listening: "Listening",
    thinking: "Thinking…",
    speaking: "Agent speaking",
    ended: "Call ended",
    error: "",
  };

  var CSS = [
    ":host{all:initial;font:15px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1b1f24}",
    ".va{box-sizing:border-box;width:340px;max-width:100%;background:#fff;border:1px solid #d0d7de;",
    "border-radius:14px;box-shadow:0 6px 24px rgba(0,0,0,.12);padding:14px;display:flex;flex-direction:column;gap:10px}",
    ".va.floating{position:fixed;right:20px;bottom:20px;z-index:2147483000}",
    ".row{display:flex;align-items:center;gap:10px}",
    "button{font:inherit;border-radius:999px;border:1px solid transparent;cursor:pointer;padding:8px 14px}",
    "button:focus-visible{outline:3px solid #0a66ff;outline-offset:2px}",
    "button[disabled]{opacity:.5;cursor:not-allowed}",
    ".call{background:#0a7c42;color:#fff;font-weight:600;display:flex;align-items:center;gap:8px;padding:10px 18px}",
    ".call:hover{background:#086236}",
    ".mute{background:#eef1f4;color:#1b1f24;border-color:#d0d7de}",
    ".mute[aria-pressed=true]{background:#fff4e5;border-color:#d9822b}",
    ".hangup{background:#c62828;color:#fff}",
    ".hangup:hover{background:#a31f1f}",
    ".dot{width:12px;height:12px;border-radius:50%;background:#8c959f;flex:none}",
    "[data-state=connecting] .dot{background:#d9a400;animation:pulse 1s infinite}",
    "[data-state=listening] .dot{background:#0a7c42}",
    "[data-state=thinking] .dot{background:#0a66ff;animation:pulse .6s infinite}",
    "[data-state=speaking] .dot{background:#7a3ff2;animation:pulse .4s infinite}",
    "[data-state=error] .dot{background:#c62828}",
    "@keyframes pulse{50%{opacity:.35}}",
    "@media (prefers-reduced-motion:reduce){.dot{animation:none!important}}",
    ".status{font-weight:600}",
    ".latency{margin-left:auto;color:#57606a;font-size:13px;font-variant-numeric:tabular-nums}",
    ".message{color:#a31f1f;font-size:14px}",
    ".message:empty{display:none}",
    ".captions{list-style:none;margin:0;padding:0;max-height:220px;overflow-y:auto;display:flex;flex-direction:column;gap:6px}",
    ".captions:empty{display:none}",
    ".captions li{padding:6px 10px;border-radius:10px;max-width:88%}",
    ".captions li.caller{align-self:flex-end;background:#e7f0ff}",
    ".captions li.agent{align-self:flex-start;background:#f1ecfe}",
    ".captions li .who{display:block;font-size:12px;color:#57606a}",
    ".captions li.cut .text::after{content:' …';color:#57606a}",
    ".captions li.interim .pending{color:#57606a;font-style:italic}",
    ".captions li .turn-latency{display:block;font-size:12px;color:#57606a}",
    ".hidden{display:none!important}",
  ].join("");

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      node.setAttribute(key, attrs[key]);
    });
    if (text) node.textContent = text;
    return node;
  }

  function Widget(host, floating) {
    this.host = host;
    this.events = []; // every message from the agent, for whoever inspects the page
    this.pc = null;
    this.channel = null;
    this.mic = null;
    this.remoteStream = null;
    this.agentLine = null;
    this.state = "idle";
    this.build(floating);
  }

  Widget.prototype.build = function (floating) {
    var root = this.host.attachShadow({ mode: "open" });
    root.appendChild(el("style", {}, CSS));
    var box = el("section", { class: "va" + (floating ? " floating" : ""), "aria-label": "Voice support", "data-state": "idle" });
    var top = el("div", { class: "row" });
    this.callButton = el("button", { class: "call", type: "button", "aria-label": "Call support by voice" });
    this.callButton.appendChild(el("span", { "aria-hidden": "true" }, "🎙"));
    this.callButton.appendChild(el("span", {}, "Talk to support"));
    this.muteButton = el("button", { class: "mute hidden", type: "button", "aria-pressed": "false", "aria-label": "Mute microphone" }, "Mute");
    this.hangupButton = el("button", { class: "hangup hidden", type: "button", "aria-label": "Hang up" }, "Hang up");
    top.appendChild(this.callButton);
    top.appendChild(this.muteButton);
    top.appendChild(this.hangupButton);
    var statusRow = el("div", { class: "row", "data-state": "idle" });
    this.statusRow = statusRow;
    statusRow.appendChild(el("span", { class: "dot", "aria-hidden": "true" }));
    this.statusText = el("span", { class: "status", role: "status", "aria-live": "polite" }, STATES.idle);
    this.latencyText = el("span", { class: "latency", "aria-label": "Last reply latency" });
    statusRow.appendChild(this.statusText);
    statusRow.appendChild(this.latencyText);
    this.message = el("p", { class: "message", role: "alert" });
    this.captions = el("ol", { class: "captions", role: "log", "aria-live": "polite", "aria-label": "Live captions" });
    this.audio = el("audio", { autoplay: "", class: "hidden" });
    box.appendChild(top);
    box.appendChild(statusRow);
    box.appendChild(this.message);
    box.appendChild(this.captions);
    box.appendChild(this.audio);
    root.appendChild(box);
    this.box = box;

    var self = this;
    this.callButton.addEventListener("click", function () { self.start(); });
    this.hangupButton.addEventListener("click", function () { self.hangUp("You hung up."); });
    this.muteButton.addEventListener("click", function () { self.toggleMute(); });
    box.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && self.pc) self.hangUp("You hung up.");
    });
  };

  Widget.prototype.setState = function (state, text) {
    this.state = state;
    this.box.setAttribute("data-state", state);
    this.statusRow.setAttribute("data-state", state);
    this.statusText.textContent = text || STATES[state] || state;
    var inCall = state !== "idle" && state !== "ended" && state !== "error";
    this.callButton.classList.toggle("hidden", inCall);
    this.callButton.disabled = inCall;
    this.muteButton.classList.toggle("hidden", !inCall);
    this.hangupButton.classList.toggle("hidden", !inCall);
  };

  Widget.prototype.fail = function (text) {
    this.cleanup();
    this.message.textContent = text;
    this.setState("error", "Not connected");
    this.callButton.focus();
  };

  Widget.prototype.start = async function () {
    if (this.pc) return;
    this.message.textContent = "";
    this.captions.textContent = "";
    this.interimLine = null;
    this.latencyText.textContent = "";
    this.events = [];
    if (!window.RTCPeerConnection || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      this.fail("This browser cannot make voice calls here (it needs WebRTC and a secure https page).");
      return;
    }
    this.setState("connecting");
    var configPromise = fetch(BASE + "/webrtc/config").then(function (r) { return r.json(); }).catch(function () { return {}; });
    try {
      var stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      });
      this.mic = stream.getAudioTracks()[0];
    } catch (error) {
      var name = error && error.name;
      if (name === "NotAllowedError" || name === "SecurityError") {
        this.fail("Microphone access was denied. Allow the microphone for this site (the icon in the address bar), then press the button again.");
      } else if (name === "NotFoundError" || name === "OverconstrainedError") {
        this.fail("No microphone was found. Plug one in and press the button again.");
      } else if (name === "NotReadableError") {
        this.fail("The microphone is busy in another application.");
      } else {
        this.fail("The microphone could not be opened (" + (name || error) + ").");
      }
      return;
    }
    try {
      var config = await configPromise;
      await this.connect((config && config.iceServers) || []);
    } catch (error) {
      this.fail(error && error.userMessage ? error.userMessage : "The connection failed: the agent could not be reached. Check your network and try again.");
    }
  };

  Widget.prototype.connect = async function (iceServers) {
    var self = this;
    var pc = new RTCPeerConnection({ iceServers: iceServers });
    this.pc = pc;
    pc.addTransceiver(this.mic, { direction: "sendrecv" });
    var channel = pc.createDataChannel("events", { ordered: true });
    this.channel = channel;
    channel.onmessage = function (event) { self.onAgentEvent(event.data); };
    pc.ontrack = function (event) {
      self.remoteStream = event.streams[0] || new MediaStream([event.track]);
      self.audio.srcObject = self.remoteStream;
      // No extra playout delay: the agent's audio is played as soon as it is decodable.
      if ("jitterBufferTarget" in event.receiver) event.receiver.jitterBufferTarget = 0;
      var played = self.audio.play();
      if (played && played.catch) played.catch(function () {});
    };
    pc.onconnectionstatechange = function () {
      if (self.pc !== pc) return;
      var state = pc.connectionState;
      if (state === "connected" && self.state === "connecting") self.setState("listening");
      if (state === "failed") self.fail("The connection failed. Check your network (or a firewall blocking calls) and try again.");
      if (state === "disconnected") {
        setTimeout(function () {
          if (self.pc === pc && pc.connectionState === "disconnected") self.fail("The connection was lost.");
        }, 5000);
      }
    };
    await pc.setLocalDescription(await pc.createOffer());
    await waitForIce(pc, ICE_GATHER_MS);
    var lang = callLanguage();
    var query = lang ? "?lang=" + encodeURIComponent(lang) : "";
    var response = await fetch(BASE + "/webrtc/offer" + query, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ type: "offer", sdp: pc.localDescription.sdp }),
    });
    var body = await response.json().catch(function () { return {}; });
    if (!response.ok) {
      var error = new Error(body.error || response.statusText);
      error.userMessage = response.status === 503
        ? "All our lines are busy. Please try again in a minute."
        : "The agent refused the call: " + (body.error || response.status);
      throw error;
    }
    if (this.pc !== pc) return; // hung up meanwhile
    this.callId = body.call_id;
    await pc.setRemoteDescription({ type: "answer", sdp: body.sdp });
    this.hangupButton.focus();
  };

  function waitForIce(pc, limitMs) {
    if (pc.iceGatheringState === "complete") return Promise.resolve();
    return new Promise(function (resolve) {
      var timer = setTimeout(resolve, limitMs);
      pc.addEventListener("icegatheringstatechange", function () {
        if (pc.iceGatheringState === "complete") {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }

  Widget.prototype.onAgentEvent = function (data) {
    var event;
    try { event = JSON.parse(data); } catch (e) { return; }
    this.events.push(event);
    switch (event.type) {
      case "state":
        if (this.state !== "ended" && this.state !== "error") {
          this.setState(event.state === "interrupted" ? "listening" : event.state);
        }
        break;
      case "caller_heard":
        this.showInterim(event.confirmed || "", event.pending || "");
        break;
      case "caller_said":
        this.finishInterim(event.text);
        break;
      case "agent_said":
        this.agentLine = this.addCaption("agent", "Agent", event.text);
        break;
      case "agent_stopped":
        if (event.interrupted && this.agentLine) {
          this.agentLine.classList.add("cut");
          this.agentLine.querySelector(".text").textContent = event.played_text || "";
        }
        break;
      case "latency":
        this.showLatency(event.marks_ms || {});
        break;
      case "ended":
        this.cleanup();
        this.setState("ended");
        break;
    }
  };

  Widget.prototype.addCaption = function (who, label, text) {
    var item = el("li", { class: who });
    item.appendChild(el("span", { class: "who" }, label));
    item.appendChild(el("span", { class: "text" }, text));
    this.captions.appendChild(item);
    this.captions.scrollTop = this.captions.scrollHeight;
    return item;
  };

  // Words heard while the caller speaks: those two recognition passes agreed on, then the
  // newest pass's guesses (shown as interim) until the turn's final text replaces them.
  Widget.prototype.showInterim = function (confirmed, pending) {
    if (!this.interimLine) this.interimLine = this.addCaption("caller interim", "You", "");
    var text = this.interimLine.querySelector(".text");
    text.textContent = confirmed ? confirmed + " " : "";
    if (pending) text.appendChild(el("span", { class: "pending" }, pending));
    this.captions.scrollTop = this.captions.scrollHeight;
  };

  Widget.prototype.finishInterim = function (text) {
    var line = this.interimLine;
    this.interimLine = null;
    if (!line) {
      this.addCaption("caller", "You", text);
      return;
    }
    line.classList.remove("interim");
    line.querySelector(".text").textContent = text;
    this.captions.appendChild(line); // after any agent line that came meanwhile
  };

  Widget.prototype.showLatency = function (marks) {
    var ms = marks.first_audio_sent;
    if (typeof ms !== "number") return;
    var text = "Reply in " + Math.round(ms) + " ms";
    this.latencyText.textContent = text;
    this.latencyText.title = Object.keys(marks).map(function (k) { return k + ": " + Math.round(marks[k]) + " ms"; }).join("\n");
    if (this.agentLine) {
      var mark = this.agentLine.querySelector(".turn-latency") || el("span", { class: "turn-latency" });
      mark.textContent = text;
      this.agentLine.appendChild(mark);
    }
  };

  Widget.prototype.toggleMute = function () {
    if (!this.mic) return;
    this.mic.enabled = !this.mic.enabled;
    var muted = !this.mic.enabled;
    this.muteButton.setAttribute("aria-pressed", String(muted));
    this.muteButton.setAttribute("aria-label", muted ? "Unmute microphone" : "Mute microphone");
    this.muteButton.textContent = muted ? "Unmute" : "Mute";
  };

  Widget.prototype.hangUp = function (text) {
    if (this.channel && this.channel.readyState === "open") {
      try { this.channel.send(JSON.stringify({ type: "hangup" })); } catch (e) { /* closing anyway */ }
    }
    this.cleanup();
    this.setState("ended", text ? "Call ended. " + text : STATES.ended);
    this.callButton.focus();
  };

  Widget.prototype.cleanup = function () {
    var pc = this.pc;
    this.pc = null;
    this.channel = null;
    if (this.mic) this.mic.stop();
    this.mic = null;
    this.muteButton.setAttribute("aria-pressed", "false");
    this.muteButton.textContent = "Mute";
    if (pc) setTimeout(function () { pc.close(); }, 100); // let a hangup message leave first
  };

  function mount() {
    var host = document.querySelector("[data-voice-agent]");
    var floating = !host;
    if (!host) {
      host = document.createElement("div");
      document.body.appendChild(host);
    }
    host.classList.add("voice-agent-host");
    window.VoiceAgent = new Widget(host, floating);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", mount);
  } else {
    mount();
  }
})();
