/*
 * test_attach.c - files on messages in a scratch store (lib/desk/attach.c):
 * an upload parsed, checked and posted; the file in place under its hash,
 * one file for the same bytes twice, its count; who may download it; a
 * post refused after its files were put in place leaves none; a message
 * deleted takes its records; a purge removes the records and the files
 * nothing else uses; verify is clean throughout, and reports a file
 * missing, damaged or used by nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "areas.h"
#include "attach.h"
#include "conf.h"
#include "msg.h"
#include "multipart.h"
#include "retention.h"
#include "store.h"
#include "sup.h"
#include "ticket.h"
#include "user.h"
#include "util.h"

#include "tap.h"

#define DAY_US (86400LL * 1000000)

static char dir[64];
static struct sup_conf conf;
static struct store st;
static struct sup_user alice, bob, agent;

static const char PNG[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR-a-picture";
#define PNG_LEN (sizeof(PNG) - 1)

static void
make_user(const char *name, enum user_role role, struct sup_user *u)
{
	char email[64];
	json_object *rec;
	uint32_t id;

	snprintf(email, sizeof(email), "%s@example.com", name);
	if (user_create(&st, name, email, NULL, role, "secret", &id) != SUP_OK ||
	    user_get(&st, NULL, id, &rec) != SUP_OK ||
	    user_from_record(u, rec) != SUP_OK)
		bail_out("cannot make user %s", name);
}

static void
create(const char *subject, uint8_t uuid[UUID_LEN])
{
	struct ticket_new in = {
		.subject = subject, .subject_len = strlen(subject),
		.content = "Files follow.", .content_len = 13,
		.priority = PRI_NORMAL,
	};
	json_object *t = NULL;

	if (ticket_create(&st, &conf, &alice, &in, &t) != SUP_OK)
		bail_out("ticket_create %s", subject);
	memcpy(uuid, in.uuid, UUID_LEN);
	json_object_put(t);
}

struct membody {
	const char *p;
	size_t left;
};

static int
mem_read(void *ctx, char *buf, int n)
{
	struct membody *m = ctx;
	size_t k = (size_t)n < m->left ? (size_t)n : m->left;

	memcpy(buf, m->p, k);
	m->p += k;
	m->left -= k;
	return (int)k;
}

static int
mem_write(void *ctx SUP_UNUSED, const char *buf SUP_UNUSED, int n)
{
	return n;
}

/* The spooled upload of one file name with n bytes data, as parsed. */
static struct mp_upload *
upload(const char *name, const void *data, size_t n)
{
	char spool[ATT_PATH_MAX], *csrf;
	struct mp_limits lim;
	struct mp_error why;
	struct mp_upload *up;
	json_object *fields;
	struct sbuf b = { 0 };

	sbuf_printf(&b, "--B\r\nContent-Disposition: form-data; name=\"files\"; "
	    "filename=\"%s\"\r\n\r\n", name);
	sbuf_add(&b, data, n);
	sbuf_adds(&b, "\r\n--B--\r\n");
	struct membody m = { b.p, b.len };
	struct sup_io io = { mem_read, mem_write, &m };
	if (b.failed || att_limits(&conf, &lim, spool) != SUP_OK ||
	    mp_parse("multipart/form-data; boundary=B", (long)b.len, io, &lim,
	    &fields, &csrf, &up, &why) != SUP_OK)
		bail_out("upload %s: %s", name, why.msg);
	json_object_put(fields);
	free(b.p);
	return up;
}

/*
 * Post text with one file as u; the message's attachment's id into id
 * (may be NULL).  The post's result.
 */
static sup_err
post_file(const struct sup_user *u, const uint8_t t[UUID_LEN],
    const char *name, const void *data, size_t n, uint8_t *id)
{
	struct mp_upload *up = upload(name, data, n);
	struct att_batch b;
	const char *field;
	char why[256];
	json_object *m = NULL, *a, *v;
	sup_err e;

	if ((e = att_check(&conf, up, &b, &field, why, sizeof(why))) !=
	    SUP_OK) {
		mp_upload_free(up);
		return e;
	}
	e = msg_post_files(&st, u, t, "With a file.", 12, false, NULL, &b, &m,
	    NULL);
	if (e == SUP_OK && id != NULL) {
		json_object *o = json_tokener_parse(json_object_to_json_string(m));
		if (!json_object_object_get_ex(o, "attachments", &a) ||
		    json_object_array_length(a) != 1 ||
		    !json_object_object_get_ex(json_object_array_get_idx(a, 0),
		    "id", &v) || !uuid_parse(json_object_get_string(v),
		    UUID_STRLEN, id))
			bail_out("the posted message lists no attachment");
		json_object_put(o);
	}
	json_object_put(m);
	att_batch_free(&b);
	mp_upload_free(up);
	return e;
}

static bool
file_there(const void *data, size_t n)
{
	uint8_t sha[32];
	char path[ATT_PATH_MAX];
	struct stat sb;

	crypto_hash_sha256(sha, data, n);
	return att_path(conf.data_dir, sha, path) && stat(path, &sb) == 0 &&
	    (size_t)sb.st_size == n;
}

static long nlines;
static char lines[4096];

static void
report_line(void *ctx SUP_UNUSED, const char *line)
{
	size_t k = strlen(lines);

	nlines++;
	snprintf(lines + k, sizeof(lines) - k, "%s; ", line);
}

static long
verify(void)
{
	long problems = 0;

	nlines = 0;
	lines[0] = '\0';
	store_close(&st);
	if (store_verify(&conf, desk_areas, report_line, NULL, &problems) !=
	    SUP_OK)
		problems = -1;
	if (store_open(&st, &conf, desk_areas) != SUP_OK)
		bail_out("store_open again");
	return problems;
}

int
main(void)
{
	uint8_t t1[UUID_LEN], t2[UUID_LEN], a1[UUID_LEN], a2[UUID_LEN];
	uint8_t a3[UUID_LEN];
	struct att_info info;
	struct purge_stats ps;
	struct ticket_patch close = { .status = ST_CLOSED, .priority = -1 };
	json_object *o;

	if (sodium_init() < 0)
		bail_out("sodium_init");
	tap_store_conf(dir, sizeof(dir), &conf,
	    "max_tickets_per_user = 0\nticket_retention_days = 30\n");
	if (store_open(&st, &conf, desk_areas) != SUP_OK)
		bail_out("store_open");
	make_user("alice", ROLE_USER, &alice);
	make_user("bob", ROLE_USER, &bob);
	make_user("agent", ROLE_AGENT, &agent);
	create("Files one", t1);
	create("Files two", t2);

	is_err(post_file(&alice, t1, "pic.png", PNG, PNG_LEN, a1), SUP_OK,
	    "a message with a PNG");
	ok(file_there(PNG, PNG_LEN), "its file in place under its hash");
	is_err(post_file(&alice, t2, "again.png", PNG, PNG_LEN, a2), SUP_OK,
	    "the same bytes on another ticket");
	is_err(post_file(&alice, t1, "notes.txt", "some notes\n", 11, a3),
	    SUP_OK, "a text file");
	is_int(verify(), 0, "verify: clean (%s)", lines);

	is_err(att_get(&st, &alice, a1, &info), SUP_OK, "the owner may "
	    "download");
	is_str(info.name, "pic.png", "  its name");
	is_int(info.type, FT_PNG, "  its type");
	is_int(info.size, PNG_LEN, "  its size");
	is_err(att_get(&st, &bob, a1, &info), SUP_ENOTFOUND,
	    "another customer: not found");
	is_err(att_get(&st, &agent, a1, &info), SUP_OK, "staff may");

	/* Refused after the files were in place: none left. */
	is_err(ticket_update(&st, &agent, t2, &close, &o), SUP_OK,
	    "ticket two closed");
	json_object_put(o);
	is_err(post_file(&alice, t2, "late.txt", "too late\n", 9, NULL),
	    TICKET_ECLOSED, "a post with a file to a closed ticket: refused");
	ok(!file_there("too late\n", 9), "  its file was not left behind");
	is_err(post_file(&alice, t1, "empty.txt", "", 0, NULL), ATT_EEMPTY,
	    "an empty file: refused");
	is_err(post_file(&alice, t1, "x.png", "<html>x</html>", 14, NULL),
	    ATT_ETYPE, "HTML named .png: refused");
	is_int(verify(), 0, "verify: clean (%s)", lines);

	/* The purge of ticket two: its record goes, the shared file stays. */
	time_test_offset(60 * DAY_US);
	is_err(ticket_purge(&st, time_now_us() - 30 * DAY_US, false, &ps),
	    SUP_OK, "purge_old_tickets");
	is_int(ps.tickets, 1, "  one ticket");
	is_int(ps.attachments, 1, "  its attachment");
	is_int(ps.files, 0, "  no file: ticket one still has the same bytes");
	ok(file_there(PNG, PNG_LEN), "  the shared file stays");
	is_err(att_get(&st, &agent, a2, &info), SUP_ENOTFOUND,
	    "  the purged attachment is gone");
	is_int(verify(), 0, "verify: clean (%s)", lines);

	/* Ticket one: closed and purged; every file goes. */
	is_err(ticket_update(&st, &agent, t1, &close, &o), SUP_OK,
	    "ticket one closed");
	json_object_put(o);
	time_test_offset(120 * DAY_US);
	is_err(ticket_purge(&st, time_now_us() - 30 * DAY_US, false, &ps),
	    SUP_OK, "purge_old_tickets again");
	is_int(ps.attachments, 2, "  its two attachments");
	is_int(ps.files, 2, "  and both files, now used by nothing");
	ok(!file_there(PNG, PNG_LEN) && !file_there("some notes\n", 11),
	    "  gone from the disk");
	is_int(verify(), 0, "verify: clean (%s)", lines);
	time_test_offset(0);

	/* What verify finds. */
	uint8_t t3[UUID_LEN], sha[32];
	char path[ATT_PATH_MAX];
	FILE *f;
	create("Files three", t3);
	is_err(post_file(&alice, t3, "pic.png", PNG, PNG_LEN, a1), SUP_OK,
	    "a message with a file again");
	crypto_hash_sha256(sha, (const unsigned char *)PNG, PNG_LEN);
	att_path(conf.data_dir, sha, path);
	if ((f = fopen(path, "ab")) == NULL)
		bail_out("open %s", path);
	fputs("tampered", f);
	fclose(f);
	ok(verify() == 1 && strstr(lines, "has the wrong size") != NULL,
	    "a damaged file is reported: %s", lines);
	unlink(path);
	ok(verify() == 1 && strstr(lines, "is missing") != NULL,
	    "a missing file is reported: %s", lines);
	crypto_hash_sha256(sha, (const unsigned char *)"stray", 5);
	att_path(conf.data_dir, sha, path);
	*strrchr(path, '/') = '\0';
	*strrchr(path, '/') = '\0';
	mkdir(path, 0770);		/* files/ab */
	att_path(conf.data_dir, sha, path);
	*strrchr(path, '/') = '\0';
	mkdir(path, 0770);		/* files/ab/cd */
	att_path(conf.data_dir, sha, path);
	if ((f = fopen(path, "wb")) == NULL)
		bail_out("open %s", path);
	fputs("stray", f);
	fclose(f);
	ok(verify() == 2 && strstr(lines, "no attachment uses") != NULL,
	    "a file no record uses is reported: %s", lines);

	store_close(&st);
	conf_free(&conf);
	tap_rmtree(dir);
	return done_testing();
}
