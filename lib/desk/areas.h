/*
 * areas.h - the areas of the desk that the programs open, in the order of
 * desk_areas: an area's code reaches its databases through its place
 * (store_db(s, AREA_TICKET, ...)).  Adding an area is a line here, a line
 * in lib/desk/areas.c and the area's own file; adding a database to an area
 * touches only that area's file (docs/architecture.md).
 */
#ifndef SUP_AREAS_H
#define SUP_AREAS_H

#include "store.h"

enum desk_area {
	AREA_USER,		/* users, tokens: lib/desk/user.c */
	AREA_TICKET,		/* tickets, indexes, counts: lib/desk/tstore.c */
	AREA_MSG,		/* messages: lib/desk/msg.c */
	AREA_COUNTER,		/* counters, sequences: lib/desk/counter.c */
	AREA_SESS,		/* sessions, throttle: lib/desk/sess.c */
	AREA_VIEW,		/* no database: the view's cache: lib/desk/view.c */
	AREA_EVENT,		/* the change-event log: lib/desk/event.c */
	AREA_CANNED,		/* canned responses: lib/desk/canned.c */
	AREA_PRESENCE,		/* agents on a ticket: lib/desk/presence.c */
	AREA_SAVED,		/* the agents' saved views: lib/desk/saved.c */
	AREA_WEBIN,		/* the webhook in's keys: lib/desk/webin.c */
	AREA_MAILIN,		/* mail in, per-sender counts: lib/desk/mailin.c */
	AREA_OUTBOX,		/* deliveries to send: lib/desk/outbox.c */
	AREA_AUDIT,		/* the audit log: lib/desk/audit.c */
	AREA_STATS,		/* the statistics' aggregates: lib/desk/stats.c */
	AREA_REMIND,		/* reminders' markers: lib/desk/remind.c */
	AREA_SEARCH,		/* the full-text index: lib/desk/textsearch.c */
	AREA_ATTACH,		/* files on messages: lib/desk/attach.c */
	AREA_MAX
};

extern const struct store_area user_area, ticket_area, msg_area,
    counter_area, sess_area, view_area, event_area, canned_area,
    presence_area, saved_area, webin_area, mailin_area, outbox_area,
    audit_area, stats_area, remind_area, search_area, attach_area;

/* The areas, at their places, NULL-ended: what store_open is given. */
extern const struct store_area *const desk_areas[AREA_MAX + 1];

#endif
