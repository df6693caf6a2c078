/* flask-kaleo: sends the invite form and the sent list's Resend/Revoke/Extend forms with
   fetch, the way kaleo's original jQuery snippet sent the invite form. No
   dependencies. Without JavaScript (or without fetch) the forms still post and the
   server redirects back with a flashed message. Results are announced in the
   #invitation-form-messages live region; every sentence shown comes from the server. */
(function () {
  "use strict";

  var FAILED = "<ul class=\"errorlist\"><li>Something went wrong and nothing was sent. " +
    "Please try again.</li></ul>";

  function each(selector, fn) {
    Array.prototype.forEach.call(document.querySelectorAll(selector), fn);
  }

  /* Announce through the live region: screen readers read what changes inside it. */
  function announce(text, errorsHtml) {
    var messages = document.getElementById("invitation-form-messages");
    if (!messages) { return; }
    if (errorsHtml) {
      messages.innerHTML = errorsHtml;  // escaped by the server
    } else {
      messages.textContent = "";
      var note = document.createElement("p");
      note.textContent = text;
      messages.appendChild(note);
    }
    messages.classList.toggle("kaleo-error", !!errorsHtml);
  }

  function withActions() {
    var list = document.querySelector(".invite-list");
    return !!(list && list.hasAttribute("data-kaleo-actions"));
  }

  /* Post ``form`` with fetch and hand the JSON answer to ``done``; the one place that
     talks to the server. Returns false when the browser should post it itself. */
  function send(form, done, submitter) {
    if (!window.fetch || !window.FormData) { return false; }
    if (form.hasAttribute("data-kaleo-busy")) { return true; }  // no double submit
    form.setAttribute("data-kaleo-busy", "");
    var headers = { "Accept": "application/json", "X-Requested-With": "XMLHttpRequest" };
    var csrf = form.querySelector("input[name=csrf_token]");
    if (csrf) { headers["X-CSRFToken"] = csrf.value; }
    if (withActions()) { headers["X-Kaleo-Actions"] = "1"; }
    var button = form.querySelector("button[type=submit], input[type=submit], button");
    if (button) { button.disabled = true; button.setAttribute("aria-busy", "true"); }
    var body = new FormData(form);
    if (submitter && submitter.name) { body.append(submitter.name, submitter.value); }
    fetch(form.action, {
      method: "POST", body: body, headers: headers, credentials: "same-origin"
    }).then(function (response) {
      return response.json();
    }).then(function (data) {
      if (data.status === "OK") {
        done(data);
        announce(data.message, null);
        showRemaining(data.invitations_remaining);
      } else {
        announce("", data.errors || FAILED);
      }
    }).catch(function () {
      announce("", FAILED);
    }).then(function () {
      form.removeAttribute("data-kaleo-busy");
      if (button) { button.disabled = false; button.removeAttribute("aria-busy"); }
    });
    return true;
  }

  function showRemaining(count) {
    each(".invitations_remaining", function (node) { node.textContent = "(" + count + ")"; });
    each(".invitation_form", function (box) {
      var form = box.querySelector("form");
      var none = box.querySelector(".kaleo-no-invitations");
      if (form) { form.hidden = count === 0; }
      if (none) { none.hidden = count !== 0; }
    });
  }

  function invited(form, data) {
    each(".empty-invites", function (node) { node.remove(); });
    each(".invite-list", function (list) {
      list.insertAdjacentHTML("beforeend", data.html);  // rendered and escaped by the server
    });
    each(".invites form input[type=text], [data-kaleo-invite] input[type=text]",
         function (input) { input.value = ""; });
    var message = form.querySelector("textarea");
    if (message) { message.value = ""; }
    var address = form.querySelector("[name=email_address]");
    if (address && data.invitations_remaining !== 0) { address.focus(); }
  }

  function onSubmit(event) {
    var form = event.target;
    if (!form.matches) { return; }
    var sent = false;
    if (form.matches("form[data-kaleo-invite]")) {
      sent = send(form, function (data) { invited(form, data); }, event.submitter);
    } else if (form.matches("form[data-kaleo-action]")) {
      var item = form.closest("li");
      sent = send(form, function (data) { if (item) { item.outerHTML = data.html; } });
    }
    if (sent) { event.preventDefault(); }
  }

  document.addEventListener("submit", onSubmit);

  /* "Copy link": the clipboard when the browser allows it, else the link selected for
     the visitor to copy; either way the live region says which. */
  function copyLink(button) {
    var box = button.closest(".kaleo-link");
    var field = box && box.querySelector("input");
    if (!field) { return; }
    function fallback() {
      field.focus();
      field.select();
      var copied = false;
      try { copied = document.execCommand("copy"); } catch (error) { copied = false; }
      announce(button.getAttribute(copied ? "data-kaleo-copied" : "data-kaleo-copy-failed"),
               null);
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(field.value).then(function () {
        announce(button.getAttribute("data-kaleo-copied"), null);
      }, fallback);
    } else {
      fallback();
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-kaleo-copy]") : null;
    if (button) { copyLink(button); }
  });
}());
