/* flask-kaleo: sends the invite form and the sent list's Resend/Revoke/Extend forms with
   fetch, the way kaleo's original jQuery snippet sent the invite form. No
   dependencies. Without JavaScript (or without fetch) the forms still post and the
   server redirects back with a flashed message. Results are announced in the
   #invitation-form-messages live region, and a row's in its .kaleo-outcome cell;
   every sentence shown comes from the server or the page (Revoke's inline confirmation
   is in the markup, hidden until asked for; the network-failure message is the
   data-kaleo-failed attribute), so the script holds no English. It branches on the
   JSON's status, never on text, and leaves a refusal's code in data-kaleo-code. */
(function () {
  "use strict";

  /* What to say when the server cannot be reached: the page's words (the macros render
     them, translated, in data-kaleo-failed), so this script holds no English. */
  function failedText() {
    var holder = document.querySelector("[data-kaleo-failed]");
    return holder ? holder.getAttribute("data-kaleo-failed") : "";
  }

  function failedHtml() {
    var list = document.createElement("ul");
    var item = document.createElement("li");
    list.className = "errorlist";
    item.textContent = failedText();
    list.appendChild(item);
    return list.outerHTML;
  }

  function each(selector, fn) {
    Array.prototype.forEach.call(document.querySelectorAll(selector), fn);
  }

  /* Announce through the live region: screen readers read what changes inside it. */
  function announce(text, errorsHtml) {
    var messages = document.getElementById("invitation-form-messages");
    if (!messages) { return; }
    messages.classList.remove("kaleo-quiet");
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

  /* The refusal's machine code (``already_member``...; ``network`` when no answer came)
     on the live region as data-kaleo-code, for a site's own script or style to read
     instead of the translated text; removed by the next success. */
  function markCode(code) {
    var messages = document.getElementById("invitation-form-messages");
    if (!messages) { return; }
    if (code) {
      messages.setAttribute("data-kaleo-code", code);
    } else {
      messages.removeAttribute("data-kaleo-code");
    }
  }

  function withActions() {
    var list = document.querySelector(".invite-list");
    return !!(list && list.hasAttribute("data-kaleo-actions"));
  }

  /* Post ``form`` with fetch and hand the JSON answer to ``done`` (and a refusal to
     ``failed``, if given); the one place that talks to the server. ``submitter`` is the
     button that sent it, whose name and value go along ("Create link"). Returns false
     when the browser should post it itself. */
  function send(form, done, failed, submitter, quiet) {
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
        if (!quiet) { announce(data.message, null); }
        markCode(null);
        showRemaining(data.invitations_remaining);
        showBadge(data.invitations_badge);
      } else {
        if (!quiet) { announce("", data.errors || failedHtml()); }
        markCode(data.code);
        if (failed) { failed(data); }
      }
    }).catch(function () {
      if (!quiet) { announce("", failedHtml()); }
      markCode("network");
      if (failed) { failed(null); }
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
      enhanceMenus(list);
    });
    each(".invites form input[type=text], [data-kaleo-invite] input[type=text]",
         function (input) { input.value = ""; });
    var message = form.querySelector("textarea");
    if (message) { message.value = ""; }
    var address = form.querySelector("[name=email_address]");
    if (address && data.invitations_remaining !== 0) { address.focus(); }
  }

  /* Show a refusal's messages at the fields they are about (as the page does without
     JavaScript), tied to them by aria-describedby; ``data`` null clears them. */
  function markFields(form, data) {
    var errors = (data && data.error_list) || {};
    Array.prototype.forEach.call(form.querySelectorAll("input[name], textarea[name]"),
      function (field) {
        if (field.type === "hidden") { return; }
        var box = field.closest(".kaleo-field");
        var id = field.id + "-error";
        var note = document.getElementById(id);
        var messages = errors[field.name];
        if (box) { box.classList.toggle("kaleo-has-error", !!messages); }
        if (!messages) {
          if (note) { note.remove(); }
          field.removeAttribute("aria-invalid");
          field.removeAttribute("aria-describedby");
          return;
        }
        if (!note) {
          note = document.createElement("span");
          note.className = "kaleo-field-error";
          note.id = id;
          field.insertAdjacentElement("afterend", note);
        }
        note.textContent = messages.join(" ");
        field.setAttribute("aria-invalid", "true");
        field.setAttribute("aria-describedby", id);
      });
  }

  /* Sent list rows and the action menu: the outcome of a row's action is shown in the
     row alone, coloured by its kind (kaleo-outcome-done / kaleo-outcome-refused), and
     said to screen readers by the list's own status region, not the invite form's. */
  function tellRow(item, text, kind) {
    var outcome = item && item.querySelector(".kaleo-outcome");
    if (outcome) {
      outcome.textContent = text;
      outcome.classList.remove("kaleo-outcome-done", "kaleo-outcome-refused");
      outcome.classList.add("kaleo-outcome-" + kind);
    }
    each(".kaleo-row-status", function (region) { region.textContent = text; });
    return outcome;
  }

  /* The "Actions" button of each row under ``root``: shown (it is hidden for browsers
     without the script, which see the forms themselves), its list hidden until opened. */
  function enhanceMenus(root) {
    Array.prototype.forEach.call(root.querySelectorAll(".kaleo-menu"), function (menu) {
      var button = menu.querySelector(".kaleo-menu-button");
      var list = menu.querySelector(".kaleo-menu-list");
      if (!button || !list || menu.hasAttribute("data-kaleo-menu")) { return; }
      menu.setAttribute("data-kaleo-menu", "");
      button.hidden = false;
      setMenu(menu, false, false);
    });
  }

  function setMenu(menu, open, focus) {
    var button = menu.querySelector(".kaleo-menu-button");
    var list = menu.querySelector(".kaleo-menu-list");
    button.setAttribute("aria-expanded", open ? "true" : "false");
    list.hidden = !open;
    menu.classList.toggle("kaleo-menu-open", open);
    if (open && focus) {
      var first = list.querySelector("button:not([disabled]):not([hidden]), select");
      if (first) { first.focus(); }
    } else if (!open && focus) {
      button.focus();
    }
  }

  function closeMenus(except) {
    each(".kaleo-menu[data-kaleo-menu].kaleo-menu-open", function (menu) {
      if (menu !== except) { setMenu(menu, false, false); }
    });
  }

  function errorText(data) {
    if (!data || !data.error_list) { return failedText(); }
    var texts = [];
    Object.keys(data.error_list).forEach(function (field) {
      texts = texts.concat(data.error_list[field]);
    });
    return texts.join(" ");
  }

  /* Replace the row with the server's, say the outcome in it, and keep the keyboard
     focus in the row: on its first button, or on the outcome when none is left. */
  function rowDone(item, data) {
    if (!item) { return; }
    var id = item.getAttribute("data-invitation-id");
    item.outerHTML = data.html;  // rendered and escaped by the server
    var fresh = document.querySelector(".invite-list li[data-invitation-id='" + id + "']");
    if (fresh) { enhanceMenus(fresh); }
    var outcome = tellRow(fresh, data.message, "done");
    var button = fresh && fresh.querySelector(".kaleo-menu-button:not([hidden])");
    if (button) {
      button.focus();
    } else if (outcome) {
      outcome.setAttribute("tabindex", "-1");
      outcome.focus();
    }
  }

  /* Revoke asks first, in the row: the form's hidden confirmation replaces the button. */
  function askToRevoke(form, show) {
    var confirm = form.querySelector(".kaleo-confirm");
    var revoke = form.querySelector("button[type=submit]:not([name=confirm])");
    if (!confirm || !revoke) { return false; }
    confirm.hidden = !show;
    revoke.hidden = show;
    var item = form.closest("li");
    if (item) { item.classList.toggle("kaleo-confirming", show); }
    (show ? confirm.querySelector("button[name=confirm]") : revoke).focus();
    return true;
  }

  function onSubmit(event) {
    var form = event.target;
    if (!form.matches) { return; }
    var sent = false;
    if (form.matches("form[data-kaleo-invite]")) {
      sent = send(form, function (data) { markFields(form, null); invited(form, data); },
                  function (data) { markFields(form, data); quietWhenAtFields(form, data); },
                  event.submitter);
    } else if (form.matches("form[data-kaleo-action]")) {
      var item = form.closest("li");
      var submitter = event.submitter;
      if (form.matches("[data-kaleo-action=revoke]") &&
          !(submitter && submitter.name === "confirm") && askToRevoke(form, true)) {
        event.preventDefault();
        return;
      }
      sent = send(form, function (data) { rowDone(item, data); },
                  function (data) { tellRow(item, errorText(data), "refused"); },
                  submitter, true);
    }
    if (sent) { event.preventDefault(); }
  }

  function onClick(event) {
    if (!event.target.closest) { return; }
    var toggle = event.target.closest(".kaleo-menu[data-kaleo-menu] > .kaleo-menu-button");
    var inside = event.target.closest(".kaleo-menu[data-kaleo-menu]");
    closeMenus(inside);
    if (toggle) {
      var menu = toggle.parentNode;
      /* A click by keyboard (Enter, Space) has no pointer position: focus goes in. */
      setMenu(menu, toggle.getAttribute("aria-expanded") !== "true", event.detail === 0);
    }
    var cancel = event.target.closest(".kaleo-confirm .kaleo-cancel");
    if (cancel) { askToRevoke(cancel.form, false); }
    var copy = event.target.closest("[data-kaleo-copy]");
    if (copy) { copyLink(copy); }
  }

  function onKeydown(event) {
    if (event.key !== "Escape" || !event.target.closest) { return; }
    var confirm = event.target.closest(".kaleo-confirm");
    if (confirm && !confirm.hidden) {
      askToRevoke(confirm.closest("form"), false);
      return;
    }
    var menu = event.target.closest(".kaleo-menu[data-kaleo-menu].kaleo-menu-open");
    if (menu) { setMenu(menu, false, true); }
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
      copyTold(box, button, copied);
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(field.value).then(function () {
        copyTold(box, button, true);
      }, fallback);
    } else {
      fallback();
    }
  }

  /* Links and sharing */

  /* Say whether the copy worked: beside the button when its box has a status
     (data-kaleo-copy-status, the new link's), else in the live region. */
  function copyTold(box, button, copied) {
    var text = button.getAttribute(copied ? "data-kaleo-copied" : "data-kaleo-copy-failed");
    var status = box.querySelector("[data-kaleo-copy-status]");
    if (status) {
      status.textContent = text;
    } else {
      announce(text, null);
    }
  }

  /* The remaining count's badge, in the server's words ("2 invitations left"). */
  function showBadge(html) {
    if (typeof html !== "string") { return; }
    each("[data-kaleo-badge]", function (badge) {
      badge.innerHTML = html;  // rendered and escaped by the server
    });
  }

  /* A refusal whose every message now stands at its field: the live region keeps
     them for screen readers only, so the page does not show the sentence twice. */
  function quietWhenAtFields(form, data) {
    var messages = document.getElementById("invitation-form-messages");
    var errors = (data && data.error_list) || null;
    if (!messages || !errors) { return; }
    var atFields = Object.keys(errors).every(function (name) {
      return !!form.querySelector("[name='" + name + "']:not([type=hidden])");
    });
    if (!atFields) { return; }
    var note = document.createElement("p");
    note.className = "kaleo-visually-hidden";
    note.textContent = errorText(data);
    messages.textContent = "";
    messages.appendChild(note);
    messages.classList.remove("kaleo-error");
    messages.classList.add("kaleo-quiet");
  }

  document.addEventListener("click", onClick);
  document.addEventListener("keydown", onKeydown);
  /* A menu closes when the focus leaves it (Tab past its last item). */
  document.addEventListener("focusout", function (event) {
    var menu = event.target.closest && event.target.closest(".kaleo-menu.kaleo-menu-open");
    if (menu && event.relatedTarget && !menu.contains(event.relatedTarget)) {
      setMenu(menu, false, false);
    }
  });
  enhanceMenus(document);
}());
