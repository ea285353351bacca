/*
 * layer.c - the table of layer kinds: one row per kind, each defined with its emitters
 * in the file of its family (layer_dense.c, ...).  The scanner looks a statement's
 * first word up here (layer_find), so a new kind needs no keyword and no grammar rule;
 * check.c, ir.c and gen.c reach a kind only through its row.
 */
#include <string.h>

#include "bpc.h"

extern const LayerDef layer_dense, layer_conv2d, layer_maxpool, layer_avgpool, layer_flatten;

const LayerDef *const layer_table[] = {
    &layer_dense, &layer_conv2d, &layer_maxpool, &layer_avgpool, &layer_flatten, NULL,
};

bool layer_needs_image(Diag *d, const Node *n)
{
    if (n->in_shape.rank == 3)
        return true;
    diag_error(d, n->loc, "%s needs a CxHxW input; its input is a vector of %ld", n->kind->name,
               n->in);
    diag_note(d, n->loc, "write the input as 'input CxHxW', e.g. 'input 1x28x28'");
    return false;
}

const LayerDef *layer_find(const char *name)
{
    for (const LayerDef *const *k = layer_table; *k; k++)
        if (!strcmp((*k)->name, name))
            return *k;
    return NULL;
}
