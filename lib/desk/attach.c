/*
 * attach.c - files on messages (attach.h, docs/attachments.md).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "attach.h"
#include "jtext.h"
#include "record.h"
#include "tstore.h"

static const struct sup_errdef att_errors[] = {
	{ ATT_EDISABLED, SUP_EFORBIDDEN, "uploads_disabled",
	  "File uploads are turned off on this desk.", NULL, NULL },
	{ ATT_ETYPE, SUP_EMEDIA, "file_type_not_allowed",
	  "A file is of a type this desk does not take.", NULL, NULL },
	{ ATT_EEMPTY, SUP_EINVAL, "file_empty", "A file is empty.", NULL,
	  NULL },
};
SUP_ERRORS(att_errtab, SUP_AREA_ATTACH, att_errors)

/* Bytes a part's headers and boundary may add to each file in a body. */
#define PART_OVERHEAD 4096

static sup_err
say_errno(const char *what, const char *path)
{
	fprintf(stderr, "support: attachments: %s %s: %s\n", what, path,
	    strerror(errno));
	return SUP_EIO;
}

/* The directory dir, made when missing (0770: the store's group). */
static sup_err
dir_make(const char *dir)
{
	if (mkdir(dir, 0770) == 0 || errno == EEXIST)
		return SUP_OK;
	return say_errno("cannot make", dir);
}

/* Flush the entries of dir to the disk. */
static sup_err
dir_sync(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	sup_err e = SUP_OK;

	if (fd < 0 || fsync(fd) != 0)
		e = say_errno("cannot flush", dir);
	if (fd >= 0)
		close(fd);
	return e;
}

bool
att_path(const char *data_dir, const uint8_t sha[ATT_SHA_LEN],
    char path[ATT_PATH_MAX])
{
	char hex[2 * ATT_SHA_LEN + 1];
	int n;

	sodium_bin2hex(hex, sizeof(hex), sha, ATT_SHA_LEN);
	n = snprintf(path, ATT_PATH_MAX, "%s/files/%.2s/%.2s/%s", data_dir,
	    hex, hex + 2, hex);
	return n > 0 && n < ATT_PATH_MAX;
}

/* A body's cap when it may carry files: its fields and every file. */
long
att_body_cap(const struct sup_conf *conf)
{
	return conf->max_body_bytes + conf->max_attachments_per_message *
	    (conf->max_attachment_bytes + PART_OVERHEAD);
}

sup_err
att_limits(const struct sup_conf *conf, struct mp_limits *lim,
    char spool[ATT_PATH_MAX])
{
	sup_err e;
	int n;

	n = snprintf(spool, ATT_PATH_MAX, "%s/files", conf->data_dir);
	if (n < 0 || n + 4 >= ATT_PATH_MAX)
		return SUP_EIO;
	if ((e = dir_make(spool)) != SUP_OK)
		return e;
	memcpy(spool + n, "/tmp", 5);
	if ((e = dir_make(spool)) != SUP_OK)
		return e;
	memset(lim, 0, sizeof(*lim));
	lim->max_files = (size_t)conf->max_attachments_per_message;
	/* The fields a form sends beside its files, and the token. */
	lim->max_parts = lim->max_files + 16;
	lim->max_header_bytes = PART_OVERHEAD;
	lim->max_field_bytes = (size_t)conf->max_body_bytes;
	lim->max_file_bytes = (uint64_t)conf->max_attachment_bytes;
	lim->max_total_bytes = (uint64_t)att_body_cap(conf);
	lim->spool_dir = spool;
	return SUP_OK;
}

void
att_batch_free(struct att_batch *b)
{
	free(b->f);
	b->f = NULL;
	b->n = 0;
}

sup_err
att_check_file(const struct sup_conf *conf, const struct mp_file *m,
    struct att_file *f, char *why, size_t whylen, const char **brief)
{
	char list[128], bad[64];
	unsigned allowed;
	enum ftype t;
	sup_err e;

	memset(f, 0, sizeof(*f));
	why[0] = '\0';
	*brief = "";
	if (m->size == 0) {
		snprintf(why, whylen, "the file is empty");
		*brief = "the file is empty";
		return ATT_EEMPTY;
	}
	if ((e = ftype_detect(m->fd, m->size, m->head, m->nhead, &t)) !=
	    SUP_OK) {
		snprintf(why, whylen, "the file could not be read");
		*brief = "the file could not be read";
		return e;
	}
	if (t == FT_MARKUP) {
		snprintf(why, whylen, "HTML, SVG and XML files are not taken "
		    "(zip them)");
		*brief = "HTML, SVG and XML files are not taken";
		return ATT_ETYPE;
	}
	/* conf_load checked the list: an unknown name cannot be here. */
	if (!ftype_parse_list(conf->attachment_types, &allowed, bad,
	    sizeof(bad)))
		allowed = 0;
	if (t == FT_UNKNOWN || !(allowed & (1u << t))) {
		ftype_list(allowed, list, sizeof(list));
		snprintf(why, whylen, "a file of this type is not taken; taken "
		    "are: %s", list[0] != '\0' ? list : "none");
		*brief = "type not allowed";
		return ATT_ETYPE;
	}
	/* Its bytes on the disk before a record can name them. */
	if (fsync(m->fd) != 0) {
		e = say_errno("cannot flush", m->path);
		snprintf(why, whylen, "the file could not be stored");
		*brief = "the file could not be stored";
		return e;
	}
	f->spool = m->path;
	f->size = m->size;
	memcpy(f->sha256, m->sha256, ATT_SHA_LEN);
	f->type = t;
	fname_safe(m->name, t, f->name);
	return SUP_OK;
}

sup_err
att_check(const struct sup_conf *conf, const struct mp_upload *up,
    struct att_batch *b, const char **field, char *why, size_t whylen)
{
	char shown[FNAME_MAX + 1], reason[256];
	const char *brief;
	sup_err e = SUP_OK;

	b->f = NULL;
	b->n = 0;
	*field = "";
	why[0] = '\0';
	if (up == NULL || up->nfiles == 0)
		return SUP_OK;
	if (!conf->enable_file_uploads) {
		*field = up->files[0].field;
		snprintf(why, whylen, "File uploads are turned off on this "
		    "desk.");
		return ATT_EDISABLED;
	}
	if ((b->f = calloc(up->nfiles, sizeof(*b->f))) == NULL)
		return SUP_ENOMEM;
	for (size_t i = 0; i < up->nfiles; i++) {
		const struct mp_file *m = &up->files[i];

		*field = m->field;
		if ((e = att_check_file(conf, m, &b->f[i], reason,
		    sizeof(reason), &brief)) != SUP_OK) {
			/* The client's name, made safe to be said back. */
			fname_safe(m->name, FT_UNKNOWN, shown);
			snprintf(why, whylen, "%s: %s.", shown, reason);
			goto out;
		}
		b->n++;
	}
	*field = "";
out:
	if (e != SUP_OK)
		att_batch_free(b);
	return e;
}

/* Add the checked file f to b (a copy); SUP_ENOMEM. */
sup_err
att_batch_add(struct att_batch *b, const struct att_file *f)
{
	struct att_file *nf;

	if ((nf = realloc(b->f, (b->n + 1) * sizeof(*nf))) == NULL)
		return SUP_ENOMEM;
	b->f = nf;
	b->f[b->n++] = *f;
	return SUP_OK;
}

/*
 * Copy the spool file into dir under a temporary name, flushed, then
 * rename it to path: for a kernel whose Landlock (ABI 1) refuses a link
 * across directories (EXDEV), and for a file in place whose size is
 * wrong (replaced whole).
 */
static sup_err
copy_in(const char *spool, const char *dir, const char *path)
{
	char tmp[ATT_PATH_MAX], buf[65536];
	uint8_t rnd[8];
	char hex[17];
	int in = -1, out = -1;
	sup_err e = SUP_OK;
	ssize_t n;

	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
	if (snprintf(tmp, sizeof(tmp), "%s/.in-%s", dir, hex) >=
	    (int)sizeof(tmp))
		return SUP_EIO;
	if ((in = open(spool, O_RDONLY | O_CLOEXEC)) < 0)
		return say_errno("cannot read", spool);
	if ((out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0640)) < 0) {
		e = say_errno("cannot write", tmp);
		goto out;
	}
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || !write_all(out, buf, (size_t)n)) {
			e = say_errno("cannot copy to", tmp);
			goto out;
		}
	}
	if (fsync(out) != 0 || rename(tmp, path) != 0)
		e = say_errno("cannot put in place", path);
out:
	if (out >= 0)
		close(out);
	if (in >= 0)
		close(in);
	if (e != SUP_OK && out >= 0)
		unlink(tmp);
	return e;
}

/*
 * Put the file of f in place under data_dir: its directories made (and
 * their parents flushed when new), a link to its spool file (a file
 * already there of the same size is the same bytes: its name is their
 * hash), then its directory flushed.
 */
static sup_err
place(const char *data_dir, const struct att_file *f)
{
	char path[ATT_PATH_MAX], d1[ATT_PATH_MAX], d2[ATT_PATH_MAX];
	char files[ATT_PATH_MAX];
	struct stat st;
	size_t n;
	sup_err e;

	if (!att_path(data_dir, f->sha256, path))
		return SUP_EIO;
	/* path is files/ab/cd/<hex>: its directories by cutting it. */
	n = strlen(path) - 2 * ATT_SHA_LEN - 1;
	memcpy(d2, path, n);
	d2[n] = '\0';
	memcpy(d1, path, n - 3);
	d1[n - 3] = '\0';
	memcpy(files, path, n - 6);
	files[n - 6] = '\0';
	if (stat(d2, &st) != 0) {
		if ((e = dir_make(d1)) != SUP_OK ||
		    (e = dir_sync(files)) != SUP_OK ||
		    (e = dir_make(d2)) != SUP_OK ||
		    (e = dir_sync(d1)) != SUP_OK)
			return e;
	}
	if (link(f->spool, path) != 0) {
		if (errno == EEXIST) {
			if (stat(path, &st) == 0 &&
			    (uint64_t)st.st_size == f->size)
				return SUP_OK;
			/* A damaged copy: replaced (verify said so). */
			if ((e = copy_in(f->spool, d2, path)) != SUP_OK)
				return e;
		} else if (errno == EXDEV || errno == EPERM ||
		    errno == EACCES) {
			if ((e = copy_in(f->spool, d2, path)) != SUP_OK)
				return e;
		} else
			return say_errno("cannot put in place", path);
	}
	return dir_sync(d2);
}

/* The file's count, read for update (DB_RMW): 0 when absent. */
static sup_err
refs_get(struct store *s, DB_TXN *txn, const uint8_t sha[ATT_SHA_LEN],
    int64_t *out)
{
	DB *refs = store_db(s, AREA_ATTACH, ATT_DB_REFS);
	uint8_t buf[8];
	DBT k = { .data = (void *)sha, .size = ATT_SHA_LEN };
	DBT d = { .data = buf, .ulen = sizeof(buf), .flags = DB_DBT_USERMEM };
	int rc;

	*out = 0;
	rc = refs->get(refs, txn, &k, &d, DB_RMW);
	if (rc == DB_NOTFOUND)
		return SUP_OK;
	if (rc != 0)
		return store_err(rc, "a_refs get");
	if (d.size == 8)
		*out = (int64_t)be64_get(buf);
	return SUP_OK;
}

/* Set the file's count to v (0: its entry deleted). */
static sup_err
refs_put(struct store *s, DB_TXN *txn, const uint8_t sha[ATT_SHA_LEN],
    int64_t v)
{
	DB *refs = store_db(s, AREA_ATTACH, ATT_DB_REFS);
	uint8_t buf[8];
	DBT k = { .data = (void *)sha, .size = ATT_SHA_LEN };
	DBT d = { .data = buf, .size = sizeof(buf) };
	int rc;

	if (v <= 0) {
		rc = refs->del(refs, txn, &k, 0);
		return rc == DB_NOTFOUND ? SUP_OK : store_err(rc, "a_refs del");
	}
	be64_put(buf, (uint64_t)v);
	return store_err(refs->put(refs, txn, &k, &d, 0), "a_refs put");
}

/* Append the API object of one attachment to out. */
static void
api_object(struct sbuf *out, const char *uuid, const char *name,
    uint64_t size, enum ftype t)
{
	sbuf_lit(out, "{\"id\":\"");
	sbuf_add(out, uuid, UUID_STRLEN);
	sbuf_lit(out, "\",\"name\":");
	jt_put_string(out, name, strlen(name));
	sbuf_lit(out, ",\"size\":");
	sbuf_add_int(out, (int64_t)size);
	sbuf_lit(out, ",\"content_type\":");
	jt_put_string(out, ftype_mime(t), strlen(ftype_mime(t)));
	sbuf_lit(out, ",\"url\":\"" ATT_URL);
	sbuf_add(out, uuid, UUID_STRLEN);
	sbuf_lit(out, "\"}");
}

sup_err
att_store(struct store *s, DB_TXN *txn, const uint8_t ticket[UUID_LEN],
    const uint8_t message[UUID_LEN], bool internal, uint32_t user,
    const struct att_batch *b, struct sbuf *out)
{
	DB *db = store_db(s, AREA_ATTACH, ATT_DB_MAIN);
	char ubuf[UUID_STRLEN + 1], hex[2 * ATT_SHA_LEN + 1];
	char tbuf[TIME_STRLEN + 1];
	int64_t now = time_now_us(), count;
	sup_err e = SUP_OK;

	out->len = 0;
	sbuf_lit(out, "[");
	for (size_t i = 0; i < b->n && e == SUP_OK; i++) {
		const struct att_file *f = &b->f[i];
		uint8_t key[ATT_KEY_LEN];
		struct sbuf rec = { 0 };

		/* The count's lock first: a collection waits for us. */
		if ((e = refs_get(s, txn, f->sha256, &count)) != SUP_OK ||
		    (e = place(s->conf->data_dir, f)) != SUP_OK ||
		    (e = refs_put(s, txn, f->sha256, count + 1)) != SUP_OK)
			break;
		memcpy(key, ticket, UUID_LEN);
		memcpy(key + UUID_LEN, message, UUID_LEN);
		uuid_gen_time(key + 2 * UUID_LEN, now);
		uuid_format(key + 2 * UUID_LEN, ubuf);
		sodium_bin2hex(hex, sizeof(hex), f->sha256, ATT_SHA_LEN);
		time_format(now, tbuf);
		sbuf_lit(&rec, "{\"uuid\":\"");
		sbuf_add(&rec, ubuf, UUID_STRLEN);
		uuid_format(ticket, ubuf);
		sbuf_lit(&rec, "\",\"ticket\":\"");
		sbuf_add(&rec, ubuf, UUID_STRLEN);
		uuid_format(message, ubuf);
		sbuf_lit(&rec, "\",\"message\":\"");
		sbuf_add(&rec, ubuf, UUID_STRLEN);
		sbuf_lit(&rec, "\",\"name\":");
		jt_put_string(&rec, f->name, strlen(f->name));
		sbuf_lit(&rec, ",\"type\":\"");
		sbuf_adds(&rec, ftype_name(f->type));
		sbuf_lit(&rec, "\",\"size\":");
		sbuf_add_int(&rec, (int64_t)f->size);
		sbuf_lit(&rec, ",\"sha256\":\"");
		sbuf_add(&rec, hex, 2 * ATT_SHA_LEN);
		sbuf_lit(&rec, "\",\"created_at\":\"");
		sbuf_add(&rec, tbuf, TIME_STRLEN);
		sbuf_lit(&rec, "\",\"user\":");
		sbuf_add_int(&rec, user);
		sbuf_adds(&rec, internal ? ",\"internal\":true}" :
		    ",\"internal\":false}");
		if (rec.failed)
			e = SUP_ENOMEM;
		else {
			DBT k = { .data = key, .size = ATT_KEY_LEN };
			DBT d = { .data = rec.p, .size = (u_int32_t)rec.len };
			e = store_err(db->put(db, txn, &k, &d,
			    DB_NOOVERWRITE), "attachments put");
		}
		free(rec.p);
		if (i > 0)
			sbuf_lit(out, ",");
		uuid_format(key + 2 * UUID_LEN, ubuf);
		api_object(out, ubuf, f->name, f->size, f->type);
	}
	sbuf_lit(out, "]");
	if (e == SUP_OK && out->failed)
		e = SUP_ENOMEM;
	return e;
}

/* Add sha to gone. */
static void
gone_add(struct att_gone *g, const uint8_t sha[ATT_SHA_LEN])
{
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 16;
		void *p = realloc(g->sha, cap * sizeof(*g->sha));
		if (p == NULL) {
			g->failed = true;
			return;
		}
		g->sha = p;
		g->cap = cap;
	}
	memcpy(g->sha[g->n++], sha, ATT_SHA_LEN);
}

/* A stored record's sha256 (hex) into sha; false when it has none. */
static bool
record_sha(const void *rec, size_t len, uint8_t sha[ATT_SHA_LEN])
{
	static const char key[] = "\"sha256\":\"";
	const char *p = memmem(rec, len, key, sizeof(key) - 1);
	size_t got;

	if (p == NULL || (size_t)((const char *)rec + len - p) <
	    sizeof(key) - 1 + 2 * ATT_SHA_LEN)
		return false;
	p += sizeof(key) - 1;
	return sodium_hex2bin(sha, ATT_SHA_LEN, p, 2 * ATT_SHA_LEN, NULL,
	    &got, NULL) == 0 && got == ATT_SHA_LEN;
}

sup_err
att_forget(struct store *s, DB_TXN *txn, const uint8_t ticket[UUID_LEN],
    const uint8_t *message, struct att_gone *gone, long *n)
{
	DB *db = store_db(s, AREA_ATTACH, ATT_DB_MAIN);
	uint8_t key[ATT_KEY_LEN], sha[ATT_SHA_LEN];
	size_t plen = message != NULL ? 2 * UUID_LEN : UUID_LEN;
	DBT k = { .data = key, .size = (u_int32_t)plen, .ulen = sizeof(key),
	    .flags = DB_DBT_USERMEM };
	DBT d = { .flags = DB_DBT_REALLOC };
	sup_err e = SUP_OK;
	int64_t count;
	DBC *c;
	int rc, rc2;

	memcpy(key, ticket, UUID_LEN);
	if (message != NULL)
		memcpy(key + UUID_LEN, message, UUID_LEN);
	uint8_t prefix[2 * UUID_LEN];
	memcpy(prefix, key, plen);
	if ((rc = db->cursor(db, txn, &c, 0)) != 0)
		return store_err(rc, "attachments cursor");
	for (rc = c->get(c, &k, &d, DB_SET_RANGE | DB_RMW); rc == 0;
	    rc = c->get(c, &k, &d, DB_NEXT | DB_RMW)) {
		if (k.size != ATT_KEY_LEN || memcmp(key, prefix, plen) != 0)
			break;
		if (!record_sha(d.data, d.size, sha)) {
			fprintf(stderr, "support: an attachment record is "
			    "not laid out as expected\n");
			e = SUP_EDB;
			break;
		}
		if ((rc = c->del(c, 0)) != 0)
			break;
		(*n)++;
		if ((e = refs_get(s, txn, sha, &count)) != SUP_OK ||
		    (e = refs_put(s, txn, sha, count - 1)) != SUP_OK)
			break;
		if (count <= 1)
			gone_add(gone, sha);
	}
	rc2 = c->close(c);
	free(d.data);
	if (e != SUP_OK)
		return e;
	if (rc == DB_NOTFOUND)
		rc = 0;
	return store_err(rc != 0 ? rc : rc2, "attachments forget");
}

/* One collection: arg is the hash; removes its file when unused. */
struct collect_args {
	const uint8_t *sha;
	bool removed;
};

static sup_err
collect_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct collect_args *a = arg;
	char path[ATT_PATH_MAX];
	int64_t count;
	sup_err e;

	a->removed = false;
	if ((e = refs_get(s, txn, a->sha, &count)) != SUP_OK)
		return e;
	if (count > 0)
		return SUP_OK;
	if (!att_path(s->conf->data_dir, a->sha, path))
		return SUP_EIO;
	/* Under the count's lock: no upload can link it meanwhile. */
	if (unlink(path) == 0)
		a->removed = true;
	else if (errno != ENOENT)
		return say_errno("cannot remove", path);
	return refs_put(s, txn, a->sha, 0);
}

long
att_collect(struct store *s, struct att_gone *gone, const struct att_batch *b,
    bool wait)
{
	char lock_path[ATT_PATH_MAX];
	long removed = 0;
	int lock = -1;
	sup_err e = SUP_OK;
	size_t n = gone != NULL ? gone->n : 0, nb = b != NULL ? b->n : 0;

	if (n + nb == 0)
		goto out;
	/*
	 * Not while a backup copies the store: it copies the files after
	 * the log, and must find every file its copy's records name.
	 */
	if (snprintf(lock_path, sizeof(lock_path), "%s/%s", s->conf->data_dir,
	    STORE_BACKUP_LOCK) >= (int)sizeof(lock_path))
		goto out;
	if ((lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0660)) < 0) {
		say_errno("cannot open", lock_path);
		removed = -1;
		goto out;
	}
	if (flock(lock, LOCK_SH | (wait ? 0 : LOCK_NB)) != 0)
		goto out;
	for (size_t i = 0; i < n + nb && e == SUP_OK; i++) {
		struct collect_args a = { i < n ? gone->sha[i] :
		    b->f[i - n].sha256, false };
		if ((e = store_run(s, 0, collect_txn, &a)) == SUP_OK &&
		    a.removed)
			removed++;
	}
	if (e != SUP_OK)
		removed = -1;
out:
	if (lock >= 0)
		close(lock);
	if (gone != NULL) {
		free(gone->sha);
		memset(gone, 0, sizeof(*gone));
	}
	return removed;
}

long
att_spool_sweep(const struct sup_conf *conf, int64_t now_s, int64_t age_s)
{
	char dir[ATT_PATH_MAX], path[ATT_PATH_MAX];
	struct dirent *de;
	struct stat st;
	long removed = 0;
	DIR *d;

	if (snprintf(dir, sizeof(dir), "%s/files/tmp", conf->data_dir) >=
	    (int)sizeof(dir))
		return -1;
	if ((d = opendir(dir)) == NULL) {
		if (errno == ENOENT)
			return 0;
		say_errno("cannot read", dir);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >=
		    (int)sizeof(path) || lstat(path, &st) != 0 ||
		    !S_ISREG(st.st_mode) || now_s - st.st_mtime <= age_s)
			continue;
		/*
		 * An upload or a mail under way writes its spool file as it
		 * reads, and takes far less than an hour (request_timeout_s):
		 * one this old was left by a process that died.
		 */
		if (unlink(path) == 0)
			removed++;
		else if (errno != ENOENT)
			say_errno("cannot remove", path);
	}
	closedir(d);
	return removed;
}

/* --- Download ---------------------------------------------------------- */

/* Fill out from a stored record; SUP_EDB when it is not one. */
static sup_err
info_from(struct store *s, const DBT *d, struct att_info *out,
    bool *internal)
{
	json_object *o, *v;
	const char *name, *type, *sha, *uuid;
	size_t got;
	sup_err e;
	int hexlen;

	if ((e = store_parse(d, &o)) != SUP_OK)
		return e;
	e = SUP_EDB;
	if ((uuid = json_str(o, "uuid")) == NULL ||
	    !uuid_parse(uuid, strlen(uuid), out->uuid) ||
	    (name = json_str(o, "name")) == NULL ||
	    strlen(name) > FNAME_MAX ||
	    (type = json_str(o, "type")) == NULL ||
	    (out->type = ftype_from_name(type, strlen(type))) ==
	    FT_UNKNOWN || (sha = json_str(o, "sha256")) == NULL ||
	    sodium_hex2bin(out->sha256, ATT_SHA_LEN, sha, strlen(sha), NULL,
	    &got, NULL) != 0 || got != ATT_SHA_LEN ||
	    !json_object_object_get_ex(o, "size", &v) ||
	    json_object_get_int64(v) < 0 ||
	    !json_object_object_get_ex(o, "internal", &v))
		goto out;
	*internal = json_object_get_boolean(v);
	json_object_object_get_ex(o, "size", &v);
	out->size = (uint64_t)json_object_get_int64(v);
	memcpy(out->name, name, strlen(name) + 1);
	if (!att_path(s->conf->data_dir, out->sha256, out->path))
		goto out;
	hexlen = snprintf(out->rel, sizeof(out->rel), "%.2s/%.2s/%s", sha,
	    sha + 2, sha);
	if (hexlen < 0 || (size_t)hexlen >= sizeof(out->rel))
		goto out;
	e = SUP_OK;
out:
	json_object_put(o);
	return e;
}

struct get_args {
	const struct sup_user *u;
	const uint8_t *uuid;
	struct att_info *out;
};

static sup_err
get_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct get_args *a = arg;
	DB *by_uuid = store_db(s, AREA_ATTACH, ATT_DB_BY_UUID);
	DB *tickets = ticket_db(s, TDB_TICKETS);
	uint8_t key[ATT_KEY_LEN];
	DBT k = { .data = (void *)a->uuid, .size = UUID_LEN };
	DBT pk = { .data = key, .ulen = sizeof(key), .flags = DB_DBT_USERMEM };
	DBT d = { .flags = DB_DBT_MALLOC };
	DBT tk = { .data = key, .size = UUID_LEN };
	DBT td = { .flags = DB_DBT_MALLOC };
	struct ticket_tail tt;
	bool internal = false;
	sup_err e;
	int rc;

	if ((rc = by_uuid->pget(by_uuid, txn, &k, &pk, &d, 0)) != 0)
		return store_err(rc, "attachment");
	e = pk.size == ATT_KEY_LEN ? info_from(s, &d, a->out, &internal) :
	    SUP_EDB;
	free(d.data);
	if (e != SUP_OK)
		return e;
	if (user_is_staff(a->u))
		return SUP_OK;
	if (internal)
		return SUP_ENOTFOUND;
	if ((rc = tickets->get(tickets, txn, &tk, &td, 0)) != 0)
		return store_err(rc, "ticket");
	if (!record_ticket_tail(td.data, td.size, &tt))
		e = SUP_EDB;
	else if (tt.user != a->u->id)
		e = SUP_ENOTFOUND;
	free(td.data);
	return e;
}

sup_err
att_get(struct store *s, const struct sup_user *u, const uint8_t uuid[UUID_LEN],
    struct att_info *out)
{
	struct get_args a = { u, uuid, out };

	memset(out, 0, sizeof(*out));
	return store_run(s, STORE_READ, get_txn, &a);
}

/* --- The area ---------------------------------------------------------- */

/* An attachment's uuid is the last 16 bytes of its primary key. */
static int
idx_att_uuid(DB *sec SUP_UNUSED, const DBT *k, const DBT *d SUP_UNUSED,
    DBT *r)
{
	if (k->size != ATT_KEY_LEN)
		return DB_DONOTINDEX;
	r->data = (uint8_t *)k->data + ATT_KEY_LEN - UUID_LEN;
	r->size = UUID_LEN;
	return 0;
}

/* For verify: the sorted hashes of every record. */
static int
sha_cmp(const void *a, const void *b)
{
	return memcmp(a, b, ATT_SHA_LEN);
}

/* Does the file at path hold size bytes whose SHA-256 is sha? */
static const char *
file_check(const char *path, uint64_t size, const uint8_t sha[ATT_SHA_LEN])
{
	crypto_hash_sha256_state st;
	uint8_t buf[65536], got[ATT_SHA_LEN];
	uint64_t total = 0;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? "is missing" : "cannot be read";
	crypto_hash_sha256_init(&st);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		crypto_hash_sha256_update(&st, buf, (size_t)n);
		total += (uint64_t)n;
	}
	close(fd);
	if (n < 0)
		return "cannot be read";
	crypto_hash_sha256_final(&st, got);
	if (total != size)
		return "has the wrong size";
	if (memcmp(got, sha, ATT_SHA_LEN) != 0)
		return "does not match its hash";
	return NULL;
}

/*
 * The files under files/: each named by a hash in its place, with a
 * count; spool files in files/tmp/ older than an hour (a crash during an
 * upload left them).
 */
static sup_err
verify_tree(struct store *s, struct store_check *c)
{
	char dir[ATT_PATH_MAX], sub[ATT_PATH_MAX], leaf[ATT_PATH_MAX];
	DIR *d1, *d2, *d3;
	struct dirent *e1, *e2, *e3;
	struct stat st;
	int64_t now = time_now_us() / 1000000;
	sup_err e = SUP_OK;

	snprintf(dir, sizeof(dir), "%s/files", s->conf->data_dir);
	if ((d1 = opendir(dir)) == NULL)
		return SUP_OK;		/* no file was ever uploaded */
	while (e == SUP_OK && (e1 = readdir(d1)) != NULL) {
		if (e1->d_name[0] == '.')
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", dir, e1->d_name) >=
		    (int)sizeof(sub))
			continue;
		if (strcmp(e1->d_name, "tmp") == 0) {
			if ((d2 = opendir(sub)) == NULL)
				continue;
			while ((e2 = readdir(d2)) != NULL) {
				if (e2->d_name[0] == '.')
					continue;
				if (snprintf(leaf, sizeof(leaf), "%s/%s", sub,
				    e2->d_name) < (int)sizeof(leaf) &&
				    stat(leaf, &st) == 0 &&
				    now - st.st_mtime > ATT_SPOOL_OLD_S)
					store_problem(c, "files/tmp/%s: a "
					    "spool file left by an upload "
					    "that did not finish (safe to "
					    "remove)", e2->d_name);
			}
			closedir(d2);
			continue;
		}
		if ((d2 = opendir(sub)) == NULL) {
			store_problem(c, "files/%s: not a directory of files",
			    e1->d_name);
			continue;
		}
		while (e == SUP_OK && (e2 = readdir(d2)) != NULL) {
			if (e2->d_name[0] == '.')
				continue;
			char sub2[ATT_PATH_MAX];
			if (snprintf(sub2, sizeof(sub2), "%s/%s", sub,
			    e2->d_name) >= (int)sizeof(sub2) ||
			    (d3 = opendir(sub2)) == NULL) {
				store_problem(c, "files/%s/%s: not a directory "
				    "of files", e1->d_name, e2->d_name);
				continue;
			}
			while (e == SUP_OK && (e3 = readdir(d3)) != NULL) {
				uint8_t sha[ATT_SHA_LEN];
				size_t got;
				int64_t count;
				const char *nm = e3->d_name;

				if (strcmp(nm, ".") == 0 ||
				    strcmp(nm, "..") == 0)
					continue;
				if (strlen(nm) != 2 * ATT_SHA_LEN ||
				    sodium_hex2bin(sha, sizeof(sha), nm,
				    strlen(nm), NULL, &got, NULL) != 0 ||
				    got != ATT_SHA_LEN ||
				    strncmp(nm, e1->d_name, 2) != 0 ||
				    strncmp(nm + 2, e2->d_name, 2) != 0) {
					store_problem(c, "files/%s/%s/%s: not "
					    "an attachment's file", e1->d_name,
					    e2->d_name, nm);
					continue;
				}
				if ((e = store_count_get_db(store_db(s,
				    AREA_ATTACH, ATT_DB_REFS), NULL, sha,
				    ATT_SHA_LEN, &count)) != SUP_OK)
					break;
				if (count <= 0)
					store_problem(c, "files/%s/%s/%s: a "
					    "file no attachment uses (left by "
					    "a crash; safe to remove)",
					    e1->d_name, e2->d_name, nm);
			}
			closedir(d3);
		}
		closedir(d2);
	}
	closedir(d1);
	return e;
}

/*
 * The area's check: the index holds every record; each record's file is
 * there, of its size and hash; each count is the number of records of
 * its hash; and every file under files/ is one a record uses.
 */
static sup_err
att_verify(struct store *s, struct store_check *c)
{
	DB *db = store_db(s, AREA_ATTACH, ATT_DB_MAIN);
	DB *refs = store_db(s, AREA_ATTACH, ATT_DB_REFS);
	uint8_t (*shas)[ATT_SHA_LEN] = NULL;
	size_t n = 0, cap = 0, i;
	int64_t nrec, nidx;
	DBT k = { .flags = DB_DBT_REALLOC }, d = { .flags = DB_DBT_REALLOC };
	sup_err e = SUP_OK;
	DBC *cur;
	int rc;

	if ((e = store_count_db(db, &nrec)) != SUP_OK ||
	    (e = store_count_db(store_db(s, AREA_ATTACH, ATT_DB_BY_UUID),
	    &nidx)) != SUP_OK)
		return e;
	if (nrec != nidx)
		store_problem(c, "%" PRId64 " attachments but %" PRId64 " in "
		    "their index", nrec, nidx);
	if ((rc = db->cursor(db, NULL, &cur, 0)) != 0)
		return store_err(rc, "cursor");
	while ((rc = cur->get(cur, &k, &d, DB_NEXT)) == 0) {
		struct att_info info;
		bool internal;
		const char *why;
		char ubuf[UUID_STRLEN + 1] = "?";

		if (k.size == ATT_KEY_LEN)
			uuid_format((uint8_t *)k.data + 2 * UUID_LEN, ubuf);
		if (k.size != ATT_KEY_LEN ||
		    info_from(s, &d, &info, &internal) != SUP_OK) {
			store_problem(c, "attachment %s: a record not laid "
			    "out as expected", ubuf);
			continue;
		}
		if ((why = file_check(info.path, info.size, info.sha256)) !=
		    NULL)
			store_problem(c, "attachment %s (%s): its file "
			    "files/%s %s", ubuf, info.name, info.rel, why);
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			void *p = realloc(shas, nc * sizeof(*shas));
			if (p == NULL) {
				e = SUP_ENOMEM;
				break;
			}
			shas = p;
			cap = nc;
		}
		memcpy(shas[n++], info.sha256, ATT_SHA_LEN);
	}
	cur->close(cur);
	if (e == SUP_OK && rc != DB_NOTFOUND)
		e = store_err(rc, "attachments walk");
	if (e != SUP_OK)
		goto out;
	/* The counts against the records, both in hash order. */
	if (n > 1)	/* shas is NULL when there are none */
		qsort(shas, n, sizeof(*shas), sha_cmp);
	i = 0;
	if ((rc = refs->cursor(refs, NULL, &cur, 0)) != 0) {
		e = store_err(rc, "cursor");
		goto out;
	}
	while ((rc = cur->get(cur, &k, &d, DB_NEXT)) == 0) {
		char hex[2 * ATT_SHA_LEN + 1];
		int64_t want = 0, have;

		if (k.size != ATT_SHA_LEN || d.size != 8) {
			store_problem(c, "a_refs.db: an entry not laid out as "
			    "expected");
			continue;
		}
		while (i < n && memcmp(shas[i], k.data, ATT_SHA_LEN) < 0) {
			sodium_bin2hex(hex, sizeof(hex), shas[i], ATT_SHA_LEN);
			store_problem(c, "file %s: used by attachments but "
			    "not counted", hex);
			while (i + 1 < n && memcmp(shas[i], shas[i + 1],
			    ATT_SHA_LEN) == 0)
				i++;
			i++;
		}
		while (i < n && memcmp(shas[i], k.data, ATT_SHA_LEN) == 0) {
			want++;
			i++;
		}
		have = (int64_t)be64_get(d.data);
		if (have != want) {
			sodium_bin2hex(hex, sizeof(hex), k.data, ATT_SHA_LEN);
			store_problem(c, "file %s: counted %" PRId64 " times, "
			    "used by %" PRId64 " attachments", hex, have, want);
		}
	}
	cur->close(cur);
	if (rc != DB_NOTFOUND)
		e = store_err(rc, "a_refs walk");
	for (; e == SUP_OK && i < n; i++) {
		char hex[2 * ATT_SHA_LEN + 1];
		sodium_bin2hex(hex, sizeof(hex), shas[i], ATT_SHA_LEN);
		if (i == 0 || memcmp(shas[i], shas[i - 1], ATT_SHA_LEN) != 0)
			store_problem(c, "file %s: used by attachments but "
			    "not counted", hex);
	}
	if (e == SUP_OK)
		e = verify_tree(s, c);
out:
	free(shas);
	free(k.data);
	free(d.data);
	return e;
}

static const struct store_db att_dbs[ATT_NDB] = {
	[ATT_DB_MAIN] = { "attachments.db", DB_BTREE, 0, STORE_PRIMARY, 0,
	    NULL },
	[ATT_DB_BY_UUID] = { "a_by_uuid.db", DB_BTREE, 0, STORE_ASSOCIATED,
	    ATT_DB_MAIN, idx_att_uuid },
	[ATT_DB_REFS] = { "a_refs.db", DB_BTREE, 0, STORE_PRIMARY, 0, NULL },
};

const struct store_area attach_area = {
	.name = "attachments",
	.db = att_dbs,
	.ndb = ATT_NDB,
	.verify = att_verify,
};
