/*
 * datadir.c — where an install keeps its data (the bundled instruction sets,
 * the tokenizer tables) relative to the code that is running, so that an
 * install tree works wherever it is unpacked or moved: `make install
 * PREFIX=/opt/x` followed by `mv /opt/x /srv/y` must still seed and count
 * tokens.
 *
 * Two anchors, most specific first:
 *   1. the shared library holding this code (dladdr), when the program
 *      links libagentkv.so: <libdir>/../share/agentkv;
 *   2. the running executable (/proc/self/exe): <bindir>/../share/agentkv,
 *      for the agentkv binary and programs linking libagentkv.a.
 * The relative paths from libdir and bindir to the data directory come from
 * the build (GNUInstallDirs), so a multiarch libdir (lib/x86_64-linux-gnu)
 * is handled too. Nothing here checks that the directories exist: callers
 * try each candidate in turn, as they already do for their other places.
 */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#ifndef AKV_BIN_TO_DATA
#define AKV_BIN_TO_DATA "../share/agentkv"
#endif
#ifndef AKV_LIB_TO_DATA
#define AKV_LIB_TO_DATA "../share/agentkv"
#endif

/* dir(path)/rel/sub into out, without "bin/.." when it exists (messages
 * and logs then show the plain path); 0 when it does not fit or path has
 * no '/'. */
static int join(char *out, size_t n, const char *path, const char *rel,
                const char *sub)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return 0;
    int k = snprintf(out, n, "%.*s/%s/%s", (int)(slash - path), path, rel,
                     sub);
    if (k <= 0 || (size_t)k >= n)
        return 0;
    char real[PATH_MAX];
    if (n >= sizeof real && realpath(out, real))
        memcpy(out, real, strlen(real) + 1);
    return 1;
}

size_t akv_data_dirs(const char *sub, char dirs[2][AKV_DATA_PATH_MAX])
{
    size_t count = 0;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0)
        exe[n] = '\0';
    else
        exe[0] = '\0';

    Dl_info info;
    char lib[PATH_MAX];
    if (dladdr((void *)akv_data_dirs, &info) && info.dli_fname &&
        strchr(info.dli_fname, '/') && realpath(info.dli_fname, lib) &&
        strcmp(lib, exe) != 0 &&
        join(dirs[count], AKV_DATA_PATH_MAX, lib, AKV_LIB_TO_DATA, sub))
        count++;
    if (exe[0] &&
        join(dirs[count], AKV_DATA_PATH_MAX, exe, AKV_BIN_TO_DATA, sub))
        count++;
    return count;
}
