/* schema_embedded.c - lib/dialogue/schema_text.c is current: the embedded schema equals
 * lib/dialogue/dialogue.schema.yaml. When it fails, run lib/dialogue/gen_schema.py.
 *
 * usage: dialogue-schema-embedded SCHEMA_FILE */
#include "core/alloc.h"
#include "core/fs.h"
#include "dialogue/dialogue.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s SCHEMA_FILE\n", argv[0]);
        return 2;
    }
    char *text = NULL;
    size_t len = 0;
    if (ct_fs_read(argv[1], 0, &text, &len) != 0) {
        fprintf(stderr, "cannot read %s\n", argv[1]);
        return 1;
    }
    const char *emb = ct_dialogue_schema_text();
    bool same = strlen(emb) == len && !memcmp(emb, text, len);
    ct_free(text);
    if (!same) {
        fprintf(stderr, "%s differs from the embedded copy: run lib/dialogue/gen_schema.py\n",
                argv[1]);
        return 1;
    }
    return 0;
}
