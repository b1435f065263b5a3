/* fs.h - reading whole files: the default loader callback for documents.
 *
 * The only file I/O in lib/. Programs pass it (or their own callback, tests pass an in-memory
 * one) to the docset, so the parsers themselves never touch the file system. */
#pragma once

#include <stddef.h>

/** Read a whole file, adding a NUL after the last byte. On success *text is caller-owned
 * (ct_free). Returns 0, CT_E_NOTFOUND, CT_E_IO or CT_E_TOOBIG (max_bytes, 0 = no limit). */
int ct_fs_read(const char *path, size_t max_bytes, char **text, size_t *len);
