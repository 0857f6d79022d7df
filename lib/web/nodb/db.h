/*
 * db.h - stands in for Berkeley DB's header on the web layer's include
 * path (Makefile.am), so that a web file that includes it, itself or
 * through a header of the store or the desk, does not build: the web
 * layer parses and answers HTTP and knows nothing of the store
 * (docs/architecture.md).
 */
#error "lib/web/ is built without Berkeley DB: a web file includes <db.h>"
