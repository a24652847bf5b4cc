/* txn.h — changes to a prefix as one transaction: staged, committed, recovered.
 *
 * hb_txn_begin takes the prefix's lock (<prefix>/.hpcbuild/lock, flock; a second writer waits up
 * to wait_s seconds, then fails naming the holder's pid) and first recovers an interrupted
 * transaction (hb_txn_recover).  Everything is staged under <prefix>/.hpcbuild/txn/ (the same
 * filesystem, so links and renames are cheap and atomic): hb_txn_put_file links or copies a
 * source file, hb_txn_put_data writes bytes, hb_txn_put_symlink and hb_txn_mkdir make what they
 * say, hb_txn_remove marks a prefix path for removal.  The prefix does not change until
 * hb_txn_commit: it writes the journal (every operation, fsync'd), marks it committed (an atomic
 * rename), then applies it: a prefix file that is replaced or removed is first moved aside into
 * the transaction (so nothing is ever written in place: conda's hard-linked cache files stay
 * intact), each staged entry is renamed into place, empty directories left by removals go, and
 * the transaction directory is deleted.  A kill before the commit mark: recovery discards the
 * stage (the old environment).  After it: recovery re-applies what is left (the new one).
 * Paths are '/'-separated and relative to the prefix; absolute paths, "..", empty components
 * and anything under .hpcbuild/ are errors naming the path.  Errors name the prefix path.
 */
#ifndef HPCBUILD_TXN_H
#define HPCBUILD_TXN_H

#include <stdbool.h>
#include <stddef.h>

#include "hpcbuild/error.h"

enum hb_link_mode {
    HB_LINK_HARDLINK,   /* hard link; falls back to a copy across filesystems or at the link limit */
    HB_LINK_COPY,
    HB_LINK_SYMLINK,    /* a symlink to the source (the source must outlive the prefix) */
};

/* Parses "hardlink", "copy" or "symlink". */
int hb_link_mode_parse(const char *s, enum hb_link_mode *out, hb_error *err);

typedef struct hb_txn hb_txn;

/* Creates the prefix (and parents) when missing. */
int hb_txn_begin(hb_txn **t, const char *prefix, double wait_s, hb_error *err);
const char *hb_txn_prefix(const hb_txn *t);

/* mode_bits 0: the source's permission bits.  *used (may be NULL) says how it was staged. */
int hb_txn_put_file(hb_txn *t, const char *relpath, const char *src, enum hb_link_mode mode,
                    unsigned mode_bits, enum hb_link_mode *used, hb_error *err);
int hb_txn_put_data(hb_txn *t, const char *relpath, const void *data, size_t len, unsigned mode_bits,
                    hb_error *err);
int hb_txn_put_symlink(hb_txn *t, const char *relpath, const char *target, hb_error *err);
int hb_txn_mkdir(hb_txn *t, const char *relpath, hb_error *err);
/* A file or symlink of the prefix; removing what the transaction also puts is an error. */
int hb_txn_remove(hb_txn *t, const char *relpath, hb_error *err);
/* True when relpath is staged (put) in t, or exists in the prefix and is not marked removed. */
bool hb_txn_exists(const hb_txn *t, const char *relpath);

/* Applies everything (see above), then releases the lock and frees t, whatever the result;
 * a failure after the commit mark leaves the rest to the next hb_txn_recover. */
int hb_txn_commit(hb_txn *t, hb_error *err);
/* Discards the stage, releases the lock, frees t. */
void hb_txn_abort(hb_txn *t);
/* Finishes or rolls back an interrupted transaction (takes and releases the lock itself).
 * 0 also when there was nothing to do; *what (may be NULL) is set to "none", "rolled back" or
 * "completed". */
int hb_txn_recover(const char *prefix, double wait_s, const char **what, hb_error *err);

#endif
