// Security keys (WebAuthn) on the two-factor pages: a form with data-webauthn="create" (add a key)
// or "get" (log in with one) asks the server at data-options for the ceremony's options, asks the
// browser's security key to answer them, and posts the answer (JSON, binary fields in base64url as
// the server's py_webauthn reads them) in its hidden "credential" field. The server checks it all.
// What it tells the user comes from the page, in the page's language: the data-unsupported,
// data-touch, data-refused and data-failed attributes of the form's [data-webauthn-status] element.
"use strict";
(function () {
  function bytes(text) {
    var plain = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4));
    return Uint8Array.from(plain, function (c) { return c.charCodeAt(0); });
  }
  function text(buffer) {
    var plain = "";
    new Uint8Array(buffer).forEach(function (b) { plain += String.fromCharCode(b); });
    return btoa(plain).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function listed(items) {
    (items || []).forEach(function (item) { item.id = bytes(item.id); });
  }
  function answer(credential) {
    var r = credential.response;
    var out = {
      id: credential.id, rawId: text(credential.rawId), type: credential.type,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: { clientDataJSON: text(r.clientDataJSON) }
    };
    if (r.attestationObject) {
      out.response.attestationObject = text(r.attestationObject);
      if (r.getTransports) out.response.transports = r.getTransports();
    } else {
      out.response.authenticatorData = text(r.authenticatorData);
      out.response.signature = text(r.signature);
      if (r.userHandle) out.response.userHandle = text(r.userHandle);
    }
    if (credential.authenticatorAttachment) out.authenticatorAttachment = credential.authenticatorAttachment;
    return JSON.stringify(out);
  }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.dataset || !form.dataset.webauthn || form.dataset.answered) return;
    event.preventDefault();
    var status = form.querySelector("[data-webauthn-status]");
    var words = (status && status.dataset) || {};
    function say(message) { if (status) status.textContent = message; }
    if (!window.PublicKeyCredential) { say(words.unsupported); return; }
    var token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    fetch(form.dataset.options, { method: "POST", headers: { "X-CSRFToken": token }, credentials: "same-origin" })
      .then(function (reply) {
        return reply.json().then(function (options) {
          if (!reply.ok) throw new Error(options.error || words.refused);
          return options;
        });
      })
      .then(function (options) {
        say(words.touch);
        options.challenge = bytes(options.challenge);
        if (form.dataset.webauthn === "create") {
          options.user.id = bytes(options.user.id);
          listed(options.excludeCredentials);
          return navigator.credentials.create({ publicKey: options });
        }
        listed(options.allowCredentials);
        return navigator.credentials.get({ publicKey: options });
      })
      .then(function (credential) {
        form.querySelector("input[name=credential]").value = answer(credential);
        form.dataset.answered = "1";
        form.submit();
      })
      .catch(function (error) { say(words.failed + " " + error.message); });
  });
})();
