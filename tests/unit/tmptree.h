/* A scratch directory for unit tests that write files (tests/unit/test_{build_cache,pep517}.c).
 * tmptree_init makes /tmp/hb-NAME-XXXXXX; at("a/b") is a path under it (a ring of 64 buffers:
 * a path stays valid for 63 more calls); write_file creates the parents and the file
 * (counting one CHECK each); tmptree_done removes the tree.  Include check.h first. */
#ifndef HB_TESTS_UNIT_TMPTREE_H
#define HB_TESTS_UNIT_TMPTREE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/build_fs.h"

static char root[64];

static inline int tmptree_init(const char *name)
{
    snprintf(root, sizeof root, "/tmp/hb-%s-XXXXXX", name);
    return mkdtemp(root) ? 0 : -1;
}

static inline void tmptree_done(void)
{
    hb_remove_tree(root, NULL);
}

static inline const char *at(const char *rel)
{
    static char bufs[64][512];
    static int next;
    char *b = bufs[next++ % 64];
    snprintf(b, sizeof bufs[0], "%s/%s", root, rel);
    return b;
}

static inline void write_file(const char *rel, const char *text)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s", at(rel));
    *strrchr(dir, '/') = '\0';
    CHECK(hb_mkdir_p(dir, NULL) == 0);
    FILE *f = fopen(at(rel), "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

#endif
