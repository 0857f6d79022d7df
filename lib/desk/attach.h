/*
 * attach.h - files on messages (docs/attachments.md): the checks an
 * upload passes, the files on disk, their records, and the area of the
 * store that keeps them.
 *
 * Files: <data_dir>/files/ab/cd/<sha256 in hex> (ab, cd: its first two
 * bytes), one file per content whatever the number of messages that carry
 * it; uploads are spooled in <data_dir>/files/tmp/ (multipart.h).  A file
 * is put in place (link from its spool file, whose bytes were flushed;
 * then its directory flushed) inside the transaction that writes its
 * record, after that transaction has write-locked the file's reference
 * count: a collection (att_collect), which removes a file whose count is
 * 0 under the same lock, is thus either wholly before or wholly after it.
 * So a record is never committed without its file, and a file without a
 * record is one a crash left between the two: verify reports it.
 *
 * Keys:
 *   attachments.db   ticket(16) message(16) uuid(16) -> record (JSON):
 *                    {"uuid","ticket","message","name","type","size",
 *                     "sha256","created_at","user","internal"}
 *   a_by_uuid.db     uuid(16)                   (associated, unique)
 *   a_refs.db        sha256(32) -> count (8, big-endian): records per file
 */
#ifndef SUP_ATTACH_H
#define SUP_ATTACH_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "areas.h"
#include "conf.h"
#include "fname.h"
#include "ftype.h"
#include "multipart.h"
#include "store.h"
#include "user.h"
#include "util.h"

#define ATT_URL "/api/support/attachments/"	/* + uuid: the download */
#define ATT_KEY_LEN (3 * UUID_LEN)
#define ATT_SHA_LEN 32
#define ATT_PATH_MAX 4096

/*
 * The area's errors.  ATT_EDISABLED: enable_file_uploads = no (403
 * uploads_disabled).  ATT_ETYPE: a type not on the allow-list (415).
 * ATT_EEMPTY: a file of 0 bytes (400).
 */
#define ATT_EDISABLED ((sup_err)SUP_ERR_AREA(SUP_AREA_ATTACH, 1))
#define ATT_ETYPE ((sup_err)SUP_ERR_AREA(SUP_AREA_ATTACH, 2))
#define ATT_EEMPTY ((sup_err)SUP_ERR_AREA(SUP_AREA_ATTACH, 3))

enum att_db { ATT_DB_MAIN, ATT_DB_BY_UUID, ATT_DB_REFS, ATT_NDB };

/* One checked file of an upload, ready to be stored. */
struct att_file {
	const char *spool;		/* its spool file (the upload's) */
	uint64_t size;
	uint8_t sha256[ATT_SHA_LEN];
	enum ftype type;
	char name[FNAME_MAX + 1];	/* safe (fname_safe) */
};

/* The checked files of one message, in the order sent. */
struct att_batch {
	struct att_file *f;		/* owned: att_batch_free */
	size_t n;
};

/*
 * The multipart limits for a body that may carry files under conf: the
 * fields within max_body_bytes, each file within max_attachment_bytes,
 * max_attachments_per_message of them, spooled in the store's
 * files/tmp/ (made when missing: its path into spool, ATT_PATH_MAX
 * bytes).  SUP_EIO when the directory cannot be made.
 */
sup_err att_limits(const struct sup_conf *conf, struct mp_limits *lim,
    char spool[ATT_PATH_MAX]);

/* A body's cap (max_body_bytes' place) when it may carry files. */
long att_body_cap(const struct sup_conf *conf);

/*
 * Check the files of up against conf into *b (up keeps its spool files:
 * free b before it): uploads allowed (ATT_EDISABLED), each file not empty
 * (ATT_EEMPTY), of a type found from its bytes (ftype.h) that
 * attachment_types allows (ATT_ETYPE), its name made safe.  On an error
 * *field and why (whylen bytes) say which file and why; b is left empty.
 * SUP_EIO when a spool file cannot be read, SUP_ENOMEM.
 */
sup_err att_check(const struct sup_conf *conf, const struct mp_upload *up,
    struct att_batch *b, const char **field, char *why, size_t whylen);
void att_batch_free(struct att_batch *b);

/*
 * Check one file m against conf (not enable_file_uploads: the caller's)
 * into *f, which borrows m's spool path: not empty (ATT_EEMPTY), of a
 * type found from its bytes that attachment_types allows (ATT_ETYPE),
 * flushed, its name made safe.  On an error why (whylen bytes) gets the
 * reason as the API says it ("a file of this type is not taken; taken
 * are: ...", no name, no full stop) and *brief a short static one
 * ("type not allowed"), as a note in a message says it.  SUP_EIO when
 * the spool file cannot be read or flushed.
 */
sup_err att_check_file(const struct sup_conf *conf, const struct mp_file *m,
    struct att_file *f, char *why, size_t whylen, const char **brief);

/* Append a copy of the checked file f to b; SUP_ENOMEM. */
sup_err att_batch_add(struct att_batch *b, const struct att_file *f);

/*
 * Inside txn: store the files of b as attachments of message `message`
 * of `ticket` (internal: a note's, which customers never see), uploaded
 * by user: each file put in place (above), its record and count written.
 * out gets the message record's "attachments" value, a JSON array of
 * {"id","name","size","content_type","url"}.  Run again after a
 * deadlock, it does the same again (a file already in place stays).
 * SUP_EIO when a file cannot be put in place; the store's errors.
 */
sup_err att_store(struct store *s, DB_TXN *txn, const uint8_t ticket[UUID_LEN],
    const uint8_t message[UUID_LEN], bool internal, uint32_t user,
    const struct att_batch *b, struct sbuf *out);

/*
 * Hashes of files that may have lost their last record (a purge, a
 * failed post): att_collect removes those whose count is 0.
 */
struct att_gone {
	uint8_t (*sha)[ATT_SHA_LEN];
	size_t n, cap;
	bool failed;			/* an add ran out of memory */
};

/*
 * Remove the files of gone (and of b, when not NULL) that no record
 * uses, each in a transaction that holds its count's lock while it
 * unlinks.  wait: wait for a backup under way (supportctl); otherwise a
 * collection that would have to wait leaves the files (a later one, or
 * verify, finds them).  Frees gone's list.  Returns how many files it
 * removed, or -1 on an error (said on stderr).
 */
long att_collect(struct store *s, struct att_gone *gone,
    const struct att_batch *b, bool wait);

/*
 * Inside txn: delete the attachment records of ticket (every message),
 * or of one message of it when message is not NULL, dropping their
 * counts; hashes whose count reached 0 are added to gone (run
 * att_collect after the commit).  *n counts the records deleted.
 */
sup_err att_forget(struct store *s, DB_TXN *txn, const uint8_t ticket[UUID_LEN],
    const uint8_t *message, struct att_gone *gone, long *n);

/*
 * Spool files (files/tmp/: an upload's up-*, a mail's mail-*) older than
 * this were left by a process that died: verify reports them, and
 * support-worker's hourly upkeep removes them (att_spool_sweep).
 */
#define ATT_SPOOL_OLD_S 3600

/*
 * Remove the spool files of conf's store last written more than age_s
 * seconds before now_s.  Returns how many it removed (a file that
 * cannot be removed is said on stderr and left), or -1 when the
 * directory cannot be read (said on stderr); 0 when there is none.
 */
long att_spool_sweep(const struct sup_conf *conf, int64_t now_s,
    int64_t age_s);

/* What a download needs of an attachment. */
struct att_info {
	uint8_t uuid[UUID_LEN];
	uint8_t sha256[ATT_SHA_LEN];
	char name[FNAME_MAX + 1];
	enum ftype type;
	uint64_t size;
	char path[ATT_PATH_MAX];	/* its file */
	char rel[16 + 2 * ATT_SHA_LEN];	/* the same under files/ */
};

/*
 * The attachment uuid as u may see it: the ticket's owner and staff;
 * a note's only staff.  SUP_ENOTFOUND otherwise (as for tickets: no
 * difference between "not there" and "not yours").
 */
sup_err att_get(struct store *s, const struct sup_user *u,
    const uint8_t uuid[UUID_LEN], struct att_info *out);

/* The path of the file of sha under data_dir into path (ATT_PATH_MAX). */
bool att_path(const char *data_dir, const uint8_t sha[ATT_SHA_LEN],
    char path[ATT_PATH_MAX]);

#endif
