// kaleo's original jQuery snippet, verbatim from kaleo's announcement (see the docs' JavaScript page).
$(function () {
    $('.invites form').ajaxForm(function(data) {
        if (data.status == "OK") {
            $('#invitation-form-messages').html("<p>Invitation sent to " + data.email + "</p>");
            $('.empty-invites').remove();
            $('.invite-list').append("<li>" + data.email + "</li>");
            $('.invites form input[type=text]').val("");
            $('.invitations_remaining').html("(" + data.invitations_remaining + ")");
            if (data.invitations_remaining == 0) {
                $('.invitation_form form').hide();
            }
        } else {
            $('#invitation-form-messages').html(data.errors);
        }
    });
});
