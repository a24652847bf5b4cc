/* pkg_cache.c — the package cache of pkg_cache.h: keys, per-key locks, verified (resumed)
 * downloads through hb_fetch_many, unpacking with hb_extract.
 *
 * An entry <pkgs>/<key>/ is complete when its "ok" file ("<sha256> <size>", written once the
 * archive was verified) agrees with the expected digest and size, the archive has the recorded
 * size and x/ exists; a complete entry is reused without a lock and without rehashing.
 * Anything else is (re)made under the key's lock.  Locks are taken without waiting first; the
 * keys another process holds are waited for afterwards, in key order, holding no other lock. */
#include "hpcbuild/pkg_cache.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/fs.h"
#include "hpcbuild/hash.h"
#include "hpcbuild/strbuf.h"

/* ---- the cache root ------------------------------------------------------- */

/* mkdir -p path (0755). */
static int make_dirs(const char *path, hb_error *err)
{
    char *p = hb_strdup(path);
    int rc = 0;
    for (char *s = p + 1; rc == 0; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char saved = *s;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST)
            rc = hb_error_set(err, HB_EIO, "cannot create directory '%s': %s", p, strerror(errno));
        *s = saved;
        if (saved == '\0')
            break;
    }
    free(p);
    return rc;
}

int hb_pkg_cache_open(hb_pkg_cache *c, const char *root, hb_error *err)
{
    memset(c, 0, sizeof *c);
    c->root = root ? hb_strdup(root) : hb_fetch_cache_default_root(err);
    if (!c->root)
        return -1;
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "%s/pkgs", c->root);
    c->pkgs = strbuf_detach(&sb);
    if (make_dirs(c->pkgs, err) != 0) {
        hb_pkg_cache_close(c);
        return -1;
    }
    return 0;
}

void hb_pkg_cache_close(hb_pkg_cache *c)
{
    free(c->root);
    free(c->pkgs);
    c->root = c->pkgs = NULL;
}

void hb_pkg_item_free(hb_pkg_item *it)
{
    free(it->archive);
    free(it->extracted);
    it->archive = it->extracted = NULL;
}

/* ---- one package: a job per distinct key ---------------------------------- */

typedef struct pkg_job {
    hb_pkg_item *item;        /* the first item with this key */
    char key[HB_HASH_HEX_MAX];
    char *filename;
    char *dir;                /* <pkgs>/<key> */
    char *archive;            /* <dir>/<filename> */
    char *extracted;          /* <dir>/x */
    char *lock_path;          /* <pkgs>/<key>.lock */
    int lock_fd;              /* -1 unless held */
    hb_fetch fetch;           /* its url and expectations; the download when one is made */
    enum { JOB_PENDING, JOB_FETCH, JOB_UNPACK, JOB_DONE, JOB_FAILED } state;
    bool downloaded;
    uint64_t files;           /* files unpacked (0 when x/ was there) */
    hb_error err;
} pkg_job;

/* The archive's name: it->filename, else the URL's last segment (without ?query or #fragment). */
static char *item_filename(const hb_pkg_item *it, hb_error *err)
{
    char *name;
    if (it->filename) {
        name = hb_strdup(it->filename);
    } else {
        const char *base = strrchr(it->url, '/');
        base = base ? base + 1 : it->url;
        name = hb_strndup(base, strcspn(base, "?#"));
    }
    if (!*name || strchr(name, '/') || name[0] == '.' || strcmp(name, "x") == 0 ||
        strcmp(name, "ok") == 0) {
        hb_error_set(err, HB_EINVAL,
                     "package '%s': invalid file name '%s': expected an archive name such as "
                     "'pkg-1.0-0.tar.bz2' (no '/', not hidden)",
                     it->url, name);
        free(name);
        return NULL;
    }
    return name;
}

/* The key: the expected sha256, else md5 (lowercase), else the sha256 of the URL. */
static int item_key(const hb_pkg_item *it, char key[HB_HASH_HEX_MAX], hb_error *err)
{
    const char *hex = it->sha256 ? it->sha256 : it->md5;
    if (it->sha256 && hb_hash_hex_check(HB_HASH_SHA256, it->sha256, err) != 0)
        return hb_error_prefix(err, "package '%s'", it->url);
    if (it->md5 && hb_hash_hex_check(HB_HASH_MD5, it->md5, err) != 0)
        return hb_error_prefix(err, "package '%s'", it->url);
    if (!hex) {
        hb_hash_buffer_hex(HB_HASH_SHA256, it->url, strlen(it->url), key);
        return 0;
    }
    size_t i = 0;
    for (; hex[i]; i++)
        key[i] = (char)tolower((unsigned char)hex[i]);
    key[i] = '\0';
    return 0;
}

static int job_init(pkg_job *j, const hb_pkg_cache *c, hb_pkg_item *it, const char *key)
{
    memset(j, 0, sizeof *j);
    j->item = it;
    j->lock_fd = -1;
    memcpy(j->key, key, sizeof j->key);
    j->filename = item_filename(it, &j->err);
    if (!j->filename)
        return -1;
    j->dir = hb_path_join(c->pkgs, key);
    j->archive = hb_path_join(j->dir, j->filename);
    j->extracted = hb_path_join(j->dir, "x");
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "%s/%s.lock", c->pkgs, key);
    j->lock_path = strbuf_detach(&sb);
    j->fetch.url = it->url;
    j->fetch.dest = j->archive;
    j->fetch.sha256 = it->sha256;
    j->fetch.md5 = it->md5;
    j->fetch.expect_size = it->size;
    j->fetch.resume = true;
    return 0;
}

static void job_free(pkg_job *j)
{
    if (j->lock_fd >= 0)
        close(j->lock_fd);
    free(j->filename);
    free(j->dir);
    free(j->archive);
    free(j->extracted);
    free(j->lock_path);
    hb_fetch_free(&j->fetch);
}

/* ---- locks ---------------------------------------------------------------- */

/* Takes the key's lock (waiting for it when `wait`): 1 held, 0 busy, -1 error.  The lock file
 * is removed by its holder before release, so a lock on a file no longer at lock_path is
 * stale: take the new one. */
static int job_lock(pkg_job *j, bool wait)
{
    for (;;) {
        int fd = open(j->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
            return hb_error_set(&j->err, HB_EIO, "cannot open lock '%s': %s", j->lock_path,
                                strerror(errno));
        if (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0) {
            int e = errno;
            close(fd);
            if (e == EWOULDBLOCK && !wait)
                return 0;
            if (e == EINTR)
                continue;
            return hb_error_set(&j->err, HB_EIO, "cannot lock '%s': %s", j->lock_path, strerror(e));
        }
        struct stat held, now;
        if (fstat(fd, &held) == 0 && stat(j->lock_path, &now) == 0 && held.st_dev == now.st_dev &&
            held.st_ino == now.st_ino) {
            j->lock_fd = fd;
            return 1;
        }
        close(fd);
    }
}

static void job_unlock(pkg_job *j)
{
    if (j->lock_fd < 0)
        return;
    unlink(j->lock_path);
    close(j->lock_fd);
    j->lock_fd = -1;
}

/* ---- entries -------------------------------------------------------------- */

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    remove(path);
    return 0;
}

/* rm -rf path (best effort: what cannot be removed shows up when it is recreated). */
static void remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (!S_ISDIR(st.st_mode)) {
        unlink(path);
        return;
    }
    nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Reads <dir>/ok: 1 with the recorded sha256 and size, 0 when absent or malformed. */
static int read_ok(const pkg_job *j, char sha[HB_HASH_HEX_MAX], long long *size)
{
    char *path = hb_path_join(j->dir, "ok");
    FILE *f = fopen(path, "r");
    free(path);
    if (!f)
        return 0;
    char line[128];
    int found = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    char *sp = found ? strchr(line, ' ') : NULL;
    if (!sp || sp - line != 64)
        return 0;
    memcpy(sha, line, 64);
    sha[64] = '\0';
    char *end;
    errno = 0;
    *size = strtoll(sp + 1, &end, 10);
    if (errno || end == sp + 1 || (*end != '\n' && *end != '\0') || *size < 0 ||
        hb_hash_hex_check(HB_HASH_SHA256, sha, NULL) != 0)
        return 0;
    return 1;
}

/* True when the archive is the verified one: ok agrees with what the item expects and the
 * archive has the recorded size (no rehashing). */
static bool archive_verified(const pkg_job *j, char sha[HB_HASH_HEX_MAX], long long *size)
{
    struct stat st;
    const hb_pkg_item *it = j->item;
    if (!read_ok(j, sha, size))
        return false;
    if ((it->sha256 && !hb_hash_hex_equal(it->sha256, sha)) || (it->size > 0 && it->size != *size))
        return false;
    return stat(j->archive, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == *size;
}

static bool entry_complete(const pkg_job *j)
{
    char sha[HB_HASH_HEX_MAX];
    long long size;
    struct stat st;
    return archive_verified(j, sha, &size) && stat(j->extracted, &st) == 0 && S_ISDIR(st.st_mode);
}

static int write_ok(pkg_job *j, const char *sha, long long size)
{
    char *path = hb_path_join(j->dir, "ok");
    char line[128];
    int len = snprintf(line, sizeof line, "%s %lld\n", sha, size);
    int rc = hb_write_file_atomic(path, line, (size_t)len, &j->err);
    free(path);
    return rc;
}

/* An archive without a valid ok (a crash after its rename): hashed once against the item's
 * digests; kept (ok written) when it matches. */
static bool adopt_archive(pkg_job *j)
{
    const hb_pkg_item *it = j->item;
    struct stat st;
    char sha[HB_HASH_HEX_MAX], md5[HB_HASH_HEX_MAX];
    if ((!it->sha256 && !it->md5) || stat(j->archive, &st) != 0 || !S_ISREG(st.st_mode) ||
        (it->size > 0 && st.st_size != it->size))
        return false;
    if (hb_hash_file_hex(HB_HASH_SHA256, j->archive, sha, NULL) != 0 ||
        (it->sha256 && !hb_hash_hex_equal(it->sha256, sha)))
        return false;
    if (it->md5 && (hb_hash_file_hex(HB_HASH_MD5, j->archive, md5, NULL) != 0 ||
                    !hb_hash_hex_equal(it->md5, md5)))
        return false;
    return write_ok(j, sha, (long long)st.st_size) == 0;
}

/* Removes the x.tmp.* directories a crashed process left behind (under the lock). */
static void remove_stale_unpackings(const pkg_job *j)
{
    DIR *d = opendir(j->dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "x.tmp.", 6) != 0)
            continue;
        char *path = hb_path_join(j->dir, e->d_name);
        remove_tree(path);
        free(path);
    }
    closedir(d);
}

/* Under the lock: decides what is missing.  Returns 1 when a download is needed, 0 when the
 * archive is there (x/ may still be missing), -1 on error. */
static int job_prepare(pkg_job *j)
{
    if (mkdir(j->dir, 0755) != 0 && errno != EEXIST)
        return hb_error_set(&j->err, HB_EIO, "cannot create '%s': %s", j->dir, strerror(errno));
    remove_stale_unpackings(j);
    char sha[HB_HASH_HEX_MAX];
    long long size;
    if (archive_verified(j, sha, &size) || adopt_archive(j))
        return 0;
    char *ok = hb_path_join(j->dir, "ok");
    unlink(ok);
    free(ok);
    remove_tree(j->extracted);
    unlink(j->archive); /* <archive>.part stays: the download continues it */
    return 1;
}

/* Unpacks the verified archive into x.tmp.<pid>, renamed to x/ when whole. */
static int job_unpack(pkg_job *j, const hb_extract_limits *lim)
{
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "%s/x.tmp.%ld", j->dir, (long)getpid());
    char *tmp = strbuf_detach(&sb);
    remove_tree(j->extracted);
    int rc = hb_extract(j->archive, tmp, lim, &j->files, &j->err);
    if (rc == 0 && rename(tmp, j->extracted) != 0) {
        rc = hb_error_set(&j->err, HB_EIO, "cannot rename '%s' to '%s': %s", tmp, j->extracted,
                          strerror(errno));
        remove_tree(tmp);
    }
    free(tmp);
    if (rc != 0)
        hb_error_prefix(&j->err, "package '%s'", j->item->url);
    return rc;
}

static void remove_part(const pkg_job *j)
{
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "%s.part", j->archive);
    unlink(sb.buf);
    strbuf_free(&sb);
}

/* ---- a run ---------------------------------------------------------------- */

typedef struct pkg_run {
    const hb_pkg_cache *cache;
    hb_pkg_item *items;
    const hb_fetch_options *opt;
    const hb_extract_limits *lim;
    hb_fetch_progress_fn progress;
    void *user;
    pkg_job **fetching;       /* during hb_fetch_many: fetches[k] is fetching[k]'s */
} pkg_run;

/* An event for item `index` (f: its fetch, or a stand-in naming its URL). */
static void tell(const pkg_run *r, size_t index, const hb_fetch *f, hb_fetch_event ev,
                 long long done, long long total)
{
    if (!r->progress)
        return;
    hb_fetch stand_in = {0};
    stand_in.url = r->items[index].url;
    r->progress(r->user, index, f ? f : &stand_in, ev, done, total);
}

/* An event for the job's first item. */
static void emit(const pkg_run *r, const pkg_job *j, hb_fetch_event ev, long long done,
                 long long total)
{
    tell(r, (size_t)(j->item - r->items), &j->fetch, ev, done, total);
}

/* The fetch layer's events, but DONE: an item is done once it is unpacked. */
static void relay_progress(void *user, size_t index, const hb_fetch *f, hb_fetch_event ev,
                           long long done, long long total)
{
    const pkg_run *r = user;
    if (ev != HB_FETCH_DONE)
        r->progress(r->user, (size_t)(r->fetching[index]->item - r->items), f, ev, done, total);
}

static void job_fail(const pkg_run *r, pkg_job *j, bool tell)
{
    j->state = JOB_FAILED;
    if (tell)
        emit(r, j, HB_FETCH_FAILED, 0, -1);
}

/* Downloads what the locked jobs lack (in parallel), records and unpacks it, unlocks. */
static void run_batch(pkg_run *r, pkg_job **batch, size_t m)
{
    pkg_job **need = hb_calloc(m ? m : 1, sizeof *need);
    size_t nf = 0;
    for (size_t k = 0; k < m; k++) {
        pkg_job *j = batch[k];
        if (entry_complete(j)) {    /* made by another process meanwhile */
            j->state = JOB_DONE;
            continue;
        }
        int rc = job_prepare(j);
        if (rc < 0)
            job_fail(r, j, true);
        else
            j->state = rc ? JOB_FETCH : JOB_UNPACK;
        if (rc == 1)
            need[nf++] = j;
    }
    if (nf) {
        hb_fetch *fs = hb_calloc(nf, sizeof *fs);
        for (size_t k = 0; k < nf; k++)
            fs[k] = need[k]->fetch;
        r->fetching = need;
        hb_fetch_many(fs, nf, r->opt, NULL, r->progress ? relay_progress : NULL, r, NULL);
        r->fetching = NULL;
        for (size_t k = 0; k < nf; k++) {
            pkg_job *j = need[k];
            j->fetch = fs[k];
            if (!j->fetch.ok) {
                j->err = j->fetch.err;
                job_fail(r, j, false);  /* the fetch layer said FAILED */
                rmdir(j->dir);          /* gone unless a .part is kept to resume */
            } else if (write_ok(j, j->fetch.sha256_hex, j->fetch.size) != 0) {
                job_fail(r, j, true);
            } else {
                j->downloaded = true;
                j->state = JOB_UNPACK;
                remove_part(j);     /* left by an earlier remote try when this one was local */
            }
        }
        free(fs);
    }
    for (size_t k = 0; k < m; k++) {
        pkg_job *j = batch[k];
        if (j->state == JOB_UNPACK) {
            if (job_unpack(j, r->lim) == 0) {
                j->state = JOB_DONE;
                emit(r, j, HB_FETCH_DONE, (long long)j->files, (long long)j->files);
            } else {
                job_fail(r, j, true);
            }
        } else if (j->state == JOB_DONE) {
            emit(r, j, HB_FETCH_DONE, 0, 0);
        }
        job_unlock(j);
    }
    free(need);
}

typedef struct keyed_item {
    char key[HB_HASH_HEX_MAX];
    size_t index;
} keyed_item;

static int compare_keyed(const void *a, const void *b)
{
    const keyed_item *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->index > y->index) - (x->index < y->index);
}

/* One job per distinct key, in key order (the order locks are waited for); job_of[i] is item
 * i's job, or NULL when the item is invalid (its err says why). */
static pkg_job *make_jobs(const hb_pkg_cache *c, hb_pkg_item *items, size_t n, pkg_job **job_of,
                          size_t *njobs)
{
    keyed_item *keyed = hb_calloc(n ? n : 1, sizeof *keyed);
    size_t nk = 0;
    for (size_t i = 0; i < n; i++) {
        job_of[i] = NULL;
        if (!items[i].url || !*items[i].url)
            hb_error_set(&items[i].err, HB_EINVAL, "package %zu: no URL", i);
        else if (item_key(&items[i], keyed[nk].key, &items[i].err) == 0)
            keyed[nk++].index = i;
    }
    qsort(keyed, nk, sizeof *keyed, compare_keyed);
    pkg_job *jobs = hb_calloc(nk ? nk : 1, sizeof *jobs);
    size_t nj = 0;
    for (size_t k = 0; k < nk; k++) {
        hb_pkg_item *it = &items[keyed[k].index];
        if (nj && strcmp(jobs[nj - 1].key, keyed[k].key) == 0) {
            job_of[keyed[k].index] = &jobs[nj - 1];
            continue;
        }
        if (job_init(&jobs[nj], c, it, keyed[k].key) != 0) {
            it->err = jobs[nj].err;
            job_free(&jobs[nj]);
            continue;
        }
        job_of[keyed[k].index] = &jobs[nj++];
    }
    free(keyed);
    *njobs = nj;
    return jobs;
}

/* Locks the pending jobs it can without waiting into batch; the ones another process holds
 * go to busy. */
static size_t lock_pending(const pkg_run *r, pkg_job *jobs, size_t nj, pkg_job **batch,
                           pkg_job **busy, size_t *nbusy)
{
    size_t m = 0;
    for (size_t k = 0; k < nj; k++) {
        pkg_job *j = &jobs[k];
        if (j->state != JOB_PENDING)
            continue;
        int rc = job_lock(j, false);
        if (rc == 1)
            batch[m++] = j;
        else if (rc == 0)
            busy[(*nbusy)++] = j;
        else
            job_fail(r, j, true);
    }
    return m;
}

int hb_pkg_cache_fetch(hb_pkg_cache *c, hb_pkg_item *items, size_t n, const hb_fetch_options *opt,
                       const hb_extract_limits *lim, hb_fetch_progress_fn progress, void *user,
                       hb_error *err)
{
    for (size_t i = 0; i < n; i++) {
        hb_pkg_item *it = &items[i];
        it->ok = it->downloaded = it->resumed = false;
        it->archive = it->extracted = NULL;
        hb_error_clear(&it->err);
    }
    pkg_job **job_of = hb_calloc(n ? n : 1, sizeof *job_of);
    size_t nj;
    pkg_job *jobs = make_jobs(c, items, n, job_of, &nj);
    pkg_run run = {c, items, opt, lim, progress, user, NULL};

    /* complete entries need no lock */
    for (size_t k = 0; k < nj; k++) {
        if (entry_complete(&jobs[k])) {
            jobs[k].state = JOB_DONE;
            emit(&run, &jobs[k], HB_FETCH_DONE, 0, 0);
        }
    }
    pkg_job **batch = hb_calloc(nj ? nj : 1, sizeof *batch);
    pkg_job **busy = hb_calloc(nj ? nj : 1, sizeof *busy);
    size_t nbusy = 0;
    size_t m = lock_pending(&run, jobs, nj, batch, busy, &nbusy);
    run_batch(&run, batch, m);
    /* keys other processes were making: wait for each (in key order), then reuse or make */
    m = 0;
    for (size_t k = 0; k < nbusy; k++) {
        if (job_lock(busy[k], true) == 1)
            batch[m++] = busy[k];
        else
            job_fail(&run, busy[k], true);
    }
    run_batch(&run, batch, m);

    size_t failed = 0;
    const hb_error *first = NULL;
    for (size_t i = 0; i < n; i++) {
        hb_pkg_item *it = &items[i];
        pkg_job *j = job_of[i];
        if (j && j->state == JOB_DONE) {
            it->ok = true;
            it->downloaded = j->downloaded && j->item == it;
            it->resumed = j->fetch.resumed && j->item == it;
            it->archive = hb_strdup(j->archive);
            it->extracted = hb_strdup(j->extracted);
            if (j->item != it)
                tell(&run, i, &j->fetch, HB_FETCH_DONE, 0, 0);
            continue;
        }
        if (j)
            it->err = j->err;
        if (!j || j->item != it)
            tell(&run, i, j ? &j->fetch : NULL, HB_FETCH_FAILED, 0, -1);
        failed++;
        if (!first)
            first = &it->err;
    }
    for (size_t k = 0; k < nj; k++)
        job_free(&jobs[k]);
    free(jobs);
    free(job_of);
    free(batch);
    free(busy);
    if (!failed)
        return 0;
    if (n == 1)
        return hb_error_set(err, first->code, "%s", first->msg);
    return hb_error_set(err, first->code, "%zu of %zu packages failed; first: %s", failed, n,
                        first->msg);
}
