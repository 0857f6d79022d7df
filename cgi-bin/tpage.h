/*
 * tpage.h - the chat page of a ticket as staff see it (docs/pages.md,
 * "The staff's ticket page"): the choices of its controls (status,
 * priority, assignee), the side panel with the customer and their other
 * tickets, and the canned-response picker.  Shared by the programs that
 * render the page (tickets: showing it and its forms; messages: a refused
 * reply), so that it looks the same whichever drew it.
 */
#ifndef SUP_TPAGE_H
#define SUP_TPAGE_H

#include <json-c/json.h>

#include "app.h"

/* The other tickets of the customer the side panel lists. */
#define TPAGE_OTHER_TICKETS 10
/* The rows of the audit log an admin sees on a ticket's page. */
#define TPAGE_HISTORY 20

/*
 * Render the chat page of api_ticket (the API's ticket, a text object)
 * with status, as page_ticket_render does (form, changed), adding for a
 * staff reader the members tpage_staff makes, then the members of more
 * (may be NULL; the caller's): notices, the picker's result.  For a
 * customer only more is added.  SUP_ENOMEM, the store's errors, those of
 * page_render.
 */
sup_err tpage_render(struct app *app, struct sup_req *r, int status,
    json_object *api_ticket, json_object *form, const char *changed,
    json_object *more);

/*
 * Add to ctx what the staff's page shows beyond the API's ticket:
 *   status_options, priorities  [{value, label, selected}]
 *   agents         [{id, name, selected}] (user_agents), and
 *                  unassigned (bool) for the "Nobody" choice
 *   customer       {id, name, own_name, username, email, created_at,
 *                  created_at_display, ticket_count, others: [{uuid,
 *                  number, subject, status, status_label}], more,
 *                  no_more, no_others (bools)}
 *   canned         [{id, title, shared}] (canned_list, for the reader)
 *   history        for an admin: {results (the ticket's rows of the audit
 *                  log, newest first, TPAGE_HISTORY at most), empty, more,
 *                  log_url (the audit page for the ticket)}
 * SUP_ENOMEM, the store's errors.
 */
sup_err tpage_staff(struct app *app, struct sup_req *r,
    json_object *api_ticket, json_object *ctx);

#endif
