/*
 * bpe-compile.c — build-time tool: turns a tiktoken JSON encoding file into
 * the compiled table file the library maps at run time (bpe-data.c
 * describes the format and why it exists). The build runs it for every
 * JSON file scripts/fetch-tokenizers.sh fetched; it is not installed.
 *
 *   bpe-compile IN.json OUT.bin
 *
 * Exit 0 on success; otherwise one line "bpe-compile: <message>" on stderr
 * and exit 1.
 */
#include <stdio.h>

#include "agentkv.h"
#include "bpe.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: bpe-compile IN.json OUT.bin\n");
        return 2;
    }
    int rc = akv_bpe_compile(argv[1], argv[2], NULL);
    if (rc != AKV_OK) {
        fprintf(stderr, "bpe-compile: %s\n", akv_last_error()->message);
        return 1;
    }
    return 0;
}
