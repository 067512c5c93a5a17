/* names.c - the net's layer names, hashed, so building a cfg of n layers
 * with references by name takes O(n) time, not O(n^2) (docs/reliability.md).
 * Open addressing over a power-of-two table at most half full; a slot holds
 * a layer index + 1 (0 = empty). The first layer of a name wins, as the
 * cfg's reading order says.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net_internal.h"

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

cn_status cn_names_init(cn_names *t, int n_layers)
{
    size_t cap = 16;
    while (cap < 2 * (size_t)n_layers)
        cap *= 2;
    t->slot = calloc(cap, sizeof *t->slot);
    t->mask = cap - 1;
    return t->slot ? CN_OK : CN_ERR_NOMEM;
}

void cn_names_free(cn_names *t)
{
    free(t->slot);
    t->slot = NULL;
}

/* The slot holding `name`, or the empty slot where it would go. */
static size_t probe(const cn_names *t, const cn_layer *layers, const char *name)
{
    size_t i = (size_t)hash(name) & t->mask;
    while (t->slot[i] && strcmp(layers[t->slot[i] - 1].name, name))
        i = (i + 1) & t->mask;
    return i;
}

int cn_names_find(const cn_names *t, const cn_layer *layers, const char *name)
{
    if (!t->slot)
        return -1;
    size_t i = probe(t, layers, name);
    return t->slot[i] ? t->slot[i] - 1 : -1;
}

void cn_names_add(cn_names *t, const cn_layer *layers, int index)
{
    size_t i = probe(t, layers, layers[index].name);
    if (!t->slot[i])
        t->slot[i] = index + 1;
}
