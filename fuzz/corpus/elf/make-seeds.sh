#!/bin/sh
# Rebuilds the real seeds here (the crafted-*.so ones come from craft() in tests/elf_readelf.py):
# two tiny shared objects, one with DT_RUNPATH, one with DT_RPATH and a libc version need.
set -eu
d=$(cd "$(dirname "$0")" && pwd) t=$(mktemp -d)
printf 'int f(void){return 1;}\n' > "$t/a.c"
printf '#include <stdio.h>\nint f(const char *s){return puts(s);}\n' > "$t/b.c"
small="-O2 -shared -fPIC -nostdlib -Wl,--build-id=none -Wl,-z,noseparate-code -Wl,-z,max-page-size=16"
gcc $small -Wl,-soname,libtiny.so.1 -Wl,-rpath,'$ORIGIN/lib' -o "$d/tiny-runpath.so" "$t/a.c"
gcc $small -Wl,-soname,libtiny2.so.1 -Wl,--disable-new-dtags -Wl,-rpath,'$ORIGIN/../lib:/opt/x' \
    -o "$d/tiny-rpath-verneed.so" "$t/b.c" /usr/lib/x86_64-linux-gnu/libc.so.6
strip "$d/tiny-runpath.so" "$d/tiny-rpath-verneed.so"
rm -r "$t"
