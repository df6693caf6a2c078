/* flask-kaleo: sends the invite form with fetch, the way kaleo's jQuery snippet did.
   No dependencies. Without JavaScript the form still posts and the page reloads. */
(function () {
  "use strict";

  var FAILED = "<ul class=\"errorlist\"><li>Something went wrong and nothing was sent. " +
    "Please try again.</li></ul>";

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
      if (data.html) {
        list.insertAdjacentHTML("beforeend", data.html);  // rendered and escaped by the server
      } else {
        var item = document.createElement("li");
        item.className = "sent";
        item.textContent = data.email;
        list.appendChild(item);
      }
    });
  }

  function enhance(form) {
    var messages = document.getElementById("invitation-form-messages");
    var button = form.querySelector("button[type=submit], input[type=submit]");
    var csrf = form.querySelector("input[name=csrf_token]");

    function say(html, isError) {
      if (!messages) { return; }
      messages.innerHTML = html;
      messages.classList.toggle("kaleo-error", !!isError);
    }

    form.addEventListener("submit", function (event) {
      if (!window.fetch || !window.FormData) { return; }  // let the browser post it
      event.preventDefault();
      if (button) { button.disabled = true; button.setAttribute("aria-busy", "true"); }
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
          var note = document.createElement("p");
          note.textContent = "Invitation sent to " + data.email;
          say("", false);
          messages && messages.appendChild(note);
          addToList(data);
          each(".invites form input[type=text], [data-kaleo-invite] input[type=text]",
               function (input) { input.value = ""; });
          var message = form.querySelector("textarea");
          if (message) { message.value = ""; }
          showRemaining(data.invitations_remaining);
          if (data.invitations_remaining === 0) {
            each(".invitation_form form", function (node) { node.hidden = true; });
          }
        } else {
          say(data.errors || FAILED, true);
        }
      }).catch(function () {
        say(FAILED, true);
      }).then(function () {
        if (button) { button.disabled = false; button.removeAttribute("aria-busy"); }
      });
    });
  }

  function start() { each("form[data-kaleo-invite]", enhance); }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
