/* libFuzzer harness: hb_extract over arbitrary bytes.  The first byte picks the kind (tar in
 * any compression, .whl, .zip or .conda); the rest is written to a file and unpacked into a
 * fresh directory with small limits.  Whatever happens, nothing may appear outside that
 * directory and a failed extraction must leave no directory behind.
 * Seeds (fuzz/corpus/extract/): one small archive of each kind, prefixed with its kind byte. */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hpcbuild/extract.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char box[64];
    if (!box[0]) {
        snprintf(box, sizeof box, "/tmp/hb-fuzz-extract-XXXXXX");
        if (!mkdtemp(box))
            abort();
    }
    if (size < 1)
        return 0;
    static const char *const kinds[] = {".tar", ".tar.bz2", ".whl", ".zip", ".conda"};
    char archive[128], dest[128];
    snprintf(archive, sizeof archive, "%s/a%s", box, kinds[data[0] % 5]);
    snprintf(dest, sizeof dest, "%s/dest", box);
    FILE *f = fopen(archive, "wb");
    if (!f)
        abort();
    fwrite(data + 1, 1, size - 1, f);
    fclose(f);
    hb_extract_limits lim = {.max_bytes = 4 << 20, .max_entries = 1000, .max_ratio = 1000};
    hb_error err;
    uint64_t files;
    int rc = hb_extract(archive, dest, &lim, &files, &err);
    struct stat st;
    if (rc != 0 && lstat(dest, &st) == 0)
        abort(); /* a failed extraction left dest behind */
    unlink(archive);
    nftw(dest, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    if (rmdir(box) != 0)
        abort(); /* something besides the archive and dest was written */
    if (mkdir(box, 0700) != 0)
        abort();
    return 0;
}
