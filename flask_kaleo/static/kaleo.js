/* flask-kaleo: sends the invite form with fetch, the way kaleo's jQuery snippet did.
   No dependencies. Without JavaScript (or without fetch) the form still posts and the
   server redirects back with a flashed message. Results are announced in the
   #invitation-form-messages live region. */
(function () {
  "use strict";

  var FAILED = "<ul class=\"errorlist\"><li>Something went wrong and nothing was sent. " +
    "Please try again.</li></ul>";
  var NONE_LEFT = "You have no invitations left to send.";

  function each(selector, fn) {
    Array.prototype.forEach.call(document.querySelectorAll(selector), fn);
  }

  function showRemaining(count) {
    each(".invitations_remaining", function (node) {
      node.textContent = "(" + count + ")";
    });
  }

  function addToList(data) {
    each(".empty-invites", function (node) { node.remove(); });
    each(".invite-list", function (list) {
      var html = list.hasAttribute("data-kaleo-actions") ? data.html_with_actions : data.html;
      if (html) {
        list.insertAdjacentHTML("beforeend", html);  // rendered and escaped by the server
      } else {
        var item = document.createElement("li");
        item.className = "sent";
        item.textContent = data.email;
        list.appendChild(item);
      }
    });
  }

  function noneLeft() {
    each(".invitation_form", function (box) {
      var form = box.querySelector("form");
      if (form) { form.hidden = true; }
      if (!box.querySelector(".kaleo-no-invitations")) {
        var note = document.createElement("p");
        note.className = "kaleo-no-invitations";
        note.textContent = NONE_LEFT;
        box.appendChild(note);
      }
    });
  }

  function enhance(form) {
    var messages = document.getElementById("invitation-form-messages");
    var button = form.querySelector("button[type=submit], input[type=submit]");
    var address = form.querySelector("[name=email_address]");
    var csrf = form.querySelector("input[name=csrf_token]");
    var sending = false;

    // Announce through the live region: screen readers read what changes inside it.
    function say(html, isError) {
      if (!messages) { return; }
      messages.innerHTML = html;
      messages.classList.toggle("kaleo-error", !!isError);
    }

    function busy(on) {
      sending = on;
      if (!button) { return; }
      button.disabled = on;
      if (on) { button.setAttribute("aria-busy", "true"); } else { button.removeAttribute("aria-busy"); }
    }

    function succeeded(data) {
      var note = document.createElement("p");
      note.textContent = "Invitation sent to " + data.email;
      say("", false);
      if (messages) { messages.appendChild(note); }
      addToList(data);
      each(".invites form input[type=text], [data-kaleo-invite] input[type=text]",
           function (input) { input.value = ""; });
      var message = form.querySelector("textarea");
      if (message) { message.value = ""; }
      showRemaining(data.invitations_remaining);
      if (data.invitations_remaining === 0) {
        noneLeft();
      } else if (address) {
        address.focus();  // ready for the next address
      }
    }

    form.addEventListener("submit", function (event) {
      if (!window.fetch || !window.FormData) { return; }  // let the browser post it
      event.preventDefault();
      if (sending) { return; }
      busy(true);
      var headers = { "Accept": "application/json", "X-Requested-With": "XMLHttpRequest" };
      if (csrf) { headers["X-CSRFToken"] = csrf.value; }
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: headers,
        credentials: "same-origin"
      }).then(function (response) {
        return response.json();
      }).then(function (data) {
        if (data.status === "OK") {
          succeeded(data);
        } else {
          say(data.errors || FAILED, true);
          if (address) { address.focus(); }
        }
      }).catch(function () {
        say(FAILED, true);
      }).then(function () {
        busy(false);
      });
    });
  }

  /* The sent list's resend/revoke forms, including items added later: one listener. */
  function onAction(event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-kaleo-action]")) { return; }
    if (!window.fetch || !window.FormData) { return; }  // let the browser post it
    event.preventDefault();
    var messages = document.getElementById("invitation-form-messages");
    var button = form.querySelector("button");
    var csrf = form.querySelector("input[name=csrf_token]");
    var headers = { "Accept": "application/json", "X-Requested-With": "XMLHttpRequest" };
    if (csrf) { headers["X-CSRFToken"] = csrf.value; }
    if (button) { button.disabled = true; }
    fetch(form.action, {
      method: "POST", body: new FormData(form), headers: headers, credentials: "same-origin"
    }).then(function (response) {
      return response.json();
    }).then(function (data) {
      if (data.status === "OK") {
        var item = form.closest("li");
        if (item && data.html_with_actions) { item.outerHTML = data.html_with_actions; }
        if (messages) {
          messages.classList.remove("kaleo-error");
          messages.textContent = form.getAttribute("data-kaleo-action") === "revoke" ?
            "Invitation to " + data.email + " revoked." :
            "Invitation sent again to " + data.email + ".";
        }
        showRemaining(data.invitations_remaining);
        if (data.invitations_remaining !== 0) {
          each(".invitation_form form", function (node) { node.hidden = false; });
        }
      } else if (messages) {
        messages.innerHTML = data.errors || FAILED;
        messages.classList.add("kaleo-error");
      }
    }).catch(function () {
      if (messages) { messages.innerHTML = FAILED; }
    }).then(function () {
      if (button && document.body.contains(button)) { button.disabled = false; }
    });
  }

  function start() {
    each("form[data-kaleo-invite]", enhance);
    document.addEventListener("submit", onAction);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
