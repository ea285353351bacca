/*
 * layer.c - the table of layer kinds: one row per kind, each defined with its emitters
 * in the file of its family (layer_dense.c, ...).  The scanner looks a statement's
 * first word up here (layer_find), so a new kind needs no keyword and no grammar rule;
 * check.c, ir.c and gen.c reach a kind only through its row.
 */
#include <string.h>

#include "bpc.h"

extern const LayerDef layer_dense;

const LayerDef *const layer_table[] = {
    &layer_dense,
    NULL,
};

const LayerDef *layer_find(const char *name)
{
    for (const LayerDef *const *k = layer_table; *k; k++)
        if (!strcmp((*k)->name, name))
            return *k;
    return NULL;
}
