/* libFuzzer harness: hb_elf_parse on arbitrary bytes (seeded with small real and crafted ELF
 * files).  Checks that a successful parse is self-consistent. */
#include <stdint.h>
#include <stdlib.h>

#include "hpcbuild/elf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hb_elf e;
    hb_error err;
    if (hb_elf_parse(&e, data, size, "fuzz", &err) != 0)
        return 0;
    if (!e.needed || e.needed[e.nneeded] != NULL)
        abort();
    for (size_t i = 0; i < e.nverneed; i++)
        if (!e.verneed[i].file || e.verneed[i].versions[e.verneed[i].nversions] != NULL)
            abort();
    (void)hb_elf_max_version(&e, "GLIBC");
    hb_elf_free(&e);
    return 0;
}
