/*
 * areas.c - the list of the areas the programs open (lib/desk/areas.h).  The
 * order is the order of opening and of `supportctl db verify`: within
 * it, each area's table says its own.
 */
#include "areas.h"

const struct store_area *const desk_areas[AREA_MAX + 1] = {
	[AREA_USER] = &user_area,
	[AREA_TICKET] = &ticket_area,
	[AREA_MSG] = &msg_area,
	[AREA_COUNTER] = &counter_area,
	[AREA_SESS] = &sess_area,
	[AREA_VIEW] = &view_area,
	[AREA_EVENT] = &event_area,
	[AREA_CANNED] = &canned_area,
	[AREA_PRESENCE] = &presence_area,
	[AREA_SAVED] = &saved_area,
	[AREA_WEBIN] = &webin_area,
	[AREA_MAILIN] = &mailin_area,
	[AREA_OUTBOX] = &outbox_area,
	[AREA_AUDIT] = &audit_area,
	[AREA_STATS] = &stats_area,
	[AREA_REMIND] = &remind_area,
	[AREA_SEARCH] = &search_area,
	[AREA_ATTACH] = &attach_area,
	[AREA_MAX] = NULL,
};
