/* fs.c - whole-file reads with a size cap. */
#include "fs.h"

#include "alloc.h"
#include "err.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

int ct_fs_read(const char *path, size_t max_bytes, char **text, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT ? CT_E_NOTFOUND : CT_E_IO;
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || S_ISDIR(st.st_mode)) {
        fclose(f);
        return CT_E_IO;
    }
    /* Room for the NUL and one more byte, so that the read which finds the end of a file of
     * the size fstat gave needs no bigger buffer (doubling it cost a copy and as much memory
     * again as the file). */
    size_t cap = st.st_size > 0 ? (size_t)st.st_size + 2 : 4096;
    if (max_bytes && st.st_size > 0 && (size_t)st.st_size > max_bytes) {
        fclose(f);
        return CT_E_TOOBIG;
    }
    char *buf = ct_xmalloc(cap);
    size_t n = 0;
    for (;;) {
        if (n + 1 >= cap) {
            if (max_bytes && cap > max_bytes) {
                ct_free(buf);
                fclose(f);
                return CT_E_TOOBIG;
            }
            cap *= 2;
            buf = ct_xrealloc(buf, cap);
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0)
            break;
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        ct_free(buf);
        return CT_E_IO;
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return 0;
}
